#!/usr/bin/python3
"""Where the time goes, nnlink against ONNX Runtime: per op class.

usage: bench/run.sh --ops [--threads N] [--runs N] [--only a,b,...] [--layers]
       /usr/bin/python3 bench/ops.py --report FILE.json

For each graph (default: the networks where nnlink loses most, see
DEFAULT), one `nnlink profile --json` and one ORT session with its own
profiler on (`enableProfiling`; bench/ort_bench.js), same inputs, same
thread count, R timed runs each.  Every nnlink layer and every ORT node is
put into a class by its op and shapes: depthwise kxk sS, 1x1 conv by output
size, dense kxk sS, grouped conv, GEMM/MatMul by row count, batched MatMul
(attention), SE channel scale, elementwise ops, pooling, layout (ORT's NCHWc
Reorder*, Transpose, Concat, ...).  nnlink layers take their shapes from the
ONNX model (the first ONNX node of a fused layer names it); ORT nodes report
theirs in the trace.  Each layer's
and node's time is its median over the runs, which a preempted run does not
move.  Fused work goes with the layer that carries it (both
runtimes fuse bias + activation, and the residual Add, into the convolution).

Per graph and class: ms per run in each runtime, the difference, and GFLOP/s
(2 x multiply-adds of convolutions and matrix products, from the shapes;
the same formula for both).  The summary ranks classes by their share of
nnlink's excess summed over graphs: (nnlink_ms - ort_ms) / ort_total_ms,
i.e. how much of each graph's ratio above 1 the class accounts for.

Profiling costs time in both runtimes (ORT's profiler, nnlink's per-layer
clock), so absolute totals here are a little above bench/broad.py's.

Environment: NNLINK, BENCH_DIR, BENCH_WORK (default build/bench-broad),
BENCH_OUT (default bench/ops-results.json) as for bench/broad.py.
"""
import datetime
import glob
import json
import os
import sys

import numpy as np

sys.dont_write_bytecode = True
import bench as B  # noqa: E402
import broad  # noqa: E402

log = B.log
DEFAULT = ["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0",
           "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large", "shufflenet_v2_x1_0",
           "squeezenet1_1", "resnet18", "vit_b_16", "vit_tiny", "regnet_x_400mf", "googlenet", "mnasnet0_5",
           "convnext_tiny"]
CONV = {"Conv", "FusedConv"}
MATMUL = {"MatMul", "Gemm", "FusedMatMul", "FusedGemm", "MatMulNBits"}
LAYOUT = {"ReorderInput", "ReorderOutput", "Transpose", "Reshape", "Concat", "Split", "Slice", "Gather",
          "Flatten", "Squeeze", "Unsqueeze", "Expand", "Identity", "Shape", "ConstantOfShape", "Pad"}
POOL = {"GlobalAveragePool", "AveragePool", "MaxPool", "GlobalMaxPool", "ReduceMean"}


def spatial_bucket(hw):
    for lim, name in ((3136, ">=56x56"), (784, "28x28-55x55"), (196, "14x14-27x27"), (2, "2x2-13x13")):
        if hw >= lim:
            return name
    return "1x1"


def conv_class(m, cg, kh, kw, groups, stride, hw):
    """Class of a convolution with weight [m, cg, kh, kw], `groups` groups,
    stride `stride` and hw output pixels."""
    if cg == 1 and m > 1 and groups > 1:
        return "Conv depthwise %dx%d s%d" % (kh, kw, stride)
    if groups > 1:
        return "Conv grouped %dx%d (C/g=%d)" % (kh, kw, cg)
    if kh == kw == 1:
        return "Conv 1x1 out %s" % spatial_bucket(hw)
    return "Conv dense %dx%d s%d" % (kh, kw, stride)


