#!/usr/bin/env bash
# `vosa errmodel-bands` (docs/errmodel.md "PE positions"): a model without one
# band per row is refused by name with no output written; four identical rows
# pool into one band whose counts are the rows' sums and which reads back
# (vosa errmodel-csv); a row that errs ten times as often starts its own band.
#   bands_cli_test.sh VOSA ERRMODEL_JSON(schema 1, no pe_rows)
set -euo pipefail
VOSA="$1"; MODEL="$2"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
if "$VOSA" errmodel-bands "$MODEL" --out "$WORK/refused.json" 2> "$WORK/err.txt"; then
  echo "FAIL: a model without pe_rows was banded" >&2; exit 1
fi
grep -q "$MODEL" "$WORK/err.txt" && grep -q "one band per row" "$WORK/err.txt" || { cat "$WORK/err.txt" >&2; exit 1; }
[ ! -e "$WORK/refused.json" ] || { echo "FAIL: output written on error" >&2; exit 1; }
python3 - "$MODEL" "$WORK" <<'PY'
import copy, json, sys
m = json.load(open(sys.argv[1])); w = sys.argv[2]
m["schema_version"] = 2
rows = []
for p in m["points"]:
    for r in range(4):
        q = copy.deepcopy(p); q["pe_rows"] = [r, r]; rows.append(q)
json.dump(dict(m, points=rows), open(f"{w}/same.json", "w"))
hot = copy.deepcopy(rows)
for q in hot:
    if q["pe_rows"][0] == 3 and q["cycles_with_error"]:
        for key in ("cycles_with_error",):
            q[key] *= 10
        for b in q["bits"]: b["errors"] *= 10
        for e in q["error_values"] + q["error_patterns"]: e["count"] *= 10
json.dump(dict(m, points=hot), open(f"{w}/hot.json", "w"))
PY
"$VOSA" errmodel-bands "$WORK/same.json" --out "$WORK/same_bands.json" --report-json "$WORK/same_report.json" | tee "$WORK/same.log"
grep -q "bands 0-3$" "$WORK/same.log"
"$VOSA" errmodel-csv "$WORK/same_bands.json" --out "$WORK/bits.csv" > /dev/null
"$VOSA" errmodel-bands "$WORK/hot.json" --out "$WORK/hot_bands.json" | tee "$WORK/hot.log"
grep -q "bands 0-2 3$" "$WORK/hot.log"
python3 - "$MODEL" "$WORK" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); w = sys.argv[2]
b = json.load(open(f"{w}/same_bands.json"))
assert b["row_bands"]["bands"] == [[0, 3]], b["row_bands"]
assert len(b["points"]) == len(m["points"])
for p in m["points"]:
    q = next(x for x in b["points"] if x["voltage"] == p["voltage"] and x["period_ns"] == p["period_ns"])
    assert q["pe_rows"] == [0, 3] and q["samples"] == 4 * p["samples"], q["samples"]
    assert q["cycles_with_error"] == 4 * p["cycles_with_error"]
    assert [x["errors"] for x in q["bits"]] == [4 * x["errors"] for x in p["bits"]]
    assert abs(q["p_any_error"] - p["cycles_with_error"] / p["samples"]) < 1e-12
    assert sorted((e["value"], e["count"]) for e in q["error_values"]) == sorted((e["value"], 4 * e["count"]) for e in p["error_values"])
assert json.load(open(f"{w}/same_report.json"))["splits"] == []
print("bands_cli_test: ok")
PY
