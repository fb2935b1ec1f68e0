#!/usr/bin/python3
"""A small GPT-style decoder with an explicit KV cache, exported as two
graphs that share every weight: prefill (8 tokens, empty cache) and decode
(1 token after a cache of 8).  Writes tests/fixtures/gpt/ and merges the
fixtures into tests/fixtures/MANIFEST.json.

Run with Debian's interpreter (torch 1.13, onnx 1.12):
    /usr/bin/python3 tools/gpt_decoder.py [FIXTURES_DIR]

Model: 2 pre-LayerNorm blocks, d_model 64, 4 heads of 16, MLP 256 with
GELU (erf), vocabulary 100, learned positions (32), untied LM head.
Graph inputs:
    input_ids     int64 [1, T]
    position_ids  int64 [1, T]   absolute positions T_past .. T_past+T-1
    past_k_L, past_v_L  float32 [1, 4, T_past, 16] for layers L = 0, 1
Graph outputs:
    logits        float32 [1, T, 100]
    present_k_L, present_v_L  float32 [1, 4, T_past+T, 16]
Query i may attend to key j iff j <= position_ids[i] (causal); key indices
come from a Range over the concatenated cache length.

Exports: opset 14 (LayerNorm decomposed into ReduceMean/Sub/Pow/Sqrt/Div)
and, as torch 1.13 can, opset 17 (LayerNormalization op).  The decode
case's cache inputs are the prefill case's present outputs, so the two
cases chain like a real generation step.  All initializers are renamed to
the PyTorch parameter they hold (".T" appended when the export stored the
transpose), so both graphs of one opset have identical initializer names
and values.
"""
import math
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_util as fu  # noqa: E402

VOCAB, D, HEADS, LAYERS, MLP, MAX_POS = 100, 64, 4, 2, 256, 32
HEAD_DIM = D // HEADS
T_PREFILL = 8


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D)
        self.qkv = nn.Linear(D, 3 * D)
        self.proj = nn.Linear(D, D)
        self.ln2 = nn.LayerNorm(D)
        self.fc1 = nn.Linear(D, MLP)
        self.fc2 = nn.Linear(MLP, D)

    def forward(self, x, allowed, past_k, past_v):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)

        def heads(y):
            return y.reshape(b, t, HEADS, HEAD_DIM).transpose(1, 2)

        q, k, v = heads(q), heads(k), heads(v)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        s = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(HEAD_DIM))
        s = s.masked_fill(~allowed, float("-inf"))
        a = torch.matmul(torch.softmax(s, dim=-1), v)
        a = a.transpose(1, 2).reshape(b, t, D)
        x = x + self.proj(a)
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        return x, k, v


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, D)
        self.pos = nn.Embedding(MAX_POS, D)
        self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(D)
        self.head = nn.Linear(D, VOCAB, bias=False)

    def forward(self, input_ids, position_ids, *past):
        x = self.tok(input_ids) + self.pos(position_ids)
        t_total = past[0].shape[2] + input_ids.shape[1]
        keys = torch.arange(t_total, device=input_ids.device)
        # [1, 1, T, T_total] so it broadcasts over heads.
        allowed = (keys.view(1, 1, 1, -1) <=
                   position_ids.view(1, 1, -1, 1))
        present = []
        for i, blk in enumerate(self.blocks):
            x, k, v = blk(x, allowed, past[2 * i], past[2 * i + 1])
            present += [k, v]
        return (self.head(self.ln_f(x)),) + tuple(present)


