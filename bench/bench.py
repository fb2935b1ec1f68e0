#!/usr/bin/python3
"""Benchmark driver: nnlink against ONNX Runtime (onnxruntime-node) and
PyTorch (Debian's python3-torch) on the same inputs and thread counts.

usage: bench/run.sh [--quick] [--cases fcn,rss,link,gpt]
       (or /usr/bin/python3 bench/bench.py ...; run.sh also builds nnlink
       and installs the ORT package first)

Every measurement is taken in a fresh process per tool (nnlink profile,
node bench/ort_bench.js, python3 bench/torch_bench.py).  The tools take
turns: each round measures every case with every tool, and the order of the
tools rotates from case to case and round to round, so background load on
the shared machine hits all of them alike.  A tool's figure for a case is
the median over rounds of its per-round median.  Ratios are nnlink / peer:
below 1 means nnlink is faster (smaller) for times and memory; for
throughput (link) above 1 means nnlink is faster.

Configuration (environment):
  NNLINK            nnlink binary                  (default build/nnlink)
  BENCH_WORK        scratch folder for .nnl files  (default build/bench-run)
  BENCH_OUT         results file                   (default bench/results.json)
  BENCH_FCN_DIR     FCN model folder with MANIFEST.json (default /work/models/fcn;
                    exported with tools/export_fcn_resnet50.py when missing)
  BENCH_THREADS     thread counts                  (default "1 2")
  BENCH_RUNS        timed runs per process (FCN)   (default 5)
  BENCH_WARMUP      untimed runs after the cold one (default 1)
  BENCH_ROUNDS      rounds of alternation          (default 2)
  BENCH_GPT_RUNS    timed runs per process (GPT)   (default 200)
  BENCH_GPT_WARMUP  (default 20)
  BENCH_LINK_REPS   link / cp repetitions per round (default 3)
  BENCH_CASES       subset of "fcn rss link gpt"   (default all)
  BENCH_TORCH_JIT   1 adds "torch-jit": the eager model traced, frozen and
                    torch.jit.optimize_for_inference'd (default 0)
  BENCH_COMPILE_FLAGS  extra nnlink compile flags, e.g. --winograd
  BENCH_ORT_FIXED   1 (default) fixes ORT's symbolic height/width with
                    freeDimensionOverrides, as nnlink compiles at fixed shapes
  BENCH_TIMEOUT     seconds allowed per tool process (default 1800)
  BENCH_NICE        run every tool process under `nice -n N` (e.g. -10 as
                    root, so other jobs preempt it less; default: unchanged)
"""
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, ".."))
PYTHON = "/usr/bin/python3"


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


class Config:
    def __init__(self, argv):
        e = os.environ
        self.nnlink = os.path.abspath(e.get("NNLINK", os.path.join(REPO, "build", "nnlink")))
        self.work = os.path.abspath(e.get("BENCH_WORK", os.path.join(REPO, "build", "bench-run")))
        self.out = os.path.abspath(e.get("BENCH_OUT", os.path.join(HERE, "results.json")))
        self.fcn_dir = os.path.abspath(e.get("BENCH_FCN_DIR", "/work/models/fcn"))
        self.threads = [int(t) for t in e.get("BENCH_THREADS", "1 2").replace(",", " ").split()]
        self.runs = env_int("BENCH_RUNS", 5)
        self.warmup = env_int("BENCH_WARMUP", 1)
        self.rounds = env_int("BENCH_ROUNDS", 2)
        self.gpt_runs = env_int("BENCH_GPT_RUNS", 200)
        self.gpt_warmup = env_int("BENCH_GPT_WARMUP", 20)
        self.link_reps = env_int("BENCH_LINK_REPS", 3)
        self.cases = e.get("BENCH_CASES", "fcn rss link gpt").replace(",", " ").split()
        self.torch_jit = e.get("BENCH_TORCH_JIT", "0") == "1"
        self.ort_fixed = e.get("BENCH_ORT_FIXED", "1") == "1"
        # extra `nnlink compile` flags, e.g. "--winograd"
        self.compile_flags = e.get("BENCH_COMPILE_FLAGS", "").split()
        self.timeout = env_int("BENCH_TIMEOUT", 1800)
        args = list(argv)
        while args:
            a = args.pop(0)
            if a == "--quick":
                self.runs, self.warmup, self.rounds = 2, 0, 1
                self.gpt_runs, self.gpt_warmup, self.link_reps = 20, 2, 1
            elif a == "--report" and args:
                # Render an earlier results.json as Markdown (for docs/BENCH.md).
                with open(args.pop(0)) as f:
                    r = json.load(f)
                print("Measured %s on %s (%d CPUs), git %s; load average %s." % (
                    r["started"], r["host"]["cpu"], r["host"]["cpus"], r["host"]["git"],
                    " / ".join("%.2f" % x for x in [r["load_average"]["before"]] + r["load_average"]["rounds"]
                               + [r["load_average"]["after"]])))
                print()
                series = []
                for j in r["series"]:
                    x = Series(j["title"], j["metric"], j["unit"], j["better"], j["detail"])
                    x.samples, x.errors = j["samples"], j["errors"]
                    series.append(x)
                print("\n".join(table_lines(build_table(series, r["nnlink_setup"]), markdown=True)))
                sys.exit(0)
            elif a == "--cases" and args:
                self.cases = args.pop(0).replace(",", " ").split()
            elif a in ("-h", "--help"):
                print(__doc__)
                sys.exit(0)
            else:
                sys.exit("bench.py: unknown argument %r (see --help)" % a)
        for c in self.cases:
            if c not in ("fcn", "rss", "link", "gpt"):
                sys.exit("bench.py: unknown case %r" % c)
        if self.runs < 1 or self.rounds < 1 or self.gpt_runs < 1 or not self.threads:
            sys.exit("bench.py: runs, rounds and thread counts must be positive")


