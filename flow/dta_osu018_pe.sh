#!/usr/bin/env bash
# Self-contained fixture for the DTA test and benchmark: the default int8 PE
# synthesized on osu018 (Debian's qflow-tech-osu018), its SDF from OpenSTA,
# and the osu018 cell models at 1 ps precision for Icarus.
# usage: flow/dta_osu018_pe.sh VOSA_BINARY WORK_DIR [CONFIG_JSON]
#   (CONFIG_JSON default: generator/examples/default.json)
#   writes WORK/design/ (vosa generate), WORK/pe_netlist.v, WORK/pe.sdf, WORK/cells_1ps.v
set -euo pipefail
VOSA=$(realpath "$1")
WORK=$2
ROOT=$(realpath "$(dirname "$0")/..")
CONFIG=$(realpath "${3:-$ROOT/generator/examples/default.json}")
LIB=/usr/share/qflow/tech/osu018/osu018_stdcells.lib
CELLS=/usr/share/qflow/tech/osu018/osu018_stdcells.v
for f in "$LIB" "$CELLS"; do
  [ -f "$f" ] || { echo "error: missing $f (install qflow-tech-osu018: scripts/setup.sh)" >&2; exit 1; }
done
mkdir -p "$WORK" && cd "$WORK"
"$VOSA" generate --config "$CONFIG" --out design -q
# The flow's recipe (flow/synth.tcl) in short: map, split nets, plain netlist.
yosys -q -l synth.log -p "read_verilog design/rtl/vosa_mul.v design/rtl/vosa_pe.v; \
  synth -flatten -top vosa_pe; dfflibmap -liberty $LIB; abc -liberty $LIB; opt_clean; \
  splitnets; opt_clean -purge; write_verilog -noattr -noexpr -nohex -nodec pe_netlist.v"
cat > sta.tcl <<TCL
read_liberty $LIB
read_verilog pe_netlist.v
link_design vosa_pe
create_clock -name clk -period 10 [get_ports clk_i]
write_sdf -digits 4 pe.sdf
TCL
sta -no_splash -exit sta.tcl > sta.log 2>&1
# Icarus keeps delays at the module's timescale precision: 10 ps in the
# library, which would round the SDF's 0.1 ps digits away. Use 1 ps, the grid
# `vosa dta --resolution-ps 1` rounds to as well.
sed 's|`timescale 1ns/10ps|`timescale 1ns/1ps|' "$CELLS" > cells_1ps.v
echo "$LIB"