def randomize(model, seed):
    """Random weights at a scale that keeps activations and logits O(1),
    with LayerNorm affine parameters away from 1/0 so a kernel that ignores
    them fails."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".ln" in name or name.startswith("ln"):
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(base + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 2 and ("tok" in name or "pos" in name):
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) /
                        math.sqrt(p.shape[1]))
    return model.eval()


def input_names():
    names = ["input_ids", "position_ids"]
    for i in range(LAYERS):
        names += ["past_k_%d" % i, "past_v_%d" % i]
    return names


def output_names():
    names = ["logits"]
    for i in range(LAYERS):
        names += ["present_k_%d" % i, "present_v_%d" % i]
    return names


def name_initializers_by_value(path, model):
    """Rename each initializer to the parameter it equals (or equals
    transposed, then with '.T').  torch names constant-folded tensors such
    as transposed Linear weights after node numbers, which differ between
    the prefill and decode graphs."""
    params = {n: p.detach().numpy() for n, p in model.named_parameters()}
    m = onnx.load(path)
    rename = {}
    for init in m.graph.initializer:
        a = numpy_helper.to_array(init)
        if init.name in params or a.dtype != np.float32 or a.ndim == 0:
            continue
        for n, p in params.items():
            if a.shape == p.shape and np.array_equal(a, p):
                rename[init.name] = n
                break
            if (a.ndim == 2 and a.shape == p.shape[::-1]
                    and np.array_equal(a, p.T)):
                rename[init.name] = n + ".T"
                break
    taken = {i.name for i in m.graph.initializer}
    for old, new in rename.items():
        if new in taken:
            raise SystemExit("%s: %s would be renamed to existing %s"
                             % (path, old, new))
        taken.add(new)
    for init in m.graph.initializer:
        init.name = rename.get(init.name, init.name)
    for node in m.graph.node:
        for k, x in enumerate(node.input):
            if x in rename:
                node.input[k] = rename[x]
    onnx.save(m, path)


def float_initializers(path):
    m = onnx.load(path)
    return {i.name: numpy_helper.to_array(i) for i in m.graph.initializer
            if i.data_type == onnx.TensorProto.FLOAT and len(i.dims) > 0}


def run(model, ids, pos, past):
    with torch.no_grad():
        outs = model(torch.from_numpy(ids), torch.from_numpy(pos),
                     *[torch.from_numpy(p) for p in past])
    return [o.numpy() for o in outs]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(sys.argv[1] if len(sys.argv) > 1 else
                            os.path.join(here, "..", "tests", "fixtures"))
    fdir = "gpt"
    os.makedirs(os.path.join(root, fdir), exist_ok=True)
    torch.manual_seed(0)
    model = randomize(GPT(), 0)

    rng = np.random.default_rng(11)
    ids = rng.integers(0, VOCAB, size=(1, T_PREFILL + 1), dtype=np.int64)
    empty = np.zeros((1, HEADS, 0, HEAD_DIM), np.float32)
    pre_in = [ids[:, :T_PREFILL], np.arange(T_PREFILL, dtype=np.int64)[None],
              *[empty] * (2 * LAYERS)]
    pre_out = run(model, *pre_in[:2], pre_in[2:])
    dec_in = [ids[:, T_PREFILL:], np.array([[T_PREFILL]], np.int64),
              *pre_out[1:]]
    dec_out = run(model, *dec_in[:2], dec_in[2:])
    # The decode step must reproduce what a full 9-token pass computes for
    # the last token, or the cache plumbing is wrong.
    full = run(model, ids, np.arange(T_PREFILL + 1, dtype=np.int64)[None],
               [empty] * (2 * LAYERS))
    err = np.abs(full[0][:, -1:] - dec_out[0]).max()
    print("decode vs full-sequence last logits: max diff %.3g" % err)
    assert err < 1e-4, err

    ins, outs = input_names(), output_names()
    cases = {}
    for case, xs, ys in (("prefill", pre_in, pre_out),
                         ("decode", dec_in, dec_out)):
        cases[case] = fu.save_case(root, fdir, case, list(zip(ins, xs)),
                                   list(zip(outs, ys)))
        print("%-8s" % case, " ".join(
            "%s%s max|ref| %.4g" % (o["name"], tuple(o["shape"]),
                                    o["max_abs"])
            for o in cases[case]["outputs"]))

    recs = []
    for opset in (14, 17):
        files = {}
        for case, xs in (("prefill", pre_in), ("decode", dec_in)):
            tag = "" if opset == 14 else "_op%d" % opset
            rel = os.path.join(fdir, "%s%s.onnx" % (case, tag))
            path = os.path.join(root, rel)
            try:
                with torch.no_grad():
                    torch.onnx.export(
                        model, tuple(torch.from_numpy(x) for x in xs), path,
                        input_names=ins, output_names=outs,
                        opset_version=opset, do_constant_folding=True)
            except Exception as e:  # opset 17 is new in torch 1.13
                print("opset %d export failed: %s" % (opset, e))
                files = None
                break
            name_initializers_by_value(path, model)
            om = fu.check_onnx(path)
            print("gpt_%s%s ops:" % (case, tag), fu.op_histogram(om))
            files[case] = (rel, om)
        if files is None:
            continue
        a = float_initializers(os.path.join(root, files["prefill"][0]))
        b = float_initializers(os.path.join(root, files["decode"][0]))
        shared = sorted(n for n in set(a) & set(b)
                        if a[n].shape == b[n].shape
                        and np.array_equal(a[n], b[n]))
        clash = sorted(n for n in set(a) & set(b) if n not in shared)
        nparam = sum(1 for _ in model.parameters())
        print("opset %d: %d weight initializers shared, %d same name with "
              "different value, prefill-only %s, decode-only %s"
              % (opset, len(shared), len(clash), sorted(set(a) - set(b)),
                 sorted(set(b) - set(a))))
        if clash or len(shared) < nparam:
            raise SystemExit("gpt opset %d: expected all %d parameters "
                             "shared by name and value" % (opset, nparam))
        for case in ("prefill", "decode"):
            rel, om = files[case]
            tag = "" if opset == 14 else "_op%d" % opset
            rec = {"name": "gpt_%s%s" % (case, tag), "onnx": rel,
                   "opset": opset, "inputs": ins, "outputs": outs,
                   "tolerance": fu.tolerance_for(cases[case]["outputs"]),
                   "cases": [cases[case]], "group": "gpt%s" % tag,
                   "shared_initializers": shared,
                   "ops": fu.op_histogram(om),
                   "notes": ("GPT decoder %s step; decode's cache inputs "
                             "are prefill's present outputs. Prefill's "
                             "past_* inputs are empty (T_past = 0)."
                             % case)}
            recs.append(rec)
    fu.update_manifest(os.path.join(root, "MANIFEST.json"), recs)
    print("gpt directory: %.2f MB" %
          (fu.dir_size(os.path.join(root, fdir)) / 1e6))


if __name__ == "__main__":
    main()
