#!/usr/bin/env bash
# Builds the Verilator GEMM self-check for a generated design and runs it.
#   testbench/run_gemm_check.sh DESIGN_DIR SIM_DIR [gemm_check args...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DESIGN_DIR="$1"
SIM_DIR="$2"
shift 2
"$ROOT/testbench/build_verilated.sh" "$DESIGN_DIR" "$SIM_DIR" "$ROOT/testbench/array/gemm_check.cpp" >/dev/null
"$SIM_DIR/vosa_sim" "$@"
