/*
 * Kernel classes against the machine's ceilings (issue 10, criterion 3).
 *
 *   bench_kernels [--isa SET] [--json FILE|-] [--bw-mb MB] [--rounds N] [min_seconds [filter]]
 *
 * First the ceilings of one core, measured in this run with the kernel set
 * in use (NNL_ISA or --isa picks one, else the widest the CPU has): peak
 * multiply-add throughput in the set's vector width (kb_ceil_<set>.c), the
 * streaming bandwidth of a read + write over buffers far larger than the
 * last-level cache (--bw-mb in all, 1024 by default), and the same over an
 * L2-sized pair.  Then every case of kb_cases.c whose "<class> <case>"
 * contains filter: achieved GFLOP/s and GB/s, the share of its class's
 * bound (for compute-bound classes the FMA ceiling measured again beside
 * the case, see time_case; DRAM bandwidth for memory-bound ones; bytes =
 * inputs + outputs + weights, each once) and PASS / SHORT against issue
 * 10's thresholds; then a line per class.
 *
 * Every figure is one core's: cases run on the calling thread (no pool) and
 * are timed by its CPU time (CLOCK_THREAD_CPUTIME_ID), the minimum over
 * calls filling min_seconds (0.3 by default, at least 3 calls) and over
 * --rounds passes of the whole list (1 by default), so other jobs on a
 * shared machine inflate them less than wall time would; the load average
 * is printed before and after.  The memory-bound figures keep their
 * tensors warm in cache between calls when they fit (L2 is 2 MB a core on
 * recent Xeons): the %L2 column is the stricter bound for those.
 *
 * --json writes the same as one object (bench/ tooling).  With no case
 * selected it prints the kernel set and stops (bench/broad.py reads it so).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kb.h"

typedef struct opts {
    const char *isa, *json, *filter;
    double min_s, bw_mb;
    int rounds;
} opts;

typedef struct ceilings {
    double gflops, dram_gbs, l2_gbs;
} ceilings;

/* One case's result. */
typedef struct result {
    const kb_case *kc;
    const kb_class *cls;
    double ms, flops, bytes, pct, pct_l2;
    double fma;                 /* FMA ceiling measured beside the case, GFLOP/s */
    bool pass;
} result;

static double thread_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* ---- the machine -------------------------------------------------------- */

static void read_line(const char *path, const char *key, char *buf, size_t n) {
    snprintf(buf, n, "?");
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, strlen(key)) != 0) continue;
        const char *v = strchr(line, ':') ? strchr(line, ':') + 2 : line;
        snprintf(buf, n, "%.*s", (int)strcspn(v, "\n"), v);
        break;
    }
    fclose(f);
}

static void cpu_model(char *buf, size_t n) {
    read_line("/proc/cpuinfo", "model name", buf, n);
    if (strcmp(buf, "?") == 0) read_line("/proc/cpuinfo", "CPU part", buf, n);
}

/* The three load averages of /proc/loadavg. */
static void loadavg(char *buf, size_t n) {
    read_line("/proc/loadavg", "", buf, n);
    for (int spaces = 0, i = 0; buf[i]; i++)
        if (buf[i] == ' ' && ++spaces == 3) buf[i] = '\0';
}

/* ---- ceilings ----------------------------------------------------------- */

/* GFLOP/s of one run of iters FMA-loop iterations. */
static double fma_once(const kb_ceil *ce, int64_t iters) {
    static volatile float sink;
    double t0 = thread_ms();
    sink += ce->fma(iters);
    return (double)iters * ce->acc * ce->lanes * 2.0 / ((thread_ms() - t0) * 1e6);
}

static double fma_best(const kb_ceil *ce, int64_t iters, int reps) {
    double best = 0;
    for (int rep = 0; rep < reps; rep++) {
        double g = fma_once(ce, iters);
        best = g > best ? g : best;
    }
    return best;
}

