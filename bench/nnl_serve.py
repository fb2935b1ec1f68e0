#!/usr/bin/python3
"""nnlink half of the interleaved benchmark (bench/broad.py --interleave):
one session kept open and timed on request, as bench/ort_bench.js's
"serve" mode does for ONNX Runtime.

usage: /usr/bin/python3 bench/nnl_serve.py FILE.nnl THREADS WARMUP [NAME=X.npy ...]

Sets the inputs once, runs the graph once cold and WARMUP times, prints
"ready", then for each line N on stdin runs it N times and prints one JSON
list of the runs' times in ms, until EOF.  A time is the wall clock around
nnl_session_run alone, as `nnlink profile` takes it; the ctypes call adds
about a microsecond.  NNL_ISA in the environment picks the kernel set as
for the CLI.
"""
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))
import nnlink  # noqa: E402
from nnlink import _lib  # noqa: E402


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    path, threads, warmup = argv[0], int(argv[1]), int(argv[2])
    try:
        inputs = {}
        for a in argv[3:]:
            name, _, f = a.partition("=")
            inputs[name] = np.load(f)
        s = nnlink.load(path).session(threads=threads)
        s._set_inputs(inputs)   # every input, or the binding names the missing one
    except (nnlink.Error, OSError, ValueError) as e:
        sys.stderr.write("nnl_serve.py: %s\n" % e)
        return 1
    run = _lib.lib.nnl_session_run
    handle = s._s
    for _ in range(1 + warmup):
        _lib.check(run(handle))
    print("ready", flush=True)
    clock = time.perf_counter
    for line in sys.stdin:
        n = int(line)
        if n <= 0:
            break
        times = []
        for _ in range(n):
            t0 = clock()
            st = run(handle)
            times.append((clock() - t0) * 1e3)
            _lib.check(st)
        print(json.dumps(times), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
