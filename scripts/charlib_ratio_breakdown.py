#!/usr/bin/env python3
"""Where the spice-ratio delay error sits (docs/charlib.md, "Where the ratio error sits").

Reads the entries CSV of `vosa charlib-compare --entries` (make validate-charlib writes
build/<config>-<hash>/sky130hd/charlib/validation/entries.csv) and prints, for the delay
tables (cell_rise, cell_fall): median / p90 / max |error| and the share above 8 % per corner,
for measured and interpolated grid points; at the lowest corner the share above 8 % by slew
and load index of the shipped 7x7 grid; per cell with its structure from the cell netlist
(smallest pMOS width, internal nets that drive a gate: 0 = one stage); single- against
multi-stage cells.

  scripts/charlib_ratio_breakdown.py <entries.csv> [<cell netlist .spice or .spice.gz>]
  scripts/charlib_ratio_breakdown.py --interpolation <entries.csv of a --grid-points 0 run>

--interpolation: the error of interpolating the SPICE delay ratio itself (no shipped values
involved) from the 3x3 subset of a full 7x7 measurement (indices 0, 3, 6) onto all 49 points,
linear against log-log in slew and load, per corner.

  scripts/charlib_ratio_breakdown.py --table <cell> <entries.csv>
  scripts/charlib_ratio_breakdown.py --per-cell <label>=<entries.csv>[,<entries.csv>...] ...

--table: one cell's mean signed delay ratio error per (slew, load) of cell_rise and cell_fall, per
corner (where on the table a cell's error sits: drive-limited entries at heavy loads, or flat).
--per-cell: median / p90 / max |error| per cell and corner, and per corner over all cells, for
each labelled set of entries CSVs side by side (e.g. global=<csv>,<csv> percell=<csv>,<csv>: the
held-out check of a per-cell calibration, docs/charlib.md).

The netlist defaults to $VOSA_DATA_DIR/pdks/sky130_fd_sc_hd/sky130_fd_sc_hd.spice.gz.
"""
import collections
import csv
import gzip
import os
import re
import statistics
import sys

LIMIT = 0.08  # the goal for the largest ratio error


