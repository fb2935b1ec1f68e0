/*
 * Reader of .nnl format version 1 (docs/FORMAT.md).
 *
 * Order of trust: the header and section table are bounds-checked first,
 * then the metadata checksum is verified, then every record is decoded with
 * each reference checked against its table, and finally the semantic
 * checker (check.c) runs on the decoded file.  Counts come from section
 * sizes, which must lie inside the file, so the one allocation of decoded
 * tables is bounded by a small multiple of the file size: a file claiming
 * huge tables is refused before anything is allocated.
 *
 * Strings point into the mapping (each is stored NUL-terminated), weight
 * data too; only the fixed-size records are decoded, into f->arena.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/fmt_internal.h"

const char *nnl_file_target_canon(const char *target) {
    static const char *const same[] = {NNL_TARGET_PORTABLE, "x86_64", "aarch64"};
    for (size_t i = 0; target && i < sizeof same / sizeof *same; i++)
        if (strcmp(target, same[i]) == 0) return NNL_TARGET_PORTABLE;
    return target;
}

const char *nnl_file_target_refusal(const char *target) {
    if (strcmp(nnl_file_target_canon(target), NNL_TARGET_PORTABLE) != 0)
        return "not a target this nnlink knows (it runs " NNL_TARGET_PORTABLE
               " files, and older ones marked x86_64 or aarch64)";
    /* weight bytes are used in place as little-endian numbers */
    if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__) return "this host is big-endian";
    return NULL;
}

const char *nnl_file_target_cpus(const char *target) {
    if (strcmp(nnl_file_target_canon(target), NNL_TARGET_PORTABLE) != 0) return "none known to this nnlink";
    return "any little-endian CPU nnlink is built for: x86_64 (scalar, AVX2, AVX-512 kernels), "
           "aarch64 (scalar, NEON kernels)";
}

const char *nnl_file_host_target(void) {
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__aarch64__)
    return "aarch64";
#else
    return "unknown";
#endif
}

typedef struct rd {
    const char *path;
    const uint8_t *map;
    uint64_t size;
    uint64_t off[NNL_FMT_N_SECTIONS + 1], len[NNL_FMT_N_SECTIONS + 1];
    uint64_t n[NNL_FMT_N_SECTIONS + 1];   /* records per table */
    const uint8_t *sec[NNL_FMT_N_SECTIONS + 1];
} rd;

#define BAD(r, ...) bad_(r, __VA_ARGS__)

__attribute__((format(printf, 2, 3))) static nnl_status bad_(const rd *r, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nnl_fail(NNL_ERR_FORMAT, "%s: corrupt .nnl file: %s", r->path, msg);
}

/* A string reference (offset, length) into the string table: the string
 * must end inside the table with a NUL and contain none before it. */
static nnl_status get_str(const rd *r, const uint8_t *p, const char **out, const char *what) {
    uint64_t off = nnl_get_u32(p), len = nnl_get_u32(p + 4);
    uint64_t tab = r->len[NNL_SEC_STRINGS];
    if (len > NNL_FMT_MAX_STRING || off >= tab || len >= tab - off)
        return BAD(r, "%s: string reference (%llu, %llu) outside the %llu-byte string table", what,
                   (unsigned long long)off, (unsigned long long)len, (unsigned long long)tab);
    const char *s = (const char *)r->sec[NNL_SEC_STRINGS] + off;
    if (s[len] != 0 || memchr(s, 0, (size_t)len))
        return BAD(r, "%s: string at %llu is not NUL-terminated at its length %llu", what,
                   (unsigned long long)off, (unsigned long long)len);
    *out = s;
    return NNL_OK;
}

static nnl_status get_dims(const rd *r, const uint8_t *p, uint32_t rank, int64_t *dims,
                           const char *what) {
    if (rank > NNL_MAX_RANK) return BAD(r, "%s: rank %u exceeds %d", what, rank, NNL_MAX_RANK);
    for (uint32_t i = 0; i < NNL_MAX_RANK; i++) {
        uint64_t d = nnl_get_u64(p + 8 * i);
        if (i >= rank && d != 0) return BAD(r, "%s: dimension %u beyond rank %u is set", what, i, rank);
        dims[i] = (int64_t)d;
    }
    return NNL_OK;
}

/* first + n <= limit, without overflow. */
static bool in_table(uint64_t first, uint64_t n, uint64_t limit) {
    return first <= limit && n <= limit - first;
}

