// Operand classes and per-class sampling of the error-model reader, its
// backward compatibility, and the comparison math of `vosa errmodel-validate`.
#include "vosa/errmodel_fidelity.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

namespace {

using nlohmann::json;

json bit_entries(int acc_bits, const std::map<int, std::uint64_t>& errors, std::uint64_t samples) {
  json bits = json::array();
  for (int j = 0; j < acc_bits; ++j) {
    const auto it = errors.find(j);
    const std::uint64_t e = it == errors.end() ? 0 : it->second;
    const auto [lo, hi] = vosa::wilson95(e, samples);
    bits.push_back({{"bit", j}, {"errors", e}, {"p_error", samples ? double(e) / samples : 0.0}, {"ci95", {lo, hi}}});
  }
  return bits;
}

// A one-point, 8-bit model: 1 % of the cycles fail, always in bit 7.
json flat_model(double p_any = 0.01) {
  const std::uint64_t n = 10000, k = static_cast<std::uint64_t>(p_any * n);
  json point = {{"voltage", 1.6}, {"period_ns", 10.0}, {"delay_source", "liberty-corner"}, {"samples", n},
                {"cycles_with_error", k}, {"bits", bit_entries(8, {{7, k}}, n)},
                {"error_values", json::array({{{"value", -128}, {"count", k}}})},
                {"error_patterns", json::array({{{"mask", 128}, {"count", k}}})}};
  return {{"schema_version", 1},        {"pdk", "test"}, {"design", {{"acc_bits", 8}, {"signed", true}}},
          {"netlist_hash", "00"},       {"operand_source", "synthetic"},
          {"points", json::array({point})}};
}

// The same with classes: class 0 never fails, class 1 fails in 10 % of its
// cycles (pattern 4 in 60 of 100 erroneous cycles, unrecorded bit 5 in the
// other 40), class 2 was never seen, classes 3 and 4 fail at 2 %.
json class_model() {
  json m = flat_model();
  json by_class = json::array();
  by_class.push_back({{"class", 0}, {"samples", 4000}, {"cycles_with_error", 0}, {"bits", bit_entries(8, {}, 4000)},
                      {"error_patterns", json::array()}});
  by_class.push_back({{"class", 1}, {"samples", 1000}, {"cycles_with_error", 100},
                      {"bits", bit_entries(8, {{2, 60}, {5, 40}}, 1000)},
                      {"error_patterns", json::array({{{"mask", 4}, {"count", 60}}})}});
  by_class.push_back({{"class", 2}, {"samples", 0}, {"cycles_with_error", 0}, {"bits", bit_entries(8, {}, 0)},
                      {"error_patterns", json::array()}});
  for (int k : {3, 4})
    by_class.push_back({{"class", k}, {"samples", 1000}, {"cycles_with_error", 20},
                        {"bits", bit_entries(8, {{7, 20}}, 1000)},
                        {"error_patterns", json::array({{{"mask", 128}, {"count", 20}}})}});
  m["points"][0]["classes"] = {{"scheme", vosa::kOperandClassScheme}, {"by_class", by_class}};
  return m;
}

}  // namespace

TEST(OperandClass, ProductChangeBoundaries) {
  EXPECT_EQ(vosa::operand_class(5, 5, 100), 0);        // activation repeats
  EXPECT_EQ(vosa::operand_class(-3, 9, 0), 0);         // weight 0: product stays 0
  EXPECT_EQ(vosa::operand_class(0, 1, 1), 1);          // d = 1
  EXPECT_EQ(vosa::operand_class(0, 1, -127), 1);       // d = 127
  EXPECT_EQ(vosa::operand_class(0, -1, 128), 2);       // d = 128
  EXPECT_EQ(vosa::operand_class(-128, -124, 127), 2);  // d = 508
  EXPECT_EQ(vosa::operand_class(-128, -124, 128), 3);  // d = 512
  EXPECT_EQ(vosa::operand_class(10, -6, 127), 3);      // d = 2032
  EXPECT_EQ(vosa::operand_class(10, -6, 128), 4);      // d = 2048
  EXPECT_EQ(vosa::operand_class(-128, 127, -128), 4);  // the largest step
  EXPECT_STREQ(vosa::operand_class_name(0), "dprod_0");
  EXPECT_STREQ(vosa::operand_class_name(4), "dprod_2048p");
}

