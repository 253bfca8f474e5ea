#!/usr/bin/env bash
# The weight buffer's fault map in Verilator and in the engine (docs/sram.md,
# "RTL buffers"): a buffered 8x8 design (tests/sram/configs/ws_8x8_buffers.json)
# lints clean with the simulation-only fault masks, runs real layers through
# its buffers bit-exact against the engine, then reads its weights through a
# seeded fault map (vosa sram faultmap) loaded into the SRAM model: every
# accumulator of ResNet-8 (all 10 layers) and of DS-CNN's conv/FC layers must
# equal the engine's on the weights vosa::sram::apply_weight_faults reads
# through the same map, and the faults must have changed accumulators. The
# same for the activation buffer (--sram-act-faults) on ResNet-8 and DS-CNN.
#   layers_sram_test.sh VOSA CMAKE_BUILD_DIR CONFIG WORK_DIR
set -uo pipefail
source "$(dirname "$0")/../dnn/layers_prologue.sh"
verilator --lint-only -Wall -DVOSA_SRAM_FAULTS --top-module vosa_top "$WORK"/design/rtl/*.v > "$WORK/lint.log" 2>&1 \
  || { cat "$WORK/lint.log"; fail "verilator --lint-only -Wall -DVOSA_SRAM_FAULTS"; }
words=$(sed -n 's/^constexpr int kWeightBufferDepth = \([0-9]*\);/\1/p' "$WORK/design/include/vosa_params.h")
cols=$(sed -n 's/^constexpr int kCols = \([0-9]*\);/\1/p' "$WORK/design/include/vosa_params.h")
[ -n "$words" ] && [ -n "$cols" ] || fail "no kWeightBufferDepth / kCols in the design's vosa_params.h"
export JOBS=1 TB_OPT=-O1
run() { SRAM_FAULTS=1 "$ROOT/testbench/layers/run_layers.sh" "$WORK/design" "$WORK/obj" "$BUILD" "$@"; }

# Fault-free: whole layers through both buffers, bit-exact against the engine.
run --model "$RESNET/model/pretrainedResnet_quant.tflite" --data "$RESNET/data/ic01" --input-encoding pixels -n 1 \
  > "$WORK/clean.log" 2>&1 || { cat "$WORK/clean.log"; fail "ResNet-8 through the buffers"; }
grep -q "summary: 10 layers x 1 input(s), 0 accumulator mismatches; outputs identical for 1/1" "$WORK/clean.log" \
  || { cat "$WORK/clean.log"; fail "ResNet-8 through the buffers: summary"; }

"$VOSA" sram faultmap --words "$words" --width $((cols * 8)) --seed 7 --max-ber 0.01 -o "$WORK/map.csv" \
  > /dev/null || fail "vosa sram faultmap"
run --model "$RESNET/model/pretrainedResnet_quant.tflite" --data "$RESNET/data/ic01" --input-encoding pixels -n 2 \
  --sram-faults "$WORK/map.csv" --sram-ber 0.002 > "$WORK/resnet8.log" 2>&1 \
  || { cat "$WORK/resnet8.log"; fail "ResNet-8 with the fault map: Verilator and engine disagree"; }
cat "$WORK/resnet8.log" | grep -E "^(vosa_layers: weight|sram: faulty|summary)"
grep -q "summary: 10 layers x 2 input(s), 0 accumulator mismatches; outputs identical for 2/2" "$WORK/resnet8.log" \
  || fail "ResNet-8 with the fault map: summary"
grep -qE "sram: faulty weight buffer changed [1-9][0-9]* of" "$WORK/resnet8.log" || fail "the faults changed nothing"

# DS-CNN: its conv and FC layers on the array, the depthwise ones in the engine.
run --model "$KWS/model/kws_ref_model.tflite" --data "$KWS/data/kws01" -n 1 --layers 0,2,4,6,8,11 \
  --sram-faults "$WORK/map.csv" --sram-ber 0.01 > "$WORK/dscnn.log" 2>&1 \
  || { cat "$WORK/dscnn.log"; fail "DS-CNN with the fault map: Verilator and engine disagree"; }
cat "$WORK/dscnn.log" | grep -E "^(vosa_layers: weight|sram: faulty|summary)"
grep -q "summary: 6 layers x 1 input(s), 0 accumulator mismatches; outputs identical for 1/1" "$WORK/dscnn.log" \
  || fail "DS-CNN with the fault map: summary"
# A depthwise layer cannot be read through the map by the engine: a named error.
if run --model "$KWS/model/kws_ref_model.tflite" --data "$KWS/data/kws01" -n 1 --layers 1 \
  --sram-faults "$WORK/map.csv" --sram-ber 0.01 > "$WORK/dw.log" 2>&1 || ! grep -q "operator 1 (DEPTHWISE_CONV_2D)" "$WORK/dw.log"; then
  cat "$WORK/dw.log"; fail "a depthwise layer with --sram-faults must be a named error"
fi
# A map of another geometry is refused, naming both.
"$VOSA" sram faultmap --words 16 --width 64 --seed 7 --max-ber 0.01 -o "$WORK/small.csv" > /dev/null || fail "faultmap"
if run --model "$RESNET/model/pretrainedResnet_quant.tflite" --data "$RESNET/data/ic01" -n 1 \
  --sram-faults "$WORK/small.csv" --sram-ber 0.01 > "$WORK/geom.log" 2>&1 || ! grep -q "weight buffer is $words x" "$WORK/geom.log"; then
  cat "$WORK/geom.log"; fail "a fault map of the wrong geometry must be a named error"
fi

# The activation buffer: the engine's model of u_abuf (vosa::sram::ArrayActivationBuffer:
# im2col row m in word m mod act_depth, element k mod rows) against the RTL
# reading the clean rows through the same stuck cells.
act_words=$(sed -n 's/^constexpr int kActBufferDepth = \([0-9]*\);/\1/p' "$WORK/design/include/vosa_params.h")
rows=$(sed -n 's/^constexpr int kRows = \([0-9]*\);/\1/p' "$WORK/design/include/vosa_params.h")
"$VOSA" sram faultmap --buffer activations --words "$act_words" --width $((rows * 8)) --seed 9 --max-ber 0.01 \
  -o "$WORK/act_map.csv" > /dev/null || fail "vosa sram faultmap --buffer activations"
run --model "$RESNET/model/pretrainedResnet_quant.tflite" --data "$RESNET/data/ic01" --input-encoding pixels -n 1 \
  --sram-act-faults "$WORK/act_map.csv" --sram-ber 0.002 > "$WORK/resnet8_act.log" 2>&1 \
  || { cat "$WORK/resnet8_act.log"; fail "ResNet-8 with the activation fault map: Verilator and engine disagree"; }
cat "$WORK/resnet8_act.log" | grep -E "^(vosa_layers: activation|sram: (faulty|[0-9])|summary)"
grep -q "summary: 10 layers x 1 input(s), 0 accumulator mismatches; outputs identical for 1/1" "$WORK/resnet8_act.log" \
  || fail "ResNet-8 with the activation fault map: summary"
grep -qE "sram: faulty activation buffer changed [1-9][0-9]* of" "$WORK/resnet8_act.log" \
  || fail "the activation faults changed nothing"
# DS-CNN whole, depthwise layers included (lowered as the bench lowers them).
run --model "$KWS/model/kws_ref_model.tflite" --data "$KWS/data/kws01" -n 1 \
  --sram-act-faults "$WORK/act_map.csv" --sram-ber 0.01 > "$WORK/dscnn_act.log" 2>&1 \
  || { cat "$WORK/dscnn_act.log"; fail "DS-CNN with the activation fault map: Verilator and engine disagree"; }
cat "$WORK/dscnn_act.log" | grep -E "^(vosa_layers: activation|sram: (faulty|[0-9])|summary)"
grep -qE "summary: [0-9]+ layers x 1 input\(s\), 0 accumulator mismatches; outputs identical for 1/1" "$WORK/dscnn_act.log" \
  || fail "DS-CNN with the activation fault map: summary"
grep -qE "sram: faulty activation buffer changed [1-9][0-9]* of" "$WORK/dscnn_act.log" \
  || fail "the activation faults changed nothing (DS-CNN)"
# The weight map is not an activation map: refused, naming the buffer.
if run --model "$RESNET/model/pretrainedResnet_quant.tflite" --data "$RESNET/data/ic01" -n 1 \
  --sram-act-faults "$WORK/map.csv" --sram-ber 0.01 > "$WORK/act_geom.log" 2>&1 || ! grep -q "activation buffer is $act_words x" "$WORK/act_geom.log"; then
  cat "$WORK/act_geom.log"; fail "an activation map of the wrong geometry must be a named error"
fi
echo PASS
