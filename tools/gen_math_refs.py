#!/usr/bin/python3
"""Generate the reference cases of tests/test_ops_math.c.

Each case is one call of a math op (ops_math.c): inputs, attributes, opset
and the outputs numpy or PyTorch computes, independently of the C code.  The
C arrays go to tests/refs/ops_math_refs.inc (tools/gen_refs_util.py), which
tests/test_ops_math.c includes:

    /usr/bin/python3 tools/gen_math_refs.py

Inputs wrapped in K(...) are constants (scales, sizes, axes, Clip bounds...):
they have data at infer time, the others do not, as at compile time.
Resize and pooling references come from torch.nn.functional, the way
PyTorch-exported models use those ops.
"""
import numpy as np
import torch
import torch.nn.functional as F

from gen_refs_util import Emitter, K, write_refs

np.seterr(all="ignore")
rng = np.random.RandomState(7)
CASES = []


def case(name, op, inputs, outputs, attrs=None, opset=17, tol=1e-5):
    # Float outputs keep the dtype of the op's first input.
    x0 = inputs[0].a if isinstance(inputs[0], K) else np.asarray(inputs[0])
    outputs = [np.asarray(o) for o in outputs]
    outputs = [o.astype(x0.dtype) if o.dtype.kind == "f" and x0.dtype.kind == "f" else o for o in outputs]
    CASES.append(dict(name=name, op=op, inputs=inputs, outputs=outputs, attrs=attrs or {},
                      opset=opset, tol=tol))


