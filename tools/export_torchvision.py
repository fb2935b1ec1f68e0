#!/usr/bin/python3
"""Export a wide set of torchvision classification and segmentation models
to ONNX (opset 13, fixed input shape) with PyTorch's outputs as references,
for checking nnlink on real architectures.  Output is large and not
committed.

Run with Debian's interpreter (torch 1.13, torchvision 0.14, onnx 1.12):
    /usr/bin/python3 tools/export_torchvision.py OUTDIR [NAME ...]
    /usr/bin/python3 tools/export_torchvision.py --list
Writes OUTDIR/<name>/model.onnx, OUTDIR/<name>/default.image.npy and
OUTDIR/<name>/default.<output>.npy, and merges a record per model into
OUTDIR/MANIFEST.json (same layout as tests/fixtures/MANIFEST.json).  A model
that fails to export is reported and skipped.

Weights are random (pretrained ones cannot be downloaded).  To keep every
part of each network visible in its output:
  - BatchNorm statistics are re-estimated on random batches
    (fixture_util.reestimate_bn);
  - all-zero weights (ViT head) and ConvNeXt's 1e-6 layer scales are reset
    (fixture_util.fix_degenerate_init);
  - the last layer is rescaled when the output's standard deviation is
    outside [0.3, 30] (fixture_util.rescale_output), as torchvision's
    N(0, 0.01) classifier inits leave logits near 0.01.
Segmentation models return a dict; they are wrapped to return ["out"].
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torchvision.models as tvm
import torchvision.models.segmentation as tvs

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_util as fu  # noqa: E402

CLS = (1, 3, 224, 224)
SEG = (1, 3, 256, 256)


def seg(fn):
    return lambda: fn(weights=None, weights_backbone=None, aux_loss=False)


# name -> (constructor, input shape, kind)
MODELS = {
    "resnet18": (tvm.resnet18, CLS, "cls"),
    "resnet34": (tvm.resnet34, CLS, "cls"),
    "resnet50": (tvm.resnet50, CLS, "cls"),
    "resnext50_32x4d": (tvm.resnext50_32x4d, CLS, "cls"),
    "wide_resnet50_2": (tvm.wide_resnet50_2, CLS, "cls"),
    "mobilenet_v2": (tvm.mobilenet_v2, CLS, "cls"),
    "mobilenet_v3_small": (tvm.mobilenet_v3_small, CLS, "cls"),
    "mobilenet_v3_large": (tvm.mobilenet_v3_large, CLS, "cls"),
    "squeezenet1_0": (tvm.squeezenet1_0, CLS, "cls"),
    "squeezenet1_1": (tvm.squeezenet1_1, CLS, "cls"),
    "shufflenet_v2_x0_5": (tvm.shufflenet_v2_x0_5, CLS, "cls"),
    "shufflenet_v2_x1_0": (tvm.shufflenet_v2_x1_0, CLS, "cls"),
    "mnasnet0_5": (tvm.mnasnet0_5, CLS, "cls"),
    "efficientnet_b0": (tvm.efficientnet_b0, CLS, "cls"),
    "regnet_y_400mf": (tvm.regnet_y_400mf, CLS, "cls"),
    "regnet_x_400mf": (tvm.regnet_x_400mf, CLS, "cls"),
    "densenet121": (tvm.densenet121, CLS, "cls"),
    "googlenet": (lambda: tvm.googlenet(weights=None, aux_logits=False,
                                        init_weights=True), CLS, "cls"),
    "alexnet": (tvm.alexnet, CLS, "cls"),
    "vgg11": (tvm.vgg11, CLS, "cls"),
    "convnext_tiny": (tvm.convnext_tiny, CLS, "cls"),
    "vit_b_16": (tvm.vit_b_16, CLS, "cls"),
    "deeplabv3_mobilenet_v3_large": (seg(tvs.deeplabv3_mobilenet_v3_large),
                                     SEG, "seg"),
    "lraspp_mobilenet_v3_large": (
        lambda: tvs.lraspp_mobilenet_v3_large(weights=None,
                                              weights_backbone=None),
        SEG, "seg"),
    "fcn_resnet50": (seg(tvs.fcn_resnet50), SEG, "seg"),
    "deeplabv3_resnet50": (seg(tvs.deeplabv3_resnet50), SEG, "seg"),
}


class SegOut(torch.nn.Module):
    """Returns only the primary output of a segmentation model."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def build(name, seed):
    ctor, shape, kind = MODELS[name]
    torch.manual_seed(seed)
    model = ctor()
    if kind == "seg":
        model = SegOut(model)
    fu.fix_degenerate_init(model)
    # Batch 2: a 1x1 BatchNorm input (DeepLab's image-pool branch) needs
    # more than one value per channel in train mode.
    fu.reestimate_bn(model, fu.normal_batches((2,) + shape[1:], seed),
                     passes=3)
    probe = fu.normal_batches((2,) + shape[1:], seed + 500)(0)
    factor = fu.rescale_output(model, probe)
    return model.eval(), shape, kind, factor


