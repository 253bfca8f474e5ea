#!/usr/bin/env bash
# Bad input to `vosa explore`: non-zero exit, a message naming the problem,
# no output directory.
set -u
VOSA=$1 SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
touch "$T/errmodel.json" "$T/energy.json" "$T/razor.json" "$T/model.tflite"
mkdir -p "$T/data"
fail=0
expect() {  # expect "message" args...
  local msg=$1
  shift
  if out=$("$VOSA" explore "$@" 2>&1); then
    echo "FAIL: exit 0 for: $*"; fail=1
  elif ! grep -q -- "$msg" <<<"$out"; then
    echo "FAIL: expected '$msg' in: $out"; fail=1
  else
    echo "ok: $msg"
  fi
  if [ -e "$T/out" ] || [ -e "$T/out.partial" ]; then echo "FAIL: output left behind"; fail=1; fi
}
# args [MODEL ERRMODEL ENERGY RAZOR]: the command line with those files.
args() {
  echo --config "$SRC/generator/examples/explore_16x16.json" -m "${1:-$T/model.tflite}" \
    --errmodel "${2:-$T/errmodel.json}" --energy "${3:-$T/energy.json}" --razor-cost "${4:-$T/razor.json}" \
    -d "$T/data" -o "$T/out"
}
expect "budget must be > 0" $(args) --budget 0
expect "budget must be > 0" $(args) --budget -1
expect "--model $T/nope.tflite does not exist" $(args "$T/nope.tflite")
expect "make characterize" $(args "" "$T/missing_errmodel.json")
expect "make power" $(args "" "" "$T/missing_energy.json")
expect "make razor-cost" $(args "" "" "" "$T/missing_razor.json")
expect "unknown 'foo'" $(args) --algorithms xtpu,foo
expect "energy.json: not valid JSON" $(args)
expect "backoff-saving-tolerance" $(args) --backoff-saving-tolerance -1
expect "max-ci" $(args) --max-ci -1
expect "curve-rejection" $(args) --curve-rejection some
expect "backoff" $(args) --backoff halve
# A user's non-empty folder as --out is refused before any work, and kept.
mkdir -p "$T/mine" && echo keep > "$T/mine/notes.txt"
if out=$("$VOSA" explore $(args | sed "s|$T/out|$T/mine|") 2>&1); then
  echo "FAIL: exit 0 for a user folder as --out"; fail=1
elif ! grep -q "not an earlier vosa explore output" <<<"$out"; then
  echo "FAIL: expected the refusal in: $out"; fail=1
elif [ "$(cat "$T/mine/notes.txt" 2>/dev/null)" != keep ]; then
  echo "FAIL: the user's file is gone"; fail=1
else
  echo "ok: user folder refused and kept"
fi
exit $fail
