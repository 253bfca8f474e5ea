#include "vosa/tflite_model.hpp"

#include "tflite_subset_generated.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace vosa::tflite {
namespace fb = vosa::tflite_fb;

namespace {

// TFLite BuiltinOperator numbers of the operators vosa executes.
constexpr int kBuiltinAdd = 0;
constexpr int kBuiltinAveragePool2D = 1;
constexpr int kBuiltinConv2D = 3;
constexpr int kBuiltinDepthwiseConv2D = 4;
constexpr int kBuiltinFullyConnected = 9;
constexpr int kBuiltinReshape = 22;
constexpr int kBuiltinSoftmax = 25;
constexpr int kBuiltinMean = 40;
constexpr int kBuiltinQuantize = 114;

// Names of TFLite's first builtin operators, for error messages only.
const char* const kBuiltinNames[] = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE",
    "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION",
    "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR",
    "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL",
    "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER",
    "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2",
    "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM",
    "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2"};

size_t element_size(TensorType type) {
  switch (type) {
    case TensorType::kFloat32: return 4;
    case TensorType::kInt32: return 4;
    case TensorType::kUInt8: return 1;
    case TensorType::kInt8: return 1;
    case TensorType::kInt16: return 2;
    case TensorType::kInt64: return 8;
    case TensorType::kOther: return 0;
  }
  return 0;
}

TensorType tensor_type_from(int raw) {
  switch (raw) {
    case fb::TensorType_FLOAT32: return TensorType::kFloat32;
    case fb::TensorType_INT32: return TensorType::kInt32;
    case fb::TensorType_UINT8: return TensorType::kUInt8;
    case fb::TensorType_INT8: return TensorType::kInt8;
    case fb::TensorType_INT16: return TensorType::kInt16;
    case fb::TensorType_INT64: return TensorType::kInt64;
    default: return TensorType::kOther;
  }
}

Activation activation_from(fb::ActivationFunctionType act, const std::string& where) {
  switch (act) {
    case fb::ActivationFunctionType_NONE: return Activation::kNone;
    case fb::ActivationFunctionType_RELU: return Activation::kRelu;
    case fb::ActivationFunctionType_RELU_N1_TO_1: return Activation::kReluN1To1;
    case fb::ActivationFunctionType_RELU6: return Activation::kRelu6;
    default:
      throw std::runtime_error(where + ": fused activation " + std::to_string(static_cast<int>(act)) +
                               " (TANH/SIGN_BIT) is not supported");
  }
}

Padding padding_from(fb::Padding p, const std::string& where) {
  if (p == fb::Padding_SAME) return Padding::kSame;
  if (p == fb::Padding_VALID) return Padding::kValid;
  throw std::runtime_error(where + ": unknown padding " + std::to_string(static_cast<int>(p)));
}

// The error context every message starts with.
class Where {
 public:
  explicit Where(std::string origin) : origin_(std::move(origin)) {}
  std::string operator()(const std::string& what) const { return origin_ + ": " + what; }

 private:
  std::string origin_;
};