def log(msg):
    print(msg, flush=True)


def tail(text, n=600):
    text = (text or "").strip()
    return text if len(text) <= n else "..." + text[-n:]


def run_cmd(cmd, timeout, cwd=None, env=None):
    """Run a command (env: variables to add to ours); returns (seconds,
    stdout) or raises RuntimeError with the end of its stderr."""
    nice = os.environ.get("BENCH_NICE", "").strip()
    if nice:
        # A higher priority (negative, as root) keeps other jobs on a shared
        # machine from preempting the measured process as often.
        cmd = ["nice", "-n", nice] + list(cmd)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout, env=dict(os.environ, **env) if env else None)
    except subprocess.TimeoutExpired:
        raise RuntimeError("timed out after %d s: %s" % (timeout, " ".join(cmd)[:200]))
    except OSError as ex:
        raise RuntimeError("cannot run %s: %s" % (cmd[0], ex))
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError("exit %d: %s" % (p.returncode, tail(p.stderr or p.stdout)))
    return dt, p.stdout


def json_tool(cmd, timeout):
    _, out = run_cmd(cmd, timeout)
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError("no JSON on stdout: %s" % tail(out))
    return json.loads(lines[-1])


# ---------------------------------------------------------------- cases


def load_manifest(path, wanted):
    base = os.path.dirname(path)
    with open(path) as f:
        m = json.load(f)
    cases = {}
    for fx in m["fixtures"]:
        if fx["name"] not in wanted:
            continue
        for c in fx["cases"]:
            cases[c["name"]] = {
                "onnx": os.path.join(base, fx["onnx"]),
                "tolerance": fx.get("tolerance", {}),
                "inputs": {i["name"]: os.path.join(base, i["file"]) for i in c["inputs"]},
                "shapes": {i["name"]: i["shape"] for i in c["inputs"]},
                "refs": {o["name"]: os.path.join(base, o["file"]) for o in c["outputs"]},
            }
    return cases


def ensure_fcn(cfg):
    onnx_path = os.path.join(cfg.fcn_dir, "fcn_resnet50.onnx")
    if not os.path.exists(onnx_path) or not os.path.exists(os.path.join(cfg.fcn_dir, "MANIFEST.json")):
        log("FCN model missing in %s: exporting it with tools/export_fcn_resnet50.py (a few minutes)"
            % cfg.fcn_dir)
        run_cmd([PYTHON, os.path.join(REPO, "tools", "export_fcn_resnet50.py"), cfg.fcn_dir], 7200)
    cases = load_manifest(os.path.join(cfg.fcn_dir, "MANIFEST.json"), {"fcn_resnet50"})
    for name in ("landscape", "portrait"):
        if name not in cases:
            raise SystemExit("bench.py: %s has no '%s' case" % (cfg.fcn_dir, name))
    return cases


