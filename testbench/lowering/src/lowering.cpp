#include "vosa/lowering.hpp"

#include "vosa/precision.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace vosa::lowering {
namespace {

using tflite::Model;
using tflite::OpType;
using tflite::Operator;
using tflite::Tensor;
using tflite::TensorType;

std::string op_label(const Operator& op, size_t index) {
  return "operator " + std::to_string(index) + " (" + tflite::to_string(op.type) + ")";
}

int output_size(tflite::Padding padding, int in, int filter, int stride, int dilation) {
  const int effective = (filter - 1) * dilation + 1;
  if (padding == tflite::Padding::kSame) return (in + stride - 1) / stride;
  return (in - effective + stride) / stride;
}

int leading_padding(int in, int out, int filter, int stride, int dilation) {
  const int effective = (filter - 1) * dilation + 1;
  const int total = std::max(0, (out - 1) * stride + effective - in);
  return total / 2;
}

const int8_t* int8_data(const Tensor& t) { return reinterpret_cast<const int8_t*>(t.data.data()); }

const int32_t* int32_data(const Tensor& t) { return reinterpret_cast<const int32_t*>(t.data.data()); }

}  // namespace

bool is_array_layer(OpType type) {
  return type == OpType::kConv2D || type == OpType::kDepthwiseConv2D || type == OpType::kFullyConnected;
}

ConvGeometry geometry_of(const Model& model, const Operator& op, size_t op_index) {
  const std::string label = op_label(op, op_index);
  auto fail = [&](const std::string& what) { throw std::runtime_error(model.path + ": " + label + ": " + what); };
  if (!is_array_layer(op.type)) fail("not a convolution or fully-connected layer");
  if (op.inputs.size() < 2 || op.inputs[0] < 0 || op.inputs[1] < 0 || op.outputs.empty())
    fail("needs an input, a weight tensor and an output");
  const Tensor& in = model.tensor(op.inputs[0]);
  const Tensor& w = model.tensor(op.inputs[1]);
  const Tensor& out = model.tensor(op.outputs[0]);
  if (in.type != TensorType::kInt8 || w.type != TensorType::kInt8 || out.type != TensorType::kInt8) {
    fail(std::string("input, weights and output must be INT8 (got ") + tflite::to_string(in.type) + ", " +
         tflite::to_string(w.type) + ", " + tflite::to_string(out.type) + ")");
  }
  if (!w.is_constant()) fail("weights '" + w.name + "' are not a constant tensor");
  for (int64_t zp : w.zero_point) {
    if (zp != 0) fail("weights '" + w.name + "' have a non-zero zero point (int8 weights must be symmetric)");
  }
  if (in.scale.empty() || out.scale.empty() || w.scale.empty()) fail("input, weights and output must be quantized");
  if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
    const Tensor& bias = model.tensor(op.inputs[2]);
    if (bias.type != TensorType::kInt32 || !bias.is_constant()) fail("bias '" + bias.name + "' must be constant INT32");
  }

  ConvGeometry g;
  if (op.type == OpType::kFullyConnected) {
    if (w.shape.size() != 2) fail("weights '" + w.name + "' must be 2-D, got " + tflite::shape_string(w.shape));
    g.in_c = w.dim(1);
    g.out_c = w.dim(0);
    if (in.num_elements() % static_cast<size_t>(g.in_c) != 0)
      fail("input " + tflite::shape_string(in.shape) + " is not a multiple of " + std::to_string(g.in_c) + " features");
    g.batch = static_cast<int>(in.num_elements() / static_cast<size_t>(g.in_c));
    if (out.num_elements() != static_cast<size_t>(g.batch) * static_cast<size_t>(g.out_c))
      fail("output " + tflite::shape_string(out.shape) + " does not match " + std::to_string(g.batch) + "x" +
           std::to_string(g.out_c));
    if (w.scale.size() != 1 && w.scale.size() != static_cast<size_t>(g.out_c)) fail("weight scales do not match outputs");
    return g;
  }

  if (in.shape.size() != 4 || out.shape.size() != 4 || w.shape.size() != 4) fail("input, weights and output must be 4-D");
  g.batch = in.dim(0);
  g.in_h = in.dim(1);
  g.in_w = in.dim(2);
  g.in_c = in.dim(3);
  g.kernel_h = w.dim(1);
  g.kernel_w = w.dim(2);
  g.stride_h = op.stride_h;
  g.stride_w = op.stride_w;
  g.dilation_h = op.dilation_h;
  g.dilation_w = op.dilation_w;
  g.out_h = output_size(op.padding, g.in_h, g.kernel_h, g.stride_h, g.dilation_h);
  g.out_w = output_size(op.padding, g.in_w, g.kernel_w, g.stride_w, g.dilation_w);
  if (op.type == OpType::kDepthwiseConv2D) {
    g.depthwise = true;
    g.depth_multiplier = op.depth_multiplier;
    g.out_c = w.dim(3);
    if (w.dim(0) != 1) fail("depthwise weights must have shape 1xHxWxC, got " + tflite::shape_string(w.shape));
    if (g.out_c != g.in_c * g.depth_multiplier)
      fail("depthwise output channels " + std::to_string(g.out_c) + " != input channels " + std::to_string(g.in_c) +
           " x depth multiplier " + std::to_string(g.depth_multiplier));
  } else {
    g.out_c = w.dim(0);
    if (w.dim(3) != g.in_c)
      fail("weights have " + std::to_string(w.dim(3)) + " input channels, input has " + std::to_string(g.in_c));
  }
  if (out.dim(0) != g.batch || out.dim(1) != g.out_h || out.dim(2) != g.out_w || out.dim(3) != g.out_c) {
    fail("output shape " + tflite::shape_string(out.shape) + " does not match the " +
         (op.padding == tflite::Padding::kSame ? "SAME" : "VALID") + " padding rule (expected " +
         tflite::shape_string({g.batch, g.out_h, g.out_w, g.out_c}) + ")");
  }
  if (g.out_h <= 0 || g.out_w <= 0) fail("empty output");
  if (w.scale.size() != 1 && w.scale.size() != static_cast<size_t>(g.out_c)) fail("weight scales do not match channels");
  g.pad_top = op.padding == tflite::Padding::kSame
                  ? leading_padding(g.in_h, g.out_h, g.kernel_h, g.stride_h, g.dilation_h)
                  : 0;
  g.pad_left = op.padding == tflite::Padding::kSame
                   ? leading_padding(g.in_w, g.out_w, g.kernel_w, g.stride_w, g.dilation_w)
                   : 0;
  return g;
}

