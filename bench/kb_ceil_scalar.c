/* Ceilings of the portable set: what its compiler may vectorise to with no
 * -m flag, SSE2 (x86-64's baseline) or NEON, in 16-byte vectors; on x86
 * without FMA, a multiply and an add. */
#define KB_SET scalar
#define KB_VB 16
#define KB_ACC 12
#if defined(__x86_64__)
#define KB_HOW "SSE mulps + addps (x86-64 baseline)"
#else
#define KB_HOW "128-bit baseline vectors"
#endif
#include "kb_ceil_body.h"
