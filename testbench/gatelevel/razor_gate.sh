#!/usr/bin/env bash
# Gate-level Razor check (docs/razor_gatelevel.md): a Razor PE synthesized
# for osu018 by the flow (flow/stages.make: synth, sign-off period, SDF of the
# characterized typ_1v80 corner), simulated in Icarus with that SDF at
#   - a late period (RAZOR_LATE_PS, default 3600 ps) where protected bits
#     arrive after the clk_i edge: caught by the shadow, or missed when later
#     than the shadow window, and
#   - the safe period (the flow's sign-off period): no error may be flagged.
# clk_shadow_i = clk_i delayed by razor.shadow_delay * T; the operands reach
# the PE the PE's own minimum clock-to-psum_o after the edge (as from the PE
# above). OpenSTA (flow/razor_sta.tcl) checks the shadow flops' hold (short
# path) constraint at both periods first and the run fails if it is violated.
# usage: razor_gate.sh VOSA_BINARY BUILD_DIR [CONFIG_JSON]
#   env: RAZOR_LATE_PS (3600), RAZOR_CYCLES (late run, 20000), RAZOR_SAFE_CYCLES (4000), RAZOR_SEED (7),
#        RAZOR_CORNER (typ_1v80, characterized; typ_1v20..typ_1v70 are derated by the voltage
#        model: then the safe period is the longest STA arrival at that corner, rounded up to 10 ps,
#        if longer than the sign-off period)
# writes BUILD_DIR/<config>-<hash>/osu018/razor_gate/<corner>/{summary.json,late.log,safe.log,...}
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 VOSA_BINARY BUILD_DIR [CONFIG_JSON]" >&2; exit 2; }
VOSA=$(realpath "$1")
mkdir -p "$2"
BUILD=$(realpath "$2")
ROOT=$(realpath "$(dirname "$0")/../..")
CONFIG=$(realpath "${3:-$ROOT/testbench/gatelevel/razor_pe_top8.json}")
LATE_PS=${RAZOR_LATE_PS:-3600}
CYCLES=${RAZOR_CYCLES:-20000}
SAFE_CYCLES=${RAZOR_SAFE_CYCLES:-4000}
SEED=${RAZOR_SEED:-7}
CORNER=${RAZOR_CORNER:-typ_1v80}
CELLS=/usr/share/qflow/tech/osu018/osu018_stdcells.v
[ -f "$CELLS" ] || { echo "error: missing $CELLS (install qflow-tech-osu018: scripts/setup.sh)" >&2; exit 1; }
[ -f "$CONFIG" ] || { echo "error: config $CONFIG not found" >&2; exit 1; }
# Keyed like the Makefile's config_dir: name plus the config file's hash.
NAME=$(basename "$CONFIG" .json)-$(sha256sum < "$CONFIG" | cut -c1-8)
DESIGN=$BUILD/$NAME/design
P=$BUILD/$NAME/osu018
W=$P/razor_gate/$CORNER

"$VOSA" generate --config "$CONFIG" --out "$DESIGN" -q
python3 - "$DESIGN/manifest.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["config"]
if "razor" not in c or c["razor"]["policy"] != "correct":
    sys.exit(f"error: {sys.argv[1]}: the gate-level check needs a Razor PE with policy 'correct'")
PY
# The flow's own rules: synthesis, sign-off period, SDF per corner.
make --no-print-directory -f "$ROOT/flow/stages.make" ROOT="$ROOT" BUILD="$BUILD" VOSA="$VOSA" \
  CONFIG_NAME="$NAME" PDK=osu018 DESIGN_DIR="$DESIGN" REQUESTED_CORNERS="$CORNER" VOLTAGES= PERIOD_NS= sdf \
  > "$BUILD/$NAME.flow.log" 2>&1 || { cat "$BUILD/$NAME.flow.log" >&2; exit 1; }
