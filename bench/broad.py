#!/usr/bin/python3
"""The broad benchmark: nnlink against ONNX Runtime on ~30 graphs, side by
side, at 1 and 2 threads.

usage: bench/run.sh --broad [--quick] [--avx2] [--only a,b,...] [--rounds N | --interleave N]
       /usr/bin/python3 bench/broad.py --report FILE.json [--markdown | --brief]
       (--brief: the README's Markdown table, nnlink and ORT medians only)

Graphs (31): every network of tools/export_torchvision.py at its usual shape
(26), FCN ResNet-50 at both mission shapes (tools/export_fcn_resnet50.py),
the GPT decoder's prefill and decode graphs (tests/fixtures/gpt, made by
tools/gpt_decoder.py) and the tiny VisionTransformer fixture
(tests/fixtures/vit_tiny).  Models missing from BENCH_DIR are exported first
(random weights, BatchNorm statistics re-estimated; no downloads; the full
set takes ~30 min on 2 cores).

For each thread count, each round measures every graph with every tool in a
fresh process, the order of the tools alternating from graph to graph and
round to round (nnlink, ORT, ORT, nnlink, ...).  A process does one cold
run, BENCH_WARMUP untimed runs and R timed runs, and reports their median;
R is chosen per graph so the timed runs take ~BENCH_TARGET_MS (from a probe
run at setup).  A tool's figure is the median over rounds; the ratio is
nnlink / ORT (lower is better), also on the best round of each ("best"),
the steadier figure when other jobs load the machine, as the median of
the rounds' own ratios ("paired": a round's two processes run seconds
apart, so a slow spell of a shared host mostly hits both), and as the ratio
of each tool's fastest single run over all rounds ("fastest runs": slow
spells only ever add time).  It prints per-graph
ratios, their geometric mean per thread count and the worst graph, with the
CPU model and the kernel set nnlink chose, and writes everything to
BENCH_OUT (JSON).

--avx2 adds a third tool, nnlink with NNL_ISA=avx2, measured in the same
rotation (useful on AVX-512 machines so the AVX2 path is not left behind).

--interleave N replaces the rounds: for each graph and thread count every
tool keeps one session open in a process of its own (bench/nnl_serve.py,
bench/ort_bench.js "serve"), and the tools take turns N times, each turn a
batch of runs lasting about BENCH_BATCH_MS (at least one run), the order
rotating from turn to turn, BENCH_QUIET_MS of quiet before each batch:
ORT's intra-op workers spin on after a run, and within 30 ms of an ORT
batch nnlink's 2-thread runs of MnasNet took 2.5-8 ms instead of 1.9-2.5
(ORT's workers, still spinning, held the two CPUs nnlink's threads
needed); from 100 ms on they ran as when alone (Xeon, 2026-12-08).  A
turn counts as a round above: the tool's figure is the median over turns
of each batch's median, "paired" the median of the turns' own ratios, now
taken tens of milliseconds apart instead of seconds, so that a shared
host's slow spells (which on the Xeon of 2026-12-07/08 moved a graph's
ratio by 10-50% between rounds) hit both sides of a ratio alike.

Configuration (environment):
  NNLINK           nnlink binary                   (default build/nnlink)
  BENCH_DIR        model cache, outside the repo   (default /work/models:
                   torchvision/ and fcn/ under it)
  BENCH_WORK       scratch folder for .nnl files   (default build/bench-broad)
  BENCH_OUT        results file                    (default bench/broad-results.json)
  BENCH_THREADS    thread counts                   (default "1 2")
  BENCH_ROUNDS     rounds of alternation           (default 3; --quick 1)
  BENCH_INTERLEAVE turns of --interleave            (default 0: rounds of processes)
  BENCH_BATCH_MS   timed runs a turn take, about    (default 40)
  BENCH_QUIET_MS   pause before each batch          (default 150)
  BENCH_TARGET_MS  timed-run budget per process    (default 400; --quick 60)
  BENCH_MIN_RUNS / BENCH_MAX_RUNS                  (default 3 / 200; --quick 2 / 20)
  BENCH_WARMUP     untimed runs after the cold one (default 1)
  BENCH_COMPILE_FLAGS  extra nnlink compile flags
  BENCH_TIMEOUT    seconds allowed per tool process (default 1800)
  BENCH_NICE       run every tool process under `nice -n N` (bench.py)
"""
import datetime
import json
import math
import os
import subprocess
import sys
import threading
import time

