#!/usr/bin/env bash
# make arith-compare: each PE arithmetic variant through the flow (synthesis,
# per-bit STA at every corner, OpenSTA power) on each PDK, then one table.
#   arith_compare.sh OUT_DIR "PDK ..." CONFIG.json ...
# Environment: VOSA, BUILD, MAKE, PERIOD_NS (optional, shared by all variants);
# with ARITH_ERRORS=1 also ARITH_CYCLES, ARITH_VOLTAGES_<pdk>, and MODEL_FILE,
# DATA, INPUT_ENCODING, MODEL_NAME for the operand stream (a real layer).
set -euo pipefail
OUT="$1"; PDKS="$2"; shift 2
[ $# -gt 0 ] || { echo "arith_compare.sh: no variant configs given" >&2; exit 2; }
mkdir -p "$OUT"
rm -f "$OUT/failed.txt" "$OUT/dirs.tsv"
trace=""
if [ "${ARITH_ERRORS:-0}" = 1 ]; then
  # Every variant is an 8x8 array's PE: one stream (the first config's) for all.
  trace=$(flow/explore_trace.sh "$VOSA" "$1" "$MODEL_FILE" "$DATA" "$INPUT_ENCODING" "$OUT/traces/$MODEL_NAME")
  echo "arith-compare: operand stream $trace"
fi
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
      echo "arith-compare: $name on $pdk FAILED (log: $OUT/$name.$pdk.log)" | tee -a "$OUT/failed.txt" >&2; continue; }
    # Where each run's results went (the build folders are keyed by the knobs).
    sta_dir=$($MAKE --no-print-directory -s flow-dir CONFIG="$cfg" PDK="$pdk" BUILD="$BUILD" \
      CORNERS="$("$VOSA" pdk get --pdk "$pdk" signoff_corner)" VOLTAGES= PERIOD_NS="${PERIOD_NS:-}")
    voltages_var="ARITH_VOLTAGES_$pdk"
    char_dir=$($MAKE --no-print-directory -s flow-dir CONFIG="$cfg" PDK="$pdk" BUILD="$BUILD" \
      VOLTAGES="${!voltages_var}" PERIOD_NS="${PERIOD_NS:-}")
    printf '%s\t%s\t%s\t%s\n' "$name" "$pdk" "$sta_dir" "$char_dir" >> "$OUT/dirs.tsv"
    if [ -n "$trace" ]; then
      $MAKE --no-print-directory -s characterize CONFIG="$cfg" PDK="$pdk" BUILD="$BUILD" \
        VOLTAGES="${!voltages_var}" PERIOD_NS="${PERIOD_NS:-}" OPERANDS="trace:$trace" \
        DTA_CYCLES="${ARITH_CYCLES:-20000}" DTA_PATTERNS=64 DTA_ENERGY=1 > "$OUT/$name.$pdk.characterize.log" 2>&1 || {
        tail -5 "$OUT/$name.$pdk.characterize.log"
        echo "arith-compare: $name on $pdk characterization FAILED (log: $OUT/$name.$pdk.characterize.log)" |
          tee -a "$OUT/failed.txt" >&2; }
    fi
  done
