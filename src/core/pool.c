/*
 * Persistent thread pool.
 *
 * n_threads - 1 workers plus the calling thread share each job by claiming
 * item indices.  The caller waits for the ITEMS to finish, never for the
 * workers to show up: on a loaded machine a worker that is not scheduled
 * in time simply claims nothing, and the caller does the work itself
 * instead of stalling every layer on a wake-up.
 *
 * The items are split into one contiguous range per thread: thread t
 * claims from range t first, then from the others' in turn.  Consecutive
 * layers split the same way along channels, so a thread mostly reads what
 * it wrote itself, from its own core's cache; with one shared counter the
 * ranges fell to the threads at random, and half of every layer's input
 * came from the other core.
 *
 * Claims on range s go through its 64-bit word holding (job generation <<
 * 32 | items claimed).  A worker that read a job's parameters claims an
 * item only by a compare-and-swap that also proves the job is still
 * current, so a late worker can never run an old job's function on a new
 * job's index.  For that proof to hold, a new job first closes every word
 * (count CLOSED, which no range reaches) and only then changes the
 * parameters: a worker that read the finished previous job's word and
 * then the new, larger n would otherwise have claimed an item of the old
 * generation with the new function and context -- an item of the new job
 * run twice and counted twice, so the caller returned while a worker was
 * still in it (seen as a crash under `nnlink profile --threads 2`).
 * Workers spin briefly before sleeping: a graph posts jobs back to back.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "core/core.h"

/* A thread's range's claim word, on a line of its own. */
typedef struct pool_range {
    _Alignas(64) atomic_ullong work; /* generation << 32 | items claimed */
} pool_range;

struct nnl_pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    _Atomic(nnl_pool_fn) fn;
    _Atomic(void *) ctx;
    atomic_llong n;
    atomic_uint posted;        /* generation of the latest job */
    /* The claim word and the count of finished items are written by every
     * claim: each on a line of its own, away from the parameters every
     * claim reads (one shared line made two threads' claims on MobileNetV2's
     * 576 depthwise planes cost more than the planes: slower on 2 threads
     * than on 1). */
    pool_range *ranges;        /* n_threads claim words */
    _Alignas(64) atomic_llong done;  /* items the workers finished of the current job */
    _Alignas(64) char pad_;
    atomic_bool stop;
    unsigned gen;              /* caller side */
    /* tracing (profiling only): per thread, start of its first item and
     * busy time; each thread writes only its own slot */
    _Atomic(double *) tr_first;
    _Atomic(double *) tr_busy;
};

typedef struct worker_arg {
    nnl_pool *p;
    int id;
} worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* The count of a closed claim word: above every range's length. */
#define CLOSED 0xffffffffull

/* Claim and run items of range r of job `gen` until none are left; the
 * number run. */
static long long drain_range(nnl_pool *p, unsigned gen, int thread, int r) {
    atomic_ullong *w = &p->ranges[r].work;
    long long ran = 0;
    for (;;) {
        unsigned long long v = atomic_load_explicit(w, memory_order_acquire);
        if ((unsigned)(v >> 32) != gen) return ran;
        /* acquire: a new job's parameters seen here imply its closed word is
         * what the CAS below compares against */
        nnl_pool_fn fn = atomic_load_explicit(&p->fn, memory_order_acquire);
        void *ctx = atomic_load_explicit(&p->ctx, memory_order_acquire);
        long long n = atomic_load_explicit(&p->n, memory_order_acquire);
        const long long lo = n * r / p->n_threads, hi = n * (r + 1) / p->n_threads;
        long long i = lo + (long long)(v & 0xffffffffull);
        if (i >= hi) return ran;
        /* Guided claims: a quarter of what is left of the range while that
         * is many items (a job of hundreds of tiny items paid two contended
         * atomics an item), single items near its end, which a thread that
         * finished its own range may take when this one runs late. */
        long long take = (hi - i) / 4;
        if (take < 2) take = 1;
        if (!atomic_compare_exchange_weak_explicit(w, &v, v + (unsigned long long)take, memory_order_acq_rel,
                                                   memory_order_relaxed))
            continue;
        double *first = atomic_load_explicit(&p->tr_first, memory_order_relaxed);
        if (first) {
            double *busy = atomic_load_explicit(&p->tr_busy, memory_order_relaxed);
            double t0 = nnl_now_ms();
            for (long long j = i; j < i + take; j++) fn(ctx, j, thread);
            if (first[thread] < 0) first[thread] = t0;
            busy[thread] += nnl_now_ms() - t0;
        } else {
            for (long long j = i; j < i + take; j++) fn(ctx, j, thread);
        }
        ran += take;
    }
}

/* The thread's own range, then the others' (the next thread's first); the
 * number of items run. */