def export_one(root, name, seed, opset):
    t0 = time.time()
    model, shape, kind, factor = build(name, seed)
    out_name = "out" if kind == "seg" else "logits"
    os.makedirs(os.path.join(root, name), exist_ok=True)
    rel = os.path.join(name, "model.onnx")
    path = os.path.join(root, rel)
    # Gradients stay enabled: with them off, torch 1.13's
    # nn.MultiheadAttention (ViT) takes a fused fast path that cannot be
    # exported.  The reference runs the same (exported) path.
    with torch.enable_grad():
        torch.onnx.export(model, (torch.zeros(shape),), path,
                          input_names=["image"], output_names=[out_name],
                          opset_version=opset, do_constant_folding=True)
        om = fu.check_onnx(path)
        rng = np.random.default_rng(seed)
        x = fu.rng_normal(rng, shape)
        y = model(torch.from_numpy(x)).detach().numpy()
    case = fu.save_case(root, name, "default", [("image", x)],
                        [(out_name, y)])
    nparams = sum(p.numel() for p in model.parameters())
    print("%-30s %-18s -> %-18s max|ref| %8.4g std %7.4g  %6.1f MB  "
          "rescale %.3g  %5.0f s" %
          (name, shape, y.shape, np.abs(y).max(), y.std(),
           os.path.getsize(path) / 1e6, factor, time.time() - t0),
          flush=True)
    notes = ("torchvision %s, random weights (seed %d), BN statistics "
             "re-estimated on random batches" % (name, seed))
    if factor != 1.0:
        notes += ", last layer scaled by %.4g" % factor
    return {"name": name, "onnx": rel, "opset": opset, "inputs": ["image"],
            "outputs": [out_name], "kind": kind, "params": nparams,
            # Deep float32 networks accumulate summation-order differences.
            "tolerance": fu.tolerance_for(case["outputs"], rtol=1e-3,
                                          atol_rel=1e-3),
            "cases": [case], "ops": fu.op_histogram(om), "notes": notes}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("names", nargs="*")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--opset", type=int, default=13)
    a = ap.parse_args()
    if a.list or not a.outdir:
        print("\n".join(MODELS))
        return
    names = a.names or list(MODELS)
    bad = [n for n in names if n not in MODELS]
    if bad:
        raise SystemExit("unknown model(s): %s" % ", ".join(bad))
    os.makedirs(a.outdir, exist_ok=True)
    failed = []
    for name in names:
        try:
            rec = export_one(a.outdir, name, 7, a.opset)
        except Exception as e:  # report and go on with the others
            print("%-30s FAILED: %s: %s" % (name, type(e).__name__,
                                            str(e).splitlines()[0][:200]),
                  flush=True)
            failed.append(name)
            continue
        # Merge after every model so a long run that is interrupted keeps
        # the records of the models it finished.
        fu.update_manifest(os.path.join(a.outdir, "MANIFEST.json"), [rec])
    if failed:
        print("failed:", " ".join(failed))


if __name__ == "__main__":
    main()