/* Best read + write rate of y = s * x over two buffers of `bytes` each,
 * every timing `inner` passes; the first pass faults the pages in.  0 when
 * the buffers cannot be allocated. */
static double scale_gbs(const kb_ceil *ce, double bytes, int reps, int inner) {
    const int64_t n = (int64_t)(bytes / sizeof(float)) & ~(int64_t)15;
    float *x = nnl_aligned_alloc((size_t)n * sizeof(float)), *y = nnl_aligned_alloc((size_t)n * sizeof(float));
    const bool ok = x && y;
    double best = 1e30;
    if (ok) {
        memset(x, 0, (size_t)n * sizeof(float));
        ce->scale(y, x, n, 0.5f);
        for (int rep = 0; rep < reps; rep++) {
            double t0 = thread_ms();
            for (int i = 0; i < inner; i++) ce->scale(i % 2 ? x : y, i % 2 ? y : x, n, 0.5f);
            double t = thread_ms() - t0;
            if (t < best) best = t;
        }
    }
    nnl_aligned_free(x);
    nnl_aligned_free(y);
    return ok ? 2.0 * (double)n * sizeof(float) * inner / (best * 1e6) : 0;
}

static ceilings measure_ceilings(const kb_ceil *ce, double bw_mb) {
    ceilings c = {.gflops = fma_best(ce, (int64_t)1 << 21, 10)};
    c.dram_gbs = scale_gbs(ce, bw_mb * 0.5 * (1 << 20), 5, 1);
    c.l2_gbs = scale_gbs(ce, 384 << 10, 20, 100);
    return c;
}

/* ---- cases -------------------------------------------------------------- */

/* Iterations of an FMA burst beside a call (~0.2-0.4 ms), and the most
 * bursts a case gets (before calls 0, 1, 2, 4, 8, ...). */
#define FMA_BESIDE ((int64_t)1 << 16)
#define MAX_BURSTS 24

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Minimum thread-CPU ms of one call over calls filling min_s (>= 3), and
 * the median FMA rate of short bursts run between the calls.  The core's
 * speed moves with the host's load (clock, a busy SMT sibling on the host:
 * the ceiling measured 88-142 GFLOP/s within one run here), so a case is
 * held to the ceiling measured beside it; the median, not the best, as a
 * lone burst can catch a turbo moment. */
static nnl_status time_case(const kb_class *cls, kb_run *r, const kb_ceil *kc, double min_s, result *x) {
    nnl_status st = cls->run(r); /* warm-up: caches, pages, lazy state */
    double best = 1e30, spent = 0, burst[MAX_BURSTS];
    int nb = 0;
    for (int reps = 0; !st && (reps < 3 || spent < min_s * 1e3); reps++) {
        if (nb < MAX_BURSTS && (reps & (reps - 1)) == 0) burst[nb++] = fma_once(kc, FMA_BESIDE);
        double t0 = thread_ms();
        st = cls->run(r);
        double t = thread_ms() - t0;
        spent += t;
        best = t < best ? t : best;
    }
    qsort(burst, (size_t)nb, sizeof *burst, cmp_double);
    const double fma = nb ? burst[nb / 2] : 0;
    x->ms = x->ms == 0 || best < x->ms ? best : x->ms;
    x->fma = fma > x->fma ? fma : x->fma;
    return st;
}

/* filter is a substring of "<class> <case>", e.g. "1x1", "mbv2", "winograd resnet". */
static bool selected(const kb_case *k, const char *filter) {
    char full[128];
    snprintf(full, sizeof full, "%s %s", k->cls, k->name);
    return !filter || strstr(full, filter);
}

static void score(result *res, const ceilings *ce) {
    const double gflops = res->flops / (res->ms * 1e6), gbs = res->bytes / (res->ms * 1e6);
    res->pct = res->cls->bound == KB_FMA ? gflops / res->fma : gbs / ce->dram_gbs;
    res->pct_l2 = res->cls->bound == KB_MEM ? gbs / ce->l2_gbs : 0;
    res->pass = res->pct >= res->cls->need;
}

