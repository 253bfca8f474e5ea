#include "vosa/explore/baselines.hpp"

#include "vosa/bit_timing.hpp"
#include "vosa/explore/energy.hpp"

#include <cmath>
#include <sstream>

namespace vosa::explore {
namespace {

constexpr double kSameVoltage = 5e-3;  // levels and corners are named to 10 mV

std::string volts(double v) {
  std::ostringstream s;
  s << v << " V";
  return s.str();
}

// The lowest level such that it and every level above it pass `ok`; none if
// the top level fails.
template <class Ok>
bool lowest_passing_run(const std::vector<double>& levels, Ok ok, double* voltage) {
  bool found = false;
  for (auto it = levels.rbegin(); it != levels.rend(); ++it) {
    if (!ok(*it)) break;
    *voltage = *it;
    found = true;
  }
  return found;
}

}  // namespace

Baseline dvfs_baseline(const nlohmann::json& bit_timing, const std::string& name, const std::string& signoff_corner,
                       const std::vector<double>& levels, double period_ns) {
  Baseline b;
  b.name = "dvfs";
  if (!bit_timing.contains("corners") || !bit_timing.at("corners").is_array())
    throw ExploreError(name + ": no 'corners' (not a make sta bit_timing.json)");
  if (period_ns > 0 && bit_timing.contains("period_ns") &&
      std::abs(bit_timing.at("period_ns").get<double>() - period_ns) > 1e-6)
    throw ExploreError(name + ": STA period " + std::to_string(bit_timing.at("period_ns").get<double>()) +
                       " ns differs from the error model's " + std::to_string(period_ns) + " ns");
  const nlohmann::json* signoff = nullptr;
  for (const auto& c : bit_timing.at("corners"))
    if (c.value("name", "") == signoff_corner) signoff = &c;
  if (!signoff) {
    b.source = "not available: " + name + " has no sign-off corner " + signoff_corner;
    return b;
  }
  const std::string process = signoff->value("process", "");
  const double temperature = signoff->value("temperature_c", 0.0);
  std::vector<sta::DvfsPoint> points;
  try {
    points = sta::dvfs_points(bit_timing, levels);
  } catch (const nlohmann::json::exception& e) {
    throw ExploreError(name + ": not a make sta bit_timing.json: " + e.what());
  }
  for (const auto& d : points) {
    if (d.process != process || std::abs(d.temperature_c - temperature) > 1e-6) continue;
    if (!d.available) {
      b.source = "not available: STA fails at the top level (" + signoff_corner + ")";
      return b;
    }
    b.available = true;
    b.voltage = d.voltage;
    b.source = "STA (" + name + ") at " + process + " " + std::to_string(int(std::lround(temperature))) +
               " C: lowest level from which every timed level upward has worst slack >= 0";
  }
  if (!b.available && b.source.empty()) b.source = "not available: " + name + " times none of the levels";
  return b;
}

Baseline error_free_baseline(const ErrorModel& model, const std::vector<double>& levels, double period_ns) {
  Baseline b;
  b.name = "error_free";
  std::uint64_t samples = 0;
  std::string corner, missing;
  const bool found = lowest_passing_run(
      levels,
      [&](double v) {
        bool seen = false;  // every row band of a model with PE positions must be error-free
        samples = 0;
        for (const auto& p : model.points)
          if (std::abs(p.voltage - v) < kSameVoltage && (period_ns <= 0 || std::abs(p.period_ns - period_ns) < 1e-6)) {
            if (p.cycles_with_error) return false;
            samples += p.samples;
            corner = p.corner;
            seen = true;
          }
        if (seen) return true;
        missing = volts(v);
        return false;
      },
      &b.voltage);
  if (!found) {
    b.source = "not available: the error model errs at the top level" + (missing.empty() ? "" : " (no point at " + missing + ")");
    return b;
  }
  b.available = true;
  // The counts of the chosen level (the search last looked at the level below it).
  samples = 0;
  for (const auto& p : model.points)
    if (std::abs(p.voltage - b.voltage) < kSameVoltage && (period_ns <= 0 || std::abs(p.period_ns - period_ns) < 1e-6)) {
      samples += p.samples;
      corner = p.corner;
    }
  b.source = "error model: lowest level with no erroneous cycle in " + std::to_string(samples) + " samples (" +
             model.pdk + ", " + corner + ")";
  return b;
}

}  // namespace vosa::explore
