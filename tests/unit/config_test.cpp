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
