// Row bands chosen from the data (`vosa errmodel-bands`, docs/errmodel.md
// "PE positions"): from an error model with one band per array row, merge
// adjacent rows whose statistics agree, and pool each band's counts into one
// point per band (the statistics of the band's rows' streams concatenated).
#pragma once

#include "vosa/error_model.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vosa::bands {

// One boundary between two bands: the statistic that differed.
struct Split {
  int row = 0;          // first row of the new band
  double voltage = 0, period_ns = 0;
  std::string statistic;  // "P(any error)", "bit 17 rate", "class 2 (dprod_128_511) P(any error)"
  std::uint64_t band_errors = 0, band_samples = 0, row_errors = 0, row_samples = 0;
};

struct Choice {
  std::vector<std::pair<int, int>> bands;  // (first, last) rows, top to bottom
  std::vector<Split> splits;               // one per boundary
  int tests = 0;                           // comparisons per (band, row) pair
  double z = 0;                            // their two-sided critical value
};

// Rule: walking the rows top to bottom, a row joins the band above it when,
// at every (voltage, period) of the model, it agrees with the band's pooled
// counts in P(any error), every bit's rate and every operand class's P(any
// error) that has at least `min_errors` errors on either side. Two counts
// (k1 of n1, k2 of n2) agree when the split of their k1 + k2 events is
// binomial with p = n1 / (n1 + n2) inside its Wilson interval at a family-wise
// 95 % (Bonferroni over the comparisons of one row). Requires every row from 0
// to the last to be its own band at every point (the output of per-row
// characterization); errors name the model and the row.
Choice choose(const ErrorModel& per_row, const std::string& path, std::uint64_t min_errors = 20);

// `model` (the JSON of the same per-row file) with each chosen band's rows
// pooled into one point per (voltage, period) and band: counts summed, rates
// and intervals recomputed, error values and joint patterns merged by value
// and mask, settle histograms summed. Refuses points with a `razor` or
// `carry_word` object (characterize such a band's stream with vosa dta
// --pe-rows instead), naming the field.
nlohmann::json pool(const nlohmann::json& model, const std::vector<std::pair<int, int>>& bands,
                    const std::string& path);

}  // namespace vosa::bands