def gpt_cases():
    return load_manifest(os.path.join(REPO, "tests", "fixtures", "MANIFEST.json"),
                         {"gpt_prefill", "gpt_decode"})


# ---------------------------------------------------------------- nnlink setup


class Nnlink:
    """Compiles and links the benchmark's .nnl files, recording times and
    errors.  Every later nnlink measurement is skipped when its file is
    missing, so the peers are still measured while nnlink is incomplete."""

    def __init__(self, cfg, record):
        self.cfg = cfg
        self.record = record  # dict written to results.json["nnlink_setup"]
        self.ok = os.access(cfg.nnlink, os.X_OK)
        if not self.ok:
            record["error"] = "no nnlink binary at %s (run make)" % cfg.nnlink

    def compile(self, onnx_path, graph, shapes, out):
        key = "compile " + graph
        if not self.ok:
            return None
        cmd = [self.cfg.nnlink, "compile", onnx_path, "-o", out, "--graph", graph] + self.cfg.compile_flags
        for name, shape in shapes.items():
            cmd += ["--input", "%s=%s" % (name, ",".join(str(d) for d in shape))]
        if os.path.exists(out):
            os.remove(out)
        try:
            dt, _ = run_cmd(cmd, self.cfg.timeout)
        except RuntimeError as ex:
            self.record[key] = {"error": str(ex)}
            log("  nnlink compile %s: FAILED: %s" % (graph, ex))
            return None
        self.record[key] = {"seconds": dt, "bytes": os.path.getsize(out)}
        log("  nnlink compile %s: %.2f s, %.1f MB" % (graph, dt, os.path.getsize(out) / 1e6))
        return out

    def link(self, files, out, report):
        if not self.ok or any(f is None for f in files):
            return None
        if os.path.exists(out):
            os.remove(out)
        try:
            dt, _ = run_cmd([self.cfg.nnlink, "link"] + files + ["-o", out, "--report", report],
                            self.cfg.timeout)
        except RuntimeError as ex:
            self.record["link " + os.path.basename(out)] = {"error": str(ex)}
            log("  nnlink link -> %s: FAILED: %s" % (os.path.basename(out), ex))
            return None
        size_in = sum(os.path.getsize(f) for f in files)
        self.record["link " + os.path.basename(out)] = {
            "seconds": dt, "bytes_in": size_in, "bytes_out": os.path.getsize(out)}
        log("  nnlink link -> %s: %.2f s, %.1f MB in, %.1f MB out"
            % (os.path.basename(out), dt, size_in / 1e6, os.path.getsize(out) / 1e6))
        return out

    def check(self, nnl, graph, case, threads):
        """Run once and compare every output with the PyTorch reference
        (|got - ref| <= atol + rtol * |ref| per element, as the tests do)."""
        key = "check " + graph
        outdir = os.path.join(self.cfg.work, "out-" + graph)
        shutil.rmtree(outdir, ignore_errors=True)
        cmd = [self.cfg.nnlink, "run", nnl, "--graph", graph, "-o", outdir, "--threads", str(threads)]
        for name, f in case["inputs"].items():
            cmd += ["--input", "%s=%s" % (name, f)]
        try:
            run_cmd(cmd, self.cfg.timeout)
        except RuntimeError as ex:
            self.record[key] = {"error": str(ex)}
            log("  nnlink run %s: FAILED: %s" % (graph, ex))
            return
        rtol = case["tolerance"].get("rtol", 1e-3)
        atol = case["tolerance"].get("atol", 1e-4)
        res = {}
        for name, ref_path in case["refs"].items():
            ref = np.load(ref_path)
            got_path = os.path.join(outdir, name + ".npy")
            if not os.path.exists(got_path):
                res[name] = {"ok": False, "error": "output not written"}
                continue
            got = np.load(got_path)
            if got.shape != ref.shape:
                res[name] = {"ok": False, "error": "shape %s, want %s" % (got.shape, ref.shape)}
                continue
            d = np.abs(got.astype(np.float64) - ref)
            ok = bool(np.isfinite(got).all() and (d <= atol + rtol * np.abs(ref)).all())
            res[name] = {"ok": ok, "max_abs_diff": float(d.max()) if d.size else 0.0}
        self.record[key] = res
        log("  nnlink run %s vs PyTorch reference: %s" % (
            graph, ", ".join("%s %s (max |diff| %s)" % (n, "ok" if r["ok"] else "WRONG",
                                                        "%.3g" % r["max_abs_diff"] if "max_abs_diff" in r
                                                        else r.get("error"))
                             for n, r in res.items())))


