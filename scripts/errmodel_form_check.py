#!/usr/bin/env python3
"""Which injection form fits the gate-level errors (docs/errmodel.md, "The model's form")?
On a finished `make validate-errmodel` folder, replays every case's checked stream with errors
drawn from the models of kinds self+classes and per-layer+classes in two forms:
  xor: the cycle fails with the class's P(any error), captured = correct XOR a mask drawn from the
       class's joint patterns (what vosa errmodel-validate, the engine injector and the DPI source do);
  add: the same failing cycles, captured = correct + a signed error value drawn from the point's
       error_values (the model keeps the error's size, not which bits differ);
  match: as xor (the mask drawn with its count), and when the model has the correct value's bits
       each pattern was measured on (schema 3, `correct_bits`) and the injected value has none of
       them at the pattern's positions, correct bits r drawn with their counts and the signed error
       of (mask, r), (mask & ~r) - r, added modulo 2^acc_bits instead: what
       ErrorMaskSampler::draw(u01, correct, acc_mask) does; skipped for models without correct_bits;
and judges them with errmodel-validate's checks (P(any) and mean |error| within the tolerance or
the simulator's 95 % interval, per-bit rates within the bit factor for bits with >= 20 errors,
median max |error| within 2x), SEEDS seeds each. Prints each miss and one line per kind and form,
and how many erroneous cycles have every wrong bit among the bits that changed from the previous
cycle's correct value (what a "late bit keeps its previous value" form would need).
    scripts/errmodel_form_check.py build/<config>-<hash>/<pdk>-v<voltages>/validate-errmodel [SEEDS] [TOLERANCE] [BIT_FACTOR]"""
import bisect, glob, json, math, random, struct, sys

out = sys.argv[1]
SEEDS = int(sys.argv[2]) if len(sys.argv) > 2 else 8
TOL = float(sys.argv[3]) if len(sys.argv) > 3 else 0.25
BIT_FACTOR = float(sys.argv[4]) if len(sys.argv) > 4 else 1.5
MIN_ERRORS = 20
CORNER = {1.6: "1v60", 1.44: "1v44", 1.28: "1v28"}


def trace(net, layer, row):  # docs/trace.md: magic, uint32 header length, JSON header, 16-byte records
    data = open(glob.glob(f"{out}/{net}/traces/{layer}_*_pe{row}_0.vtrace")[0], "rb").read()
    n = struct.unpack_from("<I", data, 8)[0]
    h = json.loads(data[12:12 + n])
    return h, list(struct.iter_unpack("<iiq", data[12 + n:12 + n + 16 * h["count"]]))


def operand_class(prev, a, w):  # vosa::operand_class, scheme product-change-v1
    d = abs(a - prev) * abs(w)
    return 0 if d == 0 else 1 if d < 128 else 2 if d < 512 else 3 if d < 2048 else 4


