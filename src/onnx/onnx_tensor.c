/*
 * TensorProto decoding (initializers, tensor attributes, .pb test files),
 * external tensor data, and the file mapping the importer reads from.
 *
 * Sizes claimed by a file are never used to allocate before they are
 * checked against bytes that actually exist: the element count must equal
 * the number of values present (typed fields), the raw_data length, or a
 * range inside an existing external file.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx/onnx_import.h"
#include "onnx/onnx_internal.h"

nnl_status onnx_map_file(const char *path, onnx_map *m) {
    m->data = NULL;
    m->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nnl_fail(NNL_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return nnl_fail(NNL_ERR_IO, "cannot stat %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return nnl_fail(NNL_ERR_IO, "%s is not a regular file", path);
    }
    if (st.st_size > 0) {
        if ((uint64_t)st.st_size > SIZE_MAX) {
            close(fd);
            return nnl_fail(NNL_ERR_IO, "%s is too large to map", path);
        }
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return nnl_fail(NNL_ERR_IO, "cannot map %s: %s", path, strerror(e));
        }
        m->data = p;
        m->size = (size_t)st.st_size;
    }
    close(fd);
    return NNL_OK;
}

void onnx_unmap(onnx_map *m) {
    if (m->data) munmap((void *)m->data, m->size);
    m->data = NULL;
    m->size = 0;
}

char *onnx_dirname(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return nnl_strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = nnl_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, path, n);
    d[n] = 0;
    return d;
}

nnl_status onnx_string(const pb_field *f, const char *what, char **out) {
    *out = NULL;
    nnl_status s = pb_expect(f, PB_LEN, what);
    if (s) return s;
    if (memchr(f->data, 0, f->len))
        return nnl_fail(NNL_ERR_FORMAT, "%s at offset %zu contains a NUL byte", what, f->offset);
    char *c = nnl_malloc(f->len + 1);
    if (!c) return nnl_fail(NNL_ERR_NOMEM, "out of memory reading %s", what);
    if (f->len) memcpy(c, f->data, f->len);
    c[f->len] = 0;
    *out = c;
    return NNL_OK;
}

nnl_dtype onnx_dtype(int64_t t, nnl_status *err) {
    switch (t) {
    case NNL_DT_FLOAT: case NNL_DT_UINT8: case NNL_DT_INT8: case NNL_DT_UINT16:
    case NNL_DT_INT16: case NNL_DT_INT32: case NNL_DT_INT64: case NNL_DT_BOOL:
    case NNL_DT_FLOAT16: case NNL_DT_DOUBLE: case NNL_DT_UINT32: case NNL_DT_UINT64:
        return (nnl_dtype)t;
    case ONNX_DT_STRING:
        *err = nnl_fail(NNL_ERR_UNSUPPORTED, "string tensors are not supported");
        return NNL_DT_UNDEFINED;
    case ONNX_DT_COMPLEX64: case ONNX_DT_COMPLEX128:
        *err = nnl_fail(NNL_ERR_UNSUPPORTED, "complex tensors are not supported");
        return NNL_DT_UNDEFINED;
    case ONNX_DT_BFLOAT16:
        *err = nnl_fail(NNL_ERR_UNSUPPORTED, "bfloat16 tensors are not supported");
        return NNL_DT_UNDEFINED;
    case 0:
        *err = nnl_fail(NNL_ERR_FORMAT, "element type is undefined (0)");
        return NNL_DT_UNDEFINED;
    default:
        *err = nnl_fail(NNL_ERR_UNSUPPORTED, "element type %lld is not supported", (long long)t);
        return NNL_DT_UNDEFINED;
    }
}

/* ---- external data ---------------------------------------------------- */

typedef struct ext_info {
    char *location;
    uint64_t offset, length;
    bool has_length;
} ext_info;

/* Strict unsigned decimal: digits only, no sign, no overflow. */
static bool parse_u64(const char *s, uint64_t *v) {
    uint64_t x = 0;
    if (!*s) return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        if (nnl_mul_overflow_u64(x, 10, &x) || nnl_add_overflow_u64(x, (uint64_t)(*s - '0'), &x))
            return false;
    }
    *v = x;
    return true;
}

