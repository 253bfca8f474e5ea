#!/usr/bin/env bash
# RTL quality gate for a slice of the config matrix: for every array size
# given and every operand width in 4 8 12 16, generate the design, lint it
# with `verilator --lint-only -Wall` (no warning allowed) and run
# `yosys synth` on it (no error or warning allowed).
#   [WIDTHS="8 16"] [ARITHMETIC='{"adder": "sklansky"}'] [PRECISION=1] \
#     rtl_matrix.sh VOSA DATAFLOW WORK_DIR ROWSxCOLS [ROWSxCOLS ...]
# ARITHMETIC: the config's "arithmetic" object (docs/config.md), default none.
# PRECISION=1: with "precision_modes": [width, width/2, 1] (docs/precision.md).
# TILE='{"rows": 2, "cols": 3}': the array as a grid of tiles (docs/rtl.md, "Tiles").
# BUFFERS='{"weight_depth": 8, "act_depth": 5}': weight/activation buffers (docs/sram.md);
#   then also linted with the simulation-only fault masks (-DVOSA_SRAM_FAULTS).
# REUSE=1: with "reuse": true, the zero-delta gated PE (docs/reuse.md, "Hardware").
# DEPTHWISE='{"group_rows": 2}': with the depthwise mode's lanes (docs/rtl.md, "Depthwise mode").
set -euo pipefail
VOSA="$1"; DATAFLOW="$2"; WORK="$3"; shift 3
mkdir -p "$WORK"
count=0
for size in "$@"; do
  rows="${size%x*}"; cols="${size#*x}"
  for width in ${WIDTHS:-4 8 12 16}; do
    name="${DATAFLOW}_${rows}x${cols}_w${width}"
    dir="$WORK/$name"
    precision=""
    [ -n "${PRECISION:-}" ] && precision=", \"precision_modes\": [$width, $((width / 2)), 1]"
    printf '{"rows": %d, "cols": %d, "act_bits": %d, "weight_bits": %d, "dataflow": "%s"%s%s}\n' \
      "$rows" "$cols" "$width" "$width" "$DATAFLOW" "${ARITHMETIC:+, \"arithmetic\": $ARITHMETIC}" \
      "$precision${TILE:+, \"tile\": $TILE}${BUFFERS:+, \"buffers\": $BUFFERS}${REUSE:+, \"reuse\": true}${DEPTHWISE:+, \"depthwise\": $DEPTHWISE}" \
      > "$WORK/$name.json"
    "$VOSA" generate --quiet --config "$WORK/$name.json" --out "$dir"
    if ! verilator --lint-only -Wall --top-module vosa_top "$dir"/rtl/*.v > "$dir/lint.log" 2>&1; then
      cat "$dir/lint.log"
      echo "FAIL: $name: verilator --lint-only -Wall reported the problems above"
      exit 1
    fi
    if [ -n "${BUFFERS:-}" ] && ! verilator --lint-only -Wall -DVOSA_SRAM_FAULTS --top-module vosa_top "$dir"/rtl/*.v \
        > "$dir/lint.log" 2>&1; then
      cat "$dir/lint.log"
      echo "FAIL: $name: verilator --lint-only -Wall -DVOSA_SRAM_FAULTS reported the problems above"
      exit 1
    fi
    if ! yosys -q -l "$dir/yosys.log" -p "read_verilog $dir/rtl/*.v; synth -top vosa_top" > /dev/null 2>&1; then
      tail -20 "$dir/yosys.log"
      echo "FAIL: $name: yosys synth failed"
      exit 1
    fi
    if grep -qiE '^(warning|error)' "$dir/yosys.log"; then
      grep -iE '^(warning|error)' "$dir/yosys.log"
      echo "FAIL: $name: yosys synth warned"
      exit 1
    fi
    count=$((count + 1))
    rm -rf "$dir"  # keep only the logs of failures
  done
done
echo "rtl_matrix: $count $DATAFLOW configs lint clean (verilator -Wall) and synthesize (yosys synth)"
