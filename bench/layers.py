#!/usr/bin/python3
"""One compiled graph against ONNX Runtime on its ONNX file, layer by layer.

usage: /usr/bin/python3 bench/layers.py FILE.nnl MODEL.onnx --input NAME=X.npy [...]
           [--threads N] [--runs N] [--top N] [--json OUT.json]

Runs `nnlink profile --json` on FILE.nnl and one ONNX Runtime session with
its own profiler (bench/ort_bench.js, `enableProfiling`) on MODEL.onnx, same
inputs, same thread count, R timed runs each, and pairs each nnlink layer
with the ORT nodes named after its ONNX nodes (both runtimes fuse, and a
fused layer is named after the node that starts it; QDQ files from `nnlink
quantize` keep the float model's node names on both sides) or, for float
models, after their output tensors: ORT's NCHWc rewrite names a conv
"<output>_nchwc" (needs python3-onnx to read the outputs; without it such
nodes count as unmatched).  A second ORT session without the profiler
gives ORT's latency, printed beside the node sum (the profiler costs each
node something; on a noisy host the two sessions also differ).  Prints both
totals, per op type the two times and their ratio, and the layers that
lose most (nnlink ms - ORT ms), with nnlink's GFLOP/s.  Each time is the
median over the runs (ORT's trace holds every run; the warm-up ones are
dropped).  For QDQ files (int8), where bench/ops.py's float op classes do
not apply, and for float models layer by layer: e.g.

  /usr/bin/python3 bench/layers.py build/bench-int8/resnet18.int7.nnl \\
      build/bench-int8/resnet18.qdq7.onnx --input image=x.npy --threads 1

Environment: NNLINK (default build/nnlink).
"""
import collections
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
import bench as B  # noqa: E402  (bench/bench.py: json_tool runs ort_bench.js)

HERE = os.path.dirname(os.path.abspath(__file__))
# seconds an ORT session may take, as in bench/run.sh's other drivers
ORT_TIMEOUT = B.env_int("BENCH_TIMEOUT", 1800)


def usage(msg):
    sys.stderr.write("bench/layers.py: %s\n(see the usage at the top of bench/layers.py)\n" % msg)
    return 2


def ort_run(spec):
    """bench/ort_bench.js on spec: its JSON result."""
    try:
        return B.json_tool(["node", os.path.join(HERE, "ort_bench.js"), json.dumps(spec)], ORT_TIMEOUT)
    except RuntimeError as e:
        raise RuntimeError("ONNX Runtime failed: %s" % e)


def ort_layers(model, inputs, threads, runs, tmp):
    prefix = os.path.join(tmp, "ort")
    ort_run(dict(mode="latency", model=model, threads=threads, inputs=inputs, runs=runs, warmup=3, profile=prefix))
    trace = json.load(open(glob.glob(prefix + "*.json")[0]))
    times, ops = collections.defaultdict(list), {}
    for e in trace:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            name = re.sub(r"_token_\d+$", "", e["name"][:-len("_kernel_time")])
            times[name].append(e["dur"] / 1000.0)
            ops[name] = e.get("args", {}).get("op_name", "?")
    return {n: (statistics.median(d[-runs:]), ops[n]) for n, d in times.items()}


def ort_latency(model, inputs, threads, runs):
    """ORT's median latency without its profiler, which adds some cost to every node: the node
    times above carry it, this does not."""
    spec = dict(mode="latency", model=model, threads=threads, inputs=inputs, runs=runs, warmup=3)
    return ort_run(spec)["latency_ms"]["median"]


