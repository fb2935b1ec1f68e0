#!/usr/bin/env bash
# One .nnl file for every CPU (docs/FORMAT.md "Portability"): files compiled
# and linked by the native nnlink run under the ARM64 one and the reverse,
# and every output is compared with PyTorch's (tests/fixtures) and with the
# other machine's output of the same file.
# usage: tests/cross_test.sh NATIVE_NNLINK ARM64_NNLINK
# The ARM64 binary runs through NNL_RUNNER (default: qemu-aarch64 with the
# cross sysroot), as `make TARGET=aarch64 test` does it.
set -u
cd "$(dirname "$0")/.."
X86=$(realpath "${1:-build/nnlink}")
ARM_BIN=$(realpath "${2:-build-aarch64/nnlink}")
RUNNER=${NNL_RUNNER:-qemu-aarch64 -L /usr/aarch64-linux-gnu}
PY=${PYTHON:-/usr/bin/python3}
FX=tests/fixtures
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$T/err" ] && sed 's/^/     /' "$T/err" | head -5; }
arm() { $RUNNER "$ARM_BIN" "$@"; }
x86() { "$X86" "$@"; }
# check NAME CMD...: exit 0
check() { local n=$1; shift; if "$@" >"$T/out" 2>"$T/err"; then ok "$n"; else bad "$n"; fi; }
# PyTorch agreement at the fixtures' tolerance (tinyseg and gpt: rtol 1e-3)
cmp_ref() { "$PY" tools/npycmp.py "$1" "$2" "${3:-1e-3}" >"$T/err" 2>&1; }

file "$ARM_BIN" | grep -q "ARM aarch64" || { echo "$ARM_BIN is not an ARM64 binary"; exit 1; }
# (binfmt_misc would run an ARM64 "native" binary through qemu silently)
file "$X86" | grep -q "ARM aarch64" && { echo "$X86 is an ARM64 binary, not the native build"; exit 1; }
L=(--graph landscape --input image=1,3,64,96)
P=(--graph portrait --input image=1,3,96,64)

# run_tinyseg WHO FILE TAG: both graphs of a linked tinyseg file on WHO (x86 or
# arm), each output against PyTorch's
run_tinyseg() {
    local who=$1 f=$2 tag=$3 g
    for g in landscape portrait; do
        check "$tag: run $g on $who" $who run "$f" --graph $g --input image=$FX/tinyseg/$g.image.npy -o "$T/$tag.$who.$g"
        if cmp_ref "$T/$tag.$who.$g/out.npy" $FX/tinyseg/$g.out.npy; then ok "$tag: $g on $who matches PyTorch"
        else bad "$tag: $g on $who matches PyTorch"; fi
    done
}
# both machines' outputs of one file agree with each other as closely as
# with PyTorch
agree() {
    local tag=$1 g
    for g in landscape portrait; do
        if cmp_ref "$T/$tag.arm.$g/out.npy" "$T/$tag.x86.$g/out.npy" 1e-4; then ok "$tag: $g x86 == arm64 (1e-4)"
        else bad "$tag: $g x86 == arm64"; fi
    done
}

# --- compiled and linked on x86_64, run under qemu-aarch64 -----------------
check "x86: compile landscape" x86 compile $FX/tinyseg/model.onnx "${L[@]}" -o "$T/xl.nnl"
check "x86: compile portrait" x86 compile $FX/tinyseg/model.onnx "${P[@]}" -o "$T/xp.nnl"
check "x86: link landscape+portrait" x86 link "$T/xl.nnl" "$T/xp.nnl" -o "$T/x.nnl"
run_tinyseg arm "$T/x.nnl" x2a
run_tinyseg x86 "$T/x.nnl" x2a
agree x2a
for isa in neon scalar; do
    check "x86 file, NNL_ISA=$isa on arm64" env NNL_ISA=$isa $RUNNER "$ARM_BIN" run "$T/x.nnl" --graph portrait \
        --input image=$FX/tinyseg/portrait.image.npy -o "$T/isa.$isa"
    if cmp_ref "$T/isa.$isa/out.npy" $FX/tinyseg/portrait.out.npy; then ok "x86 file on arm64 $isa kernels matches PyTorch"
    else bad "x86 file on arm64 $isa kernels"; fi
done

