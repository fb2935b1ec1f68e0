/*
 * The one kernel table and the run-time choice among its entries.  The
 * choice is made once per process: NNL_ISA names a set (tests use it to
 * force a path); otherwise the last supported entry, the widest, wins.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels_isa.h"

const nnl_kernel *const nnl_kernels[] = {
    &nnl_kernel_scalar,
#if defined(__x86_64__)
    &nnl_kernel_avx2,
    &nnl_kernel_avx512,
#endif
#if defined(__aarch64__)
    &nnl_kernel_neon,
#endif
    NULL,
};

const nnl_kernel *nnl_kernel_find(const char *name) {
    for (int i = 0; name && nnl_kernels[i]; i++)
        if (strcmp(nnl_kernels[i]->name, name) == 0) return nnl_kernels[i]->supported() ? nnl_kernels[i] : NULL;
    return NULL;
}

static _Atomic(const nnl_kernel *) chosen;

const nnl_kernel *nnl_kernel_get(void) {
    const nnl_kernel *k = atomic_load_explicit(&chosen, memory_order_acquire);
    if (k) return k;
    /* An unknown or unsupported NNL_ISA falls back to the automatic choice
     * rather than failing: the variable is a testing aid. */
    k = nnl_kernel_find(getenv("NNL_ISA"));
    if (!k)
        for (int i = 0; nnl_kernels[i]; i++)
            if (nnl_kernels[i]->supported()) k = nnl_kernels[i];
    atomic_store_explicit(&chosen, k, memory_order_release);
    return k;
}
