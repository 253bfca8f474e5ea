#!/usr/bin/env bash
# `make characterize` machinery on sky130 with three ss_n40C corners (the flow's
# own rules, flow/stages.make, write netlist and SDF; flow/characterize.sh runs
# vosa dta per corner and merges): no error at the sign-off corner, the error
# rate rises as the voltage falls, MSBs fail first, every bit has a confidence
# interval, and the example consumer loads the model and samples errors; a
# rerun simulates only when the inputs or the vosa binary changed;
# OPERANDS with {row} characterizes one band per PE row.
# usage: characterize_sky130_test.sh VOSA_BINARY ERRMODEL_EXAMPLE WORK_DIR
set -euo pipefail
VOSA=$(realpath "$1")
EXAMPLE=$(realpath "$2")
WORK=$3
ROOT=$(realpath "$(dirname "$0")/../..")
export VOSA_DATA_DIR=${VOSA_DATA_DIR:-$ROOT/../shared}
LADDER="$VOSA_DATA_DIR/pdks/sky130_fd_sc_hd/sky130_fd_sc_hd__ss_n40C_1v44.lib.gz"
[ -f "$LADDER" ] || { echo "FAIL: missing $LADDER (set VOSA_DATA_DIR to the shared data folder)"; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK"
CORNERS="ss_n40C_1v76 ss_n40C_1v60 ss_n40C_1v44"
"$VOSA" generate --config "$ROOT/generator/examples/default.json" --out "$WORK/default/design" -q
make --no-print-directory -f "$ROOT/flow/stages.make" ROOT="$ROOT" BUILD="$WORK" VOSA="$VOSA" \
  CONFIG_NAME=default PDK=sky130hd DESIGN_DIR="$WORK/default/design" REQUESTED_CORNERS="$CORNERS" \
  VOLTAGES= PERIOD_NS= sdf > "$WORK/flow.log" 2>&1 || { tail -20 "$WORK/flow.log"; exit 1; }
VOSA="$VOSA" BUILD="$WORK" CONFIG_NAME=default PDK=sky130hd DESIGN_DIR="$WORK/default/design" \
  CORNERS="$CORNERS" VOLTAGES= DTA_PERIODS_NS= OPERANDS=uniform:2 DTA_CYCLES=3000 \
  DTA_DELAY_MODE=transport DTA_SETUP=sdf DTA_THREADS=1 "$ROOT/flow/characterize.sh" > "$WORK/characterize.log"
# sky130's enable flops are dont_use, so Yosys no longer warns it cannot read them (issue 11).
if grep "unsupported expression" "$WORK/default/sky130hd/synth/synth.log"; then
  echo "FAIL: Yosys warnings above (sky130_fd_sc_hd__edfx* should be dont_use in pdk_configs/sky130hd.json)"; exit 1
fi
MODEL="$WORK/default/sky130hd/errmodel/errmodel.json"
python3 - "$MODEL" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["schema_version"] == 4 and m["pdk"] == "sky130hd" and m["netlist_hash"]
pts = {p["corner"]: p for p in m["points"]}
assert [p["voltage"] for p in m["points"]] == [1.44, 1.6, 1.76], "points sorted by voltage"
rate = {c: p["p_any_error"] for c, p in pts.items()}
print("P(any bit wrong):", rate)
assert all(p["delay_source"] == "liberty-corner" and p["samples"] == 3000 for p in pts.values())
assert rate["ss_n40C_1v76"] == 0, "errors at the sign-off corner"
assert rate["ss_n40C_1v60"] < rate["ss_n40C_1v44"], "error rate must rise as the voltage falls"
assert rate["ss_n40C_1v60"] > 0
low = {c: min([b["bit"] for b in p["bits"] if b["errors"]] or [99]) for c, p in pts.items()}
assert low["ss_n40C_1v60"] > low["ss_n40C_1v44"] >= 0, low   # failures spread down from the MSBs
for p in pts.values():
    for b in p["bits"]:
        assert 0 <= b["ci95"][0] <= b["p_error"] <= b["ci95"][1] <= 1
    assert sum(v["count"] for v in p["error_values"]) == p["cycles_with_error"]
PY
csv="$WORK/default/sky130hd/errmodel/errmodel.csv"
[ "$(wc -l < "$csv")" -eq $((1 + 3 * 19)) ] || { echo "FAIL: $csv has the wrong row count"; exit 1; }
"$EXAMPLE" "$MODEL" 1.6 10.89 200000 | tee "$WORK/example.log"
grep -q "corrupted by bit masks" "$WORK/example.log"

# A rerun with the same inputs simulates nothing; a vosa binary newer than the
# corner results (here a fresh copy of it) re-simulates every corner.
rerun() {
  VOSA="$1" BUILD="$WORK" CONFIG_NAME=default PDK=sky130hd DESIGN_DIR="$WORK/default/design" \
    CORNERS="$CORNERS" VOLTAGES= DTA_PERIODS_NS= OPERANDS=uniform:2 DTA_CYCLES=3000 \
    DTA_DELAY_MODE=transport DTA_SETUP=sdf DTA_THREADS=1 "$ROOT/flow/characterize.sh"
}
rerun "$VOSA" > "$WORK/characterize_again.log"
[ "$(grep -c ' up to date' "$WORK/characterize_again.log")" -eq 3 ] || { echo "FAIL: unchanged inputs re-simulated"; cat "$WORK/characterize_again.log"; exit 1; }
cp "$VOSA" "$WORK/vosa_rebuilt"
rerun "$WORK/vosa_rebuilt" > "$WORK/characterize_rebuilt.log"
if grep -q ' up to date' "$WORK/characterize_rebuilt.log"; then
  echo "FAIL: corner results older than the vosa binary were kept"; cat "$WORK/characterize_rebuilt.log"; exit 1
fi

# Per PE row (OPERANDS=trace:...{row}...): one band per row of the 8x8 array at one
# corner, each from that row's own random-layer stream, merged into one model.
for r in 0 1 2 3 4 5 6 7; do
  "$VOSA" trace layer --out "$WORK/row$r.vtrace" --count 400 --pe-row "$r" --seed 2
done
VOSA="$VOSA" BUILD="$WORK" CONFIG_NAME=default PDK=sky130hd DESIGN_DIR="$WORK/default/design" \
  CORNERS=ss_n40C_1v44 VOLTAGES= DTA_PERIODS_NS= OPERANDS="trace:$WORK/row{row}.vtrace" DTA_CYCLES=400 \
  DTA_DELAY_MODE=transport DTA_SETUP=sdf DTA_THREADS=1 "$ROOT/flow/characterize.sh" > "$WORK/characterize_rows.log"
python3 - "$MODEL" <<'PY'
import json, sys
pts = json.load(open(sys.argv[1]))["points"]
assert [p["pe_rows"] for p in pts] == [[r, r] for r in range(8)], [p.get("pe_rows") for p in pts]
rate = [p["p_any_error"] for p in pts]
print("P(any bit wrong) by PE row at 1.44 V:", rate)
assert rate[0] < rate[7], "row 0 adds to a zero partial sum: it must err less than the bottom row"
PY
echo "sky130 characterize checks passed"
