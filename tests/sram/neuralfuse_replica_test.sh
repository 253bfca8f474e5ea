#!/usr/bin/env bash
# NeuralFuse, relaxed access (docs/sram.md): `vosa sram export` and `vosa sram fuse-eval
# --transformed` from the command line, then the float replica of
# scripts/neuralfuse_relaxed.py against the int8 engine (neuralfuse_replica_check.py):
# the same faulty weights, the same clean top-1, the same faulty accuracy.
# The replica half needs Debian's python3-torch; without it that half is skipped (exit 77).
set -uo pipefail
source "$(dirname "$0")/../cli_prologue.sh"
PY=/usr/bin/python3  # Debian's, where python3-torch is installed
MODEL="$DATA/dnn/ic_resnet8_cifar10/model/pretrainedResnet_quant.tflite"
IMAGES="$DATA/dnn/ic_resnet8_cifar10/data/ic01"
need "$MODEL" "$IMAGES"
N=100

"$VOSA" sram faultmap --model "$MODEL" --seed 7 --max-ber 0.01 -o "$tmp/chip7.csv" > /dev/null 2>&1 || fail "faultmap"
"$VOSA" sram export -m "$MODEL" --maps "$tmp/chip7.csv" --bers 0.01 -o "$tmp/e.json" > "$tmp/out" 2>&1 ||
  fail "export: $(cat "$tmp/out")"
# Bad input: chips without a BER, a map of another buffer; no output left behind.
"$VOSA" sram export -m "$MODEL" --chips 2 -o "$tmp/x.json" > "$tmp/out" 2>&1 && fail "export --chips without --bers passed"
grep -q -- "--bers" "$tmp/out" || fail "export without --bers: $(cat "$tmp/out")"
"$VOSA" sram faultmap --words 100 --width 64 --seed 1 --max-ber 0.01 -o "$tmp/small.csv" > /dev/null 2>&1
"$VOSA" sram export -m "$MODEL" --maps "$tmp/small.csv" --bers 0.01 -o "$tmp/x.json" > "$tmp/out" 2>&1 &&
  fail "export took a map of another geometry"
grep -q "small.csv: fault map of a 100 x 64 buffer" "$tmp/out" || fail "wrong-geometry message: $(cat "$tmp/out")"
[ ! -e "$tmp/x.json" ] && ! compgen -G "$tmp/x.json.*" > /dev/null || fail "a refused export left a file"

# fuse-eval --transformed with the identity "transform" (the first 20 images copied):
# with = without on every chip, and the training record's chips refused for evaluation.
mkdir "$tmp/same"
head -20 "$IMAGES/y_labels.csv" > "$tmp/same/y_labels.csv"
cut -d, -f1 "$tmp/same/y_labels.csv" | while read -r f; do cp "$IMAGES/$f" "$tmp/same/"; done
cat > "$tmp/same/transform.json" <<JSON
{"trained": {"data": "/nonexistent/train", "first": 0, "inputs": 10, "train_seed": 1000, "train_chips": 16, "width": 64},
 "ops_per_inference": 1000}
JSON
"$VOSA" sram fuse-eval -m "$MODEL" -d "$IMAGES" -n 20 --input-encoding pixels --transformed "$tmp/same" --bers 0.01 \
  --chips 2 --seed 1 -j 2 --json "$tmp/f.json" > "$tmp/out" 2>&1 || fail "fuse-eval --transformed: $(cat "$tmp/out")"
"$PY" - "$tmp/f.json" <<'EOF' || fail "identity transform: $(cat "$tmp/out")"
import json, sys
j = json.load(open(sys.argv[1]))
a, b = j["without"]["points"][0]["top1_per_chip"], j["with"]["points"][0]["top1_per_chip"]
assert a == b, (a, b)
assert j["transform_ops_per_inference"] == 1000
EOF
"$VOSA" sram fuse-eval -m "$MODEL" -d "$IMAGES" -n 20 --input-encoding pixels --transformed "$tmp/same" --bers 0.01 \
  --chips 2 --seed 1001 > "$tmp/out" 2>&1 && fail "fuse-eval accepted training chips"
grep -q "overlap the transform's training chips 1000..1015" "$tmp/out" || fail "overlap message: $(cat "$tmp/out")"
awk -F, 'NR == 1 { $3 = ($3 + 1) % 10 } { print $1 "," $2 "," $3 }' "$tmp/same/y_labels.csv" > "$tmp/labels"
mv "$tmp/labels" "$tmp/same/y_labels.csv"
"$VOSA" sram fuse-eval -m "$MODEL" -d "$IMAGES" -n 20 --input-encoding pixels --transformed "$tmp/same" --bers 0.01 \
  --chips 1 --seed 1 > "$tmp/out" 2>&1 && fail "fuse-eval accepted other labels"
grep -q "labels differ" "$tmp/out" || fail "label message: $(cat "$tmp/out")"

if ! "$PY" -c "import torch" 2> /dev/null; then
  echo "SKIP: the float replica half needs Debian's python3-torch ($PY -c 'import torch' failed; scripts/setup.sh --deps)"
  exit 77
fi
"$VOSA" infer -m "$MODEL" -d "$IMAGES" -n "$N" --input-encoding pixels -q -j 2 --outputs "$tmp/clean.csv" > /dev/null 2>&1 ||
  fail "infer --outputs"
"$VOSA" sram eval -m "$MODEL" -d "$IMAGES" -n "$N" --input-encoding pixels --maps "$tmp/chip7.csv" --bers 0.01 -j 2 \
  --json "$tmp/eval.json" > /dev/null 2>&1 || fail "sram eval --maps"
"$PY" "$SRC/tests/sram/neuralfuse_replica_check.py" "$tmp/e.json" "$tmp/chip7.csv" "$tmp/clean.csv" "$tmp/eval.json" \
  "$IMAGES" "$N" || fail "replica against the engine"
echo PASS
