#!/usr/bin/env bash
# `vosa dta` on the PE as the generator instantiates it (docs/dta.md "The PE as
# generated"), osu018:
#   1. Razor PE (policy correct, bits 11..18, shadow_delay 0.08): the shadow
#      clock is driven and stall_i is err_o (a flagged cycle stalls the PE for
#      the restore, its inputs held); Icarus with the same stimulus, clk_shadow_i
#      = clk_i delayed and stall_i = err_o captures the same psum_o and the same
#      err_o in every cycle, stall cycles included; the same at shadow_delay
#      0.25 (the shadow samples data still switching), every flag one stall;
#   2. Razor at production settings: nothing flagged at the sign-off period; at
#      a short period Razor corrects (after_razor has fewer erring cycles than
#      the main register), counts add up; a too-short --shadow-delay is refused;
#   3. Razor policy drop (psum_o is a mux, the register psum_q is found): every
#      flagged cycle passes psum_i on;
#   4. precision-modes PE: each mode simulated with mode_i held (the functional
#      check of every cycle uses that mode's reduced operands, so a mis-driven
#      mode_i aborts the run); fewer errors and less energy in narrower modes;
#      a missing or unknown --mode is a named error with no output;
#   5. carry-save PE: psum_i and psum_c_i carry the sum and carry words the
#      column above produces (carry-save recurrence of the random layer's rows;
#      the functional check of both words aborts the run if they were not);
#      both registers' errors and the partial sum's are reported; a per-PE
#      stream (uniform, a trace without the carry word) is refused; joint
#      sum/carry patterns (either_word).
#      Icarus with the same stimulus (carry word on psum_c_i) captures the
#      same sum and carry words in every cycle.
#   6. a version-2 trace with the carry word gives the same as layer:SEED.
#   7. carry-save PE with Razor: shadow flops on both words.
# usage: dta_pe_variants_test.sh VOSA_BINARY WORK_DIR
set -euo pipefail
VOSA=$(realpath "$1")
WORK=$2
ROOT=$(realpath "$(dirname "$0")/../..")
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
LIB=$("$ROOT/flow/dta_osu018_pe.sh" "$VOSA" razor "$ROOT/testbench/gatelevel/razor_pe_top8.json")
sed 's/"correct"/"drop"/' "$ROOT/testbench/gatelevel/razor_pe_top8.json" > razor_drop.json
"$ROOT/flow/dta_osu018_pe.sh" "$VOSA" drop razor_drop.json > /dev/null
"$ROOT/flow/dta_osu018_pe.sh" "$VOSA" prec "$ROOT/flow/configs/precision_8x8.json" > /dev/null
"$ROOT/flow/dta_osu018_pe.sh" "$VOSA" csave "$ROOT/flow/configs/arith/pe8_carry_save_kogge_stone.json" > /dev/null
# The carry-save PE with Razor on its top 8 bits (both words shadowed).
python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c['razor']={'top_k': 8, 'shadow_delay': 0.08}; json.dump(c, open('csave_razor.json', 'w'))" \
  "$ROOT/flow/configs/arith/pe8_carry_save_kogge_stone.json"
"$ROOT/flow/dta_osu018_pe.sh" "$VOSA" csave_razor csave_razor.json > /dev/null
dta() { (cd "$1" && shift && "$VOSA" dta --netlist pe_netlist.v --liberty "$LIB" --sdf pe.sdf \
  --manifest design/manifest.json -q "$@"); }

# 1. Icarus cross-check of the Razor PE (Icarus's flops capture at the edge:
# --setup zero; inputs 0.292 ns after the edge as in make razor-gate).
dta razor --period-ns 3.6 --cycles 5000 --delay-mode modpath --setup zero --input-delay-ns 0.292 \
  --operands uniform:7 --icarus-kit kit --out xcheck.json
