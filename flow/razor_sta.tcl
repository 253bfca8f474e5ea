# OpenSTA for a Razor PE (or any single-clock block): both clocks, Razor's
# two timing constraints on the shadow flops, and power with clk_shadow_i
# toggling as a clock. Run as `sta -no_splash -exit flow/razor_sta.tcl`
# by flow/razor_cost.sh and testbench/gatelevel/razor_gate.sh (through
# flow/run_sta.sh's error checks, see docs/razor_gatelevel.md).
#
# flow/sta_corner.tcl (the flow's per-bit STA) clocks only clk_i: there
# clk_shadow_i is an ordinary data input (input delay 0, activity 0.5), the
# shadow flops are unclocked and unchecked, and the power report counts
# clk_shadow_i as data (0.5 instead of 2 transitions per cycle). Here:
#   clk         on clk_i, period T
#   clk_shadow  on clk_shadow_i, the same clock delayed by D = VOSA_SHADOW_DELAY * T
#   clk -> clk_shadow: set_multicycle_path -setup 2, so data launched at 0
#     must reach a shadow flop by T + D (setup: the detection window's end)
#     and must NOT reach it before D (hold: Razor's short-path constraint).
# Inputs from the environment:
#   VOSA_LIBERTY, VOSA_NETLIST, VOSA_TOP, VOSA_PDK_TCL, VOSA_PERIOD_NS  as in sta_corner.tcl
#   VOSA_SHADOW_DELAY  shadow clock delay as a fraction of the period (Razor PE only)
#   VOSA_INPUT_DELAY_NS  input delay of the data inputs; "clk2q" (default) uses the
#                      PE's own minimum clock-to-psum_o delay, i.e. psum_i launched by
#                      the PE above in the array; a_i, w_i too
#   VOSA_REPORT_OUT    timing report to write (TSV, below)
#   VOSA_POWER_OUT     power report to write (optional; same activity as sta_corner.tcl)
proc ns {seconds} { return [format "%.6f" [expr {$seconds * 1e9}]] }

# Worst (max) or best (min) data arrival at one pin, with its start point.
proc arrival_at {pin kind} {
  set ends [find_timing_paths -to $pin -path_delay $kind -group_count 1 -endpoint_count 1]
  if {[llength $ends] == 0} { return {} }
  set pe [lindex $ends 0]
  set pins [[$pe path] pins]
  set start [get_full_name [lindex $pins end]]
  if {[llength $pins] > 1 && [string match clk* $start]} { set start [get_full_name [lindex $pins end-1]] }
  return [list [ns [$pe data_arrival_time]] [ns [$pe slack]] $start]
}

