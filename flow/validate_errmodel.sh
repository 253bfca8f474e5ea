#!/usr/bin/env bash
# Error-model fidelity on real layers (docs/errmodel.md, "Fidelity"). Called
# by `make validate-errmodel` once the netlist and the SDFs exist. Per word
# "net:TRAIN:TEST,TEST,..." of CASES (net's model, data and encoding in
# NET_<net>="model|data|encoding"; a network may have several words, e.g. a
# conv and a depthwise training layer):
#   1. whole-layer operand traces (vosa infer --trace-dir --trace-pe all,0
#      --trace-sample K --trace-records RECORDS/INPUTS: every row of column 0,
#      every tile pass sampled, docs/dnn.md) of every array layer, inputs
#      0..INPUTS-1 concatenated (traces/: ground truth, training layers) and
#      inputs INPUTS..2*INPUTS-1 (traces_fit/: kind "per-layer");
#   2. models at every voltage: uniform random operands (what `make
#      characterize` writes by default; once for all networks); TRAIN's
#      stream of the bottom-row PE (one position for every PE: kind "layer");
#      TRAIN's stream of every row, one band per row (kind "layer-rows");
#      each held-out layer's own stream of the checked PE row from the other
#      inputs (traces_fit/; kind "per-layer", what make explore uses);
#      each also per operand class ("+classes");
#   3. ground truth: vosa dta --error-log on each TEST layer's stream of each
#      PE row of ROWS at each voltage; the same run's statistics are kind
#      "self" (fitted on the held-out stream itself: a diagnostic, not a
#      model a flow can have) that tells a miss's cause (see report);
#   4. vosa errmodel-validate per (TEST layer, row): every model kind, every
#      voltage; report.{json,md} with each miss's cause and one summary line
#      per model kind.
# Environment: VOSA BUILD FLOW_DIR PDK DESIGN_DIR VOLTAGES CASES NET_* ROWS
#   RECORDS INPUTS SEEDS PATTERNS TOLERANCE BIT_FACTOR THREADS
set -euo pipefail
P="${FLOW_DIR:-$BUILD/$CONFIG_NAME/$PDK}"
INPUTS=${INPUTS:-4}
OUT="$P/validate-errmodel"
mkdir -p "$OUT/dta"
log() { echo "validate-errmodel: $(date -u +%H:%M:%S) $*"; }
start=$(date +%s)