std::vector<int64_t> correction_of(const Model& model, const Operator& op, const ConvGeometry& g, int act_drop,
                                   int weight_drop) {
  const Tensor& in = model.tensor(op.inputs[0]);
  const Tensor& w = model.tensor(op.inputs[1]);
  const int64_t zp_in = reduce_operand(in.zero_point0(), act_drop);
  const int8_t* wd = int8_data(w);
  std::vector<int64_t> corr(static_cast<size_t>(g.out_c), 0);
  if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
    const Tensor& bias = model.tensor(op.inputs[2]);
    if (bias.num_elements() != static_cast<size_t>(g.out_c)) {
      throw std::runtime_error(model.path + ": bias '" + bias.name + "' has " + std::to_string(bias.num_elements()) +
                               " values for " + std::to_string(g.out_c) + " output channels");
    }
    const int32_t* bd = int32_data(bias);
    for (int c = 0; c < g.out_c; ++c) corr[static_cast<size_t>(c)] = bd[c];
  }
  for (int c = 0; c < g.out_c; ++c) {
    int64_t sum_w = 0;
    if (g.depthwise) {
      for (int t = 0; t < g.taps(); ++t)
        sum_w += reduce_operand(wd[static_cast<size_t>(t) * static_cast<size_t>(g.out_c) + c], weight_drop);
    } else {
      const size_t k = static_cast<size_t>(g.reduction());
      for (size_t i = 0; i < k; ++i) sum_w += reduce_operand(wd[static_cast<size_t>(c) * k + i], weight_drop);
    }
    corr[static_cast<size_t>(c)] -= zp_in * sum_w;
  }
  return corr;
}

void im2col_row(const ConvGeometry& g, const int8_t* input, int8_t pad_value, int m, int8_t* row) {
  const int per_image = g.out_h * g.out_w;
  const int b = m / per_image;
  const int oy = (m % per_image) / g.out_w;
  const int ox = m % g.out_w;
  const int8_t* image = input + static_cast<size_t>(b) * g.in_h * g.in_w * g.in_c;
  for (int ky = 0; ky < g.kernel_h; ++ky) {
    const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
    for (int kx = 0; kx < g.kernel_w; ++kx) {
      const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
      int8_t* dst = row + (static_cast<size_t>(ky) * g.kernel_w + kx) * g.in_c;
      if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) {
        std::fill(dst, dst + g.in_c, pad_value);
      } else {
        const int8_t* src = image + (static_cast<size_t>(iy) * g.in_w + ix) * g.in_c;
        std::copy(src, src + g.in_c, dst);
      }
    }
  }
}

