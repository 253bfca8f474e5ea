#!/usr/bin/env bash
# Are the two ways sky130_fd_pr writes a process corner the same model? (docs/charlib.md,
# "Testing the attribution by simulation"). The staged model library's sections include
# <device>__<corner>.corner.spice, which defines per-bin *_diff parameters and then includes
# <device>__<corner>.pm3.spice, a model with the corner already folded in (198 pfet_01v8_hvt /
# 180 nfet_01v8 bins) that never reads those diffs. The other variant is the base model
# <device>.pm3.spice (68 / 63 bins) plus the corner file's diffs. This builds a second section
# "<corner>_diff" of that kind in a temporary copy of the models and prints, for every
# (model, W, L) the hd cell netlists use, threshold and on-current (|Vgs| = |Vds| = VDD) of both
# variants at two supplies, and the largest relative difference.
#   scripts/charlib_model_variants.sh [SECTION=ss] [TEMP=-40] [VOLTAGES="1.76 1.28"]
# Needs the gunzipped model copy `vosa charlib` prepares under build/pdk (VOSA_PDK_CACHE overrides).
set -euo pipefail
section=${1:-ss}
temp=${2:-"-40"}
voltages=${3:-"1.76 1.28"}
cache=${VOSA_PDK_CACHE:-build/pdk}
data=${VOSA_DATA_DIR:-../shared}
models=$(realpath "$cache/sky130hd/spice/models" 2>/dev/null) && [ -f "$models/models/sky130_hd_min.lib.spice" ] || {
  echo "charlib_model_variants: no model copy under $cache/sky130hd/spice/models (run vosa charlib once)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$models" "$work/m"
lib="$work/m/models/sky130_hd_min.lib.spice"
for d in nfet_01v8 pfet_01v8_hvt; do
  src="$work/m/cells/$d/sky130_fd_pr__${d}__${section}.corner.spice"
  grep -v '^\.include' "$src" > "$work/m/cells/$d/sky130_fd_pr__${d}__${section}.diff.spice"
  echo ".include \"sky130_fd_pr__${d}.pm3.spice\"" >> "$work/m/cells/$d/sky130_fd_pr__${d}__${section}.diff.spice"
done
cat >> "$lib" <<LIB

.lib ${section}_diff
.option scale=1.0u
.include "parameters/lod.spice"
.param sky130_fd_pr__nfet_01v8__dlc_rotweak = 0 sky130_fd_pr__pfet_01v8_hvt__dlc_rotweak = 0
* junction multipliers come from the full PDK's corner files (not staged); without AD/AS/PD/PS
* in the hd netlists they multiply zero
.param sky130_fd_pr__nfet_01v8__ajunction_mult = 1 sky130_fd_pr__nfet_01v8__pjunction_mult = 1
.param sky130_fd_pr__pfet_01v8_hvt__ajunction_mult = 1 sky130_fd_pr__pfet_01v8_hvt__pjunction_mult = 1
.include "../cells/nfet_01v8/sky130_fd_pr__nfet_01v8__${section}.diff.spice"
.include "../cells/pfet_01v8_hvt/sky130_fd_pr__pfet_01v8_hvt__${section}.diff.spice"
.include "../cells/nfet_01v8/sky130_fd_pr__nfet_01v8__mismatch.corner.spice"
.include "../cells/pfet_01v8_hvt/sky130_fd_pr__pfet_01v8_hvt__mismatch.corner.spice"
.endl ${section}_diff
LIB
# Every (model, W, L) of the cell netlists, one device each (W and L in um under scale=1u).
zcat "$data/pdks/sky130_fd_sc_hd/sky130_fd_sc_hd.spice.gz" |
  awk '/^X/ && /sky130_fd_pr__(n|p)fet/ { for (i = 1; i <= NF; i++) { if ($i ~ /^sky130_fd_pr/) m = $i;
         if ($i ~ /^w=/) w = $i; if ($i ~ /^l=/) l = $i } print m, w, l }' | sort -u |
  awk '{ sub(/^w=/, "", $2); sub(/u$/, "", $2); sub(/^l=/, "", $3); sub(/u$/, "", $3);
         printf "%s %.4g %.4g\n", $1, $2 / 1e6, $3 / 1e6 }' > "$work/devices.txt"
