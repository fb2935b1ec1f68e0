#!/usr/bin/env bash
# CLI contract and error tests on committed PyTorch fixtures.
# usage: tests/cli_test.sh [path/to/nnlink]
set -u
cd "$(dirname "$0")/.."
NNL=$(realpath "${1:-build/nnlink}")
export NNL_BIN="$NNL"
PY=${PYTHON:-/usr/bin/python3}
FX=tests/fixtures
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0

ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$T/err" ] && sed 's/^/     /' "$T/err" | head -5; }
# expect_ok NAME CMD...: exit 0
expect_ok() { local n=$1; shift; if "$@" >"$T/out" 2>"$T/err"; then ok "$n"; else bad "$n"; fi; }
# expect_err NAME PATTERN CMD...: non-zero exit (not a signal) and PATTERN in stderr
expect_err() {
    local n=$1 pat=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; local rc=$?
    if [ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -qiE -- "$pat" "$T/err"; then ok "$n"; else echo "     rc=$rc"; bad "$n"; fi
}
cmp_npy() { "$PY" tools/npycmp.py "$1" "$2" "${3:-1e-4}" >"$T/err" 2>&1; }

# --- compile, info, run: the mission on the small network ----------------
expect_ok "compile landscape" "$NNL" compile $FX/tinyseg/model.onnx --graph landscape --input image=1,3,64,96 -o "$T/l.nnl"
expect_ok "compile portrait" "$NNL" compile $FX/tinyseg/model.onnx --graph portrait --input image=1,3,96,64 -o "$T/p.nnl"
expect_ok "info" "$NNL" info "$T/l.nnl"
if "$NNL" info --json "$T/l.nnl" >"$T/info.json" 2>"$T/err" && "$PY" - "$T/info.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
g = j["graphs"][0]
assert g["name"] == "landscape"
assert g["inputs"][0] == {"name": "image", "dtype": "float32", "shape": [1, 3, 64, 96]}, g["inputs"]
assert g["outputs"][0]["shape"][2:] == [64, 96]
assert j["weight_bytes"] > 0 and g["weight_bytes"] == j["weight_bytes"]
PY
then ok "info --json schema"; else bad "info --json schema"; fi
expect_ok "run landscape" "$NNL" run "$T/l.nnl" --input image=$FX/tinyseg/landscape.image.npy -o "$T/rl"
if cmp_npy "$T/rl/out.npy" $FX/tinyseg/landscape.out.npy; then ok "landscape matches PyTorch"; else bad "landscape matches PyTorch"; fi
expect_ok "run portrait" "$NNL" run "$T/p.nnl" --graph portrait --input image=$FX/tinyseg/portrait.image.npy -o "$T/rp"
if cmp_npy "$T/rp/out.npy" $FX/tinyseg/portrait.out.npy; then ok "portrait matches PyTorch"; else bad "portrait matches PyTorch"; fi

# --- link -----------------------------------------------------------------
expect_ok "link landscape+portrait" "$NNL" link "$T/l.nnl" "$T/p.nnl" -o "$T/lp.nnl" --report "$T/report.json"
if "$PY" - "$T/lp.nnl" "$T/l.nnl" "$T/report.json" <<'PY'
import json, os, subprocess, sys
info = json.loads(subprocess.check_output([os.environ.get("NNL_BIN", "build/nnlink"), "info", "--json", sys.argv[1]]))
single = json.loads(subprocess.check_output([os.environ.get("NNL_BIN", "build/nnlink"), "info", "--json", sys.argv[2]]))
assert [g["name"] for g in info["graphs"]] == ["landscape", "portrait"]
assert info["weight_bytes"] <= 1.01 * single["weight_bytes"], (info["weight_bytes"], single["weight_bytes"])
rep = json.load(open(sys.argv[3]))
assert rep["weights"], "report lists weights"
PY
then ok "linked file stores one copy of the weights"; else bad "linked file stores one copy of the weights"; fi
expect_ok "run linked portrait" "$NNL" run "$T/lp.nnl" --graph portrait --input image=$FX/tinyseg/portrait.image.npy -o "$T/lpp"
if cmp -s "$T/lpp/out.npy" "$T/rp/out.npy"; then ok "linked portrait bit-identical to single-graph file"; else bad "linked portrait bit-identical"; fi
expect_ok "run linked landscape" "$NNL" run "$T/lp.nnl" --graph landscape --input image=$FX/tinyseg/landscape.image.npy -o "$T/lpl"
if cmp -s "$T/lpl/out.npy" "$T/rl/out.npy"; then ok "linked landscape bit-identical to single-graph file"; else bad "linked landscape bit-identical"; fi
expect_err "run multi-graph without --graph lists names" "landscape.*portrait" "$NNL" run "$T/lp.nnl" --input image=$FX/tinyseg/portrait.image.npy -o "$T/x"
expect_err "unknown graph lists names" "no graph named 'square'.*landscape.*portrait" "$NNL" run "$T/lp.nnl" --graph square --input image=$FX/tinyseg/portrait.image.npy -o "$T/x"
expect_err "clashing graph names" "landscape" "$NNL" link "$T/l.nnl" "$T/l.nnl" -o "$T/clash.nnl"
[ ! -e "$T/clash.nnl" ] && ok "no output after a refused link" || bad "no output after a refused link"
expect_ok "rename on link" "$NNL" link "$T/l.nnl" "$T/l.nnl:landscape=wide" -o "$T/ren.nnl"
expect_err "ONNX given to link" "compile" "$NNL" link $FX/tinyseg/model.onnx "$T/p.nnl" -o "$T/x.nnl"
expect_ok "link with default" "$NNL" link "$T/l.nnl" "$T/p.nnl" --default portrait -o "$T/def.nnl"
expect_ok "run default graph" "$NNL" run "$T/def.nnl" --input image=$FX/tinyseg/portrait.image.npy -o "$T/rd"
expect_ok "extract" "$NNL" extract "$T/lp.nnl" --graph portrait -o "$T/ex.nnl"
expect_ok "run extracted" "$NNL" run "$T/ex.nnl" --input image=$FX/tinyseg/portrait.image.npy -o "$T/rex"
if cmp -s "$T/rex/out.npy" "$T/rp/out.npy"; then ok "extracted bit-identical"; else bad "extracted bit-identical"; fi

# --- profile --------------------------------------------------------------
expect_ok "profile portrait" "$NNL" profile "$T/lp.nnl" --graph portrait --runs 5 --json "$T/prof.json" --trace "$T/trace.json"
if "$PY" - "$T/prof.json" "$T/trace.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for k in ("graph", "load_ms", "latency_ms", "peak_rss_bytes", "layers"):
    assert k in j, k
assert j["graph"] == "portrait"
lat = j["latency_ms"]
assert lat["min"] <= lat["median"] <= lat["max"]
assert all({"name", "op", "ms"} <= set(l) for l in j["layers"])
total = sum(l["ms"] for l in j["layers"])
assert abs(total - lat["median"]) <= 0.1 * lat["median"] + 0.05, (total, lat["median"])
t = json.load(open(sys.argv[2]))
assert any(e.get("ph") == "X" for e in t["traceEvents"])
PY
then ok "profile JSON schema, layer times add up"; else bad "profile JSON schema"; fi
expect_ok "profile --all" "$NNL" profile "$T/lp.nnl" --all --runs 3
expect_err "profile multi-graph without --graph" "landscape.*portrait" "$NNL" profile "$T/lp.nnl" --runs 1

# --- bad input ------------------------------------------------------------
expect_err "unknown input name at compile" "no input 'picture'" "$NNL" compile $FX/tinyseg/model.onnx --input picture=1,3,64,64 -o "$T/x.nnl"
expect_err "dynamic dim unset" "dynamic" "$NNL" compile $FX/tinyseg/model.onnx -o "$T/x.nnl"
expect_err "rank mismatch" "rank" "$NNL" compile $FX/tinyseg/model.onnx --input image=1,3,64 -o "$T/x.nnl"
expect_err "fixed dim contradicted" "fixed to 3" "$NNL" compile $FX/tinyseg/model.onnx --input image=1,4,64,64 -o "$T/x.nnl"
expect_err "missing model file" "cannot open|no such" "$NNL" compile "$T/none.onnx" -o "$T/x.nnl"
expect_err "not an ONNX file" "not an ONNX" "$NNL" compile $FX/tinyseg/landscape.image.npy -o "$T/x.nnl"
[ ! -e "$T/x.nnl" ] && ok "no output after failed compiles" || bad "no output after failed compiles"
"$PY" -c "import numpy as np; np.save('$T/small.npy', np.zeros((1,3,32,32), np.float32)); np.save('$T/f64.npy', np.zeros((1,3,64,96)))"
expect_err "wrong input shape at run" "compiled for shape 1x3x64x96" "$NNL" run "$T/l.nnl" --input image="$T/small.npy" -o "$T/x"
expect_err "wrong input dtype at run" "float32.*float64" "$NNL" run "$T/l.nnl" --input image="$T/f64.npy" -o "$T/x"
expect_err "unknown input name at run" "no input 'picture'" "$NNL" run "$T/l.nnl" --input picture=$FX/tinyseg/landscape.image.npy -o "$T/x"
expect_err "missing input at run" "was not given" "$NNL" run "$T/l.nnl" -o "$T/x"
expect_err "missing .nnl" "cannot open|no such" "$NNL" info "$T/none.nnl"
head -c 1000 "$T/l.nnl" > "$T/trunc.nnl"
expect_err "truncated file" "truncat|format|corrupt|smaller|beyond|outside" "$NNL" info "$T/trunc.nnl"
cp "$T/l.nnl" "$T/flip.nnl"; printf '\xff\xff\xff\xff' | dd of="$T/flip.nnl" bs=1 seek=200 conv=notrunc 2>/dev/null
expect_ok "verify" "$NNL" verify "$T/l.nnl" "$T/lp.nnl"
cp "$T/l.nnl" "$T/wflip.nnl"; sz=$(stat -c %s "$T/wflip.nnl"); printf '\x55' | dd of="$T/wflip.nnl" bs=1 seek=$((sz - 100)) conv=notrunc 2>/dev/null
expect_err "verify finds a damaged weight" "checksum|corrupt|differ|damaged" "$NNL" verify "$T/wflip.nnl"
expect_err "corrupt metadata" "checksum|corrupt|format" "$NNL" info "$T/flip.nnl"
expect_err "ONNX given to run" "compile" "$NNL" run $FX/tinyseg/model.onnx --input image=$FX/tinyseg/landscape.image.npy -o "$T/x"
expect_err "unknown command" "unknown command" "$NNL" frobnicate
for c in compile run info link extract profile verify; do expect_ok "$c --help" "$NNL" $c --help; done

echo
echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
