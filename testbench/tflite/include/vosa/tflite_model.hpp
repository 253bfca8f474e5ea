// A TFLite int8 model as vosa sees it: tensors (shape, type, quantization,
// constant data) and the operators it supports, in execution order.
//
// load_tflite() verifies the FlatBuffer before it reads anything, then checks
// every index and every buffer size; any problem (missing file, truncated or
// corrupt data, an operator outside the supported set) throws
// std::runtime_error naming the file and the offending object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vosa::tflite {

enum class TensorType { kFloat32, kInt32, kUInt8, kInt8, kInt16, kInt64, kOther };

struct Tensor {
  std::string name;
  std::vector<int> shape;
  TensorType type = TensorType::kOther;
  int raw_type = -1;                 // TFLite TensorType number (for messages)
  std::vector<float> scale;          // empty when not quantized
  std::vector<int64_t> zero_point;   // same length as scale
  int quantized_dimension = 0;
  std::vector<uint8_t> data;         // constant contents; empty for activations

  bool is_constant() const { return !data.empty(); }
  size_t num_elements() const;
  // Per-tensor parameters (first entry); the importer guarantees they exist
  // wherever the engine asks for them.
  float scale0() const { return scale.empty() ? 0.0f : scale[0]; }
  int32_t zero_point0() const { return zero_point.empty() ? 0 : static_cast<int32_t>(zero_point[0]); }
  int dim(int i) const { return shape.at(static_cast<size_t>(i)); }
};

enum class OpType {
  kConv2D,
  kDepthwiseConv2D,
  kFullyConnected,
  kAdd,
  kAveragePool2D,
  kMean,
  kReshape,
  kSoftmax,
  kQuantize,
};

enum class Padding { kSame, kValid };
enum class Activation { kNone, kRelu, kReluN1To1, kRelu6 };

struct Operator {
  OpType type = OpType::kReshape;
  std::vector<int> inputs;   // tensor indices; -1 = optional input absent
  std::vector<int> outputs;
  // Options (only the ones the operator type uses are meaningful).
  Padding padding = Padding::kSame;
  int stride_w = 1, stride_h = 1;
  int dilation_w = 1, dilation_h = 1;
  int depth_multiplier = 1;
  int filter_w = 0, filter_h = 0;  // pooling window
  Activation activation = Activation::kNone;
  float softmax_beta = 1.0f;
  bool keep_dims = false;
};

struct Model {
  std::string path;
  uint32_t schema_version = 0;
  std::string description;
  std::vector<Tensor> tensors;
  std::vector<Operator> operators;
  std::vector<int> inputs;
  std::vector<int> outputs;

  const Tensor& tensor(int index) const { return tensors.at(static_cast<size_t>(index)); }
  const Tensor& input() const { return tensor(inputs.at(0)); }
  const Tensor& output() const { return tensor(outputs.at(0)); }
};

// Reads and validates a .tflite file (see the header comment for errors).
Model load_tflite(const std::string& path);

// Reads from memory; `origin` names the data in error messages.
Model parse_tflite(const uint8_t* data, size_t size, const std::string& origin);

const char* to_string(OpType type);
const char* to_string(TensorType type);
const char* to_string(Activation activation);
// "CONV_2D", or "builtin operator 17 (MAX_POOL_2D)" style names for messages.
std::string builtin_operator_name(int builtin_code);
std::string shape_string(const std::vector<int>& shape);

}  // namespace vosa::tflite