done
python3 - "$OUT" "$BUILD" "$PDKS" "$@" <<'PY'
import json, math, os, re, sys
out, build, pdks, configs = sys.argv[1], sys.argv[2], sys.argv[3].split(), sys.argv[4:]
failed = open(os.path.join(out, "failed.txt")).read().splitlines() if os.path.exists(os.path.join(out, "failed.txt")) else []
def summarize_errors(path):
    # Timing errors on the real layer stream, per simulated voltage (the
    # variant's own clock): the highest voltage with an error, the voltage
    # where P(any error) reaches each level (log-linear between simulated
    # points; None when not bracketed), the bits that fail there, mean |error|.
    if not os.path.exists(path):
        return None
    m = json.load(open(path))
    pts = sorted(m["points"], key=lambda q: q["voltage"])
    out = {"operand_source": m.get("operand_source"), "points": []}
    for q in pts:
        n_err, p_any, values, bits = q["cycles_with_error"], q["p_any_error"], q.get("error_values", []), q["bits"]
        if "carry_word" in q:
            # A carry-save PE: an error in either word; the value is the pair's
            # (sum + carry), the bits those wrong in either word (docs/errmodel.md).
            c = q["carry_word"]
            p_any = c["either_word"]["p_any_error"]
            n_err, values = c["partial_sum"]["cycles_with_error"], c["partial_sum"]["error_values"]
            bits = [dict(b, errors=b["errors"] + cb["errors"], p_error=b["p_error"] + cb["p_error"])
                    for b, cb in zip(q["bits"], c["bits"])]
        abs_sum = sum(abs(v["value"]) * v["count"] for v in values)
        failing = sorted((b for b in bits if b["errors"] > 0), key=lambda b: -b["p_error"])
        out["points"].append({"voltage": q["voltage"], "delay_source": q["delay_source"],
                              "samples": q["samples"], "p_any_error": p_any,
                              "mean_abs_error": abs_sum / n_err if n_err else 0.0,
                              "failing_bits": [b["bit"] for b in failing[:4]]})
    erring = [q for q in out["points"] if q["p_any_error"] > 0]
    out["first_error_v"] = max(q["voltage"] for q in erring) if erring else None
    out["first_error_bits"] = max(erring, key=lambda q: q["voltage"])["failing_bits"] if erring else []
    out["first_error_mean_abs"] = max(erring, key=lambda q: q["voltage"])["mean_abs_error"] if erring else None
    levels = {}
    for level in (1e-6, 1e-4, 1e-2):
        v = None
        desc = sorted(out["points"], key=lambda q: -q["voltage"])
        if desc and desc[0]["p_any_error"] >= level:
            levels["%g" % level] = ">%.2f" % desc[0]["voltage"]  # reached above the simulated range
            continue
        for hi, lo in zip(desc, desc[1:]):
            if hi["p_any_error"] < level <= lo["p_any_error"]:
                if hi["p_any_error"] > 0:
                    t = (math.log(level) - math.log(hi["p_any_error"])) / (math.log(lo["p_any_error"]) - math.log(hi["p_any_error"]))
                    v = hi["voltage"] + t * (lo["voltage"] - hi["voltage"])
                else:
                    # Below the resolution of the simulated cycles: the bracket only.
                    v = [lo["voltage"], hi["voltage"]]
                break
        levels["%g" % level] = v
    out["voltage_at_p_any"] = levels
    return out

dirs = {}
for line in open(os.path.join(out, "dirs.tsv")):
    n, k, sta_dir, char_dir = line.rstrip("\n").split("\t")
    dirs[(n, k)] = (sta_dir, char_dir)
rows = []
for pdk in pdks:
    for cfg in configs:
        name = os.path.splitext(os.path.basename(cfg))[0]
        if any(" %s on %s FAILED" % (name, pdk) in f for f in failed):
            continue
        p, char_dir = dirs[(name, pdk)]
        conf = json.load(open(os.path.join(os.path.dirname(p), "design", "manifest.json")))["config"]
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
        errors = summarize_errors(os.path.join(char_dir, "errmodel", "errmodel.json"))
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
            "errors": errors,
            "errmodel": os.path.join(char_dir, "errmodel", "errmodel.json"),
        })

def energy_at_signoff(r):
    e = r["energy"]
    for c in e.get("corners", []):
        if c.get("name") == r["signoff_corner"]:
            for key in ("energy_per_cycle_pj", "energy_pj_per_cycle", "energy_per_mac_pj"):
                if key in c: return c[key]
    return float("nan")

def simulated_at_signoff(r):
    # Energy per MAC from the simulated activity on the layer stream (vosa dta --energy).
    m = r["errmodel"]
    if not os.path.exists(m): return None
    for q in json.load(open(m))["points"]:
        if q.get("corner") == r["signoff_corner"] and "energy" in q: return q["energy"]
    return None

