"""nnlink.quantize: the QDQ model it writes runs like ONNX Runtime ran the
committed QDQ fixture (tests/fixtures/quant, made by tools/quant_fixture.py
from the same calibration samples), and bad calibration data raises
nnlink.Error naming the problem, leaving no file behind."""
import os

import numpy as np
import pytest

import nnlink
from conftest import fixture


def calib():
    return np.load(fixture("quant", "calib.npy"))


def run(qdq, shape, image):
    m = nnlink.compile(qdq, input_specs=dict(image=shape))
    return m.run({"image": np.load(image)})["out"]


def rel_err(got, ref):
    return float(np.abs(got - ref).max() / np.abs(ref).max())


def test_quantize_matches_onnx_runtime(tmp_path):
    seen = []
    s = nnlink.quantize(fixture("tinyseg", "model.onnx"), {"image": calib()}, tmp_path / "q.onnx",
                        progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert s["path"] == str(tmp_path / "q.onnx") and os.path.exists(s["path"])
    assert s["weights"] == 14 and s["biases"] == 14 and s["activations"] > 0
    assert seen and seen[-1][1] == seen[-1][2]
    for name, shape in (("landscape", (1, 3, 64, 96)), ("portrait", (1, 3, 96, 64))):
        got = run(s["path"], shape, fixture("tinyseg", name + ".image.npy"))
        assert rel_err(got, np.load(fixture("quant", name + ".ort.npy"))) < 3e-2


def test_quantize_int8_activations_from_bytes():
    with open(fixture("tinyseg", "model.onnx"), "rb") as f:
        s = nnlink.quantize(f.read(), {"image": calib()}, activations="int8")
    try:
        got = run(s["path"], (1, 3, 64, 96), fixture("tinyseg", "landscape.image.npy"))
        assert rel_err(got, np.load(fixture("quant", "landscape.ort_s8.npy"))) < 5e-2
    finally:
        os.unlink(s["path"])


def test_quantize_int7_weights(tmp_path):
    s = nnlink.quantize(fixture("tinyseg", "model.onnx"), {"image": calib()}, tmp_path / "q7.onnx", weights="int7")
    assert s["weights"] == 14
    got = run(s["path"], (1, 3, 64, 96), fixture("tinyseg", "landscape.image.npy"))
    assert rel_err(got, np.load(fixture("quant", "landscape.ort_w7.npy"))) < 3e-2


@pytest.mark.parametrize("data, pattern", [
    ({"nope": None}, "nope"),
    ({"image": "calib"}, "float32"),
    ({"image": np.zeros((0, 1, 3, 64, 96), np.float32)}, "empty|no sample|0 samples"),
    ({"image": np.full((2, 1, 3, 64, 96), np.nan, np.float32)}, "nan|finite"),
    ({"image": np.zeros((2, 1, 3, 64), np.float32)}, "samples of 1x3x64, but the input is"),
])
def test_bad_calibration(tmp_path, data, pattern):
    import re
    out = tmp_path / "q.onnx"
    if data.get("nope", 0) is None:
        data = {"nope": calib()}
    with pytest.raises(nnlink.Error) as e:
        nnlink.quantize(fixture("tinyseg", "model.onnx"), data, out)
    assert re.search(pattern, str(e.value), re.I), str(e.value)
    assert not out.exists()


def test_bad_arguments():
    with pytest.raises(nnlink.Error, match="method"):
        nnlink.quantize(fixture("tinyseg", "model.onnx"), {"image": calib()}, method="best")
    with pytest.raises(nnlink.Error, match="activations"):
        nnlink.quantize(fixture("tinyseg", "model.onnx"), {"image": calib()}, activations="int4")
    with pytest.raises(nnlink.Error, match="weights"):
        nnlink.quantize(fixture("tinyseg", "model.onnx"), {"image": calib()}, weights="int4")
    with pytest.raises(nnlink.Error, match="calibration"):
        nnlink.quantize(fixture("tinyseg", "model.onnx"), {})
