#!/usr/bin/env python3
"""Does razor_cost.json have what make explore prices for this PDK and array:
the TE-Drop row, every PE priced from its simulated activity too, and the
island controller of this config (same columns and islands), simulated too?
Exit 0 if so, 1 if razor-cost must run (again).
usage: razor_cost_has.py RAZOR_COST_JSON PDK ARRAY_CONFIG"""
import json
import sys

try:
    rows = json.load(open(sys.argv[1]))["pdks"][sys.argv[2]]["rows"]
    cfg = json.load(open(sys.argv[3]))
except (OSError, KeyError, ValueError, IndexError):
    sys.exit(1)
islands = cfg.get("islands") or {}
n_islands = islands.get("count", len(islands.get("columns", []))) if islands else 0
has_drop = any(r.get("policy") == "drop" for r in rows)
pes_simulated = all("power_rel_pe0_simulated" in r for r in rows if isinstance(r.get("protected_bits"), int))
has_ctrl = not islands or any(r.get("cols") == cfg.get("cols") and r.get("islands") == n_islands and
                              "energy_pj_per_cycle_simulated" in r for r in rows)
sys.exit(0 if has_drop and pes_simulated and has_ctrl else 1)
