// Header-only reader and sampler for vosa error models (errmodel.json,
// schema in docs/errmodel.md). Needs only nlohmann/json. Usage:
//
//   auto model = vosa::ErrorModel::load("errmodel.json");
//   const auto& pt = model.nearest(/*voltage*/ 1.35, /*period_ns*/ 5.0);  // throws if no point
//                                                  // within 5 mV and 0.1 % (model.closest(): any distance)
//   std::mt19937_64 rng(42);
//   std::uint64_t flip = pt.sample_mask(rng);       // XOR into the accumulator bits
//   std::int64_t delta = pt.sample_error_value(rng); // or add to the accumulator value
//
// Operand classes (optional per point, docs/errmodel.md "classes"): the same
// statistics split by a class of the PE-cycle, operand_class(prev_act, act,
// weight). An injector that knows the operands draws a hit with
// pt.p_any_error(cls) and then the mask with pt.sample_mask_given_error(cls, rng);
// without classes in the file both fall back to the whole-point statistics.
//
// Value classes (schema 4, optional per point and per operand class): the
// error patterns again, split by the class of the correct value the cycle
// should have captured (value_class(): its sign and whether it fits below
// bit low_bit), because which high bits fail depends on it: a carry or
// borrow across zero flips the sign-extension bits. draw(u01, correct,
// acc_mask) draws from the correct value's class (docs/errmodel.md "Value
// classes").
//
// PE positions (schema 2, optional per point): a point may hold the
// statistics of one band of array rows (`pe_rows`: [first, last]), because a
// PE's partial sums, and so its errors, grow with its row. An injector picks
// the band of each PE: model.nearest(V, T, row) / model.bands_at(V, T).
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <type_traits>
#include <string>
#include <utility>
#include <vector>

