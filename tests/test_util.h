/*
 * Helpers shared by the cmocka tests: the kernels' random inputs, one
 * temporary folder per test binary, whole-file reads and writes, and
 * (isa_check.h) the check that a forced kernel set is the one in use.
 * Include after <cmocka.h>.
 */
#ifndef NNL_TEST_UTIL_H
#define NNL_TEST_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/core.h"
#include "isa_check.h"

/* n floats in [-1, 1) from a fixed linear congruential sequence (the
 * expected values of the tests were computed from exactly these), aligned
 * for the kernels; free with nnl_aligned_free. */
static inline float *rnd(int64_t n, unsigned seed) {
    float *p = nnl_aligned_alloc((size_t)(n ? n : 1) * sizeof(float));
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (float)((seed >> 9) & 0xFFFF) / 32768.0f - 1.0f;
    }
    return p;
}

/* ---- the test binary's temporary folder ------------------------------ */

/* Set by tmpdir_make; each test binary has its own. */
static char tmpdir[256] __attribute__((unused));

/* Create $TMPDIR/nnl_<tag>.XXXXXX (/tmp without TMPDIR); 0 or -1. */
static inline int tmpdir_make(const char *tag) {
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/nnl_%s.XXXXXX", t && *t ? t : "/tmp", tag);
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* name inside tmpdir.  The result lives for the next 15 calls, so one
 * call of a function can take several paths. */
static inline const char *tpath(const char *name) {
    static char bufs[16][512];
    static unsigned k;
    char *b = bufs[k++ % 16];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

static inline int tmpdir_remove_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st, (void)flag, (void)f;
    return remove(p);
}

/* Remove tmpdir and everything in it (subfolders included); 0 or -1. */
static inline int tmpdir_remove(void) {
    if (!tmpdir[0]) return 0;
    return nftw(tmpdir, tmpdir_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The whole file at path, malloc'd (one spare byte), its size in *n; the
 * test fails if it cannot be read. */
static inline uint8_t *slurp(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    if (!fp) fail_msg("cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    assert_true(len >= 0);
    uint8_t *b = malloc((size_t)len + 1);
    assert_non_null(b);
    size_t got = fread(b, 1, (size_t)len, fp);
    fclose(fp);
    assert_int_equal(got, (size_t)len);
    *n = (size_t)len;
    return b;
}

/* Write n bytes to path (replacing it); the test fails on any error. */
static inline void spit(const char *path, const void *p, size_t n) {
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (n) assert_int_equal(fwrite(p, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

#endif
