#!/usr/bin/env bash
# nnlink against ONNX Runtime and PyTorch: builds nnlink (unless NNLINK names
# a binary), installs the ONNX Runtime npm package into bench/node_modules
# when missing, then runs bench/bench.py, which prints a table of
# nnlink / peer ratios and writes bench/results.json.
#
#   bench/run.sh                  # everything (~10 min on 2 cores)
#   bench/run.sh --quick          # 1 round, 2 runs: checks the plumbing
#   bench/run.sh --cases fcn,gpt  # a subset of fcn rss link gpt
#   bench/run.sh --broad          # ~31 graphs against ONNX Runtime at 1 and 2
#                                 # threads (bench/broad.py; --quick, --avx2,
#                                 # --only a,b; exports missing models first)
#   bench/run.sh --ops            # per op class, nnlink against ORT's own
#                                 # profiler (bench/ops.py)
#   bench/run.sh --int8           # int8 QDQ against nnlink float32 and ORT on
#                                 # the same QDQ file (bench/int8.py)
#
# Knobs (BENCH_THREADS, BENCH_RUNS, BENCH_ROUNDS, ...) are environment
# variables; see docs/BENCH.md or `bench/run.sh --help`.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
if [ -z "${NNLINK:-}" ]; then
    NNLINK=$BUILD/nnlink
    # A failed build leaves the peers to be measured alone.
    # bench_kernels reports the kernel set the library picks (--broad);
    # --broad --interleave runs the library from Python (bench/nnl_serve.py).
    if ! make BUILD="$BUILD" -j2 "$BUILD/nnlink" "$BUILD/libnnlink.so" "$BUILD/bench/bench_kernels" >"${TMPDIR:-/tmp}/nnlink-bench-make.log" 2>&1; then
        echo "bench: building nnlink failed (see ${TMPDIR:-/tmp}/nnlink-bench-make.log);" \
             "nnlink figures will be missing" >&2
    fi
fi
export NNLINK
DRIVER=bench/bench.py
if [ "${1:-}" = --broad ] || [ "${1:-}" = --ops ] || [ "${1:-}" = --int8 ]; then
    DRIVER=bench/${1#--}.py
    [ "$1" = --int8 ] && export BENCH_WORK=${BENCH_WORK:-$BUILD/bench-int8}
    shift
    export BENCH_WORK=${BENCH_WORK:-$BUILD/bench-broad}
else
    export BENCH_WORK=${BENCH_WORK:-$BUILD/bench-run}
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "bench: node and npm are needed for ONNX Runtime (apt-get install nodejs npm)" >&2
    exit 1
fi
if [ ! -f bench/node_modules/onnxruntime-node/package.json ]; then
    # The CPU library ships inside the package: skip its install script,
    # which would try to download GPU providers.
    (cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts --no-audit --no-fund)
fi
if ! /usr/bin/python3 -c 'import torch, torchvision, onnx, numpy' 2>/dev/null; then
    echo "bench: Debian's python3-torch, python3-torchvision, python3-onnx and python3-numpy" \
         "are needed (tools/deps.sh --torch)" >&2
    exit 1
fi
exec /usr/bin/python3 "$DRIVER" "$@"