(cd razor && iverilog -gspecify -Tmax -o kit/sim kit/tb.v kit/netlist.v cells_1ps.v && vvp -n kit/sim > kit/vvp.log 2>&1)
python3 - <<'PY'
import json
k = "razor/kit/"
v, i = open(k + "captured_vosa.txt").read().split(), open(k + "captured_icarus.txt").read().split()
ev, ei = open(k + "err_vosa.txt").read().split(), open(k + "err_icarus.txt").read().split()
r = json.load(open("razor/xcheck.json"))["points"][0]["razor"]
# stall_i is err_o (policy correct): every flagged cycle is one held edge, whose
# window repeats the inputs (the stimulus has one more cycle per stall).
assert r["stall_driven"] and r["stall_cycles"] == r["flagged_cycles"] > 20, r
assert len(v) == len(i) == len(ev) == len(ei) == 5001 + r["stall_cycles"], (len(v), len(i), len(ev), len(ei))
dv = sum(a != b for a, b in zip(v, i)); de = sum(a != b for a, b in zip(ev, ei))
print(f"Razor cross-check: {len(v)} cycles ({r['stall_cycles']} stalled), psum_o differs in {dv}, err_o differs in {de}; "
      f"err_o in {ev.count('1')} cycles (vosa) / {ei.count('1')} (Icarus)")
assert dv == 0 and de == 0, "vosa dta and Icarus disagree on the Razor PE"
assert ev.count("1") == r["flagged_cycles"], (ev.count("1"), r["flagged_cycles"])
# After a stall edge psum_o is the restore: a flagged cycle with right shadows passes nothing wrong on.
assert r["stall_capture_errors"] == 0 and r["after_razor"]["cycles_with_error"] <= r["miscorrected"] + r["undetected"], r
PY
# The kit's netlist.v and icarus.sdf carry every delay vosa simulates (Icarus 11
# drops INTERCONNECTs and the SDF of the shadow flops' escaped names otherwise).
! grep -q "SDF WARNING" razor/kit/vvp.log || { grep "SDF WARNING" razor/kit/vvp.log | head -3; echo "FAIL: SDF not fully annotated"; exit 1; }

# 1b. The config default shadow_delay 0.25: the shadow edge (0.9 ns) comes after the
# new data and after err_o's glitch, so the shadow samples while its D is still
# switching. Icarus must agree in every window all the same, and each flag must
# stall exactly once: the shadow has no enable from stall_i (which moves within
# the cycle) and err_o is masked after a stalled edge (docs/razor.md "Stall and
# shadow"). Before, the PE stalled about twice per flag, up to 5 edges in a row.
dta razor --period-ns 3.6 --cycles 2000 --delay-mode modpath --setup zero --input-delay-ns 0.292 \
  --operands uniform:7 --shadow-delay 0.25 --icarus-kit kit25 --out xcheck25.json
(cd razor && iverilog -gspecify -Tmax -o kit25/sim kit25/tb.v kit25/netlist.v cells_1ps.v && vvp -n kit25/sim > kit25/vvp.log 2>&1)
python3 - <<'PY'
import itertools, json
k = "razor/kit25/"
v, i = open(k + "captured_vosa.txt").read().split(), open(k + "captured_icarus.txt").read().split()
ev, ei = open(k + "err_vosa.txt").read().split(), open(k + "err_icarus.txt").read().split()
r = json.load(open("razor/xcheck25.json"))["points"][0]["razor"]
dv = sum(a != b for a, b in zip(v, i)); de = sum(a != b for a, b in zip(ev, ei))
runs = [len(list(g)) for x, g in itertools.groupby(ei) if x == "1"]
print(f"Razor cross-check, shadow_delay 0.25: {len(v)} cycles ({r['stall_cycles']} stalled, {r['flagged_cycles']} flagged, "
      f"{r['false_flags']} false), psum_o differs in {dv}, err_o differs in {de}; longest err_o run (Icarus) {max(runs)}")
assert len(v) == len(i) == len(ev) == len(ei) and dv == 0 and de == 0, "vosa dta and Icarus disagree at shadow_delay 0.25"
# (the last record's shadow edge can add one stall of its own)
counts = {x: r[x] for x in ("flagged_cycles", "stall_cycles", "false_flags")}
assert r["flagged_cycles"] > 500 and 0 <= r["stall_cycles"] - r["flagged_cycles"] <= 1 and max(runs) == 1, (counts, max(runs))
PY

