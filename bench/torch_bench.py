#!/usr/bin/python3
"""PyTorch half of the benchmark (bench/bench.py drives it).

usage: /usr/bin/python3 bench/torch_bench.py 'SPEC-JSON'
Prints one JSON object on stdout.  SPEC fields:
  mode     "latency" or "rss" (one model, one run per input set)
  model    "fcn" or "gpt"
  onnx     the .onnx file whose weights the model takes (fcn)
  threads  torch.set_num_threads (inter-op threads: 1)
  inputs   {name: "x.npy"}; for "rss": input_sets [{name: "x.npy"}]
  refs     {output: "ref.npy"} (optional: max |diff| of the last run)
  runs, warmup

The FCN is torchvision's fcn_resnet50 with the exported ONNX file's own
weights: torch.onnx.export folded each BatchNorm into the Conv before it, so
the BatchNorms become identities and every Conv takes the folded weight and
bias of the ONNX Conv at the same position in call order.  The three tools
then run the same network with the same weights, and the outputs are checked
against the export's references.  The GPT is tools/gpt_decoder.py's model
with its seeded weights (the ones the fixtures were made from).
"""
import json
import os
import resource
import sys
import time

import numpy as np
import torch

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def fcn_from_onnx(path):
    import onnx
    import torchvision
    from onnx import numpy_helper

    m = onnx.load(path)
    inits = {i.name: i for i in m.graph.initializer}
    convs = [n for n in m.graph.node if n.op_type == "Conv"]

    class FCN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = torchvision.models.segmentation.fcn_resnet50(
                weights=None, weights_backbone=None, aux_loss=False)

        def forward(self, x):
            return self.model(x)["out"]

    net = FCN().eval()
    for name, mod in list(net.named_modules()):
        for child, sub in list(mod.named_children()):
            if isinstance(sub, torch.nn.modules.batchnorm._BatchNorm):
                setattr(mod, child, torch.nn.Identity())
    order = []
    hooks = [mod.register_forward_hook(lambda mod, i, o: order.append(mod))
             for mod in net.modules() if isinstance(mod, torch.nn.Conv2d)]
    with torch.no_grad():
        net(torch.zeros(1, 3, 64, 64))
    for h in hooks:
        h.remove()
    if len(order) != len(convs):
        raise SystemExit("torch_bench: %d torch convs, %d ONNX convs" % (len(order), len(convs)))
    with torch.no_grad():
        for mod, node in zip(order, convs):
            w = numpy_helper.to_array(inits[node.input[1]])
            if tuple(w.shape) != tuple(mod.weight.shape):
                raise SystemExit("torch_bench: conv %s has shape %s, ONNX %s"
                                 % (node.name, tuple(mod.weight.shape), w.shape))
            mod.weight.copy_(torch.from_numpy(w.copy()))
            if len(node.input) > 2:
                b = numpy_helper.to_array(inits[node.input[2]]).copy()
                mod.bias = torch.nn.Parameter(torch.from_numpy(b))
    return net.eval(), ["out"]


def gpt_model():
    sys.path.insert(0, os.path.join(REPO, "tools"))
    import gpt_decoder as gd
    return gd.randomize(gd.GPT(), 0), gd.input_names(), gd.output_names()


def build(spec, inputs_of):
    """The model, its input and output names.  With spec["jit"] the eager
    model is traced on the benchmark's inputs, frozen and passed through
    torch.jit.optimize_for_inference (Conv+ReLU fusion, oneDNN layouts):
    the fastest CPU path this PyTorch offers without other packages."""
    if spec["model"] == "fcn":
        net, outs = fcn_from_onnx(spec["onnx"])
        ins = ["image"]
    elif spec["model"] == "gpt":
        net, ins, outs = gpt_model()
    else:
        raise SystemExit("torch_bench: unknown model %r" % spec["model"])
    if spec.get("jit"):
        threads = torch.get_num_threads()
        # Tracing runs the eager model once; use every core for that.
        torch.set_num_threads(max(threads, os.cpu_count() or 1))
        with torch.no_grad():
            net = torch.jit.optimize_for_inference(
                torch.jit.trace(net, tuple(load_inputs(ins, inputs_of))))
        torch.set_num_threads(threads)
    return net, ins, outs


def load_inputs(names, files):
    missing = [n for n in names if n not in files]
    if missing:
        raise SystemExit("torch_bench: inputs not given: %s" % ", ".join(missing))
    return [torch.from_numpy(np.load(files[n])) for n in names]


def as_tuple(y):
    return y if isinstance(y, tuple) else (y,)


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def stats(v):
    return {"min": min(v), "median": float(np.median(v)),
            "mean": sum(v) / len(v), "max": max(v)}


def latency(spec):
    t0 = time.perf_counter()
    net, in_names, out_names = build(spec, spec["inputs"])
    build_ms = (time.perf_counter() - t0) * 1e3
    xs = load_inputs(in_names, spec["inputs"])
    with torch.inference_mode():
        t0 = time.perf_counter()
        y = net(*xs)  # with jit, also the profiling runs that specialise the graph
        cold_ms = (time.perf_counter() - t0) * 1e3
        for _ in range(spec.get("warmup", 0)):
            y = net(*xs)
        runs = []
        for _ in range(spec.get("runs", 1)):
            t0 = time.perf_counter()
            y = net(*xs)
            runs.append((time.perf_counter() - t0) * 1e3)
    got = dict(zip(out_names, as_tuple(y)))
    diffs = {}
    for name, f in spec.get("refs", {}).items():
        ref = np.load(f)
        g = got[name].numpy() if name in got else None
        diffs[name] = (float(np.abs(g.astype(np.float64) - ref).max())
                       if g is not None and g.shape == ref.shape else None)
    return {"tool": "torch", "version": torch.__version__,
            "build_ms": build_ms, "cold_ms": cold_ms,
            "latency_ms": stats(runs), "runs_ms": runs,
            "peak_rss_bytes": peak_rss_bytes(), "max_abs_diff": diffs}


def rss(spec):
    # One eager model serves every input shape; this is what a PyTorch
    # application holding "both graphs" costs.
    baseline = peak_rss_bytes()
    net, in_names, _ = build(spec, spec["input_sets"][0])
    with torch.inference_mode():
        for files in spec["input_sets"]:
            net(*load_inputs(in_names, files))
    return {"tool": "torch", "version": torch.__version__,
            "baseline_rss_bytes": baseline, "peak_rss_bytes": peak_rss_bytes()}


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: torch_bench.py '{\"mode\": \"latency\"|\"rss\", ...}'\n")
        return 2
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(int(spec.get("threads", 1)))
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set: only possible before any parallel work
    r = rss(spec) if spec.get("mode") == "rss" else latency(spec)
    r["threads"] = torch.get_num_threads()
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
