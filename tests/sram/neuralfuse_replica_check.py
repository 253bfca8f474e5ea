#!/usr/bin/python3
"""The float replica of scripts/neuralfuse_relaxed.py against vosa's int8 engine
(called by neuralfuse_replica_test.sh; docs/sram.md, "NeuralFuse, relaxed access").

  neuralfuse_replica_check.py EXPORT MAP.csv ENGINE_OUTPUTS.csv ENGINE_EVAL.json DATA N

1. The faulty weights the export lists are exactly those the fault map forces, derived
   here again from the CSV and the buffer's byte layout (word = byte / (width/8), byte k of
   a word at bits 8k..8k+7), so the replica trains on the chip the engine runs.
2. Clean: the replica's top-1 equals the engine's (`vosa infer --outputs`) on all but at
   most one of the N inputs.
3. Faulty (the map's chip): the replica's top-1 accuracy is within 2 points of
   `vosa sram eval --maps` on the same N inputs.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import neuralfuse_relaxed as nf  # noqa: E402
import torch  # noqa: E402

export_path, map_path, outputs_csv, eval_json, data, n = sys.argv[1:7]
n = int(n)
export = nf.load_export(export_path)
errors = []

# 1. Faulty bytes from the map, independently of vosa's apply_weight_faults.
width = export["weight_buffer"]["width"]
per_word = width // 8
stuck = {}  # byte address -> (mask of stuck-at-1 bits, mask of stuck-at-0 bits)
with open(map_path) as f:
    for line in f:
        if line.startswith("#") or line.startswith("word"):
            continue
        word, bit, s, q, _ = line.strip().split(",")
        if float(q) >= 0.01:
            continue
        addr = int(word) * per_word + int(bit) // 8
        one, zero = stuck.get(addr, (0, 0))
        m = 1 << (int(bit) % 8)
        stuck[addr] = (one | m, zero) if s == "1" else (one, zero | m)
expected = {}
for r in export["weight_buffer"]["regions"]:
    data_t = export["tensors"][r["tensor"]]["data"]
    for k in range(r["bytes"]):
        if r["offset"] + k in stuck:
            one, zero = stuck[r["offset"] + k]
            b = data_t[k] & 0xFF
            read = (b | one) & ~zero & 0xFF
            if read != b:
                expected[(r["tensor"], k)] = read - 256 if read > 127 else read
point = export["chips"][0]["points"][0]
listed = {(t, k): v for t, k, v in point["changed"]}
if listed != expected:
    errors.append(f"export lists {len(listed)} changed weight bytes, the map forces {len(expected)} "
                  f"({len(set(listed.items()) ^ set(expected.items()))} differ)")
if len(expected) < 100:
    errors.append(f"only {len(expected)} weight bytes changed at BER 0.01: the check would prove little")

replica = nf.Replica(export)
x, y, names = nf.load_data(data, 0, n)
with torch.no_grad():
    clean = replica(x).argmax(1)
    faulty = replica(x, replica.chip_weights(point)).argmax(1)

# 2. Clean top-1 against the engine, input by input.
engine = {}
with open(outputs_csv) as f:
    for line in f:
        parts = line.strip().split(",")
        if len(parts) >= 4 and not line.startswith("file"):
            engine[os.path.basename(parts[0])] = int(parts[2])
disagree = [nm for i, nm in enumerate(names) if engine.get(nm) != int(clean[i])]
if len(disagree) > 1:
    errors.append(f"clean top-1: the replica disagrees with the engine on {len(disagree)} of {n} inputs: {disagree[:5]}")

# 3. The faulty chip's accuracy against the engine's on the same map.
with open(eval_json) as f:
    engine_faulty = json.load(f)["points"][0]["top1_per_chip"][0]
replica_faulty = float((faulty == y).float().mean())
if abs(replica_faulty - engine_faulty) > 0.02:
    errors.append(f"faulty chip: replica top-1 {100 * replica_faulty:.1f} %, engine {100 * engine_faulty:.1f} %")

print(f"{len(expected)} faulty weight bytes as the map forces them; clean top-1 agrees on "
      f"{n - len(disagree)}/{n}; faulty top-1 replica {100 * replica_faulty:.1f} %, engine {100 * engine_faulty:.1f} %")
for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
