#!/usr/bin/env bash
# vosa infer from the command line: a short accuracy run, and clear errors
# (non-zero exit, message naming the file) for a missing model, a truncated
# model and an unsupported model.
set -uo pipefail
source "$(dirname "$0")/../cli_prologue.sh"
MODEL="$DATA/dnn/kws_dscnn_speechcommands/model/kws_ref_model.tflite"
need "$MODEL" "$DATA/dnn/kws_dscnn_speechcommands/data/kws01"

out=$("$VOSA" infer -m "$MODEL" -d "$DATA/dnn/kws_dscnn_speechcommands/data/kws01" -n 50 -j 1 2>&1) || fail "run: $out"
echo "$out"
grep -Eq 'top-1 [0-9.]+ % \([0-9]+/50\)' <<<"$out" || fail "no top-1 line"

# --outputs: one CSV line per sample whose prediction is the argmax of its
# values (lowest index on ties) and whose count of correct lines is top-1.
"$VOSA" infer -m "$MODEL" -d "$DATA/dnn/kws_dscnn_speechcommands/data/kws01" -n 50 -j 2 -q \
  --outputs "$tmp/outputs.csv" > "$tmp/outputs.log" 2>&1 || fail "outputs run: $(cat "$tmp/outputs.log")"
[ "$(wc -l < "$tmp/outputs.csv")" = 50 ] || fail "expected 50 output lines"
awk -F, '{ n = split($4, v, " "); best = 1; for (i = 2; i <= n; i++) if (v[i] + 0 > v[best] + 0) best = i;
           if (best - 1 != $3) { print "bad argmax: " $0; bad = 1 } if ($3 == $2) ok++ }
         END { if (n != 12) { print "expected 12 values, got " n; bad = 1 } print ok > "/dev/stderr"; exit bad }' \
  "$tmp/outputs.csv" 2> "$tmp/correct.txt" || fail "outputs.csv: argmax or width"
grep -q "($(cat "$tmp/correct.txt")/50)" "$tmp/outputs.log" || fail "outputs.csv correct count $(cat "$tmp/correct.txt") vs $(cat "$tmp/outputs.log")"

# Operand traces of real layers from the engine, readable by vosa trace show.
"$VOSA" infer -m "$MODEL" -d "$DATA/dnn/kws_dscnn_speechcommands/data/kws01" -n 1 -q \
  --trace-dir "$tmp/traces" --trace-pe 3,5 --trace-array 16x16 --trace-records 500 > "$tmp/trace.log" 2>&1 \
  || fail "trace run: $(cat "$tmp/trace.log")"
[ "$(ls "$tmp/traces"/*.vtrace | wc -l)" = 10 ] || fail "expected 10 layer traces, got $(ls "$tmp/traces")"
"$VOSA" trace show "$tmp/traces/op1_DEPTHWISE_CONV_2D_pe3_5.vtrace" -n 2 > "$tmp/show.txt" || fail "trace show"
# The whole layer sampled (docs/dnn.md): 4 channel groups x 9 K tiles = 36 tile passes of
# 125 cycles, 500 records at most: runs of 500 / 36 = 13 consecutive cycles per pass.
grep -q '"count": 468' "$tmp/show.txt" || fail "trace count: $(cat "$tmp/show.txt")"
grep -q 'sampled: 13 consecutive cycles of every tile pass' "$tmp/show.txt" || fail "trace sampling rule: $(cat "$tmp/show.txt")"
grep -q '"acc_bits": 20' "$tmp/show.txt" || fail "trace acc_bits"

# --trace-sample K traces input K; flow/trace_inputs.sh concatenates inputs in order, records and
# counts those of the single-input traces (what validate-errmodel and explore's per-layer models use).
KWS="$DATA/dnn/kws_dscnn_speechcommands/data/kws01"
second=$(sed -n 2p "$KWS/y_labels.csv" | cut -d, -f1)
for k in 0 1; do
  "$VOSA" infer -m "$MODEL" -d "$KWS" -n 1 -q --trace-sample $k --trace-dir "$tmp/s$k" --trace-pe 3,5 \
    --trace-records 250 > "$tmp/s$k.log" 2>&1 || fail "--trace-sample $k: $(cat "$tmp/s$k.log")"
