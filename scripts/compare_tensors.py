#!/usr/bin/env python3
"""Compares two per-tensor dumps layer by layer (docs/dnn.md), e.g. vosa's
engine against Arm NN CpuRef:

    vosa infer-dump -m M -d D -n 5 -o vosa.csv
    scripts/armnn_reference.py M D out.csv --limit 5 --tensors armnn.csv
    scripts/compare_tensors.py vosa.csv armnn.csv

Both CSVs hold lines file,op,tensor,name,values (space-separated integers).
Samples are matched by file name, tensors by (op, tensor). Prints, per
operator output, how many values differ and by how much (summed over the
samples both files hold), and per sample the first operator that differs.
Exits 1 when some tensor differs, 0 when all are identical, 2 on bad input.
"""
import os
import sys


def read(path):
    tensors = {}  # (sample, op, tensor) -> (name, values)
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        print(f"compare_tensors: cannot read {path}: {e.strerror}", file=sys.stderr)
        sys.exit(2)
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        fields = line.split(",", 4)
        try:
            if len(fields) != 5:
                raise ValueError("expected file,op,tensor,name,values")
            key = (os.path.basename(fields[0]), int(fields[1]), int(fields[2]))
            tensors[key] = (fields[3], [int(v) for v in fields[4].split()])
        except ValueError as e:
            print(f"compare_tensors: {path}:{n}: {e}", file=sys.stderr)
            sys.exit(2)
    return tensors


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    a_path, b_path = sys.argv[1:]
    a, b = read(a_path), read(b_path)
    keys = sorted(set(a) & set(b), key=lambda k: (k[1], k[2], k[0]))
    if not keys:
        print(f"compare_tensors: {a_path} and {b_path} share no (file, op, tensor)", file=sys.stderr)
        sys.exit(2)
    samples = sorted({k[0] for k in keys})
    per_tensor = {}  # (op, tensor) -> [name, values, differing, max |diff|, samples differing]
    first = {}  # sample -> first differing op
    for key in keys:
        sample, op, tensor = key
        name, va = a[key]
        vb = b[key][1]
        if len(va) != len(vb):
            print(f"compare_tensors: {sample} op {op} tensor {tensor}: {len(va)} vs {len(vb)} values",
                  file=sys.stderr)
            sys.exit(2)
        diffs = [abs(x - y) for x, y in zip(va, vb) if x != y]
        row = per_tensor.setdefault((op, tensor), [name, 0, 0, 0, 0])
        row[1] += len(va)
        row[2] += len(diffs)
        row[3] = max(row[3], max(diffs, default=0))
        row[4] += bool(diffs)
        if diffs and sample not in first:
            first[sample] = op
    print(f"{len(samples)} sample(s); per operator output: values that differ / values, largest |difference|, "
          "samples where it differs")
    for (op, tensor), (name, total, differ, largest, ns) in sorted(per_tensor.items()):
        print(f"  op {op:3d} tensor {tensor:3d}  {differ:7d} / {total:8d}  max {largest:3d}  in {ns}/{len(samples)}"
              f"  {name[:60]}")
    for s in samples:
        print(f"  {s}: " + (f"first difference at op {first[s]}" if s in first else "identical"))
    sys.exit(1 if first else 0)


if __name__ == "__main__":
    main()