static nnl_status parse_header(rd *r, nnl_file *f) {
    const uint8_t *m = r->map;
    uint32_t fmt = nnl_get_u32(m + NNL_FMT_OFF_FORMAT);
    if (fmt > NNL_FORMAT_VERSION)
        return nnl_fail(NNL_ERR_MISMATCH,
                        "%s: .nnl format version %u is newer than this nnlink %s reads "
                        "(version %d); upgrade nnlink", r->path, fmt, NNL_VERSION_STRING,
                        NNL_FORMAT_VERSION);
    if (fmt != NNL_FORMAT_VERSION) return BAD(r, "format version %u", fmt);
    if (nnl_get_u32(m + NNL_FMT_OFF_HDRSIZE) != NNL_FMT_HEADER_SIZE ||
        nnl_get_u32(m + NNL_FMT_OFF_NSECT) != NNL_FMT_N_SECTIONS)
        return BAD(r, "header size %u / section count %u, expected %d / %d",
                   nnl_get_u32(m + NNL_FMT_OFF_HDRSIZE), nnl_get_u32(m + NNL_FMT_OFF_NSECT),
                   NNL_FMT_HEADER_SIZE, NNL_FMT_N_SECTIONS);
    uint64_t claimed = nnl_get_u64(m + NNL_FMT_OFF_FILESIZE);
    if (claimed > r->size)
        return nnl_fail(NNL_ERR_FORMAT, "%s: truncated .nnl file: header says %llu bytes, the "
                        "file has %llu", r->path, (unsigned long long)claimed,
                        (unsigned long long)r->size);
    if (claimed < r->size)
        return BAD(r, "header says %llu bytes, the file has %llu (trailing data)",
                   (unsigned long long)claimed, (unsigned long long)r->size);
    if (nnl_get_u32(m + NNL_FMT_OFF_FLAGS) != 0) return BAD(r, "unknown header flags");
    for (int i = NNL_FMT_OFF_RESERVED; i < NNL_FMT_HEADER_SIZE; i++)
        if (m[i]) return BAD(r, "reserved header byte %d is set", i);

    uint64_t prev_end = NNL_FMT_TABLES_END;
    for (int id = 1; id <= NNL_FMT_N_SECTIONS; id++) {
        const uint8_t *p = m + NNL_FMT_HEADER_SIZE + (id - 1) * NNL_FMT_SECTION_ENTRY;
        uint64_t off = nnl_get_u64(p + 8), len = nnl_get_u64(p + 16);
        uint64_t align = id == NNL_SEC_WEIGHT_DATA ? NNL_ALIGN : 8;
        if (nnl_get_u32(p) != (uint32_t)id || nnl_get_u32(p + 4) != 0)
            return BAD(r, "section table entry %d has id %u, expected %d", id - 1,
                       nnl_get_u32(p), id);
        if (off < prev_end || off % align || !in_table(off, len, r->size))
            return BAD(r, "section %d at %llu, %llu bytes: misplaced or past the end of the "
                       "%llu-byte file", id, (unsigned long long)off, (unsigned long long)len,
                       (unsigned long long)r->size);
        r->off[id] = off;
        r->len[id] = len;
        r->sec[id] = m + off;
        prev_end = off + len;
    }
    if (prev_end != r->size) return BAD(r, "weight data does not end the file");
    if (r->len[NNL_SEC_STRINGS] > NNL_FMT_MAX_STRTAB)
        return BAD(r, "string table of %llu bytes", (unsigned long long)r->len[NNL_SEC_STRINGS]);

    uint64_t sum = nnl_fmt_meta_checksum(m, r->off[NNL_SEC_WEIGHT_DATA]);
    if (sum != nnl_get_u64(m + NNL_FMT_OFF_META_SUM))
        return nnl_fail(NNL_ERR_FORMAT, "%s: metadata checksum mismatch: the file is corrupt "
                        "(damaged in transfer or on disk?)", r->path);

    static const struct { int id; uint64_t rec, cap; const char *name; } tabs[] = {
        {NNL_SEC_WEIGHTS, NNL_REC_WEIGHT, NNL_FMT_MAX_WEIGHTS, "weights"},
        {NNL_SEC_GRAPHS, NNL_REC_GRAPH, NNL_FMT_MAX_GRAPHS, "graphs"},
        {NNL_SEC_TENSORS, NNL_REC_TENSOR, NNL_FMT_MAX_TENSORS, "tensors"},
        {NNL_SEC_NODES, NNL_REC_NODE, NNL_FMT_MAX_NODES, "nodes"},
        {NNL_SEC_ATTRS, NNL_REC_ATTR, NNL_FMT_MAX_ATTRS, "attributes"},
        {NNL_SEC_INDICES, NNL_REC_INDEX, NNL_FMT_MAX_INDICES, "indices"},
    };
    for (size_t i = 0; i < sizeof tabs / sizeof *tabs; i++) {
        uint64_t len = r->len[tabs[i].id];
        if (len % tabs[i].rec || len / tabs[i].rec > tabs[i].cap)
            return BAD(r, "%s table of %llu bytes", tabs[i].name, (unsigned long long)len);
        r->n[tabs[i].id] = len / tabs[i].rec;
    }

    f->format_version = fmt;
    f->layout_version = nnl_get_u32(m + NNL_FMT_OFF_LAYOUT);
    nnl_status s = get_str(r, m + NNL_FMT_OFF_TARGET, &f->target, "target");
    if (s) return s;
    if ((s = get_str(r, m + NNL_FMT_OFF_TOOL, &f->tool_version, "tool version"))) return s;
    f->default_graph = (int32_t)nnl_get_u32(m + NNL_FMT_OFF_DEFAULT);
    f->n_weights = (int)r->n[NNL_SEC_WEIGHTS];
    f->n_graphs = (int)r->n[NNL_SEC_GRAPHS];
    return NNL_OK;
}

