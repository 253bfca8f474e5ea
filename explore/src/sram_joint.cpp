#include "vosa/explore/sram_joint.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>

namespace vosa::explore {

double SramEnergyModel::pj(double v) const {
  if (!(v > 0) || !(nominal_v > 0)) throw ExploreError("SRAM energy: supply voltages must be > 0");
  return bits_per_inference * pj_per_bit * (v / nominal_v) * (v / nominal_v);
}

namespace {

JointPoint joint_point(const std::string& knob, double sram_v, const Point& p, bool fits, const SramEnergyModel& sram,
                       double signoff) {
  JointPoint j;
  j.knob = knob;
  j.sram_v = sram_v;
  j.setting = p.setting;
  j.eval = p.eval;
  j.fits = fits;
  // Every island at sign-off without Razor is the conventional array: no
  // island controller to pay (the SRAM-alone design has none).
  bool conventional = p.setting.razor_mask == 0;
  for (const auto& layer : p.setting.voltage)
    for (double v : layer) conventional = conventional && std::abs(v - p.setting.voltage.front().front()) < 1e-9;
  j.array_pj = conventional && !p.setting.voltage.empty() && p.energy.baseline_pj > 0 &&
                       std::abs(p.setting.voltage.front().front() - signoff) < 1e-9
                   ? p.energy.baseline_pj
                   : p.energy.total_pj;
  j.sram_pj = sram.pj(sram_v);
  j.total_pj = j.array_pj + j.sram_pj;
  j.baseline_pj = p.energy.baseline_pj + sram.pj(sram.nominal_v);
  return j;
}

}  // namespace

JointResult explore_joint(const JointEvaluator& evaluate, const EnergyModel& energy, int layers,
                          const std::vector<double>& levels, std::vector<double> sram_voltages,
                          const SramEnergyModel& sram, const ExploreOptions& options, bool quiet) {
  const double nominal = sram.nominal_v;
  for (double v : sram_voltages)
    if (!(v > 0) || v > nominal + 1e-9)
      throw ExploreError("SRAM supply " + std::to_string(v) + " V is outside (0, nominal " + std::to_string(nominal) +
                         " V]");
  sram_voltages.push_back(nominal);
  std::sort(sram_voltages.begin(), sram_voltages.end(), std::greater<double>());
  sram_voltages.erase(std::unique(sram_voltages.begin(), sram_voltages.end(),
                                  [](double a, double b) { return std::abs(a - b) < 1e-9; }),
                      sram_voltages.end());

  const auto explorer_at = [&](double v) {
    const JointEvaluator copy = evaluate;
    auto ex = std::make_shared<Explorer>([copy, v](const Setting& s) { return copy(s, v); }, energy, layers, levels,
                                         options);
    ex->set_quiet(quiet);
    return ex;
  };
  JointResult r;

  // The array alone: X-TPU with the SRAM at its nominal supply.
  JointStep top;
  top.sram_v = nominal;
  top.explorer = explorer_at(nominal);
  Explorer& ex0 = *top.explorer;
  ex0.set_phase("joint: array at nominal SRAM", 1);
  ex0.layer_cycles();
  const Point& base0 = ex0.points().front();
  top.sram_alone = joint_point("nominal", nominal, base0, ex0.fits(base0), sram, ex0.signoff());
  top.budget_left_pct = options.budget_pct - std::max(0.0, base0.eval.loss.loss_pct);
  r.array_selection = select_xtpu(ex0);
  top.joint = r.array_selection;
  top.joint_point = joint_point("array", nominal, ex0.points()[r.array_selection.point_id], r.array_selection.fits, sram,
                                ex0.signoff());
  r.steps.push_back(top);

  const std::vector<Unit> units = xtpu_units(ex0);
  const std::vector<std::vector<double>> saving = unit_savings(ex0, units, Setting{});
  const int K = static_cast<int>(ex0.levels().size());

  // The SRAM supply from the top down, the array units on what it leaves.
  for (size_t i = 1; i < sram_voltages.size(); ++i) {
    JointStep step;
    step.sram_v = sram_voltages[i];
    step.explorer = explorer_at(step.sram_v);
    Explorer& ex = *step.explorer;
    ex.set_phase("joint: SRAM alone at " + std::to_string(step.sram_v) + " V", 1);
    const Point& alone = ex.evaluate(Setting::uniform(layers, ex.islands(), ex.signoff()), "sram", "alone",
                                     "array at sign-off");
    step.sram_alone = joint_point("sram", step.sram_v, alone, ex.fits(alone), sram, ex.signoff());
    if (!step.sram_alone.fits) {
      step.rejected = true;
      r.steps.push_back(step);
      for (size_t j = i + 1; j < sram_voltages.size(); ++j) r.not_measured.push_back(sram_voltages[j]);
      break;
    }
    step.budget_left_pct = options.budget_pct - std::max(0.0, alone.eval.loss.loss_pct);
    Selection& js = step.joint;
    js.algorithm = "joint";
    js.sensitivity = r.array_selection.sensitivity;
    for (auto& unit : js.sensitivity)
      for (double& l : unit)
        if (l > step.budget_left_pct) l = -1;  // alone over what the SRAM leaves
    if (step.budget_left_pct > 0) {
      js.unit_level = choose_levels(saving, js.sensitivity, step.budget_left_pct, options.exact_solver);
    } else {
      js.unit_level.assign(units.size(), K - 1);
    }
    js.predicted_loss_pct = std::max(0.0, alone.eval.loss.loss_pct);
    for (size_t u = 0; u < units.size(); ++u) js.predicted_loss_pct += std::max(0.0, js.sensitivity[u][js.unit_level[u]]);
    verify_levels(ex, units, Setting{}, js);
    step.joint_point = joint_point("joint", step.sram_v, ex.points()[js.point_id], js.fits, sram, ex.signoff());
    r.steps.push_back(step);
  }

  // The choices: every knob alone, and the cheapest verified point of all.
  r.nominal = r.steps.front().sram_alone;
  // Islands cost an island controller: using none can be the cheaper array.
  r.array_only = r.array_selection.fits && r.steps.front().joint_point.total_pj < r.nominal.total_pj
                     ? r.steps.front().joint_point
                     : r.nominal;
  r.array_only.knob = "array";
  r.sram_only = r.nominal;
  r.joint = r.nominal;
  for (const JointStep& s : r.steps) {
    for (const JointPoint* p : {&s.sram_alone, &s.joint_point}) {
      if (!p->fits || p->baseline_pj <= 0) continue;
      if (p == &s.sram_alone && p->total_pj < r.sram_only.total_pj - 1e-12) r.sram_only = *p;
      if (!r.joint.fits || p->total_pj < r.joint.total_pj - 1e-12) r.joint = *p;
    }
  }
  r.sram_only.knob = "sram";
  r.joint.knob = "joint";
  return r;
}

namespace {

nlohmann::json point_json(const JointPoint& p) {
  nlohmann::json voltages = p.setting.voltage;
  return {{"knob", p.knob},
          {"sram_v", p.sram_v},
          {"island_voltages", voltages},
          {"fits", p.fits},
          {"loss_pct", p.eval.loss.loss_pct},
          {"loss_ci95_pct", {p.eval.loss.ci_low_pct, p.eval.loss.ci_high_pct}},
          {"clean_top1_pct", p.eval.loss.clean_accuracy_pct},
          {"faulty_top1_pct", p.eval.loss.faulty_accuracy_pct},
          {"samples", p.eval.loss.samples},
          {"runs_per_sample", p.eval.loss.repeats},
          {"energy_pj", {{"array", p.array_pj}, {"sram", p.sram_pj}, {"total", p.total_pj}, {"baseline", p.baseline_pj}}},
          {"saving_pct", p.saving_pct()}};
}

}  // namespace

nlohmann::json to_json(const JointResult& r, const SramEnergyModel& sram) {
  nlohmann::json steps = nlohmann::json::array();
  for (const JointStep& s : r.steps) {
    nlohmann::json j = {{"sram_v", s.sram_v},
                        {"sram_alone", point_json(s.sram_alone)},
                        {"rejected", s.rejected},
                        {"budget_left_pct", s.budget_left_pct},
                        {"evaluations", s.explorer ? s.explorer->points().size() : 0}};
    if (!s.rejected) {
      j["joint"] = point_json(s.joint_point);
      j["predicted_loss_pct"] = s.joint.predicted_loss_pct;
      j["backoffs"] = s.joint.backoffs;
    }
    steps.push_back(j);
  }
  return {{"schema", "vosa-explore-sram"},
          {"schema_version", 1},
          {"sram_energy",
           {{"nominal_v", sram.nominal_v},
            {"bits_per_inference", sram.bits_per_inference},
            {"pj_per_bit_at_nominal", sram.pj_per_bit},
            {"pj_per_bit_source", sram.pj_per_bit_source},
            {"pj_per_inference_at_nominal", sram.pj(sram.nominal_v)}}},
          {"steps", steps},
          {"not_measured_sram_v", r.not_measured},
          {"choices",
           {{"nominal", point_json(r.nominal)},
            {"array_only", point_json(r.array_only)},
            {"sram_only", point_json(r.sram_only)},
            {"joint", point_json(r.joint)}}}};
}

}  // namespace vosa::explore