static long long drain(nnl_pool *p, unsigned gen, int thread) {
    long long ran = 0;
    for (int d = 0; d < p->n_threads; d++) ran += drain_range(p, gen, thread, (thread + d) % p->n_threads);
    return ran;
}

static void *worker_main(void *arg) {
    nnl_pool *p = ((worker_arg *)arg)->p;
    int id = ((worker_arg *)arg)->id;
    nnl_free(arg);
    unsigned seen = 0;   /* generations start at 1 */
    for (;;) {
        for (int spins = 0; atomic_load_explicit(&p->posted, memory_order_acquire) == seen && spins < 50000; spins++) {
            if (atomic_load(&p->stop)) return NULL;
            cpu_relax();
        }
        if (atomic_load_explicit(&p->posted, memory_order_acquire) == seen) {
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->posted) == seen && !atomic_load(&p->stop)) pthread_cond_wait(&p->wake, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = atomic_load_explicit(&p->posted, memory_order_acquire);
        /* Counted once a drain, not a claim: the count's line passes
         * between the cores at every add (~240 ns on a 2-vCPU EPYC), and
         * a job of 16 empty items took 2.1 us with an add a claim. */
        const long long ran = drain(p, seen, id);
        if (ran) atomic_fetch_add_explicit(&p->done, ran, memory_order_release);
    }
}

nnl_status nnl_pool_create(int n_threads, nnl_pool **out) {
    *out = NULL;
    if (n_threads < 1) n_threads = 1;
    if (n_threads > 256) return nnl_fail(NNL_ERR_INVALID_ARG, "too many threads (%d)", n_threads);
    nnl_pool *p = nnl_aligned_alloc(sizeof *p); /* its claim lines aligned */
    if (!p) return nnl_fail(NNL_ERR_NOMEM, "out of memory creating thread pool");
    memset(p, 0, sizeof *p);
    p->n_threads = 1;
    const int nr = n_threads > 1 ? n_threads : 1;
    p->ranges = nnl_aligned_alloc((size_t)nr * sizeof *p->ranges);
    if (!p->ranges) {
        nnl_aligned_free(p);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory creating thread pool");
    }
    for (int i = 0; i < nr; i++) atomic_init(&p->ranges[i].work, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    if (n_threads > 1) {
        p->threads = nnl_calloc((size_t)n_threads - 1, sizeof *p->threads);
        if (!p->threads) {
            nnl_pool_free(p);
            return nnl_fail(NNL_ERR_NOMEM, "out of memory creating thread pool");
        }
        for (int i = 1; i < n_threads; i++) {
            worker_arg *a = nnl_malloc(sizeof *a);
            if (!a || (a->p = p, a->id = i, pthread_create(&p->threads[i - 1], NULL, worker_main, a)) != 0) {
                nnl_free(a);
                nnl_pool_free(p);
                return nnl_fail(NNL_ERR_NOMEM, "cannot start thread %d of the pool", i);
            }
            p->n_threads = i + 1;
        }
    }
    *out = p;
    return NNL_OK;
}

void nnl_pool_free(nnl_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n_threads; i++) pthread_join(p->threads[i - 1], NULL);
    nnl_free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    nnl_aligned_free(p->ranges);
    nnl_aligned_free(p);
}

int nnl_pool_threads(const nnl_pool *p) { return p ? p->n_threads : 1; }

void nnl_pool_run(nnl_pool *p, int64_t n, nnl_pool_fn fn, void *ctx) {
    if (n <= 0) return;
    if (!p || p->n_threads == 1 || n == 1 || n >= (int64_t)CLOSED) {
        for (int64_t i = 0; i < n; i++) fn(ctx, i, 0);
        return;
    }
    unsigned gen = ++p->gen;
    if (gen == 0) gen = ++p->gen;   /* 0 means "no job yet" to workers */
    for (int r = 0; r < p->n_threads; r++)
        atomic_store_explicit(&p->ranges[r].work, (unsigned long long)gen << 32 | CLOSED, memory_order_relaxed);
    atomic_store_explicit(&p->fn, fn, memory_order_release);
    atomic_store_explicit(&p->ctx, ctx, memory_order_release);
    atomic_store_explicit(&p->n, n, memory_order_release);
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    for (int r = 0; r < p->n_threads; r++)
        atomic_store_explicit(&p->ranges[r].work, (unsigned long long)gen << 32, memory_order_release);
    pthread_mutex_lock(&p->mu);
    atomic_store_explicit(&p->posted, gen, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    const long long mine = drain(p, gen, 0);
    for (long spins = 0; mine + atomic_load_explicit(&p->done, memory_order_acquire) < n; spins++) {
        if (spins > 20000) sched_yield();
        else cpu_relax();
    }
}

void nnl_pool_trace(nnl_pool *p, double *first, double *busy) {
    if (!p) return;
    atomic_store(&p->tr_busy, busy);
    atomic_store(&p->tr_first, first);
}