# --- compiled and linked under qemu-aarch64, run on x86_64 -----------------
check "arm64: compile landscape" arm compile $FX/tinyseg/model.onnx "${L[@]}" -o "$T/al.nnl"
check "arm64: compile portrait" arm compile $FX/tinyseg/model.onnx "${P[@]}" -o "$T/ap.nnl"
check "arm64: link landscape+portrait" arm link "$T/al.nnl" "$T/ap.nnl" -o "$T/a.nnl"
run_tinyseg x86 "$T/a.nnl" a2x
run_tinyseg arm "$T/a.nnl" a2x
agree a2x
# the two compilers wrote the same file: nothing in it depends on the host
# (constant folding does not touch tinyseg's weights)
if cmp -s "$T/x.nnl" "$T/a.nnl"; then ok "x86 and arm64 link byte-identical files"; else bad "x86 and arm64 link byte-identical files"; fi

# --- one graph from each machine, linked on either ------------------------
check "link x86 landscape + arm64 portrait on arm64" arm link "$T/xl.nnl" "$T/ap.nnl" -o "$T/mix_a.nnl"
check "link arm64 landscape + x86 portrait on x86" x86 link "$T/al.nnl" "$T/xp.nnl" -o "$T/mix_x.nnl"
run_tinyseg x86 "$T/mix_a.nnl" mixa
run_tinyseg arm "$T/mix_x.nnl" mixx

# --- the LLM pair (dot-product path, GELU's erf): x86 link, arm64 run ----
G=$FX/gpt
gin() { for n in input_ids position_ids past_k_0 past_v_0 past_k_1 past_v_1; do printf -- '--input %s=%s ' $n "$1.$n.npy"; done; }
check "x86: compile prefill" x86 compile $G/prefill.onnx --graph prefill -o "$T/pre.nnl"
check "x86: compile decode" x86 compile $G/decode.onnx --graph decode -o "$T/dec.nnl"
check "x86: link prefill+decode" x86 link "$T/pre.nnl" "$T/dec.nnl" -o "$T/gpt.nnl"
check "arm64: run decode of x86 file" arm run "$T/gpt.nnl" --graph decode $(gin $G/decode) -o "$T/gd"
check "arm64: run prefill of x86 file" arm run "$T/gpt.nnl" --graph prefill $(gin $G/prefill) -o "$T/gp"
allok=1
for o in logits present_k_0 present_v_0 present_k_1 present_v_1; do
    cmp_ref "$T/gd/$o.npy" $G/decode.$o.npy || allok=0
    cmp_ref "$T/gp/$o.npy" $G/prefill.$o.npy || allok=0
done
[ $allok = 1 ] && ok "gpt prefill+decode (x86 file) on arm64 match PyTorch" || bad "gpt on arm64 matches PyTorch"

# --- older files name the compiling host; both still run everywhere --------
"$PY" tests/nnl_patch.py "$T/xl.nnl" "$T/old_xl.nnl" --target x86_64
"$PY" tests/nnl_patch.py "$T/ap.nnl" "$T/old_ap.nnl" --target aarch64
"$PY" tests/nnl_patch.py "$T/x.nnl" "$T/other.nnl" --target mips-be
check "old x86_64 file runs on arm64" arm run "$T/old_xl.nnl" --input image=$FX/tinyseg/landscape.image.npy -o "$T/oxl"
if cmp_ref "$T/oxl/out.npy" $FX/tinyseg/landscape.out.npy; then ok "old x86_64 file on arm64 matches PyTorch"; else bad "old x86_64 file on arm64"; fi
check "old aarch64 file runs on x86" x86 run "$T/old_ap.nnl" --input image=$FX/tinyseg/portrait.image.npy -o "$T/oap"
if cmp_ref "$T/oap/out.npy" $FX/tinyseg/portrait.out.npy; then ok "old aarch64 file on x86 matches PyTorch"; else bad "old aarch64 file on x86"; fi
check "link an old x86_64 file with an old aarch64 one" x86 link "$T/old_xl.nnl" "$T/old_ap.nnl" -o "$T/old.nnl"
run_tinyseg arm "$T/old.nnl" old
check "info on the old-file link" x86 info --json "$T/old.nnl"
if "$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['target'] == 'portable-le' and j['runnable'] and 'aarch64' in j['runs_on'] and 'x86_64' in j['runs_on'], j['target']" "$T/out"
then ok "old x86_64 + aarch64 files link into a portable-le file"; else bad "old files link into a portable-le file"; fi
check "info (arm64) names the CPUs" arm info "$T/x.nnl"
if grep -q "runs on any little-endian CPU.*x86_64.*aarch64" "$T/out"; then ok "info says which CPUs run the file"
else bad "info says which CPUs run the file"; fi
# an unknown target is still refused, by both, naming it
for who in x86 arm; do
    $who run "$T/other.nnl" --graph portrait --input image=$FX/tinyseg/portrait.image.npy -o "$T/o" >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -q "target mips-be" "$T/err"; then ok "$who refuses target mips-be"
    else bad "$who refuses target mips-be (rc $rc)"; fi
done

echo "cross_test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