TEST(ErrorModelClasses, PerClassRatesAndMasks) {
  const vosa::ErrorModel m = vosa::ErrorModel::from_json(class_model());
  const auto& pt = m.points.at(0);
  ASSERT_TRUE(pt.has_classes());
  EXPECT_EQ(m.class_scheme, vosa::kOperandClassScheme);
  EXPECT_EQ(pt.class_of(0, 1, 1), 1);
  EXPECT_DOUBLE_EQ(pt.p_any_error(0), 0.0);
  EXPECT_DOUBLE_EQ(pt.p_any_error(1), 0.1);
  EXPECT_DOUBLE_EQ(pt.p_any_error(2), pt.p_any_error());  // never seen: whole-point rate
  EXPECT_DOUBLE_EQ(pt.p_any_error(3), 0.02);
  EXPECT_DOUBLE_EQ(pt.p_any_error_max(), 0.1);
  std::mt19937_64 rng(3);
  int pattern = 0, rest = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t mask = pt.sample_mask_given_error(1, rng);
    ASSERT_TRUE(mask == 4 || mask == 32) << mask;  // the pattern, or the unrecorded bit 5 alone
    pattern += mask == 4;
    rest += mask == 32;
  }
  EXPECT_NEAR(pattern / double(n), 0.6, 0.015);
  EXPECT_NEAR(rest / double(n), 0.4, 0.015);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(pt.sample_mask_given_error(3, rng), 128u);
    EXPECT_EQ(pt.sample_mask_given_error(0, rng), 128u);  // class without errors: the point's masks
  }
  json bad = class_model();
  bad["points"][0]["classes"]["scheme"] = "act-transition-v0";
  try {
    vosa::ErrorModel::from_json(bad, "m.json");
    FAIL() << "unknown scheme accepted";
  } catch (const vosa::ErrorModelError& e) {
    EXPECT_NE(std::string(e.what()).find("act-transition-v0"), std::string::npos);
  }
  bad = class_model();
  bad["points"][0]["classes"]["by_class"][1].erase("samples");
  EXPECT_THROW(vosa::ErrorModel::from_json(bad, "m.json"), vosa::ErrorModelError);
}

TEST(ErrorModelClasses, FileWithoutClassesBehavesAsBefore) {
  json j = flat_model(0.05);
  for (auto& b : j["points"][0]["bits"]) b.erase("errors");  // older files: errors from p_error
  const vosa::ErrorModel m = vosa::ErrorModel::from_json(j);
  const auto& pt = m.points.at(0);
  EXPECT_FALSE(pt.has_classes());
  EXPECT_TRUE(m.class_scheme.empty());
  EXPECT_EQ(pt.bits.at(7).errors, 500u);
  for (int cls = 0; cls < vosa::kOperandClasses; ++cls) EXPECT_DOUBLE_EQ(pt.p_any_error(cls), 0.05);
  EXPECT_DOUBLE_EQ(pt.p_any_error_max(), 0.05);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(pt.sample_mask_given_error(2, rng), 128u);
  int hits = 0;
  for (int i = 0; i < 20000; ++i) hits += pt.sample_mask(rng) != 0;
  EXPECT_NEAR(hits / 20000.0, 0.05, 0.006);
}