# 2. Production settings (transport, setup from the SDF, inputs at the output
# register's clock-to-Q): sign-off period 4.57 ns (make razor-gate) and 3.6 ns.
dta razor --period-ns 4.57,3.6 --cycles 5000 --operands uniform:7 --out prod.json
python3 - <<'PY'
import json
m = json.load(open("razor/prod.json"))
assert m["simulation"]["input_delay_ns"] > 0.1, m["simulation"]["input_delay_ns"]
safe, late = m["points"]
for p in (safe, late):
    r = p["razor"]
    assert r["flagged_cycles"] == r["corrected"] + r["miscorrected"], r
    assert [b["bit"] for b in r["protected_bits"]] == list(range(11, 19))
    # Late protected bits are main-register errors of those bits.
    for b in r["protected_bits"]:
        assert b["late"] == p["bits"][b["bit"]]["errors"] and b["missed"] <= b["late"], b
r = safe["razor"]
print(f"sign-off 4.57 ns: {safe['cycles_with_error']} erring cycles, {r['flagged_cycles']} flagged, "
      f"{r['false_flags']} false, after Razor {r['after_razor']['cycles_with_error']}")
assert r["false_flags"] == 0 and r["after_razor"]["cycles_with_error"] == 0, r
r = late["razor"]
print(f"3.6 ns: {late['cycles_with_error']} erring cycles, {r['flagged_cycles']} flagged, {r['corrected']} corrected, "
      f"{r['miscorrected']} miscorrected, {r['undetected']} undetected, after Razor {r['after_razor']['cycles_with_error']}")
assert r["corrected"] > 100 and r["after_razor"]["cycles_with_error"] < late["cycles_with_error"] / 2, r
assert sum(b["errors"] for b in late["bits"][:11]) == sum(b["errors"] for b in r["after_razor"]["bits"][:11]), \
    "Razor must not touch unprotected bits"
PY
# The stall cycles are in the energy: simulated activity of the stalled
# windows (the stall mux switching) and the energy of a MAC above the cycle's.
dta razor --period-ns 3.6 --cycles 3000 --operands uniform:7 --energy --out energy.json
python3 - <<'PY'
import json
p = json.load(open("razor/energy.json"))["points"][0]
e, r = p["energy"], p["razor"]
print(f"3.6 ns --energy: {e['stall_cycles']} stall cycles (event run {r['stall_cycles']}), "
      f"{e['energy_per_cycle_pj']:.3f} pJ/cycle, {e['energy_per_mac_pj']:.3f} pJ/MAC")
assert e["stall_cycles"] > 20 and r["stall_cycles"] > 20, (e, r["stall_cycles"])
assert e["energy_per_mac_pj"] > e["energy_per_cycle_pj"] * (1 + 0.5 * e["stall_cycles"] / p["samples"]), e
PY
if dta razor --period-ns 3.6 --cycles 100 --shadow-delay 0.01 --out bad.json 2> bad.err; then
  echo "FAIL: a shadow delay shorter than the shadow flop's setup was accepted"; exit 1
fi
grep -q "shadow clock delay" bad.err || { cat bad.err; echo "FAIL: error does not name the shadow clock delay"; exit 1; }
[ ! -e razor/bad.json ] || { echo "FAIL: bad.json written"; exit 1; }

# 3. TE-Drop: the flagged cycles pass the incoming partial sum on.
dta drop --period-ns 3.6 --cycles 3000 --operands uniform:7 --error-log err.csv --out drop.json
python3 - <<'PY'
import json
p = json.load(open("drop/drop.json"))["points"][0]
r = p["razor"]
print(f"TE-Drop 3.6 ns: {r['flagged_cycles']} flagged, after Razor {r['after_razor']['cycles_with_error']} erring cycles")
assert r["policy"] == "drop" and r["flagged_cycles"] > 50
# A dropped product is an error of -a*w (8x8 signed: |a*w| <= 2^14).
assert r["after_razor"]["cycles_with_error"] >= 0.9 * r["flagged_cycles"], r
PY

# 4. Precision modes: mode_i held at each mode.
for m in 0 1 2; do dta prec --period-ns 3.8 --cycles 4000 --operands uniform:5 --mode $m --energy --out mode$m.json; done
python3 - <<'PY'
import json
ms = [json.load(open(f"prec/mode{m}.json")) for m in range(3)]
rows = [(m["design"]["precision_mode"]["bits"], m["points"][0]["cycles_with_error"],
         m["points"][0]["energy"]["energy_per_cycle_pj"]) for m in ms]
