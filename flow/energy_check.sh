#!/usr/bin/env bash
# Energy from the simulated activity, checked (docs/dta.md, "Energy"):
#  1. the model against OpenSTA: OpenSTA 2.0.17 report_power on the PE at the
#     sign-off corner (the flow's constraints and default activity,
#     flow/sta_corner.tcl) and `vosa energy --convention opensta` on the
#     activity OpenSTA propagated to every net (VOSA_ACTIVITY_OUT) must agree
#     within TOL_PCT for internal, switching, leakage and total power;
#  2. the counted activity: `vosa dta --energy` on a random stream; the
#     transitions it counts on the activation register's Q nets must equal the
#     bit changes between consecutive activations of the stream (within one
#     record's bits at the ends), its breakdown must add up, and `vosa energy`
#     on the activity it wrote must give the same energy.
# Prints one table row per case (energy per cycle: simulated, and OpenSTA's
# default activity for comparison).
# usage: flow/energy_check.sh VOSA WORK CYCLES TOL_PCT "PDK:CONFIG ..."
set -euo pipefail
VOSA=$(realpath "$1")
WORK=$2
CYCLES=$3
TOL=$4
CASES=$5
ROOT=$(realpath "$(dirname "$0")/..")
OPERAND_LIST=(uniform:1)
# shellcheck source=flow/signoff_case.sh
. "$ROOT/flow/signoff_case.sh"
status=0
echo "| PDK | config | corner | period ns | OpenSTA 2.0.17 total mW | vosa energy (opensta rules, OpenSTA's activity) mW | difference internal / switching / leakage / total | simulated energy/cycle pJ (vosa rules) | glitch share | OpenSTA default-activity energy/cycle pJ |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for case in $CASES; do
  signoff_case "$case" sta sdf
  reg=$(sed -n 's/.*"pe_output_register": *"\([^"]*\)".*/\1/p' "$design/manifest.json")
  period=$(cat "$P/sta/period_ns.txt")
  E="$P/energy_check"
  mkdir -p "$E"
  # 1. OpenSTA's power and the activity it used, per net.
  VOSA_LIBERTY=$lib VOSA_NETLIST=$P/synth/pe_netlist.v VOSA_TOP=$(sed -n 's/^ *"pe": *"\([^"]*\)".*/\1/p' "$design/manifest.json") \
    VOSA_PDK_TCL=$P/pdk.tcl VOSA_PERIOD_NS=$period VOSA_CORNER=$signoff VOSA_OUTPUT_REG=$reg \
    VOSA_PATHS_OUT=$E/paths.tsv VOSA_POWER_OUT=$E/opensta.power.tsv VOSA_ACTIVITY_OUT=$E/opensta.activity \
    "$ROOT/flow/run_sta.sh" "$E/sta.log" "$E/opensta.power.tsv" "$E/opensta.activity" \
    || { echo "energy_check: OpenSTA failed on $case (log: $E/sta.log)"; status=1; continue; }
  "$VOSA" energy --netlist "$P/synth/pe_netlist.v" --liberty "$lib" --pdk "$pdk" --period-ns "$period" \
    --activity "$E/opensta.activity" --convention opensta > "$E/vosa_opensta_rules.tsv"
  # 2. Simulated activity.
  "$VOSA" trace random --count "$CYCLES" --seed 7 --act-bits "$(python3 -c "import json;print(json.load(open('$design/manifest.json'))['config']['act_bits'])")" \
    --weight-bits "$(python3 -c "import json;print(json.load(open('$design/manifest.json'))['config']['weight_bits'])")" \
    --acc-bits "$(python3 -c "import json;print(json.load(open('$design/manifest.json'))['config']['acc_bits'])")" \
    $(python3 -c "import json;print('' if json.load(open('$design/manifest.json'))['config']['signed'] else '--unsigned')") \
    --out "$E/stream.vtrace"
  "$VOSA" trace show "$E/stream.vtrace" -n "$CYCLES" > "$E/stream.txt"
  "$VOSA" dta --netlist "$P/synth/pe_netlist.v" --liberty "$lib" --sdf "$P/sdf/$signoff.sdf" --pdk "$pdk" \
    --corner "$signoff" --manifest "$design/manifest.json" --period-ns "$period" --operands "trace:$E/stream.vtrace" \
    --cycles "$CYCLES" --energy --activity-out "$E/simulated.activity" --out "$E/dta.json" -q
  "$VOSA" energy --netlist "$P/synth/pe_netlist.v" --liberty "$lib" --pdk "$pdk" --period-ns "$period" \
    --activity "$E/simulated.activity" > "$E/vosa_simulated.tsv"
  python3 - "$E" "$P/synth/pe_netlist.v" "$TOL" "$pdk" "$name" "$signoff" "$period" <<'PY' || status=1
