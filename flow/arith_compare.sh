#!/usr/bin/env bash
# make arith-compare: each PE arithmetic variant through the flow (synthesis,
# per-bit STA at every corner, OpenSTA power) on each PDK, then one table.
#   arith_compare.sh OUT_DIR "PDK ..." CONFIG.json ...
# Environment: VOSA, BUILD, MAKE, PERIOD_NS (optional, shared by all variants).
set -euo pipefail
OUT="$1"; PDKS="$2"; shift 2
[ $# -gt 0 ] || { echo "arith_compare.sh: no variant configs given" >&2; exit 2; }
mkdir -p "$OUT"
rm -f "$OUT/failed.txt"
for pdk in $PDKS; do
  for cfg in "$@"; do
    name="$(basename "$cfg" .json)"
    echo "arith-compare: $name on $pdk"
    # The table needs the sign-off corner only (OpenSTA 2.0.17 also crashes in
    # report_power on some derated osu018 corners, docs/arith.md).
    $MAKE --no-print-directory -s rtl sta power CONFIG="$cfg" PDK="$pdk" BUILD="$BUILD" \
      CORNERS="$("$VOSA" pdk get --pdk "$pdk" signoff_corner)" VOLTAGES= \
      PERIOD_NS="${PERIOD_NS:-}" > "$OUT/$name.$pdk.log" 2>&1 || {
      # A failed variant is reported in the table, not silently dropped.
      tail -5 "$OUT/$name.$pdk.log"
      echo "arith-compare: $name on $pdk FAILED (log: $OUT/$name.$pdk.log)" | tee -a "$OUT/failed.txt" >&2; }
  done
done
python3 - "$OUT" "$BUILD" "$PDKS" "$@" <<'PY'
import json, math, os, re, sys
out, build, pdks, configs = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4:]
failed = open(os.path.join(out, "failed.txt")).read().splitlines() if os.path.exists(os.path.join(out, "failed.txt")) else []
rows = []
for pdk in pdks:
    for cfg in configs:
        name = os.path.splitext(os.path.basename(cfg))[0]
        if any(" %s on %s FAILED" % (name, pdk) in f for f in failed):
            continue
        p = os.path.join(build, name, pdk)
        conf = json.load(open(os.path.join(build, name, "design", "manifest.json")))["config"]
        arith = conf.get("arithmetic", {"adder": "behavioral", "multiplier": "behavioral",
                                         "psum": "carry_propagate"})
        stat = open(os.path.join(p, "synth", "stat.txt")).read()
        area = float(re.search(r"Chip area for module '\\\\?vosa_pe': ([0-9.]+)", stat).group(1))
        cells = int(re.search(r"Number of cells:\s+([0-9]+)", stat).group(1))
        timing = json.load(open(os.path.join(p, "sta", "bit_timing.json")))
        signoff = next(c for c in timing["corners"] if c["name"] == timing["signoff_corner"])
        arrivals = [b["arrival_ns"] for b in signoff["bits"]]
        msb = len(arrivals) - 1
        mid = msb // 2
        energy = json.load(open(os.path.join(p, "power", "energy.json")))
        rows.append({
            "variant": name, "pdk": pdk, "arithmetic": arith,
            "signoff_corner": timing["signoff_corner"], "delay_source": signoff["delay_source"],
            "area_um2": area, "cells": cells, "period_ns": timing["period_ns"],
            "critical_bit": signoff["critical_bit"], "critical_path_ns": max(arrivals),
            "arrival_ns": arrivals,
            # Growth of the arrival over the upper half of the accumulator:
            # about msb/2 carry stages for a ripple chain, one or two prefix
            # levels for a parallel-prefix adder, ~0 for carry-save.
            "msb_minus_mid_ns": arrivals[msb] - arrivals[mid],
            "energy": energy,
        })
json.dump({"rows": rows}, open(os.path.join(out, "report.json.tmp"), "w"), indent=1)
os.replace(os.path.join(out, "report.json.tmp"), os.path.join(out, "report.json"))

def energy_at_signoff(r):
    e = r["energy"]
    for c in e.get("corners", []):
        if c.get("name") == r["signoff_corner"]:
            for key in ("energy_per_cycle_pj", "energy_pj_per_cycle", "energy_per_mac_pj"):
                if key in c: return c[key]
    return float("nan")

lines = ["# make arith-compare", "",
         "Per PE variant and PDK: synthesized area, the PE's critical path at the sign-off corner, "
         "the arrival (ns) of accumulator bits 0, mid and MSB at the sign-off corner and the growth "
         "MSB - mid; energy per MAC from OpenSTA report_power with its default activity "
         "(activity source: OpenSTA default, an overestimate; docs/flow.md).", "",
         "| PDK | variant | adder | multiplier | psum | area um^2 | cells | critical path ns | critical bit | bit 0 | bit mid | MSB | MSB - mid ns | energy/MAC pJ (OpenSTA default activity) | delay source |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    a = r["arrival_ns"]; msb = len(a) - 1
    lines.append("| %s | %s | %s | %s | %s | %.0f | %d | %.3f | %d | %.3f | %.3f | %.3f | %.3f | %.2f | %s |" % (
        r["pdk"], r["variant"], r["arithmetic"]["adder"], r["arithmetic"]["multiplier"],
        r["arithmetic"]["psum"], r["area_um2"], r["cells"], r["critical_path_ns"], r["critical_bit"],
        a[0], a[msb // 2], a[msb], r["msb_minus_mid_ns"], energy_at_signoff(r), r["delay_source"]))
for f in failed:
    lines.append("| %s |" % f.replace("arith-compare: ", "")
                 + " |" * 14)
lines += ["", "Per-bit arrivals at the sign-off corner (ns, bit 0 first):", ""]
for r in rows:
    lines.append("- %s %s: %s" % (r["pdk"], r["variant"], " ".join("%.2f" % x for x in r["arrival_ns"])))
open(os.path.join(out, "report.md.tmp"), "w").write("\n".join(lines) + "\n")
os.replace(os.path.join(out, "report.md.tmp"), os.path.join(out, "report.md"))
print("arith-compare: %s/report.md, report.json (%d variant x PDK rows)" % (out, len(rows)))
PY
