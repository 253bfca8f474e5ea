#!/usr/bin/env bash
# Part of make bench-dta (flow/bench_dta.sh): the filter engine (the default
# of vosa dta) against the event engine per clock period, on the osu018 and
# sky130hd int8 PEs (flow/stages.make synthesis and STA at the sign-off
# corner), from the sign-off period (the critical path), where the settle
# bound resolves (nearly) every cycle, to deep overscaling, where it resolves
# none and the event engine simulates them all. One thread; vector pairs per
# CPU-second of simulation: user+system time of the run minus that of the
# same command with one cycle (parsing). The filter engine runs 10x CYCLES, and
# again with up to 100x where that took under 2 CPU-s of simulation (the
# parse, ~0.6 CPU-s on sky130hd, varies by ~0.1 s under load: a 0.1 s run
# could not be told from it).
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
echo "### Filter engine per clock period (uniform operands, transport, one thread; $CYCLES cycles per period for the event engine, $((10 * CYCLES)) to $((100 * CYCLES)) for the filter engine)"
echo
echo "| PE | T (ns) | % of critical path | erring cycles | resolved by the bound | event engine pairs per CPU-second | filter engine cycles | filter engine pairs per CPU-second | speed-up | filter time: bounds / event simulation and statistics |"
echo "|---|---|---|---|---|---|---|---|---|---|"
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
    run() {  # ENGINE CYCLES
      { time "$VOSA" dta "${args[@]}" --period-ns "$T" --cycles "$2" --engine "$1" \
          --out "$P/$1.$T.json" > "$P/$1.$T.log"; } 2> "$P/$1.$T.cpu"
    }
    run event "$CYCLES"
    n=$((10 * CYCLES))
    run filter $n
    more=$(python3 -c "import math, sys; t = float(sys.argv[1]) - float(sys.argv[2]); \
print(max(1, min(10, math.ceil(2 / max(t, 0.01)))))" "$(cpu "$P/filter.$T.cpu")" "$(cpu "$P/parse.cpu")")
    if [ "$more" -gt 1 ]; then n=$((n * more)); run filter $n; fi
    python3 - "$P" "$T" "$f" "$pdk $name" "$CYCLES" "$(cpu "$P/parse.cpu")" "$(cpu "$P/event.$T.cpu")" "$(cpu "$P/filter.$T.cpu")" "$n" <<'PY'
import json, re, sys
P, T, f, pe, cycles, parse, ev, fi, nf = sys.argv[1:]
cycles, parse, ev, fi, nf = int(cycles), float(parse), float(ev), float(fi), int(nf)
log = open(f"{P}/filter.{T}.log").read()
share = re.search(r"([0-9.]+) % of cycles resolved", log).group(1)
split = re.search(r"([0-9.]+) s in the bounds[^,]*, ([0-9.]+) s in event", log).groups()
m = json.load(open(f"{P}/filter.{T}.json"))["points"][0]
rate_e = cycles / max(ev - parse, 0.01)
rate_f = nf / max(fi - parse, 0.01)
print(f"| {pe} | {T} | {100 * float(f):.0f} % | {m['cycles_with_error']} of {m['samples']} | {share} % "
      f"| {rate_e:,.0f} | {nf:,} | {rate_f:,.0f} | {rate_f / rate_e:.1f}x | {split[0]} s / {split[1]} s |")
PY
  done
done
