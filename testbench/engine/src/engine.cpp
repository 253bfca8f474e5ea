#include "vosa/engine.hpp"

#include "vosa/precision.hpp"

#include "armnn_kernels.hpp"
#include "fast_kernels.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace vosa::engine {
namespace {

using tflite::Activation;
using tflite::Model;
using tflite::OpType;
using tflite::Operator;
using tflite::Tensor;
using tflite::TensorType;

// TFLite's CalculateActivationRangeQuantized: the clamp bounds of a fused
// activation in the output's quantized domain (float division, as TFLite does).
void activation_range(Activation act, const Tensor& out, int32_t* lo, int32_t* hi) {
  const int32_t qmin = out.type == TensorType::kUInt8 ? 0 : -128;
  const int32_t qmax = out.type == TensorType::kUInt8 ? 255 : 127;
  const float scale = out.scale0();
  const int32_t zp = out.zero_point0();
  auto quantize = [&](float f) { return zp + static_cast<int32_t>(std::round(f / scale)); };
  *lo = qmin;
  *hi = qmax;
  if (act == Activation::kRelu) {
    *lo = std::max(qmin, quantize(0.0f));
  } else if (act == Activation::kRelu6) {
    *lo = std::max(qmin, quantize(0.0f));
    *hi = std::min(qmax, quantize(6.0f));
  } else if (act == Activation::kReluN1To1) {
    *lo = std::max(qmin, quantize(-1.0f));
    *hi = std::min(qmax, quantize(1.0f));
  }
}

int32_t clamp(int32_t v, int32_t lo, int32_t hi) { return std::min(std::max(v, lo), hi); }

}  // namespace

const char* to_string(Arithmetic a) {
  switch (a) {
    case Arithmetic::kTFLite: return "tflite";
    case Arithmetic::kTFLiteReference: return "tflite-reference";
    case Arithmetic::kArmNN: return "armnn";
  }
  return "?";
}

Arithmetic parse_arithmetic(const std::string& name) {
  for (Arithmetic a : {Arithmetic::kTFLite, Arithmetic::kTFLiteReference, Arithmetic::kArmNN})
    if (name == to_string(a)) return a;
  throw std::runtime_error("--arithmetic: unknown '" + name + "' (known: tflite, tflite-reference, armnn)");
}

LayerPrecision int8_precision(int mode_bits) {
  if (mode_bits < 1 || mode_bits > 8)
    throw std::runtime_error("precision mode of " + std::to_string(mode_bits) + " bits: int8 layers take 1..8");
  return LayerPrecision{dropped_bits(mode_bits, 8), dropped_bits(mode_bits, 8)};
}

PrecisionPlan uniform_precision(const Model& model, int mode_bits) {
  PrecisionPlan plan;
  for (size_t i = 0; i < model.operators.size(); ++i)
    if (lowering::is_array_layer(model.operators[i].type)) plan[i] = int8_precision(mode_bits);
  return plan;
}

PrecisionPlan parse_precision_plan(const Model& model, const std::string& spec) {
  PrecisionPlan plan;
  std::map<size_t, int> bits_of;
  int default_bits = 8;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t end = std::min(spec.find(',', start), spec.size());
    const std::string item = spec.substr(start, end - start);
    start = end + 1;
    auto number = [&](const std::string& text) {
      size_t used = 0;
      int v = -1;
      try {
        v = std::stoi(text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (text.empty() || used != text.size() || v < 0)
        throw std::runtime_error("--precision: '" + item + "' is not BITS or OP=BITS (e.g. 6 or 0=8)");
      return v;
    };
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      default_bits = number(item);
    } else {
      const size_t op = static_cast<size_t>(number(item.substr(0, eq)));
      if (op >= model.operators.size() || !lowering::is_array_layer(model.operators[op].type))
        throw std::runtime_error("--precision: '" + item + "': operator " + std::to_string(op) +
                                 " is not a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED layer of " + model.path);
      bits_of[op] = number(item.substr(eq + 1));
    }
    if (end == spec.size()) break;
  }
  for (size_t i = 0; i < model.operators.size(); ++i) {
    if (!lowering::is_array_layer(model.operators[i].type)) continue;
    const auto it = bits_of.find(i);
    try {
      plan[i] = int8_precision(it == bits_of.end() ? default_bits : it->second);
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("--precision: ") + e.what());
    }
  }
  return plan;
}

