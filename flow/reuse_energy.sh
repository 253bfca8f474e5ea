#!/usr/bin/env bash
# Energy of the reuse array from simulated activity (docs/reuse.md, "Hardware").
#  1. The reuse array (REUSE_CONFIG, "reuse": true) runs DS-CNN on WINDOWS
#     consecutive windows of the KWS stream in Verilator, bit-exact against the
#     engine's delta computation (testbench/reuse/array_check.cpp), and writes
#     the operand streams of its bottom-left PE over windows 1.. (the first has
#     nothing to reuse): the deltas, the same cycles with every delta zero, and
#     the layers recomputed in full on the plain int8 array of the same shape.
#  2. Three PEs through the flow at PDK's sign-off corner (flow/stages.make):
#     the gated reuse PE, the same 9-bit delta PE without gating
#     (UNGATED_CONFIG) and the plain int8 PE (PLAIN_CONFIG).
#  3. `vosa dta --energy` (activity source simulated, inertial delays, the
#     sign-off liberty) on each PE's stream, all at one clock (the slowest of
#     the three PEs' critical paths), and the per-inference energies from the
#     array's RTL cycles x rows x cols x the PE's energy per cycle.
# usage: flow/reuse_energy.sh VOSA BUILD_DIR WORK PDK WINDOWS CLIPS Q REUSE_CONFIG UNGATED_CONFIG PLAIN_CONFIG
set -euo pipefail
VOSA=$(realpath "$1")
BUILD_DIR=$(realpath "$2")
WORK=$3
PDK_NAME=$4
WINDOWS=$5
CLIPS=$6
Q=$7
REUSE_CONFIG=$8
UNGATED_CONFIG=$9
PLAIN_CONFIG=${10}
ROOT=$(realpath "$(dirname "$0")/..")
OPERAND_LIST=(uniform:1)
# shellcheck source=flow/signoff_case.sh
. "$ROOT/flow/signoff_case.sh"
KWS="$VOSA_DATA_DIR/dnn/kws_dscnn_speechcommands"
for p in "$KWS/model/kws_ref_model.tflite" "$KWS/data/kws01"; do
  [ -e "$p" ] || { echo "reuse_energy: missing $p (set VOSA_DATA_DIR)" >&2; exit 1; }
done

# 1. The array in Verilator and the PE streams.
"$VOSA" generate --config "$(realpath "$REUSE_CONFIG")" --out "$WORK/array/design" -q
REUSE=1 "$ROOT/testbench/layers/run_layers.sh" "$WORK/array/design" "$WORK/array/obj" "$BUILD_DIR" \
  --model "$KWS/model/kws_ref_model.tflite" --data "$KWS/data/kws01" --clips "$CLIPS" --windows "$WINDOWS" \
  --q "$Q" --trace-out "$WORK/array/pe" | tee "$WORK/array.log"

# 2. The three PEs at the sign-off corner.
declare -A NETLIST SDF MANIFEST PERIOD
for role in gated ungated plain; do
  case $role in
    gated) cfg=$REUSE_CONFIG ;;
    ungated) cfg=$UNGATED_CONFIG ;;
    plain) cfg=$PLAIN_CONFIG ;;
  esac
  signoff_case "$PDK_NAME:$cfg" sta sdf
  NETLIST[$role]=$P/synth/pe_netlist.v
  SDF[$role]=$P/sdf/$signoff.sdf
  MANIFEST[$role]=$design/manifest.json
  PERIOD[$role]=$(cat "$P/sta/period_ns.txt")
done
period=$(printf '%s\n' "${PERIOD[@]}" | sort -g | tail -1)

# 3. Energy from the simulated activity.
run_dta() {  # role trace out
  "$VOSA" dta --netlist "${NETLIST[$1]}" --liberty "$lib" --sdf "${SDF[$1]}" --pdk "$PDK_NAME" --corner "$signoff" \
    --manifest "${MANIFEST[$1]}" --period-ns "$period" --delay-mode inertial --operands "trace:$2" \
    --cycles 100000000 --energy --out "$3" -q
}
run_dta gated "$WORK/array/pe.delta.vtrace" "$WORK/gated_delta.json"
run_dta gated "$WORK/array/pe.skipall.vtrace" "$WORK/gated_skipall.json"
run_dta ungated "$WORK/array/pe.delta.vtrace" "$WORK/ungated_delta.json"
run_dta plain "$WORK/array/pe.recompute.vtrace" "$WORK/plain_recompute.json"

