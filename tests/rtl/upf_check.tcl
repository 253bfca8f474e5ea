# Checks a generated power_intent.upf: every command is a known UPF command
# with known options (the file is parsed by Tcl itself, as UPF tools do), every
# referenced domain/net/port is created first, every -elements path is a real
# PE instance of the elaborated design, every PE is in exactly one island
# domain, every island has a supply, level shifter and isolation with a
# control net that exists. With BUFFERS=1 (config "buffers", docs/sram.md):
# the SRAM domain PD_SRAM holds exactly the two buffer macros (u_wbuf,
# u_abuf), has a supply of its own (no island's, not the always-on one) and
# level shifters, and is never isolated (it keeps the weights).
#   tclsh upf_check.tcl UPF INSTANCES_FILE NETS_FILE ROWS COLS ISLANDS [BUFFERS]
lassign $argv upf_file instances_file nets_file rows cols islands buffers
if {$buffers eq ""} { set buffers 0 }
set instances [split [string trim [read [open $instances_file]]] "\n"]
set nets [split [string trim [read [open $nets_file]]] "\n"]

set errors {}
proc problem {msg} { lappend ::errors $msg }

# Parses "-opt value" pairs; flags in $flags take no value.
proc options {cmd arglist allowed {flags {}}} {
  set result [dict create]
  set positional {}
  for {set i 0} {$i < [llength $arglist]} {incr i} {
    set a [lindex $arglist $i]
    if {[string index $a 0] eq "-"} {
      set name [string range $a 1 end]
      if {$name ni $allowed && $name ni $flags} { problem "$cmd: unknown option $a" ; continue }
      if {$name in $flags} { dict set result $name 1 ; continue }
      incr i
      if {$i >= [llength $arglist]} { problem "$cmd: option $a has no value" ; break }
      dict set result $name [lindex $arglist $i]
    } else {
      lappend positional $a
    }
  }
  return [list $positional $result]
}

set domains [dict create]
set supply_nets {}
set supply_ports {}
set element_owner [dict create]
set domain_supply [dict create]
set shifters [dict create]
set isolations [dict create]
set iso_controls [dict create]

proc need_domain {cmd d} { if {![dict exists $::domains $d]} { problem "$cmd: domain $d is not created" } }
proc need_net {cmd n} { if {$n ni $::supply_nets} { problem "$cmd: supply net $n is not created" } }

proc create_power_domain {args} {
  lassign [options create_power_domain $args {elements} {include_scope}] pos opt
  set d [lindex $pos 0]
  dict set ::domains $d 1
  if {[dict exists $opt elements]} {
    foreach e [dict get $opt elements] {
      if {$e ni $::instances} { problem "domain $d: element $e is not an instance of the design" }
      if {[dict exists $::element_owner $e]} { problem "element $e is in domains [dict get $::element_owner $e] and $d" }
      dict set ::element_owner $e $d
    }
  }
}
proc create_supply_port {args} { lassign [options create_supply_port $args {domain direction}] pos opt; lappend ::supply_ports [lindex $pos 0] }
proc create_supply_net {args} {
  lassign [options create_supply_net $args {domain} {reuse}] pos opt
  need_domain create_supply_net [dict get $opt domain]
  set n [lindex $pos 0]
  if {[dict exists $opt reuse]} { need_net "create_supply_net -reuse" $n } else { lappend ::supply_nets $n }
}
proc connect_supply_net {args} {
  lassign [options connect_supply_net $args {ports}] pos opt
  need_net connect_supply_net [lindex $pos 0]
  foreach p [dict get $opt ports] { if {$p ni $::supply_ports} { problem "connect_supply_net: port $p is not created" } }
}
proc set_domain_supply_net {args} {
  lassign [options set_domain_supply_net $args {primary_power_net primary_ground_net}] pos opt
  set d [lindex $pos 0]
  need_domain set_domain_supply_net $d
  need_net set_domain_supply_net [dict get $opt primary_power_net]
  need_net set_domain_supply_net [dict get $opt primary_ground_net]
  dict set ::domain_supply $d [dict get $opt primary_power_net]
}
proc set_level_shifter {args} {
  lassign [options set_level_shifter $args {domain applies_to rule location}] pos opt
  need_domain set_level_shifter [dict get $opt domain]
  dict set ::shifters [dict get $opt domain] [lindex $pos 0]
}
proc set_isolation {args} {
  lassign [options set_isolation $args {domain isolation_power_net isolation_ground_net clamp_value applies_to}] pos opt
  need_domain set_isolation [dict get $opt domain]
  need_net set_isolation [dict get $opt isolation_power_net]
  dict set ::isolations [lindex $pos 0] [dict get $opt domain]
}
proc set_isolation_control {args} {
  lassign [options set_isolation_control $args {domain isolation_signal isolation_sense location}] pos opt
  set s [lindex $pos 0]
  if {![dict exists $::isolations $s]} { problem "set_isolation_control: strategy $s is not defined" }
  set sig [dict get $opt isolation_signal]
  regsub {\[\d+\]$} $sig {} base
  if {$base ni $::nets} { problem "set_isolation_control $s: net $sig is not in the design" }
  dict set ::iso_controls [dict get $opt domain] $sig
}
proc add_port_state {args} {
  lassign [options add_port_state $args {state}] pos opt
  if {[lindex $pos 0] ni $::supply_ports} { problem "add_port_state: port [lindex $pos 0] is not created" }
}