import numpy as np

sys.dont_write_bytecode = True
import bench as B  # noqa: E402  (bench/bench.py: process helpers, Nnlink, host_info)

HERE, REPO, PYTHON = B.HERE, B.REPO, B.PYTHON
log = B.log

# The 26 networks of tools/export_torchvision.py, in its order.
TORCHVISION = [
    "resnet18", "resnet34", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "mobilenet_v2",
    "mobilenet_v3_small", "mobilenet_v3_large", "squeezenet1_0", "squeezenet1_1", "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_0", "mnasnet0_5", "efficientnet_b0", "regnet_y_400mf", "regnet_x_400mf",
    "densenet121", "googlenet", "alexnet", "vgg11", "convnext_tiny", "vit_b_16",
    "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large", "fcn_resnet50", "deeplabv3_resnet50",
]


class Config:
    def __init__(self, argv):
        e = os.environ
        self.nnlink = os.path.abspath(e.get("NNLINK", os.path.join(REPO, "build", "nnlink")))
        self.bench_dir = os.path.abspath(e.get("BENCH_DIR", "/work/models"))
        self.work = os.path.abspath(e.get("BENCH_WORK", os.path.join(REPO, "build", "bench-broad")))
        self.out = os.path.abspath(e.get("BENCH_OUT", os.path.join(HERE, "broad-results.json")))
        self.threads = [int(t) for t in e.get("BENCH_THREADS", "1 2").replace(",", " ").split()]
        self.rounds = B.env_int("BENCH_ROUNDS", 3)
        self.target_ms = B.env_int("BENCH_TARGET_MS", 400)
        self.min_runs = B.env_int("BENCH_MIN_RUNS", 3)
        self.max_runs = B.env_int("BENCH_MAX_RUNS", 200)
        self.warmup = B.env_int("BENCH_WARMUP", 1)
        self.compile_flags = e.get("BENCH_COMPILE_FLAGS", "").split()
        self.timeout = B.env_int("BENCH_TIMEOUT", 1800)
        self.interleave = B.env_int("BENCH_INTERLEAVE", 0)
        self.batch_ms = B.env_int("BENCH_BATCH_MS", 40)
        self.quiet_ms = B.env_int("BENCH_QUIET_MS", 150)
        self.ort_fixed = True      # bench.ort_latency: fix the FCN's symbolic H/W
        self.avx2 = False
        self.only = None
        args = list(argv)
        while args:
            a = args.pop(0)
            if a == "--quick":
                self.rounds, self.target_ms, self.min_runs, self.max_runs, self.warmup = 1, 60, 2, 20, 0
            elif a == "--avx2":
                self.avx2 = True
            elif a == "--rounds" and args:
                self.rounds = int(args.pop(0))
            elif a == "--interleave" and args:
                self.interleave = int(args.pop(0))
            elif a == "--only" and args:
                self.only = args.pop(0).replace(",", " ").split()
            elif a == "--report" and args:
                with open(args.pop(0)) as f:
                    r = json.load(f)
                if "--brief" in args:
                    print("\n".join(brief_lines(r)))
                else:
                    print("\n".join(report_lines(r, markdown="--markdown" in args)))
                sys.exit(0)
            elif a in ("-h", "--help"):
                print(__doc__)
                sys.exit(0)
            else:
                sys.exit("broad.py: unknown argument %r (see --help)" % a)
        if self.rounds < 1 or self.min_runs < 1 or not self.threads or self.interleave < 0 or self.batch_ms < 1:
            sys.exit("broad.py: rounds, runs and thread counts must be positive")


# ---------------------------------------------------------------- the graph set


