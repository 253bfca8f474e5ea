#!/usr/bin/env bash
# Error-model fidelity on real layers (docs/errmodel.md, "Fidelity"). Called
# by `make validate-errmodel` once the netlist and the SDFs exist. Steps:
#   1. operand traces of every array layer of MODEL for the bottom-left PE of
#      the config's array (vosa infer --trace-dir, first input);
#   2. models: uniform random operands (what `make characterize` writes by
#      default) and the TRAIN layer's stream (with operand classes, PATTERNS
#      joint patterns), both by vosa dta at every voltage;
#   3. ground truth: vosa dta on each TEST layer's stream, with --error-log;
#   4. vosa errmodel-validate per TEST layer; report.{json,md}.
# Environment: VOSA BUILD FLOW_DIR (or CONFIG_NAME) PDK DESIGN_DIR VOLTAGES MODEL_FILE DATA
#   INPUT_ENCODING TRAIN TEST SEEDS PATTERNS TOLERANCE BIT_FACTOR
set -euo pipefail
P="${FLOW_DIR:-$BUILD/$CONFIG_NAME/$PDK}"
OUT="$P/validate-errmodel"
mkdir -p "$OUT/traces" "$OUT/dta"
log() { echo "validate-errmodel: $*"; }

corners=$("$VOSA" pdk corners --pdk "$PDK" --voltages "$VOLTAGES" | tr ',' ' ')
period=$(cat "$P/sta/period_ns.txt")
signoff=$("$VOSA" pdk get --pdk "$PDK" signoff_corner)
lib=$("$VOSA" pdk liberty --pdk "$PDK" --corner "$signoff" --cache-dir "$BUILD/pdk")
netlist="$P/synth/pe_netlist.v"
manifest="$DESIGN_DIR/manifest.json"
read -r rows cols < <(python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['config']; print(c['rows'], c['cols'])" "$manifest")
pe="$((rows - 1)),0"  # bottom row: the widest partial sums

log "traces of PE $pe of a ${rows}x${cols} array for $(basename "$MODEL_FILE")"
rm -rf "$OUT/traces" && mkdir -p "$OUT/traces"
"$VOSA" infer -m "$MODEL_FILE" -d "$DATA" --input-encoding "$INPUT_ENCODING" -n 1 \
  --trace-dir "$OUT/traces" --trace-pe "$pe" --trace-array "${rows}x${cols}" > "$OUT/traces/infer.log"
trace_of() {
  local t
  t=$(ls "$OUT/traces/$1"_*_pe"${pe/,/_}".vtrace 2>/dev/null | head -1)
  [ -n "$t" ] || { echo "validate-errmodel: error: no trace for layer '$1' in $OUT/traces (see infer.log)" >&2; exit 1; }
  echo "$t"
}

dta() {  # corner out operands [extra args]
  local corner=$1 out=$2 operands=$3
  shift 3
  "$VOSA" dta --netlist "$netlist" --liberty "$lib" --sdf "$P/sdf/$corner.sdf" --manifest "$manifest" \
    --pdk "$PDK" --corner "$corner" --period-ns "$period" --operands "$operands" --threads 1 -q \
    --out "$out" "$@"
}

uniform_parts=() train_parts=()
train_trace=$(trace_of "$TRAIN")
for corner in $corners; do
  log "$corner: models (uniform operands 20000 cycles; $TRAIN stream) at T=$period ns"
  dta "$corner" "$OUT/dta/uniform_$corner.json" uniform:1 --cycles 20000
  dta "$corner" "$OUT/dta/${TRAIN}_$corner.json" "trace:$train_trace" --patterns "$PATTERNS"
  uniform_parts+=("$OUT/dta/uniform_$corner.json")
  train_parts+=("$OUT/dta/${TRAIN}_$corner.json")
done
"$VOSA" errmodel-merge "${uniform_parts[@]}" --out "$OUT/model_uniform.json"
"$VOSA" errmodel-merge "${train_parts[@]}" --out "$OUT/model_$TRAIN.json"

reports=()
for layer in $TEST; do
  test_trace=$(trace_of "$layer")
  logs=()
  for corner in $corners; do
    log "$corner: gate-level ground truth on $layer"
    dta "$corner" "$OUT/dta/${layer}_$corner.json" "trace:$test_trace" --error-log "$OUT/dta/${layer}_$corner.errors.csv"
    logs+=("$OUT/dta/${layer}_$corner.errors.csv")
  done
  "$VOSA" errmodel-validate --model "uniform=$OUT/model_uniform.json" --model "$TRAIN=$OUT/model_$TRAIN.json" \
    --trace "$test_trace" --voltage "$VOLTAGES" --dta-errors "$(IFS=,; echo "${logs[*]}")" --period-ns "$period" \
    --seeds "$SEEDS" --tolerance "$TOLERANCE" --bit-factor "$BIT_FACTOR" --out-json "$OUT/report_$layer.json" --out-md "$OUT/report_$layer.md"
  reports+=("$layer")
done

python3 - "$OUT" "$TRAIN" "${reports[@]}" <<'PY'
import json, sys, os
out, train, layers = sys.argv[1], sys.argv[2], sys.argv[3:]
runs = {l: json.load(open(f"{out}/report_{l}.json")) for l in layers}
def ratio(stat):
    d = stat["dta"]["value"]
    return stat["model"]["mean"] / d if d else float("nan")
verdict = [{"test_layer": l, "voltage": r["voltage"], "model": m["label"], "pass": m["comparison"]["pass"],
            "p_any_ratio": ratio(m["comparison"]["p_any_error"]),
            "mean_abs_error_ratio": ratio(m["comparison"]["mean_abs_error"]),
            "failed": [c["check"] for c in m["comparison"]["checks"] if not c["pass"]]}
           for l, rep in runs.items() for r in rep["runs"] for m in r["models"]]
report = {"train_layer": train, "test_layers": runs, "verdicts": verdict}
tmp = f"{out}/report.json.partial"
json.dump(report, open(tmp, "w"), indent=1)
os.replace(tmp, f"{out}/report.json")
md = [f"# Error-model fidelity: fitted on {train}, checked on {', '.join(layers)}\n",
      "| held-out layer | voltage | model | P(any) model / simulator | mean abs error model / simulator "
      "| within tolerance | failed checks |", "|---|---|---|---|---|---|---|"]
md += [f"| {v['test_layer']} | {v['voltage']} | {v['model']} | {v['p_any_ratio']:.2f} | "
       f"{v['mean_abs_error_ratio']:.2f} | {'yes' if v['pass'] else 'no'} | {', '.join(v['failed'])} |"
       for v in verdict]
md.append("")
for l in layers:
    md.append(open(f"{out}/report_{l}.md").read().replace("# Error-model fidelity", f"# Held-out layer {l}", 1))
tmp = f"{out}/report.md.partial"
open(tmp, "w").write("\n".join(md))
os.replace(tmp, f"{out}/report.md")
for v in verdict:
    print(f"validate-errmodel: {v['test_layer']} {v['voltage']} V {v['model']}: within tolerance: {'yes' if v['pass'] else 'no'}")
PY
log "wrote $OUT/report.json and $OUT/report.md"