mkdir -p "$W"
NETLIST=$P/synth/pe_netlist.v
SDF=$P/sdf/$CORNER.sdf
SAFE_NS=$(cat "$P/sta/period_ns.txt")
LIB=$("$VOSA" pdk liberty --pdk osu018 --corner "$CORNER" --cache-dir "$BUILD/pdk")
PDK_JSON=$("$VOSA" pdk path --pdk osu018)
SOURCE=$(python3 -c "import json,sys; print('characterized' if sys.argv[2] in json.load(open(sys.argv[1]))['corners'] else 'derated (voltage model)')" "$PDK_JSON" "$CORNER")
FRAC=$(python3 -c "import json; print(json.load(open('$DESIGN/manifest.json'))['config']['razor']['shadow_delay'])")

# Razor STA at both periods: shadow setup (T + D) and hold (D) checks.
for run in late safe; do
  if [ $run = late ]; then
    T_NS=$(python3 -c "print($LATE_PS / 1000)")
  else
    # Safe: the sign-off period, or the longest arrival at this corner if longer.
    SAFE_NS=$(awk -v s="$SAFE_NS" '($1 == "main" || $1 == "shadow") && $3 + 0 > m { m = $3 + 0 }
      END { p = int(m * 100); if (p < m * 100) p++; p = p / 100; printf "%.2f", (p > s ? p : s) }' "$W/sta_late.tsv")
    T_NS=$SAFE_NS
  fi
  VOSA_LIBERTY=$LIB VOSA_NETLIST=$NETLIST VOSA_TOP=vosa_pe VOSA_PDK_TCL=$P/pdk.tcl VOSA_PERIOD_NS=$T_NS \
    VOSA_SHADOW_DELAY=$FRAC VOSA_REPORT_OUT=$W/sta_$run.tsv \
    sta -no_splash -exit "$ROOT/flow/razor_sta.tcl" > "$W/sta_$run.log" 2>&1 || true
  if grep -q '^Error' "$W/sta_$run.log" || [ ! -s "$W/sta_$run.tsv" ]; then
    echo "error: OpenSTA (flow/razor_sta.tcl) failed, see $W/sta_$run.log:" >&2; grep '^Error' "$W/sta_$run.log" >&2; exit 1
  fi
  # Razor's short-path constraint: new data must not reach a shadow flop
  # before its (delayed) clock edge, or the shadow samples the next value.
  awk -v run=$run -v T="$T_NS" -v frac="$FRAC" '$1 == "shadow" && $6 <= 0 {
      printf "error: shadow hold violated at T=%s ns: bit %s min path %.3f ns from %s, shadow edge %.3f ns (hold slack %.3f ns); lower razor.shadow_delay (%s) below the min path or add hold buffers\n", T, $2, $5 - T, $7, frac * T, $6, frac > "/dev/stderr"; bad = 1 }
    END { exit bad }' "$W/sta_$run.tsv"
done

# Icarus 11's $sdf_annotate splits escaped names at "\.": simulation copies
# of netlist and SDF name the shadow flops razor_shadow_<bit>_reg (same cells,
# same delays). Cell models at 1 ps precision, as in flow/dta_osu018_pe.sh.
sed -E 's/\\g_bit\[([0-9]+)\]\.g_razor\.shadow_q_reg /razor_shadow_\1_reg /' "$NETLIST" > "$W/pe_sim.v"
sed -E 's/g_bit\\\[([0-9]+)\\\]\\\.g_razor\\\.shadow_q_reg/razor_shadow_\1_reg/g' "$SDF" > "$W/pe_sim.sdf"
sed 's|`timescale 1ns/10ps|`timescale 1ns/1ps|' "$CELLS" > "$W/cells_1ps.v"
python3 - "$DESIGN/manifest.json" "$W" <<'PY'
import json, re, sys
c = json.load(open(sys.argv[1]))["config"]; w = sys.argv[2]
acc, bits = c["acc_bits"], c["razor"]["bits"]
netlist = open(f"{w}/pe_sim.v").read()
mask = sum(1 << b for b in bits)
with open(f"{w}/razor_params.vh", "w") as f:
    f.write(f"`define A_BITS {c['act_bits']}\n`define W_BITS {c['weight_bits']}\n`define ACC_BITS {acc}\n"
            f"`define SIGNED {1 if c['signed'] else 0}\n`define RAZOR_MASK {acc}'h{mask:x}\n"
            f"`define SDF_FILE \"{w}/pe_sim.sdf\"\n")
