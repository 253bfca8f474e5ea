// Lowering of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED onto GEMMs for a
// weight-stationary array, shared by the reference engine and the Verilator
// testbench so both compute the same integer accumulations.
//
// The array multiplies raw int8 activations by raw int8 weights. TFLite's
// accumulator for output channel c at output position m is
//   acc[m][c] = bias[c] + sum_k (x[m][k] - zp_in) * w[k][c]
// where padded taps are skipped. The lowering fills padded taps with zp_in
// (so they contribute (zp_in - zp_in) * w = 0) and splits the sum:
//   acc[m][c] = sum_k x[m][k] * w[k][c]  +  (bias[c] - zp_in * sum_k w[k][c])
//               \___ the array (GEMM) ___/    \___ correction[c], per channel ___/
// The correction is computed once per layer from the weights.
//
// Depthwise convolutions have no reduction across channels, so a GEMM column
// (one output channel) may only see its own channel's taps: a group of G
// channels becomes one GEMM with K = G * kh * kw rows and a block-diagonal
// B (zeros off the diagonal blocks). See docs/dnn.md for the utilization.
#pragma once

#include "vosa/tflite_model.hpp"

#include <cstdint>
#include <vector>

namespace vosa::lowering {

// Shapes and strides of one convolution-like layer (FC: a 1x1 "conv" over
// M = batch rows with in_h = in_w = out_h = out_w = 1).
struct ConvGeometry {
  int batch = 1;
  int in_h = 1, in_w = 1, in_c = 1;
  int out_h = 1, out_w = 1, out_c = 1;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int pad_top = 0, pad_left = 0;
  bool depthwise = false;
  int depth_multiplier = 1;

  int rows() const { return batch * out_h * out_w; }  // GEMM M
  int taps() const { return kernel_h * kernel_w; }
  // Reduction length per output value (conv/FC: taps * in_c; depthwise: taps).
  int reduction() const { return depthwise ? taps() : taps() * in_c; }
  int64_t macs() const { return static_cast<int64_t>(rows()) * out_c * reduction(); }
};

// Whether the operator is one the array computes (CONV_2D, DEPTHWISE_CONV_2D,
// FULLY_CONNECTED).
bool is_array_layer(tflite::OpType type);

// Geometry of an array layer; throws naming the operator when the model's
// shapes are inconsistent (e.g. an output size that the padding rule does
// not give).
ConvGeometry geometry_of(const tflite::Model& model, const tflite::Operator& op, size_t op_index);

// Per-output-channel correction: bias[c] - zp_in * sum_k w[k][c] (int64 so a
// caller can check it fits the accumulator). With a precision mode
// (docs/precision.md) the array multiplies operands with their low act_drop /
// weight_drop bits zeroed (vosa::reduce_operand); the correction is then
// bias[c] - R(zp_in) * sum_k R(w[k][c]), so a padded tap (= zp_in) still adds
// nothing and acc = bias + sum_k (R(x) - R(zp_in)) * R(w).
std::vector<int64_t> correction_of(const tflite::Model& model, const tflite::Operator& op, const ConvGeometry& g,
                                   int act_drop = 0, int weight_drop = 0);

// Conv/FC: the im2col row of output position m (K = taps * in_c values,
// ordered (ky, kx, ci) like TFLite's OHWI weights), padded taps = pad_value.
void im2col_row(const ConvGeometry& g, const int8_t* input, int8_t pad_value, int m, int8_t* row);

// One GEMM for the array: C[m][n] = sum_k A[m][k] * B[k][n].
struct Gemm {
  int m = 0, k = 0, n = 0;
  std::vector<int8_t> a;          // m x k, row-major
  std::vector<int8_t> b;          // k x n, row-major
  std::vector<int> out_channel;   // n entries: the output channel of column j
};

// All GEMMs of one layer for a given input activation tensor.
// depthwise_group: channels per depthwise GEMM (use the array's column count).
std::vector<Gemm> lower_layer(const tflite::Model& model, const tflite::Operator& op, const ConvGeometry& g,
                              const int8_t* input, int depthwise_group);

// Turns the GEMM results (one m x n int64 matrix per Gemm) plus the
// correction into the layer's accumulators acc[m][c] (m x out_c, row-major),
// exactly TFLite's int32 accumulators. Throws if a value leaves int32.
std::vector<int32_t> assemble_accumulators(const ConvGeometry& g, const std::vector<Gemm>& gemms,
                                           const std::vector<std::vector<int64_t>>& results,
                                           const std::vector<int64_t>& correction);

// Plain C++ GEMM of one lowered Gemm (the reference the array is checked against).
std::vector<int64_t> reference_gemm(const Gemm& gemm);

}  // namespace vosa::lowering