def wrap(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def wilson(k, n):
    z = 1.96
    p, d = k / n, 1 + z * z / n
    c, h = (p + z * z / (2 * n)) / d, z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def sampler(entries, key):
    cum, s = [], 0
    for e in entries:
        s += e["count"]
        cum.append(s)
    return lambda r: entries[min(len(entries) - 1, bisect.bisect_right(cum, r * s))][key]


def stats(correct, captured, bits):
    st = {"n": len(correct), "errs": 0, "sum": 0, "sq": 0, "max": 0, "bits": [0] * bits}
    for v, c in zip(correct, captured):
        if v == c:
            continue
        a, d = abs(c - v), (v ^ c) & ((1 << bits) - 1)
        st["errs"] += 1
        st["sum"] += a
        st["sq"] += a * a
        st["max"] = max(st["max"], a)
        for j in range(bits):
            st["bits"][j] += d >> j & 1
    return st


def failed_checks(gt, inj, bits):
    n, fails = gt["n"], []
    mean_of = lambda f: sum(f(s) for s in inj) / len(inj)
    def agrees(model, sim, lo, hi):
        return lo <= model <= hi or (abs(model / sim - 1) <= TOL if sim else model == 0)
    if not agrees(mean_of(lambda s: s["errs"]) / n, gt["errs"] / n, *wilson(gt["errs"], n)):
        fails.append("P(any error)")
    m = gt["sum"] / n
    h = 1.96 * math.sqrt(max(0.0, gt["sq"] / n - m * m) / n)
    if not agrees(mean_of(lambda s: s["sum"]) / n, m, m - h, m + h):
        fails.append("mean abs error")
    for j in range(bits):
        mb = mean_of(lambda s: s["bits"][j])
        if max(gt["bits"][j], mb) < MIN_ERRORS:
            continue
        lo, hi = wilson(gt["bits"][j], n)
        d, mp = gt["bits"][j] / n, mb / n
        if not (lo <= mp <= hi or (d and mp and mp / d <= BIT_FACTOR and d / mp <= BIT_FACTOR)):
            fails.append(f"bit {j} rate")
    mx = sorted(s["max"] for s in inj)[len(inj) // 2]
    if not (mx == 0 if gt["max"] == 0 else gt["max"] / 2 <= mx <= gt["max"] * 2):
        fails.append("max abs error")
    return fails


totals = {}
confined = []  # (case, erroneous cycles whose wrong bits all changed from the previous correct value, erroneous cycles)
for case in open(f"{out}/cases.txt").read().split():
    net, _, layer, row = case.split(":")
    h, recs = trace(net, layer, row)
    bits = h["acc_bits"]
    correct, classes, prev = [], [], 0
    for a, w, psum in recs:
        correct.append(wrap(psum + a * w, bits))
        classes.append(operand_class(prev, a, w))
        prev = a
    self_model = json.load(open(f"{out}/{net}/model_self_{layer}_row{row}.json"))
    for voltage in sorted({p["voltage"] for p in self_model["points"]}, reverse=True):
        captured = list(correct)
        log = f"{out}/{net}/dta/{layer}_row{row}_ss_n40C_{CORNER[round(voltage, 2)]}.errors.csv"
        for line in open(log).read().split("\n")[1:]:
            if line:
                _, k, _, cap = line.split(",")
                captured[int(k)] = wrap(int(cap), bits)
        gt = stats(correct, captured, bits)
        full = (1 << bits) - 1
        wrong = [(n, (v ^ c) & full) for n, (v, c) in enumerate(zip(correct, captured)) if v != c]
        changed = lambda n: ((correct[n - 1] if n else 0) ^ correct[n]) & full
        confined.append((f"{net} {layer} row {row} {voltage} V", sum(1 for n, d in wrong if d & ~changed(n) == 0), len(wrong)))
        for kind in ("self", "per-layer"):
            model = self_model if kind == "self" else json.load(open(f"{out}/{net}/model_per-layer_{layer}_row{row}.json"))
            pt = next(p for p in model["points"] if abs(p["voltage"] - voltage) < 1e-6)
            by_class = {c["class"]: c for c in pt["classes"]["by_class"]}
            masks = {k: sampler(c["error_patterns"], "mask") for k, c in by_class.items() if c["error_patterns"]}
            values = sampler(pt["error_values"], "value") if pt["error_values"] else None
            joint = {}  # class -> (patterns as (mask, {correct bits: count}), sampler of a pattern by count)
            for k, c in by_class.items():
                pats = [(q["mask"], {r["value"]: r["count"] for r in q.get("correct_bits", [])})
                        for q in c["error_patterns"]]
                if any(refs for _, refs in pats):
                    joint[k] = (pats, sampler([{"count": q["count"], "i": i} for i, q in enumerate(c["error_patterns"])], "i"))

            def matched(k, v, rng):  # the captured value for correct value v (acc_bits wide)
                pats, pick = joint[k]
                m, refs = pats[pick(rng.random())]
                if not refs or v & m in refs:
                    return v ^ m
                x, r = rng.random() * sum(refs.values()), 0
                for r, n in refs.items():
                    x -= n
                    if x < 0:
                        break
                return (v + (m & ~r) - r) & ((1 << bits) - 1)
            forms = ("xor", "add", "match") if joint else ("xor", "add")
            for form in forms:
                inj = []
                for seed in range(SEEDS):
                    rng, cap = random.Random(seed), list(correct)
                    for n, v in enumerate(correct):
                        c = by_class.get(classes[n])
                        if c is None or c["class"] not in masks or rng.random() >= c["p_any_error"]:
                            continue
                        if form == "xor" or (form == "match" and c["class"] not in joint):
                            cap[n] = wrap(v ^ masks[c["class"]](rng.random()), bits)
                        elif form == "match":
                            cap[n] = wrap(matched(c["class"], v & ((1 << bits) - 1), rng), bits)
                        else:
                            cap[n] = wrap(v + values(rng.random()), bits)
                    inj.append(stats(correct, cap, bits))
                fails = failed_checks(gt, inj, bits)
                key = f"{kind}+classes, form {form}"
                ok, total = totals.get(key, (0, 0))
                totals[key] = (ok + (not fails), total + 1)
                if fails:
                    print(f"{net} {layer} row {row} {voltage} V {key}: {gt['errs']} simulator errors; failed: {', '.join(fails)}",
                          flush=True)
for key, (ok, total) in totals.items():
    print(f"{key}: {ok} of {total} cases within tolerance")
fractions = [(k / n, case) for case, k, n in confined if n >= MIN_ERRORS]
print(f"erroneous cycles whose wrong bits all changed from the previous cycle's correct value: "
      f"{sum(k for _, k, _ in confined)} of {sum(n for _, _, n in confined)}; per case (>= {MIN_ERRORS} errors) "
      f"{min(fractions)[0]:.2f} ({min(fractions)[1]}) to {max(fractions)[0]:.2f} ({max(fractions)[1]})")
