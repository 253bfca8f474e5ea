#include "armnn_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

// Compiled with -ffp-contract=off (CMakeLists.txt): a fused multiply-add
// would round differently from CpuRef's separate float multiply and add.

namespace vosa::engine::armnn {
namespace {

using tflite::Activation;
using tflite::OpType;
using tflite::Tensor;
using tflite::TensorType;

float dequantize(int32_t q, float scale, int32_t zero_point) { return static_cast<float>(q - zero_point) * scale; }

int32_t quantize(float v, float scale, int32_t zero_point, int32_t lo, int32_t hi) {
  const float q = std::round(v / scale) + static_cast<float>(zero_point);
  return static_cast<int32_t>(std::min(std::max(q, static_cast<float>(lo)), static_cast<float>(hi)));
}

int8_t quantize_int8(float v, const Tensor& t) {
  return static_cast<int8_t>(quantize(v, t.scale0(), t.zero_point0(), -128, 127));
}

// Arm NN's TfLiteParser turns a fused activation into its own Activation
// layer: dequantize, ReLu = max(0, v) / BoundedReLu = min(a, max(b, v)),
// quantize again.
void fused_activation(Activation act, const Tensor& t, int8_t* values, size_t n) {
  if (act == Activation::kNone) return;
  const float lo = act == Activation::kReluN1To1 ? -1.0f : 0.0f;
  const float hi = act == Activation::kRelu6 ? 6.0f : 1.0f;
  for (size_t i = 0; i < n; ++i) {
    float v = std::max(lo, dequantize(values[i], t.scale0(), t.zero_point0()));
    if (act != Activation::kRelu) v = std::min(hi, v);
    values[i] = quantize_int8(v, t);
  }
}

}  // namespace

void array_layer(const tflite::Model& m, const PreparedOp& p, const int8_t* in, int8_t* out) {
  const tflite::Operator& op = *p.op;
  const lowering::ConvGeometry& g = p.geometry;
  const Tensor& tin = m.tensor(op.inputs[0]);
  const Tensor& tw = m.tensor(op.inputs[1]);
  const Tensor& tout = m.tensor(op.outputs[0]);
  // Decoded weights (QSymm8PerAxisDecoder / QSymmS8Decoder), in TFLite's
  // layout: conv OHWI, depthwise 1HW(out_c), FC (out_c)K.
  const int8_t* wq = reinterpret_cast<const int8_t*>(tw.data.data());
  std::vector<float> w(tw.num_elements());
  const bool per_channel = tw.scale.size() > 1;
  const size_t per_out = g.depthwise ? 1 : w.size() / static_cast<size_t>(g.out_c);
  for (size_t i = 0; i < w.size(); ++i) {
    const size_t c = g.depthwise ? i % static_cast<size_t>(g.out_c) : i / per_out;
    w[i] = dequantize(wq[i], per_channel ? tw.scale[c] : tw.scale[0], 0);
  }
  // Decoded bias (ScaledInt32PerAxisDecoder / Int32Decoder with the bias
  // tensor's own scales, as the model stores them).
  std::vector<float> bias;
  if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
    const Tensor& tb = m.tensor(op.inputs[2]);
    const int32_t* bq = reinterpret_cast<const int32_t*>(tb.data.data());
    for (int c = 0; c < g.out_c; ++c)
      bias.push_back(static_cast<float>(bq[c]) * (tb.scale.size() > 1 ? tb.scale[static_cast<size_t>(c)]
                                                                        : tb.scale0()));
  }
  std::vector<float> x(tin.num_elements());
  for (size_t i = 0; i < x.size(); ++i) x[i] = dequantize(in[i], tin.scale0(), tin.zero_point0());