def classify(op, ins, out):
    """(class name, FLOPs) of one layer from its op and shapes (lists of
    dims; ins[1] is a convolution's weight [M, C/g, kh, kw])."""
    if op in CONV and len(ins) > 1 and len(ins[1]) == 4 and len(out) == 4 and len(ins[0]) == 4:
        m, cg, kh, kw = ins[1]
        x = ins[0]
        hw = out[2] * out[3]
        stride = max(1, round(x[2] / out[2])) if out[2] else 1
        groups = max(1, x[1] // cg) if cg else 1
        return conv_class(m, cg, kh, kw, groups, stride, hw), 2.0 * m * cg * kh * kw * hw * out[0]
    if op in CONV:
        return "Conv (other)", 0.0
    if op in MATMUL and ins and out:
        a = ins[0]
        k = a[-1] if a else 0
        n = out[-1]
        rows = int(np.prod(out[:-1])) if len(out) > 1 else 1
        flops = 2.0 * rows * k * n
        if len(ins) > 1 and len(ins[0]) >= 3 and len(ins[1]) >= 3:
            return "MatMul batched (attention)", flops
        r = int(np.prod(a[:-1])) if len(a) > 1 else 1
        return "GEMM rows %s" % ("1" if r <= 1 else "2-64" if r <= 64 else ">64"), flops
    if op == "Mul" and len(ins) == 2 and all(len(s) == 4 for s in ins) and \
            any(s[2] * s[3] == 1 for s in ins) and any(s[2] * s[3] > 1 for s in ins):
        return "SE channel scale (Mul by [N,C,1,1])", 0.0
    if op in POOL:
        return "pool " + op, 0.0
    if op == "Upsample":   # ORT's name for what the export calls Resize
        return "Resize", 0.0
    if op in LAYOUT:
        return "layout: " + op, 0.0
    return op, 0.0


# ---------------------------------------------------------------- nnlink side


def onnx_shapes(path):
    """ONNX node name -> (op, input shapes, output shape) after shape
    inference (torchvision exports have fixed shapes)."""
    import onnx
    m = onnx.load(path, load_external_data=False)
    try:
        m = onnx.shape_inference.infer_shapes(m)
    except Exception:  # noqa: BLE001 (a model too big for inference keeps its declared shapes)
        pass
    g = m.graph
    shp = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        shp[vi.name] = dims
    for t in g.initializer:
        shp[t.name] = list(t.dims)
    nodes = {}
    for n in g.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute
                 if a.name in ("group", "strides")}
        nodes[n.name] = (n.op_type, [shp.get(i, []) for i in n.input if i],
                         shp.get(n.output[0], []) if n.output else [], attrs)
    return nodes


def nnlink_ops(prof, nodes):
    by = {}
    for layer in prof["layers"]:
        first = layer["name"].split("+")[0]
        op, ins, out, attrs = nodes.get(first, (layer["op"], [], [], {}))
        cls, flops = classify(op if op in CONV | MATMUL else layer["op"], ins, out)
        if cls == "Conv (other)" and len(ins) > 1 and len(ins[1]) == 4 and layer.get("flops"):
            # ONNX shape inference stops at some Reshape/Slice chains
            # (ShuffleNet): the weight, the attributes and nnlink's FLOPs
            # (2 x multiply-adds) still give the class.
            m, cg, kh, kw = ins[1]
            hw = round(layer["flops"] / (2.0 * m * cg * kh * kw))
            cls = conv_class(m, cg, kh, kw, attrs.get("group", 1), max(attrs.get("strides", [1])), hw)
        if not flops:
            flops = layer.get("flops") or 0.0
        e = by.setdefault(cls, {"ms": 0.0, "count": 0, "flops": 0.0})
        # The layer's own median over the runs (robust to preemption by
        # other jobs), as ort_ops takes each node's.
        e["ms"] += layer.get("median_ms", layer["ms"])
        e["count"] += 1
        e["flops"] += flops
    return by


# ---------------------------------------------------------------- ORT side