# ---------------------------------------------------------------- tool runners


def nnlink_latency(cfg, nnl, graph, case, threads, runs, warmup):
    out = os.path.join(cfg.work, "profile-%s-t%d.json" % (graph, threads))
    if os.path.exists(out):
        os.remove(out)
    cmd = [cfg.nnlink, "profile", nnl, "--graph", graph, "--runs", str(runs), "--warmup", str(warmup),
           "--threads", str(threads), "--json", out]
    for name, f in case["inputs"].items():
        cmd += ["--input", "%s=%s" % (name, f)]
    run_cmd(cmd, cfg.timeout)
    with open(out) as f:
        j = json.load(f)
    lat = j["latency_ms"]
    return {"median_ms": lat["median"], "min_ms": lat["min"], "cold_ms": j.get("cold_ms"),
            "load_ms": j["load_ms"] + j["session_ms"], "open_ms": j["load_ms"],
            "session_ms": j["session_ms"], "peak_rss_bytes": j.get("peak_rss_bytes")}


def peer_spec(case, threads, runs, warmup, fixed):
    s = {"mode": "latency", "threads": threads, "runs": runs, "warmup": warmup,
         "inputs": case["inputs"], "refs": case["refs"]}
    if fixed:
        s["fixed"] = fixed
    return s


def ort_latency(cfg, case, threads, runs, warmup, fixed):
    spec = peer_spec(case, threads, runs, warmup, fixed if cfg.ort_fixed else None)
    spec["model"] = case["onnx"]
    j = json_tool(["node", os.path.join(HERE, "ort_bench.js"), json.dumps(spec)], cfg.timeout)
    return {"median_ms": j["latency_ms"]["median"], "min_ms": j["latency_ms"]["min"],
            "cold_ms": j["cold_ms"], "load_ms": j["session_ms"], "peak_rss_bytes": j["peak_rss_bytes"],
            "max_abs_diff": j["max_abs_diff"], "version": j["version"]}


def torch_latency(cfg, case, threads, runs, warmup, model, jit):
    spec = peer_spec(case, threads, runs, warmup, None)
    spec.update(model=model, onnx=case["onnx"], jit=jit)
    j = json_tool([PYTHON, os.path.join(HERE, "torch_bench.py"), json.dumps(spec)], cfg.timeout)
    return {"median_ms": j["latency_ms"]["median"], "min_ms": j["latency_ms"]["min"],
            "cold_ms": j["cold_ms"], "build_ms": j["build_ms"], "peak_rss_bytes": j["peak_rss_bytes"],
            "max_abs_diff": j["max_abs_diff"], "version": j["version"], "threads": j["threads"]}


# ---------------------------------------------------------------- measurement


class Series:
    """Samples of one measured quantity per tool, in measurement order."""

    def __init__(self, title, metric, unit, better, detail=None):
        self.title, self.metric, self.unit, self.better = title, metric, unit, better
        self.detail = detail or {}
        self.samples = {}   # tool -> [sample dict]
        self.errors = {}    # tool -> message

    def add(self, tool, fn):
        if tool in self.errors:
            return
        try:
            self.samples.setdefault(tool, []).append(fn())
        except (RuntimeError, KeyError, ValueError, OSError) as ex:
            self.errors[tool] = str(ex)
            log("    %s: FAILED: %s" % (tool, tail(str(ex), 300)))

    def _vals(self, tool, key):
        return [s[key] for s in self.samples.get(tool, []) if s.get(key) is not None]

    def value(self, tool, key):
        vals = self._vals(tool, key)
        return float(np.median(vals)) if vals else None

    def best(self, tool, key):
        vals = self._vals(tool, key)
        if not vals:
            return None
        return float(max(vals) if self.better == "higher" else min(vals))

    def to_json(self):
        return {"title": self.title, "metric": self.metric, "unit": self.unit, "better": self.better,
                "detail": self.detail, "samples": self.samples, "errors": self.errors}


def rotate(tools, k):
    k %= len(tools)
    return tools[k:] + tools[:k]


