"""`make install` into a temporary prefix (and a DESTDIR staging tree): a C
program builds with `cc app.c $(pkg-config --cflags --libs nnlink)` and runs,
and Debian's /usr/bin/python3 imports the installed package, which finds the
installed library by itself."""
import os
import shutil
import subprocess

import pytest

from conftest import BUILD, ROOT, fixture

SANITIZED = os.environ.get("NNLINK_TEST_SANITIZED") == "1"
pytestmark = pytest.mark.skipif(SANITIZED, reason="installs the plain build, not the sanitized one")

APP = r"""
#include <nnlink.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    nnl_plan *p = NULL;
    if (nnl_plan_open(argv[1], &p) != NNL_OK) {
        fprintf(stderr, "app: %s\n", nnl_last_error());
        return 1;
    }
    printf("nnlink %s, header %s: %d graph(s), first '%s'\n", nnl_version(), NNL_VERSION_STRING,
           nnl_plan_graph_count(p), nnl_plan_graph_name(p, 0));
    nnl_plan_free(p);
    return strcmp(nnl_version(), NNL_VERSION_STRING) != 0;
}
"""


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, "%s failed (%d): %s %s" % (cmd, r.returncode, r.stdout, r.stderr)
    return r.stdout


def make_install(*args):
    run(["make", "-s", "-C", ROOT, "BUILD=" + os.path.relpath(BUILD, ROOT), "install"] + list(args))


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "NNLINK_LIBRARY", "LD_LIBRARY_PATH", "PKG_CONFIG_PATH")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    p = tmp_path_factory.mktemp("prefix") / "usr-local"
    make_install("PREFIX=" + str(p))
    return p


def version():
    with open(os.path.join(ROOT, "include", "nnlink.h")) as f:
        for line in f:
            if line.startswith("#define NNL_VERSION_STRING"):
                return line.split('"')[1]


def test_layout_and_soname(prefix):
    v = version()
    lib = prefix / "lib"
    assert (prefix / "bin" / "nnlink").is_file() and (prefix / "include" / "nnlink.h").is_file()
    assert (lib / "libnnlink.a").is_file() and (lib / ("libnnlink.so." + v)).is_file()
    assert os.readlink(lib / ("libnnlink.so." + v.split(".")[0])) == "libnnlink.so." + v
    assert os.readlink(lib / "libnnlink.so") == "libnnlink.so." + v.split(".")[0]
    dyn = run(["readelf", "-d", str(lib / ("libnnlink.so." + v))])
    assert "Library soname: [libnnlink.so.%s]" % v.split(".")[0] in dyn
    assert run([str(prefix / "bin" / "nnlink"), "--version"]).split()[-1] == v


def test_c_program_with_pkg_config(prefix, tmp_path):
    if not shutil.which("pkg-config"):
        pytest.fail("pkg-config is missing (tools/deps.sh installs it)")
    env = clean_env(PKG_CONFIG_PATH=str(prefix / "lib" / "pkgconfig"))
    assert run(["pkg-config", "--modversion", "nnlink"], env=env).strip() == version()
    flags = run(["pkg-config", "--cflags", "--libs", "nnlink"], env=env).split()
    (tmp_path / "app.c").write_text(APP)
    app = str(tmp_path / "app")
    run(["cc", "-Wall", "-Werror", str(tmp_path / "app.c"), "-o", app] + flags, env=env)
    nnl = str(tmp_path / "m.nnl")
    run([str(prefix / "bin" / "nnlink"), "compile", fixture("resnet_tiny", "model.onnx"), "--graph", "r", "-o", nnl])
    # a temporary prefix is not on the loader's path: LD_LIBRARY_PATH
    out = run([app, nnl], env=clean_env(LD_LIBRARY_PATH=str(prefix / "lib")))
    assert "1 graph(s), first 'r'" in out
    assert "libnnlink.so.%s => %s" % (version().split(".")[0], prefix / "lib") in run(
        ["ldd", app], env=clean_env(LD_LIBRARY_PATH=str(prefix / "lib")))
    # and statically, with the private libraries pkg-config lists
    sflags = run(["pkg-config", "--cflags", "--libs", "--static", "nnlink"], env=env).split()
    run(["cc", str(tmp_path / "app.c"), "-o", app + "-static", "-Wl,-Bstatic", "-lnnlink", "-Wl,-Bdynamic"]
        + [f for f in sflags if f != "-lnnlink"], env=env)
    assert "1 graph(s)" in run([app + "-static", nnl], env=clean_env())


def test_python_imports_installed_package(prefix):
    site = [d for d in (prefix / "lib").glob("python3*/dist-packages")]
    assert len(site) == 1, site
    # from a neutral folder, so the source tree's python/ cannot be found;
    # PYTHONPATH only because the temporary prefix is not on sys.path
    code = ("import nnlink, sys; m = nnlink.compile(sys.argv[1]); print(nnlink.__file__, nnlink._lib.lib._name, "
            "m.graphs, nnlink.__version__)")
    out = run(["/usr/bin/python3", "-c", code, fixture("resnet_tiny", "model.onnx")], cwd="/",
              env=clean_env(PYTHONPATH=str(site[0])))
    pkg, libpath, graphs, v = out.split(" ", 3)
    assert pkg.startswith(str(site[0])) and libpath.startswith(str(prefix / "lib"))
    assert v.strip() == version()


def test_usr_prefix_goes_to_debian_dist_packages(tmp_path):
    """PREFIX=/usr with DESTDIR: the package lands in
    /usr/lib/python3/dist-packages (on Debian python3's path), and the
    recorded paths are the final ones, not the staging tree's."""
    stage = tmp_path / "stage"
    make_install("PREFIX=/usr", "DESTDIR=" + str(stage))
    pkg = stage / "usr" / "lib" / "python3" / "dist-packages" / "nnlink"
    assert (pkg / "__init__.py").is_file()
    assert "LIBDIR = '/usr/lib'" in (pkg / "_install.py").read_text()
    pc = (stage / "usr" / "lib" / "pkgconfig" / "nnlink.pc").read_text()
    assert "prefix=/usr\n" in pc and str(stage) not in pc
    assert "/usr/lib/python3/dist-packages" in run(["/usr/bin/python3", "-c", "import sys; print(sys.path)"])