def ensure_models(cfg):
    """Returns the graph list [{name, label, onnx, inputs, shapes, refs,
    tolerance, fixed}], exporting what is missing."""
    tv_dir = os.path.join(cfg.bench_dir, "torchvision")
    fcn_dir = os.path.join(cfg.bench_dir, "fcn")
    wanted_tv = [n for n in TORCHVISION if not cfg.only or n in cfg.only]
    have = set()
    man = os.path.join(tv_dir, "MANIFEST.json")
    if os.path.exists(man):
        with open(man) as f:
            have = {fx["name"] for fx in json.load(f)["fixtures"]
                    if os.path.exists(os.path.join(tv_dir, fx["onnx"]))}
    missing = [n for n in wanted_tv if n not in have]
    if missing:
        log("exporting %d torchvision network(s) into %s (random weights; ~1 min each on 2 cores): %s"
            % (len(missing), tv_dir, " ".join(missing)))
        B.run_cmd([PYTHON, os.path.join(REPO, "tools", "export_torchvision.py"), tv_dir] + missing, 4 * 3600)
    graphs = []
    for n in wanted_tv:
        # One manifest call per network: every record's case is "default".
        cases = B.load_manifest(man, {n}) if n in have or os.path.exists(man) else {}
        if not cases:
            log("WARNING: %s could not be exported; left out" % n)
            continue
        case = dict(next(iter(cases.values())))
        case.update(name=n, label=n, fixed=None)
        graphs.append(case)
    fcn_want = [g for g in ("landscape", "portrait") if not cfg.only or "fcn_" + g in cfg.only]
    if fcn_want:
        if not os.path.exists(os.path.join(fcn_dir, "MANIFEST.json")):
            log("exporting FCN ResNet-50 into %s (a few minutes)" % fcn_dir)
            B.run_cmd([PYTHON, os.path.join(REPO, "tools", "export_fcn_resnet50.py"), fcn_dir], 7200)
        fcn = B.load_manifest(os.path.join(fcn_dir, "MANIFEST.json"), {"fcn_resnet50"})
        for g in fcn_want:
            c = dict(fcn[g])
            s = c["shapes"]["image"]
            c.update(name="fcn_" + g, label="fcn_resnet50 %s" % g,
                     fixed={"height": s[2], "width": s[3]})
            graphs.append(c)
    fixtures = os.path.join(REPO, "tests", "fixtures", "MANIFEST.json")
    for fixture, case, label in (("gpt_prefill", "prefill", "GPT prefill, 8 tokens"),
                                 ("gpt_decode", "decode", "GPT decode, 1 token after 8"),
                                 ("vit_tiny", "default", "vit_tiny (fixture)")):
        if not cfg.only or fixture in cfg.only:
            c = dict(B.load_manifest(fixtures, {fixture})[case])
            c.update(name=fixture, label=label, fixed=None)
            graphs.append(c)
    for g in graphs:
        g["shape"] = "x".join(str(d) for d in next(iter(g["shapes"].values())))
    return graphs


# ---------------------------------------------------------------- tools


def kernel_set(cfg, isa=None):
    """The kernel set nnlink's library picks, from its own kernel table:
    bench_kernels prints it (run with no cases).  Falls back to the rule of
    src/kernels/kernel_table.c applied to /proc/cpuinfo's flags."""
    exe = os.path.join(os.path.dirname(cfg.nnlink), "bench", "bench_kernels")
    env = {"NNL_ISA": isa} if isa else None
    try:
        if not os.access(exe, os.X_OK):
            B.run_cmd(["make", "-C", REPO, "BUILD=" + os.path.relpath(os.path.dirname(cfg.nnlink), REPO),
                       "-j2", os.path.relpath(exe, REPO)], 600)
        _, out = B.run_cmd([exe, "0", "@no case has this name@"], 60, env=env)
        for line in out.splitlines():
            if line.startswith("kernel set:"):
                return line.split(":", 1)[1].strip() + " (bench_kernels)"
    except RuntimeError:
        pass
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    sets = ["scalar"]
    if {"avx2", "fma"} <= flags:
        sets.append("avx2")
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq", "fma"} <= flags:
        sets.append("avx512")
    return (isa if isa in sets else sets[-1]) + " (inferred from /proc/cpuinfo)"


