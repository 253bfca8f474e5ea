#!/usr/bin/env bash
# Per-mode characterization of the PE's precision modes (docs/precision.md),
# run by `make precision-characterize`:
#   1. the PE of CONFIG without its modes (same widths) through the flow:
#      netlist, SDF and STA at every corner of PDK, the clock fixed at the
#      flow's period (PERIOD_NS= or the sign-off critical path);
#   2. per mode, a real layer's operand stream of one PE, reduced as the mode
#      reduces it (make layers' trace of MODEL operator TRACE_OP, TRACE_PE);
#   3. per mode and corner, `vosa dta` of that stream: the lowest voltage of
#      the ladder from which upwards no cycle has a timing error;
#   4. per mode and corner, energy per MAC from OpenSTA report_power with the
#      flow's default activity and the bits the mode drops held at the
#      constant 10..0 the PE's gates give them.
# Writes OUT/precision_energy.json (read by vosa bitwidth --energy) and
# OUT/precision_characterize.md. Environment (from the Makefile):
#   VOSA BUILD ROOT MAKE PDK CONFIG MODEL_FILE DATA INPUT_ENCODING OUT
#   TRACE_OP TRACE_PE DTA_CYCLES PERIOD_NS VOLTAGES (optional) JOBS
set -euo pipefail
log() { echo "precision-characterize: $*"; }
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

# 1. The PE without modes: CONFIG's JSON minus precision_modes.
python3 - "$CONFIG" "$OUT/pe_config.json" "$OUT/modes.txt" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
modes = c.pop("precision_modes", None)
if not modes:
    sys.exit(sys.argv[1] + ": field 'precision_modes' is missing: give a CONFIG with precision modes (docs/precision.md)")
json.dump(c, open(sys.argv[2] + ".tmp", "w"), indent=2)
open(sys.argv[3], "w").write(" ".join(str(m) for m in modes) + "\n")
PY
cmp -s "$OUT/pe_config.json.tmp" "$OUT/pe_config.json" 2>/dev/null && rm "$OUT/pe_config.json.tmp" \
  || mv "$OUT/pe_config.json.tmp" "$OUT/pe_config.json"
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
base=(-s --no-print-directory -C "$ROOT" CONFIG="$OUT/pe_config.json" PDK="$PDK" ${PERIOD_NS:+PERIOD_NS=$PERIOD_NS}
  ${VOLTAGES:+VOLTAGES=$VOLTAGES})
"$MAKE" "${base[@]}" sdf power >/dev/null
P="$("$MAKE" "${base[@]}" flow-dir)"
DESIGN="$("$MAKE" "${base[@]}" config-dir)/design"
period=$(cat "$P/sta/period_ns.txt")
netlist="$P/synth/pe_netlist.v"
signoff=$("$VOSA" pdk get --pdk "$PDK" signoff_corner)
lib=$("$VOSA" pdk liberty --pdk "$PDK" --corner "$signoff" --cache-dir "$BUILD/pdk")
corners=$(cat "$P/sta/corners.txt" | tr ',' ' ')
log "PE without modes: $P (period $period ns, corners $corners)"

# 2. Reduced operand streams of a real layer, one per mode.
"$VOSA" generate --quiet --config "$CONFIG" --out "$OUT/design"
for m in "${!MODES[@]}"; do
  tdir="$OUT/traces/mode$m"
  rm -rf "$tdir"
  "$ROOT/testbench/layers/run_layers.sh" "$OUT/design" "$OUT/layers_obj" "$BUILD" --model "$MODEL_FILE" \
    --data "$DATA" --input-encoding "$INPUT_ENCODING" -n 1 --mode "$m" --trace-dir "$tdir" --trace-pe "$TRACE_PE" \
    --trace-records "$DTA_CYCLES" > "$OUT/layers_mode$m.log" 2>&1 \
    || { tail -20 "$OUT/layers_mode$m.log"; echo "precision-characterize: make layers in mode $m failed" >&2; exit 1; }
  grep -q "0 accumulator mismatches" "$OUT/layers_mode$m.log" \
    || { echo "precision-characterize: mode $m: the array and the engine disagree ($OUT/layers_mode$m.log)" >&2; exit 1; }
  trace=$(ls "$tdir"/op"${TRACE_OP}"_*.vtrace 2>/dev/null | head -1)
  [ -n "$trace" ] || { echo "precision-characterize: no trace of operator $TRACE_OP in $tdir (TRACE_OP=)" >&2; exit 1; }
  echo "$trace" > "$tdir/trace.txt"
done

# 3 + 4. Timing errors and energy per mode and corner.
for m in "${!MODES[@]}"; do
  bits=${MODES[$m]}
  trace=$(cat "$OUT/traces/mode$m/trace.txt")
  # The dropped bits as the PE's gates set them: the highest 1, the rest 0.
  const=""
  for port in a_i w_i; do
    width=$(python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['config']; print(c['act_bits' if sys.argv[2]=='a_i' else 'weight_bits'])" "$DESIGN/manifest.json" "$port")
    for ((b = 0; b < width - bits; b++)); do
      const+="${const:+ }$port[$b]=$([ $b -eq $((width - bits - 1)) ] && echo 1 || echo 0)"
    done
  done
  mkdir -p "$OUT/dta/mode$m" "$OUT/power/mode$m"
  for corner in $corners; do
    log "mode $m ($bits bits), $corner: vosa dta ($DTA_CYCLES cycles of $(basename "$trace")), OpenSTA power"
    "$VOSA" dta --netlist "$netlist" --liberty "$lib" --sdf "$P/sdf/$corner.sdf" --manifest "$DESIGN/manifest.json" \
      --pdk "$PDK" --corner "$corner" --period-ns "$period" --operands "trace:$trace" --cycles "$DTA_CYCLES" \
      --threads "${JOBS:-1}" --quiet --out "$OUT/dta/mode$m/$corner.json"
    clib=$("$VOSA" pdk liberty --pdk "$PDK" --corner "$corner" --netlist "$netlist" --cache-dir "$BUILD/pdk")
    VOSA_LIBERTY=$clib VOSA_NETLIST=$netlist VOSA_TOP=vosa_pe VOSA_PDK_TCL=$P/pdk.tcl VOSA_PERIOD_NS=$period \
    VOSA_CORNER=$corner VOSA_OUTPUT_REG=psum_q VOSA_PATHS_OUT=$OUT/power/mode$m/$corner.paths.tsv \
    VOSA_POWER_OUT=$OUT/power/mode$m/$corner.power.tsv VOSA_POWER_CONST_PORTS="$const" \
      "$ROOT/flow/run_sta.sh" "$OUT/power/mode$m/$corner.log" "$OUT/power/mode$m/$corner.power.tsv"
  done
  "$VOSA" sta-collect --kind energy --pdk "$PDK" --manifest "$DESIGN/manifest.json" --netlist "$netlist" \
    --corners "$(echo $corners | tr ' ' ',')" --reports "$OUT/power/mode$m" \
    --period-source "$(cat "$P/sta/period_source.txt")" --out "$OUT/power/mode$m/energy.json" > /dev/null
done

python3 "$ROOT/flow/precision_summary.py" "$OUT" "$PDK" "$period" "$signoff" "$MODEL_FILE" "$TRACE_OP" "$TRACE_PE" \
  "$DTA_CYCLES" "${MODES[@]}"
stamp_text > "$OUT/inputs.stamp"
log "wrote $OUT/precision_energy.json and $OUT/precision_characterize.md"
