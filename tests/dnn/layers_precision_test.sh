#!/usr/bin/env bash
# Precision modes on real layers (docs/precision.md): DS-CNN through a
# generated array with precision_modes in Verilator, per-layer modes (MODE
# registers written before each layer, full int8 operands fed: the PEs
# reduce them) bit-exact against the engine's per-layer reduction; the
# operand trace records the reduced operands; a mode the design lacks is a
# named error. Also vosa infer --precision (the same engine reduction).
#   layers_precision_test.sh VOSA CMAKE_BUILD_DIR CONFIG WORK_DIR
set -uo pipefail
LAYERS_DATA=dscnn source "$(dirname "$0")/../dnn/layers_prologue.sh"
run() { "$ROOT/testbench/layers/run_layers.sh" "$WORK/design" "$WORK/obj" "$BUILD" \
  --model "$KWS/model/kws_ref_model.tflite" --data "$KWS/data/kws01" "$@"; }

# Every layer in mode 2 but the first (full width) and operator 1 (mode 1).
run -n 2 --mode 2 --layer-mode 0=0 --layer-mode 1=1 --trace-dir "$WORK/traces" --trace-pe 1,1 --trace-records 200 \
  > "$WORK/modes.log" 2>&1 || { cat "$WORK/modes.log"; fail "DS-CNN layers with precision modes on $CONFIG"; }
cat "$WORK/modes.log"
grep -q "summary: 10 layers x 2 input(s), 0 accumulator mismatches; outputs identical for 2/2" "$WORK/modes.log" \
  || fail "DS-CNN summary with per-layer modes"
grep -q "reduced to 4 bits" "$WORK/traces/op2_"*.vtrace || fail "operator 2's trace does not say it holds 4-bit operands"
grep -q "reduced to" "$WORK/traces/op0_"*.vtrace && fail "operator 0 (full width) is labelled reduced"
# --trace-fed-operands (make precision-characterize, the gated PE): the operands as fed, whose
# reductions are the reduced trace's, and the same partial sums (the rows above reduce too).
run -n 1 --mode 2 --layer-mode 0=0 --layer-mode 1=1 --trace-dir "$WORK/traces_fed" --trace-pe 1,1 \
  --trace-records 200 --trace-fed-operands > "$WORK/fed.log" 2>&1 || { cat "$WORK/fed.log"; fail "--trace-fed-operands"; }
"$VOSA" trace show -n 200 "$WORK/traces/op2_"*.vtrace > "$WORK/reduced.txt" || fail "trace show"
"$VOSA" trace show -n 200 "$WORK/traces_fed/op2_"*.vtrace > "$WORK/fed.txt" || fail "trace show"
python3 - "$WORK/reduced.txt" "$WORK/fed.txt" <<'PY' || fail "the fed-operand trace does not match the reduced one"
import re, sys
def recs(path):
    return [tuple(map(int, m)) for m in re.findall(r"a=(-?\d+) w=(-?\d+) psum_in=(-?\d+)", open(path).read())]
def reduce(v, d):  # vosa::reduce_operand
    return v if d <= 0 or v == 0 else (v & ~((1 << d) - 1)) | (1 << (d - 1))
red, fed = recs(sys.argv[1]), recs(sys.argv[2])
assert len(red) == len(fed) > 100, (len(red), len(fed))
assert "operands as fed" in open(sys.argv[2]).read()
for r, f in zip(red, fed):
    assert (reduce(f[0], 4), reduce(f[1], 4), f[2]) == r, (r, f)
assert any(reduce(f[0], 4) != f[0] for f in fed), "the fed activations look reduced"
print(f"fed-operand trace: {len(fed)} records, reductions and partial sums equal the reduced trace's")
PY

# vosa infer --precision: 8 bits is the unreduced engine; per-layer items; named errors.
infer() { "$VOSA" infer -m "$KWS/model/kws_ref_model.tflite" -d "$KWS/data/kws01" -n 100 -q "$@" 2>&1; }
full=$(infer) && same=$(infer --precision 8) && six=$(infer --precision 6) || fail "vosa infer --precision"
[ "${full%%  *}" = "${same%%  *}" ] || fail "--precision 8 ($same) differs from the default ($full)"
[ "${full%%  *}" != "${six%%  *}" ] || fail "--precision 6 gives the full-precision top-1 ($six)"
infer --precision 6,2=4 > /dev/null || fail "--precision 6,2=4"
{ infer --precision 6,9=8 || true; } | grep -q "operator 9 is not a CONV_2D" || fail "--precision on a non-array operator"
{ infer --precision 0 || true; } | grep -q "precision mode of 0 bits" || fail "--precision 0"
{ infer --precision 6,x || true; } | grep -q "'x' is not BITS or OP=BITS" || fail "--precision 6,x"

if run -n 1 --mode 3 > "$WORK/bad.log" 2>&1; then cat "$WORK/bad.log"; fail "mode index 3 of a 3-mode design accepted"; fi
grep -q "precision mode index 3 is not one of the design's 3 mode(s)" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "message"; }
echo PASS