def nnlink_sample(cfg, nnl, g, threads, runs, env=None, keep=None):
    out = os.path.join(cfg.work, "profile-%s-t%d.json" % (g["name"], threads))
    cmd = [cfg.nnlink, "profile", nnl, "--runs", str(runs), "--warmup", str(cfg.warmup),
           "--threads", str(threads), "--json", out]
    for name, f in g["inputs"].items():
        cmd += ["--input", "%s=%s" % (name, f)]
    B.run_cmd(cmd, cfg.timeout, env=env)
    with open(out) as f:
        j = json.load(f)
    if keep:
        os.replace(out, keep)
    return {"median_ms": j["latency_ms"]["median"], "min_ms": j["latency_ms"]["min"],
            "cold_ms": j.get("cold_ms"), "flops": j.get("flops"), "runs": runs,
            "kernel_set": j.get("kernel_set") or j.get("isa"), "load": os.getloadavg()[0]}


def ort_sample(cfg, g, threads, runs):
    s = B.ort_latency(cfg, g, threads, runs, cfg.warmup, g["fixed"])
    s["runs"] = runs
    s["load"] = os.getloadavg()[0]
    return s


class Server:
    """A tool's serving process (bench/nnl_serve.py or ort_bench.js "serve"):
    started, then asked for batches of timed runs."""

    def __init__(self, cmd, env, timeout):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=env)
        self.timeout = timeout
        self.err = []
        # drained while it runs, so a chatty stderr never blocks the tool
        self.t = threading.Thread(target=lambda: self.err.extend(self.p.stderr), daemon=True)
        self.t.start()
        self.line("ready")

    def line(self, expect=None):
        out = self.p.stdout.readline()
        if not out or (expect and out.strip() != expect):
            self.p.kill()
            self.t.join(5)
            raise RuntimeError("server exited: %s" % B.tail("".join(self.err) or out, 400))
        return out

    def batch(self, n):
        self.p.stdin.write("%d\n" % n)
        self.p.stdin.flush()
        return json.loads(self.line())

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(self.timeout)
        except Exception:  # noqa: BLE001  (a stuck or dead server is killed)
            self.p.kill()


def start_server(cfg, tool, g, nnl, threads):
    if tool == "ort":
        spec = B.peer_spec(g, threads, 1, cfg.warmup, g["fixed"] if cfg.ort_fixed else None)
        spec.update(mode="serve", model=g["onnx"])
        return Server(["node", os.path.join(HERE, "ort_bench.js"), json.dumps(spec)], None, cfg.timeout)
    # the library built beside the nnlink binary measured in rounds
    lib = os.path.join(os.path.dirname(cfg.nnlink), "libnnlink.so")
    inputs = ["%s=%s" % (name, f) for name, f in g["inputs"].items()]
    return nnl_server(lib, nnl, threads, cfg.warmup, inputs, {"NNL_ISA": "avx2"} if tool == "nnlink-avx2" else {},
                      cfg.timeout)


def nnl_server(lib, nnl, threads, warmup, inputs, extra_env, timeout):
    """bench/nnl_serve.py on library lib, inputs as NAME=X.npy (also bench/ab.py's)."""
    env = dict(os.environ, NNLINK_LIBRARY=lib, **extra_env)
    cmd = [PYTHON, os.path.join(HERE, "nnl_serve.py"), nnl, str(threads), str(warmup)] + list(inputs)
    return Server(cmd, env, timeout)