static nnl_status read_ext_entry(pb_reader *parent, const pb_field *f, ext_info *e) {
    pb_reader r;
    pb_field g;
    char *key = NULL, *val = NULL;
    nnl_status s = pb_sub(parent, f, &r);
    while (!s && !(s = pb_next(&r, &g)) && g.num) {
        if (g.num == ONNX_ENTRY_KEY) {
            nnl_free(key);
            s = onnx_string(&g, "external_data key", &key);
        } else if (g.num == ONNX_ENTRY_VALUE) {
            nnl_free(val);
            s = onnx_string(&g, "external_data value", &val);
        }
    }
    if (!s && key && val) {
        if (strcmp(key, "location") == 0) {
            nnl_free(e->location);
            e->location = val;
            val = NULL;
        } else if (strcmp(key, "offset") == 0) {
            if (!parse_u64(val, &e->offset))
                s = nnl_fail(NNL_ERR_FORMAT, "external data offset '%s' is not a number", val);
        } else if (strcmp(key, "length") == 0) {
            if (!parse_u64(val, &e->length))
                s = nnl_fail(NNL_ERR_FORMAT, "external data length '%s' is not a number", val);
            e->has_length = true;
        }
        /* "checksum" and unknown keys carry nothing we need. */
    }
    nnl_free(key);
    nnl_free(val);
    return s;
}

/* The location must stay inside the model's folder: relative, and without
 * ".." components.  (A symlink inside the folder is the user's choice.) */
static nnl_status check_location(const char *loc) {
    if (!*loc) return nnl_fail(NNL_ERR_FORMAT, "external data location is empty");
    if (loc[0] == '/')
        return nnl_fail(NNL_ERR_FORMAT, "external data location '%s' is an absolute path", loc);
    for (const char *p = loc; *p;) {
        const char *q = strchr(p, '/');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return nnl_fail(NNL_ERR_FORMAT,
                            "external data location '%s' leaves the model's folder", loc);
        p += n;
        if (*p == '/') p++;
    }
    return NNL_OK;
}

static nnl_status read_external(const onnx_src *src, const ext_info *e, void *dst,
                                uint64_t nbytes) {
    if (!e->location) return nnl_fail(NNL_ERR_FORMAT, "external data has no location");
    nnl_status s = check_location(e->location);
    if (s) return s;
    if (e->has_length && e->length != nbytes)
        return nnl_fail(NNL_ERR_FORMAT, "external data length %llu does not match the %llu bytes "
                        "the tensor needs", (unsigned long long)e->length,
                        (unsigned long long)nbytes);
    size_t dl = strlen(src->dir), ll = strlen(e->location);
    char *full = nnl_malloc(dl + ll + 2);
    if (!full) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    memcpy(full, src->dir, dl);
    full[dl] = '/';
    memcpy(full + dl + 1, e->location, ll + 1);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        s = nnl_fail(NNL_ERR_IO, "cannot open external data file %s: %s", full, strerror(errno));
    } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        s = nnl_fail(NNL_ERR_IO, "external data file %s is not a regular file", full);
    } else {
        uint64_t end;
        if (nnl_add_overflow_u64(e->offset, nbytes, &end) || end > (uint64_t)st.st_size) {
            s = nnl_fail(NNL_ERR_FORMAT, "external data file %s holds %lld bytes, too few for "
                         "%llu bytes at offset %llu", full, (long long)st.st_size,
                         (unsigned long long)nbytes, (unsigned long long)e->offset);
        } else {
            uint8_t *d = dst;
            uint64_t done = 0;
            while (!s && done < nbytes) {
                size_t chunk = nbytes - done > (1u << 30) ? (1u << 30) : (size_t)(nbytes - done);
                ssize_t got = pread(fd, d + done, chunk, (off_t)(e->offset + done));
                if (got < 0 && errno == EINTR) continue;
                if (got <= 0)
                    s = nnl_fail(NNL_ERR_IO, "cannot read external data file %s: %s", full,
                                 got < 0 ? strerror(errno) : "unexpected end of file");
                else
                    done += (uint64_t)got;
            }
        }
    }
    if (fd >= 0) close(fd);
    nnl_free(full);
    return s;
}

/* ---- TensorProto ------------------------------------------------------ */

