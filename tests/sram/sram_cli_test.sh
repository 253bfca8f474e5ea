#!/usr/bin/env bash
# vosa sram from the command line (docs/sram.md): a fault map file a user can
# read back, the same chip from the same seed, an eval over 2 chips with
# --json, and clear errors (non-zero exit, message naming the problem, no
# output file left behind).
set -uo pipefail
source "$(dirname "$0")/../cli_prologue.sh"
MODEL="$DATA/dnn/ic_resnet8_cifar10/model/pretrainedResnet_quant.tflite"
IMAGES="$DATA/dnn/ic_resnet8_cifar10/data/ic01"
need "$MODEL" "$IMAGES"

cat > "$tmp/curve.json" <<JSON
{"schema": "vosa-sram-ber", "source": "test", "nominal_v": 1.0,
 "points": [{"voltage": 0.5, "ber": 0.05}, {"voltage": 0.7, "ber": 0.001}, {"voltage": 1.0, "ber": 0}]}
JSON

"$VOSA" sram faultmap --words 512 --width 32 --seed 5 --max-ber 0.01 --ber-curve "$tmp/curve.json" -o "$tmp/a.csv" \
  > "$tmp/out" 2>&1 || fail "faultmap: $(cat "$tmp/out")"
"$VOSA" sram faultmap --words 512 --width 32 --seed 5 --max-ber 0.01 --ber-curve "$tmp/curve.json" -o "$tmp/b.csv" \
  > /dev/null 2>&1 || fail "faultmap b"
cmp -s "$tmp/a.csv" "$tmp/b.csv" || fail "the same seed gave two different chips"
head -1 "$tmp/a.csv" | grep -qx '# vosa-sram-faultmap 1' || fail "fault map header: $(head -1 "$tmp/a.csv")"
grep -qx 'word,bit,stuck,quantile,v_fail' "$tmp/a.csv" || fail "fault map has no column line"
rows=$(grep -vc '^#\|^word' "$tmp/a.csv")
# 16384 cells at 1 %: 164 expected, 5 sigma either way
{ [ "$rows" -gt 100 ] && [ "$rows" -lt 230 ]; } || fail "$rows faulty cells of 16384 at max_ber 0.01"

"$VOSA" sram ber --ber-curve "$tmp/curve.json" --voltages 0.6 > "$tmp/out" 2>&1 || fail "ber: $(cat "$tmp/out")"
grep -q '0.600    7.071e-03   0.3600' "$tmp/out" || fail "BER and C V^2 energy at 0.6 V (log-linear between 0.05 and 0.001; 0.6^2): $(cat "$tmp/out")"

"$VOSA" sram eval -m "$MODEL" -d "$IMAGES" --input-encoding pixels -n 20 --chips 2 --bers 0,0.01 -j 2 \
  --save-maps "$tmp/maps" --json "$tmp/r.json" > "$tmp/out" 2>&1 || fail "eval: $(cat "$tmp/out")"
[ -f "$tmp/maps/chip1.csv" ] && [ -f "$tmp/maps/chip2.csv" ] || fail "eval --save-maps wrote $(ls "$tmp/maps")"
python3 - "$tmp/r.json" <<'PY' || fail "eval JSON"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["inputs"] == 20 and r["chip_seeds"] == [1, 2], r
p0, p1 = r["points"]
assert p0["top1_per_chip"] == [r["clean_top1"]] * 2, p0   # BER 0: the clean model
assert p0["flipped_bits_per_chip"] == [0, 0], p0
assert all(f > 0 for f in p1["flipped_bits_per_chip"]), p1
PY
# The saved maps evaluated again give the same accuracies.
"$VOSA" sram eval -m "$MODEL" -d "$IMAGES" --input-encoding pixels -n 20 --bers 0,0.01 -j 2 \
  --maps "$tmp/maps/chip1.csv,$tmp/maps/chip2.csv" --json "$tmp/r2.json" > "$tmp/out" 2>&1 || fail "eval --maps: $(cat "$tmp/out")"
python3 -c "import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); assert a['points']==b['points'], (a['points'], b['points'])" \
  "$tmp/r.json" "$tmp/r2.json" || fail "--maps did not reproduce the chips"

expect_error() {  # expect_error PATTERN ARGS...
  local pattern="$1"; shift
  if "$VOSA" "$@" > "$tmp/out" 2>&1; then fail "accepted: $*"; fi
  grep -q -- "$pattern" "$tmp/out" || fail "error for '$*' should mention '$pattern': $(cat "$tmp/out")"
}
# Activations through their own buffer: each chip's second map, saved beside the first.
"$VOSA" sram eval -m "$MODEL" -d "$IMAGES" --input-encoding pixels -n 10 --chips 1 --bers 0.01 --activations -j 2 \
  --save-maps "$tmp/amaps" --json "$tmp/a.json" > "$tmp/out" 2>&1 || fail "eval --activations: $(cat "$tmp/out")"
grep -qx '# buffer=activations' "$tmp/amaps/chip1_activations.csv" || fail "no activation map saved"
grep -qx '# buffer=weights' "$tmp/amaps/chip1.csv" || fail "weight map header"
# vosa sram faultmap draws the same activation map as eval did for chip 1.
"$VOSA" sram faultmap --model "$MODEL" --buffer activations --seed 1 --max-ber 0.01 -o "$tmp/act1.csv" > /dev/null 2>&1 \
  || fail "faultmap --buffer activations"
