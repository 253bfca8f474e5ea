// Injection at scale (docs/inject.md, "Speed"): the clean checkpoints, the
// jumps over layers while the state is still the clean one and the early
// stop give exactly the results of a run through every operator; subsets of
// the inputs give the same per-input results as the whole set.
#include "../dnn/data_dir.hpp"
#include "vosa/inject.hpp"
#include "vosa/synthetic_errmodel.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <cstdio>

using namespace vosa;
using namespace vosa::inject;

namespace {

// Two points: 1.0 V errs at p_any (bits near the MSB, or with low_bits the
// two lowest bits, which requantization mostly absorbs), 2.0 V never errs.
ErrorModel two_point_model(int acc_bits, double p_any, bool low_bits = false) {
  nlohmann::json j;
  j["schema_version"] = 1;
  j["pdk"] = "synthetic";
  j["design"] = {{"acc_bits", acc_bits}, {"signed", true}};
  j["netlist_hash"] = "0";
  j["operand_source"] = "test";
  const std::uint64_t samples = 10000000, errors = static_cast<std::uint64_t>(p_any * samples);
  nlohmann::json bits = nlohmann::json::array(), clean_bits = nlohmann::json::array();
  for (int b = 0; b < acc_bits; ++b) {
    const double p = low_bits ? (b < 2 ? p_any / 2 : 0.0) : b >= acc_bits - 6 ? p_any / 3 : 0.0;
    bits.push_back({{"bit", b}, {"p_error", p}, {"errors", static_cast<std::uint64_t>(p * samples)}, {"ci95", {p, p}}});
    clean_bits.push_back({{"bit", b}, {"p_error", 0.0}, {"ci95", {0.0, 0.0}}});
  }
  const auto point = [&](double v, std::uint64_t err, const nlohmann::json& b) {
    return nlohmann::json{{"voltage", v}, {"period_ns", 10.0}, {"delay_source", "liberty-corner"},
                          {"samples", samples}, {"cycles_with_error", err}, {"bits", b},
                          {"error_values", nlohmann::json::array()}, {"error_patterns", nlohmann::json::array()}};
  };
  j["points"] = {point(1.0, errors, bits), point(2.0, 0, clean_bits)};
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
  engine::InferOptions options(size_t limit) const {
    engine::InferOptions o;
    o.limit = limit;
    o.jobs = 2;
    o.encoding = engine::InputEncoding::kPixels;
    return o;
  }
};

void expect_same(const FaultyEvalResult& a, const FaultyEvalResult& b, const std::string& what) {
  EXPECT_EQ(a.faulty_correct, b.faulty_correct) << what;
  ASSERT_EQ(a.layers.size(), b.layers.size()) << what;
  for (size_t l = 0; l < a.layers.size(); ++l) {
    EXPECT_EQ(a.layers[l].captures, b.layers[l].captures) << what << " layer " << l;
    EXPECT_EQ(a.layers[l].hits, b.layers[l].hits) << what << " layer " << l;
    EXPECT_EQ(a.layers[l].corrupted_outputs, b.layers[l].corrupted_outputs) << what << " layer " << l;
    EXPECT_EQ(a.layers[l].razor_error_cycles, b.layers[l].razor_error_cycles) << what << " layer " << l;
    EXPECT_EQ(a.layers[l].cycles, b.layers[l].cycles) << what << " layer " << l;
  }
}

}  // namespace

