/*
 * nnlink profile: load time, session creation, cold and warm latency, time
 * per layer and per op type, peak memory; for one graph or every graph of
 * the file in one process (--all).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "core/core.h"

#define MAX_INPUTS 64

static const char help[] =
    "usage: nnlink profile FILE.nnl [--graph NAME | --all] [--runs N] [--warmup N] [--threads N]\n"
    "                      [--input NAME=PATH.npy]... [--json OUT.json] [--trace OUT.json] [--top N]\n"
    "\n"
    "Time a graph: file load (open, validate, map), session creation, the first\n"
    "(cold) run, warm latency (min/median/mean/max over --runs after --warmup),\n"
    "each layer's median time, share, FLOPs and GFLOP/s, a per-op-type summary\n"
    "and peak memory.  Inputs not given are generated (seeded random floats,\n"
    "zeros for integers).\n"
    "  --all          profile every graph in one process and report the asset\n"
    "  --runs N       timed runs (default 10)     --warmup N   untimed runs (default 2)\n"
    "  --threads N    worker threads (default: all CPUs)\n"
    "  --json PATH    write the figures as JSON (schema in docs/CLI.md)\n"
    "  --trace PATH   write Chrome trace events of the last run (open in Perfetto)\n"
    "  --top N        layers listed in the table (default 15)\n";

typedef struct opts {
    const char *file, *graph, *json, *trace;
    bool all;
    int runs, warmup, threads, top;
    int n_in;
    char names[MAX_INPUTS][256];
    const char *paths[MAX_INPUTS];
} opts;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static long peak_rss_bytes(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss * 1024L;
}

/* Seeded inputs so runs and tools can be compared. */
static nnl_status fill_input(nnl_session *s, const nnl_tensor_info *t, uint64_t seed) {
    nnl_tensor x = {.dtype = t->dtype, .rank = t->rank};
    memcpy(x.dims, t->dims, sizeof x.dims);
    size_t nb = nnl_tensor_nbytes(&x);
    void *d = nnl_aligned_alloc(nb);
    if (!d) return nnl_fail(NNL_ERR_NOMEM, "out of memory for input '%s'", t->name);
    memset(d, 0, nb);
    if (t->dtype == NNL_DT_FLOAT) {
        float *f = d;
        uint64_t st = seed * 0x9e3779b97f4a7c15ull + 1;
        for (int64_t i = 0; i < nnl_tensor_numel(&x); i++) {
            st ^= st << 13, st ^= st >> 7, st ^= st << 17;
            f[i] = (float)((st >> 40) * (1.0 / (1 << 24)) * 2.0 - 1.0);
        }
    }
    nnl_status r = nnl_session_set_input(s, t->name, t->dtype, t->rank, t->dims, d);
    nnl_aligned_free(d);
    return r;
}

typedef struct result {
    json_t *json;              /* this graph's figures */
    double median_ms;
    uint64_t arena;
} result;

