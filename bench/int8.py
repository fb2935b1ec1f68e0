#!/usr/bin/python3
"""int8 side by side: nnlink running a QDQ model quantized by `nnlink
quantize`, against nnlink's own float32 compile of the same network and
ONNX Runtime running the same QDQ file (and the float one, for context).

usage: bench/run.sh --int8 [--quick] [--only a,b] [--rounds N] [--method M]
                            [--weights int8|int7]
       /usr/bin/python3 bench/int8.py --report FILE.json [--markdown]

Networks: ResNet-18 and MobileNetV2 at 1x3x224x224, FCN ResNet-50 at both
mission shapes (one QDQ file for both: calibrated at the landscape shape,
its dynamic H/W kept).  Models come from BENCH_DIR as for --broad
(exported when missing).  Calibration: 16 standard-normal samples (the
distribution the exports re-estimated BatchNorm on), seed 123.  --weights
int7 quantizes the weights within [-64, 64] (ONNX Runtime's reduce_range;
files *.qdq7.onnx, *.int7.nnl): exact for AVX2's int16 pair sums, so both
runtimes run them without saturating on CPUs without VNNI.

Per network it records: the QDQ file's SQNR against the float model's
PyTorch reference output, run by nnlink and by ONNX Runtime (accuracy is
judged against ORT on the same file, not a fixed number); the sizes of the
float32 and int8 .nnl files; for FCN, the size of the int8 landscape +
portrait link.  Then rounds of alternating timed processes (as --broad:
fresh process per sample, medians over rounds) of nnlink-fp32,
nnlink-int8, ort-int8 and ort-fp32 at each thread count, and the ratios
int8 / fp32 (nnlink) and nnlink-int8 / ort-int8 (also of each tool's best
round: "best").  Writes BENCH_OUT
(default bench/int8-results.json).  Environment knobs as --broad's
(BENCH_THREADS, BENCH_ROUNDS, BENCH_TARGET_MS, BENCH_WORK, BENCH_DIR, ...).
"""
import datetime
import json
import os
import sys

import numpy as np

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import bench as B  # noqa: E402
import broad as BR  # noqa: E402
import quant_util as qu  # noqa: E402

log = B.log
NETS = ["resnet18", "mobilenet_v2", "fcn_landscape", "fcn_portrait"]
TOOLS = ["nnlink-fp32", "nnlink-int8", "ort-int8", "ort-fp32"]
SAMPLES = 16


def config(argv):
    """broad.py's configuration, plus --method and --weights; --only
    defaults to NETS."""
    method, weights, rest = "minmax", "int8", []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--method" and args:
            method = args.pop(0)
        elif a == "--weights" and args:
            weights = args.pop(0)
            if weights not in ("int8", "int7"):
                sys.exit("int8.py: --weights %s: expected int8 or int7" % weights)
        elif a == "--report" and args:
            with open(args.pop(0)) as f:
                print("\n".join(report_lines(json.load(f), "--markdown" in args)))
            sys.exit(0)
        elif a in ("-h", "--help"):
            print(__doc__)
            sys.exit(0)
        else:
            rest.append(a)
    os.environ.setdefault("BENCH_OUT", os.path.join(HERE, "int8-results.json"))
    os.environ.setdefault("BENCH_WORK", os.path.join(HERE, "..", "build", "bench-int8"))
    cfg = BR.Config(rest)
    cfg.only = [n for n in (cfg.only or NETS) if n in NETS]
    if not cfg.only:
        sys.exit("int8.py: --only names none of %s" % ", ".join(NETS))
    cfg.method = method
    cfg.weights = weights
    cfg.suffix = "7" if weights == "int7" else "8"
    return cfg


def quantize(cfg, g, done):
    """The QDQ file of g's ONNX model (one per model: FCN's two shapes
    share it), calibrated at g's input shape."""
    if g["onnx"] in done:
        return done[g["onnx"]]
    (name, shape), = g["shapes"].items()
    rng = np.random.default_rng(123)
    calib = os.path.join(cfg.work, g["name"] + ".calib.npy")
    np.save(calib, rng.standard_normal((SAMPLES,) + tuple(shape)).astype(np.float32))
    out = os.path.join(cfg.work, g["name"] + (".qdq7.onnx" if cfg.weights == "int7" else ".qdq.onnx"))
    dt, _ = B.run_cmd([cfg.nnlink, "quantize", g["onnx"], "-o", out, "--calibration",
                       "%s=%s" % (name, calib), "--method", cfg.method, "--weights", cfg.weights], cfg.timeout)
    log("  quantize %s (%s, %s weights, %d samples): %.1f s" % (g["name"], cfg.method, cfg.weights, SAMPLES, dt))
    done[g["onnx"]] = out
    return out


