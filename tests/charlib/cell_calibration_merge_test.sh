#!/bin/sh
# vosa charlib-merge-calibration on the committed per-cell file
# (docs/charlib.md, "Merging per-cell files"): split into two files, merged
# back, it gives the same cells and shifts; a cell with other shifts in the
# second file, or a file fitted against another top, is a named error with a
# non-zero exit and no output file; --replace takes the later file's cell.
# Also charlib-calibrate --start's errors (before any simulation).
# usage: cell_calibration_merge_test.sh <vosa binary> <committed per-cell file>
set -eu
vosa=$1
committed=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/vosa_cellcal_merge.XXXXXX")
trap 'rm -rf "$dir"' EXIT

python3 - "$committed" "$dir" <<'PY'
import json, sys
src, d = sys.argv[1], sys.argv[2]
j = json.load(open(src))
cells = sorted(j["cells"])
assert len(cells) >= 2, cells
half = len(cells) // 2
def part(names, **changes):
    k = dict(j, cells={c: j["cells"][c] for c in names})
    k.update(changes)
    return k
json.dump(part(cells[:half], models=["only_a"]), open(d + "/a.json", "w"), indent=2)
json.dump(part(cells[half:]), open(d + "/b.json", "w"), indent=2)
# the first cell again, one shift moved by 10 mV: a conflict with a.json
c0 = json.loads(json.dumps(j["cells"][cells[0]]))
m0 = sorted(c0["threshold_shift"])[0]
c0["threshold_shift"][m0] = round(c0["threshold_shift"][m0] + 0.01, 3)
json.dump(dict(j, cells={cells[0]: c0}), open(d + "/conflict.json", "w"), indent=2)
json.dump(dict(j, top="ss_n40C_1v60"), open(d + "/other_top.json", "w"), indent=2)
open(d + "/first", "w").write(cells[0] + " " + m0 + "\n")
PY

# split and merged back: the committed cells and shifts, the models' union
"$vosa" charlib-merge-calibration "$dir/a.json" "$dir/b.json" -o "$dir/merged.json" > "$dir/merge.log" 2>&1 \
  || { cat "$dir/merge.log"; exit 1; }
python3 - "$committed" "$dir" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
m = json.load(open(sys.argv[2] + "/merged.json"))
assert m["format"] == j["format"] and m["version"] == j["version"], m
for k in ("pdk", "process", "top", "corners", "grid_points"):
    assert m[k] == j[k], k
assert sorted(m["cells"]) == sorted(j["cells"]), (sorted(m["cells"]), sorted(j["cells"]))
for c, e in j["cells"].items():
    assert m["cells"][c]["threshold_shift"] == e["threshold_shift"], c
    assert m["cells"][c].get("evaluations") == e.get("evaluations"), c
assert m["models"] == sorted(set(j["models"]) | {"only_a"}), m["models"]
PY

# each error: non-zero exit, the message names what is wrong, no output file
expect_error() {  # <what the message must contain> <vosa arguments...>
  want=$1; shift
  if "$vosa" charlib-merge-calibration "$@" -o "$dir/bad.json" > "$dir/bad.log" 2>&1; then
    echo "expected an error ($want): $*"; cat "$dir/bad.log"; exit 1
  fi
  grep -F -- "$want" "$dir/bad.log" > /dev/null || { echo "error does not name '$want':"; cat "$dir/bad.log"; exit 1; }
  [ ! -e "$dir/bad.json" ] || { echo "output written despite the error: $*"; exit 1; }
}
read first model < "$dir/first"
expect_error "cell $first has different threshold shifts in $dir/a.json and $dir/conflict.json" \
  "$dir/a.json" "$dir/conflict.json"
expect_error "has top ss_n40C_1v60" "$dir/a.json" "$dir/other_top.json"
expect_error "--cells no_such_cell is in none of the files" "$dir/a.json" --cells no_such_cell
expect_error "does not exist" "$dir/a.json" "$dir/missing.json"

# --replace: the later file's shifts for that cell; --cells: only those cells
"$vosa" charlib-merge-calibration "$dir/a.json" "$dir/conflict.json" --replace --cells "$first" \
  -o "$dir/replaced.json" > "$dir/replace.log" 2>&1 || { cat "$dir/replace.log"; exit 1; }
python3 - "$dir" "$first" "$model" <<'PY'
import json, sys
d, first, model = sys.argv[1:]
r = json.load(open(d + "/replaced.json"))
c = json.load(open(d + "/conflict.json"))
assert list(r["cells"]) == [first], list(r["cells"])
assert r["cells"][first]["threshold_shift"] == c["cells"][first]["threshold_shift"], r["cells"][first]
print("merge: split and merged back equal; conflict, other top, unknown cell, missing file named; --replace ok")
PY

# charlib-calibrate --start (docs/charlib.md, "Per-cell calibration"): only
# with --per-cell, and a start file of another process is refused by name,
# both before any simulation and without an output file.
calibrate() {
  "$vosa" charlib-calibrate --pdk sky130hd --cells sky130_fd_sc_hd__inv_1 --corners ss_n40C_1v40 \
    --top ss_n40C_1v76 --models sky130_fd_pr__pfet_01v8_hvt --grid-points 2 -j 1 --cache-dir "$dir/cache" \
    -o "$dir/fit.json" "$@" > "$dir/fit.log" 2>&1
}
if calibrate --start "$committed"; then echo "--start without --per-cell accepted"; exit 1; fi
grep -F -- "--start applies to --per-cell only" "$dir/fit.log" > /dev/null || { cat "$dir/fit.log"; exit 1; }
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); j['process']='ff'; json.dump(j, open(sys.argv[2],'w'))" \
  "$committed" "$dir/ff.json"
if calibrate --per-cell --start "$dir/ff.json"; then echo "--start of another process accepted"; exit 1; fi
grep -F -- "--start $dir/ff.json was fitted for PDK sky130hd, process ff, not sky130hd, ss" "$dir/fit.log" > /dev/null \
  || { cat "$dir/fit.log"; exit 1; }
[ ! -e "$dir/fit.json" ] || { echo "fit output written despite the error"; exit 1; }
[ ! -d "$dir/cache/sky130hd/spice/cells" ] || { echo "a cell was simulated before the --start check"; exit 1; }
echo "--start: refused without --per-cell and for another process, before any simulation"
echo "1 passed, 0 failed"
