#!/usr/bin/env bash
# Per-layer error models for `make explore` (EXPLORE_OPERANDS=per-layer, its
# default; docs/explore.md): every array layer's own operand stream of every PE
# row of column 0 (TRACE_DIR, written by flow/explore_trace.sh with ROWS=all:
# the first input, every tile pass sampled) characterized at every corner by
# flow/characterize.sh, one band per row, DTA_CYCLES = the trace length, 4096
# joint patterns; each written to OUT_DIR/op<N>.json for `vosa explore
# --layer-errmodels OUT_DIR`. The kind `per-layer+classes` of `make
# validate-errmodel` (docs/errmodel.md "Fidelity"). A layer is re-simulated only
# when its traces, the netlist or an SDF changed (characterize.sh's stamps).
# BANDS=data (make explore EXPLORE_BANDS=data): the rows' models are then pooled
# into bands chosen from the data (vosa errmodel-bands; OUT_DIR/op<N>.bands.json
# says which statistic split each pair of adjacent rows).
# Environment: that of flow/characterize.sh (VOSA BUILD FLOW_DIR PDK DESIGN_DIR
# CORNERS or VOLTAGES, DTA_DELAY_MODE DTA_SETUP DTA_THREADS), BANDS (rows|data).
#   flow/explore_layers.sh TRACE_DIR OUT_DIR RECORDS
set -euo pipefail
TRACE_DIR="$1"; OUT_DIR="$2"; RECORDS="$3"
BANDS=${BANDS:-rows}
case "$BANDS" in rows|data) ;; *) echo "explore_layers: error: BANDS (EXPLORE_BANDS) is '$BANDS'; expected rows or data" >&2; exit 1 ;; esac
mkdir -p "$OUT_DIR"
start=$(date +%s)
n=0
for first in "$TRACE_DIR"/op*_pe0_0.vtrace; do
  [ -f "$first" ] || { echo "explore_layers: error: no traces in $TRACE_DIR" >&2; exit 1; }
  layer=$(basename "$first" | cut -d_ -f1)        # opN
  echo "explore_layers: $layer: one band per PE row, $RECORDS cycles per corner"
  ERRMODEL_DIR="$OUT_DIR/$layer" OPERANDS="trace:${first%_pe0_0.vtrace}_pe{row}_0.vtrace" DTA_CYCLES="$RECORDS" \
    DTA_PATTERNS=4096 DTA_ENERGY=0 DTA_MODE= DTA_PERIODS_NS= "$(dirname "$0")/characterize.sh" > "$OUT_DIR/$layer.log" ||
    { cat "$OUT_DIR/$layer.log" >&2; exit 1; }
  if [ "$BANDS" = data ]; then
    "$VOSA" errmodel-bands "$OUT_DIR/$layer/errmodel.json" --out "$OUT_DIR/$layer.json.tmp" \
      --report-json "$OUT_DIR/$layer.bands.json" >> "$OUT_DIR/$layer.log"
  else
    cp "$OUT_DIR/$layer/errmodel.json" "$OUT_DIR/$layer.json.tmp"
  fi
  mv "$OUT_DIR/$layer.json.tmp" "$OUT_DIR/$layer.json"
  n=$((n + 1))
done
echo "explore_layers: $n layer models in $OUT_DIR ($(( $(date +%s) - start )) s)"
