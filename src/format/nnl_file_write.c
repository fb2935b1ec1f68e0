/*
 * Writer of .nnl format version 1 (docs/FORMAT.md).
 *
 * The metadata (header, section table, strings, tables) is encoded into one
 * buffer; weight data is streamed from weights[i].data (for the linker,
 * straight from the input mappings) through a small staging buffer that
 * only batches small pieces.  Per-weight hashes and the weights checksum
 * are computed in the same pass, then patched into the metadata, whose
 * checksum is computed last and rewritten at offset 0.
 *
 * Output is a pure function of the nnl_file: no timestamps, zeroed padding,
 * strings stored in first-use order.  The file appears atomically
 * (atomic_out.h: temporary file in the destination folder, fsync, rename).
 */
#include <stdio.h>

#include "format/atomic_out.h"
#include "format/fmt_internal.h"
#include "format/xxh64.h"

/* ---- string table with dedup ------------------------------------------ */

typedef struct strtab {
    uint8_t *buf;
    size_t len, cap;
    uint32_t *slots;           /* offset + 1 of a stored string, 0 = empty */
    size_t nslots, count;
} strtab;

static nnl_status strtab_grow_slots(strtab *t) {
    size_t n = t->nslots ? t->nslots * 2 : 1024;
    uint32_t *s = nnl_calloc(n, sizeof *s);
    if (!s) return nnl_fail(NNL_ERR_NOMEM, "out of memory building the string table");
    for (size_t i = 0; i < t->nslots; i++) {
        if (!t->slots[i]) continue;
        const char *str = (const char *)t->buf + t->slots[i] - 1;
        size_t j = nnl_xxh64(str, strlen(str), 0) & (n - 1);
        while (s[j]) j = (j + 1) & (n - 1);
        s[j] = t->slots[i];
    }
    nnl_free(t->slots);
    t->slots = s;
    t->nslots = n;
    return NNL_OK;
}

/* Adds s (NULL = "") and stores its (offset, length) reference at p. */
static nnl_status strtab_add(strtab *t, const char *s, uint8_t *p) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0) {
        nnl_put_u32(p, 0);
        nnl_put_u32(p + 4, 0);
        return NNL_OK;
    }
    if ((t->count + 1) * 2 > t->nslots) {
        nnl_status st = strtab_grow_slots(t);
        if (st) return st;
    }
    size_t j = nnl_xxh64(s, n, 0) & (t->nslots - 1);
    for (; t->slots[j]; j = (j + 1) & (t->nslots - 1)) {
        const char *have = (const char *)t->buf + t->slots[j] - 1;
        if (strcmp(have, s) == 0) {
            nnl_put_u32(p, t->slots[j] - 1);
            nnl_put_u32(p + 4, (uint32_t)n);
            return NNL_OK;
        }
    }
    if (t->len + n + 1 > NNL_FMT_MAX_STRTAB)
        return nnl_fail(NNL_ERR_INVALID_ARG, "string table exceeds %u bytes",
                        NNL_FMT_MAX_STRTAB);
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap * 2 > t->len + n + 1 ? t->cap * 2 : t->len + n + 1;
        uint8_t *b = nnl_realloc(t->buf, cap);
        if (!b) return nnl_fail(NNL_ERR_NOMEM, "out of memory building the string table");
        t->buf = b;
        t->cap = cap;
    }
    uint32_t off = (uint32_t)t->len;
    memcpy(t->buf + t->len, s, n + 1);
    t->len += n + 1;
    t->slots[j] = off + 1;
    t->count++;
    nnl_put_u32(p, off);
    nnl_put_u32(p + 4, (uint32_t)n);
    return NNL_OK;
}

/* ---- table encoding ----------------------------------------------------- */

typedef struct sections {
    uint64_t off[NNL_FMT_N_SECTIONS + 1];  /* indexed by section id */
    uint64_t size[NNL_FMT_N_SECTIONS + 1];
} sections;

typedef struct enc {
    strtab st;
    uint8_t *tab;              /* records of sections 2..8, laid out back to back */
    uint64_t base[NNL_FMT_N_SECTIONS + 1];   /* offset of section id inside tab */
    uint64_t count[NNL_FMT_N_SECTIONS + 1];  /* records (bytes for ATTR_DATA) used */
    uint64_t *woff;            /* offset of each weight in the weight data section */
} enc;

