#!/usr/bin/env bash
# Error-model fidelity on real layers (docs/errmodel.md, "Fidelity"). Called
# by `make validate-errmodel` once the netlist and the SDFs exist. Per word
# "net:TRAIN:TEST,TEST,..." of CASES (net's model, data and encoding in
# NET_<net>="model|data|encoding"; a network may have several words, e.g. a
# conv and a depthwise training layer):
#   1. whole-layer operand traces (vosa infer --trace-dir --trace-pe all,0
#      --trace-records RECORDS: every row of column 0, every tile pass
#      sampled, docs/dnn.md) of every array layer, first input;
#   2. models at every voltage: uniform random operands (what `make
#      characterize` writes by default; once for all networks); TRAIN's
#      stream of the bottom-row PE (one position for every PE: kind "layer");
#      TRAIN's stream of every row, one band per row (kind "layer-rows");
#      each also per operand class ("+classes");
#   3. ground truth: vosa dta --error-log on each TEST layer's stream of each
#      PE row of ROWS at each voltage; the same run's statistics are kind
#      "self" (fitted on the held-out stream itself: a diagnostic, not a
#      model a flow can have) that tells a miss's cause (see report);
#   4. vosa errmodel-validate per (TEST layer, row): every model kind, every
#      voltage; report.{json,md} with each miss's cause and one summary line
#      per model kind.
# Environment: VOSA BUILD FLOW_DIR PDK DESIGN_DIR VOLTAGES CASES NET_* ROWS
#   RECORDS SEEDS PATTERNS TOLERANCE BIT_FACTOR THREADS
set -euo pipefail
P="${FLOW_DIR:-$BUILD/$CONFIG_NAME/$PDK}"
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

