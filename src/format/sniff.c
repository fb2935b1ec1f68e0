/*
 * Naming what a file is when it is not a .nnl file, so the user learns
 * what to do ("compile it first") instead of reading "bad magic".
 */
#include <stdio.h>

#include "format/fmt_internal.h"

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* An ONNX ModelProto starts with field 1 (ir_version, varint: tag 0x08)
 * holding a small number, followed by one of the other top-level fields
 * (producer_name 0x12, producer_version 0x1a, domain 0x22,
 * model_version 0x28, doc_string 0x32, graph 0x3a, opset_import 0x42,
 * metadata_props 0x72). */
static bool looks_onnx(const uint8_t *p, size_t n) {
    if (n < 3 || p[0] != 0x08 || p[1] == 0 || p[1] >= 0x80) return false;
    switch (p[2]) {
    case 0x12: case 0x1a: case 0x22: case 0x28: case 0x32: case 0x3a: case 0x42: case 0x72:
        return true;
    default:
        return false;
    }
}

static bool looks_text(const uint8_t *p, size_t n) {
    if (n == 0) return false;
    for (size_t i = 0; i < n && i < 256; i++) {
        uint8_t c = p[i];
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') return false;
        if (c == 0x7f) return false;
    }
    return true;
}

const char *nnl_fmt_sniff(const uint8_t *p, size_t n, const char *path, char *buf, size_t cap) {
    const char *what;
    if (n == 0) {
        what = "file is empty";
    } else if (n >= 4 && memcmp(p, NNL_FMT_MAGIC, 4) == 0) {
        if (n >= NNL_FMT_MAGIC_LEN && memcmp(p, NNL_FMT_MAGIC, NNL_FMT_MAGIC_LEN) == 0)
            what = "truncated .nnl file (shorter than its header)";
        else
            what = "a .nnl file damaged by a line-ending (text mode) conversion";
    } else if (looks_onnx(p, n) || (ends_with(path, ".onnx") && !looks_text(p, n))) {
        what = "looks like an ONNX model; compile it first with `nnlink compile`";
    } else if (n >= 4 && memcmp(p, "PK\x03\x04", 4) == 0) {
        what = "looks like a zip archive (a PyTorch .pt checkpoint?); export it to ONNX and "
               "compile it with `nnlink compile`";
    } else if (n >= 2 && p[0] == 0x80 && p[1] >= 2 && p[1] <= 5) {
        what = "looks like a Python pickle (a PyTorch checkpoint?); export it to ONNX and "
               "compile it with `nnlink compile`";
    } else if (n >= 4 && memcmp(p, "\x7f" "ELF", 4) == 0) {
        what = "looks like an executable (ELF), not a .nnl file";
    } else if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
        what = "looks like a gzip archive; decompress it first";
    } else if (looks_text(p, n)) {
        what = "looks like a text file, not a .nnl file";
    } else {
        snprintf(buf, cap, "not a .nnl file (starts with %02x %02x %02x %02x)", p[0],
                 n > 1 ? p[1] : 0, n > 2 ? p[2] : 0, n > 3 ? p[3] : 0);
        return buf;
    }
    snprintf(buf, cap, "%s", what);
    return buf;
}
