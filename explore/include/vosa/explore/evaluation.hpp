// What the selection algorithms need from an error-injecting inference run:
// a setting (voltage per array layer and island, Razor bits and policy) in,
// the paired accuracy loss against the error-free run and the array's cycle
// counts out. The real evaluator wraps the injecting engine (testbench/inject);
// tests plug in synthetic ones with known answers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace vosa::explore {

enum class RazorPolicy { kNone, kCorrect, kDrop };
const char* to_string(RazorPolicy p);
RazorPolicy razor_policy_from_string(const std::string& s);

struct Setting {
  std::vector<std::vector<double>> voltage;  // [array layer][island], volts
  std::uint64_t razor_mask = 0;              // protected bits of the PE output register
  RazorPolicy policy = RazorPolicy::kNone;   // kNone iff razor_mask == 0

  // Every layer and island at voltage v.
  static Setting uniform(int layers, int islands, double v);
  bool operator==(const Setting& o) const {
    return voltage == o.voltage && razor_mask == o.razor_mask && policy == o.policy;
  }
  std::string key() const;  // canonical text, for caching evaluations
};

// Paired accuracy loss: per input, clean correctness minus the mean faulty
// correctness over the repeats; in percentage points of top-1 accuracy.
struct PairedLoss {
  std::size_t samples = 0, repeats = 0;
  double clean_accuracy_pct = 0, faulty_accuracy_pct = 0;
  double loss_pct = 0;                   // mean of the per-input differences
  double ci_low_pct = 0, ci_high_pct = 0;  // 95 % confidence interval of the mean
  double std_error_pct = 0;                // standard error of the mean
};
// Coarse-to-fine over the inputs: a loss measured on the first inputs whose
// lower bound mean - z * standard error still exceeds the budget is over
// budget without measuring the rest. The error budget of these stops, as a z:
// P(Z > 3.29) = 0.05 % one-sided, spent over a setting's looks (explore/stages.hpp).
constexpr double kCoarseRejectZ = 3.29;
// The verify and back-off candidates of X-TPU and ThUnderVolt are rejected by
// a larger error budget: P(Z > 1.96) = 2.5 %. A wrong rejection only costs
// saving (the back-off goes further), never a schedule over budget: the
// schedule accepted is the one measured on all inputs (docs/explore.md "At scale").
constexpr double kCandidateRejectZ = 1.96;
bool clearly_over_budget(const PairedLoss& loss, double budget_pct, double z = kCoarseRejectZ);
// P(Z > z) for a standard normal Z: the one-sided error of a bound z.
double normal_tail(double z);
// The z with P(Z > z) = alpha (0 < alpha < 1), to 1e-10.
double normal_upper_quantile(double alpha);

// clean[i] in {0,1}; faulty[r][i] in {0,1} for repeat r. Throws on mismatched sizes.
PairedLoss paired_loss(const std::vector<std::uint8_t>& clean,
                       const std::vector<std::vector<std::uint8_t>>& faulty);
// The same from each input's fraction of correct faulty repeats.
PairedLoss paired_loss(const std::vector<std::uint8_t>& clean, const std::vector<double>& faulty_fraction,
                       std::size_t repeats);

struct Evaluation {
  PairedLoss loss;
  // Per inference, per array layer (in model order): cycles of the whole array
  // for that layer (weight loads, fill and drain included) and the mean Razor
  // stall cycles (policy correct: one per cycle with a detected error).
  std::vector<double> layer_array_cycles;
  std::vector<double> layer_stall_cycles;
  std::uint64_t error_hits = 0;  // injected PE-cycle errors over the whole run (all repeats)
  double seconds = 0;            // wall time of this evaluation
  bool coarse = false;           // measured on the coarse inputs only (clearly over budget there)
  double reject_z = 0;           // coarse: the error budget it was stopped under, as a z (kCoarseRejectZ, kCandidateRejectZ)
  double look_z = 0;             // coarse: the threshold of the look that stopped it (explore/stages.hpp look_thresholds)
  bool coarse_sampled = false;   // ... with the sampled injection (testbench/inject InjectionMode::kSampled)
  std::string injection = "exact";  // what the numbers were measured with: exact, thinned or sampled
  // Razor correct: what it leaves of detected errors (Injector::razor_error_source):
  // after-razor (the model's characterized shadow misses), ideal, mixed; "" without.
  std::string razor_errors;
};

using Evaluator = std::function<Evaluation(const Setting&)>;

}  // namespace vosa::explore