namespace vosa {

// 2: points may carry `pe_rows` (schema 1 files, which never do, still load).
// 3: joint patterns may carry `correct_bits`, the correct value's bits at the
//    pattern's positions in the cycles it was measured on (files of 1 and 2,
//    without them, still load and are injected by XOR as before).
// 4: points and operand classes may carry `value_classes`, the patterns per
//    class of the correct value (files of 1 to 3, without them, still load
//    and draw one table for every value).
constexpr int kErrorModelSchemaVersion = 4;
constexpr int kErrorModelOldestSchemaVersion = 1;

class ErrorModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Wilson score interval of k successes in n trials at two-sided critical
// value z (valid at k = 0), clamped so it always contains k / n.
inline std::pair<double, double> wilson_interval(std::uint64_t k, std::uint64_t n, double z) {
  if (n == 0) return {0.0, 1.0};
  const double p = static_cast<double>(k) / n, nn = static_cast<double>(n);
  const double denom = 1 + z * z / nn;
  const double centre = (p + z * z / (2 * nn)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / denom;
  return {std::min(p, std::max(0.0, centre - half)), std::max(p, std::min(1.0, centre + half))};
}

// The 95 % interval (the `ci95` of the file).
inline std::pair<double, double> wilson95(std::uint64_t k, std::uint64_t n) {
  return wilson_interval(k, n, 1.959963984540054);
}

// Operand classes of a PE-cycle, scheme "product-change-v1". Timing errors
// come from transitions: with a stationary weight the multiplier output
// changes by |act - prev_act| * |weight| from one cycle to the next, and the
// larger that step, the higher the product and accumulator bits that switch
// and the longer the carry paths that must settle (docs/errmodel.md measures
// the rate per class on real layers). Classes by d = |act - prev_act| * |weight|:
//   0 dprod_0          d = 0 (activation repeats, or weight 0): the adder alone switches
//   1 dprod_1_127      1 <= d < 2^7
//   2 dprod_128_511    2^7 <= d < 2^9
//   3 dprod_512_2047   2^9 <= d < 2^11
//   4 dprod_2048p      d >= 2^11
// prev_act is the activation the PE held in the cycle before (0 after reset).
constexpr const char* kOperandClassScheme = "product-change-v1";
constexpr int kOperandClasses = 5;
inline int operand_class(std::int64_t prev_act, std::int64_t act, std::int64_t weight) {
  const std::uint64_t da = static_cast<std::uint64_t>(act > prev_act ? act - prev_act : prev_act - act);
  const std::uint64_t d = da * static_cast<std::uint64_t>(weight < 0 ? -weight : weight);
  // Classes 0 (d = 0), 1 (1-127), 2 (128-511), 3 (512-2047), 4 (2048+), counted
  // without branches (the injector classifies random operands in its hot loops).
  return (d != 0) + (d >= (1u << 7)) + (d >= (1u << 9)) + (d >= (1u << 11));
}
inline const char* operand_class_name(int cls) {
  static constexpr std::array<const char*, kOperandClasses> names = {
      "dprod_0", "dprod_1_127", "dprod_128_511", "dprod_512_2047", "dprod_2048p"};
  return cls >= 0 && cls < kOperandClasses ? names[cls] : "unknown";
}

// Value classes of a PE-cycle's correct register value, scheme
// "sign-magnitude-v1": the sign bit (acc_bits - 1) and whether bits low_bit
// .. acc_bits - 2 all equal it (the value fits in low_bit + 1 signed bits):
//   0 pos_small   0 <= v < 2^low_bit
//   1 pos_large   v >= 2^low_bit
//   2 neg_small   -2^low_bit <= v < 0
//   3 neg_large   v < -2^low_bit
// The gate-level error logs of docs/errmodel.md "Value classes" chose it: the
// sign alone carries most of what the value tells about the error mask, and
// the magnitude split at acc_bits - 6 (bit 13 of 19) the most of the rest.
constexpr const char* kValueClassScheme = "sign-magnitude-v1";
constexpr int kValueClasses = 4;
constexpr int kValueClassTopBits = 6;  // the default low_bit is acc_bits - kValueClassTopBits
inline int value_class(std::uint64_t correct, int acc_bits, int low_bit) {
  const int sign = static_cast<int>((correct >> (acc_bits - 1)) & 1);
  const int width = acc_bits - 1 - low_bit;  // bits low_bit .. acc_bits - 2
  const std::uint64_t mid = width > 0 ? (correct >> low_bit) & ((std::uint64_t{1} << width) - 1) : 0;
  const std::uint64_t ext = sign && width > 0 ? (std::uint64_t{1} << width) - 1 : 0;
  return 2 * sign + (mid != ext);
}
inline const char* value_class_name(int cls) {
  static constexpr std::array<const char*, kValueClasses> names = {"pos_small", "pos_large", "neg_small", "neg_large"};
  return cls >= 0 && cls < kValueClasses ? names[cls] : "unknown";
}

// The error mask of a PE-cycle known to fail, from the statistics of one
// point (or of one operand class): a recorded joint pattern with its
// frequency among the erroneous cycles; the remaining erroneous cycles (rare
// patterns the file did not record) as independent bits at their rates among
// exactly those cycles, conditioned on at least one failing -- drawn directly,
// the lowest failing bit first and the bits above it independently. The one
// mask sampler of vosa: the header's own draws, errmodel validation, the
// engine's injector and the Verilator error source all use it.
class ErrorMaskSampler {
 public:
  ErrorMaskSampler() = default;
  // BitStats: .bit, .errors; PatternStats: .mask, .count (ErrorModelPoint's).
  template <class BitStats, class PatternStats>
  ErrorMaskSampler(std::uint64_t cycles_with_error, const std::vector<BitStats>& bits,
                   const std::vector<PatternStats>& patterns)
      : total_(static_cast<double>(cycles_with_error)) {
    double cumulative = 0;
    std::uint64_t recorded = 0;
    for (const auto& p : patterns) {
      cumulative += static_cast<double>(p.count);
      recorded += p.count;
      pattern_masks_.push_back(p.mask);
      pattern_cumulative_.push_back(cumulative);
      pattern_correct_.push_back(correct_table(p));
    }
    const std::uint64_t rest = cycles_with_error - std::min(cycles_with_error, recorded);
    std::vector<std::pair<int, double>> rate;  // (bit, rate among the unrecorded erroneous cycles)
    std::uint64_t most_errors = 0;
    for (const auto& b : bits) {
      if (b.errors > most_errors) {
        most_errors = b.errors;
        fallback_ = std::uint64_t{1} << b.bit;
      }
      std::uint64_t e = b.errors;
      for (const auto& p : patterns)
        if ((p.mask >> b.bit) & 1) e -= std::min(e, p.count);
      if (e && rest) rate.emplace_back(b.bit, std::min(1.0, static_cast<double>(e) / static_cast<double>(rest)));
    }
    if (!pattern_masks_.empty()) fallback_ = pattern_masks_.front();
    std::sort(rate.begin(), rate.end());
    // P(lowest failing bit = i | some bit fails) is proportional to
    // q_i * prod_{l<i} (1 - q_l); the bits above i are then independent.
    double none_below = 1.0, first = 0.0;
    for (const auto& [bit, q] : rate) {
      bit_index_.push_back(bit);
      bit_q_.push_back(q);
      first += q * none_below;
      none_below *= 1.0 - q;
      first_bit_cumulative_.push_back(first);
    }
  }
  bool empty() const { return total_ <= 0; }
  // The distribution of draw() & keep given that it is not 0, and the
  // probability that draw() & keep is not 0 (an empty sampler and 0 when
  // never). Exact: patterns are projected, and the unrecorded cycles' bits
  // (independent given at least one) are conditioned on a kept bit. What
  // injection with Razor draws for the bits Razor does not correct.
  std::pair<ErrorMaskSampler, double> restricted_to(std::uint64_t keep) const {
    ErrorMaskSampler r;
    if (empty()) return {r, 0.0};
    double previous = 0;
    for (std::size_t i = 0; i < pattern_masks_.size(); ++i) {
      const double upto = std::min(pattern_cumulative_[i], total_), w = upto - previous;
      previous = upto;
      if (w > 0 && (pattern_masks_[i] & keep)) {
        r.total_ += w;
        r.pattern_masks_.push_back(pattern_masks_[i] & keep);
        r.pattern_cumulative_.push_back(r.total_);
        // The correct bits projected like the mask (counts of equal projections summed).
        std::vector<std::pair<std::uint64_t, std::uint64_t>> projected;
        const CorrectTable& c = pattern_correct_[i];
        for (std::size_t k = 0; k < c.values.size(); ++k) projected.emplace_back(c.values[k] & keep, c.counts[k]);
        std::sort(projected.begin(), projected.end());
        CorrectTable t;
        for (const auto& [v, n] : projected) {
          if (!t.values.empty() && t.values.back() == v) {
            t.counts.back() += n;
          } else {
            t.values.push_back(v);
            t.counts.push_back(n);
          }
          t.total += n;
        }
        std::uint64_t upto = 0;
        for (std::uint64_t n : t.counts) t.cumulative.push_back(static_cast<double>(upto += n));
        r.pattern_correct_.push_back(std::move(t));
      }
    }
    const double rest = total_ - previous;  // the unrecorded cycles
    if (rest > 0 && (first_bit_cumulative_.empty() || first_bit_cumulative_.back() <= 0)) {
      if (fallback_ & keep) {
        r.total_ += rest;
        r.pattern_masks_.push_back(fallback_ & keep);
        r.pattern_cumulative_.push_back(r.total_);
        r.pattern_correct_.emplace_back();
      }
    } else if (rest > 0) {
      double none_below = 1.0, first = 0.0;
      for (std::size_t i = 0; i < bit_index_.size(); ++i) {
        if (!((keep >> bit_index_[i]) & 1)) continue;
        r.bit_index_.push_back(bit_index_[i]);
        r.bit_q_.push_back(bit_q_[i]);
        first += bit_q_[i] * none_below;
        none_below *= 1.0 - bit_q_[i];
        r.first_bit_cumulative_.push_back(first);
      }
      // P(a kept bit fails | some bit fails) = (1 - prod_kept (1 - q)) / (1 - prod_all (1 - q)).
      r.total_ += rest * first / first_bit_cumulative_.back();
    }
    // The value classes are not carried over: a restricted draw is the
    // marginal one (Razor's path, which never draws with the correct value).
    r.fallback_ = !r.pattern_masks_.empty() ? r.pattern_masks_.front()
                  : !r.bit_index_.empty()   ? std::uint64_t{1} << r.bit_index_.front()
                                            : 0;
    return {r, r.total_ / total_};
  }
  // u01(): a uniform double in [0, 1). 0 only when the statistics hold no
  // erroneous cycle.
  template <class U01>
  std::uint64_t draw(U01&& u01) const {
    if (empty()) return 0;
    const double x = u01() * total_;
    const std::size_t i = pattern_of(x);
    return i < pattern_masks_.size() ? pattern_masks_[i] : draw_rest(u01);
  }
  // draw(u01, correct, acc_mask) depends on the correct value: the recorded
  // patterns carry the correct value's bits they were measured on (schema 3,
  // `correct_bits`) or the tables are split by value class (schema 4). The
  // injectors pass the correct value exactly when this holds.
  bool keeps_correct_bits() const {
    return by_value_ || std::any_of(pattern_correct_.begin(), pattern_correct_.end(),
                                    [](const CorrectTable& t) { return t.total > 0; });
  }
  // Schema 4: draw(u01, correct, acc_mask) draws from the sampler of
  // value_class(correct, acc_bits, low_bit) (per_class[k], k < kValueClasses),
  // this one's own tables when that class saw no erroneous cycle. draw(u01)
  // (no correct value) keeps drawing the marginal tables.
  void condition_on_value(int low_bit, std::vector<ErrorMaskSampler> per_class) {
    if (per_class.size() != static_cast<std::size_t>(kValueClasses))
      throw ErrorModelError("value-class samplers: " + std::to_string(per_class.size()) + " classes, expected " +
                            std::to_string(kValueClasses));
    value_low_bit_ = low_bit;
    by_value_ = std::make_shared<const std::vector<ErrorMaskSampler>>(std::move(per_class));
  }
  bool value_conditioned() const { return by_value_ != nullptr; }
  // The mask to XOR into a cycle known to fail whose correct register value
  // (acc_mask wide) is `correct` (docs/errmodel.md "Drawn to fit the correct
  // value"). The pattern is drawn with its count, as draw() does, so every
  // bit fails as often as with draw(). A recorded pattern with correct bits
  // (schema 3) is a joint (mask, correct & mask) measurement: when the
  // injected value has one of the pattern's recorded correct bits at its
  // positions, the XOR reproduces the signed error measured with them; when
  // it has none of them, the correct bits r are drawn with their counts and
  // the cycle gets the signed error measured with (mask, r),
  // (mask & ~r) - r, added modulo 2^acc_bits (returned as the XOR mask that
  // turns correct into that value; a carry or borrow may reach bits outside
  // the pattern). Patterns without correct bits (older files) and the
  // unrecorded rest (independent bits) are XORed as drawn.
  template <class U01>
  std::uint64_t draw(U01&& u01, std::uint64_t correct, std::uint64_t acc_mask) const {
    if (empty()) return 0;
    if (by_value_) {
      int acc_bits = 0;
      while (acc_bits < 64 && ((acc_mask >> acc_bits) & 1)) ++acc_bits;
      if (acc_bits > value_low_bit_ + 1) {
        const ErrorMaskSampler& v = (*by_value_)[value_class(correct, acc_bits, value_low_bit_)];
        if (!v.empty()) return v.draw(u01, correct, acc_mask);
      }
    }
    const double x = u01() * total_;
    const std::size_t i = pattern_of(x);
    if (i >= pattern_masks_.size()) return draw_rest(u01);
    const std::uint64_t m = pattern_masks_[i];
    const CorrectTable& c = pattern_correct_[i];
    if (c.total == 0 || std::find(c.values.begin(), c.values.end(), correct & m) != c.values.end()) return m;
    // x's position inside the pattern's share picks the correct bits (no further random number).
    const double lo = i ? std::min(pattern_cumulative_[i - 1], total_) : 0.0;
    const double share = std::min(pattern_cumulative_[i], total_) - lo;
    const double y = share > 0 ? (x - lo) / share * static_cast<double>(c.total) : 0.0;
    const std::size_t k = std::min(
        c.values.size() - 1,
        static_cast<std::size_t>(std::upper_bound(c.cumulative.begin(), c.cumulative.end(), y) - c.cumulative.begin()));
    const std::uint64_t r = c.values[k];
    const std::uint64_t captured = (correct + (m & ~r) - r) & acc_mask;
    return (captured ^ correct) & acc_mask;
  }

 private:
  struct CorrectTable {
    std::vector<std::uint64_t> values, counts;
    std::vector<double> cumulative;
    std::uint64_t total = 0;
  };
  template <class P>
  static CorrectTable correct_table(const P& p) {
    CorrectTable t;
    if constexpr (has_correct_bits<P>::value) {
      for (const auto& [v, n] : p.correct_bits) {
        t.values.push_back(v);
        t.counts.push_back(n);
        t.total += n;
        t.cumulative.push_back(static_cast<double>(t.total));
      }
    }
    return t;
  }
  template <class P, class = void>
  struct has_correct_bits : std::false_type {};
  template <class P>
  struct has_correct_bits<P, std::void_t<decltype(std::declval<P>().correct_bits)>> : std::true_type {};
  std::size_t pattern_of(double x) const {
    return static_cast<std::size_t>(std::upper_bound(pattern_cumulative_.begin(), pattern_cumulative_.end(), x) -
                                    pattern_cumulative_.begin());
  }

 public:
  // The unrecorded cycles: independent bits given at least one.
  template <class U01>
  std::uint64_t draw_rest(U01&& u01) const {
    // A file whose per-bit counts leave nothing outside its patterns (or
    // written without counts): the most frequent pattern, else the most
    // frequent bit.
    if (first_bit_cumulative_.empty() || first_bit_cumulative_.back() <= 0) return fallback_;
    const double y = u01() * first_bit_cumulative_.back();
    std::size_t i = static_cast<std::size_t>(
        std::upper_bound(first_bit_cumulative_.begin(), first_bit_cumulative_.end(), y) -
        first_bit_cumulative_.begin());
    i = std::min(i, bit_index_.size() - 1);
    std::uint64_t mask = std::uint64_t{1} << bit_index_[i];
    for (std::size_t l = i + 1; l < bit_index_.size(); ++l)
      if (u01() < bit_q_[l]) mask |= std::uint64_t{1} << bit_index_[l];
    return mask;
  }

 private:
  double total_ = 0;
  std::vector<std::uint64_t> pattern_masks_;
  std::vector<double> pattern_cumulative_;  // cumulative counts; the rest up to total_ is unrecorded
  std::vector<CorrectTable> pattern_correct_;  // per pattern; total 0: no correct bits recorded
  std::vector<int> bit_index_;              // ascending, bits with a rate > 0 among the unrecorded cycles
  std::vector<double> bit_q_;
  std::vector<double> first_bit_cumulative_;
  std::uint64_t fallback_ = 0;
  // Schema 4: one sampler per value class (shared: samplers are copied per band and class).
  std::shared_ptr<const std::vector<ErrorMaskSampler>> by_value_;
  int value_low_bit_ = -1;
};

// A std uniform random bit generator as ErrorMaskSampler's u01.
template <class Rng>
auto uniform01_of(Rng& rng) {
  return [&rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); };
}

struct ErrorModelPoint {
  struct Bit {
    int bit = 0;
    std::uint64_t errors = 0;
    double p_error = 0, ci_low = 0, ci_high = 0, mean_settle_ns = 0;
  };
  struct Value {
    std::int64_t value = 0;
    std::uint64_t count = 0;
  };
  struct Pattern {
    // A constructor rather than an aggregate: {mask, count} stays valid (and
    // -Wextra quiet) for callers that have no correct bits.
    Pattern(std::uint64_t m = 0, std::uint64_t n = 0, std::vector<std::pair<std::uint64_t, std::uint64_t>> c = {})
        : mask(m), count(n), correct_bits(std::move(c)) {}
    std::uint64_t mask = 0;
    std::uint64_t count = 0;
    // Schema 3: the correct (settled) value's bits at the mask's positions,
    // (correct & mask, cycles), over the cycles of this pattern; empty when
    // the file does not have them.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> correct_bits;
  };
  // The erroneous cycles whose correct value is of one value class (schema
  // 4): their count, per-bit error counts and joint patterns.
  // `samples` (written by vosa dta since the hit rates per value class;
  // older schema-4 files lack it): the PE-cycles of the class, erroneous or
  // not, so that cycles_with_error / samples is P(error | value class).
  struct ValueClassStats {
    std::uint64_t samples = 0;
    std::uint64_t cycles_with_error = 0;
    std::vector<Bit> bits;
    std::vector<Pattern> patterns;
  };
  // `value_classes` of a point or an operand class: low_bit of
  // value_class() and one entry per class (empty: the file has none).
  struct ValueClasses {
    int low_bit = -1;
    std::vector<ValueClassStats> by_class;
    bool has_samples = false;  // every class carries `samples` (the hit rates per value class)
    bool empty() const { return by_class.empty(); }
  };
  // Statistics of the PE-cycles of one operand class (same meaning as the
  // point's own fields, restricted to that class).
  struct ClassStats {
    std::uint64_t samples = 0, cycles_with_error = 0;
    std::vector<Bit> bits;
    std::vector<Pattern> patterns;
    double p_any_error() const { return samples ? static_cast<double>(cycles_with_error) / samples : 0.0; }
  };
  double voltage = 0, period_ns = 0;
  std::string corner, delay_source;
  // Array rows this point describes (inclusive); -1, -1: every row (no `pe_rows`).
  int row_first = -1, row_last = -1;
  bool positioned() const { return row_first >= 0; }
  bool covers_row(int row) const { return !positioned() || (row >= row_first && row <= row_last); }
  std::uint64_t samples = 0, cycles_with_error = 0;
  std::vector<Bit> bits;
  std::vector<Value> error_values;  // captured - correct, over all erroneous cycles
  std::vector<Pattern> patterns;    // most frequent joint error masks
  std::vector<ClassStats> classes;  // by operand_class(); empty when the file has none
  ValueClasses value_classes;       // the point's patterns per value class (schema 4)
  std::vector<ValueClasses> class_value_classes;  // the same per operand class (empty, or one per class)
  // A carry-save PE's second register (the point's `carry_word`,
  // docs/errmodel.md): the carry word's bits, and the cycles with a wrong bit
  // in either word with their joint (sum mask, carry mask) patterns.
  struct CarryWord {
    struct JointPattern {
      std::uint64_t mask = 0, carry_mask = 0, count = 0;
    };
    std::uint64_t cycles_with_error = 0;
    std::vector<Bit> bits;
    bool has_joint = false;  // files of vosa before the joint patterns lack either_word
    std::uint64_t either_cycles_with_error = 0;
    std::vector<JointPattern> joint_patterns;
  };
  std::optional<CarryWord> carry_word;
  // A Razor PE's characterization (the point's `razor`, written by vosa dta
  // with the shadow clock driven): which bits it protected under which
  // policy, and per protected bit how often the main register was late and
  // how often the shadow was wrong too (missed: Razor restores a wrong value
  // or flags nothing). The injector draws those misses when its Razor bits and
  // policy are the characterized ones (docs/inject.md "After-Razor errors").
  struct Razor {
    std::string policy;
    std::uint64_t protected_mask = 0;
    std::vector<int> bits;                     // protected, ascending
    std::vector<std::uint64_t> late, missed;   // per entry of bits
    std::uint64_t flagged = 0, miscorrected = 0, undetected = 0, stall_cycles = 0;
    std::uint64_t after_cycles_with_error = 0;  // after_razor.cycles_with_error
    // P(the shadow is wrong too | bit j's main capture is late); 0 when j was
    // never late or is not protected.
    double miss_given_late(int j) const {
      for (std::size_t i = 0; i < bits.size(); ++i)
        if (bits[i] == j) return late[i] ? static_cast<double>(missed[i]) / static_cast<double>(late[i]) : 0.0;
      return 0.0;
    }
  };
  std::optional<Razor> razor;
  // The injection's Razor bits and policy are the ones this point was
  // characterized with (policy correct: the misses apply).
  bool razor_characterized(std::uint64_t protected_mask, bool policy_correct) const {
    return razor && policy_correct && razor->policy == "correct" && razor->protected_mask == protected_mask &&
           protected_mask != 0;
  }

