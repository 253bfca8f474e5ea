#!/usr/bin/env bash
# `vosa errmodel-csv`: the per-bit table carries P(any error) and the error
# counts; --values gives the whole error-value distribution (its counts add up
# to cycles_with_error at every point); --patterns the joint masks.
#   csv_tables_test.sh VOSA ERRMODEL_JSON
set -euo pipefail
VOSA="$1"; MODEL="$2"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$VOSA" errmodel-csv "$MODEL" --out "$WORK/bits.csv" --values "$WORK/values.csv" --patterns "$WORK/patterns.csv"
python3 - "$MODEL" "$WORK" <<'PY'
import csv, json, sys
m = json.load(open(sys.argv[1])); w = sys.argv[2]
bits = list(csv.DictReader(open(f"{w}/bits.csv")))
values = list(csv.DictReader(open(f"{w}/values.csv")))
patterns = list(csv.DictReader(open(f"{w}/patterns.csv")))
for p in m["points"]:
    key = lambda r: float(r["voltage"]) == p["voltage"] and float(r["period_ns"]) == p["period_ns"]
    b = [r for r in bits if key(r)]
    assert len(b) == len(p["bits"]), "one row per bit"
    for r in b:
        assert abs(float(r["p_any_error"]) - p["cycles_with_error"] / p["samples"]) < 1e-12, r
        assert int(r["cycles_with_error"]) == p["cycles_with_error"]
    v = [r for r in values if key(r)]
    assert sum(int(r["count"]) for r in v) == p["cycles_with_error"], "values must add up to the erroneous cycles"
    assert sorted((int(r["value"]), int(r["count"])) for r in v) == sorted((e["value"], e["count"]) for e in p["error_values"])
    if p["cycles_with_error"]:
        assert abs(sum(float(r["p_given_error"]) for r in v) - 1) < 1e-6
    q = [r for r in patterns if key(r)]
    assert [(int(r["mask"]), int(r["count"])) for r in q] == [(e["mask"], e["count"]) for e in p["error_patterns"]]
    for r in q:
        assert sum(1 << int(x) for x in r["bits"].split()) == int(r["mask"]), r
assert all(r["pe_rows"] == "" for r in bits + values + patterns), "a point without pe_rows stands for every row"
print(f"errmodel-csv: {len(bits)} bit rows, {len(values)} value rows, {len(patterns)} pattern rows, consistent")
# Row bands (schema 2): each point's band in column pe_rows, FIRST-LAST.
for p in m["points"]:
    p["pe_rows"] = [0, 0]
m["points"] += [dict(p, pe_rows=[1, 7]) for p in m["points"]]
m["schema_version"] = 2
json.dump(m, open(f"{w}/bands.json", "w"))
PY
"$VOSA" errmodel-csv "$WORK/bands.json" --out "$WORK/bands.csv"
python3 - "$WORK" <<'PY'
import csv, json, sys
w = sys.argv[1]
m = json.load(open(f"{w}/bands.json"))
rows = list(csv.DictReader(open(f"{w}/bands.csv")))
for band in ("0-0", "1-7"):
    got = sum(r["pe_rows"] == band for r in rows)
    want = sum(len(p["bits"]) for p in m["points"] if "-".join(map(str, p["pe_rows"])) == band)
    assert got == want, (band, got, want)
print(f"errmodel-csv: pe_rows column names each band ({len(rows)} rows)")
PY
