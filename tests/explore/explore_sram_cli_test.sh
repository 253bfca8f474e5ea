#!/usr/bin/env bash
# Bad input to `vosa explore-sram`: non-zero exit, a message naming the
# problem, no result file.
set -u
VOSA=$1 SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
touch "$T/errmodel.json" "$T/energy.json" "$T/razor.json" "$T/model.tflite"
mkdir -p "$T/data"
CURVE="$SRC/testbench/sram/data/ber_sky130hd_tt_25C.json"
fail=0
expect() {  # expect "message" args...
  local msg=$1
  shift
  if out=$("$VOSA" explore-sram "$@" 2>&1); then
    echo "FAIL: exit 0 for: $*"; fail=1
  elif ! grep -q -- "$msg" <<<"$out"; then
    echo "FAIL: expected '$msg' in: $out"; fail=1
  else
    echo "ok: $msg"
  fi
  if [ -e "$T/joint.json" ] || compgen -G "$T/joint.json.*" > /dev/null; then echo "FAIL: output left behind"; fail=1; fi
}
# args [CURVE ERRMODEL OUT]: the command line with those files.
args() {
  echo --config "$SRC/generator/examples/explore_16x16.json" -m "$T/model.tflite" --errmodel "${2:-$T/errmodel.json}" \
    --energy "$T/energy.json" --razor-cost "$T/razor.json" -d "$T/data" -o "${3:-$T/joint.json}" \
    --ber-curve "${1:-$CURVE}" --sram-voltages 0.35,0.4
}
expect "--budget must be > 0" $(args) --budget 0
expect "--chips must be >= 1" $(args) --chips 0
expect "--ber-curve $T/nope.json does not exist (make it with make sram-ber)" $(args "$T/nope.json")
expect "make characterize" $(args "" "$T/missing_errmodel.json")
expect "--out must name a JSON file" $(args "" "" "$T/data")
expect "energy.json: not valid JSON" $(args)
exit $fail