  // The pair's error statistics as one 2 * acc_bits wide register: bit j <
  // acc_bits is sum-word bit j, bit acc_bits + j carry-word bit j (the
  // injector's pair mask). Operand classes are the sum word's only, so the
  // result has none. Throws naming the point when it has no joint statistics.
  ErrorModelPoint pair_point(int acc_bits) const {
    if (!carry_word || !carry_word->has_joint)
      throw ErrorModelError("error model point " + std::to_string(voltage) + " V, " + std::to_string(period_ns) +
                            " ns has no carry_word.either_word (not a carry-save PE's model, or written by an older "
                            "vosa dta: characterize the PE again)");
    if (2 * acc_bits > 64)
      throw ErrorModelError("a carry-save pair of two " + std::to_string(acc_bits) +
                            "-bit words does not fit a 64-bit error mask");
    ErrorModelPoint p = *this;
    p.classes.clear();
    p.value_classes = {};
    p.class_value_classes.clear();
    p.carry_word.reset();
    p.cycles_with_error = carry_word->either_cycles_with_error;
    for (Bit b : carry_word->bits) {
      b.bit += acc_bits;
      p.bits.push_back(b);
    }
    p.patterns.clear();
    for (const auto& j : carry_word->joint_patterns) p.patterns.push_back({j.mask | (j.carry_mask << acc_bits), j.count, {}});
    return p;
  }

