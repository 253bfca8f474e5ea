# Sourced by the Verilator layer tests (tests/dnn/layers_test.sh, layers_precision_test.sh,
# tests/sram/layers_sram_test.sh, tests/reuse/reuse_array_test.sh): their arguments, the ResNet-8 and DS-CNN
# data they need (named when missing), a fresh WORK and the generated design.
#   usage in a test: source "$(dirname "$0")/../dnn/layers_prologue.sh"  (args VOSA BUILD CONFIG WORK)
VOSA="$1"; BUILD="$2"; CONFIG="$3"; WORK="$4"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DATA="${VOSA_DATA_DIR:-$ROOT/../shared}"
fail() { echo "FAIL: $*"; exit 1; }
RESNET="$DATA/dnn/ic_resnet8_cifar10"
KWS="$DATA/dnn/kws_dscnn_speechcommands"
# LAYERS_DATA: the networks the test runs (default both).
needs=()
[[ " ${LAYERS_DATA:-resnet8 dscnn} " == *" resnet8 "* ]] && needs+=("$RESNET/model/pretrainedResnet_quant.tflite" "$RESNET/data/ic01")
[[ " ${LAYERS_DATA:-resnet8 dscnn} " == *" dscnn "* ]] && needs+=("$KWS/model/kws_ref_model.tflite" "$KWS/data/kws01")
for p in "${needs[@]}"; do
  [ -e "$p" ] || fail "missing test data: $p (set VOSA_DATA_DIR)"
done
rm -rf "$WORK" && mkdir -p "$WORK"
"$VOSA" generate --config "$CONFIG" --out "$WORK/design" -q || fail "vosa generate $CONFIG"