static const char *mark(const kb_class *cls, bool pass) {
    if (cls->issue) return pass ? "PASS" : "SHORT";
    return pass ? "(pass)" : "(short)";
}

static void print_result(const result *r) {
    char bound[16] = "DRAM", l2[16] = "-";
    if (r->cls->bound == KB_MEM) snprintf(l2, sizeof l2, "%.0f%%", 100 * r->pct_l2);
    else snprintf(bound, sizeof bound, "%.0f", r->fma);
    printf("%-10s %-30s %9.3f %8.1f %7.1f %5s %6.1f%% %6s  %s\n", r->cls->name, r->kc->name, r->ms,
           r->flops / (r->ms * 1e6), r->bytes / (r->ms * 1e6), bound, 100 * r->pct, l2, mark(r->cls, r->pass));
}

/* Set up, time and free case k: x keeps the best time and ceiling over
 * the rounds (x zeroed before the first). */
static nnl_status run_case(const kb_case *k, void *ts, const kb_ceil *kc, double min_s, result *x) {
    const kb_class *cls = kb_class_find(k->cls);
    kb_run r = {.kc = k, .tscratch = &ts};
    nnl_status st = cls ? kb_run_setup(&r, cls) : nnl_fail(NNL_ERR_INVALID_ARG, "no class %s", k->cls);
    x->kc = k;
    x->cls = cls;
    x->flops = r.flops;
    x->bytes = r.bytes;
    if (!st) st = time_case(cls, &r, kc, min_s, x);
    kb_run_free(&r);
    if (st) fprintf(stderr, "bench_kernels: %s: %s\n", k->name, nnl_last_error());
    return st;
}

/* Time every selected case, the whole list o->rounds times (each case's
 * best round counts: a burst of load hits one round, not all); *n gets
 * their count.  NULL on failure. */
static result *run_cases(const opts *o, const kb_ceil *kc, int *n) {
    int cap = 0;
    for (const kb_case *k = kb_cases; k->cls; k++) cap++;
    result *res = calloc((size_t)cap, sizeof *res);
    void *ts = nnl_aligned_alloc(NNL_THREAD_SCRATCH_BYTES);
    nnl_status st = res && ts ? NNL_OK : NNL_ERR_NOMEM;
    for (int round = 0; round < o->rounds && !st; round++) {
        *n = 0;
        for (const kb_case *k = kb_cases; k->cls && !st; k++)
            if (selected(k, o->filter)) st = run_case(k, ts, kc, o->min_s, &res[(*n)++]);
    }
    nnl_aligned_free(ts);
    if (st) {
        free(res);
        res = NULL;
    }
    return res;
}

/* ---- per class ----------------------------------------------------------- */

typedef struct class_sum {
    int n, n_pass;
    double worst, flops, bytes, ms;
    double fma_ms;              /* sum of ms x the ceiling beside each case: what the ceiling does in that time */
    double fma_lo, fma_hi;      /* range of those ceilings */
} class_sum;

static class_sum summarize(const kb_class *cls, const result *res, int n) {
    class_sum s = {.worst = 1e30, .fma_lo = 1e30};
    for (int i = 0; i < n; i++) {
        if (res[i].cls != cls) continue;
        s.n++;
        s.n_pass += res[i].pass;
        s.worst = res[i].pct < s.worst ? res[i].pct : s.worst;
        s.flops += res[i].flops;
        s.bytes += res[i].bytes;
        s.ms += res[i].ms;
        s.fma_ms += res[i].ms * res[i].fma;
        s.fma_lo = res[i].fma < s.fma_lo ? res[i].fma : s.fma_lo;
        s.fma_hi = res[i].fma > s.fma_hi ? res[i].fma : s.fma_hi;
    }
    return s;
}

