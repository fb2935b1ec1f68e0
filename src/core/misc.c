/* Hashing and clocks. */
#include <time.h>

#include "core/core.h"

/* 64-bit FNV-1a over 8-byte words, folded with a final avalanche: the hash
 * of in-memory hash tables (the ONNX importer's value-name index), where
 * equal hashes are always confirmed by comparing the keys.  Not the hash
 * of any file: .nnl checksums and weight hashes are XXH64
 * (format/xxh64.h). */
uint64_t nnl_hash64(const void *data, size_t n) {
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = 0;
        for (int b = 0; b < 8; b++) w |= (uint64_t)p[i + b] << (8 * b);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

double nnl_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}
