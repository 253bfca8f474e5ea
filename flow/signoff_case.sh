# Sourced by the DTA checks (flow/dta_sta_bound.sh, flow/dta_engines_agree.sh)
# after they read VOSA, WORK, OPERAND_LIST and set ROOT: their common setup
# (WORK made absolute, VOSA_DATA_DIR, the default operand streams), and one
# "PDK:CONFIG" case generated, synthesized and timed at the PDK's sign-off
# corner with the flow's own rules (flow/stages.make):
#   signoff_case CASE TARGETS...
# sets pdk, config, name, signoff, design (generated RTL), P (flow folder) and
# lib (the sign-off liberty OpenSTA read); exits with the flow log's tail on failure.
[ ${#OPERAND_LIST[@]} -gt 0 ] || OPERAND_LIST=(uniform:1 layer:2)
mkdir -p "$WORK"
WORK=$(realpath "$WORK")
export VOSA_DATA_DIR=${VOSA_DATA_DIR:-$ROOT/../shared}

signoff_case() {
  local case=$1
  shift
  pdk=${case%%:*}
  config=$(realpath "$ROOT/${case#*:}")
  name=$(basename "$config" .json)
  signoff=$("$VOSA" pdk get --pdk "$pdk" signoff_corner)
  design="$WORK/$name/design"
  P="$WORK/$name/$pdk"
  "$VOSA" generate --config "$config" --out "$design" -q
  make --no-print-directory -f "$ROOT/flow/stages.make" ROOT="$ROOT" BUILD="$WORK" VOSA="$VOSA" \
    CONFIG_NAME="$name" PDK="$pdk" DESIGN_DIR="$design" REQUESTED_CORNERS="$signoff" \
    VOLTAGES= PERIOD_NS= "$@" > "$P.flow.log" 2>&1 || { tail -20 "$P.flow.log"; exit 1; }
  lib=$("$VOSA" pdk liberty --pdk "$pdk" --corner "$signoff" --cache-dir "$WORK/pdk")
}