def fmt_s(s):
    keys = [k for k in ("median_ms", "load_ms", "peak_rss_bytes", "bytes_per_s") if s.get(k) is not None]
    parts = []
    for k in keys:
        v = s[k]
        parts.append("%s %.3f" % (k, v) if k.endswith("_ms") else
                     "%s %.1f MB" % (k.replace("_bytes", ""), v / 1e6) if k == "peak_rss_bytes" else
                     "%.1f MB/s" % (v / 1e6))
    return ", ".join(parts)


def measure(tool, series, fn):
    series.add(tool, fn)
    if tool in series.samples and tool not in series.errors:
        log("    %-9s %s" % (tool, fmt_s(series.samples[tool][-1])))


def main(argv):
    cfg = Config(argv)
    os.makedirs(cfg.work, exist_ok=True)
    started = datetime.datetime.now().astimezone()
    load_before = os.getloadavg()
    log("nnlink benchmark, %s; threads %s, %d rounds x %d runs (+%d warmup), GPT %d runs"
        % (started.strftime("%Y-%m-%d %H:%M %Z"), cfg.threads, cfg.rounds, cfg.runs, cfg.warmup,
           cfg.gpt_runs))
    if load_before[0] > 0.5:
        log("WARNING: load average %.2f before starting: other jobs are running, figures are noisy"
            % load_before[0])
    setup = {}
    nn = Nnlink(cfg, setup)
    if not nn.ok:
        log("WARNING: " + setup["error"] + "; measuring the peers only")
    w = cfg.work
    series = []
    latency_jobs = []   # (series_latency, series_load, tool -> fn)

    torch_tools = ["torch"] + (["torch-jit"] if cfg.torch_jit else [])
    tmax = max(cfg.threads)

    fcn = fcn_files = None
    if any(c in cfg.cases for c in ("fcn", "rss", "link")):
        fcn = ensure_fcn(cfg)
        log("setup: FCN ResNet-50 from %s" % cfg.fcn_dir)
        fcn_files = {g: nn.compile(fcn[g]["onnx"], g, fcn[g]["shapes"], os.path.join(w, "fcn-%s.nnl" % g))
                     for g in ("landscape", "portrait")}
        fcn_linked = nn.link([fcn_files["landscape"], fcn_files["portrait"]], os.path.join(w, "fcn.nnl"),
                             os.path.join(w, "fcn-link-report.json"))
        for g in ("landscape", "portrait"):
            src = fcn_linked or fcn_files[g]
            if src:
                nn.check(src, g, fcn[g], tmax)

    if "fcn" in cfg.cases:
        for g in ("landscape", "portrait"):
            case = fcn[g]
            shape = case["shapes"]["image"]
            fixed = {"height": shape[2], "width": shape[3]}
            nnl = fcn_linked or fcn_files[g]
            for t in cfg.threads:
                title = "FCN ResNet-50 %s %s, %d thread%s" % (g, "x".join(map(str, shape)), t, "s" * (t > 1))
                lat = Series(title, "latency (median)", "ms", "lower",
                             {"case": g, "threads": t, "runs": cfg.runs, "warmup": cfg.warmup,
                              "nnl": nnl})
                load = Series("FCN %s, %d thread%s" % (g, t, "s" * (t > 1)),
                              "load (nnlink open+session, ORT create)", "ms", "lower")
                fns = {"ort": lambda c=case, t=t, f=fixed: ort_latency(cfg, c, t, cfg.runs, cfg.warmup, f)}
                for tt in torch_tools:
                    fns[tt] = (lambda c=case, t=t, j=(tt == "torch-jit"):
                               torch_latency(cfg, c, t, cfg.runs, cfg.warmup, "fcn", j))
                if nnl:
                    fns["nnlink"] = lambda n=nnl, g=g, c=case, t=t: nnlink_latency(cfg, n, g, c, t, cfg.runs,
                                                                                   cfg.warmup)
                else:
                    lat.errors["nnlink"] = load.errors["nnlink"] = "not compiled (see nnlink_setup)"
                latency_jobs.append((lat, load, fns))
                series += [lat, load]

    gpt_linked = None
    if "gpt" in cfg.cases:
        gpt = gpt_cases()
        log("setup: GPT decoder from tests/fixtures/gpt")
        gfiles = {g: nn.compile(gpt[g]["onnx"], g, {}, os.path.join(w, "gpt-%s.nnl" % g))
                  for g in ("prefill", "decode")}
        gpt_linked = nn.link([gfiles["prefill"], gfiles["decode"]], os.path.join(w, "gpt.nnl"),
                             os.path.join(w, "gpt-link-report.json"))
        for g in ("prefill", "decode"):
            src = gpt_linked or gfiles[g]
            if src:
                nn.check(src, g, gpt[g], tmax)
        for g in ("prefill", "decode"):
            case = gpt[g]
            nnl = gpt_linked or gfiles[g]
            for t in cfg.threads:
                ntok = case["shapes"]["input_ids"][1]
                title = "GPT %s (%d token%s), %d thread%s" % (g, ntok, "s" * (ntok > 1), t, "s" * (t > 1))
                lat = Series(title, "latency (median)", "ms", "lower",
                             {"case": g, "threads": t, "runs": cfg.gpt_runs, "warmup": cfg.gpt_warmup,
                              "nnl": nnl})
                fns = {"ort": lambda c=case, t=t: ort_latency(cfg, c, t, cfg.gpt_runs, cfg.gpt_warmup, None)}
                for tt in torch_tools:
                    fns[tt] = (lambda c=case, t=t, j=(tt == "torch-jit"):
                               torch_latency(cfg, c, t, cfg.gpt_runs, cfg.gpt_warmup, "gpt", j))
                if nnl:
                    fns["nnlink"] = lambda n=nnl, g=g, c=case, t=t: nnlink_latency(
                        cfg, n, g, c, t, cfg.gpt_runs, cfg.gpt_warmup)
                else:
                    lat.errors["nnlink"] = "not compiled (see nnlink_setup)"
                latency_jobs.append((lat, None, fns))
                series.append(lat)

    rss = None
    if "rss" in cfg.cases:
        rss = Series("FCN landscape + portrait in one process, %d thread%s" % (tmax, "s" * (tmax > 1)),
                     "peak RSS", "MB", "lower",
                     {"nnlink": "profile --all on the linked file (weights stored once)",
                      "ort": "node holding two InferenceSessions, each run once",
                      "torch": "one eager model run on both shapes"})
        if not fcn_linked:
            rss.errors["nnlink"] = "no linked FCN file (see nnlink_setup)"
        series.append(rss)

    link = None
    if "link" in cfg.cases:
        link = Series("link the two compiled FCN graphs", "throughput (bytes in / s)", "MB/s", "higher")
        if not (fcn_files and fcn_files["landscape"] and fcn_files["portrait"]):
            link.errors["nnlink"] = "compiled FCN files missing (see nnlink_setup)"
            link.errors["cp"] = link.errors["cp+fsync"] = "nothing to copy"
        series.append(link)

    loads = []
    for r in range(cfg.rounds):
        loads.append(os.getloadavg()[0])
        log("round %d/%d (load average %.2f)" % (r + 1, cfg.rounds, loads[-1]))
        for k, (lat, load, fns) in enumerate(latency_jobs):
            log("  %s" % lat.title)
            for tool in rotate(sorted(fns), r + k):
                def sample(tool=tool, fns=fns, lat=lat, load=load):
                    s = fns[tool]()
                    if load is not None and tool in ("nnlink", "ort"):
                        load.samples.setdefault(tool, []).append({"load_ms": s["load_ms"]})
                    return s
                measure(tool, lat, sample)
        if rss is not None:
            log("  %s" % rss.title)
            land, port = fcn["landscape"], fcn["portrait"]
            fns = {
                "ort": lambda: ort_rss(cfg, land, port, tmax),
            }
            for tt in torch_tools[:1]:
                fns[tt] = lambda: torch_rss(cfg, land, port, tmax)
            if fcn_linked:
                fns["nnlink"] = lambda: nnlink_rss(cfg, fcn_linked, tmax)
            for tool in rotate(sorted(fns), r):
                measure(tool, rss, fns[tool])
        if link is not None and "nnlink" not in link.errors:
            log("  %s" % link.title)
            files = [fcn_files["landscape"], fcn_files["portrait"]]
            for rep in range(cfg.link_reps):
                for tool in rotate(["cp", "cp+fsync", "nnlink"], r + rep):
                    measure(tool, link, lambda tool=tool: link_sample(cfg, tool, files))
    for lat, load, _ in latency_jobs:
        if load is not None:
            for tool, err in lat.errors.items():
                if tool in ("nnlink", "ort"):
                    load.errors.setdefault(tool, err)
    finished = datetime.datetime.now().astimezone()
    load_after = os.getloadavg()

    table = build_table(series, setup)
    print_table(table)
    if max([load_before[0], load_after[0]] + loads) > 0.5:
        log("\nNOTE: load average reached %.2f during the run: other jobs shared the 2 cores, so "
            "the figures are noisy; rerun on an idle machine for firm numbers."
            % max([load_before[0], load_after[0]] + loads))
    result = {
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "host": host_info(),
        "load_average": {"before": load_before[0], "rounds": loads, "after": load_after[0]},
        "config": {k: v for k, v in vars(cfg).items()},
        "nnlink_setup": setup,
        "series": [s.to_json() for s in series],
        "table": table,
    }
    os.makedirs(os.path.dirname(cfg.out), exist_ok=True)
    with open(cfg.out, "w") as f:
        json.dump(result, f, indent=1)
    log("\nwrote %s" % cfg.out)
    return 0


