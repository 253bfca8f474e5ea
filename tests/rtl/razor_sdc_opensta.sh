#!/usr/bin/env bash
# The generated constraints.sdc of a Razor design, read by OpenSTA on the
# design synthesized for osu018 (flow/synth.tcl): the shadow clock exists with
# the config's delay, clocks every shadow flop (none left unclocked), the
# shadow flops' setup check is at T + D (one cycle late: the detection
# window) and their hold check at D (Razor's short-path constraint).
#   razor_sdc_opensta.sh VOSA WORK_DIR
set -euo pipefail
VOSA="$(realpath "$1")"; WORK="$2"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$WORK" && mkdir -p "$WORK"
cd "$WORK"
echo '{"rows": 1, "cols": 2, "act_bits": 4, "weight_bits": 4, "clock_period_ns": 10,
       "razor": {"top_k": 3, "shadow_delay": 0.3}}' > razor.json
"$VOSA" generate --config razor.json --out design -q
"$VOSA" pdk tcl --pdk osu018 --cache-dir pdk > pdk.tcl
lib=$("$VOSA" pdk liberty --pdk osu018 --corner typ_1v80 --synth --cache-dir pdk)
VOSA_RTL_FILES="$(ls design/rtl/*.v | tr '\n' ' ')" VOSA_TOP=vosa_top VOSA_LIBERTY=$lib VOSA_PDK_TCL=pdk.tcl \
  VOSA_NETLIST=netlist.v VOSA_ABC_CONSTR=abc.constr VOSA_STAT=stat.txt \
  yosys -q -l synth.log -c "$ROOT/flow/synth.tcl" > /dev/null || { tail synth.log; echo "FAIL: synthesis"; exit 1; }
sta_lib=$("$VOSA" pdk liberty --pdk osu018 --corner typ_1v80 --cache-dir pdk)
cat > check.tcl <<TCL
read_liberty $sta_lib
read_verilog netlist.v
link_design vosa_top
read_sdc design/constraints.sdc
set shadow [all_registers -clock clk_shadow -data_pins]
puts "shadow_flops [llength \$shadow]"
check_setup -verbose -no_clock
set pin [lindex \$shadow 0]
puts "== setup"
report_checks -from [get_clocks clk] -to \$pin -path_delay max -format full
puts "== hold"
report_checks -from [get_clocks clk] -to \$pin -path_delay min -format full
TCL
sta -no_splash -exit check.tcl > sta.log 2>&1 || { cat sta.log; echo "FAIL: OpenSTA"; exit 1; }
grep -iE "error|unclocked|no clock" sta.log && { echo "FAIL: OpenSTA reports the lines above"; exit 1; }
flops=$(sed -n 's/^shadow_flops //p' sta.log)
# 3 Razor bits in each of 2 PEs.
[ "$flops" = 6 ] || { cat sta.log; echo "FAIL: $flops flops on clk_shadow, want 6"; exit 1; }
# Launch (clk) and capture (clk_shadow) edges of each check: setup T + D = 13
# ns after launch, hold D = 3 ns after launch (OpenSTA shows it one cycle on).
edges() { sed -n "/^== $1/,/^== /p" sta.log | awk -v c="$2" '$3 == "clock" && $4 == c && $5 == "(rise" {print $2; exit}'; }
window() { python3 -c "print(f'{$(edges "$1" clk_shadow) - $(edges "$1" clk):.2f}')"; }
[ "$(window setup)" = 13.00 ] || { cat sta.log; echo "FAIL: setup of the shadow flops is not at T + D"; exit 1; }
[ "$(window hold)" = 3.00 ] || { cat sta.log; echo "FAIL: hold of the shadow flops is not at D"; exit 1; }
echo "razor SDC: OpenSTA clocks all $flops shadow flops on clk_shadow (delay 3 ns of 10): setup at T + D = 13 ns, hold at D = 3 ns after the launch edge"
