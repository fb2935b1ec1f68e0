#!/usr/bin/python3
"""Generate numpy reference cases for tests/test_ops_tensor.c.

Each case is one call of a tensor op (ops_tensor.c): inputs, attributes and
the outputs numpy computes independently of the C code.  The C arrays go to
tests/refs/ops_tensor_refs.inc (tools/gen_refs_util.py), which
tests/test_ops_tensor.c includes:

    /usr/bin/python3 tools/gen_tensor_refs.py

Inputs marked constant (shape-like inputs: Reshape's shape, Slice's starts,
...) have data at infer time; the others are NULL there, as at compile time.
"""
import numpy as np

from gen_refs_util import Emitter, K, write_refs

np.seterr(all="ignore")

ONNX_DT = {  # numpy dtype -> ONNX TensorProto data type (Cast's "to")
    np.dtype(np.float32): 1, np.dtype(np.uint8): 2, np.dtype(np.int8): 3, np.dtype(np.uint16): 4,
    np.dtype(np.int16): 5, np.dtype(np.int32): 6, np.dtype(np.int64): 7, np.dtype(np.bool_): 9,
    np.dtype(np.float16): 10, np.dtype(np.float64): 11, np.dtype(np.uint32): 12, np.dtype(np.uint64): 13,
}

rng = np.random.RandomState(1234)
CASES = []

C = K  # a constant input (data known at infer time)


def case(name, op, inputs, outputs=None, attrs=None, opset=17, error=None, tol=0.0):
    """error: expected status name.  A case whose name ends in _nonconst
    fails only because an input lacks data at infer time; the folding run
    (all inputs constant) skips it."""
    CASES.append(dict(name=name, op=op, inputs=inputs, outputs=outputs or [],
                      attrs=attrs or {}, opset=opset, error=error, tol=tol))


def rand(shape, dtype=np.float32):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.uniform(-10, 10, size=shape).astype(dtype)
    if dtype.kind == "b":
        return rng.randint(0, 2, size=shape).astype(bool)
    info = np.iinfo(dtype)
    lo, hi = max(info.min, -100), min(info.max, 100)
    return rng.randint(lo, hi + 1, size=shape).astype(dtype)


def i64(*v):
    return C(np.array(v, dtype=np.int64))


# ---- the cases ---------------------------------------------------------------

def gen_reshape():
    x = rand((2, 3, 4))
    case("reshape_basic", "Reshape", [x, i64(4, 6)], [x.reshape(4, 6)], opset=5)
    case("reshape_zero_copy", "Reshape", [x, i64(0, -1)], [x.reshape(2, 12)], opset=13)
    case("reshape_minus1_first", "Reshape", [x, i64(-1, 2, 2)], [x.reshape(-1, 2, 2)])
    case("reshape_to_scalar", "Reshape", [np.array([5.0], np.float32), i64()],
         [np.array(5.0, np.float32)])
    z = np.zeros((0, 3), np.float32)
    case("reshape_allowzero", "Reshape", [z, i64(3, 0)], [z.reshape(3, 0)],
         attrs={"allowzero": 1}, opset=14)
    case("reshape_zero_size_copy", "Reshape", [z, i64(0, 3, 1)], [z.reshape(0, 3, 1)])
    case("reshape_attr_opset1", "Reshape", [x], [x.reshape(6, 4)], attrs={"shape": [6, 4]},
         opset=1)
    case("reshape_two_minus1", "Reshape", [x, i64(-1, -1)], error="NNL_ERR_SHAPE")
    case("reshape_bad_numel", "Reshape", [x, i64(5, 5)], error="NNL_ERR_SHAPE")
    case("reshape_unknown_attr", "Reshape", [x, i64(4, 6)], attrs={"bogus": 1},
         error="NNL_ERR_UNSUPPORTED")
    d = rand((6,), np.int64)
    case("reshape_int64_data", "Reshape", [d, i64(3, 2)], [d.reshape(3, 2)])


def gen_flatten():
    x = rand((2, 3, 4, 5))
    for ax in (0, 1, 2, 4, -1, -4):
        a = ax if ax >= 0 else ax + 4
        case("flatten_axis%d" % ax, "Flatten", [x],
             [x.reshape(int(np.prod(x.shape[:a])), -1)], attrs={"axis": ax})
    z = np.zeros((2, 0, 3), np.float16)
    case("flatten_zero", "Flatten", [z], [z.reshape(2, 0)])
    case("flatten_bad_axis", "Flatten", [x], attrs={"axis": 5}, error="NNL_ERR_SHAPE")


def gen_transpose():
    x = rand((2, 3, 4, 5))
    case("transpose_default", "Transpose", [x], [x.transpose()])
    for p in ([0, 2, 3, 1], [0, 3, 1, 2], [0, 2, 1, 3], [3, 1, 0, 2], [1, 0, 2, 3]):
        case("transpose_%s" % "".join(map(str, p)), "Transpose", [x], [x.transpose(p)],
             attrs={"perm": p})
    for dt in (np.int8, np.float16, np.int64, np.bool_):
        y = rand((1, 37, 41), dt)
        case("transpose_tile_%s" % np.dtype(dt).name, "Transpose", [y], [y.transpose(0, 2, 1)],
             attrs={"perm": [0, 2, 1]})
    y = rand((2, 1, 3, 1, 2, 3), np.int32)
    p = [5, 3, 1, 0, 4, 2]
    case("transpose_rank6", "Transpose", [y], [y.transpose(p)], attrs={"perm": p})
    z = np.zeros((0, 3), np.float32)
    case("transpose_zero", "Transpose", [z], [z.T])
    case("transpose_bad_perm", "Transpose", [x], attrs={"perm": [0, 0, 1, 2]}, error="NNL_ERR_SHAPE")


