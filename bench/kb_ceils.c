/*
 * The ceiling loops built for this CPU family, one per kernel set of
 * src/kernels/kernel_table.c (bench_kernels refuses a set without one).
 */
#include <string.h>

#include "kb.h"

extern const kb_ceil kb_ceil_scalar, kb_ceil_avx2, kb_ceil_avx512, kb_ceil_neon;

static const kb_ceil *const ceils[] = {
    &kb_ceil_scalar,
#if defined(__x86_64__)
    &kb_ceil_avx2,
    &kb_ceil_avx512,
#endif
#if defined(__aarch64__)
    &kb_ceil_neon,
#endif
    NULL,
};

const kb_ceil *kb_ceil_find(const char *name) {
    for (int i = 0; ceils[i]; i++)
        if (strcmp(ceils[i]->set, name) == 0) return ceils[i];
    return NULL;
}