def interleaved(cfg, g, nnl, tools, threads, k):
    """--interleave: every tool's server started, then cfg.interleave turns;
    -> {tool: [sample a turn]} (an error sample where a tool failed)."""
    out, servers = {}, {}
    batch = max(1, int(round(cfg.batch_ms / max(g.get("probe_ms", cfg.batch_ms), 1e-3))))
    try:
        for tool in tools:
            if tool != "ort" and not nnl:
                continue
            try:
                servers[tool] = start_server(cfg, tool, g, nnl, threads)
            except (RuntimeError, OSError, ValueError) as ex:
                out[tool] = [{"error": B.tail(str(ex), 400)}]
        for turn in range(cfg.interleave):
            for tool in B.rotate(tools, k + turn):
                if tool not in servers:
                    continue
                time.sleep(cfg.quiet_ms / 1e3)
                try:
                    ms = servers[tool].batch(batch)
                except (RuntimeError, OSError, ValueError) as ex:
                    out.setdefault(tool, []).append({"error": B.tail(str(ex), 400)})
                    servers.pop(tool).close()
                    continue
                out.setdefault(tool, []).append({"median_ms": float(np.median(ms)), "min_ms": min(ms),
                                                 "runs": len(ms), "load": os.getloadavg()[0]})
    finally:
        for s in servers.values():
            s.close()
    return out


# ---------------------------------------------------------------- run


def geomean(v):
    v = [x for x in v if x]
    return math.exp(sum(math.log(x) for x in v) / len(v)) if v else None


def summarize(graphs, samples, tools, threads):
    """Per (graph, threads): each tool's median over rounds and best round,
    and nnlink-like tools / ort ratios."""
    rows = []
    for g in graphs:
        for t in threads:
            key = "%s@%d" % (g["name"], t)
            r = {"graph": g["name"], "label": g["label"], "shape": g["shape"], "threads": t,
                 "gflop": g.get("flops", 0) / 1e9 if g.get("flops") else None}
            for tool in tools:
                ms = [s["median_ms"] for s in samples.get(key, {}).get(tool, []) if "median_ms" in s]
                r[tool] = float(np.median(ms)) if ms else None
                r[tool + "_best"] = min(ms) if ms else None
                errs = [s["error"] for s in samples.get(key, {}).get(tool, []) if "error" in s]
                if errs:
                    r[tool + "_error"] = errs[-1]
            for tool in tools:
                if tool == "ort":
                    continue
                ok = r.get(tool) and r.get("ort")
                r["ratio_" + tool] = r[tool] / r["ort"] if ok else None
                r["ratio_best_" + tool] = r[tool + "_best"] / r["ort_best"] if ok else None
                # rounds' own ratios: the two processes of a round ran
                # seconds apart, mostly in the same state of a shared host
                both = zip(samples.get(key, {}).get(tool, []), samples.get(key, {}).get("ort", []))
                pr = [a["median_ms"] / b["median_ms"] for a, b in both if "median_ms" in a and "median_ms" in b]
                r["ratio_paired_" + tool] = float(np.median(pr)) if pr else None
                # fastest single runs over all rounds: the host's slow spells
                # (co-tenants, lasting from a tenth of a second to minutes)
                # only ever add time, so the minimum is the steadiest figure
                mins = {x: [s["min_ms"] for s in samples.get(key, {}).get(x, []) if s.get("min_ms")]
                        for x in (tool, "ort")}
                r["ratio_min_" + tool] = min(mins[tool]) / min(mins["ort"]) if all(mins.values()) else None
            rows.append(r)
    summary = {}
    for tool in tools:
        if tool == "ort":
            continue
        for t in threads:
            rr = [r for r in rows if r["threads"] == t and r.get("ratio_" + tool)]
            if not rr:
                continue
            worst = max(rr, key=lambda r: r["ratio_" + tool])
            summary["%s@%d" % (tool, t)] = {
                "graphs": len(rr), "geomean": geomean([r["ratio_" + tool] for r in rr]),
                "geomean_best": geomean([r["ratio_best_" + tool] for r in rr]),
                "geomean_paired": geomean([r.get("ratio_paired_" + tool) for r in rr]),
                "geomean_min": geomean([r.get("ratio_min_" + tool) for r in rr]),
                "at_most_1_min": sum(1 for r in rr if r.get("ratio_min_" + tool) and r["ratio_min_" + tool] <= 1.0),
                "at_most_1_paired": sum(1 for r in rr if r.get("ratio_paired_" + tool) and
                                        r["ratio_paired_" + tool] <= 1.0),
                "worst": worst["graph"], "worst_ratio": worst["ratio_" + tool],
                "at_most_1": sum(1 for r in rr if r["ratio_" + tool] <= 1.0)}
    return rows, summary


