// Engine Arithmetic::kArmNN against numbers measured with Arm NN 20.08 CpuRef
// (Debian's python3-pyarmnn; not needed here): every operator output of one
// input, the accuracies it is quoted with, and the reason TFLite's reference
// kernels' arithmetic differs (docs/dnn.md, "Layer by layer against Arm NN").
//
// The checksums below come from
//   scripts/armnn_reference.py MODEL DATA out.csv [--pixels] --limit 1 --tensors armnn.csv
// (sum of the values and sum of (i + 1) * value of each operator's output).
#include "data_dir.hpp"
#include "vosa/infer.hpp"
#include "vosa/quant_math.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

using namespace vosa;

namespace {

struct Checksum {
  size_t op;
  int64_t sum, weighted;
};

std::shared_ptr<tflite::Model> load(const char* relative) {
  return std::make_shared<tflite::Model>(tflite::load_tflite(test::data_path(relative)));
}

std::vector<int> values_of(const engine::Workspace& ws, const tflite::Model& m, size_t op) {
  const int t = m.operators.at(op).outputs[0];
  std::vector<int> v;
  for (uint8_t b : ws.values[static_cast<size_t>(t)]) v.push_back(static_cast<int8_t>(b));
  return v;
}

Checksum checksum(size_t op, const std::vector<int>& v) {
  Checksum c{op, 0, 0};
  for (size_t i = 0; i < v.size(); ++i) {
    c.sum += v[i];
    c.weighted += static_cast<int64_t>(i + 1) * v[i];
  }
  return c;
}

// Runs the first sample with Arm NN arithmetic and compares every operator
// output with Arm NN's checksums. The arithmetic of TFLite's reference kernels
// differs from the first operator on and agrees only on the operators in
// `tflite_agrees`.
void check_against_armnn(const char* model_path, const char* data, engine::InputEncoding enc,
                         const std::vector<Checksum>& armnn, const std::set<size_t>& tflite_agrees) {
  auto model = load(model_path);
  const engine::Engine emulated(model, engine::Kernels::kFast, engine::Arithmetic::kArmNN);
  const engine::Engine tflite_exact(model, engine::Kernels::kFast, engine::Arithmetic::kTFLiteReference);
  const engine::Dataset ds = engine::load_dataset(test::data_path(data));
  const auto x = engine::load_input(ds.samples.at(0), model->input(), enc, engine::Resize::kBilinear);
  engine::Workspace a, t;
  emulated.run(x, a);
  tflite_exact.run(x, t);
  ASSERT_EQ(armnn.size(), model->operators.size());
  for (const Checksum& expected : armnn) {
    const Checksum got = checksum(expected.op, values_of(a, *model, expected.op));
    EXPECT_EQ(got.sum, expected.sum) << model_path << " operator " << expected.op;
    EXPECT_EQ(got.weighted, expected.weighted) << model_path << " operator " << expected.op;
    const bool same = values_of(t, *model, expected.op) == values_of(a, *model, expected.op);
    EXPECT_EQ(same, tflite_agrees.count(expected.op) > 0) << model_path << " operator " << expected.op;
  }
}

}  // namespace

TEST(ArmnnArithmetic, EveryResNet8TensorMatchesArmNN) {
  check_against_armnn(test::kResnet8Model, test::kResnet8Data, engine::InputEncoding::kPixels,
                      {{0, -1935614, -15914018281}, {1, -1991183, -16365589967}, {2, 73696, 654456649},
                       {3, -1881805, -15495811868}, {4, -971581, -3990256314},   {5, 33066, 149304813},
                       {6, -106762, -449891344},     {7, -918487, -3780275194},   {8, -500733, -1032439878},
                       {9, -13136, -28745518},       {10, 85047, 180798800},      {11, -499916, -1028833116},
                       {12, -7810, -254502},         {13, -7810, -254502},        {14, -179, -857},
                       {15, -1025, -5000}},
                      {15});  // the softmax saturates: 127 for class 7 either way
}

TEST(ArmnnArithmetic, EveryDscnnTensorMatchesArmNN) {
  check_against_armnn(test::kDscnnModel, test::kDscnnData, engine::InputEncoding::kRaw,
                      {{0, -999129, -4008845984}, {1, -996200, -3993526688}, {2, -976847, -3925565248},
                       {3, -975225, -3917231225}, {4, -945962, -3815231510}, {5, -959094, -3862424734},
                       {6, -952297, -3827866794}, {7, -966467, -3872646153}, {8, -959332, -3881079771},
                       {9, -7677, -249310},       {10, -7677, -249310},      {11, -140, -930},
                       {12, -1281, -7944}},
                      {12});
}

