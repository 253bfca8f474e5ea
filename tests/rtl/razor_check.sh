#!/usr/bin/env bash
# Razor / voltage-island config: lint (plain and with VOSA_INJECT_ERRORS),
# yosys synth, the plain GEMM check, and the error-injection checks.
#   razor_check.sh VOSA CONFIG WORK_DIR
set -euo pipefail
VOSA="$1"; CONFIG="$2"; WORK="$3"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
"$VOSA" generate --quiet --config "$CONFIG" --out "$WORK/design"
for define in "" "-DVOSA_INJECT_ERRORS"; do
  if ! verilator --lint-only -Wall $define --top-module vosa_top "$WORK"/design/rtl/*.v > "$WORK/lint.log" 2>&1; then
    cat "$WORK/lint.log"; echo "FAIL: verilator --lint-only -Wall $define"; exit 1
  fi
done
yosys -q -l "$WORK/yosys.log" -p "read_verilog $WORK/design/rtl/*.v; synth -top vosa_top" > /dev/null 2>&1 \
  || { tail -20 "$WORK/yosys.log"; echo "FAIL: yosys synth"; exit 1; }
if grep -qiE '^(warning|error)' "$WORK/yosys.log"; then grep -iE '^(warning|error)' "$WORK/yosys.log"; exit 1; fi
echo "lint (plain and VOSA_INJECT_ERRORS) and yosys synth: clean"
# What `make sim` runs on this config: the GEMM check, then (Razor / islands)
# the injection and controller checks; both must have run.
JOBS=1 TB_OPT=-O1 "$ROOT/testbench/run_sim_checks.sh" "$WORK/design" "$WORK/sim" --random 12 | tee "$WORK/sim.log"
grep -q "^razor_check: PASS" "$WORK/sim.log" || { echo "FAIL: the Razor / controller checks did not run"; exit 1; }

# Power intent: parse and cross-check against the elaborated design.
if [ -f "$WORK/design/power_intent.upf" ]; then
  "$ROOT/tests/rtl/upf_check.sh" "$WORK/design" "$WORK/upf"
fi