TEST(InjectScale, CheckpointsJumpsAndEarlyStopAreExact) {
  const Resnet r;
  const FaultEvaluator plain(*r.engine, r.data, r.options(24), 0);
  const FaultEvaluator cached(*r.engine, r.data, r.options(24));
  EXPECT_TRUE(plain.checkpoints().empty());
  ASSERT_FALSE(cached.checkpoints().empty());
  EXPECT_EQ(plain.clean_correct(), cached.clean_correct());
  std::vector<size_t> array_ops;
  for (const auto& p : r.engine->ops())
    if (lowering::is_array_layer(p.op->type)) array_ops.push_back(p.index);
  ASSERT_EQ(array_ops.size(), 10u);

  const auto settings = [](double v) {
    Settings s;
    s.errmodel = "synthetic";
    s.voltages = {v};
    return s;
  };
  // (1) Only a late layer errs: starts from a checkpoint, every input changes.
  Settings late = settings(2.0);
  late.layers.push_back({array_ops[7], {1.0}, std::nullopt, ""});
  // (2) Every layer errs rarely: most runs stay clean through some layers
  //     (jumps) and some never leave the clean state (early stop).
  // (3) Every layer errs often, Razor corrects every bit: the clean state all
  //     along, with hits and stalls counted in every layer.
  RazorSpec all;
  all.top_k = r.shape.acc_bits;
  Settings full = settings(1.0);
  full.razor = all;
  const struct {
    std::string name;
    double p;
    Settings s;
  } cases[] = {{"late layer", 2e-3, late}, {"rare everywhere", 3e-7, settings(1.0)}, {"corrected", 1e-3, full}};
  for (const auto& c : cases) {
    const Injector inj(two_point_model(r.shape.acc_bits, c.p), r.shape, c.s);
    const FaultyEvalResult a = plain.evaluate(inj, 2, 11), b = cached.evaluate(inj, 2, 11);
    expect_same(a, b, c.name);
    EXPECT_GT(a.hits(), 0u) << c.name;
  }
  // The rare case really did leave some inputs clean and change others.
  const Injector rare(two_point_model(r.shape.acc_bits, 3e-7), r.shape, settings(1.0));
  const FaultyEvalResult x = cached.evaluate(rare, 1, 11);
  std::uint64_t corrupted = 0;
  for (const auto& l : x.layers) corrupted += l.corrupted_outputs;
  EXPECT_GT(corrupted, 0u);
  EXPECT_LT(x.hits(), 24u * 10u);
  // (4) Errors in the two lowest bits of every layer: the accumulators change
  //     but requantization absorbs most of it, so runs become the clean state
  //     again at a checkpoint (exact early agreement) and jump or stop there.
  const Injector low(two_point_model(r.shape.acc_bits, 1e-4, true), r.shape, settings(1.0));
  const FaultyEvalResult la = plain.evaluate(low, 2, 11), lb = cached.evaluate(low, 2, 11);
  expect_same(la, lb, "absorbed low bits");
  EXPECT_EQ(la.rejoined_clean, 0u);  // no checkpoint, nothing to compare with
  EXPECT_GT(lb.rejoined_clean, 0u);
  std::uint64_t low_corrupted = 0;
  for (const auto& l : lb.layers) low_corrupted += l.corrupted_outputs;
  EXPECT_GT(low_corrupted, 0u);
  std::printf("absorbed low bits: the state rejoined the clean one %llu times in %zu runs\n",
              static_cast<unsigned long long>(lb.rejoined_clean), 2 * lb.samples);
}

TEST(InjectScale, SubsetGivesTheSameResultsPerInput) {
  const Resnet r;
  const FaultEvaluator ev(*r.engine, r.data, r.options(12));
  Settings s;
  s.errmodel = "synthetic";
  s.voltages = {1.0};
  const Injector inj(two_point_model(r.shape.acc_bits, 1e-4), r.shape, s);
  const FaultyEvalResult all = ev.evaluate(inj, 1, 5);
  const std::vector<size_t> subset = {9, 2, 7};
  const FaultyEvalResult part = ev.evaluate(inj, 1, 5, subset);
  ASSERT_EQ(part.samples, 3u);
  for (size_t k = 0; k < subset.size(); ++k) {
    EXPECT_EQ(part.faulty_correct[k], all.faulty_correct[subset[k]]) << k;
    EXPECT_EQ(part.clean_correct[k], all.clean_correct[subset[k]]) << k;
  }
  EXPECT_THROW(ev.evaluate(inj, 1, 5, {12}), InjectError);
}