// Why the first CONV_2D of TFLite's reference kernels differs (from identical
// inputs): their MultiplyByQuantizedMultiplier rounds twice (SaturatingRoundingDoublingHighMul
// to an integer of acc * M * 2^r, then RoundingDivideByPOT by 2^r). A value
// less than 2^-(r+1) below a tie x.5 becomes the tie after the first rounding
// and is rounded up by the second; Arm NN rounds the float value once, down.
// Every differing value of the first CONV_2D on three images must be such a
// value, and nothing else may differ.
TEST(ArmnnArithmetic, FirstConvDiffersExactlyWhereTfliteRoundsTwice) {
  auto model = load(test::kResnet8Model);
  const engine::Engine emulated(model, engine::Kernels::kFast, engine::Arithmetic::kArmNN);
  const engine::Engine tflite_exact(model, engine::Kernels::kReference, engine::Arithmetic::kTFLiteReference);
  const engine::Dataset ds = engine::load_dataset(test::data_path(test::kResnet8Data));
  const tflite::Operator& conv = model->operators.at(0);
  const tflite::Tensor& in = model->tensor(conv.inputs[0]);
  const tflite::Tensor& w = model->tensor(conv.inputs[1]);
  const tflite::Tensor& out = model->tensor(conv.outputs[0]);
  const engine::PreparedOp& prepared = tflite_exact.ops().at(0);
  size_t differing = 0, double_rounded = 0;
  for (size_t s = 0; s < 3; ++s) {
    const auto x = engine::load_input(ds.samples[s], model->input(), engine::InputEncoding::kPixels,
                                      engine::Resize::kBilinear);
    std::vector<int32_t> acc;
    engine::Workspace a, t;
    tflite_exact.begin(x, t);
    tflite_exact.run_operator(0, t,
                              [&](const engine::PreparedOp&, const int8_t*, std::vector<int32_t>& v) { acc = v; });
    emulated.begin(x, a);
    emulated.run_operator(0, a);
    const std::vector<int> vt = values_of(t, *model, 0), va = values_of(a, *model, 0);
    const size_t channels = static_cast<size_t>(out.shape.back());
    for (size_t i = 0; i < vt.size(); ++i) {
      const size_t c = i % channels;
      const double m = static_cast<double>(in.scale0()) * static_cast<double>(w.scale[c]) /
                       static_cast<double>(out.scale0());
      const double real = static_cast<double>(acc[i]) * m;  // the zero point is added after rounding
      const int right_shift = -prepared.channel_multiplier[c].shift;
      ASSERT_GT(right_shift, 0);
      const double below_tie = std::floor(real) + 0.5 - real;  // > 0: below the next tie
      const bool in_window = acc[i] > 0 && below_tie > 0 && below_tie < std::ldexp(1.0, -(right_shift + 1));
      const int floor_q = static_cast<int>(std::floor(real)) + out.zero_point0();
      if (vt[i] != va[i]) {
        ++differing;
        EXPECT_TRUE(in_window) << "sample " << s << " value " << i << ": " << real << " (shift " << right_shift << ")";
        EXPECT_EQ(vt[i], floor_q + 1) << "sample " << s << " value " << i;  // TFLite: up, to the tie's far side
        EXPECT_EQ(va[i], floor_q) << "sample " << s << " value " << i;      // Arm NN: to nearest
      }
      if (in_window && floor_q >= -128) ++double_rounded;
    }
  }
  EXPECT_GT(differing, 0u);
  // ... and every value in that window differs (ReLU's clamp aside): the
  // float accumulation never moves a value across a rounding boundary here.
  EXPECT_EQ(differing, double_rounded);
  std::printf("first CONV_2D, 3 images: %zu values differ, %zu in TFLite's double-rounding window\n", differing,
              double_rounded);
}

// The accuracies of ../shared/dnn/SOURCES.txt (Arm NN 20.08 CpuRef).
TEST(ArmnnArithmetic, ReproducesArmNNResNet8Accuracy) {
  auto model = load(test::kResnet8Model);
  const engine::Engine e(model, engine::Kernels::kFast, engine::Arithmetic::kArmNN);
  engine::InferOptions o;
  o.encoding = engine::InputEncoding::kPixels;
  o.jobs = 2;
  const engine::InferResult r = engine::evaluate(e, engine::load_dataset(test::data_path(test::kResnet8Data)), o);
  EXPECT_EQ(r.samples, 200u);
  EXPECT_EQ(r.top1, 170u);  // 85.0 %; TFLite: 170 too; TFLite's reference kernels: 173
  // Arm NN's output for the third image (felis_domesticus_s_000074.bin).
  EXPECT_EQ(r.outputs.at(2), (std::vector<int>{-128, -128, -128, -89, -123, -73, -63, -36, -128, -128}));
}

TEST(ArmnnArithmetic, ReproducesArmNNDscnnAccuracy) {
  auto model = load(test::kDscnnModel);
  const engine::Engine e(model, engine::Kernels::kFast, engine::Arithmetic::kArmNN);
  engine::InferOptions o;
  o.jobs = 2;
  const engine::InferResult r = engine::evaluate(e, engine::load_dataset(test::data_path(test::kDscnnData)), o);
  EXPECT_EQ(r.samples, 1000u);
  EXPECT_EQ(r.top1, 902u);  // 90.2 %; TFLite: 902 too; TFLite's reference kernels: 901
}

TEST(ArmnnArithmetic, ObserverNeedsTfliteArithmetic) {
  auto model = load(test::kDscnnModel);
  const engine::Engine e(model, engine::Kernels::kFast, engine::Arithmetic::kArmNN);
  engine::Workspace ws;
  const std::vector<uint8_t> x(model->input().num_elements(), 0);
  EXPECT_THROW(e.run(x, ws, [](const engine::PreparedOp&, const int8_t*, std::vector<int32_t>&) {}),
               std::logic_error);
}
