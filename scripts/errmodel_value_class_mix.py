#!/usr/bin/env python3
"""Where a stream's timing errors fall by value class (docs/errmodel.md "Value classes"): per
operand class (product-change-v1), the share of each value class (sign-magnitude-v1, low_bit
acc_bits - 6) among all cycles and among the erroneous ones, and P(error | value class).
usage: errmodel_value_class_mix.py VOSA TRACE.vtrace LOG.errors.csv"""
import collections
import csv
import json
import re
import subprocess
import sys

vosa, trace, log = sys.argv[1:4]
text = subprocess.run([vosa, "trace", "show", trace, "-n", str(1 << 30)], check=True, capture_output=True,
                      text=True).stdout
header = json.loads(text[:text.index("\n}\n") + 3])
acc = header["acc_bits"]
low = acc - 6
mask = (1 << acc) - 1
recs = [tuple(map(int, m.groups())) for m in re.finditer(r"^\d+: a=(-?\d+) w=(-?\d+) psum_in=(-?\d+)", text, re.M)]


def value_class(v):
    s = v >> (acc - 1) & 1
    width = acc - 1 - low
    mid = (v >> low) & ((1 << width) - 1)
    return 2 * s + (mid != (((1 << width) - 1) if s else 0))


def operand_class(prev, a, w):
    d = abs(a - prev) * abs(w)
    return (d != 0) + (d >= 128) + (d >= 512) + (d >= 2048)


errors = {int(r["cycle"]) for r in csv.DictReader(open(log))}
every, failed = collections.Counter(), collections.Counter()
for i, (a, w, p) in enumerate(recs):
    k = (operand_class(recs[i - 1][0] if i else 0, a, w), value_class((p + a * w) & mask))
    every[k] += 1
    failed[k] += i in errors
names = ["pos_small", "pos_large", "neg_small", "neg_large"]
print(f"{len(recs)} cycles, {len(errors)} erroneous; value classes low_bit {low}")
for c in range(5):
    n = sum(every[(c, v)] for v in range(4))
    e = sum(failed[(c, v)] for v in range(4))
    if not e:
        continue
    parts = [f"{names[v]} {every[(c, v)] / n:.2f}/{failed[(c, v)] / e:.2f}/{failed[(c, v)] / max(1, every[(c, v)]):.3f}"
             for v in range(4)]
    print(f"operand class {c}: {n} cycles, {e} errors; value class share of cycles/of errors/P(error): " + "; ".join(parts))