proc vosa_razor_sta {} {
  global vosa_pdk
  foreach var {VOSA_LIBERTY VOSA_NETLIST VOSA_TOP VOSA_PDK_TCL VOSA_PERIOD_NS VOSA_REPORT_OUT} {
    if {![info exists ::env($var)]} { error "razor_sta.tcl: environment variable $var is not set" }
  }
  source $::env(VOSA_PDK_TCL)
  set period $::env(VOSA_PERIOD_NS)
  read_liberty $::env(VOSA_LIBERTY)
  if {[catch {read_verilog $::env(VOSA_NETLIST)} msg]} {
    error "razor_sta.tcl: cannot read netlist $::env(VOSA_NETLIST): $msg"
  }
  if {[catch {link_design $::env(VOSA_TOP)} msg] || [get_cells -quiet *] eq ""} {
    error "razor_sta.tcl: cannot link $::env(VOSA_TOP) in $::env(VOSA_NETLIST)"
  }

  create_clock -name clk -period $period [get_ports clk_i]
  set clock_ports {clk_i rst_ni}
  set razor [llength [get_ports -quiet clk_shadow_i]]
  set shadow_edge 0
  if {$razor} {
    if {![info exists ::env(VOSA_SHADOW_DELAY)]} { error "razor_sta.tcl: VOSA_SHADOW_DELAY is not set (Razor PE)" }
    set frac $::env(VOSA_SHADOW_DELAY)
    if {!($frac > 0 && $frac < 0.5)} { error "razor_sta.tcl: VOSA_SHADOW_DELAY=$frac must be in (0, 0.5)" }
    set shadow_edge [expr {$frac * $period}]
    create_clock -name clk_shadow -period $period -waveform [list $shadow_edge [expr {$shadow_edge + $period / 2.0}]] \
      [get_ports clk_shadow_i]
    set_multicycle_path -setup 2 -from [get_clocks clk] -to [get_clocks clk_shadow]
    lappend clock_ports clk_shadow_i
  }
  set data_inputs [delete_from_list [all_inputs] [get_ports $clock_ports]]
  set_input_delay 0 -clock clk $data_inputs
  set_output_delay 0 -clock clk [all_outputs]
  set_driving_cell -lib_cell $vosa_pdk(driver_cell) -pin $vosa_pdk(driver_pin) $data_inputs
  set load_pin [lindex [get_lib_pins -quiet [get_name [lindex [get_libs *] 0]]/$vosa_pdk(load_cell)/$vosa_pdk(load_pin)] 0]
  if {$load_pin eq ""} { error "load pin $vosa_pdk(load_cell)/$vosa_pdk(load_pin) not in $::env(VOSA_LIBERTY)" }
  set_load [expr {$vosa_pdk(load_count) * [get_property $load_pin capacitance]}] [all_outputs]
  set_false_path -from [get_ports rst_ni]

  set out [open $::env(VOSA_REPORT_OUT).tmp w]
  puts $out "# vosa Razor STA, OpenSTA [sta::version], times in ns from the clk_i edge"
  puts $out "period_ns\t$period"
  puts $out "liberty\t$::env(VOSA_LIBERTY)"
  puts $out "shadow_edge_ns\t[format %.6f $shadow_edge]"

  # Minimum clock-to-output of the PE (psum_o): what the PE above launches
  # into psum_i in the array.
  set input_delay clk2q
  if {[info exists ::env(VOSA_INPUT_DELAY_NS)]} { set input_delay $::env(VOSA_INPUT_DELAY_NS) }
  set clk2q 0
  set psum_o [get_ports -quiet psum_o*]
  if {[llength $psum_o]} {
    set clk2q 1e9
    foreach p $psum_o {
      set a [arrival_at $p min]
      if {$a ne "" && [lindex $a 0] < $clk2q} { set clk2q [lindex $a 0] }
    }
    puts $out "min_clk_to_psum_o_ns\t[format %.6f $clk2q]"
  }
  if {$input_delay eq "clk2q"} { set input_delay $clk2q }
  set_input_delay $input_delay -clock clk $data_inputs
  puts $out "input_delay_ns\t[format %.6f $input_delay]"
  puts $out "worst_setup_slack_ns\t[format %.6f [sta::worst_slack -max]]"
  puts $out "worst_hold_slack_ns\t[format %.6f [sta::worst_slack -min]]"

  # Per-bit: main register (max arrival) and shadow flops (max and min
  # arrival, hold slack against the clk_shadow edge at D).
  foreach pin [all_registers -data_pins] {
    set inst [get_full_name [get_cells -of_objects $pin]]
    set pname [lindex [split [get_full_name $pin] /] end]
    if {[regexp {^psum_q\[([0-9]+)\]_reg$} $inst -> bit] && $pname eq "D"} {
      set mx [arrival_at $pin max]
      if {$mx ne ""} { puts $out "main\t$bit\t[lindex $mx 0]\t[lindex $mx 2]" }
    } elseif {[regexp {^g_bit\[([0-9]+)\]\.g_razor\.shadow_q_reg$} $inst -> bit] && $pname eq "D"} {
      set mx [arrival_at $pin max]
      set mn [arrival_at $pin min]
      if {$mx eq "" || $mn eq ""} { error "razor_sta.tcl: shadow flop $inst is unconstrained" }
      puts $out "shadow\t$bit\t[lindex $mx 0]\t[lindex $mx 1]\t[lindex $mn 0]\t[lindex $mn 1]\t[lindex $mn 2]"
    }
  }
  close $out
  file rename -force $::env(VOSA_REPORT_OUT).tmp $::env(VOSA_REPORT_OUT)

  if {[info exists ::env(VOSA_POWER_OUT)] && $::env(VOSA_POWER_OUT) ne ""} {
    # The activity of flow/sta_corner.tcl; clk_shadow_i is a clock here.
    set_power_activity -input -activity 0.5 -duty 0.5
    foreach port {w_shift_i rst_ni stall_i reg_we_i} {
      if {[llength [get_ports -quiet $port]]} { set_power_activity -input_ports [get_ports $port] -activity 0 -duty 0 }
    }
    set w_ports [get_ports -quiet w_i*]
    if {[llength $w_ports]} { set_power_activity -input_ports $w_ports -activity 0 -duty 0.5 }
    set p [sta::design_power [sta::cmd_corner]]
    set f [open $::env(VOSA_POWER_OUT).tmp w]
    puts $f "# vosa power, OpenSTA report_power, watts"
    puts $f "period_ns\t$period"
    puts $f "activity\tinputs 0.5 toggles/cycle duty 0.5; w_i, w_shift_i, rst_ni, stall_i, reg_we_i 0; clocks clk_i[expr {$razor ? { and clk_shadow_i} : {}}]"
    foreach group {total sequential combinational macro pad} i {0 4 8 12 16} {
      puts $f "$group\t[lindex $p $i]\t[lindex $p [expr {$i+1}]]\t[lindex $p [expr {$i+2}]]\t[lindex $p [expr {$i+3}]]"
    }
    close $f
    file rename -force $::env(VOSA_POWER_OUT).tmp $::env(VOSA_POWER_OUT)
    report_power
  }
}

if {[catch vosa_razor_sta msg]} {
  puts stderr "Error: $msg"
}
