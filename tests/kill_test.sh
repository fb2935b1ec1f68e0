#!/usr/bin/env bash
# Kill -9 real `nnlink compile` and `nnlink link` runs that write over an
# existing output, at many moments from start to finish.  After every kill
# the output name must hold either the old bytes (untouched) or the complete
# new file (the run had already renamed it): never a partial file.  Files
# left next to it must be temporaries named as such (".<name>.XXXXXX");
# they are counted and reported, anything else fails.
#
# usage: tests/kill_test.sh [path/to/nnlink]
# NNL_KILL_ROUNDS (default 24) kills per command; NNL_KILL_MB (default 48)
# size of the weight of the generated model, which sets how long the write
# takes (the longer, the more kills land inside it).
set -u
cd "$(dirname "$0")/.."
NNL=$(realpath "${1:-build/nnlink}")
ROUNDS=${NNL_KILL_ROUNDS:-24}
MB=${NNL_KILL_MB:-48}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# A model whose weight is large enough that writing it takes a while:
# y = Add(x, W) with W of MB MiB of random floats.  Written as raw protobuf
# so only python3 (no onnx package) is needed.
python3 - "$T/big.onnx" "$MB" <<'PY'
import os, struct, sys

def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])

def fld(num, wire, payload):
    key = varint(num << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload

def s(num, text):
    return fld(num, 2, text.encode())

n = int(sys.argv[2]) * (1 << 20) // 4
# random finite floats: exponent bits kept in range
raw = bytearray(os.urandom(4 * n))
for i in range(3, len(raw), 4):
    raw[i] &= 0x3F
tensor = fld(1, 0, 1) + fld(1, 0, n) + fld(2, 0, 1) + s(8, "W") + fld(9, 2, bytes(raw))
dims = fld(1, 2, fld(1, 0, 1)) + fld(1, 2, fld(1, 0, n))
vtype = fld(1, 2, fld(1, 0, 1) + fld(2, 2, dims))
def value_info(name):
    return s(1, name) + fld(2, 2, vtype)
node = s(1, "x") + s(1, "W") + s(2, "y") + s(3, "add") + s(4, "Add")
graph = fld(1, 2, node) + s(2, "big") + fld(5, 2, tensor) + fld(11, 2, value_info("x")) + \
    fld(12, 2, value_info("y"))
model = fld(1, 0, 7) + s(2, "kill_test") + fld(7, 2, graph) + fld(8, 2, s(1, "") + fld(2, 0, 13))
open(sys.argv[1], "wb").write(model)
PY
[ -s "$T/big.onnx" ] || { echo "FAIL cannot generate the test model"; exit 1; }

mkdir -p "$T/out"
TARGET="$T/out/target.nnl"
# the existing output: a valid .nnl of its own (another graph name)
"$NNL" compile "$T/big.onnx" --graph old -o "$T/old.nnl" >/dev/null 2>&1 ||
    { echo "FAIL compile of the generated model failed:"; "$NNL" compile "$T/big.onnx" -o "$T/x.nnl"; exit 1; }
"$NNL" compile "$T/big.onnx" --graph a -o "$T/a.nnl" >/dev/null 2>&1 || exit 1
"$NNL" compile "$T/big.onnx" --graph b -o "$T/b.nnl" >/dev/null 2>&1 || exit 1

now_ms() { date +%s%3N; }

# kill_rounds NAME CMD...: CMD writes TARGET.  Reference output from a full
# run, then ROUNDS runs killed at spread-out moments over the measured time.
kill_rounds() {
    local name=$1; shift
    rm -f "$TARGET"
    local t0 t1
    t0=$(now_ms)
    "$@" -o "$TARGET" >/dev/null 2>&1 || { bad "$name: full run failed"; return; }
    t1=$(now_ms)
    mv "$TARGET" "$T/ref.nnl"
    local dur=$((t1 - t0)); [ $dur -lt 1 ] && dur=1
    local intact=0 replaced=0 temps=0 killed=0 bad_rounds=0
    for i in $(seq 0 $((ROUNDS - 1))); do
        cp "$T/old.nnl" "$TARGET"
        # moments from 0 to ~110% of the run, plus jitter
        local at=$((dur * i * 110 / (100 * ROUNDS) + RANDOM % 3))
        "$@" -o "$TARGET" >/dev/null 2>&1 &
        local pid=$!
        sleep "$((at / 1000)).$(printf %03d $((at % 1000)))"
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        [ $? -eq 137 ] && killed=$((killed + 1))
        if cmp -s "$TARGET" "$T/old.nnl"; then
            intact=$((intact + 1))
        elif cmp -s "$TARGET" "$T/ref.nnl"; then
            replaced=$((replaced + 1))
        else
            bad_rounds=$((bad_rounds + 1))
            echo "     round $i (kill at ${at} ms): $(basename "$TARGET") is neither the old nor the new file" \
                 "($(stat -c %s "$TARGET" 2>/dev/null || echo missing) bytes)"
        fi
        for f in "$T"/out/.[!.]* "$T"/out/*; do
            [ -e "$f" ] || continue
            local b; b=$(basename "$f")
            [ "$b" = target.nnl ] && continue
            if [[ $b =~ ^\.target\.nnl\.[A-Za-z0-9]{6}$ ]]; then
                temps=$((temps + 1))
                [ $temps -le 3 ] && echo "     temporary left behind: $b ($(stat -c %s "$f") bytes)"
            else
                bad_rounds=$((bad_rounds + 1))
                echo "     unexpected file left behind: $b"
            fi
            rm -f "$f"
        done
    done
    echo "     $name: full run ${dur} ms; $ROUNDS rounds, $killed killed while running:" \
         "$intact left the old file intact, $replaced had completed, $temps temporaries left behind"
    if [ $bad_rounds -eq 0 ] && [ $intact -gt 0 ]; then ok "$name: output never partial"; else bad "$name: output never partial"; fi
}

kill_rounds "compile over an existing output" "$NNL" compile "$T/big.onnx" --graph main
kill_rounds "link over an existing output" "$NNL" link "$T/a.nnl" "$T/b.nnl"

echo "kill tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