Engine::Engine(std::shared_ptr<const Model> model, Kernels kernels, Arithmetic arithmetic,
               const PrecisionPlan& precision)
    : model_(std::move(model)), kernels_(kernels), arithmetic_(arithmetic) {
  for (const auto& [index, lp] : precision) {
    if (index >= model_->operators.size() || !lowering::is_array_layer(model_->operators[index].type))
      throw std::runtime_error(model_->path + ": precision given for operator " + std::to_string(index) +
                               ", which is not a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED layer");
    if (lp.act_drop < 0 || lp.act_drop > 7 || lp.weight_drop < 0 || lp.weight_drop > 7)
      throw std::runtime_error(model_->path + ": operator " + std::to_string(index) +
                               ": dropped bits must be 0..7 for int8 operands");
    if (!lp.full() && (kernels_ != Kernels::kFast || arithmetic_ == Arithmetic::kArmNN))
      throw std::runtime_error("reduced precision runs on the fast kernels with an integer arithmetic only");
  }
  for (size_t i = 0; i < model_->operators.size(); ++i) {
    const auto it = precision.find(i);
    prepare(model_->operators[i], i, it == precision.end() ? LayerPrecision{} : it->second);
  }
  const Tensor& in = model_->input();
  if (in.type != TensorType::kInt8 && in.type != TensorType::kUInt8) {
    throw std::runtime_error(model_->path + ": model input '" + in.name + "' is " + tflite::to_string(in.type) +
                             "; vosa runs int8/uint8-input models");
  }
}

int64_t Engine::macs_per_inference() const {
  int64_t total = 0;
  for (const PreparedOp& p : ops_)
    if (lowering::is_array_layer(p.op->type)) total += p.geometry.macs();
  return total;
}