def main(argv):
    cfg = Config(argv)
    os.makedirs(cfg.work, exist_ok=True)
    started = datetime.datetime.now().astimezone()
    load_before = os.getloadavg()
    host = B.host_info()
    if not os.access(cfg.nnlink, os.X_OK):
        sys.exit("broad.py: no nnlink binary at %s (make, or set NNLINK)" % cfg.nnlink)
    kset = kernel_set(cfg)
    tools = ["nnlink", "ort"] + (["nnlink-avx2"] if cfg.avx2 else [])
    kset_avx2 = kernel_set(cfg, "avx2") if cfg.avx2 else None
    log("broad benchmark %s: %s, %d CPUs, nnlink kernel set %s%s; threads %s, %d round(s), "
        "~%d ms of timed runs per process" % (
            started.strftime("%Y-%m-%d %H:%M %Z"), host["cpu"], host["cpus"], kset,
            ", and nnlink-avx2 (%s)" % kset_avx2 if cfg.avx2 else "", cfg.threads, cfg.rounds,
            cfg.target_ms))
    if load_before[0] > 0.5:
        log("WARNING: load average %.2f before starting: other jobs are running, figures are noisy"
            % load_before[0])
    graphs = ensure_models(cfg)
    log("%d graphs" % len(graphs))

    # Setup: compile, check the output against the PyTorch reference, and a
    # probe run that sizes each graph's number of timed runs.
    setup = {}
    nn = B.Nnlink(cfg, setup)
    nnl = {}
    for g in graphs:
        f = nn.compile(g["onnx"], g["name"], g["shapes"], os.path.join(cfg.work, g["name"] + ".nnl"))
        if not f:
            continue
        nn.check(f, g["name"], g, max(cfg.threads))
        try:
            p = nnlink_sample(cfg, f, g, 1, 1)
        except RuntimeError as ex:
            setup["probe " + g["name"]] = {"error": str(ex)}
            log("  nnlink profile %s: FAILED: %s" % (g["name"], B.tail(str(ex), 300)))
            continue
        nnl[g["name"]] = f
        g["flops"] = p["flops"]
        g["probe_ms"] = p["median_ms"]
        g["runs"] = max(cfg.min_runs, min(cfg.max_runs, int(cfg.target_ms / max(p["median_ms"], 1e-3))))
        log("  %-30s %-12s %8.2f GFLOP  probe %9.3f ms -> %d runs" % (
            g["name"], g["shape"], (p["flops"] or 0) / 1e9, p["median_ms"], g["runs"]))
    for g in graphs:
        g.setdefault("runs", cfg.min_runs)

    samples = {}   # "graph@threads" -> tool -> [sample]
    loads = []
    k = 0
    if cfg.interleave:
        for t in cfg.threads:
            loads.append(os.getloadavg()[0])
            log("%d thread%s, %d turns (load average %.2f)" % (t, "s" * (t > 1), cfg.interleave, loads[-1]))
            for g in graphs:
                key = "%s@%d" % (g["name"], t)
                k += 1
                got = interleaved(cfg, g, nnl.get(g["name"]), tools, t, k)
                for tool, ss in got.items():
                    samples.setdefault(key, {}).setdefault(tool, []).extend(ss)
                line = []
                for tool in tools:
                    ms = [x["median_ms"] for x in got.get(tool, []) if "median_ms" in x]
                    line.append("%s %s" % (tool, "%.3f" % float(np.median(ms)) if ms else "FAILED"))
                log("  %-30s %s" % (g["name"], ", ".join(line)))
    for r in range(0 if cfg.interleave else cfg.rounds):
        for t in cfg.threads:
            loads.append(os.getloadavg()[0])
            log("round %d/%d, %d thread%s (load average %.2f)" % (r + 1, cfg.rounds, t, "s" * (t > 1),
                                                                   loads[-1]))
            for g in graphs:
                key = "%s@%d" % (g["name"], t)
                line = []
                k += 1
                for tool in B.rotate(tools, k):
                    try:
                        if tool == "ort":
                            s = ort_sample(cfg, g, t, g["runs"])
                        elif g["name"] not in nnl:
                            continue
                        else:
                            s = nnlink_sample(cfg, nnl[g["name"]], g, t, g["runs"],
                                              env={"NNL_ISA": "avx2"} if tool == "nnlink-avx2" else None)
                        line.append("%s %.3f" % (tool, s["median_ms"]))
                    except (RuntimeError, KeyError, ValueError, OSError) as ex:
                        s = {"error": B.tail(str(ex), 400)}
                        line.append("%s FAILED" % tool)
                    samples.setdefault(key, {}).setdefault(tool, []).append(s)
                log("  %-30s %s" % (g["name"], ", ".join(line)))
    finished = datetime.datetime.now().astimezone()
    load_after = os.getloadavg()
    rows, summary = summarize(graphs, samples, tools, cfg.threads)
    result = {
        "started": started.isoformat(timespec="seconds"), "finished": finished.isoformat(timespec="seconds"),
        "host": host, "kernel_set": kset, "kernel_set_avx2": kset_avx2, "tools": tools,
        "load_average": {"before": load_before[0], "rounds": loads, "after": load_after[0]},
        "config": dict(vars(cfg), nice=os.environ.get("BENCH_NICE", "")),
        "command": "bench/run.sh --broad " + " ".join(argv),
        "graphs": [{k: v for k, v in g.items() if k in ("name", "label", "shape", "onnx", "flops", "runs")}
                   for g in graphs],
        "nnlink_setup": setup, "samples": samples, "rows": rows, "summary": summary,
    }
    print()
    print("\n".join(report_lines(result)))
    os.makedirs(os.path.dirname(cfg.out), exist_ok=True)
    with open(cfg.out, "w") as f:
        json.dump(result, f, indent=1)
    log("\nwrote %s" % cfg.out)
    return 0


