// Computation reuse on the DS-CNN keyword-spotting stream: the stream's
// windows and labels, the activation quantizer, and the delta scheme
// (bit-exact with the engine at q = 8, equal to recomputation at any q).
#include "../error_of.hpp"
#include "../dnn/data_dir.hpp"
#include "vosa/reuse.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>

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
