#!/usr/bin/python3
"""fcn_float64_check.py MODELDIR NNLINK_OUT.npy [CASE]

How far are PyTorch's float32 output and nnlink's from the exact answer?
Rebuilds the FCN ResNet-50 of tools/export_fcn_resnet50.py (same seed, same
BatchNorm re-estimation, so the same weights), runs it in float64 on
MODELDIR/<CASE>.image.npy (CASE: portrait by default), and prints the largest
error relative to the largest reference value of PyTorch float32
(MODELDIR/<CASE>.out.npy) and of nnlink's output, both against float64.
Measured 2026-11-25 on portrait: PyTorch float32 1.04e-4, nnlink 8.3e-5.
Needs Debian's python3-torch and python3-torchvision; takes about 2 minutes.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import export_fcn_resnet50 as e  # noqa: E402
import fixture_util as fu  # noqa: E402


def main():
    md, ours_path = sys.argv[1], sys.argv[2]
    case = sys.argv[3] if len(sys.argv) > 3 else "portrait"
    torch.manual_seed(0)
    model = fu.reestimate_bn(e.FCN(), fu.normal_batches((2, 3, 256, 256), 0), passes=4)
    x = np.load(os.path.join(md, case + ".image.npy"))
    ref32 = np.load(os.path.join(md, case + ".out.npy"))
    with torch.inference_mode():
        y64 = model.double()(torch.from_numpy(x).double()).numpy()
    ours = np.load(ours_path)
    scale = np.abs(y64).max()
    print("PyTorch float32 vs float64: %.3g" % (np.abs(ref32 - y64).max() / scale))
    print("nnlink vs float64:          %.3g" % (np.abs(ours - y64).max() / scale))
    print("nnlink vs PyTorch float32:  %.3g" % (np.abs(ours - ref32).max() / np.abs(ref32).max()))


if __name__ == "__main__":
    main()
