// Voltage and Razor-bit selection under an accuracy budget (docs/explore.md):
//   xtpu         per-island, per-layer voltage (Zervakis et al., X-TPU)
//   rathore      Razor bits for a voltage (Rathore et al., GLSVLSI'23)
//   thundervolt  per-layer voltage with TE-Drop (Zhang et al., ThUnderVolt, DAC'18)
// Every evaluation goes through an Explorer, which caches it, prices it with
// the energy model and records it as a point of the report.
#pragma once

#include "vosa/explore/energy.hpp"
#include "vosa/explore/evaluation.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace vosa::explore {

struct Point {
  int id = 0;
  std::string algorithm, phase, label;
  Setting setting;
  Evaluation eval;
  EnergyBreakdown energy;
};

enum class Bound { kPoint, kUpper };  // which loss the budget is checked against
const char* to_string(Bound b);

// How verify_levels walks the back-off order (docs/explore.md, "Verify and back-off").
enum class Backoff {
  kOne,     // one step per evaluation, until a schedule fits
  kBisect,  // the end of the order first, then bisection between the last that did not fit and the first that did
  kGallop,  // steps 1, 2, 4, ... until one fits, then bisection below it (the search before kBisect)
};
const char* to_string(Backoff b);

struct ExploreOptions {
  double budget_pct = 0.5;   // top-1 loss budget, percentage points
  Bound verify_bound = Bound::kPoint;
  bool exact_solver = true;  // knapsack (true) or greedy (false) for xtpu/thundervolt
  int max_backoff = 64;      // longest back-off order (steps) before giving up
  Backoff backoff = Backoff::kBisect;
  // kBisect stops once no schedule left between the last that did not fit and
  // the first that did can save more than the latter plus this many
  // percentage points (their saving is known before they are measured:
  // energy model, no stalls). 0: the first schedule that fits, as kOne.
  double backoff_saving_tolerance_pct = 0;
  // > 0: a point fits only if its paired 95 % CI is at most this many
  // percentage points either side of its mean (a chosen schedule whose CI is
  // wider is not resolved on these inputs; the search backs off further).
  double max_ci_half_width_pct = 0;
};

class Explorer {
 public:
  // levels: the island voltages, any order (sorted ascending here); the
  // highest is the sign-off voltage of the baseline.
  Explorer(Evaluator evaluator, const EnergyModel& energy, int layers, std::vector<double> levels,
           ExploreOptions options);

  int layers() const { return layers_; }
  int islands() const { return static_cast<int>(energy_.geometry().islands.size()); }
  const std::vector<double>& levels() const { return levels_; }
  double signoff() const { return levels_.back(); }
  const ExploreOptions& options() const { return options_; }
  const EnergyModel& energy() const { return energy_; }
  // Array cycles per layer of the error-free run (the first evaluation).
  const std::vector<double>& layer_cycles();

  // Evaluates (or returns the cached point), records it under algorithm/phase.
  // Phase "sensitivity" goes to the screening evaluator, "verify" and
  // "backoff" to the candidates' one (when set), every other to the full one.
  const Point& evaluate(const Setting& s, const std::string& algorithm, const std::string& phase,
                        const std::string& label = "");
  bool fits(const Point& p) const;  // loss (point estimate or upper CI bound) <= budget, CI narrow enough
  double checked_loss(const Point& p) const;

  const std::vector<Point>& points() const { return points_; }
  // The saving s can reach at most: the energy model on the clean run's
  // cycles without stalls (a measurement adds only its Razor stalls).
  double saving_bound_pct(const Setting& s);
  // Progress on stderr: "explore: <what> i/n points, ETA ..."; total is a
  // running estimate set by each phase.
  void set_phase(const std::string& what, int expected_points);
  void set_quiet(bool quiet) { quiet_ = quiet; }
  // Coarse-to-fine: sensitivity points (each unit alone below sign-off,
  // used only to predict a schedule's loss) go to this evaluator (fewer
  // inputs); every point a choice rests on (verify, back-off, sweeps,
  // Rathore) to the full one. Cached apart: a setting screened first is
  // evaluated again in full when a choice needs it.
  void set_screening(Evaluator screening) { screening_ = std::move(screening); }
  // The verify and back-off candidates of assign_levels go to this evaluator:
  // all inputs, but rejected at the coarse stages by a weaker bound (95 %,
  // kCandidateRejectZ). A point it stops there is cached apart (a full
  // evaluation of the same setting does not take it); one it measures in
  // full serves every phase.
  void set_candidates(Evaluator candidates) { candidates_ = std::move(candidates); }
  // The uniform sweeps (algorithm "sweep": the accuracy-against-voltage
  // curves, which no choice rests on) go to the candidates' evaluator too: a
  // curve point is measured until it is clear on which side of the budget it
  // lies (docs/explore.md "At scale"). Off by default.
  void set_curves_as_candidates(bool on) { curves_as_candidates_ = on; }