corners=$("$VOSA" pdk corners --pdk "$PDK" --voltages "$VOLTAGES" | tr ',' ' ')
period=$(cat "$P/sta/period_ns.txt")
signoff=$("$VOSA" pdk get --pdk "$PDK" signoff_corner)
lib=$("$VOSA" pdk liberty --pdk "$PDK" --corner "$signoff" --cache-dir "$BUILD/pdk")
netlist="$P/synth/pe_netlist.v"
manifest="$DESIGN_DIR/manifest.json"
read -r rows cols < <(python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['config']; print(c['rows'], c['cols'])" "$manifest")
bottom=$((rows - 1))
check_rows=${ROWS:-"0 $((rows / 2 - 1)) $bottom"}
for r in $check_rows; do
  [ "$r" -ge 0 ] && [ "$r" -lt "$rows" ] || { echo "validate-errmodel: error: VALIDATE_ROWS: row $r is outside the ${rows}-row array" >&2; exit 1; }
done

dta() {  # corner out operands [extra args]
  local corner=$1 out=$2 operands=$3
  shift 3
  "$VOSA" dta --netlist "$netlist" --liberty "$lib" --sdf "$P/sdf/$corner.sdf" --manifest "$manifest" \
    --pdk "$PDK" --corner "$corner" --period-ns "$period" --operands "$operands" --threads "${THREADS:-1}" -q \
    --out "$out" "$@"
}

log "uniform-operand model (20000 cycles per voltage) at T=$period ns"
uniform_parts=()
for corner in $corners; do
  dta "$corner" "$OUT/dta/uniform_$corner.json" uniform:1 --cycles 20000
  uniform_parts+=("$OUT/dta/uniform_$corner.json")
done
"$VOSA" errmodel-merge "${uniform_parts[@]}" --out "$OUT/model_uniform.json"

trace_of() {  # net layer row [traces folder]
  local t dir=${4:-traces}
  t=$(ls "$OUT/$1/$dir/$2"_*_pe"$3"_0.vtrace 2>/dev/null | head -1)
  [ -n "$t" ] || { echo "validate-errmodel: error: no trace for layer '$2' of $1 in $OUT/$1/$dir (see $OUT/$1/$dir/input*.log)" >&2; exit 1; }
  echo "$t"
}
traced=" "
reports=()
for case in $CASES; do
  IFS=: read -r net train tests <<<"$case"
  spec_var="NET_$net"
  IFS='|' read -r model_file data encoding <<<"${!spec_var:-}"
  [ -n "$model_file" ] && [ -n "$train" ] && [ -n "$tests" ] ||
    { echo "validate-errmodel: error: CASES word '$case': expected net:TRAIN:TEST,... with NET_$net set" >&2; exit 1; }
  N="$OUT/$net"
  if [[ "$traced" != *" $net "* ]]; then
    traced+="$net "
    rm -rf "$N" && mkdir -p "$N/dta"
    log "$net: traces of every row of column 0 of a ${rows}x${cols} array ($(basename "$model_file"), inputs 0..$((2 * INPUTS - 1)), ${RECORDS} records per layer and $INPUTS inputs at most)"
    # traces/: inputs 0..INPUTS-1 (ground truth and the training layers); traces_fit/: inputs
    # INPUTS..2*INPUTS-1, whose streams of each held-out layer fit kind "per-layer" (disjoint
    # from the checked ones). Each input's whole-layer sample has RECORDS/INPUTS records; the
    # inputs' streams are concatenated in input order (flow/trace_inputs.sh).
    for part in traces:0 traces_fit:$INPUTS; do
      "$(dirname "$0")/trace_inputs.sh" "$VOSA" "$model_file" "$data" "$encoding" "${rows}x${cols}" "all,0" "$RECORDS" \
        "${part#*:}" "$INPUTS" "$N/${part%%:*}" > "$N/${part%%:*}.log"
    done
    # Only the layers some word of CASES uses are kept (MobileNetV2 has 53 array layers).
    keep=" " keep_fit=" "
    for c in $CASES; do
      IFS=: read -r n t ts <<<"$c"
      [ "$n" = "$net" ] && keep+="$t ${ts//,/ } " && keep_fit+="${ts//,/ } "
    done
    for t in "$N"/traces/*.vtrace; do
      layer=$(basename "$t" | cut -d_ -f1)
      [[ "$keep" == *" $layer "* ]] || rm -f "$t"
    done
    for t in "$N"/traces_fit/*.vtrace; do
      layer=$(basename "$t" | cut -d_ -f1)
      [[ "$keep_fit" == *" $layer "* ]] || rm -f "$t"
    done
  fi

  log "$net: models fitted on $train (every row; --patterns $PATTERNS)"
  row_parts=() bottom_parts=()
  for corner in $corners; do
    for ((r = 0; r < rows; r++)); do
      dta "$corner" "$N/dta/${train}_row${r}_$corner.json" "trace:$(trace_of "$net" "$train" "$r")" --patterns "$PATTERNS" --pe-rows "$r"
      row_parts+=("$N/dta/${train}_row${r}_$corner.json")
    done
    # Kind "layer": the bottom row's statistics stand for every PE (no pe_rows).
    python3 - "$N/dta/${train}_row${bottom}_$corner.json" "$N/dta/${train}_bottom_$corner.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for p in m["points"]:
    p.pop("pe_rows", None)
json.dump(m, open(sys.argv[2], "w"), indent=1)
PY
    bottom_parts+=("$N/dta/${train}_bottom_$corner.json")
  done
  "$VOSA" errmodel-merge "${row_parts[@]}" --out "$N/model_${train}_layer-rows.json"
  "$VOSA" errmodel-merge "${bottom_parts[@]}" --out "$N/model_${train}_layer.json"

  for layer in ${tests//,/ }; do
    for r in $check_rows; do
      test_trace=$(trace_of "$net" "$layer" "$r")
      fit_trace=$(trace_of "$net" "$layer" "$r" traces_fit)
      logs=() self_parts=() own_parts=()
      for corner in $corners; do
        log "$net: $corner: gate-level ground truth on $layer, PE row $r; per-layer model from the other inputs"
        dta "$corner" "$N/dta/${layer}_row${r}_$corner.json" "trace:$test_trace" --patterns "$PATTERNS" \
          --error-log "$N/dta/${layer}_row${r}_$corner.errors.csv"
        logs+=("$N/dta/${layer}_row${r}_$corner.errors.csv")
        self_parts+=("$N/dta/${layer}_row${r}_$corner.json")
        dta "$corner" "$N/dta/${layer}_row${r}_fit_$corner.json" "trace:$fit_trace" --patterns "$PATTERNS" --pe-rows "$r"
        own_parts+=("$N/dta/${layer}_row${r}_fit_$corner.json")
      done
      "$VOSA" errmodel-merge "${self_parts[@]}" --out "$N/model_self_${layer}_row$r.json"
      "$VOSA" errmodel-merge "${own_parts[@]}" --out "$N/model_per-layer_${layer}_row$r.json"
      "$VOSA" errmodel-validate --model "uniform=$OUT/model_uniform.json" --model "layer=$N/model_${train}_layer.json" \
        --model "layer-rows=$N/model_${train}_layer-rows.json" --model "per-layer=$N/model_per-layer_${layer}_row$r.json" \
        --model "self=$N/model_self_${layer}_row$r.json" \
        --trace "$test_trace" --voltage "$VOLTAGES" --dta-errors "$(IFS=,; echo "${logs[*]}")" --period-ns "$period" \
        --seeds "$SEEDS" --tolerance "$TOLERANCE" --bit-factor "$BIT_FACTOR" \
        --out-json "$N/report_${layer}_row$r.json" --out-md "$N/report_${layer}_row$r.md" > "$N/report_${layer}_row$r.log"
      reports+=("$net:$train:$layer:$r")
    done
  done
done

printf "%s\n" "${reports[@]}" > "$OUT/cases.txt"
echo "$(( $(date +%s) - start ))" > "$OUT/seconds.txt"
python3 "$(dirname "$0")/validate_errmodel_report.py" "$OUT"
log "wrote $OUT/report.json and $OUT/report.md"