std::vector<Gemm> lower_layer(const Model& model, const Operator& op, const ConvGeometry& g, const int8_t* input,
                              int depthwise_group) {
  const Tensor& in = model.tensor(op.inputs[0]);
  const Tensor& w = model.tensor(op.inputs[1]);
  const int8_t pad = static_cast<int8_t>(in.zero_point0());
  const int8_t* wd = int8_data(w);
  const int m = g.rows();
  std::vector<Gemm> gemms;
  if (!g.depthwise) {
    Gemm gm;
    gm.m = m;
    gm.k = g.reduction();
    gm.n = g.out_c;
    gm.a.resize(static_cast<size_t>(gm.m) * gm.k);
    for (int r = 0; r < m; ++r) im2col_row(g, input, pad, r, gm.a.data() + static_cast<size_t>(r) * gm.k);
    // TFLite keeps weights as [out][k]; the array wants B[k][n].
    gm.b.resize(static_cast<size_t>(gm.k) * gm.n);
    for (int c = 0; c < gm.n; ++c)
      for (int k = 0; k < gm.k; ++k)
        gm.b[static_cast<size_t>(k) * gm.n + c] = wd[conv_weight_index(g, k, c)];
    for (int c = 0; c < gm.n; ++c) gm.out_channel.push_back(c);
    gemms.push_back(std::move(gm));
    return gemms;
  }
  if (depthwise_group < 1) throw std::invalid_argument("depthwise_group must be >= 1");
  const int taps = g.taps();
  for (int c0 = 0; c0 < g.out_c; c0 += depthwise_group) {
    Gemm gm;
    const int group = std::min(depthwise_group, g.out_c - c0);
    gm.m = m;
    gm.k = group * taps;
    gm.n = group;
    gm.a.assign(static_cast<size_t>(gm.m) * gm.k, 0);
    gm.b.assign(static_cast<size_t>(gm.k) * gm.n, 0);
    for (int j = 0; j < group; ++j) {
      const int oc = c0 + j;
      const int ic = oc / g.depth_multiplier;
      gm.out_channel.push_back(oc);
      for (int t = 0; t < taps; ++t)
        gm.b[(static_cast<size_t>(j) * taps + t) * gm.n + j] = wd[static_cast<size_t>(t) * g.out_c + oc];
      for (int r = 0; r < m; ++r) {
        const int per_image = g.out_h * g.out_w;
        const int b = r / per_image;
        const int oy = (r % per_image) / g.out_w;
        const int ox = r % g.out_w;
        for (int ky = 0; ky < g.kernel_h; ++ky) {
          const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
          for (int kx = 0; kx < g.kernel_w; ++kx) {
            const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
            const bool inside = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
            const int8_t v =
                inside ? input[((static_cast<size_t>(b) * g.in_h + iy) * g.in_w + ix) * g.in_c + ic] : pad;
            gm.a[static_cast<size_t>(r) * gm.k + static_cast<size_t>(j) * taps + ky * g.kernel_w + kx] = v;
          }
        }
      }
    }
    gemms.push_back(std::move(gm));
  }
  return gemms;
}

const char* to_string(DepthwiseMapping mapping) {
  switch (mapping) {
    case DepthwiseMapping::kChannels: return "channels";
    case DepthwiseMapping::kSpatial: return "spatial";
    case DepthwiseMapping::kAuto: return "auto";
  }
  return "?";
}

DepthwiseMapping depthwise_mapping_from_string(const std::string& name) {
  if (name == "channels") return DepthwiseMapping::kChannels;
  if (name == "spatial") return DepthwiseMapping::kSpatial;
  if (name == "auto") return DepthwiseMapping::kAuto;
  throw std::invalid_argument("depthwise mapping '" + name + "' is not one of channels, spatial, auto");
}

int64_t ws_gemm_cycles(int64_t m, int64_t k, int64_t n, int rows, int cols) {
  const int64_t tiles = ((k + rows - 1) / rows) * ((n + cols - 1) / cols);
  return tiles * (rows + m + rows + cols);
}

