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
# A corner is re-simulated only when its inputs or the options change.
set -euo pipefail
P="${FLOW_DIR:-$BUILD/$CONFIG_NAME/$PDK}"
OUT="$P/errmodel"
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
options="operands=$OPERANDS cycles=$DTA_CYCLES mode=$DTA_DELAY_MODE setup=$DTA_SETUP periods=$periods patterns=$patterns"

# Per PE row: OPERANDS=trace:...{row}... (one band per row of the config's array).
row_list=all
if [[ "$OPERANDS" == *"{row}"* ]]; then
  rows=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['config']['rows'])" "$DESIGN_DIR/manifest.json")
  row_list=$(seq 0 $((rows - 1)))
fi

parts=()
for corner in $corners; do
  sdf="$P/sdf/$corner.sdf"
  [ -f "$sdf" ] || { echo "characterize: error: no SDF for corner $corner: $sdf (run make sdf)"; exit 1; }
  for row in $row_list; do
    name=$corner operands=$OPERANDS band=()
    if [ "$row" != all ]; then
      name=$corner.row$row operands=${OPERANDS//\{row\}/$row} band=(--pe-rows "$row")
      [ -f "${operands#trace:}" ] || { echo "characterize: error: no trace for PE row $row: ${operands#trace:}"; exit 1; }
    fi
    part="$OUT/corners/$name.json"
    stamp="$OUT/corners/$name.options"
    parts+=("$part")
    if [ -f "$part" ] && [ "$part" -nt "$sdf" ] && [ "$part" -nt "$netlist" ] && \
       [ "$(cat "$stamp" 2>/dev/null)" = "$options" ]; then
      log "$name up to date"
      continue
    fi
    log "$name: $DTA_CYCLES cycles at T=$periods ns ($operands, $DTA_DELAY_MODE) -> $part"
    "$VOSA" dta --netlist "$netlist" --liberty "$lib" --sdf "$sdf" --manifest "$DESIGN_DIR/manifest.json" \
      --pdk "$PDK" --corner "$corner" --period-ns "$periods" --operands "$operands" "${band[@]}" \
      --cycles "$DTA_CYCLES" --delay-mode "$DTA_DELAY_MODE" --setup "$DTA_SETUP" \
      --threads "$DTA_THREADS" --patterns "$patterns" --out "$part" 2>&1 | tee "$OUT/corners/$name.log"
    echo "$options" > "$stamp"
  done
done
"$VOSA" errmodel-merge "${parts[@]}" --out "$OUT/errmodel.json"
"$VOSA" errmodel-csv "$OUT/errmodel.json" --out "$OUT/errmodel.csv" --values "$OUT/errmodel_values.csv" \
  --patterns "$OUT/errmodel_patterns.csv"
log "wrote $OUT/errmodel.json and $OUT/errmodel{,_values,_patterns}.csv"
