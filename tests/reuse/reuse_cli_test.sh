#!/usr/bin/env bash
# vosa reuse from the command line (docs/reuse.md): the printed stream,
# accuracy and per-layer reuse lines on a few DS-CNN clips, q = 8 verified
# bit-exact, and named errors (non-zero exit) for a bad q, a bad stride, a
# model that is not a feature-frame model and a data set of images.
set -uo pipefail
source "$(dirname "$0")/../cli_prologue.sh"
MODEL="$DATA/dnn/kws_dscnn_speechcommands/model/kws_ref_model.tflite"
CLIPS="$DATA/dnn/kws_dscnn_speechcommands/data/kws01"
RESNET="$DATA/dnn/ic_resnet8_cifar10/model/pretrainedResnet_quant.tflite"
need "$MODEL" "$CLIPS" "$RESNET"

out=$("$VOSA" reuse -m "$MODEL" -d "$CLIPS" --clips 3 --stride 4 --q 8 --verify 2>&1) || fail "q=8 run: $out"
echo "$out"
grep -q 'stride 4, labelled by the clip of the centre frame: 25 windows' <<<"$out" || fail "no stream line"
grep -Eq 'baseline top-1 ([0-9.]+) % \(([0-9]+)/25\)  reuse q=8 top-1 \1 % \(\2/25\)  same prediction 100.00 %' <<<"$out" ||
  fail "q=8 must give the baseline's predictions"
[ "$(grep -Ec '^[0-9]+ +(CONV_2D|DEPTHWISE_CONV_2D|FULLY_CONNECTED) ' <<<"$out")" = 10 ] || fail "expected 10 layer rows"
grep -q 'delta accumulators verified against recomputation' <<<"$out" || fail "no verification note"

expect_error() {  # expect_error PATTERN ARGS...
  local pattern="$1"; shift
  local msg
  if msg=$("$VOSA" reuse "$@" 2>&1); then fail "accepted: $*"; fi
  grep -q -- "$pattern" <<<"$msg" || fail "error for '$*' does not say '$pattern': $msg"
  echo "ok: $msg"
}
expect_error "--q 9: the activation quantization width must be in \[1, 8\]" -m "$MODEL" -d "$CLIPS" --clips 2 --q 9
expect_error "--q 0: " -m "$MODEL" -d "$CLIPS" --clips 2 --q 0
expect_error "--stride 50: the window stride must be in \[1, 49\]" -m "$MODEL" -d "$CLIPS" --clips 2 --stride 50
expect_error "is not a 1 x frames x features x 1 INT8 feature input" -m "$RESNET" -d "$CLIPS" --clips 2
mkdir "$tmp/images"
echo "a.jpg,0" > "$tmp/images/dataset_1001.txt"
expect_error "holds JPEG images, not a stream of feature frames" -m "$MODEL" -d "$tmp/images"
expect_error "--layer-q 9=5: operator 9 (AVERAGE_POOL_2D) is not a CONV_2D" -m "$MODEL" -d "$CLIPS" --clips 2 --layer-q 9=5
expect_error "--layer-q 'x': expected OPERATOR=BITS" -m "$MODEL" -d "$CLIPS" --clips 2 --layer-q x
out=$("$VOSA" reuse -m "$MODEL" -d "$CLIPS" --clips 2 --layer-q 0=6,2=7 2>&1) || fail "--layer-q run: $out"
grep -q 'per-layer widths: 0=6 2=7 (other array layers q=8)' <<<"$out" || fail "no per-layer width line: $out"
# Criticality analysis: widths chosen on clips [0, 2), evaluated on clips [2, 4).
out=$("$VOSA" reuse -m "$MODEL" -d "$CLIPS" --clips 4 --calibration-clips 2 --budget 0 --budget-on agreement \
  --sensitivity-windows 1 --max-evaluations 4 --min-q 6 --widths-json "$tmp/w.json" 2>&1) || fail "--budget run: $out"
echo "$out"
grep -q 'split: calibration clips \[0, 2), held-out clips \[2, 4)' <<<"$out" || fail "no split line"
grep -Eq 'calibration: .* same prediction 100.00 %  loss 0.00 points \(agreement\)' <<<"$out" ||
  fail "budget 0 on agreement must keep every calibration prediction"
grep -q 'stride 4, labelled by the clip of the centre frame: 13 windows' <<<"$out" || fail "held-out part is not clips 2-3"
grep -q 'reuse per-channel q top-1' <<<"$out" || fail "no per-channel result line"
grep -Eq '^array cycles \(16x16 weight-stationary\): [0-9]+ recomputing' <<<"$out" || fail "no cycles line"
grep -Eq '^top-1 loss [-0-9.]+ points, 95 % CI' <<<"$out" || fail "no loss CI line"
python3 -c "import json,sys; j=json.load(open('$tmp/w.json')); assert len(j['widths']['0'])==1 and len(j['widths']['2'])==64, j['widths'].keys(); assert len(j['channels'])==577" ||
  fail "widths JSON"
expect_error "--budget: needs --calibration-clips" -m "$MODEL" -d "$CLIPS" --clips 4 --budget 1
expect_error "do not combine it with --q" -m "$MODEL" -d "$CLIPS" --clips 4 --calibration-clips 2 --budget 1 --q 6
expect_error "--calibration-clips: clips \[4, 4)" -m "$MODEL" -d "$CLIPS" --clips 4 --calibration-clips 4
expect_error "--budget-on 'x': expected top1 or agreement" -m "$MODEL" -d "$CLIPS" --clips 4 --calibration-clips 2 \
  --budget 1 --budget-on x
expect_error "--rows 0 --cols 16: the array's rows and columns must be >= 1" -m "$MODEL" -d "$CLIPS" --clips 2 --rows 0
echo PASS
