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
// B (zeros off the diagonal blocks): each activation meets one non-zero
// weight per row, so at most 1/cols of the array's MACs are useful. The
// spatial mapping instead gives each channel its own GEMM whose rows are
// patches of the input and whose columns are a patch of outputs (B holds
// the kernel at every output's offset, a Toeplitz-like matrix): an
// activation then meets up to kernel_h * kernel_w non-zero weights in one
// row. plan_depthwise picks the cheaper mapping for an array by counting
// cycles. See docs/dnn.md, "Depthwise mapping".
#pragma once

#include "vosa/tflite_model.hpp"

#include <cstdint>
#include <string>
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

// Conv/FC: the index in the filter tensor's data (TFLite [out][k]) of the
// weight at B[k][n] of the layer's GEMM.
inline size_t conv_weight_index(const ConvGeometry& g, int k, int n) {
  return static_cast<size_t>(n) * static_cast<size_t>(g.reduction()) + static_cast<size_t>(k);
}

// One GEMM for the array: C[m][n] = sum_k A[m][k] * B[k][n].
struct Gemm {
  int m = 0, k = 0, n = 0;
  std::vector<int8_t> a;          // m x k, row-major
  std::vector<int8_t> b;          // k x n, row-major
  std::vector<int> out_channel;   // n entries: the output channel of column j
  // Spatial depthwise GEMMs only: m x n entries, the accumulator (row-major
  // position x out_c + channel) each result is, -1 for none (a patch output
  // beyond the layer's edge). Empty: result [r][j] is row r, out_channel[j].
  std::vector<int32_t> out_index;
};

// How a depthwise layer is laid onto a weight-stationary array.
enum class DepthwiseMapping {
  kChannels,  // groups of `cols` channels, block-diagonal B
  kSpatial,   // one GEMM per channel, patch_h x patch_w outputs per A row
  kAuto,      // whichever plan_depthwise counts fewer cycles for
};

const char* to_string(DepthwiseMapping mapping);
// "channels", "spatial" or "auto"; throws std::invalid_argument naming the value.
DepthwiseMapping depthwise_mapping_from_string(const std::string& name);

// Cycles vosa::ArrayDriver takes for an m x k x n GEMM on a rows x cols
// weight-stationary array: per (k, n) tile, rows cycles of weight loading,
// m input vectors and the rows + cols latency (weights are not double-buffered).
int64_t ws_gemm_cycles(int64_t m, int64_t k, int64_t n, int rows, int cols);

struct DepthwisePlan {
  DepthwiseMapping mapping = DepthwiseMapping::kChannels;
  int patch_h = 0, patch_w = 0;  // kSpatial: outputs per A row (patch_h x patch_w)
  int64_t cycles = 0;            // ws_gemm_cycles summed over the layer's GEMMs
};

// The mapping of a depthwise layer onto a rows x cols array: `requested`
// kChannels / kSpatial (the best patch), or kAuto (the fewer cycles).
DepthwisePlan plan_depthwise(const ConvGeometry& g, int rows, int cols, DepthwiseMapping requested);

// All GEMMs of one layer for a given input activation tensor.
// depthwise_group: channels per depthwise GEMM (use the array's column count).
std::vector<Gemm> lower_layer(const tflite::Model& model, const tflite::Operator& op, const ConvGeometry& g,
                              const int8_t* input, int depthwise_group);

// All GEMMs of one layer for a rows x cols weight-stationary array: conv/FC
// as lower_layer; depthwise as plan_depthwise(g, rows, cols, mapping) says.
std::vector<Gemm> lower_layer_for_array(const tflite::Model& model, const tflite::Operator& op, const ConvGeometry& g,
                                        const int8_t* input, int rows, int cols, DepthwiseMapping mapping);

// --- The array's depthwise mode (config "depthwise", docs/rtl.md "Depthwise
// mode"): PE (r, c) multiplies lane r / group_rows of column c, a lane's
// value is broadcast to its group of rows, and row r0 + i of a group meets
// the value its lane carries for vector t + i. So one column computes one
// channel and one group one run of kernel taps along x that read one input
// row: taps kx = phase + stride_w * j (j = j0 .. j0 + len - 1) read the
// input's phase-`phase` columns (ix = stride_w * u + phase - pad_left) at
// u = x + j, a stride-1 sliding window over u. One vector per output x of
// an output row, plus len - 1 vectors whose results are discarded so the
// window never straddles two output rows. A layer whose taps do not fit
// the lanes at once runs in several passes whose results add up.

