// Header-only reader and sampler for vosa error models (errmodel.json,
// schema in docs/errmodel.md). Needs only nlohmann/json. Usage:
//
//   auto model = vosa::ErrorModel::load("errmodel.json");
//   const auto& pt = model.nearest(/*voltage*/ 1.35, /*period_ns*/ 5.0);
//   std::mt19937_64 rng(42);
//   std::uint64_t flip = pt.sample_mask(rng);       // XOR into the accumulator bits
//   std::int64_t delta = pt.sample_error_value(rng); // or add to the accumulator value
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa {

constexpr int kErrorModelSchemaVersion = 1;

class ErrorModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ErrorModelPoint {
  struct Bit {
    int bit = 0;
    double p_error = 0, ci_low = 0, ci_high = 0, mean_settle_ns = 0;
  };
  struct Value {
    std::int64_t value = 0;
    std::uint64_t count = 0;
  };
  struct Pattern {
    std::uint64_t mask = 0;
    std::uint64_t count = 0;
  };
  double voltage = 0, period_ns = 0;
  std::string corner, delay_source;
  std::uint64_t samples = 0, cycles_with_error = 0;
  std::vector<Bit> bits;
  std::vector<Value> error_values;  // captured - correct, over all erroneous cycles
  std::vector<Pattern> patterns;    // most frequent joint error masks

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
  // Joint sampling: an erroneous cycle with probability p_any_error; its mask
  // is one of the recorded patterns with their empirical frequencies; the mass
  // of unrecorded (rare) patterns falls back to independent bits, conditioned
  // on at least one bit failing.
  template <class Rng>
  std::uint64_t sample_mask(Rng& rng) const {
    if (cycles_with_error == 0) return 0;
    std::uniform_real_distribution<double> u(0.0, 1.0);
    double x = u(rng) * static_cast<double>(samples);
    if (x >= static_cast<double>(cycles_with_error)) return 0;
    for (const auto& p : patterns) {
      if (x < static_cast<double>(p.count)) return p.mask;
      x -= static_cast<double>(p.count);
    }
    for (int tries = 0; tries < 1000; ++tries)
      if (std::uint64_t m = sample_mask_independent(rng)) return m;
    return patterns.empty() ? 0 : patterns.front().mask;
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
};

class ErrorModel {
 public:
  int schema_version = 0;
  std::string pdk, module, dataflow, netlist_hash, operand_source;
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
      if (m.schema_version != kErrorModelSchemaVersion)
        throw ErrorModelError(path + ": schema_version " + std::to_string(m.schema_version) +
                              " is not supported (this reader knows " +
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
        pt.samples = p.at("samples").get<std::uint64_t>();
        pt.cycles_with_error = p.at("cycles_with_error").get<std::uint64_t>();
        for (const auto& b : p.at("bits")) {
          ErrorModelPoint::Bit bit;
          bit.bit = b.at("bit").get<int>();
          bit.p_error = b.at("p_error").get<double>();
          bit.ci_low = b.at("ci95").at(0).get<double>();
          bit.ci_high = b.at("ci95").at(1).get<double>();
          bit.mean_settle_ns = b.value("mean_settle_ns", 0.0);
          pt.bits.push_back(bit);
        }
        for (const auto& v : p.at("error_values"))
          pt.error_values.push_back({v.at("value").get<std::int64_t>(), v.at("count").get<std::uint64_t>()});
        for (const auto& q : p.at("error_patterns"))
          pt.patterns.push_back({q.at("mask").get<std::uint64_t>(), q.at("count").get<std::uint64_t>()});
        m.points.push_back(std::move(pt));
      }
    } catch (const nlohmann::json::exception& e) {
      throw ErrorModelError(path + ": field '" + field + "' is missing or malformed: " + e.what());
    }
    if (m.points.empty()) throw ErrorModelError(path + ": no points");
    return m;
  }

  // The point closest to (voltage, period): exact matches first, else the
  // smallest normalized distance.
  const ErrorModelPoint& nearest(double voltage, double period_ns) const {
    const ErrorModelPoint* best = nullptr;
    double best_d = std::numeric_limits<double>::infinity();
    for (const auto& p : points) {
      const double d = std::abs(p.voltage - voltage) / std::max(std::abs(voltage), 1e-9) +
                       std::abs(p.period_ns - period_ns) / std::max(std::abs(period_ns), 1e-9);
      if (d < best_d) {
        best_d = d;
        best = &p;
      }
    }
    return *best;
  }
};

}  // namespace vosa