def f32(*shape, lo=-3.0, hi=3.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def ints(dtype, *shape, lo=-20, hi=20):
    return rng.randint(lo, hi + 1, size=shape).astype(dtype)


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def n(x):
    return x.detach().numpy()


# ---- elementwise -----------------------------------------------------------------

def gen_binary():
    a, b = f32(2, 3, 4, 5), f32(5)
    case("add_bcast_last", "Add", [a, b], [a + b])
    a, b = f32(2, 1, 4, 1), f32(3, 1, 5)
    case("add_bcast_both", "Add", [a, b], [a + b])
    a, b = f32(1, 3, 4, 4), f32(1, 3, 1, 1)
    case("mul_per_channel", "Mul", [a, b], [a * b])
    a, b = np.array(2.5, np.float32), f32(3, 4)
    case("sub_scalar_first", "Sub", [a, b], [a - b])
    a, b = f32(3, 4), f32(1)
    case("div_scalar_second", "Div", [a, b], [a / b])
    a, b = ints(np.int32, 4, 5), ints(np.int32, 5, lo=1, hi=7) * np.array([1, -1, 1, -1, 1], np.int32)
    case("div_int32_trunc", "Div", [a, b], [(np.trunc(a / b)).astype(np.int32)])
    a, b = ints(np.int64, 2, 3), ints(np.int64, 2, 1, lo=1, hi=5)
    case("mul_int64", "Mul", [a, b], [a * b])
    a, b = rng.uniform(-2, 2, (3, 4)), rng.uniform(-2, 2, (4,))
    case("sub_double", "Sub", [a, b], [a - b])
    a, b = f32(2, 3, lo=0.1, hi=3), np.array([2.0], np.float32)
    case("pow_square", "Pow", [a, b], [np.power(a, b)])
    a, b = f32(2, 3, lo=0.1, hi=3), np.array([2, 3, -1], np.int64)
    case("pow_float_int64", "Pow", [a, b], [np.power(a, b.astype(np.float32)).astype(np.float32)],
         opset=15)
    a, b = ints(np.int32, 2, 6), np.array([3, -3, 5, -5, 7, -7], np.int32)
    case("mod_int_python", "Mod", [a, b], [np.mod(a, b)])
    case("mod_int_fmod", "Mod", [a, b], [np.fmod(a, b)], attrs={"fmod": 1})
    a, b = f32(2, 4), np.array([1.5, -1.5, 2.0, -0.7], np.float32)
    case("mod_float_fmod", "Mod", [a, b], [np.fmod(a, b)], attrs={"fmod": 1})
    a, b = f32(3, 1), f32(1, 4)
    case("less_outer", "Less", [a, b], [a < b])
    case("greater_equal_outer", "GreaterOrEqual", [a, b], [a >= b], opset=16)
    a, b = ints(np.int64, 3, 4, lo=0, hi=3), ints(np.int64, 4, lo=0, hi=3)
    case("equal_int64", "Equal", [a, b], [a == b])
    case("less_equal_int64", "LessOrEqual", [a, b], [a <= b], opset=16)
    case("greater_int64", "Greater", [a, b], [a > b])
    p, q = rng.rand(2, 3, 4) > 0.5, rng.rand(3, 1) > 0.5
    case("and_bcast", "And", [p, q], [p & q])
    case("or_bcast", "Or", [p, q], [p | q])
    case("xor_bcast", "Xor", [p, q], [p ^ q])
    case("not", "Not", [p], [~p])
    x, s = f32(2, 3, 4, 4), f32(3, 1, 1)
    case("prelu_channel", "PRelu", [x, s], [np.where(x < 0, x * s, x)])
    u, v = ints(np.uint8, 6, lo=0, hi=255), np.array([0, 1, 2, 3, 7, 8], np.uint8)
    case("bitshift_left_u8", "BitShift", [u, v], [(u.astype(np.uint32) << np.minimum(v, 8)).astype(np.uint8) * (v < 8)],
         attrs={"direction": "LEFT"})
    case("bitshift_right_u8", "BitShift", [u, v], [(u >> np.minimum(v, 7)) * (v < 8)],
         attrs={"direction": "RIGHT"})
    e = np.zeros((0, 3), np.float32)
    case("add_empty", "Add", [e, f32(3)], [e])


def gen_variadic():
    a, b, c = f32(2, 1, 3), f32(4, 1), f32(3)
    case("sum_three", "Sum", [a, b, c], [a + b + c])
    case("mean_three", "Mean", [a, b, c], [(a + b + c) / np.float32(3)])
    case("max_three", "Max", [a, b, c], [np.maximum(np.maximum(a, b), c)])
    case("min_three", "Min", [a, b, c], [np.minimum(np.minimum(a, b), c)])
    i, j = ints(np.int32, 3, 4), ints(np.int32, 4)
    case("max_int32", "Max", [i, j], [np.maximum(i, j)])
    case("sum_one", "Sum", [a], [a])


def gen_unary():
    x = f32(3, 4, 5)
    xt = t(x)
    pos = f32(3, 4, lo=0.1, hi=5)
    unit = f32(3, 4, lo=-0.95, hi=0.95)
    big = f32(3, 4, lo=1.05, hi=5)
    simple = {
        "Relu": n(torch.relu(xt)), "Sigmoid": n(torch.sigmoid(xt)), "Tanh": n(torch.tanh(xt)),
        "Exp": np.exp(x), "Neg": -x, "Abs": np.abs(x), "Erf": n(torch.erf(xt)),
        "Floor": np.floor(x), "Ceil": np.ceil(x), "Sign": np.sign(x), "Sin": np.sin(x),
        "Cos": np.cos(x), "Tan": np.tan(x), "Atan": np.arctan(x), "Sinh": np.sinh(x),
        "Cosh": np.cosh(x), "Asinh": np.arcsinh(x), "Softsign": x / (1 + np.abs(x)),
        "Softplus": n(F.softplus(xt)), "Mish": n(F.mish(xt)),
        "HardSwish": n(F.hardswish(xt)), "Reciprocal": 1 / x,
    }
    for op, y in simple.items():
        case(op.lower(), op, [x], [y.astype(np.float32)], opset=14 if op == "HardSwish" else 13)
    case("log", "Log", [pos], [np.log(pos)])
    case("sqrt", "Sqrt", [pos], [np.sqrt(pos)])
    case("asin", "Asin", [unit], [np.arcsin(unit)])
    case("acos", "Acos", [unit], [np.arccos(unit)])
    case("atanh", "Atanh", [unit], [np.arctanh(unit)])
    case("acosh", "Acosh", [big], [np.arccosh(big)])
    r = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51, 3.7], np.float32)
    case("round_half_even", "Round", [r], [np.round(r)])
    case("leakyrelu", "LeakyRelu", [x], [n(F.leaky_relu(xt, 0.1))], attrs={"alpha": 0.1})
    case("leakyrelu_default", "LeakyRelu", [x], [n(F.leaky_relu(xt, 0.01))])
    case("elu", "Elu", [x], [n(F.elu(xt, 0.7))], attrs={"alpha": 0.7})
    case("selu", "Selu", [x], [n(F.selu(xt))])
    case("celu", "Celu", [x], [n(F.celu(xt, 1.5))], attrs={"alpha": 1.5}, opset=12)
    case("hardsigmoid", "HardSigmoid", [x], [np.clip(0.2 * x + 0.5, 0, 1)])
    case("hardsigmoid_torch", "HardSigmoid", [x], [n(F.hardsigmoid(xt))],
         attrs={"alpha": 1.0 / 6, "beta": 0.5})
    case("thresholdedrelu", "ThresholdedRelu", [x], [np.where(x > 0.5, x, 0)],
         attrs={"alpha": 0.5}, opset=10)
    case("shrink", "Shrink", [x], [np.where(x < -1, x + 0.25, np.where(x > 1, x - 0.25, 0))],
         attrs={"lambd": 1.0, "bias": 0.25}, opset=9)
    case("gelu", "Gelu", [x], [n(F.gelu(xt))], opset=20)
    case("gelu_tanh", "Gelu", [x], [n(F.gelu(xt, approximate="tanh"))],
         attrs={"approximate": "tanh"}, opset=20)
    sp = np.array([1.0, np.inf, -np.inf, np.nan, -2.0], np.float32)
    case("isnan", "IsNaN", [sp], [np.isnan(sp)], opset=13)
    case("isinf", "IsInf", [sp], [np.isinf(sp)], opset=10)
    case("isinf_negative", "IsInf", [sp], [np.isneginf(sp)], attrs={"detect_positive": 0},
         opset=10)
    i = ints(np.int32, 3, 4)
    case("relu_int32", "Relu", [i], [np.maximum(i, 0)], opset=14)
    case("abs_int64", "Abs", [i.astype(np.int64)], [np.abs(i).astype(np.int64)], opset=13)
    d = rng.uniform(-3, 3, (2, 5))
    case("sigmoid_double", "Sigmoid", [d], [1 / (1 + np.exp(-d))], opset=13)
    case("clip_attrs_opset6", "Clip", [x], [np.clip(x, -1, 0.5)], attrs={"min": -1.0, "max": 0.5},
         opset=6)
    case("clip_inputs_relu6", "Clip", [x, K(np.float32(0)), K(np.float32(6))],
         [n(F.relu6(xt))], opset=13)
    case("clip_max_only", "Clip", [x, None, K(np.float32(0.2))], [np.minimum(x, 0.2)], opset=13)
    case("clip_int32", "Clip", [i, K(np.int32(-5)), K(np.int32(5))], [np.clip(i, -5, 5)],
         opset=13)
    case("relu_empty", "Relu", [np.zeros((2, 0), np.float32)], [np.zeros((2, 0), np.float32)])


