#!/usr/bin/env bash
# Generates a config's array and runs its Verilator GEMM self-check.
#   sim_check.sh VOSA CONFIG WORK_DIR
set -euo pipefail
VOSA="$1"; CONFIG="$2"; WORK="$3"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
"$VOSA" generate --quiet --config "$CONFIG" --out "$WORK/design"
JOBS=1 TB_OPT=-O1 "$ROOT/testbench/run_gemm_check.sh" "$WORK/design" "$WORK/sim" --random 24
