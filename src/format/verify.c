/*
 * nnl_file_verify: the weights checksum, over every byte of the weight data
 * section (padding included), plus the metadata checksum again so a single
 * call vouches for the whole file.  The section table was bounds-checked
 * when the file was opened and the mapping is read-only, so its values are
 * trusted here.
 */
#include "format/verify.h"

#include "format/fmt_internal.h"
#include "format/xxh64.h"

nnl_status nnl_file_verify(const nnl_file *f) {
    if (!f || !f->map || f->map_size < NNL_FMT_TABLES_END)
        return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_file_verify: file was not opened from disk");
    const uint8_t *m = f->map;
    const uint8_t *ent = m + NNL_FMT_HEADER_SIZE + (NNL_SEC_WEIGHT_DATA - 1) * NNL_FMT_SECTION_ENTRY;
    uint64_t off = nnl_get_u64(ent + 8), len = nnl_get_u64(ent + 16);
    if (off > f->map_size || len > f->map_size - off)
        return nnl_fail(NNL_ERR_INTERNAL, "nnl_file_verify: section table changed under the mapping");
    if (nnl_fmt_meta_checksum(m, off) != nnl_get_u64(m + NNL_FMT_OFF_META_SUM))
        return nnl_fail(NNL_ERR_FORMAT, "metadata checksum mismatch: the file is corrupt");
    uint64_t want = nnl_get_u64(m + NNL_FMT_OFF_WEIGHT_SUM);
    uint64_t got = nnl_xxh64(m + off, (size_t)len, 0);
    if (got == want) return NNL_OK;
    /* Name the damaged weight when its own hash disagrees too. */
    for (int i = 0; i < f->n_weights; i++) {
        const nnl_frec_weight *w = &f->weights[i];
        if (nnl_xxh64(w->data, (size_t)w->nbytes, 0) != w->hash)
            return nnl_fail(NNL_ERR_FORMAT, "weight %d '%s' is corrupt (weights checksum "
                            "mismatch)", i, w->name);
    }
    return nnl_fail(NNL_ERR_FORMAT, "weights checksum mismatch (stored %016llx, computed "
                    "%016llx): the weight data is corrupt", (unsigned long long)want,
                    (unsigned long long)got);
}
