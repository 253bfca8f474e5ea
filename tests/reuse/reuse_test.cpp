// Computation reuse on the DS-CNN keyword-spotting stream: the stream's
// windows and labels, the activation quantizer, and the delta scheme
// (bit-exact with the engine at q = 8, equal to recomputation at any q).
#include "../error_of.hpp"
#include "../dnn/data_dir.hpp"
#include "vosa/reuse.hpp"
#include "vosa/reuse_criticality.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <tuple>

using namespace vosa;
using namespace vosa::reuse;

namespace {

using vosa::test::error_of;

struct Dscnn {
  std::shared_ptr<tflite::Model> model;
  engine::Dataset data;
  Dscnn() {
    model = std::make_shared<tflite::Model>(tflite::load_tflite(test::data_path(test::kDscnnModel)));
    data = engine::load_dataset(test::data_path(test::kDscnnData));
  }
  FeatureStream stream(size_t clips) const { return load_feature_stream(model->input(), data, clips); }
};

}  // namespace

TEST(ReuseQuantize, FullWidthIsIdentityAndNarrowWidthsRoundRelativeToTheZeroPoint) {
  for (int zp : {-128, 0, 83})
    for (int x = -128; x <= 127; ++x) {
      EXPECT_EQ(quantize_activation(static_cast<int8_t>(x), zp, 8), x);
      for (int q = 1; q < 8; ++q) {
        const int step = 1 << (8 - q);
        const int v = quantize_activation(static_cast<int8_t>(x), zp, q);
        ASSERT_GE(v, -128);
        ASSERT_LE(v, 127);
        if (v != -128 && v != 127) {  // not clamped: a multiple of the step from zp, at most half a step away
          EXPECT_EQ(((v - zp) % step + step) % step, 0) << "x " << x << " zp " << zp << " q " << q;
          EXPECT_LE(std::abs(v - x), step / 2) << "x " << x << " zp " << zp << " q " << q;
        }
      }
      if (x == zp) {
        for (int q = 1; q <= 8; ++q) EXPECT_EQ(quantize_activation(static_cast<int8_t>(x), zp, q), zp);
      }
    }
  EXPECT_EQ(quantize_activation(-128 + 5, -128, 6), -128 + 4);
  EXPECT_EQ(quantize_activation(-128 + 6, -128, 6), -128 + 8);  // half a step rounds up
}

TEST(ReuseQuantize, WidthOutsideOneToEightIsANamedError) {
  for (int q : {0, 9, -1}) EXPECT_NE(error_of([&] { check_quantization_bits(q); }).find("--q"), std::string::npos);
  EXPECT_NO_THROW(check_quantization_bits(1));
  EXPECT_NO_THROW(check_quantization_bits(8));
}

TEST(ReuseStream, WindowsSlideOverConcatenatedClipsAndTakeTheCentreClipsLabel) {
  const Dscnn d;
  const FeatureStream s = d.stream(3);
  ASSERT_EQ(s.window_frames, 49);
  ASSERT_EQ(s.frame_features, 10);
  ASSERT_EQ(s.num_frames(), 147u);
  // Stride = window length: the windows are the clips themselves.
  const std::vector<Window> aligned = stream_windows(s, 49);
  ASSERT_EQ(aligned.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(aligned[i].label, d.data.samples[i].label);
    EXPECT_EQ(window_input(s, aligned[i]),
              engine::load_input(d.data.samples[i], d.model->input(), engine::InputEncoding::kRaw,
                                 engine::Resize::kBilinear));
  }
  const std::vector<Window> w = stream_windows(s, 4);
  ASSERT_EQ(w.size(), (147u - 49u) / 4u + 1u);
  EXPECT_EQ(w[6].first_frame, 24u);  // centre frame 48: still clip 0
  EXPECT_EQ(w[6].label, d.data.samples[0].label);
  EXPECT_EQ(w[7].first_frame, 28u);  // centre frame 52: clip 1
  EXPECT_EQ(w[7].label, d.data.samples[1].label);
  const std::vector<uint8_t> in = window_input(s, w[7]);
  EXPECT_EQ(static_cast<int8_t>(in[0]), s.frames[28 * 10]);
  for (int stride : {0, 50}) EXPECT_NE(error_of([&] { stream_windows(s, stride); }).find("--stride"), std::string::npos);
}

