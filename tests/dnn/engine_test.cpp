// The engine's fast path against its plain reference kernels, the GEMM
// lowering against both, and accuracy on the real data sets.
#include "data_dir.hpp"
#include "vosa/infer.hpp"
#include "vosa/layer_trace.hpp"
#include "vosa/precision.hpp"
#include "vosa/lowering.hpp"
#include "vosa/operand_trace.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>

using namespace vosa;

namespace {

struct Run {
  std::vector<uint8_t> output;
  std::map<size_t, std::vector<int32_t>> accumulators;  // by operator index
  std::map<size_t, std::vector<int8_t>> inputs;
};

Run run(const engine::Engine& e, const std::vector<uint8_t>& x, bool keep_inputs) {
  Run r;
  engine::Workspace ws;
  r.output = e.run(x, ws, [&](const engine::PreparedOp& p, const int8_t* in, const std::vector<int32_t>& acc) {
    r.accumulators[p.index] = acc;
    if (keep_inputs) {
      const size_t n = e.model().tensor(p.op->inputs[0]).num_elements();
      r.inputs[p.index].assign(in, in + n);
    }
  });
  return r;
}

// Fast vs reference kernels on every array layer and the output, then the
// lowering (two depthwise group sizes) against the same accumulators.
void check_model(const std::string& model_path, const std::string& data, engine::InputEncoding enc, size_t count,
                 engine::Arithmetic arithmetic = engine::Arithmetic::kTFLite) {
  auto model = std::make_shared<tflite::Model>(tflite::load_tflite(model_path));
  const engine::Engine fast(model, engine::Kernels::kFast, arithmetic);
  const engine::Engine reference(model, engine::Kernels::kReference, arithmetic);
  const engine::Dataset ds = engine::load_dataset(data);
  for (size_t i = 0; i < count; ++i) {
    const auto x = engine::load_input(ds.samples[i], model->input(), enc, engine::Resize::kBilinear);
    const Run f = run(fast, x, true);
    const Run r = run(reference, x, false);
    ASSERT_EQ(f.accumulators.size(), r.accumulators.size());
    for (const auto& [index, acc] : r.accumulators) {
      ASSERT_EQ(f.accumulators.at(index), acc) << model_path << " sample " << i << " operator " << index;
    }
    ASSERT_EQ(f.output, r.output) << model_path << " sample " << i;
    // Without an observer the fast path fuses requantization into the GEMM:
    // every activation tensor must still equal the reference kernels'.
    engine::Workspace fused_ws, reference_ws;
    fast.run(x, fused_ws);
    reference.run(x, reference_ws);
    for (size_t t = 0; t < model->tensors.size(); ++t)
      ASSERT_EQ(fused_ws.values[t], reference_ws.values[t]) << model_path << " sample " << i << " tensor " << t << " '"
                                                            << model->tensors[t].name << "'";
    if (i > 0) continue;  // the lowering is data-independent: one sample is enough
    for (const engine::PreparedOp& p : fast.ops()) {
      if (!lowering::is_array_layer(p.op->type)) continue;
      const auto correction = lowering::correction_of(*model, *p.op, p.geometry);
      for (int group : {16, 5}) {
        const auto gemms = lowering::lower_layer(*model, *p.op, p.geometry, f.inputs.at(p.index).data(), group);
        std::vector<std::vector<int64_t>> results;
        for (const auto& g : gemms) results.push_back(lowering::reference_gemm(g));
        ASSERT_EQ(lowering::assemble_accumulators(p.geometry, gemms, results, correction), r.accumulators.at(p.index))
            << model_path << " operator " << p.index << " depthwise group " << group;
        if (!p.geometry.depthwise) break;
      }
      if (!p.geometry.depthwise) continue;
      // The spatial mapping (one GEMM per channel, patches of outputs) on a
      // square, a wide and a short array: the same accumulators.
      for (const auto& [rows, cols] : std::vector<std::pair<int, int>>{{16, 16}, {6, 20}, {3, 11}}) {
        const auto plan = lowering::plan_depthwise(p.geometry, rows, cols, lowering::DepthwiseMapping::kSpatial);
        ASSERT_EQ(plan.mapping, lowering::DepthwiseMapping::kSpatial);
        const auto gemms = lowering::lower_layer_for_array(*model, *p.op, p.geometry, f.inputs.at(p.index).data(),
                                                           rows, cols, lowering::DepthwiseMapping::kSpatial);
        ASSERT_EQ(gemms.size(), static_cast<size_t>(p.geometry.out_c));
        ASSERT_EQ(gemms.front().n, plan.patch_h * plan.patch_w);
        std::vector<std::vector<int64_t>> results;
        for (const auto& g : gemms) results.push_back(lowering::reference_gemm(g));
        ASSERT_EQ(lowering::assemble_accumulators(p.geometry, gemms, results, correction), r.accumulators.at(p.index))
            << model_path << " operator " << p.index << " spatial " << plan.patch_h << "x" << plan.patch_w << " on "
            << rows << "x" << cols;
      }
      // The array's depthwise mode (lane passes, docs/rtl.md): what the mode
      // computes per pass (reference_lanes), summed, on arrays whose groups
      // fit a kernel row, split it, or leave a short last group.
      for (const auto& [rows, cols, group] : std::vector<std::tuple<int, int, int>>{
               {16, 16, 3}, {3, 11, 3}, {5, 4, 2}, {6, 20, 4}, {4, 3, 1}}) {
        ASSERT_TRUE(lowering::lanes_supported(p.geometry));
        const auto passes = lowering::lower_depthwise_lanes(*model, *p.op, p.geometry, f.inputs.at(p.index).data(),
                                                            rows, cols, group);
        std::vector<std::vector<int64_t>> results;
        int64_t cycles = 0;
        for (const auto& pass : passes) {
          results.push_back(lowering::reference_lanes(pass));
          cycles += lowering::ws_gemm_cycles(pass.m, rows, cols, rows, cols);
        }
        ASSERT_EQ(lowering::assemble_lane_accumulators(p.geometry, passes, results, correction),
                  r.accumulators.at(p.index))
            << model_path << " operator " << p.index << " depthwise mode on " << rows << "x" << cols << ", group "
            << group;
        EXPECT_EQ(lowering::lanes_cycles(p.geometry, rows, cols, group), cycles);
      }
    }
  }
}

}  // namespace

