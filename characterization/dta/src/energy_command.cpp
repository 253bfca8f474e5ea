#include "energy_command.hpp"

#include "vosa/pdk.hpp"
#include "vosa/timing_sim.hpp"
#include "vosa/output_file.hpp"

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace vosa::dta {

namespace {

PowerEnvironment environment_for(const std::string& pdk, const liberty::Library& lib, double voltage) {
  PowerEnvironment env = pdk.empty() || pdk == "unknown" ? PowerEnvironment{} : power_environment(pdk, lib);
  env.voltage = voltage;
  return env;
}

}  // namespace

std::shared_ptr<DtaEnergyOptions> add_dta_energy_options(CLI::App* dta) {
  auto opt = std::make_shared<DtaEnergyOptions>();
  dta->add_flag("--energy", opt->enabled,
                "also count every simulated transition per net and write the energy per cycle (= per MAC)\n"
                "from them into each point's \"energy\" (liberty internal power at STA slews and loads,\n"
                "1/2 C V^2, leakage; docs/dta.md \"Energy\"); event engine only");
  dta->add_option("--power-liberty", opt->power_liberty,
                  "liberty of this voltage for --energy (default: --liberty); output loads and the input\n"
                  "driver come from --pdk as in the flow's STA");
  dta->add_option("--activity-out", opt->activity_out,
                  "with --energy: also write the simulated activity per net ('net transitions_per_second\n"
                  "duty', the last period's), the input of `vosa energy --activity`");
  return opt;
}

nlohmann::json dta_energy_point(DtaEnergyOptions& opt, const Netlist& nl, const std::string& functions_liberty,
                                const PointStats& counted, const RunOptions& ro,
                                const std::function<PointStats(const RunOptions&)>& simulate,
                                const std::string& pdk, double voltage, const std::string& delay_source) {
  const double period_ns = ro.sim.period_ns;
  if (!opt.model) {
    const std::string path = opt.power_liberty.empty() ? functions_liberty : opt.power_liberty;
    opt.lib = std::make_unique<liberty::Library>(liberty::load_library(path));
    opt.model = std::make_unique<PowerModel>(nl, *opt.lib, environment_for(pdk, *opt.lib, voltage));
  }
  PointStats rerun;
  const bool reuse = ro.sim.delay_mode == DelayMode::kInertial && counted.net_toggles.size() == nl.net_names.size();
  if (!reuse) {
    RunOptions r = ro;
    r.sim.delay_mode = DelayMode::kInertial;
    r.count_activity = true;
    r.captured_log = nullptr;
    r.input_log = nullptr;
    r.record_error_cycles = false;
    rerun = simulate(r);
  }
  const PointStats& s = reuse ? counted : rerun;
  if (s.net_toggles.size() != nl.net_names.size()) throw DtaError("--energy: the simulation counted no activity");
  const auto activity = simulated_activity(s.net_toggles, s.net_high, s.activity_cycles);
  const auto functional = simulated_activity(s.net_functional, s.net_high, s.activity_cycles);
  if (!opt.activity_out.empty()) {
    std::ostringstream t;
    t << "# net transitions_per_second duty (vosa dta simulated activity, " << s.activity_cycles << " cycles of "
      << period_ns << " ns)\n"
      << std::setprecision(9);
    for (std::size_t n = 0; n < activity.size(); ++n)
      if (opt.model->net_representative(static_cast<int>(n)) == static_cast<int>(n))
        t << nl.net_names[n] << " " << activity[n].toggles_per_cycle / (period_ns * 1e-9) << " " << activity[n].duty
          << "\n";
    write_output_file(opt.activity_out, t.str());
  }
  nlohmann::json j = energy_to_json(*opt.model, activity, period_ns, s.activity_cycles, "simulated", delay_source);
  j["activity_delay_mode"] = "inertial";
  // The same without glitches: every net changing at most once per cycle (zero-delay activity).
  const EnergyBreakdown f = opt.model->energy_per_cycle(functional, period_ns, PowerConvention::kVosa);
  j["functional_energy_per_cycle_pj"] = f.total_pj();
  j["glitch_share"] = 1.0 - f.total_pj() / j["energy_per_cycle_pj"].get<double>();
  // Razor correct with stall_i driven: a stalled edge is a cycle of energy
  // with no MAC, so the energy of a MAC is the cycle's times (MACs + stalls) / MACs.
  if (s.razor.stall_cycles && s.samples) {
    j["stall_cycles"] = s.razor.stall_cycles;
    j["energy_per_mac_pj"] = j["energy_per_cycle_pj"].get<double>() *
                             static_cast<double>(s.samples + s.razor.stall_cycles) / static_cast<double>(s.samples);
  }
  return j;
}

void add_energy_command(CLI::App& app) {
  struct Options {
    std::string netlist, liberty, activity, pdk, convention = "vosa", instances_out;
    double period_ns = 0, voltage = 0;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "energy",
      "Energy per clock cycle of a gate netlist from a per-net activity file, with the model of\n"
      "`vosa dta --energy` (docs/dta.md \"Energy\"). Used to check the model against OpenSTA\n"
      "report_power on OpenSTA's own activity (flow/energy_check.sh).");
  cmd->add_option("--netlist", opt->netlist, "gate netlist")->required();
  cmd->add_option("--liberty", opt->liberty, "liberty of the voltage")->required();
  cmd->add_option("--activity", opt->activity,
                  "lines 'net transitions_per_second duty' (nets not listed: no activity)")->required();
  cmd->add_option("--period-ns", opt->period_ns, "clock period")->required()->check(CLI::PositiveNumber);
  cmd->add_option("--pdk", opt->pdk, "PDK config for the input driver and output load (flow/sta_corner.tcl)");
  cmd->add_option("--voltage", opt->voltage, "supply voltage (default: the liberty's operating voltage)");
  cmd->add_option("--convention", opt->convention, "vosa or opensta (OpenSTA 2.0.17's internal-power rules)")
      ->check(CLI::IsMember({"vosa", "opensta"}));
  cmd->add_option("--instances-out", opt->instances_out, "also write per-instance energy (TSV)");
  cmd->callback([opt]() {
    const Netlist nl = read_netlist(opt->netlist);
    const liberty::Library lib = liberty::load_library(opt->liberty);
    const PowerModel model(nl, lib, environment_for(opt->pdk, lib, opt->voltage));
    const auto activity = read_net_activity(opt->activity, nl, opt->period_ns);
    const PowerConvention conv = opt->convention == "opensta" ? PowerConvention::kOpenSta : PowerConvention::kVosa;
    const auto per_inst = model.instance_energy_per_cycle(activity, opt->period_ns, conv);
    EnergyBreakdown total;
    for (const auto& e : per_inst) total.add(e);
    if (!opt->instances_out.empty()) {
      std::ostringstream t;
      t << "instance\tinternal_pj\tswitching_pj\tleakage_pj\tclock_internal_pj\n" << std::setprecision(6);
      for (std::size_t i = 0; i < per_inst.size(); ++i)
        t << nl.instances[i].name << "\t" << per_inst[i].internal_pj << "\t" << per_inst[i].switching_pj << "\t"
          << per_inst[i].leakage_pj << "\t" << per_inst[i].clock_internal_pj << "\n";
      write_output_file(opt->instances_out, t.str());
    }
    const double to_w = 1e-12 / (opt->period_ns * 1e-9);  // pJ per cycle -> W
    std::cout << std::setprecision(6) << "internal_w\t" << total.internal_pj * to_w << "\nswitching_w\t"
              << total.switching_pj * to_w << "\nleakage_w\t" << total.leakage_pj * to_w << "\ntotal_w\t"
              << total.total_pj() * to_w << "\nclock_internal_w\t" << total.clock_internal_pj * to_w
              << "\nenergy_per_cycle_pj\t" << total.total_pj() << "\n";
  });
}

namespace {

nlohmann::json read_json_file(const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw DtaError(std::string(what) + " " + path + ": cannot open file");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw DtaError(std::string(what) + " " + path + ": not valid JSON: " + e.what());
  }
}

}  // namespace

