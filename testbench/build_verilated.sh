#!/usr/bin/env bash
# Verilates a generated design (DESIGN_DIR/rtl/*.v, top vosa_top) together
# with C++ testbench sources and builds OBJ_DIR/vosa_sim.
#   testbench/build_verilated.sh DESIGN_DIR OBJ_DIR SOURCE.cpp [SOURCE.cpp ...]
# Extra verilator flags: VERILATOR_FLAGS; extra compiler flags: TB_CFLAGS;
# C++ optimization: TB_OPT (default -O2; the tests use -O1 to compile faster).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 DESIGN_DIR OBJ_DIR SOURCE.cpp [SOURCE.cpp ...]" >&2
  exit 2
fi
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DESIGN_DIR="$(cd "$1" && pwd)"
OBJ_DIR="$2"
shift 2
for f in "$DESIGN_DIR/rtl/vosa_top.v" "$DESIGN_DIR/include/vosa_params.h"; do
  [ -f "$f" ] || { echo "build_verilated: missing $f (run vosa generate first)" >&2; exit 1; }
done
# Memory estimate before hours of compiling (docs/PERFORMANCE.md, "Verilator
# memory"): Verilator's peak RSS measured 21 / 45 / 139 MB for 8x8 / 16x16 /
# 32x32 arrays (0.122 MB per PE above 16x16); a tiled array (vosa_tile, one
# shared tile class) 252 MB at 64x64 and 3714 MB at 256x256 (0.0564 MB per PE
# + 21 MB); plus about 400 MB per parallel g++ job on the 20000-statement
# split files (32x32, -O2). A design whose estimate exceeds the machine's
# available memory is refused, naming both; VOSA_SKIP_MEM_CHECK=1 builds
# anyway; VOSA_MEM_AVAILABLE_MB= stands in for MemAvailable (tests).
read -r rows cols < <(sed -n 's/^constexpr int kRows = \([0-9]*\);/\1/p; s/^constexpr int kCols = \([0-9]*\);/\1/p' \
  "$DESIGN_DIR/include/vosa_params.h" | paste -sd' ') || true
if [ -z "${VOSA_SKIP_MEM_CHECK:-}" ] && [ -n "${rows:-}" ] && [ -n "${cols:-}" ] && [ -r /proc/meminfo ]; then
  if [ -f "$DESIGN_DIR/rtl/vosa_tile.v" ]; then
    kind="tiled " per_pe="0.0564 MB"
    verilator_mb=$(( (rows * cols * 564 + 210000) / 10000 ))
  else
    kind="" per_pe="0.122 MB"
    verilator_mb=$(( (rows * cols * 122 + 13700) / 1000 ))
  fi
  need_mb=$(( verilator_mb + ${JOBS:-$(nproc)} * 400 ))
  avail_mb=${VOSA_MEM_AVAILABLE_MB:-$(( $(sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024 ))}
  if [ "$need_mb" -gt "$avail_mb" ]; then
    echo "build_verilated: a ${kind}${rows}x${cols} array needs about ${need_mb} MB to Verilate and compile" \
         "(Verilator ${per_pe} per PE + 400 MB per g++ job), the machine has ${avail_mb} MB available" \
         "(MemAvailable); refusing before hours of compiling (fewer JOBS=, a smaller array, or" \
         "VOSA_SKIP_MEM_CHECK=1 to try anyway)" >&2
    exit 1
  fi
fi
sources=()
for s in "$@"; do sources+=("$(cd "$(dirname "$s")" && pwd)/$(basename "$s")"); done
mkdir -p "$OBJ_DIR"
start_s=$(date +%s)
JOBS="${JOBS:-$(nproc)}"
# A tiled array (vosa_tile) keeps its wide skew/de-skew shift registers as
# library calls (-fno-expand): expanded word by word they were most of the
# C++ of a 256x256 model (docs/PERFORMANCE.md, "256x256 in Verilator").
tiled_flags=""
[ -f "$DESIGN_DIR/rtl/vosa_tile.v" ] && tiled_flags="-fno-expand"
# -O3 model, no X randomization (the design resets every register), split the
# generated C++ so large arrays compile in parallel and in bounded memory.
verilator --cc --exe --build -j "$JOBS" -O3 $tiled_flags --x-assign fast --x-initial fast --noassert \
  --output-split 20000 --top-module vosa_top -Mdir "$OBJ_DIR" -o vosa_sim \
  -CFLAGS "${TB_OPT:--O2} -std=c++17 -I$ROOT/testbench/array/include -I$ROOT/generator/include -I$DESIGN_DIR/include ${TB_CFLAGS:-}" \
  ${VERILATOR_FLAGS:-} "$DESIGN_DIR"/rtl/*.v "${sources[@]}" > "$OBJ_DIR/build.log" 2>&1 || {
  tail -30 "$OBJ_DIR/build.log" >&2
  echo "build_verilated: verilator build failed (log: $OBJ_DIR/build.log)" >&2
  exit 1
}
echo "build_verilated: built $OBJ_DIR/vosa_sim in $(( $(date +%s) - start_s )) s"
