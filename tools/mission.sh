#!/usr/bin/env bash
# The mission, end to end on the real network: torchvision's FCN ResNet-50
# exported once with dynamic height and width, compiled as `landscape`
# (1x3x256x384) and `portrait` (1x3x384x256), linked into one file about the
# size of one copy of the weights, profiled and run as `portrait`, both graphs
# checked against PyTorch.  Needs the export (Debian's python3-torch,
# python3-torchvision, python3-onnx; done here when missing):
#   EXPORT=shared (default): ../shared/models/export_fcn_resnet50.py, the
#     issue's network (default BatchNorm statistics; outputs up to ~40),
#     checked at 1e-4 of the largest reference value;
#   EXPORT=reestimated: tools/export_fcn_resnet50.py, BatchNorm statistics
#     re-estimated on random batches (unit-scale outputs), a harder case:
#     PyTorch's own float32 answer is 1.0e-4 from float64 there, nnlink's
#     with Winograd layers up to 2.1e-4, so it is checked at 4e-4
#     (tools/fcn_float64_check.py measures why; README "The mission network").
# usage: [EXPORT=shared|reestimated] tools/mission.sh [MODELDIR] [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
EXPORT=${EXPORT:-shared}
case $EXPORT in
shared) EXPORTER=${SHARED:-../shared}/models/export_fcn_resnet50.py; MD=${1:-models/fcn-shared}; TOL=${TOL:-1e-4} ;;
reestimated) EXPORTER=tools/export_fcn_resnet50.py; MD=${1:-models/fcn}; TOL=${TOL:-4e-4} ;;
*) echo "EXPORT must be shared or reestimated" >&2; exit 2 ;;
esac
OUT=${2:-out/mission-$EXPORT}
NNL=build/nnlink
PY=${PYTHON:-/usr/bin/python3}
[ -x $NNL ] || make -j2 $NNL
[ -f "$MD/fcn_resnet50.onnx" ] || "$PY" "$EXPORTER" "$MD"
mkdir -p "$OUT"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step $NNL compile "$MD/fcn_resnet50.onnx" --graph landscape --input image=1,3,256,384 -o "$OUT/landscape.nnl"
step $NNL compile "$MD/fcn_resnet50.onnx" --graph portrait --input image=1,3,384,256 -o "$OUT/portrait.nnl"
step $NNL link "$OUT/landscape.nnl" "$OUT/portrait.nnl" -o "$OUT/fcn.nnl" --report "$OUT/link-report.json"
step $NNL info "$OUT/fcn.nnl"
ls -l "$MD/fcn_resnet50.onnx" "$OUT"/*.nnl
single=$(stat -c %s "$OUT/landscape.nnl"); linked=$(stat -c %s "$OUT/fcn.nnl")
echo "linked file / one single-graph file = $(echo "scale=4; $linked / $single" | bc)"
step $NNL profile "$OUT/fcn.nnl" --graph portrait --runs ${RUNS:-5} --warmup 1 --threads ${THREADS:-2} --json "$OUT/profile-portrait.json" --trace "$OUT/trace-portrait.json"
step $NNL profile "$OUT/fcn.nnl" --all --runs 2 --warmup 0 --threads ${THREADS:-2} --top 3 --json "$OUT/profile-all.json"
for g in portrait landscape; do
    step $NNL run "$OUT/fcn.nnl" --graph $g --input image="$MD/$g.image.npy" -o "$OUT/$g"
    step $NNL run "$OUT/$g.nnl" --input image="$MD/$g.image.npy" -o "$OUT/$g-single"
    cmp "$OUT/$g/out.npy" "$OUT/$g-single/out.npy" && echo "$g: linked output bit-identical to the single-graph file"
    step "$PY" tools/npycmp.py "$OUT/$g/out.npy" "$MD/$g.out.npy" "$TOL"
done
