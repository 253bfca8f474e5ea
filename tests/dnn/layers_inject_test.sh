#!/usr/bin/env bash
# Timing errors in the Verilated array (testbench/layers with INJECT=1): PE
# output registers take errors drawn from an error model (a hand-written
# fixture, tests/dnn/configs/errmodel_fixture.json: the mechanism is under
# test, not the rates). Every GEMM must equal the replay of its injected errors
# (vosa/injection_replay.hpp); with every bit Razor-protected (policy correct)
# every accumulator must still be exact.
#   layers_inject_test.sh VOSA CMAKE_BUILD_DIR CONFIG EXPECT WORK_DIR [values]
#   values: the fixture with correct bits and value classes (schema 4,
#           tests/dnn/value_class_fixture.py) on a PE without Razor or carry-save:
#           the error source draws each mask to fit the captured value's correct
#           bits and class (docs/errmodel.md "Value classes"), the engine's exact
#           injector likewise; both must still agree.
#   EXPECT: exact    every accumulator equals the error-free engine's
#           faulty   some accumulators differ (unprotected bits or TE-Drop)
# Then the engine's injector (vosa/inject.hpp) runs the same inputs: the
# fraction of accumulators the errors change must agree layer by layer.
set -uo pipefail
VOSA="$1"; BUILD="$2"; CONFIG="$3"; EXPECT="$4"; WORK="$5"; FORM="${6:-}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="${VOSA_DATA_DIR:-$ROOT/../shared}"
fail() { echo "FAIL: $*"; exit 1; }
RESNET="$DATA/dnn/ic_resnet8_cifar10"
for p in "$RESNET/model/pretrainedResnet_quant.tflite" "$RESNET/data/ic01"; do
  [ -e "$p" ] || fail "missing test data: $p (set VOSA_DATA_DIR)"
done
rm -rf "$WORK" && mkdir -p "$WORK"
# A carry-save array takes errors in its sum and carry words: the fixture with
# a carry word (joint patterns of both words, tests/dnn/configs/errmodel_fixture_csave.json).
FIXTURE="$ROOT/tests/dnn/configs/errmodel_fixture.json"
if python3 -c "import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get('arithmetic', {}).get('psum') == 'carry_save' else 1)" "$CONFIG"; then
  FIXTURE="$ROOT/tests/dnn/configs/errmodel_fixture_csave.json"
fi
if [ "$FORM" = values ]; then
  python3 "$ROOT/tests/dnn/value_class_fixture.py" "$FIXTURE" "$WORK/errmodel_values.json" || fail "value-class fixture"
  FIXTURE="$WORK/errmodel_values.json"
fi
# Rare errors (0.1 % of captures) in island 0, none in island 1, for the layer-by-layer agreement.
VOLTAGES=0.95,1.0
"$VOSA" generate --config "$CONFIG" --out "$WORK/design" -q || fail "vosa generate $CONFIG"
INJECT=1 "$ROOT/testbench/layers/run_layers.sh" "$WORK/design" "$WORK/obj" "$BUILD" \
  --model "$RESNET/model/pretrainedResnet_quant.tflite" --data "$RESNET/data/ic01" --input-encoding pixels -n 2 \
  --errmodel "$FIXTURE" --voltages "$VOLTAGES" --seed 7 \
  > "$WORK/inject.log" 2>&1 || { cat "$WORK/inject.log"; fail "layers with injected errors on $CONFIG"; }
cat "$WORK/inject.log"
grep -q "; 0 GEMMs differ from the replay of their injected errors" "$WORK/inject.log" || fail "replay check"
grep -q "injection: 0 layer runs where the engine's injector, given the array's errors, differs" "$WORK/inject.log" \
  || fail "the engine's injector, given the array's errors, must compute the array's accumulators bit for bit"
grep -q "engine prediction: every layer agrees" "$WORK/inject.log" || fail "engine injector vs Verilator"
hits="$(sed -n 's/^injection: [0-9]* PE captures, \([0-9]*\) errors injected.*/\1/p' "$WORK/inject.log")"
[ -n "$hits" ] && [ "$hits" -gt 100 ] || fail "expected errors to be injected (got '${hits}')"
fitted="$(sed -n "s/^injection: \([0-9]*\) errors drawn to fit the captured value's correct bits/\1/p" "$WORK/inject.log")"
if [ "$FORM" = values ]; then
  [ "$fitted" = "$hits" ] || fail "every error must be drawn to fit the correct bits ($fitted of $hits)"
