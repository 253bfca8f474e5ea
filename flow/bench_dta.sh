#!/usr/bin/env bash
# make bench-dta: vector-pairs per second of `vosa dta` on the default int8 PE
# (osu018, T = 3.5 ns where the MSBs fail), one thread and two, against Icarus
# (iverilog -gspecify -Tmax with $sdf_annotate) on the same vectors in the same
# run. Prints a Markdown table for docs/PERFORMANCE.md.
# The pattern-parallel engine (--engine parallel, transport only) and the
# settle-bound filter engine (--engine filter, the default) run on the same
# vectors too, and the filter engine per clock period (100 % of the critical
# path down to 40 %) on the osu018 and sky130hd int8 PEs, with where its time
# goes.
# usage: flow/bench_dta.sh VOSA_BINARY WORK_DIR [CYCLES]
set -euo pipefail
VOSA=$(realpath "$1")
WORK=$2
CYCLES=${3:-20000}
ROOT=$(realpath "$(dirname "$0")/..")
rm -rf "$WORK"
LIB=$("$ROOT/flow/dta_osu018_pe.sh" "$VOSA" "$WORK")
WORK=$(realpath "$WORK")
cd "$WORK"
common=(--netlist pe_netlist.v --liberty "$LIB" --sdf pe.sdf --manifest design/manifest.json
        --period-ns 3.5 --cycles "$CYCLES" --operands uniform:11 --setup zero --input-delay-ns 0.01)
TIMEFORMAT="%U %S"  # bash's `time`: user and system CPU seconds
rate() { sed -n 's/.*cycles in \([0-9.e-]*\) s (\([0-9]*\) vector-pairs\/s).*/\2/p' "$1" | head -1; }

"$VOSA" dta "${common[@]}" --engine event --delay-mode modpath --threads 1 --icarus-kit kit --out modpath.json > modpath_1.log
for mode in transport inertial modpath; do
  for threads in 1 2; do
    { time "$VOSA" dta "${common[@]}" --engine event --delay-mode $mode --threads $threads --out ${mode}_$threads.json \
        > ${mode}_$threads.log; } 2> ${mode}_$threads.cpu
    { time "$VOSA" dta "${common[@]}" --engine filter --delay-mode $mode --threads $threads --out filter_${mode}_$threads.json \
        > filter_${mode}_$threads.log; } 2> filter_${mode}_$threads.cpu
  done
done
for threads in 1 2; do
  { time "$VOSA" dta "${common[@]}" --delay-mode transport --engine parallel --threads $threads \
      --out parallel_$threads.json > parallel_$threads.log; } 2> parallel_$threads.cpu
done
iverilog -gspecify -Tmax -o kit/sim kit/tb.v kit/netlist.v cells_1ps.v
start=$(date +%s.%N)
{ time vvp -n kit/sim > kit/vvp.log 2>&1; } 2> icarus.cpu
end=$(date +%s.%N)
icarus_rate=$(python3 -c "print(int($CYCLES / ($end - $start)))")
cpu() { awk '{print $1 + $2}' "$1"; }
icarus_cpu_rate=$(python3 -c "print(int($CYCLES / $(cpu icarus.cpu)))")
agree=$(paste -d' ' kit/captured_vosa.txt kit/captured_icarus.txt | awk '$1==$2 {n++} END {print n+0}')
total=$(wc -l < kit/captured_vosa.txt)

echo "### vosa dta vs Icarus ($(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d" " -f1 /proc/loadavg) at the end, $CYCLES cycles, default int8 PE on osu018, T = 3.5 ns)"
echo
echo "| simulator | delay mode | threads | vector-pairs/s (wall) | vs Icarus | vector-pairs per CPU-second | vs Icarus |"
echo "|---|---|---|---|---|---|---|"
for mode in transport inertial modpath; do
  for threads in 1 2; do
    r=$(rate ${mode}_$threads.log)
    c=$(python3 -c "print(int($CYCLES / $(cpu ${mode}_$threads.cpu)))")
    echo "| vosa dta --engine event | $mode | $threads | $r | $(python3 -c "print(f'{$r / $icarus_rate:.0f}x')") | $c | $(python3 -c "print(f'{$c / $icarus_cpu_rate:.0f}x')") |"
  done
done
for mode in transport inertial modpath; do
  for threads in 1 2; do
    r=$(rate filter_${mode}_$threads.log)
    c=$(python3 -c "print(int($CYCLES / $(cpu filter_${mode}_$threads.cpu)))")
    echo "| vosa dta --engine filter | $mode | $threads | $r | $(python3 -c "print(f'{$r / $icarus_rate:.0f}x')") | $c | $(python3 -c "print(f'{$c / $icarus_cpu_rate:.0f}x')") |"
  done
done
for threads in 1 2; do
  r=$(rate parallel_$threads.log)
  c=$(python3 -c "print(int($CYCLES / $(cpu parallel_$threads.cpu)))")
  echo "| vosa dta --engine parallel | transport | $threads | $r | $(python3 -c "print(f'{$r / $icarus_rate:.0f}x')") | $c | $(python3 -c "print(f'{$c / $icarus_cpu_rate:.0f}x')") |"