with open(f"{w}/razor_probes.vh", "w") as f:
    for b in range(acc):
        if b in bits:
            if f"razor_shadow_{b}_reg " not in netlist or f"\\g_bit[{b}].g_razor.shadow_q " not in netlist:
                sys.exit(f"error: shadow flop of bit {b} not found in the netlist")
            f.write(f"assign shadow_q[{b}] = dut.\\g_bit[{b}].g_razor.shadow_q ;\n"
                    f"assign shadow_d[{b}] = dut.razor_shadow_{b}_reg.D;\n")
        else:
            f.write(f"assign shadow_q[{b}] = 1'b0;\nassign shadow_d[{b}] = 1'b0;\n")
PY
iverilog -gspecify -Tmax -I"$W" -o "$W/sim" "$ROOT/testbench/gatelevel/razor_pe_tb.v" "$W/pe_sim.v" \
  "$W/cells_1ps.v" 2> "$W/iverilog.log" || { cat "$W/iverilog.log" >&2; exit 1; }
IN_PS=$(awk '$1 == "min_clk_to_psum_o_ns" {printf "%d", $2 * 1000 + 0.999}' "$W/sta_late.tsv")
SAFE_PS=$(python3 -c "print(round($SAFE_NS * 1000))")
for run in late safe; do
  if [ $run = late ]; then T=$LATE_PS; N=$CYCLES; else T=$SAFE_PS; N=$SAFE_CYCLES; fi
  D=$(python3 -c "print(round($FRAC * $T))")
  echo "razor-gate: $run run, T=$T ps, shadow delay $D ps, inputs $IN_PS ps after the edge, $N cycles"
  vvp -n "$W/sim" +period_ps=$T +shadow_ps=$D +in_ps=$IN_PS +cycles=$N +seed=$SEED > "$W/$run.log" 2>&1
done