def stats(errors):
    a = sorted(abs(e) for e in errors)
    if not a:
        return "-"
    over = 100.0 * sum(1 for e in a if e > LIMIT) / len(a)
    return "%4.1f / %4.1f / %5.1f %% (%d entries, %.0f %% > 8 %%)" % (
        100 * a[len(a) // 2], 100 * a[min(len(a) - 1, len(a) * 9 // 10)], 100 * a[-1], len(a), over)


def cell_structure(netlist_text, cell):
    """(smallest pMOS width in um, internal nets that drive a gate) of a .subckt."""
    m = re.search(r"^\.subckt %s (.*?)\n(.*?)^\.ends" % re.escape(cell), netlist_text, re.S | re.M | re.I)
    if not m:
        return None, None
    ports = set(m.group(1).split())
    diffusion, gates, p_widths = set(), set(), []
    for line in m.group(2).splitlines():
        t = line.split()
        if len(t) < 6 or not t[0].upper().startswith("X"):
            continue
        drain, gate, source = t[1], t[2], t[3]
        gates.add(gate)
        diffusion.update(n for n in (drain, source) if n not in ports)
        w = re.search(r"w=([\d.e+-]+)u", line)
        if "pfet" in line and w:
            p_widths.append(float(w.group(1)) / 1e6)
    return (min(p_widths) if p_widths else None), len(diffusion & gates)


def interpolation_error(entries):
    """Per corner: |interpolated / measured SPICE ratio - 1| for linear and log-log axes."""
    import bisect
    import math
    with open(entries, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["type"].startswith("cell_")]
    tables = collections.defaultdict(dict)
    for r in rows:
        tables[(r["corner"], r["cell"], r["pin"], r["arc"], r["type"])][(float(r["slew"]), float(r["load"]))] = r
    k = 0.5 / 0.6  # sky130's ramp offset per slew (ramp_offset_per_slew): delays from the ramp's start

    def interp(xs, ys, x, log):
        f = math.log if log else (lambda v: v)
        i = max(0, min(len(xs) - 2, bisect.bisect_right(xs, x) - 1))
        t = (f(x) - f(xs[i])) / (f(xs[i + 1]) - f(xs[i]))
        return ys[i] + (ys[i + 1] - ys[i]) * t

    for log in (False, True):
        errors = collections.defaultdict(list)
        for key, t in tables.items():
            slews = sorted(set(p[0] for p in t))
            loads = sorted(set(p[1] for p in t))
            if len(slews) < 7 or len(loads) < 7 or any(r["measured"] != "1" for r in t.values()):
                continue
            ratio = lambda s, l: ((float(t[(s, l)]["spice_v"]) + k * s) / (float(t[(s, l)]["spice_top"]) + k * s))
            sx, lx = [slews[i] for i in (0, 3, 6)], [loads[i] for i in (0, 3, 6)]
            grid = [[ratio(s, l) for l in lx] for s in sx]
            for (s, l) in t:
                column = [interp(lx, grid[i], l, log) for i in range(3)]
                errors[key[0]].append(interp(sx, column, s, log) / ratio(s, l) - 1)
        if not errors:
            sys.exit("charlib_ratio_breakdown: %s has no fully measured 7x7 delay tables (run --grid-points 0)" % entries)
        for corner in sorted(errors):
            print("%-8s %s %s" % ("log-log" if log else "linear", corner, stats(errors[corner])))


def read_delay_rows(files):
    rows = []
    for name in files:
        with open(name, newline="") as f:
            rows += [r for r in csv.DictReader(f) if r["type"] in ("cell_rise", "cell_fall")]
    return rows


def table_of(cell, entries):
    """Mean signed error per (slew, load) of one cell's delay tables, per corner."""
    rows = [r for r in read_delay_rows([entries]) if r["cell"] in (cell, "sky130_fd_sc_hd__" + cell)]
    if not rows:
        sys.exit("charlib_ratio_breakdown: %s has no delay entries of cell %s" % (entries, cell))
    for corner in sorted(set(r["corner"] for r in rows)):
        for t in ("cell_rise", "cell_fall"):
            d = [r for r in rows if r["corner"] == corner and r["type"] == t]
            if not d:
                continue
            slews = sorted(set(float(r["slew"]) for r in d))
            loads = sorted(set(float(r["load"]) for r in d))
            e = [float(r["error"]) for r in d]
            print("%s %s %s: mean %+.1f %%, median |error| %.1f %%; rows slew (ns), columns load (pF)" % (
                corner, cell, t, 100 * statistics.mean(e), 100 * sorted(abs(x) for x in e)[len(e) // 2]))
            print("  %8s " % "" + " ".join("%7.4f" % l for l in loads))
            for sl in slews:
                cells = []
                for l in loads:
                    v = [float(r["error"]) for r in d if float(r["slew"]) == sl and float(r["load"]) == l]
                    cells.append("%+6.1f%%" % (100 * statistics.mean(v)) if v else "      -")
                print("  %8.3f " % sl + " ".join(cells))


def per_cell_sets(sets):
    """Median / p90 / max per cell and corner for labelled sets of entries CSVs."""
    data = []
    for arg in sets:
        label, _, files = arg.partition("=")
        if not files:
            sys.exit("charlib_ratio_breakdown: --per-cell takes <label>=<entries.csv>[,...], not %s" % arg)
        by = collections.defaultdict(list)
        for r in read_delay_rows(files.split(",")):
            by[(r["corner"], r["cell"])].append(float(r["error"]))
        data.append((label, by))

    def short(errors):
        a = sorted(abs(e) for e in errors)
        if not a:
            return "-"
        return "%.1f / %.1f / %.1f %%" % (100 * a[len(a) // 2], 100 * a[min(len(a) - 1, len(a) * 9 // 10)], 100 * a[-1])

    corners = sorted(set(k[0] for _, by in data for k in by))
    cells = sorted(set(k[1] for _, by in data for k in by))
    print("delay ratio error median / p90 / max per cell and corner: " + " | ".join(l for l, _ in data))
    for cell in cells:
        print(cell)
        for corner in corners:
            print("  %-14s" % corner, " | ".join(short(by.get((corner, cell), [])) for _, by in data))
    print("all cells")
    for corner in corners:
        print("  %-14s" % corner, " | ".join(
            short([e for (c, _), v in by.items() if c == corner for e in v]) + " (%d)" % sum(
                len(v) for (c, _), v in by.items() if c == corner) for _, by in data))


def main():
    try:
        if len(sys.argv) == 4 and sys.argv[1] == "--table":
            table_of(sys.argv[2], sys.argv[3])
            return
        if len(sys.argv) >= 3 and sys.argv[1] == "--per-cell":
            per_cell_sets(sys.argv[2:])
            return
    except (OSError, KeyError, ValueError) as e:
        sys.exit("charlib_ratio_breakdown: %s" % e)
    if len(sys.argv) == 3 and sys.argv[1] == "--interpolation":
        try:
            interpolation_error(sys.argv[2])
        except (OSError, KeyError) as e:
            sys.exit("charlib_ratio_breakdown: %s" % e)
        return
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    entries = sys.argv[1]
    data = os.environ.get("VOSA_DATA_DIR", "../shared")
    netlist = sys.argv[2] if len(sys.argv) > 2 else os.path.join(data, "pdks", "sky130_fd_sc_hd",
                                                                "sky130_fd_sc_hd.spice.gz")
    try:
        with open(entries, newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["type"].startswith("cell_")]
        opener = gzip.open if netlist.endswith(".gz") else open
        with opener(netlist, "rt") as f:
            netlist_text = f.read()
    except (OSError, KeyError) as e:
        sys.exit("charlib_ratio_breakdown: %s" % e)
    if not rows:
        sys.exit("charlib_ratio_breakdown: %s has no cell_rise/cell_fall entries" % entries)
    for r in rows:
        for k in ("slew", "load", "error"):
            r[k] = float(r[k])
    # Index of each entry on its table's own axes.
    axes = collections.defaultdict(lambda: (set(), set()))
    for r in rows:
        key = (r["cell"], r["pin"], r["arc"], r["type"])
        axes[key][0].add(r["slew"])
        axes[key][1].add(r["load"])
    for r in rows:
        s, l = axes[(r["cell"], r["pin"], r["arc"], r["type"])]
        r["si"], r["li"] = sorted(s).index(r["slew"]), sorted(l).index(r["load"])

    corners = sorted(set(r["corner"] for r in rows))
    print("delay ratio error |spice-ratio / shipped - 1|: median / p90 / max")
    print("all corners:", stats([r["error"] for r in rows]))
    for c in corners:
        d = [r for r in rows if r["corner"] == c]
        print(c, stats([r["error"] for r in d]))
        print("   measured grid points:    ", stats([r["error"] for r in d if r["measured"] == "1"]))
        print("   interpolated grid points:", stats([r["error"] for r in d if r["measured"] == "0"]))
        for t in ("cell_rise", "cell_fall"):
            e = [r["error"] for r in d if r["type"] == t]
            print("   %-9s" % t, stats(e), "mean %+.1f %%" % (100 * statistics.mean(e)))
    low = corners[0]
    d = [r for r in rows if r["corner"] == low]
    n_s = 1 + max(r["si"] for r in d)
    n_l = 1 + max(r["li"] for r in d)
    print("\n%s: share of entries > 8 %% by slew index (rows) and load index (columns)" % low)
    for si in range(n_s):
        cells = []
        for li in range(n_l):
            e = [abs(r["error"]) > LIMIT for r in d if r["si"] == si and r["li"] == li]
            cells.append("%4.0f" % (100 * statistics.mean(e)) if e else "   -")
        print("   ", " ".join(cells))
    print("\n%s per cell (worst first): median / p90 / max, cell_rise and cell_fall mean, "
          "smallest pMOS W, internal nets" % low)
    per_cell = []
    for cell in sorted(set(r["cell"] for r in d)):
        e = [r for r in d if r["cell"] == cell]
        rise = statistics.mean([r["error"] for r in e if r["type"] == "cell_rise"] or [0])
        fall = statistics.mean([r["error"] for r in e if r["type"] == "cell_fall"] or [0])
        w, stages = cell_structure(netlist_text, cell)
        per_cell.append((abs(rise) + abs(fall), cell, stats([r["error"] for r in e]), rise, fall, w, stages))
    for _, cell, s, rise, fall, w, stages in sorted(per_cell, reverse=True):
        print("  %-28s %s rise %+5.1f %% fall %+5.1f %%  pMOS W %s um  internal nets %s" % (
            cell, s, 100 * rise, 100 * fall, "%.2f" % w if w else "-", stages))
    structure = {cell: (w, stages) for _, cell, _, _, _, w, stages in per_cell}
    print("\n%s by structure:" % low)
    print("  one stage:  ", stats([r["error"] for r in d if structure[r["cell"]][1] == 0]))
    print("  more stages:", stats([r["error"] for r in d if (structure[r["cell"]][1] or 0) > 0]))


if __name__ == "__main__":
    main()