# ---- softmax ---------------------------------------------------------------------------

def softmax_np(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def gen_softmax():
    x = f32(2, 3, 4)
    flat = x.reshape(2, 12)
    case("softmax_opset11_axis1", "Softmax", [x], [softmax_np(flat, 1).reshape(2, 3, 4)],
         attrs={"axis": 1}, opset=11)
    case("softmax_opset11_default", "Softmax", [x], [softmax_np(flat, 1).reshape(2, 3, 4)],
         opset=11)
    case("softmax_opset13_axis1", "Softmax", [x], [n(torch.softmax(t(x), 1))],
         attrs={"axis": 1}, opset=13)
    case("softmax_opset13_default", "Softmax", [x], [n(torch.softmax(t(x), -1))], opset=13)
    case("softmax_opset13_axis0", "Softmax", [x], [n(torch.softmax(t(x), 0))],
         attrs={"axis": 0}, opset=13)
    case("logsoftmax_opset13_axis1", "LogSoftmax", [x], [n(torch.log_softmax(t(x), 1))],
         attrs={"axis": 1}, opset=13)
    case("logsoftmax_opset11_axis2", "LogSoftmax", [x], [n(torch.log_softmax(t(x), 2))],
         attrs={"axis": 2}, opset=11)
    big = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1000.0]], np.float32)
    case("softmax_large", "Softmax", [big], [softmax_np(big.astype(np.float64), 1).astype(np.float32)],
         opset=13)
    h = np.array([[[1, 3, 3, 0], [2, 2, 1, 0], [0, 0, 0, 0]]], np.float32)
    hot1 = np.zeros_like(h)
    for j in range(4):
        hot1[0, np.argmax(h[0, :, j]), j] = 1
    case("hardmax_axis1_ties", "Hardmax", [h], [hot1], attrs={"axis": 1}, opset=13)
    flat = h.reshape(1, 12)
    hot = np.zeros_like(flat)
    hot[0, np.argmax(flat[0])] = 1
    case("hardmax_opset11_coerce", "Hardmax", [h], [hot.reshape(h.shape)], opset=11)
    w = f32(2, 300, 3)  # column blocks wider than one pass
    case("softmax_cols_wide", "Softmax", [w.transpose(0, 2, 1).copy()],
         [n(torch.softmax(t(w.transpose(0, 2, 1).copy()), 1))], attrs={"axis": 1}, opset=13)