/* Which typed field holds elements of dtype dt (ONNX's storage rules). */
static int typed_field_for(nnl_dtype dt) {
    switch (dt) {
    case NNL_DT_FLOAT: return ONNX_TENSOR_FLOAT_DATA;
    case NNL_DT_INT32: case NNL_DT_INT16: case NNL_DT_INT8: case NNL_DT_UINT16:
    case NNL_DT_UINT8: case NNL_DT_BOOL: case NNL_DT_FLOAT16:
        return ONNX_TENSOR_INT32_DATA;
    case NNL_DT_INT64: return ONNX_TENSOR_INT64_DATA;
    case NNL_DT_DOUBLE: return ONNX_TENSOR_DOUBLE_DATA;
    case NNL_DT_UINT32: case NNL_DT_UINT64: return ONNX_TENSOR_UINT64_DATA;
    default: return 0;
    }
}

static const char *typed_field_name(int f) {
    switch (f) {
    case ONNX_TENSOR_FLOAT_DATA: return "float_data";
    case ONNX_TENSOR_INT32_DATA: return "int32_data";
    case ONNX_TENSOR_INT64_DATA: return "int64_data";
    case ONNX_TENSOR_DOUBLE_DATA: return "double_data";
    case ONNX_TENSOR_UINT64_DATA: return "uint64_data";
    default: return "?";
    }
}

static pb_wire typed_field_wire(int f) {
    switch (f) {
    case ONNX_TENSOR_FLOAT_DATA: return PB_I32;
    case ONNX_TENSOR_DOUBLE_DATA: return PB_I64;
    default: return PB_VARINT;
    }
}

static bool is_typed_field(uint32_t n) {
    return n == ONNX_TENSOR_FLOAT_DATA || n == ONNX_TENSOR_INT32_DATA ||
           n == ONNX_TENSOR_INT64_DATA || n == ONNX_TENSOR_DOUBLE_DATA ||
           n == ONNX_TENSOR_UINT64_DATA;
}

/* Store one typed value as element i of dst. */
static void put_elem(nnl_dtype dt, void *dst, size_t i, uint64_t v) {
    switch (dt) {
    case NNL_DT_FLOAT: ((float *)dst)[i] = pb_as_float(v); break;
    case NNL_DT_DOUBLE: ((double *)dst)[i] = pb_as_double(v); break;
    case NNL_DT_INT32: ((int32_t *)dst)[i] = (int32_t)(uint32_t)v; break;
    case NNL_DT_INT16: ((int16_t *)dst)[i] = (int16_t)(uint16_t)v; break;
    case NNL_DT_INT8: ((int8_t *)dst)[i] = (int8_t)(uint8_t)v; break;
    case NNL_DT_UINT16: case NNL_DT_FLOAT16: ((uint16_t *)dst)[i] = (uint16_t)v; break;
    case NNL_DT_UINT8: ((uint8_t *)dst)[i] = (uint8_t)v; break;
    case NNL_DT_BOOL: ((uint8_t *)dst)[i] = v != 0; break;
    case NNL_DT_INT64: ((int64_t *)dst)[i] = (int64_t)v; break;
    case NNL_DT_UINT32: ((uint32_t *)dst)[i] = (uint32_t)v; break;
    case NNL_DT_UINT64: ((uint64_t *)dst)[i] = v; break;
    default: break;
    }
}

typedef struct tensor_scan {
    int rank;
    int64_t dims[NNL_MAX_RANK];
    int64_t data_type;
    bool has_raw;
    pb_field raw;
    size_t typed_count[16];    /* values per typed field number */
    bool has_strings;
    int64_t location;
    ext_info ext;
} tensor_scan;