TEST(Engine, ResNet8FastPathAndLoweringMatchReferenceKernels) {
  check_model(test::data_path(test::kResnet8Model), test::data_path(test::kResnet8Data),
              engine::InputEncoding::kPixels, 3);
}

TEST(Engine, DscnnFastPathAndLoweringMatchReferenceKernels) {
  check_model(test::data_path(test::kDscnnModel), test::data_path(test::kDscnnData), engine::InputEncoding::kRaw, 3);
}

// The fixed-point (double-rounding) requantization of TFLite's reference
// kernels has its own AVX2 path.
TEST(Engine, TfliteReferenceArithmeticFastPathMatchesReferenceKernels) {
  check_model(test::data_path(test::kResnet8Model), test::data_path(test::kResnet8Data),
              engine::InputEncoding::kPixels, 2, engine::Arithmetic::kTFLiteReference);
  check_model(test::data_path(test::kDscnnModel), test::data_path(test::kDscnnData), engine::InputEncoding::kRaw, 2,
              engine::Arithmetic::kTFLiteReference);
}

TEST(Engine, MobilenetV2FastPathAndLoweringMatchReferenceKernels) {
  check_model(test::data_path(test::kMobilenetModel), test::data_path(test::kMobilenetData),
              engine::InputEncoding::kRaw, 1);
}

