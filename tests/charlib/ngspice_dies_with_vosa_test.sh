#!/bin/sh
# Killing vosa ends its ngspice runs (PR_SET_PDEATHSIG in run_ngspice's
# child, docs/charlib.md "How it runs"): start a characterization on an empty
# cache, wait until an ngspice child of vosa runs, SIGKILL vosa, and check
# that the ngspice process is gone within a few seconds instead of going on
# under init.
# usage: ngspice_dies_with_vosa_test.sh <vosa binary>
set -eu
vosa=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/vosa_ngspice_kill.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
"$vosa" charlib --pdk sky130hd --cells sky130_fd_sc_hd__xor3_1 --corners ss_n40C_1v28 --grid-points 3 -j 2 \
  --cache-dir "$dir/cache" -o "$dir/out" > "$dir/log" 2>&1 &
pid=$!
child=
for _ in $(seq 1 600); do
  # an ngspice child of vosa, or a grandchild (under a shell)
  child=$(ps -eo pid=,ppid=,comm= | awk -v p="$pid" '{ parent[$1] = $2; name[$1] = $3 }
    END { for (q in name) if (name[q] == "ngspice" && (parent[q] == p || parent[parent[q]] == p)) { print q; exit } }')
  [ -n "$child" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/log"; echo "vosa ended before any ngspice started"; exit 1; }
  sleep 0.2
done
[ -n "$child" ] || { echo "no ngspice child of vosa within 120 s"; exit 1; }
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
for _ in $(seq 1 50); do
  if ! kill -0 "$child" 2>/dev/null; then
    echo "ngspice $child ended with vosa"
    echo "1 passed, 0 failed"
    exit 0
  fi
  sleep 0.1
done
ps -o pid,ppid,args -p "$child" || true
echo "ngspice $child still runs 5 s after vosa was killed"
exit 1
