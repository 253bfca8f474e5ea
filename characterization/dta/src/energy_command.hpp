// `vosa dta --energy` options and `vosa energy` (energy from an activity
// file): the command-line side of activity_energy.hpp, kept beside
// dta_commands.cpp so that file only calls in.
#pragma once

#include "vosa/activity_energy.hpp"
#include "vosa/pe_dta.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>

namespace vosa::dta {

struct DtaEnergyOptions {
  bool enabled = false;
  std::string power_liberty;  // liberty of this voltage for the energy ("" = --liberty)
  std::string activity_out;   // per-net activity file (read_net_activity's format), "" = none
  // Built on first use and kept for every period of the run.
  std::unique_ptr<liberty::Library> lib;
  std::unique_ptr<PowerModel> model;
};

// Adds --energy and --power-liberty to `vosa dta`.
std::shared_ptr<DtaEnergyOptions> add_dta_energy_options(CLI::App* dta);
// The point's "energy" object from the simulated activity: that of `s` when
// it was counted with inertial delays, else of a second run of `simulate`
// with inertial delays on the event engine (transport delays pass pulses
// shorter than a gate's delay, which real gates filter: docs/dta.md "Energy").
nlohmann::json dta_energy_point(DtaEnergyOptions& opt, const Netlist& nl, const std::string& functions_liberty,
                                const PointStats& s, const RunOptions& ro,
                                const std::function<PointStats(const RunOptions&)>& simulate,
                                const std::string& pdk, double voltage, const std::string& delay_source);

void add_energy_command(CLI::App& app);
void add_energy_table_command(CLI::App& app);

}  // namespace vosa::dta
