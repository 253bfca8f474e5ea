// Input-dependent dynamic bit-width (Pagliari et al., ISLPED'18;
// docs/precision.md): a cascade of passes from the lowest precision mode up
// to full width. A pass's result is accepted when its confidence (top-1
// minus top-2 output score) reaches the mode's threshold, else the input is
// rerun at the next wider mode; the full-width pass is always accepted. The
// thresholds are chosen on a calibration split and evaluated on held-out
// inputs by `vosa bitwidth`.
#pragma once

#include "vosa/explore/evaluation.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace vosa::explore {

// One input's pass at one mode: its confidence and whether top-1 is right.
struct PassOutcome {
  int confidence = 0;
  bool correct = false;
};

// outcomes[m][i]: input i at mode m. Mode 0 is full width; higher indices
// are narrower (the config's precision_modes order). energy[m]: energy of one
// pass at mode m (any unit, the same for all modes).
struct PassTable {
  std::vector<std::vector<PassOutcome>> outcomes;
  std::vector<double> energy;
  std::size_t inputs() const { return outcomes.empty() ? 0 : outcomes.front().size(); }
  std::size_t modes() const { return outcomes.size(); }
  void check() const;  // throws ExploreError on inconsistent sizes or energies
};

// Top-1 minus top-2 of an output vector (0 for fewer than two classes).
int confidence_margin(const std::vector<int>& output);

// thresholds[m] for each mode m >= 1 (thresholds[0] is unused: full width is
// always accepted); kNever disables a mode.
constexpr int kNever = 1 << 30;
struct Policy {
  std::vector<int> thresholds;
};

struct PolicyOutcome {
  std::vector<std::uint8_t> correct;      // per input
  std::vector<double> energy;             // per input, every pass it ran
  std::vector<std::size_t> accepted_at;   // inputs accepted per mode
  double top1 = 0;                        // fraction
  double mean_energy = 0;
  double mean_passes = 0;
};

// Runs the cascade on every input of the table: modes from the narrowest
// enabled one up to full width.
PolicyOutcome apply_policy(const PassTable& table, const Policy& policy);

// Static mode m for every input.
PolicyOutcome apply_static(const PassTable& table, std::size_t mode);

// The thresholds of least mean energy on `calibration` whose top-1 is at
// most `budget_pct` points below static full width on the same inputs
// (ties: higher top-1, then higher thresholds). Candidates per mode: kNever
// and the distinct confidences of that mode (thinned to quantiles so the
// search stays below ~2e5 policies).
Policy choose_thresholds(const PassTable& calibration, double budget_pct);

// Two-stage cascade (mode m, then full width): the largest fraction of the
// inputs whose m-bit pass can be accepted with top-1 at most `budget_pct`
// points below static full width. The cascade saves energy only when this
// fraction exceeds energy[m] / energy[0].
double max_accepted_fraction(const PassTable& table, std::size_t mode, double budget_pct);

// The narrowest static mode within the budget on `calibration` (0 if none).
std::size_t choose_static_mode(const PassTable& calibration, double budget_pct);

// Paired top-1 loss of a policy against static full width (mode 0).
PairedLoss loss_against_full(const PassTable& table, const PolicyOutcome& outcome);

}  // namespace vosa::explore
