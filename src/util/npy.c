/*
 * .npy reader and writer.  The header is a Python dict literal; we accept
 * exactly the keys numpy writes ('descr', 'fortran_order', 'shape') and
 * parse them with a small scanner rather than trusting layout or order.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/npy.h"

#define NPY_MAX_HEADER (1u << 20)

static const struct {
    const char *descr;
    nnl_dtype dt;
} descrs[] = {
    {"<f4", NNL_DT_FLOAT}, {"<f8", NNL_DT_DOUBLE}, {"<f2", NNL_DT_FLOAT16}, {"<i8", NNL_DT_INT64},
    {"<i4", NNL_DT_INT32}, {"<i2", NNL_DT_INT16}, {"|i1", NNL_DT_INT8},     {"|u1", NNL_DT_UINT8},
    {"<u2", NNL_DT_UINT16}, {"<u4", NNL_DT_UINT32}, {"<u8", NNL_DT_UINT64}, {"|b1", NNL_DT_BOOL},
};

static const char *find_key(const char *h, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

static nnl_status parse_header(const char *path, const char *h, nnl_tensor *t) {
    const char *d = find_key(h, "descr"), *fo = find_key(h, "fortran_order"), *sh = find_key(h, "shape");
    if (!d || !fo || !sh) return nnl_fail(NNL_ERR_FORMAT, "%s: .npy header lacks descr, fortran_order or shape", path);
    if (*d != '\'') return nnl_fail(NNL_ERR_FORMAT, "%s: .npy descr is not a string", path);
    d++;
    t->dtype = NNL_DT_UNDEFINED;
    for (size_t i = 0; i < sizeof descrs / sizeof *descrs; i++) {
        size_t n = strlen(descrs[i].descr);
        if (strncmp(d, descrs[i].descr, n) == 0 && d[n] == '\'') t->dtype = descrs[i].dt;
    }
    /* '=' and '<' agree on little-endian hosts; numpy writes '|' for bytes */
    if (t->dtype == NNL_DT_UNDEFINED) {
        const char *e = strchr(d, '\'');
        int n = e ? (int)(e - d) : 8;
        return nnl_fail(NNL_ERR_UNSUPPORTED, "%s: .npy dtype '%.*s' is not supported (use float32, float64, int64, int32, int8, uint8 or bool, little-endian)",
                        path, n > 16 ? 16 : n, d);
    }
    if (strncmp(fo, "False", 5) != 0)
        return nnl_fail(NNL_ERR_UNSUPPORTED, "%s: Fortran-order .npy arrays are not supported", path);
    if (*sh != '(') return nnl_fail(NNL_ERR_FORMAT, "%s: .npy shape is not a tuple", path);
    sh++;
    t->rank = 0;
    for (;;) {
        while (*sh == ' ' || *sh == ',') sh++;
        if (*sh == ')') break;
        if (!isdigit((unsigned char)*sh)) return nnl_fail(NNL_ERR_FORMAT, "%s: bad .npy shape", path);
        if (t->rank == NNL_MAX_RANK)
            return nnl_fail(NNL_ERR_UNSUPPORTED, "%s: .npy rank above %d", path, NNL_MAX_RANK);
        errno = 0;
        char *end;
        unsigned long long v = strtoull(sh, &end, 10);
        if (errno || v > ((1ull << 40))) return nnl_fail(NNL_ERR_FORMAT, "%s: .npy dimension too large", path);
        t->dims[t->rank++] = (int64_t)v;
        sh = end;
    }
    return NNL_OK;
}