def ort_rss(cfg, land, port, threads):
    spec = {"mode": "rss", "model": land["onnx"], "threads": threads, "sessions": []}
    for c in (land, port):
        shape = c["shapes"]["image"]
        s = {"inputs": c["inputs"]}
        if cfg.ort_fixed:
            s["fixed"] = {"height": shape[2], "width": shape[3]}
        spec["sessions"].append(s)
    j = json_tool(["node", os.path.join(HERE, "ort_bench.js"), json.dumps(spec)], cfg.timeout)
    return {"peak_rss_bytes": j["peak_rss_bytes"], "baseline_rss_bytes": j["baseline_rss_bytes"]}


def torch_rss(cfg, land, port, threads):
    spec = {"mode": "rss", "model": "fcn", "onnx": land["onnx"], "threads": threads,
            "input_sets": [land["inputs"], port["inputs"]]}
    j = json_tool([PYTHON, os.path.join(HERE, "torch_bench.py"), json.dumps(spec)], cfg.timeout)
    return {"peak_rss_bytes": j["peak_rss_bytes"], "baseline_rss_bytes": j["baseline_rss_bytes"]}


def nnlink_rss(cfg, nnl, threads):
    out = os.path.join(cfg.work, "profile-all.json")
    if os.path.exists(out):
        os.remove(out)
    run_cmd([cfg.nnlink, "profile", nnl, "--all", "--runs", "1", "--warmup", "0", "--threads", str(threads),
             "--json", out], cfg.timeout)
    with open(out) as f:
        j = json.load(f)
    return {"peak_rss_bytes": j["peak_rss_bytes"], "weight_bytes": j.get("weight_bytes"),
            "asset_bytes": j.get("asset_bytes")}


