/*
 * GridSample over 4-D float32 input, as torch.nn.functional.grid_sample
 * computes it (which is what ONNX opset 16 specifies): modes bilinear,
 * nearest (round half to even) and bicubic (A = -0.75), padding zeros,
 * border and reflection, align_corners 0/1.  Opset 20's names "linear"
 * and "cubic" are the same modes; its N-D form (rank other than 4) is
 * refused.
 *
 * Bilinear and nearest apply the padding to the sampling point; bicubic
 * applies it to each of its 16 taps, as torch does.  Taps still outside the
 * input (zeros padding) read 0.
 */
#include <math.h>
#include <string.h>

#include "ops/image/image_ops.h"

enum { M_BILINEAR, M_NEAREST, M_BICUBIC };
enum { P_ZEROS, P_BORDER, P_REFLECTION };

static nnl_status parse(const nnl_op_call *c, int *mode, int *pad) {
    const char *m = nnl_attr_str(c, "mode", "bilinear");
    const char *p = nnl_attr_str(c, "padding_mode", "zeros");
    if (strcmp(m, "bilinear") == 0 || strcmp(m, "linear") == 0) *mode = M_BILINEAR;
    else if (strcmp(m, "nearest") == 0) *mode = M_NEAREST;
    else if (strcmp(m, "bicubic") == 0 || strcmp(m, "cubic") == 0) *mode = M_BICUBIC;
    else return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "mode '%s' is not supported", m);
    if (strcmp(p, "zeros") == 0) *pad = P_ZEROS;
    else if (strcmp(p, "border") == 0) *pad = P_BORDER;
    else if (strcmp(p, "reflection") == 0) *pad = P_REFLECTION;
    else return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "padding_mode '%s' is not supported", p);
    return NNL_OK;
}

nnl_status nnl_image_gridsample_infer(nnl_op_call *c, nnl_infer_result *r) {
    static const char *const known[] = {"align_corners", "mode", "padding_mode", NULL};
    nnl_status st = nnl_attr_check(c, known);
    if (st) return st;
    int mode, pad;
    if ((st = parse(c, &mode, &pad))) return st;
    if ((st = nnl_op_check_io(c, 2, 2, 2, 1, 1)) || (st = nnl_op_check_inputs(c))) return st;
    const nnl_tensor *x = c->in[0], *g = c->in[1];
    if (x->dtype != NNL_DT_FLOAT || g->dtype != NNL_DT_FLOAT)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "X and grid must be float32");
    if (x->rank != 4)
        return nnl_op_fail(c, NNL_ERR_UNSUPPORTED, "X of rank %d (only 4-D N x C x H x W)",
                           x->rank);
    if (g->rank != 4 || g->dims[0] != x->dims[0] || g->dims[3] != 2)
        return nnl_op_fail(c, NNL_ERR_SHAPE, "grid must be [N, H_out, W_out, 2]");
    const int64_t od[4] = {x->dims[0], x->dims[1], g->dims[1], g->dims[2]};
    if ((st = nnl_op_set_out(c, c->out[0], NNL_DT_FLOAT, 4, od))) return st;
    r->flops = (mode == M_BICUBIC ? 40.0 : 8.0) * (double)od[0] * (double)od[1] * (double)od[2] *
               (double)od[3];
    return NNL_OK;
}

typedef struct gs_job {
    const float *x, *grid;
    float *y;
    int64_t C, H, W, OH, OW;
    int mode, pad, align;
} gs_job;

static float unnormalize(float v, int64_t size, int align) {
    return align ? (v + 1) / 2 * (float)(size - 1) : ((v + 1) * (float)size - 1) / 2;
}

static float reflect(float v, float twice_lo, float twice_hi) {
    if (twice_lo == twice_hi) return 0;
    const float mn = twice_lo / 2, span = (twice_hi - twice_lo) / 2;
    v = fabsf(v - mn);
    const float extra = fmodf(v, span);
    const float flips = floorf(v / span);
    return fmodf(flips, 2) == 0 ? extra + mn : span - extra + mn;
}

static float clip(float v, int64_t size) {
    const float hi = (float)(size - 1);
    return v < 0 ? 0 : v > hi ? hi : v;
}

/* The padding mode's remapping of an unnormalised coordinate. */
static float pad_coord(const gs_job *j, float v, int64_t size) {
    if (j->pad == P_BORDER) return clip(v, size);
    if (j->pad == P_REFLECTION) {
        v = j->align ? reflect(v, 0, 2.0f * (float)(size - 1))
                     : reflect(v, -1, 2.0f * (float)size - 1);
        return clip(v, size);
    }
    return v;
}

