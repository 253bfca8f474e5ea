#!/usr/bin/env bash
# vosa infer with error injection from the command line (docs/inject.md): a
# synthetic error model for the default 8x8 config, the printed and --json
# numbers, --settings, and clear errors (non-zero exit, message naming the
# problem, no JSON left behind).
set -uo pipefail
source "$(dirname "$0")/../cli_prologue.sh"
MODEL="$DATA/dnn/ic_resnet8_cifar10/model/pretrainedResnet_quant.tflite"
IMAGES="$DATA/dnn/ic_resnet8_cifar10/data/ic01"
need "$MODEL" "$IMAGES"

# Two points: 1.0 V with bit 18 wrong in 1 % of the cycles, 1.2 V error-free.
errmodel() {  # errmodel ACC_BITS
  cat <<JSON
{"schema_version": 1, "pdk": "synthetic", "design": {"acc_bits": $1, "signed": true},
 "netlist_hash": "0", "operand_source": "test",
 "points": [
  {"voltage": 1.0, "period_ns": 5.0, "delay_source": "liberty-corner", "samples": 1000, "cycles_with_error": 10,
   "bits": [{"bit": 18, "p_error": 0.01, "ci95": [0.005, 0.02]}], "error_values": [],
   "error_patterns": [{"mask": 262144, "count": 10}]},
  {"voltage": 1.2, "period_ns": 5.0, "delay_source": "liberty-corner", "samples": 1000, "cycles_with_error": 0,
   "bits": [{"bit": 18, "p_error": 0.0, "ci95": [0.0, 0.004]}], "error_values": [], "error_patterns": []}]}
JSON
}
errmodel 19 > "$tmp/em.json"
errmodel 20 > "$tmp/em20.json"
ARGS=(infer -m "$MODEL" -d "$IMAGES" --input-encoding pixels -n 10 -j 2 --config "$SRC/generator/examples/default.json")

out=$("$VOSA" "${ARGS[@]}" --errmodel "$tmp/em.json" --voltages 1.0 --json "$tmp/r.json" 2>&1) || fail "run: $out"
echo "$out"
grep -Eq 'clean top-1 [0-9.]+ % \([0-9]+/10\)  faulty top-1 [0-9.]+ %  paired loss' <<<"$out" || fail "no result line"
grep -q 'hits per 1e6 captures' <<<"$out" || fail "no injection line"
python3 - "$tmp/r.json" <<'PY' || fail "r.json"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["samples"] == 10 and len(j["layers"]) == 10, j.keys()
rate = j["hits_per_million_captures"]
assert 9000 < rate < 11000, rate          # 1 % of the captures
assert all(l["razor_detected"] == 0 for l in j["layers"])
assert abs(j["loss"] - (j["clean_top1"] - j["faulty_top1"])) < 1e-12
PY

# Razor on bit 18 (the only failing bit), correct: exact, with stall cycles.
out=$("$VOSA" "${ARGS[@]}" --errmodel "$tmp/em.json" --voltages 1.0 --razor-bits 18 --razor-policy correct 2>&1) \
  || fail "razor run: $out"
grep -q 'paired loss 0.00 % +- 0.00' <<<"$out" || fail "Razor-correct on every failing bit is not exact: $out"
grep -Eq 'Razor stall cycles [1-9]' <<<"$out" || fail "no stall cycles: $out"

# The same through a settings file; error-free voltage: no hits.
printf '{"errmodel": "em.json", "voltages": [1.2]}\n' > "$tmp/s.json"
out=$("$VOSA" "${ARGS[@]}" --settings "$tmp/s.json" 2>&1) || fail "settings run: $out"
grep -q 'faulty top-1.*paired loss 0.00 %' <<<"$out" || fail "error-free settings: $out"
grep -q ' 0.0 hits per 1e6' <<<"$out" || fail "error-free settings made hits: $out"

expect_error() {  # expect_error PATTERN ARGS...
  local pattern="$1"; shift
  local msg
  if msg=$("$VOSA" "$@" 2>&1); then fail "expected an error ($pattern): $*"; fi
  grep -q -- "$pattern" <<<"$msg" || fail "error does not say '$pattern': $msg"
  [ ! -e "$tmp/bad.json" ] || fail "JSON written despite the error"
}
expect_error "available voltages: 1, 1.2" "${ARGS[@]}" --errmodel "$tmp/em.json" --voltages 1.1 --json "$tmp/bad.json"
expect_error "acc_bits 20" "${ARGS[@]}" --errmodel "$tmp/em20.json" --voltages 1.0 --json "$tmp/bad.json"
expect_error "no point at period" "${ARGS[@]}" --errmodel "$tmp/em.json" --voltages 1.0 --period-ns 3 --json "$tmp/bad.json"
expect_error "needs --config" infer -m "$MODEL" -d "$IMAGES" --input-encoding pixels --errmodel "$tmp/em.json" --voltages 1.0
expect_error "cannot open error model" "${ARGS[@]}" --errmodel "$tmp/missing.json" --voltages 1.0
expect_error "Razor bit 19" "${ARGS[@]}" --errmodel "$tmp/em.json" --voltages 1.0 --razor-bits 19
printf '{"errmodel": "em.json", "voltages": [1.0], "layers": [{"op": 3, "voltages": [1.0]}]}\n' > "$tmp/op3.json"
expect_error "op 3 is not an array layer" "${ARGS[@]}" --settings "$tmp/op3.json" --json "$tmp/bad.json"
printf '{"errmodel": "em.json", "voltages": [1.0, 1.0]}\n' > "$tmp/two.json"
expect_error "2 voltage(s) for 1 island(s)" "${ARGS[@]}" --settings "$tmp/two.json"
expect_error "excludes" "${ARGS[@]}" --settings "$tmp/two.json" --voltages 1.0
echo "ok"