void Engine::prepare(const Operator& op, size_t index, const LayerPrecision& precision) {
  const Model& m = *model_;
  PreparedOp p;
  p.index = index;
  p.op = &op;
  p.precision = precision;
  const std::string label = m.path + ": operator " + std::to_string(index) + " (" + tflite::to_string(op.type) + ")";
  auto fail = [&](const std::string& what) { throw std::runtime_error(label + ": " + what); };
  if (op.inputs.empty() || op.outputs.size() != 1 || op.inputs[0] < 0) fail("needs an input and one output");
  const Tensor& in = m.tensor(op.inputs[0]);
  const Tensor& out = m.tensor(op.outputs[0]);
  auto require_int8 = [&](const Tensor& t) {
    if (t.type != TensorType::kInt8)
      fail("tensor '" + t.name + "' is " + tflite::to_string(t.type) + "; this operator runs on INT8 only");
    if (t.scale.empty()) fail("tensor '" + t.name + "' is not quantized");
  };
  if (op.type != OpType::kReshape && op.type != OpType::kQuantize) {
    require_int8(in);
    require_int8(out);
  }
  if (!out.scale.empty()) p.output_zero_point = out.zero_point0();

  switch (op.type) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D:
    case OpType::kFullyConnected: {
      p.geometry = lowering::geometry_of(m, op, index);
      const lowering::ConvGeometry& g = p.geometry;
      const Tensor& w = m.tensor(op.inputs[1]);
      p.input_offset = -static_cast<int32_t>(reduce_operand(in.zero_point0(), precision.act_drop));
      const std::vector<int64_t> corr = lowering::correction_of(m, op, g, precision.act_drop, precision.weight_drop);
      for (int64_t v : corr) {
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
          fail("bias correction leaves int32");
        p.correction.push_back(static_cast<int32_t>(v));
      }
      p.bias.assign(static_cast<size_t>(g.out_c), 0);
      if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
        const Tensor& b = m.tensor(op.inputs[2]);
        std::memcpy(p.bias.data(), b.data.data(), p.bias.size() * sizeof(int32_t));
      }
      // Requantization constants of both TFLite arithmetics. kTFLite: XNNPACK's
      // float scale. kTFLiteReference: conv/depthwise per channel, computed in
      // double from each scale (TFLite's PopulateConvolutionQuantizationParams);
      // FC: TFLite multiplies the two float scales in float first.
      for (int c = 0; c < g.out_c; ++c) {
        const float ws = w.scale.size() == 1 ? w.scale[0] : w.scale[static_cast<size_t>(c)];
        p.channel_scale.push_back(quant::xnnpack_conv_scale(in.scale0(), ws, out.scale0()));
        double real;
        if (op.type == OpType::kFullyConnected && w.scale.size() == 1) {
          const double product = static_cast<double>(in.scale0() * ws);
          real = product / static_cast<double>(out.scale0());
        } else {
          real = static_cast<double>(in.scale0()) * static_cast<double>(ws) / static_cast<double>(out.scale0());
        }
        p.channel_multiplier.push_back(quant::quantize_multiplier(real));
      }
      activation_range(op.activation, out, &p.activation_min, &p.activation_max);
      const int8_t* wd = reinterpret_cast<const int8_t*>(w.data.data());
      std::vector<int8_t> reduced_weights;
      if (precision.weight_drop > 0) {
        reduced_weights.assign(wd, wd + w.num_elements());
        for (int8_t& v : reduced_weights) v = static_cast<int8_t>(reduce_operand(v, precision.weight_drop));
        wd = reduced_weights.data();
      }
      if (g.depthwise) {
        p.depthwise_weights.assign(wd, wd + static_cast<size_t>(g.taps()) * g.out_c);
      } else {
        p.packed = pack_weights(wd, g.out_c, g.reduction());
        p.correction_padded = p.correction;
        p.correction_padded.resize(static_cast<size_t>(p.packed.n_padded), 0);
      }
      p.requant.fp32 = arithmetic_ == Arithmetic::kTFLite;
      p.requant.scale = p.channel_scale;
      for (const quant::QuantizedMultiplier& q : p.channel_multiplier) {
        p.requant.multiplier.push_back(q.multiplier);
        p.requant.left_shift.push_back(q.shift > 0 ? q.shift : 0);
        p.requant.right_shift.push_back(q.shift > 0 ? 0 : -q.shift);
      }
      // Padded to whole 16-wide GEMM panels for the fused requantization.
      const size_t padded = static_cast<size_t>((g.out_c + 15) / 16 * 16);
      p.requant.multiplier.resize(padded, 0);
      p.requant.left_shift.resize(padded, 0);
      p.requant.right_shift.resize(padded, 0);
      p.requant.scale.resize(padded, 0.0f);
      break;
    }
    case OpType::kAdd: {
      if (op.inputs.size() != 2 || op.inputs[1] < 0) fail("needs two inputs");
      const Tensor& in2 = m.tensor(op.inputs[1]);
      require_int8(in2);
      if (in.shape != in2.shape || in.shape != out.shape)
        fail("broadcasting ADD (" + tflite::shape_string(in.shape) + " + " + tflite::shape_string(in2.shape) +
             ") is not supported");
      p.input1_offset = -in.zero_point0();
      p.input2_offset = -in2.zero_point0();
      p.left_shift = 20;
      // TFLite's add.cc Prepare, including its float/double mix.
      const double twice_max_input_scale = 2 * std::max(in.scale0(), in2.scale0());
      const double real1 = in.scale0() / twice_max_input_scale;
      const double real2 = in2.scale0() / twice_max_input_scale;
      const double real_out = twice_max_input_scale / ((1 << p.left_shift) * out.scale0());
      p.input1_multiplier = quant::quantize_multiplier(real1);
      p.input2_multiplier = quant::quantize_multiplier(real2);
      p.output_multiplier = quant::quantize_multiplier(real_out);
      p.xnnpack_add =
          quant::xnnpack_add_params(in.scale0(), in2.scale0(), out.scale0(), in.zero_point0(), in2.zero_point0());
      activation_range(op.activation, out, &p.activation_min, &p.activation_max);
      break;
    }
    case OpType::kAveragePool2D: {
      if (in.shape.size() != 4 || out.shape.size() != 4) fail("input and output must be 4-D");
      if (in.scale0() != out.scale0() || in.zero_point0() != out.zero_point0())
        fail("input and output quantization differ (TFLite requires them equal)");
      if (op.filter_w < 1 || op.filter_h < 1) fail("pooling window below 1");
      activation_range(op.activation, out, &p.activation_min, &p.activation_max);
      lowering::ConvGeometry& g = p.geometry;
      g.batch = in.dim(0);
      g.in_h = in.dim(1);
      g.in_w = in.dim(2);
      g.in_c = in.dim(3);
      g.out_h = out.dim(1);
      g.out_w = out.dim(2);
      g.out_c = out.dim(3);
      g.kernel_h = op.filter_h;
      g.kernel_w = op.filter_w;
      g.stride_h = op.stride_h;
      g.stride_w = op.stride_w;
      if (op.padding == tflite::Padding::kSame) {
        g.pad_top = std::max(0, (g.out_h - 1) * g.stride_h + g.kernel_h - g.in_h) / 2;
        g.pad_left = std::max(0, (g.out_w - 1) * g.stride_w + g.kernel_w - g.in_w) / 2;
      }
      if (g.out_c != g.in_c || out.dim(0) != g.batch) fail("output shape does not match the input");
      break;
    }
    case OpType::kMean: {
      if (op.inputs.size() != 2 || op.inputs[1] < 0) fail("needs an axis tensor");
      const Tensor& axis = m.tensor(op.inputs[1]);
      if (axis.type != TensorType::kInt32 || axis.num_elements() != 2 || !axis.is_constant())
        fail("axis must be a constant INT32 pair");
      const int32_t* ax = reinterpret_cast<const int32_t*>(axis.data.data());
      const bool spatial = (ax[0] == 1 && ax[1] == 2) || (ax[0] == 2 && ax[1] == 1);
      if (in.shape.size() != 4 || !spatial)
        fail("only the mean over height and width of a 4-D tensor is supported");
      if (out.num_elements() != static_cast<size_t>(in.dim(0)) * in.dim(3)) fail("output shape does not match");
      // TFLite's reduce.cc: multiplier = input scale / output scale (double).
      p.requant_multiplier =
          quant::quantize_multiplier(static_cast<double>(in.scale0()) / static_cast<double>(out.scale0()));
      p.input_zero_point = in.zero_point0();
      // XNNPACK's global average pooling: one float scale for the sum.
      p.mean_scale = in.scale0() / (out.scale0() * static_cast<float>(in.dim(1) * in.dim(2)));
      break;
    }
    case OpType::kReshape:
      if (in.num_elements() != out.num_elements()) fail("RESHAPE changes the element count");
      if (in.type != out.type) fail("RESHAPE changes the type");
      break;
    case OpType::kSoftmax: {
      // TFLite's softmax Prepare for 8-bit: Q5.26 input differences.
      constexpr int kScaledDiffIntegerBits = 5;
      if (out.scale0() != 1.0f / 256 || out.zero_point0() != -128)
        fail("int8 SOFTMAX output must have scale 1/256 and zero point -128");
      const double max_real = static_cast<double>((int64_t{1} << 31) - 1);
      const double real = std::min(static_cast<double>(op.softmax_beta) * static_cast<double>(in.scale0()) *
                                       static_cast<double>(int64_t{1} << (31 - kScaledDiffIntegerBits)),
                                   max_real);
      const quant::QuantizedMultiplier q = quant::quantize_multiplier(real);
      if (q.shift < 0) fail("softmax input multiplier below one");
      p.softmax_input_multiplier = q.multiplier;
      p.softmax_input_left_shift = q.shift;
      const double max_input_rescaled = 1.0 * ((1 << kScaledDiffIntegerBits) - 1) *
                                        static_cast<double>(int64_t{1} << (31 - kScaledDiffIntegerBits)) /
                                        static_cast<double>(int64_t{1} << q.shift);
      p.softmax_diff_min = -static_cast<int32_t>(std::floor(max_input_rescaled));
      // TFLite's builtin int8 SOFTMAX (optimized_ops::PopulateSoftmaxLookupTable):
      // table[255 - v] = expf(-in_scale * beta * v).
      const float table_scale = -in.scale0() * op.softmax_beta;
      p.softmax_exp_table.assign(256, 0.0f);
      for (int v = 0; v <= 255; ++v) p.softmax_exp_table[static_cast<size_t>(255 - v)] = std::exp(table_scale * static_cast<float>(v));
      p.softmax_output_scale = out.scale0();
      if (in.num_elements() != out.num_elements()) fail("output size differs from input");
      break;
    }
    case OpType::kQuantize: {
      const bool in_ok = in.type == TensorType::kInt8 || in.type == TensorType::kUInt8;
      const bool out_ok = out.type == TensorType::kInt8 || out.type == TensorType::kUInt8;
      if (!in_ok || !out_ok)
        fail(std::string("only int8/uint8 requantization is supported (got ") + tflite::to_string(in.type) + " -> " +
             tflite::to_string(out.type) + ")");
      if (in.scale.empty() || out.scale.empty()) fail("input and output must be quantized");
      if (in.num_elements() != out.num_elements()) fail("output size differs from input");
      p.requant_multiplier =
          quant::quantize_multiplier(static_cast<double>(in.scale0()) / static_cast<double>(out.scale0()));
      p.input_zero_point = in.zero_point0();
      p.activation_min = out.type == TensorType::kUInt8 ? 0 : -128;
      p.activation_max = out.type == TensorType::kUInt8 ? 255 : 127;
      break;
    }
  }
  ops_.push_back(std::move(p));
}

