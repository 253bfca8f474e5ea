// The explore outputs (docs/explore.md): points.json (every evaluated point),
// report.md with SVG plots, and the chosen schedules.
#pragma once

#include "vosa/explore/baselines.hpp"
#include "vosa/explore/selection.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace vosa::explore {

struct ReportContext {
  nlohmann::json meta;                   // model, data, pdk, config, budget, command, ...
  std::vector<std::string> layer_names;  // per array layer, e.g. "op 3 CONV_2D"
  std::vector<std::string> level_delay_source;  // per level (ascending), from the error model
  std::vector<std::pair<std::string, std::uint64_t>> curves;  // uniform sweeps: label, razor mask
  std::vector<Baseline> baselines;  // nominal, DVFS point, error-free point (unavailable ones say why)
};

// Saving of a point against a baseline's uniform conventional array, in %;
// NaN when the baseline is unavailable.
double saving_vs(const EnergyModel& energy, const Point& p, const Baseline& b);

nlohmann::json setting_json(const Setting& s);
nlohmann::json point_json(const Point& p);
nlohmann::json points_json(const Explorer& ex, const std::vector<Selection>& selections, const ReportContext& ctx);

// Points not dominated in (smaller loss, larger saving), sorted by loss.
std::vector<int> pareto_front(const std::vector<Point>& points);
// Largest saving among the points whose measured loss (point estimate) is <= budget; -1 if none.
int best_point_within(const std::vector<Point>& points, double budget_pct);

// Writes report.md and its SVGs into dir (which must exist).
void write_report(const std::string& dir, const Explorer& ex, const std::vector<Selection>& selections,
                  const ReportContext& ctx);

}  // namespace vosa::explore
