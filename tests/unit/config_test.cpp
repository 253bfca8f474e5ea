#include "vosa/config.hpp"

#include <gtest/gtest.h>

using nlohmann::json;

namespace {

vosa::ArrayConfig parse(const json& j) { return vosa::parse_config(j, "test.json"); }

std::string error_of(const json& j) {
  try {
    parse(j);
  } catch (const vosa::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(MinAccBits, SignedInt8) {
  // One product: -128 * -128 = 16384 needs 16 bits signed.
  EXPECT_EQ(vosa::min_acc_bits(1, 8, 8, true), 16);
  // Four products: 65536 needs 18 bits signed (17 magnitude bits + sign).
  EXPECT_EQ(vosa::min_acc_bits(4, 8, 8, true), 18);
  EXPECT_EQ(vosa::min_acc_bits(3, 8, 8, true), 17);
  EXPECT_EQ(vosa::min_acc_bits(256, 8, 8, true), 24);
}

TEST(MinAccBits, Unsigned) {
  // 255 * 255 = 65025 < 2^16.
  EXPECT_EQ(vosa::min_acc_bits(1, 8, 8, false), 16);
  // 2 * 65025 = 130050 < 2^17.
  EXPECT_EQ(vosa::min_acc_bits(2, 8, 8, false), 17);
  EXPECT_EQ(vosa::min_acc_bits(1, 2, 2, false), 4);  // 3 * 3 = 9
}

TEST(MinAccBits, BruteForceSmallWidths) {
  // Exhaustive check against the actual extremes for small widths.
  for (bool is_signed : {true, false}) {
    for (int a = 2; a <= 5; ++a) {
      for (int w = 2; w <= 5; ++w) {
        for (int terms = 1; terms <= 9; ++terms) {
          long long lo_a = is_signed ? -(1LL << (a - 1)) : 0, hi_a = is_signed ? (1LL << (a - 1)) - 1 : (1LL << a) - 1;
          long long lo_w = is_signed ? -(1LL << (w - 1)) : 0, hi_w = is_signed ? (1LL << (w - 1)) - 1 : (1LL << w) - 1;
          long long pmax = std::max({lo_a * lo_w, lo_a * hi_w, hi_a * lo_w, hi_a * hi_w});
          long long pmin = std::min({lo_a * lo_w, lo_a * hi_w, hi_a * lo_w, hi_a * hi_w});
          long long smax = pmax * terms, smin = pmin * terms;
          int bits = 1;
          auto fits = [&](int b) {
            if (is_signed) return smin >= -(1LL << (b - 1)) && smax <= (1LL << (b - 1)) - 1;
            return smin >= 0 && smax <= (1LL << b) - 1;
          };
          while (!fits(bits)) ++bits;
          EXPECT_EQ(vosa::min_acc_bits(terms, a, w, is_signed), bits)
              << "signed=" << is_signed << " a=" << a << " w=" << w << " terms=" << terms;
        }
      }
    }
  }
}

TEST(Config, DefaultsFilledIn) {
  const auto c = parse({{"rows", 4}, {"cols", 3}});
  EXPECT_EQ(c.rows, 4);
  EXPECT_EQ(c.cols, 3);
  EXPECT_EQ(c.act_bits, 8);
  EXPECT_EQ(c.weight_bits, 8);
  EXPECT_EQ(c.acc_bits, 18);
  EXPECT_TRUE(c.is_signed);
  EXPECT_EQ(c.dataflow, vosa::Dataflow::WeightStationary);
}

TEST(Config, ExplicitValues) {
  const auto c = parse({{"rows", 5}, {"cols", 7}, {"act_bits", 6}, {"weight_bits", 5},
                        {"acc_bits", 32}, {"signed", false}, {"dataflow", "output_stationary"}});
  EXPECT_EQ(c.act_bits, 6);
  EXPECT_EQ(c.weight_bits, 5);
  EXPECT_EQ(c.acc_bits, 32);
  EXPECT_FALSE(c.is_signed);
  EXPECT_EQ(c.dataflow, vosa::Dataflow::OutputStationary);
}

TEST(Config, ErrorsNameFieldValueAndRange) {
  const auto e = error_of({{"rows", 0}, {"cols", 4}});
  EXPECT_NE(e.find("test.json"), std::string::npos) << e;
  EXPECT_NE(e.find("'rows'"), std::string::npos) << e;
  EXPECT_NE(e.find("= 0"), std::string::npos) << e;
  EXPECT_NE(e.find("1..256"), std::string::npos) << e;

  EXPECT_NE(error_of({{"rows", 4}, {"cols", 257}}).find("'cols' = 257"), std::string::npos);
  EXPECT_NE(error_of({{"rows", 4}, {"cols", 4}, {"act_bits", 17}}).find("2..16"), std::string::npos);
  EXPECT_NE(error_of({{"rows", 4}, {"cols", 4}, {"weight_bits", 1}}).find("'weight_bits' = 1"),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", "4"}, {"cols", 4}}).find("'rows' = \"4\""), std::string::npos);
  EXPECT_NE(error_of({{"rows", 4.5}, {"cols", 4}}).find("integer"), std::string::npos);
  EXPECT_NE(error_of({{"cols", 4}}).find("'rows' = (missing)"), std::string::npos);
  EXPECT_NE(error_of({{"rows", 4}, {"cols", 4}, {"dataflow", "row_stationary"}})
                .find("\"row_stationary\""),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", 4}, {"cols", 4}, {"signed", 1}}).find("true or false"),
            std::string::npos);
  EXPECT_NE(error_of(json::array()).find("JSON object"), std::string::npos);
}

TEST(Config, AccBitsTooSmallIsAnError) {
  const auto e = error_of({{"rows", 4}, {"cols", 4}, {"acc_bits", 17}});
  EXPECT_NE(e.find("'acc_bits' = 17"), std::string::npos) << e;
  EXPECT_NE(e.find("needs 18 bits"), std::string::npos) << e;
  EXPECT_NO_THROW(parse({{"rows", 4}, {"cols", 4}, {"acc_bits", 18}}));
}

TEST(Config, UnknownFieldIsAnError) {
  const auto e = error_of({{"rows", 4}, {"cols", 4}, {"colums", 4}});
  EXPECT_NE(e.find("unknown field 'colums'"), std::string::npos) << e;
}

TEST(Config, HashChangesWithEveryField) {
  const auto base = parse({{"rows", 4}, {"cols", 4}});
  const auto h = vosa::config_hash(base);
  EXPECT_EQ(h.size(), 16u);
  EXPECT_EQ(h, vosa::config_hash(parse({{"rows", 4}, {"cols", 4}, {"act_bits", 8}})));
  EXPECT_NE(h, vosa::config_hash(parse({{"rows", 4}, {"cols", 5}})));
  EXPECT_NE(h, vosa::config_hash(parse({{"rows", 4}, {"cols", 4}, {"signed", false}})));
  EXPECT_NE(h, vosa::config_hash(parse({{"rows", 4}, {"cols", 4}, {"acc_bits", 20}})));
}

TEST(Config, RazorTopKAndBits) {
  const auto c = parse({{"rows", 8}, {"cols", 8}, {"razor", {{"top_k", 3}}}});
  ASSERT_TRUE(c.razor.enabled);
  EXPECT_EQ(c.razor.bits, (std::vector<int>{18, 17, 16}));  // acc_bits = 19
  EXPECT_EQ(c.razor.policy, vosa::RazorPolicy::Correct);
  EXPECT_DOUBLE_EQ(c.razor.shadow_delay, 0.25);
  // Razor alone: one implicit island with one level, for the error counters.
  ASSERT_EQ(c.islands.groups.size(), 1u);
  EXPECT_EQ(c.islands.groups[0].size(), 8u);
  EXPECT_FALSE(c.islands.enabled);

  const auto d = parse({{"rows", 2}, {"cols", 2},
                        {"razor", {{"bits", {0, 5, 3}}, {"policy", "drop"}, {"shadow_delay", 0.4}}}});
  EXPECT_EQ(d.razor.bits, (std::vector<int>{5, 3, 0}));
  EXPECT_EQ(d.razor.policy, vosa::RazorPolicy::Drop);
}

TEST(Config, RazorErrors) {
  EXPECT_NE(error_of({{"rows", 8}, {"cols", 8}, {"razor", {{"top_k", 20}}}}).find("'razor.top_k' = 20"),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", 8}, {"cols", 8}, {"razor", {{"top_k", 2}, {"bits", {1}}}}})
                .find("exactly one of"),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", 8}, {"cols", 8}, {"razor", {{"bits", {1, 1}}}}}).find("listed twice"),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", 8}, {"cols", 8}, {"razor", {{"bits", {19}}}}}).find("'razor.bits' = 19"),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", 8}, {"cols", 8}, {"razor", {{"top_k", 1}, {"shadow_delay", 0.7}}}})
                .find("'razor.shadow_delay' = 0.7"),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", 8}, {"cols", 8}, {"razor", {{"top_k", 1}, {"policy", "ignore"}}}})
                .find("\"correct\", \"drop\""),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", 8}, {"cols", 8}, {"razor", {{"top_k", 1}, {"polcy", "drop"}}}})
                .find("unknown field 'razor.polcy'"),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", 8}, {"cols", 8}, {"dataflow", "output_stationary"}, {"razor", {{"top_k", 1}}}})
                .find("weight_stationary dataflow only"),
            std::string::npos);
}