namespace {

// 1000 cycles of an 8-bit signed PE that always computes 0 + 1 * 1 = 1.
vosa::OperandTrace ones_trace() {
  vosa::OperandTrace t;
  t.header.act_bits = 8;
  t.header.weight_bits = 8;
  t.header.acc_bits = 8;
  t.header.is_signed = true;
  t.records.assign(1000, vosa::OperandRecord{1, 1, 0});
  return t;
}

}  // namespace

TEST(Fidelity, SimulatorStatisticsFromTheLog) {
  const auto trace = ones_trace();
  std::vector<vosa::fidelity::LoggedError> log;
  for (std::uint64_t c = 0; c < 10; ++c) log.push_back({c * 100, 1, 1 ^ 0x80});  // -127 instead of 1
  log.push_back({555, 1, 1 ^ 0x06});                                             // 7 instead of 1
  const auto s = vosa::fidelity::dta_stats(trace, log, "log.csv");
  EXPECT_EQ(s.cycles, 1000u);
  EXPECT_EQ(s.cycles_with_error, 11u);
  EXPECT_DOUBLE_EQ(s.p_any(), 0.011);
  EXPECT_EQ(s.bit_errors[7], 10u);
  EXPECT_EQ(s.bit_errors[1], 1u);
  EXPECT_EQ(s.bit_errors[2], 1u);
  EXPECT_EQ(s.bit_errors[0], 0u);
  EXPECT_DOUBLE_EQ(s.mean_abs_error(), (10 * 128 + 6) / 1000.0);
  EXPECT_EQ(s.max_abs_error, 128u);
  // Cycle 0 follows reset (previous activation 0): class 1; the rest repeat: class 0.
  EXPECT_EQ(s.class_cycles[1], 1u);
  EXPECT_EQ(s.class_cycles[0], 999u);
  EXPECT_EQ(s.class_errors[1], 1u);

  EXPECT_THROW(vosa::fidelity::dta_stats(trace, {{1000, 1, 0}}, "log.csv"), std::runtime_error);
  EXPECT_THROW(vosa::fidelity::dta_stats(trace, {{3, 1, 0}, {3, 1, 0}}, "log.csv"), std::runtime_error);
  try {
    vosa::fidelity::dta_stats(trace, {{3, 2, 0}}, "log.csv");  // settled value of another stream
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("log.csv"), std::string::npos);
  }
}

TEST(Fidelity, InjectionMatchesTheModelAndTheVerdictFollowsTheTolerance) {
  const auto trace = ones_trace();
  std::vector<vosa::fidelity::LoggedError> log;
  for (std::uint64_t c = 0; c < 10; ++c) log.push_back({c * 100 + 7, 1, 1 ^ 0x80});
  const auto dta = vosa::fidelity::dta_stats(trace, log, "log.csv");
  auto run = [&](double p_any) {
    const vosa::ErrorModel m = vosa::ErrorModel::from_json(flat_model(p_any));
    std::vector<vosa::fidelity::StreamStats> inj;
    for (std::uint64_t seed = 1; seed <= 200; ++seed)
      inj.push_back(vosa::fidelity::inject_stats(trace, m.points[0], false, seed));
    return std::make_pair(inj, vosa::fidelity::compare(dta, inj, vosa::fidelity::Tolerance{}));
  };
  const auto [inj, same] = run(0.01);
  for (const auto& s : inj) {  // the only mask is bit 7: |error| is always 128
    EXPECT_EQ(s.bit_errors[7], s.cycles_with_error);
    EXPECT_DOUBLE_EQ(s.sum_abs_error, 128.0 * s.cycles_with_error);
  }
  EXPECT_NEAR(same["p_any_error"]["model"]["mean"].get<double>(), 0.01, 0.0015);
  EXPECT_NEAR(same["mean_abs_error"]["model"]["mean"].get<double>(), 1.28, 0.2);
  EXPECT_DOUBLE_EQ(same["p_any_error"]["dta"]["value"].get<double>(), 0.01);
  EXPECT_DOUBLE_EQ(same["mean_abs_error"]["dta"]["value"].get<double>(), 1.28);
  EXPECT_TRUE(same["pass"].get<bool>()) << same.dump(1);
  // Three times the rate: outside the tolerance and the simulator's interval.
  const auto [inj3, triple] = run(0.03);
  EXPECT_FALSE(triple["pass"].get<bool>());
  bool p_any_failed = false;
  for (const auto& c : triple["checks"])
    if (c["check"] == "P(any error)") p_any_failed = !c["pass"].get<bool>();
  EXPECT_TRUE(p_any_failed);
  EXPECT_NE(vosa::fidelity::comparison_markdown(triple).find("Within tolerance: **no**"), std::string::npos);
}

