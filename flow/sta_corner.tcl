# OpenSTA at one corner: per-bit timing of the PE's output register, SDF and
# power. Run by flow/flow.mk as `sta -no_splash -exit flow/sta_corner.tcl`.
# Inputs from the environment:
#   VOSA_LIBERTY      uncompressed liberty of the corner (vosa pdk liberty)
#   VOSA_NETLIST      gate netlist (flat, from flow/synth.tcl)
#   VOSA_TOP          top module
#   VOSA_PDK_TCL      cell choices of the PDK (vosa pdk tcl)
#   VOSA_PERIOD_NS    clock period
#   VOSA_CORNER       corner name (written into the outputs)
#   VOSA_OUTPUT_REG   output register name (manifest.json pe_output_register)
#   VOSA_PATHS_OUT    per-bit timing report to write (read by vosa sta-collect)
#   VOSA_PATHS_PER_BIT  distinct paths reported per bit (default 5)
#   VOSA_SDF_OUT      SDF to write (optional)
#   VOSA_POWER_OUT    power report to write (optional)
#   VOSA_POWER_CONST_PORTS  input port bits held constant in the power run,
#                     "port=0|1 ..." (optional)
#   VOSA_CRITICAL_OUT when set, only write the critical path (ns) there
# OpenSTA reports a failing command and carries on, and its `exit` ignores
# the status: inside a proc the first error stops the run, outputs are only
# renamed into place at the end, and flow/run_sta.sh fails when an output is
# missing or the log holds an error.
proc ns {seconds} { return [format "%.6f" [expr {$seconds * 1e9}]] }