namespace {

int64_t ceil_div64(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Input rows/columns a patch of `outputs` outputs along one axis reads.
int patch_span(int outputs, int stride, int kernel, int dilation) {
  return (outputs - 1) * stride + (kernel - 1) * dilation + 1;
}

int64_t channels_cycles(const ConvGeometry& g, int rows, int cols) {
  int64_t cycles = 0;
  for (int c0 = 0; c0 < g.out_c; c0 += cols) {
    const int group = std::min(cols, g.out_c - c0);
    cycles += ws_gemm_cycles(g.rows(), static_cast<int64_t>(group) * g.taps(), group, rows, cols);
  }
  return cycles;
}

int64_t spatial_cycles(const ConvGeometry& g, int rows, int cols, int ph, int pw) {
  const int64_t m = static_cast<int64_t>(g.batch) * ceil_div64(g.out_h, ph) * ceil_div64(g.out_w, pw);
  const int64_t k = static_cast<int64_t>(patch_span(ph, g.stride_h, g.kernel_h, g.dilation_h)) *
                    patch_span(pw, g.stride_w, g.kernel_w, g.dilation_w);
  return g.out_c * ws_gemm_cycles(m, k, static_cast<int64_t>(ph) * pw, rows, cols);
}

}  // namespace

DepthwisePlan plan_depthwise(const ConvGeometry& g, int rows, int cols, DepthwiseMapping requested) {
  if (!g.depthwise) throw std::invalid_argument("plan_depthwise: not a depthwise layer");
  if (rows < 1 || cols < 1) throw std::invalid_argument("plan_depthwise: the array needs rows, cols >= 1");
  DepthwisePlan channels;
  channels.mapping = DepthwiseMapping::kChannels;
  channels.cycles = channels_cycles(g, rows, cols);
  if (requested == DepthwiseMapping::kChannels) return channels;
  // Every patch up to a few column tiles of outputs; the count is small
  // (at most out_h x out_w shapes) and each costs a formula.
  DepthwisePlan spatial;
  spatial.mapping = DepthwiseMapping::kSpatial;
  for (int ph = 1; ph <= g.out_h; ++ph) {
    for (int pw = 1; pw <= g.out_w && ph * pw <= 4 * cols; ++pw) {
      const int64_t cycles = spatial_cycles(g, rows, cols, ph, pw);
      if (spatial.cycles == 0 || cycles < spatial.cycles) {
        spatial.cycles = cycles;
        spatial.patch_h = ph;
        spatial.patch_w = pw;
      }
    }
  }
  if (requested == DepthwiseMapping::kSpatial) return spatial;
  return spatial.cycles < channels.cycles ? spatial : channels;
}

namespace {

// One GEMM per output channel: A row = one input patch (its pixels, padded
// taps = pad), column = one output of the ph x pw output patch, B[pixel][output]
// = the kernel tap that output applies to that pixel (0 where none).
std::vector<Gemm> lower_depthwise_spatial(const ConvGeometry& g, const int8_t* input, const int8_t* weights,
                                          int8_t pad, int ph, int pw) {
  const int span_h = patch_span(ph, g.stride_h, g.kernel_h, g.dilation_h);
  const int span_w = patch_span(pw, g.stride_w, g.kernel_w, g.dilation_w);
  const int tiles_h = static_cast<int>(ceil_div64(g.out_h, ph));
  const int tiles_w = static_cast<int>(ceil_div64(g.out_w, pw));
  std::vector<Gemm> gemms;
  gemms.reserve(static_cast<size_t>(g.out_c));
  for (int oc = 0; oc < g.out_c; ++oc) {
    const int ic = oc / g.depth_multiplier;
    Gemm gm;
    gm.m = g.batch * tiles_h * tiles_w;
    gm.k = span_h * span_w;
    gm.n = ph * pw;
    gm.out_channel.assign(static_cast<size_t>(gm.n), oc);
    gm.b.assign(static_cast<size_t>(gm.k) * gm.n, 0);
    for (int by = 0; by < ph; ++by)
      for (int bx = 0; bx < pw; ++bx)
        for (int ky = 0; ky < g.kernel_h; ++ky)
          for (int kx = 0; kx < g.kernel_w; ++kx) {
            const int py = by * g.stride_h + ky * g.dilation_h, px = bx * g.stride_w + kx * g.dilation_w;
            gm.b[(static_cast<size_t>(py) * span_w + px) * gm.n + static_cast<size_t>(by) * pw + bx] =
                weights[(static_cast<size_t>(ky) * g.kernel_w + kx) * g.out_c + oc];
          }
    gm.a.resize(static_cast<size_t>(gm.m) * gm.k);
    gm.out_index.assign(static_cast<size_t>(gm.m) * gm.n, -1);
    for (int row = 0; row < gm.m; ++row) {
      const int b = row / (tiles_h * tiles_w);
      const int ty = (row / tiles_w) % tiles_h, tx = row % tiles_w;
      const int oy0 = ty * ph, ox0 = tx * pw;
      const int iy0 = oy0 * g.stride_h - g.pad_top, ix0 = ox0 * g.stride_w - g.pad_left;
      int8_t* a = gm.a.data() + static_cast<size_t>(row) * gm.k;
      for (int py = 0; py < span_h; ++py)
        for (int px = 0; px < span_w; ++px) {
          const int iy = iy0 + py, ix = ix0 + px;
          const bool inside = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
          a[static_cast<size_t>(py) * span_w + px] =
              inside ? input[((static_cast<size_t>(b) * g.in_h + iy) * g.in_w + ix) * g.in_c + ic] : pad;
        }
      for (int by = 0; by < ph; ++by)
        for (int bx = 0; bx < pw; ++bx) {
          const int oy = oy0 + by, ox = ox0 + bx;
          if (oy >= g.out_h || ox >= g.out_w) continue;
          const int64_t position = (static_cast<int64_t>(b) * g.out_h + oy) * g.out_w + ox;
          gm.out_index[static_cast<size_t>(row) * gm.n + static_cast<size_t>(by) * pw + bx] =
              static_cast<int32_t>(position * g.out_c + oc);
        }
    }
    gemms.push_back(std::move(gm));
  }
  return gemms;
}

}  // namespace

std::vector<Gemm> lower_layer_for_array(const Model& model, const Operator& op, const ConvGeometry& g,
                                        const int8_t* input, int rows, int cols, DepthwiseMapping mapping) {
  if (!g.depthwise) return lower_layer(model, op, g, input, cols);
  const DepthwisePlan plan = plan_depthwise(g, rows, cols, mapping);
  if (plan.mapping == DepthwiseMapping::kChannels) return lower_layer(model, op, g, input, cols);
  const int8_t pad = static_cast<int8_t>(model.tensor(op.inputs[0]).zero_point0());
  return lower_depthwise_spatial(g, input, int8_data(model.tensor(op.inputs[1])), pad, plan.patch_h, plan.patch_w);
}

std::vector<int32_t> assemble_accumulators(const ConvGeometry& g, const std::vector<Gemm>& gemms,
                                           const std::vector<std::vector<int64_t>>& results,
                                           const std::vector<int64_t>& correction) {
  if (results.size() != gemms.size()) throw std::invalid_argument("assemble_accumulators: one result per GEMM");
  const int m = g.rows();
  std::vector<int32_t> acc(static_cast<size_t>(m) * g.out_c, 0);
  for (size_t i = 0; i < gemms.size(); ++i) {
    const Gemm& gm = gemms[i];
    if (results[i].size() != static_cast<size_t>(gm.m) * gm.n)
      throw std::invalid_argument("assemble_accumulators: result " + std::to_string(i) + " has the wrong size");
    for (int r = 0; r < gm.m; ++r) {
      for (int j = 0; j < gm.n; ++j) {
        const int oc = gm.out_channel[static_cast<size_t>(j)];
        const size_t at = static_cast<size_t>(r) * gm.n + j;
        const int64_t index = gm.out_index.empty() ? static_cast<int64_t>(r) * g.out_c + oc : gm.out_index[at];
        if (index < 0) continue;  // a spatial patch's output beyond the layer's edge
        const int64_t v = results[i][at] + correction[static_cast<size_t>(oc)];
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
          throw std::runtime_error("accumulator leaves int32 at row " + std::to_string(index / g.out_c) +
                                   ", channel " + std::to_string(oc));
        acc[static_cast<size_t>(index)] = static_cast<int32_t>(v);
      }
    }
  }
  return acc;
}

std::vector<int64_t> reference_gemm(const Gemm& gm) {
  std::vector<int64_t> c(static_cast<size_t>(gm.m) * gm.n, 0);
  for (int r = 0; r < gm.m; ++r) {
    const int8_t* a = gm.a.data() + static_cast<size_t>(r) * gm.k;
    int64_t* out = c.data() + static_cast<size_t>(r) * gm.n;
    for (int k = 0; k < gm.k; ++k) {
      const int64_t av = a[k];
      if (av == 0) continue;
      const int8_t* b = gm.b.data() + static_cast<size_t>(k) * gm.n;
      for (int j = 0; j < gm.n; ++j) out[j] += av * b[j];
    }
  }
  return c;
}

// --- Depthwise mode (see lowering.hpp).

namespace {

std::vector<LaneRun> tap_runs(const ConvGeometry& g, int group_rows) {
  std::vector<LaneRun> runs;
  for (int ky = 0; ky < g.kernel_h; ++ky)
    for (int phase = 0; phase < std::min(g.stride_w, g.kernel_w); ++phase) {
      const int taps = (g.kernel_w - phase + g.stride_w - 1) / g.stride_w;
      for (int j0 = 0; j0 < taps; j0 += group_rows) runs.push_back({ky, phase, j0, std::min(group_rows, taps - j0)});
    }
  return runs;
}

}  // namespace

// The runs of each pass, by lane (len 0: an idle lane). Greedy: each lane
// takes the first remaining run that fits its rows (the last lane may be short).
std::vector<std::vector<LaneRun>> lane_plan(const ConvGeometry& g, int rows, int group_rows) {
  if (rows < 1 || group_rows < 1 || group_rows > rows)
    throw std::invalid_argument("depthwise mode: group_rows must be 1..rows");
  if (!lanes_supported(g)) throw std::invalid_argument("depthwise mode: the layer's dilation along x is not 1");
  const int lanes = (rows + group_rows - 1) / group_rows;
  std::vector<LaneRun> left = tap_runs(g, group_rows);
  std::vector<std::vector<LaneRun>> passes;
  while (!left.empty()) {
    std::vector<LaneRun> pass(static_cast<size_t>(lanes));
    for (int l = 0; l < lanes; ++l) {
      const int capacity = std::min(group_rows, rows - l * group_rows);
      for (auto it = left.begin(); it != left.end(); ++it)
        if (it->len <= capacity) {
          pass[static_cast<size_t>(l)] = *it;
          left.erase(it);
          break;
        }
    }
    passes.push_back(std::move(pass));
  }
  return passes;
}

int lane_vectors_per_row(const ConvGeometry& g, const std::vector<LaneRun>& pass) {
  int longest = 1;
  for (const LaneRun& run : pass) longest = std::max(longest, run.len);
  return g.out_w + longest - 1;
}

int64_t lane_input_index(const ConvGeometry& g, const LaneRun& run, int per_row, int t, int ic) {
  const int x = t % per_row, oy = (t / per_row) % g.out_h, b = t / (per_row * g.out_h);
  const int iy = oy * g.stride_h - g.pad_top + run.ky * g.dilation_h;
  const int ix = g.stride_w * (x + run.j0) + run.phase - g.pad_left;
  if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) return -1;
  return ((static_cast<int64_t>(b) * g.in_h + iy) * g.in_w + ix) * g.in_c + ic;
}

