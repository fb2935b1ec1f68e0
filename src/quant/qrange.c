/*
 * Activation ranges -> scale and zero point.
 *
 * Activations are quantized asymmetrically (ONNX Runtime's default):
 * the range is widened to include 0 (so that 0, e.g. padding, is exact),
 * scale = (hi - lo) / (qmax - qmin), zero point = qmin - lo / scale rounded.
 *
 * percentile and mse work on the histogram of NNL_QHIST_BINS bins over
 * [-absmax, absmax] that calibration collects.  Both clip |x| at a
 * threshold t, the range becoming [max(min, -t), min(max, t)]:
 * percentile takes the smallest t below which the given percentage of
 * |x| lies; mse tries t = absmax * k / 128 for k = 1..128 and keeps the one
 * with the smallest squared error of quantizing the histogram (every
 * value taken at its bin's centre).
 */
#include <math.h>

#include "quant/quant.h"

#define MSE_STEPS 128

static void qlimits(nnl_dtype dt, int32_t *qmin, int32_t *qmax) {
    *qmin = dt == NNL_DT_UINT8 ? 0 : -128;
    *qmax = dt == NNL_DT_UINT8 ? 255 : 127;
}

void nnl_qrange_params(double lo, double hi, nnl_dtype dt, float *scale, int32_t *zp) {
    int32_t qmin, qmax;
    qlimits(dt, &qmin, &qmax);
    lo = fmin(lo, 0);
    hi = fmax(hi, 0);
    float s = (float)((hi - lo) / (qmax - qmin));
    if (!(s > 0) || !isfinite(s)) {
        /* A constant-zero tensor: any scale represents it. */
        *scale = 1.0f;
        *zp = 0;
        return;
    }
    double z = rint(qmin - lo / s);
    *scale = s;
    *zp = (int32_t)fmin(qmax, fmax(qmin, z));
}

/* Squared error of quantizing the histogram with range [lo, hi]. */
static double hist_error(const qact *a, double lo, double hi, nnl_dtype dt) {
    float s;
    int32_t zp, qmin, qmax;
    nnl_qrange_params(lo, hi, dt, &s, &zp);
    qlimits(dt, &qmin, &qmax);
    const double w = 2 * a->absmax / NNL_QHIST_BINS;
    double err = 0;
    for (int i = 0; i < NNL_QHIST_BINS; i++) {
        if (!a->hist[i]) continue;
        double x = -a->absmax + (i + 0.5) * w;
        double q = fmin(qmax, fmax(qmin, rint(x / s) + zp));
        double d = x - (q - zp) * s;
        err += (double)a->hist[i] * d * d;
    }
    return err;
}

void nnl_qrange_choose(const qact *a, nnl_quant_method method, double percentile, nnl_dtype dt,
                       double *lo, double *hi) {
    *lo = a->min;
    *hi = a->max;
    if (method == NNL_QUANT_MINMAX || !a->hist || !(a->absmax > 0)) return;
    const double w = 2 * a->absmax / NNL_QHIST_BINS;
    const int half = NNL_QHIST_BINS / 2;
    double t = a->absmax;
    if (method == NNL_QUANT_PERCENTILE) {
        /* |x| histogram: bin j of |x| folds bins half + j and half - 1 - j. */
        uint64_t total = 0, cum = 0;
        for (int i = 0; i < NNL_QHIST_BINS; i++) total += a->hist[i];
        double want = percentile / 100.0 * (double)total;
        for (int j = 0; j < half; j++) {
            cum += a->hist[half + j] + a->hist[half - 1 - j];
            if ((double)cum >= want) {
                t = (j + 1) * w;
                break;
            }
        }
    } else {
        double best = INFINITY;
        for (int k = MSE_STEPS; k >= 1; k--) {
            double tk = a->absmax * k / MSE_STEPS;
            double e = hist_error(a, fmax(a->min, -tk), fmin(a->max, tk), dt);
            if (e < best) {   /* ties keep the wider range */
                best = e;
                t = tk;
            }
        }
    }
    *lo = fmax(a->min, -t);
    *hi = fmin(a->max, t);
}
