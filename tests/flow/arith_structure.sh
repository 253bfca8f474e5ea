#!/usr/bin/env bash
# Does the adder structure survive synthesis (docs/arith.md)? A PE with a
# 2x2-bit multiplier and a 32-bit accumulator, so the accumulator adder sets
# each bit's path, per adder kind through the flow's synthesis and STA
# (osu018, sign-off corner). Stored bounds on the logic depth (pins on the
# worst path) of the output register bits, from the architecture:
#   ripple:        one more carry stage per bit: depth(MSB) - depth(16) >= 24
#   prefix adders: log2 levels: depth(MSB) - depth(8) <= 12 (Kogge-Stone,
#                  Sklansky 6, Brent-Kung 10 measured)
#   carry_select:  one multiplexer per 4-bit block: between the two
# and the MSB arrival of every prefix adder at least 1.5 ns before ripple's.
#   arith_structure.sh VOSA WORK_DIR
set -euo pipefail
VOSA="$1"; WORK="$2"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
mkdir -p "$WORK"
for cfg in "$ROOT"/tests/configs/arith_timing/add32_*.json; do
  name="$(basename "$cfg" .json)"
  "$VOSA" generate --quiet --config "$cfg" --out "$WORK/$name/design"
  make --no-print-directory -s -f "$ROOT/flow/stages.make" ROOT="$ROOT" BUILD="$WORK" VOSA="$VOSA" \
    CONFIG_NAME="$name" PDK=osu018 DESIGN_DIR="$WORK/$name/design" REQUESTED_CORNERS=typ_1v80 sta \
    > "$WORK/$name.log" 2>&1 || { tail -20 "$WORK/$name.log"; echo "FAIL: flow of $name"; exit 1; }
done
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
def bits(kind):
    d = json.load(open("%s/add32_%s/osu018/sta/bit_timing.json" % (work, kind)))
    c = next(c for c in d["corners"] if c["name"] == "typ_1v80")
    return [b["paths"][0]["pins"] for b in c["bits"]], [b["arrival_ns"] for b in c["bits"]]
depth, arrival = {}, {}
for k in ("ripple", "kogge_stone", "brent_kung", "sklansky", "carry_select"):
    depth[k], arrival[k] = bits(k)
    print("%-13s depth %s" % (k, depth[k]))
fails = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok: fails.append(what)
rip = depth["ripple"][31] - depth["ripple"][16]
check(rip >= 24, "ripple: depth(31) - depth(16) = %d >= 24" % rip)
for k in ("kogge_stone", "sklansky", "brent_kung"):
    g = depth[k][31] - depth[k][8]
    check(g <= 12, "%s: depth(31) - depth(8) = %d <= 12" % (k, g))
    check(arrival[k][31] <= arrival["ripple"][31] - 1.5,
          "%s: MSB arrival %.2f ns <= ripple's %.2f - 1.5" % (k, arrival[k][31], arrival["ripple"][31]))
cs = depth["carry_select"][31] - depth["carry_select"][16]
check(12 < cs < rip, "carry_select: depth(31) - depth(16) = %d between 12 and ripple's %d" % (cs, rip))
sys.exit(1 if fails else 0)
PY
echo "arith_structure: every adder kind keeps its structure through synthesis (osu018)"