  double p_error(int bit) const {
    for (const auto& b : bits)
      if (b.bit == bit) return b.p_error;
    throw ErrorModelError("error model point has no bit " + std::to_string(bit));
  }
  double p_any_error() const { return samples ? static_cast<double>(cycles_with_error) / samples : 0.0; }

  // Each bit flips independently with its own probability (ignores correlation).
  template <class Rng>
  std::uint64_t sample_mask_independent(Rng& rng) const {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::uint64_t m = 0;
    for (const auto& b : bits)
      if (u(rng) < b.p_error) m |= std::uint64_t{1} << b.bit;
    return m;
  }
  // Joint sampling: an erroneous cycle with probability p_any_error, its mask
  // from sample_mask_given_error.
  template <class Rng>
  std::uint64_t sample_mask(Rng& rng) const {
    if (cycles_with_error == 0) return 0;
    if (std::uniform_real_distribution<double>(0.0, 1.0)(rng) * static_cast<double>(samples) >=
        static_cast<double>(cycles_with_error))
      return 0;
    return sample_mask_given_error(rng);
  }
  bool has_classes() const { return !classes.empty(); }
  int class_of(std::int64_t prev_act, std::int64_t act, std::int64_t weight) const {
    return operand_class(prev_act, act, weight);
  }
  // P(some bit fails) in a cycle of class cls; the whole point's rate when the
  // file has no classes or never saw that class.
  double p_any_error(int cls) const {
    const ClassStats* c = class_stats(cls);
    return c ? c->p_any_error() : p_any_error();
  }
  // Upper bound of p_any_error(cls) over all classes: the rate at which an
  // injector draws candidate hits before thinning them to p(cls) / p_max.
  double p_any_error_max() const {
    double p = has_classes() ? 0.0 : p_any_error();
    for (int k = 0; k < static_cast<int>(classes.size()); ++k) p = std::max(p, p_any_error(k));
    return p;
  }
  // Hit rates per value class (docs/errmodel.md "Hit rate per value class"):
  // P(some bit fails | operand class cls, value class vcls of the correct
  // value). The rate of a value class is its errors over its cycles, shrunk
  // toward the operand class's own rate p_any_error(cls) by
  // kValueRatePriorCycles pseudo-cycles: (e + n0 * p) / (n + n0), so a class
  // the trace barely visited neither reads 0 nor 1 (which would make the
  // upper rate, and the injector's candidates, every capture). The whole
  // class's rate p_any_error(cls) without value-class samples in the file.
  // cls -1 (or a class the file never saw): the point's own statistics.
  static constexpr double kValueRatePriorCycles = 100;
  bool has_value_rates() const {
    if (value_rates(-1)) return true;
    for (int k = 0; k < static_cast<int>(classes.size()); ++k)
      if (value_rates(k)) return true;
    return false;
  }
  // The value class of `correct` (acc_bits wide) in cls's value classes; -1
  // when cls has no value-class rates.
  int value_class_of(int cls, std::uint64_t correct, int acc_bits) const {
    const ValueClasses* v = value_rates(cls);
    return v && acc_bits > v->low_bit + 1 ? value_class(correct, acc_bits, v->low_bit) : -1;
  }
  double p_any_error(int cls, int vcls) const {
    const double base = p_any_error(cls);
    const ValueClasses* v = value_rates(cls);
    if (!v || vcls < 0 || vcls >= static_cast<int>(v->by_class.size())) return base;
    const ValueClassStats& c = v->by_class[static_cast<std::size_t>(vcls)];
    return (static_cast<double>(c.cycles_with_error) + kValueRatePriorCycles * base) /
           (static_cast<double>(c.samples) + kValueRatePriorCycles);
  }
  // The largest p_any_error(cls, vcls) over the value classes: the rate an
  // injector draws candidate hits at before it knows the correct value, each
  // then kept with p_any_error(cls, vcls) / p_any_error_upper(cls).
  double p_any_error_upper(int cls) const {
    if (!value_rates(cls)) return p_any_error(cls);
    double p = 0;
    for (int k = 0; k < kValueClasses; ++k) p = std::max(p, p_any_error(cls, k));
    return p;
  }
  // A non-zero error mask for a cycle known to fail (ErrorMaskSampler; build
  // one with mask_sampler() to draw many without rebuilding its tables).
  ErrorMaskSampler mask_sampler() const {
    return with_value_classes(ErrorMaskSampler(cycles_with_error, bits, patterns), value_classes);
  }
  // The same restricted to the PE-cycles of operand class cls; the whole
  // point's when the file has no errors of that class.
  ErrorMaskSampler mask_sampler(int cls) const {
    const ClassStats* c = class_stats(cls);
    if (!c || c->cycles_with_error == 0) return mask_sampler();
    return with_value_classes(ErrorMaskSampler(c->cycles_with_error, c->bits, c->patterns),
                              cls < static_cast<int>(class_value_classes.size()) ? class_value_classes[cls]
                                                                                  : ValueClasses{});
  }
  static ErrorMaskSampler with_value_classes(ErrorMaskSampler s, const ValueClasses& v) {
    if (v.empty()) return s;
    std::vector<ErrorMaskSampler> per;
    for (const auto& c : v.by_class) per.emplace_back(c.cycles_with_error, c.bits, c.patterns);
    s.condition_on_value(v.low_bit, std::move(per));
    return s;
  }
  template <class Rng>
  std::uint64_t sample_mask_given_error(Rng& rng) const {
    return mask_sampler().draw(uniform01_of(rng));
  }
  template <class Rng>
  std::uint64_t sample_mask_given_error(int cls, Rng& rng) const {
    return mask_sampler(cls).draw(uniform01_of(rng));
  }
  // Signed error value (captured - correct) for one PE-cycle; 0 when no error.
  template <class Rng>
  std::int64_t sample_error_value(Rng& rng) const {
    if (cycles_with_error == 0) return 0;
    std::uniform_int_distribution<std::uint64_t> d(0, samples - 1);
    std::uint64_t x = d(rng);
    for (const auto& v : error_values) {
      if (x < v.count) return v.value;
      x -= v.count;
    }
    return 0;
  }