done
"$VOSA" trace show "$tmp/s1/op1_DEPTHWISE_CONV_2D_pe3_5.vtrace" -n 0 | grep -q "input .*$second" ||
  fail "--trace-sample 1 does not name the second input ($second)"
"$(dirname "$0")/../../flow/trace_inputs.sh" "$VOSA" "$MODEL" "$KWS" auto 16x16 3,5 500 0 2 "$tmp/cat" > "$tmp/cat.log" ||
  fail "trace_inputs.sh: $(cat "$tmp/cat.log")"
python3 - "$tmp" <<'PY' || fail "trace_inputs.sh: not the concatenation of the single-input traces"
import struct, json, sys
t = sys.argv[1]
def read(p):
    d = open(p, "rb").read(); n = struct.unpack_from("<I", d, 8)[0]
    return json.loads(d[12:12 + n]), d[12 + n:]
name = "op1_DEPTHWISE_CONV_2D_pe3_5.vtrace"
(h0, r0), (h1, r1), (hc, rc) = read(f"{t}/s0/{name}"), read(f"{t}/s1/{name}"), read(f"{t}/cat/{name}")
assert hc["count"] == h0["count"] + h1["count"] and rc == r0 + r1, (hc["count"], h0["count"], h1["count"])
PY
grep -q "trace: $tmp/cat/op1_DEPTHWISE_CONV_2D_pe3_5.vtrace" "$tmp/cat.log" || fail "trace_inputs.sh listing: $(cat "$tmp/cat.log")"

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
expect_error "--trace-sample 1000: the data set has only 1000 sample(s)" -m "$MODEL" -d "$KWS" -n 1 \
  --trace-sample 1000 --trace-dir "$tmp/none" --trace-pe 0,0

# Input encoding (issue 11, point 2). ResNet-8's int8 input has zero point
# -128, so its .bin files could be the int8 tensor or uint8 pixels: without
# --input-encoding (or a vosa_dataset.json beside the data) vosa refuses,
# naming the flag, instead of reading pixels as int8 (18 % instead of 80 %).
RESNET="$DATA/dnn/ic_resnet8_cifar10"
RMODEL="$RESNET/model/pretrainedResnet_quant.tflite"
expect_error "Give --input-encoding" -m "$RMODEL" -d "$RESNET/data/ic01" -n 5 -j 1
mkdir -p "$tmp/ic"
head -n 20 "$RESNET/data/ic01/y_labels.csv" > "$tmp/ic/y_labels.csv"
cut -d, -f1 "$tmp/ic/y_labels.csv" | while read -r f; do ln -s "$RESNET/data/ic01/$f" "$tmp/ic/$f"; done
echo '{"input_encoding": "pixels"}' > "$tmp/ic/vosa_dataset.json"
desc=$("$VOSA" infer -m "$RMODEL" -d "$tmp/ic" -j 1 -q 2>&1) || fail "descriptor run: $desc"
flag=$("$VOSA" infer -m "$RMODEL" -d "$tmp/ic" -j 1 -q --input-encoding pixels 2>&1) || fail "flag run: $flag"
[ "$(grep -o "top-1.*top-5[^)]*)" <<<"$desc")" = "$(grep -o "top-1.*top-5[^)]*)" <<<"$flag")" ] || fail "vosa_dataset.json pixels ($desc) differs from --input-encoding pixels ($flag)"
echo "ok: vosa_dataset.json gives the same as --input-encoding pixels: $desc"
echo '{"input_encoding": "rgb"}' > "$tmp/ic/vosa_dataset.json"
expect_error "vosa_dataset.json: input_encoding is" -m "$RMODEL" -d "$tmp/ic" -j 1
# DS-CNN's input has zero point 83: only raw makes sense, so auto is raw (the
# runs above) and an explicit pixels is refused.
expect_error "must hold the int8 tensor" -m "$MODEL" -d "$DATA/dnn/kws_dscnn_speechcommands/data/kws01" -n 2 \
  --input-encoding pixels
# Through a file: grep -q stops reading at the match, and the rest of the help would then die of SIGPIPE.
"$VOSA" infer --help > "$tmp/help.txt" || fail "vosa infer --help"
grep -q -- "--input-encoding TEXT:{auto,raw,pixels}=auto" "$tmp/help.txt" || fail "--help does not show the default"
echo PASS