// The portable fallbacks of the fast path (plain-loop GEMM, requantization
// and ADD), as a CPU without AVX2 runs them.
TEST(Engine, FastPathWithoutAvx2MatchesReferenceKernels) {
  engine::set_avx2_enabled(false);
  EXPECT_FALSE(engine::gemm_uses_avx2());
  check_model(test::data_path(test::kResnet8Model), test::data_path(test::kResnet8Data),
              engine::InputEncoding::kPixels, 1);
  check_model(test::data_path(test::kDscnnModel), test::data_path(test::kDscnnData), engine::InputEncoding::kRaw, 2);
  check_model(test::data_path(test::kResnet8Model), test::data_path(test::kResnet8Data),
              engine::InputEncoding::kPixels, 1, engine::Arithmetic::kTFLiteReference);
  engine::set_avx2_enabled(true);
}

TEST(Engine, DepthwiseLoweringIsBlockDiagonal) {
  auto model = std::make_shared<tflite::Model>(tflite::load_tflite(test::data_path(test::kDscnnModel)));
  const engine::Engine e(model);
  const engine::PreparedOp& dw = e.ops().at(1);
  ASSERT_TRUE(dw.geometry.depthwise);
  std::vector<int8_t> input(model->tensor(dw.op->inputs[0]).num_elements(), 3);
  const auto gemms = lowering::lower_layer(*model, *dw.op, dw.geometry, input.data(), 16);
  ASSERT_EQ(gemms.size(), 4u);  // 64 channels in groups of 16
  const auto& g = gemms[1];
  EXPECT_EQ(g.k, 16 * 9);
  EXPECT_EQ(g.n, 16);
  EXPECT_EQ(g.out_channel.front(), 16);
  for (int k = 0; k < g.k; ++k)
    for (int j = 0; j < g.n; ++j)
      if (k / 9 != j) {
        ASSERT_EQ(g.b[static_cast<size_t>(k) * g.n + j], 0) << k << "," << j;
      }
}

