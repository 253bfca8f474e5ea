#!/usr/bin/env bash
# Cost of Razor bits and of the voltage-island controller (make razor-cost).
# Per PDK: the int8 PE (8x8 array config) with 0, 4, 8 and all accumulator
# bits protected (policy correct), 8 bits with policy drop (TE-Drop), and
# vosa_island_ctrl (8 columns, 4 islands, 4 levels, closed loop; and, with
# RAZOR_COST_CTRL_CONFIG=<array config with islands>, that array's own
# controller as generated), each synthesized by the flow (flow/stages.make
# synth; the controller through flow/synth.tcl with VOSA_TOP=vosa_island_ctrl).
#   area:  Yosys `stat -liberty` of the synthesis liberty (synth/stat.txt)
#   power: OpenSTA report_power at the PDK's sign-off corner, at the clock
#          period of the unprotected PE (its sign-off critical path), with the
#          flow's activity (data inputs 0.5 toggles/cycle, weights held, no
#          stall): flow/stages.make power (flow/sta_corner.tcl), checked equal
#          to flow/razor_sta.tcl's (clk_shadow_i delayed by 0.25 T).
#          The controllers also from their own simulated activity
#          (flow/ctrl_activity.sh: CTRL_ACTIVITY_CYCLES steady cycles, default
#          2000), and the PEs from theirs (vosa dta --energy with the SDF at
#          the sign-off corner and period, the Razor PEs with their shadow
#          clock: RAZOR_COST_DTA_CYCLES cycles, default 4000, of a random
#          weight-stationary layer's operands, RAZOR_COST_OPERANDS=layer:1),
#          which explore uses when the PE's energy is simulated too.
# usage: razor_cost.sh VOSA_BINARY BUILD_DIR PDK...
# writes BUILD_DIR/razor_cost/razor_cost.json and razor_cost.md (table)
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 VOSA_BINARY BUILD_DIR PDK..." >&2; exit 2; }
VOSA=$(realpath "$1")
mkdir -p "$2"
BUILD=$(realpath "$2")
shift 2
ROOT=$(realpath "$(dirname "$0")/..")
C=$BUILD/razor_cost
CTRL_ACTIVITY_CYCLES=${CTRL_ACTIVITY_CYCLES:-2000}
RAZOR_COST_DTA_CYCLES=${RAZOR_COST_DTA_CYCLES:-4000}
RAZOR_COST_OPERANDS=${RAZOR_COST_OPERANDS:-layer:1}
mkdir -p "$C/configs"
rm -f "$C/runs.txt"
for pdk in "$@"; do
  "$VOSA" pdk path --pdk "$pdk" > /dev/null || { echo "error: unknown PDK '$pdk'" >&2; exit 1; }
done

base='"rows": 8, "cols": 8, "act_bits": 8, "weight_bits": 8, "signed": true, "dataflow": "weight_stationary"'
echo "{$base}" > "$C/configs/pe_razor0.json"
for k in 4 8 19; do
  echo "{$base, \"razor\": {\"top_k\": $k, \"shadow_delay\": 0.25, \"policy\": \"correct\"}}" > "$C/configs/pe_razor$k.json"
done
# TE-Drop at 8 bits: its extra cost over policy correct (the psum_in_q flops
# and the drop mux) is what explore charges the drop policy.
echo "{$base, \"razor\": {\"top_k\": 8, \"shadow_delay\": 0.25, \"policy\": \"drop\"}}" > "$C/configs/pe_drop8.json"
echo "{$base, \"razor\": {\"top_k\": 8}, \"islands\": {\"count\": 4, \"levels\": 4, \"closed_loop\": {\"enabled\": true}}}" \
  > "$C/configs/ctrl_4isl_4lvl.json"
PES="pe_razor0 pe_razor4 pe_razor8 pe_razor19 pe_drop8"
CTRLS="ctrl_4isl_4lvl"
if [ -n "${RAZOR_COST_CTRL_CONFIG:-}" ]; then
  [ -f "$RAZOR_COST_CTRL_CONFIG" ] || { echo "error: RAZOR_COST_CTRL_CONFIG $RAZOR_COST_CTRL_CONFIG does not exist" >&2; exit 1; }
  python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("islands") else 1)' "$RAZOR_COST_CTRL_CONFIG" ||
    { echo "error: RAZOR_COST_CTRL_CONFIG $RAZOR_COST_CTRL_CONFIG has no islands (no controller to cost)" >&2; exit 1; }
  ctrl_cfg="ctrl_$(basename "$RAZOR_COST_CTRL_CONFIG" .json)"
  cp "$RAZOR_COST_CTRL_CONFIG" "$C/configs/$ctrl_cfg.json"
  CTRLS="$CTRLS $ctrl_cfg"
