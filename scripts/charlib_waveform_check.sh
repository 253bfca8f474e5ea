#!/usr/bin/env bash
# Does the input waveform's shape move the voltage ratio? (docs/charlib.md, "Testing the
# attribution by simulation"). charlib drives a cell's input with a linear ramp, as the shipped
# sky130 files declare (driver_model "ramp"); a real input comes from a gate and has curved
# ends. For each supply, a DUT is driven once by an inv_1 loaded with CD, and once by a
# linear ramp with the same 20-80 % slews as that driven waveform (measured in the first run);
# the delay (50 % to 50 %) of both into the load CL is printed, and their quotient. If the
# quotient is the same at the two supplies, the shape does not enter the ratio
# delay(V)/delay(top).
#   scripts/charlib_waveform_check.sh [SECTION=ss] [TEMP=-40] [VOLTAGES="1.76 1.28"]
# DUTs: inv_1 (one pMOS / one nMOS) and o41ai_1's A1 with A2-A4 low, B1 high (four series
# pMOS). Plain models (no threshold shift). Needs the gunzipped model copy `vosa charlib`
# prepares under build/pdk (VOSA_PDK_CACHE overrides).
set -euo pipefail
section=${1:-ss}
temp=${2:-"-40"}
voltages=${3:-"1.76 1.28"}
cache=${VOSA_PDK_CACHE:-build/pdk}
data=${VOSA_DATA_DIR:-../shared}
lib=$(realpath "$cache/sky130hd/spice/models/models/sky130_hd_min.lib.spice" 2>/dev/null) || {
  echo "charlib_waveform_check: no model copy under $cache/sky130hd/spice/models (run vosa charlib once)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "set num_threads=1" > "$work/.spiceinit"
zcat "$data/pdks/sky130_fd_sc_hd/sky130_fd_sc_hd.spice.gz" |
  awk '/^\.subckt sky130_fd_sc_hd__(inv_1|o41ai_1) /,/^\.ends/' > "$work/cells.spice"

echo "cell edge V CD_pF CL_pF driven_slew_ns driven_delay_ns ramp_delay_ns driven/ramp"
for v in $voltages; do
  lo=$(awk -v v="$v" 'BEGIN{print 0.2*v}'); hi=$(awk -v v="$v" 'BEGIN{print 0.8*v}'); mid=$(awk -v v="$v" 'BEGIN{print 0.5*v}')
  # 1.28 V, 50 fF: o41ai_1's output takes about 19 ns to rise
  pw=$(awk -v v="$v" 'BEGIN{print (v < 1.5) ? 40 : 10}')
  for dut in inv_1 o41ai_1; do
    if [ "$dut" = inv_1 ]; then
      xd="xd a1 0 0 vdd vdd y1 sky130_fd_sc_hd__inv_1"; xr="xr r1 0 0 vdd vdd y2 sky130_fd_sc_hd__inv_1"
    else
      xd="xd a1 0 0 0 vdd 0 0 vdd vdd y1 sky130_fd_sc_hd__o41ai_1"; xr="xr r1 0 0 0 vdd 0 0 vdd vdd y2 sky130_fd_sc_hd__o41ai_1"
    fi
    cat > "$work/w.cir" <<DECK
* driven against ramp input, $dut at $section $temp C $v V
.lib "$lib" $section
.option scale=1.0u
.include "$work/cells.spice"
.temp $temp
vdd vdd 0 $v
va a0 0 pulse(0 $v 1n 0.01n 0.01n ${pw}n $((2 * pw + 20))n)
xdrv a0 0 0 vdd vdd a1 sky130_fd_sc_hd__inv_1
cd a1 0 0.002p
$xd
cl1 y1 0 0.003p
vr r1 0 pulse($v 0 1n 0.1n 0.1n 10n 40n)
$xr
cl2 y2 0 0.003p
.control
set noaskquit
foreach cdv 0.0001p 0.004p 0.01p 0.02p 0.04p 0.08p
  foreach clv 0.003p 0.02p 0.05p
    alter cd = \$cdv
    alter cl1 = \$clv
    alter cl2 = \$clv
    tran 2p $((2 * pw + 5))n
    meas tran sf trig v(a1) val=$hi fall=1 targ v(a1) val=$lo fall=1
    meas tran sr trig v(a1) val=$lo rise=1 targ v(a1) val=$hi rise=1
    meas tran dr trig v(a1) val=$mid fall=1 targ v(y1) val=$mid rise=1
    meas tran df trig v(a1) val=$mid rise=1 targ v(y1) val=$mid fall=1
    set sfv = \$&sf
    set srv = \$&sr
    set drv = \$&dr
    set dfv = \$&df
    let tfull = sf / 0.6
    let rfull = sr / 0.6
    let t0 = 1n
    let pw = ${pw}n
    let per = $((2 * pw + 20))n
    let vv = $v
    let lo = 0
    alter @vr[pulse] = [ \$&vv \$&lo \$&t0 \$&tfull \$&rfull \$&pw \$&per ]
    tran 2p $((2 * pw + 5))n
    meas tran rr trig v(r1) val=$mid fall=1 targ v(y2) val=$mid rise=1
    meas tran rf trig v(r1) val=$mid rise=1 targ v(y2) val=$mid fall=1
    echo "W $dut rise $v \$cdv \$clv \$sfv \$drv \$&rr"
    echo "W $dut fall $v \$cdv \$clv \$srv \$dfv \$&rf"
    destroy all
  end
end
quit
.endc
.end
DECK
    (cd "$work" && ngspice -b w.cir 2>&1) | awk '/^W /{
      sub(/p$/, "", $5); sub(/p$/, "", $6);
      printf "%s %s %s %s %s %.4f %.4f %.4f %.3f\n", $2, $3, $4, $5, $6, $7*1e9, $8*1e9, $9*1e9, $8/$9 }'
  done
done > "$work/rows.txt"
column -t "$work/rows.txt"
# What enters the ratio: the driven/ramp quotient at the lowest supply over the one at the
# highest, at the same slew (the lowest supply's quotient interpolated in log(slew)).
python3 - "$work/rows.txt" <<'PY'
import collections, math, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    cell, edge, v, cd, cl, slew, driven, ramp, q = line.split()
    if float(driven) > 0 and float(ramp) > 0:
        rows[(cell, edge, float(cl), float(v))].append((float(slew), float(driven) / float(ramp)))
volts = sorted({k[3] for k in rows})
top, low = volts[-1], volts[0]
print("\nshape effect on the ratio delay(%.2f V)/delay(%.2f V) at equal slew: quotient(low)/quotient(top) - 1" % (low, top))
shifts = collections.defaultdict(list)
for (cell, edge, cl, v), pts in sorted(rows.items()):
    if v != top or (cell, edge, cl, low) not in rows:
        continue
    lo = sorted(rows[(cell, edge, cl, low)])
    for s, q_top in pts:
        for (s0, q0), (s1, q1) in zip(lo, lo[1:]):
            if s0 <= s <= s1 and s1 > s0:
                t = math.log(s / s0) / math.log(s1 / s0)
                shifts[(cell, edge)].append((q0 + t * (q1 - q0)) / q_top - 1)
for (cell, edge), xs in sorted(shifts.items()):
    print("%-8s %-4s %2d points: median %+.1f %%, range %+.1f .. %+.1f %%" % (
        cell, edge, len(xs), 100 * statistics.median(xs), 100 * min(xs), 100 * max(xs)))
PY