// Sampled injection (InjectionMode::kSampled) against the exact injector on
// the same inputs at three error rates: top-1 within the statistical
// tolerance of two independent draws, and each layer's fraction of changed
// accumulators within 15 % (relative, plus 4 binomial standard errors).
namespace {

// mode kThinned runs both with Razor (policy correct) on the top 4 bits and
// also compares the per-layer Razor counts (expected values) with the exact
// draws; with tedrop, both with TE-Drop on the model's 8 failing bits (every
// error drops its product: Injector::corrupt_dropped) instead.
void compare_modes(const std::string& model_path, const std::string& data_path, const std::string& config,
                   const std::string& encoding, size_t inputs, const std::vector<double>& rates, int repeats,
                   InjectionMode mode = InjectionMode::kSampled, bool tedrop = false,
                   DropWalk walk = DropWalk::kAuto) {
  auto model = std::make_shared<tflite::Model>(tflite::load_tflite(model_path));
  const engine::Engine engine(model);
  const engine::Dataset data = engine::load_dataset(data_path);
  const ArrayShape shape = ArrayShape::from_config(load_config(config), config);
  engine::InferOptions o;
  o.limit = inputs;
  o.jobs = 2;
  o.encoding = engine::resolve_input_encoding(encoding, model->input(), data);
  const FaultEvaluator ev(engine, data, o);
  const ErrorModel em = synthetic_class_model(shape.acc_bits, rates);
  for (size_t r = 0; r < rates.size(); ++r) {
    Settings s;
    s.errmodel = "synthetic";
    s.voltages.assign(static_cast<size_t>(shape.islands), 1.0 + static_cast<double>(r));
    if (mode == InjectionMode::kThinned) s.razor = RazorSpec{4, {}, RazorPolicy::Correct};
    if (tedrop) s.razor = RazorSpec{8, {}, RazorPolicy::Drop};
    Injector exact(em, shape, s), sampled(em, shape, s);
    sampled.set_mode(mode);
    sampled.set_drop_walk(walk);
    EXPECT_EQ(sampled.drops_only_everywhere(), tedrop) << "rate " << rates[r];
    const FaultyEvalResult a = ev.evaluate(exact, repeats, 3), b = ev.evaluate(sampled, repeats, 4);
    const double n = double(a.samples) * repeats;
    const double pa = a.faulty_top1, pb = b.faulty_top1;
    const double se = std::sqrt(std::max(pa * (1 - pa) + pb * (1 - pb), 1.0 / n) / n);
    std::printf("rate %g: faulty top-1 exact %.3f %s %.3f (clean %.3f), hits %llu / %llu\n", rates[r], pa, to_string(mode), pb,
                a.clean_top1, static_cast<unsigned long long>(a.hits()), static_cast<unsigned long long>(b.hits()));
    EXPECT_LE(std::abs(pa - pb), 3.5 * se + 1e-12) << "rate " << rates[r];
    for (size_t l = 0; l < a.layers.size(); ++l) {
      const auto& p = engine.ops()[a.layers[l].op];
      const double outputs = double(p.geometry.rows()) * p.geometry.out_c * n;
      const double fa = double(a.layers[l].corrupted_outputs) / outputs, fb = double(b.layers[l].corrupted_outputs) / outputs;
      const double tol = 0.15 * std::max(fa, fb) + 4 * std::sqrt(std::max(fa, 1.0 / outputs) / outputs);
      EXPECT_NEAR(fa, fb, tol) << "rate " << rates[r] << " op " << a.layers[l].op;
      std::printf("  op %zu changed %.5f / %.5f\n", a.layers[l].op, fa, fb);
      if (mode != InjectionMode::kThinned || tedrop) {
        // The sampled errors per layer (the per-output counts, from the dense
        // columns' alias tables at high rates) against the exact draws.
        const double x = double(a.layers[l].hits), y = double(b.layers[l].hits);
        EXPECT_NEAR(x, y, 0.1 * std::max(x, y) + 4 * std::sqrt(std::max(x, y)) + 2)
            << "rate " << rates[r] << " op " << a.layers[l].op;
        continue;
      }
      // Expected Razor counts against the exact draws: 10 % plus 4 Poisson sigmas.
      for (auto [x, y] : {std::pair{a.layers[l].hits, b.layers[l].hits},
                          std::pair{a.layers[l].razor_detected, b.layers[l].razor_detected},
                          std::pair{a.layers[l].razor_error_cycles, b.layers[l].razor_error_cycles}})
        EXPECT_NEAR(double(x), double(y), 0.1 * double(std::max(x, y)) + 4 * std::sqrt(double(std::max(x, y))) + 2)
            << "rate " << rates[r] << " op " << a.layers[l].op;
    }
  }
}

}  // namespace

TEST(InjectSampled, AgreesWithExactOnResnet8) {
  compare_modes(test::data_path(test::kResnet8Model), test::data_path(test::kResnet8Data),
                std::string(VOSA_SOURCE_DIR) + "/generator/examples/default.json", "pixels", 200, {1e-6, 1e-5, 1e-4}, 1);
}

// Rates where most outputs of the wide layers err (the dense columns: error
// count from a per-column alias table, 0 included), ResNet-8 on 100 inputs.
TEST(InjectSampled, AgreesWithExactAtDenseRates) {
  compare_modes(test::data_path(test::kResnet8Model), test::data_path(test::kResnet8Data),
                std::string(VOSA_SOURCE_DIR) + "/generator/examples/default.json", "pixels", 100, {1e-3, 1e-2}, 1);
}

TEST(InjectSampled, AgreesWithExactOnMobilenetV2) {
  compare_modes(test::data_path(test::kMobilenetModel), test::data_path(test::kMobilenetData),
                std::string(VOSA_SOURCE_DIR) + "/generator/examples/explore_16x16.json", "auto", 24, {3e-7, 3e-6, 3e-5}, 1);
}

