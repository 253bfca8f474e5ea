// TFLite import: the real models' structure, and clear errors for missing,
// truncated, corrupt and unsupported models.
#include "data_dir.hpp"
#include "tflite_subset_generated.h"
#include "vosa/engine.hpp"
#include "vosa/tflite_model.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>

using namespace vosa;
namespace fb = vosa::tflite_fb;

namespace {

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string error_of(const std::vector<uint8_t>& bytes, const std::string& origin = "model.tflite") {
  try {
    tflite::parse_tflite(bytes.data(), bytes.size(), origin);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

std::map<tflite::OpType, int> op_counts(const tflite::Model& m) {
  std::map<tflite::OpType, int> counts;
  for (const auto& op : m.operators) ++counts[op.type];
  return counts;
}

// A one-operator model built with the project's schema; `builtin` picks the
// operator, `custom` makes it a custom operator, the rest break one field.
struct TinyModel {
  int builtin = 22;  // RESHAPE
  std::string custom;
  int input_tensor = 0;
  size_t weight_bytes = 0;  // > 0: give tensor 1 a constant buffer of this size (shape 1x4 int8 needs 4)
};

std::vector<uint8_t> build(const TinyModel& spec) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (int i = 0; i < 2; ++i) {
    tensors.push_back(fb::CreateTensor(fbb, fbb.CreateVector(std::vector<int>{1, 4}), fb::TensorType_INT8,
                                       static_cast<uint32_t>(i == 1 && spec.weight_bytes ? 1 : 0),
                                       fbb.CreateString(i == 0 ? "in" : "out")));
  }
  std::vector<flatbuffers::Offset<fb::Buffer>> buffers{fb::CreateBuffer(fbb)};
  if (spec.weight_bytes) {
    std::vector<uint8_t> data(spec.weight_bytes, 1);
    buffers.push_back(fb::CreateBuffer(fbb, fbb.CreateVector(data)));
  }
  auto code = fb::CreateOperatorCode(fbb, static_cast<int8_t>(std::min(spec.builtin, 127)),
                                     spec.custom.empty() ? 0 : fbb.CreateString(spec.custom), 1, spec.builtin);
  auto op = fb::CreateOperator(fbb, 0, fbb.CreateVector(std::vector<int>{spec.input_tensor}),
                               fbb.CreateVector(std::vector<int>{1}));
  auto graph = fb::CreateSubGraph(fbb, fbb.CreateVector(tensors), fbb.CreateVector(std::vector<int>{0}),
                                  fbb.CreateVector(std::vector<int>{1}), fbb.CreateVector(std::vector{op}));
  auto model = fb::CreateModel(fbb, 3, fbb.CreateVector(std::vector{code}), fbb.CreateVector(std::vector{graph}), 0,
                               fbb.CreateVector(buffers));
  fb::FinishModelBuffer(fbb, model);
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

}  // namespace

TEST(TfliteImport, ResNet8HasTheOperatorsOfItsSummary) {
  const auto m = tflite::load_tflite(test::data_path(test::kResnet8Model));
  EXPECT_EQ(m.operators.size(), 16u);
  auto c = op_counts(m);
  EXPECT_EQ(c[tflite::OpType::kConv2D], 9);
  EXPECT_EQ(c[tflite::OpType::kAdd], 3);
  EXPECT_EQ(c[tflite::OpType::kFullyConnected], 1);
  EXPECT_EQ(m.input().type, tflite::TensorType::kInt8);
  EXPECT_EQ(m.input().shape, (std::vector<int>{1, 32, 32, 3}));
  EXPECT_EQ(m.input().zero_point0(), -128);
  // First conv: per-channel weights, 16 scales on axis 0, stride 1, fused RELU.
  const auto& conv = m.operators[0];
  EXPECT_EQ(conv.activation, tflite::Activation::kRelu);
  EXPECT_EQ(m.tensor(conv.inputs[1]).scale.size(), 16u);
  EXPECT_EQ(m.tensor(conv.inputs[1]).shape, (std::vector<int>{16, 3, 3, 3}));
  EXPECT_EQ(m.operators[4].stride_w, 2);
}

TEST(TfliteImport, DscnnAndMobilenetV2HaveTheOperatorsOfTheirSummaries) {
  const auto kws = tflite::load_tflite(test::data_path(test::kDscnnModel));
  auto c = op_counts(kws);
  EXPECT_EQ(c[tflite::OpType::kConv2D], 5);
  EXPECT_EQ(c[tflite::OpType::kDepthwiseConv2D], 4);
  EXPECT_EQ(c[tflite::OpType::kAveragePool2D], 1);
  const auto mnv2 = tflite::load_tflite(test::data_path(test::kMobilenetModel));
  c = op_counts(mnv2);
  EXPECT_EQ(mnv2.operators.size(), 68u);
  EXPECT_EQ(c[tflite::OpType::kConv2D], 36);
  EXPECT_EQ(c[tflite::OpType::kDepthwiseConv2D], 17);
  EXPECT_EQ(c[tflite::OpType::kAdd], 10);
  EXPECT_EQ(c[tflite::OpType::kQuantize], 2);
  EXPECT_EQ(c[tflite::OpType::kMean], 1);
  EXPECT_EQ(mnv2.input().type, tflite::TensorType::kUInt8);
  // Depthwise weights are 1xHxWxC with per-channel scales on axis 3.
  const auto& dw = mnv2.operators[2];
  EXPECT_EQ(dw.type, tflite::OpType::kDepthwiseConv2D);
  EXPECT_EQ(mnv2.tensor(dw.inputs[1]).quantized_dimension, 3);
  EXPECT_EQ(dw.activation, tflite::Activation::kRelu6);
}

TEST(TfliteImport, MissingFileIsNamed) {
  try {
    tflite::load_tflite("/nonexistent/model.tflite");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.tflite: cannot open"), std::string::npos) << e.what();
  }
}

TEST(TfliteImport, TruncatedAndCorruptFilesFailVerification) {
  const std::string path = test::data_path(test::kResnet8Model);
  std::vector<uint8_t> bytes = read_file(path);
  ASSERT_GT(bytes.size(), 1000u);
  for (size_t keep : {bytes.size() / 2, bytes.size() - 100, size_t{64}}) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(keep));
    const std::string err = error_of(cut, "cut.tflite");
    EXPECT_NE(err.find("cut.tflite: corrupt or truncated"), std::string::npos) << keep << ": " << err;
  }
  EXPECT_NE(error_of({1, 2, 3}).find("too short"), std::string::npos);
  std::vector<uint8_t> wrong_id = bytes;
  wrong_id[4] = 'X';
  EXPECT_NE(error_of(wrong_id).find("not a TFLite model"), std::string::npos);
  // The root offset pointing past the end.
  std::vector<uint8_t> bad_root = bytes;
  bad_root[3] = 0x7f;
  EXPECT_NE(error_of(bad_root).find("corrupt or truncated"), std::string::npos);
}

