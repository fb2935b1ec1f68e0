#!/usr/bin/env bash
# CLI contract and error tests on committed PyTorch fixtures.
# usage: tests/cli_test.sh [path/to/nnlink]
set -u
cd "$(dirname "$0")/.."
NNL=$(realpath "${1:-build/nnlink}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# NNL_RUNNER (e.g. qemu-aarch64 for a cross build): NNL becomes a wrapper.
if [ -n "${NNL_RUNNER:-}" ]; then
    printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$NNL_RUNNER" "$NNL" >"$T/nnlink-runner"
    chmod +x "$T/nnlink-runner"
    NNL=$T/nnlink-runner
fi
export NNL_BIN="$NNL"
PY=${PYTHON:-/usr/bin/python3}
FX=tests/fixtures
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

# --- sharing on real exports ---------------------------------------------
# partial: one backbone, two heads -> only the heads are stored twice
expect_ok "compile twohead_a" "$NNL" compile $FX/twohead/twohead_a.onnx --graph seg --input image=1,3,64,64 -o "$T/ha.nnl"
expect_ok "compile twohead_b" "$NNL" compile $FX/twohead/twohead_b.onnx --graph cls --input image=1,3,64,64 -o "$T/hb.nnl"
expect_ok "link two heads" "$NNL" link "$T/ha.nnl" "$T/hb.nnl" -o "$T/heads.nnl" --report "$T/heads.json"
if "$PY" - "$T/heads.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
shared = {w["name"] for w in r["weights"] if w["shared"]}
alone = {w["name"] for w in r["weights"] if not w["shared"]}
assert any(n.startswith("backbone.") for n in shared), shared
assert not any(n.startswith("backbone.") for n in alone), alone
assert any(n.startswith("head") or "classifier" in n or "fc" in n for n in alone), alone
PY
then ok "partial sharing: backbone shared, heads stored per graph"; else bad "partial sharing"; fi
expect_ok "run linked seg head" "$NNL" run "$T/heads.nnl" --graph seg --input image=$FX/twohead/twohead_a.image.npy -o "$T/hs"
if cmp_npy "$T/hs/out.npy" $FX/twohead/twohead_a.out.npy; then ok "seg head matches PyTorch"; else bad "seg head matches PyTorch"; fi
expect_ok "run linked cls head" "$NNL" run "$T/heads.nnl" --graph cls --input image=$FX/twohead/twohead_b.image.npy -o "$T/hc"
if cmp_npy "$T/hc/logits.npy" $FX/twohead/twohead_b.logits.npy; then ok "cls head matches PyTorch"; else bad "cls head matches PyTorch"; fi
# no wrong sharing: two trainings, same names, different values
expect_ok "compile tinyseg_b" "$NNL" compile $FX/tinyseg_b/model.onnx --graph other --input image=1,3,64,96 -o "$T/b.nnl"
expect_ok "link two trainings" "$NNL" link "$T/l.nnl" "$T/b.nnl" -o "$T/two.nnl" --report "$T/two.json"
if "$PY" - "$T/two.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["summary"]["bytes_saved"] < 1000, r["summary"]
reasons = [w.get("reason") or "" for w in r["weights"]]
assert sum("bytes differ at offset" in x for x in reasons) >= 10, reasons
PY
then ok "same names, different bytes: nothing shared, report says bytes differ"; else bad "no wrong sharing report"; fi
expect_ok "run training a from linked" "$NNL" run "$T/two.nnl" --graph landscape --input image=$FX/tinyseg/landscape.image.npy -o "$T/ta"
if cmp_npy "$T/ta/out.npy" $FX/tinyseg/landscape.out.npy; then ok "training a matches its PyTorch output"; else bad "training a"; fi
expect_ok "run training b from linked" "$NNL" run "$T/two.nnl" --graph other --input image=$FX/tinyseg_b/landscape.image.npy -o "$T/tb"
if cmp_npy "$T/tb/out.npy" $FX/tinyseg_b/landscape.out.npy; then ok "training b matches its PyTorch output"; else bad "training b"; fi
# --share content shares identical weights under other names; the default does not
expect_ok "compile renamed" "$NNL" compile $FX/tinyseg_renamed/model.onnx --graph renamed --input image=1,3,64,96 -o "$T/rn.nnl"
expect_ok "link renamed (default)" "$NNL" link "$T/l.nnl" "$T/rn.nnl" -o "$T/rn1.nnl" --report "$T/rn1.json"
expect_ok "link renamed (content)" "$NNL" link "$T/l.nnl" "$T/rn.nnl" -o "$T/rn2.nnl" --share content
expect_ok "link none" "$NNL" link "$T/l.nnl" "$T/p.nnl" -o "$T/none.nnl" --share none
if "$PY" - "$NNL" "$T" <<'PY'
import json, subprocess, sys
nnl, t = sys.argv[1], sys.argv[2]
info = lambda f: json.loads(subprocess.check_output([nnl, "info", "--json", f]))
single = info(t + "/l.nnl")["weight_bytes"]
assert info(t + "/rn1.nnl")["weight_bytes"] > 1.9 * single
assert info(t + "/rn2.nnl")["weight_bytes"] <= 1.01 * single
assert info(t + "/none.nnl")["weight_bytes"] > 1.9 * single
r = json.load(open(t + "/rn1.json"))
assert any("different name" in (w.get("reason") or "") for w in r["weights"]), "report names content matches"
PY
then ok "content mode shares renamed weights; name+content and none do not"; else bad "share modes"; fi
expect_ok "run content-shared graph" "$NNL" run "$T/rn2.nnl" --graph renamed --input image=$FX/tinyseg/landscape.image.npy -o "$T/rr"
if cmp -s "$T/rr/out.npy" "$T/rl/out.npy"; then ok "content-shared graph bit-identical"; else bad "content-shared graph bit-identical"; fi
# link-time refusals: another target, another version
"$PY" tests/nnl_patch.py "$T/l.nnl" "$T/other_target.nnl" --target armv9z
"$PY" tests/nnl_patch.py "$T/l.nnl" "$T/other_version.nnl" --format-version 2
"$PY" tests/nnl_patch.py "$T/l.nnl" "$T/other_layout.nnl" --layout-version 7
# info and verify describe a file made elsewhere (and say it cannot run
# here); run refuses it
expect_ok "info on another layout version" "$NNL" info "$T/other_layout.nnl"
if grep -q "cannot run here: weight layout version 7" "$T/out" && grep -q "graph 'landscape'" "$T/out"; then
    ok "info names why another layout's file cannot run"; else bad "info names why another layout's file cannot run"; fi
expect_ok "info --json on another target" "$NNL" info --json "$T/other_target.nnl"
if "$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['runnable'] is False and 'armv9z' in j['not_runnable_because'] and j['graphs']" "$T/out"; then
    ok "info --json: runnable false, reason"; else bad "info --json: runnable false, reason"; fi
expect_ok "verify another target's file" "$NNL" verify "$T/other_target.nnl"
expect_err "run on another layout version" "layout version 7" "$NNL" run "$T/other_layout.nnl" --input image=$FX/tinyseg/landscape.image.npy -o "$T/x"
expect_err "refuse other target at link" "target" "$NNL" link "$T/l.nnl" "$T/other_target.nnl:o=x" -o "$T/x.nnl"
expect_err "refuse other version at link" "format version" "$NNL" link "$T/l.nnl" "$T/other_version.nnl:o=x" -o "$T/x.nnl"
expect_err "refuse other layout at link" "layout" "$NNL" link "$T/l.nnl" "$T/other_layout.nnl:o=x" -o "$T/x.nnl"
expect_err "refuse other target at run" "target" "$NNL" run "$T/other_target.nnl" --input image=$FX/tinyseg/landscape.image.npy -o "$T/x"

# --- the LLM case: prefill + decode over one set of weights ---------------
G=$FX/gpt
gin() { for n in input_ids position_ids past_k_0 past_v_0 past_k_1 past_v_1; do printf -- '--input %s=%s ' $n "$1.$n.npy"; done; }
expect_ok "compile prefill" "$NNL" compile $G/prefill.onnx --graph prefill -o "$T/pre.nnl"
expect_ok "compile decode" "$NNL" compile $G/decode.onnx --graph decode -o "$T/dec.nnl"
expect_ok "link prefill+decode" "$NNL" link "$T/pre.nnl" "$T/dec.nnl" -o "$T/gpt.nnl" --default decode
expect_ok "run prefill (linked)" "$NNL" run "$T/gpt.nnl" --graph prefill $(gin $G/prefill) -o "$T/gp"
expect_ok "run decode (linked, default graph)" "$NNL" run "$T/gpt.nnl" $(gin $G/decode) -o "$T/gd"
# decode again, fed with OUR prefill's cache instead of PyTorch's
expect_ok "decode on nnlink's own cache" "$NNL" run "$T/gpt.nnl" --graph decode --input input_ids=$G/decode.input_ids.npy \
    --input position_ids=$G/decode.position_ids.npy --input past_k_0="$T/gp/present_k_0.npy" --input past_v_0="$T/gp/present_v_0.npy" \
    --input past_k_1="$T/gp/present_k_1.npy" --input past_v_1="$T/gp/present_v_1.npy" -o "$T/gd2"
allok=1
for o in logits present_k_0 present_v_0 present_k_1 present_v_1; do
    cmp_npy "$T/gp/$o.npy" $G/prefill.$o.npy || allok=0
    cmp_npy "$T/gd/$o.npy" $G/decode.$o.npy || allok=0
done
cmp_npy "$T/gd2/logits.npy" $G/decode.logits.npy || allok=0
[ $allok = 1 ] && ok "prefill and decode match PyTorch (also chained)" || bad "prefill and decode match PyTorch"
if "$PY" - "$NNL" "$T" <<'PY'
import json, subprocess, sys
nnl, t = sys.argv[1], sys.argv[2]
info = lambda f: json.loads(subprocess.check_output([nnl, "info", "--json", f]))
one = max(info(t + "/pre.nnl")["weight_bytes"], info(t + "/dec.nnl")["weight_bytes"])
both = info(t + "/gpt.nnl")
assert both["weight_bytes"] <= 1.01 * one, (both["weight_bytes"], one)
assert both["default_graph"] == "decode"
PY
then ok "prefill+decode store one copy of the weights"; else bad "prefill+decode sharing"; fi

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
expect_err "missing .nnl" "cannot open|no such" "$NNL" info "$T/missing.nnl"
head -c 1000 "$T/l.nnl" > "$T/trunc.nnl"
expect_err "truncated file" "truncat|format|corrupt|smaller|beyond|outside" "$NNL" info "$T/trunc.nnl"
cp "$T/l.nnl" "$T/flip.nnl"; printf '\xff\xff\xff\xff' | dd of="$T/flip.nnl" bs=1 seek=200 conv=notrunc 2>/dev/null
expect_ok "verify" "$NNL" verify "$T/l.nnl" "$T/lp.nnl"
cp "$T/l.nnl" "$T/wflip.nnl"; sz=$(stat -c %s "$T/wflip.nnl"); printf '\x55' | dd of="$T/wflip.nnl" bs=1 seek=$((sz - 100)) conv=notrunc 2>/dev/null
expect_err "verify finds a damaged weight" "checksum|corrupt|differ|damaged" "$NNL" verify "$T/wflip.nnl"
expect_err "corrupt metadata" "checksum|corrupt|format" "$NNL" info "$T/flip.nnl"
expect_err "ONNX given to run" "compile" "$NNL" run $FX/tinyseg/model.onnx --input image=$FX/tinyseg/landscape.image.npy -o "$T/x"
expect_err "unwritable output folder (compile)" "$T/nodir|no such|cannot" "$NNL" compile $FX/tinyseg/model.onnx --input image=1,3,64,96 -o "$T/nodir/x.nnl"
expect_err "unwritable output folder (link)" "$T/nodir|no such|cannot" "$NNL" link "$T/l.nnl" -o "$T/nodir/x.nnl"
touch "$T/afile"
expect_err "run output folder is a file" "afile|cannot|exists" "$NNL" run "$T/l.nnl" --input image=$FX/tinyseg/landscape.image.npy -o "$T/afile"
expect_err "bad --input syntax" "expected NAME=D0" "$NNL" compile $FX/tinyseg/model.onnx --input image=1,x,64 -o "$T/x.nnl"
expect_err "unknown command" "unknown command" "$NNL" frobnicate
for c in compile run info link extract profile verify; do expect_ok "$c --help" "$NNL" $c --help; done

# --- float16 weights (compile --weights fp16) -----------------------------
# fp16-all: every weight float16 (fp16 keeps the first tenth of the bytes float32)
expect_ok "compile landscape fp16" "$NNL" compile $FX/tinyseg/model.onnx --graph landscape --input image=1,3,64,96 --weights fp16-all -o "$T/l16.nnl"
expect_ok "compile portrait fp16" "$NNL" compile $FX/tinyseg/model.onnx --graph portrait --input image=1,3,96,64 --weights fp16-all -o "$T/p16.nnl"
expect_ok "info fp16" "$NNL" info --weights "$T/l16.nnl"
if grep -q "float16.*pack_a8" "$T/out"; then ok "info lists float16 packed weights"; else bad "info lists float16 packed weights"; fi
expect_ok "run fp16 landscape" "$NNL" run "$T/l16.nnl" --input image=$FX/tinyseg/landscape.image.npy -o "$T/r16"
if cmp_npy "$T/r16/out.npy" $FX/tinyseg/landscape.out.npy 5e-3; then ok "fp16 landscape within 5e-3 of PyTorch"; else bad "fp16 landscape within 5e-3 of PyTorch"; fi
expect_ok "link fp16 graphs" "$NNL" link "$T/l16.nnl" "$T/p16.nnl" -o "$T/lp16.nnl" --report "$T/lp16.json"
expect_ok "run linked fp16 portrait" "$NNL" run "$T/lp16.nnl" --graph portrait --input image=$FX/tinyseg/portrait.image.npy -o "$T/rp16"
if cmp_npy "$T/rp16/out.npy" $FX/tinyseg/portrait.out.npy 5e-3; then ok "linked fp16 portrait within 5e-3 of PyTorch"; else bad "linked fp16 portrait within 5e-3 of PyTorch"; fi
# an fp16 and an fp32 compile of the same weights: not shared, and the report says why
expect_ok "link fp32 landscape with fp16 portrait" "$NNL" link "$T/l.nnl" "$T/p16.nnl" -o "$T/mixed.nnl" --report "$T/mixed.json"
if "$PY" - "$T" <<'PY'
import json, os, subprocess, sys
t = sys.argv[1]
wbytes = lambda f: json.loads(subprocess.run([os.environ["NNL_BIN"], "info", "--json", os.path.join(t, f)],
                                             capture_output=True, check=True).stdout)["weight_bytes"]
# float16: about half the weight bytes (biases stay float32); the two fp16
# graphs link into one copy (plus the few small constants of their shapes)
assert wbytes("l16.nnl") < 0.55 * wbytes("l.nnl"), (wbytes("l16.nnl"), wbytes("l.nnl"))
assert wbytes("lp16.nnl") < 1.01 * wbytes("l16.nnl"), (wbytes("lp16.nnl"), wbytes("l16.nnl"))
r = json.load(open(os.path.join(t, "lp16.json")))
half = [w for w in r["weights"] if w["dtype"] == "float16"]
assert half and all(len(w["graphs"]) == 2 for w in half), "every float16 weight serves both graphs"
m = json.load(open(os.path.join(t, "mixed.json")))
diff = [w for w in m["weights"] if w["dtype"] == "float16"]
assert diff and all(not w["shared"] and w["reason"] == "dtype differs (float16 vs float32)" for w in diff), diff[:2]
PY
then ok "fp16 weights share by their float16 bytes; fp16 and fp32 do not, reason: dtype"; else bad "fp16 sharing and its report"; fi
expect_err "bad --weights" "expected fp32, fp16 or fp16-all" "$NNL" compile $FX/tinyseg/model.onnx --input image=1,3,64,96 --weights int4 -o "$T/x.nnl"
# a float16 weight whose record claims float32 (and the reverse): sizes no longer fit, refused on open
"$PY" tests/nnl_patch.py "$T/l16.nnl" "$T/h_as_f.nnl" --weight-dtype 0:1
"$PY" tests/nnl_patch.py "$T/l.nnl" "$T/f_as_h.nnl" --weight-dtype 0:10
expect_err "float16 weight claimed float32" "bytes, its shape needs" "$NNL" info "$T/h_as_f.nnl"
expect_err "float32 weight claimed float16" "bytes, its shape needs" "$NNL" run "$T/f_as_h.nnl" --input image=$FX/tinyseg/landscape.image.npy -o "$T/x"
# a weight float16 cannot hold is a compile error naming it, not infinities
"$PY" - "$T/big.onnx" <<'PY'
import sys
import numpy as np
from onnx import helper, numpy_helper, TensorProto
w = np.full((8, 4, 1, 1), 0.5, np.float32)
w[3, 2, 0, 0] = 1e5
g = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"])], "big",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 5, 5])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 5, 5])],
                      [numpy_helper.from_array(w, "w")])
