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
sources=()
for s in "$@"; do sources+=("$(cd "$(dirname "$s")" && pwd)/$(basename "$s")"); done
mkdir -p "$OBJ_DIR"
JOBS="${JOBS:-$(nproc)}"
# -O3 model, no X randomization (the design resets every register), split the
# generated C++ so large arrays compile in parallel and in bounded memory.
verilator --cc --exe --build -j "$JOBS" -O3 --x-assign fast --x-initial fast --noassert \
  --output-split 20000 --top-module vosa_top -Mdir "$OBJ_DIR" -o vosa_sim \
  -CFLAGS "${TB_OPT:--O2} -std=c++17 -I$ROOT/testbench/array/include -I$ROOT/generator/include -I$DESIGN_DIR/include ${TB_CFLAGS:-}" \
  ${VERILATOR_FLAGS:-} "$DESIGN_DIR"/rtl/*.v "${sources[@]}" > "$OBJ_DIR/build.log" 2>&1 || {
  tail -30 "$OBJ_DIR/build.log" >&2
  echo "build_verilated: verilator build failed (log: $OBJ_DIR/build.log)" >&2
  exit 1
}
echo "build_verilated: built $OBJ_DIR/vosa_sim"