 private:
  const ClassStats* class_stats(int cls) const {
    if (cls < 0 || cls >= static_cast<int>(classes.size()) || classes[cls].samples == 0) return nullptr;
    return &classes[cls];
  }
  // The value classes whose hit rates p_any_error(cls, vcls) uses: cls's own
  // (the point's when cls has no statistics), when they carry samples.
  const ValueClasses* value_rates(int cls) const {
    const ValueClasses* v = !class_stats(cls) ? &value_classes
                            : cls < static_cast<int>(class_value_classes.size()) ? &class_value_classes[static_cast<std::size_t>(cls)]
                                                                                 : nullptr;
    return v && !v->empty() && v->has_samples ? v : nullptr;
  }
};

// How far a requested operating point may lie from a characterized one
// (ErrorModel::nearest). The defaults are the injector's (vosa infer
// --errmodel): points are characterized corners, never interpolated.
struct ErrorModelTolerance {
  double voltage_v = 0.005;  // |V - point's V|
  double period_rel = 1e-3;  // |T - point's T| / T
};

class ErrorModel {
 public:
  int schema_version = 0;
  std::string pdk, module, dataflow, netlist_hash, operand_source;
  std::string class_scheme;  // operand-class scheme of the points' classes ("" when none)
  int acc_bits = 0;
  bool is_signed = true;
  std::vector<ErrorModelPoint> points;

