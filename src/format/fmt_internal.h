/*
 * Private to src/format and src/link: the on-disk constants of .nnl format
 * version 1 (docs/FORMAT.md is the specification; keep the two in step),
 * little-endian byte helpers and the semantic checker the writer and the
 * reader share, so that the writer never produces a file the reader
 * refuses.
 */
#ifndef NNL_FMT_INTERNAL_H
#define NNL_FMT_INTERNAL_H

#include <string.h>

#include "format/nnl_file.h"

/* "\x89NNL\r\n\x1a\n": the high byte catches 7-bit transfers, CR LF and the
 * lone LF catch line-ending conversion, ^Z stops DOS `type`. */
#define NNL_FMT_MAGIC "\x89NNL\r\n\x1a\n"
#define NNL_FMT_MAGIC_LEN 8

#define NNL_FMT_HEADER_SIZE 128
#define NNL_FMT_SECTION_ENTRY 24
#define NNL_FMT_N_SECTIONS 9
#define NNL_FMT_TABLES_END (NNL_FMT_HEADER_SIZE + NNL_FMT_N_SECTIONS * NNL_FMT_SECTION_ENTRY)

/* Header field offsets. */
#define NNL_FMT_OFF_FORMAT 8
#define NNL_FMT_OFF_LAYOUT 12
#define NNL_FMT_OFF_HDRSIZE 16
#define NNL_FMT_OFF_NSECT 20
#define NNL_FMT_OFF_FILESIZE 24
#define NNL_FMT_OFF_META_SUM 32
#define NNL_FMT_OFF_WEIGHT_SUM 40
#define NNL_FMT_OFF_TARGET 48
#define NNL_FMT_OFF_TOOL 56
#define NNL_FMT_OFF_DEFAULT 64
#define NNL_FMT_OFF_FLAGS 68
#define NNL_FMT_OFF_RESERVED 72

/* Section ids; section table entry i carries id i + 1. */
enum {
    NNL_SEC_STRINGS = 1,
    NNL_SEC_WEIGHTS = 2,
    NNL_SEC_GRAPHS = 3,
    NNL_SEC_TENSORS = 4,
    NNL_SEC_NODES = 5,
    NNL_SEC_ATTRS = 6,
    NNL_SEC_INDICES = 7,
    NNL_SEC_ATTR_DATA = 8,
    NNL_SEC_WEIGHT_DATA = 9
};

/* Fixed record sizes of the tables. */
#define NNL_REC_WEIGHT 112
#define NNL_REC_GRAPH 64
#define NNL_REC_TENSOR 96
#define NNL_REC_NODE 56
#define NNL_REC_ATTR 24
#define NNL_REC_INDEX 4

/* Caps: a file beyond any of them is refused, whatever its checksums say.
 * They bound every count before anything is allocated and keep all
 * arithmetic on counts far from overflow. */
#define NNL_FMT_MAX_GRAPHS 65536
#define NNL_FMT_MAX_WEIGHTS (1 << 24)
#define NNL_FMT_MAX_TENSORS (1 << 26)   /* over all graphs */
#define NNL_FMT_MAX_NODES (1 << 26)
#define NNL_FMT_MAX_ATTRS (1 << 26)
#define NNL_FMT_MAX_INDICES (1 << 28)
#define NNL_FMT_MAX_NODE_IO (1 << 20)   /* inputs or outputs of one node */
#define NNL_FMT_MAX_ATTR_ELEMS (1 << 24)
#define NNL_FMT_MAX_STRING (1 << 20)    /* bytes of one string, NUL excluded */
#define NNL_FMT_MAX_STRTAB 0x7fffffffu
#define NNL_FMT_MAX_ARENA ((uint64_t)1 << 48)

/* ---- little-endian helpers: byte by byte, correct on any host -------- */

static inline void nnl_put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void nnl_put_u64(uint8_t *p, uint64_t v) {
    nnl_put_u32(p, (uint32_t)v);
    nnl_put_u32(p + 4, (uint32_t)(v >> 32));
}
static inline uint32_t nnl_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t nnl_get_u64(const uint8_t *p) {
    return (uint64_t)nnl_get_u32(p) | (uint64_t)nnl_get_u32(p + 4) << 32;
}
/* Floats travel as their IEEE-754 bit patterns (C11 reads a union member
 * other than the one last stored as a reinterpretation of its bytes). */
typedef union nnl_bits32 { float f; uint32_t u; } nnl_bits32;
typedef union nnl_bits64 { double f; uint64_t u; } nnl_bits64;
static inline uint32_t nnl_f32_bits(float f) { return (nnl_bits32){.f = f}.u; }
static inline float nnl_bits_f32(uint32_t u) { return (nnl_bits32){.u = u}.f; }
static inline uint64_t nnl_f64_bits(double d) { return (nnl_bits64){.f = d}.u; }
static inline double nnl_bits_f64(uint64_t u) { return (nnl_bits64){.u = u}.f; }

static inline uint64_t nnl_align_up(uint64_t v, uint64_t a) {
    return (v + a - 1) & ~(a - 1);
}

/* Bytes of one element of an array attribute in section 8 (INTS 8, FLOATS
 * 4, STRINGS 8: a strref), which is also the array's alignment; 0 for the
 * scalar types, which have no array. */
static inline uint64_t nnl_fmt_attr_elem_size(nnl_attr_type t) {
    return t == NNL_ATTR_INTS || t == NNL_ATTR_STRINGS ? 8 : t == NNL_ATTR_FLOATS ? 4 : 0;
}

/* XXH64 of bytes [0, 32) and [40, meta_len) of a file whose weight data
 * starts at meta_len: everything before the weight data except the
 * checksum's own field. */
uint64_t nnl_fmt_meta_checksum(const uint8_t *meta, uint64_t meta_len);

/* nnl_file_write with options.  NNL_WRITE_CHECK_HASHES: weights[i].hash
 * already holds the XXH64 of the data (the linker passes weights of
 * opened files); a weight whose bytes hash differently fails the write with
 * NNL_ERR_FORMAT naming sources[i] (the file weight i came from; sources
 * may be NULL).  This verifies every stored input byte in the pass that
 * writes it, instead of a separate pass over the inputs. */
#define NNL_WRITE_CHECK_HASHES 1u
nnl_status nnl_file_write_ex(const nnl_file *f, const char *path, unsigned flags,
                             const char *const *sources);

/* ---- shared checks ----------------------------------------------------- */

/* Semantic validation of an in-memory file: counts within the caps, known
 * dtypes and layouts, shapes that match byte counts, every tensor index and
 * arena range in bounds, unique non-empty graph names.  Fails with status
 * `st` (INVALID_ARG for the writer, FORMAT for the reader) and a message
 * prefixed with `what` (a path). */
nnl_status nnl_file_check(const nnl_file *f, nnl_status st, const char *what);

/* Short description of a file that is not a .nnl file, from its first
 * bytes (n may be small) and its path, e.g. "looks like an ONNX model; ...". */
const char *nnl_fmt_sniff(const uint8_t *p, size_t n, const char *path, char *buf, size_t cap);

#endif
