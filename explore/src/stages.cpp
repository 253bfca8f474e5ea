#include "vosa/explore/stages.hpp"

#include "vosa/explore/energy.hpp"

#include <algorithm>
#include <string>

namespace vosa::explore {

std::vector<std::size_t> input_stages(std::size_t n, std::size_t coarse) {
  std::vector<std::size_t> stages;
  if (coarse > 0)
    for (std::size_t k : {std::min<std::size_t>(10, coarse), coarse})
      if (k < n && (stages.empty() || k > stages.back())) stages.push_back(k);
  stages.push_back(n);
  return stages;
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
  StagedMeasurement m;
  std::size_t done = 0;
  for (std::size_t stage : stages) {
    const bool last = stage == stages.back();
    if (!last && done == 0 && plan.sampled_screen) {
      // First stage sampled; a loss above budget that is not yet clearly
      // over is screened again on the first --coarse inputs (at most all).
      const std::size_t second = std::min(plan.coarse, n);
      for (std::size_t screen_n : {stage, second}) {
        inject::FaultyEvalResult screen = run(0, screen_n, true);
        const PairedLoss sl = loss_of(screen, screen_n);
        if (clearly_over_budget(sl, plan.budget_pct, plan.reject_z)) {
          m.runs = std::move(screen);
          m.loss = sl;
          m.coarse = m.coarse_sampled = true;
          m.reject_z = plan.reject_z;
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
    m.coarse = done < n;
    if (m.coarse && clearly_over_budget(m.loss, plan.budget_pct, plan.reject_z)) {
      m.reject_z = plan.reject_z;
      return m;
    }
  }
  return m;
}

}  // namespace vosa::explore