static int profile_graph(const opts *o, nnl_plan *p, int g, FILE *out, json_t *trace_events, result *res) {
    /* names from the file are shown and written to JSON escaped (cli_esc) */
    char gname[1024];
    nnl_escape(nnl_plan_graph_name(p, g), gname, sizeof gname);
    nnl_session *s = NULL;
    nnl_session_options so = {.size = sizeof so, .n_threads = o->threads};
    double t0 = nnl_now_ms();
    nnl_status st = nnl_session_create(p, g, &so, &s);
    double session_ms = nnl_now_ms() - t0;
    if (st) return cli_fail(st);
    for (int i = 0; !st && i < nnl_plan_input_count(p, g); i++) {
        nnl_tensor_info info;
        nnl_plan_input_info(p, g, i, &info);
        int k = -1;
        for (int j = 0; j < o->n_in; j++)
            if (strcmp(o->names[j], info.name) == 0) k = j;
        if (k < 0) {
            st = fill_input(s, &info, (uint64_t)i + 1);
            continue;
        }
        st = cli_set_input_npy(s, info.name, o->paths[k]);
    }
    double cold_ms = 0;
    if (!st) {
        t0 = nnl_now_ms();
        st = nnl_session_run(s);
        cold_ms = nnl_now_ms() - t0;
    }
    for (int i = 0; !st && i < o->warmup; i++) st = nnl_session_run(s);
    int nl = nnl_session_layer_count(s), runs = o->runs;
    double *lat = calloc((size_t)runs, sizeof *lat);
    double *lt = calloc((size_t)nl * (size_t)runs + 1, sizeof *lt);
    if (!lat || !lt) st = nnl_fail(NNL_ERR_NOMEM, "out of memory");
    if (!st) nnl_session_set_profiling(s, 1);
    for (int r = 0; !st && r < runs; r++) {
        t0 = nnl_now_ms();
        st = nnl_session_run(s);
        lat[r] = nnl_now_ms() - t0;
        for (int l = 0; !st && l < nl; l++) {
            nnl_layer_time lt1;
            nnl_session_layer_time(s, l, &lt1);
            lt[(size_t)l * (size_t)runs + (size_t)r] = lt1.ms;
        }
    }
    if (st) {
        free(lat);
        free(lt);
        nnl_session_free(s);
        return cli_fail(st);
    }
    double mn = INFINITY, mx = 0, mean = 0;
    for (int r = 0; r < runs; r++) {
        mn = fmin(mn, lat[r]);
        mx = fmax(mx, lat[r]);
        mean += lat[r] / runs;
    }
    /* Layer times are those of the median run, so that they add up to the
     * median latency; a sum of per-layer medians would not on a busy
     * machine, where each run loses time in a different layer. */
    int rmed = 0;
    double *sorted = calloc((size_t)runs, sizeof *sorted);
    memcpy(sorted, lat, (size_t)runs * sizeof *lat);
    double med = median(sorted, runs);
    for (int r = 0; r < runs; r++)
        if (fabs(lat[r] - med) < fabs(lat[rmed] - med)) rmed = r;
    free(sorted);
    /* per layer medians */
    double *lmed = calloc((size_t)nl + 1, sizeof *lmed), total_flops = 0, layer_sum = 0;
    json_t *layers = json_array(), *ops = json_object();
    for (int l = 0; l < nl; l++) {
        nnl_layer_time info;
        nnl_session_layer_time(s, l, &info);
        const char *lname = cli_esc(info.name), *lop = cli_esc(info.op);
        lmed[l] = lt[(size_t)l * (size_t)runs + (size_t)rmed];
        double lmedian = median(&lt[(size_t)l * (size_t)runs], runs);
        layer_sum += lmed[l];
        total_flops += info.flops;
        json_array_append_new(layers, json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:f}", "name", lname, "op", lop,
                                                "ms", lmed[l], "median_ms", lmedian, "share", med > 0 ? lmed[l] / med : 0.0, "flops", info.flops,
                                                "gflops_per_s", lmed[l] > 0 ? info.flops / (lmed[l] * 1e6) : 0.0));
        json_t *op = json_object_get(ops, lop);
        if (!op) {
            op = json_pack("{s:i, s:f, s:f}", "count", 0, "ms", 0.0, "flops", 0.0);
            json_object_set_new(ops, lop, op);
        }
        json_object_set_new(op, "count", json_integer(json_integer_value(json_object_get(op, "count")) + 1));
        json_object_set_new(op, "ms", json_real(json_real_value(json_object_get(op, "ms")) + lmed[l]));
        json_object_set_new(op, "flops", json_real(json_real_value(json_object_get(op, "flops")) + info.flops));
        /* one track per pool thread: what each thread did in this layer */
        for (int t = 0; trace_events && t < nnl_session_thread_count(s); t++) {
            double start, busy;
            nnl_session_layer_thread(s, l, t, &start, &busy);
            if (busy <= 0) continue;
            json_array_append_new(trace_events,
                                  json_pack("{s:s, s:s, s:s, s:f, s:f, s:i, s:i, s:{s:f, s:f}}", "name", lname,
                                            "cat", lop, "ph", "X", "ts", start * 1e3, "dur", busy * 1e3, "pid",
                                            g + 1, "tid", t, "args", "flops", info.flops, "layer_ms", info.ms));
        }
    }
    if (trace_events) {
        json_array_append_new(trace_events, json_pack("{s:s, s:s, s:i, s:{s:s}}", "name", "process_name", "ph", "M",
                                                      "pid", g + 1, "args", "name", gname));
        for (int t = 0; t < nnl_session_thread_count(s); t++) {
            char tn[32];
            snprintf(tn, sizeof tn, t ? "worker %d" : "caller", t);
            json_array_append_new(trace_events, json_pack("{s:s, s:s, s:i, s:i, s:{s:s}}", "name", "thread_name", "ph",
                                                          "M", "pid", g + 1, "tid", t, "args", "name", tn));
        }
    }
    res->median_ms = med;
    res->arena = nnl_plan_arena_bytes(p, g);
    res->json = json_pack("{s:s, s:f, s:f, s:{s:f, s:f, s:f, s:f}, s:i, s:i, s:f, s:f, s:I, s:I, s:o, s:o}", "graph",
                          gname, "session_ms", session_ms, "cold_ms", cold_ms, "latency_ms", "min", mn, "median", med,
                          "mean", mean, "max", mx, "runs", runs, "warmup", o->warmup, "flops", total_flops,
                          "layer_sum_ms", layer_sum, "arena_bytes", (json_int_t)res->arena, "weight_bytes",
                          (json_int_t)nnl_plan_weight_bytes(p, g), "layers", layers, "op_types", ops);
    if (out) {
        fprintf(out, "\ngraph '%s': session %.2f ms, cold run %.2f ms\n", gname, session_ms, cold_ms);
        fprintf(out, "latency over %d runs: min %.3f  median %.3f  mean %.3f  max %.3f ms  (%.1f GFLOP/s)\n", runs, mn,
                med, mean, mx, med > 0 ? total_flops / (med * 1e6) : 0.0);
        fprintf(out, "arena %.2f MB, weights used %.2f MB\n", res->arena / 1e6, nnl_plan_weight_bytes(p, g) / 1e6);
        /* top layers by time */
        int *idx = calloc((size_t)nl + 1, sizeof *idx);
        for (int l = 0; l < nl; l++) idx[l] = l;
        for (int a = 0; a < nl; a++)
            for (int b = a + 1; b < nl; b++)
                if (lmed[idx[b]] > lmed[idx[a]]) {
                    int t = idx[a];
                    idx[a] = idx[b];
                    idx[b] = t;
                }
        fprintf(out, "\n  %-44s %-18s %9s %6s %9s\n", "layer (ONNX nodes)", "op", "ms", "share", "GFLOP/s");
        for (int a = 0; a < nl && a < o->top; a++) {
            nnl_layer_time info;
            nnl_session_layer_time(s, idx[a], &info);
            char nm[45];   /* the column is 44 bytes; cut at a character, not inside one */
            fprintf(out, "  %-44s %-18s %9.3f %5.1f%% %9.1f\n", nnl_escape(info.name, nm, sizeof nm), cli_esc(info.op), lmed[idx[a]],
                    med > 0 ? 100 * lmed[idx[a]] / med : 0.0, lmed[idx[a]] > 0 ? info.flops / (lmed[idx[a]] * 1e6) : 0.0);
        }
        free(idx);
        fprintf(out, "\n  %-24s %6s %9s %6s %9s\n", "op type", "count", "ms", "share", "GFLOP/s");
        const char *k;
        json_t *v;
        json_object_foreach(ops, k, v) {
            double ms = json_real_value(json_object_get(v, "ms"));
            fprintf(out, "  %-24s %6lld %9.3f %5.1f%% %9.1f\n", k, (long long)json_integer_value(json_object_get(v, "count")),
                    ms, med > 0 ? 100 * ms / med : 0.0, ms > 0 ? json_real_value(json_object_get(v, "flops")) / (ms * 1e6) : 0.0);
        }
    }
    free(lmed);
    free(lat);
    free(lt);
    nnl_session_free(s);
    return 0;
}