static const uint64_t rec_size[NNL_FMT_N_SECTIONS + 1] = {
    [NNL_SEC_WEIGHTS] = NNL_REC_WEIGHT, [NNL_SEC_GRAPHS] = NNL_REC_GRAPH,
    [NNL_SEC_TENSORS] = NNL_REC_TENSOR, [NNL_SEC_NODES] = NNL_REC_NODE,
    [NNL_SEC_ATTRS] = NNL_REC_ATTR,     [NNL_SEC_INDICES] = NNL_REC_INDEX,
    [NNL_SEC_ATTR_DATA] = 1,
};

static uint8_t *rec(enc *e, int sec) {
    return e->tab + e->base[sec] + e->count[sec]++ * rec_size[sec];
}

/* The next record of a table, its first strref (name, or a node's op type)
 * filled in: every record starts with one. */
static nnl_status rec_named(enc *e, int sec, const char *first, uint8_t **r) {
    *r = rec(e, sec);
    return strtab_add(&e->st, first, *r);
}

/* dtype, layout, rank (three u32 at p) and the dims at d: the shape fields
 * weight and tensor records share at different offsets. */
static void put_shape(uint8_t *p, uint8_t *d, nnl_dtype dtype, nnl_layout layout, int rank,
                      const int64_t *dims) {
    nnl_put_u32(p, (uint32_t)dtype);
    nnl_put_u32(p + 4, (uint32_t)layout);
    nnl_put_u32(p + 8, (uint32_t)rank);
    for (int i = 0; i < NNL_MAX_RANK; i++) nnl_put_u64(d + 8 * i, i < rank ? (uint64_t)dims[i] : 0);
}

static uint32_t put_indices(enc *e, const int32_t *v, int n) {
    uint32_t first = (uint32_t)e->count[NNL_SEC_INDICES];
    for (int i = 0; i < n; i++) nnl_put_u32(rec(e, NNL_SEC_INDICES), (uint32_t)v[i]);
    return first;
}

static nnl_status put_attr(enc *e, const nnl_attr *a) {
    uint8_t *r;
    nnl_status s = rec_named(e, NNL_SEC_ATTRS, a->name, &r);
    if (s) return s;
    nnl_put_u32(r + 8, (uint32_t)a->type);
    /* an array goes at the next offset aligned to its element size */
    const uint64_t es = nnl_fmt_attr_elem_size(a->type);
    const uint32_t count = es ? (uint32_t)a->n : 0;
    uint64_t *used = &e->count[NNL_SEC_ATTR_DATA];
    if (es) *used = nnl_align_up(*used, es);
    uint64_t v = es ? *used : 0;
    uint8_t *data = e->tab + e->base[NNL_SEC_ATTR_DATA];
    switch (a->type) {
    case NNL_ATTR_INT:
        v = (uint64_t)a->i;
        break;
    case NNL_ATTR_FLOAT:
        v = nnl_f32_bits(a->f);
        break;
    case NNL_ATTR_STRING: {
        uint8_t ref[8];
        if ((s = strtab_add(&e->st, a->s, ref))) return s;
        v = nnl_get_u64(ref);
        break;
    }
    case NNL_ATTR_INTS:
        for (int i = 0; i < a->n; i++, *used += 8) nnl_put_u64(data + *used, (uint64_t)a->ints[i]);
        break;
    case NNL_ATTR_FLOATS:
        for (int i = 0; i < a->n; i++, *used += 4) nnl_put_u32(data + *used, nnl_f32_bits(a->floats[i]));
        break;
    case NNL_ATTR_STRINGS:
        for (int i = 0; i < a->n; i++, *used += 8)
            if ((s = strtab_add(&e->st, a->strs[i], data + *used))) return s;
        break;
    default:
        return nnl_fail(NNL_ERR_INTERNAL, "attribute type %d passed the check", (int)a->type);
    }
    nnl_put_u32(r + 12, count);
    nnl_put_u64(r + 16, v);
    return NNL_OK;
}

