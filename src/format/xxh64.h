/*
 * XXH64 (seed 0 in the file format): the checksum of .nnl files.  Chosen over
 * CRC32C because a portable C implementation runs near memory speed on any
 * host without ISA-specific code, and the weights checksum covers gigabytes.
 * Defined by the public xxHash specification; the tests pin published test
 * vectors.
 */
#ifndef NNL_XXH64_H
#define NNL_XXH64_H

#include <stddef.h>
#include <stdint.h>

typedef struct nnl_xxh64_state {
    uint64_t v[4];
    uint64_t total;            /* bytes fed so far */
    uint8_t buf[32];           /* pending tail of less than one stripe */
    unsigned nbuf;
    uint64_t seed;
} nnl_xxh64_state;

void nnl_xxh64_init(nnl_xxh64_state *s, uint64_t seed);
void nnl_xxh64_update(nnl_xxh64_state *s, const void *data, size_t n);
uint64_t nnl_xxh64_final(const nnl_xxh64_state *s);
uint64_t nnl_xxh64(const void *data, size_t n, uint64_t seed);

#endif