fi

flow() {  # flow NAME PDK TARGET PERIOD
  local name=$1 pdk=$2 target=$3 period=$4 signoff
  signoff=$("$VOSA" pdk get --pdk "$pdk" signoff_corner)
  make --no-print-directory -f "$ROOT/flow/stages.make" ROOT="$ROOT" BUILD="$C" VOSA="$VOSA" CONFIG_NAME="$name" \
    PDK="$pdk" DESIGN_DIR="$C/$name/design" REQUESTED_CORNERS="$signoff" VOLTAGES= PERIOD_NS="$period" "$target" \
    >> "$C/$name.$pdk.flow.log" 2>&1 || { tail -20 "$C/$name.$pdk.flow.log" >&2; exit 1; }
}

razor_sta() {  # razor_sta NETLIST TOP PDK PERIOD OUT_PREFIX
  "$ROOT/flow/razor_sta.sh" "$VOSA" "$1" "$2" "$3" "$4" "$C/$3.pdk.tcl" "$C/pdk" "$5"
}

for name in $PES $CTRLS; do
  "$VOSA" generate --config "$C/configs/$name.json" --out "$C/$name/design" -q
done
for pdk in "$@"; do
  echo "razor-cost: $pdk"
  "$VOSA" pdk tcl --pdk "$pdk" --cache-dir "$C/pdk" > "$C/$pdk.pdk.tcl"
  signoff=$("$VOSA" pdk get --pdk "$pdk" signoff_corner)
  flow pe_razor0 "$pdk" synth ""
  flow pe_razor0 "$pdk" power ""
  period=$(cat "$C/pe_razor0/$pdk/sta/period_ns.txt")
  for name in $PES; do
    flow "$name" "$pdk" power "$period"
    razor_sta "$C/$name/$pdk/synth/pe_netlist.v" vosa_pe "$pdk" "$period" "$C/$name/$pdk/razor_sta"
    # The same PE priced from its own simulated activity: every transition of
    # the SDF-timed netlist, the Razor PEs' shadow flops clocked as generated,
    # stall_i held 0 (--razor-stall held): explore prices the stall cycles itself,
    # and at shadow_delay 0.25 the shadows race new data on osu018 (hold), so the
    # tied PE would false-flag and stall almost every other cycle (docs/dta.md).
    netlist=$C/$name/$pdk/synth/pe_netlist.v
    "$VOSA" dta --netlist "$netlist" --sdf "$C/$name/$pdk/sdf/$signoff.sdf" \
      --liberty "$("$VOSA" pdk liberty --pdk "$pdk" --corner "$signoff" --netlist "$netlist" --cache-dir "$C/pdk")" \
      --manifest "$C/$name/design/manifest.json" --pdk "$pdk" --corner "$signoff" --period-ns "$period" \
      --operands "$RAZOR_COST_OPERANDS" --cycles "$RAZOR_COST_DTA_CYCLES" --energy --razor-stall held \
      --out "$C/$name/$pdk/dta_energy.json" > "$C/$name/$pdk/dta_energy.log" 2>&1 ||
      { tail -5 "$C/$name/$pdk/dta_energy.log" >&2; echo "error: razor-cost: vosa dta --energy on $name ($pdk) failed:" \
          "$C/$name/$pdk/dta_energy.log" >&2; exit 1; }
  done
  # The island controllers: the flow's synthesis script, top vosa_island_ctrl.
  for name in $CTRLS; do
    d=$C/$name/$pdk/synth
    "$ROOT/flow/synth_ctrl.sh" "$VOSA" "$C/$name/design" "$pdk" "$C/pdk" "$d"
    razor_sta "$d/ctrl_netlist.v" vosa_island_ctrl "$pdk" "$period" "$C/$name/$pdk/razor_sta"
    # The same netlist priced from its own simulated activity (every island at
    # its lowest level, no Razor error: the steady state of an explore point).
    lib=$("$VOSA" pdk liberty --pdk "$pdk" --corner "$signoff" --cache-dir "$C/pdk")
    "$ROOT/flow/ctrl_activity.sh" "$VOSA" "$d/ctrl_netlist.v" "$lib" "$pdk" "$period" "$CTRL_ACTIVITY_CYCLES" 0 0 \
      "$C/$name/$pdk/activity"
  done
  echo "$pdk $signoff $period" >> "$C/runs.txt"
