"""Shared helpers for the fixture and model export scripts.

Untrained torchvision networks keep BatchNorm's default running statistics
(mean 0, variance 1), which leaves deep networks' outputs near 1e-9 so that a
wrong answer near zero would "match".  reestimate_bn() replaces those
statistics with ones measured on random batches, which keeps every layer's
activations at unit scale in eval mode.

Manifests are JSON files that list each fixture (one ONNX graph) with its
cases (input and output .npy files, shapes, dtypes) and a tolerance.  Paths
inside a manifest are relative to the manifest's own directory.
"""
import json
import os

import numpy as np
import onnx
import torch


def reestimate_bn(model, make_batch, passes=4):
    """Re-measure every BatchNorm's running statistics.

    make_batch(i) returns the i-th positional-argument tuple for a train-mode
    forward pass.  momentum=None makes the running statistics the plain
    average over the passes instead of an exponential one, so a few passes
    are enough.  Returns the model in eval mode.
    """
    bns = [m for m in model.modules()
           if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return model.eval()
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    with torch.no_grad():
        for i in range(passes):
            model(*make_batch(i))
    return model.eval()


def _weighted_layers_in_call_order(model, args):
    order, hooks = [], []
    for m in model.modules():
        if isinstance(m, (torch.nn.Linear, torch.nn.modules.conv._ConvNd)):
            hooks.append(m.register_forward_hook(
                lambda mod, i, o: order.append(mod)))
    try:
        with torch.no_grad():
            out = model(*args)
    finally:
        for h in hooks:
            h.remove()
    return order, out


def fix_degenerate_init(model):
    """Undo initialisations that make part of a random network invisible in
    its output: all-zero Linear/Conv weights (ViT's classifier head) become
    He-normal, and ConvNeXt-style layer_scale parameters (1e-6, which
    scales whole residual branches to nothing) become 1."""
    with torch.no_grad():
        for name, m in model.named_modules():
            w = getattr(m, "weight", None)
            if (isinstance(m, (torch.nn.Linear,
                               torch.nn.modules.conv._ConvNd))
                    and w is not None and not w.any()):
                torch.nn.init.kaiming_normal_(w, nonlinearity="relu")
        for name, p in model.named_parameters():
            if name.split(".")[-1] == "layer_scale":
                p.fill_(1.0)
    return model


def rescale_output(model, args, out_fn=lambda y: y, lo=0.3, hi=30.0):
    """Scale the last-called Linear/Conv so the output's standard deviation
    is 1 when it is outside [lo, hi].  Exact when everything after that
    layer is positively homogeneous (ReLU, pooling, flatten, bilinear
    resize), as in torchvision's classifiers and segmentation heads.
    Returns the factor applied (1 when none was needed)."""
    order, y = _weighted_layers_in_call_order(model, args)
    sd = float(out_fn(y).std())
    if lo <= sd <= hi or sd == 0.0 or not order:
        return 1.0
    last = order[-1]
    with torch.no_grad():
        last.weight.mul_(1.0 / sd)
        if last.bias is not None:
            last.bias.mul_(1.0 / sd)
    return 1.0 / sd


def normal_batches(shape, seed):
    """make_batch for reestimate_bn: seeded standard-normal float32 images."""
    def make(i):
        g = torch.Generator().manual_seed(seed * 1000 + i)
        return (torch.randn(shape, generator=g),)
    return make


def conv_call_order(model, args):
    """Qualified names of the model's Conv modules in the order a forward
    pass calls them (which is the order torch.onnx.export emits them)."""
    names = {m: n for n, m in model.named_modules()}
    order, hooks = [], []
    for m in names:
        if isinstance(m, torch.nn.modules.conv._ConvNd):
            hooks.append(m.register_forward_hook(
                lambda mod, i, o: order.append(names[mod])))
    try:
        with torch.no_grad():
            model(*args)
    finally:
        for h in hooks:
            h.remove()
    return order


def name_conv_initializers(path, conv_names):
    """Rename the weight and bias initializers of the ONNX file's Conv nodes
    to '<module>.weight' / '<module>.bias'.

    torch.onnx.export folds each BatchNorm into its conv and names the new
    tensors after node numbers ('onnx::Conv_141'), which shift whenever any
    other part of the model changes; module names stay stable, so two
    exports that share a module instance then agree on the shared tensors'
    names.  conv_names comes from conv_call_order().
    """
    m = onnx.load(path)
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    if len(convs) != len(conv_names):
        raise SystemExit("%s: %d Conv nodes but %d conv module calls"
                         % (path, len(convs), len(conv_names)))
    inits = {i.name: i for i in m.graph.initializer}
    uses = {}
    for n in m.graph.node:
        for x in n.input:
            uses[x] = uses.get(x, 0) + 1
    for node, mod in zip(convs, conv_names):
        for k, suffix in ((1, "weight"), (2, "bias")):
            if k >= len(node.input):
                continue
            old, new = node.input[k], "%s.%s" % (mod, suffix)
            if old == new:
                continue
            if old not in inits or uses.get(old) != 1 or new in inits:
                raise SystemExit("%s: cannot rename %s to %s"
                                 % (path, old, new))
            inits[old].name = new
            inits[new] = inits.pop(old)
            node.input[k] = new
    onnx.save(m, path)


def rng_normal(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


def check_onnx(path):
    """onnx.checker on the file, plus full shape inference (strict).

    Returns the loaded model.
    """
    onnx.checker.check_model(path)
    m = onnx.load(path)
    onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    return m


def op_histogram(model):
    counts = {}
    for n in model.graph.node:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    return dict(sorted(counts.items()))


def graph_io_names(model):
    inits = {i.name for i in model.graph.initializer}
    ins = [i.name for i in model.graph.input if i.name not in inits]
    outs = [o.name for o in model.graph.output]
    return ins, outs


def save_case(root, fdir, case, inputs, outputs):
    """Save one case's arrays as <fdir>/<case>.<name>.npy.

    inputs and outputs are lists of (name, ndarray).  Returns the manifest
    record for the case, with each array's file (relative to root), shape,
    dtype and, for outputs, max |value|.
    """
    rec = {"name": case, "inputs": [], "outputs": []}
    for kind, arrays in (("inputs", inputs), ("outputs", outputs)):
        for name, a in arrays:
            a = np.ascontiguousarray(a)
            rel = os.path.join(fdir, "%s.%s.npy" % (case, name))
            np.save(os.path.join(root, rel), a)
            e = {"name": name, "file": rel, "shape": list(a.shape),
                 "dtype": str(a.dtype)}
            if kind == "outputs":
                e["max_abs"] = float(np.abs(a).max()) if a.size else 0.0
            rec[kind].append(e)
    return rec


def tolerance_for(outputs, rtol=1e-3, atol_rel=1e-4):
    """A tolerance scaled to the case outputs: |got - ref| <= atol + rtol*|ref|
    with atol = atol_rel * max|ref| over all cases (float32 summation order
    differs from PyTorch's, so an error proportional to the output scale is
    expected)."""
    scale = max([o["max_abs"] for o in outputs] + [1e-6])
    return {"rtol": rtol, "atol": float("%.3g" % (atol_rel * scale))}


def update_manifest(path, fixtures):
    """Merge fixture records into the manifest at path, replacing records
    with the same name and keeping the others (several scripts write one
    manifest).  Records are kept sorted by name so regeneration is stable."""
    data = {"format": 1, "fixtures": []}
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
    names = {f["name"] for f in fixtures}
    kept = [f for f in data.get("fixtures", []) if f["name"] not in names]
    data["format"] = 1
    data["fixtures"] = sorted(kept + list(fixtures), key=lambda f: f["name"])
    data["comment"] = ("Paths are relative to this file. Tolerance: "
                       "|got - ref| <= atol + rtol * |ref| per element. "
                       "Regenerate with tools/export_fixtures.py and "
                       "tools/gpt_decoder.py.")
    with open(path, "w") as f:
        json.dump(data, f, indent=1, sort_keys=False)
        f.write("\n")


def dir_size(path):
    total = 0
    for dp, _, files in os.walk(path):
        for fn in files:
            total += os.path.getsize(os.path.join(dp, fn))
    return total
