#!/usr/bin/env python3
"""Schema-4 fixture for the Verilated array's correct-bits path (tests/dnn/CMakeLists.txt,
dnn_layers_inject_ws_8x8_values): errmodel_fixture.json's points with each pattern's
correct bits and value classes (docs/errmodel.md "Value classes"), each class with its
cycles, so its own hit rate ("Hit rate per value class"). Hand-written, like the fixture:
the high-bit patterns were "measured" on negative values (correct bits = the mask, the
register subtracts), the low ones on small positive values (correct bits 0), and the
unrecorded rest on large negative values, so an injected value of another class or with
other bits gets the measured signed error added (a carry can reach bits outside the mask).
usage: value_class_fixture.py errmodel_fixture.json OUT.json"""
import json
import sys

m = json.load(open(sys.argv[1]))
acc = m["design"]["acc_bits"]
m["schema_version"] = 4
m["simulation"] = {"tool": "hand-written test fixture (tests/dnn/value_class_fixture.py)"}


def bits(errors, n):
    return [{"bit": j, "errors": errors.get(j, 0), "p_error": errors.get(j, 0) / n if n else 0.0,
             "ci95": [0.0, 1.0]} for j in range(acc)]


for p in m["points"]:
    n = p["cycles_with_error"]
    if n == 0:
        continue
    by = [{"class": k, "cycles_with_error": 0, "bits": bits({}, 0), "error_patterns": []} for k in range(4)]
    rest = {b["bit"]: b["errors"] for b in p["bits"]}
    for q in p["error_patterns"]:
        high = q["mask"] >> (acc - 4) != 0  # bits 15 and up: a negative value's sign extension
        q["correct_bits"] = [{"value": q["mask"] if high else 0, "count": q["count"]}]
        c = by[2 if high else 0]
        c["cycles_with_error"] += q["count"]
        c["error_patterns"].append(dict(q))
        for j in q["bits"]:
            rest[j] -= q["count"]
    for k in (0, 2):
        e = {}
        for q in by[k]["error_patterns"]:
            for j in q["bits"]:
                e[j] = e.get(j, 0) + q["count"]
        by[k]["bits"] = bits(e, by[k]["cycles_with_error"])
    left = n - by[0]["cycles_with_error"] - by[2]["cycles_with_error"]
    by[3] = {"class": 3, "cycles_with_error": left, "bits": bits({j: e for j, e in rest.items() if e > 0}, left),
             "error_patterns": []}
    # Hit rates per value class (docs/errmodel.md "Hit rate per value class"): each
    # class's cycles are its errors plus a share of the error-free cycles, so the
    # classes err at different rates (pos_large never) and the array's error source
    # and the engine thin their candidates by the correct value's class.
    free = p["samples"] - n
    for k, share in ((0, 0.5), (2, 0.1), (3, 0.2)):
        by[k]["samples"] = by[k]["cycles_with_error"] + int(share * free)
    by[1]["samples"] = p["samples"] - sum(by[k]["samples"] for k in (0, 2, 3))
    p["value_classes"] = {"scheme": "sign-magnitude-v1", "low_bit": acc - 6, "by_class": by}
json.dump(m, open(sys.argv[2], "w"), indent=1)
