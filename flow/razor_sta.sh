#!/usr/bin/env bash
# OpenSTA timing and power of a Razor PE or an island controller at the PDK's
# sign-off corner (flow/razor_sta.tcl: clk_shadow_i 0.25 T late, the flow's
# default activity). Used by make razor-cost and its tests.
# usage: razor_sta.sh VOSA NETLIST TOP PDK PERIOD_NS PDK_TCL CACHE_DIR OUT_PREFIX
# writes OUT_PREFIX.tsv, OUT_PREFIX.power.tsv and OUT_PREFIX.log
set -euo pipefail
[ $# -eq 8 ] || { echo "usage: $0 VOSA NETLIST TOP PDK PERIOD_NS PDK_TCL CACHE_DIR OUT_PREFIX" >&2; exit 2; }
VOSA=$1 NETLIST=$2 TOP=$3 PDK=$4 PERIOD=$5 PDK_TCL=$6 CACHE=$7 OUT=$8
ROOT=$(realpath "$(dirname "$0")/..")
signoff=$("$VOSA" pdk get --pdk "$PDK" signoff_corner)
lib=$("$VOSA" pdk liberty --pdk "$PDK" --corner "$signoff" --cache-dir "$CACHE")
VOSA_LIBERTY=$lib VOSA_NETLIST=$NETLIST VOSA_TOP=$TOP VOSA_PDK_TCL=$PDK_TCL VOSA_PERIOD_NS=$PERIOD \
  VOSA_SHADOW_DELAY=0.25 VOSA_REPORT_OUT=$OUT.tsv VOSA_POWER_OUT=$OUT.power.tsv \
  sta -no_splash -exit "$ROOT/flow/razor_sta.tcl" > "$OUT.log" 2>&1 || true
if grep -q '^Error' "$OUT.log" || [ ! -s "$OUT.power.tsv" ]; then
  echo "error: OpenSTA (flow/razor_sta.tcl) failed, see $OUT.log" >&2; grep '^Error' "$OUT.log" >&2; exit 1
fi