/* Decoded tables, carved from one allocation. */
typedef struct tables {
    nnl_frec_weight *w;
    nnl_frec_graph *g;
    nnl_frec_tensor *t;
    nnl_frec_node *n;
    nnl_attr *a;
    int32_t *idx;
    int64_t *ints;             /* the attribute data section read as int64 */
    float *floats;             /* ... and as float32 */
    const char **strs;         /* ... and as string references (STRINGS) */
} tables;

static nnl_status alloc_tables(const rd *r, nnl_file *f, tables *T) {
    uint64_t nv = r->len[NNL_SEC_ATTR_DATA];
    const uint64_t part[9] = {
        r->n[NNL_SEC_WEIGHTS] * sizeof(nnl_frec_weight),
        r->n[NNL_SEC_GRAPHS] * sizeof(nnl_frec_graph),
        r->n[NNL_SEC_TENSORS] * sizeof(nnl_frec_tensor),
        r->n[NNL_SEC_NODES] * sizeof(nnl_frec_node),
        r->n[NNL_SEC_ATTRS] * sizeof(nnl_attr),
        r->n[NNL_SEC_INDICES] * sizeof(int32_t),
        nv / 8 * sizeof(int64_t),
        nv / 4 * sizeof(float),
        nv / 8 * sizeof(char *),
    };
    uint64_t at[9], total = 0;
    for (int i = 0; i < 9; i++) {
        at[i] = total;
        if (nnl_add_overflow_u64(total, nnl_align_up(part[i], 8), &total) || total > SIZE_MAX)
            return BAD(r, "tables too large");
    }
    uint8_t *arena = nnl_malloc(total ? (size_t)total : 1);
    if (!arena) return nnl_fail(NNL_ERR_NOMEM, "%s: out of memory for %llu bytes of tables",
                                r->path, (unsigned long long)total);
    f->arena = arena;
    T->w = (nnl_frec_weight *)(arena + at[0]);
    T->g = (nnl_frec_graph *)(arena + at[1]);
    T->t = (nnl_frec_tensor *)(arena + at[2]);
    T->n = (nnl_frec_node *)(arena + at[3]);
    T->a = (nnl_attr *)(arena + at[4]);
    T->idx = (int32_t *)(arena + at[5]);
    T->ints = (int64_t *)(arena + at[6]);
    T->floats = (float *)(arena + at[7]);
    T->strs = (const char **)(void *)(arena + at[8]);
    return NNL_OK;
}

/* Decodes one record at p whose first strref (the name; a node's op type)
 * is already checked; what names the record for messages. */
typedef nnl_status (*decode_fn)(const rd *r, tables *T, uint64_t i, const uint8_t *p, const char *name,
                                const char *what);

