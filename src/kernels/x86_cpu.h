/* CPUID bits that not every compiler's __builtin_cpu_supports knows
 * (clang 14, which builds the fuzzers, has neither "f16c" nor "avxvnni").
 * Only meaningful after the caller has checked AVX(2) support, which
 * includes the OS saving the ymm state. */
#ifndef NNL_KERNELS_X86_CPU_H
#define NNL_KERNELS_X86_CPU_H

#include <cpuid.h>
#include <stdbool.h>

/* CPUID.1:ECX bit 29 */
static inline bool nnl_x86_has_f16c(void) {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c >> 29 & 1);
}

/* CPUID.(7, 1):EAX bit 4 */
static inline bool nnl_x86_has_avxvnni(void) {
    unsigned a, b, c, d;
    return __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4 & 1);
}

#endif