def np_slice(x, starts, ends, axes=None, steps=None):
    axes = list(range(len(starts))) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    sl = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        # python slicing clamps exactly as the ONNX spec does
        big = 2**62
        s = max(min(s, big), -big)
        e = max(min(e, big), -big)
        sl[a] = slice(s, e, st)
    return x[tuple(sl)]


def gen_slice():
    x = rand((4, 5, 6))
    def sl(name, starts, ends, axes=None, steps=None, dt=np.int64, **kw):
        ins = [x, C(np.array(starts, dt)), C(np.array(ends, dt))]
        if axes is not None or steps is not None:
            ins.append(C(np.array(axes, dt)) if axes is not None else None)
        if steps is not None:
            ins.append(C(np.array(steps, dt)))
        case(name, "Slice", ins, [np_slice(x, starts, ends, axes, steps)], **kw)
    sl("slice_basic", [1, 0], [3, 5])
    sl("slice_axes", [1], [4], axes=[2])
    sl("slice_neg_axes", [1], [-1], axes=[-2])
    sl("slice_neg_idx", [-3, -4], [-1, 1000], axes=[0, 2])
    sl("slice_steps", [0, 1], [4, 6], axes=[1, 2], steps=[2, 3])
    sl("slice_neg_step", [-1], [-2**63], axes=[1], steps=[-1])
    sl("slice_neg_step2", [4, 10], [0, -100], axes=[0, 2], steps=[-2, -3])
    sl("slice_neg_step_oob", [100], [-100], axes=[2], steps=[-4])
    sl("slice_oob_start", [10], [20], axes=[1])
    sl("slice_empty", [3], [1], axes=[0])
    sl("slice_int32", [1, -2], [2**31 - 1, -1], axes=[2, 0], dt=np.int32)
    sl("slice_default_steps", [0, 2], [2, 4], axes=[0, 1])
    sl("slice_big_end", [1], [2**63 - 1], axes=[2], steps=[2])
    case("slice_opset1", "Slice", [x], [x[:, 1:3, -2:]],
         attrs={"starts": [1, -2], "ends": [3, 100], "axes": [1, 2]}, opset=1)
    case("slice_step0", "Slice", [x, i64(0), i64(2), i64(0), i64(0)], error="NNL_ERR_SHAPE")
    z = np.zeros((0, 3), np.int32)
    case("slice_zero_size", "Slice", [z, i64(0, 1), i64(5, 3)], [z[0:5, 1:3]])
    case("slice_nonconst", "Slice", [x, np.array([1], np.int64), np.array([2], np.int64)],
         error="NNL_ERR_UNSUPPORTED")


def gen_split():
    x = rand((6, 4))
    case("split_equal", "Split", [x], list(np.split(x, 3, axis=0)), opset=13)
    case("split_attr", "Split", [x], np.split(x, [1, 4], axis=1)[:3], attrs={"axis": 1,
         "split": [1, 3, 0]}, opset=11)
    case("split_input", "Split", [x, i64(2, 0, 4)], np.split(x, [2, 2], axis=0), opset=13)
    case("split_neg_axis", "Split", [x, i64(3, 1)], np.split(x, [3], axis=-1),
         attrs={"axis": -1}, opset=13)
    y = rand((7, 2))
    case("split_num_outputs", "Split", [y], [y[0:3], y[3:6], y[6:7]],
         attrs={"num_outputs": 3}, opset=18)
    case("split_uneven", "Split", [y], attrs={"axis": 0}, outputs=[y, y], error="NNL_ERR_SHAPE")
    case("split_bad_sum", "Split", [x, i64(2, 2)], outputs=[x, x], error="NNL_ERR_SHAPE")


def gen_squeeze():
    x = rand((1, 3, 1, 2))
    case("squeeze_all", "Squeeze", [x], [x.reshape(3, 2)])
    case("squeeze_input", "Squeeze", [x, i64(2)], [x.reshape(1, 3, 2)], opset=13)
    case("squeeze_neg", "Squeeze", [x, i64(-4, -2)], [x.reshape(3, 2)], opset=13)
    case("squeeze_attr", "Squeeze", [x], [x.reshape(3, 1, 2)], attrs={"axes": [0]}, opset=11)
    case("squeeze_not1", "Squeeze", [x, i64(1)], error="NNL_ERR_SHAPE")
    y = rand((3, 4), np.int16)
    case("unsqueeze_input", "Unsqueeze", [y, i64(3, 0)], [y.reshape(1, 3, 4, 1)], opset=13)
    case("unsqueeze_neg", "Unsqueeze", [y, i64(-1)], [y.reshape(3, 4, 1)], opset=13)
    case("unsqueeze_attr", "Unsqueeze", [y], [y.reshape(3, 1, 1, 4)], attrs={"axes": [2, 1]},
         opset=11)
    case("unsqueeze_scalar", "Unsqueeze", [np.array(7, np.int64), i64(0)],
         [np.array([7], np.int64)])
    case("unsqueeze_dup", "Unsqueeze", [y, i64(1, -3)], error="NNL_ERR_SHAPE")


