#!/usr/bin/env bash
# `vosa bitwidth` end to end on 40 DS-CNN samples with a small energy file,
# and its bad input: non-zero exit, a message naming the problem, no output
# left behind, a foreign folder never deleted.
set -u
VOSA=$1 SRC=$2
DATA="${VOSA_DATA_DIR:-$SRC/../shared}/dnn/kws_dscnn_speechcommands"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
cat > "$T/energy.json" <<'JSON'
{"energy_source": "test fixture", "pdk": "none", "nominal_voltage": 1.8, "period_ns": 10,
 "modes": [{"bits": 8, "energy_per_mac_pj": 4.0, "error_free_voltage": 1.7, "energy_per_mac_pj_at_error_free": 3.6},
           {"bits": 6, "energy_per_mac_pj": 1.0, "error_free_voltage": 1.5, "energy_per_mac_pj_at_error_free": 0.7},
           {"bits": 4, "energy_per_mac_pj": 0.5, "error_free_voltage": 1.4, "energy_per_mac_pj_at_error_free": 0.3}]}
JSON
base=(-m "$DATA/model/kws_ref_model.tflite" -d "$DATA/data/kws01" -n 40 -j 1)
if ! "$VOSA" bitwidth "${base[@]}" --energy "$T/energy.json" -o "$T/ok" > "$T/ok.log" 2>&1; then
  cat "$T/ok.log"; echo "FAIL: vosa bitwidth on DS-CNN"; fail=1
else
  python3 - "$T/ok/bitwidth.json" <<'PY' || fail=1
import json, sys
j = json.load(open(sys.argv[1]))
assert j["calibration_inputs"] == 20 and j["held_out_inputs"] == 20, j
names = [s["scheme"] for s in j["schemes"]]
assert len(names) == 6 and names[2] == "dynamic" and names[5] == "dynamic + per-mode voltage", names
full, dyn = j["schemes"][0], j["schemes"][2]
assert full["saving_vs_static_full_pct"] == 0 and full["mean_passes"] == 1
# With a 6-bit pass at a quarter of the energy the policy accepts some inputs at 6 bits.
assert dyn["energy_per_inference_uj"] < full["energy_per_inference_uj"], (dyn, full)
assert abs(sum(dyn["accepted_fraction"].values()) - 1) < 1e-9
print("ok: report", j["thresholds"], round(dyn["saving_vs_static_full_pct"], 1), "% saved")
PY
fi
expect() {  # expect "message" args...
  local msg=$1
  shift
  if out=$("$VOSA" bitwidth "${base[@]}" "$@" 2>&1); then
    echo "FAIL: exit 0 for: $*"; fail=1
  elif ! grep -q -- "$msg" <<<"$out"; then
    echo "FAIL: expected '$msg' in: $out"; fail=1
  else
    echo "ok: $msg"
  fi
  if [ -e "$T/out" ] || [ -e "$T/out.partial" ]; then echo "FAIL: output left behind"; fail=1; rm -rf "$T/out"; fi
}
expect "not sorted descending" --energy "$T/energy.json" -o "$T/out" --modes 8,4,6
expect "the first mode must be the full width 8" --energy "$T/energy.json" -o "$T/out" --modes 6,4
expect "9 bits; int8 layers take 1..8" --energy "$T/energy.json" -o "$T/out" --modes 9,4
expect "field 'modes' has no entry with bits 5" --energy "$T/energy.json" -o "$T/out" --modes 8,5
expect "cannot open the precision energy file" --energy "$T/missing.json" -o "$T/out"
expect "budget" --energy "$T/energy.json" -o "$T/out" --budget -1
mkdir -p "$T/foreign" && touch "$T/foreign/keep.txt"
expect "is not an earlier vosa bitwidth output" --energy "$T/energy.json" -o "$T/foreign"
[ -f "$T/foreign/keep.txt" ] || { echo "FAIL: a foreign file was deleted"; fail=1; }
exit $fail