TEST(Config, IslandsCountSplitsColumnsEvenly) {
  const auto c = parse({{"rows", 2}, {"cols", 10}, {"islands", {{"count", 4}}}});
  ASSERT_TRUE(c.islands.enabled);
  ASSERT_EQ(c.islands.groups.size(), 4u);
  EXPECT_EQ(c.islands.groups[0], (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(c.islands.groups[1], (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(c.islands.groups[2], (std::vector<int>{6, 7}));
  EXPECT_EQ(c.islands.groups[3], (std::vector<int>{8, 9}));
  EXPECT_EQ(c.islands.levels, 4);
  EXPECT_FALSE(c.islands.closed_loop);
}

TEST(Config, IslandsExplicitColumnsAndErrors) {
  const auto c = parse({{"rows", 2}, {"cols", 3},
                        {"islands", {{"columns", {{2, 0}, {1}}}, {"levels", 3}, {"voltages", {1.2, 1.4, 1.8}},
                                     {"closed_loop", {{"enabled", true}, {"window", 64}}}}}});
  EXPECT_EQ(c.islands.groups[0], (std::vector<int>{2, 0}));
  EXPECT_TRUE(c.islands.closed_loop);
  EXPECT_EQ(c.islands.window, 64);
  EXPECT_NE(error_of({{"rows", 2}, {"cols", 3}, {"islands", {{"columns", {{0, 1}}}}}}).find("column 2 is in no island"),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", 2}, {"cols", 3}, {"islands", {{"columns", {{0, 1}, {1, 2}}}}}})
                .find("column 1 is in two islands"),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", 2}, {"cols", 3}, {"islands", {{"count", 4}}}}).find("'islands.count' = 4"),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", 2}, {"cols", 3}, {"islands", {{"count", 1}, {"levels", 2}, {"voltages", {1.8, 1.2}}}}})
                .find("'islands.voltages'"),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", 2}, {"cols", 3}, {"islands", {{"count", 1}, {"closed_loop", {{"windw", 3}}}}}})
                .find("unknown field 'islands.closed_loop.windw'"),
            std::string::npos);
}

TEST(Config, HashUnchangedForPlainConfigsAndChangedByRazor) {
  const auto plain = parse({{"rows", 4}, {"cols", 4}});
  const auto razor = parse({{"rows", 4}, {"cols", 4}, {"razor", {{"top_k", 2}}}});
  EXPECT_EQ(vosa::to_json(plain).count("razor"), 0u);
  EXPECT_NE(vosa::config_hash(plain), vosa::config_hash(razor));
}

TEST(Config, ArithmeticDefaultKeepsCanonicalJsonAndHash) {
  const auto base = parse({{"rows", 4}, {"cols", 4}});
  EXPECT_TRUE(base.arithmetic.is_default());
  EXPECT_FALSE(vosa::to_json(base).contains("arithmetic"));
  // The defaults spelled out are the same design, with the same hash.
  const auto spelled = parse({{"rows", 4}, {"cols", 4},
                              {"arithmetic", {{"adder", "behavioral"}, {"multiplier", "behavioral"},
                                              {"psum", "carry_propagate"}}}});
  EXPECT_EQ(vosa::config_hash(base), vosa::config_hash(spelled));
}

TEST(Config, ArithmeticOptionsParsedAndHashed) {
  const auto c = parse({{"rows", 4}, {"cols", 4},
                        {"arithmetic", {{"adder", "sklansky"}, {"multiplier", "booth_wallace"},
                                        {"psum", "carry_save"}}}});
  EXPECT_EQ(c.arithmetic.adder, vosa::AdderKind::Sklansky);
  EXPECT_EQ(c.arithmetic.multiplier, vosa::MultiplierKind::BoothWallace);
  EXPECT_EQ(c.arithmetic.psum, vosa::PsumKind::CarrySave);
  EXPECT_EQ(vosa::to_json(c)["arithmetic"],
            json({{"adder", "sklansky"}, {"multiplier", "booth_wallace"}, {"psum", "carry_save"}}));
  const auto base = vosa::config_hash(parse({{"rows", 4}, {"cols", 4}}));
  for (const char* adder : {"ripple", "kogge_stone", "brent_kung", "sklansky", "carry_select"}) {
    const auto a = parse({{"rows", 4}, {"cols", 4}, {"arithmetic", {{"adder", adder}}}});
    EXPECT_EQ(vosa::to_string(a.arithmetic.adder), std::string(adder));
    EXPECT_NE(vosa::config_hash(a), base) << adder;
  }
}

TEST(Config, ArithmeticErrors) {
  EXPECT_NE(error_of({{"rows", 4}, {"cols", 4}, {"arithmetic", {{"adder", "han_carlson"}}}})
                .find("field 'arithmetic.adder' = \"han_carlson\" is invalid: allowed values are"),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", 4}, {"cols", 4}, {"arithmetic", "fast"}}).find("'arithmetic' must be a JSON object"),
            std::string::npos);
  EXPECT_NE(error_of({{"rows", 4}, {"cols", 4}, {"dataflow", "output_stationary"},
                      {"arithmetic", {{"psum", "carry_save"}}}})
                .find("needs dataflow \"weight_stationary\""),
            std::string::npos);
  // Razor shadows both words of a carry-save PE (docs/arith.md).
  EXPECT_EQ(error_of({{"rows", 4}, {"cols", 4}, {"razor", {{"top_k", 1}}}, {"arithmetic", {{"psum", "carry_save"}}}}),
            "");
  // Output-stationary takes the adder and multiplier variants.
  EXPECT_EQ(error_of({{"rows", 4}, {"cols", 4}, {"dataflow", "output_stationary"},
                      {"arithmetic", {{"adder", "kogge_stone"}, {"multiplier", "booth_wallace"}}}}),
            "");
}
