#!/usr/bin/env bash
# Runs every test: cmocka unit and end-to-end binaries, the CLI tests and the
# ONNX conformance runner, then the kernel-dependent ones again on every
# other kernel set this CPU has.  usage: tests/run_all.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
# NNL_RUNNER prefixes every binary (make TARGET=aarch64 sets it to
# qemu-aarch64); the Python suite, which loads the library into this host's
# interpreter, is skipped then.
RUN=${NNL_RUNNER:-}
CONF=${NNL_CONFORMANCE:-../shared/onnx-conformance}
pass=0 fail=0
failed=()
# suite LABEL CMD...: run one suite and count it.
suite() {
    local label=$1; shift
    if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$label"); fi
}
# quiet CMD...: of CMD's output, the last line (the summary), or the last
# 40 when it fails: the reruns below would print pages otherwise.
quiet() {
    local log rc=0
    log=$(mktemp)
    "$@" >"$log" 2>&1 || rc=$?
    tail -n $((rc ? 40 : 1)) "$log"
    rm -f "$log"
    return $rc
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "== $t"
    suite "$t" $RUN "$t"
done
echo "== tests/cli_test.sh"
suite cli_test.sh tests/cli_test.sh "$BUILD/nnlink"
if [ -d "$CONF/node" ]; then
    echo "== conformance: $CONF/node $CONF/simple"
    suite conformance $RUN "$BUILD/conformance" "$CONF/node" "$CONF/simple"
else
    echo "== conformance cases not found at $CONF (set NNL_CONFORMANCE); skipped"
fi
# The same end-to-end fixtures and conformance cases with every eligible 3x3
# conv forced onto Winograd with on-the-fly weight transforms, and with it
# forced off: the automatic choice (nnl_wino_auto) takes either path on
# real networks, so both must match PyTorch and the ONNX references.
for mode in 1 0; do
    echo "== NNL_WINOGRAD=$mode: test_e2e and conformance"
    suite "test_e2e(NNL_WINOGRAD=$mode)" env NNL_WINOGRAD=$mode $RUN "$BUILD/tests/test_e2e" >/dev/null
    [ -d "$CONF/node" ] && suite "conformance(NNL_WINOGRAD=$mode)" quiet env NNL_WINOGRAD=$mode $RUN "$BUILD/conformance" "$CONF/node" "$CONF/simple"
done
# Every other kernel set this CPU has.  The runs above use the automatic
# choice (marked '*' by --list-isa); the op tests, the Winograd tests, the
# end-to-end fixtures and the conformance cases run again with each other
# set forced by NNL_ISA, and each binary fails if the set in use is not the
# one forced (tests/isa_check.h), so a missing set cannot pass as another.
# test_kernels runs every set itself.  The list comes from the kernel table,
# so a new set is tested here without editing this script.
if ! isas=$($RUN "$BUILD/tests/test_kernels" --list-isa) || [ -z "$isas" ]; then
    fail=$((fail + 1)); failed+=("test_kernels --list-isa")
    isas=""
fi
while read -r isa mark; do
    [ -n "$isa" ] && [ "$mark" != "*" ] || continue
    echo "== NNL_ISA=$isa: op tests, test_winograd, test_e2e, conformance"
    for t in "$BUILD"/tests/test_ops_* "$BUILD/tests/test_winograd" "$BUILD/tests/test_e2e"; do
        [ -x "$t" ] || continue
        printf '%-16s ' "$(basename "$t")"
        suite "$(basename "$t")(NNL_ISA=$isa)" quiet env NNL_ISA="$isa" $RUN "$t"
    done
    [ -d "$CONF/node" ] && suite "conformance(NNL_ISA=$isa)" quiet env NNL_ISA="$isa" $RUN "$BUILD/conformance" "$CONF/node" "$CONF/simple"
done <<<"$isas"
# ... and the check itself: forcing a set the CPU does not have must fail.
refused() { ! env NNL_ISA=no-such-set $RUN "$BUILD/tests/test_ops_tensor" >/dev/null 2>&1; }
echo "== NNL_ISA=no-such-set: test_ops_tensor must fail"
suite "NNL_ISA=no-such-set was not refused" refused
if [ -z "$RUN" ]; then
    # The Python package (python/nnlink) with pytest, on this build's library.
    # A sanitized library needs the ASan/UBSan runtimes preloaded into Python
    # (leak reports off: the interpreter keeps its memory at exit); the memory
    # and install tests skip themselves there.
    echo "== tests/python (pytest)"
    py_env=(NNLINK_LIBRARY="$PWD/$BUILD/libnnlink.so" NNLINK_BUILD="$BUILD")
    if nm -D "$BUILD/libnnlink.so" 2>/dev/null | grep -q __asan_init; then
        py_env+=(NNLINK_TEST_SANITIZED=1 ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
                 LD_PRELOAD="$(${CC:-cc} -print-file-name=libasan.so) $(${CC:-cc} -print-file-name=libubsan.so)")
    fi
    suite tests/python env "${py_env[@]}" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python
else
    echo "== tests/python skipped: the library is built for another CPU (NNL_RUNNER=$RUN)"
fi
# nnlink quantize from the command line (tests/quant_test.sh).
echo "== tests/quant_test.sh"
suite quant_test.sh tests/quant_test.sh "$BUILD/nnlink"
echo
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "suites: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
