#!/usr/bin/env bash
# Per-corner dynamic timing analysis of the PE and the merged error model
# (docs/dta.md, docs/errmodel.md). Called by `make characterize` after the
# flow has written the netlist and one SDF per corner. Environment:
#   VOSA BUILD PDK DESIGN_DIR                as in the Makefile
#   FLOW_DIR (the Makefile's; or BUILD/CONFIG_NAME/PDK from CONFIG_NAME)
#   CORNERS (names) or VOLTAGES (1.3,1.5)      default: the PDK's flow corners
#   DTA_PERIODS_NS   comma list (default: the flow's period, sta/period_ns.txt)
#   OPERANDS         uniform:SEED | layer:SEED | trace:FILE; a FILE with {row} in
#                    its name is one trace per PE row: one band per row (pe_rows,
#                    docs/errmodel.md "PE positions"), FILE's {row} = 0..rows-1
#   DTA_CYCLES DTA_DELAY_MODE DTA_SETUP DTA_THREADS DTA_PATTERNS (default 16)
#   DTA_MASK_FORM    vosa dta --mask-form (default: vosa dta's, value-classes; docs/errmodel.md "Hit rate per value class")
#   DTA_ENERGY=1     also the energy per cycle from the simulated activity, with
#                    each corner's own liberty (points[].energy, docs/dta.md)
#   DTA_MODE         precision mode held on the PE's mode_i (vosa dta --mode)
#   ERRMODEL_DIR     where errmodel.json and its parts go (default FLOW_DIR/errmodel)
# A corner is re-simulated only when its inputs, the vosa binary or the options
# change.
set -euo pipefail
P="${FLOW_DIR:-$BUILD/$CONFIG_NAME/$PDK}"
OUT="${ERRMODEL_DIR:-$P/errmodel}"
mkdir -p "$OUT/corners"
log() { echo "characterize: $*"; }

if [ -n "${CORNERS:-}" ]; then corners=$CORNERS
elif [ -n "${VOLTAGES:-}" ]; then corners=$("$VOSA" pdk corners --pdk "$PDK" --voltages "$VOLTAGES")
else corners=$("$VOSA" pdk corners --pdk "$PDK"); fi
corners=$(echo "$corners" | tr ',' ' ')
periods=${DTA_PERIODS_NS:-$(cat "$P/sta/period_ns.txt")}
signoff=$("$VOSA" pdk get --pdk "$PDK" signoff_corner)
lib=$("$VOSA" pdk liberty --pdk "$PDK" --corner "$signoff" --cache-dir "$BUILD/pdk")
netlist="$P/synth/pe_netlist.v"
patterns=${DTA_PATTERNS:-16}
options="operands=$OPERANDS cycles=$DTA_CYCLES mode=$DTA_DELAY_MODE setup=$DTA_SETUP periods=$periods patterns=$patterns energy=${DTA_ENERGY:-0}${DTA_MODE:+ precision_mode=$DTA_MODE}${DTA_MASK_FORM:+ mask_form=$DTA_MASK_FORM}"

# Per PE row: OPERANDS=trace:...{row}... (one band per row of the config's array).
row_list=all
if [[ "$OPERANDS" == *"{row}"* ]]; then
  rows=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['config']['rows'])" "$DESIGN_DIR/manifest.json")
  row_list=$(seq 0 $((rows - 1)))
fi

# A part (corner, or corner.rowN) is current when it is newer than its
# corner's SDF, the netlist and the vosa binary (a rebuilt simulator may
# simulate differently) and was made with these options (the stamp is written
# only on success).
current() {
  local name=$1 corner=$2 part="$OUT/corners/$1.json"
  [ -f "$part" ] && [ "$part" -nt "$P/sdf/$corner.sdf" ] && [ "$part" -nt "$netlist" ] && \
    { [ ! -f "$VOSA" ] || [ "$part" -nt "$VOSA" ]; } && \
    [ "$(cat "$OUT/corners/$name.options" 2>/dev/null)" = "$options" ]
}
part_name() { if [ "$2" = all ]; then echo "$1"; else echo "$1.row$2"; fi; }

# One task per part to simulate, run here or as Slurm jobs (flow/launch.sh).
parts=()
tasks="$OUT/corners/tasks.txt"
: > "$tasks"
for corner in $corners; do
  sdf="$P/sdf/$corner.sdf"
  [ -f "$sdf" ] || { echo "characterize: error: no SDF for corner $corner: $sdf (run make sdf)"; exit 1; }
  energy=()
  if [ "${DTA_ENERGY:-0}" = 1 ]; then
    energy=(--energy --power-liberty "$("$VOSA" pdk liberty --pdk "$PDK" --corner "$corner" --netlist "$netlist" --cache-dir "$BUILD/pdk")")
  fi
  for row in $row_list; do
    name=$(part_name "$corner" "$row") operands=$OPERANDS band=()
    if [ "$row" != all ]; then
      operands=${OPERANDS//\{row\}/$row} band=(--pe-rows "$row")
      [ -f "${operands#trace:}" ] || { echo "characterize: error: no trace for PE row $row: ${operands#trace:}"; exit 1; }
    fi
    part="$OUT/corners/$name.json"
    stamp="$OUT/corners/$name.options"
    parts+=("$part")
    if current "$name" "$corner"; then
      log "$name up to date"
      continue
    fi
    rm -f "$stamp"
    log "$name: $DTA_CYCLES cycles at T=$periods ns ($operands, $DTA_DELAY_MODE) -> $part"
    dta=("$VOSA" dta --netlist "$netlist" --liberty "$lib" --sdf "$sdf" --manifest "$DESIGN_DIR/manifest.json"
      --pdk "$PDK" --corner "$corner" --period-ns "$periods" --operands "$operands" "${band[@]}"
      --cycles "$DTA_CYCLES" --delay-mode "$DTA_DELAY_MODE" --setup "$DTA_SETUP"
      --threads "$DTA_THREADS" --patterns "$patterns" "${energy[@]}" ${DTA_MODE:+--mode "$DTA_MODE"}
      ${DTA_MASK_FORM:+--mask-form "$DTA_MASK_FORM"} --out "$part")
    printf '%s\t%s && echo %q > %q\n' "$OUT/corners/$name.log" "$(printf '%q ' "${dta[@]}")" "$options" "$stamp" >> "$tasks"
  done
done
flow_dir=$(dirname "$0")
"$flow_dir/launch.sh" "characterize-$PDK" "$tasks" || true
# The merge takes only complete, current results: a failed or cancelled corner
# stops it here, and a rerun simulates only the corners listed.
missing=()
for corner in $corners; do
  for row in $row_list; do
    name=$(part_name "$corner" "$row")
    current "$name" "$corner" || missing+=("$name")
  done
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "characterize: error: no current result for corner(s) ${missing[*]} (logs: $OUT/corners/<corner>.log);" \
    "errmodel.json not written; rerun to simulate only those" >&2
  exit 1
fi
"$VOSA" errmodel-merge "${parts[@]}" --out "$OUT/errmodel.json"
"$VOSA" errmodel-csv "$OUT/errmodel.json" --out "$OUT/errmodel.csv" --values "$OUT/errmodel_values.csv" \
  --patterns "$OUT/errmodel_patterns.csv" --correct-bits "$OUT/errmodel_correct_bits.csv"
log "wrote $OUT/errmodel.json and $OUT/errmodel{,_values,_patterns,_correct_bits}.csv"