# ---- reductions -------------------------------------------------------------------------

def gen_reduce():
    x = f32(3, 4, 5, 6)
    case("reducemean_hw", "ReduceMean", [x], [x.mean(axis=(2, 3), keepdims=True)],
         attrs={"axes": [2, 3]}, opset=13)
    case("reducesum_input_axes", "ReduceSum", [x, K(np.array([1], np.int64))],
         [x.sum(axis=1)], attrs={"keepdims": 0}, opset=13)
    case("reducesum_opset11_attr", "ReduceSum", [x], [x.sum(axis=(0, 3), keepdims=True)],
         attrs={"axes": [0, -1]}, opset=11)
    case("reducemax_alternating", "ReduceMax", [x], [x.max(axis=(0, 2))],
         attrs={"axes": [0, 2], "keepdims": 0}, opset=13)
    case("reducemin_opset18_input", "ReduceMin", [x, K(np.array([-1, 1], np.int64))],
         [x.min(axis=(1, 3), keepdims=True)], opset=18)
    case("reducesumsquare_all", "ReduceSumSquare", [x], [np.sum(x * x, keepdims=True)], opset=13)
    case("reducel1_axis0", "ReduceL1", [x], [np.abs(x).sum(axis=0, keepdims=True)],
         attrs={"axes": [0]}, opset=13)
    case("reducel2_axis3", "ReduceL2", [x], [np.sqrt((x * x).sum(axis=3))],
         attrs={"axes": [3], "keepdims": 0}, opset=13)
    case("reduceprod_axis1", "ReduceProd", [x * 0.5 + 1], [np.prod(x * 0.5 + 1, axis=1, keepdims=True)],
         attrs={"axes": [1]}, opset=13)
    pos = f32(3, 4, 5, lo=0.1, hi=2)
    case("reducelogsum", "ReduceLogSum", [pos], [np.log(pos.sum(axis=(1,), keepdims=True))],
         attrs={"axes": [1]}, opset=13)
    case("reducelogsumexp", "ReduceLogSumExp", [x * 30],
         [n(torch.logsumexp(t(x * 30), dim=(0, 2), keepdim=True))], attrs={"axes": [0, 2]},
         opset=13)
    case("reducesum_noop", "ReduceSum", [x, K(np.zeros((0,), np.int64))], [x],
         attrs={"noop_with_empty_axes": 1}, opset=13)
    case("reducesum_empty_axes_all", "ReduceSum", [x, K(np.zeros((0,), np.int64))],
         [x.sum(keepdims=True)], opset=13)
    i = ints(np.int64, 4, 7)
    case("reducesum_int64", "ReduceSum", [i], [i.sum(axis=1, keepdims=True)], attrs={"axes": [1]},
         opset=11)
    case("reducemax_int32", "ReduceMax", [i.astype(np.int32)],
         [i.astype(np.int32).max(axis=0, keepdims=True)], attrs={"axes": [0]}, opset=13)
    long_row = f32(2, 1000)
    case("reducemean_long_row", "ReduceMean", [long_row], [long_row.mean(axis=1, keepdims=True)],
         attrs={"axes": [1]}, opset=13)
    e = np.zeros((2, 0, 3), np.float32)
    case("reducesum_empty_axis", "ReduceSum", [e], [np.zeros((2, 1, 3), np.float32)],
         attrs={"axes": [1]}, opset=11)
    case("reducemax_empty_axis", "ReduceMax", [e], [np.full((2, 3), -np.inf, np.float32)],
         attrs={"axes": [1], "keepdims": 0}, opset=13)


