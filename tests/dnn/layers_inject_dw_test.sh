#!/usr/bin/env bash
# Timing errors in the Verilated array's depthwise mode (docs/rtl.md "Depthwise
# mode", docs/inject.md): DS-CNN's depthwise layers run in the mode with errors
# injected in the PEs (INJECT=1, the fixture tests/dnn/configs/errmodel_fixture.json:
# the mechanism is under test, not the rates). The engine's injector, given the
# array's own errors (pass, column, vector, row), must compute the array's
# accumulators bit for bit, which holds only if it maps every depthwise MAC onto
# the PE that computes it in the mode; and its own draws must change as many
# accumulators per layer as the array's (|z| < 5). Then a row-band model whose
# upper rows are error-free: both draw by the mode's PE row.
#   layers_inject_dw_test.sh VOSA CMAKE_BUILD_DIR CONFIG WORK_DIR   (CONFIG with "depthwise")
set -uo pipefail
LAYERS_DATA=dscnn source "$(dirname "$0")/../dnn/layers_prologue.sh"
grep -q '"depthwise"' "$CONFIG" || fail "$CONFIG has no depthwise mode"
FIXTURE="$ROOT/tests/dnn/configs/errmodel_fixture.json"
run() { INJECT=1 "$ROOT/testbench/layers/run_layers.sh" "$WORK/design" "$WORK/obj" "$BUILD" "$@"; }
check() {  # check LOG: the engine's hits, its draws, and every depthwise layer in the mode
  grep -q "injection: 0 layer runs where the engine's injector, given the array's errors, differs" "$1" \
    || { cat "$1"; fail "the engine's injector, given the array's errors in the depthwise mode, must compute the array's accumulators bit for bit"; }
  grep -q "engine prediction: every layer agrees" "$1" || { cat "$1"; fail "engine injector vs Verilator in the depthwise mode"; }
  [ "$(grep -cE "DEPTHWISE_CONV_2D .* mode *$" "$1")" = 4 ] || { cat "$1"; fail "DS-CNN: 4 depthwise layers in the depthwise mode"; }
}
# Rare errors (0.1 % of captures), every layer; the depthwise layers in the mode (the default on this design).
run --model "$KWS/model/kws_ref_model.tflite" --data "$KWS/data/kws01" -n 2 --errmodel "$FIXTURE" --voltages 0.95 \
  --seed 7 > "$WORK/inject.log" 2>&1 || { cat "$WORK/inject.log"; fail "DS-CNN with injected errors in the depthwise mode"; }
cat "$WORK/inject.log"
check "$WORK/inject.log"
hits="$(sed -n 's/^injection: [0-9]* PE captures, \([0-9]*\) errors injected.*/\1/p' "$WORK/inject.log")"
[ -n "$hits" ] && [ "$hits" -gt 100 ] || fail "expected errors to be injected (got '${hits}')"
[ "$(grep -cE "DEPTHWISE_CONV_2D .* [1-9][0-9]* differ from error-free" "$WORK/inject.log")" -gt 0 ] \
  || fail "no depthwise layer's accumulators changed"
# Row bands: rows 0..3 error-free, rows 4..7 at 0.9 V's rate (4 %).
python3 "$ROOT/tests/dnn/row_band_errmodel.py" "$FIXTURE" "$CONFIG" "$WORK/errmodel_rows.json" || fail "row-band model"
run --model "$KWS/model/kws_ref_model.tflite" --data "$KWS/data/kws01" -n 1 --errmodel "$WORK/errmodel_rows.json" \
  --voltages 0.9 --seed 3 > "$WORK/rows.log" 2>&1 || { cat "$WORK/rows.log"; fail "row-band model in the depthwise mode"; }
check "$WORK/rows.log"
grep "^injection:" "$WORK/rows.log"
# An explicit GEMM mapping on the same design keeps the channel groups, with errors too.
run --model "$KWS/model/kws_ref_model.tflite" --data "$KWS/data/kws01" -n 1 --errmodel "$FIXTURE" --voltages 0.95 \
  --depthwise channels > "$WORK/channels.log" 2>&1 || { cat "$WORK/channels.log"; fail "--depthwise channels with errors"; }
grep -q "injection: 0 layer runs where the engine's injector, given the array's errors, differs" "$WORK/channels.log" \
  || { cat "$WORK/channels.log"; fail "channels: engine vs array"; }
[ "$(grep -cE "DEPTHWISE_CONV_2D .* channels *$" "$WORK/channels.log")" = 4 ] || { cat "$WORK/channels.log"; fail "channels mapping"; }
echo PASS
