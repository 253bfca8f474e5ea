#!/usr/bin/env bash
# The reuse array in Verilator (docs/reuse.md, "Hardware"): a design with
# "reuse": true runs every array layer of DS-CNN on consecutive windows of the
# KWS stream with only the changed GEMM rows streamed (activation deltas,
# zero deltas gated in the PEs); the previous accumulators plus the array's
# sums must equal vosa::reuse::ReuseRunner's delta computation bit for bit,
# at q = 8 and q = 5, and the RTL's cycles must equal streamed_cycles (the
# bench throws otherwise). Also: the PE operand traces it writes, and a named
# error for a bad option.
#   reuse_array_test.sh VOSA CMAKE_BUILD_DIR CONFIG WORK_DIR
set -uo pipefail
LAYERS_DATA=dscnn source "$(dirname "$0")/../dnn/layers_prologue.sh"
run() { JOBS=2 TB_OPT=-O1 REUSE=1 "$ROOT/testbench/layers/run_layers.sh" "$WORK/design" "$WORK/obj" "$BUILD" \
  --model "$KWS/model/kws_ref_model.tflite" --data "$KWS/data/kws01" "$@"; }

for q in 8 5; do
  run --clips 3 --windows 4 --q "$q" --trace-out "$WORK/pe_q$q" > "$WORK/q$q.log" 2>&1 \
    || { cat "$WORK/q$q.log"; fail "reuse array on DS-CNN, q = $q"; }
  cat "$WORK/q$q.log"
  grep -q "30 layers of 3 windows after the first, [0-9]* accumulators bit-exact with the engine's delta computation (q = $q)" \
    "$WORK/q$q.log" || fail "q = $q: summary line"
  grep -q "with reuse (RTL, = streamed_cycles)" "$WORK/q$q.log" || fail "q = $q: cycle line"
  for t in delta skipall recompute; do
    "$VOSA" trace show "$WORK/pe_q$q.$t.vtrace" > "$WORK/q$q.$t.show" 2>&1 || fail "q = $q: $t trace unreadable"
  done
  grep -q '"act_bits": 9' "$WORK/q$q.delta.show" || fail "q = $q: the delta trace is not 9-bit"
  grep -q '"act_bits": 8' "$WORK/q$q.recompute.show" || fail "q = $q: the recompute trace is not 8-bit"
done
# Narrower widths change fewer inputs: more PE-cycles gated at q = 5.
g8=$(sed -n 's/.*gated (zero delta): [0-9]* (\([0-9.]*\) %).*/\1/p' "$WORK/q8.log")
g5=$(sed -n 's/.*gated (zero delta): [0-9]* (\([0-9.]*\) %).*/\1/p' "$WORK/q5.log")
awk -v a="$g8" -v b="$g5" 'BEGIN { exit !(a > 20 && b > a) }' || fail "gated shares q8 $g8 %, q5 $g5 %"

out="$(run --clips 3 --windows 1 2>&1)" && fail "--windows 1 accepted"
[[ "$out" == *"--windows must be at least 2"* ]] || fail "--windows 1: message '$out'"
echo "reuse_array: ok"