  const size_t n_out = static_cast<size_t>(g.rows()) * g.out_c;
  if (op.type == OpType::kFullyConnected) {
    // FullyConnected.cpp: outval += weight * input over the input channels.
    for (int b = 0; b < g.batch; ++b)
      for (int c = 0; c < g.out_c; ++c) {
        float sum = 0.0f;
        for (int k = 0; k < g.in_c; ++k)
          sum += w[static_cast<size_t>(c) * g.in_c + k] * x[static_cast<size_t>(b) * g.in_c + k];
        if (!bias.empty()) sum += bias[static_cast<size_t>(c)];
        out[static_cast<size_t>(b) * g.out_c + c] = quantize_int8(sum, tout);
      }
  } else {
    // ConvImpl.cpp Convolve: sum += filter * input over (input channel,
    // filter row, filter column); padded taps add 0 and are skipped here.
    // Input as [c][y][x] and weights as [oc][ci][ky][kx] so that order walks
    // memory forwards.
    const int ci_count = g.depthwise ? 1 : g.in_c;
    std::vector<float> wt(static_cast<size_t>(g.out_c) * ci_count * g.taps());
    for (int oc = 0; oc < g.out_c; ++oc)
      for (int ci = 0; ci < ci_count; ++ci)
        for (int t = 0; t < g.taps(); ++t)
          wt[(static_cast<size_t>(oc) * ci_count + ci) * g.taps() + t] =
              g.depthwise ? w[static_cast<size_t>(t) * g.out_c + oc]
                          : w[(static_cast<size_t>(oc) * g.taps() + t) * g.in_c + ci];
    std::vector<float> xc(static_cast<size_t>(g.in_c) * g.in_h * g.in_w);
    // First and one-past-last filter tap whose input lies inside [0, size).
    auto tap_range = [](int origin, int size, int kernel, int dilation, int* lo, int* hi) {
      *lo = 0;
      while (*lo < kernel && origin + *lo * dilation < 0) ++*lo;
      *hi = kernel;
      while (*hi > *lo && origin + (*hi - 1) * dilation >= size) --*hi;
    };
    for (int b = 0; b < g.batch; ++b) {
      const float* xb = x.data() + static_cast<size_t>(b) * g.in_h * g.in_w * g.in_c;
      for (int c = 0; c < g.in_c; ++c)
        for (int i = 0; i < g.in_h * g.in_w; ++i)
          xc[static_cast<size_t>(c) * g.in_h * g.in_w + i] = xb[static_cast<size_t>(i) * g.in_c + c];
      for (int oy = 0; oy < g.out_h; ++oy) {
        const int y0 = oy * g.stride_h - g.pad_top;
        int ky0, ky1;
        tap_range(y0, g.in_h, g.kernel_h, g.dilation_h, &ky0, &ky1);
        for (int ox = 0; ox < g.out_w; ++ox) {
          const int x0 = ox * g.stride_w - g.pad_left;
          int kx0, kx1;
          tap_range(x0, g.in_w, g.kernel_w, g.dilation_w, &kx0, &kx1);
          const bool pointwise = !g.depthwise && g.taps() == 1;  // one tap: the channels in NHWC order
          const float* px = pointwise && ky0 < ky1 && kx0 < kx1
                                ? xb + (static_cast<size_t>(y0) * g.in_w + x0) * g.in_c
                                : nullptr;
          for (int oc = 0; oc < g.out_c; ++oc) {
            float sum = 0.0f;
            if (px) {
              const float* wk = wt.data() + static_cast<size_t>(oc) * ci_count;
              for (int ci = 0; ci < ci_count; ++ci) sum += wk[ci] * px[ci];
              if (!bias.empty()) sum += bias[static_cast<size_t>(oc)];
              out[((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] = quantize_int8(sum, tout);
              continue;
            }
            const int ci_base = g.depthwise ? oc / g.depth_multiplier : 0;
            for (int k = 0; k < ci_count; ++k) {
              const float* plane = xc.data() + static_cast<size_t>(ci_base + k) * g.in_h * g.in_w;
              const float* wk = wt.data() + (static_cast<size_t>(oc) * ci_count + k) * g.taps();
              for (int ky = ky0; ky < ky1; ++ky) {
                const std::ptrdiff_t row = static_cast<std::ptrdiff_t>(y0 + ky * g.dilation_h) * g.in_w + x0;
                const float* wrow = wk + static_cast<size_t>(ky) * g.kernel_w;
                for (int kx = kx0; kx < kx1; ++kx) sum += wrow[kx] * plane[row + kx * g.dilation_w];
              }
            }
            if (!bias.empty()) sum += bias[static_cast<size_t>(oc)];
            out[((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] = quantize_int8(sum, tout);
          }
        }
      }
    }
  }
  fused_activation(op.activation, tout, out, n_out);
}

void add(const tflite::Model& m, const PreparedOp& p, const int8_t* a, const int8_t* b, int8_t* out) {
  const Tensor& ta = m.tensor(p.op->inputs[0]);
  const Tensor& tb = m.tensor(p.op->inputs[1]);
  const Tensor& tout = m.tensor(p.op->outputs[0]);
  const size_t n = tout.num_elements();
  for (size_t i = 0; i < n; ++i)
    out[i] = quantize_int8(
        dequantize(a[i], ta.scale0(), ta.zero_point0()) + dequantize(b[i], tb.scale0(), tb.zero_point0()), tout);
  fused_activation(p.op->activation, tout, out, n);
}

void average_pool(const tflite::Model& m, const PreparedOp& p, const int8_t* in, int8_t* out) {
  const lowering::ConvGeometry& g = p.geometry;
  const Tensor& tin = m.tensor(p.op->inputs[0]);
  const Tensor& tout = m.tensor(p.op->outputs[0]);
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox)
        for (int c = 0; c < g.out_c; ++c) {
          // Padding is excluded: the window clipped to the input, its size
          // the divisor (Pooling2d.cpp with PaddingMethod::Exclude).
          const int y0 = std::max(0, oy * g.stride_h - g.pad_top);
          const int y1 = std::min(g.in_h, oy * g.stride_h - g.pad_top + g.kernel_h);
          const int x0 = std::max(0, ox * g.stride_w - g.pad_left);
          const int x1 = std::min(g.in_w, ox * g.stride_w - g.pad_left + g.kernel_w);
          float sum = 0.0f;
          for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x)
              sum += dequantize(in[((static_cast<size_t>(b) * g.in_h + y) * g.in_w + x) * g.in_c + c], tin.scale0(),
                                tin.zero_point0());
          sum /= static_cast<float>((y1 - y0) * (x1 - x0));
          out[((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * g.out_c + c] = quantize_int8(sum, tout);
        }
  fused_activation(p.op->activation, tout, out, tout.num_elements());
}

void mean(const tflite::Model& m, const PreparedOp& p, const int8_t* in, int8_t* out) {
  const Tensor& tin = m.tensor(p.op->inputs[0]);
  const Tensor& tout = m.tensor(p.op->outputs[0]);
  const int batch = tin.dim(0), count = tin.dim(1) * tin.dim(2), c = tin.dim(3);
  for (int b = 0; b < batch; ++b)
    for (int d = 0; d < c; ++d) {
      float sum = 0.0f;
      for (int i = 0; i < count; ++i)
        sum += dequantize(in[(static_cast<size_t>(b) * count + i) * c + d], tin.scale0(), tin.zero_point0());
      out[static_cast<size_t>(b) * c + d] = quantize_int8(sum / static_cast<float>(count), tout);
    }
}

void softmax(const tflite::Model& m, const PreparedOp& p, const int8_t* in, int8_t* out) {
  const Tensor& tin = m.tensor(p.op->inputs[0]);
  const Tensor& tout = m.tensor(p.op->outputs[0]);
  const int depth = tin.shape.empty() ? 1 : tin.shape.back();
  const size_t rows = tin.num_elements() / static_cast<size_t>(depth);
  const float beta = p.op->softmax_beta;
  std::vector<float> x(static_cast<size_t>(depth));
  for (size_t r = 0; r < rows; ++r) {
    for (int c = 0; c < depth; ++c)
      x[static_cast<size_t>(c)] = dequantize(in[r * depth + c], tin.scale0(), tin.zero_point0());
    const float max = *std::max_element(x.begin(), x.end());
    float sum = 0.0f;
    for (float v : x) sum += std::exp((v - max) * beta);
    for (int c = 0; c < depth; ++c)
      out[r * depth + c] = quantize_int8(std::exp((x[static_cast<size_t>(c)] - max) * beta) / sum, tout);
  }
}

void quantize(const tflite::Model& m, const PreparedOp& p, const uint8_t* in, uint8_t* out) {
  const Tensor& tin = m.tensor(p.op->inputs[0]);
  const Tensor& tout = m.tensor(p.op->outputs[0]);
  const bool in_signed = tin.type == TensorType::kInt8;
  const bool out_signed = tout.type == TensorType::kInt8;
  for (size_t i = 0; i < tout.num_elements(); ++i) {
    const int32_t x = in_signed ? static_cast<int8_t>(in[i]) : in[i];
    const int32_t q = quantize(dequantize(x, tin.scale0(), tin.zero_point0()), tout.scale0(), tout.zero_point0(),
                               out_signed ? -128 : 0, out_signed ? 127 : 255);
    out[i] = out_signed ? static_cast<uint8_t>(static_cast<int8_t>(q)) : static_cast<uint8_t>(q);
  }
}

}  // namespace vosa::engine::armnn