int64_t lane_output_index(const ConvGeometry& g, int per_row, int t, int oc) {
  const int x = t % per_row, oy = (t / per_row) % g.out_h, b = t / (per_row * g.out_h);
  if (x >= g.out_w) return -1;
  return ((static_cast<int64_t>(b) * g.out_h + oy) * g.out_w + x) * g.out_c + oc;
}

bool lanes_supported(const ConvGeometry& g) { return g.depthwise && g.dilation_w == 1; }

int64_t lanes_cycles(const ConvGeometry& g, int rows, int cols, int group_rows) {
  int64_t cycles = 0;
  const int64_t blocks = ceil_div64(g.out_c, cols);
  for (const auto& pass : lane_plan(g, rows, group_rows)) {
    const int64_t m = static_cast<int64_t>(g.batch) * g.out_h * lane_vectors_per_row(g, pass);
    cycles += blocks * ws_gemm_cycles(m, rows, cols, rows, cols);
  }
  return cycles;
}

std::vector<LanePass> lower_depthwise_lanes(const ConvGeometry& g, const int8_t* input, const int8_t* weights,
                                            int8_t pad, int rows, int cols, int group_rows) {
  const auto plan = lane_plan(g, rows, group_rows);
  const int lanes = (rows + group_rows - 1) / group_rows;
  std::vector<LanePass> passes;
  for (const auto& runs : plan) {
    const int per_row = lane_vectors_per_row(g, runs);
    for (int c0 = 0; c0 < g.out_c; c0 += cols) {
      LanePass p;
      p.m = g.batch * g.out_h * per_row;
      p.lanes = lanes;
      p.group_rows = group_rows;
      p.rows = rows;
      p.cols = cols;
      p.lane_values.resize(static_cast<size_t>(p.m) * cols * lanes);  // zero: idle lanes
      p.b.resize(static_cast<size_t>(rows) * cols);
      p.out_index.assign(static_cast<size_t>(p.m) * cols, -1);
      for (int j = 0; j < cols && c0 + j < g.out_c; ++j) {
        const int oc = c0 + j;
        const int ic = oc / g.depth_multiplier;
        for (int l = 0; l < lanes; ++l) {
          const LaneRun& run = runs[static_cast<size_t>(l)];
          for (int i = 0; i < run.len; ++i)
            p.b[static_cast<size_t>(l * group_rows + i) * cols + j] = weights[lane_weight_index(g, run, i, oc)];
        }
        for (int t = 0; t < p.m; ++t) {
          p.out_index[static_cast<size_t>(t) * cols + j] = static_cast<int32_t>(lane_output_index(g, per_row, t, oc));
          for (int l = 0; l < lanes; ++l) {
            const LaneRun& run = runs[static_cast<size_t>(l)];
            if (run.len == 0) continue;  // an idle lane stays zero
            const int64_t at = lane_input_index(g, run, per_row, t, ic);
            p.lane_values[(static_cast<size_t>(t) * cols + j) * lanes + l] = at >= 0 ? input[at] : pad;
          }
        }
      }
      passes.push_back(std::move(p));
    }
  }
  return passes;
}