// Thinned injection (InjectionMode::kThinned: only the errors Razor leaves,
// drawn from ErrorMaskSampler::restricted_to) against the exact injector
// with the same Razor bits: same checks, plus the Razor counts.
TEST(InjectThinned, AgreesWithExactOnResnet8) {
  compare_modes(test::data_path(test::kResnet8Model), test::data_path(test::kResnet8Data),
                std::string(VOSA_SOURCE_DIR) + "/generator/examples/default.json", "pixels", 200, {1e-5, 1e-4, 1e-3}, 1,
                InjectionMode::kThinned);
}

TEST(InjectThinned, AgreesWithExactOnMobilenetV2) {
  compare_modes(test::data_path(test::kMobilenetModel), test::data_path(test::kMobilenetData),
                std::string(VOSA_SOURCE_DIR) + "/generator/examples/explore_16x16.json", "auto", 24, {3e-6, 3e-5, 3e-4}, 1,
                InjectionMode::kThinned);
}

// TE-Drop of every failing bit (ThUnderVolt's setting), thinned and sampled
// (both Injector::corrupt_dropped: only the drops of non-zero products,
// minus the dropped products, no chain walk) against the exact injector's
// walk of every error down its column: same checks, hits included (the
// depthwise tiles and, by class, the zero weights not walked: expected
// counts). ResNet-8 thinned walks every conv/FC layer by class, sampled by
// candidates; MobileNetV2 lets kAuto choose per layer.
TEST(InjectThinned, TeDropAgreesWithExactOnResnet8) {
  compare_modes(test::data_path(test::kResnet8Model), test::data_path(test::kResnet8Data),
                std::string(VOSA_SOURCE_DIR) + "/generator/examples/default.json", "pixels", 200, {1e-4, 1e-3, 1e-2}, 1,
                InjectionMode::kThinned, true, DropWalk::kByClass);
}

TEST(InjectThinned, TeDropAgreesWithExactOnMobilenetV2) {
  compare_modes(test::data_path(test::kMobilenetModel), test::data_path(test::kMobilenetData),
                std::string(VOSA_SOURCE_DIR) + "/generator/examples/explore_16x16.json", "auto", 24, {3e-5, 3e-4, 3e-3}, 1,
                InjectionMode::kThinned, true);
}

TEST(InjectSampled, TeDropIsTheThinnedDrawOnResnet8) {
  compare_modes(test::data_path(test::kResnet8Model), test::data_path(test::kResnet8Data),
                std::string(VOSA_SOURCE_DIR) + "/generator/examples/default.json", "pixels", 100, {1e-3}, 1,
                InjectionMode::kSampled, true, DropWalk::kCandidates);
}

// restricted_to(keep) is draw() & keep given that it is not 0: its
// probability and its masks' frequencies against 400k draws of the whole.
TEST(InjectThinned, RestrictedMasksAreTheConditionalDistribution) {
  struct BitCount { int bit; std::uint64_t errors; };
  struct PatternCount { std::uint64_t mask; std::uint64_t count; };
  // 1000 erring cycles: two recorded patterns (300 + 200), the rest from bits 2-5.
  const ErrorMaskSampler all(1000, std::vector<BitCount>{{2, 400}, {3, 250}, {4, 500}, {5, 300}},
                             std::vector<PatternCount>{{0x30, 300}, {0x0c, 200}});
  const std::uint64_t keep = 0x0a;  // bits 1 and 3
  const auto [kept, p_kept] = all.restricted_to(keep);
  Rng rng(7);
  const auto u01 = [&rng] { return rng.uniform(); };
  constexpr int kDraws = 400000;
  std::map<std::uint64_t, double> conditional, restricted;
  int nonzero = 0;
  for (int i = 0; i < kDraws; ++i) {
    const std::uint64_t m = all.draw(u01) & keep;
    if (m) ++conditional[m], ++nonzero;
    ++restricted[kept.draw(u01)];
  }
  EXPECT_NEAR(p_kept, double(nonzero) / kDraws, 4 * std::sqrt(0.25 / kDraws));
  EXPECT_GT(p_kept, 0.2);
  EXPECT_EQ(restricted.count(0), 0u);
  for (const auto& [mask, n] : conditional) {
    const double f = n / nonzero, g = restricted[mask] / kDraws;
    EXPECT_NEAR(f, g, 4 * std::sqrt(0.25 / nonzero) + 4 * std::sqrt(0.25 / kDraws)) << mask;
  }
  EXPECT_EQ(conditional.size(), restricted.size());
  EXPECT_DOUBLE_EQ(all.restricted_to(0).second, 0.0);
  EXPECT_NEAR(all.restricted_to(~0ULL).second, 1.0, 1e-12);
}