print("precision modes (bits, erring cycles, energy/MAC pJ) at 3.8 ns:", rows)
assert [r[0] for r in rows] == [8, 6, 4]
assert rows[0][1] > rows[2][1] and rows[0][2] > rows[1][2] > rows[2][2], rows
PY
if dta prec --period-ns 3.8 --cycles 100 --out bad.json 2> bad.err; then echo "FAIL: no --mode accepted"; exit 1; fi
grep -q "give the mode to simulate (--mode)" bad.err || { cat bad.err; echo "FAIL: error does not name --mode"; exit 1; }
if dta prec --period-ns 3.8 --cycles 100 --mode 3 --out bad.json 2> bad.err; then echo "FAIL: --mode 3 accepted"; exit 1; fi
grep -q -- "--mode 3: the design has 3 precision modes" bad.err || { cat bad.err; echo "FAIL: bad --mode error"; exit 1; }
[ ! -e prec/bad.json ] || { echo "FAIL: bad.json written"; exit 1; }

# 5. Carry-save: the column's sum and carry words.
dta csave --period-ns 4,2.8 --cycles 3000 --operands layer:2 --pe-rows 7 --out csave.json
python3 - <<'PY'
import json
safe, late = json.load(open("csave/csave.json"))["points"]
for p in (safe, late):
    c = p["carry_word"]
    assert c["register"] == "psum_c_q" and len(c["bits"]) == 19
    # The pair is wrong whenever either word is (an error in both can cancel, rarely).
    assert c["partial_sum"]["cycles_with_error"] <= p["cycles_with_error"] + c["cycles_with_error"]
assert safe["cycles_with_error"] == 0 and safe["carry_word"]["cycles_with_error"] == 0
c = late["carry_word"]
print(f"carry-save 2.8 ns: sum word errs in {late['cycles_with_error']} cycles, carry word in {c['cycles_with_error']}, "
      f"partial sum in {c['partial_sum']['cycles_with_error']} of {late['samples']}")
assert late["cycles_with_error"] > 0 and c["cycles_with_error"] > 0, "both registers are endpoints"
assert c["bits"][0]["errors"] == 0, "carry bit 0 is constant"
assert c["partial_sum"]["cycles_with_error"] >= max(late["cycles_with_error"], c["cycles_with_error"]) * 0.9
PY
if dta csave --period-ns 4 --cycles 100 --operands uniform:1 --out bad.json 2> bad.err; then
  echo "FAIL: a per-PE stream was accepted for the carry-save PE"; exit 1
fi
grep -q "use --operands layer:SEED" bad.err || { cat bad.err; echo "FAIL: error does not name layer:SEED"; exit 1; }
[ ! -e csave/bad.json ] || { echo "FAIL: bad.json written"; exit 1; }
python3 - <<'PY'
import json
late = json.load(open("csave/csave.json"))["points"][1]
e = late["carry_word"]["either_word"]
# Either word wrong: at least each word's own count, at most their sum; the
# joint patterns are (sum mask, carry mask) pairs of those cycles.
assert max(late["cycles_with_error"], late["carry_word"]["cycles_with_error"]) <= e["cycles_with_error"] \
    <= late["cycles_with_error"] + late["carry_word"]["cycles_with_error"], e
assert e["error_patterns"] and all(q["mask"] or q["carry_mask"] for q in e["error_patterns"])
assert sum(q["count"] for q in e["error_patterns"]) <= e["cycles_with_error"]
print(f"carry-save 2.8 ns: either word wrong in {e['cycles_with_error']} cycles, top joint pattern "
      f"{e['error_patterns'][0]}")
PY

# Icarus cross-check of the carry-save PE: the same stimulus (with the carry
# word on psum_c_i) through the SDF-annotated netlist; both registers agree.
dta csave --period-ns 2.8 --cycles 2000 --delay-mode modpath --setup zero --input-delay-ns 0.292 \
  --operands layer:2 --pe-rows 7 --icarus-kit kit --out xcheck.json