else
  [ "$fitted" = 0 ] || fail "no correct bits in $FIXTURE, yet $fitted errors were drawn to fit them"
fi
differ="$(grep -cE ' [1-9][0-9]* differ from error-free' "$WORK/inject.log")"
case "$EXPECT" in
  exact)  [ "$differ" -eq 0 ] || fail "$differ layer(s) differ although every bit is Razor-protected" ;;
  faulty) [ "$differ" -gt 0 ] || fail "no layer differs although bits are unprotected" ;;
  *) fail "EXPECT is exact or faulty" ;;
esac
# The row-band, error-free-voltage and missing-voltage checks below test the
# error source's mechanics, which do not depend on the PE: the carry-save
# config (the slowest to run) stops here.
if [ "$FIXTURE" != "$ROOT/tests/dnn/configs/errmodel_fixture.json" ]; then echo PASS; exit 0; fi
# PE positions (docs/errmodel.md): the fixture with two row bands, the upper half of
# the rows error-free and the lower half at 0.9 V's rate (4 % of captures): the Verilated
# array's error source and the engine's injector both draw by PE row, so they agree
# layer by layer, and about half of the captures can err.
python3 "$ROOT/tests/dnn/row_band_errmodel.py" "$FIXTURE" "$CONFIG" "$WORK/errmodel_rows.json" || fail "row-band model"
INJECT=1 "$ROOT/testbench/layers/run_layers.sh" "$WORK/design" "$WORK/obj" "$BUILD" \
  --model "$RESNET/model/pretrainedResnet_quant.tflite" --data "$RESNET/data/ic01" --input-encoding pixels -n 1 \
  --errmodel "$WORK/errmodel_rows.json" --voltages 0.9 --seed 3 > "$WORK/rows.log" 2>&1 \
  || { cat "$WORK/rows.log"; fail "layers with a row-band error model"; }
grep -q "; 0 GEMMs differ from the replay of their injected errors" "$WORK/rows.log" || { cat "$WORK/rows.log"; fail "row bands: replay"; }
grep -q "engine prediction: every layer agrees" "$WORK/rows.log" || { cat "$WORK/rows.log"; fail "row bands: engine vs Verilator"; }
python3 - "$WORK/rows.log" <<'PY'
import re, sys
captures, hits = map(int, re.search(r"injection: (\d+) PE captures, (\d+) errors injected", open(sys.argv[1]).read()).groups())
print(f"row bands: {hits} errors in {captures} captures ({hits / captures:.4f}; lower half of the rows at 0.04)")
assert 0.5 * 0.04 * 0.5 < hits / captures < 0.5 * 0.04 * 1.5, "only the lower band's rows may err, at its rate"
PY
[ $? -eq 0 ] || fail "row bands: error rate"
# The error source honours the islands: an error-free voltage everywhere injects nothing.
INJECT=1 "$ROOT/testbench/layers/run_layers.sh" "$WORK/design" "$WORK/obj" "$BUILD" \
  --model "$RESNET/model/pretrainedResnet_quant.tflite" --data "$RESNET/data/ic01" --input-encoding pixels -n 1 \
  --errmodel "$FIXTURE" --voltages 1.0 > "$WORK/clean.log" 2>&1 \
  || { cat "$WORK/clean.log"; fail "layers at the error-free voltage"; }
grep -q " 0 errors injected" "$WORK/clean.log" || { cat "$WORK/clean.log"; fail "errors injected at 1.0 V"; }
if INJECT=1 "$ROOT/testbench/layers/run_layers.sh" "$WORK/design" "$WORK/obj" "$BUILD" \
  --model "$RESNET/model/pretrainedResnet_quant.tflite" --data "$RESNET/data/ic01" --input-encoding pixels -n 1 \
  --errmodel "$FIXTURE" --voltages 0.97 > "$WORK/bad.log" 2>&1; then
  fail "a voltage the model does not have was accepted"
fi
grep -q "0.970000 V is not a point" "$WORK/bad.log" || { cat "$WORK/bad.log"; fail "unclear error for a missing voltage"; }
echo PASS