/* Integer index of an already floored / rounded coordinate; NaN and values
 * far outside any tensor map to an index that is out of bounds, so the
 * conversion is always defined. */
static int64_t to_index(float v) {
    if (!(v > -1e9f && v < 1e9f)) return -1000000000000LL;
    return (int64_t)v;
}

static float at(const float *plane, int64_t H, int64_t W, int64_t yy, int64_t xx) {
    return yy >= 0 && yy < H && xx >= 0 && xx < W ? plane[yy * W + xx] : 0.0f;
}

static float cubic(float x0, float x1, float x2, float x3, float t) {
    const float A = -0.75f;
    const float u = t + 1, v = 1 - t, w = 2 - t;
    const float c0 = ((A * (u - 5) * u + 8 * A) * u - 4 * A);
    const float c1 = ((A + 2) * t - (A + 3)) * t * t + 1;
    const float c2 = ((A + 2) * v - (A + 3)) * v * v + 1;
    const float c3 = ((A * (w - 5) * w + 8 * A) * w - 4 * A);
    return x0 * c0 + x1 * c1 + x2 * c2 + x3 * c3;
}

static float sample(const gs_job *j, const float *plane, float gx, float gy) {
    const int64_t H = j->H, W = j->W;
    if (j->mode == M_BICUBIC) {
        const float ix = unnormalize(gx, W, j->align), iy = unnormalize(gy, H, j->align);
        const float fx = floorf(ix), fy = floorf(iy);
        const float tx = ix - fx, ty = iy - fy;
        float rows[4];
        for (int a = 0; a < 4; a++) {
            float v[4];
            const int64_t yy = to_index(pad_coord(j, fy - 1 + (float)a, H));
            for (int b = 0; b < 4; b++) {
                const int64_t xx = to_index(pad_coord(j, fx - 1 + (float)b, W));
                v[b] = at(plane, H, W, yy, xx);
            }
            rows[a] = cubic(v[0], v[1], v[2], v[3], tx);
        }
        return cubic(rows[0], rows[1], rows[2], rows[3], ty);
    }
    const float ix = pad_coord(j, unnormalize(gx, W, j->align), W);
    const float iy = pad_coord(j, unnormalize(gy, H, j->align), H);
    if (j->mode == M_NEAREST)
        return at(plane, H, W, to_index(rintf(iy)), to_index(rintf(ix)));
    const float fx = floorf(ix), fy = floorf(iy);
    const int64_t x0 = to_index(fx), y0 = to_index(fy);
    const float dx = ix - fx, dy = iy - fy;
    return at(plane, H, W, y0, x0) * (1 - dx) * (1 - dy) + at(plane, H, W, y0, x0 + 1) * dx * (1 - dy) +
           at(plane, H, W, y0 + 1, x0) * (1 - dx) * dy + at(plane, H, W, y0 + 1, x0 + 1) * dx * dy;
}

/* One item is one (n, c) output plane. */
static void gs_planes(void *ctx, int64_t b, int64_t e, int thread) {
    const gs_job *j = ctx;
    (void)thread;
    const int64_t npix = j->OH * j->OW;
    for (int64_t pl = b; pl < e; pl++) {
        const int64_t n = pl / j->C;
        const float *plane = j->x + pl * j->H * j->W;
        const float *g = j->grid + n * npix * 2;
        float *y = j->y + pl * npix;
        for (int64_t p = 0; p < npix; p++) y[p] = sample(j, plane, g[2 * p], g[2 * p + 1]);
    }
}

nnl_status nnl_image_gridsample_exec(const nnl_op_call *c) {
    const nnl_tensor *x = c->in[0], *g = c->in[1];
    gs_job j = {x->data, g->data, c->out[0]->data, x->dims[1], x->dims[2], x->dims[3],
                g->dims[1], g->dims[2], 0, 0, nnl_attr_int(c, "align_corners", 0) != 0};
    nnl_status st = parse(c, &j.mode, &j.pad);
    if (st) return st;
    const int64_t npix = j.OH * j.OW;
    nnl_op_parallel(c->pool, x->dims[0] * x->dims[1], npix >= 1024 ? 1 : 1024 / (npix ? npix : 1),
                    gs_planes, &j);
    return NNL_OK;
}