# ---------------------------------------------------------------- report


def fmt(v, pat="%.3g"):
    return pat % v if v is not None else "n/a"


def fmt_ms(v):
    return "n/a" if v is None else "%.0f" % v if v >= 100 else "%.3g" % v


def report_lines(r, markdown=False):
    tools = [t for t in r["tools"] if t != "ort"]
    threads = r["config"]["threads"]
    la = r["load_average"]
    loads = [la["before"]] + la["rounds"] + [la["after"]]
    turns = r["config"].get("interleave")
    how = ("%d interleaved turns of ~%d ms" % (turns, r["config"]["batch_ms"]) if turns
           else "%d round(s)" % r["config"]["rounds"])
    unit = "turns of each batch's" if turns else "rounds of each process's"
    out = ["Measured %s on %s (%d CPUs); nnlink kernel set %s%s; git %s; %s; load average "
           "%.2f-%.2f%s." % (r["started"], r["host"]["cpu"], r["host"]["cpus"], r["kernel_set"],
                             "; nnlink-avx2: NNL_ISA=avx2 (%s)" % r["kernel_set_avx2"] if r.get("kernel_set_avx2")
                             else "", r["host"]["git"], how, min(loads), max(loads),
                             " (noisy: other jobs were running)" if max(loads) > 0.5 else ""),
           "Command: %s. Times in ms (median over %s median); ratio = nnlink / ORT, lower is better; "
           "paired = median of the %s own ratios; best = ratio of the best %s; fastest = ratio of the fastest "
           "single runs.%s" % (
               r["command"], unit, "turns'" if turns else "rounds'", "turns" if turns else "rounds",
               " Tool processes ran at nice %s." % r["config"]["nice"] if r["config"].get("nice") else ""), ""]
    head = ["graph", "input", "GFLOP"]
    for t in threads:
        head += ["nnlink %dT" % t, "ORT %dT" % t, "ratio %dT" % t, "paired %dT" % t, "best %dT" % t,
                 "fastest %dT" % t]
        for tool in tools[1:]:
            head += ["%s %dT" % (tool, t), "ratio %s %dT" % (tool, t)]
    body = []
    by = {(x["graph"], x["threads"]): x for x in r["rows"]}
    for g in r["graphs"]:
        cells = [g["label"], g["shape"], fmt(g.get("flops") and g["flops"] / 1e9)]
        for t in threads:
            x = by.get((g["name"], t), {})
            cells += [fmt(x.get("nnlink"), "%.4g"), fmt(x.get("ort"), "%.4g"),
                      fmt(x.get("ratio_nnlink"), "%.2f"), fmt(x.get("ratio_paired_nnlink"), "%.2f"),
                      fmt(x.get("ratio_best_nnlink"), "%.2f"),
                      fmt(x.get("ratio_min_nnlink"), "%.2f")]
            for tool in tools[1:]:
                cells += [fmt(x.get(tool), "%.4g"), fmt(x.get("ratio_" + tool), "%.2f")]
        body.append(cells)
    out += table(head, body, markdown)
    out.append("")
    for tool in tools:
        for t in threads:
            s = r["summary"].get("%s@%d" % (tool, t))
            if s:
                paired = ""
                if s.get("geomean_paired"):
                    paired = " (paired %.2f" % s["geomean_paired"]
                    if "at_most_1_paired" in s:
                        paired += ", %d at most 1.0" % s["at_most_1_paired"]
                    paired += ")"
                if s.get("geomean_min"):
                    paired += " (fastest runs %.2f, %d at most 1.0)" % (s["geomean_min"], s["at_most_1_min"])
                out.append("%s, %d thread%s: geometric mean of nnlink/ORT %.2f (best rounds %.2f)%s over %d graphs; "
                           "worst %s %.2f; %d of %d at most 1.0" % (
                               tool, t, "s" * (t > 1), s["geomean"], s["geomean_best"], paired, s["graphs"],
                               s["worst"], s["worst_ratio"], s["at_most_1"], s["graphs"]))
    errs = []
    for x in r["rows"]:
        for k, v in x.items():
            if k.endswith("_error"):
                errs.append("%s @%dT %s: %s" % (x["graph"], x["threads"], k[:-6], B.tail(v, 200)))
    for k, v in r["nnlink_setup"].items():
        if isinstance(v, dict) and "error" in v:
            errs.append("nnlink %s: %s" % (k, B.tail(v["error"], 200)))
        elif k.startswith("check ") and isinstance(v, dict):
            bad = [o for o, c in v.items() if isinstance(c, dict) and not c.get("ok")]
            if bad:
                errs.append("nnlink %s: output %s differs from the PyTorch reference" % (k, ", ".join(bad)))
    if errs:
        out += ["", "Failures:"] + ["- " + e for e in errs]
    return out


