#include "vosa/explore/bitwidth.hpp"

#include "vosa/explore/energy.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

namespace vosa::explore {

void PassTable::check() const {
  if (outcomes.empty()) throw ExploreError("dynamic bit-width: no modes");
  if (energy.size() != outcomes.size())
    throw ExploreError("dynamic bit-width: " + std::to_string(energy.size()) + " pass energies for " +
                       std::to_string(outcomes.size()) + " modes");
  for (const auto& m : outcomes)
    if (m.size() != inputs())
      throw ExploreError("dynamic bit-width: every mode needs an outcome for each of the " + std::to_string(inputs()) +
                         " inputs");
  for (double e : energy)
    if (!(e >= 0) || !std::isfinite(e)) throw ExploreError("dynamic bit-width: a pass energy is negative or not finite");
}

int confidence_margin(const std::vector<int>& output) {
  if (output.size() < 2) return 0;
  int first = std::max(output[0], output[1]), second = std::min(output[0], output[1]);
  for (std::size_t i = 2; i < output.size(); ++i) {
    if (output[i] > first) {
      second = first;
      first = output[i];
    } else if (output[i] > second) {
      second = output[i];
    }
  }
  return first - second;
}

namespace {

void finish(PolicyOutcome& r) {
  const double n = static_cast<double>(r.correct.size());
  if (n == 0) return;
  double correct = 0, energy = 0;
  for (std::size_t i = 0; i < r.correct.size(); ++i) {
    correct += r.correct[i];
    energy += r.energy[i];
  }
  r.top1 = correct / n;
  r.mean_energy = energy / n;
}

// The mode a cascade stops at for input i, and the passes' energy.
std::size_t run_cascade(const PassTable& t, const std::vector<int>& thresholds, std::size_t i, double& energy,
                        int& passes) {
  energy = 0;
  passes = 0;
  for (std::size_t m = t.modes() - 1; m > 0; --m) {
    if (thresholds[m] >= kNever) continue;
    energy += t.energy[m];
    ++passes;
    if (t.outcomes[m][i].confidence >= thresholds[m]) return m;
  }
  energy += t.energy[0];
  ++passes;
  return 0;
}

}  // namespace

PolicyOutcome apply_policy(const PassTable& table, const Policy& policy) {
  table.check();
  if (policy.thresholds.size() != table.modes())
    throw ExploreError("dynamic bit-width: " + std::to_string(policy.thresholds.size()) + " thresholds for " +
                       std::to_string(table.modes()) + " modes");
  PolicyOutcome r;
  r.accepted_at.assign(table.modes(), 0);
  double passes_total = 0;
  for (std::size_t i = 0; i < table.inputs(); ++i) {
    double e = 0;
    int passes = 0;
    const std::size_t m = run_cascade(table, policy.thresholds, i, e, passes);
    r.correct.push_back(table.outcomes[m][i].correct ? 1 : 0);
    r.energy.push_back(e);
    ++r.accepted_at[m];
    passes_total += passes;
  }
  finish(r);
  r.mean_passes = table.inputs() ? passes_total / static_cast<double>(table.inputs()) : 0;
  return r;
}

PolicyOutcome apply_static(const PassTable& table, std::size_t mode) {
  table.check();
  if (mode >= table.modes()) throw ExploreError("dynamic bit-width: no mode " + std::to_string(mode));
  PolicyOutcome r;
  r.accepted_at.assign(table.modes(), 0);
  r.accepted_at[mode] = table.inputs();
  for (const PassOutcome& o : table.outcomes[mode]) {
    r.correct.push_back(o.correct ? 1 : 0);
    r.energy.push_back(table.energy[mode]);
  }
  finish(r);
  r.mean_passes = table.inputs() ? 1 : 0;
  return r;
}

Policy choose_thresholds(const PassTable& calibration, double budget_pct) {
  const PassTable& t = calibration;
  t.check();
  const std::size_t n = t.inputs(), modes = t.modes();
  Policy never{std::vector<int>(modes, kNever)};
  if (n == 0 || modes == 1) return never;
  const double full_top1 = apply_static(t, 0).top1;
  const double floor_top1 = full_top1 - budget_pct / 100.0 - 1e-12;

  // Candidates per narrow mode: kNever, then distinct confidences (thinned
  // evenly when the product of the counts would exceed the search limit).
  const double limit = 2e5;
  const std::size_t per_mode = static_cast<std::size_t>(
      std::max(2.0, std::floor(std::pow(limit, 1.0 / static_cast<double>(modes - 1)))));
  std::vector<std::vector<int>> candidates(modes);
  for (std::size_t m = 1; m < modes; ++m) {
    std::set<int> distinct;
    for (const PassOutcome& o : t.outcomes[m]) distinct.insert(o.confidence);
    std::vector<int> all(distinct.begin(), distinct.end());
    std::vector<int>& c = candidates[m];
    c.push_back(kNever);
    if (all.size() + 1 <= per_mode) {
      c.insert(c.end(), all.begin(), all.end());
    } else {
      for (std::size_t k = 0; k + 1 < per_mode; ++k)
        c.push_back(all[(k * (all.size() - 1)) / (per_mode - 2 > 0 ? per_mode - 2 : 1)]);
      std::sort(c.begin() + 1, c.end());
      c.erase(std::unique(c.begin() + 1, c.end()), c.end());
    }
  }
  Policy best = never;
  double best_energy = apply_static(t, 0).mean_energy, best_top1 = full_top1;
  std::vector<int> th(modes, kNever);
  std::function<void(std::size_t)> search = [&](std::size_t m) {
    if (m == modes) {
      double energy = 0, correct = 0;
      for (std::size_t i = 0; i < n; ++i) {
        double e = 0;
        int passes = 0;
        const std::size_t stop = run_cascade(t, th, i, e, passes);
        energy += e;
        correct += t.outcomes[stop][i].correct ? 1 : 0;
      }
      energy /= static_cast<double>(n);
      const double top1 = correct / static_cast<double>(n);
      if (top1 < floor_top1) return;
      const bool better = energy < best_energy - 1e-12 ||
                          (std::abs(energy - best_energy) <= 1e-12 && top1 > best_top1 + 1e-12);
      if (better) {
        best_energy = energy;
        best_top1 = top1;
        best.thresholds = th;
      }
      return;
    }
    for (int c : candidates[m]) {
      th[m] = c;
      search(m + 1);
    }
    th[m] = kNever;
  };
  search(1);
  return best;
}

double max_accepted_fraction(const PassTable& table, std::size_t mode, double budget_pct) {
  table.check();
  if (mode == 0 || mode >= table.modes()) throw ExploreError("dynamic bit-width: no reduced mode " + std::to_string(mode));
  const std::size_t n = table.inputs();
  if (n == 0) return 0;
  const double floor_top1 = apply_static(table, 0).top1 - budget_pct / 100.0 - 1e-12;
  std::set<int> thresholds;
  for (const PassOutcome& o : table.outcomes[mode]) thresholds.insert(o.confidence);
  std::vector<int> th(table.modes(), kNever);
  double best = 0;
  for (int t : thresholds) {
    th[mode] = t;
    const PolicyOutcome r = apply_policy(table, Policy{th});
    if (r.top1 >= floor_top1) best = std::max(best, static_cast<double>(r.accepted_at[mode]) / static_cast<double>(n));
  }
  return best;
}

std::size_t choose_static_mode(const PassTable& calibration, double budget_pct) {
  calibration.check();
  const double floor_top1 = apply_static(calibration, 0).top1 - budget_pct / 100.0 - 1e-12;
  std::size_t best = 0;
  for (std::size_t m = 1; m < calibration.modes(); ++m) {
    const PolicyOutcome r = apply_static(calibration, m);
    if (r.top1 >= floor_top1 && calibration.energy[m] < calibration.energy[best]) best = m;
  }
  return best;
}

PairedLoss loss_against_full(const PassTable& table, const PolicyOutcome& outcome) {
  std::vector<std::uint8_t> clean;
  for (const PassOutcome& o : table.outcomes.at(0)) clean.push_back(o.correct ? 1 : 0);
  std::vector<double> faulty(outcome.correct.begin(), outcome.correct.end());
  return paired_loss(clean, faulty, 1);
}

}  // namespace vosa::explore