def gen_arg_cumsum():
    x = np.array([[3, 1, 3, 2], [0, 5, 5, 1], [4, 4, 0, 4]], np.float32)
    case("argmax_axis1", "ArgMax", [x], [np.argmax(x, axis=1)[:, None]], attrs={"axis": 1})
    case("argmax_last_index", "ArgMax", [x], [3 - np.argmax(x[:, ::-1], axis=1)[:, None]],
         attrs={"axis": 1, "select_last_index": 1}, opset=12)
    case("argmin_axis0_nokeep", "ArgMin", [x], [np.argmin(x, axis=0)],
         attrs={"axis": 0, "keepdims": 0})
    y = f32(2, 3, 4)
    case("argmax_middle", "ArgMax", [y], [np.argmax(y, axis=-2)], attrs={"axis": -2, "keepdims": 0})
    i = ints(np.int32, 3, 5)
    case("argmin_int32", "ArgMin", [i], [np.argmin(i, axis=1)[:, None]], attrs={"axis": 1})
    c = f32(3, 4)
    case("cumsum_axis1", "CumSum", [c, K(np.int32(1))], [np.cumsum(c, axis=1)], opset=14)
    case("cumsum_axis0_excl_rev", "CumSum", [c, K(np.int64(0))],
         [np.flip(np.cumsum(np.flip(c, 0), 0), 0) - c], attrs={"exclusive": 1, "reverse": 1},
         opset=14)
    ci = ints(np.int64, 2, 5)
    case("cumsum_int64_excl", "CumSum", [ci, K(np.int64(-1))], [np.cumsum(ci, axis=1) - ci],
         attrs={"exclusive": 1}, opset=14)


# ---- pooling ---------------------------------------------------------------------------

