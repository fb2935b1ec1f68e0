#!/usr/bin/env bash
# Runs every test: cmocka unit and end-to-end binaries, the CLI tests and the
# ONNX conformance runner.  usage: tests/run_all.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CONF=${NNL_CONFORMANCE:-../shared/onnx-conformance}
pass=0 fail=0
failed=()
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "== $t"
    if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=("$t"); fi
done
echo "== tests/cli_test.sh"
if tests/cli_test.sh "$BUILD/nnlink"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=(cli_test.sh); fi
if [ -d "$CONF/node" ]; then
    echo "== conformance: $CONF/node $CONF/simple"
    if "$BUILD/conformance" "$CONF/node" "$CONF/simple"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed+=(conformance); fi
else
    echo "== conformance cases not found at $CONF (set NNL_CONFORMANCE); skipped"
fi
echo
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "suites: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
