"""The dicts of `nnlink info --json` and `nnlink profile --json`, built from
the public C API the same way src/cli/cmd_info.c and src/cli/cmd_profile.c
build them (tests/python compares them with the CLI's output)."""
import ctypes
import resource
import time

import numpy as np

from . import _lib
from ._lib import Error, lib, check, text
from ._model import Session, tensor_dict, dtype_name


def _weights(plan):
    out = []
    for w in range(lib.nnl_plan_weight_count(plan)):
        wi = _lib.WeightInfo()
        check(lib.nnl_plan_weight_info(plan, w, ctypes.byref(wi)))
        out.append(wi)
    return out


def info(plan):
    fi = _lib.FileInfo()
    check(lib.nnl_plan_file_info(plan, ctypes.byref(fi)))
    ng = lib.nnl_plan_graph_count(plan)
    names = [text(lib.nnl_plan_graph_name(plan, g)) for g in range(ng)]
    graphs = []
    for g in range(ng):
        ios = {}
        for key, count, get in (("inputs", lib.nnl_plan_input_count, lib.nnl_plan_input_info),
                                ("outputs", lib.nnl_plan_output_count, lib.nnl_plan_output_info)):
            ios[key] = []
            for i in range(count(plan, g)):
                t = _lib.TensorInfo()
                if get(plan, g, i, ctypes.byref(t)) == 0:
                    ios[key].append(tensor_dict(t))
        graphs.append({"name": names[g], "inputs": ios["inputs"], "outputs": ios["outputs"],
                       "weight_bytes": lib.nnl_plan_weight_bytes(plan, g),
                       "arena_bytes": lib.nnl_plan_arena_bytes(plan, g)})
    weights = []
    for w, wi in enumerate(_weights(plan)):
        weights.append({"name": text(wi.name), "dtype": dtype_name(wi.dtype), "shape": list(wi.dims[:wi.rank]),
                        "layout": text(wi.layout), "bytes": wi.bytes,
                        "graphs": [names[g] for g in range(ng) if lib.nnl_plan_weight_used_by(plan, w, g)]})
    dg = lib.nnl_plan_default_graph(plan)
    foreign = text(lib.nnl_plan_foreign(plan))
    root = {"format_version": fi.format_version, "layout_version": fi.layout_version,
            "target": text(fi.target), "runs_on": text(fi.runs_on), "tool_version": text(fi.tool_version),
            "default_graph": names[dg] if dg >= 0 else None,
            # a file for another target or layout version is described, not run
            "runnable": foreign is None}
    if foreign is not None:
        root["not_runnable_because"] = foreign
    root["graphs"] = graphs
    root["weight_bytes"] = lib.nnl_plan_weight_bytes(plan, -1)
    root["shared_weight_bytes"] = sum(wi.bytes for wi in _weights(plan) if wi.n_graphs > 1)
    root["weights"] = weights
    return root


def _median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def _generated(t, seed):
    """A seeded input: uniform floats in [-1, 1) for float32, zeros otherwise
    (the kind of input the CLI generates; values do not change timings)."""
    from ._model import _NP_OF, nnl_dtype_of_name
    dt = _NP_OF[nnl_dtype_of_name(t["dtype"])]
    if dt is np.float32:
        return np.random.default_rng(seed).uniform(-1, 1, t["shape"]).astype(np.float32)
    return np.zeros(t["shape"], dtype=dt)


def _profile_graph(model, g, runs, warmup, threads, given):
    t0 = time.perf_counter()
    s = Session(model, g, threads)
    session_ms = (time.perf_counter() - t0) * 1e3
    try:
        inputs = {t["name"]: given[t["name"]] if t["name"] in given else _generated(t, i + 1)
                  for i, t in enumerate(s.inputs)}
        t0 = time.perf_counter()
        s.run(inputs)
        cold_ms = (time.perf_counter() - t0) * 1e3
        for _ in range(warmup):
            s.run(inputs)
        check(lib.nnl_session_set_profiling(s._s, 1))
        nl = lib.nnl_session_layer_count(s._s)
        lat, lt = [], [[0.0] * runs for _ in range(nl)]
        s._set_inputs(inputs)
        lt1 = _lib.LayerTime()
        for r in range(runs):
            # timed like the CLI: the run alone (inputs set once, above)
            t0 = time.perf_counter()
            check(lib.nnl_session_run(s._s))
            lat.append((time.perf_counter() - t0) * 1e3)
            for la in range(nl):
                check(lib.nnl_session_layer_time(s._s, la, ctypes.byref(lt1)))
                lt[la][r] = lt1.ms
        med = _median(lat)
        # layer times of the run closest to the median (they add up to it)
        rmed = 0
        for r in range(runs):
            if abs(lat[r] - med) < abs(lat[rmed] - med):
                rmed = r
        layers, ops, total_flops, layer_sum = [], {}, 0.0, 0.0
        for la in range(nl):
            check(lib.nnl_session_layer_time(s._s, la, ctypes.byref(lt1)))
            ms, op = lt[la][rmed], text(lt1.op)
            layer_sum += ms
            total_flops += lt1.flops
            layers.append({"name": text(lt1.name), "op": op, "ms": ms, "median_ms": _median(lt[la]),
                           "share": ms / med if med > 0 else 0.0, "flops": lt1.flops,
                           "gflops_per_s": lt1.flops / (ms * 1e6) if ms > 0 else 0.0})
            o = ops.setdefault(op, {"count": 0, "ms": 0.0, "flops": 0.0})
            o["count"] += 1
            o["ms"] += ms
            o["flops"] += lt1.flops
        plan = model._plan
        return {"graph": s.graph, "session_ms": session_ms, "cold_ms": cold_ms,
                "latency_ms": {"min": min(lat), "median": med, "mean": sum(x / runs for x in lat), "max": max(lat)},
                "runs": runs, "warmup": warmup, "flops": total_flops, "layer_sum_ms": layer_sum,
                "arena_bytes": lib.nnl_plan_arena_bytes(plan, s.graph_index),
                "weight_bytes": lib.nnl_plan_weight_bytes(plan, s.graph_index), "layers": layers, "op_types": ops}
    finally:
        s.close()


def profile(model, graph, runs, warmup, threads, given, all_graphs):
    from ._model import Model
    for k, v in (("runs", runs), ("warmup", warmup), ("threads", threads)):
        if not isinstance(v, int) or v < 0 or (k == "runs" and v == 0):
            raise Error("profile: bad %s %r" % (k, v))
    if all_graphs and graph is not None:
        raise Error("profile: graph= and all=True exclude each other")
    # a fresh open of the file, timed, as the CLI's load_ms
    t0 = time.perf_counter()
    fresh = Model(model.path)
    load_ms = (time.perf_counter() - t0) * 1e3
    try:
        names = fresh.graphs if all_graphs else [fresh.graphs[fresh.graph_index(graph)]]
        results = [_profile_graph(fresh, g, runs, warmup, threads, given) for g in names]
    finally:
        fresh.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if not all_graphs:
        root = dict(results[0])
        root.update({"file": model.path, "load_ms": load_ms, "peak_rss_bytes": rss})
        return root
    wb = lib.nnl_plan_weight_bytes(model._plan, -1)
    max_arena = max(r["arena_bytes"] for r in results)
    return {"file": model.path, "load_ms": load_ms, "peak_rss_bytes": rss, "weight_bytes": wb,
            "max_arena_bytes": max_arena, "asset_bytes": wb + max_arena, "graphs": results}
