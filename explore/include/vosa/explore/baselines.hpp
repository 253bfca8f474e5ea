// The three baselines every saving is reported against (DESIGN.md, "The
// operating point"): the nominal (sign-off) voltage at the clock target, the
// DVFS point (lowest level at which STA passes at the sign-off corner for that
// clock: what conventional voltage scaling gives without any error) and the
// error-free point (lowest level with no timing error in the error model at
// the operating corner: what guardband removal gives).
#pragma once

#include "vosa/error_model.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace vosa::explore {

struct Baseline {
  std::string name;        // "nominal", "dvfs", "error_free"
  bool available = false;  // false: no data to place it (why says what is missing)
  double voltage = 0;
  std::string source;      // where the voltage comes from, or why it is unavailable
};

// Lowest level (ascending `levels`) from which upward every level's STA corner
// (bit_timing.json `corners`, same process and temperature as the sign-off
// corner) has worst_slack_ns >= 0. Throws ExploreError on a malformed file or
// a period other than period_ns (when period_ns > 0).
Baseline dvfs_baseline(const nlohmann::json& bit_timing, const std::string& bit_timing_name,
                       const std::string& signoff_corner, const std::vector<double>& levels, double period_ns);

// Lowest level from which upward every level's error-model point (at
// period_ns, or the only period when period_ns <= 0) observed no erroneous
// cycle in its samples.
Baseline error_free_baseline(const ErrorModel& model, const std::vector<double>& levels, double period_ns);

}  // namespace vosa::explore
