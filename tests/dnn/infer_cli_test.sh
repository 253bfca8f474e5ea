#!/usr/bin/env bash
# vosa infer from the command line: a short accuracy run, and clear errors
# (non-zero exit, message naming the file) for a missing model, a truncated
# model and an unsupported model.
set -uo pipefail
VOSA="$1"
DATA="${VOSA_DATA_DIR:-$(dirname "$0")/../../../shared}"
MODEL="$DATA/dnn/kws_dscnn_speechcommands/model/kws_ref_model.tflite"
for p in "$MODEL" "$DATA/dnn/kws_dscnn_speechcommands/data/kws01"; do
  [ -e "$p" ] || { echo "FAIL: missing test data: $p (set VOSA_DATA_DIR)"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$("$VOSA" infer -m "$MODEL" -d "$DATA/dnn/kws_dscnn_speechcommands/data/kws01" -n 50 -j 1 2>&1) || fail "run: $out"
echo "$out"
grep -Eq 'top-1 [0-9.]+ % \([0-9]+/50\)' <<<"$out" || fail "no top-1 line"

# Operand traces of real layers from the engine, readable by vosa trace show.
"$VOSA" infer -m "$MODEL" -d "$DATA/dnn/kws_dscnn_speechcommands/data/kws01" -n 1 -q \
  --trace-dir "$tmp/traces" --trace-pe 3,5 --trace-array 16x16 --trace-records 500 > "$tmp/trace.log" 2>&1 \
  || fail "trace run: $(cat "$tmp/trace.log")"
[ "$(ls "$tmp/traces"/*.vtrace | wc -l)" = 10 ] || fail "expected 10 layer traces, got $(ls "$tmp/traces")"
"$VOSA" trace show "$tmp/traces/op1_DEPTHWISE_CONV_2D_pe3_5.vtrace" -n 2 > "$tmp/show.txt" || fail "trace show"
grep -q '"count": 500' "$tmp/show.txt" || fail "trace count: $(cat "$tmp/show.txt")"
grep -q '"acc_bits": 20' "$tmp/show.txt" || fail "trace acc_bits"

expect_error() {  # expect_error PATTERN ARGS...
  local pattern="$1"; shift
  local msg
  if msg=$("$VOSA" infer "$@" 2>&1); then fail "exit 0 for: $*"; fi
  grep -q "vosa: error: .*$pattern" <<<"$msg" || fail "message '$msg' lacks '$pattern'"
  echo "ok: $msg"
}
expect_error "$tmp/none.tflite: cannot open" -m "$tmp/none.tflite" -d "$tmp"
head -c 20000 "$MODEL" > "$tmp/cut.tflite"
expect_error "$tmp/cut.tflite: corrupt or truncated" -m "$tmp/cut.tflite" -d "$tmp"
expect_error "UINT8" -m "$DATA/dnn/mobilenetv2_imagenet/model/mobilenet_v2_1.0_224_quant.tflite" -d "$tmp"
expect_error "no label list" -m "$MODEL" -d "$tmp"
echo PASS
