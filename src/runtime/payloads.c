/*
 * What nnl_plan_verify adds to the checksums: the payload contracts that
 * kernels rely on without checking per call, which a checksum cannot vouch
 * for (a crafted file carries checksums of its own bytes).  PACK_Q8
 * (kernels/qconv.h, docs/FORMAT.md): wsum[r] is the sum of row r's values
 * and the padding rows and channels are 0, else the zero point's
 * correction is wrong for every output of the row; and a QLinearConv or
 * NnlQGemm that states nnl_w7 = 1 has every value of its weight within
 * [-64, 64], else AVX2's 7-bit kernel (vpmaddubsw) saturates.  Wrong
 * numbers, not memory hazards: the reader's bounds checks do not depend
 * on these.
 */
#include <stdlib.h>
#include <string.h>

#include "kernels/qconv.h"
#include "runtime/runtime.h"

/* Checks PACK_Q8 weight i; *w7 tells whether its values lie in [-64, 64]. */
static nnl_status check_q8(const nnl_frec_weight *w, int i, bool *w7) {
    *w7 = true;
    if (w->dtype != NNL_DT_INT8 || w->rank < 2 || w->nbytes != nnl_pack_q8_bytes(w->rank, w->dims))
        return nnl_fail(NNL_ERR_FORMAT, "weight %d '%s': not a PACK_Q8 payload of its dims", i, w->name);
    int64_t rows = w->dims[0], chans = w->dims[1], taps = 1;
    for (int d = 2; d < w->rank; d++) taps *= w->dims[d];
    const int64_t quads = (chans + 3) / 4 * taps, panels = (rows + 7) / 8;
    const int32_t *wsum = nnl_q8_wsum(w->data, rows);
    const int8_t *q8 = nnl_q8_panels(w->data, rows);
    for (int64_t p = 0; p < panels; p++)
        for (int64_t i8 = 0; i8 < 8; i8++) {
            const int64_t r = 8 * p + i8;
            int64_t sum = 0;
            for (int64_t q = 0; q < quads; q++)
                for (int64_t j = 0; j < 4; j++) {
                    const int8_t v = q8[((p * quads + q) * 8 + i8) * 4 + j];
                    const bool pad = r >= rows || (q / taps) * 4 + j >= chans;
                    if (pad && v)
                        return nnl_fail(NNL_ERR_FORMAT, "weight %d '%s': PACK_Q8 padding is not zero (row %lld)",
                                        i, w->name, (long long)r);
                    sum += v;
                    if (v < -64 || v > 64) *w7 = false;
                }
            int32_t stored;
            memcpy(&stored, wsum + r, sizeof stored);
            if (stored != (r < rows ? sum : 0))
                return nnl_fail(NNL_ERR_FORMAT, "weight %d '%s': PACK_Q8 row sum of row %lld is %d, its values "
                                "sum to %lld", i, w->name, (long long)r, (int)stored, (long long)sum);
        }
    return NNL_OK;
}

nnl_status nnl_plan_check_payloads(const nnl_file *f) {
    bool *w7 = calloc((size_t)f->n_weights + 1, sizeof *w7);
    if (!w7) return nnl_fail(NNL_ERR_NOMEM, "out of memory checking the weights' payloads");
    nnl_status st = NNL_OK;
    for (int i = 0; i < f->n_weights && !st; i++)
        if (f->weights[i].layout == NNL_LAYOUT_PACK_Q8) st = check_q8(&f->weights[i], i, &w7[i]);
    for (int g = 0; g < f->n_graphs && !st; g++) {
        const nnl_frec_graph *gr = &f->graphs[g];
        for (int n = 0; n < gr->n_nodes && !st; n++) {
            const nnl_frec_node *nd = &gr->nodes[n];
            bool claims = false;
            for (int a = 0; a < nd->n_attrs; a++)
                if (strcmp(nd->attrs[a].name, "nnl_w7") == 0 && nd->attrs[a].type == NNL_ATTR_INT &&
                    nd->attrs[a].i == 1)
                    claims = true;
            /* the weight is input 3 of QLinearConv and NnlQGemm (x, its
             * scale and zero point first) */
            if (!claims || nd->n_in < 4 || nd->in[3] < 0) continue;
            const nnl_frec_tensor *t = &gr->tensors[nd->in[3]];
            if (t->kind != NNL_TK_WEIGHT || f->weights[t->where].layout != NNL_LAYOUT_PACK_Q8) continue;
            if (!w7[t->where])
                st = nnl_fail(NNL_ERR_FORMAT, "graph '%s' node '%s' states nnl_w7 = 1, but its weight '%s' has "
                              "values outside [-64, 64]", gr->name, nd->name, f->weights[t->where].name);
        }
    }
    free(w7);
    return st;
}
