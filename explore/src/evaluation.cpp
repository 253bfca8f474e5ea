#include "vosa/explore/evaluation.hpp"

#include "vosa/explore/energy.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace vosa::explore {

const char* to_string(RazorPolicy p) {
  switch (p) {
    case RazorPolicy::kNone: return "none";
    case RazorPolicy::kCorrect: return "correct";
    case RazorPolicy::kDrop: return "drop";
  }
  return "none";
}

RazorPolicy razor_policy_from_string(const std::string& s) {
  if (s == "none") return RazorPolicy::kNone;
  if (s == "correct") return RazorPolicy::kCorrect;
  if (s == "drop") return RazorPolicy::kDrop;
  throw ExploreError("unknown Razor policy '" + s + "' (allowed: none, correct, drop)");
}

Setting Setting::uniform(int layers, int islands, double v) {
  Setting s;
  s.voltage.assign(layers, std::vector<double>(islands, v));
  return s;
}

std::string Setting::key() const {
  std::ostringstream k;
  char buf[32];
  for (const auto& layer : voltage) {
    for (double v : layer) {
      std::snprintf(buf, sizeof buf, "%.4f,", v);
      k << buf;
    }
    k << ';';
  }
  k << "m" << razor_mask << "p" << to_string(policy);
  return k.str();
}

namespace {
// Two-sided 95 % Student t quantile for df degrees of freedom.
double t975(std::size_t df) {
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                 2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df == 0) return 0;
  if (df <= 30) return table[df - 1];
  return 1.96 + 2.4 / df;  // close to the exact quantile above 30 (2.021 at 40, 1.984 at 100)
}
}  // namespace

PairedLoss paired_loss(const std::vector<std::uint8_t>& clean,
                       const std::vector<std::vector<std::uint8_t>>& faulty) {
  std::vector<double> fraction(clean.size(), 0.0);
  for (const auto& rep : faulty) {
    if (rep.size() != clean.size())
      throw ExploreError("paired loss: a repeat has " + std::to_string(rep.size()) + " samples, the clean run " +
                         std::to_string(clean.size()));
    for (std::size_t i = 0; i < clean.size(); ++i) fraction[i] += (rep[i] ? 1.0 : 0.0) / double(faulty.size());
  }
  return paired_loss(clean, fraction, faulty.size());
}

PairedLoss paired_loss(const std::vector<std::uint8_t>& clean, const std::vector<double>& faulty_fraction,
                       std::size_t repeats) {
  PairedLoss r;
  r.samples = clean.size();
  r.repeats = repeats;
  if (r.samples == 0 || r.repeats == 0) throw ExploreError("paired loss: no samples or no repeats");
  if (faulty_fraction.size() != r.samples)
    throw ExploreError("paired loss: " + std::to_string(faulty_fraction.size()) + " faulty samples, " +
                       std::to_string(r.samples) + " clean");
  std::vector<double> d(r.samples);
  double clean_sum = 0, faulty_sum = 0, mean = 0;
  for (std::size_t i = 0; i < r.samples; ++i) {
    const double c = clean[i] ? 1.0 : 0.0;
    clean_sum += c;
    faulty_sum += faulty_fraction[i];
    d[i] = c - faulty_fraction[i];
    mean += d[i];
  }
  mean /= double(r.samples);
  double var = 0;
  for (double x : d) var += (x - mean) * (x - mean);
  var = r.samples > 1 ? var / double(r.samples - 1) : 0.0;
  const double half = t975(r.samples - 1) * std::sqrt(var / double(r.samples));
  r.clean_accuracy_pct = 100.0 * clean_sum / double(r.samples);
  r.faulty_accuracy_pct = 100.0 * faulty_sum / double(r.samples);
  r.loss_pct = 100.0 * mean;
  r.ci_low_pct = 100.0 * (mean - half);
  r.ci_high_pct = 100.0 * (mean + half);
  r.std_error_pct = 100.0 * std::sqrt(var / double(r.samples));
  return r;
}

double normal_tail(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

double normal_upper_quantile(double alpha) {
  if (!(alpha > 0 && alpha < 1)) throw ExploreError("normal quantile: alpha " + std::to_string(alpha) + " is not in (0, 1)");
  double lo = -40, hi = 40;  // normal_tail falls from 1 to 0 over it
  for (int i = 0; i < 200 && hi - lo > 1e-12; ++i) {
    const double mid = 0.5 * (lo + hi);
    (normal_tail(mid) > alpha ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

bool clearly_over_budget(const PairedLoss& loss, double budget_pct, double z) {
  return loss.samples > 1 && loss.loss_pct - z * loss.std_error_pct > budget_pct;
}

}  // namespace vosa::explore