if {[catch {source $upf_file} err]} { problem "$upf_file does not parse as UPF/Tcl: $err" }

set pe_count 0
foreach e $instances { if {[string match *u_pe $e]} { incr pe_count } }
if {$pe_count != $rows * $cols} { problem "design lists $pe_count PEs, expected [expr {$rows * $cols}]" }
foreach e $instances {
  if {$islands > 0 && [string match *u_pe $e] && ![dict exists $element_owner $e]} { problem "PE $e is in no island domain" }
}
for {set i 0} {$i < $islands} {incr i} {
  set d PD_ISL$i
  if {![dict exists $domains $d]} { problem "island $i has no domain $d" ; continue }
  if {![dict exists $domain_supply $d]} { problem "$d has no primary supply" }
  if {![dict exists $shifters $d]} { problem "$d has no level shifter strategy" }
  if {![dict exists $iso_controls $d]} { problem "$d has no isolation control" }
}
if {![dict exists $domain_supply PD_AON]} { problem "PD_AON has no primary supply" }

set sram_macros {u_wbuf u_abuf}
if {$buffers} {
  foreach m $sram_macros {
    if {$m ni $instances} { problem "the design has no buffer instance $m" }
    if {![dict exists $element_owner $m]} {
      problem "buffer $m is in no domain (expected PD_SRAM)"
    } elseif {[dict get $element_owner $m] ne "PD_SRAM"} {
      problem "buffer $m is in [dict get $element_owner $m], expected PD_SRAM"
    }
  }
  if {![dict exists $domains PD_SRAM]} {
    problem "the design has buffers but no domain PD_SRAM"
  } else {
    dict for {e d} $element_owner {
      if {$d eq "PD_SRAM" && $e ni $sram_macros} { problem "PD_SRAM holds $e, which is not a buffer macro" }
    }
    if {![dict exists $domain_supply PD_SRAM]} {
      problem "PD_SRAM has no primary supply"
    } else {
      set sram_supply [dict get $domain_supply PD_SRAM]
      dict for {d net} $domain_supply {
        if {$d ne "PD_SRAM" && $net eq $sram_supply} { problem "PD_SRAM shares its supply $net with $d" }
      }
    }
    if {![dict exists $shifters PD_SRAM]} { problem "PD_SRAM has no level shifter strategy" }
    if {[dict exists $iso_controls PD_SRAM]} { problem "PD_SRAM is isolated, but it keeps the weights and is never off" }
    dict for {strategy d} $isolations {
      if {$d eq "PD_SRAM"} { problem "PD_SRAM has isolation strategy $strategy, but it is never off" }
    }
  }
} elseif {[dict exists $domains PD_SRAM]} {
  problem "PD_SRAM is declared but the design has no buffers"
}

if {[llength $errors]} {
  foreach e $errors { puts "FAIL: $e" }
  exit 1
}
puts "upf_check: $upf_file parses; [dict size $domains] domains, [dict size $element_owner] elements all real instances, [expr {$islands > 0 ? "PEs each in one of $islands islands" : "PEs in PD_AON (no islands)"}][expr {$buffers ? {, buffers u_wbuf u_abuf in PD_SRAM on their own supply with level shifters} : {}}]; supplies, level shifters and isolation complete"