std::vector<LanePass> lower_depthwise_lanes(const Model& model, const Operator& op, const ConvGeometry& g,
                                            const int8_t* input, int rows, int cols, int group_rows) {
  const int8_t pad = static_cast<int8_t>(model.tensor(op.inputs[0]).zero_point0());
  return lower_depthwise_lanes(g, input, int8_data(model.tensor(op.inputs[1])), pad, rows, cols, group_rows);
}

std::vector<int64_t> reference_lanes(const LanePass& p) {
  std::vector<int64_t> c(static_cast<size_t>(p.m) * p.cols, 0);
  for (int t = 0; t < p.m; ++t)
    for (int j = 0; j < p.cols; ++j) {
      int64_t sum = 0;
      for (int r = 0; r < p.rows; ++r) {
        const int l = r / p.group_rows, i = r % p.group_rows;
        if (t + i >= p.m) continue;
        sum += static_cast<int64_t>(p.b[static_cast<size_t>(r) * p.cols + j]) *
               p.lane_values[(static_cast<size_t>(t + i) * p.cols + j) * p.lanes + l];
      }
      c[static_cast<size_t>(t) * p.cols + j] = sum;
    }
  return c;
}

std::vector<int32_t> assemble_lane_accumulators(const ConvGeometry& g, const std::vector<LanePass>& passes,
                                                const std::vector<std::vector<int64_t>>& results,
                                                const std::vector<int64_t>& correction) {
  if (results.size() != passes.size()) throw std::invalid_argument("assemble_lane_accumulators: one result per pass");
  std::vector<int64_t> sum(static_cast<size_t>(g.rows()) * g.out_c, 0);
  for (size_t i = 0; i < passes.size(); ++i) {
    const LanePass& p = passes[i];
    if (results[i].size() != p.out_index.size())
      throw std::invalid_argument("assemble_lane_accumulators: result " + std::to_string(i) + " has the wrong size");
    for (size_t at = 0; at < p.out_index.size(); ++at)
      if (p.out_index[at] >= 0) sum[static_cast<size_t>(p.out_index[at])] += results[i][at];
  }
  std::vector<int32_t> acc(sum.size());
  for (size_t index = 0; index < sum.size(); ++index) {
    const size_t oc = index % static_cast<size_t>(g.out_c);
    const int64_t v = sum[index] + correction[oc];
    if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
      throw std::runtime_error("accumulator leaves int32 at row " + std::to_string(index / g.out_c) + ", channel " +
                               std::to_string(oc));
    acc[index] = static_cast<int32_t>(v);
  }
  return acc;
}

}  // namespace vosa::lowering
