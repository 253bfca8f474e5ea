#!/usr/bin/env python3
"""What the correct value tells about the error mask (docs/errmodel.md "Value classes"):
over the erroneous cycles of `vosa dta --error-log` files, the entropy of the joint error
mask and its conditional entropy given candidate classes of the settled (correct) value:
its sign, sign + magnitude split at bit H (bits H..acc-2 equal to the sign or not), and the
raw top bits. The information gain (entropy drop, bits) chose vosa's value classes.
usage: errmodel_value_class_gain.py ACC_BITS [--every K] LOG.errors.csv ..."""
import collections
import csv
import math
import sys

args = sys.argv[1:]
acc = int(args.pop(0))
every = 1
if args and args[0] == "--every":
    every = int(args[1])
    args = args[2:]
mask_all = (1 << acc) - 1
data = []
for f in sorted(args)[::every]:
    for r in csv.DictReader(open(f)):
        s = int(r["settled"]) & mask_all
        data.append((s, s ^ (int(r["captured"]) & mask_all)))
n = len(data)


def entropy(counter):
    t = sum(counter.values())
    return -sum(v / t * math.log2(v / t) for v in counter.values())


def conditional(f):
    by = collections.defaultdict(collections.Counter)
    for s, m in data:
        by[f(s)][m] += 1
    return sum(sum(c.values()) / n * entropy(c) for c in by.values()), len(by)


h = entropy(collections.Counter(m for _, m in data))
print(f"{n} erroneous cycles from {len(sorted(args)[::every])} logs; H(mask) = {h:.3f} bits")
top = acc - 1
rows = [("sign", lambda s: s >> top)]
for b in range(acc - 9, acc - 1):
    def f(s, b=b):
        sg = s >> top
        mid = (s >> b) & ((1 << (top - b)) - 1)
        return (sg, mid == (((1 << (top - b)) - 1) if sg else 0))
    rows.append((f"sign + magnitude, low_bit {b}", f))
for k in (4, 6):
    rows.append((f"top {k} bits", lambda s, k=k: s >> (acc - k)))
for name, f in rows:
    hc, classes = conditional(f)
    print(f"{name}: {classes} classes, H(mask | class) = {hc:.3f}, gain {h - hc:.3f} bits")