TEST(ReuseStream, NonStreamInputsAreNamedErrors) {
  const Dscnn d;
  const tflite::Model resnet = tflite::load_tflite(test::data_path(test::kResnet8Model));
  EXPECT_NE(error_of([&] { load_feature_stream(resnet.input(), d.data, 2); }).find("not a 1 x frames x features x 1"),
            std::string::npos);
  engine::Dataset images = d.data;
  images.images = true;
  EXPECT_NE(error_of([&] { load_feature_stream(d.model->input(), images, 2); }).find("holds JPEG images"),
            std::string::npos);
}

TEST(ReuseRunner, FullWidthIsBitExactWithTheEngineOverAStream) {
  const Dscnn d;
  const FeatureStream s = d.stream(4);
  for (engine::Kernels kernels : {engine::Kernels::kFast, engine::Kernels::kReference}) {
    const engine::Engine eng(d.model, kernels);
    ReuseRunner runner(eng, 8, /*verify=*/true);
    engine::Workspace ws, ws_plain;
    size_t windows = 0;
    for (const Window& w : stream_windows(s, 4)) {
      if (kernels == engine::Kernels::kReference && windows == 6) break;  // the slow path: a few windows
      const std::vector<uint8_t> in = window_input(s, w);
      ASSERT_EQ(runner.run(in, ws), eng.run(in, ws_plain)) << "window at frame " << w.first_frame;
      ++windows;
    }
    int64_t macs = 0, done = 0;
    for (const LayerReuse& l : runner.layers()) {
      EXPECT_EQ(l.macs % static_cast<int64_t>(windows), 0) << l.op_index;
      EXPECT_LE(l.macs_done + l.macs_skipped_zero, l.macs);
      macs += l.macs;
      done += l.macs_done;
    }
    EXPECT_EQ(runner.layers().size(), 10u);  // 5 conv, 4 depthwise, 1 FC
    EXPECT_LT(done, macs) << "identical consecutive inputs exist in the stream, so some MACs are skipped";
  }
}

TEST(ReuseRunner, NarrowWidthDeltasEqualRecomputationAndSkipMore) {
  const Dscnn d;
  const FeatureStream s = d.stream(4);
  const engine::Engine eng(d.model);
  StreamOptions o;
  o.stride = 4;
  o.verify = true;  // throws if a delta accumulator differs from recomputation on the quantized input
  o.q = 8;
  const StreamResult exact = evaluate_stream(eng, s, o);
  EXPECT_EQ(exact.reuse_top1, exact.baseline_top1);
  EXPECT_EQ(exact.agree, exact.windows);
  o.q = 5;
  const StreamResult narrow = evaluate_stream(eng, s, o);
  EXPECT_EQ(narrow.windows, exact.windows);
  EXPECT_EQ(narrow.macs(), exact.macs());
  EXPECT_LT(narrow.macs_done(), exact.macs_done());
}

TEST(ReuseRunner, ResetRecomputesEverything) {
  const Dscnn d;
  const FeatureStream s = d.stream(2);
  const engine::Engine eng(d.model);
  ReuseRunner runner(eng, 6);
  engine::Workspace ws;
  const std::vector<Window> w = stream_windows(s, 4);
  const std::vector<uint8_t> first = runner.run(window_input(s, w[0]), ws);
  runner.run(window_input(s, w[1]), ws);
  runner.reset();
  // After reset, the first window gives what it gave at the stream's start.
  EXPECT_EQ(runner.run(window_input(s, w[0]), ws), first);
  for (const LayerReuse& l : runner.layers()) EXPECT_GE(l.macs_done, 2 * l.macs / 3) << l.op_index;
}

