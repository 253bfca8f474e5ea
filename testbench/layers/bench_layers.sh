#!/usr/bin/env bash
# Verilator throughput on real layers: ResNet-8, DS-CNN and MobileNetV2 (one
# input each) through generated 16x16 and 32x32 arrays, every accumulator
# checked bit-exact. Results go to OUT (and stdout).
#   testbench/layers/bench_layers.sh VOSA CMAKE_BUILD_DIR DNN_ROOT OUT
set -euo pipefail
VOSA="$1"; BUILD="$2"; DNN="$3"; OUT="$4"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$(dirname "$OUT")"
{
  echo "# vosa bench-layers $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  for cfg in ws_16x16 ws_32x32; do
    work="$BUILD/bench/layers_$cfg"
    "$VOSA" generate --config "$ROOT/testbench/layers/configs/$cfg.json" --out "$work/design" -q
    run() {  # run NAME ARGS...
      local name="$1"; shift
      echo "## $cfg $name"
      local t0=$SECONDS
      "$ROOT/testbench/layers/run_layers.sh" "$work/design" "$work/obj" "$BUILD" "$@"
      echo "wall $((SECONDS - t0)) s (including the Verilator build if any)"
    }
    run resnet8 --model "$DNN/ic_resnet8_cifar10/model/pretrainedResnet_quant.tflite" \
      --data "$DNN/ic_resnet8_cifar10/data/ic01" --input-encoding pixels -n 1
    run dscnn --model "$DNN/kws_dscnn_speechcommands/model/kws_ref_model.tflite" \
      --data "$DNN/kws_dscnn_speechcommands/data/kws01" -n 1
    run mobilenetv2 --model "$DNN/mobilenetv2_imagenet/model/tf2_mobilenet_v2_1.0_224_ptq.tflite" \
      --data "$DNN/mobilenetv2_imagenet/data/ILSVRC2012_VAL_SET" -n 1
  done
} 2>&1 | tee "$OUT"