  static ErrorModel load(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ErrorModelError(path + ": cannot open error model");
    nlohmann::json j;
    try {
      in >> j;
    } catch (const std::exception& e) {
      throw ErrorModelError(path + ": not valid JSON: " + e.what());
    }
    return from_json(j, path);
  }

  static ErrorModel from_json(const nlohmann::json& j, const std::string& path = "error model") {
    ErrorModel m;
    std::string field = "schema_version";
    try {
      m.schema_version = j.at("schema_version").get<int>();
      if (m.schema_version < kErrorModelOldestSchemaVersion || m.schema_version > kErrorModelSchemaVersion)
        throw ErrorModelError(path + ": schema_version " + std::to_string(m.schema_version) +
                              " is not supported (this reader knows " +
                              std::to_string(kErrorModelOldestSchemaVersion) + " to " +
                              std::to_string(kErrorModelSchemaVersion) + ")");
      field = "pdk";
      m.pdk = j.at("pdk").get<std::string>();
      field = "design";
      const auto& d = j.at("design");
      m.module = d.value("module", "");
      m.dataflow = d.value("dataflow", "");
      m.acc_bits = d.at("acc_bits").get<int>();
      m.is_signed = d.value("signed", true);
      field = "netlist_hash";
      m.netlist_hash = j.at("netlist_hash").get<std::string>();
      field = "operand_source";
      m.operand_source = j.at("operand_source").get<std::string>();
      field = "points";
      for (const auto& p : j.at("points")) {
        ErrorModelPoint pt;
        pt.voltage = p.at("voltage").get<double>();
        pt.period_ns = p.at("period_ns").get<double>();
        pt.corner = p.value("corner", "");
        pt.delay_source = p.at("delay_source").get<std::string>();
        if (p.contains("pe_rows")) {
          field = "points[].pe_rows";
          pt.row_first = p.at("pe_rows").at(0).get<int>();
          pt.row_last = p.at("pe_rows").at(1).get<int>();
          if (p.at("pe_rows").size() != 2 || pt.row_first < 0 || pt.row_last < pt.row_first)
            throw ErrorModelError(path + ": points[].pe_rows " + p.at("pe_rows").dump() +
                                  " is not [first, last] with 0 <= first <= last");
          field = "points";
        }
        pt.samples = p.at("samples").get<std::uint64_t>();
        pt.cycles_with_error = p.at("cycles_with_error").get<std::uint64_t>();
        pt.bits = read_bits(p.at("bits"), pt.samples);
        for (const auto& v : p.at("error_values"))
          pt.error_values.push_back({v.at("value").get<std::int64_t>(), v.at("count").get<std::uint64_t>()});
        pt.patterns = read_patterns(p.at("error_patterns"), path);
        if (p.contains("value_classes")) {
          field = "points[].value_classes";
          pt.value_classes = read_value_classes(p.at("value_classes"), m.acc_bits, pt.cycles_with_error, path, pt.samples);
          field = "points";
        }
        if (p.contains("classes")) {
          field = "points[].classes";
          const auto& c = p.at("classes");
          const std::string scheme = c.at("scheme").get<std::string>();
          if (scheme != kOperandClassScheme)
            throw ErrorModelError(path + ": operand class scheme '" + scheme +
                                  "' is not supported (this reader knows '" + kOperandClassScheme + "')");
          m.class_scheme = scheme;
          pt.classes.resize(kOperandClasses);
          for (const auto& k : c.at("by_class")) {
            const int id = k.at("class").get<int>();
            if (id < 0 || id >= kOperandClasses)
              throw ErrorModelError(path + ": operand class " + std::to_string(id) + " is out of range");
            auto& cs = pt.classes[id];
            cs.samples = k.at("samples").get<std::uint64_t>();
            cs.cycles_with_error = k.at("cycles_with_error").get<std::uint64_t>();
            cs.bits = read_bits(k.at("bits"), cs.samples);
            cs.patterns = read_patterns(k.at("error_patterns"), path);
            if (k.contains("value_classes")) {
              field = "points[].classes.by_class[].value_classes";
              pt.class_value_classes.resize(kOperandClasses);
              pt.class_value_classes[id] = read_value_classes(k.at("value_classes"), m.acc_bits, cs.cycles_with_error, path, cs.samples);
              field = "points[].classes";
            }
          }
          field = "points";
        }
        if (p.contains("carry_word")) {
          field = "points[].carry_word";
          const auto& c = p.at("carry_word");
          ErrorModelPoint::CarryWord cw;
          cw.cycles_with_error = c.at("cycles_with_error").get<std::uint64_t>();
          cw.bits = read_bits(c.at("bits"), pt.samples);
          if (c.contains("either_word")) {
            const auto& e = c.at("either_word");
            cw.has_joint = true;
            cw.either_cycles_with_error = e.at("cycles_with_error").get<std::uint64_t>();
            for (const auto& q : e.at("error_patterns"))
              cw.joint_patterns.push_back({q.at("mask").get<std::uint64_t>(), q.at("carry_mask").get<std::uint64_t>(),
                                           q.at("count").get<std::uint64_t>()});
          }
          pt.carry_word = std::move(cw);
          field = "points";
        }
        if (p.contains("razor")) {
          field = "points[].razor";
          const auto& r = p.at("razor");
          ErrorModelPoint::Razor rz;
          rz.policy = r.at("policy").get<std::string>();
          for (const auto& b : r.at("protected_bits")) {
            const int bit = b.at("bit").get<int>();
            if (bit < 0 || bit >= 64 || bit >= m.acc_bits)
              throw ErrorModelError(path + ": points[].razor.protected_bits: bit " + std::to_string(bit) +
                                    " is outside the " + std::to_string(m.acc_bits) + "-bit register");
            rz.bits.push_back(bit);
            rz.late.push_back(b.at("late").get<std::uint64_t>());
            rz.missed.push_back(b.at("missed").get<std::uint64_t>());
            if (rz.missed.back() > rz.late.back())
              throw ErrorModelError(path + ": points[].razor.protected_bits: bit " + std::to_string(bit) +
                                    " has more missed than late captures");
            rz.protected_mask |= std::uint64_t{1} << bit;
          }
          rz.flagged = r.at("flagged_cycles").get<std::uint64_t>();
          rz.miscorrected = r.at("miscorrected").get<std::uint64_t>();
          rz.undetected = r.at("undetected").get<std::uint64_t>();
          rz.stall_cycles = r.value("stall_cycles", std::uint64_t{0});
          rz.after_cycles_with_error = r.at("after_razor").at("cycles_with_error").get<std::uint64_t>();
          pt.razor = std::move(rz);
          field = "points";
        }
        m.points.push_back(std::move(pt));
      }
    } catch (const nlohmann::json::exception& e) {
      throw ErrorModelError(path + ": field '" + field + "' is missing or malformed: " + e.what());
    }
    if (m.points.empty()) throw ErrorModelError(path + ": no points");
    m.check_bands(path);
    return m;
  }

