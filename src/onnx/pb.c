/* Protocol buffers wire-format reader; see pb.h for the guarantees. */
#include <string.h>

#include "onnx/pb.h"

/* Only little-endian hosts are targeted: I32/I64 payloads and raw tensor
 * bytes are used as they lie in the file. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host required");

void pb_init(pb_reader *r, const void *data, size_t n) {
    static const uint8_t empty[1];
    if (!data) data = empty;   /* no arithmetic on NULL for an empty file */
    r->base = data;
    r->p = data;
    r->end = r->p + n;
    r->depth = 0;
}

static size_t off(const pb_reader *r, const uint8_t *p) { return (size_t)(p - r->base); }

/* A varint is at most 10 bytes; the tenth may only carry bit 63. */
static bool read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v) {
    const uint8_t *p = *pp;
    uint64_t x = 0;
    for (int i = 0; i < 10; i++) {
        if (p >= end) return false;
        uint8_t b = *p++;
        if (i == 9 && b > 1) return false;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *pp = p;
            *v = x;
            return true;
        }
    }
    return false;
}

static nnl_status varint_fail(const pb_reader *r, const uint8_t *at) {
    if (r->end - at < 10) {
        /* Either truncated or over-long; tell which when it is cheap to. */
        const uint8_t *q = at;
        while (q < r->end && (*q & 0x80)) q++;
        if (q >= r->end)
            return nnl_fail(NNL_ERR_FORMAT, "varint runs past the end of its message at offset %zu",
                            off(r, at));
    }
    return nnl_fail(NNL_ERR_FORMAT, "malformed varint at offset %zu", off(r, at));
}

nnl_status pb_next(pb_reader *r, pb_field *f) {
    memset(f, 0, sizeof *f);
    if (r->p >= r->end) return NNL_OK;
    const uint8_t *start = r->p, *p = r->p;
    uint64_t tag;
    if (!read_varint(&p, r->end, &tag)) return varint_fail(r, start);
    uint64_t num = tag >> 3;
    unsigned wire = (unsigned)(tag & 7);
    if (num == 0 || num > 0x1fffffff)
        return nnl_fail(NNL_ERR_FORMAT, "invalid field number %llu at offset %zu",
                        (unsigned long long)num, off(r, start));
    switch (wire) {
    case PB_VARINT:
        if (!read_varint(&p, r->end, &f->u)) return varint_fail(r, p);
        break;
    case PB_I64:
        if (r->end - p < 8)
            return nnl_fail(NNL_ERR_FORMAT, "8-byte field %llu runs past the end at offset %zu",
                            (unsigned long long)num, off(r, start));
        memcpy(&f->u, p, 8);
        p += 8;
        break;
    case PB_I32: {
        uint32_t v;
        if (r->end - p < 4)
            return nnl_fail(NNL_ERR_FORMAT, "4-byte field %llu runs past the end at offset %zu",
                            (unsigned long long)num, off(r, start));
        memcpy(&v, p, 4);
        f->u = v;
        p += 4;
        break;
    }
    case PB_LEN: {
        uint64_t len;
        const uint8_t *lp = p;
        if (!read_varint(&p, r->end, &len)) return varint_fail(r, lp);
        if (len > (uint64_t)(r->end - p))
            return nnl_fail(NNL_ERR_FORMAT,
                            "field %llu at offset %zu claims %llu bytes but only %zu remain "
                            "in its message",
                            (unsigned long long)num, off(r, start), (unsigned long long)len,
                            (size_t)(r->end - p));
        f->data = p;
        f->len = (size_t)len;
        p += len;
        break;
    }
    case 3: case 4:
        return nnl_fail(NNL_ERR_FORMAT, "field %llu at offset %zu is a group (not used by ONNX)",
                        (unsigned long long)num, off(r, start));
    default:
        return nnl_fail(NNL_ERR_FORMAT, "field %llu at offset %zu has invalid wire type %u",
                        (unsigned long long)num, off(r, start), wire);
    }
    f->num = (uint32_t)num;
    f->wire = (pb_wire)wire;
    f->offset = off(r, start);
    r->p = p;
    return NNL_OK;
}

