#!/usr/bin/env bash
# `vosa errmodel-csv`: the per-bit table carries P(any error) and the error
# counts; --values gives the whole error-value distribution (its counts add up
# to cycles_with_error at every point); --patterns the joint masks;
# --correct-bits each mask's correct bits (schema 3) with the signed error
# they give, and no rows for a file without them.
#   csv_tables_test.sh VOSA ERRMODEL_JSON
set -euo pipefail
VOSA="$1"; MODEL="$2"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$VOSA" errmodel-csv "$MODEL" --out "$WORK/bits.csv" --values "$WORK/values.csv" --patterns "$WORK/patterns.csv" \
  --correct-bits "$WORK/correct_old.csv"
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
# Correct bits (schema 3): a copy of the model whose patterns carry the
# correct value's bits at their positions (every subset of the mask in turn,
# counts adding up to the pattern's); the table has one row per (mask,
# correct bits) and the signed error captured - correct computed here from
# two's-complement values of a register holding exactly those bits.
python3 - "$MODEL" "$WORK" <<'PY'
import csv, json, sys
m = json.load(open(sys.argv[1])); w = sys.argv[2]
old = list(csv.DictReader(open(f"{w}/correct_old.csv")))
assert old == [], "a file without correct_bits gives no rows"
assert open(f"{w}/correct_old.csv").readline().strip().endswith("mask,correct_bits,count,p_given_mask,error")
for p in m["points"]:
    for q in p["error_patterns"]:
        subsets, s = [], q["mask"]
        while True:  # every subset of the mask, the mask itself first
            subsets.append(s)
            if s == 0: break
            s = (s - 1) & q["mask"]
        n, refs = q["count"], []
        for i, r in enumerate(subsets):
            k = n if i == len(subsets) - 1 else n // 2
            if k: refs.append({"value": r, "count": k})
            n -= k
        q["correct_bits"] = refs
m["schema_version"] = 3
json.dump(m, open(f"{w}/schema3.json", "w"))
PY
"$VOSA" errmodel-csv "$WORK/schema3.json" --out "$WORK/bits3.csv" --patterns "$WORK/patterns3.csv" \
  --correct-bits "$WORK/correct3.csv"
cmp "$WORK/bits.csv" "$WORK/bits3.csv"  # the other tables do not change
cmp "$WORK/patterns.csv" "$WORK/patterns3.csv"
python3 - "$WORK" <<'PY'
import csv, json, sys
w = sys.argv[1]
m = json.load(open(f"{w}/schema3.json"))
n = m["design"]["acc_bits"]
def value(x):  # the register's bits as the signed number it holds
    x &= (1 << n) - 1
    return x - (1 << n) if m["design"]["signed"] and x >> (n - 1) else x
rows = list(csv.DictReader(open(f"{w}/correct3.csv")))
want, sign_rows = [], 0
for p in m["points"]:
    for q in p["error_patterns"]:
        for r in q["correct_bits"]:
            want.append((p["voltage"], q["mask"], r["value"], r["count"], r["count"] / q["count"],
                         value(r["value"] ^ q["mask"]) - value(r["value"])))
            sign_rows += bool(q["mask"] >> (n - 1) & 1)
got = [(float(r["voltage"]), int(r["mask"]), int(r["correct_bits"]), int(r["count"]), float(r["p_given_mask"]),
        int(r["error"])) for r in rows]
assert len(got) == len(want), (len(got), len(want))
for g, e in zip(got, want):
    assert g[:4] == e[:4] and abs(g[4] - e[4]) < 1e-9 and g[5] == e[5], (g, e)
assert sign_rows > 0 and any(g[5] < 0 for g in got) and any(g[5] > 0 for g in got), "both signs, the sign bit too"
print(f"errmodel-csv: {len(rows)} correct-bits rows ({sign_rows} with the sign bit), signed errors match")
PY
# Value classes (schema 4): the fixture with value classes and their cycles
# (tests/dnn/value_class_fixture.py); --value-classes has one row per class of
# each point with errors, the cycles adding up to the point's samples, the
# measured rate errors / cycles and the injected rate shrunk toward the point's
# by 100 pseudo-cycles (docs/errmodel.md "Hit rate per value class"); the
# model without value classes gives the header alone.
python3 "$(dirname "$0")/../dnn/value_class_fixture.py" "$MODEL" "$WORK/values4.json"
"$VOSA" errmodel-csv "$WORK/values4.json" --out "$WORK/bits4.csv" --value-classes "$WORK/vc.csv"
"$VOSA" errmodel-csv "$MODEL" --out "$WORK/bits_old.csv" --value-classes "$WORK/vc_old.csv"
python3 - "$WORK" <<'PY'
import csv, json, sys
w = sys.argv[1]
m = json.load(open(f"{w}/values4.json"))
assert list(csv.DictReader(open(f"{w}/vc_old.csv"))) == [], "a file without value classes gives no rows"
rows = list(csv.DictReader(open(f"{w}/vc.csv")))
n_rows = 0
for p in m["points"]:
    if "value_classes" not in p:
        continue
    r = [x for x in rows if float(x["voltage"]) == p["voltage"]]
    assert [int(x["value_class"]) for x in r] == [0, 1, 2, 3] and all(x["operand_class"] == "" for x in r), r
    assert sum(int(x["class_samples"]) for x in r) == p["samples"]
    base = p["cycles_with_error"] / p["samples"]
    for x, c in zip(r, p["value_classes"]["by_class"]):
        n, e = c["samples"], c["cycles_with_error"]
        assert int(x["class_samples"]) == n and int(x["class_cycles_with_error"]) == e, (x, c)
        assert abs(float(x["p_error_measured"]) - e / n) < 1e-9, x
        assert abs(float(x["p_error_injected"]) - (e + 100 * base) / (n + 100)) < 1e-9, x
    n_rows += len(r)
assert n_rows == len(rows) and n_rows > 0
print(f"errmodel-csv: {n_rows} value-class rows, cycles and rates consistent")
PY
# A device or pipe as the output (e.g. --out /dev/null) is written in place,
# not replaced by the renamed temporary file: a FIFO stays a FIFO and its
# reader gets the table.
mkfifo "$WORK/fifo"
timeout 30 cat "$WORK/fifo" > "$WORK/fifo.out" &
reader=$!
"$VOSA" errmodel-csv "$MODEL" --out "$WORK/fifo"
wait "$reader"
[ -p "$WORK/fifo" ] || { echo "FAIL: errmodel-csv replaced the FIFO it wrote to"; exit 1; }
cmp -s "$WORK/fifo.out" "$WORK/bits.csv" || { echo "FAIL: the FIFO's reader did not get the per-bit table"; exit 1; }
echo "errmodel-csv: a FIFO output is written in place"
