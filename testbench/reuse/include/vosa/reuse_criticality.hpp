// Widths per input channel chosen by a criticality analysis, as in Mquans
// (Qi et al., 2020), on a calibration stream (docs/reuse.md, "Criticality
// analysis"):
//  1. gain: for every input channel of every array layer and every width q,
//     the MACs of its inputs that change between consecutive calibration
//     windows (fewer changes at narrower q: MACs reuse skips);
//  2. sensitivity (criticality): for every channel and q, the mean L1 change
//     of the network's last array layer's accumulators (the logits) when only
//     that channel is quantized to q, on a subset of the calibration windows;
//  3. greedy: from 8 bits everywhere, repeatedly narrow the channel whose next
//     step skips the most MACs per unit of added sensitivity; this orders all
//     steps;
//  4. budget: the steps are taken in that order while the loss measured on
//     all calibration windows (reuse against the unmodified model) stays
//     within the budget; runs of steps are tried at once (doubling after a
//     success, halving after a failure), and a single step that breaks the
//     budget is rejected, its channel keeping its width. Every accepted set
//     of widths is measured; at most max_evaluations calibration runs.
#pragma once

#include "vosa/reuse.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vosa::reuse {

// What the budget limits, on the calibration windows, in percentage points:
//   kTop1       top-1 accuracy loss against the unmodified model
//   kAgreement  windows whose top-1 class differs from the unmodified model's
//               (an upper bound on the top-1 loss; budget 0 = same predictions)
enum class BudgetMetric { kTop1, kAgreement };
BudgetMetric parse_budget_metric(const std::string& name);  // top1, agreement
const char* to_string(BudgetMetric metric);

struct CriticalityOptions {
  int stride = 4;
  double budget = 0.5;  // percentage points
  BudgetMetric metric = BudgetMetric::kTop1;
  int min_q = 4;                    // narrowest width considered, 1 .. 8
  size_t sensitivity_windows = 64;  // calibration windows the sensitivity is measured on (evenly spaced)
  int max_evaluations = 40;         // calibration runs of the budget walk
};

struct ChannelCriticality {
  size_t op = 0;
  int channel = 0;
  std::array<double, 9> sensitivity{};   // by q: mean L1 change of the last array layer's accumulators
  std::array<int64_t, 9> macs_changed{};  // by q: MACs of its changed inputs over the calibration windows
};

struct WidthStep {
  size_t channel = 0;  // index into WidthChoice::channels
  int from_q = 8, to_q = 8;
  double gain = 0, cost = 0;  // MACs no longer changed; added sensitivity
};

struct WidthChoice {
  ChannelWidths widths;  // every array layer, one width per input channel
  std::vector<ChannelCriticality> channels;
  std::vector<WidthStep> steps;  // greedy order
  size_t steps_taken = 0;  // accepted steps (the widths), out of steps.size()
  size_t calibration_windows = 0, sensitivity_windows = 0;
  // The chosen widths on the calibration windows.
  size_t baseline_top1 = 0, reuse_top1 = 0, agree = 0;
  double loss_points = 0;  // by the budget's metric
  int evaluations = 0;     // calibration runs of the budget walk
  double seconds = 0;
};

// Throws a named error for a bad budget (negative), min_q outside [1, 8],
// zero sensitivity windows or max_evaluations below 1.
WidthChoice choose_channel_widths(const engine::Engine& engine, const FeatureStream& calibration,
                                  const CriticalityOptions& options);

// The widths after the first `steps` steps of the greedy order.
ChannelWidths widths_after_steps(const engine::Engine& engine, const std::vector<ChannelCriticality>& channels,
                                 const std::vector<WidthStep>& order, size_t steps);

// The choice as JSON: options, widths per layer, calibration outcome, and per
// channel the sensitivity and changed MACs by width.
nlohmann::json to_json(const WidthChoice& choice, const CriticalityOptions& options);

}  // namespace vosa::reuse
