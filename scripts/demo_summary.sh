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
  # Columns by their header names (docs/errmodel.md, "CSV export"): the file
  # has gained columns before, and positions would silently read the wrong ones.
  awk -F, 'NR == 1 {
      for (i = 1; i <= NF; i++) col[$i] = i;
      split("voltage period_ns delay_source bit p_error", need, " ");
      for (j in need) if (!(need[j] in col)) {
        printf "demo_summary: %s has no column \"%s\"\n", FILENAME, need[j] > "/dev/stderr"; bad = 1; exit 1
      }
      next
    }
    {
      key = $col["voltage"] " V, T = " $col["period_ns"] " ns (" $col["delay_source"] ")";
      if (!(key in seen)) { order[++n] = key; seen[key] = 1 }
      p = $col["p_error"] + 0;
      if (p > 0) failing[key]++;
      if (p > worst[key]) { worst[key] = p; worst_bit[key] = $col["bit"] }
    }
    END {
      if (bad) exit 1;
      for (i = 1; i <= n; i++) {
        k = order[i];
        if (failing[k]) printf "  %-36s %2d bits fail; worst: bit %s, p_error %.3g\n", k, failing[k], worst_bit[k], worst[k];
        else printf "  %-36s no bit fails\n", k;
      }
    }' "$FLOW/errmodel/errmodel.csv"
fi