nnl_status nnl_npy_read(const char *path, nnl_tensor *out) {
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp) return nnl_fail(NNL_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    unsigned char pre[12];
    nnl_status s = NNL_OK;
    char *h = NULL;
    if (fread(pre, 1, 10, fp) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        s = nnl_fail(NNL_ERR_FORMAT, "%s is not a .npy file", path);
        goto done;
    }
    uint32_t hlen;
    if (pre[6] == 1) {
        hlen = pre[8] | (uint32_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, fp) != 2) {
            s = nnl_fail(NNL_ERR_FORMAT, "%s: truncated .npy header", path);
            goto done;
        }
        hlen = pre[8] | (uint32_t)pre[9] << 8 | (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
    } else {
        s = nnl_fail(NNL_ERR_UNSUPPORTED, "%s: .npy format version %d is not supported", path, pre[6]);
        goto done;
    }
    if (hlen > NPY_MAX_HEADER) {
        s = nnl_fail(NNL_ERR_FORMAT, "%s: .npy header too large", path);
        goto done;
    }
    if (!(h = nnl_malloc(hlen + 1))) {
        s = nnl_fail(NNL_ERR_NOMEM, "out of memory reading %s", path);
        goto done;
    }
    if (fread(h, 1, hlen, fp) != hlen) {
        s = nnl_fail(NNL_ERR_FORMAT, "%s: truncated .npy header", path);
        goto done;
    }
    h[hlen] = 0;
    if ((s = parse_header(path, h, out))) goto done;
    uint64_t n = 1;
    for (int i = 0; i < out->rank; i++)
        if (nnl_mul_overflow_u64(n, (uint64_t)out->dims[i], &n)) break;
    uint64_t nb;
    if (n > (1ull << 40) || nnl_mul_overflow_u64(n, nnl_dtype_size(out->dtype), &nb)) {
        s = nnl_fail(NNL_ERR_FORMAT, "%s: .npy array too large", path);
        goto done;
    }
    long pos = ftell(fp);
    if (fseek(fp, 0, SEEK_END) != 0 || pos < 0) {
        s = nnl_fail(NNL_ERR_IO, "cannot seek in %s", path);
        goto done;
    }
    long size = ftell(fp);
    if (size < 0 || (uint64_t)(size - pos) != nb) {
        s = nnl_fail(NNL_ERR_FORMAT, "%s: .npy data is %ld bytes, the header promises %llu", path,
                     size - pos, (unsigned long long)nb);
        goto done;
    }
    fseek(fp, pos, SEEK_SET);
    if (!(out->data = nnl_aligned_alloc(nb))) {
        s = nnl_fail(NNL_ERR_NOMEM, "out of memory reading %s", path);
        goto done;
    }
    if (nb && fread(out->data, 1, nb, fp) != nb) {
        s = nnl_fail(NNL_ERR_IO, "cannot read %s", path);
        goto done;
    }
done:
    if (s) {
        nnl_aligned_free(out->data);
        out->data = NULL;
    }
    nnl_free(h);
    fclose(fp);
    return s;
}

nnl_status nnl_npy_write(const char *path, const nnl_tensor *t) {
    const char *descr = NULL;
    for (size_t i = 0; i < sizeof descrs / sizeof *descrs; i++)
        if (descrs[i].dt == t->dtype) descr = descrs[i].descr;
    if (!descr) return nnl_fail(NNL_ERR_UNSUPPORTED, "cannot write dtype %s to .npy", nnl_dtype_name(t->dtype));
    char h[512];
    int n = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < t->rank; i++)
        n += snprintf(h + n, sizeof h - (size_t)n, "%lld,%s", (long long)t->dims[i], i + 1 < t->rank ? " " : "");
    n += snprintf(h + n, sizeof h - (size_t)n, "), }");
    /* pad so the data starts at a multiple of 64, header ends with '\n' */
    int total = 10 + n + 1;
    int pad = (64 - total % 64) % 64;
    memset(h + n, ' ', (size_t)pad);
    n += pad;
    h[n++] = '\n';
    size_t tlen = strlen(path) + 16;
    char *tmp = nnl_malloc(tlen);
    if (!tmp) return nnl_fail(NNL_ERR_NOMEM, "out of memory");
    snprintf(tmp, tlen, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        nnl_status s = nnl_fail(NNL_ERR_IO, "cannot create %s: %s", path, strerror(errno));
        nnl_free(tmp);
        return s;
    }
    FILE *fp = fdopen(fd, "wb");
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(n & 0xff), (unsigned char)(n >> 8)};
    size_t nb = nnl_tensor_nbytes(t);
    bool ok = fp && fwrite(pre, 1, 10, fp) == 10 && fwrite(h, 1, (size_t)n, fp) == (size_t)n &&
              (nb == 0 || fwrite(t->data, 1, nb, fp) == nb);
    if (fp) ok = (fclose(fp) == 0) && ok;
    else close(fd);
    if (!ok || rename(tmp, path) != 0) {
        nnl_status s = nnl_fail(NNL_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        nnl_free(tmp);
        return s;
    }
    nnl_free(tmp);
    return NNL_OK;
}