/* The class's share of its bound over all its cases, time-weighted. */
static double class_pct(const kb_class *cls, const class_sum *s, const ceilings *ce) {
    return cls->bound == KB_FMA ? s->flops / (s->fma_ms * 1e6) : s->bytes / (s->ms * 1e6) / ce->dram_gbs;
}

static void print_classes(const result *res, int n, const ceilings *ce) {
    printf("\n%-10s %-24s %5s %7s %9s %5s  %s\n", "class", "bound (one core)", "cases", "worst", "all", "need",
           "mark");
    for (const kb_class *cls = kb_classes; cls->name; cls++) {
        class_sum s = summarize(cls, res, n);
        if (!s.n) continue;
        char bound[32], marks[32];
        if (cls->bound == KB_FMA) snprintf(bound, sizeof bound, "FMA %.0f-%.0f GFLOP/s", s.fma_lo, s.fma_hi);
        else snprintf(bound, sizeof bound, "DRAM %.1f GB/s", ce->dram_gbs);
        snprintf(marks, sizeof marks, "%s %d/%d", mark(cls, s.n_pass == s.n), s.n_pass, s.n);
        printf("%-10s %-24s %5d %6.1f%% %8.1f%% %4.0f%%  %s\n", cls->name, bound, s.n, 100 * s.worst,
               100 * class_pct(cls, &s, ce), 100 * cls->need, marks);
    }
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *json_results(const result *res, int n) {
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        const result *r = &res[i];
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:s, s:f, s:f, s:f, s:f, s:b, s:b}", "class",
                         r->cls->name, "case", r->kc->name, "op", r->kc->op ? r->kc->op : "Conv", "ms", r->ms,
                         "flops", r->flops, "bytes", r->bytes, "gflops", r->flops / (r->ms * 1e6), "gbs",
                         r->bytes / (r->ms * 1e6), "bound", r->cls->bound == KB_FMA ? "fma" : "dram",
                         "fma_gflops_beside", r->fma, "share",
                         r->pct, "share_l2", r->pct_l2, "need", r->cls->need, "pass", r->pass, "issue_threshold",
                         r->cls->issue));
    }
    return a;
}

static json_t *json_classes(const result *res, int n, const ceilings *ce) {
    json_t *o = json_object();
    for (const kb_class *cls = kb_classes; cls->name; cls++) {
        class_sum s = summarize(cls, res, n);
        if (s.n)
            json_object_set_new(o, cls->name,
                                json_pack("{s:i, s:i, s:f, s:f, s:f}", "cases", s.n, "pass", s.n_pass, "worst",
                                          s.worst, "share", class_pct(cls, &s, ce), "need", cls->need));
    }
    return o;
}

static int write_json(const opts *o, const char *cpu, const char *set, const char *const load[2],
                      const kb_ceil *kc, const ceilings *ce, const result *res, int n) {
    json_t *j = json_pack("{s:s, s:s, s:[s, s], s:s, s:{s:f, s:f, s:f, s:f, s:s}, s:o, s:o}", "cpu", cpu,
                          "kernel_set", set, "load", load[0], load[1], "timing",
                          "thread CPU time, min of calls, one core", "ceilings", "fma_gflops", ce->gflops,
                          "dram_gbs", ce->dram_gbs, "l2_gbs", ce->l2_gbs, "dram_buffer_mb", o->bw_mb, "fma_loop",
                          kc->how, "cases", json_results(res, n), "classes", json_classes(res, n, ce));
    int rc = !j || (strcmp(o->json, "-") == 0 ? json_dumpf(j, stdout, JSON_INDENT(1))
                                               : json_dump_file(j, o->json, JSON_INDENT(1)));
    json_decref(j);
    if (rc) fprintf(stderr, "bench_kernels: cannot write %s\n", o->json);
    return rc;
}

/* ---- main ---------------------------------------------------------------- */

