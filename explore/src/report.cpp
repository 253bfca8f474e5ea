#include "vosa/explore/report.hpp"

#include "vosa/explore/svg_plot.hpp"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace vosa::explore {
namespace {

std::string fmt(double v, int digits = 2) {
  char b[48];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

std::vector<int> mask_bits(std::uint64_t m) {
  std::vector<int> bits;
  for (int b = 63; b >= 0; --b)
    if ((m >> b) & 1) bits.push_back(b);
  return bits;
}

std::string bits_text(std::uint64_t m) {
  if (!m) return "none";
  std::string s;
  for (int b : mask_bits(m)) s += (s.empty() ? "" : ",") + std::to_string(b);
  return s;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw ExploreError(path + ": cannot write");
}

// The uniform voltage of a setting, or NaN.
double uniform_voltage(const Setting& s) {
  const double v = s.voltage.empty() || s.voltage[0].empty() ? std::nan("") : s.voltage[0][0];
  for (const auto& l : s.voltage)
    for (double x : l)
      if (std::abs(x - v) > 1e-9) return std::nan("");
  return v;
}

}  // namespace

nlohmann::json setting_json(const Setting& s) {
  return {{"voltages", s.voltage}, {"razor", {{"bits", mask_bits(s.razor_mask)}, {"policy", to_string(s.policy)}}}};
}

nlohmann::json point_json(const Point& p) {
  const auto& L = p.eval.loss;
  double stalls = 0, cycles = 0;
  for (double x : p.eval.layer_stall_cycles) stalls += x;
  for (double x : p.eval.layer_array_cycles) cycles += x;
  return {{"id", p.id},
          {"algorithm", p.algorithm},
          {"phase", p.phase},
          {"label", p.label},
          {"schedule", setting_json(p.setting)},
          {"samples", L.samples},
          {"coarse", p.eval.coarse},
          {"coarse_injection", p.eval.coarse ? (p.eval.coarse_sampled ? "sampled" : "exact") : ""},
          {"coarse_reject_z", p.eval.coarse ? nlohmann::json(p.eval.reject_z) : nlohmann::json()},
          {"coarse_look_z", p.eval.coarse ? nlohmann::json(p.eval.look_z) : nlohmann::json()},
          {"injection", p.eval.injection},
          {"razor_errors", p.eval.razor_errors},
          {"repeats", L.repeats},
          {"accuracy", {{"clean_pct", L.clean_accuracy_pct}, {"faulty_pct", L.faulty_accuracy_pct}}},
          {"loss_pct", L.loss_pct},
          {"loss_ci95_pct", {L.ci_low_pct, L.ci_high_pct}},
          {"energy_pj", {{"pe", p.energy.pe_pj},
                         {"razor", p.energy.razor_pj},
                         {"stall", p.energy.stall_pj},
                         {"controller", p.energy.controller_pj},
                         {"total", p.energy.total_pj},
                         {"baseline", p.energy.baseline_pj}}},
          {"saving_pct", p.energy.saving_pct},
          {"array_cycles_per_inference", cycles},
          {"razor_stall_cycles_per_inference", stalls},
          {"error_hits", p.eval.error_hits},
          {"seconds", p.eval.seconds}};
}

std::vector<int> pareto_front(const std::vector<Point>& points) {
  std::vector<int> idx(points.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int>(i);
  std::sort(idx.begin(), idx.end(), [&](int a, int b) {
    const double la = points[a].eval.loss.loss_pct, lb = points[b].eval.loss.loss_pct;
    return la != lb ? la < lb : points[a].energy.saving_pct > points[b].energy.saving_pct;
  });
  std::vector<int> front;
  double best = -1e300;
  for (int i : idx)
    if (points[i].energy.saving_pct > best) {
      front.push_back(i);
      best = points[i].energy.saving_pct;
    }
  return front;
}

double saving_vs(const EnergyModel& energy, const Point& p, const Baseline& b) {
  if (!b.available) return std::numeric_limits<double>::quiet_NaN();
  return 100.0 * (1.0 - p.energy.total_pj / energy.uniform_pj(p.eval.layer_array_cycles, b.voltage));
}

int best_point_within(const std::vector<Point>& points, double budget_pct) {
  int best = -1;
  for (size_t i = 0; i < points.size(); ++i)
    if (points[i].eval.loss.loss_pct <= budget_pct + 1e-12 &&
        (best < 0 || points[i].energy.saving_pct > points[best].energy.saving_pct))
      best = static_cast<int>(i);
  return best;
}

nlohmann::json points_json(const Explorer& ex, const std::vector<Selection>& selections, const ReportContext& ctx) {
  nlohmann::json j;
  j["schema_version"] = 1;
  j["generator"] = "vosa explore";
  j["meta"] = ctx.meta;
  j["budget_pct"] = ex.options().budget_pct;
  j["budget_checked_against"] = to_string(ex.options().verify_bound);
  j["energy_model"] = ex.energy().describe();
  j["layers"] = ctx.layer_names;
  for (size_t k = 0; k < ex.levels().size(); ++k)
    j["levels"].push_back({{"voltage", ex.levels()[k]},
                           {"delay_source", k < ctx.level_delay_source.size() ? ctx.level_delay_source[k] : ""},
                           {"energy_per_pe_cycle_pj", ex.energy().corner_at(ex.levels()[k]).energy_per_mac_pj}});
  for (const auto& b : ctx.baselines)
    j["baselines"].push_back({{"name", b.name},
                              {"available", b.available},
                              {"voltage", b.available ? nlohmann::json(b.voltage) : nlohmann::json()},
                              {"source", b.source}});
  j["points"] = nlohmann::json::array();
  for (const auto& p : ex.points()) {
    nlohmann::json pj = point_json(p);
    for (const auto& b : ctx.baselines)
      pj["saving_vs_pct"][b.name] = b.available ? nlohmann::json(saving_vs(ex.energy(), p, b)) : nlohmann::json();
    j["points"].push_back(pj);
  }
  for (const auto& s : selections) {
    nlohmann::json c = {{"algorithm", s.algorithm}, {"fits", s.fits},         {"point", s.point_id},
                        {"schedule", setting_json(s.setting)}, {"backoffs", s.backoffs},
                        {"backoff_evaluations", s.backoff_evaluations},
                        {"predicted_loss_pct", s.predicted_loss_pct}, {"note", s.note}};
    if (!s.sensitivity.empty()) c["sensitivity_pct"] = s.sensitivity;
    j["chosen"].push_back(c);
  }
  j["pareto_front"] = pareto_front(ex.points());
  return j;
}

void write_report(const std::string& dir, const Explorer& ex, const std::vector<Selection>& selections,
                  const ReportContext& ctx) {
  const auto& pts = ex.points();
  const nlohmann::json m = ctx.meta.is_object() ? ctx.meta : nlohmann::json::object();
  std::ostringstream r;
  r << "# vosa explore: " << m.value("model", std::string("?")) << " on " << m.value("pdk", std::string("?"))
    << "\n\nCommand: `" << m.value("command", std::string("")) << "`\n\n";
  r << "Array: " << ex.energy().geometry().rows << "x" << ex.energy().geometry().cols << " weight-stationary, "
    << ex.energy().geometry().acc_bits << "-bit accumulators, " << ex.islands() << " voltage islands (config `"
    << m.value("config", std::string("")) << "`). Clock period " << m.value("period_ns", 0.0)
    << " ns for every voltage. Silicon (errors and energy): " << m.value("operating_corner", std::string("?"))
    << ". Inputs: " << m.value("samples", 0) << " of `" << m.value("data", std::string(""))
    << "`, " << m.value("repeats", 0) << " fault repeats per input, seed " << m.value("seed", 0) << ".\n\n";
  int coarse_points = 0, candidate_points = 0;
  for (const auto& p : pts) {
    coarse_points += p.eval.coarse;
    candidate_points += p.eval.coarse && p.eval.reject_z != kCoarseRejectZ;
  }
  if (m.value("coarse_inputs", 0) > 0 && m.value("coarse_inputs", 0) < m.value("samples", 0)) {
    r << "Coarse-to-fine over inputs: every setting was evaluated on the first 10, then the first "
      << m.value("coarse_inputs", 0) << " inputs, then in chunks (0.2, 0.4, 0.7 of them) to all; " << coarse_points
      << " of " << pts.size()
      << " points were clearly over budget at a stage (loss - z standard errors > budget, z of the stage from "
         "the error-spending rule of docs/explore.md, `coarse_look_z`: at most "
      << fmt(100 * normal_tail(kCoarseRejectZ))
      << " % of the settings at the budget are stopped) and stopped there (`samples` and `coarse` in points.json; "
         "`coarse_injection` sampled: rejected at the first stage by the sampled injection, docs/inject.md)";
    if (candidate_points > 0)
      r << "; of them " << candidate_points
        << " verify, back-off or sweep (accuracy-against-voltage curve) points by the candidates' larger error budget (at most "
        << fmt(100 * normal_tail(m.value("candidate_reject_z", kCandidateRejectZ)))
        << " %, `coarse_reject_z` " << fmt(m.value("candidate_reject_z", 0.0)) << "): a wrong "
        << "rejection there only costs saving (or, on a curve, marks a point over budget that is not), the schedule "
           "accepted is measured on all inputs";
    r << ".\n\n";
  }
  std::map<std::string, int> by_injection;
  for (const auto& p : pts) ++by_injection[p.eval.injection];
  r << "Injection (`injection` in points.json, docs/inject.md):";
  for (const auto& [name, n] : by_injection) r << " " << n << " points " << name << ";";
  r << " exact draws every error; thinned (Razor correct) draws only the errors Razor leaves, the same "
       "distribution of results, with expected Razor stall counts; sampled is the screening approximation.\n\n";
  if (m.value("screen_inputs", 0) > 0 && m.value("screen_inputs", 0) < m.value("samples", 0))
    r << "Coarse-to-fine over settings: the sensitivity points (each unit alone below sign-off, which only "
         "predict a schedule's loss) ran on the first "
      << m.value("screen_inputs", 0)
      << " inputs; every verified schedule, back-off, sweep and Rathore point on all inputs.\n\n";
  r << "Accuracy loss = top-1 accuracy of the error-free run minus that of the error-injecting run on the same "
       "inputs (paired, per input averaged over the repeats), with a 95 % confidence interval (t interval over "
       "inputs). Budget: **"
    << fmt(ex.options().budget_pct) << " %** top-1, checked against the " << to_string(ex.options().verify_bound)
    << (ex.options().verify_bound == Bound::kPoint ? " estimate" : " bound") << ".\n\n";

  r << "## Voltage levels\n\n| V | delay source (error model) | energy per PE-cycle (pJ) | vs sign-off |\n|---|---|---|---|\n";
  for (size_t k = 0; k < ex.levels().size(); ++k) {
    const double e = ex.energy().corner_at(ex.levels()[k]).energy_per_mac_pj;
    r << "| " << fmt(ex.levels()[k]) << " | " << (k < ctx.level_delay_source.size() ? ctx.level_delay_source[k] : "")
      << " (energy: " << ex.energy().corner_at(ex.levels()[k]).delay_source << ") | " << fmt(e, 3) << " | "
      << fmt(e / ex.energy().corner_at(ex.signoff()).energy_per_mac_pj, 3) << " |\n";
  }

  if (!ctx.baselines.empty()) {
    r << "## Baselines\n\nEvery saving is against a conventional array (no Razor, no island controller) "
         "running uniformly at the baseline's voltage, at the same clock:\n\n| baseline | voltage | source |\n"
         "|---|---|---|\n";
    for (const auto& b : ctx.baselines)
      r << "| " << b.name << " | " << (b.available ? fmt(b.voltage) + " V" : "-") << " | " << b.source << " |\n";
    r << "\n";
  }
  r << "\n## Chosen settings\n\n| algorithm | fits | measured loss (95 % CI) | predicted loss | energy saving | "
       "Razor bits (policy) | back-offs | point |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& s : selections) {
    if (s.point_id < 0) {
      r << "| " << s.algorithm << " | no | - | - | - | - | - | " << s.note << " |\n";
      continue;
    }
    const Point& p = pts[s.point_id];
    r << "| " << s.algorithm << " | " << (s.fits ? "yes" : "no") << " | " << fmt(p.eval.loss.loss_pct) << " % ["
      << fmt(p.eval.loss.ci_low_pct) << ", " << fmt(p.eval.loss.ci_high_pct) << "] | "
      << (s.algorithm == "rathore" ? "-" : fmt(s.predicted_loss_pct) + " %") << " | **"
      << fmt(p.energy.saving_pct, 1) << " %** | " << bits_text(s.setting.razor_mask) << " ("
      << to_string(s.setting.policy) << (p.eval.razor_errors.empty() ? "" : ", " + p.eval.razor_errors + " errors")
      << ") | " << (s.algorithm == "rathore" ? std::string("-")
                                                : std::to_string(s.backoffs) + " (" + std::to_string(s.backoff_evaluations) +
                                                      " evaluated)")
      << " | " << p.id << (s.note.empty() ? "" : " " + s.note)
      << " |\n";
  }
  if (m.contains("backoff"))
    r << "\nBack-off search (xtpu/thundervolt, docs/explore.md \"At scale\"): `"
      << m.value("backoff", std::string("?")) << "`"
      << (m.value("backoff", std::string()) == "bisect"
              ? ", saving tolerance " + fmt(m.value("backoff_saving_tolerance_pct", 0.0)) +
                    " percentage points (an accepted schedule may save up to that much less than the first "
                    "schedule of the order that fits; it is measured on all inputs and fits)"
              : std::string())
      << ".\n";
  // The issue-17 goal is a paired 95 % CI of at most +-1 point: say each
  // chosen point's half-width and on how many inputs it was measured.
  r << "\nThe losses are paired: each input's clean minus faulty top-1 correctness (mean over the repeats), "
       "95 % Student-t interval over the inputs. Half-width of each chosen point's interval:";
  for (const auto& s : selections)
    if (s.point_id >= 0) {
      const PairedLoss& L = pts[s.point_id].eval.loss;
      r << " " << s.algorithm << " +-" << fmt((L.ci_high_pct - L.ci_low_pct) / 2) << " points (" << L.samples
        << " inputs);";
    }
  r << "\n";
  if (!ctx.baselines.empty()) {
    r << "\nSaving of each chosen point against each baseline:\n\n| algorithm |";
    for (const auto& b : ctx.baselines) r << " vs " << b.name << " |";
    r << "\n|---|";
    for (size_t i = 0; i < ctx.baselines.size(); ++i) r << "---|";
    r << "\n";
    for (const auto& s : selections) {
      if (s.point_id < 0) continue;
      r << "| " << s.algorithm << " |";
      for (const auto& b : ctx.baselines)
        r << " " << (b.available ? fmt(saving_vs(ex.energy(), pts[s.point_id], b), 1) + " %" : "-") << " |";
      r << "\n";
    }
  }
  r << "\nEnergy of each chosen point (pJ per inference): \n\n| algorithm | PE | Razor | stalls | controller | total | "
       "baseline |\n|---|---|---|---|---|---|---|\n";
  for (const auto& s : selections) {
    if (s.point_id < 0) continue;
    const auto& e = pts[s.point_id].energy;
    r << "| " << s.algorithm << " | " << fmt(e.pe_pj, 0) << " | " << fmt(e.razor_pj, 0) << " | " << fmt(e.stall_pj, 0)
      << " | " << fmt(e.controller_pj, 0) << " | " << fmt(e.total_pj, 0) << " | " << fmt(e.baseline_pj, 0) << " |\n";
  }
  r << "\nBest measured point at any setting evaluated (point estimate of the loss):\n\n| loss <= | saving | loss "
       "(95 % CI) | algorithm / phase | point |\n|---|---|---|---|---|\n";
  std::vector<double> budgets{0.5, 1.0};
  if (ex.options().budget_pct != 0.5 && ex.options().budget_pct != 1.0) budgets.push_back(ex.options().budget_pct);
  for (double b : budgets) {
    const int i = best_point_within(pts, b);
    if (i < 0) continue;
    r << "| " << fmt(b) << " % | " << fmt(pts[i].energy.saving_pct, 1) << " % | " << fmt(pts[i].eval.loss.loss_pct)
      << " [" << fmt(pts[i].eval.loss.ci_low_pct) << ", " << fmt(pts[i].eval.loss.ci_high_pct) << "] | "
      << pts[i].algorithm << " / " << pts[i].phase << " | " << i << " |\n";
  }

  // Accuracy against voltage, uniform over the array.
  std::vector<PlotSeries> acc;
  r << "\n## Accuracy against voltage (every layer and island at one voltage)\n\n![accuracy vs voltage]"
       "(accuracy_vs_voltage.svg)\n\n| curve |";
  for (double v : ex.levels()) r << " " << fmt(v) << " V |";
  r << "\n|---|";
  for (size_t k = 0; k < ex.levels().size(); ++k) r << "---|";
  r << "\n";
  for (const auto& [label, mask] : ctx.curves) {
    PlotSeries s;
    s.name = label;
    r << "| " << label << " (faulty top-1 %, loss) |";
    for (double v : ex.levels()) {
      const Point* found = nullptr;
      for (const auto& p : pts)
        if (std::abs(uniform_voltage(p.setting) - v) < 1e-9 && p.setting.razor_mask == mask &&
            (label.find("TE-Drop") != std::string::npos) == (p.setting.policy == RazorPolicy::kDrop))
          found = &p;
      if (!found) {
        r << " - |";
        continue;
      }
      const auto& L = found->eval.loss;
      s.xy.emplace_back(v, L.faulty_accuracy_pct);
      s.y_range.emplace_back(L.clean_accuracy_pct - L.ci_high_pct, L.clean_accuracy_pct - L.ci_low_pct);
      r << " " << fmt(L.faulty_accuracy_pct, 1) << " (" << fmt(L.loss_pct) << ") |";
    }
    r << "\n";
    acc.push_back(s);
  }
  write_file(dir + "/accuracy_vs_voltage.svg",
             svg_plot("Top-1 accuracy vs supply voltage (" + m.value("model", std::string("")) + ")",
                      "supply voltage (V)", "top-1 accuracy (%), bars: 95 % CI", acc));

  // Saving against loss, with the Pareto front.
  std::map<std::string, PlotSeries> by_algo;
  for (const auto& p : pts) {
    auto& s = by_algo[p.algorithm];
    s.name = p.algorithm + " points";
    s.line = false;
    s.xy.emplace_back(p.eval.loss.loss_pct, p.energy.saving_pct);
  }
  std::vector<PlotSeries> pareto;
  for (auto& [k, s] : by_algo) pareto.push_back(s);
  PlotSeries front{"Pareto front", {}, {}, true};
  for (int i : pareto_front(pts)) front.xy.emplace_back(pts[i].eval.loss.loss_pct, pts[i].energy.saving_pct);
  pareto.push_back(front);
  write_file(dir + "/saving_vs_loss.svg", svg_plot("Energy saving vs accuracy loss (every evaluated point)",
                                                   "top-1 accuracy loss (percentage points)",
                                                   "energy saving vs sign-off (%)", pareto));
  r << "\n## Energy saving against accuracy loss\n\n![saving vs loss](saving_vs_loss.svg)\n\nPareto front:\n\n"
       "| loss (95 % CI) | saving | algorithm / phase | label | point |\n|---|---|---|---|---|\n";
  for (int i : pareto_front(pts))
    r << "| " << fmt(pts[i].eval.loss.loss_pct) << " [" << fmt(pts[i].eval.loss.ci_low_pct) << ", "
      << fmt(pts[i].eval.loss.ci_high_pct) << "] | " << fmt(pts[i].energy.saving_pct, 1) << " % | "
      << pts[i].algorithm << " / " << pts[i].phase << " | " << pts[i].label << " | " << i << " |\n";

  // Chosen voltage per island and layer.
  for (const auto& s : selections) {
    if (s.algorithm == "rathore" || s.point_id < 0) continue;
    r << "\n## " << s.algorithm << ": chosen voltage per layer and island\n\n![" << s.algorithm << " heatmap]("
      << s.algorithm << "_voltages.svg)\n\n| layer |";
    for (int i = 0; i < ex.islands(); ++i) r << " island " << i << " |";
    r << "\n|---|";
    for (int i = 0; i < ex.islands(); ++i) r << "---|";
    r << "\n";
    std::vector<std::string> cols;
    for (int i = 0; i < ex.islands(); ++i) cols.push_back("island " + std::to_string(i));
    std::vector<std::vector<double>> vals;
    for (int l = 0; l < ex.layers(); ++l) {
      r << "| " << (l < static_cast<int>(ctx.layer_names.size()) ? ctx.layer_names[l] : std::to_string(l)) << " |";
      for (int i = 0; i < ex.islands(); ++i) r << " " << fmt(s.setting.voltage[l][i]) << " |";
      r << "\n";
      vals.push_back(s.setting.voltage[l]);
    }
    write_file(dir + "/" + s.algorithm + "_voltages.svg",
               svg_heatmap(s.algorithm + ": supply voltage per layer and island (V)", ctx.layer_names, cols, vals,
                           ex.levels().front(), ex.levels().back(), "V"));
    r << "\nMeasured sensitivity (loss in % when only this unit runs at that level; `-`: not measured, "
         "`over`: alone over the budget, lower levels skipped):\n\n| unit |";
    for (double v : ex.levels()) r << " " << fmt(v) << " V |";
    r << "\n|---|";
    for (size_t k = 0; k < ex.levels().size(); ++k) r << "---|";
    r << "\n";
    for (size_t u = 0; u < s.sensitivity.size(); ++u) {
      r << "| " << u << " |";
      bool over = false;
      std::vector<std::string> cells(ex.levels().size());
      for (size_t k = ex.levels().size(); k-- > 0;) {
        const double x = s.sensitivity[u][k];
        if (x >= 0)
          cells[k] = fmt(x);
        else if (!over) {
          cells[k] = "over";
          over = true;
        } else
          cells[k] = "-";
      }
      for (const auto& c : cells) r << " " << c << " |";
      r << "\n";
    }
    r << "\n(units: " << (s.algorithm == "xtpu" ? "layer-major, (layer, island) = (u / islands, u % islands)"
                                                 : "one per layer, all islands together")
      << ")\n";
  }
  r << "\n## Files\n\n- `points.json`: every evaluated point (schedule, accuracy, loss and CI, energy, saving)\n"
       "- `chosen/<algorithm>.settings.json`: the schedule in `vosa infer --settings` format (docs/inject.md)\n"
       "- `chosen/<algorithm>.config.json`: a generator config with those Razor bits and islands, for `make rtl` / "
       "`make layers`\n";
  write_file(dir + "/report.md", r.str());
}

}  // namespace vosa::explore
