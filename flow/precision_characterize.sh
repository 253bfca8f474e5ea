#!/usr/bin/env bash
# Per-mode characterization of the PE's precision modes (docs/precision.md),
# run by `make precision-characterize`:
#   1. the PE of CONFIG as generated, mode gates included, through the flow:
#      netlist, SDF, STA and OpenSTA default-activity power at every corner of
#      PDK, the clock fixed at the flow's period (PERIOD_NS= or the sign-off
#      critical path of this PE);
#   2. per mode, a real layer's operand stream of one PE (make layers' trace of
#      MODEL operator TRACE_OP, TRACE_PE, --trace-fed-operands): the operands
#      the array feeds in that mode and the partial sums of the rows above,
#      which reduce them;
#   3. per mode and corner, `vosa dta --mode m --energy` of that stream with the
#      mode held on mode_i: the lowest voltage of the ladder from which upwards
#      no cycle has a timing error, and the energy per MAC from the simulated
#      activity with the corner's liberty;
#   4. OpenSTA's default-activity energy of the same PE (mode-independent) is
#      kept as a labelled comparison.
# Writes OUT/precision_energy.json (read by vosa bitwidth --energy) and
# OUT/precision_characterize.md. Environment (from the Makefile):
#   VOSA BUILD ROOT MAKE PDK CONFIG MODEL_FILE DATA INPUT_ENCODING OUT
#   TRACE_OP TRACE_PE DTA_CYCLES PERIOD_NS VOLTAGES (optional) JOBS
set -euo pipefail
log() { echo "precision-characterize: $*"; }
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

# 1. The mode list of CONFIG.
python3 - "$CONFIG" "$OUT/modes.txt" <<'PY'
import json, sys
modes = json.load(open(sys.argv[1])).get("precision_modes")
if not modes:
    sys.exit(sys.argv[1] + ": field 'precision_modes' is missing: give a CONFIG with precision modes (docs/precision.md)")
open(sys.argv[2], "w").write(" ".join(str(m) for m in modes) + "\n")
PY
read -r -a MODES < "$OUT/modes.txt"
# Everything below is redone only when an input or option changed.
stamp_text() {
  cat "$CONFIG" "$VOSA" "$ROOT/flow/precision_characterize.sh" "$ROOT/flow/precision_summary.py" \
    "$ROOT/flow/sta_corner.tcl" "$MODEL_FILE" 2>/dev/null | md5sum
  echo "$PDK $MODEL_FILE $DATA $TRACE_OP $TRACE_PE $DTA_CYCLES ${PERIOD_NS:-} ${VOLTAGES:-}"
}
if [ -s "$OUT/precision_energy.json" ] && [ "$(stamp_text)" = "$(cat "$OUT/inputs.stamp" 2>/dev/null)" ]; then
  log "up to date: $OUT/precision_energy.json"
  exit 0
fi
rm -f "$OUT/inputs.stamp"
base=(-s --no-print-directory -C "$ROOT" CONFIG="$CONFIG" PDK="$PDK" ${PERIOD_NS:+PERIOD_NS=$PERIOD_NS}
  ${VOLTAGES:+VOLTAGES=$VOLTAGES})
"$MAKE" "${base[@]}" sdf power >/dev/null
P="$("$MAKE" "${base[@]}" flow-dir)"
DESIGN="$("$MAKE" "${base[@]}" config-dir)/design"
period=$(cat "$P/sta/period_ns.txt")
netlist="$P/synth/pe_netlist.v"
signoff=$("$VOSA" pdk get --pdk "$PDK" signoff_corner)
lib=$("$VOSA" pdk liberty --pdk "$PDK" --corner "$signoff" --cache-dir "$BUILD/pdk")
corners=$(cat "$P/sta/corners.txt" | tr ',' ' ')
log "PE with modes: $P (period $period ns, corners $corners)"

# 2. Operand streams of a real layer, one per mode: the operands as the array
# feeds them (the gated PE reduces them), partial sums of the mode.
"$VOSA" generate --quiet --config "$CONFIG" --out "$OUT/design"
for m in "${!MODES[@]}"; do
  tdir="$OUT/traces/mode$m"
  rm -rf "$tdir"
  "$ROOT/testbench/layers/run_layers.sh" "$OUT/design" "$OUT/layers_obj" "$BUILD" --model "$MODEL_FILE" \
    --data "$DATA" --input-encoding "$INPUT_ENCODING" -n 1 --mode "$m" --trace-dir "$tdir" --trace-pe "$TRACE_PE" \
    --trace-records "$DTA_CYCLES" --trace-fed-operands > "$OUT/layers_mode$m.log" 2>&1 \
    || { tail -20 "$OUT/layers_mode$m.log"; echo "precision-characterize: make layers in mode $m failed" >&2; exit 1; }
  grep -q "0 accumulator mismatches" "$OUT/layers_mode$m.log" \
    || { echo "precision-characterize: mode $m: the array and the engine disagree ($OUT/layers_mode$m.log)" >&2; exit 1; }
  trace=$(ls "$tdir"/op"${TRACE_OP}"_*.vtrace 2>/dev/null | head -1)
  [ -n "$trace" ] || { echo "precision-characterize: no trace of operator $TRACE_OP in $tdir (TRACE_OP=)" >&2; exit 1; }
  echo "$trace" > "$tdir/trace.txt"
done

# 3. Timing errors and simulated energy per mode and corner.
for m in "${!MODES[@]}"; do
  mkdir -p "$OUT/dta/mode$m"
  for corner in $corners; do
    log "mode $m (${MODES[$m]} bits), $corner: vosa dta --mode $m --energy ($DTA_CYCLES cycles of op $TRACE_OP)"
    clib=$("$VOSA" pdk liberty --pdk "$PDK" --corner "$corner" --netlist "$netlist" --cache-dir "$BUILD/pdk")
    "$VOSA" dta --netlist "$netlist" --liberty "$lib" --sdf "$P/sdf/$corner.sdf" --manifest "$DESIGN/manifest.json" \
      --pdk "$PDK" --corner "$corner" --period-ns "$period" --operands "trace:$(cat "$OUT/traces/mode$m/trace.txt")" \
      --cycles "$DTA_CYCLES" --mode "$m" --energy --power-liberty "$clib" --threads "${JOBS:-1}" --quiet \
      --out "$OUT/dta/mode$m/$corner.json"
  done
done

python3 "$ROOT/flow/precision_summary.py" "$OUT" "$P/power/energy.json" "$PDK" "$period" "$signoff" "$MODEL_FILE" "$TRACE_OP" "$TRACE_PE" \
  "$DTA_CYCLES" "${MODES[@]}"
stamp_text > "$OUT/inputs.stamp"
log "wrote $OUT/precision_energy.json and $OUT/precision_characterize.md"
