#!/usr/bin/env bash
# Re-fit the "per-layer" and "self" models of an existing `make validate-errmodel`
# folder with this build's vosa dta (a new model form, same traces, netlist and
# SDFs) and rerun errmodel-validate against the folder's existing gate-level
# error logs (docs/errmodel.md "Value classes"). No traces and no ground truth
# are recomputed. Usage:
#   scripts/errmodel_refit_validate.sh VALIDATE_FOLDER OUT_DIR [CASE ...]
# CASE is net:train:layer:row (default: every line of VALIDATE_FOLDER/cases.txt).
# Environment: VOSA (build/vosa) PDK (sky130hd) SEEDS (40) PATTERNS (4096)
#   MASK_FORM (value-classes+correct-bits: vosa dta --mask-form of the re-fitted models)
#   VOLTAGES (1.60,1.44,1.28) JOBS (1: cases run in parallel).
# Writes OUT_DIR/<net>/model_{per-layer,self}_<layer>_row<r>.json and
# OUT_DIR/<net>/report_<layer>_row<r>.json (models "per-layer" and "self").
set -euo pipefail
V=${1:?validate-errmodel folder}
OUT=${2:?output folder}
shift 2
VOSA=${VOSA:-build/vosa}
PDK=${PDK:-sky130hd}
P=$(dirname "$V")
DESIGN=$(dirname "$P")/design
VOLTAGES=${VOLTAGES:-1.60,1.44,1.28}
period=$(cat "$P/sta/period_ns.txt")
signoff=$("$VOSA" pdk get --pdk "$PDK" signoff_corner)
lib=$("$VOSA" pdk liberty --pdk "$PDK" --corner "$signoff" --cache-dir "$(dirname "$DESIGN")/../pdk")
corners=$("$VOSA" pdk corners --pdk "$PDK" --voltages "$VOLTAGES" | tr ',' ' ')
cases=("$@")
[ ${#cases[@]} -gt 0 ] || mapfile -t cases < "$V/cases.txt"

one() {
  local net train layer r
  IFS=: read -r net train layer r <<<"$1"
  local N="$V/$net" O="$OUT/$net"
  mkdir -p "$O/dta"
  [ -f "$O/report_${layer}_row$r.json" ] && return 0
  local test_trace fit_trace logs=() self_parts=() own_parts=()
  test_trace=$(ls "$N/traces/${layer}"_*_pe"$r"_0.vtrace | head -1)
  fit_trace=$(ls "$N/traces_fit/${layer}"_*_pe"$r"_0.vtrace | head -1)
  for corner in $corners; do
    for part in "self:$test_trace:" "fit:$fit_trace:--pe-rows $r"; do
      IFS=: read -r kind trace extra <<<"$part"
      # shellcheck disable=SC2086
      "$VOSA" dta --netlist "$P/synth/pe_netlist.v" --liberty "$lib" --sdf "$P/sdf/$corner.sdf" \
        --manifest "$DESIGN/manifest.json" --pdk "$PDK" --corner "$corner" --period-ns "$period" \
        --operands "trace:$trace" --threads 1 -q --patterns "${PATTERNS:-4096}" $extra \
        --mask-form "${MASK_FORM:-value-classes+correct-bits}" \
        --out "$O/dta/${layer}_row${r}_${kind}_$corner.json"
    done
    self_parts+=("$O/dta/${layer}_row${r}_self_$corner.json")
    own_parts+=("$O/dta/${layer}_row${r}_fit_$corner.json")
    logs+=("$N/dta/${layer}_row${r}_$corner.errors.csv")
  done
  "$VOSA" errmodel-merge "${self_parts[@]}" --out "$O/model_self_${layer}_row$r.json"
  "$VOSA" errmodel-merge "${own_parts[@]}" --out "$O/model_per-layer_${layer}_row$r.json"
  "$VOSA" errmodel-validate --model "per-layer=$O/model_per-layer_${layer}_row$r.json" \
    --model "self=$O/model_self_${layer}_row$r.json" --trace "$test_trace" --voltage "$VOLTAGES" \
    --dta-errors "$(IFS=,; echo "${logs[*]}")" --period-ns "$period" --seeds "${SEEDS:-40}" \
    --out-json "$O/report_${layer}_row$r.json.part" > "$O/report_${layer}_row$r.log"
  mv "$O/report_${layer}_row$r.json.part" "$O/report_${layer}_row$r.json"
  echo "$(date -u +%H:%M:%S) done $1"
}
export -f one
export V OUT VOSA PDK P DESIGN VOLTAGES period lib corners
printf "%s\n" "${cases[@]}" | xargs -P "${JOBS:-1}" -I{} bash -c 'one {}'