// The depthwise mode's lane lowering on shapes no model here has: a depth
// multiplier, a 5x4 kernel, stride 3 x 2, uneven padding, two images, a
// dilation along y, and on arrays whose lanes split kernel rows or leave a
// short last group: the passes sum to the direct depthwise convolution
// (padded taps = the pad value, correction zero); a dilation along x is
// refused.
TEST(Engine, DepthwiseModeLanesComputeTheConvolution) {
  lowering::ConvGeometry g;
  g.depthwise = true;
  g.batch = 2;
  g.in_h = 9, g.in_w = 11, g.in_c = 3;
  g.depth_multiplier = 2, g.out_c = 6;
  g.kernel_h = 5, g.kernel_w = 4;
  g.stride_h = 2, g.stride_w = 3;
  g.dilation_h = 2;
  g.pad_top = 3, g.pad_left = 2;
  g.out_h = 3, g.out_w = 4;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> value(-128, 127);
  std::vector<int8_t> input(static_cast<size_t>(g.batch) * g.in_h * g.in_w * g.in_c), weights(g.taps() * g.out_c);
  for (auto& v : input) v = static_cast<int8_t>(value(rng));
  for (auto& v : weights) v = static_cast<int8_t>(value(rng));
  const int8_t pad = -7;
  std::vector<int32_t> want(static_cast<size_t>(g.rows()) * g.out_c, 0);
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int oc = 0; oc < g.out_c; ++oc) {
          int32_t sum = 0;
          for (int ky = 0; ky < g.kernel_h; ++ky)
            for (int kx = 0; kx < g.kernel_w; ++kx) {
              const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h, ix = ox * g.stride_w - g.pad_left + kx;
              const bool inside = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
              const int x = inside ? input[((static_cast<size_t>(b) * g.in_h + iy) * g.in_w + ix) * g.in_c +
                                           oc / g.depth_multiplier]
                                   : pad;
              sum += x * weights[static_cast<size_t>(ky * g.kernel_w + kx) * g.out_c + oc];
            }
          want[((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] = sum;
        }
  const std::vector<int64_t> no_correction(static_cast<size_t>(g.out_c), 0);
  for (const auto& [rows, cols, group] :
       std::vector<std::tuple<int, int, int>>{{16, 16, 3}, {3, 11, 3}, {5, 4, 2}, {7, 5, 4}, {1, 1, 1}}) {
    const auto passes = lowering::lower_depthwise_lanes(g, input.data(), weights.data(), pad, rows, cols, group);
    std::vector<std::vector<int64_t>> results;
    for (const auto& pass : passes) results.push_back(lowering::reference_lanes(pass));
    EXPECT_EQ(lowering::assemble_lane_accumulators(g, passes, results, no_correction), want)
        << rows << "x" << cols << ", group " << group;
  }
  g.dilation_w = 2;
  EXPECT_FALSE(lowering::lanes_supported(g));
  EXPECT_THROW(lowering::lower_depthwise_lanes(g, input.data(), weights.data(), pad, 16, 16, 3), std::invalid_argument);
}

// The cycle count plan_depthwise minimises is the one the array driver
// spends (ws_gemm_cycles), and the spatial mapping wins where an activation
// meets several taps in one row: 3x3 kernels on a 16x16 array.
TEST(Engine, DepthwisePlanCountsCyclesAndPrefersTheCheaperMapping) {
  EXPECT_EQ(lowering::ws_gemm_cycles(100, 16, 16, 16, 16), 16 + 100 + 32);
  EXPECT_EQ(lowering::ws_gemm_cycles(100, 17, 17, 16, 16), 4 * (16 + 100 + 32));
  lowering::ConvGeometry g;
  g.depthwise = true;
  g.in_h = g.in_w = g.out_h = g.out_w = 56;
  g.in_c = g.out_c = 144;
  g.kernel_h = g.kernel_w = 3;
  g.pad_top = g.pad_left = 1;
  const auto channels = lowering::plan_depthwise(g, 16, 16, lowering::DepthwiseMapping::kChannels);
  const auto spatial = lowering::plan_depthwise(g, 16, 16, lowering::DepthwiseMapping::kSpatial);
  const auto best = lowering::plan_depthwise(g, 16, 16, lowering::DepthwiseMapping::kAuto);
  // 9 groups of 16 channels, K = 144 (9 row tiles), M = 3136 each.
  EXPECT_EQ(channels.cycles, 9 * lowering::ws_gemm_cycles(56 * 56, 144, 16, 16, 16));
  EXPECT_LT(spatial.cycles, channels.cycles / 2);
  EXPECT_EQ(best.mapping, lowering::DepthwiseMapping::kSpatial);
  EXPECT_EQ(best.cycles, spatial.cycles);
  // A 1x1 "depthwise" kernel has no tap reuse: block-diagonal groups win.
  g.kernel_h = g.kernel_w = 1;
  g.pad_top = g.pad_left = 0;
  EXPECT_EQ(lowering::plan_depthwise(g, 16, 16, lowering::DepthwiseMapping::kAuto).mapping,
            lowering::DepthwiseMapping::kChannels);
  EXPECT_THROW(lowering::depthwise_mapping_from_string("diagonal"), std::invalid_argument);
}

// Accuracy over the whole staged data sets. With the default arithmetic the
// counts are TFLite's own (170/200 and 902/1000, measured with
// scripts/tflite_runner.js; dnn_tflite_golden checks every output against
// TFLite itself); TFLite's reference kernels (double rounding) give 173 and
// 901 on the same inputs. The independent Arm NN CpuRef figures in
// dnn/SOURCES.txt (85.0 %, 90.2 %) must be within 2 points.
TEST(Engine, ResNet8AccuracyOn200Images) {
  auto model = std::make_shared<tflite::Model>(tflite::load_tflite(test::data_path(test::kResnet8Model)));
  engine::InferOptions o;
  o.encoding = engine::InputEncoding::kPixels;
  o.jobs = 2;
  const auto data = engine::load_dataset(test::data_path(test::kResnet8Data));
  const auto r = engine::evaluate(engine::Engine(model), data, o);
  ASSERT_EQ(r.samples, 200u);
  EXPECT_EQ(r.top1, 170u);
  EXPECT_NEAR(100.0 * r.top1 / r.samples, 85.0, 2.0);
  const engine::Engine reference_kernels(model, engine::Kernels::kFast, engine::Arithmetic::kTFLiteReference);
  EXPECT_EQ(engine::evaluate(reference_kernels, data, o).top1, 173u);
}

TEST(Engine, DscnnAccuracyOn1000Samples) {
  auto model = std::make_shared<tflite::Model>(tflite::load_tflite(test::data_path(test::kDscnnModel)));
  engine::InferOptions o;
  o.jobs = 2;
  const auto data = engine::load_dataset(test::data_path(test::kDscnnData));
  const auto r = engine::evaluate(engine::Engine(model), data, o);
  ASSERT_EQ(r.samples, 1000u);
  EXPECT_EQ(r.top1, 902u);
  EXPECT_NEAR(100.0 * r.top1 / r.samples, 90.2, 2.0);
  const engine::Engine reference_kernels(model, engine::Kernels::kFast, engine::Arithmetic::kTFLiteReference);
  EXPECT_EQ(engine::evaluate(reference_kernels, data, o).top1, 901u);
}

TEST(Dataset, ErrorsNameTheProblem) {
  try {
    engine::load_dataset("/nonexistent/data");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/data: data directory does not exist"), std::string::npos);
  }
  try {
    engine::load_dataset(VOSA_SOURCE_DIR "/tests/dnn");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no label list"), std::string::npos) << e.what();
  }
  auto model = std::make_shared<tflite::Model>(tflite::load_tflite(test::data_path(test::kDscnnModel)));
  engine::Sample wrong{test::data_path(test::kResnet8Model), 0};  // not a 490-byte feature file
  try {
    engine::load_input(wrong, model->input(), engine::InputEncoding::kRaw, engine::Resize::kBilinear);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("needs 490"), std::string::npos) << e.what();
  }
}

