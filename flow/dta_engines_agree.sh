#!/usr/bin/env bash
# The other engines against the event-driven one (docs/dta.md, "Engines"):
# for each PDK and PE config, synthesize and time the PE at the PDK's sign-off
# corner with the flow's rules (flow/stages.make), then run `vosa dta`
# (transport delays) with --engine event (one thread) and each engine of
# DTA_ENGINES (default "parallel filter"; two threads) on the same operands at
# clock periods of 100 %, 97 % (near the first failure), 80 %, 60 % and 40 %
# of the critical path (from no error to most bits failing), and require the
# same error log (every cycle whose captured value differs from the settled
# one, with both values) and the same statistics (per-bit errors, patterns,
# classes; for the parallel engine also the settle-time histograms and latest
# arrivals; the filter engine reports a bound there in the cycles it did not
# simulate, which must not be earlier than the event engine's latest arrival).
# DTA_PERIODS (default "1.0 0.97 0.8 0.6 0.4") overrides the fractions of the
# critical path. DTA_ARGS adds options to every run, e.g. make bench-dta's
# setup "--setup zero --input-delay-ns 0.01" (make dta-exactness runs both), or
# "--delay-mode inertial"; its runs' files are named after it. The filter engine's model must also be the same with 1 and 2 threads and
# with its portable and AVX2 lane loops (VOSA_FILTER_ISA=x86-64, avx2 where the
# CPU has it) as with the CPU's best, and with 32-bit times (VOSA_FILTER_TIMES=32)
# as with its default 16-bit ones; DTA_FILTER_VARIANTS=0 skips those extra filter
# runs (for long runs whose point is the engines against each other).
# usage: flow/dta_engines_agree.sh VOSA WORK CYCLES "PDK:CONFIG ..." [OPERANDS...]
#   OPERANDS default: uniform:1 layer:2 (trace:FILE.vtrace also works)
set -euo pipefail
VOSA=$(realpath "$1")
WORK=$2
CYCLES=$3
CASES=$4
shift 4
OPERAND_LIST=("$@")
read -r -a EXTRA <<< "${DTA_ARGS:-}"
suffix=$(echo "${DTA_ARGS:-}" | tr -cs 'A-Za-z0-9.' '_' | sed 's/^_*//; s/_*$//')
ROOT=$(realpath "$(dirname "$0")/..")
# shellcheck source=flow/signoff_case.sh
. "$ROOT/flow/signoff_case.sh"
# vosa dta on this case's netlist, SDF, periods and operands, with DTA_ARGS and "$@"
run_dta() {
  "$VOSA" dta --netlist "$P/synth/pe_netlist.v" --liberty "$lib" --sdf "$P/sdf/$signoff.sdf" \
    --pdk "$pdk" --corner "$signoff" --manifest "$design/manifest.json" --period-ns "$periods" \
    --operands "$operands" --cycles "$CYCLES" "${EXTRA[@]}" "$@"
}
status=0
for case in $CASES; do
  signoff_case "$case" sdf
  periods=$(python3 -c "import sys; c = float(open(sys.argv[1]).readline()); \
print(','.join(f'{c * float(f):.3f}' for f in sys.argv[2].split()))" "$P/sta/critical_path.txt" "${DTA_PERIODS:-1.0 0.97 0.8 0.6 0.4}")
  for operands in "${OPERAND_LIST[@]}"; do
    tag="$pdk $name ${operands##*/}${DTA_ARGS:+ ($DTA_ARGS)}"
    base="$P/agree_$(echo "${operands##*/}" | tr ':/' '__')${suffix:+_$suffix}"
    for engine in event ${DTA_ENGINES:-parallel filter}; do
      threads=2; [ $engine = event ] && threads=1
      run_dta --engine $engine --threads $threads \
        --out "$base.$engine.json" --error-log "$base.$engine.csv" > "$base.$engine.log"
      if [ $engine = filter ] && [ "${DTA_FILTER_VARIANTS:-1}" != 0 ]; then  # its settle bounds too must not depend on --threads
        run_dta --engine filter --threads 1 --out "$base.filter1.json" -q
        cmp -s "$base.filter.json" "$base.filter1.json" || { echo "FAIL $tag filter: --threads 1 and 2 differ"; status=1; }
        # and not on the instruction set of its lane loops: the portable (x86-64) ones and,
        # where the CPU has them, the AVX2 ones forced (the default is the CPU's best)
        isas=x86-64; grep -qw avx2 /proc/cpuinfo && isas="x86-64 avx2"
        for isa in $isas; do
          VOSA_FILTER_ISA=$isa run_dta --engine filter --threads 1 --out "$base.filter_$isa.json" > "$base.filter_$isa.log"
          grep -q "s in the bounds ($isa)" "$base.filter_$isa.log" || { echo "FAIL $tag filter: VOSA_FILTER_ISA=$isa not taken"; status=1; }
          cmp -s "$base.filter.json" "$base.filter_$isa.json" || { echo "FAIL $tag filter: the $isa lane loops differ"; status=1; }
        done
        # and not on the width of its times (16-bit where they fit, the default; 32-bit forced)
        VOSA_FILTER_TIMES=32 run_dta --engine filter --threads 1 --out "$base.filter_wide.json" > "$base.filter_wide.log"
        grep -q "s in the bounds ([a-z0-9-]*; 32-bit times)" "$base.filter_wide.log" || { echo "FAIL $tag filter: VOSA_FILTER_TIMES=32 not taken"; status=1; }
        cmp -s "$base.filter.json" "$base.filter_wide.json" || { echo "FAIL $tag filter: 16- and 32-bit times differ"; status=1; }
      fi
    done
    for engine in ${DTA_ENGINES:-parallel filter}; do
    python3 - "$base" "$tag" "$engine" <<'PY' || status=1
import json, re, sys
base, tag, engine = sys.argv[1:]
logs = [open(f"{base}.{e}.csv").read() for e in ("event", engine)]
models = [json.load(open(f"{base}.{e}.json")) for e in ("event", engine)]
for m in models:
    m["simulation"].pop("engine")
late = []
if engine == "filter":  # settle statistics: a bound where not simulated, never earlier than simulated
    for pe, pf in zip(models[0]["points"], models[1]["points"]):
        for be, bf in zip(pe["bits"], pf["bits"]):
            if bf["max_settle_ns"] < be["max_settle_ns"]:
                late.append(f"T={pe['period_ns']} bit {be['bit']}")
            for b in (be, bf):
                for k in ("mean_settle_ns", "max_settle_ns", "settle_hist"):
                    b.pop(k)
same = logs[0] == logs[1] and models[0] == models[1] and not late
counts = [p["cycles_with_error"] for p in models[0]["points"]]
samples = sum(p["samples"] for p in models[0]["points"])
log = open(f"{base}.{engine}.log").read()
rate = re.findall(r"([0-9.]+) % of cycles resolved", log)
cone = re.findall(r"([0-9.]+) % simulated in the fan-in", log)
lane = re.findall(r"([0-9]+) of ([0-9]+) gates bounded lane by lane", log)
print(f"{'ok  ' if same else 'FAIL'} {tag} {engine}: {samples} cycles at T = "
      f"{', '.join(str(p['period_ns']) for p in models[0]['points'])} ns, erring cycles {counts}: "
      f"{'identical' if same else 'DIFFERENT'} error logs and statistics"
      + (f" (cycles resolved by the bound: {', '.join(r + ' %' for r in rate)};"
         f" simulated in the late flip-flops' fan-in only: {', '.join(r + ' %' for r in cone)};"
         f" gates bounded lane by lane: {', '.join(a for a, _ in lane)} of {lane[0][1] if lane else '?'})" if rate else "")
      + (f"; settle bound earlier than simulated: {late}" if late else ""))
sys.exit(0 if same else 1)
PY
    done
  done
done
exit $status
