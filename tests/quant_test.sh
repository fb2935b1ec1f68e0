#!/usr/bin/env bash
# `nnlink quantize` from the command line: the written model compiles at
# both tinyseg shapes and runs like ONNX Runtime did on the committed QDQ
# model (tests/fixtures/quant, see tools/quant_fixture.py), and bad
# arguments or calibration data fail with a message naming the problem, a
# non-zero exit and no output file.
# usage: tests/quant_test.sh [path/to/nnlink]
set -u
cd "$(dirname "$0")/.."
NNL=$(realpath "${1:-build/nnlink}")
PY=${PYTHON:-/usr/bin/python3}
FX=tests/fixtures
Q=$FX/quant
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# NNL_RUNNER (e.g. qemu-aarch64 for a cross build): NNL becomes a wrapper.
if [ -n "${NNL_RUNNER:-}" ]; then
    printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$NNL_RUNNER" "$NNL" >"$T/nnlink-runner"
    chmod +x "$T/nnlink-runner"
    NNL=$T/nnlink-runner
fi
pass=0 fail=0

# check NAME RC PATTERN CMD...: exit status RC (or any failure, not a
# signal, for RC "err"), PATTERN in stdout+stderr, and for failures no
# $T/q.onnx left behind.
check() {
    local n=$1 want=$2 pat=$3; shift 3
    rm -f "$T/q.onnx"
    "$@" >"$T/log" 2>&1; local rc=$?
    local good=1
    if [ "$want" = err ]; then
        { [ $rc -ne 0 ] && [ $rc -lt 128 ] && [ ! -e "$T/q.onnx" ]; } || good=0
    else
        [ $rc -eq "$want" ] || good=0
    fi
    grep -qiE -- "$pat" "$T/log" || good=0
    if [ $good = 1 ]; then pass=$((pass + 1)); echo "ok   $n"
    else fail=$((fail + 1)); echo "FAIL $n (rc=$rc)"; sed 's/^/     /' "$T/log" | head -5; fi
}