proc vosa_sta_corner {} {
  global vosa_pdk
  foreach var {VOSA_LIBERTY VOSA_NETLIST VOSA_TOP VOSA_PDK_TCL VOSA_PERIOD_NS VOSA_CORNER} {
    if {![info exists ::env($var)]} { error "sta_corner.tcl: environment variable $var is not set" }
  }
  source $::env(VOSA_PDK_TCL)
  set period $::env(VOSA_PERIOD_NS)

  read_liberty $::env(VOSA_LIBERTY)
  if {[catch {read_verilog $::env(VOSA_NETLIST)} msg]} {
    error "sta_corner.tcl: cannot read netlist $::env(VOSA_NETLIST): $msg"
  }
  if {[catch {link_design $::env(VOSA_TOP)} msg] || [get_cells -quiet *] eq ""} {
    error "sta_corner.tcl: cannot link $::env(VOSA_TOP) in $::env(VOSA_NETLIST) against $::env(VOSA_LIBERTY)"
  }

  # Constraints as in the generator's constraints.sdc (inputs and outputs
  # relative to the clock edge, ideal clock), plus the PDK's input driver and
  # output load. The asynchronous reset is not a data path.
  create_clock -name clk -period $period [get_ports clk_i]
  # Razor PE: clk_shadow_i is a clock, not data (its delay and the shadow
  # flops' hold constraint are timed by flow/razor_sta.tcl).
  set clock_ports {clk_i rst_ni}
  if {[llength [get_ports -quiet clk_shadow_i]]} {
    create_clock -name clk_shadow -period $period [get_ports clk_shadow_i]
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

  if {[info exists ::env(VOSA_CRITICAL_OUT)]} {
    # Minimum period: the clock period minus the worst setup slack.
    set ends [find_timing_paths -path_delay max -group_count 1 -endpoint_count 1]
    if {[llength $ends] == 0} { error "sta_corner.tcl: no constrained timing path in $::env(VOSA_NETLIST)" }
    set worst [lindex $ends 0]
    set f [open $::env(VOSA_CRITICAL_OUT).tmp w]
    puts $f [format "%.6f" [expr {$period - [$worst slack] * 1e9}]]
    puts $f [get_full_name [[$worst path] pin]]
    close $f
    file rename -force $::env(VOSA_CRITICAL_OUT).tmp $::env(VOSA_CRITICAL_OUT)
    return
  }

  set reg $::env(VOSA_OUTPUT_REG)
  set per_bit 5
  if {[info exists ::env(VOSA_PATHS_PER_BIT)]} { set per_bit $::env(VOSA_PATHS_PER_BIT) }

  # The data pins of every flip-flop named <reg>[j]_reg (see flow/synth.tcl).
  # all_registers -data_pins also lists asynchronous set/reset pins; those
  # are false paths here (rst_ni), so each bit keeps its constrained pin.
  set bits {}
  foreach pin [all_registers -data_pins] {
    set inst [get_full_name [get_cells -of_objects $pin]]
    if {[regexp "^[string map {[ \\[ ] \\]} $reg]\\\[(\[0-9\]+)\\\]_reg\$" $inst -> bit]} {
      lappend bits [list $bit $pin]
    }
  }
  if {[llength $bits] == 0} {
    error "sta_corner.tcl: no flip-flop named $reg\[N\]_reg in $::env(VOSA_NETLIST)"
  }

  set out [open $::env(VOSA_PATHS_OUT).tmp w]
  puts $out "# vosa per-bit timing, OpenSTA [sta::version], times in ns"
  puts $out "corner\t$::env(VOSA_CORNER)"
  puts $out "period_ns\t$period"
  puts $out "liberty\t$::env(VOSA_LIBERTY)"
  puts $out "worst_slack_ns\t[format %.6f [sta::worst_slack -max]]"
  set by_bit [dict create]
  foreach entry $bits { dict lappend by_bit [lindex $entry 0] [lindex $entry 1] }
  foreach bit [lsort -integer [dict keys $by_bit]] {
    # PathEnd objects die at the next find_timing_paths: copy what we need.
    set best {}
    foreach pin [dict get $by_bit $bit] {
      set rows {}
      foreach pe [find_timing_paths -to $pin -path_delay max -group_count $per_bit \
                    -endpoint_count $per_bit -unique_paths_to_endpoint] {
        set pins [[$pe path] pins]
        # The path begins at the clock source; name the launching pin instead.
        set start [get_full_name [lindex $pins end]]
        if {[llength $pins] > 1 && $start eq "clk_i"} {
          set start [get_full_name [lindex $pins end-1]]
        }
        lappend rows [list [ns [$pe data_arrival_time]] [ns [$pe data_required_time]] [ns [$pe slack]] \
                        $start [llength $pins]]
      }
      if {[llength $rows] && ($best eq "" || [lindex $rows 0 2] < [lindex $best 1 0 2])} {
        set best [list [get_full_name $pin] $rows]
      }
    }
    if {$best eq ""} {
      puts $out "bit\t$bit\t[get_full_name [lindex [dict get $by_bit $bit] 0]]\tunconstrained"
      continue
    }
    lassign $best endpoint rows
    lassign [lindex $rows 0] arrival required slack
    puts $out "bit\t$bit\t$endpoint\t$arrival\t$required\t$slack"
    foreach row $rows {
      lassign $row arrival required slack start npins
      puts $out "path\t$bit\t$arrival\t$slack\t$start\t$npins"
    }
  }
  close $out
  file rename -force $::env(VOSA_PATHS_OUT).tmp $::env(VOSA_PATHS_OUT)

  if {[info exists ::env(VOSA_SDF_OUT)] && $::env(VOSA_SDF_OUT) ne ""} {
    write_sdf -digits 4 $::env(VOSA_SDF_OUT).tmp
    file rename -force $::env(VOSA_SDF_OUT).tmp $::env(VOSA_SDF_OUT)
  }

  if {[info exists ::env(VOSA_POWER_OUT)] && $::env(VOSA_POWER_OUT) ne ""} {
    # Default activity (until simulated toggles exist): operands and partial
    # sums toggle like uniform random data (0.5 per cycle, duty 0.5); weights
    # are held (weight-stationary), the reset is static and a Razor PE does
    # not stall (no timing error).
    set_power_activity -input -activity 0.5 -duty 0.5
    foreach port {w_shift_i rst_ni stall_i} {
      if {[llength [get_ports -quiet $port]]} { set_power_activity -input_ports [get_ports $port] -activity 0 -duty 0 }
    }
    set w_ports [get_ports -quiet w_i*]
    if {[llength $w_ports]} { set_power_activity -input_ports $w_ports -activity 0 -duty 0.5 }
    # Precision modes (docs/precision.md): operand bits a mode holds constant
    # (VOSA_POWER_CONST_PORTS, e.g. "a_i[0]=0 a_i[1]=1").
    set activity "inputs 0.5 toggles/cycle duty 0.5; w_i, w_shift_i, rst_ni 0"
    if {[info exists ::env(VOSA_POWER_CONST_PORTS)] && $::env(VOSA_POWER_CONST_PORTS) ne ""} {
      foreach item $::env(VOSA_POWER_CONST_PORTS) {
        lassign [split $item =] port value
        set_power_activity -input_ports [get_ports $port] -activity 0 -duty $value
      }
      append activity "; constant: $::env(VOSA_POWER_CONST_PORTS)"
    }
    set p [sta::design_power [sta::cmd_corner]]
    set f [open $::env(VOSA_POWER_OUT).tmp w]
    puts $f "# vosa power, OpenSTA report_power, watts"
    puts $f "corner\t$::env(VOSA_CORNER)"
    puts $f "period_ns\t$period"
    puts $f "activity\t$activity"
    foreach group {total sequential combinational macro pad} i {0 4 8 12 16} {
      puts $f "$group\t[lindex $p $i]\t[lindex $p [expr {$i+1}]]\t[lindex $p [expr {$i+2}]]\t[lindex $p [expr {$i+3}]]"
    }
    close $f
    file rename -force $::env(VOSA_POWER_OUT).tmp $::env(VOSA_POWER_OUT)
    if {[info exists ::env(VOSA_ACTIVITY_OUT)]} {
      # The activity OpenSTA propagated, per net (driver pin), for
      # `vosa energy` (flow/energy_check.sh): transitions per second, duty.
      set f [open $::env(VOSA_ACTIVITY_OUT).tmp w]
      puts $f "# net transitions_per_second duty (OpenSTA [sta::version] propagated activity)"
      foreach port [all_inputs] {
        lassign [get_property $port activity] act duty
        puts $f "[get_full_name $port] $act $duty"
      }
      foreach pin [get_pins */*] {
        if {[get_property $pin direction] ne "output"} { continue }
        set net [get_nets -quiet -of_objects $pin]
        if {$net eq ""} { continue }
        lassign [get_property $pin activity] act duty
        puts $f "[get_full_name $net] $act $duty"
      }
      close $f
      file rename -force $::env(VOSA_ACTIVITY_OUT).tmp $::env(VOSA_ACTIVITY_OUT)
    }
    report_power
  }
}

if {[catch vosa_sta_corner msg]} {
  puts stderr "Error: $msg"
}
