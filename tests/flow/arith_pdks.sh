#!/usr/bin/env bash
# The PE arithmetic variants synthesize on every PDK (docs/arith.md): the
# Booth/Wallace multiplier with a Sklansky adder and carry-save partial
# sums, and with a carry-select adder, each through the flow's synthesis
# (kept arithmetic hierarchy, flattened after mapping) on osu018, sky130hd,
# gf180mcu7t and ihp_sg13g2; the netlist must pass Yosys' check and hold
# the output register.
#   arith_pdks.sh VOSA WORK_DIR   (PDK data from VOSA_DATA_DIR, default ../shared)
set -euo pipefail
VOSA="$1"; WORK="$2"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$WORK"
count=0
for name in pe8_sklansky_booth_csave pe8_cselect_booth; do
  "$VOSA" generate --quiet --config "$ROOT/tests/configs/arith_timing/$name.json" --out "$WORK/$name/design"
  for pdk in osu018 sky130hd gf180mcu7t ihp_sg13g2; do
    make --no-print-directory -s -f "$ROOT/flow/stages.make" ROOT="$ROOT" BUILD="$WORK" VOSA="$VOSA" \
      CONFIG_NAME="$name" PDK="$pdk" DESIGN_DIR="$WORK/$name/design" synth > "$WORK/$name.$pdk.log" 2>&1 ||
      { tail -20 "$WORK/$name.$pdk.log"; echo "FAIL: synthesis of $name on $pdk"; exit 1; }
    netlist="$WORK/$name/$pdk/synth/pe_netlist.v"
    grep -q 'psum_q\[0\]_reg' "$netlist" || { echo "FAIL: $netlist lacks psum_q[0]_reg"; exit 1; }
    area="$(sed -n "s/.*Chip area for module.*: \([0-9.]*\)/\1/p" "$WORK/$name/$pdk/synth/stat.txt")"
    echo "ok   $name on $pdk: area $area um^2"
    count=$((count + 1))
  done
done
echo "arith_pdks: $count variant x PDK syntheses"
