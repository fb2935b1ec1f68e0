#!/usr/bin/python3
"""Export the mission's example network, torchvision's FCN ResNet-50
segmentation model, to ONNX once with dynamic height and width, and save
PyTorch's own outputs for a landscape (1x3x256x384) and a portrait
(1x3x384x256) input as references.

Pretrained weights cannot be downloaded, so the weights are random
(torch.manual_seed(0)).  Unlike ../shared/models/export_fcn_resnet50.py, which
keeps the untrained BatchNorm statistics (mean 0, variance 1; on this network
the outputs still reach ~40), the statistics are re-estimated on random batches
first (see fixture_util.reestimate_bn), as training would leave them: the
references then have unit scale and every layer works at its normal range,
which makes the network numerically harder (float32 noise ~1e-4 of the output).

Run with Debian's interpreter (torch 1.13, torchvision 0.14, onnx 1.12):
    /usr/bin/python3 tools/export_fcn_resnet50.py OUTDIR
Writes OUTDIR/fcn_resnet50.onnx (input "image", output "out", ~135 MB),
OUTDIR/{landscape,portrait}.image.npy, OUTDIR/{landscape,portrait}.out.npy
and OUTDIR/MANIFEST.json (same layout as tests/fixtures/MANIFEST.json).
"""
import os
import sys
import time

import numpy as np
import torch
import torchvision

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_util as fu  # noqa: E402


class FCN(torch.nn.Module):
    """Returns only the primary output of the segmentation model."""

    def __init__(self):
        super().__init__()
        self.model = torchvision.models.segmentation.fcn_resnet50(
            weights=None, weights_backbone=None, aux_loss=False)

    def forward(self, x):
        return self.model(x)["out"]


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    t0 = time.time()
    model = fu.reestimate_bn(FCN(), fu.normal_batches((2, 3, 256, 256), 0),
                             passes=4)
    print("BN re-estimated in %.0f s" % (time.time() - t0))
    shapes = {"landscape": (1, 3, 256, 384), "portrait": (1, 3, 384, 256)}
    path = os.path.join(out, "fcn_resnet50.onnx")
    with torch.no_grad():
        torch.onnx.export(model, (torch.rand(shapes["landscape"]),), path,
                          input_names=["image"], output_names=["out"],
                          dynamic_axes={"image": {2: "height", 3: "width"},
                                        "out": {2: "height", 3: "width"}},
                          opset_version=13)
    om = fu.check_onnx(path)
    print("ops:", fu.op_histogram(om))
    rng = np.random.default_rng(1)
    cases = []
    for name, shape in shapes.items():
        x = fu.rng_normal(rng, shape)
        with torch.inference_mode():
            y = model(torch.from_numpy(x)).numpy()
        cases.append(fu.save_case(out, "", name, [("image", x)],
                                  [("out", y)]))
        print(name, shape, "->", y.shape,
              "max|ref| %.4g" % np.abs(y).max(),
              "std %.4g" % y.std())
    fu.update_manifest(os.path.join(out, "MANIFEST.json"), [{
        "name": "fcn_resnet50", "onnx": "fcn_resnet50.onnx", "opset": 13,
        "inputs": ["image"], "outputs": ["out"],
        # ResNet-50 depth: summation-order differences reach ~1.5e-4 of the
        # output scale (onnxruntime vs PyTorch), so allow 1e-3 of it.
        "tolerance": fu.tolerance_for([c["outputs"][0] for c in cases],
                                      atol_rel=1e-3),
        "cases": cases, "ops": fu.op_histogram(om),
        "notes": "torchvision fcn_resnet50, random weights (seed 0), BN "
                 "statistics re-estimated on random batches."}])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fcn_resnet50")
