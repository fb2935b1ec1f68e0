"""Every failure raises nnlink.Error with a message that says what was
expected; nothing crashes."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import nnlink
from conftest import ROOT, cli, fixture, manifest_case


def test_missing_graph_lists_names(tinyseg_linked):
    ins, _, _ = manifest_case("tinyseg", "portrait")
    with pytest.raises(nnlink.Error, match="names no default.*landscape, portrait") as e:
        tinyseg_linked.run(ins)
    assert e.value.status == "not_found"
    with pytest.raises(nnlink.Error, match="landscape, portrait"):
        tinyseg_linked.session()
    with pytest.raises(nnlink.Error, match="landscape, portrait"):
        tinyseg_linked.profile(runs=1)


def test_unknown_graph_lists_names(tinyseg_linked):
    ins, _, _ = manifest_case("tinyseg", "portrait")
    for call in (lambda: tinyseg_linked.run(ins, graph="square"),
                 lambda: tinyseg_linked.session("square"),
                 lambda: tinyseg_linked.profile(graph="square", runs=1)):
        with pytest.raises(nnlink.Error, match="no graph named 'square'.*landscape.*portrait") as e:
            call()
        assert e.value.status == "not_found"


def test_wrong_input_name(tinyseg_linked):
    x = np.zeros((1, 3, 96, 64), np.float32)
    with pytest.raises(nnlink.Error, match="no input 'img' \\(its inputs: image\\)"):
        tinyseg_linked.run({"img": x}, graph="portrait")
    with pytest.raises(nnlink.Error, match="input 'image' of graph 'portrait' was not given.*float32.*96, 64"):
        tinyseg_linked.run({}, graph="portrait")
    with pytest.raises(nnlink.Error, match="dict"):
        tinyseg_linked.run(x, graph="portrait")


@pytest.mark.parametrize("dtype", [np.float64, np.int64, np.float16, np.complex64])
def test_wrong_dtype_names_expected(tinyseg_linked, dtype):
    x = np.zeros((1, 3, 96, 64), dtype)
    with pytest.raises(nnlink.Error, match="input 'image' of graph 'portrait' is float32, but .* was given") as e:
        tinyseg_linked.run({"image": x}, graph="portrait")
    assert e.value.status == "shape"


def test_wrong_shape_names_expected(tinyseg_linked):
    for shape in [(1, 3, 64, 96), (3, 96, 64), (1, 3, 96, 64, 1)]:
        with pytest.raises(nnlink.Error, match="compiled for shape 1x3x96x64, but "):
            tinyseg_linked.run({"image": np.zeros(shape, np.float32)}, graph="portrait")


def test_damaged_file(tinyseg_linked, tmp_path):
    data = bytearray(open(tinyseg_linked.path, "rb").read())
    # truncated: refused when opened
    p = tmp_path / "cut.nnl"
    p.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(nnlink.Error) as e:
        nnlink.load(p)
    assert e.value.status == "format" and str(p) in str(e.value)
    # the format version (header bytes 8-11) damaged: refused when opened
    # (this crashed nnl_plan_open_inspect before src/runtime/plan.c checked
    # that the file was read)
    h = bytearray(data)
    h[8] ^= 0xFF
    p = tmp_path / "head.nnl"
    p.write_bytes(bytes(h))
    with pytest.raises(nnlink.Error, match="format version 254") as e:
        nnlink.load(p)
    assert e.value.status == "mismatch"
    # a flipped byte in the metadata checksum: refused when opened
    h = bytearray(data)
    h[0x20] ^= 0x01
    p = tmp_path / "sum.nnl"
    p.write_bytes(bytes(h))
    with pytest.raises(nnlink.Error) as e:
        nnlink.load(p)
    assert e.value.status == "format"
    # a flipped byte in the weights: opening checks the metadata only;
    # verify() reads every byte and names the damage
    info = tinyseg_linked.info()
    w = bytearray(data)
    w[len(w) - 4096] ^= 0x01  # weights are at the end of the file
    p = tmp_path / "weights.nnl"
    p.write_bytes(bytes(w))
    with pytest.raises(nnlink.Error, match="checksum|damaged|corrupt") as e:
        nnlink.load(p).verify()
    assert e.value.status == "format"
    assert info["weight_bytes"] > 4096
    # not a .nnl file at all, and a missing one
    with pytest.raises(nnlink.Error, match="ONNX"):
        nnlink.load(fixture("tinyseg", "model.onnx"))
    with pytest.raises(nnlink.Error, match="no such file") as e:
        nnlink.load(tmp_path / "missing.nnl")
    assert e.value.status == "io"


def test_damaged_onnx():
    data = open(fixture("tinyseg", "model.onnx"), "rb").read()
    with pytest.raises(nnlink.Error, match="^ONNX bytes: corrupt or truncated ONNX model") as e:
        nnlink.compile(data[: len(data) // 3], input_specs=dict(image=(1, 3, 64, 96)))
    assert e.value.status == "format"
    with pytest.raises(nnlink.Error, match="cannot"):
        nnlink.compile("/nonexistent/model.onnx")


@pytest.fixture
def readonly_dir(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    yield d
    d.chmod(0o755)


def test_unwritable_output_path(tinyseg_pair, readonly_dir, tmp_path):
    if os.access(readonly_dir, os.W_OK):  # root ignores permissions
        target = tmp_path / "no-such-dir" / "x.nnl"
    else:
        target = readonly_dir / "x.nnl"
    with pytest.raises(nnlink.Error) as e:
        nnlink.compile(fixture("resnet_tiny", "model.onnx"), path=target)
    assert e.value.status == "io" and str(target.parent) in str(e.value)
    with pytest.raises(nnlink.Error) as e:
        nnlink.link(list(tinyseg_pair), target)
    assert e.value.status == "io"
    with pytest.raises(nnlink.Error, match="cannot write") as e:
        tinyseg_pair[0].save(target)
    assert e.value.status == "io"
    assert not target.exists()


def test_bad_arguments(tinyseg_pair):
    onnx = fixture("tinyseg", "model.onnx")
    with pytest.raises(nnlink.Error, match="'height'\\) of input 'image' is dynamic and was not set"):
        nnlink.compile(onnx)  # dynamic H and W not fixed
    with pytest.raises(nnlink.Error, match="input_specs\\['image'\\] must be a shape"):
        nnlink.compile(onnx, input_specs=dict(image=(1, 3, -1, 4)))
    with pytest.raises(nnlink.Error, match="unknown dtype"):
        nnlink.compile(onnx, input_specs=dict(image=((1, 3, 64, 96), "float99")))
    with pytest.raises(nnlink.Error, match="asks for int64, but the model's input is float32"):
        nnlink.compile(onnx, input_specs=dict(image=((1, 3, 64, 96), "int64")))
    with pytest.raises(nnlink.Error, match="the model has no input 'nosuch' \\(its inputs: 'image'\\)"):
        nnlink.compile(onnx, input_specs=dict(image=(1, 3, 64, 96), nosuch=(1,)))
    with pytest.raises(nnlink.Error, match="ONNX file path, ONNX bytes or a torch"):
        nnlink.compile(42)
    with pytest.raises(nnlink.Error, match="torch modules only"):
        nnlink.compile(onnx, input_specs=dict(image=(1, 3, 64, 96)), opset_version=13)
    with pytest.raises(nnlink.Error, match="share must be one of"):
        nnlink.link(list(tinyseg_pair), share="names")
    with pytest.raises(nnlink.Error, match="non-empty list"):
        nnlink.link([])
    with pytest.raises(nnlink.Error, match="default graph 'nope' is not among the linked graphs \\(landscape, portrait\\)"):
        nnlink.link(list(tinyseg_pair), default="nope")
    with pytest.raises(nnlink.Error):  # two graphs of one name
        nnlink.link([tinyseg_pair[0], tinyseg_pair[0]])
    with pytest.raises(nnlink.Error, match="threads"):
        tinyseg_pair[0].session(threads=-1)
    with pytest.raises(nnlink.Error, match="graph must be a graph name"):
        tinyseg_pair[0].session(0)
    with pytest.raises(nnlink.Error, match="bad runs"):
        tinyseg_pair[0].profile(runs=0)


def test_torch_missing_is_a_clear_error(monkeypatch):
    """Without PyTorch a torch-like module cannot be exported: a clear
    Error, not an ImportError deep inside."""
    from nnlink import _torch
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(nnlink.Error, match="needs PyTorch"):
        _torch.export(object(), {"x": ((1,), None)}, "/dev/null", {})


def test_foreign_file_describes_but_does_not_run(tinyseg_pair, tmp_path):
    """info() works on a file of another weight-layout version (made by
    tests/nnl_patch.py); a session names why it cannot run."""
    p = tmp_path / "foreign.nnl"
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "nnl_patch.py"), tinyseg_pair[0].path, str(p),
                    "--layout-version", "999"], check=True)
    m = nnlink.load(p)
    info = m.info()
    assert info["runnable"] is False and "layout" in info["not_runnable_because"]
    assert info == json.loads(cli("info", p, "--json").stdout)
    with pytest.raises(nnlink.Error, match="layout") as e:
        m.session()
    assert e.value.status == "mismatch"
