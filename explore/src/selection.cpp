#include "vosa/explore/selection.hpp"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <sstream>
#include <unistd.h>

namespace vosa::explore {

const char* to_string(Bound b) { return b == Bound::kUpper ? "upper-ci95" : "point"; }
const char* to_string(Backoff b) {
  switch (b) {
    case Backoff::kOne: return "one";
    case Backoff::kBisect: return "bisect";
    case Backoff::kGallop: return "gallop";
  }
  return "bisect";
}

Explorer::Explorer(Evaluator evaluator, const EnergyModel& energy, int layers, std::vector<double> levels,
                   ExploreOptions options)
    : evaluator_(std::move(evaluator)), energy_(energy), layers_(layers), levels_(std::move(levels)),
      options_(options) {
  if (!(options_.budget_pct > 0)) throw ExploreError("budget must be > 0 (percentage points of top-1)");
  if (layers_ <= 0) throw ExploreError("the model has no array layers");
  if (!(options_.backoff_saving_tolerance_pct >= 0))
    throw ExploreError("the back-off saving tolerance must be >= 0 percentage points");
  if (!(options_.max_ci_half_width_pct >= 0))
    throw ExploreError("the largest CI half-width must be >= 0 percentage points (0 = any)");
  if (levels_.empty()) throw ExploreError("no voltage levels");
  std::sort(levels_.begin(), levels_.end());
  levels_.erase(std::unique(levels_.begin(), levels_.end()), levels_.end());
  for (double v : levels_) energy_.corner_at(v);  // every level needs an energy figure
  if (std::abs(levels_.back() - energy_.signoff_voltage()) > 1e-6)
    throw ExploreError("the highest level (" + std::to_string(levels_.back()) +
                       " V) must be the sign-off voltage " + std::to_string(energy_.signoff_voltage()) + " V");
}

const std::vector<double>& Explorer::layer_cycles() {
  if (clean_cycles_.empty()) evaluate(Setting::uniform(layers_, islands(), signoff()), "baseline", "baseline");
  return clean_cycles_;
}

void Explorer::set_phase(const std::string& what, int expected_points) {
  phase_ = what;
  phase_total_ = expected_points;
  phase_done_ = 0;
  phase_seconds_ = 0;
}

const Point& Explorer::evaluate(const Setting& s, const std::string& algorithm, const std::string& phase,
                                const std::string& label) {
  const bool screen = screening_ && phase == "sensitivity";
  const bool curve = curves_as_candidates_ && algorithm == "sweep";
  const bool candidate = !screen && candidates_ && (phase == "verify" || phase == "backoff" || curve);
  const std::string key = (screen ? "screen:" : "") + s.key();
  if (auto it = cache_.find(key); it != cache_.end()) {
    // Same setting, asked for by another phase: recorded once, priced once.
    return points_[it->second];
  }
  // A candidate stopped at a coarse stage by the weaker bound answers only
  // candidates (a full point stopped by the 99.9 % bound answers them too).
  const std::string candidate_key = "candidate:" + s.key();
  if (candidate)
    if (auto it = cache_.find(candidate_key); it != cache_.end()) return points_[it->second];
  if (static_cast<int>(s.voltage.size()) != layers_) throw ExploreError("setting has the wrong number of layers");
  const auto t0 = std::chrono::steady_clock::now();
  Point p;
  p.eval = screen ? screening_(s) : candidate ? candidates_(s) : evaluator_(s);
  p.eval.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (static_cast<int>(p.eval.layer_array_cycles.size()) != layers_ ||
      static_cast<int>(p.eval.layer_stall_cycles.size()) != layers_)
    throw ExploreError("evaluator returned cycles for " + std::to_string(p.eval.layer_array_cycles.size()) +
                       " layers, expected " + std::to_string(layers_));
  if (clean_cycles_.empty()) clean_cycles_ = p.eval.layer_array_cycles;
  p.id = static_cast<int>(points_.size());
  p.algorithm = algorithm;
  p.phase = phase;
  p.label = label;
  p.setting = s;
  p.energy = energy_.inference(s, p.eval.layer_array_cycles, p.eval.layer_stall_cycles);
  cache_[candidate && p.eval.coarse ? candidate_key : key] = p.id;
  points_.push_back(std::move(p));

  ++phase_done_;
  phase_seconds_ += points_.back().eval.seconds;
  if (!quiet_) {
    const bool tty = isatty(STDERR_FILENO);
    const int total = std::max(phase_total_, phase_done_);
    const double eta = phase_seconds_ / phase_done_ * (total - phase_done_);
    char line[256];
    std::snprintf(line, sizeof line, "explore: %s %d/%d points (%.1f s/point, ETA %dm%02ds), %zu in all",
                  phase_.c_str(), phase_done_, total, phase_seconds_ / phase_done_, int(eta) / 60, int(eta) % 60,
                  points_.size());
    if (tty)
      std::cerr << "\r" << line << "\033[K" << (phase_done_ == total ? "\n" : "") << std::flush;
    else if (phase_done_ == total || phase_done_ % std::max(1, total / 10) == 0)
      std::cerr << line << "\n";
  }
  return points_.back();
}

double Explorer::saving_bound_pct(const Setting& s) {
  const std::vector<double>& cycles = layer_cycles();
  return energy_.inference(s, cycles, std::vector<double>(cycles.size(), 0.0)).saving_pct;
}

double Explorer::checked_loss(const Point& p) const {
  return options_.verify_bound == Bound::kUpper ? p.eval.loss.ci_high_pct : p.eval.loss.loss_pct;
}

bool Explorer::fits(const Point& p) const {
  const double half_width = (p.eval.loss.ci_high_pct - p.eval.loss.ci_low_pct) / 2;
  const bool resolved = !(options_.max_ci_half_width_pct > 0) || half_width <= options_.max_ci_half_width_pct + 1e-12;
  return checked_loss(p) <= options_.budget_pct + 1e-12 && resolved;
}

std::vector<int> choose_levels(const std::vector<std::vector<double>>& saving,
                               const std::vector<std::vector<double>>& loss, double budget, bool exact,
                               int resolution) {
  const size_t units = saving.size();
  std::vector<int> pick(units, -1);
  for (size_t u = 0; u < units; ++u) {
    bool any = false;
    for (double l : loss[u]) any = any || l >= 0;
    if (!any) throw ExploreError("choose_levels: unit " + std::to_string(u) + " has no allowed level");
  }
  if (exact) {
    // best[w]: largest saving with discretized loss exactly w (-inf: unreachable).
    const double ninf = -std::numeric_limits<double>::infinity();
    const int W = resolution;
    std::vector<double> best(W + 1, ninf), next(W + 1);
    best[0] = 0;
    std::vector<std::vector<int>> choice(units, std::vector<int>(W + 1, -1));
    for (size_t u = 0; u < units; ++u) {
      std::fill(next.begin(), next.end(), ninf);
      for (size_t k = 0; k < saving[u].size(); ++k) {
        if (loss[u][k] < 0 || loss[u][k] > budget + 1e-12) continue;
        const int w = static_cast<int>(std::lround(loss[u][k] / budget * W));
        for (int x = 0; x + w <= W; ++x) {
          if (best[x] == ninf) continue;
          const double v = best[x] + saving[u][k];
          if (v > next[x + w]) {
            next[x + w] = v;
            choice[u][x + w] = static_cast<int>(k);
          }
        }
      }
      best.swap(next);
    }
    int w = static_cast<int>(std::max_element(best.begin(), best.end()) - best.begin());
    for (size_t u = units; u-- > 0;) {
      const int k = choice[u][w];
      pick[u] = k;
      w -= static_cast<int>(std::lround(loss[u][k] / budget * W));
    }
    return pick;
  }
  // Greedy: from the least lossy level of every unit, take the move with the
  // largest saving per unit of predicted loss that still fits.
  double total = 0;
  for (size_t u = 0; u < units; ++u) {
    for (size_t k = 0; k < loss[u].size(); ++k) {
      if (loss[u][k] < 0) continue;
      if (pick[u] < 0 || loss[u][k] < loss[u][pick[u]] ||
          (loss[u][k] == loss[u][pick[u]] && saving[u][k] > saving[u][pick[u]]))
        pick[u] = static_cast<int>(k);
    }
    total += loss[u][pick[u]];
  }
  for (;;) {
    int bu = -1, bk = -1;
    double best_ratio = -1, best_gain = 0;
    for (size_t u = 0; u < units; ++u) {
      for (size_t k = 0; k < loss[u].size(); ++k) {
        if (loss[u][k] < 0) continue;
        const double gain = saving[u][k] - saving[u][pick[u]];
        const double dl = loss[u][k] - loss[u][pick[u]];
        if (gain <= 0 || total + dl > budget + 1e-12) continue;
        const double ratio = dl <= 1e-12 ? std::numeric_limits<double>::infinity() : gain / dl;
        if (ratio > best_ratio || (ratio == best_ratio && gain > best_gain)) {
          best_ratio = ratio;
          best_gain = gain;
          bu = static_cast<int>(u);
          bk = static_cast<int>(k);
        }
      }
    }
    if (bu < 0) break;
    total += loss[bu][bk] - loss[bu][pick[bu]];
    pick[bu] = bk;
  }
  return pick;
}

namespace {

std::string unit_label(const Unit& u, double v) {
  std::ostringstream o;
  o << "layer " << u.layer << " islands";
  for (int i : u.islands) o << " " << i;
  o << " at " << v << " V";
  return o.str();
}

}  // namespace

std::vector<std::vector<double>> unit_savings(Explorer& ex, const std::vector<Unit>& units, const Setting& base) {
  const int K = static_cast<int>(ex.levels().size());
  const auto& cycles = ex.layer_cycles();
  const double factor = ex.energy().razor_factor(static_cast<int>(std::bitset<64>(base.razor_mask).count()),
                                                 base.policy);
  std::vector<std::vector<double>> saving(units.size(), std::vector<double>(K, 0.0));
  for (size_t u = 0; u < units.size(); ++u)
    for (int k = 0; k < K; ++k)
      for (int i : units[u].islands)
        saving[u][k] += ex.energy().island_layer_pj(i, cycles[units[u].layer], ex.signoff(), factor) -
                        ex.energy().island_layer_pj(i, cycles[units[u].layer], ex.levels()[k], factor);
  return saving;
}

Setting levels_setting(const Explorer& ex, const std::vector<Unit>& units, const std::vector<int>& level,
                       const Setting& base) {
  Setting s = base;
  s.voltage.assign(ex.layers(), std::vector<double>(ex.islands(), ex.signoff()));
  for (size_t u = 0; u < units.size(); ++u)
    for (int i : units[u].islands) s.voltage.at(units[u].layer).at(i) = ex.levels()[level[u]];
  return s;
}

Selection assign_levels(Explorer& ex, const std::string& algorithm, const std::vector<Unit>& units,
                        const Setting& base) {
  const int K = static_cast<int>(ex.levels().size());
  const double budget = ex.options().budget_pct;
  Selection sel;
  sel.algorithm = algorithm;
  sel.sensitivity.assign(units.size(), std::vector<double>(K, -1.0));
  const std::vector<std::vector<double>> saving = unit_savings(ex, units, base);

  // 1. Sensitivity: each unit alone below sign-off, from the top level down;
  //    stop at the first level whose loss alone exceeds the budget (lower
  //    levels make more errors: assumed worse, not measured).
  ex.set_phase(algorithm + " sensitivity", static_cast<int>(units.size()) * (K - 1));
  for (size_t u = 0; u < units.size(); ++u) {
    sel.sensitivity[u][K - 1] = 0;
    for (int k = K - 2; k >= 0; --k) {
      std::vector<int> level(units.size(), K - 1);
      level[u] = k;
      const Point& p = ex.evaluate(levels_setting(ex, units, level, base), algorithm, "sensitivity",
                                   unit_label(units[u], ex.levels()[k]));
      sel.sensitivity[u][k] = std::max(0.0, p.eval.loss.loss_pct);
      if (p.eval.loss.loss_pct > budget) {
        sel.sensitivity[u][k] = -1;  // alone over budget: not allowed
        break;
      }
    }
  }

  // 2. Additive prediction, choice under the budget.
  sel.unit_level = choose_levels(saving, sel.sensitivity, budget, ex.options().exact_solver);
  for (size_t u = 0; u < units.size(); ++u) sel.predicted_loss_pct += sel.sensitivity[u][sel.unit_level[u]];

  // 3. Verify the whole schedule; back off the worst offender while it fails.
  verify_levels(ex, units, base, sel);
  return sel;
}

std::vector<std::vector<int>> backoff_order(Explorer& ex, const std::vector<Unit>& units, const Selection& sel,
                                            bool* exhausted) {
  const int K = static_cast<int>(ex.levels().size());
  const auto& cycles = ex.layer_cycles();
  std::vector<std::vector<int>> order{sel.unit_level};
  if (exhausted) *exhausted = false;
  while (static_cast<int>(order.size()) - 1 < ex.options().max_backoff) {
    const std::vector<int>& level = order.back();
    // Worst offender: the largest measured loss alone at its level, then the
    // lowest level, then the most PE-cycles (most exposure to errors).
    const auto key = [&](size_t x) {
      return std::make_tuple(sel.sensitivity[x][level[x]], -level[x],
                             cycles[units[x].layer] * double(units[x].islands.size()));
    };
    int worst = -1;
    for (size_t u = 0; u < units.size(); ++u)
      if (level[u] != K - 1 && (worst < 0 || key(u) > key(worst))) worst = static_cast<int>(u);
    if (worst < 0) {
      if (exhausted) *exhausted = true;
      break;
    }
    std::vector<int> next = level;
    ++next[worst];
    order.push_back(std::move(next));
  }
  // The order may end with every unit at sign-off exactly at the limit.
  if (exhausted && !*exhausted) {
    bool all = true;
    for (int l : order.back()) all = all && l == K - 1;
    *exhausted = all;
  }
  return order;
}

void verify_levels(Explorer& ex, const std::vector<Unit>& units, const Setting& base, Selection& sel) {
  const std::string& algorithm = sel.algorithm;
  bool exhausted = false;
  const std::vector<std::vector<int>> order = backoff_order(ex, units, sel, &exhausted);
  const int last = static_cast<int>(order.size()) - 1;
  sel.backoff_evaluations = 0;
  // Schedule j of the order, evaluated (or cached); whether it fits.
  std::vector<int> point_of(order.size(), -1);
  const auto fits_at = [&](int j) {
    const std::size_t known = ex.points().size();
    const Point& p = ex.evaluate(levels_setting(ex, units, order[j], base), algorithm, j == 0 ? "verify" : "backoff",
                                 j == 0 ? "chosen schedule" : "back-off " + std::to_string(j));
    point_of[j] = p.id;
    if (j > 0 && ex.points().size() > known) ++sel.backoff_evaluations;  // not a point measured before
    return ex.fits(p);
  };
  const auto accept = [&](int j) {
    sel.unit_level = order[j];
    sel.setting = levels_setting(ex, units, order[j], base);
    sel.point_id = point_of[j];
    sel.fits = ex.fits(ex.points()[point_of[j]]);
    sel.backoffs = j;
    if (!sel.fits)
      sel.note = exhausted ? "every unit back at sign-off and the loss still exceeds the budget"
                           : "gave up after " + std::to_string(j) + " back-off rounds";
  };
  ex.set_phase(algorithm + " verify", 1);
  if (fits_at(0) || last == 0) return accept(0);
  if (ex.options().backoff == Backoff::kOne) {
    ex.set_phase(algorithm + " back-off", last);
    int j = 1;
    while (!fits_at(j) && j < last) ++j;
    return accept(j);
  }
  int expected = 0;
  for (int s = 1; s < last; s *= 2) ++expected;
  int lo = 0, hi = -1;
  if (ex.options().backoff == Backoff::kGallop) {
    // Galloping: steps 1, 2, 4, ... (the last of the order at most) until one
    // fits; then bisection between the last that did not (lo) and it (hi).
    // With a loss that falls along the order this is the first schedule that
    // fits, the one kOne finds, in about 2 log2(j) evaluations instead of j.
    ex.set_phase(algorithm + " back-off", 2 * expected + 1);
    for (int j = 1;; j = std::min(2 * j, last)) {
      if (fits_at(j)) {
        hi = j;
        break;
      }
      lo = j;
      if (j == last) return accept(last);
    }
  } else {
    // The end of the order first: typically every unit back at sign-off,
    // error-free and often measured already (the baseline, a sweep point), so
    // it costs little or nothing; if it does not fit, nothing before it is
    // expected to. Then bisection over the whole order, about log2(last)
    // evaluations wherever the first fit lies (galloping needs 2 log2(j)).
    ex.set_phase(algorithm + " back-off", expected + 1);
    if (!fits_at(last)) return accept(last);
    hi = last;
  }
  // Bisection. The saving only falls along the order (each step raises one
  // unit), so no schedule left in (lo, hi) saves more than the bound of lo + 1:
  // once that is within the tolerance of what hi measured, stop (costs at most
  // the tolerance in saving, never the budget: hi was measured and fits).
  const double tolerance = ex.options().backoff_saving_tolerance_pct;
  const auto settled = [&] {
    if (tolerance <= 0 || ex.options().backoff != Backoff::kBisect) return false;  // gallop: the old search
    double best_left = -std::numeric_limits<double>::infinity();
    for (int j = lo + 1; j < hi; ++j)
      best_left = std::max(best_left, ex.saving_bound_pct(levels_setting(ex, units, order[j], base)));
    return best_left <= ex.points()[point_of[hi]].energy.saving_pct + tolerance;
  };
  while (hi - lo > 1 && !settled()) {
    const int mid = lo + (hi - lo) / 2;
    if (fits_at(mid))
      hi = mid;
    else
      lo = mid;
  }
  accept(hi);
}

std::vector<Unit> xtpu_units(const Explorer& ex) {
  std::vector<Unit> units;
  for (int l = 0; l < ex.layers(); ++l)
    for (int i = 0; i < ex.islands(); ++i) units.push_back({l, {i}});
  return units;
}

Selection select_xtpu(Explorer& ex) {
  return assign_levels(ex, "xtpu", xtpu_units(ex), Setting{});
}

Selection select_thundervolt(Explorer& ex, std::uint64_t protected_mask) {
  std::vector<Unit> units;
  std::vector<int> all(ex.islands());
  for (int i = 0; i < ex.islands(); ++i) all[i] = i;
  for (int l = 0; l < ex.layers(); ++l) units.push_back({l, all});
  Setting base;
  base.razor_mask = protected_mask;
  base.policy = protected_mask ? RazorPolicy::kDrop : RazorPolicy::kNone;
  return assign_levels(ex, "thundervolt", units, base);
}

std::vector<int> rank_bits_by_error_magnitude(const std::vector<double>& p_error_by_bit) {
  std::vector<int> bits;
  for (size_t b = 0; b < p_error_by_bit.size(); ++b)
    if (p_error_by_bit[b] > 0) bits.push_back(static_cast<int>(b));
  std::stable_sort(bits.begin(), bits.end(), [&](int a, int b) {
    return std::ldexp(p_error_by_bit[a], a) > std::ldexp(p_error_by_bit[b], b);
  });
  return bits;
}

Selection select_rathore(Explorer& ex, const std::function<std::vector<int>(double)>& bit_rank) {
  Selection sel;
  sel.algorithm = "rathore";
  sel.setting = Setting::uniform(ex.layers(), ex.islands(), ex.signoff());
  double best_saving = -std::numeric_limits<double>::infinity();
  const int K = static_cast<int>(ex.levels().size());
  // The sign-off level is searched too: a model may err there (and need Razor)
  // when the operating silicon or the stream differs from what STA assumed.
  for (int k = K - 1; k >= 0; --k) {
    const double v = ex.levels()[k];
    const std::vector<int> rank = bit_rank(v);
    ex.set_phase("rathore " + std::to_string(v) + " V", static_cast<int>(rank.size()) + 1);
    // Protect the bits in rank order until the loss fits; then keep adding bits
    // while that still saves more (fewer corrections can outweigh the Razor
    // cost of another bit), and stop at the first that does not.
    bool fitted = false;
    double level_best = -std::numeric_limits<double>::infinity();
    for (size_t n = 0; n <= rank.size(); ++n) {
      Setting s = Setting::uniform(ex.layers(), ex.islands(), v);
      for (size_t j = 0; j < n; ++j) s.razor_mask |= std::uint64_t{1} << rank[j];
      s.policy = n ? RazorPolicy::kCorrect : RazorPolicy::kNone;
      const Point& p = ex.evaluate(s, "rathore", "sweep", std::to_string(n) + " protected bits");
      if (!ex.fits(p)) {
        if (fitted) break;
        continue;
      }
      if (fitted && p.energy.saving_pct <= level_best) break;
      fitted = true;
      level_best = p.energy.saving_pct;
      if (p.energy.saving_pct > best_saving) {
        best_saving = p.energy.saving_pct;
        sel.setting = s;
        sel.point_id = p.id;
        sel.fits = true;
      }
    }
  }
  if (!sel.fits) sel.note = "no voltage fits the budget even with every failing bit protected";
  return sel;
}

void sweep_uniform(Explorer& ex, const std::string& label, std::uint64_t mask, RazorPolicy policy) {
  ex.set_phase("sweep " + label, static_cast<int>(ex.levels().size()));
  for (double v : ex.levels()) {
    Setting s = Setting::uniform(ex.layers(), ex.islands(), v);
    s.razor_mask = mask;
    s.policy = mask ? policy : RazorPolicy::kNone;
    ex.evaluate(s, "sweep", label);
  }
}

}  // namespace vosa::explore
