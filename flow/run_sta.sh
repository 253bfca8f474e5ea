#!/usr/bin/env bash
# Run flow/sta_corner.tcl and fail properly: OpenSTA 2.0.17 exits 0 even
# after errors. Usage: flow/run_sta.sh LOG EXPECTED_OUTPUT...
# (inputs in the VOSA_* environment variables, see sta_corner.tcl).
set -uo pipefail
log=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$(dirname "$log")"
for out in "$@"; do rm -f "$out"; done
sta -no_splash -exit "$here/sta_corner.tcl" >"$log" 2>&1
status=$?
if grep -q '^Error' "$log"; then status=1; fi
for out in "$@"; do [ -s "$out" ] || status=1; done
if [ $status -ne 0 ]; then
  echo "run_sta.sh: OpenSTA failed for corner ${VOSA_CORNER:-?} (log: $log):" >&2
  grep '^Error' "$log" >&2 || tail -5 "$log" >&2
  exit 1
fi