trace_of() {  # net layer row
  local t
  t=$(ls "$OUT/$1/traces/$2"_*_pe"$3"_0.vtrace 2>/dev/null | head -1)
  [ -n "$t" ] || { echo "validate-errmodel: error: no trace for layer '$2' of $1 in $OUT/$1/traces (see infer.log)" >&2; exit 1; }
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
    rm -rf "$N" && mkdir -p "$N/traces" "$N/dta"
    log "$net: traces of every row of column 0 of a ${rows}x${cols} array ($(basename "$model_file"), ${RECORDS} records per layer at most)"
    "$VOSA" infer -m "$model_file" -d "$data" --input-encoding "$encoding" -n 1 -q \
      --trace-dir "$N/traces" --trace-pe "all,0" --trace-array "${rows}x${cols}" --trace-records "$RECORDS" > "$N/traces/infer.log"
    # Only the layers some word of CASES uses are kept (MobileNetV2 has 53 array layers).
    keep=" "
    for c in $CASES; do
      IFS=: read -r n t ts <<<"$c"
      [ "$n" = "$net" ] && keep+="$t ${ts//,/ } "
    done
    for t in "$N"/traces/*.vtrace; do
      layer=$(basename "$t" | cut -d_ -f1)
      [[ "$keep" == *" $layer "* ]] || rm -f "$t"
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
      logs=() self_parts=()
      for corner in $corners; do
        log "$net: $corner: gate-level ground truth on $layer, PE row $r"
        dta "$corner" "$N/dta/${layer}_row${r}_$corner.json" "trace:$test_trace" --patterns "$PATTERNS" \
          --error-log "$N/dta/${layer}_row${r}_$corner.errors.csv"
        logs+=("$N/dta/${layer}_row${r}_$corner.errors.csv")
        self_parts+=("$N/dta/${layer}_row${r}_$corner.json")
      done
      "$VOSA" errmodel-merge "${self_parts[@]}" --out "$N/model_self_${layer}_row$r.json"
      "$VOSA" errmodel-validate --model "uniform=$OUT/model_uniform.json" --model "layer=$N/model_${train}_layer.json" \
        --model "layer-rows=$N/model_${train}_layer-rows.json" --model "self=$N/model_self_${layer}_row$r.json" \
        --trace "$test_trace" --voltage "$VOLTAGES" --dta-errors "$(IFS=,; echo "${logs[*]}")" --period-ns "$period" \
        --seeds "$SEEDS" --tolerance "$TOLERANCE" --bit-factor "$BIT_FACTOR" \
        --out-json "$N/report_${layer}_row$r.json" --out-md "$N/report_${layer}_row$r.md" > "$N/report_${layer}_row$r.log"
      reports+=("$net:$train:$layer:$r")
    done
  done
done

python3 - "$OUT" "$(( $(date +%s) - start ))" "${reports[@]}" <<'PY'
import glob, json, os, struct, sys
out, seconds, cases = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def psum_bits(net, layer, row):
    """Median and 90th percentile of the bit width of |psum_in + a*w| (the value the PE's
    register captures) over a trace (docs/trace.md format)."""
    data = open(glob.glob(f"{out}/{net}/traces/{layer}_*_pe{row}_0.vtrace")[0], "rb").read()
    n = struct.unpack_from("<I", data, 8)[0]
    count = json.loads(data[12:12 + n])["count"]
    w = sorted(abs(p + a * b).bit_length() for a, b, p in struct.iter_unpack("<iiq", data[12 + n:12 + n + 16 * count]))
    return {"median": w[len(w) // 2], "p90": w[int(len(w) * 0.9)]} if w else {"median": 0, "p90": 0}
# The kinds the flows use by default (docs/errmodel.md, "Fidelity"): the injector always
# uses a file's operand classes; make characterize fits on uniform operands, make explore
# on a layer's stream of the bottom-row PE (flow/explore_trace.sh; EXPLORE_OPERANDS=trace-rows:
# one band per row, kind layer-rows+classes).
DEFAULT = {"layer+classes": "make explore", "uniform+classes": "make characterize"}
MIN_EVENTS = 20  # below this many erroneous simulator cycles a comparison is noise-bound
def ratio(stat):
    d = stat["dta"]["value"]
    return stat["model"]["mean"] / d if d else float("nan")
verdicts, sections = [], []
for c in cases:
    net, train, layer, row = c.split(":")
    rep = json.load(open(f"{out}/{net}/report_{layer}_row{row}.json"))
    for r in rep["runs"]:
        by_label = {m["label"]: m["comparison"] for m in r["models"]}
        for m in r["models"]:
            cmp = m["comparison"]
            v = {"network": net, "train_layer": train, "test_layer": layer, "pe_row": int(row),
                 "voltage": r["voltage"], "model": m["label"], "pass": cmp["pass"],
                 "sim_p_any": cmp["p_any_error"]["dta"]["value"],
                 "sim_errors": round(cmp["p_any_error"]["dta"]["value"] * rep["cycles"]),
                 "sim_mean_abs_error": cmp["mean_abs_error"]["dta"]["value"],
                 "model_p_any": cmp["p_any_error"]["model"]["mean"],
                 "p_any_ratio": ratio(cmp["p_any_error"]),
                 "mean_abs_error_ratio": ratio(cmp["mean_abs_error"]),
                 "failed": [k["check"] for k in cmp["checks"] if not k["pass"]]}
            # The cause of a miss: too few events to decide; the model's form (it misses
            # even when fitted on this very stream: kind self with the same classes use);
            # the position (the bottom row's model at another row, where the per-row
            # model agrees); or the transfer from the training layer.
            if not v["pass"]:
                own = by_label.get("self+classes" if m["per_class"] else "self")
                rows_kind = by_label.get("layer-rows+classes" if m["per_class"] else "layer-rows")
                rate = "P(any error)" in v["failed"]
                per_err = v["mean_abs_error_ratio"] / v["p_any_ratio"] if v["p_any_ratio"] else float("nan")
                what = ((f"rate {v['p_any_ratio']:.2f}x" if v["sim_errors"] else
                         f"rate {v['model_p_any']:.2g} where the simulator saw no error") if rate else
                        f"error per erroneous cycle {per_err:.2f}x" if "mean abs error" in v["failed"] else
                        "per-bit rates" if any(f.startswith("bit") for f in v["failed"]) else "max |error|")
                if v["sim_errors"] < MIN_EVENTS and not rate:
                    v["cause"] = f"too few events: {v['sim_errors']} erroneous simulator cycles"
                elif m["label"].startswith("uniform"):
                    v["cause"] = f"operand stream ({what}): uniform operands are not this layer's transitions"
                elif m["label"].startswith("self") or (own is not None and not own["pass"]):
                    v["cause"] = f"model form ({what}): fitted on this stream itself it misses too"
                elif m["label"] in ("layer", "layer+classes") and rows_kind is not None and rate and \
                        "P(any error)" not in [k["check"] for k in rows_kind["checks"] if not k["pass"]]:
                    v["cause"] = f"position ({what}): the bottom row's model at row {row}; the per-row model has the rate"
                else:
                    v["cause"] = f"layer transfer ({what}): {train}'s statistics differ from {layer}'s"
            verdicts.append(v)
    sections.append(open(f"{out}/{net}/report_{layer}_row{row}.md").read().replace(
        "# Error-model fidelity", f"# {net}: held-out layer {layer}, PE row {row} (models fitted on {train})", 1))
kinds = []
for v in verdicts:
    if v["model"] not in kinds:
        kinds.append(v["model"])
summary, causes = [], []
for k in kinds:
    vs = [v for v in verdicts if v["model"] == k]
    summary.append(f"model {k}: {sum(v['pass'] for v in vs)} of {len(vs)} cases within tolerance"
                   + (f" (default of {DEFAULT[k]})" if k in DEFAULT else "")
                   + (" (diagnostic: fitted on the held-out stream)" if k.startswith("self") else ""))
    count = {}
    for v in vs:
        if not v["pass"]:
            kind = v["cause"].split(" (")[0].split(":")[0]
            count[kind] = count.get(kind, 0) + 1
    causes.append(f"misses of {k}: " + (", ".join(f"{n} {c}" for c, n in count.items()) or "none"))
streams = {}
for c in cases:
    net, train, layer, row = c.split(":")
    for l in (train, layer):
        streams.setdefault(f"{net} {l} row {row}", psum_bits(net, l, row))
# P(any error) of each row band of the per-row models (the training layers' rows).
bands = {}
for c in cases:
    net, train = c.split(":")[:2]
    if f"{net} {train}" in bands:
        continue
    m = json.load(open(f"{out}/{net}/model_{train}_layer-rows.json"))
    for p in m["points"]:
        bands.setdefault(f"{net} {train}", {}).setdefault(str(p["voltage"]), []).append(round(p["p_any_error"], 4))
report = {"default_kinds": DEFAULT, "seconds": seconds, "verdicts": verdicts, "summary": summary, "causes": causes,
          "psum_bits": streams, "row_band_p_any": bands}
tmp = f"{out}/report.json.partial"
json.dump(report, open(tmp, "w"), indent=1)
os.replace(tmp, f"{out}/report.json")
md = ["# Error-model fidelity on held-out layers\n",
      "A case is (network, held-out layer, PE row, voltage). Default model kinds: "
      + ", ".join(f"`{k}` ({v})" for k, v in DEFAULT.items()) + f". Wall time {seconds} s.\n",
      "| network | held-out layer | PE row | V | simulator P(any), erroneous cycles, mean abs err | model | P(any) ratio "
      "| mean abs err ratio | within tolerance | failed checks | cause |", "|---|---|---|---|---|---|---|---|---|---|---|"]
md += [f"| {v['network']} | {v['test_layer']} | {v['pe_row']} | {v['voltage']} | {v['sim_p_any']:.4g}, "
       f"{v['sim_errors']}, {v['sim_mean_abs_error']:.4g} | {v['model']} | {v['p_any_ratio']:.2f} | "
       f"{v['mean_abs_error_ratio']:.2f} | {'yes' if v['pass'] else 'no'} | {', '.join(v['failed'])} | "
       f"{v.get('cause', '')} |" for v in verdicts]
md += ["", "Bit width of |psum_in + a*w| per stream (median, 90th percentile):", "",
       "| stream | median | p90 |", "|---|---|---|"]
md += [f"| {k} | {v['median']} | {v['p90']} |" for k, v in streams.items()]
md += ["", "P(any error) of the per-row models (`layer-rows`), row 0 first:", "",
       "| training stream | V | P(any) by PE row |", "|---|---|---|"]
md += [f"| {k} | {v} | {', '.join(map(str, ps))} |" for k, by_v in bands.items() for v, ps in by_v.items()]
md += [""] + sections + ["## Summary\n"] + [s + "  " for s in summary] + [""] + [c + "  " for c in causes]
tmp = f"{out}/report.md.partial"
open(tmp, "w").write("\n".join(md) + "\n")
os.replace(tmp, f"{out}/report.md")
for v in verdicts:
    print(f"validate-errmodel: {v['network']} {v['test_layer']} row {v['pe_row']} {v['voltage']} V {v['model']}: "
          f"within tolerance: {'yes' if v['pass'] else 'no'}" + (f" ({v['cause']})" if not v["pass"] else ""))
for s in summary + causes:
    print(s)
PY
log "wrote $OUT/report.json and $OUT/report.md"
