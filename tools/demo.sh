#!/usr/bin/env bash
# The mission on a small network: one ONNX export with dynamic height and
# width (tests/fixtures/tinyseg, from tools/export_fixtures.py) compiled as
# `landscape` (1x3x64x96) and `portrait` (1x3x96x64), linked into one file
# whose weights are stored once, profiled and run as `portrait`, and checked
# against PyTorch's own outputs.
set -euo pipefail
cd "$(dirname "$0")/.."
NNL=build/nnlink
FX=tests/fixtures/tinyseg
OUT=${OUT:-out/demo}
mkdir -p "$OUT"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step $NNL compile $FX/model.onnx --graph landscape --input image=1,3,64,96 -o "$OUT/landscape.nnl"
step $NNL compile $FX/model.onnx --graph portrait --input image=1,3,96,64 -o "$OUT/portrait.nnl"
step $NNL link "$OUT/landscape.nnl" "$OUT/portrait.nnl" -o "$OUT/tinyseg.nnl" --report "$OUT/link-report.json"
step $NNL info "$OUT/tinyseg.nnl"
step $NNL profile "$OUT/tinyseg.nnl" --graph portrait --runs 20 --top 8
step $NNL run "$OUT/tinyseg.nnl" --graph portrait --input image=$FX/portrait.image.npy -o "$OUT/portrait"
step $NNL run "$OUT/tinyseg.nnl" --graph landscape --input image=$FX/landscape.image.npy -o "$OUT/landscape"
step ${PYTHON:-/usr/bin/python3} tools/npycmp.py "$OUT/portrait/out.npy" $FX/portrait.out.npy
step ${PYTHON:-/usr/bin/python3} tools/npycmp.py "$OUT/landscape/out.npy" $FX/landscape.out.npy
ls -l "$OUT"/*.nnl
