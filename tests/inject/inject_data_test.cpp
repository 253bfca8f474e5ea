// Error-injecting inference on a real network (ResNet-8 from $VOSA_DATA_DIR)
// with synthetic error models: reproducibility across thread counts and
// seeds, and bit-exactness when Razor corrects every bit.
#include "../dnn/data_dir.hpp"
#include "vosa/inject.hpp"

#include <gtest/gtest.h>

using namespace vosa;
using namespace vosa::inject;

namespace {

ErrorModel resnet_array_model(int acc_bits, double p_any) {
  nlohmann::json j;
  j["schema_version"] = 1;
  j["pdk"] = "synthetic";
  j["design"] = {{"acc_bits", acc_bits}, {"signed", true}};
  j["netlist_hash"] = "0";
  j["operand_source"] = "test";
  const std::uint64_t samples = 100000, errors = static_cast<std::uint64_t>(p_any * samples);
  nlohmann::json bits = nlohmann::json::array();
  for (int b = 0; b < acc_bits; ++b) {
    const double p = b >= acc_bits - 4 ? p_any / 3 : 0.0;
    bits.push_back({{"bit", b}, {"p_error", p}, {"ci95", {p, p}}});
  }
  j["points"] = {{{"voltage", 1.0}, {"period_ns", 10.0}, {"delay_source", "liberty-corner"}, {"samples", samples},
                  {"cycles_with_error", errors}, {"bits", bits}, {"error_values", nlohmann::json::array()},
                  {"error_patterns", {{{"mask", std::uint64_t{1} << (acc_bits - 2)}, {"count", errors / 2}}}}}};
  return ErrorModel::from_json(j, "synthetic");
}

struct Resnet {
  std::shared_ptr<tflite::Model> model;
  std::unique_ptr<engine::Engine> engine;
  engine::Dataset data;
  ArrayShape shape;
  Resnet() {
    model = std::make_shared<tflite::Model>(tflite::load_tflite(test::data_path(test::kResnet8Model)));
    engine = std::make_unique<engine::Engine>(model);
    data = engine::load_dataset(test::data_path(test::kResnet8Data));
    const std::string config = std::string(VOSA_SOURCE_DIR) + "/generator/examples/default.json";
    shape = ArrayShape::from_config(load_config(config), config);
  }
  engine::InferOptions options(int jobs, size_t limit = 16) const {
    engine::InferOptions o;
    o.limit = limit;
    o.jobs = jobs;
    o.encoding = engine::InputEncoding::kPixels;
    return o;
  }
};

Settings at(double v, std::optional<RazorSpec> razor = std::nullopt) {
  Settings s;
  s.errmodel = "synthetic";
  s.voltages = {v};
  s.razor = razor;
  return s;
}

}  // namespace

// (d) Same seed: same per-sample results and counts with 1 and 2 threads;
// another seed draws other errors.
TEST(InjectResnet8, ReproducibleAcrossThreadCounts) {
  const Resnet r;
  const Injector inj(resnet_array_model(r.shape.acc_bits, 2e-4), r.shape, at(1.0));
  const FaultEvaluator one(*r.engine, r.data, r.options(1)), two(*r.engine, r.data, r.options(2));
  EXPECT_EQ(one.clean_correct(), two.clean_correct());
  const FaultyEvalResult a = one.evaluate(inj, 2, 7), b = two.evaluate(inj, 2, 7), c = two.evaluate(inj, 2, 8);
  EXPECT_EQ(a.faulty_correct, b.faulty_correct);
  ASSERT_EQ(a.layers.size(), 10u);  // ResNet-8's conv/FC layers
  for (size_t l = 0; l < a.layers.size(); ++l) {
    EXPECT_EQ(a.layers[l].hits, b.layers[l].hits) << "layer " << l;
    EXPECT_EQ(a.layers[l].corrupted_outputs, b.layers[l].corrupted_outputs) << "layer " << l;
    EXPECT_EQ(a.layers[l].captures, c.layers[l].captures);
  }
  EXPECT_GT(a.hits(), 0u);
  EXPECT_NE(a.hits(), c.hits());
  // About p x captures hits (4 sigma).
  const double expect = 2e-4 * static_cast<double>(a.captures());
  EXPECT_NEAR(static_cast<double>(a.hits()), expect, 4 * std::sqrt(expect));
}

// (e) on a real network: Razor correcting every bit at a 1 % error rate gives
// the clean predictions; (a) a zero-rate point gives them trivially.
TEST(InjectResnet8, FullRazorCorrectionIsExact) {
  const Resnet r;
  RazorSpec all;
  all.top_k = r.shape.acc_bits;
  const Injector inj(resnet_array_model(r.shape.acc_bits, 0.01), r.shape, at(1.0, all));
  const FaultEvaluator ev(*r.engine, r.data, r.options(2, 8));
  const FaultyEvalResult res = ev.evaluate(inj, 1, 3);
  for (size_t i = 0; i < res.samples; ++i) EXPECT_EQ(res.faulty_correct[i], res.clean_correct[i]) << i;
  EXPECT_GT(res.hits(), res.captures() / 125);
  EXPECT_GT(res.razor_error_cycles(), 0u);
  EXPECT_DOUBLE_EQ(res.loss, 0.0);
  // Unprotected at the same rate the network breaks down.
  const Injector bare(resnet_array_model(r.shape.acc_bits, 0.01), r.shape, at(1.0));
  EXPECT_LT(ev.evaluate(bare, 1, 3).faulty_top1, res.clean_top1);
}