def accuracy(cfg, g, qdq, nnl_int8):
    """SQNR (dB) of nnlink's and ORT's outputs of the QDQ model against the
    float model's PyTorch reference, on g's reference input."""
    inputs = {n: np.load(f) for n, f in g["inputs"].items()}
    outdir = os.path.join(cfg.work, "out-int8-" + g["name"])
    cmd = [cfg.nnlink, "run", nnl_int8, "-o", outdir]
    for n, f in g["inputs"].items():
        cmd += ["--input", "%s=%s" % (n, f)]
    B.run_cmd(cmd, cfg.timeout)
    ort = qu.ort_run(qdq, inputs)
    r = {}
    for out, ref_path in g["refs"].items():
        ref = np.load(ref_path)
        got = np.load(os.path.join(outdir, out + ".npy"))
        r[out] = {"nnlink_db": qu.sqnr_db(ref, got), "ort_db": qu.sqnr_db(ref, ort[out]),
                  "nnlink_vs_ort_db": qu.sqnr_db(ort[out], got)}
    return r


def sample(cfg, tool, g, t, runs, files):
    if tool.startswith("ort"):
        return BR.ort_sample(cfg, dict(g, onnx=files[tool]), t, runs)
    return BR.nnlink_sample(cfg, files[tool], g, t, runs)


def setup(cfg, graphs):
    """Quantize, compile both ways, check accuracy and size; returns
    {graph: {tool: file}} for the graphs that are ready, and the record."""
    rec, files, qdqs = {}, {}, {}
    nn = B.Nnlink(cfg, rec)
    for g in graphs:
        try:
            qdq = quantize(cfg, g, qdqs)
        except RuntimeError as ex:
            rec["quantize " + g["name"]] = {"error": B.tail(str(ex), 400)}
            log("  quantize %s: FAILED: %s" % (g["name"], B.tail(str(ex), 300)))
            continue
        fp32 = nn.compile(g["onnx"], g["name"], g["shapes"], os.path.join(cfg.work, g["name"] + ".fp32.nnl"))
        int8 = nn.compile(qdq, g["name"], g["shapes"],
                          os.path.join(cfg.work, g["name"] + ".int%s.nnl" % cfg.suffix))
        if not fp32 or not int8:
            continue
        r = rec.setdefault(g["name"], {})
        r["bytes_fp32"], r["bytes_int8"] = os.path.getsize(fp32), os.path.getsize(int8)
        r["size_ratio"] = r["bytes_int8"] / r["bytes_fp32"]
        try:
            r["sqnr"] = accuracy(cfg, g, qdq, int8)
        except (RuntimeError, OSError, KeyError, ValueError, FileNotFoundError) as ex:
            r["sqnr_error"] = B.tail(str(ex), 400)
        p = BR.nnlink_sample(cfg, fp32, g, 1, 1)
        g["flops"] = p["flops"]
        g["runs"] = max(cfg.min_runs, min(cfg.max_runs, int(cfg.target_ms / max(p["median_ms"], 1e-3))))
        files[g["name"]] = {"nnlink-fp32": fp32, "nnlink-int8": int8, "ort-int8": qdq, "ort-fp32": g["onnx"]}
        log("  %-16s int8 file %.2fx of fp32; SQNR %s -> %d runs" % (
            g["name"], r["size_ratio"], "; ".join(
                "%s nnlink %.2f dB, ORT %.2f dB" % (o, s["nnlink_db"], s["ort_db"])
                for o, s in r.get("sqnr", {}).items()) or r.get("sqnr_error", "n/a"), g["runs"]))
    pair = [files[n]["nnlink-int8"] for n in ("fcn_landscape", "fcn_portrait") if n in files]
    if len(pair) == 2:
        base = os.path.join(cfg.work, "fcn.int%s" % cfg.suffix)
        linked = nn.link(pair, base + ".nnl", base + ".link.json")
        if linked:
            rec["fcn_int8_link"] = {"bytes": os.path.getsize(linked),
                                    "one_graph_bytes": os.path.getsize(pair[0])}
    return files, rec