const uint8_t* Engine::data_of(int tensor, const Workspace& ws) const {
  const Tensor& t = model_->tensor(tensor);
  if (t.is_constant()) return t.data.data();
  return ws.values[static_cast<size_t>(tensor)].data();
}

uint8_t* Engine::output_of(const PreparedOp& p, Workspace& ws) const {
  const int t = p.op->outputs[0];
  auto& buf = ws.values[static_cast<size_t>(t)];
  buf.resize(model_->tensor(t).num_elements());
  return buf.data();
}

std::vector<int32_t> reference_accumulators(const Model& model, const PreparedOp& p, const int8_t* input) {
  // Direct transcription of TFLite's reference ConvPerChannel /
  // DepthwiseConvPerChannel / FullyConnected accumulation: padded taps are
  // skipped, every product uses (x + input_offset).
  const lowering::ConvGeometry& g = p.geometry;
  const int8_t* w = reinterpret_cast<const int8_t*>(model.tensor(p.op->inputs[1]).data.data());
  std::vector<int32_t> acc(static_cast<size_t>(g.rows()) * g.out_c);
  if (p.op->type == OpType::kFullyConnected) {
    for (int b = 0; b < g.batch; ++b)
      for (int c = 0; c < g.out_c; ++c) {
        int32_t sum = 0;
        for (int d = 0; d < g.in_c; ++d)
          sum += (input[static_cast<size_t>(b) * g.in_c + d] + p.input_offset) *
                 w[static_cast<size_t>(c) * g.in_c + d];
        acc[static_cast<size_t>(b) * g.out_c + c] = sum + p.bias[static_cast<size_t>(c)];
      }
    return acc;
  }
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int oc = 0; oc < g.out_c; ++oc) {
          int32_t sum = 0;
          for (int ky = 0; ky < g.kernel_h; ++ky)
            for (int kx = 0; kx < g.kernel_w; ++kx) {
              const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
              const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
              if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
              const int8_t* px = input + ((static_cast<size_t>(b) * g.in_h + iy) * g.in_w + ix) * g.in_c;
              if (g.depthwise) {
                const int ic = oc / g.depth_multiplier;
                sum += (px[ic] + p.input_offset) * w[(static_cast<size_t>(ky) * g.kernel_w + kx) * g.out_c + oc];
              } else {
                const int8_t* wr = w + ((static_cast<size_t>(oc) * g.kernel_h + ky) * g.kernel_w + kx) * g.in_c;
                for (int ic = 0; ic < g.in_c; ++ic) sum += (px[ic] + p.input_offset) * wr[ic];
              }
            }
          acc[((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] =
              sum + p.bias[static_cast<size_t>(oc)];
        }
  return acc;
}

namespace {

void prepare_gemm_operands(const PreparedOp& p, const int8_t* input, Workspace& ws);

// Fast path: fills ws.acc with the layer's accumulators, rows `stride` apart
// (conv/FC: the packed GEMM width; depthwise: out_c). Returns the stride.
int fast_layer_accumulators(const PreparedOp& p, const int8_t* input, Workspace& ws) {
  const lowering::ConvGeometry& g = p.geometry;
  const int m = g.rows();
  if (g.depthwise) {
    ws.acc.resize(static_cast<size_t>(m) * g.out_c);
    fast::depthwise(p, input, ws.acc.data());
    return g.out_c;
  }
  prepare_gemm_operands(p, input, ws);
  ws.acc.resize(static_cast<size_t>(m) * p.packed.n_padded);
  gemm_s16(ws.a16.data(), m, p.packed, p.correction_padded.data(), ws.acc.data());
  return p.packed.n_padded;
}

// Conv/FC: activations as int16 rows in ws.a16 (im2col unless the layer is a
// plain 1x1/stride-1 conv or FC), for the GEMM with the folded correction as
// its initial value.
void prepare_gemm_operands(const PreparedOp& p, const int8_t* input, Workspace& ws) {
  const lowering::ConvGeometry& g = p.geometry;
  const int m = g.rows();
  const int k = g.reduction();
  const int kp = p.packed.k_padded;
  ws.a16.resize(static_cast<size_t>(m) * kp);
  const bool direct = p.op->type == OpType::kFullyConnected ||
                      (g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
                       g.pad_left == 0);
  std::vector<int8_t> row(direct ? 0 : static_cast<size_t>(k));
  const int8_t pad = static_cast<int8_t>(-p.input_offset);
  for (int r = 0; r < m; ++r) {
    const int8_t* src = input + static_cast<size_t>(r) * k;
    if (!direct) {
      lowering::im2col_row(g, input, pad, r, row.data());
      src = row.data();
    }
    int16_t* dst = ws.a16.data() + static_cast<size_t>(r) * kp;
    for (int i = 0; i < k; ++i) dst[i] = src[i];
    for (int i = k; i < kp; ++i) dst[i] = 0;
  }
}

void check_replacement(const PreparedOp& p, const std::vector<int32_t>& acc) {
  if (acc.size() != static_cast<size_t>(p.geometry.rows()) * p.geometry.out_c)
    throw std::logic_error("accumulator observer changed the size of operator " + std::to_string(p.index) +
                           "'s accumulators");
}

}  // namespace

std::vector<int32_t> fast_accumulators(const PreparedOp& p, const int8_t* input, Workspace& ws) {
  const int stride = fast_layer_accumulators(p, input, ws);
  const lowering::ConvGeometry& g = p.geometry;
  std::vector<int32_t> acc(static_cast<size_t>(g.rows()) * g.out_c);
  for (int r = 0; r < g.rows(); ++r)
    std::copy_n(ws.acc.begin() + static_cast<std::ptrdiff_t>(r) * stride, g.out_c,
                acc.begin() + static_cast<std::ptrdiff_t>(r) * g.out_c);
  return acc;
}

void Engine::run_array_layer(const PreparedOp& p, Workspace& ws, const AccumulatorObserver& observer) const {
  const int8_t* raw_input = reinterpret_cast<const int8_t*>(data_of(p.op->inputs[0], ws));
  const int8_t* input = raw_input;
  if (p.precision.act_drop > 0) {  // the PEs' mask on the activations
    const size_t n = model_->tensor(p.op->inputs[0]).num_elements();
    ws.reduced_input.resize(n);
    for (size_t i = 0; i < n; ++i)
      ws.reduced_input[i] = static_cast<int8_t>(reduce_operand(raw_input[i], p.precision.act_drop));
    input = ws.reduced_input.data();
  }
  int8_t* out = reinterpret_cast<int8_t*>(output_of(p, ws));
  const lowering::ConvGeometry& g = p.geometry;
  if (kernels_ == Kernels::kReference) {
    // Plain per-element requantization, as TFLite's reference kernels do it.
    std::vector<int32_t> acc = reference_accumulators(*model_, p, input);
    if (observer) {
      observer(p, input, acc);
      check_replacement(p, acc);
    }
    for (int r = 0; r < g.rows(); ++r)
      for (int c = 0; c < g.out_c; ++c) {
        const size_t i = static_cast<size_t>(r) * g.out_c + c;
        if (p.requant.fp32) {
          out[i] = static_cast<int8_t>(quant::requantize_fp32(acc[i], p.channel_scale[static_cast<size_t>(c)],
                                                              p.output_zero_point, p.activation_min, p.activation_max));
          continue;
        }
        const quant::QuantizedMultiplier& q = p.channel_multiplier[static_cast<size_t>(c)];
        const int32_t v = quant::multiply_by_quantized_multiplier(acc[i], q.multiplier, q.shift) + p.output_zero_point;
        out[i] = static_cast<int8_t>(clamp(v, p.activation_min, p.activation_max));
      }
    return;
  }
  if (!observer && !g.depthwise) {
    prepare_gemm_operands(p, input, ws);
    fast::RequantEpilogue ep;
    ep.requant = &p.requant;
    ep.zero_point = p.output_zero_point;
    ep.lo = p.activation_min;
    ep.hi = p.activation_max;
    ep.out = out;
    ep.n = g.out_c;
    fast::gemm_requantize(ws.a16.data(), g.rows(), p.packed, p.correction_padded.data(), ep);
    return;
  }
  const int stride = fast_layer_accumulators(p, input, ws);
  if (observer && stride == g.out_c) {
    // Rows already packed m x out_c: the observer works in place.
    observer(p, raw_input, ws.acc);
    check_replacement(p, ws.acc);
  } else if (observer) {
    // Padded GEMM rows: through a buffer the workspace keeps (no allocation
    // and page faults per layer).
    std::vector<int32_t>& acc = ws.observed;
    acc.resize(static_cast<size_t>(g.rows()) * g.out_c);
    for (int r = 0; r < g.rows(); ++r)
      std::copy_n(ws.acc.begin() + static_cast<std::ptrdiff_t>(r) * stride, g.out_c,
                  acc.begin() + static_cast<std::ptrdiff_t>(r) * g.out_c);
    observer(p, raw_input, acc);
    check_replacement(p, acc);
    for (int r = 0; r < g.rows(); ++r)
      std::copy_n(acc.begin() + static_cast<std::ptrdiff_t>(r) * g.out_c, g.out_c,
                  ws.acc.begin() + static_cast<std::ptrdiff_t>(r) * stride);
  }
  fast::requantize(ws.acc.data(), g.rows(), g.out_c, stride, p.requant, p.output_zero_point, p.activation_min,
                   p.activation_max, out);
}

void Engine::run_add(const PreparedOp& p, Workspace& ws) const {
  const int8_t* a = reinterpret_cast<const int8_t*>(data_of(p.op->inputs[0], ws));
  const int8_t* b = reinterpret_cast<const int8_t*>(data_of(p.op->inputs[1], ws));
  int8_t* out = reinterpret_cast<int8_t*>(output_of(p, ws));
  const size_t n = model_->tensor(p.op->outputs[0]).num_elements();
  if (arithmetic_ == Arithmetic::kTFLite) {  // one loop for both kernel paths
    for (size_t i = 0; i < n; ++i)
      out[i] = static_cast<int8_t>(
          quant::xnnpack_add(a[i], b[i], p.xnnpack_add, p.output_zero_point, p.activation_min, p.activation_max));
    return;
  }
  if (kernels_ == Kernels::kFast) {
    fast::add(a, b, n, p, out);
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    const int32_t shifted1 = (a[i] + p.input1_offset) * (1 << p.left_shift);
    const int32_t shifted2 = (b[i] + p.input2_offset) * (1 << p.left_shift);
    const int32_t scaled1 =
        quant::multiply_by_quantized_multiplier(shifted1, p.input1_multiplier.multiplier, p.input1_multiplier.shift);
    const int32_t scaled2 =
        quant::multiply_by_quantized_multiplier(shifted2, p.input2_multiplier.multiplier, p.input2_multiplier.shift);
    const int32_t raw = quant::multiply_by_quantized_multiplier(scaled1 + scaled2, p.output_multiplier.multiplier,
                                                                p.output_multiplier.shift) +
                        p.output_zero_point;
    out[i] = static_cast<int8_t>(clamp(raw, p.activation_min, p.activation_max));
  }
}

void Engine::run_average_pool(const PreparedOp& p, Workspace& ws) const {
  const lowering::ConvGeometry& g = p.geometry;
  const int8_t* in = reinterpret_cast<const int8_t*>(data_of(p.op->inputs[0], ws));
  int8_t* out = reinterpret_cast<int8_t*>(output_of(p, ws));
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int c = 0; c < g.out_c; ++c) {
          const int y0 = oy * g.stride_h - g.pad_top;
          const int x0 = ox * g.stride_w - g.pad_left;
          const int fy_start = std::max(0, -y0), fy_end = std::min(g.kernel_h, g.in_h - y0);
          const int fx_start = std::max(0, -x0), fx_end = std::min(g.kernel_w, g.in_w - x0);
          int32_t sum = 0;
          int count = 0;
          for (int fy = fy_start; fy < fy_end; ++fy)
            for (int fx = fx_start; fx < fx_end; ++fx) {
              sum += in[((static_cast<size_t>(b) * g.in_h + y0 + fy) * g.in_w + x0 + fx) * g.in_c + c];
              ++count;
            }
          if (count == 0) throw std::runtime_error(model_->path + ": AVERAGE_POOL_2D window outside the input");
          // Round half away from zero, as TFLite's integer AveragePool does.
          sum = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
          out[((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * g.out_c + c] =
              static_cast<int8_t>(clamp(sum, p.activation_min, p.activation_max));
        }
}

void Engine::run_mean(const PreparedOp& p, Workspace& ws) const {
  const Tensor& t = model_->tensor(p.op->inputs[0]);
  const int8_t* in = reinterpret_cast<const int8_t*>(data_of(p.op->inputs[0], ws));
  int8_t* out = reinterpret_cast<int8_t*>(output_of(p, ws));
  const int batch = t.dim(0), h = t.dim(1), w = t.dim(2), c = t.dim(3);
  const int count = h * w;
  for (int b = 0; b < batch; ++b)
    for (int d = 0; d < c; ++d) {
      int32_t acc = 0;
      for (int i = 0; i < count; ++i) acc += in[(static_cast<size_t>(b) * count + i) * c + d] - p.input_zero_point;
      if (arithmetic_ == Arithmetic::kTFLite) {
        out[static_cast<size_t>(b) * c + d] =
            static_cast<int8_t>(quant::requantize_fp32(acc, p.mean_scale, p.output_zero_point, -128, 127));
        continue;
      }
      acc = quant::multiply_by_quantized_multiplier(acc, p.requant_multiplier.multiplier, p.requant_multiplier.shift);
      acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
      acc += p.output_zero_point;
      out[static_cast<size_t>(b) * c + d] = static_cast<int8_t>(clamp(acc, -128, 127));
    }
}

void Engine::run_softmax(const PreparedOp& p, Workspace& ws) const {
  constexpr int kScaledDiffIntegerBits = 5;
  constexpr int kAccumulationIntegerBits = 12;
  const Tensor& t = model_->tensor(p.op->inputs[0]);
  const int8_t* in = reinterpret_cast<const int8_t*>(data_of(p.op->inputs[0], ws));
  int8_t* out = reinterpret_cast<int8_t*>(output_of(p, ws));
  const int depth = t.shape.empty() ? 1 : t.shape.back();
  const size_t rows = t.num_elements() / static_cast<size_t>(depth);
  if (arithmetic_ == Arithmetic::kTFLite) {
    // TFLite's builtin kernel (optimized_ops::Softmax with the float table):
    // float sum in input order, one reciprocal, std::round to the output.
    for (size_t r = 0; r < rows; ++r) {
      const int8_t* x = in + r * static_cast<size_t>(depth);
      int8_t* y = out + r * static_cast<size_t>(depth);
      const int32_t max_in_row = *std::max_element(x, x + depth);
      const float* table = p.softmax_exp_table.data() + (255 - max_in_row);
      float sum_exp = 0.0f;
      for (int c = 0; c < depth; ++c) sum_exp += table[x[c]];
      const float inv_sum_exp = 1.0f / (sum_exp * p.softmax_output_scale);
      for (int c = 0; c < depth; ++c) {
        const int32_t q = static_cast<int32_t>(std::round(table[x[c]] * inv_sum_exp)) + p.output_zero_point;
        y[c] = static_cast<int8_t>(clamp(q, -128, 127));
      }
    }
    return;
  }
  auto scaled_exp = [&](int32_t diff) {
    const int32_t rescaled = quant::saturating_rounding_doubling_high_mul(
        static_cast<int32_t>(static_cast<uint32_t>(diff) << p.softmax_input_left_shift), p.softmax_input_multiplier);
    return quant::exp_on_negative_values(rescaled, kScaledDiffIntegerBits);
  };
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* x = in + r * static_cast<size_t>(depth);
    int8_t* y = out + r * static_cast<size_t>(depth);
    const int32_t max_in_row = *std::max_element(x, x + depth);
    int32_t sum_of_exps = 0;  // Q12.19
    for (int c = 0; c < depth; ++c) {
      const int32_t diff = x[c] - max_in_row;
      if (diff >= p.softmax_diff_min)
        sum_of_exps += quant::rounding_divide_by_pot(scaled_exp(diff), kAccumulationIntegerBits);
    }
    int num_bits_over_unit = 0;
    const int32_t shifted_scale = quant::get_reciprocal(sum_of_exps, kAccumulationIntegerBits, &num_bits_over_unit);
    const int exponent = num_bits_over_unit + 31 - 8;
    for (int c = 0; c < depth; ++c) {
      const int32_t diff = x[c] - max_in_row;
      if (diff >= p.softmax_diff_min) {
        const int32_t unsat = quant::rounding_divide_by_pot(
            quant::saturating_rounding_doubling_high_mul(shifted_scale, scaled_exp(diff)), exponent);
        y[c] = static_cast<int8_t>(clamp(unsat - 128, -128, 127));
      } else {
        y[c] = -128;
      }
    }
  }
}

void Engine::run_quantize(const PreparedOp& p, Workspace& ws) const {
  const Tensor& tin = model_->tensor(p.op->inputs[0]);
  const Tensor& tout = model_->tensor(p.op->outputs[0]);
  const uint8_t* in = data_of(p.op->inputs[0], ws);
  uint8_t* out = output_of(p, ws);
  const size_t n = tout.num_elements();
  const bool in_signed = tin.type == TensorType::kInt8;
  const bool out_signed = tout.type == TensorType::kInt8;
  for (size_t i = 0; i < n; ++i) {
    const int32_t x = in_signed ? static_cast<int8_t>(in[i]) : in[i];
    const int32_t v = quant::multiply_by_quantized_multiplier(x - p.input_zero_point, p.requant_multiplier.multiplier,
                                                              p.requant_multiplier.shift) +
                      p.output_zero_point;
    const int32_t c = clamp(v, p.activation_min, p.activation_max);
    out[i] = out_signed ? static_cast<uint8_t>(static_cast<int8_t>(c)) : static_cast<uint8_t>(c);
  }
}

void Engine::run_armnn(const PreparedOp& p, Workspace& ws) const {
  auto in8 = [&](size_t i) { return reinterpret_cast<const int8_t*>(data_of(p.op->inputs[i], ws)); };
  auto out8 = [&]() { return reinterpret_cast<int8_t*>(output_of(p, ws)); };
  switch (p.op->type) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D:
    case OpType::kFullyConnected: armnn::array_layer(*model_, p, in8(0), out8()); break;
    case OpType::kAdd: armnn::add(*model_, p, in8(0), in8(1), out8()); break;
    case OpType::kAveragePool2D: armnn::average_pool(*model_, p, in8(0), out8()); break;
    case OpType::kMean: armnn::mean(*model_, p, in8(0), out8()); break;
    case OpType::kSoftmax: armnn::softmax(*model_, p, in8(0), out8()); break;
    case OpType::kQuantize: armnn::quantize(*model_, p, data_of(p.op->inputs[0], ws), output_of(p, ws)); break;
    case OpType::kReshape: break;  // a copy, done by run_operator
  }
}

