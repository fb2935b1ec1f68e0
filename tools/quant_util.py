"""Shared by tools/quant_eval.py and tools/quant_fixture.py: run a model
with ONNX Runtime (through tools/ort_run.js, npm onnxruntime-node as bench/
installs it) or with nnlink (compile + run), and the SQNR of an output."""
import json
import os
import subprocess
import tempfile

import numpy as np

TOOLS = os.path.dirname(os.path.abspath(__file__))


def ort_run(model, inputs, threads=1):
    """ONNX Runtime outputs {name: array} of model on {name: float32 array}."""
    with tempfile.TemporaryDirectory() as d:
        spec = {"model": os.path.abspath(model), "threads": threads,
                "inputs": {}, "outdir": d}
        for i, (name, x) in enumerate(inputs.items()):
            f = os.path.join(d, "in%d.f32" % i)
            np.ascontiguousarray(x, dtype="<f4").tofile(f)
            spec["inputs"][name] = {"file": f, "dims": list(x.shape)}
        sp = os.path.join(d, "spec.json")
        with open(sp, "w") as fh:
            json.dump(spec, fh)
        subprocess.run(["node", os.path.join(TOOLS, "ort_run.js"), sp],
                       check=True)
        with open(os.path.join(d, "outputs.json")) as fh:
            index = json.load(fh)
        return {name: np.fromfile(os.path.join(d, o["file"]), dtype="<f4")
                .reshape(o["dims"]) for name, o in index.items()}


def nnlink_run(nnlink, model, inputs, threads=1):
    """nnlink outputs {name: array}: compile at the inputs' shapes, run."""
    with tempfile.TemporaryDirectory() as d:
        cmd = [nnlink, "compile", model, "-o", os.path.join(d, "m.nnl")]
        run = [nnlink, "run", os.path.join(d, "m.nnl"), "-o",
               os.path.join(d, "out"), "--threads", str(threads)]
        for name, x in inputs.items():
            f = os.path.join(d, "in_%d.npy" % len(run))
            np.save(f, x)
            cmd += ["--input", "%s=%s" % (name, ",".join(map(str, x.shape)))]
            run += ["--input", "%s=%s" % (name, f)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(run, check=True, stdout=subprocess.DEVNULL)
        od = os.path.join(d, "out")
        return {f[:-4]: np.load(os.path.join(od, f))
                for f in sorted(os.listdir(od)) if f.endswith(".npy")}


def sqnr_db(ref, got):
    """Signal-to-quantization-noise ratio of got against ref, in dB."""
    ref = ref.astype(np.float64)
    noise = np.sum((ref - got.astype(np.float64)) ** 2)
    return float("inf") if noise == 0 else \
        10 * np.log10(np.sum(ref ** 2) / noise)