def link_sample(cfg, tool, files):
    """Seconds to turn the two compiled files into output on disk: nnlink
    link (which fsyncs its output before renaming it into place) against cp
    of the same bytes, with and without fsync."""
    size_in = sum(os.path.getsize(f) for f in files)
    if tool == "nnlink":
        out = os.path.join(cfg.work, "fcn-linkbench.nnl")
        if os.path.exists(out):
            os.remove(out)
        dt, _ = run_cmd([cfg.nnlink, "link"] + files + ["-o", out], cfg.timeout)
        size_out = os.path.getsize(out)
        os.remove(out)
    else:
        outs = [os.path.join(cfg.work, "cp-%d.bin" % i) for i in range(len(files))]
        for o in outs:
            if os.path.exists(o):
                os.remove(o)
        t0 = time.perf_counter()
        for src, dst in zip(files, outs):
            run_cmd(["cp", src, dst], cfg.timeout)
            if tool == "cp+fsync":
                run_cmd(["sync", dst], cfg.timeout)   # coreutils sync FILE: fsync that file
        dt = time.perf_counter() - t0
        size_out = sum(os.path.getsize(o) for o in outs)
        for o in outs:
            os.remove(o)
    return {"seconds": dt, "bytes_per_s": size_in / dt, "bytes_in": size_in, "bytes_out": size_out}


# ---------------------------------------------------------------- report


