#!/usr/bin/python3
"""Generate the reference cases of tests/test_ops_extra.c.

Each case is one call of an op of the extra table (ops_extra.c): inputs,
attributes, opset and the outputs PyTorch or numpy computes, independently
of the C code.  The C arrays go to tests/refs/ops_extra_refs.inc
(tools/gen_refs_util.py), which tests/test_ops_extra.c includes:

    /usr/bin/python3 tools/gen_extra_refs.py

Recurrent layers come from torch.nn.LSTM / GRU / RNN with their weights
re-ordered into ONNX's gate order (torch i,f,g,o -> ONNX i,o,f,c; torch
r,z,n -> ONNX z,r,h, torch's GRU being linear_before_reset=1); sequence
lengths go through pack_padded_sequence.  Peepholes and
linear_before_reset=0, which torch lacks, use a numpy transcription of the
ONNX equations.  GridSample comes from F.grid_sample, the losses from
F.nll_loss / F.cross_entropy, LRN from F.local_response_norm (odd sizes,
where torch's window equals ONNX's), quantization from numpy with the ONNX
formulas, cross-checked against torch.quantize_per_tensor.

Inputs wrapped in K(...) are constants (they carry data at infer time).
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from gen_refs_util import Emitter, K, write_refs

rng = np.random.RandomState(11)
torch.manual_seed(11)
CASES = []


def case(name, op, inputs, outputs, attrs=None, opset=17, tol=1e-4):
    CASES.append(dict(name=name, op=op, inputs=inputs, outputs=outputs, attrs=attrs or {},
                      opset=opset, tol=tol))


def f32(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def n(x):
    return x.detach().numpy().astype(np.float32)


# ---- recurrent layers ---------------------------------------------------------------

def reorder(w, order, H):
    """Gate blocks of a [G*H, ...] torch tensor into ONNX order."""
    return np.concatenate([w[i * H:(i + 1) * H] for i in order], axis=0)


TORCH_TO_ONNX = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2], "RNN": [0]}


def torch_rnn(op, I, H, S, B, bidir=False, batch_first=False, lens=None, init=False, bias=True):
    cls = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU, "RNN": torch.nn.RNN}[op]
    m = cls(I, H, bidirectional=bidir, batch_first=batch_first, bias=bias)
    nd = 2 if bidir else 1
    order = TORCH_TO_ONNX[op]
    W, R, Bs = [], [], []
    for d in range(nd):
        sfx = "_reverse" if d else ""
        W.append(reorder(n(getattr(m, "weight_ih_l0" + sfx)), order, H))
        R.append(reorder(n(getattr(m, "weight_hh_l0" + sfx)), order, H))
        if bias:
            Bs.append(np.concatenate([reorder(n(getattr(m, "bias_ih_l0" + sfx)), order, H),
                                      reorder(n(getattr(m, "bias_hh_l0" + sfx)), order, H)]))
    x = f32(B, S, I) if batch_first else f32(S, B, I)
    h0 = f32(nd, B, H) if init else np.zeros((nd, B, H), np.float32)
    c0 = f32(nd, B, H) if init else np.zeros((nd, B, H), np.float32)
    state = (t(h0), t(c0)) if op == "LSTM" else t(h0)
    with torch.no_grad():
        if lens is not None:
            packed = torch.nn.utils.rnn.pack_padded_sequence(
                t(x), torch.tensor(lens), batch_first=batch_first, enforce_sorted=False)
            out, st = m(packed, state)
            out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first,
                                                            total_length=S)
        else:
            out, st = m(t(x), state)
    out = n(out)
    if batch_first:
        y = out.reshape(B, S, nd, H)
    else:
        y = out.reshape(S, B, nd, H).transpose(0, 2, 1, 3)
    hn = n(st[0] if op == "LSTM" else st)
    cn = n(st[1]) if op == "LSTM" else None
    return dict(x=x, W=np.stack(W), R=np.stack(R), B=np.stack(Bs) if bias else None, h0=h0,
                c0=c0, y=np.ascontiguousarray(y), hn=hn, cn=cn)


def rnn_case(name, op, I, H, S, B, bidir=False, layout=0, lens=None, init=False, bias=True,
             attrs=None):
    r = torch_rnn(op, I, H, S, B, bidir, layout == 1, lens, init, bias)
    nd = 2 if bidir else 1
    a = dict(attrs or {})
    a["hidden_size"] = H
    if bidir:
        a["direction"] = "bidirectional"
    if layout:
        a["layout"] = 1
    if op == "GRU":
        a["linear_before_reset"] = 1
    st = lambda v: np.ascontiguousarray(v.transpose(1, 0, 2)) if layout else v
    ins = [r["x"], K(r["W"]), K(r["R"]), None if r["B"] is None else K(r["B"]),
           None if lens is None else np.array(lens, np.int32), st(r["h0"]) if init else None]
    outs = [r["y"], st(r["hn"])]
    if op == "LSTM":
        ins.append(st(r["c0"]) if init else None)
        outs.append(st(r["cn"]))
    while ins and ins[-1] is None:
        ins.pop()
    case(name, op, ins, outs, a, opset=14 if layout else 7 if op != "GRU" else 7, tol=1e-4)


def reverse_case(name, op, I, H, S, B):
    """direction=reverse: the backward half of a torch bidirectional layer."""
    r = torch_rnn(op, I, H, S, B, bidir=True, init=True)
    a = {"hidden_size": H, "direction": "reverse"}
    if op == "GRU":
        a["linear_before_reset"] = 1
    ins = [r["x"], K(r["W"][1:]), K(r["R"][1:]), K(r["B"][1:]), None, r["h0"][1:]]
    outs = [np.ascontiguousarray(r["y"][:, 1:]), r["hn"][1:]]
    if op == "LSTM":
        ins.append(r["c0"][1:])
        outs.append(r["cn"][1:])
    case(name, op, ins, outs, a, opset=7)


def sig(v):
    return 1 / (1 + np.exp(-v))


def np_lstm_peep(x, W, R, B, P, h, c):
    """ONNX LSTM equations, forward, one direction, float64."""
    H = R.shape[-1]
    ys = []
    for xt in x:
        g = xt @ W.T + h @ R.T + B[:4 * H] + B[4 * H:]
        i = sig(g[:, :H] + P[:H] * c)
        f = sig(g[:, 2 * H:3 * H] + P[2 * H:] * c)
        c = f * c + i * np.tanh(g[:, 3 * H:])
        o = sig(g[:, H:2 * H] + P[H:2 * H] * c)
        h = o * np.tanh(c)
        ys.append(h)
    return np.stack(ys)[:, None], h[None], c[None]


def np_gru_lbr0(x, W, R, B, h):
    H = R.shape[-1]
    ys = []
    for xt in x:
        z = sig(xt @ W[:H].T + h @ R[:H].T + B[:H] + B[3 * H:4 * H])
        r = sig(xt @ W[H:2 * H].T + h @ R[H:2 * H].T + B[H:2 * H] + B[4 * H:5 * H])
        hh = np.tanh(xt @ W[2 * H:].T + (r * h) @ R[2 * H:].T + B[5 * H:] + B[2 * H:3 * H])
        h = (1 - z) * hh + z * h
        ys.append(h)
    return np.stack(ys)[:, None], h[None]


def gen_rnn():
    rnn_case("lstm_fwd", "LSTM", 5, 4, 6, 3)
    rnn_case("lstm_bidir_init", "LSTM", 5, 4, 6, 3, bidir=True, init=True)
    rnn_case("lstm_layout1_bidir", "LSTM", 3, 5, 4, 2, bidir=True, layout=1, init=True)
    rnn_case("lstm_seq_lens_bidir", "LSTM", 4, 3, 5, 3, bidir=True, lens=[5, 2, 3], init=True)
    rnn_case("lstm_no_bias_h17", "LSTM", 9, 17, 3, 2, bias=False)
    rnn_case("gru_fwd", "GRU", 5, 4, 6, 3)
    rnn_case("gru_bidir_seq_lens", "GRU", 4, 6, 5, 3, bidir=True, lens=[1, 5, 4], init=True)
    rnn_case("gru_layout1", "GRU", 3, 4, 4, 2, layout=1, init=True)
    rnn_case("rnn_fwd", "RNN", 5, 4, 6, 3)
    rnn_case("gru_big_bidir", "GRU", 16, 40, 7, 8, bidir=True, init=True)
    rnn_case("rnn_bidir_seq_lens_layout1", "RNN", 3, 4, 5, 2, bidir=True, layout=1,
             lens=[3, 5], init=True)
    reverse_case("lstm_reverse", "LSTM", 4, 3, 5, 2)
    reverse_case("gru_reverse", "GRU", 4, 3, 5, 2)
    reverse_case("rnn_reverse", "RNN", 4, 3, 5, 2)

    I, H, S, B = 4, 3, 5, 2
    x, W, R, Bb, P = f32(S, B, I), f32(1, 4 * H, I), f32(1, 4 * H, H), f32(1, 8 * H), f32(1, 3 * H)
    h0, c0 = f32(1, B, H), f32(1, B, H)
    y, hn, cn = np_lstm_peep(x.astype(np.float64), W[0], R[0], Bb[0], P[0], h0[0], c0[0])
    case("lstm_peepholes", "LSTM", [x, K(W), K(R), K(Bb), None, h0, c0, K(P)],
         [y.astype(np.float32), hn.astype(np.float32), cn.astype(np.float32)],
         {"hidden_size": H}, opset=7)
    x, W, R, Bb = f32(S, B, I), f32(1, 3 * H, I), f32(1, 3 * H, H), f32(1, 6 * H)
    y, hn = np_gru_lbr0(x.astype(np.float64), W[0], R[0], Bb[0], h0[0])
    case("gru_lbr0", "GRU", [x, K(W), K(R), K(Bb), None, h0],
         [y.astype(np.float32), hn.astype(np.float32)], {"hidden_size": H}, opset=7)
    # Empty sequence: Y is empty, Y_h is the initial state.
    x = np.zeros((0, 2, 3), np.float32)
    W, R = f32(1, 4 * H, 3), f32(1, 4 * H, H)
    case("lstm_seq0", "LSTM", [x, K(W), K(R), None, None, h0, c0],
         [np.zeros((0, 1, 2, H), np.float32), h0, c0], {"hidden_size": H}, opset=7)


# ---- quantization -------------------------------------------------------------------

def np_quant(x, scale, zp, dt, axis=1):
    lo, hi = (0, 255) if dt == np.uint8 else (-128, 127)
    if np.ndim(scale) == 1 and np.size(scale) > 1:
        shape = [1] * x.ndim
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    q = np.rint(x / scale) + zp.astype(np.float32)
    return np.clip(q, lo, hi).astype(dt)


def gen_quant():
    x = f32(2, 3, 4, lo=-3, hi=3)
    s, z = np.float32(0.025), np.uint8(128)
    q = np_quant(x, s, z, np.uint8)
    tq = torch.quantize_per_tensor(t(x), float(s), int(z), torch.quint8).int_repr().numpy()
    assert (tq == q).all(), "torch and numpy quantization disagree"
    case("quant_u8_tensor", "QuantizeLinear", [x, K(np.array(s)), K(np.array(z))], [q], opset=13)
    # Saturation and ties to even: 2.5 -> 2, 3.5 -> 4, -2.5 -> -2 in scale units.
    x = np.array([0.5, 1.5, 2.5, 3.5, -2.5, -0.5, 1000, -1000, 0.49], np.float32)
    s8, z8 = np.float32(1.0), np.int8(-3)
    case("quant_i8_ties_saturate", "QuantizeLinear", [x, K(np.array(s8)), K(np.array(z8))],
         [np_quant(x, s8, z8, np.int8)], opset=13)
    case("quant_no_zp", "QuantizeLinear", [x, K(np.array(np.float32(0.5)))],
         [np_quant(x, np.float32(0.5), np.uint8(0), np.uint8)], opset=10)
    x = f32(2, 3, 4)
    sa, za = np.array([0.01, 0.02, 0.05], np.float32), np.array([0, 10, -5], np.int8)
    case("quant_per_axis1", "QuantizeLinear", [x, K(sa), K(za)], [np_quant(x, sa, za, np.int8)],
         opset=13)
    sb, zb = np.array([0.01, 0.02, 0.03, 0.04], np.float32), np.array([1, 2, 3, 200], np.uint8)
    case("quant_per_axis_last", "QuantizeLinear", [x, K(sb), K(zb)],
         [np_quant(x, sb, zb, np.uint8, axis=2)], {"axis": -1}, opset=13)
    qa = rng.randint(0, 256, size=(2, 3, 4)).astype(np.uint8)
    za = np.array([0, 128, 255], np.uint8)
    case("dequant_per_axis", "DequantizeLinear", [qa, K(sa), K(za)],
         [((qa.astype(np.float32) - za.reshape(1, 3, 1)) * sa.reshape(1, 3, 1))], opset=13)
    qi = rng.randint(-128, 128, size=(5, 2)).astype(np.int8)
    case("dequant_i8_tensor", "DequantizeLinear", [qi, K(np.array(np.float32(0.1))),
                                                    K(np.array(np.int8(-7)))],
         [(qi.astype(np.float32) + 7) * np.float32(0.1)], opset=13)
    q32 = rng.randint(-100000, 100000, size=(6,)).astype(np.int32)
    case("dequant_i32_bias", "DequantizeLinear", [q32, K(np.array(np.float32(0.003)))],
         [q32.astype(np.float32) * np.float32(0.003)], opset=13)
    for name, x in (("dynquant_mixed", f32(3, 5, lo=-1, hi=4)),
                    ("dynquant_positive", f32(7, lo=0.5, hi=2)),
                    ("dynquant_negative", f32(2, 4, lo=-6, hi=-1))):
        mn, mx = np.minimum(np.float32(0), x.min()), np.maximum(np.float32(0), x.max())
        scale = np.float32((mx - mn) / np.float32(255))
        zp = np.uint8(np.rint(np.clip(np.float32(0) - mn / scale, 0, 255)))
        y = np.clip(np.rint(x / scale) + np.float32(zp), 0, 255).astype(np.uint8)
        case(name, "DynamicQuantizeLinear", [x], [y, np.array(scale), np.array(zp)], opset=11)


# ---- LRN, ReverseSequence -----------------------------------------------------------

def np_lrn(x, size, alpha, beta, bias):
    C = x.shape[1]
    sq = np.zeros_like(x, dtype=np.float64)
    for c in range(C):
        lo, hi = max(0, c - (size - 1) // 2), min(C - 1, c + math.ceil((size - 1) / 2))
        sq[:, c] = (x[:, lo:hi + 1].astype(np.float64) ** 2).sum(axis=1)
    return (x / (bias + alpha / size * sq) ** beta).astype(np.float32)


def gen_misc():
    x = f32(2, 7, 3, 4)
    y = n(F.local_response_norm(t(x), 5, alpha=1e-2, beta=0.6, k=2.0))
    case("lrn_size5_torch", "LRN", [x], [y], {"size": 5, "alpha": 1e-2, "beta": 0.6, "bias": 2.0})
    x = f32(1, 6, 5)
    case("lrn_size4_even", "LRN", [x], [np_lrn(x, 4, 1e-1, 0.75, 1.0)],
         {"size": 4, "alpha": 1e-1})
    x = f32(4, 3, 2)
    lens = np.array([4, 1, 3], np.int64)
    y = x.copy()
    for b, L in enumerate(lens):
        y[:L, b] = x[:L, b][::-1]
    case("revseq_time0", "ReverseSequence", [x, lens], [y], {"time_axis": 0, "batch_axis": 1},
         opset=10)
    xi = rng.randint(0, 100, size=(3, 5)).astype(np.int64)
    lens = np.array([0, 5, 2], np.int64)
    y = xi.copy()
    for b, L in enumerate(lens):
        y[b, :L] = xi[b, :L][::-1]
    case("revseq_batch0_int64", "ReverseSequence", [xi, lens], [y],
         {"time_axis": 1, "batch_axis": 0}, opset=10)


def gen_unpool():
    # torch numbers indices per (n, c) plane; ONNX over the whole output.
    for name, hw, size in (("maxunpool_default", (6, 6), None),
                           ("maxunpool_output_shape", (7, 7), (7, 7))):
        x = f32(2, 3, *hw)
        v, i = F.max_pool2d(t(x), 2, stride=2, return_indices=True)
        y = F.max_unpool2d(v, i, 2, stride=2, output_size=size)
        H, W = y.shape[2:]
        plane = np.arange(2 * 3).reshape(2, 3, 1, 1) * H * W
        ins = [n(v), i.numpy() + plane]
        if size:
            ins.append(K(np.array([2, 3, H, W], np.int64)))
        case(name, "MaxUnpool", ins, [n(y)], {"kernel_shape": [2, 2], "strides": [2, 2]},
             opset=11)


# ---- GridSample ---------------------------------------------------------------------

def gen_grid():
    x = f32(2, 3, 5, 6)
    # Points beyond [-1, 1] exercise the padding modes.
    g = f32(2, 4, 7, 2, lo=-1.4, hi=1.4)
    for mode in ("bilinear", "nearest", "bicubic"):
        for pad in ("zeros", "border", "reflection"):
            for ac in (0, 1):
                y = n(F.grid_sample(t(x), t(g), mode=mode, padding_mode=pad, align_corners=bool(ac)))
                case("grid_%s_%s_ac%d" % (mode, pad, ac), "GridSample", [x, g], [y],
                     {"mode": mode, "padding_mode": pad, "align_corners": ac}, opset=16)
    x = f32(1, 2, 3, 4)
    g = f32(1, 5, 5, 2, lo=-1, hi=1)
    y = n(F.grid_sample(t(x), t(g), mode="bilinear", padding_mode="zeros", align_corners=False))
    case("grid_defaults", "GridSample", [x, g], [y], {}, opset=16)
    y = n(F.grid_sample(t(x), t(g), mode="bicubic", padding_mode="border", align_corners=True))
    case("grid_opset20_cubic", "GridSample", [x, g], [y],
         {"mode": "cubic", "padding_mode": "border", "align_corners": 1}, opset=20)


# ---- losses -------------------------------------------------------------------------

def gen_loss():
    N, C = 4, 5
    for dims in ((), (3,), (2, 3)):
        x = f32(N, C, *dims)
        tg = rng.randint(0, C, size=(N,) + dims).astype(np.int64)
        w = f32(C, lo=0.2, hi=2.0)
        tag = "d%d" % len(dims)
        lp = F.log_softmax(t(x), dim=1)
        for red in ("none", "sum", "mean"):
            y = n(F.nll_loss(t(x), t(tg), reduction=red))
            case("nll_%s_%s" % (tag, red), "NegativeLogLikelihoodLoss", [x, tg], [y],
                 {"reduction": red}, opset=13)
            y = n(F.nll_loss(t(x), t(tg), weight=t(w), reduction=red))
            case("nll_%s_%s_weight" % (tag, red), "NegativeLogLikelihoodLoss", [x, tg, K(w)],
                 [y], {"reduction": red}, opset=13)
            y = n(F.cross_entropy(t(x), t(tg), weight=t(w), reduction=red))
            case("sce_%s_%s_weight" % (tag, red), "SoftmaxCrossEntropyLoss", [x, tg, K(w)],
                 [y, n(lp)], {"reduction": red}, opset=13)
        ti = tg.copy()
        ti.reshape(-1)[::3] = -1
        for red in ("none", "mean"):
            y = n(F.nll_loss(t(x), t(ti), weight=t(w), ignore_index=-1, reduction=red))
            case("nll_%s_%s_ii" % (tag, red), "NegativeLogLikelihoodLoss", [x, ti, K(w)], [y],
                 {"reduction": red, "ignore_index": -1}, opset=13)
            y = n(F.cross_entropy(t(x), t(ti), ignore_index=-1, reduction=red))
            case("sce_%s_%s_ii" % (tag, red), "SoftmaxCrossEntropyLoss", [x, ti], [y],
                 {"reduction": red, "ignore_index": -1}, opset=13)
    # int32 targets, default reduction (mean), an ignore_index that is a class
    x = f32(6, 3)
    tg = rng.randint(0, 3, size=(6,)).astype(np.int32)
    y = n(F.cross_entropy(t(x), t(tg.astype(np.int64)), ignore_index=1))
    case("sce_int32_ii_class", "SoftmaxCrossEntropyLoss", [x, tg], [y], {"ignore_index": 1},
         opset=13)


# ---- integer matmul / conv, Det, windows ---------------------------------------------

def np_requant(acc, mult, zp, dt):
    lo, hi = (0, 255) if dt == np.uint8 else (-128, 127)
    return np.clip(np.rint(acc.astype(np.float64) * np.float64(mult)) + int(zp), lo, hi).astype(dt)


def gen_qlinear():
    a = rng.randint(0, 256, size=(2, 3, 5)).astype(np.uint8)
    b = rng.randint(-128, 128, size=(5, 4)).astype(np.int8)
    za, zb = np.uint8(131), np.int8(-4)
    acc = np.matmul(a.astype(np.int32) - int(za), b.astype(np.int32) - int(zb))
    case("matmulinteger_bcast", "MatMulInteger", [a, K(b), K(np.array(za)), K(np.array(zb))],
         [acc.astype(np.int32)], opset=10)
    a2 = rng.randint(0, 256, size=(3, 6)).astype(np.uint8)
    b2 = rng.randint(0, 256, size=(6, 4)).astype(np.uint8)
    zra = np.array([1, 100, 200], np.uint8)
    zcb = np.array([0, 50, 128, 255], np.uint8)
    acc = (a2.astype(np.int32) - zra[:, None]) @ (b2.astype(np.int32) - zcb[None, :])
    case("matmulinteger_row_col_zp", "MatMulInteger", [a2, b2, zra, zcb], [acc.astype(np.int32)],
         opset=10)
    v = rng.randint(-128, 128, size=(6,)).astype(np.int8)
    acc = v.astype(np.int32) @ b2.astype(np.int32)
    case("matmulinteger_vec_no_zp", "MatMulInteger", [v, b2], [acc.astype(np.int32)], opset=10)
    sa, sb, sy = np.float32(0.02), np.array([0.01, 0.03, 0.02, 0.05], np.float32), np.float32(0.4)
    zy = np.uint8(120)
    acc = (a2.astype(np.int32) - 7) @ (b2.astype(np.int32) - zcb[None, :])
    mult = (sa * sb / sy).astype(np.float32)
    y = np.clip(np.rint(acc * mult.astype(np.float64)) + 120, 0, 255).astype(np.uint8)
    case("qlinearmatmul_per_col", "QLinearMatMul",
         [a2, K(np.array(sa)), K(np.array(np.uint8(7))), K(b2), K(sb), K(zcb), K(np.array(sy)),
          K(np.array(zy))], [y], opset=10)

    x = rng.randint(0, 256, size=(2, 4, 6, 5)).astype(np.uint8)
    w = rng.randint(-128, 128, size=(6, 2, 3, 3)).astype(np.int8)
    zx, zw = np.uint8(128), np.array([0, 1, -1, 2, -2, 3], np.int8)
    xf = torch.from_numpy(x.astype(np.float64) - int(zx))
    wf = torch.from_numpy(w.astype(np.float64) - zw.astype(np.float64)[:, None, None, None])
    acc = F.conv2d(xf, wf, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2).numpy()
    acc = np.rint(acc).astype(np.int32)
    attrs = {"strides": [2, 1], "pads": [1, 2, 1, 2], "dilations": [1, 2], "group": 2}
    case("convinteger_grouped", "ConvInteger", [x, K(w), K(np.array(zx)), K(zw)], [acc], attrs,
         opset=10)
    bias = rng.randint(-500, 500, size=(6,)).astype(np.int32)
    sx, sy = np.float32(0.05), np.float32(0.7)
    sw = np.array([0.01, 0.02, 0.03, 0.01, 0.02, 0.015], np.float32)
    mult = (sx * sw / sy).astype(np.float32)
    yq = np.clip(np.rint((acc.astype(np.float64) + bias[None, :, None, None]) *
                         mult.astype(np.float64)[None, :, None, None]) - 10, -128, 127).astype(np.int8)
    case("qlinearconv_per_channel", "QLinearConv",
         [x, K(np.array(sx)), K(np.array(zx)), K(w), K(sw), K(zw), K(np.array(sy)),
          K(np.array(np.int8(-10))), K(bias)], [yq], attrs, opset=10)


def gen_det_window():
    x = f32(3, 2, 4, 4)
    case("det_batched", "Det", [x], [np.linalg.det(x.astype(np.float64)).astype(np.float32)],
         opset=11)
    s = np.array([[1, 2], [2, 4]], np.float32)
    case("det_singular", "Det", [s], [np.array(0, np.float32)], opset=11)
    conf = "/work/shared/onnx-conformance/node"
    for op, f in (("HannWindow", lambda a: 0.5 - 0.5 * np.cos(a)),
                  ("HammingWindow", lambda a: 25 / 46 - 21 / 46 * np.cos(a)),
                  ("BlackmanWindow", lambda a: 0.42 - 0.5 * np.cos(a) + 0.08 * np.cos(2 * a))):
        for periodic in (1, 0):
            size = 10
            N = size if periodic else size - 1
            w = f(2 * np.pi * np.arange(size) / N).astype(np.float32)
            # Cross-check against the ONNX conformance outputs when present.
            d = os.path.join(conf, "test_%s%s" % (op.lower(), "" if periodic else "_symmetric"),
                             "test_data_set_0", "output_0.pb")
            if os.path.exists(d):
                import onnx.numpy_helper
                import onnx
                ref = onnx.numpy_helper.to_array(onnx.load_tensor(d))
                assert np.allclose(ref, w, rtol=1e-3, atol=1e-4), op  # ONNX computes in float32
            case("%s_p%d" % (op.lower(), periodic), op, [K(np.array(size, np.int64))], [w],
                 {"periodic": periodic}, opset=17)


# ---- RoiAlign -----------------------------------------------------------------------

def gen_roi():
    from torchvision.ops import roi_align
    x = f32(2, 3, 9, 11)
    rois = np.array([[0.5, 1.0, 6.3, 7.9], [2.0, 0.0, 10.5, 3.0], [-2.0, -1.0, 4.0, 12.0],
                     [3.3, 3.3, 3.6, 3.5], [1.0, 2.0, 20.0, 14.0]], np.float32)
    bi = np.array([0, 1, 1, 0, 1], np.int64)
    boxes = t(np.concatenate([bi[:, None].astype(np.float32), rois], axis=1))
    for aligned in (False, True):
        for sr, scale in ((2, 1.0), (0, 0.5)):
            y = n(roi_align(t(x), boxes, (3, 4), spatial_scale=scale, sampling_ratio=sr,
                            aligned=aligned))
            mode = "half_pixel" if aligned else "output_half_pixel"
            case("roialign_%s_sr%d" % (mode, sr), "RoiAlign", [x, rois, bi], [y],
                 {"coordinate_transformation_mode": mode, "output_height": 3, "output_width": 4,
                  "sampling_ratio": sr, "spatial_scale": float(scale)}, opset=16)
    y = n(roi_align(t(x), boxes, (1, 1), spatial_scale=1.0, sampling_ratio=0, aligned=False))
    case("roialign_opset10_defaults", "RoiAlign", [x, rois, bi], [y], {}, opset=10)


# ---- DFT, STFT ----------------------------------------------------------------------

def cplx(z):
    return np.stack([z.real, z.imag], axis=-1).astype(np.float32)


def gen_dft():
    x = f32(2, 6, 3, 1)
    case("dft_real_axis1", "DFT", [x], [cplx(np.fft.fft(x[..., 0].astype(np.float64), axis=1))],
         {"axis": 1}, opset=17)
    z = f32(1, 5, 2)
    zc = z[..., 0].astype(np.float64) + 1j * z[..., 1]
    case("dft_inverse_complex", "DFT", [z], [cplx(np.fft.ifft(zc, axis=1))],
         {"axis": 1, "inverse": 1}, opset=17)
    case("dft_onesided_pad8", "DFT", [x, K(np.array(8, np.int64))],
         [cplx(np.fft.rfft(x[..., 0].astype(np.float64), n=8, axis=1))],
         {"axis": 1, "onesided": 1}, opset=17)
    case("dft_truncate4_axis2", "DFT", [x, K(np.array(2, np.int64))],
         [cplx(np.fft.fft(x[..., 0].astype(np.float64), n=2, axis=2))], {"axis": -2}, opset=17)
    case("dft_opset20_axis_input", "DFT", [x, None, K(np.array(1, np.int64))],
         [cplx(np.fft.fft(x[..., 0].astype(np.float64), axis=1))], {}, opset=20)
    sig = f32(2, 60, 1)
    win = torch.hann_window(16, dtype=torch.float64)
    ref = torch.stft(t(sig[..., 0].astype(np.float64)), n_fft=16, hop_length=5, window=win,
                     center=False, onesided=True, return_complex=True)
    case("stft_hann_onesided", "STFT", [sig, K(np.array(5, np.int64)), K(n(win))],
         [cplx(ref.numpy().transpose(0, 2, 1))], {}, opset=17)
    ref = torch.stft(t(sig[..., 0].astype(np.float64)), n_fft=12, hop_length=7,
                     window=torch.ones(12, dtype=torch.float64), center=False, onesided=False,
                     return_complex=True)
    case("stft_frame_length_twosided", "STFT",
         [sig, K(np.array(7, np.int64)), None, K(np.array(12, np.int64))],
         [cplx(ref.numpy().transpose(0, 2, 1))], {"onesided": 0}, opset=17)


def main():
    for g in (gen_rnn, gen_quant, gen_misc, gen_grid, gen_loss, gen_qlinear, gen_det_window, gen_roi, gen_dft, gen_unpool):
        g()
    write_refs("ops_extra_refs", "gen_extra_refs.py", CASES, Emitter(), lambda c: "%g" % c["tol"])


if __name__ == "__main__":
    main()
