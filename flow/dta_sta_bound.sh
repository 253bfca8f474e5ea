#!/usr/bin/env bash
# STA bounds DTA (docs/dta.md, "STA bounds DTA"): for each PDK and PE config,
# synthesize and time the PE at the PDK's sign-off corner with the flow's own
# rules (flow/stages.make), then run `vosa dta` (transport delays, capture at
# T - setup) at a clock period equal to STA's worst arrival plus setup (the
# critical path, critical_path.txt, plus the 1 ps delay-grid allowance below)
# and require
#   - no timing error in any cycle, with every engine, for every operand stream;
#   - for every output bit, latest simulated D transition + that bit's smaller
#     setup time <= STA's worst arrival + setup of that bit (+ the allowance).
# vosa rounds every SDF delay (0.1 ps digits) to 1 ps: up to 0.5 ps per arc,
# so the allowance is 0.5 ps per cell on the bit's longest reported path.
# usage: flow/dta_sta_bound.sh VOSA WORK CYCLES "PDK:CONFIG ..." "ENGINE ..." [OPERANDS...]
#   OPERANDS default: uniform:1 layer:2 (trace:FILE.vtrace also works)
set -euo pipefail
VOSA=$(realpath "$1")
WORK=$2
CYCLES=$3
CASES=$4
ENGINES=$5
shift 5
OPERAND_LIST=("$@")
ROOT=$(realpath "$(dirname "$0")/..")
# shellcheck source=flow/signoff_case.sh
. "$ROOT/flow/signoff_case.sh"
status=0
for case in $CASES; do
  signoff_case "$case" sta sdf
  reg=$(sed -n 's/.*"pe_output_register": *"\([^"]*\)".*/\1/p' "$design/manifest.json")
  paths="$P/sta/$signoff.paths.tsv"
  # Critical path (worst arrival + setup) plus the grid allowance of the longest path, in whole ps.
  period=$(python3 - "$P/sta/critical_path.txt" "$paths" <<'PY'
import math, sys
crit = float(open(sys.argv[1]).readline())
pins = max(int(l.split("\t")[5]) for l in open(sys.argv[2]) if l.startswith("path\t"))
print(f"{math.ceil(crit * 1000 + 0.5 * pins / 2) / 1000:.3f}")
PY
)
  for engine in $ENGINES; do
    for operands in "${OPERAND_LIST[@]}"; do
      tag="$pdk $name $engine ${operands##*/}"
      out="$P/bound_${engine}_$(echo "${operands##*/}" | tr ':/' '__').json"
      "$VOSA" dta --netlist "$P/synth/pe_netlist.v" --liberty "$lib" --sdf "$P/sdf/$signoff.sdf" \
        --pdk "$pdk" --corner "$signoff" --manifest "$design/manifest.json" --period-ns "$period" \
        --operands "$operands" --cycles "$CYCLES" --engine "$engine" --out "$out" > "$out.log"
      python3 - "$out" "$paths" "$P/sdf/$signoff.sdf" "$reg" "$tag" <<'PY' || status=1
import json, re, sys
model, paths, sdf, reg, tag = sys.argv[1:]
point = json.load(open(model))["points"][0]
period = point["period_ns"]
sta, pins = {}, {}
for line in open(paths):
    f = line.rstrip("\n").split("\t")
    if f[0] == "period_ns": sta_period = float(f[1])
    if f[0] == "bit": sta[int(f[1])] = float(f[3]) + sta_period - float(f[4])  # arrival + setup
    if f[0] == "path": pins[int(f[1])] = max(pins.get(int(f[1]), 0), int(f[5]))
text = open(sdf).read()
setup = {}
for m in re.finditer(re.escape(reg) + r"\\\[(\d+)\\\]_reg\)(.*?)\n \)", text, re.S):
    # (SETUP (posedge D) (posedge CLK) (min::max)), possibly under COND: the max field
    setup[int(m.group(1))] = min(float(v) for v in re.findall(
        r"\(SETUP .*\([-0-9.]*::([-0-9.]+)\)\)\s*$", m.group(2), re.M))
late = []
for b in point["bits"]:
    j = b["bit"]
    if j not in sta:
        continue
    bound = sta[j] + 0.0005 * pins[j] / 2
    if b["max_settle_ns"] + setup.get(j, 0.0) > bound + 1e-9:
        late.append(f"bit {j}: simulated {b['max_settle_ns']:.3f} + setup {setup.get(j, 0.0):.4f} > STA {sta[j]:.4f}")
ok = point["cycles_with_error"] == 0 and not late
print(f"{'ok  ' if ok else 'FAIL'} {tag}: T = {period} ns, {point['samples']} cycles, "
      f"{point['cycles_with_error']} with a timing error, {len(late)} bits later than STA"
      + "".join("\n     " + x for x in late))
sys.exit(0 if ok else 1)
PY
    done
  done
done
exit $status