import json, re, sys
E, netlist, tol, pdk, name, corner, period = sys.argv[1:]
tol, period = float(tol), float(period)
ok = True
def fail(msg):
    global ok
    ok = False
    print(f"energy_check: FAIL {pdk} {name}: {msg}", file=sys.stderr)
sta = {}
for line in open(f"{E}/opensta.power.tsv"):
    f = line.split("\t")
    if f[0] == "total":
        sta = dict(zip(["internal", "switching", "leakage", "total"], map(float, f[1:5])))
ours = {l.split("\t")[0]: float(l.split("\t")[1]) for l in open(f"{E}/vosa_opensta_rules.tsv")}
diffs = []
for k in ["internal", "switching", "leakage", "total"]:
    a, b = sta[k], ours[k + "_w"]
    d = 0.0 if a == b else (b - a) / a * 100
    diffs.append(f"{d:+.2f} %")
    if abs(d) > tol:
        fail(f"{k}: OpenSTA {a:.6g} W, vosa energy {b:.6g} W ({d:+.2f} %, tolerance {tol} %)")
# Counted transitions on the activation register's outputs = bit changes of the stream.
text = open(netlist).read()
q_nets = re.findall(r"\\a_q\[\d+\]_reg\s*\((?:[^;]*?)\.Q\(\s*\\?([^\s)]+)\s*\)", text, re.S)
act = {}
for line in open(f"{E}/simulated.activity"):
    if line.startswith("#"): continue
    n, per_s, duty = line.split()
    act[n] = float(per_s) * period * 1e-9
acts = [int(m.group(1)) for m in re.finditer(r"^\d+: a=(-?\d+)", open(f"{E}/stream.txt").read(), re.M)]
bits = len(q_nets)
point = json.load(open(f"{E}/dta.json"))["points"][0]
e = point["energy"]
cycles = e["cycles"]
mask = (1 << bits) - 1
expected = sum(bin((acts[i] ^ acts[i - 1]) & mask).count("1") for i in range(1, len(acts)))
counted = sum(act.get(n, 0.0) for n in q_nets) * cycles
print(f"energy_check: {pdk} {name}: activation register Q nets: {counted:.0f} transitions counted, the stream changes {expected} bits", file=sys.stderr)
if bits == 0 or abs(counted - expected) > bits:
    fail(f"activation register: {counted:.0f} transitions counted on {bits} Q nets, the stream changes {expected} bits")
parts = e["internal_pj"] + e["switching_pj"] + e["leakage_pj"]
if abs(parts - e["energy_per_cycle_pj"]) > 1e-9 * max(1.0, parts) or e["activity_source"] != "simulated":
    fail(f"energy breakdown {parts} != total {e['energy_per_cycle_pj']} or activity source {e['activity_source']}")
again = {l.split("\t")[0]: float(l.split("\t")[1]) for l in open(f"{E}/vosa_simulated.tsv")}["energy_per_cycle_pj"]
if abs(again - e["energy_per_cycle_pj"]) > 1e-4 * e["energy_per_cycle_pj"]:
    fail(f"vosa energy on the written activity gives {again} pJ, vosa dta {e['energy_per_cycle_pj']} pJ")
print(f"| {pdk} | {name} | {corner} | {period:g} | {sta['total']*1e3:.4f} | {ours['total_w']*1e3:.4f} | "
      f"{' / '.join(diffs)} | {e['energy_per_cycle_pj']:.2f} | {e['glitch_share']:.2f} | {sta['total']*period*1e3:.2f} |")
sys.exit(0 if ok else 1)
PY
done
exit $status