def build_table(series, setup):
    """One row per (case, peer).  "nnlink"/"peer_value" are the medians over
    rounds of each round's figure, "*_best" the best round (lowest time or
    memory, highest throughput), which is the steadier figure when other jobs
    load the machine.  Ratios are nnlink / peer."""
    rows = []
    for s in series:
        if s.metric.startswith("load"):
            key, scale = "load_ms", 1.0
        elif "RSS" in s.metric:
            key, scale = "peak_rss_bytes", 1e-6
        elif s.unit == "MB/s":
            key, scale = "bytes_per_s", 1e-6
        else:
            key, scale = "median_ms", 1.0

        def get(tool, best):
            v = s.best(tool, key) if best else s.value(tool, key)
            return v * scale if v is not None else None

        nv, nb = get("nnlink", False), get("nnlink", True)
        peers = [t for t in ("ort", "torch", "torch-jit", "cp", "cp+fsync")
                 if t in s.samples or t in s.errors]
        for p in peers:
            pv, pb = get(p, False), get(p, True)
            note = ""
            if key == "median_ms":
                diffs = [x.get("max_abs_diff") for x in s.samples.get(p, []) if x.get("max_abs_diff")]
                if diffs:
                    worst = max(v if v is not None else float("inf") for d in diffs for v in d.values())
                    note = "max |diff| vs PyTorch ref %.2g" % worst
            base = [x["baseline_rss_bytes"] for x in s.samples.get(p, []) if x.get("baseline_rss_bytes")]
            if base:
                note = "of which %.0f MB is the runtime with no model loaded" % (min(base) / 1e6)
            if p in s.errors:
                note = "FAILED: " + tail(s.errors[p], 160)
            rows.append({"case": s.title, "metric": "%s, %s" % (s.metric, s.unit), "better": s.better,
                         "nnlink": nv, "peer": p, "peer_value": pv,
                         "ratio": nv / pv if nv is not None and pv else None,
                         "nnlink_best": nb, "peer_best": pb,
                         "ratio_best": nb / pb if nb is not None and pb else None,
                         "rounds": len(s.samples.get(p, [])), "note": note,
                         "nnlink_error": s.errors.get("nnlink", "")})
    for k, v in setup.items():
        if k.startswith("compile ") and isinstance(v, dict):
            ms = v["seconds"] * 1e3 if "seconds" in v else None
            rows.append({"case": "nnlink compile " + k[8:], "metric": "wall time, ms", "better": "lower",
                         "nnlink": ms, "peer": "-", "peer_value": None, "ratio": None,
                         "nnlink_best": ms, "peer_best": None, "ratio_best": None, "rounds": 1,
                         "note": "", "nnlink_error": v.get("error", "")})
    return rows


def fmt_v(v):
    if v is None:
        return "n/a"
    return "%.4g" % v if abs(v) < 1000 else "%.0f" % v


def fmt_ratio(r):
    return "%.3gx" % r if r is not None else "-"


def table_lines(rows, markdown=False):
    """The table as text lines: plain columns, or a Markdown table."""
    head = ["case", "metric", "nnlink", "peer", "peer value", "nnlink/peer",
            "best: nnlink", "peer", "nnlink/peer", "note"]
    body, last = [], None
    for r in rows:
        same = (r["case"], r["metric"]) == last and not markdown
        last = (r["case"], r["metric"])
        note = r["note"]
        if r["nnlink_error"] and not same:
            note = "nnlink: " + tail(r["nnlink_error"], 140) + ("; " + note if note else "")
        body.append(["" if same else r["case"], "" if same else r["metric"],
                     "" if same else fmt_v(r["nnlink"]), r["peer"], fmt_v(r["peer_value"]),
                     fmt_ratio(r["ratio"]), "" if same else fmt_v(r["nnlink_best"]),
                     fmt_v(r["peer_best"]), fmt_ratio(r["ratio_best"]), note])
    if markdown:
        esc = [[c.replace("|", "\\|") for c in r] for r in body]
        return (["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] +
                ["| " + " | ".join(r) + " |" for r in esc])
    widths = [max(len(r[i]) for r in body + [head]) for i in range(len(head) - 1)]
    right = {2, 4, 5, 6, 7, 8}
    out = []
    for r in [head] + body:
        cells = [r[i].rjust(widths[i]) if i in right else r[i].ljust(widths[i]) for i in range(len(widths))]
        out.append("  ".join(cells + [r[-1]]).rstrip())
    return out


def print_table(rows):
    print()
    for line in table_lines(rows):
        print(line)


def host_info():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    rev = ""
    try:
        rev = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "machine": platform.machine(), "kernel": platform.release(),
            "git": rev}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
