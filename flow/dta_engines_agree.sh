#!/usr/bin/env bash
# The pattern-parallel engine against the event-driven one (docs/dta.md,
# "Engines"): for each PDK and PE config, synthesize and time the PE at the
# PDK's sign-off corner with the flow's rules (flow/stages.make), then run
# `vosa dta` (transport delays) with --engine event (one thread) and
# --engine parallel (two threads) on the same operands at clock periods of
# 100 %, 80 %, 60 % and 40 % of the critical path (from no error to most bits
# failing), and require the same error log (every cycle whose captured value
# differs from the settled one, with both values) and the same statistics
# (per-bit errors, settle-time histograms, latest arrivals, patterns).
# usage: flow/dta_engines_agree.sh VOSA WORK CYCLES "PDK:CONFIG ..." [OPERANDS...]
#   OPERANDS default: uniform:1 layer:2 (trace:FILE.vtrace also works)
set -euo pipefail
VOSA=$(realpath "$1")
WORK=$2
CYCLES=$3
CASES=$4
shift 4
OPERAND_LIST=("$@")
ROOT=$(realpath "$(dirname "$0")/..")
# shellcheck source=flow/signoff_case.sh
. "$ROOT/flow/signoff_case.sh"
status=0
for case in $CASES; do
  signoff_case "$case" sdf
  periods=$(python3 -c "import sys; c = float(open(sys.argv[1]).readline()); \
print(','.join(f'{c * f:.3f}' for f in (1.0, 0.8, 0.6, 0.4)))" "$P/sta/critical_path.txt")
  for operands in "${OPERAND_LIST[@]}"; do
    tag="$pdk $name ${operands##*/}"
    base="$P/agree_$(echo "${operands##*/}" | tr ':/' '__')"
    for engine in event parallel; do
      threads=1; [ $engine = parallel ] && threads=2
      "$VOSA" dta --netlist "$P/synth/pe_netlist.v" --liberty "$lib" --sdf "$P/sdf/$signoff.sdf" \
        --pdk "$pdk" --corner "$signoff" --manifest "$design/manifest.json" --period-ns "$periods" \
        --operands "$operands" --cycles "$CYCLES" --engine $engine --threads $threads \
        --out "$base.$engine.json" --error-log "$base.$engine.csv" > "$base.$engine.log"
    done
    python3 - "$base" "$tag" <<'PY' || status=1
import json, sys
base, tag = sys.argv[1:]
logs = [open(f"{base}.{e}.csv").read() for e in ("event", "parallel")]
models = [json.load(open(f"{base}.{e}.json")) for e in ("event", "parallel")]
for m in models:
    m["simulation"].pop("engine")
same = logs[0] == logs[1] and models[0] == models[1]
counts = [p["cycles_with_error"] for p in models[0]["points"]]
samples = sum(p["samples"] for p in models[0]["points"])
print(f"{'ok  ' if same else 'FAIL'} {tag}: {samples} cycles at T = "
      f"{', '.join(str(p['period_ns']) for p in models[0]['points'])} ns, erring cycles {counts}: "
      f"{'identical' if same else 'DIFFERENT'} error logs and statistics")
sys.exit(0 if same else 1)
PY
  done
done
exit $status
