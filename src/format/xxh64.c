/*
 * XXH64 from its specification: four 64-bit lanes consume 32-byte stripes,
 * then the lanes are merged, the tail (< 32 bytes) is mixed in 8-, 4- and
 * 1-byte steps, and a final avalanche spreads every bit.  Input words are
 * read little-endian whatever the host.
 */
#include "format/xxh64.h"

#include <string.h>

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t rd64(const uint8_t *p) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
#endif
}
static inline uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t lane(uint64_t acc, uint64_t in) {
    acc += in * P2;
    acc = rotl(acc, 31);
    return acc * P1;
}
static inline uint64_t merge(uint64_t h, uint64_t v) {
    h ^= lane(0, v);
    return h * P1 + P4;
}

/* Whole stripes only; returns bytes consumed. */
static size_t stripes(uint64_t v[4], const uint8_t *p, size_t n) {
    uint64_t a = v[0], b = v[1], c = v[2], d = v[3];
    size_t done = 0;
    while (n - done >= 32) {
        a = lane(a, rd64(p + done));
        b = lane(b, rd64(p + done + 8));
        c = lane(c, rd64(p + done + 16));
        d = lane(d, rd64(p + done + 24));
        done += 32;
    }
    v[0] = a, v[1] = b, v[2] = c, v[3] = d;
    return done;
}

void nnl_xxh64_init(nnl_xxh64_state *s, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->seed = seed;
    s->v[0] = seed + P1 + P2;
    s->v[1] = seed + P2;
    s->v[2] = seed;
    s->v[3] = seed - P1;
}

void nnl_xxh64_update(nnl_xxh64_state *s, const void *data, size_t n) {
    const uint8_t *p = data;
    if (n == 0) return;
    s->total += n;
    if (s->nbuf) {
        size_t take = 32 - s->nbuf < n ? 32 - s->nbuf : n;
        memcpy(s->buf + s->nbuf, p, take);
        s->nbuf += (unsigned)take;
        p += take;
        n -= take;
        if (s->nbuf < 32) return;
        stripes(s->v, s->buf, 32);
        s->nbuf = 0;
    }
    size_t done = stripes(s->v, p, n);
    memcpy(s->buf, p + done, n - done);
    s->nbuf = (unsigned)(n - done);
}

uint64_t nnl_xxh64_final(const nnl_xxh64_state *s) {
    uint64_t h;
    if (s->total >= 32) {
        h = rotl(s->v[0], 1) + rotl(s->v[1], 7) + rotl(s->v[2], 12) + rotl(s->v[3], 18);
        for (int i = 0; i < 4; i++) h = merge(h, s->v[i]);
    } else {
        h = s->seed + P5;
    }
    h += s->total;
    const uint8_t *p = s->buf;
    size_t n = s->nbuf;
    while (n >= 8) {
        h ^= lane(0, rd64(p));
        h = rotl(h, 27) * P1 + P4;
        p += 8, n -= 8;
    }
    if (n >= 4) {
        h ^= (uint64_t)rd32(p) * P1;
        h = rotl(h, 23) * P2 + P3;
        p += 4, n -= 4;
    }
    while (n--) {
        h ^= (uint64_t)*p++ * P5;
        h = rotl(h, 11) * P1;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

uint64_t nnl_xxh64(const void *data, size_t n, uint64_t seed) {
    nnl_xxh64_state s;
    nnl_xxh64_init(&s, seed);
    nnl_xxh64_update(&s, data, n);
    return nnl_xxh64_final(&s);
}