TEST(ReuseRunner, PerLayerWidthsApplyToTheirLayerOnly) {
  const Dscnn d;
  const FeatureStream s = d.stream(3);
  const engine::Engine eng(d.model);
  StreamOptions o;
  o.verify = true;
  const StreamResult exact = evaluate_stream(eng, s, o);
  o.layer_q = {{0, 4}};
  const StreamResult first_narrow = evaluate_stream(eng, s, o);
  ASSERT_EQ(first_narrow.layers.size(), exact.layers.size());
  EXPECT_LT(first_narrow.layers[0].macs_done, exact.layers[0].macs_done);
  EXPECT_EQ(first_narrow.layers[0].macs, exact.layers[0].macs);

  std::map<size_t, int> parsed;
  parse_layer_q("11=6", parsed);
  EXPECT_EQ(parsed.at(11), 6);
  for (const char* bad : {"11", "a=6", "3=", "3=6x"})
    EXPECT_NE(error_of([&] { parse_layer_q(bad, parsed); }).find("--layer-q"), std::string::npos) << bad;
  EXPECT_NE(error_of([&] { ReuseRunner(eng, 8, false, {{9, 5}}); }).find("(AVERAGE_POOL_2D) is not a CONV_2D"),
            std::string::npos);
  EXPECT_NE(error_of([&] { ReuseRunner(eng, 8, false, {{40, 5}}); }).find("does not exist"), std::string::npos);
  EXPECT_NE(error_of([&] { ReuseRunner(eng, 8, false, {{0, 9}}); }).find("[1, 8]"), std::string::npos);
}

// The criticality analysis (Mquans, per input channel): its two measured
// inputs against independent computations, and the budget's guarantee.
namespace {

CriticalityOptions small_analysis(double budget, BudgetMetric metric) {
  CriticalityOptions o;
  o.budget = budget;
  o.metric = metric;
  o.min_q = 4;
  o.sensitivity_windows = 2;
  return o;
}

const ChannelCriticality& channel_of(const WidthChoice& c, size_t op, int channel) {
  for (const ChannelCriticality& ch : c.channels)
    if (ch.op == op && ch.channel == channel) return ch;
  throw std::logic_error("no channel");
}

// The last array layer's accumulators with channel `channel` of operator `op`'s
// input quantized to q, by full recomputation of that layer.
std::vector<int32_t> logits_with_channel_quantized(const engine::Engine& eng, const std::vector<uint8_t>& input,
                                                   size_t op, int channel, int q) {
  std::vector<int32_t> logits;
  engine::Workspace ws;
  eng.run(input, ws, [&](const engine::PreparedOp& layer, const int8_t* in, std::vector<int32_t>& acc) {
    if (layer.index == op) {
      const lowering::ConvGeometry& g = layer.geometry;
      std::vector<int8_t> x(in, in + static_cast<size_t>(g.batch) * g.in_h * g.in_w * g.in_c);
      for (size_t i = static_cast<size_t>(channel); i < x.size(); i += static_cast<size_t>(layer.geometry.in_c))
        x[i] = quantize_activation(x[i], -layer.input_offset, q);
      acc = engine::reference_accumulators(eng.model(), layer, x.data());
    }
    logits = acc;  // the last array layer's come last
  });
  return logits;
}

}  // namespace

