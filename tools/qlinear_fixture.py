#!/usr/bin/python3
"""Regenerate tests/fixtures/quant/qlinearconv.*: a model written with ONNX
QLinearConv nodes (not QDQ), the form other quantizers export, and ONNX
Runtime's output of it as the reference test_quantize checks nnlink
against.

usage: /usr/bin/python3 tools/qlinear_fixture.py
Needs node and bench/node_modules (npm ci --ignore-scripts in bench/).
The graph: float x (1x16x9x11) -> QuantizeLinear (uint8) ->
  c1 QLinearConv 3x3, pad 1, group 2 (8 output channels per group),
     int8 weight, per-channel scales, zero point 0, int32 bias
  c2 QLinearConv 1x1, stride 2, int8 weight, per-tensor scale, zero point 0
  c3 QLinearConv 3x3, int8 weight with zero point 3 (the integer kernel
     takes zero point 0 only: this one stays on the reference op)
-> DequantizeLinear -> y.  Writes qlinearconv.onnx, qlinearconv.x.npy and
qlinearconv.ort.npy.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quant_util as qu  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "quant")


def main():
    rng = np.random.default_rng(11)
    init = []

    def const(name, arr):
        init.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    const("xs", np.float32(0.04))
    const("xz", np.uint8(128))
    w1 = rng.integers(-127, 128, (16, 8, 3, 3)).astype(np.int8)
    const("w1", w1)
    const("w1s", (rng.random(16) * 0.01 + 0.002).astype(np.float32))
    const("w1z", np.zeros(16, np.int8))
    const("y1s", np.float32(0.35))
    const("y1z", np.uint8(100))
    const("b1", rng.integers(-3000, 3000, 16).astype(np.int32))
    const("w2", rng.integers(-127, 128, (8, 16, 1, 1)).astype(np.int8))
    const("w2s", np.float32(0.004))
    const("w2z", np.int8(0))
    const("y2s", np.float32(0.3))
    const("y2z", np.uint8(128))
    const("w3", rng.integers(-100, 100, (8, 8, 3, 3)).astype(np.int8))
    const("w3s", np.float32(0.003))
    const("w3z", np.int8(3))
    const("y3s", np.float32(0.5))
    const("y3z", np.uint8(120))
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        helper.make_node("QLinearConv", ["xq", "xs", "xz", "w1", "w1s", "w1z", "y1s", "y1z", "b1"],
                         ["y1"], pads=[1, 1, 1, 1], group=2, name="c1"),
        helper.make_node("QLinearConv", ["y1", "y1s", "y1z", "w2", "w2s", "w2z", "y2s", "y2z"],
                         ["y2"], strides=[2, 2], name="c2"),
        helper.make_node("QLinearConv", ["y2", "y2s", "y2z", "w3", "w3s", "w3z", "y3s", "y3z"],
                         ["y3"], pads=[1, 1, 1, 1], name="c3"),
        helper.make_node("DequantizeLinear", ["y3", "y3s", "y3z"], ["y"]),
    ]
    g = helper.make_graph(nodes, "qlinearconv",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 9, 11])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 5, 6])], init)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="nnlink fixture")
    m.ir_version = 7
    onnx.checker.check_model(m)
    path = os.path.join(OUT, "qlinearconv.onnx")
    onnx.save(m, path)
    x = (rng.standard_normal((1, 16, 9, 11)) * 2).astype(np.float32)
    np.save(os.path.join(OUT, "qlinearconv.x.npy"), x)
    y = qu.ort_run(path, {"x": x})["y"]
    np.save(os.path.join(OUT, "qlinearconv.ort.npy"), y)
    print("qlinearconv: output %s, %d distinct values" % (y.shape, len(np.unique(y))))


if __name__ == "__main__":
    main()
