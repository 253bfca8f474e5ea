#!/usr/bin/env bash
# Tells the user what `make demo` produced and where.
#   scripts/demo_summary.sh CONFIG_DIR FLOW_DIR   (the Makefile's; docs/flow.md)
set -uo pipefail
DIR="$1"; FLOW="$2"
echo
echo "== vosa demo: what was produced =="
show() {  # path, description
  if [ -e "$1" ]; then printf '  %-48s %s\n' "$1" "$2"; fi
}
show "$DIR/design/rtl/"            "generated Verilog, one module per file"
show "$DIR/design/manifest.json"   "modules, ports, parameters, config hash"
show "$DIR/design/constraints.sdc" "clock constraint"
show "$DIR/sim/sim_checks.log"     "Verilator checks (GEMM; Razor/islands)"
show "$FLOW/synth/pe_netlist.v" "PE gate netlist ($(basename "$FLOW"))"
show "$FLOW/sta/bit_timing.json" "per-bit arrival/slack at every corner"
show "$FLOW/power/energy.json" "power and energy per MAC vs voltage"
show "$FLOW/errmodel/errmodel.json" "per-bit timing-error model vs voltage"
VOSA="${VOSA:-build/vosa}"
if [ -f "$DIR/sim/sim_checks.log" ]; then
  echo
  tail -1 "$DIR/sim/sim_checks.log"
fi
if [ -f "$FLOW/sta/bit_timing.json" ]; then
  echo
  "$VOSA" timing-table "$FLOW/sta/bit_timing.json"
fi
if [ -f "$FLOW/errmodel/errmodel.csv" ]; then
  echo
  echo "Timing errors by gate-level simulation ($FLOW/errmodel/errmodel.csv):"
  awk -F, 'NR > 1 {
      key = $1 " V, T = " $2 " ns (" $4 ")";
      if (!(key in seen)) { order[++n] = key; seen[key] = 1 }
      if ($7 > 0) failing[key]++;
      if ($7 > worst[key]) { worst[key] = $7; worst_bit[key] = $6 }
    }
    END {
      for (i = 1; i <= n; i++) {
        k = order[i];
        if (failing[k]) printf "  %-36s %2d bits fail; worst: bit %s, p_error %.4f\n", k, failing[k], worst_bit[k], worst[k];
        else printf "  %-36s no bit fails\n", k;
      }
    }' "$FLOW/errmodel/errmodel.csv"
fi