void Engine::begin(const std::vector<uint8_t>& input, Workspace& ws) const {
  const Model& m = *model_;
  const Tensor& in = m.input();
  if (input.size() != in.num_elements()) {
    throw std::runtime_error(m.path + ": input has " + std::to_string(input.size()) + " bytes, tensor '" + in.name +
                             "' (" + tflite::shape_string(in.shape) + ") needs " +
                             std::to_string(in.num_elements()));
  }
  ws.values.resize(m.tensors.size());
  ws.values[static_cast<size_t>(m.inputs[0])] = input;
}

void Engine::run_operator(size_t index, Workspace& ws, const AccumulatorObserver& observer) const {
  const PreparedOp& p = ops_.at(index);
  if (p.op->type == OpType::kReshape) {
    const uint8_t* src = data_of(p.op->inputs[0], ws);
    uint8_t* dst = output_of(p, ws);
    std::memmove(dst, src, model_->tensor(p.op->outputs[0]).num_elements());
    return;
  }
  if (arithmetic_ == Arithmetic::kArmNN) {
    if (observer) throw std::logic_error("accumulator observers need integer accumulators (not Arithmetic::kArmNN)");
    run_armnn(p, ws);
    return;
  }
  switch (p.op->type) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D:
    case OpType::kFullyConnected: run_array_layer(p, ws, observer); break;
    case OpType::kAdd: run_add(p, ws); break;
    case OpType::kAveragePool2D: run_average_pool(p, ws); break;
    case OpType::kMean: run_mean(p, ws); break;
    case OpType::kSoftmax: run_softmax(p, ws); break;
    case OpType::kQuantize: run_quantize(p, ws); break;
    case OpType::kReshape: break;
  }
}

std::vector<uint8_t> Engine::run(const std::vector<uint8_t>& input, Workspace& ws,
                                 const AccumulatorObserver& observer) const {
  begin(input, ws);
  for (size_t i = 0; i < ops_.size(); ++i) run_operator(i, ws, observer);
  return ws.values[static_cast<size_t>(model_->outputs[0])];
}

}  // namespace vosa::engine
