#!/usr/bin/env bash
# Whole-network check of the error model's injection (docs/errmodel.md, "Whole
# network"): ResNet-8 top-1 under errors drawn by the engine's injector against
# the Verilated array with the same errors drawn per PE and cycle by its error
# source (make layers, docs/inject.md), at each of VOLTAGES. Two steps, called
# by `make validate-network`:
#   models: per-layer error models of the config's PE for MODEL_FILE (as make
#           explore's default: flow/explore_trace.sh + flow/explore_layers.sh,
#           every array layer's own stream of every PE row over INPUTS inputs),
#           and one settings file per voltage (every island and layer at it,
#           each layer with its own model) in OUT/settings_<V>.json;
#   report: reads OUT/layers_<V>.log (make layers SETTINGS=...) and writes
#           OUT/report.{json,md}: per voltage both top-1s, the paired difference
#           and its 95 % interval, whether that interval holds 0, and the
#           per-layer z tests of changed accumulators.
# Environment: VOSA BUILD FLOW_DIR PDK DESIGN_DIR CONFIG_FILE VOLTAGES (spaces)
#   MODEL_FILE DATA ENCODING RECORDS INPUTS DTA_THREADS OUT
set -euo pipefail
step=$1
mkdir -p "$OUT"
corner_of() { "$VOSA" pdk corners --pdk "$PDK" --voltages "$1"; }
case "$step" in
models)
  corners=$(for v in $VOLTAGES; do corner_of "$v"; done | paste -sd,)
  here=$(dirname "$0")
  trace=$("$here/explore_trace.sh" "$VOSA" "$CONFIG_FILE" "$MODEL_FILE" "$DATA" "$ENCODING" "$OUT/traces" all "$RECORDS" "$INPUTS")
  rows=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['rows'])" "$CONFIG_FILE")
  # The settings' own errmodel: the longest conv layer's bottom row (every layer has its own; this one
  # only fills the settings' required field and layers without a model).
  env CORNERS="$corners" VOLTAGES= ERRMODEL_DIR="$OUT/errmodel" OPERANDS="trace:${trace//\{row\}/$((rows - 1))}" \
    DTA_CYCLES="$RECORDS" DTA_PATTERNS=4096 DTA_ENERGY=0 DTA_MODE= DTA_PERIODS_NS= "$here/characterize.sh" > "$OUT/characterize.log"
  env CORNERS="$corners" VOLTAGES= "$here/explore_layers.sh" "$OUT/traces" "$OUT/errmodel-layers" "$RECORDS"
  python3 - "$OUT" "$VOLTAGES" <<'PY'
import glob, json, os, re, sys
out, voltages = sys.argv[1], sys.argv[2].split()
layers = sorted(int(re.match(r"op(\d+)\.json", os.path.basename(p)).group(1))
                for p in glob.glob(f"{out}/errmodel-layers/op*.json"))
for v in voltages:
    s = {"comment": "make validate-network: every layer at one voltage, each with its own error model",
         "errmodel": "errmodel/errmodel.json", "voltages": [float(v)],
         "layers": [{"op": op, "voltages": [float(v)], "errmodel": f"errmodel-layers/op{op}.json"} for op in layers]}
    json.dump(s, open(f"{out}/settings_{v}.json.partial", "w"), indent=1)
    os.replace(f"{out}/settings_{v}.json.partial", f"{out}/settings_{v}.json")
print(f"validate-network: settings for {len(voltages)} voltages, {len(layers)} layer models in {out}")
PY
  ;;
report)
  python3 - "$OUT" "$VOLTAGES" <<'PY'
import json, os, re, sys
out, voltages = sys.argv[1], sys.argv[2].split()
rows = []
for v in voltages:
    log = open(f"{out}/layers_{v}.log").read()
    m = re.search(r"top-1 with timing errors: Verilator array ([\d.]+) %, engine prediction ([\d.]+) % "
                  r"\(error-free ([\d.]+) %\); difference ([-+\d.]+) % \+- ([\d.]+) % \(95 %, paired over (\d+) inputs\)", log)
    if not m:
        sys.exit(f"validate-network: {out}/layers_{v}.log has no 'top-1 with timing errors' line")
    draws = re.search(r"engine injector \(same inputs, (\d+) error draws each\)", log)
    z = [(int(a), float(b), float(c), float(d)) for a, b, c, d in
         re.findall(r"^(\d+)\s+([\d.]+)\s+([\d.]+)\s+([-\d.]+)", log, re.M)]
    verilator, engine, clean, diff, half, n = (float(x) for x in m.groups())
    rows.append({"voltage": float(v), "inputs": int(n), "engine_draws": int(draws.group(1)) if draws else None,
                 "error_free_top1_pct": clean, "verilator_top1_pct": verilator, "engine_top1_pct": engine,
                 "difference_pct": diff, "difference_ci95_pct": half, "agree": abs(diff) <= half,
                 "layers": [{"op": a, "verilator_changed": b, "engine_changed": c, "z": d} for a, b, c, d in z]})
rep = {"network": "resnet8", "runs": rows}
json.dump(rep, open(f"{out}/report.json.partial", "w"), indent=1)
os.replace(f"{out}/report.json.partial", f"{out}/report.json")
md = ["# ResNet-8 under injected errors: engine vs Verilated array\n",
      "| V | inputs | error-free top-1 | Verilator top-1 | engine top-1 (draws per input) | difference, 95 % CI | agree | max abs z per layer |",
      "|---|---|---|---|---|---|---|---|"]
for r in rows:
    mz = max((abs(l["z"]) for l in r["layers"]), default=0)
    md.append(f"| {r['voltage']} | {r['inputs']} | {r['error_free_top1_pct']:.1f} % | {r['verilator_top1_pct']:.1f} % | "
              f"{r['engine_top1_pct']:.1f} % ({r['engine_draws']}) | {r['difference_pct']:+.1f} % +- "
              f"{r['difference_ci95_pct']:.1f} % | {'yes' if r['agree'] else 'no'} | {mz:.2f} |")
open(f"{out}/report.md.partial", "w").write("\n".join(md) + "\n")
os.replace(f"{out}/report.md.partial", f"{out}/report.md")
print("\n".join(md))
sys.exit(0 if all(r["agree"] for r in rows) else 1)
PY
  ;;
*) echo "validate_network.sh: step is models or report, got '$step'" >&2; exit 2 ;;
esac
