#!/usr/bin/env bash
# testbench/build_verilated.sh refuses, before any compiling, a design whose
# Verilator build needs more memory than the machine has (a 256x256 array,
# generated for real, against 4000 MB available), naming the array, the
# estimate and the available memory; a small array passes the check, and a
# tiled array is estimated with its own slope.
set -uo pipefail
VOSA="$1"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["rows"]=c["cols"]=256; json.dump(c,open(sys.argv[2],"w"))' \
  "$ROOT/generator/examples/default.json" "$WORK/big.json" || fail "cannot write the config"
"$VOSA" generate --config "$WORK/big.json" --out "$WORK/big" > /dev/null || fail "vosa generate failed on 256x256"
start=$(date +%s)
out="$(VOSA_MEM_AVAILABLE_MB=4000 "$ROOT/testbench/build_verilated.sh" "$WORK/big" "$WORK/obj" "$ROOT/testbench/array/gemm_check.cpp" 2>&1)" &&
  fail "a 256x256 Verilator build was not refused at 4000 MB"
[[ "$out" == *"256x256 array needs about 8"*"has 4000 MB available"* ]] || fail "message does not name the estimate: $out"
[ $(( $(date +%s) - start )) -lt 10 ] || fail "the refusal took longer than 10 s"
[ ! -e "$WORK/obj/vosa_sim" ] || fail "a binary was built"
# The check alone on a small design passes (stops at the missing params of a fake design instead).
mkdir -p "$WORK/small/rtl" "$WORK/small/include" && touch "$WORK/small/rtl/vosa_top.v"
printf 'constexpr int kRows = 8;\nconstexpr int kCols = 8;\n' > "$WORK/small/include/vosa_params.h"
out="$(VOSA_MEM_AVAILABLE_MB=4000 VERILATOR_FLAGS=--lint-only "$ROOT/testbench/build_verilated.sh" "$WORK/small" "$WORK/obj2" /dev/null 2>&1)"
[[ "$out" != *"refusing"* ]] || fail "an 8x8 array was refused: $out"
# A tiled 256x256 array (one shared tile class) has its own, measured slope:
# refused at 4000 MB (about 4517 MB with 2 g++ jobs), let through at 6000 MB
# (again a fake design, which then stops in Verilator).
mkdir -p "$WORK/tiled/rtl" "$WORK/tiled/include" && touch "$WORK/tiled/rtl/vosa_top.v" "$WORK/tiled/rtl/vosa_tile.v"
printf 'constexpr int kRows = 256;\nconstexpr int kCols = 256;\n' > "$WORK/tiled/include/vosa_params.h"
out="$(JOBS=2 VOSA_MEM_AVAILABLE_MB=4000 "$ROOT/testbench/build_verilated.sh" "$WORK/tiled" "$WORK/obj3" /dev/null 2>&1)" &&
  fail "a tiled 256x256 build was not refused at 4000 MB"
[[ "$out" == *"tiled 256x256 array needs about 4517 MB"*"has 4000 MB available"* ]] || fail "tiled estimate: $out"
out="$(JOBS=2 VOSA_MEM_AVAILABLE_MB=6000 VERILATOR_FLAGS=--lint-only "$ROOT/testbench/build_verilated.sh" "$WORK/tiled" "$WORK/obj4" /dev/null 2>&1)"
[[ "$out" != *"refusing"* ]] || fail "a tiled 256x256 array was refused at 6000 MB: $out"
echo "PASS: verilator memory check"
