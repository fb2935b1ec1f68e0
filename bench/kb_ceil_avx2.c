/* Ceilings of the AVX2 set: 256-bit FMA, 12 of the 16 ymm registers. */
#if defined(__x86_64__)
#define KB_SET avx2
#define KB_VB 32
#define KB_ACC 12
#define KB_HOW "vfmadd ymm"
#include "kb_ceil_body.h"
#endif