TEST(Fidelity, ErrorLogParsing) {
  const auto dir = std::filesystem::temp_directory_path() / "vosa_fidelity_log_test";
  std::filesystem::create_directories(dir);
  const std::string good = (dir / "good.csv").string(), bad = (dir / "bad.csv").string();
  std::ofstream(good) << "period_ns,cycle,settled,captured\n5,1,2,3\n10.89,4,5,6\n10.89,7,8,9\n";
  std::ofstream(bad) << "period_ns,cycle,settled,captured\n10.89,4,5,6\n10.89,x,8,9\n";
  const auto rows = vosa::fidelity::read_error_log(good, 10.89);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].cycle, 7u);
  EXPECT_EQ(rows[1].captured, 9u);
  EXPECT_EQ(vosa::fidelity::read_error_log(good, 5).size(), 1u);
  EXPECT_THROW(vosa::fidelity::read_error_log(good, 7.0), std::runtime_error);  // no such period
  try {
    vosa::fidelity::read_error_log(bad, 10.89);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(vosa::fidelity::read_error_log((dir / "missing.csv").string(), 10.89), std::runtime_error);
  std::filesystem::remove_all(dir);
}

namespace {

// An 8-bit PE whose correct value alternates 8 (0b1000) and 6 (0b0110). The
// gate level (the log below) errs in every cycle: at 8 a late carry leaves
// 0b0100 (mask 0b1100, error -4), at 6 it leaves 0b0101 (mask 0b0011, error
// -1). XORed into the other value each mask has the opposite sign
// (8 ^ 0b0011 = 11: +3; 6 ^ 0b1100 = 10: +4).
vosa::OperandTrace eight_six_trace() {
  vosa::OperandTrace t = ones_trace();
  for (std::size_t n = 0; n < t.records.size(); ++n) t.records[n] = vosa::OperandRecord{1, n % 2 ? 6 : 8, 0};
  return t;
}

// The model of that stream. schema 3: each pattern with the correct bits it
// was measured on; schema 2: the same patterns without them (XOR as before).
json eight_six_model(int schema) {
  const std::uint64_t n = 1000, half = 500;
  json a = {{"mask", 12}, {"count", half}}, b = {{"mask", 3}, {"count", half}};
  if (schema >= 3) {
    a["correct_bits"] = json::array({{{"value", 8}, {"count", half}}});
    b["correct_bits"] = json::array({{{"value", 2}, {"count", half}}});
  }
  json point = {{"voltage", 1.6}, {"period_ns", 10.0}, {"delay_source", "liberty-corner"}, {"samples", n},
                {"cycles_with_error", n}, {"bits", bit_entries(8, {{0, half}, {1, half}, {2, half}, {3, half}}, n)},
                {"error_values", json::array({{{"value", -4}, {"count", half}}, {{"value", -1}, {"count", half}}})},
                {"error_patterns", json::array({a, b})}};
  return {{"schema_version", schema}, {"pdk", "test"}, {"design", {{"acc_bits", 8}, {"signed", true}}},
          {"netlist_hash", "00"}, {"operand_source", "synthetic"}, {"points", json::array({point})}};
}

}  // namespace

