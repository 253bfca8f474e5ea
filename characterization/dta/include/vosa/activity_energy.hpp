// Energy of a gate netlist from per-net activity (docs/dta.md, "Energy from
// the simulated activity"): liberty internal-power tables at each pin's slew
// and load, 1/2 C V^2 for every toggle of an instance output net, and cell
// leakage over the clock period.
//
// Slews and loads are static, as STA computes them (the timing simulation is
// logic-level and has no slews): loads are the input-pin capacitances on a net
// plus the flow's output load on output ports (flow/sta_corner.tcl; the flow
// uses no wire-load model), slews propagate from the flow's input driver cell
// and an ideal clock through the liberty transition tables (the worst arc per
// edge). Activities come from the caller: `vosa dta` counts every simulated
// transition; flow/energy_check.sh feeds OpenSTA's own to compare.
#pragma once

#include "vosa/liberty.hpp"
#include "vosa/netlist.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vosa::dta {

// The PE's surroundings, as the flow's STA constrains them.
struct PowerEnvironment {
  std::string clock_port = "clk_i";
  // The Razor PE's delayed clock, when the netlist has it: an ideal clock too.
  std::string shadow_clock_port = "clk_shadow_i";
  std::string driver_cell, driver_pin;  // drives every data input (set_driving_cell); "" = ideal (slew 0)
  std::vector<std::string> ideal_ports = {"rst_ni", "clk_shadow_i"};  // no driver (like the clock): slew 0
  double output_load_pf = 0.0;          // on every output port (set_load)
  double voltage = 0.0;                 // supply for 1/2 C V^2; 0 = the liberty's operating voltage
  // Multiplies internal energy and leakage (a liberty of another voltage,
  // scaled; 1 when the liberty is the voltage's own).
  double internal_scale = 1.0;
};

// One net's activity: transitions per clock cycle and the fraction of time at 1.
struct NetActivity {
  double toggles_per_cycle = 0.0;
  double duty = 0.5;
};

// How a transition is shared among a pin's internal_power groups.
//   kVosa: each transition of a pin costs one rise or one fall energy, the
//     mean (E_rise + E_fall)/2 of the groups that caused it; an output's
//     groups share its transitions in proportion to their related pin's
//     toggles times the probability that the pin is sensitized (Boolean
//     difference of the pin function, inputs independent), `when` groups by
//     the probability of their condition.
//   kOpenSta: OpenSTA 2.0.17's search/Power.cc rules (for the comparison):
//     per transition, the sum over groups of (E_rise + E_fall) times a duty:
//     P(when); or from/to activity times P(inferred when); 1 for a clock
//     related pin; else 0.5.
enum class PowerConvention { kVosa, kOpenSta };

// Energy per clock cycle, pJ.
struct EnergyBreakdown {
  double internal_pj = 0.0, switching_pj = 0.0, leakage_pj = 0.0;
  double clock_internal_pj = 0.0;  // part of internal_pj: clock pins and arcs related to them
  double sequential_pj = 0.0, combinational_pj = 0.0;  // total by cell kind
  double total_pj() const { return internal_pj + switching_pj + leakage_pj; }
  void add(const EnergyBreakdown& o);
};

class PowerModel {
 public:
  // Throws naming the instance, cell or pin the liberty lacks.
  PowerModel(const Netlist& netlist, const liberty::Library& lib, const PowerEnvironment& env);

  // `activity[n]` for every netlist net n (aliases of one net may differ:
  // the representative the driver drives is used; see net_representative).
  // The clock port's activity is fixed (2 transitions per cycle, duty 0.5).
  EnergyBreakdown energy_per_cycle(const std::vector<NetActivity>& activity, double period_ns,
                                   PowerConvention convention) const;
  // The same per instance (netlist order), for cross-checks.
  std::vector<EnergyBreakdown> instance_energy_per_cycle(const std::vector<NetActivity>& activity,
                                                         double period_ns, PowerConvention convention) const;

  int net_representative(int net) const { return alias_[net]; }
  double load_pf(int net) const { return load_pf_[alias_[net]]; }
  double slew_ns(int net, bool rise) const { return slew_ns_[alias_[net]][rise]; }
  double voltage() const { return voltage_; }
  const liberty::Library& library() const { return lib_; }

 private:
  const Netlist& nl_;
  const liberty::Library& lib_;
  PowerEnvironment env_;
  double voltage_ = 0.0;
  int clock_net_ = -1, shadow_clock_net_ = -1;
  bool is_clock(int net) const { return net == clock_net_ || (net >= 0 && net == shadow_clock_net_); }
  std::vector<int> alias_;
  std::vector<const liberty::Cell*> cells_;
  std::vector<double> load_pf_;
  std::vector<std::array<double, 2>> slew_ns_;  // per net: [fall, rise]

  EnergyBreakdown instance_energy(std::size_t i, const std::vector<NetActivity>& activity, double period_ns,
                                  PowerConvention convention) const;
};

// A comma list of `net activity duty` lines (OpenSTA's pin activity, written
// by flow/energy_check.tcl) -> per-net activity of `netlist`; activities in
// transitions per second are turned into per cycle with `period_ns`.
std::vector<NetActivity> read_net_activity(const std::string& path, const Netlist& netlist, double period_ns);

}  // namespace vosa::dta

#include <nlohmann/json.hpp>

namespace vosa::dta {

// The flow's input driver and output load (flow/sta_corner.tcl) from a PDK
// config (pdk_configs/<pdk>.json): cells.driver, cells.load x count.
PowerEnvironment power_environment(const std::string& pdk, const liberty::Library& lib);

// Per-net activity from simulated counts (PointStats::net_toggles/net_high).
std::vector<NetActivity> simulated_activity(const std::vector<std::uint64_t>& toggles,
                                            const std::vector<std::uint64_t>& high, std::uint64_t cycles);

// errmodel.json points[].energy (docs/errmodel.md): per cycle (= per MAC: one
// MAC per PE cycle) and its breakdown.
nlohmann::json energy_to_json(const PowerModel& model, const std::vector<NetActivity>& activity, double period_ns,
                              std::uint64_t cycles, const std::string& activity_source,
                              const std::string& liberty_source);

}  // namespace vosa::dta