def ort_ops(trace_path, runs):
    with open(trace_path) as f:
        ev = json.load(f)
    # The last `runs` model_run windows are the timed runs.
    wins = sorted((e["ts"], e["ts"] + e["dur"]) for e in ev if e.get("cat") == "Session"
                  and e.get("name") == "model_run")[-runs:]
    totals = [w[1] - w[0] for w in wins]
    per_node = {}   # node name -> (class, FLOPs, ops, [ms in each timed run])
    for e in ev:
        if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
            continue
        if not any(a <= e["ts"] <= b for a, b in wins):
            continue
        args = e.get("args", {})
        if e["name"] not in per_node:
            ins = [list(next(iter(d.values()))) for d in args.get("input_type_shape", [])]
            outs = [list(next(iter(d.values()))) for d in args.get("output_type_shape", [])]
            cls, flops = classify(args.get("op_name", "?"), ins, outs[0] if outs else [])
            per_node[e["name"]] = (cls, flops, args.get("op_name", "?"), [])
        per_node[e["name"]][3].append(e["dur"] / 1e3)
    # Each node's median over the runs, as nnlink's layer median_ms: robust
    # to a run that was preempted by another job.
    by = {}
    for cls, flops, op, ms in per_node.values():
        x = by.setdefault(cls, {"ms": 0.0, "count": 0, "flops": 0.0, "ops": []})
        x["ms"] += float(np.median(ms))
        x["count"] += 1
        x["flops"] += flops
        if op not in x["ops"]:
            x["ops"].append(op)
    return by, float(np.median(totals)) / 1e3 if totals else None


# ---------------------------------------------------------------- main


def main(argv):
    threads, runs, only, show_layers = 1, 20, list(DEFAULT), False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--threads" and args:
            threads = int(args.pop(0))
        elif a == "--runs" and args:
            runs = int(args.pop(0))
        elif a == "--only" and args:
            only = args.pop(0).replace(",", " ").split()
        elif a == "--layers":
            show_layers = True
        elif a == "--report" and args:
            with open(args.pop(0)) as f:
                print("\n".join(report_lines(json.load(f))))
            return 0
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            sys.exit("ops.py: unknown argument %r (see --help)" % a)
    cfg = broad.Config([])
    cfg.only, cfg.warmup = only, 2
    cfg.out = os.path.abspath(os.environ.get("BENCH_OUT", os.path.join(B.HERE, "ops-results.json")))
    os.makedirs(cfg.work, exist_ok=True)
    started = datetime.datetime.now().astimezone()
    load_before = os.getloadavg()[0]
    graphs = broad.ensure_models(cfg)
    setup = {}
    nn = B.Nnlink(cfg, setup)
    result = {"started": started.isoformat(timespec="seconds"), "host": B.host_info(),
              "kernel_set": broad.kernel_set(cfg), "threads": threads, "runs": runs,
              "command": "bench/run.sh --ops " + " ".join(argv), "nice": os.environ.get("BENCH_NICE", ""),
              "graphs": []}
    for g in graphs:
        log("%s (%s)" % (g["name"], g["shape"]))
        f = nn.compile(g["onnx"], g["name"], g["shapes"], os.path.join(cfg.work, g["name"] + ".nnl"))
        if not f:
            continue
        keep = os.path.join(cfg.work, "ops-nnlink-%s.json" % g["name"])
        broad.nnlink_sample(cfg, f, g, threads, runs, keep=keep)
        with open(keep) as fh:
            prof = json.load(fh)
        prefix = os.path.join(cfg.work, "ops-ort-%s" % g["name"])
        for old in glob.glob(prefix + "_*.json"):
            os.remove(old)
        spec = B.peer_spec(g, threads, runs, cfg.warmup, g["fixed"])
        spec.update(model=g["onnx"], profile=prefix)
        j = B.json_tool(["node", os.path.join(B.HERE, "ort_bench.js"), json.dumps(spec)], cfg.timeout)
        trace = sorted(glob.glob(prefix + "_*.json"))[-1]
        o_by, o_total = ort_ops(trace, runs)
        n_by = nnlink_ops(prof, onnx_shapes(g["onnx"]))
        rec = {"name": g["name"], "shape": g["shape"], "nnlink_ms": prof["latency_ms"]["median"],
               "ort_ms": j["latency_ms"]["median"], "ort_run_ms": o_total,
               "nnlink_layer_ms": sum(x["ms"] for x in n_by.values()),
               "ort_node_ms": sum(x["ms"] for x in o_by.values()),
               "nnlink": n_by, "ort": o_by, "load": os.getloadavg()[0]}
        if show_layers:
            rec["nnlink_layers"] = prof["layers"]
        result["graphs"].append(rec)
        print("\n".join(graph_lines(rec)), flush=True)
    result["load_average"] = {"before": load_before, "after": os.getloadavg()[0]}
    print()
    print("\n".join(summary_lines(result)))
    with open(cfg.out, "w") as f:
        json.dump(result, f, indent=1)
    log("\nwrote %s" % cfg.out)
    return 0