def gen_concat():
    a, b, c = rand((2, 3)), rand((2, 1)), rand((2, 4))
    case("concat_axis1", "Concat", [a, b, c], [np.concatenate([a, b, c], 1)], attrs={"axis": 1})
    case("concat_neg", "Concat", [a, b], [np.concatenate([a, b], -1)], attrs={"axis": -1})
    z = np.zeros((2, 0), np.float32)
    case("concat_zero", "Concat", [z, a, z], [np.concatenate([z, a, z], 1)], attrs={"axis": 1})
    d, e = rand((3,), np.int64), rand((0,), np.int64)
    case("concat_shapes", "Concat", [d, e, d], [np.concatenate([d, e, d])], attrs={"axis": 0})
    case("concat_axis0", "Concat", [a, a], [np.concatenate([a, a], 0)], attrs={"axis": 0})
    case("concat_mismatch", "Concat", [a, rand((3, 3))], attrs={"axis": 1}, error="NNL_ERR_SHAPE")
    case("concat_no_axis", "Concat", [a, a], error="NNL_ERR_SHAPE")


def gen_shape():
    x = rand((2, 3, 4, 5))
    case("shape", "Shape", [x], [np.array(x.shape, np.int64)])
    for st, en in ((1, None), (None, -1), (-3, 3), (-10, 10), (3, 1)):
        attrs = {}
        if st is not None:
            attrs["start"] = st
        if en is not None:
            attrs["end"] = en
        s = slice(st, en)
        case("shape_%s_%s" % (st, en), "Shape", [x], [np.array(x.shape[s], np.int64)],
             attrs=attrs, opset=15)
    case("size", "Size", [x], [np.array(x.size, np.int64)])
    case("size_zero", "Size", [np.zeros((3, 0), np.int8)], [np.array(0, np.int64)])


def gen_gather():
    x = rand((5, 4, 3))
    ind = np.array([[0, -1], [4, 2]], np.int64)
    case("gather_axis0", "Gather", [x, ind], [np.take(x, ind, axis=0)])
    ind1 = np.array([3, -4, 1], np.int32)
    case("gather_axis1_i32", "Gather", [x, ind1], [np.take(x, ind1, axis=1)], attrs={"axis": 1})
    case("gather_axis_neg", "Gather", [x, np.array(2, np.int64)], [np.take(x, 2, axis=-1)],
         attrs={"axis": -1})
    case("gather_empty", "Gather", [x, np.zeros((0,), np.int64)],
         [np.take(x, np.zeros((0,), np.int64), axis=0)])
    s = rand((4,), np.int64)
    case("gather_shape_vec", "Gather", [s, C(np.array(1, np.int64))], [np.array(s[1])])
    case("gather_oob_const", "Gather", [x, C(np.array([5], np.int64))], error="NNL_ERR_INVALID_ARG")
    case("gather_oob_runtime", "Gather", [x, np.array([0, -6], np.int64)],
         outputs=[np.zeros((2, 4, 3), np.float32)], error="NNL_ERR_INVALID_ARG")
    # GatherElements
    def gather_elements(x, ind, axis):
        out = np.empty(ind.shape, x.dtype)
        for pos in np.ndindex(*ind.shape):
            src = list(pos)
            src[axis] = ind[pos] % x.shape[axis]
            out[pos] = x[tuple(src)]
        return out
    y = rand((3, 4))
    ge = np.array([[0, -1, 2], [3, 0, 1]], np.int64)
    case("gather_elements_axis1", "GatherElements", [y, ge],
         [gather_elements(y, ge, 1)], attrs={"axis": 1})
    ge0 = np.array([[2, 0, 1, -3], [0, 1, 2, 2]], np.int32)
    case("gather_elements_axis0", "GatherElements", [y, ge0],
         [gather_elements(y, ge0, 0)])
    case("gather_elements_oob", "GatherElements", [y, np.array([[4]], np.int64)],
         outputs=[np.zeros((1, 1), np.float32)], attrs={"axis": 1}, error="NNL_ERR_INVALID_ARG")
    # GatherND
    d = rand((2, 3, 4), np.int32)
    idx = np.array([[[0, 1], [1, -1]], [[1, 2], [0, 0]]], np.int64)
    ref = np.stack([d[tuple(i)] for i in idx.reshape(-1, 2)]).reshape(2, 2, 4)
    case("gathernd_k2", "GatherND", [d, idx], [ref])
    idx3 = np.array([[0, 2, 3], [1, 0, -1]], np.int64)
    case("gathernd_k3", "GatherND", [d, idx3], [np.array([d[0, 2, 3], d[1, 0, -1]], np.int32)])
    idxb = np.array([[[1], [0]], [[2], [2]]], np.int64)
    refb = np.stack([np.stack([d[b, i[0]] for i in idxb[b]]) for b in range(2)])
    case("gathernd_batch1", "GatherND", [d, idxb], [refb], attrs={"batch_dims": 1})
    case("gathernd_oob", "GatherND", [d, np.array([[2, 0]], np.int64)],
         outputs=[np.zeros((1, 4), np.int32)], error="NNL_ERR_INVALID_ARG")


def scatter_elements_ref(data, ind, upd, axis, red):
    out = data.copy()
    ind = np.where(ind < 0, ind + data.shape[axis], ind)
    for pos in np.ndindex(*ind.shape):
        tgt = list(pos)
        tgt[axis] = ind[pos]
        tgt = tuple(tgt)
        if red == "add":
            out[tgt] += upd[pos]
        elif red == "mul":
            out[tgt] *= upd[pos]
        elif red == "max":
            out[tgt] = max(out[tgt], upd[pos])
        elif red == "min":
            out[tgt] = min(out[tgt], upd[pos])
        else:
            out[tgt] = upd[pos]
    return out


