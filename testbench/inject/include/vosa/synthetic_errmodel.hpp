// Synthetic error models for tests and benchmarks of the injector: one point
// per given rate (voltage 1.0, 2.0, ... in order), errors in the top 8
// accumulator bits, with the operand-class structure of the sky130hd
// uniform-operand model (class 0 never errs, larger product steps err more;
// shares and relative rates below), so the class thinning is exercised.
#pragma once

#include "vosa/error_model.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <vector>

namespace vosa::inject {

// class_rate: p(error | class) relative to the point's rate (default: the
// sky130hd uniform-operand model's structure above).
inline ErrorModel synthetic_class_model(int acc_bits, const std::vector<double>& rates,
                                        const std::array<double, kOperandClasses>& class_rate = {0.0, 0.6, 0.65, 0.95, 1.0}) {
  const std::uint64_t samples = 10000000000ULL;  // large: every bit keeps a count at small rates
  const double class_share[kOperandClasses] = {0.01, 0.04, 0.09, 0.22, 0.64};  // of the characterized cycles
  nlohmann::json j = {{"schema_version", 1}, {"pdk", "synthetic"}, {"design", {{"acc_bits", acc_bits}, {"signed", true}}},
                      {"netlist_hash", "0"}, {"operand_source", "synthetic"}};
  j["points"] = nlohmann::json::array();
  for (std::size_t r = 0; r < rates.size(); ++r) {
    nlohmann::json bits = nlohmann::json::array(), by_class = nlohmann::json::array();
    std::uint64_t errors = 0;
    for (int c = 0; c < kOperandClasses; ++c) {
      const auto n = static_cast<std::uint64_t>(class_share[c] * samples);
      const auto e = static_cast<std::uint64_t>(rates[r] * class_rate[c] * static_cast<double>(n));
      errors += e;
      nlohmann::json cb = nlohmann::json::array();
      for (int b = acc_bits - 8; b < acc_bits; ++b)
        cb.push_back({{"bit", b}, {"p_error", double(e / 4) / double(n)}, {"errors", e / 4}, {"ci95", {0, 1}}});
      by_class.push_back({{"class", c}, {"samples", n}, {"cycles_with_error", e}, {"bits", cb},
                          {"error_patterns", nlohmann::json::array()}});
    }
    for (int b = acc_bits - 8; b < acc_bits; ++b)
      bits.push_back({{"bit", b}, {"p_error", double(errors / 4) / samples}, {"errors", errors / 4}, {"ci95", {0, 1}}});
    nlohmann::json p = {{"voltage", 1.0 + static_cast<double>(r)}, {"period_ns", 10.0}, {"delay_source", "synthetic"},
                        {"samples", samples}, {"cycles_with_error", errors}, {"bits", bits},
                        {"error_values", nlohmann::json::array()}, {"error_patterns", nlohmann::json::array()}};
    if (errors > 0) p["classes"] = {{"scheme", kOperandClassScheme}, {"by_class", by_class}};
    j["points"].push_back(p);
  }
  return ErrorModel::from_json(j, "synthetic");
}

}  // namespace vosa::inject
