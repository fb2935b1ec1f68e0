/* The kernel sets, one per ISA file; only kernel_table.c lists them. */
#ifndef NNL_KERNELS_ISA_H
#define NNL_KERNELS_ISA_H

#include "kernels/gemm.h"

extern const nnl_kernel nnl_kernel_scalar;
#if defined(__x86_64__)
extern const nnl_kernel nnl_kernel_avx2;
extern const nnl_kernel nnl_kernel_avx512;
/* The AVX2 set's int8 microkernels without VNNI (for 7-bit weights, and
 * exact for all): the avx512 set's fallbacks on CPUs that lack
 * AVX512-VNNI. */
extern const nnl_qukr nnl_qukr_avx2_u7;
extern const nnl_qukr nnl_qukr_avx2_exact;
#endif
#if defined(__aarch64__)
extern const nnl_kernel nnl_kernel_neon;
#endif

#endif