def scatter_nd_ref(data, ind, upd, red):
    out = data.copy()
    k = ind.shape[-1]
    for pos in np.ndindex(*ind.shape[:-1]):
        t = tuple(int(v) if v >= 0 else int(v) + data.shape[j] for j, v in enumerate(ind[pos]))
        if red == "add":
            out[t] += upd[pos]
        elif red == "mul":
            out[t] *= upd[pos]
        else:
            out[t] = upd[pos]
    return out


def gen_scatter():
    d = rand((4, 4, 4))
    ind = np.array([[0], [-2]], np.int64)
    upd = rand((2, 4, 4))
    for red in ("none", "add", "mul"):
        attrs = {} if red == "none" else {"reduction": red}
        case("scatternd_" + red, "ScatterND", [d, ind, upd], [scatter_nd_ref(d, ind, upd, red)],
             attrs=attrs, opset=16)
    ind2 = np.array([[1, 2], [1, 2], [3, -1]], np.int64)
    upd2 = rand((3, 4))
    case("scatternd_dup_add", "ScatterND", [d, ind2, upd2],
         [scatter_nd_ref(d, ind2, upd2, "add")], attrs={"reduction": "add"}, opset=16)
    di = rand((3, 5), np.int32)
    ind3 = np.array([[1, 1, 2, 1, 2], [0, 1, 2, 0, 1]], np.int64)
    ui = rand((2, 5), np.int32)
    case("scatternd_int_k2", "ScatterND", [di, np.array([[0, 4], [2, -5]], np.int32),
         np.array([7, 8], np.int32)], [scatter_nd_ref(di, np.array([[0, 4], [2, -5]]),
                                                     np.array([7, 8], np.int32), "none")])
    for red in ("none", "add", "mul", "max", "min"):
        attrs = {"axis": 0}
        if red != "none":
            attrs["reduction"] = red
        case("scatter_elements_%s" % red, "ScatterElements", [di, ind3, ui],
             [scatter_elements_ref(di, ind3, ui, 0, red)], attrs=attrs, opset=18)
    y = rand((1, 5))
    ind4 = np.array([[1, -2, 1]], np.int64)
    u4 = rand((1, 3))
    case("scatter_elements_neg_axis1", "ScatterElements", [y, ind4, u4],
         [scatter_elements_ref(y, ind4, u4, 1, "none")], attrs={"axis": -1}, opset=16)
    case("scatter_elements_dup_add", "ScatterElements", [y, ind4, u4],
         [scatter_elements_ref(y, ind4, u4, 1, "add")], attrs={"axis": 1, "reduction": "add"},
         opset=16)
    case("scatter_opset10", "Scatter", [y, ind4, u4],
         [scatter_elements_ref(y, ind4, u4, 1, "none")], attrs={"axis": 1}, opset=10)
    case("scatter_elements_oob", "ScatterElements", [y, np.array([[5]], np.int64),
         rand((1, 1))], outputs=[y], attrs={"axis": 1}, error="NNL_ERR_INVALID_ARG")


def cast_ref(x, to):
    """ONNX Cast as nnlink defines the undefined corners: float -> int
    truncates and saturates, NaN -> 0; int -> int wraps."""
    to = np.dtype(to)
    if to == np.bool_:
        return x != 0
    if x.dtype.kind == "f" and to.kind in "iu":
        info = np.iinfo(to)
        v = np.trunc(x.astype(np.float64))
        v = np.where(np.isnan(v), 0, v)
        out = np.empty(x.shape, to)
        flat = out.reshape(-1)
        for i, f in enumerate(v.reshape(-1)):
            if f >= float(info.max) + 1 or f >= 2.0**64:
                flat[i] = info.max
            elif f <= float(info.min):
                flat[i] = info.min
            else:
                flat[i] = int(f)
        return out
    if x.dtype.kind in "iub" and to.kind in "iu":
        # wrap: reinterpret the low bits
        return np.array([int(v) & ((1 << (8 * to.itemsize)) - 1) for v in x.reshape(-1)],
                        np.uint64).astype(to).reshape(x.shape)
    if x.dtype.kind in "iu" and to.kind == "f":
        # one rounding from the exact integer
        return np.array([float_round(int(v), to) for v in x.reshape(-1)], to).reshape(x.shape)
    return x.astype(to)


def float_round(v, to):
    bits = {np.dtype(np.float64): (53, 1023), np.dtype(np.float32): (24, 127),
            np.dtype(np.float16): (11, 15)}[np.dtype(to)]
    return correct_round(v, *bits)


def correct_round(v, mant_bits, emax):
    """Round integer v to the nearest float with mant_bits significand bits
    (ties to even); inf past the largest finite value."""
    if v == 0:
        return 0.0
    s = -1.0 if v < 0 else 1.0
    a = abs(v)
    e = a.bit_length()
    shift = e - mant_bits
    if shift > 0:
        q, r = divmod(a, 1 << shift)
        half = 1 << (shift - 1)
        if r > half or (r == half and q & 1):
            q += 1
        a = q << shift
    if a >= 2 ** (emax + 1):
        return s * float("inf")
    return s * float(a)


