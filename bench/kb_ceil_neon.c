/* Ceilings of the NEON set: 128-bit FMLA, 24 of the 32 v registers. */
#if defined(__aarch64__)
#define KB_SET neon
#define KB_VB 16
#define KB_ACC 24
#define KB_HOW "fmla v.4s"
#include "kb_ceil_body.h"
#endif