TEST(TfliteImport, TinyModelParses) {
  const auto m = tflite::parse_tflite(build({}).data(), build({}).size(), "tiny");
  ASSERT_EQ(m.operators.size(), 1u);
  EXPECT_EQ(m.operators[0].type, tflite::OpType::kReshape);
}

TEST(TfliteImport, UnsupportedOperatorIsNamed) {
  TinyModel spec;
  spec.builtin = 17;
  const std::string err = error_of(build(spec));
  EXPECT_NE(err.find("operator 0 is MAX_POOL_2D"), std::string::npos) << err;
  spec.builtin = 150;
  EXPECT_NE(error_of(build(spec)).find("builtin operator 150"), std::string::npos);
  spec.builtin = 32;
  spec.custom = "TFLite_Detection_PostProcess";
  EXPECT_NE(error_of(build(spec)).find("custom operator 'TFLite_Detection_PostProcess'"), std::string::npos);
}

TEST(TfliteImport, BadIndicesAndBufferSizesAreNamed) {
  TinyModel spec;
  spec.input_tensor = 9;
  std::string err = error_of(build(spec));
  EXPECT_NE(err.find("input refers to tensor 9 but the model has 2 tensors"), std::string::npos) << err;
  spec = TinyModel{};
  spec.weight_bytes = 3;
  err = error_of(build(spec));
  EXPECT_NE(err.find("tensor 1 'out'"), std::string::npos) << err;
  EXPECT_NE(err.find("needs 4 bytes but buffer 1 holds 3"), std::string::npos) << err;
}

TEST(TfliteImport, Uint8PerTensorModelIsRejectedByTheEngineByName) {
  auto m = std::make_shared<tflite::Model>(tflite::load_tflite(test::data_path(test::kMobilenetUint8Model)));
  try {
    engine::Engine e(m);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("operator 0 (CONV_2D)"), std::string::npos) << what;
    EXPECT_NE(what.find("UINT8"), std::string::npos) << what;
  }
}