def gen_cast():
    f = np.array([0.0, -0.0, 1.5, -1.5, 2.7, -2.7, 127.9, -128.9, 255.5, 300.0, -300.0,
                  65535.9, 1e10, -1e10, 3e38, np.inf, -np.inf, np.nan, 0.49999997,
                  2147483520.0, -2147483648.0], np.float32)
    for to in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64,
               np.bool_):
        case("cast_f32_%s" % np.dtype(to).name, "Cast", [f], [cast_ref(f, to)],
             attrs={"to": ONNX_DT[np.dtype(to)]})
    h = np.array([0.1, 65504, 65519.99, 65520, 1e-8, 6e-8, 3e-8, 2.98e-8, -1e6, 1.0009765625,
                  1.00048828125, 1.00146484375, np.nan, -np.inf, 5.960464477539063e-08,
                  6.097555160522461e-05], np.float32)
    case("cast_f32_f16", "Cast", [h], [h.astype(np.float16)], attrs={"to": 10})
    hd = np.array([1.0 + 2**-11 + 2**-40, 1.0 + 2**-11, 1.0 + 3 * 2**-11, 1e-300, 65519.999,
                   0.333333333333], np.float64)
    case("cast_f64_f16", "Cast", [hd], [hd.astype(np.float16)], attrs={"to": 10})
    allh = np.arange(0, 65536, 97, dtype=np.uint32).astype(np.uint16).view(np.float16)
    case("cast_f16_f32", "Cast", [allh], [allh.astype(np.float32)], attrs={"to": 1})
    case("cast_f16_f64", "Cast", [allh], [allh.astype(np.float64)], attrs={"to": 11})
    case("cast_f16_i32", "Cast", [allh], [cast_ref(allh, np.int32)], attrs={"to": 6})
    d = np.array([1e300, -1e300, 1.0000000596046448, 3.4028235677973366e38, 1e-46, np.nan],
                 np.float64)
    case("cast_f64_f32", "Cast", [d], [d.astype(np.float32)], attrs={"to": 1})
    i = np.array([0, 1, -1, 127, 128, -129, 255, 256, 32767, 40000, -40000, 2**31 - 1, -2**31,
                  2**31, 2**40 + 5, -2**63, 2**63 - 1, 2**53 + 1, 16777217], np.int64)
    for to in (np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.uint64, np.bool_,
               np.float32, np.float64, np.float16):
        case("cast_i64_%s" % np.dtype(to).name, "Cast", [i], [cast_ref(i, to)],
             attrs={"to": ONNX_DT[np.dtype(to)]})
    u = np.array([0, 1, 2**63, 2**64 - 1, 2**53 + 1, 2**24 + 1], np.uint64)
    for to in (np.int64, np.int32, np.float32, np.float64):
        case("cast_u64_%s" % np.dtype(to).name, "Cast", [u], [cast_ref(u, to)],
             attrs={"to": ONNX_DT[np.dtype(to)]})
    b = np.array([True, False, True], np.bool_)
    for to in (np.float32, np.int64, np.float16):
        case("cast_bool_%s" % np.dtype(to).name, "Cast", [b], [b.astype(to)],
             attrs={"to": ONNX_DT[np.dtype(to)]})
    i8 = np.array([-128, -1, 0, 1, 127], np.int8)
    case("cast_i8_u8", "Cast", [i8], [cast_ref(i8, np.uint8)], attrs={"to": 2})
    case("cast_i8_f32", "Cast", [i8], [i8.astype(np.float32)], attrs={"to": 1})
    case("cast_same", "Cast", [f], [f], attrs={"to": 1})
    case("cast_zero", "Cast", [np.zeros((0, 2), np.float32)], [np.zeros((0, 2), np.int32)],
         attrs={"to": 6})
    case("cast_to_string", "Cast", [f], attrs={"to": 8}, error="NNL_ERR_UNSUPPORTED")
    case("castlike_f32_i32", "CastLike", [f, np.zeros((1,), np.int32)],
         [cast_ref(f, np.int32)], opset=15)


def gen_expand_tile():
    x = rand((3, 1))
    case("expand_basic", "Expand", [x, i64(2, 1, 6)], [np.broadcast_to(x, (2, 3, 6))])
    case("expand_smaller", "Expand", [x, i64(4)], [np.broadcast_to(x, (3, 4))])
    case("expand_zero", "Expand", [x, i64(0, 3, 1)], [np.zeros((0, 3, 1), np.float32)])
    y = rand((2, 3), np.int8)
    case("expand_same", "Expand", [y, i64(1, 1)], [y])
    case("expand_bad", "Expand", [y, i64(4, 3)], error="NNL_ERR_SHAPE")
    case("expand_nonconst", "Expand", [y, np.array([2, 3], np.int64)], error="NNL_ERR_UNSUPPORTED")
    z = rand((2, 3, 4), np.float16)
    case("tile_basic", "Tile", [z, i64(2, 1, 3)], [np.tile(z, (2, 1, 3))])
    case("tile_zero", "Tile", [z, i64(1, 0, 2)], [np.tile(z, (1, 0, 2))])
    w = rand((3,), np.int64)
    case("tile_1d", "Tile", [w, i64(4)], [np.tile(w, 4)])
    case("tile_bad_len", "Tile", [w, i64(4, 1)], error="NNL_ERR_SHAPE")


def gen_where():
    c = rng.randint(0, 2, size=(2, 1, 4)).astype(bool)
    x = rand((3, 1))
    y = rand((1, 3, 4))
    case("where_bcast", "Where", [c, x, y], [np.where(c, x, y)])
    xi, yi = rand((4,), np.int64), rand((), np.int64)
    c2 = np.array([True, False, False, True])
    case("where_int64_scalar", "Where", [c2, xi, yi], [np.where(c2, xi, yi)])
    case("where_bad_cond", "Where", [x, x, x], error="NNL_ERR_SHAPE")


