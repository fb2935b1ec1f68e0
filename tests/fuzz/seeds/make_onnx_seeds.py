#!/usr/bin/env python3
"""Small ONNX models with weights (initializers) for the fuzz seed corpora.

The conformance node models carry no weights, and the PyTorch fixtures are
large; these few nodes put every weight-bearing path (plain and packed
weights, integer indices read from weights, shapes from constants) into a
file of a few hundred bytes.  usage: make_onnx_seeds.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def save(out, name, nodes, inputs, outputs, inits, opset=13):
    g = helper.make_graph(nodes, name, inputs, outputs,
                          [numpy_helper.from_array(v, k) for k, v in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="nnlink-fuzz-seeds")
    m.ir_version = 7
    # outputs carry no shape (as torch exports dynamic ones), which the
    # checker refuses; nnlink infers them
    onnx.save(m, os.path.join(out, name + ".onnx"))


def vi(name, dt, shape):
    return helper.make_tensor_value_info(name, dt, shape)


def main(out):
    os.makedirs(out, exist_ok=True)
    F, I64 = TensorProto.FLOAT, TensorProto.INT64
    # Conv + bias + Relu + MaxPool + Resize (sizes from Shape, as torch exports)
    save(out, "seed_conv", [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p", "w2"], ["q"], group=2),
        helper.make_node("Resize", ["q", "", "scales"], ["y"], mode="nearest"),
    ], [vi("x", F, [1, 2, "h", "w"])], [helper.make_tensor_value_info("y", F, None)],
        {"w": f32(4, 2, 3, 3), "b": f32(4), "w2": f32(4, 2, 1, 1),
         "scales": np.array([1, 1, 2, 2], np.float32)})
    # Gemm / MatMul with weights, Add, Softmax
    save(out, "seed_gemm", [
        helper.make_node("Gemm", ["x", "w", "b"], ["g"], transB=1),
        helper.make_node("MatMul", ["g", "m"], ["h"]),
        helper.make_node("Add", ["h", "bias"], ["a"]),
        helper.make_node("Softmax", ["a"], ["y"], axis=-1),
    ], [vi("x", F, ["n", 8])], [helper.make_tensor_value_info("y", F, None)],
        {"w": f32(16, 8), "b": f32(16), "m": f32(16, 4), "bias": f32(4)})
    # Gather from an embedding table, Reshape by a constant, Transpose, Concat
    save(out, "seed_gather", [
        helper.make_node("Gather", ["table", "ids"], ["e"]),
        helper.make_node("Reshape", ["e", "shape"], ["r"]),
        helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1]),
        helper.make_node("Concat", ["t", "extra"], ["y"], axis=1),
    ], [vi("ids", I64, [1, 6])], [helper.make_tensor_value_info("y", F, None)],
        {"table": f32(10, 4), "shape": np.array([1, 6, 4], np.int64), "extra": f32(1, 2, 6)})
    # Slice / Where / Expand / Cast with integer constants
    save(out, "seed_slice", [
        helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["s"]),
        helper.make_node("Greater", ["s", "zero"], ["c"]),
        helper.make_node("Where", ["c", "s", "alt"], ["w"]),
        helper.make_node("Expand", ["w", "eshape"], ["e"]),
        helper.make_node("Cast", ["e"], ["y"], to=TensorProto.FLOAT16),
    ], [vi("x", F, [4, 8])], [vi("y", TensorProto.FLOAT16, None)],
        {"starts": np.array([1, 0], np.int64), "ends": np.array([3, 8], np.int64),
         "axes": np.array([0, 1], np.int64), "steps": np.array([1, 2], np.int64),
         "zero": np.zeros([1], np.float32), "alt": f32(2, 4),
         "eshape": np.array([3, 2, 4], np.int64)})


if __name__ == "__main__":
    main(sys.argv[1])