  // Per-bit entries; `errors` is optional (older files): then p_error * samples.
  static std::vector<ErrorModelPoint::Bit> read_bits(const nlohmann::json& bits, std::uint64_t samples) {
    std::vector<ErrorModelPoint::Bit> out;
    for (const auto& b : bits) {
      ErrorModelPoint::Bit bit;
      bit.bit = b.at("bit").get<int>();
      bit.p_error = b.at("p_error").get<double>();
      bit.errors = b.contains("errors") ? b.at("errors").get<std::uint64_t>()
                                        : static_cast<std::uint64_t>(std::llround(bit.p_error * samples));
      bit.ci_low = b.at("ci95").at(0).get<double>();
      bit.ci_high = b.at("ci95").at(1).get<double>();
      bit.mean_settle_ns = b.value("mean_settle_ns", 0.0);
      out.push_back(bit);
    }
    return out;
  }
  // A `value_classes` object: the scheme, low_bit and one entry per class
  // whose cycles sum to the enclosing statistics' cycles_with_error.
  static ErrorModelPoint::ValueClasses read_value_classes(const nlohmann::json& v, int acc_bits,
                                                          std::uint64_t cycles_with_error, const std::string& path,
                                                          std::uint64_t samples) {
    const std::string scheme = v.at("scheme").get<std::string>();
    if (scheme != kValueClassScheme)
      throw ErrorModelError(path + ": value class scheme '" + scheme + "' is not supported (this reader knows '" +
                            kValueClassScheme + "')");
    ErrorModelPoint::ValueClasses out;
    out.low_bit = v.at("low_bit").get<int>();
    if (out.low_bit < 0 || out.low_bit >= acc_bits - 1)
      throw ErrorModelError(path + ": value_classes.low_bit " + std::to_string(out.low_bit) +
                            " is not below the sign bit of the " + std::to_string(acc_bits) + "-bit register");
    out.by_class.resize(kValueClasses);
    std::uint64_t sum = 0, sum_samples = 0;
    std::size_t with_samples = 0;
    for (const auto& k : v.at("by_class")) {
      const int id = k.at("class").get<int>();
      if (id < 0 || id >= kValueClasses)
        throw ErrorModelError(path + ": value class " + std::to_string(id) + " is out of range");
      auto& c = out.by_class[id];
      c.cycles_with_error = k.at("cycles_with_error").get<std::uint64_t>();
      c.bits = read_bits(k.at("bits"), c.cycles_with_error);
      c.patterns = read_patterns(k.at("error_patterns"), path);
      sum += c.cycles_with_error;
      if (k.contains("samples")) {
        c.samples = k.at("samples").get<std::uint64_t>();
        if (c.cycles_with_error > c.samples)
          throw ErrorModelError(path + ": value_classes.by_class[].samples: class " + std::to_string(id) + " has " +
                                std::to_string(c.cycles_with_error) + " erroneous cycles in " +
                                std::to_string(c.samples) + " samples");
        sum_samples += c.samples;
        ++with_samples;
      }
    }
    if (with_samples && with_samples != v.at("by_class").size())
      throw ErrorModelError(path + ": value_classes.by_class[].samples is given for " + std::to_string(with_samples) +
                            " of " + std::to_string(v.at("by_class").size()) + " classes");
    if (with_samples && sum_samples != samples)
      throw ErrorModelError(path + ": value_classes.by_class[].samples sum to " + std::to_string(sum_samples) +
                            ", their point or class has " + std::to_string(samples) + " samples");
    out.has_samples = with_samples > 0;
    if (sum != cycles_with_error)
      throw ErrorModelError(path + ": value_classes hold " + std::to_string(sum) + " erroneous cycles, their point or "
                            "class " + std::to_string(cycles_with_error));
    return out;
  }
  static std::vector<ErrorModelPoint::Pattern> read_patterns(const nlohmann::json& pats,
                                                             const std::string& path = "error model") {
    std::vector<ErrorModelPoint::Pattern> out;
    for (const auto& q : pats) {
      ErrorModelPoint::Pattern p{q.at("mask").get<std::uint64_t>(), q.at("count").get<std::uint64_t>(), {}};
      if (q.contains("correct_bits")) {
        std::uint64_t sum = 0;
        for (const auto& r : q.at("correct_bits")) {
          const std::uint64_t v = r.at("value").get<std::uint64_t>(), n = r.at("count").get<std::uint64_t>();
          if (v & ~p.mask)
            throw ErrorModelError(path + ": error_patterns[].correct_bits: value " + std::to_string(v) +
                                  " has bits outside the pattern's mask " + std::to_string(p.mask));
          p.correct_bits.emplace_back(v, n);
          sum += n;
        }
        if (!p.correct_bits.empty() && sum != p.count)
          throw ErrorModelError(path + ": error_patterns[].correct_bits of mask " + std::to_string(p.mask) + " count " +
                                std::to_string(sum) + " cycles, the pattern " + std::to_string(p.count));
      }
      out.push_back(std::move(p));
    }
    return out;
  }

