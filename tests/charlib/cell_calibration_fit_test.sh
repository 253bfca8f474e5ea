#!/bin/sh
# A small real per-cell fit (docs/charlib.md, "Per-cell calibration"):
# inv_1's hvt pMOS shift fitted at ss_n40C_1v40 against the ladder top
# ss_n40C_1v76 (ngspice, 2x2 grid, at most 3 evaluations), then the
# spice-ratio delay error at ss_n40C_1v28, a corner held out of the fit,
# with the fitted file against the config's per-model shifts alone: the fit
# must move the held-out error down.
# usage: cell_calibration_fit_test.sh <vosa binary>
set -eu
vosa=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/vosa_cellcal_fit.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cell=sky130_fd_sc_hd__inv_1
common="--pdk sky130hd --cells $cell --grid-points 2 -j 1 --cache-dir $dir/cache"

"$vosa" charlib-calibrate $common --per-cell --corners ss_n40C_1v40 --top ss_n40C_1v76 \
  --models sky130_fd_pr__pfet_01v8_hvt --steps 0.04 --max-evaluations 3 -o "$dir/cells.json" > "$dir/fit.log" 2>&1 \
  || { cat "$dir/fit.log"; exit 1; }
"$vosa" charlib-compare $common --corners ss_n40C_1v28 --top ss_n40C_1v76 --no-cell-calibration \
  -o "$dir/global.json" > "$dir/global.log" 2>&1 || { cat "$dir/global.log"; exit 1; }
"$vosa" charlib-compare $common --corners ss_n40C_1v28 --top ss_n40C_1v76 --cell-calibration "$dir/cells.json" \
  -o "$dir/cell.json" > "$dir/cell.log" 2>&1 || { cat "$dir/cell.log"; exit 1; }

python3 - "$dir" "$cell" <<'PY'
import json, sys
d, cell = sys.argv[1], sys.argv[2]
cal = json.load(open(d + "/cells.json"))
assert cal["format"] == "vosa-charlib-cell-calibration" and cal["version"] == 1, cal
entry = cal["cells"][cell]
assert 1 <= entry["evaluations"] <= 3, entry
assert entry["objective"] <= entry["objective_start"], entry
shift = entry["threshold_shift"]["sky130_fd_pr__pfet_01v8_hvt"]
def ratio(name):
    r = json.load(open(d + "/" + name))
    return r["corners"][0]["delay_ratio_vs_top"]["median_abs"], r
g, gr = ratio("global.json")
c, cr = ratio("cell.json")
assert not gr["cell_threshold_shift_ss"], gr["cell_threshold_shift_ss"]
assert cr["cell_threshold_shift_ss"][cell]["sky130_fd_pr__pfet_01v8_hvt"] == shift, cr["cell_threshold_shift_ss"]
print(f"pfet_01v8_hvt shift {gr['threshold_shift_ss']} -> {shift}; held-out ss_n40C_1v28 delay ratio median "
      f"{100*g:.1f} % (per-model) -> {100*c:.1f} % (per-cell)")
assert c < g, (c, g)
print("1 passed, 0 failed")
PY