# The base model has fewer bins: keep the sizes both variants cover, name the others.
python3 - "$work" "$section" <<'PY'
import re, sys
work, section = sys.argv[1], sys.argv[2]
def bins(path):
    text = open(path).read()
    return [tuple(float(re.search(r"\b%s = ([-0-9.e+]+)" % k, b).group(1)) for k in ("lmin", "lmax", "wmin", "wmax"))
            for b in text.split("\n.model ")[1:]]
cover = {}
for d in ("nfet_01v8", "pfet_01v8_hvt"):
    cover["sky130_fd_pr__" + d] = [bins("%s/m/cells/%s/sky130_fd_pr__%s%s.pm3.spice" % (work, d, d, sfx))
                                   for sfx in ("__" + section, "")]
kept = []
for line in open(work + "/devices.txt"):
    model, w, l = line.split()
    w, l = float(w) * 1e-6, float(l) * 1e-6
    if all(any(b[0] <= l < b[1] and b[2] <= w < b[3] for b in bs) for bs in cover[model]):
        kept.append(line)
    else:
        print("not in both variants' bins (skipped): %s W %.3g um L %.3g um" % (model, w * 1e6, l * 1e6))
open(work + "/devices.txt", "w").writelines(kept)
PY
echo "set num_threads=1" > "$work/.spiceinit"
for variant in "$section" "${section}_diff"; do
  {
    echo "* on-current and threshold of every device size, $variant"
    echo ".lib \"$lib\" $variant"
    echo ".temp $temp"
    echo "vs s 0 0"
    echo "vg g 0 0"
    echo "vng ng 0 0"
    n=0
    while read -r model w l; do
      n=$((n + 1))
      if [ "$model" = sky130_fd_pr__nfet_01v8 ]; then
        echo "vd$n d$n 0 0"; echo "x$n d$n ng 0 0 $model w=$w l=$l"
      else
        echo "vd$n d$n 0 0"; echo "x$n d$n g s s $model w=$w l=$l"
      fi
    done < "$work/devices.txt"
    echo ".control"
    echo "set noaskquit"
    echo "foreach v $voltages"
    echo "  alter vs dc = \$v"
    echo "  alter vng dc = \$v"
    n=0
    while read -r model w l; do
      n=$((n + 1))
      [ "$model" = sky130_fd_pr__nfet_01v8 ] && echo "  alter vd$n dc = \$v"
    done < "$work/devices.txt"
    echo "  op"
    n=0
    while read -r model w l; do
      n=$((n + 1))
      short=${model#sky130_fd_pr__}
      echo "  echo \"D $variant \$v $short $w $l \$&vd$n#branch \$&@m.x$n.m$model[vth]\""
    done < "$work/devices.txt"
    echo "end"
    echo "quit"
    echo ".endc"
    echo ".end"
  } > "$work/$variant.cir"
  (cd "$work/m/models" && ngspice -b "$work/$variant.cir" 2>&1) | awk '/^D /{sub(/^D /, ""); print}'
done > "$work/out.txt"
python3 - "$work/out.txt" "$section" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    variant, v, model, w, l, i, vth = line.split()
    rows[(variant, v, model, w, l)] = (abs(float(i)), float(vth))
base = sys.argv[2]
print("model V W_um L_um I_on(%s)_uA I_on(%s_diff)_uA vth(%s) vth(%s_diff)" % (base, base, base, base))
worst_i = worst_v = 0.0
count = 0
for (variant, v, model, w, l), (i, vth) in sorted(rows.items()):
    if variant != base:
        continue
    i2, vth2 = rows[(base + "_diff", v, model, w, l)]
    count += 1
    worst_i = max(worst_i, abs(i2 / i - 1))
    worst_v = max(worst_v, abs(vth2 - vth))
    print("%s %s %s %s %.4g %.4g %.5f %.5f" % (model, v, w, l, i * 1e6, i2 * 1e6, vth, vth2))
print("%d (device, supply) points: largest on-current difference %.2g %%, largest threshold difference %.2g mV" % (
    count, 100 * worst_i, 1000 * worst_v))
PY
