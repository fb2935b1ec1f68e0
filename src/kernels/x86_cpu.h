/* CPUID bits that not every compiler's __builtin_cpu_supports knows
 * (clang 14, which builds the fuzzers, has neither "f16c" nor "avxvnni").
 * Only meaningful after the caller has checked AVX(2) support, which
 * includes the OS saving the ymm state. */
#ifndef NNL_KERNELS_X86_CPU_H
#define NNL_KERNELS_X86_CPU_H

#include <cpuid.h>
#include <stdatomic.h>
#include <stdbool.h>

/* CPUID.1:ECX bit 29 */
static inline bool nnl_x86_has_f16c(void) {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c >> 29 & 1);
}

/* CPUID.(7, 1):EAX bit 4, asked once: the 8-bit drivers ask per conv
 * call (nnl_qukr_pick), and CPUID traps to the hypervisor in a VM (1.1% of
 * ResNet-18 int7's time on a KVM Zen 3 went to it). */
static inline bool nnl_x86_has_avxvnni(void) {
    static _Atomic int known; /* 0 not asked, 1 no, 2 yes */
    int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (!k) {
        unsigned a, b, c, d;
        k = __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4 & 1) ? 2 : 1;
        atomic_store_explicit(&known, k, memory_order_relaxed);
    }
    return k == 2;
}

#endif
