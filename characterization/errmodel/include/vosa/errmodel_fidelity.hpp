// Fidelity of an error model (`vosa errmodel-validate`, docs/errmodel.md
// "Fidelity"): on one real operand stream, the output error the gate-level
// timing simulator produced (vosa dta --error-log) against the output error
// that injection from the model produces in the same cycles (captured =
// correct XOR sampled mask), over many seeds.
#pragma once

#include "vosa/error_model.hpp"
#include "vosa/operand_trace.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vosa::fidelity {

// A cycle of the DTA error log: the register captured `captured` instead of
// `settled` (both acc_bits-wide, unsigned bit patterns).
struct LoggedError {
  std::uint64_t cycle = 0, settled = 0, captured = 0;
};

// `vosa dta --error-log` CSV (period_ns,cycle,settled,captured), the rows of
// the period closest to period_ns. Errors name the file and line.
std::vector<LoggedError> read_error_log(const std::string& path, double period_ns);

// Output-error statistics of one stream of PE-cycles.
struct StreamStats {
  int acc_bits = 0;
  bool is_signed = true;
  std::uint64_t cycles = 0, cycles_with_error = 0;
  std::vector<std::uint64_t> bit_errors;
  std::vector<std::uint64_t> class_cycles, class_errors;  // by vosa::operand_class
  double sum_abs_error = 0, sum_sq_abs_error = 0;  // |captured - correct| as acc_bits integers
  std::uint64_t max_abs_error = 0;

  StreamStats(int bits, bool sign);
  // One cycle of class cls whose register should hold `correct` and holds `captured`.
  void add(int cls, std::uint64_t correct, std::uint64_t captured);
  double p_any() const { return cycles ? static_cast<double>(cycles_with_error) / cycles : 0.0; }
  double mean_abs_error() const { return cycles ? sum_abs_error / cycles : 0.0; }
  double p_bit(int j) const { return cycles ? static_cast<double>(bit_errors[j]) / cycles : 0.0; }
};

// The value the PE's output register should capture in each cycle
// (psum_in + activation * weight wrapped to acc_bits, as a bit pattern) and
// each cycle's operand class (previous activation 0 before the first record).
std::vector<std::uint64_t> correct_values(const OperandTrace& trace);
std::vector<int> cycle_classes(const OperandTrace& trace);

// Ground truth: the trace's cycles with the DTA log's errors. Rejects a log
// whose cycle is outside the trace or whose settled value is not the trace's
// correct value (a log of another stream).
StreamStats dta_stats(const OperandTrace& trace, const std::vector<LoggedError>& log, const std::string& log_name);

// Injection from a model point into the same cycles, one seed: a cycle fails
// with p_any_error (p_any_error(class) when use_classes) and its mask comes
// from the class's ErrorMaskSampler, drawn to fit the cycle's correct value
// (ErrorMaskSampler::draw(u01, correct): a schema-3 file's patterns with
// their correct bits; XOR of an unconditioned mask for older files).
StreamStats inject_stats(const OperandTrace& trace, const ErrorModelPoint& pt, bool use_classes, std::uint64_t seed);

// Agreement (docs/errmodel.md, "Fidelity", says why these values): a model
// statistic agrees when it lies inside the simulator's 95 % interval or
// within the tolerance below.
struct Tolerance {
  double relative = 0.25;         // |model / dta - 1| for P(any error) and mean |error|
  double bit_factor = 1.5;        // per-bit rate within this factor either way
  std::uint64_t min_errors = 20;  // bits with fewer errors on both sides are reported, not judged
};

// Side-by-side comparison of the DTA stream and `seeds` injected streams:
// per-bit rates (DTA with Wilson 95 % CI, injection mean and 2.5/97.5 %
// quantiles over seeds), P(any error), mean and max |error|, per-class
// P(any error), and the verdict against `tol` (docs/errmodel.md).
nlohmann::json compare(const StreamStats& dta, const std::vector<StreamStats>& injected, const Tolerance& tol);

// Readable Markdown table of one compare() result.
std::string comparison_markdown(const nlohmann::json& cmp);

}  // namespace vosa::fidelity