static nnl_status put_graph(enc *e, const nnl_frec_graph *g) {
    uint8_t *r;
    nnl_status s = rec_named(e, NNL_SEC_GRAPHS, g->name, &r);
    if (s) return s;
    nnl_put_u64(r + 8, (uint64_t)g->opset);
    nnl_put_u64(r + 16, g->arena_bytes);
    nnl_put_u64(r + 24, g->scratch_offset);
    nnl_put_u32(r + 32, (uint32_t)e->count[NNL_SEC_TENSORS]);
    nnl_put_u32(r + 36, (uint32_t)g->n_tensors);
    nnl_put_u32(r + 40, (uint32_t)e->count[NNL_SEC_NODES]);
    nnl_put_u32(r + 44, (uint32_t)g->n_nodes);
    nnl_put_u32(r + 48, put_indices(e, g->inputs, g->n_inputs));
    put_indices(e, g->outputs, g->n_outputs);
    nnl_put_u32(r + 52, (uint32_t)g->n_inputs);
    nnl_put_u32(r + 56, (uint32_t)g->n_outputs);
    for (int i = 0; i < g->n_tensors; i++) {
        const nnl_frec_tensor *t = &g->tensors[i];
        uint8_t *q;
        if ((s = rec_named(e, NNL_SEC_TENSORS, t->name, &q))) return s;
        nnl_put_u32(q + 8, (uint32_t)t->kind);
        put_shape(q + 12, q + 24, t->dtype, t->layout, t->rank, t->dims);
        nnl_put_u64(q + 88, t->where);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const nnl_frec_node *n = &g->nodes[i];
        uint8_t *q;
        if ((s = rec_named(e, NNL_SEC_NODES, n->op, &q))) return s;
        if ((s = strtab_add(&e->st, n->name, q + 8))) return s;
        nnl_put_u32(q + 16, put_indices(e, n->in, n->n_in));
        nnl_put_u32(q + 20, (uint32_t)n->n_in);
        nnl_put_u32(q + 24, put_indices(e, n->out, n->n_out));
        nnl_put_u32(q + 28, (uint32_t)n->n_out);
        nnl_put_u32(q + 32, (uint32_t)e->count[NNL_SEC_ATTRS]);
        nnl_put_u32(q + 36, (uint32_t)n->n_attrs);
        nnl_put_u64(q + 40, n->scratch_bytes);
        nnl_put_u64(q + 48, nnl_f64_bits(n->flops));
        for (int a = 0; a < n->n_attrs; a++)
            if ((s = put_attr(e, &n->attrs[a]))) return s;
    }
    return NNL_OK;
}

/* Sizes every table from the (already checked) file, so the encoder never
 * reallocates and the caps hold for the totals too. */
static nnl_status size_tables(const nnl_file *f, uint64_t count[NNL_FMT_N_SECTIONS + 1]) {
    uint64_t tensors = 0, nodes = 0, attrs = 0, idx = 0, adata = 0;
    for (int g = 0; g < f->n_graphs; g++) {
        const nnl_frec_graph *gr = &f->graphs[g];
        tensors += (uint64_t)gr->n_tensors;
        nodes += (uint64_t)gr->n_nodes;
        idx += (uint64_t)gr->n_inputs + (uint64_t)gr->n_outputs;
        for (int n = 0; n < gr->n_nodes; n++) {
            const nnl_frec_node *nd = &gr->nodes[n];
            attrs += (uint64_t)nd->n_attrs;
            idx += (uint64_t)nd->n_in + (uint64_t)nd->n_out;
            for (int a = 0; a < nd->n_attrs; a++) {
                uint64_t es = nnl_fmt_attr_elem_size(nd->attrs[a].type);
                if (es) adata = nnl_align_up(adata, es) + es * (uint64_t)nd->attrs[a].n;
            }
            if (attrs > NNL_FMT_MAX_ATTRS || idx > NNL_FMT_MAX_INDICES ||
                adata > ((uint64_t)1 << 40))
                return nnl_fail(NNL_ERR_INVALID_ARG, "file has too many attributes or indices");
        }
    }
    if (idx > NNL_FMT_MAX_INDICES)
        return nnl_fail(NNL_ERR_INVALID_ARG, "file has too many tensor indices");
    count[NNL_SEC_WEIGHTS] = (uint64_t)f->n_weights;
    count[NNL_SEC_GRAPHS] = (uint64_t)f->n_graphs;
    count[NNL_SEC_TENSORS] = tensors;
    count[NNL_SEC_NODES] = nodes;
    count[NNL_SEC_ATTRS] = attrs;
    count[NNL_SEC_INDICES] = idx;
    count[NNL_SEC_ATTR_DATA] = nnl_align_up(adata, 8);
    return NNL_OK;
}

/* Encodes everything but the weight data into *meta (length secs->off of the
 * weight data section, padding included). */
