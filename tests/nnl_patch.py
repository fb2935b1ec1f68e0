#!/usr/bin/python3
"""nnl_patch.py IN.nnl OUT.nnl (--target NAME | --format-version N | --layout-version N | --weight-dtype I:DT)

Test helper: writes a copy of a .nnl file with one header field changed and
the metadata checksum recomputed (docs/FORMAT.md), so the reader sees a
well-formed file from another target or version rather than a corrupt one.
The new target name may not be longer than the original one.  --weight-dtype
gives weight record I the dtype DT (ONNX numbering) and nothing else: e.g. a
float16 weight whose size no longer fits its claimed type.
"""
import struct
import sys

M = (1 << 64) - 1
P1, P2, P3, P4, P5 = (11400714785074694791, 14029467366897019727, 1609587929392839161,
                      9650029242287828579, 2870177450012600261)


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M


def rnd(acc, v):
    return (rotl((acc + v * P2) & M, 31) * P1) & M


def xxh64(b, seed=0):
    n, i = len(b), 0
    u64 = lambda k: int.from_bytes(b[k:k + 8], "little")
    if n >= 32:
        v = [(seed + P1 + P2) & M, (seed + P2) & M, seed, (seed - P1) & M]
        while i + 32 <= n:
            v = [rnd(v[j], u64(i + 8 * j)) for j in range(4)]
            i += 32
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & M
        for x in v:
            h = ((h ^ rnd(0, x)) * P1 + P4) & M
    else:
        h = (seed + P5) & M
    h = (h + n) & M
    while i + 8 <= n:
        h = (rotl(h ^ rnd(0, u64(i)), 27) * P1 + P4) & M
        i += 8
    if i + 4 <= n:
        h = (rotl(h ^ ((int.from_bytes(b[i:i + 4], "little") * P1) & M), 23) * P2 + P3) & M
        i += 4
    while i < n:
        h = (rotl(h ^ ((b[i] * P5) & M), 11) * P1) & M
        i += 1
    h ^= h >> 33
    h = (h * P2) & M
    h ^= h >> 29
    h = (h * P3) & M
    return h ^ (h >> 32)


def refix_checksum(b):
    """Recompute the metadata checksum of the .nnl bytes b (a bytearray) in
    place, so that a deliberately changed file reads as well-formed."""
    w = struct.unpack_from("<Q", b, 128 + 8 * 24 + 8)[0]
    struct.pack_into("<Q", b, 32, xxh64(bytes(b[0:32] + b[40:w])))


def main():
    src, dst, what, value = sys.argv[1:5]
    b = bytearray(open(src, "rb").read())
    if what == "--target":
        strings_off = struct.unpack_from("<Q", b, 128 + 8)[0]
        off, length = struct.unpack_from("<II", b, 48)
        # in place: a name no longer than the old one, NUL-terminated, with
        # the strref's length shortened (the rest of the old bytes stay,
        # unreferenced)
        assert len(value) <= length, "target name must not grow"
        b[strings_off + off:strings_off + off + len(value) + 1] = value.encode() + b"\0"
        struct.pack_into("<I", b, 52, len(value))
    elif what == "--format-version":
        struct.pack_into("<I", b, 8, int(value))
    elif what == "--layout-version":
        struct.pack_into("<I", b, 12, int(value))
    elif what == "--weight-dtype":
        i, dt = (int(x) for x in value.split(":"))
        weights_off = struct.unpack_from("<Q", b, 128 + 24 + 8)[0]   # section 2, records of 112 bytes
        struct.pack_into("<I", b, weights_off + 112 * i + 8, dt)
    refix_checksum(b)
    open(dst, "wb").write(b)


if __name__ == "__main__":
    main()