def gen_constant_of_shape():
    case("cos_float", "ConstantOfShape", [i64(2, 3)], [np.full((2, 3), 1.5, np.float32)],
         attrs={"value": np.array([1.5], np.float32)}, opset=9)
    case("cos_int32", "ConstantOfShape", [i64(4)], [np.full((4,), 7, np.int32)],
         attrs={"value": np.array([7], np.int32)})
    case("cos_default", "ConstantOfShape", [i64(3, 1)], [np.zeros((3, 1), np.float32)])
    case("cos_zero", "ConstantOfShape", [i64(0)], [np.zeros((0,), np.int64)],
         attrs={"value": np.array([1], np.int64)})
    case("cos_scalar", "ConstantOfShape", [C(np.zeros((0,), np.int64))],
         [np.array(True)], attrs={"value": np.array([True])})
    case("cos_nonconst", "ConstantOfShape", [np.array([2], np.int64)], error="NNL_ERR_UNSUPPORTED")


def gen_range_eye_trilu():
    def rg(name, s, l, d, dt, tol=0.0):
        ins = [C(np.array(s, dt)), C(np.array(l, dt)), C(np.array(d, dt))]
        case(name, "Range", ins, [np.arange(dt(s), dt(l), dt(d), dtype=dt)], opset=11, tol=tol)
    rg("range_float", 1.0, 5.0, 0.3, np.float32, tol=1e-6)
    rg("range_int32_neg", 10, 4, -3, np.int32)
    rg("range_int64_empty", 5, 5, 1, np.int64)
    rg("range_int64", -7, 100, 9, np.int64)
    rg("range_double_neg", 2.0, -1.0, -0.25, np.float64)
    rg("range_int16", 0, 7, 2, np.int16)
    case("range_zero_delta", "Range", [C(np.array(0, np.int64)), C(np.array(5, np.int64)),
         C(np.array(0, np.int64))], error="NNL_ERR_SHAPE")
    x = rand((4, 5), np.int32)
    case("eyelike_k1", "EyeLike", [x], [np.eye(4, 5, 1, dtype=np.float32)],
         attrs={"dtype": 1, "k": 1}, opset=9)
    case("eyelike_default", "EyeLike", [x], [np.eye(4, 5, dtype=np.int32)])
    case("eyelike_neg_k", "EyeLike", [x], [np.eye(4, 5, -2, dtype=np.int32)], attrs={"k": -2})
    case("eyelike_bool", "EyeLike", [x], [np.eye(4, 5, 0, dtype=bool)], attrs={"dtype": 9})
    t = rand((2, 4, 5))
    for k in (0, 2, -1, 7, -9):
        case("triu_k%d" % k, "Trilu", [t, C(np.array(k, np.int64))], [np.triu(t, k)], opset=14)
        case("tril_k%d" % k, "Trilu", [t, C(np.array(k, np.int64))], [np.tril(t, k)],
             attrs={"upper": 0}, opset=14)
    case("triu_default", "Trilu", [t], [np.triu(t)], opset=14)
    case("tril_runtime_k", "Trilu", [t, np.array(-1, np.int64)], [np.tril(t, -1)],
         attrs={"upper": 0}, opset=14)
    w = rand((3, 0))
    case("triu_zero", "Trilu", [w], [w], opset=14)


def gen_pad():
    x = rand((1, 2, 3, 4))
    def pd(name, pads, mode="constant", value=None, axes=None, opset=13, dt=np.float32):
        xx = x.astype(dt)
        ins = [xx, C(np.array(pads, np.int64))]
        if value is not None or axes is not None:
            ins.append(C(np.array(value, dt)) if value is not None else None)
        if axes is not None:
            ins.append(C(np.array(axes, np.int64)))
        r = xx.ndim
        ax = list(range(r)) if axes is None else [a % r for a in axes]
        n = len(ax)
        width = [(0, 0)] * r
        for i, a in enumerate(ax):
            width[a] = (pads[i], pads[i + n])
        # numpy pads only non-negative widths: crop negative ones first
        crop = tuple(slice(-b if b < 0 else 0, xx.shape[j] + e if e < 0 else None)
                     for j, (b, e) in enumerate(width))
        pos = [(max(b, 0), max(e, 0)) for b, e in width]
        y = xx[crop]
        if mode == "constant":
            y = np.pad(y, pos, mode="constant", constant_values=(value or 0))
        else:
            y = np.pad(y, pos, mode=mode)
        case(name, "Pad", ins, [y], attrs={"mode": mode}, opset=opset)
    pd("pad_constant", [0, 0, 1, 2, 0, 0, 2, 1], value=1.25)
    pd("pad_constant_default", [0, 1, 0, 0, 0, 0, 0, 3])
    pd("pad_reflect", [0, 0, 2, 3, 0, 0, 2, 3], mode="reflect")
    pd("pad_reflect_big", [0, 0, 5, 7, 0, 0, 4, 9], mode="reflect")
    pd("pad_edge", [0, 1, 2, 1, 0, 1, 1, 2], mode="edge", dt=np.int32)
    # numpy < 1.25 wraps pads wider than the axis oddly; nnlink is periodic
    pd("pad_wrap", [0, 0, 1, 3, 0, 0, 2, 3], mode="wrap", opset=19)
    pd("pad_negative", [0, 0, -1, 2, 0, 0, 1, -3], value=-2.0)
    pd("pad_negative_edge", [0, 0, -1, -2, 0, 0, 1, 3], mode="edge")
    pd("pad_axes", [1, -1, 2, 0], axes=[-1, 2], value=9.0, opset=18)
    pd("pad_int64", [0, 0, 1, 1, 0, 0, 1, 1], value=-5, dt=np.int64)
    y = np.pad(x, [(0, 0), (0, 0), (1, 1), (2, 0)], constant_values=-1.5)
    case("pad_opset2", "Pad", [x], [y], attrs={"pads": [0, 0, 1, 2, 0, 0, 1, 0],
         "value": -1.5}, opset=2)
    case("pad_bad_len", "Pad", [x, i64(1, 1)], error="NNL_ERR_SHAPE")
    case("pad_bad_mode", "Pad", [x, i64(0, 0, 0, 0, 0, 0, 0, 0)], attrs={"mode": "mirror"},
         error="NNL_ERR_UNSUPPORTED")
    z = np.zeros((2, 0), np.float32)
    case("pad_zero_size", "Pad", [z, i64(1, 1, 0, 2)], [np.zeros((3, 3), np.float32)])


