// `vosa explore`: voltage and Razor-bit selection on a real DNN with
// error-injecting inference, and its report (docs/explore.md).
#pragma once

#include "vosa/config.hpp"
#include "vosa/engine.hpp"
#include "vosa/error_model.hpp"
#include "vosa/explore/energy.hpp"
#include "vosa/explore/evaluation.hpp"
#include "vosa/inject.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace vosa::explore {

void add_explore_command(CLI::App& app);

// What `vosa explore` and `vosa explore-sram` both take: the array, its error
// and energy models, the network and its inputs, the budget and the draws.
struct ArrayRunOptions {
  std::string config, errmodel, energy, razor_cost, model, data, model_name;
  std::string encoding = "auto", levels, bound = "point", operating_corner;
  double budget = 0.5, period_ns = 0;
  std::size_t limit = 0;
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::uint64_t seed = 1;
};
// Adds those options to `cmd`; the output and each command's own options are the caller's.
void add_array_run_options(CLI::App& cmd, ArrayRunOptions& o);
// What both commands check before reading anything: a positive budget, the
// files given exist (naming the make target that writes each), --data is a folder.
void check_array_run_options(const ArrayRunOptions& o);

// An explore setting as the injector's settings: ops are the array layers'
// operator indices, in the setting's layer order. layer_errmodels: per array
// layer (ops order) its own error model, "" (or no list) for `errmodel`.
inject::Settings to_inject_settings(const Setting& s, const std::string& errmodel, double period_ns,
                                    const std::vector<std::size_t>& ops,
                                    const std::vector<std::string>& layer_errmodels = {});
// Throws ExploreError unless `path` is a file: "<what> <path> does not exist (make it with <made_by>)".
void require_file(const std::string& path, const std::string& what, const std::string& made_by);
// The island levels, ascending: the comma list (--levels), else the
// config's islands.voltages, else every corner of the energy file.
std::vector<double> island_levels(const std::string& list, const ArrayConfig& config, const EnergyModel& energy);
// The delay source of the error model's point at each level; throws naming
// the file when a level has no point or errors and energy are of different corners.
std::vector<std::string> level_delay_sources(const ErrorModel& errmodel, const std::string& errmodel_path,
                                             const EnergyModel& energy, const std::string& energy_path,
                                             const std::vector<double>& levels, double period_ns);
// The per-layer array and Razor stall cycles per inference of a faulty run
// (Evaluation::layer_array_cycles / layer_stall_cycles / error_hits).
void add_layer_cycles(const engine::Engine& engine, const inject::Injector& injector,
                      const inject::FaultyEvalResult& r, Evaluation& e);

}  // namespace vosa::explore