static nnl_status scan_tensor(pb_reader *msg, tensor_scan *ts) {
    pb_reader r = *msg;
    pb_field f;
    pb_scalars it;
    uint64_t v;
    nnl_status s;
    while (!(s = pb_next(&r, &f)) && f.num) {
        switch (f.num) {
        case ONNX_TENSOR_DIMS:
            if ((s = pb_scalars_begin(&f, PB_VARINT, "dims", &it))) return s;
            while (pb_scalars_next(&it, &v)) {
                if ((int64_t)v < 0)
                    return nnl_fail(NNL_ERR_FORMAT, "negative dimension %lld", (long long)v);
                if (ts->rank >= NNL_MAX_RANK)
                    return nnl_fail(NNL_ERR_UNSUPPORTED, "more than %d dimensions", NNL_MAX_RANK);
                ts->dims[ts->rank++] = (int64_t)v;
            }
            break;
        case ONNX_TENSOR_DATA_TYPE:
            if ((s = pb_expect(&f, PB_VARINT, "data_type"))) return s;
            ts->data_type = (int64_t)f.u;
            break;
        case ONNX_TENSOR_SEGMENT:
            return nnl_fail(NNL_ERR_UNSUPPORTED, "segmented tensors are not supported");
        case ONNX_TENSOR_STRING_DATA:
            ts->has_strings = true;
            break;
        case ONNX_TENSOR_RAW_DATA:
            if ((s = pb_expect(&f, PB_LEN, "raw_data"))) return s;
            ts->has_raw = true;
            ts->raw = f;
            break;
        case ONNX_TENSOR_EXTERNAL_DATA:
            if ((s = read_ext_entry(&r, &f, &ts->ext))) return s;
            break;
        case ONNX_TENSOR_DATA_LOCATION:
            if ((s = pb_expect(&f, PB_VARINT, "data_location"))) return s;
            ts->location = (int64_t)f.u;
            break;
        default:
            if (is_typed_field(f.num)) {
                if ((s = pb_scalars_begin(&f, typed_field_wire((int)f.num),
                                          typed_field_name((int)f.num), &it)))
                    return s;
                ts->typed_count[f.num] += it.count;
            }
            break;             /* name, doc_string and unknown fields */
        }
    }
    return s;
}

static void fill_typed(pb_reader *msg, int field, nnl_dtype dt, void *dst) {
    pb_reader r = *msg;
    pb_field f;
    pb_scalars it;
    uint64_t v;
    size_t i = 0;
    /* scan_tensor already walked and validated every field. */
    while (pb_next(&r, &f) == NNL_OK && f.num) {
        if (f.num != (uint32_t)field) continue;
        if (pb_scalars_begin(&f, typed_field_wire(field), "", &it)) return;
        while (pb_scalars_next(&it, &v)) put_elem(dt, dst, i++, v);
    }
}

/* The tensor's name (field 8), read first so that every later message can
 * carry it; malformed fields are left for scan_tensor to report. */
static nnl_status peek_name(pb_reader *msg, char **name) {
    pb_reader r = *msg;
    pb_field f;
    *name = NULL;
    while (pb_next(&r, &f) == NNL_OK && f.num) {
        if (f.num == ONNX_TENSOR_NAME && f.wire == PB_LEN && !memchr(f.data, 0, f.len)) {
            nnl_free(*name);
            *name = nnl_malloc(f.len + 1);
            if (!*name) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
            if (f.len) memcpy(*name, f.data, f.len);
            (*name)[f.len] = 0;
        }
    }
    return NNL_OK;
}

/* Kernels may rely on bools being 0 or 1; files may hold any nonzero byte. */
static void bool_normalize(uint8_t *d, size_t n) {
    for (size_t i = 0; i < n; i++) d[i] = d[i] != 0;
}

