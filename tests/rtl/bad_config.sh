#!/usr/bin/env bash
# Bad configs: each must fail with a message naming the field (and value),
# exit non-zero, and leave no output directory behind.
set -uo pipefail
VOSA="$1"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
fails=0
expect_error() {  # name, config text, expected message fragment
  local name="$1" text="$2" want="$3"
  printf '%s' "$text" > "$WORK/$name.json"
  local out rc
  out="$("$VOSA" generate --config "$WORK/$name.json" --out "$WORK/out_$name" 2>&1)"
  rc=$?
  if [ $rc -eq 0 ]; then echo "FAIL $name: accepted"; fails=$((fails+1)); return; fi
  if [[ "$out" != *"$want"* ]]; then echo "FAIL $name: message '$out' lacks '$want'"; fails=$((fails+1)); return; fi
  if [ -e "$WORK/out_$name" ] || [ -e "$WORK/out_$name.partial" ]; then
    echo "FAIL $name: left output behind"; fails=$((fails+1)); return
  fi
  echo "ok   $name: $out"
}
expect_error rows_zero '{"rows": 0, "cols": 4}' "field 'rows' = 0 is invalid: allowed range is 1..256"
expect_error cols_big '{"rows": 4, "cols": 300}' "field 'cols' = 300"
expect_error act_bits '{"rows": 4, "cols": 4, "act_bits": 1}' "'act_bits' = 1 is invalid: allowed range is 2..16"
expect_error acc_small '{"rows": 8, "cols": 4, "acc_bits": 16}' "'acc_bits' = 16 is invalid: too small"
expect_error dataflow '{"rows": 4, "cols": 4, "dataflow": "diagonal"}' "'dataflow' = \"diagonal\""
expect_error unknown '{"rows": 4, "cols": 4, "razr": 1}' "unknown field 'razr'"
expect_error missing_rows '{"cols": 4}' "'rows' = (missing)"
expect_error malformed '{"rows": 4, "cols": ' "malformed JSON"
expect_error not_object '[4, 4]' "must be a JSON object"
expect_error adder '{"rows": 4, "cols": 4, "arithmetic": {"adder": "ladner_fischer"}}' "field 'arithmetic.adder' = \"ladner_fischer\" is invalid: allowed values are \"behavioral\", \"ripple\""
expect_error multiplier '{"rows": 4, "cols": 4, "arithmetic": {"multiplier": 3}}' "field 'arithmetic.multiplier' = 3 is invalid"
expect_error arith_unknown '{"rows": 4, "cols": 4, "arithmetic": {"psums": "carry_save"}}' "unknown field 'arithmetic.psums'"
expect_error csave_os '{"rows": 4, "cols": 4, "dataflow": "output_stationary", "arithmetic": {"psum": "carry_save"}}' "field 'arithmetic.psum' = \"carry_save\" is invalid: \"carry_save\" needs dataflow \"weight_stationary\""
# Tiles (docs/rtl.md, "Tiles").
expect_error tile_divides '{"rows": 8, "cols": 8, "tile": {"rows": 3, "cols": 4}}' "field 'tile.rows' = 3 is invalid: must divide the array's rows (8)"
expect_error tile_big '{"rows": 8, "cols": 8, "tile": {"rows": 4, "cols": 16}}' "field 'tile.cols' = 16 is invalid: allowed range is 1..8"
expect_error tile_missing '{"rows": 8, "cols": 8, "tile": {"rows": 4}}' "field 'tile.cols' = (missing)"
expect_error tile_os '{"rows": 8, "cols": 8, "dataflow": "output_stationary", "tile": {"rows": 4, "cols": 4}}' "field 'tile' = {\"cols\":4,\"rows\":4} is invalid: tiles are implemented for the weight_stationary dataflow only"
expect_error tile_razor '{"rows": 8, "cols": 8, "razor": {"top_k": 2}, "tile": {"rows": 4, "cols": 4}}' "tiles are implemented for the plain weight-stationary PE only"
expect_error buffers_small '{"rows": 8, "cols": 8, "buffers": {"weight_depth": 7, "act_depth": 4}}' "field 'buffers.weight_depth' = 7 is invalid: too small for one weight tile"
expect_error buffers_missing '{"rows": 8, "cols": 8, "buffers": {"weight_depth": 8}}' "field 'buffers.act_depth' = (missing)"
expect_error buffers_unknown '{"rows": 8, "cols": 8, "buffers": {"weight_depth": 8, "act_depth": 4, "width": 64}}' "unknown field 'buffers.width'"
expect_error buffers_os '{"rows": 8, "cols": 8, "dataflow": "output_stationary", "buffers": {"weight_depth": 8, "act_depth": 4}}' "buffers are implemented for the weight_stationary dataflow only"
# Computation reuse (docs/reuse.md, "Hardware").
expect_error reuse_type '{"rows": 4, "cols": 4, "reuse": 1}' "field 'reuse' = 1 is invalid: must be true or false"
expect_error reuse_os '{"rows": 4, "cols": 4, "dataflow": "output_stationary", "reuse": true}' "field 'reuse' = true is invalid: computation reuse is implemented for the weight_stationary dataflow only"
expect_error reuse_unsigned '{"rows": 4, "cols": 4, "signed": false, "reuse": true}' "field 'reuse' = true is invalid: computation reuse needs \"signed\": true"
expect_error reuse_razor '{"rows": 4, "cols": 4, "razor": {"top_k": 2}, "reuse": true}' "computation reuse is implemented for the plain weight-stationary PE only"
expect_error reuse_buffers '{"rows": 4, "cols": 4, "buffers": {"weight_depth": 4, "act_depth": 4}, "reuse": true}' "computation reuse is implemented for the plain weight-stationary PE only (no razor, islands, precision_modes, tile, buffers or carry_save partial sums)"
expect_error reuse_iso_alone '{"rows": 4, "cols": 4, "reuse_adder_isolation": false}' "field 'reuse_adder_isolation' = false is invalid: needs \"reuse\": true"
expect_error reuse_acc '{"rows": 4, "cols": 4, "acc_bits": 18, "reuse": true}' "field 'acc_bits' = 18 is invalid: too small: the worst-case sum of 4 products of 9x8-bit (activation deltas) signed operands needs 19 bits"
# Precision modes (docs/precision.md).
expect_error prec_zero '{"rows": 4, "cols": 4, "precision_modes": [8, 4, 0]}' "field 'precision_modes' = [8,4,0] is invalid: a mode of 0 bits"
expect_error prec_wide '{"rows": 4, "cols": 4, "precision_modes": [9, 4]}' "field 'precision_modes' = [9,4] is invalid: a mode of 9 bits is more than the operand width 8"
expect_error prec_unsorted '{"rows": 4, "cols": 4, "precision_modes": [8, 4, 6]}' "field 'precision_modes' = [8,4,6] is invalid: not sorted descending without repeats: 6 follows 4"
expect_error prec_repeat '{"rows": 4, "cols": 4, "precision_modes": [8, 4, 4]}' "not sorted descending without repeats: 4 follows 4"
expect_error prec_not_full '{"rows": 4, "cols": 4, "precision_modes": [6, 4]}' "the first mode must be the full width 8"
expect_error prec_empty '{"rows": 4, "cols": 4, "precision_modes": []}' "field 'precision_modes' = [] is invalid: must be a list of operand widths"
expect_error prec_type '{"rows": 4, "cols": 4, "precision_modes": [8, "4"]}' "field 'precision_modes' = [8,\"4\"] is invalid: must be a list"
expect_error prec_os '{"rows": 4, "cols": 4, "dataflow": "output_stationary", "precision_modes": [8, 4]}' "precision modes are implemented for the weight_stationary dataflow only"
# The depthwise mode (docs/rtl.md, "Depthwise mode").
expect_error dw_group_big '{"rows": 4, "cols": 4, "depthwise": {"group_rows": 5}}' "field 'depthwise.group_rows' = 5 is invalid: allowed range is 1..4"
expect_error dw_unknown '{"rows": 4, "cols": 4, "depthwise": {"rows": 3}}' "unknown field 'depthwise.rows'"
expect_error dw_razor '{"rows": 4, "cols": 4, "razor": {"top_k": 2}, "depthwise": {"group_rows": 2}}' "field 'depthwise' = {\"group_rows\":2} is invalid: the depthwise mode is implemented for the weight_stationary dataflow without razor"
expect_error dw_os '{"rows": 4, "cols": 4, "dataflow": "output_stationary", "depthwise": {"group_rows": 2}}' "the depthwise mode is implemented for the weight_stationary dataflow"
out="$("$VOSA" generate --config "$WORK/does_not_exist.json" --out "$WORK/o" 2>&1)"
if [ $? -eq 0 ] || [[ "$out" != *"does_not_exist.json: cannot open"* ]]; then
  echo "FAIL missing file: '$out'"; fails=$((fails+1)); else echo "ok   missing file: $out"; fi
[ $fails -eq 0 ] && echo "bad_config: every bad config rejected cleanly" || exit 1