 private:
  Evaluator evaluator_;
  Evaluator screening_;
  Evaluator candidates_;
  const EnergyModel& energy_;
  int layers_;
  std::vector<double> levels_;
  ExploreOptions options_;
  std::vector<Point> points_;
  std::map<std::string, int> cache_;
  std::vector<double> clean_cycles_;
  std::string phase_;
  int phase_total_ = 0, phase_done_ = 0;
  double phase_seconds_ = 0;
  bool quiet_ = false;
  bool curves_as_candidates_ = false;
};

// A unit of voltage assignment: one (layer, islands) group that shares a level.
struct Unit {
  int layer = 0;
  std::vector<int> islands;
};

struct Selection {
  std::string algorithm;
  bool fits = false;          // the verified schedule meets the budget
  Setting setting;            // the chosen schedule (all sign-off if nothing fits)
  int point_id = -1;          // its verified point
  double predicted_loss_pct = 0;
  int backoffs = 0;             // steps along the back-off order to the accepted schedule
  int backoff_evaluations = 0;  // back-off schedules evaluated to find it (not counting points measured before)
  std::vector<int> unit_level;             // per unit, index into levels (xtpu/thundervolt)
  std::vector<std::vector<double>> sensitivity;  // [unit][level] measured loss; -1 = not measured
  std::string note;
};

// Sensitivity, additive prediction, knapsack/greedy choice, verification and
// back-off, for any partition into units. `base` fixes the Razor mask/policy.
Selection assign_levels(Explorer& ex, const std::string& algorithm, const std::vector<Unit>& units,
                        const Setting& base);
// The pieces of assign_levels, for searches that reuse its sensitivities
// (explore/sram_joint.hpp). Energy each unit saves at each level (what the
// choice maximizes):
std::vector<std::vector<double>> unit_savings(Explorer& ex, const std::vector<Unit>& units, const Setting& base);
// `base` with every unit at its level (index into ex.levels()), the rest at sign-off.
Setting levels_setting(const Explorer& ex, const std::vector<Unit>& units, const std::vector<int>& level,
                       const Setting& base);
// The back-off order from sel.unit_level: schedule j + 1 is schedule j with its
// worst offender (the largest sel.sensitivity at its level, then the lowest
// level, then the most PE-cycles) one level up. It depends on the
// sensitivities only, not on measured losses. Ends at ex.options().max_backoff
// steps or where every unit is at sign-off (then *exhausted is set).
std::vector<std::vector<int>> backoff_order(Explorer& ex, const std::vector<Unit>& units, const Selection& sel,
                                            bool* exhausted = nullptr);
// Step 3: evaluates sel.unit_level on ex and, while it does not fit, walks the
// back-off order (ex.options().backoff: one step per evaluation; the end of
// the order first and then bisection; or galloping and bisection: the same
// schedule when the loss falls along the order and the saving tolerance is
// 0); fills unit_level, setting, point_id, fits, backoffs,
// backoff_evaluations and note. The schedule accepted is a point that fits,
// measured on all inputs.
void verify_levels(Explorer& ex, const std::vector<Unit>& units, const Setting& base, Selection& sel);
// X-TPU's units: one per (layer, island).
std::vector<Unit> xtpu_units(const Explorer& ex);

// Multiple-choice knapsack on the predicted losses: per unit, a level index
// with saving[u][k] gained and loss[u][k] spent (loss < 0: not allowed);
// exact (dynamic programme on the loss in budget/resolution steps, rounded to
// the nearest step: sums within resolution/2 steps per unit of the budget count
// as fitting; the verification measures the real loss anyway) or greedy (best
// saving per predicted loss first).
std::vector<int> choose_levels(const std::vector<std::vector<double>>& saving,
                               const std::vector<std::vector<double>>& loss, double budget, bool exact,
                               int resolution = 20000);

Selection select_xtpu(Explorer& ex);
Selection select_thundervolt(Explorer& ex, std::uint64_t protected_mask);
// bit_rank(v): bits in protection order at voltage v (expected error magnitude,
// largest first, only bits that can fail).
Selection select_rathore(Explorer& ex, const std::function<std::vector<int>(double)>& bit_rank);

// Bits ordered by p_error(bit) * 2^bit, largest first, p_error > 0 only.
std::vector<int> rank_bits_by_error_magnitude(const std::vector<double>& p_error_by_bit);

// Uniform-voltage sweeps for the accuracy-vs-voltage plot.
void sweep_uniform(Explorer& ex, const std::string& label, std::uint64_t mask, RazorPolicy policy);

}  // namespace vosa::explore
