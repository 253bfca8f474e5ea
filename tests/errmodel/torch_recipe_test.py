#!/usr/bin/env python3
"""Runs the PyTorch recipe of docs/errmodel.md ("Applying it to an int8
accumulator tensor in PyTorch") as written there, on an error model with an
error-free point and a point with rare errors:
  - its table, exhaustively over every integer draw, gives exactly the
    measured error-value counts and P(any error) at every point;
  - a far (voltage, period) is refused;
  - the wrap to acc_bits is two's complement;
  - with torch importable: 100 calls on 8x8 tensors at every point (most with
    no hit) run, and their error rate matches P(any error).
usage: torch_recipe_test.py docs/errmodel.md errmodel.json"""
import json, re, sys, tempfile, os, collections

doc, model_path = sys.argv[1], sys.argv[2]
text = open(doc).read()
section = text.split("## Applying it to an int8 accumulator tensor in PyTorch", 1)
assert len(section) == 2, f"{doc}: the PyTorch recipe section is missing"
block = re.search(r"```python\n(.*?)```", section[1], re.S)
assert block, f"{doc}: no python block in the PyTorch recipe section"
code = block.group(1)
# The recipe's last line applies it to the user's file; run everything but that.
code = "\n".join(l for l in code.splitlines() if not l.startswith("inject = make_injector("))
ns = {}
exec(compile(code, f"{doc} (PyTorch recipe)", "exec"), ns)

model = json.load(open(model_path))
assert any(p["cycles_with_error"] == 0 for p in model["points"]), "fixture needs an error-free point"
for p in model["points"]:
    bits, pt = ns["load_point"](model_path, p["voltage"], p["period_ns"])
    assert pt is not None and bits == model["design"]["acc_bits"]
    bounds, values = ns["error_table"](pt)
    seen = collections.Counter(ns["draw"](bounds, values, r) for r in range(pt["samples"]))
    want = collections.Counter({e["value"]: e["count"] for e in pt["error_values"]})
    want[0] = pt["samples"] - pt["cycles_with_error"]
    assert seen == +want, (p["voltage"], seen, want)
    print(f"table at {p['voltage']} V: {pt['cycles_with_error']}/{pt['samples']} erroneous draws, "
          f"{len(values) - 1} error values: exact")

try:
    ns["load_point"](model_path, 0.5, 100.0)
    raise SystemExit("FAIL: a point 0.5 V / 100 ns away was accepted")
except ValueError as e:
    print("far point refused:", e)

wrap = ns["wrap"]
assert wrap((1 << 18) - 1 + 1, 19) == -(1 << 18) and wrap(-(1 << 18) - 1, 19) == (1 << 18) - 1
assert wrap(5, 19) == 5 and wrap(-5, 19) == -5

try:
    import torch
except ImportError:
    print("torch not importable: the recipe's torch lines were not run (its table and draw rule were)")
    sys.exit(0)
gen = torch.Generator().manual_seed(1)
for p in model["points"]:
    inject = ns["make_injector"](model_path, p["voltage"], p["period_ns"])
    wrong = 0
    for _ in range(100):
        acc = torch.randint(-1000, 1000, (8, 8), dtype=torch.int32, generator=gen)
        out = inject(acc, gen)
        assert out.dtype == acc.dtype and out.shape == acc.shape
        wrong += int((out != acc).sum())
    rate, want = wrong / 6400, p["cycles_with_error"] / p["samples"]
    assert abs(rate - want) <= 5 * (want * (1 - want) / 6400) ** 0.5 + 1e-9, (p["voltage"], rate, want)
    print(f"torch at {p['voltage']} V: {wrong} of 6400 values wrong (P(any error) {want})")
print("torch recipe: ok")
