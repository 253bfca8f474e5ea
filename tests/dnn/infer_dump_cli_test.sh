#!/usr/bin/env bash
# vosa infer-dump and scripts/compare_tensors.py (no Arm NN needed): the
# per-tensor CSV, the output CSV, the TFLite-vs-Arm NN comparison, --isolate,
# and clear errors for bad input.
set -uo pipefail
source "$(dirname "$0")/../cli_prologue.sh"
SCRIPTS="$(dirname "$0")/../../scripts"
MODEL="$DATA/dnn/kws_dscnn_speechcommands/model/kws_ref_model.tflite"
SET="$DATA/dnn/kws_dscnn_speechcommands/data/kws01"
need "$MODEL" "$SET"

# Two samples, 13 operators with one output each: 26 lines file,op,tensor,name,values.
"$VOSA" infer-dump -m "$MODEL" -d "$SET" -n 2 -o "$tmp/tflite.csv" --outputs "$tmp/out.csv" > "$tmp/log" 2>&1 \
  || fail "dump: $(cat "$tmp/log")"
grep -Eq 'tflite arithmetic: top-1 [0-9.]+ % \([0-9]/2\)' "$tmp/log" || fail "no top-1 line: $(cat "$tmp/log")"
[ "$(wc -l < "$tmp/tflite.csv")" = 26 ] || fail "expected 26 tensor lines, got $(wc -l < "$tmp/tflite.csv")"
awk -F, 'NF != 5 { print "bad line " NR; exit 1 } $2 == 0 && split($5, v, " ") != 8000 { print "op 0 size"; exit 1 }' \
  "$tmp/tflite.csv" || fail "tensor CSV format"
# The last operator's tensor is the model output that --outputs writes.
[ "$(awk -F, '$2 == 12 { print $5 }' "$tmp/tflite.csv")" = "$(cut -d, -f4 "$tmp/out.csv")" ] \
  || fail "output tensor differs from --outputs"

# compare_tensors.py: identical dumps -> 0; TFLite's reference kernels vs Arm
# NN arithmetic -> 1, first difference at the first operator (docs/dnn.md).
python3 "$SCRIPTS/compare_tensors.py" "$tmp/tflite.csv" "$tmp/tflite.csv" > "$tmp/same.txt" || fail "identical dumps"
grep -q "identical" "$tmp/same.txt" || fail "identical: $(cat "$tmp/same.txt")"
"$VOSA" infer-dump -m "$MODEL" -d "$SET" -n 2 -o "$tmp/armnn.csv" --arithmetic armnn > /dev/null 2>&1 \
  || fail "armnn dump"
"$VOSA" infer-dump -m "$MODEL" -d "$SET" -n 2 -o "$tmp/reference.csv" --arithmetic tflite-reference > "$tmp/log" 2>&1 \
  || fail "tflite-reference dump"
grep -q 'tflite-reference arithmetic: top-1' "$tmp/log" || fail "tflite-reference label: $(cat "$tmp/log")"
python3 "$SCRIPTS/compare_tensors.py" "$tmp/reference.csv" "$tmp/armnn.csv" > "$tmp/diff.txt"
[ $? = 1 ] || fail "TFLite reference kernels vs Arm NN arithmetic should differ: $(cat "$tmp/diff.txt")"
[ "$(grep -c 'first difference at op 0' "$tmp/diff.txt")" = 2 ] || fail "first difference: $(cat "$tmp/diff.txt")"
python3 "$SCRIPTS/compare_tensors.py" "$tmp/reference.csv" "$tmp/tflite.csv" > /dev/null
[ $? = 1 ] || fail "tflite and tflite-reference arithmetic should differ"
python3 "$SCRIPTS/compare_tensors.py" "$tmp/tflite.csv" "$tmp/missing.csv" > /dev/null 2>&1
[ $? = 2 ] || fail "compare_tensors.py on a missing file should exit 2"

# --isolate: one row per operator; DS-CNN's SOFTMAX agrees from identical inputs.
"$VOSA" infer-dump -m "$MODEL" -d "$SET" -n 3 --isolate > "$tmp/iso.txt" 2>&1 || fail "isolate: $(cat "$tmp/iso.txt")"
[ "$(grep -c '^  op ' "$tmp/iso.txt")" = 13 ] || fail "isolate rows: $(cat "$tmp/iso.txt")"
grep -Eq 'op +12 SOFTMAX +0 / +36 ' "$tmp/iso.txt" || fail "isolate softmax: $(cat "$tmp/iso.txt")"

expect_error() {  # expect_error PATTERN ARGS...
  local pattern="$1"; shift
  local out
  out=$("$VOSA" infer-dump "$@" 2>&1) && fail "expected failure: $*"
  grep -q -- "$pattern" <<<"$out" || fail "message for '$*' lacks '$pattern': $out"
}
expect_error "unknown operator 'FOO'" -m "$MODEL" -d "$SET" --armnn-ops FOO
expect_error "--armnn-ops: give --arithmetic tflite or tflite-reference" -m "$MODEL" -d "$SET" --armnn-ops CONV_2D --arithmetic armnn
expect_error "missing.tflite" -m "$tmp/missing.tflite" -d "$SET"
expect_error "limit" -m "$MODEL" -d "$SET" -n -1
expect_error "cannot write" -m "$MODEL" -d "$SET" -o "$tmp/no/such/dir/t.csv"
[ -z "$(find "$tmp" -name '*.partial')" ] || fail "half-written output left behind"
echo "infer-dump CLI: OK"
