/*
 * Ops of the "extra" table (ops_extra.c): recurrent layers, quantization,
 * losses, sampling and the other ops exported models use less often.  One
 * infer/exec pair may serve several op types; it tells them apart by c->op.
 */
#ifndef NNL_EXTRA_OPS_H
#define NNL_EXTRA_OPS_H

#include "ops/op_util.h"

#define NNL_EXTRA_FAMILY(f)                                                    \
    nnl_status nnl_extra_##f##_infer(nnl_op_call *c, nnl_infer_result *r); \
    nnl_status nnl_extra_##f##_exec(const nnl_op_call *c)

NNL_EXTRA_FAMILY(rnn);        /* RNN, GRU, LSTM (extra_rnn.c) */
NNL_EXTRA_FAMILY(quantize);   /* QuantizeLinear (extra_quant.c) */
NNL_EXTRA_FAMILY(dequantize); /* DequantizeLinear */
NNL_EXTRA_FAMILY(dynquant);   /* DynamicQuantizeLinear */
NNL_EXTRA_FAMILY(lrn);        /* LRN (extra_misc.c) */
NNL_EXTRA_FAMILY(revseq);     /* ReverseSequence */
NNL_EXTRA_FAMILY(maxunpool);  /* MaxUnpool */
NNL_EXTRA_FAMILY(gridsample); /* GridSample (extra_grid.c) */
NNL_EXTRA_FAMILY(loss);       /* NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss (extra_loss.c) */
NNL_EXTRA_FAMILY(qmatmul);    /* MatMulInteger, QLinearMatMul (extra_qlinear.c) */
NNL_EXTRA_FAMILY(qconv);      /* ConvInteger, QLinearConv */
NNL_EXTRA_FAMILY(det);        /* Det (extra_linalg.c) */
NNL_EXTRA_FAMILY(roialign);   /* RoiAlign (extra_roi.c) */
NNL_EXTRA_FAMILY(dft);        /* DFT (extra_dft.c) */
NNL_EXTRA_FAMILY(stft);       /* STFT */
NNL_EXTRA_FAMILY(window);     /* HannWindow, HammingWindow, BlackmanWindow */

#endif
