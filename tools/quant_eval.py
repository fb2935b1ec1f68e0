#!/usr/bin/python3
"""SQNR of `nnlink quantize` QDQ models, run by ONNX Runtime and by nnlink,
against the float model's output (run by ONNX Runtime).

usage: /usr/bin/python3 tools/quant_eval.py MODEL.onnx INPUT D0,D1,... \
           [--eval-shape D0,D1,...]... [--methods minmax,percentile,mse] \
           [--samples 16] [--evals 4] [--nnlink build/nnlink] [--keep DIR] \
           [--weights int8|int7]

Calibration: --samples standard-normal samples at the first shape (the
distribution tools/export_torchvision.py and the fixtures use); evaluation:
--evals other samples at that shape and at each --eval-shape.  Needs
node + bench/node_modules (npm ci --ignore-scripts in bench/).  Prints one
line per method and shape: ORT SQNR, nnlink SQNR (dB) and the SQNR of
nnlink against ORT on the same QDQ file.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quant_util as qu  # noqa: E402


def shape(s):
    return tuple(int(d) for d in s.split(","))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("shape", type=shape)
    ap.add_argument("--eval-shape", type=shape, action="append", default=[])
    ap.add_argument("--methods", default="minmax,percentile,mse")
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--evals", type=int, default=4)
    ap.add_argument("--nnlink", default="build/nnlink")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--keep")
    ap.add_argument("--weights", default="int8", choices=["int8", "int7"])
    a = ap.parse_args()
    rng = np.random.default_rng(123)
    calib = rng.standard_normal((a.samples,) + a.shape).astype(np.float32)
    shapes = [a.shape] + a.eval_shape
    evals = {s: [rng.standard_normal(s).astype(np.float32)
                 for _ in range(a.evals)] for s in shapes}
    refs = {s: [list(qu.ort_run(a.model, {a.input: x}, a.threads).values())[0]
                for x in xs] for s, xs in evals.items()}
    d = a.keep or tempfile.mkdtemp()
    os.makedirs(d, exist_ok=True)
    cp = os.path.join(d, "calib.npy")
    np.save(cp, calib)
    name = os.path.basename(os.path.dirname(os.path.abspath(a.model)))
    for method in a.methods.split(","):
        q = os.path.join(d, "%s.%s.onnx" % (name, method))
        subprocess.run([a.nnlink, "quantize", a.model, "-o", q,
                        "--calibration", "%s=%s" % (a.input, cp),
                        "--method", method, "--weights", a.weights], check=True,
                       stdout=subprocess.DEVNULL)
        for s in shapes:
            ref = np.concatenate([r.ravel() for r in refs[s]])
            o = np.concatenate([list(qu.ort_run(q, {a.input: x}, a.threads)
                                     .values())[0].ravel() for x in evals[s]])
            n = np.concatenate([list(qu.nnlink_run(a.nnlink, q, {a.input: x},
                                                   a.threads)
                                     .values())[0].ravel() for x in evals[s]])
            print("%-14s %-10s %-16s ORT %6.2f dB  nnlink %6.2f dB  "
                  "nnlink vs ORT %6.2f dB" %
                  (name, method, "x".join(map(str, s)), qu.sqnr_db(ref, o),
                   qu.sqnr_db(ref, n), qu.sqnr_db(o, n)), flush=True)


if __name__ == "__main__":
    main()