  using Tolerance = ErrorModelTolerance;

  // The model is of a carry-save PE (its points have a carry_word).
  bool carry_save() const {
    return std::any_of(points.begin(), points.end(), [](const ErrorModelPoint& p) { return p.carry_word.has_value(); });
  }
  bool has_positions() const {
    return std::any_of(points.begin(), points.end(), [](const ErrorModelPoint& p) { return p.positioned(); });
  }
  // Every point at the operating point of `at` (same voltage and period): the
  // row bands of one characterized point, or `at` alone in a file without them.
  std::vector<const ErrorModelPoint*> bands_at(const ErrorModelPoint& at) const {
    std::vector<const ErrorModelPoint*> out;
    for (const auto& p : points)
      if (p.voltage == at.voltage && p.period_ns == at.period_ns) out.push_back(&p);
    return out;
  }
  // The band of `bands` (bands_at()) that covers array row `row`; throws
  // naming the bands when none does.
  static const ErrorModelPoint& band_for_row(const std::vector<const ErrorModelPoint*>& bands, int row) {
    std::string have;
    for (const ErrorModelPoint* p : bands) {
      if (p->covers_row(row)) return *p;
      have += (have.empty() ? "" : ", ") + std::to_string(p->row_first) + "-" + std::to_string(p->row_last);
    }
    throw ErrorModelError("error model has no point for PE row " + std::to_string(row) + " at " +
                          format_number(bands.empty() ? 0.0 : bands.front()->voltage) + " V (its rows: " + have + ")");
  }

  // The closest point to (voltage, period) and how far it is; the caller
  // decides whether that is close enough.
  struct Closest {
    const ErrorModelPoint* point = nullptr;
    double voltage_offset_v = 0;    // point's voltage - requested
    double period_offset_ns = 0;    // point's period - requested
  };
  Closest closest(double voltage, double period_ns) const {
    Closest best;
    double best_d = std::numeric_limits<double>::infinity();
    for (const auto& p : points) {
      const double d = std::abs(p.voltage - voltage) / std::max(std::abs(voltage), 1e-9) +
                       std::abs(p.period_ns - period_ns) / std::max(std::abs(period_ns), 1e-9);
      if (d < best_d) {
        best_d = d;
        best = {&p, p.voltage - voltage, p.period_ns - period_ns};
      }
    }
    return best;
  }

  // The point at (voltage, period) within `tol`; throws ErrorModelError
  // naming the closest point and its distance when there is none, so a far
  // point is never used silently.
  // In a file with row bands (pe_rows) it is the band of the last row
  // characterized, the widest partial sums (what a file of one position
  // stood for); nearest(V, T, row) picks a PE's own band.
  const ErrorModelPoint& nearest(double voltage, double period_ns, Tolerance tol = {}) const {
    const ErrorModelPoint& any = nearest_any_band(voltage, period_ns, tol);
    const ErrorModelPoint* bottom = &any;
    for (const ErrorModelPoint* p : bands_at(any))
      if (p->row_last > bottom->row_last) bottom = p;
    return *bottom;
  }
  const ErrorModelPoint& nearest(double voltage, double period_ns, int row, Tolerance tol = {}) const {
    return band_for_row(bands_at(nearest_any_band(voltage, period_ns, tol)), row);
  }

 private:
  const ErrorModelPoint& nearest_any_band(double voltage, double period_ns, Tolerance tol) const {
    const Closest c = closest(voltage, period_ns);
    if (std::abs(c.voltage_offset_v) > tol.voltage_v ||
        std::abs(c.period_offset_ns) > tol.period_rel * std::abs(period_ns)) {
      std::string available;
      for (const auto& p : points)
        available += (available.empty() ? "" : ", ") + format_number(p.voltage) + " V/" + format_number(p.period_ns) +
                     " ns";
      throw ErrorModelError("error model has no point at " + format_number(voltage) + " V, " +
                            format_number(period_ns) + " ns (tolerance " + format_number(tol.voltage_v) + " V, " +
                            format_number(tol.period_rel * 100) + " % of the period); the closest is " +
                            format_number(c.point->voltage) + " V, " + format_number(c.point->period_ns) +
                            " ns; points: " + available);
    }
    return *c.point;
  }

  // At each operating point: either one point for every row, or bands that
  // do not overlap.
  void check_bands(const std::string& path) const {
    for (const auto& p : points)
      for (const ErrorModelPoint* q : bands_at(p)) {
        if (q == &p) continue;
        if (!p.positioned() || !q->positioned())
          throw ErrorModelError(path + ": two points at " + format_number(p.voltage) + " V, " +
                                format_number(p.period_ns) + " ns, not both for a band of PE rows (pe_rows)");
        if (p.row_first <= q->row_last && q->row_first <= p.row_last)
          throw ErrorModelError(path + ": the pe_rows bands " + std::to_string(p.row_first) + "-" +
                                std::to_string(p.row_last) + " and " + std::to_string(q->row_first) + "-" +
                                std::to_string(q->row_last) + " overlap at " + format_number(p.voltage) + " V, " +
                                format_number(p.period_ns) + " ns");
      }
  }

  static std::string format_number(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", x);
    return buf;
  }
};

}  // namespace vosa