static int write_json_file(const char *path, json_t *j) {
    if (json_dump_file(j, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
        fprintf(stderr, "nnlink profile: cannot write %s\n", cli_esc(path));
        return 1;
    }
    return 0;
}

int cmd_profile(int argc, char **argv) {
    static opts o;
    memset(&o, 0, sizeof o);
    o.runs = 10;
    o.warmup = 2;
    o.top = 15;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(help, stdout);
            return 0;
        } else if (strcmp(a, "--graph") == 0 && i + 1 < argc) {
            o.graph = argv[++i];
        } else if (strcmp(a, "--all") == 0) {
            o.all = true;
        } else if (strcmp(a, "--json") == 0 && i + 1 < argc) {
            o.json = argv[++i];
        } else if (strcmp(a, "--trace") == 0 && i + 1 < argc) {
            o.trace = argv[++i];
        } else if ((strcmp(a, "--runs") == 0 || strcmp(a, "--warmup") == 0 || strcmp(a, "--threads") == 0 ||
                    strcmp(a, "--top") == 0) && i + 1 < argc) {
            int v;
            char extra;
            if (sscanf(argv[++i], "%d%c", &v, &extra) != 1 || v < 0 || (v == 0 && strcmp(a, "--warmup") != 0))
                return cli_usage_error("profile", "bad %s '%s'", a, argv[i]);
            if (strcmp(a, "--runs") == 0) o.runs = v;
            else if (strcmp(a, "--warmup") == 0) o.warmup = v;
            else if (strcmp(a, "--threads") == 0) o.threads = v;
            else o.top = v;
        } else if (strcmp(a, "--input") == 0 && i + 1 < argc) {
            if (o.n_in == MAX_INPUTS) return cli_usage_error("profile", "too many inputs");
            if (!cli_split_assign(argv[++i], o.names[o.n_in], sizeof o.names[0], &o.paths[o.n_in]))
                return cli_usage_error("profile", "bad --input '%s': expected NAME=PATH.npy", argv[i]);
            o.n_in++;
        } else {
            int rc = cli_positional("profile", a, &o.file);
            if (rc) return rc;
        }
    }
    if (!o.file) return cli_usage_error("profile", "no .nnl file given");
    if (o.all && o.graph) return cli_usage_error("profile", "--graph and --all exclude each other");
    double t0 = nnl_now_ms();
    nnl_plan *p = NULL;
    nnl_status st = nnl_plan_open(o.file, &p);
    double load_ms = nnl_now_ms() - t0;
    if (st) return cli_fail(st);
    int first = 0, last = nnl_plan_graph_count(p) - 1;
    if (!o.all) {
        int gi;
        if ((st = nnl_plan_find_graph(p, o.graph, &gi))) {
            nnl_plan_free(p);
            return cli_fail(st);
        }
        first = last = gi;
    }
    printf("%s: loaded in %.3f ms (open, validate, map)\n", cli_esc(o.file), load_ms);
    json_t *trace = o.trace ? json_array() : NULL, *graphs = json_array();
    uint64_t max_arena = 0;
    int rc = 0;
    for (int g = first; g <= last && !rc; g++) {
        result r = {0};
        rc = profile_graph(&o, p, g, stdout, trace, &r);
        if (!rc) {
            json_array_append_new(graphs, r.json);
            if (r.arena > max_arena) max_arena = r.arena;
        }
    }
    long rss = peak_rss_bytes();
    if (!rc) {
        printf("\npeak RSS %.1f MB; weights mapped %.2f MB", rss / 1e6, nnl_plan_weight_bytes(p, -1) / 1e6);
        if (o.all)
            printf("; asset: weights once + largest arena = %.2f MB over %d graphs",
                   (nnl_plan_weight_bytes(p, -1) + max_arena) / 1e6, last - first + 1);
        printf("\n");
    }
    if (!rc && o.json) {
        json_t *root;
        if (o.all) {
            root = json_pack("{s:s, s:f, s:I, s:I, s:I, s:I, s:o}", "file", cli_esc(o.file), "load_ms", load_ms, "peak_rss_bytes",
                             (json_int_t)rss, "weight_bytes", (json_int_t)nnl_plan_weight_bytes(p, -1), "max_arena_bytes",
                             (json_int_t)max_arena, "asset_bytes", (json_int_t)(nnl_plan_weight_bytes(p, -1) + max_arena),
                             "graphs", json_incref(graphs));
        } else {
            root = json_deep_copy(json_array_get(graphs, 0));
            json_object_set_new(root, "file", json_string(cli_esc(o.file)));
            json_object_set_new(root, "load_ms", json_real(load_ms));
            json_object_set_new(root, "peak_rss_bytes", json_integer(rss));
        }
        rc = write_json_file(o.json, root);
        json_decref(root);
    }
    if (!rc && trace) {
        json_t *root = json_pack("{s:O, s:s}", "traceEvents", trace, "displayTimeUnit", "ms");
        rc = write_json_file(o.trace, root);
        json_decref(root);
    }
    json_decref(trace);
    json_decref(graphs);
    nnl_plan_free(p);
    return rc;
}