open(sys.argv[1], "wb").write(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
PY
expect_err "weight beyond float16's range" "weight 'w' holds 100000.*beyond float16's range" "$NNL" compile "$T/big.onnx" --weights fp16-all -o "$T/big.nnl"
if [ ! -e "$T/big.nnl" ]; then ok "no output after the range error"; else bad "no output after the range error"; fi
expect_ok "the same weight compiles as fp32" "$NNL" compile "$T/big.onnx" -o "$T/big.nnl"

# --- names from hostile files: escape sequences, control bytes, invalid UTF-8
mkdir -p "$T/hostile"
if "$PY" tests/hostile_names.py "$NNL" "$T/hostile" >"$T/err" 2>&1; then ok "hostile names are escaped in every message"
else bad "hostile names are escaped in every message"; grep -A3 '^FAIL' "$T/err" | head -40; fi

# --- fusion: torch's gated activations become conv epilogues --------------
# mobilenet_v3_small exported at opset 13 spells hardswish HardSigmoid(1/6,
# 0.5) + Mul, its SE gate a HardSigmoid after a Conv and its SE scale a Mul
# read by a 1x1 conv: none may be left as a layer of its own, and the output
# must still match PyTorch.
M3=$FX/mobilenet_v3_small
if "$NNL" compile $M3/model.onnx -o "$T/m3.nnl" >"$T/out" 2>"$T/err" &&
   "$NNL" profile "$T/m3.nnl" --runs 1 --warmup 0 --threads 1 --input image=$M3/default.image.npy --json "$T/m3.json" >"$T/out" 2>"$T/err" &&
   "$PY" - "$T/m3.json" >"$T/err" 2>&1 <<'PY'
import json, sys
ops = set(json.load(open(sys.argv[1]))["op_types"])
left = ops & {"HardSigmoid", "HardSwish", "Sigmoid", "Mul"}
assert not left, "not fused: %s" % sorted(left)
PY
then ok "hardswish, SE gates and SE scales fused into convs"; else bad "hardswish, SE gates and SE scales fused into convs"; fi
expect_ok "run the fused mobilenet_v3_small" "$NNL" run "$T/m3.nnl" --input image=$M3/default.image.npy -o "$T/m3"
cmp_npy "$T/m3/logits.npy" $M3/default.logits.npy 1e-3 && ok "fused mobilenet_v3_small matches PyTorch" || bad "fused mobilenet_v3_small matches PyTorch"

echo
echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
