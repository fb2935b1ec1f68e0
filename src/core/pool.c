/*
 * Persistent thread pool.  n_threads - 1 workers plus the calling thread
 * share each job by taking indices from an atomic counter, so uneven items
 * balance themselves.  Workers spin briefly before sleeping: a graph issues
 * jobs back to back and a futex wake per layer would cost more than the
 * small layers themselves.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "core/core.h"

struct nnl_pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_cond_t done_cv;
    /* current job */
    nnl_pool_fn fn;
    void *ctx;
    int64_t n;
    atomic_llong next;
    atomic_int active;         /* workers still inside the current job */
    atomic_uint generation;    /* bumped per job; workers wait for a change */
    bool stop;
};

typedef struct worker_arg {
    nnl_pool *p;
    int id;
} worker_arg;

static void drain(nnl_pool *p, int thread) {
    for (;;) {
        int64_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n) break;
        p->fn(p->ctx, i, thread);
    }
}

static void *worker_main(void *arg) {
    nnl_pool *p = ((worker_arg *)arg)->p;
    int id = ((worker_arg *)arg)->id;
    nnl_free(arg);
    /* generation starts at 0 (calloc): a job posted before this thread got
     * here must still be seen as new */
    unsigned seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&p->generation, memory_order_acquire) == seen && spins < 20000) {
            spins++;
#if defined(__x86_64__)
            __builtin_ia32_pause();
#endif
        }
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->generation) == seen && !p->stop) pthread_cond_wait(&p->wake, &p->mu);
        bool stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop) return NULL;
        seen = atomic_load(&p->generation);
        drain(p, id);
        if (atomic_fetch_sub(&p->active, 1) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

nnl_status nnl_pool_create(int n_threads, nnl_pool **out) {
    *out = NULL;
    if (n_threads < 1) n_threads = 1;
    if (n_threads > 256) return nnl_fail(NNL_ERR_INVALID_ARG, "too many threads (%d)", n_threads);
    nnl_pool *p = nnl_calloc(1, sizeof *p);
    if (!p) return nnl_fail(NNL_ERR_NOMEM, "out of memory creating thread pool");
    p->n_threads = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done_cv, NULL);
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
                p->n_threads = i;
                nnl_pool_free(p);
                return nnl_fail(NNL_ERR_NOMEM, "cannot start thread %d of the pool", i);
            }
        }
    }
    *out = p;
    return NNL_OK;
}

void nnl_pool_free(nnl_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n_threads; i++) pthread_join(p->threads[i - 1], NULL);
    nnl_free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done_cv);
    nnl_free(p);
}

int nnl_pool_threads(const nnl_pool *p) { return p ? p->n_threads : 1; }

void nnl_pool_run(nnl_pool *p, int64_t n, nnl_pool_fn fn, void *ctx) {
    if (n <= 0) return;
    if (!p || p->n_threads == 1 || n == 1) {
        for (int64_t i = 0; i < n; i++) fn(ctx, i, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    atomic_store(&p->next, 0);
    atomic_store(&p->active, p->n_threads - 1);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p, 0);
    int spins = 0;
    while (atomic_load(&p->active) > 0 && spins < 200000) {
        spins++;
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
    }
    if (atomic_load(&p->active) > 0) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->active) > 0) pthread_cond_wait(&p->done_cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}
