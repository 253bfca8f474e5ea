#include "vosa/explore/stages.hpp"

#include "vosa/explore/energy.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace vosa::explore {

std::vector<std::size_t> input_stages(std::size_t n, std::size_t coarse) {
  std::vector<std::size_t> stages;
  if (coarse > 0) {
    for (std::size_t k : {std::min<std::size_t>(10, coarse), coarse})
      if (k < n && (stages.empty() || k > stages.back())) stages.push_back(k);
    // The sequential chunks above --coarse (docs/explore.md "At scale").
    for (std::size_t tenths : {2, 4, 7}) {
      const std::size_t k = (n * tenths + 5) / 10;
      if (k > coarse && k < n && (stages.empty() || k > stages.back())) stages.push_back(k);
    }
  }
  stages.push_back(n);
  return stages;
}

LookThresholds look_thresholds(const StagePlan& plan, const std::vector<std::size_t>& stages) {
  if (!(plan.reject_z > 0)) throw ExploreError("coarse-to-fine: the rejection bound must be > 0, got " + std::to_string(plan.reject_z));
  LookThresholds t;
  if (stages.size() < 2) return t;  // one stage: nothing is stopped early
  const double alpha = normal_tail(plan.reject_z);
  if (plan.sampled_screen) t.sampled = normal_upper_quantile(alpha / 4);
  const double share = plan.sampled_screen ? alpha / 2 : alpha;
  const double last = double(stages[stages.size() - 2]);
  const auto spent = [&](double x) { return share * std::log1p((std::exp(1.0) - 1) * x / last); };
  for (std::size_t i = 0; i + 1 < stages.size(); ++i) {
    const double a = spent(double(stages[i])) - (i ? spent(double(stages[i - 1])) : 0.0);
    t.measured.push_back(normal_upper_quantile(a));
  }
  return t;
}

StagedMeasurement measure_in_stages(const StagePlan& plan, const std::vector<std::uint8_t>& clean,
                                    const StageRun& run) {
  const std::size_t n = std::min(plan.inputs, clean.size());
  if (n == 0) throw ExploreError("coarse-to-fine: no inputs to measure");
  // Clean correctness of the first k inputs: the stages are prefixes.
  const auto clean_prefix = [&](std::size_t k) {
    return std::vector<std::uint8_t>(clean.begin(), clean.begin() + static_cast<std::ptrdiff_t>(k));
  };
  const auto loss_of = [&](const inject::FaultyEvalResult& r, std::size_t k) {
    if (r.faulty_correct.size() != k)
      throw ExploreError("coarse-to-fine: a stage returned " + std::to_string(r.faulty_correct.size()) +
                         " inputs, expected " + std::to_string(k));
    return paired_loss(clean_prefix(k), r.faulty_correct, static_cast<std::size_t>(r.repeats));
  };
  const std::vector<std::size_t> stages = input_stages(n, plan.coarse);
  const LookThresholds z = look_thresholds(plan, stages);
  StagedMeasurement m;
  std::size_t done = 0;
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const std::size_t stage = stages[i];
    const bool last = i + 1 == stages.size();
    if (!last && done == 0 && plan.sampled_screen) {
      // First stage sampled; a loss above budget that is not yet clearly
      // over is screened again on the first --coarse inputs (at most all).
      const std::size_t second = std::min(plan.coarse, n);
      for (std::size_t screen_n : {stage, second}) {
        inject::FaultyEvalResult screen = run(0, screen_n, true);
        const PairedLoss sl = loss_of(screen, screen_n);
        const double look_z = z.sampled;
        if (clearly_over_budget(sl, plan.budget_pct, look_z)) {
          m.runs = std::move(screen);
          m.loss = sl;
          m.coarse = m.coarse_sampled = true;
          m.reject_z = plan.reject_z;
          m.look_z = look_z;
          return m;
        }
        if (sl.loss_pct <= plan.budget_pct || screen_n >= second) break;
      }
    }
    inject::FaultyEvalResult more = run(done, stage, false);
    if (done == 0) {
      m.runs = std::move(more);
    } else {
      inject::FaultyEvalResult& r = m.runs;
      r.faulty_correct.insert(r.faulty_correct.end(), more.faulty_correct.begin(), more.faulty_correct.end());
      for (std::size_t l = 0; l < r.layers.size(); ++l) r.layers[l] += more.layers.at(l);
      r.samples += more.samples;
    }
    done = stage;
    m.loss = loss_of(m.runs, done);
    m.coarse = !last;
    if (m.coarse && clearly_over_budget(m.loss, plan.budget_pct, z.measured[i])) {
      m.reject_z = plan.reject_z;
      m.look_z = z.measured[i];
      return m;
    }
  }
  m.coarse = false;
  return m;
}

}  // namespace vosa::explore
