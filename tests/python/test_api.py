"""Every call of the package on the committed fixtures, checked against
PyTorch's outputs (tests/fixtures) and the CLI's JSON."""
import json
import os

import numpy as np
import pytest

import nnlink
from conftest import assert_close, cli, fixture, manifest_case


def test_compile_path_bytes_and_run_match_pytorch(tmp_path):
    onnx = fixture("tinyseg", "model.onnx")
    ins, outs, tol = manifest_case("tinyseg", "portrait")
    from_path = nnlink.compile(onnx, input_specs=dict(image=(1, 3, 96, 64)), graph="portrait")
    with open(onnx, "rb") as f:
        from_bytes = nnlink.compile(f.read(), input_specs={"image": ((1, 3, 96, 64), "float32")})
    assert from_path.graphs == ["portrait"] and from_bytes.graphs == ["main"]
    for m in (from_path, from_bytes):
        got = m.run(ins)
        assert list(got) == ["out"]
        assert_close(got["out"], outs["out"], tol)


def test_temporary_file_owned_and_removed():
    m = nnlink.compile(fixture("resnet_tiny", "model.onnx"))
    path = m.path
    assert os.path.exists(path)
    m.close()
    assert not os.path.exists(path)
    with pytest.raises(nnlink.Error, match="closed"):
        m.graphs


def test_save_and_load(tmp_path, tinyseg_linked):
    dst = tinyseg_linked.save(tmp_path / "copy.nnl")
    m = nnlink.load(dst)
    assert m.graphs == ["landscape", "portrait"] and m.link_report is None
    ins, outs, tol = manifest_case("tinyseg", "landscape")
    assert_close(m.run(ins, graph="landscape")["out"], outs["out"], tol)


def test_link_graphs_run_both_and_report(tinyseg_linked, tinyseg_pair, tmp_path):
    m = tinyseg_linked
    assert m.graphs == ["landscape", "portrait"]
    for g in m.graphs:
        ins, outs, tol = manifest_case("tinyseg", g)
        assert_close(m.run(ins, graph=g)["out"], outs["out"], tol)
    # link_report is what `nnlink link --report` writes for the same inputs
    rep = tmp_path / "r.json"
    cli("link", tinyseg_pair[0].path, tinyseg_pair[1].path, "-o", tmp_path / "cli.nnl", "--report", rep)
    with open(rep) as f:
        want = json.load(f)
    got = dict(m.link_report)
    assert got.pop("output") == m.path and want.pop("output") == str(tmp_path / "cli.nnl")
    assert got == want


def test_link_sharing_visible_in_info(tinyseg_pair):
    shared = nnlink.link(list(tinyseg_pair))
    none = nnlink.link(list(tinyseg_pair), share="none")
    si, ni = shared.info(), none.info()
    single = tinyseg_pair[0].info()["weight_bytes"]
    # the pair shares every conv weight: stored once, used by both graphs
    assert si["shared_weight_bytes"] > 0.9 * single
    assert si["weight_bytes"] < 1.1 * single
    assert ni["shared_weight_bytes"] == 0 and ni["weight_bytes"] > 1.9 * single
    assert all(w["graphs"] == ["landscape"] or w["graphs"] == ["portrait"] for w in ni["weights"])
    assert any(w["graphs"] == ["landscape", "portrait"] for w in si["weights"])
    assert shared.link_report["summary"]["weights_shared"] > 0
    assert none.link_report["summary"]["weights_shared"] == 0


def test_link_default_and_rename(tinyseg_pair):
    land, port = tinyseg_pair
    m = nnlink.link([land, (port, "tall")], default="tall")
    assert m.graphs == ["landscape", "tall"] and m.default_graph == "tall"
    ins, outs, tol = manifest_case("tinyseg", "portrait")
    assert_close(m.run(ins)["out"], outs["out"], tol)  # the default graph
    m2 = nnlink.link([land.path, (port.path, "portrait", "p2")])
    assert m2.graphs == ["landscape", "p2"]


def test_info_equals_cli_json(tinyseg_linked):
    want = json.loads(cli("info", tinyseg_linked.path, "--json").stdout)
    assert tinyseg_linked.info() == want
    # a single graph file too
    m = nnlink.compile(fixture("twohead", "twohead_a.onnx"))
    assert m.info() == json.loads(cli("info", m.path, "--json").stdout)


# figures that are timings or memory; every other field must equal the CLI's
TIMED = {"session_ms", "cold_ms", "latency_ms", "layer_sum_ms", "load_ms", "peak_rss_bytes", "ms", "median_ms",
         "share", "gflops_per_s", "file"}


def _untimed(d):
    if isinstance(d, dict):
        return {k: _untimed(v) for k, v in d.items() if k not in TIMED}
    if isinstance(d, list):
        return [_untimed(v) for v in d]
    return d