// One weight tile and the vectors streamed through it in depthwise mode.
struct LanePass {
  int m = 0;                       // vectors
  int lanes = 0, group_rows = 0;   // of the array
  int rows = 0, cols = 0;
  std::vector<int8_t> lane_values; // m x (cols * lanes): [t][c * lanes + l]
  std::vector<int8_t> b;           // rows x cols weight tile
  std::vector<int32_t> out_index;  // m x cols: accumulator (position x out_c + channel) or -1 (discarded)
};

// Whether the depthwise mode computes this layer (dilation 1 along x).
bool lanes_supported(const ConvGeometry& g);

// A run of taps kx = phase + stride_w * j, j = j0 .. j0 + len - 1, of kernel
// row ky, on one lane (len 0: an idle lane, zero weights and values).
struct LaneRun {
  int ky = 0, phase = 0, j0 = 0, len = 0;
};
// The lane runs of each pass (plan[pass][lane]), as lower_depthwise_lanes
// lays them; each pass is then streamed once per block of `cols` channels.
std::vector<std::vector<LaneRun>> lane_plan(const ConvGeometry& g, int rows, int group_rows);
// Vectors per output row of a pass: out_w plus its longest run's len - 1.
int lane_vectors_per_row(const ConvGeometry& g, const std::vector<LaneRun>& pass);
// Where a lane's value for vector t of a pass (per_row vectors per output
// row) is read: the index into the layer's input tensor of input channel ic,
// or -1 for a padded tap (the value is then the input's zero point).
int64_t lane_input_index(const ConvGeometry& g, const LaneRun& run, int per_row, int t, int ic);
// The accumulator (position x out_c + oc) vector t of a pass computes for
// output channel oc, or -1 for a discarded vector (x >= out_w).
int64_t lane_output_index(const ConvGeometry& g, int per_row, int t, int oc);
// Row i of a run (i < run.len): its index into the depthwise filter tensor
// (TFLite [1][kh][kw][out_c]) for output channel oc.
inline size_t lane_weight_index(const ConvGeometry& g, const LaneRun& run, int i, int oc) {
  const int kx = run.phase + g.stride_w * (run.j0 + i);
  return (static_cast<size_t>(run.ky) * g.kernel_w + kx) * g.out_c + static_cast<size_t>(oc);
}

// Cycles vosa::ArrayDriver takes for the layer in depthwise mode: per pass,
// rows cycles of weight loading, its vectors and the rows + cols latency.
int64_t lanes_cycles(const ConvGeometry& g, int rows, int cols, int group_rows);

std::vector<LanePass> lower_depthwise_lanes(const ConvGeometry& g, const int8_t* input, const int8_t* weights,
                                            int8_t pad, int rows, int cols, int group_rows);
std::vector<LanePass> lower_depthwise_lanes(const tflite::Model& model, const tflite::Operator& op,
                                            const ConvGeometry& g, const int8_t* input, int rows, int cols,
                                            int group_rows);

// What the array computes for one pass (m x cols; lanes beyond the last
// vector read as zero): C[t][c] = sum over rows r = l * group_rows + i of
// b[r][c] * lane l of column c at vector t + i.
std::vector<int64_t> reference_lanes(const LanePass& pass);

// The layer's accumulators from the passes' results (summed per output) plus
// the correction; throws if a value leaves int32.
std::vector<int32_t> assemble_lane_accumulators(const ConvGeometry& g, const std::vector<LanePass>& passes,
                                                const std::vector<std::vector<int64_t>>& results,
                                                const std::vector<int64_t>& correction);

// Turns the GEMM results (one m x n int64 matrix per Gemm) plus the
// correction into the layer's accumulators acc[m][c] (m x out_c, row-major),
// exactly TFLite's int32 accumulators. Throws if a value leaves int32.
std::vector<int32_t> assemble_accumulators(const ConvGeometry& g, const std::vector<Gemm>& gemms,
                                           const std::vector<std::vector<int64_t>>& results,
                                           const std::vector<int64_t>& correction);

// Plain C++ GEMM of one lowered Gemm (the reference the array is checked against).
std::vector<int64_t> reference_gemm(const Gemm& gemm);

}  // namespace vosa::lowering
