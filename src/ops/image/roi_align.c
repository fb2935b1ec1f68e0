/*
 * RoiAlign, mode "avg", over float32 N x C x H x W, as torchvision's
 * roi_align computes it (ONNX's reference follows the same algorithm):
 * coordinate_transformation_mode half_pixel is aligned=True (shift by half
 * a pixel, no minimum size), output_half_pixel is aligned=False (ROIs at
 * least 1 x 1).  Opset 10, which has no such attribute, behaves as
 * output_half_pixel.  Samples beyond one pixel outside the map read 0,
 * others clamp to the edge.  Coordinates are float32 like the references:
 * the adaptive sample count ceil(roi / bins) must round the same way.
 * Mode "max" (defined by onnxruntime's kernel, not by a formula) is
 * refused.
 */
#include <math.h>
#include <string.h>

#include "ops/image/image_ops.h"

/* Bilinear samples one run may take.  The adaptive grid is ceil(roi size /
 * bins) per axis, so a box far larger than the map (a hostile or broken
 * ROI) would otherwise run for hours: a fuzzed file spent minutes here.
 * Mask R-CNN's mask head takes ~2e8 (1000 ROIs x 256 channels x 14 x 14
 * bins x 4). */
#define ROI_MAX_SAMPLES 268435456.0

static nnl_status roi_aligned(const nnl_op_call *c, int *aligned) {
    const char *m = nnl_attr_str(c, "coordinate_transformation_mode",
                                 c->opset >= 16 ? "half_pixel" : "output_half_pixel");
    if (strcmp(m, "half_pixel") == 0) *aligned = 1;
    else if (strcmp(m, "output_half_pixel") == 0) *aligned = 0;
    else return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "coordinate_transformation_mode '%s'", m);
    return NNL_OK;
}

nnl_status nnl_image_roialign_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"coordinate_transformation_mode", "mode", "output_height",
                                        "output_width", "sampling_ratio", "spatial_scale", NULL};
    nnl_status st = nnl_attr_check(c, known);
    if (st) return st;
    if (strcmp(nnl_attr_str(c, "mode", "avg"), "avg") != 0)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "mode '%s' is not supported (avg only)",
                           nnl_attr_str(c, "mode", "avg"));
    int aligned;
    if ((st = roi_aligned(c, &aligned))) return st;
    if ((st = nnl_op_check_io(c, 3, 3, 3, 1, 1)) || (st = nnl_op_check_inputs(c))) return st;
    const nnl_tensor *x = c->in[0], *rois = c->in[1], *bi = c->in[2];
    if (x->dtype != NNL_DT_FLOAT || rois->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "X and rois must be float32");
    if (x->rank != 4) return nnl_op_fail(c, NNL_ERR_SHAPE, "X must be N x C x H x W");
    if (rois->rank != 2 || rois->dims[1] != 4)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "rois must be [num_rois, 4]");
    if ((bi->dtype != NNL_DT_INT64 && bi->dtype != NNL_DT_INT32) || bi->rank != 1 ||
        bi->dims[0] != rois->dims[0])
        return nnl_op_fail(c, NNL_ERR_SHAPE, "batch_indices must be int64 [num_rois]");
    const int64_t oh = nnl_attr_int(c, "output_height", 1), ow = nnl_attr_int(c, "output_width", 1);
    const int64_t sr = nnl_attr_int(c, "sampling_ratio", 0);
    if (oh < 1 || ow < 1 || sr < 0)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "output size must be positive and "
                           "sampling_ratio not negative");
    const int64_t od[4] = {rois->dims[0], x->dims[1], oh, ow};
    if ((double)od[0] * (double)od[1] * (double)oh * (double)ow * (double)sr * (double)sr > ROI_MAX_SAMPLES)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "sampling_ratio %lld needs more than 2^28 samples",
                           (long long)sr);
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, 4, od))) return st;
    /* a fixed sampling_ratio is known here; an adaptive grid depends on
     * the ROIs (bounded at run time by ROI_MAX_SAMPLES) */
    r->flops = 16.0 * (double)od[0] * (double)od[1] * (double)oh * (double)ow * (double)(sr > 0 ? sr * sr : 1);
    return NNL_OK;
}

typedef struct roi_job {
    const float *x, *rois;
    const void *bi;
    nnl_dtype bdt;
    float *y;
    int64_t C, H, W, oh, ow, sr;
    float scale;
    int aligned;
} roi_job;

static float bilinear(const float *p, int64_t H, int64_t W, float y, float x) {
    if (y < -1.0f || y > (float)H || x < -1.0f || x > (float)W) return 0;
    if (y <= 0) y = 0;
    if (x <= 0) x = 0;
    int64_t y0 = (int64_t)y, x0 = (int64_t)x, y1, x1;
    if (y0 >= H - 1) y1 = y0 = H - 1, y = (float)y0;
    else y1 = y0 + 1;
    if (x0 >= W - 1) x1 = x0 = W - 1, x = (float)x0;
    else x1 = x0 + 1;
    const float ly = y - (float)y0, lx = x - (float)x0, hy = 1 - ly, hx = 1 - lx;
    return hy * hx * p[y0 * W + x0] + hy * lx * p[y0 * W + x1] + ly * hx * p[y1 * W + x0] +
           ly * lx * p[y1 * W + x1];
}