// The injection's form (docs/errmodel.md "Drawn to fit the correct value"):
// with the correct bits of schema 3 a drawn pattern gives the signed error it
// was measured with, also in a value whose bits at its positions differ; the
// XOR of the mask alone (schema 2 files, still read) gets the sign wrong.
TEST(Fidelity, CorrectBitsKeepTheSignedErrorWhereXorLosesIt) {
  const auto trace = eight_six_trace();
  std::vector<vosa::fidelity::LoggedError> log;
  for (std::uint64_t c = 0; c < trace.records.size(); ++c)
    log.push_back(c % 2 ? vosa::fidelity::LoggedError{c, 6, 5} : vosa::fidelity::LoggedError{c, 8, 4});
  const auto dta = vosa::fidelity::dta_stats(trace, log, "log.csv");
  ASSERT_EQ(dta.cycles_with_error, 1000u);
  EXPECT_DOUBLE_EQ(dta.mean_abs_error(), 2.5);

  const vosa::ErrorModel matched = vosa::ErrorModel::from_json(eight_six_model(3));
  const vosa::ErrorModel xored = vosa::ErrorModel::from_json(eight_six_model(2));
  EXPECT_EQ(matched.schema_version, 3);
  ASSERT_EQ(matched.points[0].patterns[0].correct_bits.size(), 1u);
  EXPECT_TRUE(matched.points[0].mask_sampler().keeps_correct_bits());
  EXPECT_FALSE(xored.points[0].mask_sampler().keeps_correct_bits());

  // The sampler: each pattern drawn with its count (as without a value), and
  // the captured value carries that pattern's measured signed error.
  const vosa::ErrorMaskSampler masks = matched.points[0].mask_sampler();
  const vosa::ErrorMaskSampler plain = xored.points[0].mask_sampler();
  const auto signed8 = [](std::uint64_t v) { return static_cast<int>(static_cast<std::int8_t>(v & 0xff)); };
  std::mt19937_64 rng(7);
  std::map<int, int> errors_at_8, errors_at_6, xor_at_6;
  for (int i = 0; i < 4000; ++i) {
    for (std::uint64_t c : {std::uint64_t{8}, std::uint64_t{6}}) {
      const std::uint64_t m = masks.draw(vosa::uniform01_of(rng), c, 0xff);
      ASSERT_NE(m, 0u);
      (c == 8 ? errors_at_8 : errors_at_6)[signed8(c ^ m) - static_cast<int>(c)]++;
    }
    const std::uint64_t x = plain.draw(vosa::uniform01_of(rng), 6, 0xff);  // schema 2: the mask as drawn
    ASSERT_TRUE(x == 12u || x == 3u) << x;
    xor_at_6[signed8(6 ^ x) - 6]++;
  }
  // At 8 pattern 12 fits (XOR: -4), pattern 3 does not (its error -1 added); at 6 the other way round.
  EXPECT_EQ(errors_at_8.size(), 2u);
  EXPECT_EQ(errors_at_6.size(), 2u);
  for (const auto* e : {&errors_at_8, &errors_at_6}) {
    EXPECT_NEAR(e->count(-4) ? e->at(-4) / 4000.0 : 0.0, 0.5, 0.04);
    EXPECT_NEAR(e->count(-1) ? e->at(-1) / 4000.0 : 0.0, 0.5, 0.04);
  }
  // XOR of the same masks into 6: +4 instead of -4 half the time.
  EXPECT_NEAR(xor_at_6.count(4) ? xor_at_6.at(4) / 4000.0 : 0.0, 0.5, 0.04);
  EXPECT_EQ(xor_at_6.count(-4), 0u);

  // errmodel-validate's injection: the gate level's mean |error| (2.5) with
  // the correct bits; 3 with XOR (|+3| and |+4| where -1 and -4 belong).
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const auto s = vosa::fidelity::inject_stats(trace, matched.points[0], false, seed);
    EXPECT_EQ(s.cycles_with_error, 1000u);
    EXPECT_NEAR(s.mean_abs_error(), 2.5, 0.15);
    EXPECT_EQ(s.max_abs_error, 4u);
    const auto x = vosa::fidelity::inject_stats(trace, xored.points[0], false, seed);
    EXPECT_EQ(x.cycles_with_error, 1000u);
    EXPECT_NEAR(x.mean_abs_error(), 3.0, 0.15);
  }

  // A schema-3 file is checked: correct bits outside the mask, or counts that
  // do not add up to the pattern's, are refused naming the field.
  json bad = eight_six_model(3);
  bad["points"][0]["error_patterns"][0]["correct_bits"][0]["value"] = 9;
  try {
    vosa::ErrorModel::from_json(bad, "m.json");
    FAIL() << "correct bits outside the mask accepted";
  } catch (const vosa::ErrorModelError& e) {
    EXPECT_NE(std::string(e.what()).find("correct_bits"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("m.json"), std::string::npos) << e.what();
  }
  bad = eight_six_model(3);
  bad["points"][0]["error_patterns"][1]["correct_bits"][0]["count"] = 499;
  EXPECT_THROW(vosa::ErrorModel::from_json(bad, "m.json"), vosa::ErrorModelError);
}

