#!/usr/bin/env bash
# Cross-checks a generated design's power_intent.upf against the design as
# Yosys elaborates it (tests/rtl/upf_check.tcl): PE and buffer instances,
# top-level nets, and the parameters of vosa_params.h.
#   upf_check.sh DESIGN_DIR WORK_DIR [UPF]   (UPF: another file to check, default the design's)
set -euo pipefail
DESIGN="$1"; WORK="$2"; UPF="${3:-$DESIGN/power_intent.upf}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$WORK"
yosys -q -p "read_verilog $DESIGN/rtl/*.v; hierarchy -top vosa_top; \
  tee -q -o $WORK/pe_instances.txt select -list t:*vosa_pe*; \
  tee -q -o $WORK/sram_instances.txt select -list t:*vosa_sram_sp*; \
  tee -q -o $WORK/top_nets.txt select -list vosa_top/w:*" > /dev/null
{ sed -e 's|^.*vosa_array/|u_array/|' "$WORK/pe_instances.txt"; sed -e 's|^vosa_top/||' "$WORK/sram_instances.txt"; } \
  > "$WORK/instances.txt"
sed -e 's|^vosa_top/||' "$WORK/top_nets.txt" > "$WORK/nets.txt"
param() { sed -n "s/^constexpr [a-z]* $1 = \([0-9a-z]*\);/\1/p" "$DESIGN/include/vosa_params.h"; }
rows="$(param kRows)"; cols="$(param kCols)"; islands="$(param kIslands)"
buffers=0; [ -n "$(param kWeightBufferDepth)" ] && [ "$(param kWeightBufferDepth)" != 0 ] && buffers=1
tclsh "$ROOT/tests/rtl/upf_check.tcl" "$UPF" "$WORK/instances.txt" "$WORK/nets.txt" "$rows" "$cols" "$islands" "$buffers"