python3 - "$W" "$FRAC" "$LATE_PS" "$SAFE_PS" "$IN_PS" "$CONFIG" "$CORNER" "$SOURCE" <<'PY'
import json, re, sys
w, frac, late_ps, safe_ps, in_ps, config = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
corner, source = sys.argv[7], sys.argv[8]
def sim(run):
    log = open(f"{w}/{run}.log").read()
    if "SDF WARNING" in log or "SDF ERROR" in log:
        sys.exit(f"error: SDF annotation incomplete in {w}/{run}.log")
    if re.search(r"^ERROR", log, re.M):
        sys.exit(f"error: testbench error in {w}/{run}.log: " + re.search(r"^ERROR.*", log, re.M).group(0))
    m = re.search(r"^RESULT (.*)$", log, re.M)
    if not m: sys.exit(f"error: no RESULT line in {w}/{run}.log")
    r = {k: int(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    r["per_bit"] = {int(b): {"late": int(l), "missed": int(x)}
                    for b, l, x in re.findall(r"^BIT (\d+) late=(\d+) missed=(\d+)", log, re.M)}
    return r
def sta(run):
    rep = {"shadow": {}, "main": {}}
    for line in open(f"{w}/sta_{run}.tsv"):
        f = line.rstrip("\n").split("\t")
        if f[0] == "shadow":
            rep["shadow"][int(f[1])] = {"max_arrival_ns": float(f[2]), "setup_slack_ns": float(f[3]),
                                        "min_arrival_ns": float(f[4]), "hold_slack_ns": float(f[5]), "min_from": f[6]}
        elif f[0] == "main":
            rep["main"][int(f[1])] = float(f[2])
        elif not f[0].startswith("#"):
            rep[f[0]] = f[1]
    return rep
late, safe = sim("late"), sim("safe")
sl, ss = sta("late"), sta("safe")
period = {"late": late_ps / 1000, "safe": safe_ps / 1000}
# Hold: OpenSTA reports the hold arrival from the launching edge one period on.
def hold(rep, T):
    worst = min(rep["shadow"].items(), key=lambda kv: kv[1]["hold_slack_ns"])
    b, s = worst
    return {"bit": b, "min_path_ns": round(s["min_arrival_ns"] - T, 4), "hold_slack_ns": s["hold_slack_ns"],
            "from": s["min_from"], "shadow_edge_ns": float(rep["shadow_edge_ns"])}
out = {
    "command": "make razor-gate (testbench/gatelevel/razor_gate.sh)", "config": config, "pdk": "osu018",
    "corner": corner, "delay_source": source,
    "sdf": f"flow SDF (OpenSTA write_sdf of the {corner} corner), iverilog -gspecify -Tmax",
    "shadow_delay": frac, "input_delay_ps": in_ps,
    "late": {"period_ns": period["late"], "shadow_ps": round(frac * late_ps), "sim": late,
             "sta_hold": hold(sl, period["late"]),
             "sta_main_arrival_ns": {b: sl["main"][b] for b in sorted(sl["main"])}},
    "safe": {"period_ns": period["safe"], "shadow_ps": round(frac * safe_ps), "sim": safe,
             "sta_hold": hold(ss, period["safe"])},
}
json.dump(out, open(f"{w}/summary.json", "w"), indent=1)
for run, r in (("late", late), ("safe", safe)):
    h = out[run]["sta_hold"]
    print(f"razor-gate {run}: T={period[run]:.3f} ns, shadow +{out[run]['shadow_ps']} ps: cycles {r['cycles']}, "
          f"late protected bits {r['late_protected_bits']} (in {r['late_cycles']} cycles; unprotected {r['late_unprotected_bits']}), "
          f"errors flagged {r['detected']}, corrected {r['corrected']}, missed {r['missed_bits']} bits in {r['missed_cycles']} cycles "
          f"({r['missed_undetected']} undetected), miscorrected {r['miscorrected']}, false errors {r['false_errors']} "
          f"(shadow-only wrong {r['shadow_only_wrong']}), stall cycles {r['stalls']}")
    print(f"  hold: STA min path to a shadow D {h['min_path_ns']:.3f} ns (bit {h['bit']}, from {h['from']}), "
          f"hold slack {h['hold_slack_ns']:.3f} ns at shadow edge {h['shadow_edge_ns']:.3f} ns"
          + (f"; earliest shadow-D change after an edge in simulation {r['min_shadow_d_change_ps']} ps (bit {r['min_shadow_d_bit']})"
             if run == "safe" else ""))
print(f"  corner {corner} ({source})")
print("  late run per protected bit (late/missed): " +
      ", ".join(f"{b}:{v['late']}/{v['missed']}" for b, v in sorted(late["per_bit"].items(), reverse=True)))
fails = []
def check(cond, msg):
    if not cond: fails.append(msg)
for run in ("late", "safe"):
    check(out[run]["sta_hold"]["hold_slack_ns"] > 0, f"{run}: shadow hold violated in STA (shadow_delay too large)")
check(late["late_protected_bits"] > 0, "late run: no protected bit arrived late (period too long?)")
check(late["corrected"] > 0, "late run: nothing corrected")
check(late["correction_failed"] == 0, "late run: a correction with a right shadow failed")
check(late["missed_bits"] > 0, "late run: no bit later than the shadow window (the MISSED case is untested)")
check(late["late_unprotected_bits"] == 0, "late run: an unprotected bit was late")
# err_o = main != shadow: every flagged cycle is corrected (shadow right) or
# miscorrected (shadow wrong too).
check(late["detected"] == late["corrected"] + late["miscorrected"], "late run: flagged cycles do not add up")
check(safe["cycles"] >= 1000 and safe["late_protected_bits"] == 0 and safe["detected"] == 0 and safe["false_errors"] == 0
      and safe["stalls"] == 0, "safe run: errors flagged at the sign-off period")
check(safe["min_shadow_d_change_ps"] > out["safe"]["shadow_ps"],
      "safe run: new data reached a shadow D before the shadow clock edge (hold)")
if fails:
    print("razor-gate FAILED:\n  " + "\n  ".join(fails)); sys.exit(1)
print(f"razor-gate: passed ({w}/summary.json)")
PY