namespace {

// Schema 4: an 8-bit model whose error mask depends on the correct value's
// sign, as the gate level's high bits do (docs/errmodel.md "Value classes"):
// 500 erroneous cycles with a negative correct value, all mask 0xf0 (the
// sign-extension bits), 500 with a small positive one, all mask 0x03. The
// marginal table is 50/50; value_classes (low_bit 2) split it by sign.
json signed_pattern_model(bool with_value_classes) {
  const std::uint64_t n = 1000, half = 500;
  auto pattern = [](std::uint64_t mask, std::uint64_t correct, std::uint64_t count) {
    return json{{"mask", mask}, {"count", count}, {"correct_bits", json::array({{{"value", correct}, {"count", count}}})}};
  };
  json point = {{"voltage", 1.6}, {"period_ns", 10.0}, {"delay_source", "liberty-corner"}, {"samples", 4 * n},
                {"cycles_with_error", n},
                {"bits", bit_entries(8, {{0, half}, {1, half}, {4, half}, {5, half}, {6, half}, {7, half}}, 4 * n)},
                {"error_values", json::array({{{"value", -128}, {"count", n}}})},
                {"error_patterns", json::array({pattern(0xf0, 0xf0, half), pattern(0x03, 0, half)})}};
  if (with_value_classes) {
    json by = json::array();
    by.push_back({{"class", 0}, {"cycles_with_error", half}, {"bits", bit_entries(8, {{0, half}, {1, half}}, half)},
                  {"error_patterns", json::array({pattern(0x03, 0, half)})}});
    by.push_back({{"class", 1}, {"cycles_with_error", 0}, {"bits", bit_entries(8, {}, 0)},
                  {"error_patterns", json::array()}});
    by.push_back({{"class", 2}, {"cycles_with_error", half},
                  {"bits", bit_entries(8, {{4, half}, {5, half}, {6, half}, {7, half}}, half)},
                  {"error_patterns", json::array({pattern(0xf0, 0xf0, half)})}});
    by.push_back({{"class", 3}, {"cycles_with_error", 0}, {"bits", bit_entries(8, {}, 0)},
                  {"error_patterns", json::array()}});
    point["value_classes"] = {{"scheme", vosa::kValueClassScheme}, {"low_bit", 2}, {"by_class", by}};
  }
  return {{"schema_version", with_value_classes ? 4 : 3}, {"pdk", "test"},
          {"design", {{"acc_bits", 8}, {"signed", true}}}, {"netlist_hash", "00"},
          {"operand_source", "synthetic"}, {"points", json::array({point})}};
}

}  // namespace