Tensor read_tensor(const fb::Tensor* t, size_t index, const fb::Model* model, const Where& where) {
  const std::string what = "tensor " + std::to_string(index);
  if (t == nullptr) throw std::runtime_error(where(what + " is null"));
  Tensor out;
  out.name = t->name() ? t->name()->str() : std::string();
  const std::string named = what + " '" + out.name + "'";
  if (t->shape()) {
    for (int d : *t->shape()) {
      if (d < 0) throw std::runtime_error(where(named + " has a dynamic or negative dimension " + std::to_string(d)));
      out.shape.push_back(d);
    }
  }
  out.raw_type = t->type();
  out.type = tensor_type_from(out.raw_type);
  if (const auto* q = t->quantization()) {
    if (q->scale()) out.scale.assign(q->scale()->begin(), q->scale()->end());
    if (q->zero_point()) out.zero_point.assign(q->zero_point()->begin(), q->zero_point()->end());
    out.quantized_dimension = q->quantized_dimension();
    if (!out.scale.empty() && out.zero_point.size() != out.scale.size()) {
      // TFLite allows a single zero point with per-channel scales only when
      // all are zero; make the vectors the same length for the engine.
      if (out.zero_point.size() <= 1) {
        out.zero_point.assign(out.scale.size(), out.zero_point.empty() ? 0 : out.zero_point[0]);
      } else {
        throw std::runtime_error(where(named + " has " + std::to_string(out.scale.size()) + " scales but " +
                                       std::to_string(out.zero_point.size()) + " zero points"));
      }
    }
    for (float s : out.scale) {
      if (!(s > 0.0f) || !std::isfinite(s))
        throw std::runtime_error(where(named + " has a non-positive or non-finite quantization scale"));
    }
    if (out.scale.size() > 1 &&
        (out.quantized_dimension < 0 || static_cast<size_t>(out.quantized_dimension) >= out.shape.size() ||
         static_cast<size_t>(out.shape[static_cast<size_t>(out.quantized_dimension)]) != out.scale.size())) {
      throw std::runtime_error(where(named + " has " + std::to_string(out.scale.size()) +
                                     " per-channel scales that do not match dimension " +
                                     std::to_string(out.quantized_dimension) + " of shape " +
                                     shape_string(out.shape)));
    }
  }
  const uint32_t buffer_index = t->buffer();
  const size_t buffer_count = model->buffers() ? model->buffers()->size() : 0;
  if (buffer_index >= buffer_count && buffer_index != 0) {
    throw std::runtime_error(where(named + " refers to buffer " + std::to_string(buffer_index) + " but the model has " +
                                   std::to_string(buffer_count) + " buffers"));
  }
  if (buffer_index != 0 && buffer_index < buffer_count) {
    const fb::Buffer* b = model->buffers()->Get(buffer_index);
    if (b && b->offset() > 1) {
      throw std::runtime_error(where(named + " keeps its data outside the FlatBuffer (buffer offset), "
                                             "which vosa does not read"));
    }
    if (b && b->data() && b->data()->size() > 0) {
      const size_t expected = out.num_elements() * element_size(out.type);
      if (element_size(out.type) == 0)
        throw std::runtime_error(where(named + " holds constant data of unsupported type " +
                                       std::to_string(out.raw_type)));
      if (b->data()->size() != expected) {
        throw std::runtime_error(where(named + " (shape " + shape_string(out.shape) + ", " + to_string(out.type) +
                                       ") needs " + std::to_string(expected) + " bytes but buffer " +
                                       std::to_string(buffer_index) + " holds " +
                                       std::to_string(b->data()->size())));
      }
      out.data.assign(b->data()->begin(), b->data()->end());
    }
  }
  return out;
}

std::vector<int> read_indices(const flatbuffers::Vector<int32_t>* v, size_t tensor_count, bool allow_absent,
                              const std::string& what, const Where& where) {
  std::vector<int> out;
  if (!v) return out;
  for (int32_t i : *v) {
    if (i == -1 && allow_absent) {
      out.push_back(-1);
      continue;
    }
    if (i < 0 || static_cast<size_t>(i) >= tensor_count) {
      throw std::runtime_error(where(what + " refers to tensor " + std::to_string(i) + " but the model has " +
                                     std::to_string(tensor_count) + " tensors"));
    }
    out.push_back(i);
  }
  return out;
}

template <typename Options>
const Options* options_as(const fb::Operator* op, fb::BuiltinOptions expected, const std::string& what,
                          const Where& where, bool required) {
  if (op->builtin_options_type() == fb::BuiltinOptions_NONE) {
    if (required) throw std::runtime_error(where(what + " has no options table"));
    return nullptr;
  }
  if (op->builtin_options_type() != expected) {
    throw std::runtime_error(where(what + " carries options of type " +
                                   std::to_string(static_cast<int>(op->builtin_options_type())) + ", expected " +
                                   std::to_string(static_cast<int>(expected))));
  }
  return static_cast<const Options*>(op->builtin_options());
}

