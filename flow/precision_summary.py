#!/usr/bin/env python3
"""Summary of make precision-characterize (docs/precision.md): per mode, the
lowest voltage of the corner ladder from which upwards `vosa dta --mode` saw no
timing error on the mode's operand stream, and the energy per MAC from the
simulated activity (vosa dta --energy) at the nominal (highest) corner and at
that voltage; OpenSTA's default-activity energy of the same PE beside it as a
labelled comparison. Writes OUT/precision_energy.json (vosa bitwidth --energy)
and OUT/precision_characterize.md, each through a temporary file."""
import json
import os
import sys

out, opensta_json, pdk, period, signoff, model, trace_op, trace_pe, cycles = sys.argv[1:10]
modes = [int(m) for m in sys.argv[10:]]


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


entries, rows = [], []
opensta = json.load(open(opensta_json))
opensta_of = {c["name"]: c["energy_per_mac_pj"] for c in opensta["corners"]}
energy_source = None
sources = set()  # delay sources of the simulated corners
for m, bits in enumerate(modes):
    points, e_of = [], {}
    for corner in opensta_of:
        d = json.load(open(f"{out}/dta/mode{m}/{corner}.json"))
        for p in d["points"]:
            points.append((p["voltage"], corner, p["cycles_with_error"], p["samples"], p["delay_source"]))
            e_of[corner] = p["energy"]["energy_per_mac_pj"]
            if energy_source is None:
                energy_source = (f"vosa dta --energy: {p['energy']['activity_source']}, on the gated PE in each mode "
                                 f"(mode_i held), the liberty of each corner")
    points.sort()
    # Lowest voltage such that it and every higher corner are error-free.
    free = None
    for v, corner, errs, n, src in reversed(points):
        if errs:
            break
        free = (v, corner, src)
    top_v, top_corner = points[-1][0], points[-1][1]
    sources.update(p[4] for p in points)
    entry = {"bits": bits, "mode": m, "energy_per_mac_pj": e_of[top_corner], "nominal_corner": top_corner,
             "energy_per_mac_pj_opensta_default_activity": opensta_of[top_corner],
             "errors_per_corner": {c: {"voltage": v, "cycles_with_error": e, "samples": n,
                                       "energy_per_mac_pj": e_of[c]} for v, c, e, n, _ in points}}
    if free:
        entry.update({"error_free_voltage": free[0], "error_free_corner": free[1], "error_free_delay_source": free[2],
                      "energy_per_mac_pj_at_error_free": e_of[free[1]]})
    else:
        entry.update({"error_free_voltage": None, "energy_per_mac_pj_at_error_free": 0})
    entries.append(entry)
    errs = ", ".join(f"{v:.2f} V: {e}/{n}" for v, c, e, n, _ in points)
    rows.append(f"| {bits} | {e_of[top_corner]:.4f} | {opensta_of[top_corner]:.4f} | "
                f"{f'{free[0]} ({free[2]})' if free else 'none'} | "
                f"{entry['energy_per_mac_pj_at_error_free']:.4f} | {errs} |")

doc = {
    "pdk": pdk, "period_ns": float(period), "signoff_corner": signoff,
    "nominal_voltage": max(e["errors_per_corner"][e["nominal_corner"]]["voltage"] for e in entries),
    "energy_source": energy_source,
    "opensta_energy_source": f"OpenSTA report_power of the same PE, activity: {opensta['activity']} (comparison only)",
    "voltage_source": f"vosa dta --mode on the PE with its mode gates, {cycles} cycles of the mode's operand stream "
                      f"({os.path.basename(model)} operator {trace_op}, PE {trace_pe}: full operands, partial sums "
                      f"of the mode); delays: {', '.join(sorted(sources))}",
    "modes": entries,
}
write(f"{out}/precision_energy.json", json.dumps(doc, indent=2) + "\n")
md = [f"# Precision modes: error-free voltage and energy per MAC ({pdk}, clock {period} ns)", "",
      f"Energy: {energy_source}, per PE cycle (one MAC). Error-free voltage: {doc['voltage_source']}: the lowest corner "
      f"from which upwards no cycle has a timing error.", "",
      f"OpenSTA column: {doc['opensta_energy_source']}.", "",
      "| mode (bits) | energy/MAC at the highest corner (pJ) | OpenSTA default activity there (pJ) | "
      "error-free voltage (V) | energy/MAC there (pJ) | cycles with an error per corner |",
      "|---|---|---|---|---|---|"] + rows
write(f"{out}/precision_characterize.md", "\n".join(md) + "\n")
print("\n".join(md))