TEST(ValueClass, SignAndMagnitudeBoundaries) {
  // 8 bits, low_bit 2: small is -4 <= v < 4.
  EXPECT_EQ(vosa::value_class(0, 8, 2), 0);
  EXPECT_EQ(vosa::value_class(3, 8, 2), 0);
  EXPECT_EQ(vosa::value_class(4, 8, 2), 1);
  EXPECT_EQ(vosa::value_class(0x7f, 8, 2), 1);
  EXPECT_EQ(vosa::value_class(0xff, 8, 2), 2);  // -1
  EXPECT_EQ(vosa::value_class(0xfc, 8, 2), 2);  // -4
  EXPECT_EQ(vosa::value_class(0xfb, 8, 2), 3);  // -5
  EXPECT_EQ(vosa::value_class(0x80, 8, 2), 3);  // -128
  // 19 bits, the default low_bit 13.
  EXPECT_EQ(vosa::value_class((1u << 13) - 1, 19, 19 - vosa::kValueClassTopBits), 0);
  EXPECT_EQ(vosa::value_class(1u << 13, 19, 13), 1);
  EXPECT_EQ(vosa::value_class((1u << 19) - (1u << 13), 19, 13), 2);  // -2^13
  EXPECT_EQ(vosa::value_class((1u << 19) - (1u << 13) - 1, 19, 13), 3);
}

// The conditioning is what makes the draw follow the sign: with the value
// classes a negative correct value only ever gets the high mask, a positive
// one the low mask; the same file without them (schema 3) draws either for
// both. draw(u01) without a value keeps the marginal 50/50.
TEST(ValueClass, DrawFollowsTheCorrectValuesSign) {
  const vosa::ErrorModel cond = vosa::ErrorModel::from_json(signed_pattern_model(true));
  const vosa::ErrorModel plain = vosa::ErrorModel::from_json(signed_pattern_model(false));
  EXPECT_EQ(cond.schema_version, 4);
  const vosa::ErrorMaskSampler c = cond.points[0].mask_sampler();
  const vosa::ErrorMaskSampler p = plain.points[0].mask_sampler();
  EXPECT_TRUE(c.value_conditioned());
  EXPECT_FALSE(p.value_conditioned());
  EXPECT_TRUE(c.keeps_correct_bits());
  std::mt19937_64 rng(11);
  std::map<std::uint64_t, int> at_neg, at_pos, plain_neg, marginal, at_large;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    at_neg[c.draw(vosa::uniform01_of(rng), 0xfe, 0xff)]++;     // -2: neg_small
    at_pos[c.draw(vosa::uniform01_of(rng), 0x00, 0xff)]++;     // 0: pos_small
    plain_neg[p.draw(vosa::uniform01_of(rng), 0xfe, 0xff)]++;
    marginal[c.draw(vosa::uniform01_of(rng))]++;
    at_large[c.draw(vosa::uniform01_of(rng), 0x40, 0xff)]++;   // pos_large: never seen, the marginal table
  }
  // 0xfe has 0xf0 at the high mask's positions: the recorded correct bits, so the XOR is exact.
  EXPECT_EQ(at_neg, (std::map<std::uint64_t, int>{{0xf0, n}}));
  EXPECT_EQ(at_pos, (std::map<std::uint64_t, int>{{0x03, n}}));
  EXPECT_NEAR(plain_neg[0xf0] / double(n), 0.5, 0.04);  // dropping the conditioning: half wrong
  EXPECT_NEAR(marginal[0xf0] / double(n), 0.5, 0.04);
  EXPECT_NEAR(marginal[0x03] / double(n), 0.5, 0.04);
  EXPECT_EQ(at_large.size(), 2u);
  // errmodel-validate's injection on a stream of alternating -2 and 0: the
  // high bits fail only in the negative cycles with the value classes.
  vosa::OperandTrace t = ones_trace();
  for (std::size_t i = 0; i < t.records.size(); ++i)
    t.records[i] = vosa::OperandRecord{1, i % 2 ? -2 : 0, 0};
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const auto s = vosa::fidelity::inject_stats(t, cond.points[0], false, seed);
    const auto x = vosa::fidelity::inject_stats(t, plain.points[0], false, seed);
    ASSERT_GT(s.cycles_with_error, 100u);
    // With the value classes the masks are the gate level's: 0xf0 on -2, 0x03 on 0; bits 2
    // and 3 never fail and bits 4-7 fail together. Without them the schema-3 form adds the
    // measured error where the bits do not fit (-2 + 3 = 1: all 8 bits flip; 0 - 0xf0 = 16).
    EXPECT_EQ(s.bit_errors[2], 0u);
    EXPECT_EQ(s.bit_errors[3], 0u);
    EXPECT_EQ(s.bit_errors[4], s.bit_errors[7]);
    EXPECT_EQ(s.bit_errors[0], s.bit_errors[1]);
    EXPECT_EQ(s.bit_errors[0] + s.bit_errors[7], s.cycles_with_error);
    EXPECT_GT(x.bit_errors[2], 20u);
    EXPECT_GT(x.bit_errors[3], 10u);
  }
}