(cd csave && iverilog -gspecify -Tmax -o kit/sim kit/tb.v kit/netlist.v cells_1ps.v && vvp -n kit/sim > kit/vvp.log 2>&1)
python3 - <<'PY'
import json
k = "csave/kit/"
read = lambda f: open(k + f).read().split()
v, i, cv, ci = read("captured_vosa.txt"), read("captured_icarus.txt"), read("captured_carry_vosa.txt"), read("captured_carry_icarus.txt")
assert len(v) == len(i) == len(cv) == len(ci) == 2001, (len(v), len(i), len(cv), len(ci))
ds, dc = sum(a != b for a, b in zip(v, i)), sum(a != b for a, b in zip(cv, ci))
p = json.load(open("csave/xcheck.json"))["points"][0]
print(f"carry-save Icarus cross-check: {len(v)} cycles, psum_o differs in {ds}, psum_c_o in {dc} "
      f"(sum word wrong in {p['cycles_with_error']} cycles, carry word in {p['carry_word']['cycles_with_error']})")
assert ds == 0 and dc == 0, "vosa dta and Icarus disagree on the carry-save PE"
assert p["cycles_with_error"] > 20 and p["carry_word"]["cycles_with_error"] > 20
PY

# 6. A real-layer-style stream from a version-2 trace (docs/trace.md): the
# records carry the carry word, and the result equals that of --operands
# layer:2 (the same random layer, seed and PE row, written to a file).
"$VOSA" trace layer --out csave/layer.vtrace --count 3000 --rows 8 --cols 8 --pe-row 7 --seed 2 --carry-save
dta csave --period-ns 2.8 --operands trace:layer.vtrace --out from_trace.json
python3 - <<'PY'
import json
t = json.load(open("csave/from_trace.json"))["points"][0]
l = json.load(open("csave/csave.json"))["points"][1]
for k in ("samples", "cycles_with_error"):
    assert t[k] == l[k], (k, t[k], l[k])
assert t["carry_word"] == l["carry_word"], "the trace's carry words are the layer stream's"
print(f"carry-save from a version-2 trace: {t['cycles_with_error']} erring cycles, as from layer:2")
PY
"$VOSA" trace layer --out csave/plain.vtrace --count 100 --rows 8 --cols 8 --pe-row 7 --seed 2
if dta csave --period-ns 4 --operands trace:plain.vtrace --out bad.json 2> bad.err; then
  echo "FAIL: a trace without the carry word was accepted for the carry-save PE"; exit 1
fi
grep -q "has no carry word (trace version 1)" bad.err || { cat bad.err; echo "FAIL: error does not name the carry word"; exit 1; }
[ ! -e csave/bad.json ] || { echo "FAIL: bad.json written"; exit 1; }

if dta csave --period-ns 4 --cycles 100 --operands layer:2 --engine parallel --out bad.json 2> bad.err; then
  echo "FAIL: --engine parallel was accepted for the carry-save PE"; exit 1
fi
grep -q "engine parallel does not drive the carry-save PE's psum_c_i" bad.err || { cat bad.err; echo "FAIL: unclear parallel-engine refusal"; exit 1; }
[ ! -e csave/bad.json ] || { echo "FAIL: bad.json written"; exit 1; }

# 7. Carry-save with Razor: the shadow flops of both words.
dta csave_razor --period-ns 4,3.2 --cycles 3000 --operands layer:2 --out r.json
python3 - <<'PY'
import json
safe, late = json.load(open("csave_razor/r.json"))["points"]
assert safe["razor"]["flagged_cycles"] == 0 and safe["razor"]["after_razor"]["cycles_with_error"] == 0, safe["razor"]
r, c = late["razor"], late["carry_word"]
print(f"carry-save Razor top 8 at 3.2 ns: pair wrong in {c['partial_sum']['cycles_with_error']} cycles, "
      f"{r['flagged_cycles']} flagged, {r['corrected']} corrected, {r['miscorrected']} miscorrected, "
      f"{r['undetected']} undetected, after Razor {r['after_razor']['cycles_with_error']}")
# A false flag here is a late glitch: the carry bit's D is right at T, still
# switching (away and back) in the window, and the shadow samples it.
assert r["corrected"] > 100 and r["false_flags"] <= 0.01 * r["flagged_cycles"], r
# Razor corrects most erring cycles (the rest: unprotected low bits wrong).
assert r["after_razor"]["cycles_with_error"] < c["either_word"]["cycles_with_error"] / 2, (r, c)
PY
echo "all PE-variant DTA checks passed"
