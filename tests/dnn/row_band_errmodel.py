#!/usr/bin/env python3
"""Writes a row-band error model for the Verilator injection tests: the fixture's
error-free point (1.0 V) for the upper half of the config's rows and its 0.9 V
point (4 % of captures) for the lower half, both as the 0.9 V point.
   row_band_errmodel.py FIXTURE CONFIG OUT"""
import copy
import json
import sys

m, rows = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))["rows"]
clean = next(p for p in m["points"] if p["voltage"] == 1.0)
faulty = next(p for p in m["points"] if p["voltage"] == 0.9)
top, bottom = copy.deepcopy(clean), copy.deepcopy(faulty)
top["voltage"] = bottom["voltage"] = 0.9
top["pe_rows"], bottom["pe_rows"] = [0, rows // 2 - 1], [rows // 2, rows - 1]
m["schema_version"], m["points"] = 2, [top, bottom]
json.dump(m, open(sys.argv[3], "w"))