python3 - "$WORK" "$PDK_NAME" "$signoff" "$period" "$WINDOWS" "${PERIOD[gated]}" "${PERIOD[ungated]}" "${PERIOD[plain]}" <<'PY'
import json, re, sys
work, pdk, corner, period, windows = sys.argv[1:6]
periods = dict(zip(["gated", "ungated", "plain"], sys.argv[6:9]))
inferences = int(windows) - 1
def energy(name):
    doc = json.load(open(f"{work}/{name}.json"))
    pts = doc["points"] if "points" in doc else doc["results"]
    e = pts[0]["energy"]
    return e
log = open(f"{work}/array.log").read()
m = re.search(r"array cycles: (\d+) with reuse .*?, (\d+) recomputing", log)
cyc_reuse, cyc_full = int(m.group(1)), int(m.group(2))
shape = re.search(r"reuse array (\d+)x(\d+)", log)
pes = int(shape.group(1)) * int(shape.group(2))
# Records of the delta stream with a zero delta (gated: skipped MACs and idle cycles).
# (docs/trace.md: magic, uint32 header length, JSON header, 16-byte records
# whose first field is the int32 activation).
import struct
raw = open(f"{work}/array/pe.delta.vtrace", "rb").read()
start = 12 + struct.unpack_from("<I", raw, 8)[0]
acts = [a for (a,) in struct.iter_unpack("<i12x", raw[start:])]
zero = sum(1 for a in acts if a == 0)
nonzero = len(acts) - zero
g, s, u, p = (energy(n) for n in ["gated_delta", "gated_skipall", "ungated_delta", "plain_recompute"])
eg, es, eu, ep = (x["energy_per_cycle_pj"] for x in (g, s, u, p))
n = zero + nonzero
assert n == g["cycles"], (n, g["cycles"])
e_perf = (eg * n - es * zero) / nonzero
per_inf = lambda cycles, e: cycles * pes * e / inferences / 1e6  # uJ
full = per_inf(cyc_full, ep)
rows = [("plain int8 PE, every tile recomputed", cyc_full, ep, full),
        ("9-bit delta PE without gating, changed rows streamed", cyc_reuse, eu, per_inf(cyc_reuse, eu)),
        ("gated reuse PE, changed rows streamed", cyc_reuse, eg, per_inf(cyc_reuse, eg))]
out = []
out.append(f"PDK {pdk}, corner {corner}, clock {period} ns (critical paths: gated {periods['gated']}, ungated {periods['ungated']}, plain {periods['plain']} ns); "
           f"activity source {g['activity_source']} ({g['activity_delay_mode']} delays), {inferences} inferences, PE (rows-1, 0) of a {shape.group(1)}x{shape.group(2)} array")
out.append("")
out.append("| array | cycles per inference | PE energy per cycle (pJ) | array energy per inference (uJ) | vs recompute |")
out.append("|---|---|---|---|---|")
for name, cyc, e, tot in rows:
    out.append(f"| {name} | {cyc // inferences} | {e:.4f} | {tot:.4f} | {100 * (1 - tot / full):+.1f} % saved |")
out.append("")
out.append(f"gated PE: skipped MAC (zero delta, partial sum passed on) {es:.4f} pJ, performed MAC {e_perf:.4f} pJ "
           f"(linear split of the delta stream: {zero} zero-delta cycles incl. weight load/fill/drain, {nonzero} with a delta); "
           f"plain int8 PE {ep:.4f} pJ per cycle")
out.append(f"glitch share: gated {g['glitch_share']:.3f}, ungated {u['glitch_share']:.3f}, plain {p['glitch_share']:.3f}")
text = "\n".join(out) + "\n"
open(f"{work}/report.md", "w").write(text)
print(text)
PY
