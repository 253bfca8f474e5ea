#!/usr/bin/env bash
# Benchmark of the synthesis/STA flow (make bench-flow): wall time of the
# whole PE flow (synthesis, critical path, STA + SDF + power at every default
# corner, bit_timing.json, energy.json) per PDK from a clean state, and of a
# whole-array synthesis. Prints a Markdown table for docs/PERFORMANCE.md.
#   flow/bench_flow.sh [BUILD_DIR]   (default build)
#   BENCH_PDKS="osu018 sky130hd"     PDKs of the PE flow (default: all four)
#   BENCH_ARRAY_PDKS="osu018"        PDKs of the 16x16 array synthesis
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=$(realpath -m "${1:-build}")
vosa=$build/vosa
bench=$build/bench_flow
pdks=${BENCH_PDKS:-osu018 sky130hd gf180mcu7t ihp_sg13g2}
array_pdks=${BENCH_ARRAY_PDKS:-osu018}
[ -x "$vosa" ] || { echo "bench_flow.sh: $vosa not built (make setup BUILD=...)" >&2; exit 1; }
rm -rf "$bench"
mkdir -p "$bench"
"$vosa" generate --quiet --config generator/examples/default.json --out "$bench/default/design"

stages() {
  make --no-print-directory -f flow/stages.make ROOT="$root" BUILD="$bench" VOSA="$vosa" \
    CONFIG_NAME=default DESIGN_DIR="$bench/default/design" "$@"
}
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

rows=()
load_start=$(cut -d' ' -f1 /proc/loadavg)
for pdk in $pdks; do
  # Liberty preparation (gunzip) is part of a first run: do it in the timing.
  t0=$(date +%s.%N)
  stages PDK="$pdk" all > "$bench/$pdk.log" 2>&1 || { echo "bench_flow.sh: $pdk failed, see $bench/$pdk.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  out=$bench/default/$pdk
  corners=$(ls "$out"/sta/*.paths.tsv | wc -l)
  cells=$(awk '/Number of cells:/ {n=$4} END {print n}' "$out/synth/stat.txt")
  period=$(cat "$out/sta/period_ns.txt")
  rows+=("| PE flow (all) | $pdk | $(seconds "$t0" "$t1") | $corners | $cells | $period |")
done
# One liberty at a non-ladder voltage from the voltage model (sky130: fit on six corners).
if [[ " $pdks " == *" sky130hd "* ]]; then
  t0=$(date +%s.%N)
  "$vosa" pdk liberty --pdk sky130hd --corner ss_n40C_1v30 --cache-dir "$bench/pdk" > "$bench/vmodel.log" 2>&1
  t1=$(date +%s.%N)
  rows+=("| voltage-model liberty ss_n40C_1v30 (vosa pdk liberty) | sky130hd | $(seconds "$t0" "$t1") | 1 | - | - |")
fi
for pdk in $array_pdks; do
  t0=$(date +%s.%N)
  stages PDK="$pdk" synth-array > "$bench/array_$pdk.log" 2>&1 || { echo "bench_flow.sh: array on $pdk failed, see $bench/array_$pdk.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  cells=$(awk '/Number of cells:/ {n=$4} END {print n}' "$bench/array_16x16/$pdk/synth_array/stat.txt")
  rows+=("| 16x16 array synthesis (vosa_top) | $pdk | $(seconds "$t0" "$t1") | - | $cells | - |")
done

{
  echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); $(date -u +%Y-%m-%d);" \
    "load average at start $load_start, at end $(cut -d' ' -f1 /proc/loadavg)"
  echo
  echo "| run | PDK | wall time (s) | corners | cells | period (ns) |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | tee "$bench/results.md"