def _keys(d):
    if isinstance(d, dict):
        return {k: _keys(v) for k, v in d.items() if k != "op_types"} | {"op_types": sorted(d.get("op_types", {}))}
    if isinstance(d, list):
        return [_keys(v) for v in d]
    return None


@pytest.mark.parametrize("all_graphs", [False, True])
def test_profile_equals_cli_json(tinyseg_linked, tmp_path, all_graphs):
    out = tmp_path / "p.json"
    args = ["--all"] if all_graphs else ["--graph", "portrait"]
    cli("profile", tinyseg_linked.path, *args, "--runs", 3, "--warmup", 1, "--threads", 2, "--json", out)
    with open(out) as f:
        want = json.load(f)
    got = tinyseg_linked.profile(graph=None if all_graphs else "portrait", runs=3, warmup=1, threads=2,
                                 all=all_graphs)
    assert _keys(got) == _keys(want)
    assert _untimed(got) == _untimed(want)
    assert got["file"] == tinyseg_linked.path
    one = got["graphs"][1] if all_graphs else got
    assert one["graph"] == "portrait" and one["latency_ms"]["min"] > 0 and len(one["layers"]) > 3
    assert abs(one["layer_sum_ms"] - sum(la["ms"] for la in one["layers"])) < 1e-6


def test_profile_with_given_inputs(tinyseg_linked):
    ins, _, _ = manifest_case("tinyseg", "portrait")
    p = tinyseg_linked.profile(graph="portrait", runs=2, inputs=ins)
    assert p["runs"] == 2 and p["warmup"] == 2


def test_session_repeated_runs_and_non_contiguous_input(tinyseg_linked):
    ins, outs, tol = manifest_case("tinyseg", "portrait")
    with tinyseg_linked.session("portrait", threads=2) as s:
        assert s.graph == "portrait"
        assert s.inputs == [{"name": "image", "dtype": "float32", "shape": [1, 3, 96, 64]}]
        a = s.run(ins)["out"]
        # a transposed view: non-contiguous, same values once copied
        t = np.ascontiguousarray(ins["image"].transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
        assert not t.flags["C_CONTIGUOUS"]
        b = s.run({"image": t})["out"]
        assert_close(a, outs["out"], tol)
        np.testing.assert_array_equal(a, b)
        assert a is not b and a.flags["OWNDATA"]  # the caller owns outputs
    with pytest.raises(nnlink.Error, match="closed"):
        s.run(ins)


def test_version():
    assert nnlink.__version__ == cli("--version").stdout.split()[-1]


def test_saved_copy_keeps_the_files_mode(tinyseg_pair, tmp_path):
    dst = tinyseg_pair[0].save(tmp_path / "m.nnl")
    assert os.stat(dst).st_mode == os.stat(tinyseg_pair[0].path).st_mode
    assert repr(tinyseg_pair[0]).endswith("graphs=['landscape'])")


def test_compile_fp16_weights_run_link_and_info(tmp_path):
    """compile(weights="fp16-all"): Conv/Gemm/MatMul weights stored as
    float16 (info says so), about half the weight bytes, outputs within
    5e-3 of PyTorch; the landscape and portrait fp16 compiles link into
    one copy; an fp32 and an fp16 compile of a weight are not shared."""
    onnx = fixture("tinyseg", "model.onnx")
    f32 = nnlink.compile(onnx, input_specs=dict(image=(1, 3, 64, 96)), graph="landscape")
    land = nnlink.compile(onnx, input_specs=dict(image=(1, 3, 64, 96)), graph="landscape", weights="fp16-all")
    port = nnlink.compile(onnx, input_specs=dict(image=(1, 3, 96, 64)), graph="portrait", weights="fp16-all")
    info = land.info()
    halves = [w for w in info["weights"] if w["dtype"] == "float16"]
    assert halves and all(w["layout"] != "plain" or len(w["shape"]) == 4 for w in halves)
    assert info["weight_bytes"] < 0.55 * f32.info()["weight_bytes"]
    for m, g in ((land, "landscape"), (port, "portrait")):
        ins, outs, _ = manifest_case("tinyseg", g)
        got = m.run(ins)["out"]
        assert np.abs(got - outs["out"]).max() <= 5e-3 * np.abs(outs["out"]).max()
    both = nnlink.link([land, port], tmp_path / "lp16.nnl")
    assert both.info()["weight_bytes"] < 1.01 * info["weight_bytes"]
    mixed = nnlink.link([f32, (port, "portrait")], tmp_path / "mixed.nnl")
    why = {w["reason"] for w in mixed.link_report["weights"] if w["dtype"] == "float16"}
    assert why == {"dtype differs (float16 vs float32)"}
    with pytest.raises(nnlink.Error, match="weights must be one of"):
        nnlink.compile(onnx, input_specs=dict(image=(1, 3, 64, 96)), weights="int4")
