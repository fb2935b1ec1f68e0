/*
 * The library's only allocator.  Every allocation goes through here so a
 * test can make the N-th one fail (nnl_alloc_fail_at) and check that each
 * caller returns NNL_ERR_NOMEM cleanly and leaks nothing.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* Mappings from 2 MB on start on a 2 MB boundary and ask for transparent
 * huge pages (honoured where the system's THP mode is madvise or always):
 * one TLB entry then covers 2 MB.  A huge page more is reserved and the
 * ends outside the aligned range unmapped, so munmap of n bytes at the
 * result releases exactly the rest. */
#define HUGE_BYTES ((size_t)2 << 20)
void *nnl_map_aligned(size_t n, int fd) {
    const int prot = fd < 0 ? PROT_READ | PROT_WRITE : PROT_READ;
    const int flags = fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_PRIVATE;
    if (!n) n = 1;
    if (n < HUGE_BYTES || n > SIZE_MAX - HUGE_BYTES) return mmap(NULL, n, prot, flags, fd, 0);
    char *raw = mmap(NULL, n + HUGE_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return MAP_FAILED;
    char *p = (char *)(((uintptr_t)raw + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1));
    if (mmap(p, n, prot, flags | MAP_FIXED, fd, 0) == MAP_FAILED) {
        int e = errno;
        munmap(raw, n + HUGE_BYTES);
        errno = e;
        return MAP_FAILED;
    }
    const long ps = sysconf(_SC_PAGESIZE);
    const size_t page = ps > 0 ? (size_t)ps : 4096;
    char *end = p + (n + page - 1) / page * page;
    if (p > raw) munmap(raw, (size_t)(p - raw));
    if (raw + n + HUGE_BYTES > end) munmap(end, (size_t)(raw + n + HUGE_BYTES - end));
#ifdef MADV_HUGEPAGE
    madvise(p, n, MADV_HUGEPAGE); /* advice: a failure leaves 4 KB pages */
#endif
    return p;
}

/* Arenas come straight from mmap: the kernel hands out zero pages lazily,
 * so a session costs no time for memory a graph has not touched yet, and
 * its contents start defined (zero) without a memset over the whole arena.
 * Huge pages matter here because a 1x1 conv reads its input in place from
 * up to K planes a K block, each on its own 4 KB page, more pages than the
 * first-level TLB holds. */
void *nnl_arena_alloc(size_t n) {
    if (should_fail()) return NULL;
    void *p = nnl_map_aligned(n, -1);
    return p == MAP_FAILED ? NULL : p;
}

void nnl_arena_free(void *p, size_t n) {
    if (p) munmap(p, n ? n : 1);
}