/* Every table's loop: the record, its description, its first string. */
static nnl_status decode_table(const rd *r, tables *T, int sec, uint64_t rec_size, const char *kind,
                               decode_fn fn) {
    for (uint64_t i = 0; i < r->n[sec]; i++) {
        const uint8_t *p = r->sec[sec] + i * rec_size;
        char what[48];
        const char *name;
        snprintf(what, sizeof what, "%s %llu", kind, (unsigned long long)i);
        nnl_status s = get_str(r, p, &name, what);
        if (!s) s = fn(r, T, i, p, name, what);
        if (s) return s;
    }
    return NNL_OK;
}

/* dtype, layout and rank (three u32 from p) and the dims at d: the shape
 * fields weight and tensor records share at different offsets. */
static nnl_status get_shape(const rd *r, const uint8_t *p, const uint8_t *d, nnl_dtype *dtype,
                            nnl_layout *layout, int *rank, int64_t *dims, const char *what) {
    *dtype = (nnl_dtype)nnl_get_u32(p);
    *layout = (nnl_layout)nnl_get_u32(p + 4);
    uint32_t rk = nnl_get_u32(p + 8);
    nnl_status s = get_dims(r, d, rk, dims, what);
    *rank = (int)rk;
    return s;
}

static nnl_status decode_weight(const rd *r, tables *T, uint64_t i, const uint8_t *p, const char *name,
                                const char *what) {
    const uint64_t wlen = r->len[NNL_SEC_WEIGHT_DATA];
    nnl_frec_weight *w = &T->w[i];
    w->name = name;
    if (nnl_get_u32(p + 20) != 0) return BAD(r, "%s: reserved field set", what);
    nnl_status s = get_shape(r, p + 8, p + 24, &w->dtype, &w->layout, &w->rank, w->dims, what);
    if (s) return s;
    w->offset = nnl_get_u64(p + 88);
    w->nbytes = nnl_get_u64(p + 96);
    w->hash = nnl_get_u64(p + 104);
    if (w->offset % NNL_ALIGN || !in_table(w->offset, w->nbytes, wlen))
        return BAD(r, "%s '%s': data at %llu, %llu bytes, outside the %llu-byte weight "
                   "data", what, w->name, (unsigned long long)w->offset,
                   (unsigned long long)w->nbytes, (unsigned long long)wlen);
    w->data = r->sec[NNL_SEC_WEIGHT_DATA] + w->offset;
    w->offset += r->off[NNL_SEC_WEIGHT_DATA];
    return NNL_OK;
}

static nnl_status decode_graph(const rd *r, tables *T, uint64_t i, const uint8_t *p, const char *name,
                               const char *what) {
    nnl_frec_graph *g = &T->g[i];
    g->name = name;
    g->opset = (int64_t)nnl_get_u64(p + 8);
    g->arena_bytes = nnl_get_u64(p + 16);
    g->scratch_offset = nnl_get_u64(p + 24);
    uint64_t tf = nnl_get_u32(p + 32), nt = nnl_get_u32(p + 36);
    uint64_t nf = nnl_get_u32(p + 40), nn = nnl_get_u32(p + 44);
    uint64_t io = nnl_get_u32(p + 48), ni = nnl_get_u32(p + 52), no = nnl_get_u32(p + 56);
    if (nnl_get_u32(p + 60) != 0) return BAD(r, "%s: reserved field set", what);
    if (!in_table(tf, nt, r->n[NNL_SEC_TENSORS]) || !in_table(nf, nn, r->n[NNL_SEC_NODES]) ||
        !in_table(io, ni + no, r->n[NNL_SEC_INDICES]))
        return BAD(r, "%s '%s': tensor, node or input/output range outside its table", what,
                   g->name);
    g->tensors = T->t + tf;
    g->n_tensors = (int)nt;
    g->nodes = T->n + nf;
    g->n_nodes = (int)nn;
    g->inputs = T->idx + io;
    g->n_inputs = (int)ni;
    g->outputs = T->idx + io + ni;
    g->n_outputs = (int)no;
    return NNL_OK;
}

static nnl_status decode_tensor(const rd *r, tables *T, uint64_t i, const uint8_t *p, const char *name,
                                const char *what) {
    nnl_frec_tensor *t = &T->t[i];
    t->name = name;
    t->kind = (nnl_tensor_kind)nnl_get_u32(p + 8);
    t->where = nnl_get_u64(p + 88);
    return get_shape(r, p + 12, p + 24, &t->dtype, &t->layout, &t->rank, t->dims, what);
}

