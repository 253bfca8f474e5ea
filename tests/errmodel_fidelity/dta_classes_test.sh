#!/usr/bin/env bash
# vosa dta's operand classes and error log on the default int8 PE synthesized
# for osu018 (flow/dta_osu018_pe.sh), and errmodel-validate end to end:
#   1. the per-class samples, erroneous cycles and bit errors sum to the point's totals;
#   2. the error log has one row per erroneous cycle and the same bit errors, and
#      its cycles by value class are the file's value_classes (schema 4), and
#      every trace cycle's value class gives their samples (hit rate per value class);
#   3. a model fitted on a stream agrees with the simulator on that stream
#      (--require passes), a model from uniform operands does not, and a log
#      of another stream is rejected.
# usage: dta_classes_test.sh VOSA_BINARY WORK_DIR
set -euo pipefail
VOSA=$(realpath "$1")
WORK=$2
ROOT=$(realpath "$(dirname "$0")/../..")
rm -rf "$WORK"
LIB=$("$ROOT/flow/dta_osu018_pe.sh" "$VOSA" "$WORK")
cd "$WORK"
common=(--netlist pe_netlist.v --liberty "$LIB" --sdf pe.sdf --manifest design/manifest.json -q --period-ns 3.5 --voltage 1.8)

"$VOSA" trace layer --out layer.vtrace --count 6000 --rows 8 --cols 8 --pe-row 7 --seed 5
"$VOSA" dta "${common[@]}" --operands trace:layer.vtrace --threads 2 --patterns 4096 \
  --mask-form value-classes+correct-bits --error-log layer_errors.csv --out layer.json
"$VOSA" dta "${common[@]}" --operands uniform:2 --cycles 6000 --out uniform.json
python3 - <<'PY'
import json
pt = json.load(open("layer.json"))["points"][0]
cl = pt["classes"]
assert cl["scheme"] == "product-change-v1", cl["scheme"]
by = cl["by_class"]
assert [c["class"] for c in by] == [0, 1, 2, 3, 4]
assert sum(c["samples"] for c in by) == pt["samples"] == 6000
assert sum(c["cycles_with_error"] for c in by) == pt["cycles_with_error"] > 50, pt["cycles_with_error"]
for j, b in enumerate(pt["bits"]):
    assert sum(c["bits"][j]["errors"] for c in by) == b["errors"], j
rows = open("layer_errors.csv").read().split("\n")[1:-1]
assert len(rows) == pt["cycles_with_error"], (len(rows), pt["cycles_with_error"])
bit_errors = [0] * len(pt["bits"])
for r in rows:
    _, cycle, settled, captured = r.split(",")
    d = int(settled) ^ int(captured)
    assert d, r
    for j in range(len(bit_errors)):
        bit_errors[j] += (d >> j) & 1
assert bit_errors == [b["errors"] for b in pt["bits"]]
# Value classes (schema 4): the erroneous cycles by the settled value's sign
# and magnitude, recounted from the log, per class and per operand class.
acc = len(pt["bits"])
vc = pt["value_classes"]
assert vc["scheme"] == "sign-magnitude-v1" and vc["low_bit"] == acc - 6, vc["low_bit"]
def value_class(v, low):
    sign = v >> (acc - 1) & 1
    mid = (v >> low) & ((1 << (acc - 1 - low)) - 1)
    return 2 * sign + (mid != (((1 << (acc - 1 - low)) - 1) if sign else 0))
want_cycles, want_masks = [0] * 4, [{} for _ in range(4)]
for r in rows:
    _, cycle, settled, captured = r.split(",")
    k = value_class(int(settled), vc["low_bit"])
    d = int(settled) ^ int(captured)
    want_cycles[k] += 1
    want_masks[k][d] = want_masks[k].get(d, 0) + 1
assert [c["cycles_with_error"] for c in vc["by_class"]] == want_cycles, (vc["by_class"], want_cycles)
assert sum(want_cycles[k] > 0 for k in range(4)) >= 2, want_cycles
for k, c in enumerate(vc["by_class"]):
    assert {q["mask"]: q["count"] for q in c["error_patterns"]} == want_masks[k], k
    for q in c["error_patterns"]:
        assert sum(r["count"] for r in q["correct_bits"]) == q["count"]