static nnl_status encode(const nnl_file *f, enc *e, sections *secs, uint8_t **meta) {
    uint64_t count[NNL_FMT_N_SECTIONS + 1] = {0}, tab_size = 0;
    nnl_status s = size_tables(f, count);
    if (s) return s;
    for (int id = NNL_SEC_WEIGHTS; id <= NNL_SEC_ATTR_DATA; id++) {
        e->base[id] = tab_size;
        secs->size[id] = count[id] * rec_size[id];
        tab_size += nnl_align_up(secs->size[id], 8);
    }
    e->tab = nnl_calloc(1, tab_size ? tab_size : 1);
    e->woff = nnl_calloc((size_t)f->n_weights + 1, sizeof *e->woff);
    if (!e->tab || !e->woff) return nnl_fail(NNL_ERR_NOMEM, "out of memory encoding the file");
    /* Offset 0 of the string table is the empty string. */
    e->st.buf = nnl_malloc(4096);
    if (!e->st.buf) return nnl_fail(NNL_ERR_NOMEM, "out of memory building the string table");
    e->st.cap = 4096;
    e->st.buf[0] = 0;
    e->st.len = 1;

    uint8_t hdr[NNL_FMT_HEADER_SIZE] = {0};
    if ((s = strtab_add(&e->st, f->target, hdr + NNL_FMT_OFF_TARGET))) return s;
    if ((s = strtab_add(&e->st, f->tool_version, hdr + NNL_FMT_OFF_TOOL))) return s;

    uint64_t wcur = 0;
    for (int i = 0; i < f->n_weights; i++) {
        const nnl_frec_weight *w = &f->weights[i];
        uint8_t *r;
        if ((s = rec_named(e, NNL_SEC_WEIGHTS, w->name, &r))) return s;
        put_shape(r + 8, r + 24, w->dtype, w->layout, w->rank, w->dims);
        wcur = nnl_align_up(wcur, NNL_ALIGN);
        e->woff[i] = wcur;
        nnl_put_u64(r + 88, wcur);
        nnl_put_u64(r + 96, w->nbytes);
        /* r + 104: hash, patched in while the data streams */
        if (nnl_add_overflow_u64(wcur, w->nbytes, &wcur))
            return nnl_fail(NNL_ERR_INVALID_ARG, "weights exceed 2^64 bytes");
    }
    for (int g = 0; g < f->n_graphs; g++)
        if ((s = put_graph(e, &f->graphs[g]))) return s;

    /* Lay the sections out in id order. */
    uint64_t off = NNL_FMT_TABLES_END;
    secs->off[NNL_SEC_STRINGS] = off;
    secs->size[NNL_SEC_STRINGS] = e->st.len;
    off = nnl_align_up(off + e->st.len, 8);
    for (int id = NNL_SEC_WEIGHTS; id <= NNL_SEC_ATTR_DATA; id++) {
        secs->off[id] = off;
        off = nnl_align_up(off + secs->size[id], 8);
    }
    off = nnl_align_up(off, NNL_ALIGN);
    secs->off[NNL_SEC_WEIGHT_DATA] = off;
    secs->size[NNL_SEC_WEIGHT_DATA] = wcur;

    *meta = nnl_calloc(1, (size_t)off);
    if (!*meta) return nnl_fail(NNL_ERR_NOMEM, "out of memory encoding the file");
    uint8_t *m = *meta;
    memcpy(hdr, NNL_FMT_MAGIC, NNL_FMT_MAGIC_LEN);
    nnl_put_u32(hdr + NNL_FMT_OFF_FORMAT, NNL_FORMAT_VERSION);
    nnl_put_u32(hdr + NNL_FMT_OFF_LAYOUT, f->layout_version);
    nnl_put_u32(hdr + NNL_FMT_OFF_HDRSIZE, NNL_FMT_HEADER_SIZE);
    nnl_put_u32(hdr + NNL_FMT_OFF_NSECT, NNL_FMT_N_SECTIONS);
    nnl_put_u64(hdr + NNL_FMT_OFF_FILESIZE, off + wcur);
    nnl_put_u32(hdr + NNL_FMT_OFF_DEFAULT, (uint32_t)f->default_graph);
    memcpy(m, hdr, sizeof hdr);
    for (int id = 1; id <= NNL_FMT_N_SECTIONS; id++) {
        uint8_t *p = m + NNL_FMT_HEADER_SIZE + (id - 1) * NNL_FMT_SECTION_ENTRY;
        nnl_put_u32(p, (uint32_t)id);
        nnl_put_u64(p + 8, secs->off[id]);
        nnl_put_u64(p + 16, secs->size[id]);
    }
    memcpy(m + secs->off[NNL_SEC_STRINGS], e->st.buf, e->st.len);
    for (int id = NNL_SEC_WEIGHTS; id <= NNL_SEC_ATTR_DATA; id++)
        memcpy(m + secs->off[id], e->tab + e->base[id], (size_t)secs->size[id]);
    return NNL_OK;
}