def gen_misc():
    x = rand((2, 3))
    case("identity", "Identity", [x], [x])
    case("dropout_mask", "Dropout", [x, C(np.array(0.5, np.float32))],
         [x, np.ones((2, 3), bool)], attrs={"seed": 0}, opset=13)
    case("dropout_opset7_mask", "Dropout", [x], [x, np.ones((2, 3), np.float32)],
         attrs={"ratio": 0.3}, opset=7)
    case("dropout_training", "Dropout", [x, C(np.array(0.5, np.float32)), C(np.array(True))],
         error="NNL_ERR_UNSUPPORTED", opset=13)
    d = rand((1, 8, 2, 3))
    for mode in ("DCR", "CRD"):
        b = 2
        N, Cc, H, W = d.shape
        if mode == "DCR":
            y = d.reshape(N, b, b, Cc // 4, H, W).transpose(0, 3, 4, 1, 5, 2)
        else:
            y = d.reshape(N, Cc // 4, b, b, H, W).transpose(0, 1, 4, 2, 5, 3)
        case("depthtospace_" + mode, "DepthToSpace", [d], [y.reshape(N, Cc // 4, H * b, W * b)],
             attrs={"blocksize": 2, "mode": mode})
    s = rand((2, 3, 4, 6), np.int16)
    N, Cc, H, W = s.shape
    y = s.reshape(N, Cc, H // 2, 2, W // 2, 2).transpose(0, 3, 5, 1, 2, 4)
    case("spacetodepth", "SpaceToDepth", [s], [y.reshape(N, Cc * 4, H // 2, W // 2)],
         attrs={"blocksize": 2})
    case("spacetodepth_bad", "SpaceToDepth", [s], attrs={"blocksize": 5}, error="NNL_ERR_SHAPE")
    # OneHot
    ind = np.array([[1, -1], [5, 0]], np.int64)
    depth, vals = 4, np.array([-1.0, 3.0], np.float32)
    def onehot(ind, depth, vals, axis):
        i = np.trunc(ind).astype(np.int64)
        i = np.where(i < 0, i + depth, i)
        hot = (np.arange(depth) == i[..., None])
        hot = np.moveaxis(hot, -1, axis)
        return np.where(hot, vals[1], vals[0]).astype(vals.dtype)
    for ax in (-1, 0, 1, -3):
        case("onehot_axis%d" % ax, "OneHot", [ind, C(np.array(depth, np.int64)), vals],
             [onehot(ind, depth, vals, ax)], attrs={"axis": ax}, opset=11)
    fi = np.array([0.0, 2.7, -1.2, 9.0], np.float32)
    iv = np.array([0, 5], np.int32)
    case("onehot_float_idx", "OneHot", [fi, C(np.array(3.0, np.float32)), iv],
         [onehot(fi, 3, iv, -1)], opset=11)


def gen_scalars():
    s = np.array(2.5, np.float32)
    case("transpose_scalar", "Transpose", [s], [s])
    case("identity_scalar", "Identity", [s], [s])
    case("tile_scalar", "Tile", [s, C(np.zeros((0,), np.int64))], [s])
    case("pad_scalar", "Pad", [s, C(np.zeros((0,), np.int64))], [s])
    case("slice_scalar", "Slice", [s, C(np.zeros((0,), np.int64)), C(np.zeros((0,), np.int64))],
         [s])
    case("cast_scalar", "Cast", [s], [np.array(2, np.int64)], attrs={"to": 7})
    case("where_scalars", "Where", [np.array(False), s, np.array(-1.0, np.float32)],
         [np.array(-1.0, np.float32)])
    case("expand_scalar", "Expand", [s, i64(2, 2)], [np.full((2, 2), 2.5, np.float32)])
    case("gather_rank0_data", "Gather", [s, np.array(0, np.int64)], error="NNL_ERR_SHAPE")
    case("concat_scalars", "Concat", [s, s], attrs={"axis": 0}, error="NNL_ERR_SHAPE")


def gen_data_dependent():
    x = np.array([[0, 1.5, 0], [-2, 0, np.nan]], np.float32)
    case("nonzero", "NonZero", [C(x)], [np.array(np.nonzero(x), np.int64)])
    b = np.array([[True, False], [True, True]])
    case("nonzero_bool", "NonZero", [C(b)], [np.array(np.nonzero(b), np.int64)])
    case("nonzero_nonconst", "NonZero", [b], error="NNL_ERR_UNSUPPORTED")
    t = np.array([[3, 1, 4, 1, 5, 9, 2, 6], [5, 3, 5, 8, 9, 7, 9, 3]], np.float32)
    def topk(x, k, axis, largest):
        key = -x if largest else x
        idx = np.argsort(key, axis=axis, kind="stable")
        idx = np.take(idx, np.arange(k), axis=axis)
        return [np.take_along_axis(x, idx, axis), idx.astype(np.int64)]
    case("topk_largest", "TopK", [t, i64(3)], topk(t, 3, 1, True), opset=11)
    case("topk_smallest", "TopK", [t, i64(4)], topk(t, 4, -1, False),
         attrs={"largest": 0}, opset=11)
    case("topk_axis0", "TopK", [t, i64(1)], topk(t, 1, 0, True), attrs={"axis": 0}, opset=11)
    ti = rng.randint(-5, 5, size=(3, 20, 2)).astype(np.int32)
    case("topk_int_ties", "TopK", [ti, i64(7)], topk(ti, 7, 1, True), attrs={"axis": -2},
         opset=11)
    case("topk_k0", "TopK", [t, i64(0)], topk(t, 0, 1, True), opset=11)
    case("topk_opset1", "TopK", [t], topk(t, 2, 1, True), attrs={"k": 2}, opset=1)
    case("topk_k_too_big", "TopK", [t, i64(9)], outputs=[t, t], error="NNL_ERR_SHAPE", opset=11)
    u = np.array([2, 1, 1, 3, 4, 3, 2], np.int64)
    def uniq(x, axis, sorted_):
        y, idx, inv, cnt = np.unique(x, return_index=True, return_inverse=True,
                                     return_counts=True, axis=axis)
        if not sorted_:
            order = np.argsort(idx)
            remap = np.empty_like(order)
            remap[order] = np.arange(len(order))
            y = np.take(y, order, axis=0 if axis is None else axis)
            idx, cnt, inv = idx[order], cnt[order], remap[inv]
        return [y, idx.astype(np.int64), inv.reshape(-1).astype(np.int64), cnt.astype(np.int64)]
    case("unique_sorted", "Unique", [C(u)], uniq(u, None, True), opset=11)
    case("unique_unsorted", "Unique", [C(u)], uniq(u, None, False), attrs={"sorted": 0},
         opset=11)
    m = np.array([[1, 0, 0], [1, 0, 0], [2, 3, 4], [0, 5, 1]], np.float32)
    case("unique_axis0", "Unique", [C(m)], uniq(m, 0, True), attrs={"axis": 0}, opset=11)
    m3 = np.array([[[1, 1], [0, 1], [2, 1], [0, 1]], [[1, 1], [0, 1], [2, 1], [0, 1]]],
                  np.int32)
    case("unique_axis_neg", "Unique", [C(m3)], uniq(m3, 1, True), attrs={"axis": -2},
         opset=11)
    case("unique_nonconst", "Unique", [u], outputs=[u], error="NNL_ERR_UNSUPPORTED", opset=11)


def gen_einsum():
    def es(name, eq, shapes, dt=np.float32, tol=1e-5):
        ins = [rand(sh, dt) for sh in shapes]
        ref = np.einsum(eq.replace(" ", ""), *[a.astype(np.float64) for a in ins])
        case(name, "Einsum", ins, [np.asarray(ref).astype(dt)], attrs={"equation": eq},
             opset=12, tol=tol if np.dtype(dt).kind == "f" else 0.0)
    es("einsum_batch_matmul", "bij, bjk -> bik", [(5, 2, 3), (5, 3, 4)], np.float64)
    es("einsum_transpose", "ij->ji", [(3, 4)])
    es("einsum_inner", "i,i", [(5,), (5,)])
    es("einsum_sum_rows", "ij->i", [(3, 4)])
    es("einsum_sum_all", "ij->", [(3, 4)])
    es("einsum_batch_diag", "...ii ->...i", [(3, 5, 5)])
    es("einsum_trace", "ii", [(4, 4)])
    es("einsum_implicit", "ij,jk", [(2, 3), (3, 4)])
    es("einsum_implicit_order", "ba,Ab", [(2, 3), (4, 2)])
    es("einsum_ellipsis_bcast", "...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)])
    es("einsum_three", "ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)])
    es("einsum_int32", "ij,kj->ik", [(3, 4), (2, 4)], np.int32)
    es("einsum_outer", "i,j->ij", [(3,), (4,)], np.float16, tol=1e-3)
    case("einsum_bad_label", "Einsum", [rand((2, 3)), rand((4, 5))], attrs={"equation": "ij,jk"},
         error="NNL_ERR_SHAPE")


def main():
    for g in (gen_reshape, gen_flatten, gen_transpose, gen_slice, gen_split, gen_squeeze,
              gen_concat, gen_shape, gen_gather, gen_scatter, gen_cast, gen_expand_tile,
              gen_where, gen_constant_of_shape, gen_range_eye_trilu, gen_pad, gen_misc,
              gen_scalars, gen_data_dependent, gen_einsum):
        g()
    write_refs("ops_tensor_refs", "gen_tensor_refs.py", CASES, Emitter(prefix="d", per_line=12),
               lambda c: "%s, %r" % (c["error"] or "NNL_OK", c["tol"]))


if __name__ == "__main__":
    main()
