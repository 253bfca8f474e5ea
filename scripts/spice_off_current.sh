#!/usr/bin/env bash
# Off-state currents of the sky130 hd devices by terminal, at -40 / 25 / 100 C
# (docs/charlib.md, "Leakage at 100 C"): why SPICE leakage and the shipped
# liberty part ways at 100 C. One pfet_01v8_hvt (W 1 um) and one nfet_01v8
# (W 0.65 um), L 0.15 um, gate off, |Vds| = VDD, gmin 1e-18 S as charlib uses.
#   scripts/spice_off_current.sh [SECTION=ss] [VDD=1.6]
# Needs the gunzipped model copy `vosa charlib` prepares under build/pdk
# (VOSA_PDK_CACHE overrides), so run any `make charlib`/`vosa charlib` first.
set -euo pipefail
section=${1:-ss}
vdd=${2:-1.6}
cache=${VOSA_PDK_CACHE:-build/pdk}
lib=$(realpath "$cache/sky130hd/spice/models/models/sky130_hd_min.lib.spice" 2>/dev/null) || {
  echo "spice_off_current: no model copy under $cache/sky130hd/spice/models (run vosa charlib once)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "set num_threads=1" > "$work/.spiceinit"
p=@m.xp.msky130_fd_pr__pfet_01v8_hvt
n=@m.xn.msky130_fd_pr__nfet_01v8
cat > "$work/off.cir" <<DECK
* off-state currents by terminal
.lib "$lib" $section
.option scale=1.0u
vpd pd 0 0
vpg pg 0 $vdd
vps ps 0 $vdd
vpb pb 0 $vdd
xp pd pg ps pb sky130_fd_pr__pfet_01v8_hvt w=1 l=0.15
vnd nd 0 $vdd
vng ng 0 0
vns ns 0 0
vnb nb 0 0
xn nd ng ns nb sky130_fd_pr__nfet_01v8 w=0.65 l=0.15
.control
set noaskquit
option gmin=1e-18
foreach t -40 25 100
  option temp=\$t
  op
  echo "OFF pfet_01v8_hvt \$t drain \$&vpd#branch channel(source) \$&vps#branch bulk \$&vpb#branch gidl \$&$p[igidl] vth \$&$p[vth]"
  echo "OFF nfet_01v8 \$t drain \$&vnd#branch channel(source) \$&vns#branch bulk \$&vnb#branch gidl \$&$n[igidl] vth \$&$n[vth]"
  destroy all
end
quit
.endc
.end
DECK
(cd "$work" && ngspice -b off.cir 2>&1) | awk '/^OFF /{sub(/^OFF /, ""); print}' |
  awk 'BEGIN{print "device T_C drain_A channel_A bulk_A gidl_A vth_V"} {print $1, $2, $4, $6, $8, $10, $12}' | column -t