def gen_pool():
    x = f32(1, 2, 9, 9)
    xt = t(x)
    case("maxpool_resnet_stem", "MaxPool", [x], [n(F.max_pool2d(xt, 3, 2, 1))],
         attrs={"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, opset=12)
    y = f32(1, 1, 6, 7)
    case("maxpool_ceil", "MaxPool", [y], [n(F.max_pool2d(t(y), 3, 2, 0, ceil_mode=True))],
         attrs={"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}, opset=12)
    case("maxpool_ceil_pad_drop_last", "MaxPool", [y],
         [n(F.max_pool2d(t(y), 2, 2, 1, ceil_mode=True))],
         attrs={"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1},
         opset=12)
    case("maxpool_dilation", "MaxPool", [x], [n(F.max_pool2d(xt, 2, 1, 1, dilation=2))],
         attrs={"kernel_shape": [2, 2], "dilations": [2, 2], "pads": [1, 1, 1, 1]}, opset=12)
    case("maxpool_asym_stride", "MaxPool", [x], [n(F.max_pool2d(xt, (3, 2), (1, 3), (1, 0)))],
         attrs={"kernel_shape": [3, 2], "strides": [1, 3], "pads": [1, 0, 1, 0]}, opset=12)
    z = f32(2, 3, 11)
    case("maxpool_1d", "MaxPool", [z], [n(F.max_pool1d(t(z), 3, 2, 1))],
         attrs={"kernel_shape": [3], "strides": [2], "pads": [1, 1]}, opset=12)
    v = f32(1, 2, 5, 6, 7)
    case("maxpool_3d", "MaxPool", [v], [n(F.max_pool3d(t(v), 3, 2, 1))],
         attrs={"kernel_shape": [3, 3, 3], "strides": [2, 2, 2], "pads": [1, 1, 1, 1, 1, 1]},
         opset=12)
    case("avgpool_pad_exclude", "AveragePool", [x],
         [n(F.avg_pool2d(xt, 3, 2, 1, count_include_pad=False))],
         attrs={"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, opset=11)
    case("avgpool_pad_include", "AveragePool", [x],
         [n(F.avg_pool2d(xt, 3, 2, 1, count_include_pad=True))],
         attrs={"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1],
                "count_include_pad": 1}, opset=11)
    case("avgpool_ceil_include", "AveragePool", [y],
         [n(F.avg_pool2d(t(y), 3, 2, 1, ceil_mode=True, count_include_pad=True))],
         attrs={"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1,
                "count_include_pad": 1}, opset=11)
    case("avgpool_ceil_exclude", "AveragePool", [y],
         [n(F.avg_pool2d(t(y), 3, 2, 0, ceil_mode=True, count_include_pad=False))],
         attrs={"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}, opset=11)
    case("avgpool_1d", "AveragePool", [z], [n(F.avg_pool1d(t(z), 4, 3))],
         attrs={"kernel_shape": [4], "strides": [3]}, opset=11)
    case("avgpool_3d_pad", "AveragePool", [v],
         [n(F.avg_pool3d(t(v), 2, 2, 1, count_include_pad=False))],
         attrs={"kernel_shape": [2, 2, 2], "strides": [2, 2, 2], "pads": [1, 1, 1, 1, 1, 1]},
         opset=11)
    # SAME_UPPER / SAME_LOWER: pad the way ONNX says, then pool without padding.
    w = f32(1, 1, 7, 8)
    for mode in ("SAME_UPPER", "SAME_LOWER"):
        pads = []
        for d in (7, 8):
            out = -(-d // 2)
            tot = max(0, (out - 1) * 2 + 3 - d)
            lo = tot // 2 if mode == "SAME_UPPER" else tot - tot // 2
            pads.append((lo, tot - lo))
        wp = np.pad(w, ((0, 0), (0, 0), pads[0], pads[1]), constant_values=-np.inf)
        case("maxpool_" + mode.lower(), "MaxPool", [w], [n(F.max_pool2d(t(wp), 3, 2))],
             attrs={"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": mode}, opset=12)
        ones = np.pad(np.ones_like(w), ((0, 0), (0, 0), pads[0], pads[1]))
        s = n(F.avg_pool2d(t(np.pad(w, ((0, 0), (0, 0), pads[0], pads[1]))), 3, 2, divisor_override=1))
        cnt = n(F.avg_pool2d(t(ones), 3, 2, divisor_override=1))
        case("avgpool_" + mode.lower(), "AveragePool", [w], [s / cnt],
             attrs={"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": mode}, opset=11)
    case("maxpool_valid", "MaxPool", [w], [n(F.max_pool2d(t(w), 3, 2))],
         attrs={"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "VALID"}, opset=12)
    case("lppool_p2", "LpPool", [x], [n(F.lp_pool2d(xt, 2, 3, 2))],
         attrs={"kernel_shape": [3, 3], "strides": [2, 2], "p": 2}, opset=11)
    case("globalavgpool", "GlobalAveragePool", [x], [x.mean(axis=(2, 3), keepdims=True)], opset=1)
    case("globalmaxpool_1d", "GlobalMaxPool", [z], [z.max(axis=2, keepdims=True)], opset=1)


# ---- resize ----------------------------------------------------------------------------

def resize_case(name, x, y, attrs, sizes=None, scales=None, opset=13):
    empty = K(np.zeros((0,), np.float32))
    ins = [x, empty, K(np.array(scales, np.float32)) if scales is not None else empty]
    if sizes is not None:
        ins.append(K(np.array(sizes, np.int64)))
    case(name, "Resize", ins, [y], attrs=attrs, opset=opset, tol=1e-4)


def gen_resize():
    x = f32(1, 2, 3, 4)
    xt = t(x)
    lin_pt = {"mode": "linear", "coordinate_transformation_mode": "pytorch_half_pixel"}
    lin_ac = {"mode": "linear", "coordinate_transformation_mode": "align_corners"}
    y = F.interpolate(xt, size=(7, 9), mode="bilinear", align_corners=False)
    resize_case("bilinear_pytorch_sizes", x, n(y), lin_pt, sizes=[1, 2, 7, 9])
    y = F.interpolate(xt, scale_factor=2, mode="bilinear", align_corners=False)
    resize_case("bilinear_pytorch_scales", x, n(y), lin_pt, scales=[1, 1, 2, 2])
    y = F.interpolate(xt, size=(6, 5), mode="bilinear", align_corners=True)
    resize_case("bilinear_align_corners", x, n(y), lin_ac, sizes=[1, 2, 6, 5])
    big = f32(1, 1, 8, 9)
    y = F.interpolate(t(big), size=(3, 5), mode="bilinear", align_corners=False)
    resize_case("bilinear_downsample", big, n(y), lin_pt, sizes=[1, 1, 3, 5])
    # FCN's head in miniature: 8x bilinear upsampling to a given size.
    fcn = f32(1, 3, 4, 6)
    y = F.interpolate(t(fcn), size=(32, 48), mode="bilinear", align_corners=False)
    resize_case("bilinear_fcn_8x", fcn, n(y), lin_pt, sizes=[1, 3, 32, 48])
    near = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
            "nearest_mode": "floor"}
    y = F.interpolate(xt, size=(6, 8), mode="nearest")
    resize_case("nearest_torch_up", x, n(y), near, sizes=[1, 2, 6, 8])
    y = F.interpolate(xt, scale_factor=(2, 3), mode="nearest")
    resize_case("nearest_torch_scales", x, n(y), near, scales=[1, 1, 2, 3])
    y = F.interpolate(t(big), size=(3, 4), mode="nearest")
    resize_case("nearest_torch_down", big, n(y), near, sizes=[1, 1, 3, 4])
    cub = {"mode": "cubic", "coordinate_transformation_mode": "pytorch_half_pixel",
           "cubic_coeff_a": -0.75}
    y = F.interpolate(xt, size=(5, 7), mode="bicubic", align_corners=False)
    resize_case("bicubic_pytorch", x, n(y), cub, sizes=[1, 2, 5, 7])
    cub_ac = dict(cub, coordinate_transformation_mode="align_corners")
    y = F.interpolate(xt, size=(5, 7), mode="bicubic", align_corners=True)
    resize_case("bicubic_align_corners", x, n(y), cub_ac, sizes=[1, 2, 5, 7])
    z = f32(2, 3, 5)
    y = F.interpolate(t(z), size=(11,), mode="linear", align_corners=False)
    resize_case("linear_1d", z, n(y), lin_pt, sizes=[2, 3, 11])
    resize_case("identity", x, x, lin_pt, scales=[1, 1, 1, 1])
    up = np.repeat(np.repeat(x, 2, axis=2), 3, axis=3)
    case("upsample_opset9_nearest", "Upsample", [x, K(np.array([1, 1, 2, 3], np.float32))], [up],
         attrs={"mode": "nearest"}, opset=9)
    case("upsample_opset7_nearest", "Upsample", [x], [up],
         attrs={"mode": "nearest", "scales": [1.0, 1.0, 2.0, 3.0]}, opset=7)
    y = F.interpolate(xt, scale_factor=2, mode="bilinear", align_corners=False,
                      recompute_scale_factor=False)
    # Upsample's linear mode is asymmetric: x_in = x_out / scale, clamped.
    ya = np.zeros((1, 2, 6, 8), np.float32)
    for i in range(6):
        for j in range(8):
            fy, fx = min(i / 2, 2), min(j / 2, 3)
            y0, x0 = int(fy), int(fx)
            y1, x1 = min(y0 + 1, 2), min(x0 + 1, 3)
            wy, wx = fy - y0, fx - x0
            ya[:, :, i, j] = ((1 - wy) * ((1 - wx) * x[:, :, y0, x0] + wx * x[:, :, y0, x1]) +
                              wy * ((1 - wx) * x[:, :, y1, x0] + wx * x[:, :, y1, x1]))
    case("upsample_opset9_linear", "Upsample", [x, K(np.array([1, 1, 2, 2], np.float32))], [ya],
         attrs={"mode": "linear"}, opset=9, tol=1e-5)


# ---- normalisation -------------------------------------------------------------------------

def gen_norm():
    x = f32(2, 3, 4, 5)
    sc, b, m, v = f32(3), f32(3), f32(3), f32(3, lo=0.5, hi=2)
    y = F.batch_norm(t(x), t(m), t(v), t(sc), t(b), False, 0.1, 1e-3)
    case("batchnorm", "BatchNormalization", [x, sc, b, m, v], [n(y)], attrs={"epsilon": 1e-3},
         opset=15)
    case("batchnorm_opset7", "BatchNormalization", [x, sc, b, m, v], [n(y)],
         attrs={"epsilon": 1e-3, "momentum": 0.9}, opset=7)
    y = F.instance_norm(t(x), weight=t(sc), bias=t(b), eps=1e-4)
    case("instancenorm", "InstanceNormalization", [x, sc, b], [n(y)], attrs={"epsilon": 1e-4},
         opset=6)
    ln_s, ln_b = f32(5), f32(5)
    y = F.layer_norm(t(x), (5,), t(ln_s), t(ln_b), 1e-5)
    case("layernorm_last", "LayerNormalization", [x, ln_s, ln_b], [n(y)], opset=17)
    w, wb = f32(3, 4, 5), f32(3, 4, 5)
    mu = x.mean(axis=(1, 2, 3), keepdims=True)
    var = ((x - mu) ** 2).mean(axis=(1, 2, 3), keepdims=True)
    inv = 1 / np.sqrt(var + 1e-5)
    case("layernorm_axis1_stats", "LayerNormalization", [x, w, wb],
         [(x - mu) * inv * w + wb, mu, inv], attrs={"axis": 1}, opset=17)
    s45 = f32(4, 1)  # broadcast over the last normalised dim
    case("layernorm_bcast_scale", "LayerNormalization", [x, s45],
         [n(F.layer_norm(t(x), (4, 5))) * s45], attrs={"axis": -2}, opset=17)
    l1 = x / np.abs(x).sum(axis=1, keepdims=True)
    case("lpnorm_p1_axis1", "LpNormalization", [x], [l1], attrs={"axis": 1, "p": 1}, opset=1)
    l2 = x / np.sqrt((x * x).sum(axis=-1, keepdims=True))
    case("lpnorm_p2", "LpNormalization", [x], [l2], opset=1)
    mu = x.mean(axis=(0, 2, 3), keepdims=True)
    sd = np.sqrt((x * x).mean(axis=(0, 2, 3), keepdims=True) - mu * mu)
    case("mvn_default", "MeanVarianceNormalization", [x], [(x - mu) / (sd + 1e-9)], opset=13,
         tol=1e-4)


def main():
    for g in (gen_binary, gen_variadic, gen_unary, gen_softmax, gen_reduce, gen_arg_cumsum,
              gen_pool, gen_resize, gen_norm):
        g()
    write_refs("ops_math_refs", "gen_math_refs.py", CASES, Emitter(scalars_1d=True), lambda c: "%g" % c["tol"])


if __name__ == "__main__":
    main()
