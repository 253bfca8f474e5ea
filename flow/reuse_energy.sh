#!/usr/bin/env bash
# Energy of the reuse array from simulated activity (docs/reuse.md, "Hardware").
#  1. The reuse array (REUSE_CONFIG, "reuse": true) runs DS-CNN on WINDOWS
#     consecutive windows of the KWS stream in Verilator, bit-exact against the
#     engine's delta computation (testbench/reuse/array_check.cpp), and writes
#     the operand streams of its bottom-left PE over windows 1.. (the first has
#     nothing to reuse): the deltas, the same cycles with every delta zero, and
#     the layers recomputed in full on the plain int8 array of the same shape.
#  2. Four PEs through the flow at PDK's sign-off corner (flow/stages.make):
#     the gated reuse PE (REUSE_CONFIG), the same with the adder not isolated
#     (NOISO_CONFIG, "reuse_adder_isolation": false), the 9-bit delta PE without
#     gating (UNGATED_CONFIG) and the plain int8 PE (PLAIN_CONFIG).
#  3. `vosa dta --energy` (activity source simulated, inertial delays, the
#     sign-off liberty) on each PE's stream, all at one clock (the slowest of
#     the PEs' critical paths), and the per-inference energies from the
#     array's RTL cycles x rows x cols x the PE's energy per cycle.
# usage: flow/reuse_energy.sh VOSA BUILD_DIR WORK PDK WINDOWS CLIPS Q REUSE_CONFIG NOISO_CONFIG UNGATED_CONFIG PLAIN_CONFIG
set -euo pipefail
VOSA=$(realpath "$1")
BUILD_DIR=$(realpath "$2")
WORK=$3
PDK_NAME=$4
WINDOWS=$5
CLIPS=$6
Q=$7
REUSE_CONFIG=$8
NOISO_CONFIG=$9
UNGATED_CONFIG=${10}
PLAIN_CONFIG=${11}
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

# 2. The PEs at the sign-off corner.
declare -A NETLIST SDF MANIFEST PERIOD
for role in gated noiso ungated plain; do
  case $role in
    gated) cfg=$REUSE_CONFIG ;;
    noiso) cfg=$NOISO_CONFIG ;;
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
run_dta noiso "$WORK/array/pe.delta.vtrace" "$WORK/noiso_delta.json"
run_dta noiso "$WORK/array/pe.skipall.vtrace" "$WORK/noiso_skipall.json"
run_dta ungated "$WORK/array/pe.delta.vtrace" "$WORK/ungated_delta.json"
run_dta plain "$WORK/array/pe.recompute.vtrace" "$WORK/plain_recompute.json"

python3 - "$WORK" "$PDK_NAME" "$signoff" "$period" "$WINDOWS" "${PERIOD[gated]}" "${PERIOD[noiso]}" "${PERIOD[ungated]}" "${PERIOD[plain]}" <<'PY'
import json, re, sys
work, pdk, corner, period, windows = sys.argv[1:6]
periods = dict(zip(["gated", "noiso", "ungated", "plain"], sys.argv[6:10]))
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
g, s, ng, ns, u, p = (energy(n) for n in ["gated_delta", "gated_skipall", "noiso_delta", "noiso_skipall",
                                           "ungated_delta", "plain_recompute"])
eg, es, eng, ens, eu, ep = (x["energy_per_cycle_pj"] for x in (g, s, ng, ns, u, p))
n = zero + nonzero
assert n == g["cycles"], (n, g["cycles"])
perf = lambda e_all, e_skip: (e_all * n - e_skip * zero) / nonzero
per_inf = lambda cycles, e: cycles * pes * e / inferences / 1e6  # uJ
full = per_inf(cyc_full, ep)
rows = [("plain int8 PE, every tile recomputed", cyc_full, ep, full, None),
        ("9-bit delta PE without gating, changed rows streamed", cyc_reuse, eu, per_inf(cyc_reuse, eu), None),
        ("gated reuse PE (multiplier held, adder isolated), changed rows streamed", cyc_reuse, eg, per_inf(cyc_reuse, eg), (es, perf(eg, es))),
        ("gated reuse PE, adder not isolated, changed rows streamed", cyc_reuse, eng, per_inf(cyc_reuse, eng), (ens, perf(eng, ens)))]
out = []
out.append(f"PDK {pdk}, corner {corner}, clock {period} ns (critical paths: gated {periods['gated']}, adder not isolated {periods['noiso']}, "
           f"ungated {periods['ungated']}, plain {periods['plain']} ns); activity source {g['activity_source']} "
           f"({g['activity_delay_mode']} delays), {inferences} inferences, PE (rows-1, 0) of a {shape.group(1)}x{shape.group(2)} array")
out.append("")
out.append("| array | cycles per inference | PE energy per cycle (pJ) | of which clocked flops (pJ) | skipped / performed MAC (pJ) | array energy per inference (uJ) | change vs recompute |")
out.append("|---|---|---|---|---|---|---|")
for (name, cyc, e, tot, split), x in zip(rows, (p, u, g, ng)):
    mac = f"{split[0]:.3f} / {split[1]:.3f}" if split else "-"
    out.append(f"| {name} | {cyc // inferences} | {e:.3f} | {x['sequential_pj']:.3f} | {mac} | {tot:.3f} | {100 * (tot / full - 1):+.1f} % |")
out.append("")
out.append(f"skipped MAC: the PE's energy per cycle on the same stream with every delta zero (the partial sums still passing); "
           f"performed MAC: the rest of the delta stream's energy over its {nonzero} cycles with a delta "
           f"({zero} zero-delta cycles, weight load, fill and drain included)")
out.append(f"net toggles per cycle: plain {p['net_toggles_per_cycle']:.1f}, ungated {u['net_toggles_per_cycle']:.1f}, "
           f"gated {g['net_toggles_per_cycle']:.1f} (every delta zero: {s['net_toggles_per_cycle']:.1f}), "
           f"adder not isolated {ng['net_toggles_per_cycle']:.1f} (every delta zero: {ns['net_toggles_per_cycle']:.1f})")
out.append(f"glitch share: gated {g['glitch_share']:.3f}, adder not isolated {ng['glitch_share']:.3f}, "
           f"ungated {u['glitch_share']:.3f}, plain {p['glitch_share']:.3f}")
text = "\n".join(out) + "\n"
open(f"{work}/report.md", "w").write(text)
print(text)
PY
