/*
 * Signal processing: DFT and STFT (dft.c), the window generators
 * (window.c).
 */
#ifndef NNL_SIGNAL_OPS_H
#define NNL_SIGNAL_OPS_H

#include "ops/op_util.h"

NNL_OP_FAMILY(nnl_signal_dft);    /* DFT */
NNL_OP_FAMILY(nnl_signal_stft);   /* STFT */
NNL_OP_FAMILY(nnl_signal_window); /* HannWindow, HammingWindow, BlackmanWindow */

#endif