/* One ROI in map coordinates: origin, bin size, samples per bin axis. */
typedef struct roi_box {
    float x0, y0, bh, bw;
    int64_t gh, gw;
} roi_box;

static roi_box roi_at(const roi_job *j, const float *box) {
    roi_box b;
    const float off = j->aligned ? 0.5f : 0.0f;
    b.x0 = box[0] * j->scale - off;
    b.y0 = box[1] * j->scale - off;
    float rw = box[2] * j->scale - off - b.x0, rh = box[3] * j->scale - off - b.y0;
    if (!j->aligned) {
        rw = rw > 1.0f ? rw : 1.0f;
        rh = rh > 1.0f ? rh : 1.0f;
    }
    b.bh = rh / (float)j->oh;
    b.bw = rw / (float)j->ow;
    b.gh = j->sr > 0 ? j->sr : (int64_t)ceilf(rh / (float)j->oh);
    b.gw = j->sr > 0 ? j->sr : (int64_t)ceilf(rw / (float)j->ow);
    /* Non-finite or absurd boxes sample once rather than looping on. */
    if (!(rh / (float)j->oh < 1e6f) && j->sr == 0) b.gh = 1;
    if (!(rw / (float)j->ow < 1e6f) && j->sr == 0) b.gw = 1;
    if (b.gh < 0) b.gh = 0;
    if (b.gw < 0) b.gw = 0;
    return b;
}

/* One item is one (roi, channel) output plane. */
static void roi_planes(void *ctx, int64_t b, int64_t e, int thread) {
    const roi_job *j = ctx;
    (void)thread;
    for (int64_t pl = b; pl < e; pl++) {
        const int64_t r = pl / j->C, ch = pl % j->C;
        const int64_t n = j->bdt == NNL_DT_INT64 ? ((const int64_t *)j->bi)[r]
                                                 : ((const int32_t *)j->bi)[r];
        const roi_box rb = roi_at(j, j->rois + r * 4);
        const float x0 = rb.x0, y0 = rb.y0, bh = rb.bh, bw = rb.bw;
        const int64_t gh = rb.gh, gw = rb.gw;
        const float count = (float)(gh * gw > 1 ? gh * gw : 1);
        const float *plane = j->x + (n * j->C + ch) * j->H * j->W;
        float *out = j->y + pl * j->oh * j->ow;
        for (int64_t py = 0; py < j->oh; py++)
            for (int64_t px = 0; px < j->ow; px++) {
                float sum = 0;
                for (int64_t iy = 0; iy < gh; iy++) {
                    const float yy = y0 + (float)py * bh + ((float)iy + 0.5f) * bh / (float)gh;
                    for (int64_t ix = 0; ix < gw; ix++) {
                        const float xx = x0 + (float)px * bw + ((float)ix + 0.5f) * bw / (float)gw;
                        sum += bilinear(plane, j->H, j->W, yy, xx);
                    }
                }
                out[py * j->ow + px] = sum / count;
            }
    }
}

nnl_status nnl_image_roialign_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *bi = c->in[2];
    roi_job j = {x->data, c->in[1]->data, bi->data, bi->dtype, c->out[0]->data,
                 x->dims[1], x->dims[2], x->dims[3], nnl_attr_int(c, "output_height", 1),
                 nnl_attr_int(c, "output_width", 1), nnl_attr_int(c, "sampling_ratio", 0),
                 nnl_attr_float(c, "spatial_scale", 1.0f), 0};
    nnl_status st = roi_aligned(c, &j.aligned);
    if (st) return st;
    const int64_t nr = c->in[1]->dims[0];
    for (int64_t r = 0; r < nr; r++) {
        const int64_t n = bi->dtype == NNL_DT_INT64 ? ((const int64_t *)bi->data)[r]
                                                    : ((const int32_t *)bi->data)[r];
        if (n < 0 || n >= x->dims[0])
            return nnl_op_fail(c, NNL_ERR_INVALID_ARG, "batch index %lld is outside [0, %lld)",
                               (long long)n, (long long)x->dims[0]);
    }
    double samples = 0;
    for (int64_t r = 0; r < nr; r++) {
        const roi_box rb = roi_at(&j, j.rois + r * 4);
        samples += (double)rb.gh * (double)rb.gw * (double)j.C * (double)j.oh * (double)j.ow;
    }
    if (samples > ROI_MAX_SAMPLES)
        return nnl_op_fail(c, NNL_ERR_INVALID_ARG,
                           "the ROIs need %.3g bilinear samples (more than 2^28): boxes far larger "
                           "than the feature map?", samples);
    if (j.H == 0 || j.W == 0) {
        memset(j.y, 0, nnl_tensor_nbytes(c->out[0]));
        return NNL_OK;
    }
    nnl_op_parallel(c->pool, nr * j.C, 1, roi_planes, &j);
    return NNL_OK;
}