def brief_lines(r):
    """The README's table: medians and ratios per thread count, the
    geometric mean, the worst graph and the count at most 1.0x."""
    threads = r["config"]["threads"]
    by = {(x["graph"], x["threads"]): x for x in r["rows"]}
    head = ["graph", "input"]
    for t in threads:
        head += ["%d thread%s: nnlink ms" % (t, "s" * (t > 1)), "ORT ms", "ratio"]
    body = []
    for g in r["graphs"]:
        cells = [g["label"], g["shape"]]
        for t in threads:
            x = by.get((g["name"], t), {})
            cells += [fmt_ms(x.get("nnlink")), fmt_ms(x.get("ort")), fmt(x.get("ratio_nnlink"), "%.2f")]
        body.append(cells)
    for label, f in (("**geometric mean**", lambda s: "**%.2f**" % s["geomean"]),
                     ("worst", lambda s: "%s %.2f" % (s["worst"], s["worst_ratio"])),
                     ("at most 1.0x", lambda s: "%d of %d" % (s["at_most_1"], s["graphs"]))):
        cells = [label, ""]
        for t in threads:
            s = r["summary"].get("nnlink@%d" % t)
            cells += ["", "", f(s) if s else "n/a"]
        body.append(cells)
    return table(head, body, True)


def table(head, body, markdown):
    if markdown:
        return (["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] +
                ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body])
    widths = [max(len(row[i]) for row in body + [head]) for i in range(len(head))]
    return ["  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(row)).rstrip()
            for row in [head] + body]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
