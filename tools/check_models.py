#!/usr/bin/env python3
"""check_models.py MANIFEST.json [NAME...] [--nnlink PATH] [--tol REL] [--threads N]

Compile every case of a fixture manifest (tests/fixtures/MANIFEST.json, or
the one tools/export_torchvision.py writes) with nnlink at the case's input
shapes, run it, and compare each output with PyTorch's: the largest absolute
difference relative to the largest reference value must be <= REL (default
1e-3).  Prints one line per case and a summary; exit 1 if any case fails.
Uses only the nnlink CLI, numpy and the standard library.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("names", nargs="*")
    ap.add_argument("--nnlink", default=os.path.join(os.path.dirname(__file__), "..", "build", "nnlink"))
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    root = os.path.dirname(os.path.abspath(a.manifest))
    man = json.load(open(a.manifest))
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for f in man["fixtures"]:
            if a.names and f["name"] not in a.names:
                continue
            for c in f["cases"]:
                label = f"{f['name']}/{c['name']}"
                nnl = os.path.join(tmp, "m.nnl")
                cmd = [a.nnlink, "compile", os.path.join(root, f["onnx"]), "-o", nnl, "--graph", c["name"]]
                for i in c["inputs"]:
                    cmd += ["--input", i["name"] + "=" + ",".join(str(d) for d in i["shape"])]
                t0 = time.time()
                r = subprocess.run(cmd, capture_output=True, text=True)
                tc = time.time() - t0
                if r.returncode:
                    print(f"FAIL {label}: compile: {r.stderr.strip()}")
                    failed += 1
                    continue
                out = os.path.join(tmp, "out")
                cmd = [a.nnlink, "run", nnl, "-o", out, "--threads", str(a.threads)]
                for i in c["inputs"]:
                    cmd += ["--input", i["name"] + "=" + os.path.join(root, i["file"])]
                t0 = time.time()
                r = subprocess.run(cmd, capture_output=True, text=True)
                tr = time.time() - t0
                if r.returncode:
                    print(f"FAIL {label}: run: {r.stderr.strip()}")
                    failed += 1
                    continue
                worst = 0.0
                for o in c["outputs"]:
                    want = np.load(os.path.join(root, o["file"]))
                    got = np.load(os.path.join(out, o["name"].replace("/", "_") + ".npy"))
                    if got.shape != want.shape or got.dtype != want.dtype:
                        worst = float("inf")
                        continue
                    if want.dtype.kind != "f":
                        worst = max(worst, 0.0 if np.array_equal(got, want) else float("inf"))
                        continue
                    scale = float(np.abs(want).max()) or 1.0
                    worst = max(worst, float(np.abs(got.astype(np.float64) - want).max()) / scale)
                ok = worst <= a.tol
                passed += ok
                failed += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {label:44s} rel err {worst:.2e}  compile {tc:5.2f}s  run {tr:6.2f}s")
    print(f"check_models: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
