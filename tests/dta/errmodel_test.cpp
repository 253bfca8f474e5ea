// The header-only reader loads what `vosa dta` writes and samples errors with
// the recorded frequencies.
#include "vosa/error_model.hpp"

#include <gtest/gtest.h>

#include <random>

TEST(ErrorModel, LoadsQueriesAndSamples) {
  nlohmann::json bits = nlohmann::json::array();
  for (int j = 0; j < 4; ++j)
    bits.push_back({{"bit", j}, {"errors", j == 3 ? 300 : 0}, {"p_error", j == 3 ? 0.3 : 0.0},
                    {"ci95", {0.0, 1.0}}, {"mean_settle_ns", 1.0}, {"settle_hist", {1}}});
  nlohmann::json point;
  point["voltage"] = 1.8;
  point["period_ns"] = 3.0;
  point["delay_source"] = "derated";
  point["samples"] = 1000;
  point["cycles_with_error"] = 300;
  point["bits"] = bits;
  point["error_values"] = nlohmann::json::array({{{"value", -8}, {"count", 300}}});
  point["error_patterns"] = nlohmann::json::array({{{"mask", 8}, {"count", 300}}});
  nlohmann::json j;
  j["schema_version"] = 1;
  j["pdk"] = "osu018";
  j["design"] = {{"acc_bits", 4}, {"signed", true}};
  j["netlist_hash"] = "ab";
  j["operand_source"] = "uniform-random seed=1";
  j["points"] = nlohmann::json::array({point});
  const vosa::ErrorModel m = vosa::ErrorModel::from_json(j);
  const auto& pt = m.nearest(1.8, 3.0);
  // A far request is refused, naming the closest point (issue 11, point 7);
  // closest() reports the distance for a caller that wants any point.
  try {
    m.nearest(1.7, 3.1);
    ADD_FAILURE() << "nearest() answered 1.7 V, 3.1 ns with the 1.8 V, 3 ns point";
  } catch (const vosa::ErrorModelError& e) {
    EXPECT_NE(std::string(e.what()).find("the closest is 1.8 V, 3 ns"), std::string::npos) << e.what();
  }
  EXPECT_EQ(&m.nearest(1.797, 3.002), &pt);  // within 5 mV and 0.1 %
  EXPECT_THROW(m.nearest(1.8, 3.1), vosa::ErrorModelError);
  const auto c = m.closest(0.5, 100);
  EXPECT_EQ(c.point, &pt);
  EXPECT_NEAR(c.voltage_offset_v, 1.3, 1e-12);
  EXPECT_NEAR(c.period_offset_ns, -97, 1e-12);
  EXPECT_DOUBLE_EQ(pt.p_error(3), 0.3);
  EXPECT_THROW(pt.p_error(9), vosa::ErrorModelError);
  std::mt19937_64 rng(5);
  int masks = 0, values = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto m8 = pt.sample_mask(rng);
    EXPECT_TRUE(m8 == 0 || m8 == 8);
    masks += m8 == 8;
    const auto v = pt.sample_error_value(rng);
    EXPECT_TRUE(v == 0 || v == -8);
    values += v == -8;
  }
  EXPECT_NEAR(masks / 20000.0, 0.3, 0.02);
  EXPECT_NEAR(values / 20000.0, 0.3, 0.02);
  nlohmann::json bad = j;
  bad["schema_version"] = 5;  // 1 to 4 load
  EXPECT_THROW(vosa::ErrorModel::from_json(bad), vosa::ErrorModelError);
  bad = j;
  bad.erase("netlist_hash");
  try {
    vosa::ErrorModel::from_json(bad, "m.json");
    FAIL();
  } catch (const vosa::ErrorModelError& e) {
    EXPECT_NE(std::string(e.what()).find("netlist_hash"), std::string::npos);
  }
}

// PE positions (schema 2): points for bands of array rows at one operating
// point; a PE's row picks its band, nearest() without a row the last band.
TEST(ErrorModel, RowBandsPickThePointOfAPeRow) {
  auto point = [](int first, int last, std::uint64_t errors) {
    nlohmann::json p = {{"voltage", 1.6},   {"period_ns", 10.0}, {"delay_source", "liberty-corner"},
                        {"samples", 1000},  {"cycles_with_error", errors},
                        {"bits", {{{"bit", 0}, {"errors", errors}, {"p_error", errors / 1000.0}, {"ci95", {0.0, 1.0}}}}},
                        {"error_values", nlohmann::json::array()},
                        {"error_patterns", {{{"mask", 1}, {"count", errors}}}}};
    if (first >= 0) p["pe_rows"] = {first, last};
    return p;
  };
  nlohmann::json j = {{"schema_version", 2}, {"pdk", "x"}, {"design", {{"acc_bits", 4}}}, {"netlist_hash", "0"},
                      {"operand_source", "t"}};
  j["points"] = {point(0, 3, 10), point(4, 7, 200)};
  const vosa::ErrorModel m = vosa::ErrorModel::from_json(j, "m.json");
  EXPECT_TRUE(m.has_positions());
  EXPECT_EQ(m.nearest(1.6, 10.0, 2).cycles_with_error, 10u);
  EXPECT_EQ(m.nearest(1.6, 10.0, 7).cycles_with_error, 200u);
  EXPECT_EQ(m.nearest(1.6, 10.0).cycles_with_error, 200u);  // the last band: the widest partial sums
  EXPECT_EQ(m.bands_at(m.points[0]).size(), 2u);
  try {
    m.nearest(1.6, 10.0, 8);
    ADD_FAILURE() << "row 8 has no band";
  } catch (const vosa::ErrorModelError& e) {
    EXPECT_NE(std::string(e.what()).find("PE row 8"), std::string::npos) << e.what();
  }
  nlohmann::json bad = j;
  bad["points"] = {point(0, 4, 10), point(4, 7, 200)};
  try {
    vosa::ErrorModel::from_json(bad, "m.json");
    ADD_FAILURE() << "overlapping bands loaded";
  } catch (const vosa::ErrorModelError& e) {
    EXPECT_NE(std::string(e.what()).find("overlap"), std::string::npos) << e.what();
  }
  bad["points"] = {point(-1, -1, 10), point(4, 7, 200)};  // a whole-array point beside a band
  EXPECT_THROW(vosa::ErrorModel::from_json(bad, "m.json"), vosa::ErrorModelError);
  bad["points"] = {point(3, 1, 10)};
  EXPECT_THROW(vosa::ErrorModel::from_json(bad, "m.json"), vosa::ErrorModelError);
  bad = j;  // schema 1 files (no bands) still load
  bad["schema_version"] = 1;
  bad["points"] = {point(-1, -1, 10)};
  EXPECT_FALSE(vosa::ErrorModel::from_json(bad).has_positions());
}