TEST(ReuseCriticality, SensitivityAndGainEqualIndependentMeasurements) {
  const Dscnn d;
  const FeatureStream s = d.stream(3);
  const engine::Engine eng(d.model);
  const WidthChoice c = choose_channel_widths(eng, s, small_analysis(100, BudgetMetric::kTop1));
  const std::vector<Window> w = stream_windows(s, 4);
  ASSERT_EQ(c.calibration_windows, w.size());
  ASSERT_EQ(c.channels.size(), 1u + 8u * 64u + 64u);
  // Sensitivity: mean L1 change of the logits over the two evenly spaced windows.
  for (auto [op, ch, q] : {std::tuple<size_t, int, int>{0, 0, 5}, {2, 7, 4}, {8, 30, 6}, {11, 3, 4}}) {
    double expected = 0;
    for (size_t k = 0; k < 2; ++k) {
      const std::vector<uint8_t> in = window_input(s, w[k * w.size() / 2]);
      const std::vector<int32_t> exact = logits_with_channel_quantized(eng, in, op, ch, 8);
      const std::vector<int32_t> moved = logits_with_channel_quantized(eng, in, op, ch, q);
      for (size_t j = 0; j < exact.size(); ++j) expected += std::abs(static_cast<double>(moved[j] - exact[j]));
    }
    EXPECT_DOUBLE_EQ(channel_of(c, op, ch).sensitivity[static_cast<size_t>(q)], expected / 2)
        << "op " << op << " channel " << ch << " q " << q;
    EXPECT_EQ(channel_of(c, op, ch).sensitivity[8], 0.0);
  }
  EXPECT_GT(channel_of(c, 0, 0).sensitivity[4], 0.0);
  // Gain: with one layer at q and the rest exact, the delta scheme's MACs on
  // that layer are one full inference plus its channels' changed MACs.
  for (auto [op, q] : {std::pair<size_t, int>{2, 5}, {0, 4}, {11, 6}}) {
    StreamOptions o;
    o.layer_q = {{op, q}};
    const StreamResult r = evaluate_stream(eng, s, o);
    int64_t changed = 0;
    for (const ChannelCriticality& ch : c.channels)
      if (ch.op == op) changed += ch.macs_changed[static_cast<size_t>(q)];
    for (const LayerReuse& l : r.layers)
      if (l.op_index == op) {
        EXPECT_EQ(l.macs_done, l.macs / static_cast<int64_t>(r.windows) + changed) << op;
      }
  }
  // The greedy order: every step skips MACs, and a channel narrows step by step.
  std::vector<int> width(c.channels.size(), 8);
  for (const WidthStep& st : c.steps) {
    EXPECT_GT(st.gain, 0);
    EXPECT_GE(st.cost, 0);
    EXPECT_EQ(st.from_q, width[st.channel]);
    EXPECT_LT(st.to_q, st.from_q);
    EXPECT_GE(st.to_q, 4);
    width[st.channel] = st.to_q;
  }
  // Budget 100 points: every step is accepted.
  EXPECT_EQ(c.steps_taken, c.steps.size());
  EXPECT_EQ(c.widths, widths_after_steps(eng, c.channels, c.steps, c.steps.size()));
}

TEST(ReuseCriticality, ZeroBudgetKeepsTheCalibrationPredictionsAndHeldOutIsSeparate) {
  const Dscnn d;
  const FeatureStream whole = d.stream(6);
  const FeatureStream calibration = clip_range(whole, 0, 3);
  const engine::Engine eng(d.model);
  CriticalityOptions zero = small_analysis(0, BudgetMetric::kAgreement);
  zero.max_evaluations = 12;
  const WidthChoice c = choose_channel_widths(eng, calibration, zero);
  EXPECT_EQ(c.agree, c.calibration_windows);
  EXPECT_EQ(c.loss_points, 0.0);
  // Re-evaluated independently (deltas verified against recomputation): the
  // chosen widths give the unmodified model's prediction on every calibration window.
  StreamOptions o;
  o.channel_q = c.widths;
  o.verify = true;
  const StreamResult r = evaluate_stream(eng, calibration, o);
  EXPECT_EQ(r.agree, r.windows);
  // Something was narrowed (channels whose quantization moves nothing, e.g.
  // inputs already on the grid, cost nothing), and it skips more MACs than q = 8.
  EXPECT_GT(c.steps_taken, 0u);
  StreamOptions exact;
  EXPECT_LT(r.macs_done(), evaluate_stream(eng, calibration, exact).macs_done());
  // Top-1 budget 0: no calibration window lost.
  zero.metric = BudgetMetric::kTop1;
  const WidthChoice t = choose_channel_widths(eng, calibration, zero);
  EXPECT_GE(t.reuse_top1, t.baseline_top1);
  // The held-out part holds the other clips only.
  const FeatureStream held_out = clip_range(whole, 3, 3);
  EXPECT_EQ(held_out.clip_labels, std::vector<int>(whole.clip_labels.begin() + 3, whole.clip_labels.end()));
  EXPECT_EQ(held_out.frames, std::vector<int8_t>(whole.frames.begin() + 3 * 490, whole.frames.end()));
  EXPECT_NE(error_of([&] { clip_range(whole, 6, 1); }).find("--calibration-clips"), std::string::npos);
  EXPECT_NE(error_of([&] { clip_range(whole, 0, 0); }).find("--calibration-clips"), std::string::npos);
}

