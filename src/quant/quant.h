/*
 * Post-training quantization to a QDQ ONNX model (nnl_quantize_file).
 *
 * Three steps, one file each:
 *   qplan.c   what to quantize, decided on the float model's IR: the
 *             activation tensors that get a QuantizeLinear ->
 *             DequantizeLinear pair, the weights stored as int8 (per output
 *             channel, symmetric) and the biases stored as int32;
 *   calib.c   the activations' value ranges: the model compiled in-process
 *             with those tensors as extra outputs and run on every sample
 *             (min/max, then a histogram for percentile and mse);
 *   qdq_write.c  the original ModelProto rewritten: every field it does not
 *             change is copied byte for byte, so dynamic dimensions,
 *             metadata and value_info survive.
 * qrange.c turns ranges into scales and zero points.
 */
#ifndef NNL_QUANT_H
#define NNL_QUANT_H

#include "ir/model.h"

#define NNL_QHIST_BINS 4096   /* histogram over [-absmax, absmax] */

/* An activation tensor that gets a Q/DQ pair. */
typedef struct qact {
    int value;                 /* in the planning IR */
    const char *name;          /* owned by the IR */
    bool use;                  /* false once calibration finds it is not float32 */
    /* calibration */
    double min, max, absmax;
    uint64_t *hist;            /* NNL_QHIST_BINS counts, or NULL */
    /* result */
    float scale;
    int32_t zero_point;
} qact;

/* A float weight stored as int8 with one scale per slice of `axis`. */
typedef struct qweight {
    int value;                 /* in the planning IR (a constant) */
    const char *name;
    int axis;
    int act;                   /* qact index of the consumer's data input, -1 if none */
    int bias;                  /* IR value of the consumer's bias (int32 candidate), -1 if none */
    int8_t *q;                 /* after quantization: numel elements */
    float *scale;              /* dims[axis] elements */
    int64_t channels;
    int32_t *bias_q;           /* channels elements when the bias is stored as int32 */
    float *bias_scale;
} qweight;

typedef struct qplan {
    nnl_model *m;              /* the float model (not compiled) */
    qact *acts;
    int n_acts;
    qweight *ws;
    int n_ws;
    nnl_dtype act_dtype;       /* NNL_DT_UINT8 or NNL_DT_INT8 */
    int wmax;                  /* weights within [-wmax, wmax]: 127, or 64 for 7-bit ones */
} qplan;

/* Choose activations, weights and biases on p->m.  Refuses models that
 * quantize nothing. */
nnl_status nnl_qplan_build(qplan *p);
void nnl_qplan_free(qplan *p);
/* Quantize every weight (and the biases, once the activations' scales are
 * known). */
nnl_status nnl_qplan_quantize_weights(qplan *p);

/* Scale and zero point of a float range for the activation dtype. */
void nnl_qrange_params(double lo, double hi, nnl_dtype dt, float *scale, int32_t *zp);
/* Clipping range of a calibrated activation for the method. */
void nnl_qrange_choose(const qact *a, nnl_quant_method method, double percentile, nnl_dtype dt,
                       double *lo, double *hi);

/* Calibration of every p->acts entry. */
nnl_status nnl_calibrate(const char *onnx_path, qplan *p, const nnl_quantize_options *o);

/* Fails (naming the node) when the model's opset is below 13 and it uses
 * an op whose form changed by opset 13, so that importing 13 would change
 * its meaning. */
nnl_status nnl_qdq_check_opset(const nnl_model *m);
/* Write the QDQ model for p (scales set) to out_path atomically. */
nnl_status nnl_qdq_write(const char *onnx_path, const char *out_path, const qplan *p,
                         int64_t *opset_from, int64_t *opset_to);

#endif