lines = ["# make arith-compare", "",
         "Per PE variant and PDK: synthesized area, the PE's critical path at the sign-off corner, "
         "the arrival (ns) of accumulator bits 0, mid and MSB at the sign-off corner and the growth "
         "MSB - mid; energy per MAC at the sign-off corner from the simulated activity on the real "
         "layer stream (vosa dta --energy, inertial delays; activity source: simulated) and its "
         "glitch share, and for comparison OpenSTA report_power with its default activity "
         "(activity source: OpenSTA default; docs/dta.md \"Energy\").", "",
         "| PDK | variant | adder | multiplier | psum | area um^2 | cells | critical path ns | critical bit | bit 0 | bit mid | MSB | MSB - mid ns | energy/MAC pJ (simulated activity) | glitch share | energy/MAC pJ (OpenSTA default activity) | delay source |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    a = r["arrival_ns"]; msb = len(a) - 1
    sim = simulated_at_signoff(r)
    r["simulated_energy"] = sim
    lines.append("| %s | %s | %s | %s | %s | %.0f | %d | %.3f | %d | %.3f | %.3f | %.3f | %.3f | %s | %s | %.2f | %s |" % (
        r["pdk"], r["variant"], r["arithmetic"]["adder"], r["arithmetic"]["multiplier"],
        r["arithmetic"]["psum"], r["area_um2"], r["cells"], r["critical_path_ns"], r["critical_bit"],
        a[0], a[msb // 2], a[msb], r["msb_minus_mid_ns"],
        "%.2f" % sim["energy_per_mac_pj"] if sim else "-", "%.2f" % sim["glitch_share"] if sim else "-",
        energy_at_signoff(r), r["delay_source"]))
json.dump({"rows": rows}, open(os.path.join(out, "report.json.tmp"), "w"), indent=1)
os.replace(os.path.join(out, "report.json.tmp"), os.path.join(out, "report.json"))
for f in failed:
    lines.append("| %s |" % f.replace("arith-compare: ", "")
                 + " |" * 16)
def fmt_v(v):
    if v is None: return "-"
    if isinstance(v, str): return v
    if isinstance(v, list): return "%.2f-%.2f" % (v[0], v[1])
    return "%.3f" % v
err_rows = [r for r in rows if r["errors"]]
if err_rows:
    src = err_rows[0]["errors"]["operand_source"]
    clock = os.environ.get("PERIOD_NS") or ""
    clock = ("every variant at PERIOD_NS=%s ns" % clock) if clock else \
        "each variant at its own clock (its critical path at the sign-off corner)"
    lines += ["", "Timing errors on a real layer stream (%s), %s, per simulated voltage; P(any error) levels interpolated "
              "log-linearly between simulated voltages, a range where the upper point had no error in "
              "its simulated cycles, '-' when not reached; mean abs error in units of the accumulator LSB (a carry-save PE: "
              "an error in either word, bits wrong in either, the error of the pair's value sum + carry):" % (src, clock), "",
              "| PDK | variant | first error V | V at P=1e-6 | V at P=1e-4 | V at P=1e-2 | bits failing first | mean abs error there | P(any) per voltage (cycles each) | delay sources |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in err_rows:
        e = r["errors"]
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s (%d) | %s |" % (
            r["pdk"], r["variant"], fmt_v(e["first_error_v"]), fmt_v(e["voltage_at_p_any"]["1e-06"]),
            fmt_v(e["voltage_at_p_any"]["0.0001"]), fmt_v(e["voltage_at_p_any"]["0.01"]),
            " ".join(str(b) for b in e["first_error_bits"]) or "-",
            "%.0f" % e["first_error_mean_abs"] if e["first_error_mean_abs"] is not None else "-",
            " ".join("%.2f:%.1e" % (q["voltage"], q["p_any_error"]) for q in e["points"]),
            e["points"][0]["samples"], ", ".join(sorted(set(q["delay_source"] for q in e["points"])))))
lines += ["", "Per-bit arrivals at the sign-off corner (ns, bit 0 first):", ""]
for r in rows:
    lines.append("- %s %s: %s" % (r["pdk"], r["variant"], " ".join("%.2f" % x for x in r["arrival_ns"])))
open(os.path.join(out, "report.md.tmp"), "w").write("\n".join(lines) + "\n")
os.replace(os.path.join(out, "report.md.tmp"), os.path.join(out, "report.md"))
print("arith-compare: %s/report.md, report.json (%d variant x PDK rows)" % (out, len(rows)))
PY
