#!/usr/bin/env python3
"""Four injection forms on the same validate-errmodel cases (docs/errmodel.md "Value classes
against XOR and correct bits"): errmodel-validate reports of value classes + XOR (VX_DIR/
<net>_<layer>_row<r>.json), value classes + correct bits (VC_DIR/<net>/report_<layer>_row<r>.json,
scripts/errmodel_refit_validate.sh), XOR (XOR_DIR/<net>_<layer>_row<r>.json, labels *-xor) and
the folder's own schema-3 reports (FOLDER/<net>/report_<layer>_row<r>.json). Prints the
per-case table (--table) and per kind the counts over the cases VX_DIR holds; --bits NET LAYER
ROW V KIND prints each form's model / gate-level ratio of bits 12 and up instead.
usage: errmodel_form_table.py FOLDER VC_DIR VX_DIR XOR_DIR [--table | --bits NET LAYER ROW V KIND]
   or: errmodel_form_table.py --forms NAME=PATTERN [NAME=PATTERN ...] [--table | --bits ...]
       any forms, PATTERN a report path with {net}, {layer} and {row} (labels "-xor" dropped);
       the cases are the first form's reports (docs/errmodel.md "Hit rate per value class")."""
import glob
import json
import os
import sys

if sys.argv[1] == "--forms":
    specs, rest = [], []
    for a in sys.argv[2:]:
        (specs if "=" in a and not rest else rest).append(a)
    specs = [tuple(a.split("=", 1)) for a in specs]
    first = specs[0][1]

    def paths(net, layer, row):
        return [(n, p.format(net=net, layer=layer, row=row), lambda l: l.replace("-xor", "")) for n, p in specs]

    def cases():
        prefix, suffix = first.split("{net}")[0], first.split("{row}")[1]
        for f in sorted(glob.glob(first.replace("{net}", "*").replace("{layer}", "*").replace("{row}", "*"))):
            parts = f[len(prefix):len(f) - len(suffix)]
            # PATTERN's text between the fields: split the path on it
            mid1 = first.split("{net}")[1].split("{layer}")[0]
            mid2 = first.split("{layer}")[1].split("{row}")[0]
            net, tail = parts.split(mid1, 1)
            layer, row = tail.split(mid2, 1)
            yield f, net, layer, row
else:
    folder, vc_dir, vx_dir, xor_dir = sys.argv[1:5]
    rest = sys.argv[5:]

    def paths(net, layer, row):
        return [("value classes + XOR", f"{vx_dir}/{net}_{layer}_row{row}.json", lambda l: l),
                ("value classes + correct bits", f"{vc_dir}/{net}/report_{layer}_row{row}.json", lambda l: l),
                ("XOR", f"{xor_dir}/{net}_{layer}_row{row}.json", lambda l: l.replace("-xor", "")),
                ("correct bits (schema 3)", f"{folder}/{net}/report_{layer}_row{row}.json", lambda l: l)]

    def cases():
        for f in sorted(glob.glob(f"{vx_dir}/*_row*.json")):
            base = os.path.basename(f)[:-5]
            yield f, base.split("_")[0], base.split("_")[1], base.split("_row")[1]


if rest and rest[0] == "--bits":
    net, layer, row, v, kind = rest[1:6]
    for name, path, rename in paths(net, layer, row):
        run = [x for x in json.load(open(path))["runs"] if abs(x["voltage"] - float(v)) < 1e-6][0]
        m = [x for x in run["models"] if rename(x["label"]) == kind][0]
        print(f"{name:30s}", " ".join(f'{b["bit"]}:{b["model"]["mean"] / b["dta"]["p_error"]:.2f}' +
                                      ("" if b.get("pass", True) else "!")
                                      for b in m["comparison"]["bits"] if b["bit"] >= 12 and b["dta"]["p_error"] > 0))
    sys.exit(0)


def verdicts(path, rename):
    out = {}
    for run in json.load(open(path))["runs"]:
        for m in run["models"]:
            c = m["comparison"]
            out[(rename(m["label"]), round(run["voltage"], 2))] = (
                c["pass"], [k["check"].replace(" rate", "") for k in c["checks"] if not k["pass"]])
    return out


totals, rows = {}, []
nforms = len(paths("", "", ""))
for f, net, layer, row in cases():
    forms = [verdicts(p, r) for _, p, r in paths(net, layer, row)]
    for key in sorted(forms[0]):
        t = totals.setdefault(key[0], [0] * (nforms + 1))
        for i, d in enumerate(forms):
            t[i] += d[key][0]
        t[nforms] += 1
        rows.append((net, layer, row, key[1], key[0], [d[key] for d in forms]))
yn = lambda p: "yes" if p[0] else "no (" + ", ".join(p[1]) + ")"
if "--table" in rest:
    for net, layer, row, v, kind, ds in rows:
        if kind in ("per-layer+classes", "self+classes"):
            print(f"| {net} {layer} row {row} | {v:.2f} | {kind} | " + " | ".join(yn(d) for d in ds) + " |")
names = [n for n, _, _ in paths("", "", "")]
for kind, t in totals.items():
    print(f"model {kind}: " + "; ".join(f"{names[i]} {t[i]} of {t[nforms]}" for i in range(nforms)) +
          " cases within tolerance")
