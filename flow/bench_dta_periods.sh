#!/usr/bin/env bash
# Part of make bench-dta (flow/bench_dta.sh): the filter engine (the default
# of vosa dta) against the event engine per clock period, on the osu018 and
# sky130hd int8 PEs (flow/stages.make synthesis and STA at the sign-off
# corner), from the sign-off period (the critical path), where the settle
# bound resolves (nearly) every cycle, to deep overscaling, where it resolves
# none and the event engine simulates them all. One thread; vector pairs per
# CPU-second of simulation: user+system time of the run minus that of the
# same command with one cycle (parsing). The filter engine runs 10x CYCLES.
# usage: flow/bench_dta_periods.sh VOSA WORK CYCLES
set -euo pipefail
VOSA=$(realpath "$1")
WORK=$2
CYCLES=$3
ROOT=$(realpath "$(dirname "$0")/..")
mkdir -p "$WORK"
WORK=$(realpath "$WORK")
export VOSA_DATA_DIR=${VOSA_DATA_DIR:-$ROOT/../shared}
TIMEFORMAT="%U %S"
cpu() { awk '{print $1 + $2}' "$1"; }
echo "### Filter engine per clock period (uniform operands, transport, one thread; $CYCLES cycles per period for the event engine, $((10 * CYCLES)) for the filter engine)"
echo
echo "| PE | T (ns) | % of critical path | erring cycles | resolved by the bound | event engine pairs per CPU-second | filter engine pairs per CPU-second | speed-up | filter time: bounds / event simulation and statistics |"
echo "|---|---|---|---|---|---|---|---|---|"
for case in osu018:generator/examples/default.json sky130hd:generator/examples/default.json; do
  pdk=${case%%:*}; config="$ROOT/${case#*:}"; name=$(basename "$config" .json)
  signoff=$("$VOSA" pdk get --pdk "$pdk" signoff_corner)
  "$VOSA" generate --config "$config" --out "$WORK/$name/design" -q
  make --no-print-directory -f "$ROOT/flow/stages.make" ROOT="$ROOT" BUILD="$WORK" VOSA="$VOSA" \
    CONFIG_NAME="$name" PDK="$pdk" DESIGN_DIR="$WORK/$name/design" REQUESTED_CORNERS="$signoff" \
    VOLTAGES= PERIOD_NS= sdf > "$WORK/$name.$pdk.flow.log" 2>&1
  P="$WORK/$name/$pdk"
  plib=$("$VOSA" pdk liberty --pdk "$pdk" --corner "$signoff" --cache-dir "$WORK/pdk")
  crit=$(head -1 "$P/sta/critical_path.txt")
  args=(--netlist "$P/synth/pe_netlist.v" --liberty "$plib" --sdf "$P/sdf/$signoff.sdf"
        --manifest "$WORK/$name/design/manifest.json" --operands uniform:11 --threads 1)
  { time "$VOSA" dta "${args[@]}" --period-ns "$crit" --cycles 1 --out "$P/parse.json" -q; } 2> "$P/parse.cpu"
  for f in 1.0 0.97 0.9 0.8 0.6 0.4; do
    T=$(python3 -c "print(f'{$crit * $f:.3f}')")
    for engine in event filter; do
      n=$CYCLES; [ $engine = filter ] && n=$((10 * CYCLES))
      { time "$VOSA" dta "${args[@]}" --period-ns "$T" --cycles "$n" --engine $engine \
          --out "$P/$engine.$T.json" > "$P/$engine.$T.log"; } 2> "$P/$engine.$T.cpu"
    done
    python3 - "$P" "$T" "$f" "$pdk $name" "$CYCLES" "$(cpu "$P/parse.cpu")" "$(cpu "$P/event.$T.cpu")" "$(cpu "$P/filter.$T.cpu")" <<'PY'
import json, re, sys
P, T, f, pe, cycles, parse, ev, fi = sys.argv[1:]
cycles, parse, ev, fi = int(cycles), float(parse), float(ev), float(fi)
log = open(f"{P}/filter.{T}.log").read()
share = re.search(r"([0-9.]+) % of cycles resolved", log).group(1)
split = re.search(r"([0-9.]+) s in the bounds[^,]*, ([0-9.]+) s in event", log).groups()
m = json.load(open(f"{P}/filter.{T}.json"))["points"][0]
rate_e = cycles / max(ev - parse, 0.01)
rate_f = 10 * cycles / max(fi - parse, 0.01)
print(f"| {pe} | {T} | {100 * float(f):.0f} % | {m['cycles_with_error']} of {m['samples']} | {share} % "
      f"| {rate_e:,.0f} | {rate_f:,.0f} | {rate_f / rate_e:.1f}x | {split[0]} s / {split[1]} s |")
PY
  done
done
