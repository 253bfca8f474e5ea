#!/usr/bin/env bash
# The island controller priced from its own simulated activity
# (flow/ctrl_activity.sh, used by make razor-cost): a 4-column, 2-island
# closed-loop controller synthesized on osu018 and simulated
#  1. without Razor errors: the clock makes 2 transitions per cycle, the
#     window counter's LSB 1, its next bit 1/2; no error counter moves;
#  2. with errors (5 % per column-cycle): the error counters and the stall
#     input move, and the energy per cycle grows;
#  3. the simulated energy is below OpenSTA's default-activity figure for the
#     same netlist (flow/razor_sta.tcl), which drives every input at 0.1/cycle;
#  4. bad knobs (an error rate outside [0, 1], a level the controller lacks)
#     are named errors and leave no output.
# usage: ctrl_activity_test.sh VOSA_BINARY WORK_DIR
set -euo pipefail
VOSA=$(realpath "$1")
WORK=$2
ROOT=$(realpath "$(dirname "$0")/../..")
rm -rf "$WORK" && mkdir -p "$WORK"
PDK=osu018
PERIOD=10
cat > "$WORK/ctrl.json" <<'JSON'
{"rows": 2, "cols": 4, "act_bits": 8, "weight_bits": 8, "signed": true, "dataflow": "weight_stationary",
 "razor": {"top_k": 4}, "islands": {"count": 2, "levels": 4, "closed_loop": {"enabled": true, "window": 64}}}
JSON
"$VOSA" generate --config "$WORK/ctrl.json" --out "$WORK/design" -q
"$ROOT/flow/synth_ctrl.sh" "$VOSA" "$WORK/design" "$PDK" "$WORK/pdk" "$WORK/synth"
signoff=$("$VOSA" pdk get --pdk "$PDK" signoff_corner)
lib=$("$VOSA" pdk liberty --pdk "$PDK" --corner "$signoff" --cache-dir "$WORK/pdk")
N=$WORK/synth/ctrl_netlist.v
"$ROOT/flow/ctrl_activity.sh" "$VOSA" "$N" "$lib" "$PDK" "$PERIOD" 1000 0 0 "$WORK/quiet"
"$ROOT/flow/ctrl_activity.sh" "$VOSA" "$N" "$lib" "$PDK" "$PERIOD" 1000 0.05 0 "$WORK/errors"

"$ROOT/flow/razor_sta.sh" "$VOSA" "$N" vosa_island_ctrl "$PDK" "$PERIOD" "$WORK/synth/pdk.tcl" "$WORK/pdk" "$WORK/sta"

python3 - "$WORK" "$PERIOD" <<'PY'
import sys
work, period = sys.argv[1], float(sys.argv[2])
def activity(run):
    a = {}
    for line in open(f"{work}/{run}/ctrl.activity"):
        if line.startswith("#"): continue
        n, per_s, duty = line.split()
        a[n] = float(per_s) * period * 1e-9  # transitions per cycle
    return a
def energy(run):
    return {k: float(v) for k, v in (l.split("\t") for l in open(f"{work}/{run}/ctrl_energy.tsv"))}
quiet, errs = activity("quiet"), activity("errors")
fails = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok: fails.append(what)
check(abs(quiet["clk_i"] - 2) < 1e-6, f"clock: {quiet['clk_i']} transitions per cycle (2)")
check(abs(quiet["window_count_q[0]"] - 1) < 2e-3, f"window counter LSB: {quiet['window_count_q[0]']} per cycle (1)")
check(abs(quiet["window_count_q[1]"] - 0.5) < 2e-3, f"window counter bit 1: {quiet['window_count_q[1]']} per cycle (0.5)")
counters = [n for n in quiet if n.startswith("errcount_v[")]
check(len(counters) > 0 and all(quiet[n] == 0 for n in counters), f"no error counter moves without errors ({len(counters)} nets)")
check(sum(errs[n] for n in counters) > 0.05, f"error counters move at 5 %: {sum(errs[n] for n in counters):.3f} transitions per cycle")
check(quiet["razor_stall_i"] == 0 and errs["razor_stall_i"] > 0.1, f"stall input: {quiet['razor_stall_i']} / {errs['razor_stall_i']:.3f} per cycle")
eq, ee = energy("quiet")["energy_per_cycle_pj"], energy("errors")["energy_per_cycle_pj"]
check(ee > eq, f"energy grows with errors: {eq:.3f} -> {ee:.3f} pJ per cycle")
sta_w = next(float(l.split("\t")[4]) for l in open(f"{work}/sta.power.tsv") if l.startswith("total\t"))
sta_pj = sta_w * period * 1e3
check(0 < eq < sta_pj, f"simulated {eq:.3f} pJ below OpenSTA default activity {sta_pj:.3f} pJ per cycle")
sys.exit(1 if fails else 0)
PY

for bad in "1.5 0 rate" "0 9 level"; do
  set -- $bad
  if "$ROOT/flow/ctrl_activity.sh" "$VOSA" "$N" "$lib" "$PDK" "$PERIOD" 100 "$1" "$2" "$WORK/bad" > "$WORK/bad.log" 2>&1; then
    echo "FAIL: ERR_RATE $1 LEVEL $2 accepted"; exit 1
  fi
  grep -q '^error: ctrl_activity' "$WORK/bad.log" || { echo "FAIL: no named error for ERR_RATE $1 LEVEL $2:"; cat "$WORK/bad.log"; exit 1; }
  [ ! -e "$WORK/bad/ctrl.activity" ] || { echo "FAIL: output left after a bad $3"; exit 1; }
  grep -m1 '^error' "$WORK/bad.log"
done
echo "ctrl_activity_test: all checks passed"
