/*
 * The library's only allocator.  Every allocation goes through here so a
 * test can make the N-th one fail (nnl_alloc_fail_at) and check that each
 * caller returns NNL_ERR_NOMEM cleanly and leaks nothing.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/core.h"

static atomic_long fail_countdown;

void nnl_alloc_fail_at(long n) { atomic_store(&fail_countdown, n); }

static bool should_fail(void) {
    long v = atomic_load(&fail_countdown);
    while (v > 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &v, v - 1)) return v == 1;
    }
    return false;
}

void *nnl_malloc(size_t n) {
    if (should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *nnl_calloc(size_t n, size_t size) {
    if (should_fail()) return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *nnl_realloc(void *p, size_t n) {
    if (should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

void nnl_free(void *p) { free(p); }

char *nnl_strdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = nnl_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void *nnl_aligned_alloc(size_t n) {
    if (should_fail()) return NULL;
    void *p = NULL;
    size_t rounded = (n + NNL_ALIGN - 1) / NNL_ALIGN * NNL_ALIGN;
    if (rounded < n) return NULL;
    if (posix_memalign(&p, NNL_ALIGN, rounded ? rounded : NNL_ALIGN) != 0) return NULL;
    return p;
}

void nnl_aligned_free(void *p) { free(p); }

/* Arenas come straight from mmap: the kernel hands out zero pages lazily,
 * so a session costs no time for memory a graph has not touched yet, and
 * its contents start defined (zero) without a memset over the whole arena. */
void *nnl_arena_alloc(size_t n) {
    if (should_fail()) return NULL;
    void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void nnl_arena_free(void *p, size_t n) {
    if (p) munmap(p, n ? n : 1);
}
