/* Ceilings of the AVX-512 set: 512-bit FMA, 24 of the 32 zmm registers. */
#if defined(__x86_64__)
#define KB_SET avx512
#define KB_VB 64
#define KB_ACC 24
#define KB_HOW "vfmadd zmm"
#include "kb_ceil_body.h"
#endif
