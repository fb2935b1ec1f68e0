/* The kernel sets, one per ISA file; only kernel_table.c lists them. */
#ifndef NNL_KERNELS_ISA_H
#define NNL_KERNELS_ISA_H

#include "kernels/gemm.h"

extern const nnl_kernel nnl_kernel_scalar;
#if defined(__x86_64__)
extern const nnl_kernel nnl_kernel_avx2;
extern const nnl_kernel nnl_kernel_avx512;
/* The AVX2 set's exact int8 microkernel without VNNI: the avx512 set's
 * fallback on CPUs that lack AVX512-VNNI. */
extern const nnl_qukr nnl_qukr_avx2_exact;
#endif
#if defined(__aarch64__)
extern const nnl_kernel nnl_kernel_neon;
#endif

#endif