for c in by:
    cv = c["value_classes"]["by_class"]
    assert sum(v["cycles_with_error"] for v in cv) == c["cycles_with_error"], c["class"]
for k in range(4):
    assert sum(c["value_classes"]["by_class"][k]["cycles_with_error"] for c in by) == want_cycles[k], k
# Every cycle's value class (the hit rate per value class, docs/errmodel.md
# "Hit rate per value class"), recounted from the trace itself: the settled
# value psum_in + a * w, per value class and per (operand class, value class).
import struct
raw = open("layer.vtrace", "rb").read()
assert raw[:8] == b"VOSATRC1"
hlen = struct.unpack_from("<I", raw, 8)[0]
recs = list(struct.iter_unpack("<iiq", raw[12 + hlen:]))
assert len(recs) == 6000
want_samples, want_cls = [0] * 4, [[0] * 4 for _ in range(5)]
prev = 0
for a, w, psum in recs:
    d = abs(a - prev) * abs(w)
    oc = (d != 0) + (d >= 128) + (d >= 512) + (d >= 2048)
    k = value_class((psum + a * w) % (1 << acc), vc["low_bit"])
    want_samples[k] += 1
    want_cls[oc][k] += 1
    prev = a
assert [c["samples"] for c in vc["by_class"]] == want_samples, ([c["samples"] for c in vc["by_class"]], want_samples)
for c in vc["by_class"]:
    assert c["cycles_with_error"] <= c["samples"] and abs(c["p_any_error"] - c["cycles_with_error"] / c["samples"]) < 1e-12
for oc, c in enumerate(by):
    assert [v["samples"] for v in c["value_classes"]["by_class"]] == want_cls[oc], (oc, want_cls[oc])
print("value classes: errors", want_cycles, "cycles", want_samples)
# The default mask form (value-classes): value classes with their cycles, no correct bits.
u = json.load(open("uniform.json"))["points"][0]
assert "samples" in u["value_classes"]["by_class"][0], "the default form writes the value classes' cycles"
assert all("value_classes" in c for c in u["classes"]["by_class"])
assert sum(c["samples"] for c in u["value_classes"]["by_class"]) == u["samples"]
assert all("correct_bits" not in q for q in u["error_patterns"]), "default form keeps correct bits"
rates = {c["name"]: round(c["p_any_error"], 4) for c in by}
print(f"classes: {rates}; {pt['cycles_with_error']} erroneous cycles of 6000, log agrees")
PY

"$VOSA" errmodel-validate --model self=layer.json --model uniform=uniform.json --trace layer.vtrace \
  --voltage 1.8 --dta-errors layer_errors.csv --period-ns 3.5 --seeds 40 \
  --out-json report.json --out-md report.md --require self+classes
python3 - <<'PY'
import json
r = json.load(open("report.json"))["runs"][0]["models"]
verdict = {m["label"]: m["comparison"]["pass"] for m in r}
print("verdicts:", verdict)
assert verdict["self+classes"] and verdict["self"], verdict
assert not verdict["uniform"], "uniform-operand model should not match a layer stream"
PY
grep -q "Within tolerance" report.md

# A log of another stream, and a malformed log, are rejected naming the file.
"$VOSA" trace layer --out other.vtrace --count 6000 --rows 8 --cols 8 --pe-row 7 --seed 6
if "$VOSA" errmodel-validate --model self=layer.json --trace other.vtrace --voltage 1.8 \
     --dta-errors layer_errors.csv --period-ns 3.5 --seeds 2 2> other.err; then
  echo "FAIL: a log of another stream was accepted"; exit 1
fi
grep -q "layer_errors.csv" other.err
printf 'period_ns,cycle\n' > broken.csv
if "$VOSA" errmodel-validate --model self=layer.json --trace layer.vtrace --voltage 1.8 \
     --dta-errors broken.csv --period-ns 3.5 --seeds 2 --out-json broken.json 2> broken.err; then
  echo "FAIL: a malformed log was accepted"; exit 1
fi
grep -q "broken.csv" broken.err
[ ! -e broken.json ] || { echo "FAIL: report written despite the error"; exit 1; }
echo "errmodel fidelity gate-level checks passed"