static int usage(void) {
    fprintf(stderr, "usage: bench_kernels [--isa SET] [--json FILE|-] [--bw-mb MB] [--rounds N] "
                    "[min_seconds [filter]]\n");
    return 2;
}

static int parse(int argc, char **argv, opts *o) {
    *o = (opts){.min_s = 0.3, .bw_mb = 1024, .rounds = 1};
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--isa") == 0 && v) o->isa = argv[++i];
        else if (strcmp(argv[i], "--json") == 0 && v) o->json = argv[++i];
        else if (strcmp(argv[i], "--bw-mb") == 0 && v && atof(v) > 0) o->bw_mb = atof(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && v && atoi(v) > 0) o->rounds = atoi(argv[++i]);
        else if (argv[i][0] == '-' && argv[i][1] == '-') return usage();
        else if (pos == 0 && ++pos) o->min_s = atof(argv[i]);
        else if (pos == 1 && ++pos) o->filter = argv[i];
        else return usage();
    }
    return 0;
}

int main(int argc, char **argv) {
    opts o;
    if (parse(argc, argv, &o)) return 2;
    /* before the first nnl_kernel_get, which fixes the set for the process */
    if (o.isa && setenv("NNL_ISA", o.isa, 1)) return 1;
    const nnl_kernel *kern = nnl_kernel_get();
    if (o.isa && strcmp(kern->name, o.isa) != 0) {
        fprintf(stderr, "bench_kernels: kernel set %s is not built or not supported by this CPU\n", o.isa);
        return 1;
    }
    char cpu[128], load[2][64];
    cpu_model(cpu, sizeof cpu);
    loadavg(load[0], sizeof load[0]);
    printf("cpu: %s\nkernel set: %s\nload before: %s\n", cpu, kern->name, load[0]);
    int n = 0;
    for (const kb_case *k = kb_cases; k->cls; k++) n += selected(k, o.filter);
    if (!n) return 0;
    const kb_ceil *kc = kb_ceil_find(kern->name);
    if (!kc) {
        fprintf(stderr, "bench_kernels: no ceiling loops for kernel set %s (bench/kb_ceils.c)\n", kern->name);
        return 1;
    }
    ceilings ce = measure_ceilings(kc, o.bw_mb);
    if (!ce.dram_gbs || !ce.l2_gbs) {
        fprintf(stderr, "bench_kernels: out of memory for the bandwidth buffers (2 x %.0f MB; see --bw-mb)\n",
                o.bw_mb / 2);
        return 1;
    }
    printf("ceilings, one core: FMA %.1f GFLOP/s (%s, %d accumulators); DRAM %.1f GB/s (y = s*x over 2 x %.0f "
           "MB); L2 %.1f GB/s (2 x 384 KB)\n",
           ce.gflops, kc->how, kc->acc, ce.dram_gbs, o.bw_mb / 2, ce.l2_gbs);
    printf("timing: thread CPU time, min over calls filling %.2f s (>= 3) and %d round(s); bytes = inputs + "
           "outputs + weights\n",
           o.min_s, o.rounds);
    printf("compute-bound cases: share of the FMA ceiling measured beside them (column bound, GFLOP/s)\n\n");
    result *res = run_cases(&o, kc, &n);
    if (!res) return 1;
    printf("%-10s %-30s %9s %8s %7s %5s %7s %6s  %s\n", "class", "case", "ms", "GFLOP/s", "GB/s", "bound", "share",
           "%L2", "mark");
    for (int i = 0; i < n; i++) {
        score(&res[i], &ce);
        print_result(&res[i]);
    }
    print_classes(res, n, &ce);
    loadavg(load[1], sizeof load[1]);
    printf("load after: %s\n", load[1]);
    const char *lp[2] = {load[0], load[1]};
    int rc = o.json ? write_json(&o, cpu, kern->name, lp, kc, &ce, res, n) : 0;
    free(res);
    return rc;
}