TEST(Dataset, JpegDecodesAndResizesTo224) {
  const auto ds = engine::load_dataset(test::data_path(test::kMobilenetData));
  ASSERT_EQ(ds.samples.size(), 1300u);
  EXPECT_EQ(ds.samples[0].label, 473);
  int w = 0, h = 0;
  const auto rgb = engine::decode_jpeg_rgb(ds.samples[0].path, &w, &h);
  EXPECT_EQ(w, 227);
  EXPECT_EQ(h, 227);
  const auto small = engine::resize_rgb(rgb, w, h, 224, 224, engine::Resize::kBilinear);
  ASSERT_EQ(small.size(), 224u * 224 * 3);
  // Corners of a bilinear downscale stay close to the source corners.
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(small[static_cast<size_t>(c)], rgb[static_cast<size_t>(c)], 8);
  const auto crop = engine::resize_rgb(rgb, w, h, 224, 224, engine::Resize::kCenterCrop);
  EXPECT_EQ(crop[0], rgb[(1 * 227 + 1) * 3]);
}

TEST(LayerTrace, RecordsWhatOnePeSeesPerTile) {
  // A = 3x3, B = 3x3 on a 2x2 array: K tiles {0,1},{2}; N tiles {0,1},{2}.
  lowering::Gemm g;
  g.m = 3;
  g.k = 3;
  g.n = 3;
  g.a = {1, 2, 3, -4, 5, -6, 7, -8, 9};
  g.b = {10, 11, 12, -13, 14, -15, 16, 17, -18};
  const std::string path = ::testing::TempDir() + "/pe10.vtrace";
  ASSERT_EQ(write_layer_trace(path, g, 2, 2, 10, 1, 0, 1000, "unit test"), 12u);  // 2 N tiles x 2 K tiles x 3 rows
  const OperandTrace t = read_trace(path);
  ASSERT_EQ(t.records.size(), 12u);
  EXPECT_EQ(t.header.pe_row, 1);
  EXPECT_EQ(t.header.acc_bits, 10);
  // N tile 0, K tile 0, row m=1: a = A[1][1] = 5, w = B[1][0] = -13, psum = A[1][0]*B[0][0] = -40.
  EXPECT_EQ(t.records[1].activation, 5);
  EXPECT_EQ(t.records[1].weight, -13);
  EXPECT_EQ(t.records[1].psum_in, -40);
  // K tile 1 has only k = 2: PE row 1 sees k = 3 (outside A): zeros, psum = A[m][2] * B[2][0].
  EXPECT_EQ(t.records[3].activation, 0);
  EXPECT_EQ(t.records[3].weight, 0);
  EXPECT_EQ(t.records[3].psum_in, 3 * 16);
  // N tile 1, column 2, K tile 0, m = 2: psum = A[2][0] * B[0][2] = 7 * 12 = 84, a = -8, w = B[1][2] = -15.
  EXPECT_EQ(t.records[8].activation, -8);
  EXPECT_EQ(t.records[8].weight, -15);
  EXPECT_EQ(t.records[8].psum_in, 84);
  EXPECT_EQ(t.records[5].psum_in, 9 * 16);  // m = 2 of that tile
  EXPECT_THROW(write_layer_trace(path, g, 2, 2, 10, 2, 0, 10, "x"), std::invalid_argument);

  // A precision mode's gated PEs (drops 1 and 2): operands as fed, partial sums of reduced products.
  ASSERT_EQ(write_layer_trace(path, std::vector<lowering::Gemm>{g}, 2, 2, 10, 1, 0, 1000, "fed", 1, 2), 12u);
  const OperandTrace f = read_trace(path);
  EXPECT_EQ(f.records[1].activation, 5);
  EXPECT_EQ(f.records[1].weight, -13);
  // reduce(-4, 1) = -3, reduce(10, 2) = 10: A[1][0]*B[0][0] of the reduced operands.
  EXPECT_EQ(f.records[1].psum_in, reduce_operand(-4, 1) * reduce_operand(10, 2));
  EXPECT_EQ(f.records[1].psum_in, -30);
  EXPECT_NE(f.header.notes.find("operands as fed"), std::string::npos) << f.header.notes;
}