done

python3 - "$C" "$CTRLS" "$RAZOR_COST_OPERANDS" "$RAZOR_COST_DTA_CYCLES" "$@" <<'PY'
import json, re, sys
c, ctrls, operands, dta_cycles, pdks = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4], sys.argv[5:]
def simulated_energy(path):
    pts = json.load(open(path)).get("points") or [{}]
    e = pts[0].get("energy", {}).get("energy_per_cycle_pj")
    if not e or e <= 0: sys.exit(f"error: no energy_per_cycle_pj in {path}")
    return e
def area(stat):
    t = open(stat).read()
    a = re.findall(r"Chip area for module '[^']*': ([0-9.]+)", t)
    n = re.findall(r"Number of cells:\s+(\d+)", t)
    if not a or not n: sys.exit(f"error: no area in {stat}")
    return float(a[-1]), int(n[-1])
def power(tsv):
    for line in open(tsv):
        f = line.split("\t")
        if f[0] == "total": return float(f[4])
    sys.exit(f"error: no total power in {tsv}")
def period(tsv):
    for line in open(tsv):
        f = line.split("\t")
        if f[0] == "period_ns": return float(f[1])
runs = {l.split()[0]: l.split() for l in open(f"{c}/runs.txt")}
out = {"command": "make razor-cost", "pdks": {}}
md = ["| PDK (sign-off corner, period) | block | protected bits | cells | area (um^2) | area vs PE | power (uW) | energy/cycle (pJ) | power vs PE | energy/cycle, simulated activity (pJ) | vs PE, simulated |",
      "|---|---|---|---|---|---|---|---|---|---|---|"]