static nnl_status decode_attr(const rd *r, tables *T, uint64_t i, const uint8_t *p, const char *name,
                              const char *what) {
    nnl_attr *a = &T->a[i];
    memset(a, 0, sizeof *a);
    a->name = name;
    uint32_t type = nnl_get_u32(p + 8), count = nnl_get_u32(p + 12);
    uint64_t v = nnl_get_u64(p + 16), nv = r->len[NNL_SEC_ATTR_DATA];
    a->type = (nnl_attr_type)type;
    const uint64_t es = nnl_fmt_attr_elem_size(a->type);
    if (count && !es) return BAD(r, "%s '%s': element count on a scalar attribute", what, a->name);
    if (count > NNL_FMT_MAX_ATTR_ELEMS)
        return BAD(r, "%s '%s': %u elements", what, a->name, count);
    if (es && (v % es || !in_table(v, es * count, nv)))
        return BAD(r, "%s '%s': %u elements at %llu outside the attribute data or misaligned", what,
                   a->name, count, (unsigned long long)v);
    a->n = (int)count;
    switch (type) {
    case NNL_ATTR_INT:
        a->i = (int64_t)v;
        return NNL_OK;
    case NNL_ATTR_FLOAT:
        if (v >> 32) return BAD(r, "%s '%s': float with high bits set", what, a->name);
        a->f = nnl_bits_f32((uint32_t)v);
        return NNL_OK;
    case NNL_ATTR_STRING: {
        uint8_t ref[8];
        nnl_put_u64(ref, v);
        return get_str(r, ref, &a->s, what);
    }
    case NNL_ATTR_INTS:
        a->ints = T->ints + v / 8;
        return NNL_OK;
    case NNL_ATTR_FLOATS:
        a->floats = T->floats + v / 4;
        return NNL_OK;
    case NNL_ATTR_STRINGS:
        for (uint32_t j = 0; j < count; j++) {
            nnl_status s2 = get_str(r, r->sec[NNL_SEC_ATTR_DATA] + v + 8 * (uint64_t)j, &T->strs[v / 8 + j], what);
            if (s2) return s2;
        }
        a->strs = T->strs + v / 8;
        return NNL_OK;
    default:
        return BAD(r, "%s '%s': unknown attribute type %u", what, a->name, type);
    }
}

static nnl_status decode_node(const rd *r, tables *T, uint64_t i, const uint8_t *p, const char *name,
                              const char *what) {
    const uint64_t ni = r->n[NNL_SEC_INDICES], na = r->n[NNL_SEC_ATTRS];
    nnl_frec_node *n = &T->n[i];
    n->op = name;   /* a node record starts with its op type, then its name */
    nnl_status s = get_str(r, p + 8, &n->name, what);
    if (s) return s;
    uint64_t inf = nnl_get_u32(p + 16), nin = nnl_get_u32(p + 20);
    uint64_t outf = nnl_get_u32(p + 24), nout = nnl_get_u32(p + 28);
    uint64_t af = nnl_get_u32(p + 32), nat = nnl_get_u32(p + 36);
    if (nin > NNL_FMT_MAX_NODE_IO || nout > NNL_FMT_MAX_NODE_IO ||
        !in_table(inf, nin, ni) || !in_table(outf, nout, ni) || !in_table(af, nat, na))
        return BAD(r, "%s (%s): input, output or attribute range outside its table", what,
                   n->op);
    n->in = T->idx + inf;
    n->n_in = (int)nin;
    n->out = T->idx + outf;
    n->n_out = (int)nout;
    n->attrs = T->a + af;
    n->n_attrs = (int)nat;
    n->scratch_bytes = nnl_get_u64(p + 40);
    n->flops = nnl_bits_f64(nnl_get_u64(p + 48));
    return NNL_OK;
}

static void decode_arrays(const rd *r, tables *T) {
    const uint8_t *ip = r->sec[NNL_SEC_INDICES], *vp = r->sec[NNL_SEC_ATTR_DATA];
    for (uint64_t i = 0; i < r->n[NNL_SEC_INDICES]; i++) T->idx[i] = (int32_t)nnl_get_u32(ip + 4 * i);
    uint64_t nv = r->len[NNL_SEC_ATTR_DATA];
    for (uint64_t i = 0; i < nv / 8; i++) T->ints[i] = (int64_t)nnl_get_u64(vp + 8 * i);
    for (uint64_t i = 0; i < nv / 4; i++) T->floats[i] = nnl_bits_f32(nnl_get_u32(vp + 4 * i));
}

