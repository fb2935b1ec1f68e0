#!/usr/bin/python3
"""Regenerate tests/fixtures/quant: fixtures quantized by `nnlink quantize`,
with ONNX Runtime's outputs of the QDQ models as the references
test_quantize checks nnlink against.

usage: /usr/bin/python3 tools/quant_fixture.py [path/to/nnlink] [--only SUFFIX]
(--only _w7: just the tinyseg model of that suffix and its ORT outputs,
leaving the other committed files as they are)
Needs node and bench/node_modules (npm ci --ignore-scripts in bench/).
Writes:
  calib.npy               8 standard-normal calibration samples, 1x3x32x32
                          (N x the input shape; the model's H and W are
                          dynamic, so calibration runs at a third shape)
  model.qdq.onnx          nnlink quantize --method minmax (uint8 activations)
  model.qdq_s8.onnx       the same with --activations int8
  {landscape,portrait}.ort.npy   ORT on model.qdq.onnx with
                          tinyseg/{landscape,portrait}.image.npy
  landscape.ort_s8.npy    ORT on model.qdq_s8.onnx
  model.qdq_w7.onnx       --weights int7 (within [-64, 64], ORT's reduce_range)
  {landscape,portrait}.ort_w7.npy   ORT on model.qdq_w7.onnx
  {mobilenet_v2,resnet_tiny}.qdq.onnx   those fixtures quantized from
                          calib.npy tiled 2x2 to their fixed 1x3x64x64 input
  {mobilenet_v2,resnet_tiny}.ort.npy   ORT's logits of those QDQ files for
                          the fixtures' default.image.npy (the test checks
                          nnlink on the committed QDQ files against them:
                          quantizing again under another kernel set gives
                          slightly different scales)
The float references are PyTorch's outputs in the fixtures' folders.
"""
import os
import subprocess
import sys

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quant_util as qu  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FX = os.path.join(ROOT, "tests", "fixtures")
OUT = os.path.join(FX, "quant")


def main():
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        k = args.index("--only")
        only = args[k + 1]
        del args[k:k + 2]
    nnlink = args[0] if args else os.path.join(ROOT, "build", "nnlink")
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(5)
    calib = os.path.join(OUT, "calib.npy")
    np.save(calib, rng.standard_normal((8, 1, 3, 32, 32)).astype(np.float32))
    model = os.path.join(FX, "tinyseg", "model.onnx")
    for suffix, act, wts in (("", "uint8", "int8"), ("_s8", "int8", "int8"), ("_w7", "uint8", "int7")):
        if only is not None and suffix != only:
            continue
        q = os.path.join(OUT, "model.qdq%s.onnx" % suffix)
        subprocess.run([nnlink, "quantize", model, "-o", q, "--calibration",
                        "image=" + calib, "--activations", act, "--weights", wts], check=True)
        for case in ("landscape", "portrait") if suffix != "_s8" else ("landscape",):
            x = np.load(os.path.join(FX, "tinyseg", case + ".image.npy"))
            y = qu.ort_run(q, {"image": x})["out"]
            ref = np.load(os.path.join(FX, "tinyseg", case + ".out.npy"))
            np.save(os.path.join(OUT, "%s.ort%s.npy" % (case, suffix)), y)
            print("%s %s: ORT SQNR vs float %.2f dB" %
                  (os.path.basename(q), case, qu.sqnr_db(ref, y)))
    if only is not None:
        return
    tiled = os.path.join(OUT, "tiled.tmp.npy")
    np.save(tiled, np.tile(np.load(calib), (1, 1, 1, 2, 2)))
    for net in ("mobilenet_v2", "resnet_tiny"):
        q = os.path.join(OUT, net + ".qdq.onnx")
        subprocess.run([nnlink, "quantize", os.path.join(FX, net, "model.onnx"),
                        "-o", q, "--calibration", "image=" + tiled], check=True)
        x = np.load(os.path.join(FX, net, "default.image.npy"))
        y = qu.ort_run(q, {"image": x})["logits"]
        ref = np.load(os.path.join(FX, net, "default.logits.npy"))
        np.save(os.path.join(OUT, net + ".ort.npy"), y)
        print("%s: ORT SQNR vs float %.2f dB" % (net, qu.sqnr_db(ref, y)))
    os.remove(tiled)


if __name__ == "__main__":
    main()