def nnl_layers(nnl, inputs, threads, runs, tmp):
    out = os.path.join(tmp, "nnl.json")
    cmd = [os.environ.get("NNLINK", "build/nnlink"), "profile", nnl, "--threads", str(threads), "--runs",
           str(runs), "--json", out, "--top", "1"]
    for k, v in inputs.items():
        cmd += ["--input", "%s=%s" % (k, v)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("nnlink profile failed: " + r.stderr.strip()[-400:])
    j = json.load(open(out))
    return j["layers"], j["latency_ms"]


def node_outputs(model):
    """ONNX node name -> its output tensor names (empty when onnx is missing)."""
    try:
        import onnx
    except ImportError:
        return {}
    m = onnx.load(model, load_external_data=False)
    return {n.name: list(n.output) for n in m.graph.node}


def main(argv):
    pos, inputs, threads, runs, top, out = [], {}, 1, 20, 20, None
    args = list(argv)
    while args:
        a = args.pop(0)
        try:
            if a == "--input":
                k, v = args.pop(0).split("=", 1)
                inputs[k] = v
            elif a == "--threads":
                threads = int(args.pop(0))
            elif a == "--runs":
                runs = int(args.pop(0))
            elif a == "--top":
                top = int(args.pop(0))
            elif a == "--json":
                out = args.pop(0)
            elif a.startswith("-"):
                return usage("unknown option " + a)
            else:
                pos.append(a)
        except (IndexError, ValueError):
            return usage("bad value for " + a)
    if len(pos) != 2 or not inputs or threads < 1 or runs < 1:
        return usage("needs FILE.nnl MODEL.onnx and at least one --input NAME=X.npy")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            nl, lat = nnl_layers(pos[0], inputs, threads, runs, tmp)
            ort = ort_layers(pos[1], inputs, threads, runs, tmp)
            ort_lat = ort_latency(pos[1], inputs, threads, runs)
        except (RuntimeError, OSError, IndexError, ValueError) as e:
            sys.stderr.write("bench/layers.py: %s\n" % e)
            return 1
    outs = node_outputs(pos[1])
    rows, used = [], set()
    for L in nl:
        names = L["name"].split("+")
        # ORT's NCHWc rewrite names a node after its output tensor ("<out>_nchwc"); a layer takes
        # every ORT node named after one of its ONNX nodes or their outputs
        keys = [k for n in names for k in [n] + [o + "_nchwc" for o in outs.get(n, ())]
                if k in ort and k not in used]
        used.update(keys)
        rows.append(dict(name=names[0], op=L["op"], nnlink_ms=L["median_ms"],
                         ort_ms=sum(ort[k][0] for k in keys) if keys else None, gflops_per_s=L["gflops_per_s"]))
    unmatched = sum(t for n, (t, _) in ort.items() if n not in used)
    tn = sum(r["nnlink_ms"] for r in rows)
    to = sum(r["ort_ms"] or 0.0 for r in rows) + unmatched
    print("%s vs %s, %d thread(s), medians of %d runs" % (pos[0], pos[1], threads, runs))
    print("nnlink layers %.3f ms (latency median %.3f), ORT nodes %.3f ms (%.3f of them unmatched): %.2fx"
          % (tn, lat["median"], to, unmatched, tn / to if to else 0.0))
    print("ORT unprofiled latency median %.3f ms (a second session): its nodes' sum minus it, %+.1f us a node,"
          " is the profiler's cost plus the noise between the two sessions; latencies: %.2fx"
          % (ort_lat, (to - ort_lat) * 1000.0 / max(1, len(ort)), lat["median"] / ort_lat if ort_lat else 0.0))
    by = collections.defaultdict(lambda: [0, 0.0, 0.0])
    for r in rows:
        b = by[r["op"]]
        b[0] += 1
        b[1] += r["nnlink_ms"]
        b[2] += r["ort_ms"] or 0.0
    print("\n%-22s %5s %10s %10s %7s" % ("op (nnlink)", "count", "nnlink ms", "ORT ms", "ratio"))
    for op, (n, a, b) in sorted(by.items(), key=lambda x: -x[1][1]):
        print("%-22s %5d %10.3f %10.3f %7s" % (op, n, a, b, "%.2f" % (a / b) if b else "-"))
    print("\n%10s %10s %9s %8s  layer (first ONNX node)" % ("nnlink ms", "ORT ms", "excess", "GFLOP/s"))
    for r in sorted(rows, key=lambda r: -(r["nnlink_ms"] - (r["ort_ms"] or 0.0)))[:top]:
        print("%10.3f %10s %+9.3f %8.1f  %s" % (r["nnlink_ms"], "%.3f" % r["ort_ms"] if r["ort_ms"] is not None
                                                 else "-", r["nnlink_ms"] - (r["ort_ms"] or 0.0),
                                                 r["gflops_per_s"], r["name"][:70]))
    if out:
        with open(out, "w") as f:
            json.dump(dict(nnl=pos[0], onnx=pos[1], threads=threads, runs=runs, layers=rows, ort_latency_ms=ort_lat,
                           ort_unmatched_ms=unmatched), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
