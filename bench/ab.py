#!/usr/bin/python3
"""nnlink against itself, interleaved: two builds, two files or two settings.

usage: /usr/bin/python3 bench/ab.py FILE.nnl [--file-b B.nnl] [--lib-a A.so] [--lib-b B.so]
           [--env-b NAME=VALUE]... [--input NAME=X.npy]... [--threads T] [--turns N]
           [--batch-ms MS] [--quiet-ms MS]

Side A runs FILE.nnl on --lib-a, side B runs --file-b (default FILE.nnl) on
--lib-b (both default build/libnnlink.so) with --env-b added to its
environment (NNL_ISA=avx2, say).  Each side keeps one session open in a
process of its own (bench/nnl_serve.py) and the two take N turns (default
20), in alternating order, each a batch of runs lasting about --batch-ms
(40) after --quiet-ms (150) of quiet, as `bench/run.sh --broad --interleave`
does against ONNX Runtime.  Prints each side's median over turns of the
batch medians and the paired ratio B / A (median of the turns' own ratios,
with its quartiles): on a host whose slow spells last seconds, batches tens
of milliseconds apart see the same host.  Every graph input must be given
with --input (unlike `nnlink profile`, nothing is generated).

Copy the library before rebuilding it: `cp build/libnnlink.so /tmp/old.so;
(edit, make build/libnnlink.so); bench/ab.py F.nnl --lib-a /tmp/old.so`.
"""
import json
import os
import sys
import time

import numpy as np

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
import broad  # noqa: E402  (nnl_server)


def usage(msg):
    sys.stderr.write("bench/ab.py: %s (see --help)\n" % msg)
    return 2


def main(argv):
    lib_default = os.path.join(REPO, "build", "libnnlink.so")
    o = {"file_b": None, "lib_a": lib_default, "lib_b": lib_default, "env_b": {}, "inputs": [], "threads": 1,
         "turns": 20, "batch_ms": 40.0, "quiet_ms": 150.0}
    files = []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("-h", "--help"):
            print(__doc__)
            return 0
        if a.startswith("--") and not args:
            return usage("%s needs a value" % a)
        if a == "--file-b":
            o["file_b"] = args.pop(0)
        elif a in ("--lib-a", "--lib-b"):
            o[a[2:].replace("-", "_")] = os.path.abspath(args.pop(0))
        elif a == "--env-b":
            k, eq, v = args.pop(0).partition("=")
            if not eq:
                return usage("--env-b takes NAME=VALUE")
            o["env_b"][k] = v
        elif a == "--input":
            o["inputs"].append(args.pop(0))
        elif a in ("--threads", "--turns"):
            o[a[2:]] = int(args.pop(0))
        elif a in ("--batch-ms", "--quiet-ms"):
            o[a[2:].replace("-", "_")] = float(args.pop(0))
        elif a.startswith("--"):
            return usage("unknown option %s" % a)
        else:
            files.append(a)
    if len(files) != 1:
        return usage("one FILE.nnl")
    if o["threads"] < 1 or o["turns"] < 1 or o["batch_ms"] <= 0 or o["quiet_ms"] < 0:
        return usage("threads, turns and batch must be positive")
    for lib in (o["lib_a"], o["lib_b"]):
        if not os.path.exists(lib):
            return usage("no library %s" % lib)
    sides = {"A": (files[0], o["lib_a"], {}), "B": (o["file_b"] or files[0], o["lib_b"], o["env_b"])}
    servers = {}
    try:
        for name, (f, lib, extra) in sides.items():
            servers[name] = broad.nnl_server(lib, f, o["threads"], 1, o["inputs"], extra, 600)
        probe = max(1e-3, float(np.median(servers["A"].batch(3))))
        batch = max(1, int(round(o["batch_ms"] / probe)))
        med = {"A": [], "B": []}
        for turn in range(o["turns"]):
            for name in ("A", "B") if turn % 2 == 0 else ("B", "A"):
                time.sleep(o["quiet_ms"] / 1e3)
                med[name].append(float(np.median(servers[name].batch(batch))))
    except (RuntimeError, OSError, ValueError) as ex:
        sys.stderr.write("bench/ab.py: %s\n" % ex)
        return 1
    finally:
        for s in servers.values():
            s.close()
    r = np.array(med["B"]) / np.array(med["A"])
    q1, q2, q3 = np.percentile(r, [25, 50, 75])
    print("A %s on %s: %.4f ms" % (sides["A"][0], sides["A"][1], float(np.median(med["A"]))))
    print("B %s on %s%s: %.4f ms" % (sides["B"][0], sides["B"][1],
                                      "".join(" %s=%s" % kv for kv in o["env_b"].items()), float(np.median(med["B"]))))
    print("B / A paired over %d turns of %d run(s), %d thread(s): %.3f (quartiles %.3f - %.3f)" % (
        o["turns"], batch, o["threads"], q2, q1, q3))
    print(json.dumps({"a_ms": med["A"], "b_ms": med["B"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
