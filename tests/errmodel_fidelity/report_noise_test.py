#!/usr/bin/env python3
"""The sampling-noise rule of make validate-errmodel's report (flow/validate_errmodel_report.py,
docs/errmodel.md "Fidelity"): the intervals of the ratio fitted / checked stream cover 1 when the
two streams share a rate (about 95 % of draws, also with unequal lengths), exclude it when the
rates differ clearly, and decide a miss as noise only when every failed check's interval covers 1.
    report_noise_test.py flow/validate_errmodel_report.py"""
import importlib.util, random, sys

spec = importlib.util.spec_from_file_location("report", sys.argv[1])
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)


def stream(n, p, size, rng):
    """Counts of a simulated stream: n cycles, each erroneous with p, |error| = size * (1 or 4)."""
    k, s, sq = 0, 0, 0
    for _ in range(n):
        if rng.random() < p:
            v = size * (4 if rng.random() < 0.25 else 1)
            k, s, sq = k + 1, s + v, sq + v * v
    return {"n": n, "k": k, "bits": [k], "sum": s, "sq": sq, "max": size * 4 if k else 0}


rng = random.Random(1)
draws, covered_rate, covered_mean = 300, 0, 0
for _ in range(draws):
    f, c = stream(8000, 0.01, 100, rng), stream(24000, 0.01, 100, rng)
    lo, hi = report.count_ratio_ci(f["k"], f["n"], c["k"], c["n"])
    covered_rate += lo <= 1 <= hi
    lo, hi = report.mean_ratio_ci(f, c)
    covered_mean += lo <= 1 <= hi
assert 0.90 * draws <= covered_rate <= draws, f"rate-ratio interval covers 1 in {covered_rate} of {draws}"
assert 0.90 * draws <= covered_mean <= draws, f"mean-ratio interval covers 1 in {covered_mean} of {draws}"

# Twice the rate in a stream a third as long: the ratio's interval lies around 2, not 1/2.
f, c = stream(8000, 0.02, 100, rng), stream(24000, 0.01, 100, rng)
lo, hi = report.count_ratio_ci(f["k"], f["n"], c["k"], c["n"])
assert 1.4 < lo < 2 < hi < 2.9, (lo, hi)
# A handful of events cannot resolve +-25 %: 4 against 11 in equal streams covers 1.
lo, hi = report.count_ratio_ci(4, 24000, 11, 24000)
assert lo < 0.75 and hi > 1, (lo, hi)

same = stream(24000, 0.01, 100, rng)
bigger = dict(same, sum=same["sum"] * 2, sq=same["sq"] * 4)
noise = report.input_noise(["P(any error)", "bit 0 rate"], same, same)
assert all(x[0] <= 1 <= x[-1] for x in noise.values()), noise
noise = report.input_noise(["mean abs error"], bigger, same)
assert not all(x[0] <= 1 <= x[-1] for x in noise.values()), noise
few = stream(24000, 0.0005, 100, rng)
assert report.input_noise(["max abs error"], few, few)["max abs error"] == (0.0, report.INF)
print("report_noise_test: ok")
