# Yosys synthesis of a whole generated array by hierarchy: every distinct
# module (the PE, a tile of PEs, each skew/de-skew delay line, the array's
# and the top's own logic) is synthesized once and never flattened, so a
# 256x256 array costs one PE's synthesis, not 65,536. `stat -top` then
# counts each module's cells times its instances (docs/flow.md, "Arrays by
# hierarchy"). Same environment as flow/synth.tcl; the netlist keeps the
# hierarchy (one module per distinct block).
yosys -import

foreach var {VOSA_RTL_FILES VOSA_TOP VOSA_LIBERTY VOSA_PDK_TCL VOSA_NETLIST VOSA_ABC_CONSTR VOSA_STAT} {
  if {![info exists ::env($var)]} { error "synth_hier.tcl: environment variable $var is not set" }
}
source $::env(VOSA_PDK_TCL)
set liberty $::env(VOSA_LIBERTY)
set top $::env(VOSA_TOP)

read_liberty -lib $liberty
read_verilog -defer {*}$::env(VOSA_RTL_FILES)
hierarchy -check -top $top
yosys proc
# As in flow/synth.tcl: the arithmetic modules go to generic gates first.
techmap A:keep_hierarchy
opt -fast A:keep_hierarchy
# The blocks that repeat keep their hierarchy (each is synthesized once);
# what they contain (the multiplier, the adder) is flattened into them as in
# the flat PE flow, so the PE here is the PE of `make synth`.
hierarchy -top $top
setattr -mod -set keep_hierarchy 1 *vosa_pe *vosa_tile *vosa_delay_line *vosa_array
synth -flatten -top $top
yosys rename -wire -suffix _reg t:\$_*DFF*
dfflibmap -liberty $liberty
set constr [open $::env(VOSA_ABC_CONSTR) w]
puts $constr "set_driving_cell $vosa_pdk(driver_cell)"
puts $constr "set_load $vosa_pdk(load_ff)"
close $constr
# The arithmetic modules as flow/synth.tcl maps them, then everything else;
# then the arithmetic modules are flattened into the PE.
set arith {*vosa_add* *vosa_mul*}
abc -liberty $liberty -constr $::env(VOSA_ABC_CONSTR) \
  -script "+strash;&get,-n;&nf,{D};&put;buffer;upsize,{D};dnsize,{D};stime,-p" {*}$arith
abc -liberty $liberty -constr $::env(VOSA_ABC_CONSTR) * {*}$arith %d
opt_clean
setattr -mod -unset keep_hierarchy {*}$arith
flatten
opt_clean
if {$vosa_pdk(tie_hi_cell) ne "" && $vosa_pdk(tie_lo_cell) ne ""} {
  hilomap -singleton -hicell $vosa_pdk(tie_hi_cell) $vosa_pdk(tie_hi_pin) \
    -locell $vosa_pdk(tie_lo_cell) $vosa_pdk(tie_lo_pin)
}
setundef -zero
splitnets
opt_clean -purge
check -assert -noinit
tee -o $::env(VOSA_STAT) stat -liberty $liberty -top $top
write_verilog -noattr -noexpr -nohex -nodec $::env(VOSA_NETLIST)
# The PE module alone under its plain name (VOSA_PE_NETLIST), so OpenSTA can
# time it and compute its power (flow/array_hier_report.sh). Renaming a
# module does not follow its instances, so this comes after the netlist.
if {[info exists ::env(VOSA_PE_NETLIST)]} {
  tee -q -o $::env(VOSA_STAT).modules select -list *vosa_pe
  set f [open $::env(VOSA_STAT).modules]
  set names {}
  foreach line [split [string trim [read $f]] "\n"] {
    if {[string first / $line] < 0} { lappend names $line }
  }
  close $f
  file delete $::env(VOSA_STAT).modules
  if {[llength $names] != 1} { error "synth_hier.tcl: expected one PE module, found: $names" }
  if {[lindex $names 0] ne "vosa_pe"} { yosys rename [lindex $names 0] vosa_pe }
  select vosa_pe
  write_verilog -selected -noattr -noexpr -nohex -nodec $::env(VOSA_PE_NETLIST)
}