/* ---- output ------------------------------------------------------------ */

#define CHUNK_BYTES ((size_t)1 << 18)   /* hash then write: stays in L2 */

/* Streams the weight data, filling in per-weight hashes and the weights
 * checksum in meta. */
static nnl_status write_weights(const nnl_file *f, const enc *e, const sections *secs,
                                uint8_t *meta, nnl_out *o, unsigned flags,
                                const char *const *sources) {
    nnl_xxh64_state all, one;
    nnl_xxh64_init(&all, 0);
    uint64_t cur = 0;
    static const uint8_t zeros[NNL_ALIGN];
    for (int i = 0; i < f->n_weights; i++) {
        const nnl_frec_weight *w = &f->weights[i];
        size_t pad = (size_t)(e->woff[i] - cur);
        nnl_xxh64_update(&all, zeros, pad);
        nnl_status s = nnl_out_put(o, zeros, pad);
        if (s) return s;
        nnl_xxh64_init(&one, 0);
        const uint8_t *p = w->data;
        for (uint64_t done = 0; done < w->nbytes;) {
            size_t n = w->nbytes - done < CHUNK_BYTES ? (size_t)(w->nbytes - done) : CHUNK_BYTES;
            nnl_xxh64_update(&one, p + done, n);
            nnl_xxh64_update(&all, p + done, n);
            if ((s = nnl_out_put(o, p + done, n))) return s;
            done += n;
        }
        uint64_t h = nnl_xxh64_final(&one);
        if ((flags & NNL_WRITE_CHECK_HASHES) && h != w->hash)
            return nnl_fail(NNL_ERR_FORMAT, "%s: weight '%s' is corrupt: its bytes do not match "
                            "its recorded hash", sources && sources[i] ? sources[i] : "input",
                            w->name ? w->name : "");
        nnl_put_u64(meta + secs->off[NNL_SEC_WEIGHTS] + (uint64_t)i * NNL_REC_WEIGHT + 104, h);
        cur = e->woff[i] + w->nbytes;
    }
    nnl_put_u64(meta + NNL_FMT_OFF_WEIGHT_SUM, nnl_xxh64_final(&all));
    return NNL_OK;
}

uint64_t nnl_fmt_meta_checksum(const uint8_t *meta, uint64_t meta_len) {
    nnl_xxh64_state s;
    nnl_xxh64_init(&s, 0);
    nnl_xxh64_update(&s, meta, NNL_FMT_OFF_META_SUM);
    nnl_xxh64_update(&s, meta + NNL_FMT_OFF_WEIGHT_SUM, (size_t)(meta_len - NNL_FMT_OFF_WEIGHT_SUM));
    return nnl_xxh64_final(&s);
}

nnl_status nnl_file_write(const nnl_file *f, const char *path) {
    return nnl_file_write_ex(f, path, 0, NULL);
}

nnl_status nnl_file_write_ex(const nnl_file *f, const char *path, unsigned flags,
                             const char *const *sources) {
    if (!f || !path || !*path) return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_file_write: no file or path");
    nnl_status s = nnl_file_check(f, NNL_ERR_INVALID_ARG, path);
    if (s) return s;
    enc e = {0};
    sections secs = {0};
    uint8_t *meta = NULL;
    nnl_out o;
    if ((s = encode(f, &e, &secs, &meta))) goto done;
    uint64_t meta_len = secs.off[NNL_SEC_WEIGHT_DATA];
    if ((s = nnl_out_open(&o, path, meta_len + secs.size[NNL_SEC_WEIGHT_DATA]))) goto done;
    if ((s = nnl_out_put(&o, meta, (size_t)meta_len)) ||
        (s = write_weights(f, &e, &secs, meta, &o, flags, sources))) {
        nnl_out_abort(&o);
        goto done;
    }
    nnl_put_u64(meta + NNL_FMT_OFF_META_SUM, nnl_fmt_meta_checksum(meta, meta_len));
    if ((s = nnl_out_pwrite(&o, meta, (size_t)meta_len, 0))) {
        nnl_out_abort(&o);
        goto done;
    }
    s = nnl_out_commit(&o);
done:
    nnl_free(meta);
    nnl_free(e.tab);
    nnl_free(e.woff);
    nnl_free(e.st.buf);
    nnl_free(e.st.slots);
    return s;
}
