// Row bands chosen from the data (vosa::bands, `vosa errmodel-bands`,
// docs/errmodel.md "PE positions").
#include "vosa/errmodel_bands.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using nlohmann::json;

// One row's point of an 8-bit model: `errors` of 10000 cycles fail, all in
// bit 7 (value -128, mask 128) except `low` that fail in bit 2 (value 4).
json row_point(int row, double voltage, std::uint64_t errors, std::uint64_t low = 0) {
  const std::uint64_t n = 10000;
  json bits = json::array();
  for (int j = 0; j < 8; ++j) {
    const std::uint64_t e = j == 7 ? errors - low : j == 2 ? low : 0;
    const auto [lo, hi] = vosa::wilson95(e, n);
    bits.push_back({{"bit", j}, {"errors", e}, {"p_error", double(e) / n}, {"ci95", {lo, hi}},
                    {"mean_settle_ns", 1.0 + row}, {"settle_hist", {n - e, e}}});
  }
  json values = json::array({{{"value", -128}, {"count", errors - low}}});
  json patterns = json::array({{{"mask", 128}, {"bits", {7}}, {"count", errors - low}, {"p", double(errors - low) / n}}});
  if (low) {
    values.push_back({{"value", 4}, {"count", low}});
    patterns.push_back({{"mask", 4}, {"bits", {2}}, {"count", low}, {"p", double(low) / n}});
  }
  return {{"voltage", voltage}, {"period_ns", 10.0}, {"delay_source", "liberty-corner"}, {"corner", "c"},
          {"pe_rows", {row, row}}, {"samples", n}, {"cycles_with_error", errors}, {"p_any_error", double(errors) / n},
          {"bits", bits}, {"error_values", values}, {"error_patterns", patterns}};
}

json model_of(const std::vector<json>& points) {
  return {{"schema_version", 2}, {"pdk", "test"}, {"design", {{"acc_bits", 8}, {"signed", true}}},
          {"netlist_hash", "00"}, {"operand_source", "synthetic"}, {"points", points}};
}

// Row 0 (zero partial sum in) errs 20 times in 10000 cycles, rows 1-3 about 400
// times (binomial spread), at two voltages.
json two_groups(std::uint64_t row3_errors = 395) {
  std::vector<json> pts;
  for (double v : {1.6, 1.44}) {
    const std::uint64_t scale = v < 1.5 ? 4 : 1;
    pts.push_back(row_point(0, v, 20 * scale));
    pts.push_back(row_point(1, v, 400 * scale, 10));
    pts.push_back(row_point(2, v, 412 * scale, 10));
    pts.push_back(row_point(3, v, row3_errors * scale, 10));
  }
  return model_of(pts);
}

TEST(ErrmodelBands, RowsWhoseRatesAgreeShareABand) {
  const json j = two_groups();
  const auto c = vosa::bands::choose(vosa::ErrorModel::from_json(j), "m.json");
  ASSERT_EQ(c.bands.size(), 2u);
  EXPECT_EQ(c.bands[0], std::make_pair(0, 0));
  EXPECT_EQ(c.bands[1], std::make_pair(1, 3));
  ASSERT_EQ(c.splits.size(), 1u);
  EXPECT_EQ(c.splits[0].row, 1);
  EXPECT_GT(c.tests, 1);
  EXPECT_GT(c.z, 1.96);  // Bonferroni over the comparisons of one row

  // Pooled: counts summed, rates and intervals recomputed, values and patterns merged.
  const json pooled = vosa::bands::pool(j, c.bands, "m.json");
  const auto m = vosa::ErrorModel::from_json(pooled, "pooled");
  const auto& band = m.nearest(1.6, 10.0, 2);
  EXPECT_EQ(band.row_first, 1);
  EXPECT_EQ(band.row_last, 3);
  EXPECT_EQ(band.samples, 30000u);
  EXPECT_EQ(band.cycles_with_error, 400u + 412u + 395u);
  EXPECT_EQ(band.bits[2].errors, 30u);
  EXPECT_EQ(band.bits[7].errors, 400u + 412u + 395u - 30u);
  const auto [lo, hi] = vosa::wilson95(30, 30000);
  EXPECT_DOUBLE_EQ(band.bits[2].ci_low, lo);
  EXPECT_DOUBLE_EQ(band.bits[2].ci_high, hi);
  ASSERT_EQ(band.patterns.size(), 2u);
  EXPECT_EQ(band.patterns[0].mask, 128u);  // most frequent first
  EXPECT_EQ(band.patterns[1].count, 30u);
  std::uint64_t values = 0;
  for (const auto& v : band.error_values) values += v.count;
  EXPECT_EQ(values, band.cycles_with_error);
  EXPECT_EQ(m.nearest(1.6, 10.0, 0).cycles_with_error, 20u);
  // Settle statistics are weighted by each row's errors.
  const json& b7 = pooled["points"][3]["bits"][7];  // 1.6 V (points by voltage), rows 1-3
  EXPECT_EQ(b7["settle_hist"][1].get<std::uint64_t>(), 400u + 412u + 395u - 30u);
  EXPECT_GT(b7["mean_settle_ns"].get<double>(), 2.0);
  EXPECT_LT(b7["mean_settle_ns"].get<double>(), 4.0);
}

TEST(ErrmodelBands, ARowThatErrsTwiceAsOftenStartsABand) {
  const auto c = vosa::bands::choose(vosa::ErrorModel::from_json(two_groups(800)), "m.json");
  ASSERT_EQ(c.bands.size(), 3u);
  EXPECT_EQ(c.bands[1], std::make_pair(1, 2));
  EXPECT_EQ(c.bands[2], std::make_pair(3, 3));
  EXPECT_EQ(c.splits[1].row, 3);
  EXPECT_EQ(c.splits[1].statistic, "P(any error)");
}

TEST(ErrmodelBands, RefusesWhatItCannotPool) {
  json j = two_groups();
  j["points"][0]["razor"] = json::object();
  try {
    vosa::bands::pool(j, {{0, 0}, {1, 3}}, "m.json");
    FAIL() << "a Razor point was pooled";
  } catch (const vosa::ErrorModelError& e) {
    EXPECT_NE(std::string(e.what()).find("points[].razor"), std::string::npos) << e.what();
  }
  json whole = two_groups();
  whole["points"][2].erase("pe_rows");
  whole["points"] = json::array({whole["points"][2]});
  EXPECT_THROW(vosa::bands::choose(vosa::ErrorModel::from_json(whole), "m.json"), vosa::ErrorModelError);
  json gap = two_groups();
  gap["points"].erase(gap["points"].begin() + 2);  // 1.6 V without row 2
  EXPECT_THROW(vosa::bands::choose(vosa::ErrorModel::from_json(gap), "m.json"), vosa::ErrorModelError);
}

}  // namespace
