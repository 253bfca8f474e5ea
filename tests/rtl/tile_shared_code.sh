#!/usr/bin/env bash
# A tiled array's Verilated model shares the tile's code between instances
# (docs/rtl.md, "Tiles"): a 32x32 array of 8x8 tiles (16 instances), plain and
# with VOSA_INJECT_ERRORS, must produce at most 4 variants of the tile's
# per-cycle function. Per-instance code (tile ports substituted by the
# neighbours' registers, or a DPI call site per PE) gives one per tile, and
# is what kept a 256x256 array from building.
#   tile_shared_code.sh VOSA WORK_DIR
set -uo pipefail
VOSA="$1"; WORK="$2"
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$WORK" && mkdir -p "$WORK"
printf '{"rows": 32, "cols": 32, "tile": {"rows": 8, "cols": 8}}\n' > "$WORK/config.json"
"$VOSA" generate --quiet --config "$WORK/config.json" --out "$WORK/design" || fail "vosa generate"
for define in "" "+define+VOSA_INJECT_ERRORS"; do
  obj="$WORK/obj${define:+_inject}"
  # The flags of testbench/build_verilated.sh for a tiled design, C++ not compiled.
  verilator --cc -O3 -fno-expand --x-assign fast --x-initial fast --noassert --output-split 20000 \
    --top-module vosa_top -Mdir "$obj" $define "$WORK"/design/rtl/*.v > "$obj.log" 2>&1 ||
    { cat "$obj.log"; fail "verilator ${define:-(plain)}"; }
  variants="$(grep -ho '^VL_INLINE_OPT void Vvosa_top_vosa_tile___nba_sequent__[A-Za-z0-9_]*' "$obj"/*.cpp | sort -u | wc -l)"
  calls="$(grep -c 'vosa_inject_mask(' "$obj"/*.cpp | awk -F: '{n += $2} END {print n + 0}')"
  echo "${define:-plain}: $variants tile code variant(s) for 16 tiles, $(cat "$obj"/*.cpp | wc -c) bytes of C++, $calls inject call(s)"
  [ "$variants" -ge 1 ] || fail "no tile function found (the model's naming changed?)"
  [ "$variants" -le 4 ] || fail "$variants tile code variants ${define:+with $define }for 16 tiles: the tile code is per instance"
  if [ -n "$define" ]; then
    [ "$calls" -ge 64 ] || fail "the injecting model calls vosa_inject_mask $calls times (64 PEs per tile)"
  fi
done
echo "PASS: tile code shared"