// The value-classes form without correct bits (vosa dta --mask-form
// value-classes): the class's mask XORed, and still a draw that needs the
// correct value (the injectors pass it when keeps_correct_bits()).
TEST(ValueClass, WithoutCorrectBitsTheClassMaskIsXored) {
  json m = signed_pattern_model(true);
  auto strip = [](json& pats) {
    for (auto& q : pats) q.erase("correct_bits");
  };
  strip(m["points"][0]["error_patterns"]);
  for (auto& c : m["points"][0]["value_classes"]["by_class"]) strip(c["error_patterns"]);
  const vosa::ErrorMaskSampler s = vosa::ErrorModel::from_json(m).points[0].mask_sampler();
  EXPECT_TRUE(s.value_conditioned());
  EXPECT_TRUE(s.keeps_correct_bits());
  std::mt19937_64 rng(5);
  std::map<std::uint64_t, int> neg, pos;
  for (int i = 0; i < 2000; ++i) {
    neg[s.draw(vosa::uniform01_of(rng), 0xfd, 0xff)]++;  // -3, neg_small: its bits differ from 0xf0's, XORed anyway
    pos[s.draw(vosa::uniform01_of(rng), 0x01, 0xff)]++;  // 1, pos_small: 0x03 XORed (no signed error added)
  }
  EXPECT_EQ(neg, (std::map<std::uint64_t, int>{{0xf0, 2000}}));
  EXPECT_EQ(pos, (std::map<std::uint64_t, int>{{0x03, 2000}}));
}

TEST(ValueClass, ReaderRefusesInconsistentValueClasses) {
  json bad_sum = signed_pattern_model(true);
  bad_sum["points"][0]["value_classes"]["by_class"][0]["cycles_with_error"] = 499;
  EXPECT_THROW(vosa::ErrorModel::from_json(bad_sum), vosa::ErrorModelError);
  json bad_scheme = signed_pattern_model(true);
  bad_scheme["points"][0]["value_classes"]["scheme"] = "sign-v0";
  EXPECT_THROW(vosa::ErrorModel::from_json(bad_scheme), vosa::ErrorModelError);
  json bad_bit = signed_pattern_model(true);
  bad_bit["points"][0]["value_classes"]["low_bit"] = 7;  // the sign bit of 8
  EXPECT_THROW(vosa::ErrorModel::from_json(bad_bit), vosa::ErrorModelError);
  try {
    vosa::ErrorModel::from_json(bad_sum, "m.json");
    FAIL();
  } catch (const vosa::ErrorModelError& e) {
    EXPECT_NE(std::string(e.what()).find("value_classes"), std::string::npos) << e.what();
  }
}
