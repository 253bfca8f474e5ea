#!/usr/bin/env python3
"""Report of `make validate-errmodel` (docs/errmodel.md, "Fidelity"): reads the per-(layer, row)
reports flow/validate_errmodel.sh wrote under OUT (cases.txt: net:train:layer:row per line,
seconds.txt: the run's wall time) and writes OUT/report.{json,md} with every case's verdict, the
cause of every miss (for kind per-layer also whether it lies inside the check's own sampling
noise: input_noise()) and one summary line per model kind. Rerunnable on its own:
    flow/validate_errmodel_report.py build/<config>-<hash>/<pdk>-v<voltages>/validate-errmodel"""
import glob, json, os, struct, sys

def psum_bits(net, layer, row):
    """Median and 90th percentile of the bit width of |psum_in + a*w| (the value the PE's
    register captures) over a trace (docs/trace.md format)."""
    data = open(glob.glob(f"{out}/{net}/traces/{layer}_*_pe{row}_0.vtrace")[0], "rb").read()
    n = struct.unpack_from("<I", data, 8)[0]
    count = json.loads(data[12:12 + n])["count"]
    w = sorted(abs(p + a * b).bit_length() for a, b, p in struct.iter_unpack("<iiq", data[12 + n:12 + n + 16 * count]))
    return {"median": w[len(w) // 2], "p90": w[int(len(w) * 0.9)]} if w else {"median": 0, "p90": 0}
# The kinds the flows use by default (docs/errmodel.md, "Fidelity"): the injector always
# uses a file's operand classes; make characterize fits on uniform operands, make explore
# on every array layer's own stream, one band per PE row (kind per-layer+classes;
# EXPLORE_OPERANDS=trace: one layer's bottom-row PE for every layer, kind layer+classes).
TOL = float(os.environ.get("TOLERANCE", "0.25"))  # the run's --tolerance (flow/validate_errmodel.sh exports it)
DEFAULT = {"per-layer+classes": "make explore", "uniform+classes": "make characterize"}
MIN_EVENTS = 20  # below this many erroneous simulator cycles a comparison is noise-bound
INF = float("inf")
def ratio(stat):
    d = stat["dta"]["value"]
    return stat["model"]["mean"] / d if d else float("nan")

def wilson(k, n):
    if n == 0:
        return 0.0, 1.0
    z = 1.96
    p, d = k / n, 1 + z * z / n
    c, h = (p + z * z / (2 * n)) / d, z * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5 / d
    return max(0.0, c - h), min(1.0, c + h)

def stream_point(path, voltage):
    """Counts of one simulated stream from its errmodel point (error_values lists every erroneous cycle)."""
    pt = next(p for p in json.load(open(path))["points"] if abs(p["voltage"] - voltage) < 1e-6)
    vals = pt["error_values"]
    return {"n": pt["samples"], "k": pt["cycles_with_error"], "bits": [b["errors"] for b in pt["bits"]],
            "sum": sum(abs(e["value"]) * e["count"] for e in vals), "sq": sum(e["value"] ** 2 * e["count"] for e in vals),
            "max": max((abs(e["value"]) for e in vals), default=0)}

def count_ratio_ci(kf, nf, kc, nc):
    """95 % interval of the rate ratio fitted/checked of two streams from the split of their events
    (given k = kf + kc events, kf is binomial with p = nf rf / (nf rf + nc rc); Wilson interval on p)."""
    if kf + kc == 0:
        return 0.0, INF
    lo, hi = wilson(kf, kf + kc)
    odds = lambda q: q / (1 - q) * nc / nf if q < 1 else INF
    return odds(lo), odds(hi)

def mean_ratio_ci(f, c):
    """95 % interval of the mean-|error| ratio fitted/checked (normal on the log ratio, delta method)."""
    mf, mc = f["sum"] / f["n"], c["sum"] / c["n"]
    if mf == 0 or mc == 0:
        return (0.0, INF) if mf == mc else ((0.0, 0.0) if mf == 0 else (INF, INF))
    var = lambda s, m: max(0.0, s["sq"] / s["n"] - m * m) / s["n"] / (m * m)
    import math
    h = 1.96 * math.sqrt(var(f, mf) + var(c, mc))
    return mf / mc * math.exp(-h), mf / mc * math.exp(h)

def input_noise(failed, f, c):
    """Sampling noise of the check (docs/errmodel.md, "Fidelity"): the intervals of the ratios
    fitted stream / checked stream of every statistic a kind-per-layer case failed; the miss is
    inside the noise when each interval contains 1 (the two streams of the same layer and row do
    not differ at 95 %: what the model reproduces and what it is checked on are two samples of
    one rate). A max |error| miss is noise when either stream has fewer than MIN_EVENTS."""
    out = {}
    for check in failed:
        if check == "P(any error)":
            out[check] = count_ratio_ci(f["k"], f["n"], c["k"], c["n"])
        elif check == "mean abs error":
            out[check] = mean_ratio_ci(f, c)
        elif check.startswith("bit "):
            j = int(check.split()[1])
            out[check] = count_ratio_ci(f["bits"][j], f["n"], c["bits"][j], c["n"])
        else:
            out[check] = (0.0, INF) if min(f["k"], c["k"]) < MIN_EVENTS else (f["max"] / max(c["max"], 1),) * 2
    return out
def main(folder):
    global out
    out = folder
    cases = open(f"{out}/cases.txt").read().split()
    seconds = int(open(f"{out}/seconds.txt").read())
    verdicts, sections = [], []
    for c in cases:
        net, train, layer, row = c.split(":")
        rep = json.load(open(f"{out}/{net}/report_{layer}_row{row}.json"))
        for r in rep["runs"]:
            by_label = {m["label"]: m["comparison"] for m in r["models"]}
            for m in r["models"]:
                cmp = m["comparison"]
                v = {"network": net, "train_layer": train, "test_layer": layer, "pe_row": int(row),
                     "voltage": r["voltage"], "model": m["label"], "pass": cmp["pass"],
                     "sim_p_any": cmp["p_any_error"]["dta"]["value"],
                     "sim_errors": round(cmp["p_any_error"]["dta"]["value"] * rep["cycles"]),
                     "sim_mean_abs_error": cmp["mean_abs_error"]["dta"]["value"],
                     "model_p_any": cmp["p_any_error"]["model"]["mean"],
                     "p_any_ratio": ratio(cmp["p_any_error"]),
                     "mean_abs_error_ratio": ratio(cmp["mean_abs_error"]),
                     "failed": [k["check"] for k in cmp["checks"] if not k["pass"]]}
                # The cause of a miss: too few events to decide; the model's form (it misses
                # even when fitted on this very stream: kind self with the same classes use);
                # the position (the bottom row's model at another row, where the per-row
                # model agrees); or the transfer from the training layer.
                if m["label"].startswith("per-layer"):
                    # The two simulated streams behind this case: the fitting inputs' (the model's
                    # own data) and the checked inputs' (the ground truth, kind self's data).
                    f = stream_point(f"{out}/{net}/model_per-layer_{layer}_row{row}.json", r["voltage"])
                    c = stream_point(f"{out}/{net}/model_self_{layer}_row{row}.json", r["voltage"])
                    lo, hi = count_ratio_ci(f["k"], f["n"], c["k"], c["n"])
                    v["streams_rate_ratio"] = {"fitted_errors": f["k"], "fitted_cycles": f["n"], "ci95": [lo, hi],
                                               "resolves_tolerance": lo > 0 and hi / lo <= (1 + TOL) / (1 - TOL)}
                    if not v["pass"]:
                        cis = input_noise(v["failed"], f, c)
                        v["streams_ratio_ci95"] = {k: list(x) for k, x in cis.items()}
                        v["sampling_noise"] = all(x[0] <= 1 <= x[-1] for x in cis.values())
                if not v["pass"]:
                    own = by_label.get("self+classes" if m["per_class"] else "self")
                    rows_kind = by_label.get("layer-rows+classes" if m["per_class"] else "layer-rows")
                    rate = "P(any error)" in v["failed"]
                    per_err = v["mean_abs_error_ratio"] / v["p_any_ratio"] if v["p_any_ratio"] else float("nan")
                    what = ((f"rate {v['p_any_ratio']:.2f}x" if v["sim_errors"] else
                             f"rate {v['model_p_any']:.2g} where the simulator saw no error") if rate else
                            f"error per erroneous cycle {per_err:.2f}x" if "mean abs error" in v["failed"] else
                            "per-bit rates" if any(f.startswith("bit") for f in v["failed"]) else "max |error|")
                    if v["sim_errors"] < MIN_EVENTS and not rate:
                        v["cause"] = f"too few events: {v['sim_errors']} erroneous simulator cycles"
                    elif m["label"].startswith("uniform"):
                        v["cause"] = f"operand stream ({what}): uniform operands are not this layer's transitions"
                    elif m["label"].startswith("self") or (own is not None and not own["pass"]):
                        v["cause"] = f"model form ({what}): fitted on this stream itself it misses too"
                    elif v.get("sampling_noise"):
                        fmt = lambda x: "inf" if x == INF else f"{x:.2f}"
                        v["cause"] = (f"sampling noise ({what}): {layer}'s fitted and checked streams do not differ at 95 % ("
                                      + "; ".join(f"{k}: fitted/checked {fmt(x[0])}-{fmt(x[-1])}"
                                                  for k, x in v["streams_ratio_ci95"].items()) + ")")
                    elif m["label"].startswith("per-layer"):
                        v["cause"] = (f"input transfer ({what}): {layer}'s stream of the fitted inputs "
                                      "differs from the checked inputs'")
                    elif m["label"] in ("layer", "layer+classes") and rows_kind is not None and rate and \
                            "P(any error)" not in [k["check"] for k in rows_kind["checks"] if not k["pass"]]:
                        v["cause"] = f"position ({what}): the bottom row's model at row {row}; the per-row model has the rate"
                    else:
                        v["cause"] = f"layer transfer ({what}): {train}'s statistics differ from {layer}'s"
                verdicts.append(v)
        sections.append(open(f"{out}/{net}/report_{layer}_row{row}.md").read().replace(
            "# Error-model fidelity", f"# {net}: held-out layer {layer}, PE row {row} (models fitted on {train})", 1))
    kinds = []
    for v in verdicts:
        if v["model"] not in kinds:
            kinds.append(v["model"])
    summary, causes = [], []
    for k in kinds:
        vs = [v for v in verdicts if v["model"] == k]
        summary.append(f"model {k}: {sum(v['pass'] for v in vs)} of {len(vs)} cases within tolerance"
                       + (f" (default of {DEFAULT[k]})" if k in DEFAULT else "")
                       + (" (diagnostic: fitted on the held-out stream)" if k.startswith("self") else ""))
        noise = sum(1 for v in vs if v.get("cause", "").startswith("sampling noise"))
        if k.startswith("per-layer"):
            summary.append(f"model {k}, cases the check decides: {sum(v['pass'] for v in vs)} of {len(vs) - noise} within "
                           f"tolerance ({noise} misses inside the check's sampling noise set aside; "
                           f"{sum(1 for v in vs if not v['streams_rate_ratio']['resolves_tolerance'])} of {len(vs)} cases "
                           "where the two streams' rate-ratio interval is wider than the tolerance band)")
        count = {}
        for v in vs:
            if not v["pass"]:
                kind = v["cause"].split(" (")[0].split(":")[0]
                count[kind] = count.get(kind, 0) + 1
        causes.append(f"misses of {k}: " + (", ".join(f"{n} {c}" for c, n in count.items()) or "none"))
    streams = {}
    for c in cases:
        net, train, layer, row = c.split(":")
        for l in (train, layer):
            streams.setdefault(f"{net} {l} row {row}", psum_bits(net, l, row))
    # P(any error) of each row band of the per-row models (the training layers' rows).
    bands = {}
    for c in cases:
        net, train = c.split(":")[:2]
        if f"{net} {train}" in bands:
            continue
        m = json.load(open(f"{out}/{net}/model_{train}_layer-rows.json"))
        for p in m["points"]:
            bands.setdefault(f"{net} {train}", {}).setdefault(str(p["voltage"]), []).append(round(p["p_any_error"], 4))
    report = {"default_kinds": DEFAULT, "seconds": seconds, "verdicts": verdicts, "summary": summary, "causes": causes,
              "psum_bits": streams, "row_band_p_any": bands}
    tmp = f"{out}/report.json.partial"
    json.dump(report, open(tmp, "w"), indent=1)
    os.replace(tmp, f"{out}/report.json")
    md = ["# Error-model fidelity on held-out layers\n",
          "A case is (network, held-out layer, PE row, voltage). Default model kinds: "
          + ", ".join(f"`{k}` ({v})" for k, v in DEFAULT.items()) + f". Wall time {seconds} s.\n",
          "| network | held-out layer | PE row | V | simulator P(any), erroneous cycles, mean abs err | model | P(any) ratio "
          "| mean abs err ratio | within tolerance | failed checks | cause |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    md += [f"| {v['network']} | {v['test_layer']} | {v['pe_row']} | {v['voltage']} | {v['sim_p_any']:.4g}, "
           f"{v['sim_errors']}, {v['sim_mean_abs_error']:.4g} | {v['model']} | {v['p_any_ratio']:.2f} | "
           f"{v['mean_abs_error_ratio']:.2f} | {'yes' if v['pass'] else 'no'} | {', '.join(v['failed'])} | "
           f"{v.get('cause', '')} |" for v in verdicts]
    md += ["", "Bit width of |psum_in + a*w| per stream (median, 90th percentile):", "",
           "| stream | median | p90 |", "|---|---|---|"]
    md += [f"| {k} | {v['median']} | {v['p90']} |" for k, v in streams.items()]
    md += ["", "P(any error) of the per-row models (`layer-rows`), row 0 first:", "",
           "| training stream | V | P(any) by PE row |", "|---|---|---|"]
    md += [f"| {k} | {v} | {', '.join(map(str, ps))} |" for k, by_v in bands.items() for v, ps in by_v.items()]
    md += [""] + sections + ["## Summary\n"] + [s + "  " for s in summary] + [""] + [c + "  " for c in causes]
    tmp = f"{out}/report.md.partial"
    open(tmp, "w").write("\n".join(md) + "\n")
    os.replace(tmp, f"{out}/report.md")
    for v in verdicts:
        print(f"validate-errmodel: {v['network']} {v['test_layer']} row {v['pe_row']} {v['voltage']} V {v['model']}: "
              f"within tolerance: {'yes' if v['pass'] else 'no'}" + (f" ({v['cause']})" if not v["pass"] else ""))
    for s in summary + causes:
        print(s)


if __name__ == "__main__":
    main(sys.argv[1])