// Whole-layer traces: every GEMM (channel group) and tile pass, sampled as
// the header of vosa/layer_trace.hpp states when the layer is longer than the budget.
TEST(LayerTrace, SamplesEveryTilePassOfEveryGemm) {
  std::vector<lowering::Gemm> gemms(2);
  for (size_t i = 0; i < gemms.size(); ++i) {
    auto& g = gemms[i];
    g.m = 50, g.k = 4, g.n = 2;  // 2 K tiles x 1 N tile on a 2x2 array
    for (int v = 0; v < g.m * g.k; ++v) g.a.push_back(static_cast<int8_t>((v * 7 + static_cast<int>(i)) % 100));
    for (int v = 0; v < g.k * g.n; ++v) g.b.push_back(static_cast<int8_t>(v + 10 * static_cast<int>(i) + 1));
  }
  const std::string path = ::testing::TempDir() + "/layer.vtrace";
  ASSERT_EQ(write_layer_trace(path, gemms, 2, 2, 12, 0, 1, 1000, "all"), 200u);  // 4 passes x 50 rows: all
  const OperandTrace all = read_trace(path);
  // 4 passes, 40 records: 10 consecutive rows of each, pass i from row i * (50 - 10) / 3.
  ASSERT_EQ(write_layer_trace(path, gemms, 2, 2, 12, 0, 1, 40, "sampled"), 40u);
  const OperandTrace t = read_trace(path);
  for (int i = 0; i < 4; ++i)
    for (int r = 0; r < 10; ++r) {
      const auto& want = all.records[static_cast<size_t>(i * 50 + i * 40 / 3 + r)];
      const auto& got = t.records[static_cast<size_t>(i * 10 + r)];
      EXPECT_EQ(got.activation, want.activation) << "pass " << i << " record " << r;
      EXPECT_EQ(got.weight, want.weight) << "pass " << i << " record " << r;
    }
  EXPECT_EQ(t.records[30].weight, gemms[1].b[2 * 2 + 1]) << "the last pass is GEMM 1's second K tile";
  EXPECT_NE(t.header.notes.find("sampled: 10 consecutive cycles of every tile pass"), std::string::npos)
      << t.header.notes;
  // Fewer records than 2 per pass: runs of 2 from every 2nd pass.
  ASSERT_EQ(write_layer_trace(path, gemms, 2, 2, 12, 0, 1, 5, "sparse"), 4u);
}
