#!/usr/bin/env bash
# Verilator throughput of the generated array (weight-stationary, int8) for
# 8x8, 16x16, 32x32 and 64x64, each on a GEMM that keeps it busy: M = 2048
# activation rows streamed through every weight tile of a K = 2*rows by
# N = 2*cols problem (4 tiles, each loaded once), repeated so that each run
# simulates about 1e8 PE-cycles. Prints one JSON line per array (with the
# load average, since the machine may be shared) and writes
# build/bench/bench_sim.json. A simulator already built for an unchanged
# design is reused. Arrays larger than 64x64 (e.g. 256) are built as a grid
# of 16x16 tiles (config "tile"; docs/rtl.md, "Tiles"), the way a 256x256
# array fits a Verilator build.
#   scripts/bench_sim.sh [SIZES...]     (default: 8 16 32 64)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
OUT="$BUILD/bench/sim"
mkdir -p "$OUT"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(8 16 32 64)
results=()
for s in "${sizes[@]}"; do
  cfg="$OUT/ws_${s}x${s}.json"
  if [ "$s" -gt 64 ]; then
    printf '{"rows": %d, "cols": %d, "tile": {"rows": 16, "cols": 16}}\n' "$s" "$s" > "$cfg"
  else
    printf '{"rows": %d, "cols": %d}\n' "$s" "$s" > "$cfg"
  fi
  "$BUILD/vosa" generate --quiet --config "$cfg" --out "$OUT/ws_${s}x${s}/design"
  sim="$OUT/ws_${s}x${s}/sim/vosa_sim"
  build_s=null
  if [ ! -x "$sim" ] || [ "$OUT/ws_${s}x${s}/design/manifest.json" -nt "$sim" ] \
     || [ "$ROOT/testbench/array/gemm_check.cpp" -nt "$sim" ] \
     || [ "$ROOT/testbench/array/include/vosa/array_driver.hpp" -nt "$sim" ] \
     || [ "$ROOT/testbench/array/include/vosa/port_bits.hpp" -nt "$sim" ]; then
    t0=$(date +%s)
    "$ROOT/testbench/build_verilated.sh" "$OUT/ws_${s}x${s}/design" "$OUT/ws_${s}x${s}/sim" \
      "$ROOT/testbench/array/gemm_check.cpp" > /dev/null
    build_s=$(( $(date +%s) - t0 ))
  fi
  repeat=$(( (100000000 + s * s * 8400 - 1) / (s * s * 8400) ))
  line="$("$sim" --bench 2048 $((2 * s)) $((2 * s)) --repeat "$repeat")"
  load="$(cut -d' ' -f1 /proc/loadavg)"
  line="${line%\}}, \"verilator_build_s\": $build_s, \"load_average\": $load}"
  echo "$line"
  results+=("$line")
done
(IFS=,; echo "[${results[*]}]") > "$BUILD/bench/bench_sim.json"
echo "bench_sim: wrote $BUILD/bench/bench_sim.json"