/* Files from 2 MB on are mapped at a 2 MB-aligned address with the huge
 * page advice (nnl_map_aligned), so file offset and address agree modulo
 * 2 MB: where the page cache holds the file in 2 MB folios (nnlink writes
 * it in 2 MB-aligned blocks, format/atomic_out.c; a file not yet cached is
 * read in under the advice) the kernel maps each with one TLB entry, still
 * shared with every other process mapping the file.  With 4 KB pages a
 * network's weights outgrow the second-level TLB and each weight page a run
 * reads costs a page walk (Zen 4, 1 thread: MobileNetV3-Large's two
 * classifier Gemms 0.58 -> 0.40 ms).  Elsewhere it is a plain mapping. */
static nnl_status open_map(const char *path, rd *r) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nnl_fail(NNL_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    nnl_status s = NNL_OK;
    if (fstat(fd, &st) != 0) {
        s = nnl_fail(NNL_ERR_IO, "cannot stat %s: %s", path, strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        s = nnl_fail(NNL_ERR_IO, "%s is a directory, not a .nnl file", path);
    } else if (!S_ISREG(st.st_mode)) {
        s = nnl_fail(NNL_ERR_IO, "%s is not a regular file", path);
    } else if ((uint64_t)st.st_size < NNL_FMT_TABLES_END) {
        uint8_t head[64];
        ssize_t n = pread(fd, head, sizeof head, 0);
        char buf[256];
        if (n < 0) {
            s = nnl_fail(NNL_ERR_IO, "reading %s: %s", path, strerror(errno));
        } else {
            nnl_fmt_sniff(head, (size_t)n, path, buf, sizeof buf);
            s = nnl_fail(NNL_ERR_FORMAT, "%s: %s", path, buf);
        }
    } else {
        r->size = (uint64_t)st.st_size;
        void *m = nnl_map_aligned((size_t)st.st_size, fd);
        if (m == MAP_FAILED) s = nnl_fail(NNL_ERR_IO, "cannot map %s: %s", path, strerror(errno));
        else r->map = m;
    }
    close(fd);
    return s;
}

nnl_status nnl_file_read(const char *path, nnl_file **out) {
    if (!out) return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_file_read: out is NULL");
    *out = NULL;
    if (!path) return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_file_read: path is NULL");
    rd r = {.path = path};
    nnl_status s = open_map(path, &r);
    if (s) return s;
    /* Decoded on the stack until everything checks out: a refused file
     * costs no allocation beyond its tables. */
    nnl_file f = {.map = (void *)r.map, .map_size = (size_t)r.size};
    tables T = {0};
    if (memcmp(r.map, NNL_FMT_MAGIC, NNL_FMT_MAGIC_LEN) != 0) {
        char buf[256];
        nnl_fmt_sniff(r.map, (size_t)(r.size < 512 ? r.size : 512), path, buf, sizeof buf);
        s = nnl_fail(NNL_ERR_FORMAT, "%s: %s", path, buf);
        goto fail;
    }
    if ((s = parse_header(&r, &f)) || (s = alloc_tables(&r, &f, &T))) goto fail;
    decode_arrays(&r, &T);
    if ((s = decode_table(&r, &T, NNL_SEC_WEIGHTS, NNL_REC_WEIGHT, "weight", decode_weight)) ||
        (s = decode_table(&r, &T, NNL_SEC_GRAPHS, NNL_REC_GRAPH, "graph", decode_graph)) ||
        (s = decode_table(&r, &T, NNL_SEC_TENSORS, NNL_REC_TENSOR, "tensor record", decode_tensor)) ||
        (s = decode_table(&r, &T, NNL_SEC_NODES, NNL_REC_NODE, "node record", decode_node)) ||
        (s = decode_table(&r, &T, NNL_SEC_ATTRS, NNL_REC_ATTR, "attribute record", decode_attr)))
        goto fail;
    f.weights = T.w;
    f.graphs = T.g;
    if ((s = nnl_file_check(&f, NNL_ERR_FORMAT, path))) goto fail;
    if (!(*out = nnl_malloc(sizeof **out))) {
        s = nnl_fail(NNL_ERR_NOMEM, "out of memory opening %s", path);
        goto fail;
    }
    **out = f;
    return NNL_OK;
fail:
    munmap(f.map, f.map_size);
    nnl_free(f.arena);
    return s;
}

void nnl_file_close(nnl_file *f) {
    if (!f) return;
    if (f->map) munmap(f->map, f->map_size);
    nnl_free(f->arena);
    nnl_free(f);
}
