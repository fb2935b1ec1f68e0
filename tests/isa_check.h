/*
 * A test run that forces a kernel set with NNL_ISA must run on that set.
 * nnl_kernel_get() falls back to the automatic choice, silently, when the
 * name is unknown or the CPU lacks the set, so without this check a forced
 * run (tests/run_all.sh runs the op tests once per set) could pass on
 * another set than the one it claims to test.
 */
#ifndef NNL_TEST_ISA_CHECK_H
#define NNL_TEST_ISA_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/gemm.h"

/* 0 when NNL_ISA is unset or names the set in use; else prints why and
 * returns 1 (main's exit status). */
static inline int isa_check_forced(void) {
    const char *want = getenv("NNL_ISA");
    const char *got = nnl_kernel_get()->name;
    if (!want || !*want || strcmp(want, got) == 0) return 0;
    fprintf(stderr, "NNL_ISA=%s, but the kernels in use are the %s set: %s is unknown or not supported by this CPU\n",
            want, got, want);
    return 1;
}

#endif
