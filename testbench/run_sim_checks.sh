#!/usr/bin/env bash
# Every Verilator check that applies to a generated design (`make sim`):
# the bit-exact GEMM self-check, and for a Razor or voltage-island design
# also the error-injection and island-controller checks
# (testbench/array/razor_check.cpp, docs/razor.md).
#   testbench/run_sim_checks.sh DESIGN_DIR SIM_DIR [gemm_check args...]
# Builds SIM_DIR/vosa_sim (GEMM) and SIM_DIR/razor_check/vosa_sim.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DESIGN_DIR="$1"; SIM_DIR="$2"
shift 2
"$ROOT/testbench/run_gemm_check.sh" "$DESIGN_DIR" "$SIM_DIR" "$@"
if python3 -c "import json, sys; c = json.load(open(sys.argv[1]))['config']; sys.exit(0 if 'razor' in c or 'islands' in c else 1)" \
     "$DESIGN_DIR/manifest.json"; then
  echo "Razor / voltage-island design: error-injection and controller checks (docs/razor.md)"
  VERILATOR_FLAGS="${VERILATOR_FLAGS:-} +define+VOSA_INJECT_ERRORS" "$ROOT/testbench/build_verilated.sh" \
    "$DESIGN_DIR" "$SIM_DIR/razor_check" "$ROOT/testbench/array/razor_check.cpp" > /dev/null
  "$SIM_DIR/razor_check/vosa_sim"
fi