TEST(ReuseCriticality, BadOptionsAndChannelWidthsAreNamedErrors) {
  const Dscnn d;
  const FeatureStream s = d.stream(2);
  const engine::Engine eng(d.model);
  CriticalityOptions o = small_analysis(1, BudgetMetric::kTop1);
  o.min_q = 0;
  EXPECT_NE(error_of([&] { choose_channel_widths(eng, s, o); }).find("--min-q 0"), std::string::npos);
  o = small_analysis(-1, BudgetMetric::kTop1);
  EXPECT_NE(error_of([&] { choose_channel_widths(eng, s, o); }).find("--budget"), std::string::npos);
  o = small_analysis(1, BudgetMetric::kTop1);
  o.sensitivity_windows = 0;
  EXPECT_NE(error_of([&] { choose_channel_widths(eng, s, o); }).find("--sensitivity-windows"), std::string::npos);
  EXPECT_NE(error_of([&] { parse_budget_metric("accuracy"); }).find("--budget-on 'accuracy'"), std::string::npos);
  EXPECT_NE(error_of([&] { ReuseRunner(eng, 8, false, {}, {{0, {8, 8}}}); }).find("2 widths for 1 input channels"),
            std::string::npos);
  EXPECT_NE(error_of([&] { ReuseRunner(eng, 8, false, {}, {{0, {9}}}); }).find("width 9 outside [1, 8]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { ReuseRunner(eng, 8, false, {}, {{10, {8}}}); }).find("channel widths of operator 10"),
            std::string::npos);
}

TEST(ReuseCycles, OnlyRowsWithAChangedOperandAreStreamed) {
  const Dscnn d;
  const engine::Engine eng(d.model);
  const inject::ArrayShape shape = ReuseRunner::default_array();  // 16 x 16
  const engine::PreparedOp& pointwise = eng.ops()[2];              // 1x1 CONV_2D, 25x5x64 -> 64, no padding
  const engine::PreparedOp& depthwise = eng.ops()[1];              // 3x3 DEPTHWISE_CONV_2D, 64 channels
  const size_t n = static_cast<size_t>(25 * 5 * 64);
  EXPECT_EQ(streamed_cycles(eng.model(), pointwise, std::vector<bool>(n, true), shape),
            inject::layer_cycles(pointwise.geometry, shape));
  EXPECT_EQ(streamed_cycles(eng.model(), pointwise, std::vector<bool>(n, false), shape), 0u);
  std::vector<bool> one(n, false);
  one[(12 * 5 + 2) * 64 + 0] = true;  // pixel (12, 2), channel 0
  // Pointwise: one GEMM row in K tile 0, for each of the 4 N tiles of 16 columns.
  EXPECT_EQ(streamed_cycles(eng.model(), pointwise, one, shape), 4 * inject::tile_cycles(shape, 1));
  EXPECT_EQ(inject::tile_cycles(shape, 1), 2u * 16 + 1 + 16 - 1);
  // Depthwise: channel 0's GEMM (channels 0-15), K tile 0; the 9 outputs around the pixel read it.
  EXPECT_EQ(streamed_cycles(eng.model(), depthwise, one, shape), inject::tile_cycles(shape, 9));
  // Over a stream: the first window costs a full inference; a repeated window costs nothing.
  const FeatureStream s = d.stream(2);
  ReuseRunner runner(eng, 8);
  engine::Workspace ws;
  const std::vector<uint8_t> in = window_input(s, stream_windows(s, 4)[3]);
  runner.run(in, ws);
  for (const LayerReuse& l : runner.layers()) {
    EXPECT_EQ(l.cycles_done, l.cycles) << l.op_index;
    EXPECT_EQ(l.cycles, inject::layer_cycles(eng.ops()[l.op_index].geometry, shape)) << l.op_index;
  }
  runner.run(in, ws);
  for (const LayerReuse& l : runner.layers()) {
    EXPECT_EQ(l.cycles_done * 2, l.cycles) << l.op_index;
    EXPECT_EQ(l.macs_done * 2, l.macs) << l.op_index;
  }
}
