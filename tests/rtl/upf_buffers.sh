#!/usr/bin/env bash
# The SRAM domain of power_intent.upf (docs/sram.md "RTL buffers"): buffered
# designs with and without islands pass upf_check; UPF files with the SRAM
# domain broken in one way each are refused, naming the problem.
#   upf_buffers.sh VOSA WORK_DIR
set -euo pipefail
VOSA="$1"; WORK="$2"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$WORK"; mkdir -p "$WORK"
"$VOSA" generate --quiet --config "$ROOT/tests/golden/ws_4x4_buffers_islands2.json" --out "$WORK/islands"
echo '{"rows": 2, "cols": 3, "buffers": {"weight_depth": 4, "act_depth": 3}}' > "$WORK/plain.json"
"$VOSA" generate --quiet --config "$WORK/plain.json" --out "$WORK/plain"
echo '{"rows": 2, "cols": 3, "islands": {"count": 1}}' > "$WORK/nobuf.json"
"$VOSA" generate --quiet --config "$WORK/nobuf.json" --out "$WORK/nobuf"
for d in islands plain nobuf; do "$ROOT/tests/rtl/upf_check.sh" "$WORK/$d" "$WORK/check_$d"; done

# Each broken file must fail with its message.
UPF="$WORK/islands/power_intent.upf"
expect_fail() {  # NAME MESSAGE DESIGN FILE
  if out="$("$ROOT/tests/rtl/upf_check.sh" "$WORK/$3" "$WORK/check_$1" "$4" 2>&1)"; then
    echo "FAIL: $1: upf_check accepted it"; exit 1
  fi
  grep -qF "$2" <<< "$out" || { echo "$out"; echo "FAIL: $1: expected '$2'"; exit 1; }
  echo "refused ($1): $2"
}
grep -v '^set_level_shifter ls_sram' "$UPF" > "$WORK/no_ls.upf"
expect_fail no_ls "PD_SRAM has no level shifter strategy" islands "$WORK/no_ls.upf"
sed -e 's/set_domain_supply_net PD_SRAM -primary_power_net VDD_SRAM/set_domain_supply_net PD_SRAM -primary_power_net VDD_ISL0/' \
  "$UPF" > "$WORK/shared.upf"
expect_fail shared "PD_SRAM shares its supply VDD_ISL0 with PD_ISL0" islands "$WORK/shared.upf"
sed -e 's/-elements {u_wbuf u_abuf}/-elements {u_wbuf}/' "$UPF" > "$WORK/one_buffer.upf"
expect_fail one_buffer "buffer u_abuf is in no domain (expected PD_SRAM)" islands "$WORK/one_buffer.upf"
{ cat "$UPF"; echo 'set_isolation iso_sram -domain PD_SRAM -isolation_power_net VDD_AON -isolation_ground_net VSS -clamp_value 0 -applies_to outputs'; } \
  > "$WORK/isolated.upf"
expect_fail isolated "PD_SRAM has isolation strategy iso_sram, but it is never off" islands "$WORK/isolated.upf"
grep -v 'PD_SRAM\|VDD_SRAM\|ls_sram' "$UPF" > "$WORK/no_sram.upf"
expect_fail no_sram "the design has buffers but no domain PD_SRAM" islands "$WORK/no_sram.upf"
{ cat "$WORK/nobuf/power_intent.upf"; echo 'create_power_domain PD_SRAM'; } > "$WORK/extra.upf"
expect_fail extra "PD_SRAM is declared but the design has no buffers" nobuf "$WORK/extra.upf"
echo "upf_buffers: PASS"
