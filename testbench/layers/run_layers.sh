#!/usr/bin/env bash
# Builds the real-layer Verilator testbench for a generated design and runs it.
#   testbench/layers/run_layers.sh DESIGN_DIR OBJ_DIR CMAKE_BUILD_DIR [vosa_layers args...]
# CMAKE_BUILD_DIR holds the built engine libraries (make setup / cmake --build).
# The Verilated program is rebuilt only when its sources or libraries changed.
# INJECT=1 builds it with +define+VOSA_INJECT_ERRORS (timing errors from an
# error model: vosa_layers --errmodel ...); use a separate OBJ_DIR for it.
# SRAM_FAULTS=1 builds it with +define+VOSA_SRAM_FAULTS (a buffered design's
# weight buffer reads through a fault map: vosa_layers --sram-faults ...).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 DESIGN_DIR OBJ_DIR CMAKE_BUILD_DIR [vosa_layers args...]" >&2
  exit 2
fi
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DESIGN_DIR="$1"
OBJ_DIR="$2"
BUILD_DIR="$(cd "$3" && pwd)"
shift 3
LIBS=(
  "$BUILD_DIR/testbench/sram/libvosa_sram.a"
  "$BUILD_DIR/testbench/inject/libvosa_inject.a"
  "$BUILD_DIR/testbench/engine/libvosa_engine.a"
  "$BUILD_DIR/testbench/inject/libvosa_inject.a"
  "$BUILD_DIR/generator/libvosa_generator.a"
  "$BUILD_DIR/testbench/lowering/libvosa_lowering.a"
  "$BUILD_DIR/testbench/tflite/libvosa_tflite.a"
  "$BUILD_DIR/characterization/trace/libvosa_trace.a"
)
# libjpeg as a file so it links after the static libraries that need it.
JPEG_LIB="$(pkg-config --variable=libdir libjpeg 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)/libjpeg.so"
LIBS+=("$JPEG_LIB")
for lib in "${LIBS[@]}"; do
  [ -f "$lib" ] || { echo "run_layers: missing $lib (build the project first: make setup)" >&2; exit 1; }
done
MAIN="$ROOT/testbench/layers/layers_main.cpp"
HEADERS=("$ROOT/testbench/layers/array_error_source.hpp" "$ROOT/characterization/include/vosa/error_model.hpp"
  "$ROOT/testbench/array/include/vosa/injection_replay.hpp" "$ROOT/testbench/array/include/vosa/array_driver.hpp"
  "$ROOT/testbench/inject/include/vosa/inject.hpp" "$ROOT/testbench/sram/include/vosa/sram.hpp")
stamp="$OBJ_DIR/vosa_sim"
if [ ! -x "$stamp" ] || [ -n "$(find "$MAIN" "${HEADERS[@]}" "${LIBS[@]}" "$DESIGN_DIR/rtl" -newer "$stamp" 2>/dev/null | head -1)" ]; then
  INCLUDES="-I$ROOT/testbench/engine/include -I$ROOT/testbench/lowering/include -I$ROOT/testbench/tflite/include"
  INCLUDES+=" -I$ROOT/characterization/trace/include -I$ROOT/characterization/include"
  INCLUDES+=" -I$ROOT/testbench/inject/include -I$ROOT/generator/include -I$ROOT/testbench/sram/include"
  DEFINES="" VFLAGS="-LDFLAGS -pthread"
  if [ "${INJECT:-0}" = 1 ]; then DEFINES="-DVOSA_INJECT_ERRORS"; VFLAGS+=" +define+VOSA_INJECT_ERRORS"; fi
  if [ "${SRAM_FAULTS:-0}" = 1 ]; then DEFINES+=" -DVOSA_SRAM_FAULTS"; VFLAGS+=" +define+VOSA_SRAM_FAULTS"; fi
  TB_CFLAGS="$INCLUDES $DEFINES" VERILATOR_FLAGS="$VFLAGS" \
    "$ROOT/testbench/build_verilated.sh" "$DESIGN_DIR" "$OBJ_DIR" "$MAIN" "${LIBS[@]}"
fi
exec "$OBJ_DIR/vosa_sim" "$@"