M=$FX/tinyseg/model.onnx
check "quantize tinyseg" 0 "14 weights int8, 14 biases int32" "$NNL" quantize $M -o "$T/q.onnx" --calibration image=$Q/calib.npy
cp "$T/q.onnx" "$T/good.onnx"
for c in landscape:1,3,64,96 portrait:1,3,96,64; do
    name=${c%%:*}
    check "compile the QDQ model at $name" 0 "compiled" "$NNL" compile "$T/good.onnx" --input image=${c#*:} -o "$T/$name.nnl"
    check "its 14 convs run in integers (PACK_Q8 weights)" 0 "^14$" "$PY" -c "import json,sys; print(sum(w['layout'] == 'pack_q8' and w['dtype'] == 'int8' for w in json.load(open(sys.argv[1]))['weights']))" <("$NNL" info --json "$T/$name.nnl")
    check "run it at $name" 0 "" "$NNL" run "$T/$name.nnl" --input image=$FX/tinyseg/$name.image.npy -o "$T/$name"
    check "$name output matches ONNX Runtime's" 0 "" "$PY" tools/npycmp.py "$T/$name/out.npy" $Q/$name.ort.npy 3e-2
done
check "quantize --method mse --activations int8" 0 "activations int8" "$NNL" quantize $M -o "$T/q.onnx" --calibration image=$Q/calib.npy --method mse --activations int8 --weights int8
# uint8 and int8 activations over the same int8 weights: the 14 PACK_Q8
# weights (values and scales inside) are stored once, the activations'
# zero points are not, and the link's text output says why
check "compile the int8-activation model" 0 "compiled" "$NNL" compile $Q/model.qdq_s8.onnx --graph s8 --input image=1,3,64,96 -o "$T/s8.nnl"
check "link uint8 and int8 graphs: the int8 weights shared" 0 "not shared: image_zero_point from .*landscape.nnl: dtype differs \(uint8 vs int8\)" "$NNL" link "$T/landscape.nnl:u8" "$T/s8.nnl" -o "$T/us.nnl" --report "$T/us.json"
check "14 PACK_Q8 weights stored once for both graphs" 0 "^14$" "$PY" -c "import json,sys; print(len({w['name'] for w in json.load(open(sys.argv[1]))['weights'] if w['layout'] == 'pack_q8' and w['shared'] and w['graphs'] == ['u8', 's8']}))" "$T/us.json"
# 7-bit weights: ONNX Runtime's output of the committed int7 model
check "quantize --weights int7" 0 "14 weights int7 \(in int8\)" "$NNL" quantize $M -o "$T/q7.onnx" --calibration image=$Q/calib.npy --weights int7
check "compile the int7 model" 0 "compiled" "$NNL" compile "$T/q7.onnx" --input image=1,3,64,96 -o "$T/l7.nnl"
check "run it" 0 "" "$NNL" run "$T/l7.nnl" --input image=$FX/tinyseg/landscape.image.npy -o "$T/l7"
check "int7 output matches ONNX Runtime's" 0 "" "$PY" tools/npycmp.py "$T/l7/out.npy" $Q/landscape.ort_w7.npy 3e-2

# bad calibration data, written by numpy
"$PY" - "$T" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
x = np.load("tests/fixtures/quant/calib.npy")
np.save(d + "/int.npy", x.astype(np.int64))
np.save(d + "/empty.npy", x[:0])
np.save(d + "/chan.npy", x[:, :, :2])
n = x.copy(); n[2, 0, 1, 5, 5] = np.nan; np.save(d + "/nan.npy", n)
n[2, 0, 1, 5, 5] = np.inf; np.save(d + "/inf.npy", n)
open(d + "/notnpy.npy", "w").write("hello")
PY
C="$NNL quantize $M -o $T/q.onnx"
check "missing calibration file" err "calibration data for 'image'.*$T/none.npy" $C --calibration image=$T/none.npy
check "not a .npy file" err "calibration data for 'image'.*(npy|magic|header)" $C --calibration image=$T/notnpy.npy
check "wrong input name" err "no input 'img' \(its inputs: 'image'\)" $C --calibration img=$Q/calib.npy
check "wrong dtype" err "is int64, the input is float32" $C --calibration image=$T/int.npy
check "empty" err "empty \(0 samples\)" $C --calibration image=$T/empty.npy
check "wrong shape" err "8 samples of 1x2x32x32, but the input is 1x3x" $C --calibration image=$T/chan.npy
check "NaN" err "holds NaN \(sample 2\)" $C --calibration image=$T/nan.npy
check "infinity" err "holds an infinite value \(sample 2\)" $C --calibration image=$T/inf.npy
check "--input differs from the samples" err "but --input gives 1x3x64x96" $C --calibration image=$Q/calib.npy --input image=1,3,64,96
check "no calibration" 2 "no calibration data given" $C
check "bad method" 2 "expected minmax, percentile or mse" $C --calibration image=$Q/calib.npy --method median
check "int16 activations" 2 "expected uint8 or int8" $C --calibration image=$Q/calib.npy --activations int16
check "float16 weights" 2 "expected int8 or int7" $C --calibration image=$Q/calib.npy --weights float16
check "bad percentile" 2 "in \(0, 100\]" $C --calibration image=$Q/calib.npy --method percentile --percentile 101
check "model is not ONNX" err "not an ONNX model" "$NNL" quantize $Q/calib.npy -o "$T/q.onnx" --calibration image=$Q/calib.npy
check "already quantized" err "already quantized \(node '.*' is DequantizeLinear\)" "$NNL" quantize $Q/model.qdq.onnx -o "$T/q.onnx" --calibration image=$Q/calib.npy
check "old opset with Unsqueeze" err "opset 11.*Unsqueeze" "$NNL" quantize $FX/tinyseg_op11/model.onnx -o "$T/q.onnx" --calibration image=$Q/calib.npy
echo old >"$T/q.onnx"
"$NNL" quantize $M -o "$T/q.onnx" --calibration image=$T/nan.npy >/dev/null 2>&1
if [ "$(cat "$T/q.onnx")" = old ]; then pass=$((pass + 1)); echo "ok   failed quantize leaves the output untouched"
else fail=$((fail + 1)); echo "FAIL failed quantize leaves the output untouched"; fi
check "quantize --help" 0 "QDQ" "$NNL" quantize --help
echo
echo "quant: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
