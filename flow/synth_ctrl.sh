#!/usr/bin/env bash
# Synthesize the voltage-island controller of a generated design (top
# vosa_island_ctrl) with the flow's synthesis script at the PDK's sign-off
# corner; skipped when the netlist is newer than the RTL.
# usage: synth_ctrl.sh VOSA DESIGN_DIR PDK CACHE_DIR OUT_DIR
# writes OUT_DIR/ctrl_netlist.v, OUT_DIR/stat.txt, OUT_DIR/synth.log
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: $0 VOSA DESIGN_DIR PDK CACHE_DIR OUT_DIR" >&2; exit 2; }
VOSA=$1 DESIGN=$2 PDK=$3 CACHE=$4 D=$5
ROOT=$(realpath "$(dirname "$0")/..")
RTL=$DESIGN/rtl/vosa_island_ctrl.v
[ -f "$RTL" ] || { echo "error: $RTL does not exist (a config without islands has no controller)" >&2; exit 1; }
mkdir -p "$D"
if [ ! -s "$D/ctrl_netlist.v" ] || [ "$RTL" -nt "$D/ctrl_netlist.v" ]; then
  signoff=$("$VOSA" pdk get --pdk "$PDK" signoff_corner)
  lib=$("$VOSA" pdk liberty --pdk "$PDK" --corner "$signoff" --synth --cache-dir "$CACHE")
  "$VOSA" pdk tcl --pdk "$PDK" --cache-dir "$CACHE" > "$D/pdk.tcl"
  VOSA_RTL_FILES="$RTL" VOSA_TOP=vosa_island_ctrl VOSA_LIBERTY=$lib \
    VOSA_PDK_TCL=$D/pdk.tcl VOSA_NETLIST=$D/ctrl_netlist.v.tmp VOSA_ABC_CONSTR=$D/abc.constr \
    VOSA_STAT=$D/stat.txt yosys -q -l "$D/synth.log" -c "$ROOT/flow/synth.tcl" > /dev/null ||
    { rm -f "$D/ctrl_netlist.v.tmp"; echo "error: controller synthesis failed, see $D/synth.log" >&2; exit 1; }
  mv "$D/ctrl_netlist.v.tmp" "$D/ctrl_netlist.v"
fi
