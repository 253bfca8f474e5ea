// Coarse-to-fine over the inputs (docs/explore.md "At scale"): one setting
// measured on the first 10 inputs, the first --coarse, then all, stopping at a
// stage where its loss is clearly over budget. The faulty runs come from a
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
  double reject_z = kCoarseRejectZ;  // a stage stops when mean - reject_z standard errors > budget
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
  double reject_z = 0;            // coarse: plan.reject_z
};

// The stage ends for n inputs: {min(10, coarse), coarse} below n, then n.
std::vector<std::size_t> input_stages(std::size_t n, std::size_t coarse);

// Measures one setting in stages. First stage with plan.sampled_screen: the
// sampled injection on the first 10 inputs and, when their loss is above budget
// but not yet clearly, on the first `coarse` (at most all); a setting not
// rejected there is measured from the first input on. A measurement that is not
// coarse is exactly the run on all plan.inputs inputs.
StagedMeasurement measure_in_stages(const StagePlan& plan, const std::vector<std::uint8_t>& clean, const StageRun& run);

}  // namespace vosa::explore
