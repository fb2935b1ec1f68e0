#!/usr/bin/env bash
# Runs every test: cmocka unit and end-to-end binaries, the CLI tests and the
# ONNX conformance runner.  usage: tests/run_all.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
# NNL_RUNNER prefixes every binary (make TARGET=aarch64 sets it to qemu-aarch64);
# NNL_ISAS lists the kernel sets forced below besides the automatic choice.
RUN=${NNL_RUNNER:-}
ISAS=${NNL_ISAS:-avx2 scalar}
CONF=${NNL_CONFORMANCE:-../shared/onnx-conformance}
pass=0 fail=0
failed=()
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "== $t"
    if $RUN "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$t"); fi
done
echo "== tests/cli_test.sh"
if tests/cli_test.sh "$BUILD/nnlink"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=(cli_test.sh); fi
if [ -d "$CONF/node" ]; then
    echo "== conformance: $CONF/node $CONF/simple"
    if $RUN "$BUILD/conformance" "$CONF/node" "$CONF/simple"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=(conformance); fi
else
    echo "== conformance cases not found at $CONF (set NNL_CONFORMANCE); skipped"
fi
# The same end-to-end fixtures and conformance cases with every eligible 3x3
# conv forced onto Winograd with on-the-fly weight transforms, and with it
# forced off: the automatic choice (nnl_wino_auto) takes either path on
# real networks, so both must match PyTorch and the ONNX references.
for mode in 1 0; do
    echo "== NNL_WINOGRAD=$mode: test_e2e and conformance"
    if NNL_WINOGRAD=$mode $RUN "$BUILD/tests/test_e2e" >/dev/null; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("test_e2e(NNL_WINOGRAD=$mode)"); fi
    if [ -d "$CONF/node" ]; then
        if (set -o pipefail; NNL_WINOGRAD=$mode $RUN "$BUILD/conformance" "$CONF/node" "$CONF/simple" | tail -1); then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("conformance(NNL_WINOGRAD=$mode)"); fi
    fi
done
# The end-to-end fixtures on every other kernel set this CPU has (the
# automatic choice takes the widest; NNL_ISA forces one).
for isa in $ISAS; do
    echo "== NNL_ISA=$isa: test_e2e"
    if NNL_ISA=$isa $RUN "$BUILD/tests/test_e2e" >/dev/null; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("test_e2e(NNL_ISA=$isa)"); fi
done
echo
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "suites: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
