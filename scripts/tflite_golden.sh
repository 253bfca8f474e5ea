#!/usr/bin/env bash
# Runs one int8 classifier on one data set with TensorFlow Lite itself
# (scripts/tflite_runner.js) and with vosa's engine (vosa infer), and checks
# that every output tensor is identical (docs/dnn.md, "Bit-exact with TFLite").
#
#   scripts/tflite_golden.sh MODEL.tflite DATA_DIR [--pixels] [--limit N] [--tensors K] [--arithmetic A]
#
# DATA_DIR: y_labels.csv + .bin tensors, or dataset_1001.txt + JPEGs (then
# vosa decodes and resizes them once, writes the tensors with --save-inputs,
# and both engines run on those, so JPEG decoding does not enter).
# --pixels     .bin bytes are pixels (vosa --input-encoding pixels)
# --limit N    the first N samples (default: all)
# --tensors K  also compare every operator's output tensor on the first K
#              samples (vosa infer-dump against the runner's --tensors)
# --arithmetic A  vosa's arithmetic (default tflite)
# Environment: VOSA (default build/vosa), VOSA_TFLITE_RUNTIME (npm prefix of
# the runtime, default build/tflite-runtime), KEEP=dir keeps the CSVs there.
# Exit 0: identical; 1: some value differs, or one side rejects the model or
# data (both messages are printed); 2: usage.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VOSA="${VOSA:-$ROOT/build/vosa}"
usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 2 ] || usage
MODEL="$1" DATA="$2"
shift 2
PIXELS=0 LIMIT="" TENSORS=0 ARITH=tflite
while [ $# -gt 0 ]; do
  case "$1" in
    --pixels) PIXELS=1 ;;
    --limit) LIMIT="${2:?--limit needs a count}"; shift ;;
    --tensors) TENSORS="${2:?--tensors needs a count}"; shift ;;
    --arithmetic) ARITH="${2:?--arithmetic needs a name}"; shift ;;
    *) usage ;;
  esac
  shift
done
for p in "$VOSA" "$MODEL" "$DATA"; do
  [ -e "$p" ] || { echo "tflite_golden: missing $p"; exit 1; }
done
command -v node > /dev/null || { echo "tflite_golden: missing node (Node.js): scripts/setup.sh --deps installs it"; exit 1; }
if [ -n "${KEEP:-}" ]; then tmp="$KEEP"; mkdir -p "$tmp"; else tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT; fi

vosa_args=(-m "$MODEL" -q)
runner_args=()
[ "$PIXELS" = 1 ] && { vosa_args+=(--input-encoding pixels); runner_args+=(--pixels); }
[ -n "$LIMIT" ] && { vosa_args+=(-n "$LIMIT"); runner_args+=(--limit "$LIMIT"); }
if [ -f "$DATA/dataset_1001.txt" ] && [ ! -f "$DATA/y_labels.csv" ]; then
  # JPEGs: both engines get the tensors vosa's preprocessing makes.
  rm -rf "$tmp/inputs"
  if ! "$VOSA" infer -d "$DATA" --save-inputs "$tmp/inputs" "${vosa_args[@]}" > "$tmp/save.log" 2>&1; then
    echo "tflite_golden: vosa could not prepare the input tensors: $(cat "$tmp/save.log")"
    exit 1
  fi
  DATA="$tmp/inputs"
fi
# Tensor files (not pixels) are read as they are: vosa's `auto` would refuse an
# int8 input with zero point -128 as ambiguous.
[ "$PIXELS" = 1 ] || vosa_args+=(--input-encoding raw)

"$VOSA" infer -d "$DATA" --arithmetic "$ARITH" --outputs "$tmp/vosa.csv" "${vosa_args[@]}" > "$tmp/vosa.log" 2>&1
vosa_rc=$?
node "$ROOT/scripts/tflite_runner.js" "$MODEL" "$DATA" "$tmp/tflite.csv" "${runner_args[@]}" > "$tmp/tflite.log" 2>&1
tflite_rc=$?
if [ $vosa_rc != 0 ] || [ $tflite_rc != 0 ]; then
  verdict() { [ "$1" = 0 ] && echo "accepts it" || echo "rejects it"; }
  echo "tflite_golden: $MODEL on $DATA: TFLite $(verdict $tflite_rc), vosa $(verdict $vosa_rc)"
  echo "  TFLite: $(tail -n 3 "$tmp/tflite.log")"
  echo "  vosa:   $(tail -n 3 "$tmp/vosa.log")"
  exit 1
fi

# Same samples in the same order; compare label, prediction and values.
status=0
if ! python3 - "$tmp/vosa.csv" "$tmp/tflite.csv" <<'EOF'
import os, sys
def read(path):
    rows = []
    for line in open(path):
        f = line.rstrip("\n").split(",", 3)
        rows.append((os.path.basename(f[0]), f[1], f[2], f[3].split()))
    return rows
a, b = read(sys.argv[1]), read(sys.argv[2])
if [r[0] for r in a] != [r[0] for r in b]:
    sys.exit(f"  the two CSVs hold different samples ({len(a)} vs {len(b)})")
same = sum(x[3] == y[3] for x, y in zip(a, b))
values = sum(sum(p != q for p, q in zip(x[3], y[3])) for x, y in zip(a, b))
preds = sum(x[2] != y[2] for x, y in zip(a, b))
print(f"  outputs: {same} of {len(a)} identical; {values} values and {preds} predictions differ")
sys.exit(0 if same == len(a) else 1)
EOF
then status=1; fi
echo "  TFLite: $(tail -n 1 "$tmp/tflite.log")"
echo "  vosa ($ARITH): $(tail -n 1 "$tmp/vosa.log")"

if [ "$TENSORS" -gt 0 ]; then
  enc=() pix=()
  [ "$PIXELS" = 1 ] && { enc=(--input-encoding pixels); pix=(--pixels); }
  "$VOSA" infer-dump -m "$MODEL" -d "$DATA" -n "$TENSORS" "${enc[@]}" --arithmetic "$ARITH" -o "$tmp/vosa_tensors.csv" \
    > "$tmp/dump.log" 2>&1 || { echo "tflite_golden: vosa infer-dump: $(cat "$tmp/dump.log")"; exit 1; }
  node "$ROOT/scripts/tflite_runner.js" "$MODEL" "$DATA" "$tmp/tflite_first.csv" "${pix[@]}" \
    --limit "$TENSORS" --tensors "$tmp/tflite_tensors.csv" > "$tmp/tflite_tensors.log" 2>&1 \
    || { echo "tflite_golden: tflite_runner --tensors: $(cat "$tmp/tflite_tensors.log")"; exit 1; }
  python3 "$ROOT/scripts/compare_tensors.py" "$tmp/vosa_tensors.csv" "$tmp/tflite_tensors.csv" > "$tmp/compare.txt"
  rc=$?
  ops=$(grep -c '^  op ' "$tmp/compare.txt")
  if [ $rc = 0 ]; then
    echo "  tensors: every output of all $ops operators identical on the first $TENSORS sample(s)"
  else
    echo "  tensors: differ (scripts/compare_tensors.py):"
    sed 's/^/  /' "$tmp/compare.txt"
    status=1
  fi
fi
exit $status
