#!/usr/bin/env bash
# Reference-engine benchmark: accuracy and throughput of `vosa infer` on the
# three staged models with both cores, plus the plain reference kernels for
# comparison. Results go to OUT (and stdout); docs/PERFORMANCE.md quotes them.
#   testbench/layers/bench_infer.sh VOSA DNN_ROOT OUT
set -euo pipefail
VOSA="$1"; DNN="$2"; OUT="$3"
mkdir -p "$(dirname "$OUT")"
JOBS="${JOBS:-$(nproc)}"
{
  echo "# vosa bench-infer $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), load $(cut -d' ' -f1-3 /proc/loadavg)"
  run() {  # run NAME ARGS...
    local name="$1"; shift
    echo "## $name: vosa infer $*"
    "$VOSA" infer "$@"
  }
  R="$DNN/ic_resnet8_cifar10"; K="$DNN/kws_dscnn_speechcommands"; M="$DNN/mobilenetv2_imagenet"
  run resnet8 -m "$R/model/pretrainedResnet_quant.tflite" -d "$R/data/ic01" --input-encoding pixels -j "$JOBS"
  run resnet8-reference-kernels -m "$R/model/pretrainedResnet_quant.tflite" -d "$R/data/ic01" --input-encoding pixels \
    -j "$JOBS" --kernels reference
  run dscnn -m "$K/model/kws_ref_model.tflite" -d "$K/data/kws01" -j "$JOBS"
  run mobilenetv2-bilinear -m "$M/model/tf2_mobilenet_v2_1.0_224_ptq.tflite" -d "$M/data/ILSVRC2012_VAL_SET" -j "$JOBS"
  run mobilenetv2-crop -m "$M/model/tf2_mobilenet_v2_1.0_224_ptq.tflite" -d "$M/data/ILSVRC2012_VAL_SET" -j "$JOBS" \
    --resize crop
  run mobilenetv2-1-thread -m "$M/model/tf2_mobilenet_v2_1.0_224_ptq.tflite" -d "$M/data/ILSVRC2012_VAL_SET" -j 1 -n 100
} 2>&1 | tee "$OUT"
