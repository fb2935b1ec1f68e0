/*
 * Protocol buffers wire-format reader over untrusted bytes.
 *
 * A reader walks the fields of one message, a byte range [p, end).  Every
 * varint is length- and overflow-checked, every length-delimited field is
 * checked against the end of the enclosing message before anything looks
 * at it, groups and undefined wire types are refused, and sub-readers count
 * their nesting depth.  Failures are recorded with nnl_fail(NNL_ERR_FORMAT)
 * and name the byte offset from the start of the buffer.
 *
 * Nothing here allocates; field data points into the caller's buffer.
 */
#ifndef NNL_PB_H
#define NNL_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

typedef enum pb_wire {
    PB_VARINT = 0,
    PB_I64 = 1,
    PB_LEN = 2,
    PB_I32 = 5
} pb_wire;

/* Deeper nesting than any message this importer descends into. */
#define PB_MAX_DEPTH 24

typedef struct pb_reader {
    const uint8_t *base;       /* start of the whole buffer (for offsets) */
    const uint8_t *p, *end;
    int depth;
} pb_reader;

typedef struct pb_field {
    uint32_t num;              /* 0 once the message is exhausted */
    pb_wire wire;
    uint64_t u;                /* PB_VARINT, PB_I64 and PB_I32 payload */
    const uint8_t *data;       /* PB_LEN payload, len bytes */
    size_t len;
    size_t offset;             /* of the field's tag, from base */
} pb_field;

void pb_init(pb_reader *r, const void *data, size_t n);
/* Read the next field into f.  At the end of the message returns NNL_OK
 * with f->num == 0 (field number 0 is never valid on the wire). */
nnl_status pb_next(pb_reader *r, pb_field *f);
/* Reader over the payload of length-delimited field f, one level deeper. */
nnl_status pb_sub(const pb_reader *parent, const pb_field *f, pb_reader *sub);
/* Fail unless f has wire type w; what names the field for the message. */
nnl_status pb_expect(const pb_field *f, pb_wire w, const char *what);

/* Repeated scalar fields may be sent packed (one PB_LEN field) or one value
 * per field; both forms are accepted.  pb_scalars_begin validates the
 * whole packed payload up front, so pb_scalars_next cannot fail. */
typedef struct pb_scalars {
    const uint8_t *p, *end;
    pb_wire elem;
    uint64_t single;
    bool packed;
    size_t count;              /* values this field holds */
    size_t taken;
} pb_scalars;

nnl_status pb_scalars_begin(const pb_field *f, pb_wire elem, const char *what,
                            pb_scalars *it);
bool pb_scalars_next(pb_scalars *it, uint64_t *v);

/* Raw bit reinterpretation of I32 / I64 payloads. */
float pb_as_float(uint64_t u);
double pb_as_double(uint64_t u);

#endif
