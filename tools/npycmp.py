#!/usr/bin/env python3
"""npycmp.py GOT.npy WANT.npy [REL_TOL]: compare two arrays.

Prints the largest absolute difference relative to the largest |WANT| value
and exits 1 when it exceeds REL_TOL (default 1e-4) or shapes/dtypes differ.
"""
import sys

import numpy as np


def main():
    got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
    tol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
    if got.shape != want.shape or got.dtype != want.dtype:
        print(f"mismatch: {got.dtype}{got.shape} vs {want.dtype}{want.shape}")
        return 1
    scale = float(np.abs(want).max()) if want.size else 0.0
    err = float(np.abs(got.astype(np.float64) - want).max()) if want.size else 0.0
    rel = err / scale if scale > 0 else err
    ok = np.isfinite(got).all() and rel <= tol
    print(f"max |ref| {scale:.4g}, max |err| {err:.3g}, relative {rel:.3g} "
          f"({'ok' if ok else 'FAIL'}, tolerance {tol:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
