#!/usr/bin/env bash
# TensorFlow Lite itself as the golden model of vosa's engine (docs/dnn.md,
# "Bit-exact with TFLite"): scripts/tflite_golden.sh runs each staged network
# with TFLite (scripts/tflite_runner.js, npm @tensorflow/tfjs-tflite) and with
# `vosa infer`, and every output must be identical: ResNet-8 on all 200
# inputs, DS-CNN on all 1000, MobileNetV2 on 50 preprocessed images; every
# operator's output tensor on the first 3 (MobileNetV2: 2) inputs. Then the
# bad-input reports: a model TFLite runs and vosa rejects, a missing runtime.
#   tflite_golden_test.sh VOSA RUNTIME_PREFIX
set -uo pipefail
VOSA="$1"
export VOSA VOSA_TFLITE_RUNTIME="$2"
SCRIPTS="$(cd "$(dirname "$0")/../../scripts" && pwd)"
DATA="${VOSA_DATA_DIR:-$(dirname "$0")/../../../shared}/dnn"
R8="$DATA/ic_resnet8_cifar10" KWS="$DATA/kws_dscnn_speechcommands" MB="$DATA/mobilenetv2_imagenet"
fail() { echo "FAIL: $*"; exit 1; }
command -v node > /dev/null || fail "missing node (Node.js): scripts/setup.sh --deps installs it"
PKG="$VOSA_TFLITE_RUNTIME/node_modules/@tensorflow/tfjs-tflite/package.json"
[ -f "$PKG" ] || fail "missing $PKG: install TFLite with scripts/tflite_runtime.sh $VOSA_TFLITE_RUNTIME (make setup does)"
for p in "$R8/model/pretrainedResnet_quant.tflite" "$R8/data/ic01" "$KWS/model/kws_ref_model.tflite" \
         "$KWS/data/kws01" "$MB/model/tf2_mobilenet_v2_1.0_224_ptq.tflite" "$MB/data/ILSVRC2012_VAL_SET" \
         "$MB/model/mobilenet_v2_1.0_224_quant.tflite"; do
  [ -e "$p" ] || fail "missing test data: $p (set VOSA_DATA_DIR)"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

golden() {
  local name="$1"
  shift
  local start=$SECONDS
  "$SCRIPTS/tflite_golden.sh" "$@" > "$tmp/$name.log" 2>&1 || fail "$name: vosa differs from TFLite: $(cat "$tmp/$name.log")"
  echo "$name ($((SECONDS - start)) s):"
  cat "$tmp/$name.log"
  grep -q "identical; 0 values" "$tmp/$name.log" || fail "$name: no output comparison"
  grep -q "tensors: every output" "$tmp/$name.log" || fail "$name: no tensor comparison"
}
golden resnet8 "$R8/model/pretrainedResnet_quant.tflite" "$R8/data/ic01" --pixels --tensors 3
grep -q "200 of 200 identical" "$tmp/resnet8.log" || fail "resnet8: not all 200 inputs compared"
golden dscnn "$KWS/model/kws_ref_model.tflite" "$KWS/data/kws01" --tensors 3
grep -q "1000 of 1000 identical" "$tmp/dscnn.log" || fail "dscnn: not all 1000 inputs compared"
golden mobilenetv2 "$MB/model/tf2_mobilenet_v2_1.0_224_ptq.tflite" "$MB/data/ILSVRC2012_VAL_SET" --limit 50 --tensors 2
grep -q "50 of 50 identical" "$tmp/mobilenetv2.log" || fail "mobilenetv2: not 50 inputs compared"

# The test would notice a wrong arithmetic: TFLite's reference kernels (double
# rounding) are not what the runtime computes.
"$SCRIPTS/tflite_golden.sh" "$R8/model/pretrainedResnet_quant.tflite" "$R8/data/ic01" --pixels --limit 20 \
  --arithmetic tflite-reference > "$tmp/ref.log" 2>&1 && fail "tflite-reference should differ from TFLite: $(cat "$tmp/ref.log")"
grep -q "of 20 identical" "$tmp/ref.log" || fail "tflite-reference comparison: $(cat "$tmp/ref.log")"

# A model TFLite runs and vosa rejects (the older uint8 MobileNetV2) is
# reported with both verdicts and vosa's message.
"$VOSA" infer -m "$MB/model/tf2_mobilenet_v2_1.0_224_ptq.tflite" -d "$MB/data/ILSVRC2012_VAL_SET" -n 2 -q \
  --save-inputs "$tmp/mb2" > /dev/null 2>&1 || fail "--save-inputs"
[ "$(ls "$tmp/mb2" | wc -l)" = 3 ] || fail "--save-inputs wrote $(ls "$tmp/mb2")"
"$SCRIPTS/tflite_golden.sh" "$MB/model/mobilenet_v2_1.0_224_quant.tflite" "$tmp/mb2" > "$tmp/uint8.log" 2>&1 \
  && fail "a model vosa rejects passed: $(cat "$tmp/uint8.log")"
grep -q "TFLite accepts it, vosa rejects it" "$tmp/uint8.log" || fail "no verdicts: $(cat "$tmp/uint8.log")"
grep -q "UINT8" "$tmp/uint8.log" || fail "vosa's message missing: $(cat "$tmp/uint8.log")"
"$VOSA" infer -m "$MB/model/tf2_mobilenet_v2_1.0_224_ptq.tflite" -d "$MB/data/ILSVRC2012_VAL_SET" -n 1 -q \
  --save-inputs "$tmp/mb2" > "$tmp/exists.log" 2>&1 && fail "--save-inputs overwrote a directory"
grep -q "exists" "$tmp/exists.log" || fail "--save-inputs on an existing directory: $(cat "$tmp/exists.log")"

# Without the runtime the runner names the missing file.
node "$SCRIPTS/tflite_runner.js" "$R8/model/pretrainedResnet_quant.tflite" "$R8/data/ic01" "$tmp/x.csv" \
  --runtime "$tmp/none" > "$tmp/none.log" 2>&1 && fail "runner ran without a runtime"
grep -q "missing $tmp/none/node_modules/@tensorflow/tfjs-tflite" "$tmp/none.log" || fail "runner: $(cat "$tmp/none.log")"
[ ! -e "$tmp/x.csv" ] || fail "runner left an output behind"
echo "tflite_golden_test: passed"