for pdk in pdks:
    _, corner, T = runs[pdk]
    rows = []
    for name, bits, policy in (("pe_razor0", 0, "correct"), ("pe_razor4", 4, "correct"), ("pe_razor8", 8, "correct"),
                               ("pe_razor19", 19, "correct"), ("pe_drop8", 8, "drop")):
        a, n = area(f"{c}/{name}/{pdk}/synth/stat.txt")
        rows.append({"block": "vosa_pe int8 (acc 19 bits)", "config": f"{c}/configs/{name}.json", "protected_bits": bits,
                     "policy": policy,
                     "cells": n, "area_um2": a,
                     "power_flow_w": power(f"{c}/{name}/{pdk}/power/{corner}.power.tsv"),
                     "power_w": power(f"{c}/{name}/{pdk}/razor_sta.power.tsv"),
                     "energy_pj_per_cycle_simulated": round(simulated_energy(f"{c}/{name}/{pdk}/dta_energy.json"), 4)})
    for name in ctrls:
        cfg = json.load(open(f"{c}/configs/{name}.json"))
        isl = cfg["islands"]
        n_isl = isl.get("count", len(isl.get("columns", [])))
        loop = "closed loop" if isl.get("closed_loop", {}).get("enabled") else "open loop"
        what = "reference" if name == "ctrl_4isl_4lvl" else name[len("ctrl_"):]
        a, n = area(f"{c}/{name}/{pdk}/synth/stat.txt")
        p = power(f"{c}/{name}/{pdk}/razor_sta.power.tsv")
        sim = {}
        for line in open(f"{c}/{name}/{pdk}/activity/ctrl_energy.tsv"):
            k, v = line.split("\t")
            sim[k] = float(v)
        if "energy_per_cycle_pj" not in sim:
            sys.exit(f"error: no energy_per_cycle_pj in {c}/{name}/{pdk}/activity/ctrl_energy.tsv")
        rows.append({"block": f"vosa_island_ctrl ({what}: {cfg['cols']} cols, {n_isl} islands, "
                              f"{isl.get('levels', len(isl.get('voltages', [])))} levels, {loop})",
                     "config": f"{c}/configs/{name}.json", "protected_bits": None, "cells": n, "area_um2": a,
                     "cols": cfg["cols"], "islands": n_isl,
                     "power_flow_w": None, "power_w": p,
                     "energy_pj_per_cycle_simulated": round(sim["energy_per_cycle_pj"], 4),
                     "clock_share_simulated": round(sim.get("clock_internal_w", 0) / sim["total_w"], 4) if sim.get("total_w") else None,
                     "activity_simulated": open(f"{c}/{name}/{pdk}/activity/ctrl.activity").readline().lstrip("# ").strip()})
    a0, p0 = rows[0]["area_um2"], rows[0]["power_w"]
    for r in rows:
        r["area_rel_pe0"] = round(r["area_um2"] / a0, 4)
        r["power_rel_pe0"] = round(r["power_w"] / p0, 4)
        if r["protected_bits"] is not None:
            r["power_rel_pe0_simulated"] = round(r["energy_pj_per_cycle_simulated"] / rows[0]["energy_pj_per_cycle_simulated"], 4)
    # Per-cycle energy differences between separately synthesized netlists can
    # exceed what a few shadow flops add (ABC restructures each PE anew): say so.
    sims = [r["power_rel_pe0_simulated"] for r in rows[:4]]
    if not all(x < y for x, y in zip(sims, sims[1:])):
        print(f"razor-cost: warning: {pdk}: simulated PE energy does not grow with the protected bits "
              f"({', '.join(f'{x:.3f}' for x in sims)} x the plain PE for 0/4/8/19 bits): synthesis "
              "differences between the netlists outweigh the Razor flops", file=sys.stderr)
    areas = [r["area_um2"] for r in rows[:4]]
    if not all(x < y for x, y in zip(areas, areas[1:])):
        sys.exit(f"error: {pdk}: PE area does not grow with the protected bits: {areas}")
    # Cross-check: the flow's power (flow/sta_corner.tcl) and razor_sta.tcl
    # (clk_shadow_i delayed by 0.25 T) must agree on every PE.
    for r in rows[:5]:
        if abs(r["power_flow_w"] - r["power_w"]) > 1e-3 * r["power_w"]:
            sys.exit(f"error: {pdk}: {r['config']}: power differs between the flow ({r['power_flow_w']}) "
                     f"and razor_sta.tcl ({r['power_w']})")
    for r in rows:
        r["energy_pj_per_cycle"] = round(r["power_w"] * float(T) * 1e3, 4)
    out["pdks"][pdk] = {"corner": corner, "period_ns": float(T),
                        "period_source": "sign-off critical path of the unprotected PE, rounded up to 10 ps",
                        "area_source": "Yosys stat -liberty (synthesis liberty of the sign-off corner)",
                        "power_source": "OpenSTA report_power at the sign-off corner (characterized liberty)",
                        "power_source_simulated": "controllers: vosa energy on the activity of a zero-delay Icarus "
                                                  "simulation of the netlist (flow/ctrl_activity.sh); PEs: vosa dta "
                                                  f"--energy, {dta_cycles} cycles of --operands {operands}, SDF of the "
                                                  "sign-off corner at the period (Razor shadow clock as generated)",
                        "rows": rows}
    for r in rows:
        bits = "-" if r["protected_bits"] is None else str(r["protected_bits"])
        if r.get("policy") == "drop":
            bits += " (TE-Drop)"
        block = r["block"].split(" (")[0] if r["protected_bits"] is not None else r["block"]
        md.append(f"| {pdk} ({corner}, {float(T):.2f} ns) | {block} | {bits} | {r['cells']} | "
                  f"{r['area_um2']:.0f} | {r['area_rel_pe0']:.3f} | {r['power_w'] * 1e6:.0f} | "
                  f"{r['energy_pj_per_cycle']:.2f} | {r['power_rel_pe0']:.3f} | "
                  + (f"{r['energy_pj_per_cycle_simulated']:.2f} |" if "energy_pj_per_cycle_simulated" in r else "- |")
                  + (f" {r['power_rel_pe0_simulated']:.3f} |" if "power_rel_pe0_simulated" in r else " - |"))
json.dump(out, open(f"{c}/razor_cost.json", "w"), indent=1)
open(f"{c}/razor_cost.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
print(f"razor-cost: {c}/razor_cost.json")
PY