done
echo "| Icarus 11 (vvp, SDF-annotated) | specify paths | 1 | $icarus_rate | 1x | $icarus_cpu_rate | 1x |"
echo
python3 - transport_1.json parallel_1.json parallel_2.json <<'PY'
import json, sys
a, b, c = (json.load(open(f)) for f in sys.argv[1:])
for m in (a, b, c):
    m["simulation"].pop("engine", None)
print("Transport error models: event engine (1 thread) and parallel engine (1 and 2 threads) are "
      + ("identical." if a == b == c else "DIFFERENT."))
PY
python3 - <<'PY'
import json
def errors(f):  # everything but the settle statistics (a bound in the cycles the filter did not simulate)
    m = json.load(open(f))
    m["simulation"].pop("engine", None)
    for p in m["points"]:
        for b in p["bits"]:
            for k in ("mean_settle_ns", "max_settle_ns", "settle_hist"):
                b.pop(k)
    return m
same = all(errors(f"{mode}_1.json") == errors(f"filter_{mode}_{t}.json")
           for mode in ("transport", "inertial", "modpath") for t in (1, 2))
print("Filter engine (1 and 2 threads) against the event engine (1 thread), each delay mode: error statistics "
      + ("identical." if same else "DIFFERENT."))
PY
echo "Icarus and vosa dta (modpath) captured the same output-register value in $agree of $total cycles."
echo

# Both engines on more PEs (flow/stages.make synthesis and STA at the sign-off
# corner; T = 80 % of the critical path): the sky130hd int8 PE (no Icarus: the
# shared data has no sky130 cell Verilog models) and an osu018 16-bit PE
# (flow/configs/pe_int16.json) with Icarus on the same vectors.
echo "### Both engines on more PEs ($CYCLES cycles each, uniform operands, transport, capture at T - setup except Icarus' rows)"
echo
echo "| PE | T (ns) | simulator | threads | vector-pairs per CPU-second | lanes sharing a gate-time |"
echo "|---|---|---|---|---|---|"
export VOSA_DATA_DIR=${VOSA_DATA_DIR:-$ROOT/../shared}
for case in sky130hd:generator/examples/default.json osu018:flow/configs/pe_int16.json; do
  pdk=${case%%:*}; config="$ROOT/${case#*:}"; name=$(basename "$config" .json)
  signoff=$("$VOSA" pdk get --pdk "$pdk" signoff_corner)
  "$VOSA" generate --config "$config" --out "$WORK/pes/$name/design" -q
  make --no-print-directory -f "$ROOT/flow/stages.make" ROOT="$ROOT" BUILD="$WORK/pes" VOSA="$VOSA" \
    CONFIG_NAME="$name" PDK="$pdk" DESIGN_DIR="$WORK/pes/$name/design" REQUESTED_CORNERS="$signoff" \
    VOLTAGES= PERIOD_NS= sdf > "$WORK/pes/$name.flow.log" 2>&1
  P="$WORK/pes/$name/$pdk"
  T=$(python3 -c "import sys; print(f'{0.8 * float(open(sys.argv[1]).readline()):.3f}')" "$P/sta/critical_path.txt")
  plib=$("$VOSA" pdk liberty --pdk "$pdk" --corner "$signoff" --cache-dir "$WORK/pdk")
  args=(--netlist "$P/synth/pe_netlist.v" --liberty "$plib" --sdf "$P/sdf/$signoff.sdf"
        --manifest "$WORK/pes/$name/design/manifest.json" --period-ns "$T" --cycles "$CYCLES" --operands uniform:11)
  for engine in event parallel filter; do
    { time "$VOSA" dta "${args[@]}" --engine $engine --threads 1 --out "$P/$engine.json" > "$P/$engine.log"; } 2> "$P/$engine.cpu"
    share=$(sed -n 's/.*; \([0-9.]*\) lanes share.*/\1/p' "$P/$engine.log" | head -1)
    echo "| $pdk $name | $T | vosa dta --engine $engine | 1 | $(python3 -c "print(int($CYCLES / $(cpu "$P/$engine.cpu")))") | ${share:--} |"
  done
  if [ "$pdk" = osu018 ]; then
    "$VOSA" dta "${args[@]}" --setup zero --input-delay-ns 0.01 --delay-mode modpath --icarus-kit "$P/kit" \
      --out "$P/modpath.json" > /dev/null
    iverilog -gspecify -Tmax -o "$P/kit/sim" "$P/kit/tb.v" "$P/kit/netlist.v" "$WORK/cells_1ps.v"
    { time vvp -n "$P/kit/sim" > "$P/kit/vvp.log" 2>&1; } 2> "$P/icarus.cpu"
    ok=$(paste -d' ' "$P/kit/captured_vosa.txt" "$P/kit/captured_icarus.txt" | awk '$1==$2 {n++} END {print n+0}')
    echo "| $pdk $name | $T | Icarus 11 (SDF; $ok of $(wc -l < "$P/kit/captured_vosa.txt") cycles agree with vosa modpath) | 1 | $(python3 -c "print(int($CYCLES / $(cpu "$P/icarus.cpu")))") | - |"
  fi
done
echo
echo "Wall rates: vosa counts simulation only (parsing excluded), Icarus the whole vvp run incl. SDF annotation."
echo "CPU-second rates: user+system time of the whole process for both (vosa incl. parsing), robust to other load."
echo

# The filter engine per clock period, with where its time goes.
"$ROOT/flow/bench_dta_periods.sh" "$VOSA" "$WORK/periods" "$CYCLES"