// `vosa energy-table`: power/energy.json (make power, OpenSTA default activity)
// with every corner's energy_per_mac_pj replaced by the simulated one of the
// error model's point at that corner; the OpenSTA figure stays beside it.
void add_energy_table_command(CLI::App& app) {
  struct Options {
    std::string errmodel, energy, out;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "energy-table",
      "Energy per MAC per corner from the simulated activity: the error model's points[].energy\n"
      "(make characterize DTA_ENERGY=1) in the format of power/energy.json (make power), which\n"
      "`vosa explore --energy` reads. Every corner of --energy needs a point with energy.");
  cmd->add_option("--errmodel", opt->errmodel, "errmodel.json with points[].energy")->required();
  cmd->add_option("--energy", opt->energy, "power/energy.json of the same PE (corners, sign-off)")->required();
  cmd->add_option("--out", opt->out, "energy JSON to write")->required();
  cmd->callback([opt]() {
    const nlohmann::json model = read_json_file(opt->errmodel, "error model");
    nlohmann::json doc = read_json_file(opt->energy, "energy");
    if (!doc.contains("corners") || !doc["corners"].is_array())
      throw DtaError("energy " + opt->energy + ": no 'corners'");
    for (auto& c : doc["corners"]) {
      const std::string name = c.value("name", "");
      const nlohmann::json* found = nullptr;
      for (const auto& p : model.at("points"))
        if (p.value("corner", "") == name && p.contains("energy")) found = &p;
      if (!found)
        throw DtaError("error model " + opt->errmodel + ": no point with \"energy\" at corner " + name +
                       " (make characterize DTA_ENERGY=1 with that corner)");
      const nlohmann::json& e = (*found)["energy"];
      c["energy_per_mac_pj_opensta_default_activity"] = c.value("energy_per_mac_pj", 0.0);
      c["energy_per_mac_pj"] = e.at("energy_per_mac_pj");
      c["energy"] = e;
    }
    doc["activity"] = "simulated (vosa dta --energy, inertial delays) on " + model.value("operand_source", "?");
    doc["activity_source"] = "simulated";
    doc["power_source"] = "vosa dta --energy (liberty internal power at STA slews/loads, 1/2 C V^2, leakage)";
    write_output_file(opt->out, doc.dump(1) + "\n");
  });
}

}  // namespace vosa::dta
