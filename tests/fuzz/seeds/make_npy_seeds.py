#!/usr/bin/env python3
"""Small .npy files for the fuzz seed corpus: every dtype nnlink reads, the
three header versions, 0-d, empty and high-rank arrays, and a few files the
reader must refuse (Fortran order, big-endian, object).  usage: OUTDIR"""
import io
import os
import sys

import numpy as np
from numpy.lib import format as npf


def write(out, name, a, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, a, allow_pickle=False)
    else:
        npf.write_array(buf, a, version=version, allow_pickle=False)
    with open(os.path.join(out, name + ".npy"), "wb") as f:
        f.write(buf.getvalue())


def main(out):
    os.makedirs(out, exist_ok=True)
    r = np.random.default_rng(3)
    for dt in ["<f4", "<f8", "<f2", "<i8", "<i4", "<i2", "|i1", "|u1", "<u2", "<u4", "<u8", "|b1"]:
        write(out, "dt_" + dt.strip("<|"), (r.standard_normal((2, 3)) * 5).astype(dt))
    write(out, "v2", np.arange(6, dtype=np.float32).reshape(3, 2), version=(2, 0))
    write(out, "v3", np.arange(4, dtype=np.int64), version=(3, 0))
    write(out, "scalar", np.array(1.5, np.float32))
    write(out, "empty", np.zeros((2, 0, 3), np.float32))
    write(out, "rank8", np.ones((1, 2, 1, 2, 1, 2, 1, 2), np.float32))
    write(out, "fortran", np.asfortranarray(np.ones((2, 3), np.float32)))
    write(out, "bigendian", np.ones(3, ">f4"))
    write(out, "image", r.standard_normal((1, 3, 4, 4)).astype(np.float32))


if __name__ == "__main__":
    main(sys.argv[1])
