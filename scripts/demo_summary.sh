#!/usr/bin/env bash
# Tells the user what `make demo` produced and where.
#   scripts/demo_summary.sh build/<config> <pdk>
set -uo pipefail
DIR="$1"; PDK="$2"
echo
echo "== vosa demo: what was produced =="
show() {  # path, description
  if [ -e "$1" ]; then printf '  %-48s %s\n' "$1" "$2"; fi
}
show "$DIR/design/rtl/"            "generated Verilog, one module per file"
show "$DIR/design/manifest.json"   "modules, ports, parameters, config hash"
show "$DIR/design/constraints.sdc" "clock constraint"
show "$DIR/sim/gemm_check.log"     "Verilator bit-exact GEMM check"
show "$DIR/$PDK/synth/pe_netlist.v" "PE gate netlist ($PDK)"
show "$DIR/$PDK/sta/bit_timing.json" "per-bit arrival/slack at every corner"
show "$DIR/$PDK/power/energy.json" "power and energy per MAC vs voltage"
show "$DIR/$PDK/errmodel/errmodel.json" "per-bit timing-error model vs voltage"
if [ -f "$DIR/sim/gemm_check.log" ]; then
  echo
  tail -1 "$DIR/sim/gemm_check.log"
fi