Operator read_operator(const fb::Operator* op, size_t index, const fb::Model* model, size_t tensor_count,
                       const Where& where) {
  const std::string what0 = "operator " + std::to_string(index);
  if (!op) throw std::runtime_error(where(what0 + " is null"));
  const auto* codes = model->operator_codes();
  if (!codes || op->opcode_index() >= codes->size()) {
    throw std::runtime_error(where(what0 + " uses opcode index " + std::to_string(op->opcode_index()) +
                                   " but the model has " + std::to_string(codes ? codes->size() : 0) +
                                   " operator codes"));
  }
  const fb::OperatorCode* code = codes->Get(op->opcode_index());
  // TFLite keeps small codes in the deprecated byte field and large ones in
  // builtin_code; the effective code is the larger of the two.
  const int builtin = std::max<int>(code->deprecated_builtin_code(), code->builtin_code());
  const std::string what = what0 + " (" + builtin_operator_name(builtin) + ")";
  if (code->custom_code()) {
    throw std::runtime_error(where(what0 + " is the custom operator '" + code->custom_code()->str() +
                                   "', which vosa does not support"));
  }
  Operator out;
  out.inputs = read_indices(op->inputs(), tensor_count, true, what + " input", where);
  out.outputs = read_indices(op->outputs(), tensor_count, false, what + " output", where);
  switch (builtin) {
    case kBuiltinConv2D: {
      out.type = OpType::kConv2D;
      const auto* o = options_as<fb::Conv2DOptions>(op, fb::BuiltinOptions_Conv2DOptions, what, where, true);
      out.padding = padding_from(o->padding(), where(what));
      out.stride_w = o->stride_w();
      out.stride_h = o->stride_h();
      out.dilation_w = o->dilation_w_factor();
      out.dilation_h = o->dilation_h_factor();
      out.activation = activation_from(o->fused_activation_function(), where(what));
      break;
    }
    case kBuiltinDepthwiseConv2D: {
      out.type = OpType::kDepthwiseConv2D;
      const auto* o = options_as<fb::DepthwiseConv2DOptions>(op, fb::BuiltinOptions_DepthwiseConv2DOptions, what,
                                                             where, true);
      out.padding = padding_from(o->padding(), where(what));
      out.stride_w = o->stride_w();
      out.stride_h = o->stride_h();
      out.dilation_w = o->dilation_w_factor();
      out.dilation_h = o->dilation_h_factor();
      out.depth_multiplier = o->depth_multiplier();
      out.activation = activation_from(o->fused_activation_function(), where(what));
      break;
    }
    case kBuiltinFullyConnected: {
      out.type = OpType::kFullyConnected;
      const auto* o = options_as<fb::FullyConnectedOptions>(op, fb::BuiltinOptions_FullyConnectedOptions, what,
                                                            where, false);
      if (o) {
        if (o->weights_format() != 0)
          throw std::runtime_error(where(what + ": shuffled weights format is not supported"));
        out.activation = activation_from(o->fused_activation_function(), where(what));
        out.keep_dims = o->keep_num_dims();
      }
      break;
    }
    case kBuiltinAdd: {
      out.type = OpType::kAdd;
      const auto* o = options_as<fb::AddOptions>(op, fb::BuiltinOptions_AddOptions, what, where, false);
      if (o) out.activation = activation_from(o->fused_activation_function(), where(what));
      break;
    }
    case kBuiltinAveragePool2D: {
      out.type = OpType::kAveragePool2D;
      const auto* o = options_as<fb::Pool2DOptions>(op, fb::BuiltinOptions_Pool2DOptions, what, where, true);
      out.padding = padding_from(o->padding(), where(what));
      out.stride_w = o->stride_w();
      out.stride_h = o->stride_h();
      out.filter_w = o->filter_width();
      out.filter_h = o->filter_height();
      out.activation = activation_from(o->fused_activation_function(), where(what));
      break;
    }
    case kBuiltinMean: {
      out.type = OpType::kMean;
      const auto* o = options_as<fb::ReducerOptions>(op, fb::BuiltinOptions_ReducerOptions, what, where, false);
      out.keep_dims = o ? o->keep_dims() : false;
      break;
    }
    case kBuiltinReshape:
      out.type = OpType::kReshape;
      break;
    case kBuiltinSoftmax: {
      out.type = OpType::kSoftmax;
      const auto* o = options_as<fb::SoftmaxOptions>(op, fb::BuiltinOptions_SoftmaxOptions, what, where, false);
      out.softmax_beta = o ? o->beta() : 1.0f;
      break;
    }
    case kBuiltinQuantize:
      out.type = OpType::kQuantize;
      break;
    default:
      throw std::runtime_error(where(what0 + " is " + builtin_operator_name(builtin) +
                                     ", which vosa does not support (supported: CONV_2D, DEPTHWISE_CONV_2D, "
                                     "FULLY_CONNECTED, ADD, AVERAGE_POOL_2D, MEAN, RESHAPE, SOFTMAX, QUANTIZE)"));
  }
  if (out.stride_w < 1 || out.stride_h < 1 || out.dilation_w < 1 || out.dilation_h < 1 || out.depth_multiplier < 1) {
    throw std::runtime_error(where(what + " has a stride, dilation or depth multiplier below 1"));
  }
  return out;
}

}  // namespace

size_t Tensor::num_elements() const {
  size_t n = 1;
  for (int d : shape) n *= static_cast<size_t>(d);
  return n;
}

std::string shape_string(const std::vector<int>& shape) {
  std::ostringstream s;
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? "x" : "") << shape[i];
  if (shape.empty()) s << "scalar";
  return s.str();
}

