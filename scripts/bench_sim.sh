#!/usr/bin/env bash
# Verilator throughput of the generated array (weight-stationary, int8) for
# 8x8, 16x16, 32x32 and 64x64, each on a GEMM that keeps it busy: M = 2048
# activation rows streamed through every weight tile of a K = 2*rows by
# N = 2*cols problem (4 tiles, each loaded once). Prints one JSON line per
# array and writes build/bench/bench_sim.json.
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
  printf '{"rows": %d, "cols": %d}\n' "$s" "$s" > "$cfg"
  "$BUILD/vosa" generate --quiet --config "$cfg" --out "$OUT/ws_${s}x${s}/design"
  t0=$(date +%s)
  "$ROOT/testbench/build_verilated.sh" "$OUT/ws_${s}x${s}/design" "$OUT/ws_${s}x${s}/sim" \
    "$ROOT/testbench/array/gemm_check.cpp" > /dev/null
  build_s=$(( $(date +%s) - t0 ))
  line="$("$OUT/ws_${s}x${s}/sim/vosa_sim" --bench 2048 $((2 * s)) $((2 * s)))"
  line="${line%\}}, \"verilator_build_s\": $build_s}"
  echo "$line"
  results+=("$line")
done
(IFS=,; echo "[${results[*]}]") > "$BUILD/bench/bench_sim.json"
echo "bench_sim: wrote $BUILD/bench/bench_sim.json"
