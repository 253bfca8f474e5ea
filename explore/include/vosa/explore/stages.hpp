// Coarse-to-fine over the inputs (docs/explore.md "At scale"): one setting
// measured on the first 10 inputs, the first --coarse, then in chunks to all
// (sequentially), stopping at a stage where its loss is clearly over budget. The faulty runs come from a
// callback (the injecting engine in `vosa explore`, synthetic outcomes in the
// tests), so the rule is one function with one test.
#pragma once

#include "vosa/explore/evaluation.hpp"
#include "vosa/inject.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace vosa::explore {

struct StagePlan {
  std::size_t inputs = 0;      // the setting is measured on the first `inputs` (at most the clean run's)
  std::size_t coarse = 100;    // --coarse: the second stage (0: one stage of every input)
  bool sampled_screen = true;  // screen the first stage(s) with the sampled injection before measuring
  double budget_pct = 0.5;
  // The rejection's error budget: alpha = P(Z > reject_z) (one-sided) is the
  // most probability with which a setting whose true loss is the budget is
  // stopped before its last stage, spent over the looks (look_thresholds).
  double reject_z = kCoarseRejectZ;
};

// The faulty runs of inputs [begin, end): with the sampled injection (the
// screening) or with the measured one. Each input's draws must depend only on
// the input (not on the range), so the stages together are the run on all.
using StageRun = std::function<inject::FaultyEvalResult(std::size_t begin, std::size_t end, bool sampled)>;

struct StagedMeasurement {
  inject::FaultyEvalResult runs;  // the inputs the loss is over: [0, loss.samples)
  PairedLoss loss;
  bool coarse = false;            // stopped before the last stage (clearly over budget)
  bool coarse_sampled = false;    // ... by the sampled screening
  double reject_z = 0;            // coarse: plan.reject_z (the error budget it was stopped under)
  double look_z = 0;              // coarse: the threshold of the look that stopped it
};

// The stage ends for n inputs: {min(10, coarse), coarse} below n, then the
// sequential chunks 0.2 n, 0.4 n, 0.7 n above coarse, then n (coarse 0: n only).
std::vector<std::size_t> input_stages(std::size_t n, std::size_t coarse);

// The error-spending rule (docs/explore.md "At scale"): the threshold z_i of
// each rejection look, which stops a setting when mean - z_i standard errors >
// budget. alpha = P(Z > plan.reject_z); with the sampled screening a quarter of
// it goes to each of its (at most two) looks and half to the measured ones,
// else all to the measured ones. The measured looks are the stages but the
// last; look i spends A(t_i) - A(t_{i-1}) of their share a, A(t) = a ln(1 + (e - 1) t)
// (Lan-DeMets, Pocock type), t_i = stage_i / (the last look's stage). Each look's
// threshold is the one-sided normal quantile of its share: z_i with P(Z > z_i) =
// the share. By Bonferroni the looks together stop a setting whose true mean
// loss is at (or under) the budget with probability at most alpha (normal
// approximation of the paired mean, as the single bound was before).
struct LookThresholds {
  std::vector<double> measured;  // one per stage but the last (input_stages)
  double sampled = 0;            // each sampled look's threshold (0 without the screening)
};
LookThresholds look_thresholds(const StagePlan& plan, const std::vector<std::size_t>& stages);

// Measures one setting in stages. First stage with plan.sampled_screen: the
// sampled injection on the first 10 inputs and, when their loss is above budget
// but not yet clearly, on the first `coarse` (at most all); a setting not
// rejected there is measured from the first input on, one stage after the
// other, each adding its inputs to the ones before. A measurement that is not
// coarse is exactly the run on all plan.inputs inputs.
StagedMeasurement measure_in_stages(const StagePlan& plan, const std::vector<std::uint8_t>& clean, const StageRun& run);

}  // namespace vosa::explore