std::string builtin_operator_name(int builtin_code) {
  constexpr int known = static_cast<int>(sizeof(kBuiltinNames) / sizeof(kBuiltinNames[0]));
  if (builtin_code >= 0 && builtin_code < known) return kBuiltinNames[builtin_code];
  if (builtin_code == kBuiltinQuantize) return "QUANTIZE";
  return "builtin operator " + std::to_string(builtin_code);
}

const char* to_string(OpType type) {
  switch (type) {
    case OpType::kConv2D: return "CONV_2D";
    case OpType::kDepthwiseConv2D: return "DEPTHWISE_CONV_2D";
    case OpType::kFullyConnected: return "FULLY_CONNECTED";
    case OpType::kAdd: return "ADD";
    case OpType::kAveragePool2D: return "AVERAGE_POOL_2D";
    case OpType::kMean: return "MEAN";
    case OpType::kReshape: return "RESHAPE";
    case OpType::kSoftmax: return "SOFTMAX";
    case OpType::kQuantize: return "QUANTIZE";
  }
  return "?";
}

const char* to_string(TensorType type) {
  switch (type) {
    case TensorType::kFloat32: return "FLOAT32";
    case TensorType::kInt32: return "INT32";
    case TensorType::kUInt8: return "UINT8";
    case TensorType::kInt8: return "INT8";
    case TensorType::kInt16: return "INT16";
    case TensorType::kInt64: return "INT64";
    case TensorType::kOther: return "unsupported type";
  }
  return "?";
}

const char* to_string(Activation activation) {
  switch (activation) {
    case Activation::kNone: return "NONE";
    case Activation::kRelu: return "RELU";
    case Activation::kReluN1To1: return "RELU_N1_TO_1";
    case Activation::kRelu6: return "RELU6";
  }
  return "?";
}

Model parse_tflite(const uint8_t* data, size_t size, const std::string& origin) {
  const Where where(origin);
  if (size < 8) {
    throw std::runtime_error(where("file is " + std::to_string(size) + " bytes, too short to be a TFLite model"));
  }
  if (!flatbuffers::BufferHasIdentifier(data, fb::ModelIdentifier())) {
    throw std::runtime_error(where("not a TFLite model (file identifier is not \"TFL3\")"));
  }
  flatbuffers::Verifier verifier(data, size);
  if (!fb::VerifyModelBuffer(verifier)) {
    throw std::runtime_error(where("corrupt or truncated TFLite model (FlatBuffer verification failed: an offset, "
                                   "vector length or table points outside the " +
                                   std::to_string(size) + "-byte file)"));
  }
  const fb::Model* model = fb::GetModel(data);
  Model out;
  out.path = origin;
  out.schema_version = model->version();
  if (out.schema_version != 3) {
    throw std::runtime_error(where("schema version " + std::to_string(out.schema_version) +
                                   " is not supported (vosa reads version 3)"));
  }
  if (model->description()) out.description = model->description()->str();
  if (!model->subgraphs() || model->subgraphs()->size() == 0) {
    throw std::runtime_error(where("model has no subgraph"));
  }
  if (model->subgraphs()->size() > 1) {
    throw std::runtime_error(where("model has " + std::to_string(model->subgraphs()->size()) +
                                   " subgraphs (control flow); vosa reads single-subgraph models"));
  }
  const fb::SubGraph* graph = model->subgraphs()->Get(0);
  if (!graph->tensors() || graph->tensors()->size() == 0) throw std::runtime_error(where("subgraph 0 has no tensors"));
  for (size_t i = 0; i < graph->tensors()->size(); ++i) {
    out.tensors.push_back(read_tensor(graph->tensors()->Get(static_cast<flatbuffers::uoffset_t>(i)), i, model, where));
  }
  const size_t tensor_count = out.tensors.size();
  out.inputs = read_indices(graph->inputs(), tensor_count, false, "subgraph input", where);
  out.outputs = read_indices(graph->outputs(), tensor_count, false, "subgraph output", where);
  if (out.inputs.size() != 1 || out.outputs.size() != 1) {
    throw std::runtime_error(where("model has " + std::to_string(out.inputs.size()) + " inputs and " +
                                   std::to_string(out.outputs.size()) +
                                   " outputs; vosa runs single-input, single-output classifiers"));
  }
  if (!graph->operators() || graph->operators()->size() == 0) throw std::runtime_error(where("model has no operators"));
  for (size_t i = 0; i < graph->operators()->size(); ++i) {
    out.operators.push_back(read_operator(graph->operators()->Get(static_cast<flatbuffers::uoffset_t>(i)), i, model,
                                          tensor_count, where));
  }
  return out;
}

Model load_tflite(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open model file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error(path + ": read error");
  return parse_tflite(bytes.data(), bytes.size(), path);
}

}  // namespace vosa::tflite