static nnl_status decode(const onnx_src *src, pb_reader *msg, tensor_scan *ts, nnl_tensor *out) {
    nnl_status s = scan_tensor(msg, ts);
    if (s) return s;
    nnl_dtype dt = onnx_dtype(ts->data_type, &s);
    if (dt == NNL_DT_UNDEFINED) return s;
    uint64_t numel = 1, nbytes;
    for (int i = 0; i < ts->rank; i++)
        if (nnl_mul_overflow_u64(numel, (uint64_t)ts->dims[i], &numel))
            return nnl_fail(NNL_ERR_FORMAT, "element count overflows");
    if (nnl_mul_overflow_u64(numel, nnl_dtype_size(dt), &nbytes) || nbytes > (uint64_t)INT64_MAX ||
        nbytes > SIZE_MAX)
        return nnl_fail(NNL_ERR_FORMAT, "size overflows");
    out->dtype = dt;
    out->rank = ts->rank;
    memcpy(out->dims, ts->dims, sizeof ts->dims);
    out->layout = NNL_LAYOUT_PLAIN;

    int want = typed_field_for(dt);
    int n_typed_fields = 0;
    for (int fnum = 0; fnum < 16; fnum++) {
        if (!ts->typed_count[fnum]) continue;
        n_typed_fields++;
        if (fnum != want)
            return nnl_fail(NNL_ERR_FORMAT, "%s tensor holds %s", nnl_dtype_name(dt),
                            typed_field_name(fnum));
    }
    if (ts->has_strings)
        return nnl_fail(NNL_ERR_FORMAT, "%s tensor holds string_data", nnl_dtype_name(dt));
    bool external = ts->location == ONNX_LOCATION_EXTERNAL;
    if (ts->location != 0 && !external)
        return nnl_fail(NNL_ERR_FORMAT, "unknown data_location %lld", (long long)ts->location);
    if ((int)ts->has_raw + (n_typed_fields > 0) + (int)external > 1)
        return nnl_fail(NNL_ERR_FORMAT, "data is given in more than one form");

    if (ts->has_raw) {
        if (ts->raw.len != nbytes)
            return nnl_fail(NNL_ERR_FORMAT, "raw_data holds %zu bytes, expected %llu for %llu %s "
                            "elements", ts->raw.len, (unsigned long long)nbytes,
                            (unsigned long long)numel, nnl_dtype_name(dt));
    } else if (!external) {
        size_t have = want ? ts->typed_count[want] : 0;
        if (have != numel)
            return nnl_fail(NNL_ERR_FORMAT, "holds %zu values, expected %llu", have,
                            (unsigned long long)numel);
    }
    /* Every byte that will be written exists now (or is checked by
     * read_external before it is read), so allocating nbytes is safe. */
    void *data = nnl_aligned_alloc((size_t)nbytes);
    if (!data) return nnl_fail(NNL_ERR_NOMEM, "out of memory for %llu bytes",
                               (unsigned long long)nbytes);
    if (ts->has_raw) {
        if (nbytes) memcpy(data, ts->raw.data, (size_t)nbytes);
        if (dt == NNL_DT_BOOL)
            bool_normalize(data, (size_t)nbytes);
    } else if (external) {
        if ((s = read_external(src, &ts->ext, data, nbytes))) {
            nnl_aligned_free(data);
            return s;
        }
        if (dt == NNL_DT_BOOL) bool_normalize(data, (size_t)nbytes);
    } else if (numel) {
        fill_typed(msg, want, dt, data);
    }
    out->data = data;
    return NNL_OK;
}

nnl_status onnx_decode_tensor(const onnx_src *src, pb_reader *msg, const char *kind,
                              const char *fallback, nnl_tensor *out, char **name) {
    memset(out, 0, sizeof *out);
    if (name) *name = NULL;
    char *nm;
    nnl_status s = peek_name(msg, &nm);
    if (s) return s;
    tensor_scan ts;
    memset(&ts, 0, sizeof ts);
    s = decode(src, msg, &ts, out);
    nnl_free(ts.ext.location);
    if (s) {
        nnl_fail_context(s, "%s '%s': ", kind, nm && *nm ? nm : fallback);
        nnl_free(nm);
        return s;
    }
    if (name) {
        *name = nm ? nm : nnl_strdup("");
        if (!*name) {
            nnl_aligned_free(out->data);
            out->data = NULL;
            return nnl_fail(NNL_ERR_NOMEM, "out of memory");
        }
    } else {
        nnl_free(nm);
    }
    return NNL_OK;
}

nnl_status nnl_onnx_load_tensor(const char *path, nnl_tensor *out, char **name) {
    if (!path || !out) return nnl_fail(NNL_ERR_INVALID_ARG, "nnl_onnx_load_tensor: NULL argument");
    memset(out, 0, sizeof *out);
    if (name) *name = NULL;
    onnx_map map;
    nnl_status s = onnx_map_file(path, &map);
    if (s) return s;
    char *dir = onnx_dirname(path);
    if (!dir) {
        onnx_unmap(&map);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    }
    onnx_src src = {path, dir};
    pb_reader r;
    pb_init(&r, map.data, map.size);
    s = onnx_decode_tensor(&src, &r, "tensor", "(unnamed)", out, name);
    if (s) nnl_fail_context(s, "%s: ", path);
    nnl_free(dir);
    onnx_unmap(&map);
    return s;
}
