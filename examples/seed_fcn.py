#!/usr/bin/python3
"""The seed's example, step by step, in Python: torchvision's FCN ResNet-50
compiled for a landscape (1x3x256x384) and a portrait (1x3x384x256) input,
linked into one file that stores the weights once, profiled as portrait,
and both graphs run and compared with PyTorch.

The qai_hub calls it mirrors:
    hub.submit_compile_job(model, input_specs=dict(image=(1, 3, 256, 384)),
                           options="--qnn_options context_enable_graphs=landscape")
    hub.submit_link_job([model_landscape, model_portrait])
    hub.submit_profile_job(linked_model, options="--qnn_options context_enable_graphs=portrait")

Pretrained weights are not downloaded: the weights are random
(torch.manual_seed(0)) and the BatchNorm statistics are re-estimated on a
few random batches, as training would leave them, so every layer works at
its normal range (as tools/export_fcn_resnet50.py does).

From the source tree after `make`:
    PYTHONPATH=python /usr/bin/python3 examples/seed_fcn.py [--out DIR] [--threads N]
(needs Debian's python3-torch and python3-torchvision).
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torchvision

import nnlink

SHAPES = {"landscape": (1, 3, 256, 384), "portrait": (1, 3, 384, 256)}
TOLERANCE = 4e-4  # max abs error / max abs reference; see README "The mission network"


class FCN(torch.nn.Module):
    """fcn_resnet50 returns a dict; the graph's one output is its "out"."""

    def __init__(self):
        super().__init__()
        self.model = torchvision.models.segmentation.fcn_resnet50(weights=None, weights_backbone=None,
                                                                   aux_loss=False)

    def forward(self, image):
        return self.model(image)["out"]


def reestimate_batchnorm(model, batches, shape=(2, 3, 256, 256)):
    """Running statistics measured on random images in train mode
    (momentum=None: a plain average over the batches), then eval mode."""
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(shape, generator=gen))
    return model.eval()


def step(text):
    print("\n== " + text, flush=True)
    return time.perf_counter()


def done(t0):
    print("   (%.1f s)" % (time.perf_counter() - t0), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="out/seed_fcn", help="folder for fcn.nnl (default out/seed_fcn)")
    ap.add_argument("--threads", type=int, default=2, help="threads for profile and run (default 2)")
    ap.add_argument("--runs", type=int, default=10, help="timed profile runs (default 10)")
    ap.add_argument("--bn-batches", type=int, default=2,
                    help="random 2x3x256x256 batches for the BatchNorm statistics (default 2; "
                         "tools/export_fcn_resnet50.py uses 4); PyTorch's slowest step here")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    print("nnlink %s, torch %s, torchvision %s" % (nnlink.__version__, torch.__version__, torchvision.__version__))

    t0 = step("1. FCN ResNet-50 with random weights; BatchNorm statistics re-estimated on %d random batches"
              % args.bn_batches)
    torch.manual_seed(0)
    model = reestimate_batchnorm(FCN(), args.bn_batches)
    done(t0)

    # 2. submit_compile_job(model, input_specs=..., graph) per shape
    compiled = {}
    for graph, shape in SHAPES.items():
        t0 = step("2. compile %s: input_specs=dict(image=%s)" % (graph, shape))
        compiled[graph] = nnlink.compile(model, input_specs=dict(image=shape), graph=graph)
        info = compiled[graph].info()
        print("   %s: graph %s, %.1f MB of weights, arena %.1f MB" % (
            compiled[graph].path, compiled[graph].graphs, info["weight_bytes"] / 1e6,
            info["graphs"][0]["arena_bytes"] / 1e6))
        done(t0)

    t0 = step("3. link [landscape, portrait]")
    path = os.path.join(args.out, "fcn.nnl")
    linked = nnlink.link([compiled["landscape"], compiled["portrait"]], path)
    s = linked.link_report["summary"]
    print("   %s: %d weights in, %d stored, %d shared; %.1f MB in, %.1f MB stored (%.1f MB saved)" % (
        path, s["weights_in"], s["weights_stored"], s["weights_shared"], s["bytes_in"] / 1e6,
        s["bytes_stored"] / 1e6, s["bytes_saved"] / 1e6))
    print("   file size %.1f MB; one compiled graph %.1f MB" % (
        os.path.getsize(path) / 1e6, os.path.getsize(compiled["portrait"].path) / 1e6))
    done(t0)

    step("4. the linked file's graphs")
    print("   linked.graphs =", linked.graphs)
    info = linked.info()
    for g in info["graphs"]:
        print("   %-9s inputs %s  outputs %s" % (
            g["name"], [(t["name"], t["shape"]) for t in g["inputs"]], [(t["name"], t["shape"]) for t in g["outputs"]]))
    print("   weights %.1f MB stored, %.1f MB of them used by both graphs" % (
        info["weight_bytes"] / 1e6, info["shared_weight_bytes"] / 1e6))

    t0 = step("5. profile graph=portrait, runs=%d, threads=%d" % (args.runs, args.threads))
    p = linked.profile(graph="portrait", runs=args.runs, threads=args.threads)
    lat = p["latency_ms"]
    print("   load %.2f ms, session %.2f ms, cold run %.1f ms" % (p["load_ms"], p["session_ms"], p["cold_ms"]))
    print("   latency over %d runs: min %.1f  median %.1f  max %.1f ms (%.1f GFLOP/s), peak RSS %.0f MB" % (
        p["runs"], lat["min"], lat["median"], lat["max"], p["flops"] / (lat["median"] * 1e6),
        p["peak_rss_bytes"] / 1e6))
    for la in sorted(p["layers"], key=lambda la: -la["ms"])[:5]:
        print("   %-48.48s %-6s %7.2f ms %5.1f%%" % (la["name"], la["op"], la["ms"], 100 * la["share"]))
    done(t0)

    worst = 0.0
    rng = np.random.default_rng(1)
    for graph, shape in SHAPES.items():
        t0 = step("6. run graph=%s and compare with PyTorch" % graph)
        x = rng.standard_normal(shape).astype(np.float32)
        y = linked.run({"image": x}, graph=graph, threads=args.threads)["out"]
        with torch.inference_mode():
            ref = model(torch.from_numpy(x)).numpy()
        rel = float(np.abs(y - ref).max() / np.abs(ref).max())
        worst = max(worst, rel)
        print("   out %s: max abs err %.3g, max abs ref %.3g: %.2e of the reference (tolerance %.0e)" % (
            y.shape, np.abs(y - ref).max(), np.abs(ref).max(), rel, TOLERANCE))
        done(t0)

    ok = worst <= TOLERANCE
    print("\n%s: both graphs within %.0e of PyTorch (worst %.2e)" % ("OK" if ok else "FAILED", TOLERANCE, worst))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