def gfs(x):
    return "%.1f" % (x["flops"] / (x["ms"] * 1e6)) if x and x.get("flops") and x["ms"] > 0 else ""


def graph_lines(rec, markdown=False):
    n, o = rec["nnlink"], rec["ort"]
    base = rec["ort_node_ms"] or 1.0
    rows = []
    for cls in set(n) | set(o):
        a, b = n.get(cls), o.get(cls)
        d = (a["ms"] if a else 0.0) - (b["ms"] if b else 0.0)
        rows.append((d, cls, a, b))
    rows.sort(key=lambda r: -r[0])
    head = ["class", "n", "nnlink ms", "GFLOP/s", "ORT ms", "GFLOP/s", "diff ms", "of ORT total"]
    body = [[cls, str((a or b)["count"]), "%.3f" % a["ms"] if a else "-", gfs(a), "%.3f" % b["ms"] if b else "-",
             gfs(b), "%+.3f" % d, "%+.0f%%" % (100 * d / base)] for d, cls, a, b in rows]
    # The sums of per-layer medians are the steadier comparison when other
    # jobs preempt whole runs.
    lines = ["%s %s: nnlink %.3f ms (layers %.3f), ORT %.3f ms (nodes %.3f), ratio %.2f, of the sums %.2f" % (
        rec["name"], rec["shape"], rec["nnlink_ms"], rec["nnlink_layer_ms"], rec["ort_ms"], rec["ort_node_ms"],
        rec["nnlink_ms"] / rec["ort_ms"], rec["nnlink_layer_ms"] / rec["ort_node_ms"])]
    return lines + broad.table(head, body, markdown)


def summary_lines(result, markdown=False):
    """Classes ranked by their summed share of each graph's excess."""
    agg = {}
    for rec in result["graphs"]:
        base = rec["ort_node_ms"] or 1.0
        for cls in set(rec["nnlink"]) | set(rec["ort"]):
            a, b = rec["nnlink"].get(cls), rec["ort"].get(cls)
            d = (a["ms"] if a else 0.0) - (b["ms"] if b else 0.0)
            x = agg.setdefault(cls, {"share": 0.0, "graphs": [], "n_ms": 0, "n_fl": 0, "o_ms": 0, "o_fl": 0})
            x["share"] += d / base
            if d / base > 0.05:
                x["graphs"].append("%s %+.0f%%" % (rec["name"], 100 * d / base))
            if a:
                x["n_ms"] += a["ms"]
                x["n_fl"] += a["flops"]
            if b:
                x["o_ms"] += b["ms"]
                x["o_fl"] += b["flops"]
    rows = sorted(agg.items(), key=lambda kv: -kv[1]["share"])
    head = ["class", "sum of excess / ORT total", "nnlink GFLOP/s", "ORT GFLOP/s", "graphs where > 5%"]
    body = [[cls, "%+.2f" % x["share"],
             "%.1f" % (x["n_fl"] / (x["n_ms"] * 1e6)) if x["n_fl"] and x["n_ms"] else "",
             "%.1f" % (x["o_fl"] / (x["o_ms"] * 1e6)) if x["o_fl"] and x["o_ms"] else "",
             ", ".join(x["graphs"])] for cls, x in rows if abs(x["share"]) >= 0.01]
    title = "Summed over %d graphs at %d thread(s), %s, kernel set %s:" % (
        len(result["graphs"]), result["threads"], result["host"]["cpu"], result["kernel_set"])
    return [title] + broad.table(head, body, markdown)


def report_lines(result):
    out = []
    for rec in result["graphs"]:
        out += graph_lines(rec, markdown=True) + [""]
    return out + summary_lines(result, markdown=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
