#!/usr/bin/env bash
# Operand stream for `make explore`'s error model: what the bottom-left PE of
# the config's array (the widest partial sums) sees in the model's CONV_2D
# layer with the most trace records (any array layer if it has none), for the
# first INPUTS inputs (default 1; flow/trace_inputs.sh: each input's whole-layer
# sample, concatenated). Not a depthwise layer: lowered to
# block-diagonal GEMMs, its bottom-left PE mostly adds zero products, which
# would make an error-free model.
# Real-layer streams with operand classes are what the fidelity check
# (make validate-errmodel, docs/errmodel.md) found closest to the gate-level
# truth on held-out layers; uniform random operands overstate the error rate
# 1.6-6x there. Prints the trace's path.
# With ROWS=all: the same layer's stream of every row of column 0 (one trace
# per row, at most RECORDS records each, every tile pass sampled: docs/dnn.md);
# prints the path with {row} in place of the row (flow/characterize.sh then
# characterizes one band per row).
# Every array layer's traces stay in OUT_DIR (make explore's per-layer models use them).
#   flow/explore_trace.sh VOSA CONFIG MODEL_FILE DATA INPUT_ENCODING OUT_DIR [ROWS [RECORDS [INPUTS]]]
set -euo pipefail
VOSA="$1"; CONFIG="$2"; MODEL_FILE="$3"; DATA="$4"; ENCODING="$5"; OUT="$6"; ROWS="${7:-bottom}"; RECORDS="${8:-100000}"; INPUTS="${9:-1}"
read -r rows cols psum < <(python3 -c "import json,sys; c=json.load(open(sys.argv[1])); print(c['rows'], c['cols'], c.get('arithmetic', {}).get('psum', 'carry_propagate'))" "$CONFIG")
pe="$((rows - 1)),0"
[ "$ROWS" = all ] && pe="all,0"
# A carry-save array's PE also receives the carry word the rows above pass down (docs/trace.md).
carry_save=(); [ "$psum" = carry_save ] && carry_save=(--trace-carry-save)
listing=$("$(dirname "$0")/trace_inputs.sh" "$VOSA" "$MODEL_FILE" "$DATA" "$ENCODING" "${rows}x${cols}" "$pe" "$RECORDS" 0 "$INPUTS" "$OUT" "${carry_save[@]}")
echo "$listing" > "$OUT/infer.log"
# "  trace: PATH (N records)" of the bottom row: the first of the longest.
# sed -n 1p, not head -1: head closing the pipe early fails the pipeline under pipefail (SIGPIPE).
traces=$(sed -n 's/^  trace: \(.*_pe'"$((rows - 1))"'_0.vtrace\) (\([0-9]*\) records)$/\2 \1/p' "$OUT/infer.log" | sort -s -k1,1nr)
best=$( (grep -E '/op[0-9]+_CONV_2D_pe' <<<"$traces" || echo "$traces") | sed -n 1p | cut -d' ' -f2-)
[ -n "$best" ] && [ -s "$best" ] || { echo "explore_trace: no operand trace written (see $OUT/infer.log)" >&2; exit 1; }
if [ "$ROWS" = all ]; then echo "${best%_pe$((rows - 1))_0.vtrace}_pe{row}_0.vtrace"; else echo "$best"; fi