nnl_status pb_sub(const pb_reader *parent, const pb_field *f, pb_reader *sub) {
    if (f->wire != PB_LEN)
        return nnl_fail(NNL_ERR_FORMAT, "field %u at offset %zu should be a message", f->num,
                        f->offset);
    if (parent->depth + 1 > PB_MAX_DEPTH)
        return nnl_fail(NNL_ERR_FORMAT, "messages nested deeper than %d at offset %zu",
                        PB_MAX_DEPTH, f->offset);
    sub->base = parent->base;
    sub->p = f->data;
    sub->end = f->data + f->len;
    sub->depth = parent->depth + 1;
    return NNL_OK;
}

static const char *wire_name(pb_wire w) {
    switch (w) {
    case PB_VARINT: return "varint";
    case PB_I64: return "64-bit";
    case PB_LEN: return "length-delimited";
    case PB_I32: return "32-bit";
    }
    return "?";
}

nnl_status pb_expect(const pb_field *f, pb_wire w, const char *what) {
    if (f->wire == w) return NNL_OK;
    return nnl_fail(NNL_ERR_FORMAT, "%s (field %u at offset %zu) is %s, expected %s", what,
                    f->num, f->offset, wire_name(f->wire), wire_name(w));
}

nnl_status pb_scalars_begin(const pb_field *f, pb_wire elem, const char *what,
                            pb_scalars *it) {
    memset(it, 0, sizeof *it);
    it->elem = elem;
    if (f->wire == elem) {
        it->single = f->u;
        it->count = 1;
        return NNL_OK;
    }
    if (f->wire != PB_LEN)
        return nnl_fail(NNL_ERR_FORMAT, "%s (field %u at offset %zu) is %s, expected %s or packed",
                        what, f->num, f->offset, wire_name(f->wire), wire_name(elem));
    it->packed = true;
    it->p = f->data;
    it->end = f->data + f->len;
    if (elem == PB_I32 || elem == PB_I64) {
        size_t w = elem == PB_I32 ? 4 : 8;
        if (f->len % w)
            return nnl_fail(NNL_ERR_FORMAT,
                            "packed %s (field %u at offset %zu) is %zu bytes, not a multiple of %zu",
                            what, f->num, f->offset, f->len, w);
        it->count = f->len / w;
        return NNL_OK;
    }
    /* Packed varints: validate every one now so next() cannot fail. */
    const uint8_t *p = it->p;
    size_t n = 0;
    while (p < it->end) {
        uint64_t v;
        if (!read_varint(&p, it->end, &v))
            return nnl_fail(NNL_ERR_FORMAT,
                            "packed %s (field %u at offset %zu) holds a malformed varint", what,
                            f->num, f->offset);
        n++;
    }
    it->count = n;
    return NNL_OK;
}

bool pb_scalars_next(pb_scalars *it, uint64_t *v) {
    if (it->taken >= it->count) return false;
    it->taken++;
    if (!it->packed) {
        *v = it->single;
        return true;
    }
    if (it->elem == PB_I32) {
        uint32_t x;
        memcpy(&x, it->p, 4);
        it->p += 4;
        *v = x;
    } else if (it->elem == PB_I64) {
        memcpy(v, it->p, 8);
        it->p += 8;
    } else if (!read_varint(&it->p, it->end, v)) {
        return false;          /* unreachable: validated in begin */
    }
    return true;
}

float pb_as_float(uint64_t u) {
    uint32_t b = (uint32_t)u;
    float x;
    memcpy(&x, &b, 4);
    return x;
}

double pb_as_double(uint64_t u) {
    double x;
    memcpy(&x, &u, 8);
    return x;
}
