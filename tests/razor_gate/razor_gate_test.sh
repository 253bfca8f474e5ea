#!/usr/bin/env bash
# 1. testbench/gatelevel/razor_gate.sh on the int8 top-8 Razor PE (its own
#    assertions: late protected bits corrected, bits later than the shadow
#    window reported as missed, no error at the sign-off period, hold met);
# 2. a shadow delay beyond the min path is rejected by the STA hold check;
# 3. a PE without Razor is rejected with a clear message.
# usage: razor_gate_test.sh VOSA_BINARY WORK_DIR
set -euo pipefail
VOSA=$(realpath "$1")
WORK=$2
ROOT=$(realpath "$(dirname "$0")/../..")
rm -rf "$WORK" && mkdir -p "$WORK"
RAZOR_CYCLES=${RAZOR_CYCLES:-10000} "$ROOT/testbench/gatelevel/razor_gate.sh" "$VOSA" "$WORK"

sed 's/"shadow_delay": 0.08/"shadow_delay": 0.3/' "$ROOT/testbench/gatelevel/razor_pe_top8.json" > "$WORK/razor_late_shadow.json"
grep -q '"shadow_delay": 0.3' "$WORK/razor_late_shadow.json"
if "$ROOT/testbench/gatelevel/razor_gate.sh" "$VOSA" "$WORK" "$WORK/razor_late_shadow.json" > "$WORK/hold.log" 2>&1; then
  echo "FAIL: shadow_delay 0.3 (beyond the min path) was accepted"; exit 1
fi
grep -q "error: shadow hold violated" "$WORK/hold.log" || { echo "FAIL: no hold message:"; cat "$WORK/hold.log"; exit 1; }
grep -m1 "error: shadow hold violated" "$WORK/hold.log"

if "$ROOT/testbench/gatelevel/razor_gate.sh" "$VOSA" "$WORK" "$ROOT/generator/examples/default.json" > "$WORK/norazor.log" 2>&1; then
  echo "FAIL: a PE without Razor was accepted"; exit 1
fi
grep -q "needs a Razor PE" "$WORK/norazor.log" || { echo "FAIL: no message:"; cat "$WORK/norazor.log"; exit 1; }
echo "razor_gate_test: all checks passed"