def summarize(graphs, samples, threads):
    rows = []
    for g in graphs:
        for t in threads:
            s = samples.get("%s@%d" % (g["name"], t), {})
            r = {"graph": g["name"], "shape": g["shape"], "threads": t}
            best = {}
            for tool in TOOLS:
                ms = [x["median_ms"] for x in s.get(tool, []) if "median_ms" in x]
                r[tool] = float(np.median(ms)) if ms else None
                best[tool] = min(ms) if ms else None
            ok = lambda a, b: r[a] / r[b] if r.get(a) and r.get(b) else None  # noqa: E731
            r["int8_vs_fp32"] = ok("nnlink-int8", "nnlink-fp32")
            r["int8_vs_ort_int8"] = ok("nnlink-int8", "ort-int8")
            # a slower minute only adds time: the best round of each tool
            # estimates its unloaded speed (as --broad's "best" column)
            r["best_int8_vs_ort_int8"] = (best["nnlink-int8"] / best["ort-int8"]
                                          if best.get("nnlink-int8") and best.get("ort-int8") else None)
            r["ort_int8_vs_fp32"] = ok("ort-int8", "ort-fp32")
            rows.append(r)
    return rows


def main(argv):
    cfg = config(argv)
    os.makedirs(cfg.work, exist_ok=True)
    started = datetime.datetime.now().astimezone()
    host = B.host_info()
    kset = BR.kernel_set(cfg)
    log("int8 benchmark %s: %s, %d CPUs, nnlink kernel set %s; threads %s, %d round(s), method %s, %s weights"
        % (started.strftime("%Y-%m-%d %H:%M %Z"), host["cpu"], host["cpus"], kset, cfg.threads,
           cfg.rounds, cfg.method, cfg.weights))
    graphs = BR.ensure_models(cfg)
    files, rec = setup(cfg, graphs)
    graphs = [g for g in graphs if g["name"] in files]
    samples, loads, k = {}, [], 0
    for rnd in range(cfg.rounds):
        for t in cfg.threads:
            loads.append(os.getloadavg()[0])
            log("round %d/%d, %d thread(s) (load average %.2f)" % (rnd + 1, cfg.rounds, t, loads[-1]))
            for g in graphs:
                k += 1
                line = []
                for tool in B.rotate(TOOLS, k):
                    try:
                        s = sample(cfg, tool, g, t, g["runs"], files[g["name"]])
                        line.append("%s %.3f" % (tool, s["median_ms"]))
                    except (RuntimeError, KeyError, ValueError, OSError) as ex:
                        s = {"error": B.tail(str(ex), 400)}
                        line.append("%s FAILED" % tool)
                    samples.setdefault("%s@%d" % (g["name"], t), {}).setdefault(tool, []).append(s)
                log("  %-16s %s" % (g["name"], ", ".join(line)))
    result = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": host, "kernel_set": kset, "method": cfg.method, "weights": cfg.weights, "calibration_samples": SAMPLES,
        "load_average": loads, "command": "bench/run.sh --int8 " + " ".join(argv),
        "setup": rec, "samples": samples, "rows": summarize(graphs, samples, cfg.threads),
    }
    print("\n".join(report_lines(result)))
    with open(cfg.out, "w") as f:
        json.dump(result, f, indent=1)
    log("\nwrote %s" % cfg.out)
    return 0


def report_lines(r, markdown=False):
    f = lambda v, p="%.2f": p % v if v is not None else "n/a"  # noqa: E731
    lines = ["int8 benchmark, %s (%s CPUs), kernel set %s, %s, method %s, %s weights, load %s" % (
        r["host"]["cpu"], r["host"]["cpus"], r["kernel_set"], r["started"], r["method"], r.get("weights", "int8"),
        " ".join("%.1f" % x for x in r["load_average"]))]
    head = ["graph", "threads", "nnlink fp32 ms", "nnlink int8 ms", "ORT int8 ms", "ORT fp32 ms",
            "int8/fp32", "int8/ORT int8", "best"]
    body = [[x["graph"], str(x["threads"]), f(x["nnlink-fp32"]), f(x["nnlink-int8"]), f(x["ort-int8"]),
             f(x["ort-fp32"]), f(x["int8_vs_fp32"]), f(x["int8_vs_ort_int8"]), f(x.get("best_int8_vs_ort_int8"))]
            for x in r["rows"]]
    lines += BR.table(head, body, markdown)
    head = ["graph", "int8/fp32 file", "SQNR nnlink dB", "SQNR ORT dB"]
    body = []
    for name, s in r["setup"].items():
        if not isinstance(s, dict) or "bytes_int8" not in s:
            continue
        q = list(s.get("sqnr", {}).values())
        body.append([name, f(s["size_ratio"]), f(q[0]["nnlink_db"]) if q else "n/a",
                     f(q[0]["ort_db"]) if q else "n/a"])
    lines += [""] + BR.table(head, body, markdown)
    ln = r["setup"].get("fcn_int8_link")
    if ln:
        lines.append("FCN int8 landscape + portrait linked: %.1f MB (one graph's file: %.1f MB)"
                     % (ln["bytes"] / 1e6, ln["one_graph_bytes"] / 1e6))
    return lines


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
