#!/usr/bin/env bash
# Area and power of a whole array synthesized by hierarchy (flow/synth_hier.tcl):
# the area is Yosys' hierarchical `stat -top` (each module's cells times its
# instances); the power is OpenSTA's report_power of the one PE module (at the
# sign-off corner, at the PE's own critical path rounded up to 10 ps, with the
# flow's default activity, flow/sta_corner.tcl) times the number of PEs. The
# skew/de-skew registers and the top's control are in the area, not in the power.
#   flow/array_hier_report.sh VOSA PDK SIGNOFF_CORNER PDK_CACHE PDK_TCL SYNTH_DIR MANIFEST
# SYNTH_DIR holds stat.txt and pe_netlist.v; writes SYNTH_DIR/array_report.{json,md}.
set -euo pipefail
if [ $# -ne 7 ]; then
  echo "usage: $0 VOSA PDK SIGNOFF_CORNER PDK_CACHE PDK_TCL SYNTH_DIR MANIFEST" >&2
  exit 2
fi
VOSA=$1 PDK=$2 SIGNOFF=$3 CACHE=$4 PDK_TCL=$5 DIR=$6 MANIFEST=$7
here=$(cd "$(dirname "$0")" && pwd)
for f in "$DIR/stat.txt" "$DIR/pe_netlist.v" "$MANIFEST" "$PDK_TCL"; do
  [ -s "$f" ] || { echo "array_hier_report: missing $f" >&2; exit 1; }
done
lib=$("$VOSA" pdk liberty --pdk "$PDK" --corner "$SIGNOFF" --netlist "$DIR/pe_netlist.v" --cache-dir "$CACHE")
export VOSA_LIBERTY=$lib VOSA_NETLIST=$DIR/pe_netlist.v VOSA_TOP=vosa_pe VOSA_PDK_TCL=$PDK_TCL \
  VOSA_CORNER=$SIGNOFF VOSA_OUTPUT_REG=psum_q
VOSA_PERIOD_NS=100 VOSA_CRITICAL_OUT=$DIR/pe_critical_path.txt \
  "$here/run_sta.sh" "$DIR/pe_critical.log" "$DIR/pe_critical_path.txt"
period=$(awk 'NR==1 {p = int($1 * 100); if (p < $1 * 100) p++; printf "%.2f", p / 100}' "$DIR/pe_critical_path.txt")
VOSA_PERIOD_NS=$period VOSA_PATHS_OUT=$DIR/pe_paths.tsv VOSA_POWER_OUT=$DIR/pe_power.tsv \
  "$here/run_sta.sh" "$DIR/pe_power.log" "$DIR/pe_paths.tsv" "$DIR/pe_power.tsv"
python3 - "$DIR" "$MANIFEST" "$PDK" "$SIGNOFF" "$period" <<'PY'
import json, os, re, sys
d, manifest, pdk, corner, period = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
cfg = json.load(open(manifest))["config"]
stat = open(os.path.join(d, "stat.txt")).read()
def module_area(pattern):
    m = re.search(r"Chip area for module '[^']*" + pattern + r"': ([0-9.]+)", stat)
    if not m: sys.exit("array_hier_report: no area for %s in stat.txt" % pattern)
    return float(m.group(1))
m = re.search(r"Chip area for top module '[^']*': ([0-9.]+)", stat)
if not m: sys.exit("array_hier_report: no top-module area in stat.txt")
total_area = float(m.group(1))
hier = stat[stat.index("=== design hierarchy ==="):]
cells = int(re.search(r"Number of cells:\s+(\d+)", hier).group(1))
pe_area = module_area(r"\\vosa_pe")
pe_cells = int(re.search(r"=== [^\n]*\\vosa_pe ===.*?Number of cells:\s+(\d+)", stat, re.S).group(1))
pes = cfg["rows"] * cfg["cols"]
power = {}
for line in open(os.path.join(d, "pe_power.tsv")):
    f = line.rstrip("\n").split("\t")
    if f[0] == "total": power = dict(zip(["internal", "switching", "leakage", "total"], map(float, f[1:5])))
    if f[0] == "activity": activity = f[1]
report = {
    "pdk": pdk, "corner": corner, "delay_source": "liberty-corner", "activity_source": "OpenSTA default: " + activity,
    "rows": cfg["rows"], "cols": cfg["cols"], "tile": cfg.get("tile"), "pes": pes,
    "cells": cells, "area_um2": total_area, "pe_cells": pe_cells, "pe_area_um2": pe_area,
    "pe_area_share": pe_area * pes / total_area,
    "period_ns": period, "pe_power_w": power["total"], "pe_array_power_w": power["total"] * pes,
    "pe_array_energy_per_cycle_pj": power["total"] * pes * period * 1e-9 * 1e12,
}
tmp = os.path.join(d, "array_report.json.tmp")
json.dump(report, open(tmp, "w"), indent=2)
os.replace(tmp, os.path.join(d, "array_report.json"))
md = ("| array | PDK, corner | cells | area (mm^2) | PE cells | PE area (um^2) | PEs' share of area | period (ns) | PE power (uW) | PEs' power (W) | PEs' energy/cycle (nJ) |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|\n"
      "| %dx%d (tile %s) | %s %s | %d | %.2f | %d | %.0f | %.1f %% | %.2f | %.0f | %.2f | %.2f |\n" % (
          cfg["rows"], cfg["cols"], "%dx%d" % (cfg["tile"]["rows"], cfg["tile"]["cols"]) if cfg.get("tile") else "-",
          pdk, corner, cells, total_area / 1e6, pe_cells, pe_area, 100 * report["pe_area_share"], period,
          power["total"] * 1e6, power["total"] * pes, report["pe_array_energy_per_cycle_pj"] / 1000))
open(os.path.join(d, "array_report.md"), "w").write(md)
print(md, end="")
PY