cmp -s "$tmp/act1.csv" "$tmp/amaps/chip1_activations.csv" || fail "faultmap --buffer activations differs from eval's chip 1"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['activation_buffer']=={'words': 2048, 'width': 64, 'layout': 'nhwc'}, r; assert r['points'][0]['activation_faulty_cells_per_chip'][0] > 0" \
  "$tmp/a.json" || fail "eval --activations JSON"
# The array's activation buffer (im2col rows of an 8x8 array, 64 words: docs/sram.md).
"$VOSA" sram eval -m "$MODEL" -d "$IMAGES" --input-encoding pixels -n 4 --chips 1 --bers 0.01 --activations \
  --act-array 8x8 --act-depth 64 -j 2 --json "$tmp/arr.json" > "$tmp/out" 2>&1 || fail "eval --act-array: $(cat "$tmp/out")"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r['activation_buffer']=={'words': 64, 'width': 64, 'layout': 'array 8x8 (im2col rows)'}, r" \
  "$tmp/arr.json" || fail "eval --act-array JSON"
expect_error "expected ROWSxCOLS" sram eval -m "$MODEL" -d "$IMAGES" --input-encoding pixels -n 2 --bers 0.01 \
  --activations --act-array 8by8 --act-depth 64
expect_error "needs positive rows, columns and --act-depth" sram eval -m "$MODEL" -d "$IMAGES" --input-encoding pixels \
  -n 2 --bers 0.01 --activations --act-array 8x8
expect_error "--act-array needs --activations" sram eval -m "$MODEL" -d "$IMAGES" --input-encoding pixels -n 2 \
  --bers 0.01 --act-array 8x8 --act-depth 64
expect_error "does not combine with --maps" sram eval -m "$MODEL" -d "$IMAGES" --input-encoding pixels -n 2 --bers 0.01 \
  --activations --maps "$tmp/maps/chip1.csv"
expect_error "outside \[0, 1\]" sram eval -m "$MODEL" -d "$IMAGES" --input-encoding pixels -n 2 --bers 1.5 --json "$tmp/bad.json"
[ -e "$tmp/bad.json" ] && fail "a refused eval left $tmp/bad.json"
expect_error "outside \[0, 1\]" sram faultmap --words 8 --width 8 --max-ber -0.1 -o "$tmp/bad.csv"
[ -e "$tmp/bad.csv" ] && fail "a refused faultmap left $tmp/bad.csv"
expect_error "no inputs" sram eval -m "$MODEL" -d "$IMAGES" --input-encoding pixels --first 5000 --bers 0.01
expect_error "needs --ber-curve" sram eval -m "$MODEL" -d "$IMAGES" --input-encoding pixels -n 2 --voltages 0.6
expect_error "exceeds the map's max_ber" sram eval -m "$MODEL" -d "$IMAGES" --input-encoding pixels -n 2 \
  --bers 0.02 --maps "$tmp/maps/chip1.csv"
expect_error "a.csv: fault map of a 512 x 32 buffer" sram eval -m "$MODEL" -d "$IMAGES" --input-encoding pixels -n 2 \
  --bers 0.01 --maps "$tmp/a.csv"
printf '{"schema": "vosa-sram-ber", "source": "x", "nominal_v": 1,\n "points": [{"voltage": 0.5, "ber": 0.01}, {"voltage": 0.6, "ber": 0.02}]}\n' > "$tmp/rising.json"
expect_error "rising.json: points\[1\].ber: the bit-error rate must not rise" sram ber --ber-curve "$tmp/rising.json" --voltages 0.5
# The SPICE Monte Carlo refuses bad options before any ngspice run, writing nothing.
expect_error "voltages must be strictly increasing" sram spice-ber --voltages 0.5,0.4 --cache-dir "$tmp/cache" -o "$tmp/mc.json"
expect_error "process 'zz' is not in spice.sections" sram spice-ber --voltages 0.5 --process zz --cache-dir "$tmp/cache" -o "$tmp/mc.json"
[ ! -e "$tmp/mc.json" ] || fail "spice-ber wrote a curve on bad input"
# NeuralFuse: a 2-step transform; evaluation refuses its training chips and inputs.
"$VOSA" sram fuse-train -m "$MODEL" -d "$IMAGES" --input-encoding pixels -n 16 --steps 2 --batch 8 --train-chips 2 \
  --chips-per-step 1 --train-seed 100 --grid 2 -j 2 -o "$tmp/t.json" > "$tmp/out" 2>&1 || fail "fuse-train: $(cat "$tmp/out")"
expect_error "overlap the transform's training chips 100..101" sram fuse-eval -m "$MODEL" -d "$IMAGES" \
  --input-encoding pixels --first 16 -n 4 --transform "$tmp/t.json" --chips 2 --seed 101
expect_error "overlap the transform's training inputs #0..15" sram fuse-eval -m "$MODEL" -d "$IMAGES" \
  --input-encoding pixels --first 10 -n 4 --transform "$tmp/t.json" --chips 2 --seed 1
"$VOSA" sram fuse-eval -m "$MODEL" -d "$IMAGES" --input-encoding pixels --first 16 -n 8 --transform "$tmp/t.json" \
  --chips 2 --seed 1 --bers 0.01 -j 2 --json "$tmp/f.json" > "$tmp/out" 2>&1 || fail "fuse-eval: $(cat "$tmp/out")"
grep -q "of the lost accuracy" "$tmp/out" || fail "fuse-eval output: $(cat "$tmp/out")"
echo "PASS"
