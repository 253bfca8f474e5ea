# Yosys synthesis of one module onto a PDK's standard cells, flat.
# Run by flow/flow.mk as `yosys -c flow/synth.tcl`; inputs come from the
# environment so the same script serves every PDK and design:
#   VOSA_RTL_FILES      Verilog files (space-separated)
#   VOSA_TOP            top module (vosa_pe, or vosa_array for synth-array)
#   VOSA_LIBERTY        synthesis liberty (dont_use cells marked; vosa pdk liberty --synth)
#   VOSA_PDK_TCL        cell choices of the PDK (vosa pdk tcl)
#   VOSA_NETLIST        output netlist
#   VOSA_ABC_CONSTR     ABC constraint file to write (driver cell and load)
#   VOSA_STAT           area/cell report to write
yosys -import

foreach var {VOSA_RTL_FILES VOSA_TOP VOSA_LIBERTY VOSA_PDK_TCL VOSA_NETLIST VOSA_ABC_CONSTR VOSA_STAT} {
  if {![info exists ::env($var)]} { error "synth.tcl: environment variable $var is not set" }
}
source $::env(VOSA_PDK_TCL)
set liberty $::env(VOSA_LIBERTY)
set top $::env(VOSA_TOP)

# Cell port directions, so `check` understands the mapped netlist.
read_liberty -lib $liberty
read_verilog -defer {*}$::env(VOSA_RTL_FILES)
hierarchy -check -top $top
# The PE arithmetic modules (vosa_add, the Booth/Wallace vosa_mul) carry
# (* keep_hierarchy *). They go to generic gates before `synth`: its
# `opt -full` (opt_share) would move a carry-select adder's multiplexers in
# front of the carry logic and so fold it back into a ripple chain.
yosys proc
techmap A:keep_hierarchy
opt -fast A:keep_hierarchy
synth -flatten -top $top
# Name every flip-flop after the register bit it holds (psum_q[3]_reg), so
# STA, SDF and the netlist readers find the output register by name.
yosys rename -wire -suffix _reg t:\$_*DFF*
dfflibmap -liberty $liberty
# ABC maps for delay with the PDK's input driver and output load, then
# buffers high-fanout nets and sizes gates (the -constr script adds
# buffer/upsize/dnsize), so delays are realistic.
set constr [open $::env(VOSA_ABC_CONSTR) w]
puts $constr "set_driving_cell $vosa_pdk(driver_cell)"
puts $constr "set_load $vosa_pdk(load_ff)"
close $constr
# The arithmetic modules are still separate modules here. ABC's
# default script rewrites the logic (fraig, dc2, dch) and turns a prefix or
# carry-select adder back into a ripple chain, the smallest equivalent
# structure; these modules are therefore mapped as they are written: AIG
# (strash), delay-oriented cell mapping and sizing only (docs/arith.md).
abc -liberty $liberty -constr $::env(VOSA_ABC_CONSTR) \
  -script "+strash;&get,-n;&nf,{D};&put;buffer;upsize,{D};dnsize,{D};stime,-p" A:keep_hierarchy
abc -liberty $liberty -constr $::env(VOSA_ABC_CONSTR) =A:keep_hierarchy %n
opt_clean
# Only now is the mapped design flattened.
setattr -mod -unset keep_hierarchy
flatten
opt_clean
if {$vosa_pdk(tie_hi_cell) ne "" && $vosa_pdk(tie_lo_cell) ne ""} {
  hilomap -singleton -hicell $vosa_pdk(tie_hi_cell) $vosa_pdk(tie_hi_pin) \
    -locell $vosa_pdk(tie_lo_cell) $vosa_pdk(tie_lo_pin)
}
setundef -zero
# OpenSTA 2.0.17 rejects `assign {a,b} = {c,d};`: split buses, drop aliases.
splitnets
opt_clean -purge
check -assert -noinit
tee -o $::env(VOSA_STAT) stat -liberty $liberty
write_verilog -noattr -noexpr -nohex -nodec $::env(VOSA_NETLIST)
