#!/usr/bin/env bash
# Real layers on a generated array in Verilator (testbench/layers): every
# conv/depthwise/FC accumulator of ResNet-8 and DS-CNN bit-exact against the
# engine for a few inputs, whole-network outputs identical; and the checker
# itself must catch a corrupted weight.
#   layers_test.sh VOSA CMAKE_BUILD_DIR CONFIG WORK_DIR
set -uo pipefail
source "$(dirname "$0")/../dnn/layers_prologue.sh"
run() { "$ROOT/testbench/layers/run_layers.sh" "$WORK/design" "$WORK/obj" "$BUILD" "$@"; }

run --model "$RESNET/model/pretrainedResnet_quant.tflite" --data "$RESNET/data/ic01" --input-encoding pixels -n 2 \
  > "$WORK/resnet8.log" 2>&1 || { cat "$WORK/resnet8.log"; fail "ResNet-8 layers on $CONFIG"; }
cat "$WORK/resnet8.log"
grep -q "summary: 10 layers x 2 input(s), 0 accumulator mismatches; outputs identical for 2/2" "$WORK/resnet8.log" \
  || fail "ResNet-8 summary"

run --model "$KWS/model/kws_ref_model.tflite" --data "$KWS/data/kws01" -n 3 \
  --trace-dir "$WORK/traces" --trace-pe 1,2 --trace-records 1000 > "$WORK/dscnn.log" 2>&1 \
  || { cat "$WORK/dscnn.log"; fail "DS-CNN layers on $CONFIG"; }
cat "$WORK/dscnn.log"
grep -q "summary: 10 layers x 3 input(s), 0 accumulator mismatches; outputs identical for 3/3" "$WORK/dscnn.log" \
  || fail "DS-CNN summary"
[ -s "$WORK/traces/op0_CONV_2D_pe1_2.vtrace" ] || fail "no operand trace written"
head -c 8 "$WORK/traces/op0_CONV_2D_pe1_2.vtrace" | grep -q VOSATRC1 || fail "trace magic"

# Only some operators on the array (--layers), and a bad operator index.
run --model "$RESNET/model/pretrainedResnet_quant.tflite" --data "$RESNET/data/ic01" --input-encoding pixels -n 1 \
  --layers 0,9 > "$WORK/resnet8_layers.log" 2>&1 || { cat "$WORK/resnet8_layers.log"; fail "ResNet-8 --layers 0,9"; }
grep -q "summary: 2 layers x 1 input(s), 0 accumulator mismatches; outputs identical for 1/1" "$WORK/resnet8_layers.log" \
  || { cat "$WORK/resnet8_layers.log"; fail "ResNet-8 --layers summary"; }
if run --model "$RESNET/model/pretrainedResnet_quant.tflite" --data "$RESNET/data/ic01" -n 1 --layers 999 \
  > "$WORK/resnet8_badlayer.log" 2>&1 || ! grep -q "layers 999: operator 999 is not a conv" "$WORK/resnet8_badlayer.log"; then
  cat "$WORK/resnet8_badlayer.log"; fail "--layers 999 must fail naming the operator"
fi

# Both depthwise mappings (the default, auto, took whichever is cheaper above).
for mapping in channels spatial; do
  run --model "$KWS/model/kws_ref_model.tflite" --data "$KWS/data/kws01" -n 1 --depthwise $mapping \
    > "$WORK/dscnn_$mapping.log" 2>&1 || { cat "$WORK/dscnn_$mapping.log"; fail "DS-CNN --depthwise $mapping on $CONFIG"; }
  grep -q "summary: 10 layers x 1 input(s), 0 accumulator mismatches; outputs identical for 1/1" "$WORK/dscnn_$mapping.log" \
    || { cat "$WORK/dscnn_$mapping.log"; fail "DS-CNN --depthwise $mapping summary"; }
  [ "$(grep -c "DEPTHWISE_CONV_2D.*bit-exact *$mapping" "$WORK/dscnn_$mapping.log")" = 4 ] \
    || { cat "$WORK/dscnn_$mapping.log"; fail "DS-CNN: 4 depthwise layers mapped $mapping"; }
  grep "^depthwise layers:" "$WORK/dscnn_$mapping.log"
done

# A design with the depthwise mode (config "depthwise", tests/dnn/configs/ws_6x20.json):
# the runs above took it for DS-CNN's depthwise layers (auto); MobileNetV2's stride-2
# and 7x7 stride-1 depthwise layers in it too, every accumulator against the engine.
if grep -q '"depthwise"' "$CONFIG"; then
  [ "$(grep -c "DEPTHWISE_CONV_2D.*bit-exact *mode" "$WORK/dscnn.log")" = 4 ] \
    || fail "DS-CNN: 4 depthwise layers in the depthwise mode"
  MNV2="$DATA/dnn/mobilenetv2_imagenet"
  [ -e "$MNV2/model/tf2_mobilenet_v2_1.0_224_ptq.tflite" ] || fail "missing test data: $MNV2 (set VOSA_DATA_DIR)"
  run --model "$MNV2/model/tf2_mobilenet_v2_1.0_224_ptq.tflite" --data "$MNV2/data/ILSVRC2012_VAL_SET" -n 1 \
    --layers 49,52 --depthwise mode > "$WORK/mnv2_mode.log" 2>&1 || { cat "$WORK/mnv2_mode.log"; fail "MobileNetV2 depthwise mode"; }
  cat "$WORK/mnv2_mode.log"
  [ "$(grep -c "DEPTHWISE_CONV_2D.*bit-exact *mode" "$WORK/mnv2_mode.log")" = 2 ] \
    || fail "MobileNetV2: operators 49 and 52 bit-exact in the depthwise mode"
  grep -q "summary: 2 layers x 1 input(s), 0 accumulator mismatches; outputs identical for 1/1" "$WORK/mnv2_mode.log" \
    || fail "MobileNetV2 depthwise mode summary"
fi

if run --model "$KWS/model/kws_ref_model.tflite" --data "$KWS/data/kws01" -n 1 --corrupt-first-weight \
  > "$WORK/corrupt.log" 2>&1; then
  cat "$WORK/corrupt.log"; fail "a corrupted weight went unnoticed"
fi
grep -q "MISMATCH input 0 operator 0" "$WORK/corrupt.log" || { cat "$WORK/corrupt.log"; fail "no mismatch report"; }
echo PASS
