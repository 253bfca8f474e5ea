// Bit-exact int8 inference engine: reproduces the integer arithmetic of the
// TFLite runtime (per-channel requantization, activation clamps, ADD,
// AVERAGE_POOL_2D, MEAN, SOFTMAX, QUANTIZE) for the operators of
// vosa/tflite_model.hpp, checked tensor by tensor against TFLite itself
// (docs/dnn.md, "Bit-exact with TFLite").
//
// Two kernel paths compute the same integers:
//   Kernels::kReference  plain loops shaped like TFLite's reference kernels
//   Kernels::kFast       im2col + SIMD int16 GEMM (AVX2 when the CPU has it),
//                        direct depthwise loops; tests/dnn checks it against
//                        kReference on every layer of every model.
// An Engine is immutable after construction; run() may be called from many
// threads at once, each with its own Workspace.
#pragma once

#include "vosa/lowering.hpp"
#include "vosa/quant_math.hpp"
#include "vosa/tflite_model.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vosa::engine {

enum class Kernels { kFast, kReference };

// Whose arithmetic the engine reproduces.
//   kTFLite           the TFLite runtime as it runs int8 models (TFLite 2.x
//                     interpreter with its default XNNPACK delegate): conv,
//                     depthwise, FC, ADD and MEAN in XNNPACK's arithmetic
//                     (single rounding of acc * scale in float), AVERAGE_POOL_2D,
//                     SOFTMAX (float exp table) and QUANTIZE in TFLite's
//                     builtin kernels. Bit-exact with TFLite on every tensor of
//                     the three staged models (tests/dnn/tflite_golden_test.sh).
//                     The default.
//   kTFLiteReference  TFLite's reference int8 kernels (kernels/internal/
//                     reference/, as TFLite Micro runs them): double-rounding
//                     fixed-point requantization, the fixed-point SOFTMAX.
//   kArmNN            Arm NN 20.08 CpuRef's float arithmetic (dequantize, compute
//                     in float, round to the output scale), to reproduce the
//                     accuracies quoted with it (docs/dnn.md). One scalar path;
//                     `Kernels` is ignored.
// The array, the traces and the accumulator observer need integer
// accumulators: kTFLite or kTFLiteReference.
enum class Arithmetic { kTFLite, kTFLiteReference, kArmNN };

// The --arithmetic names: tflite, tflite-reference, armnn.
const char* to_string(Arithmetic a);
Arithmetic parse_arithmetic(const std::string& name);

// Weights of a conv/FC layer for the fast GEMM: k-pairs interleaved across
// 16-column panels, data[((k / 2) * n_padded + j) * 2 + k % 2] = w[j][k],
// zero beyond n and k.
struct PackedWeights {
  int n = 0, k = 0;
  int n_padded = 0;  // multiple of 16
  int k_padded = 0;  // multiple of 2
  std::vector<int16_t> data;
};
PackedWeights pack_weights(const int8_t* w_rows, int n, int k);  // w_rows: n x k

// Per-channel requantization constants in the form the SIMD loop wants,
// padded like the accumulators: a float scale (fp32 = true, Arithmetic::kTFLite)
// or a fixed-point multiplier and shifts (kTFLiteReference).
struct ChannelRequant {
  bool fp32 = false;
  std::vector<float> scale;
  std::vector<int32_t> multiplier, left_shift, right_shift;
};

// Precision of one array layer (docs/precision.md): the low bits of its
// activations and weights that the array's precision mode zeroes before the
// multiplier (vosa::dropped_bits of the mode's width).
struct LayerPrecision {
  int act_drop = 0;
  int weight_drop = 0;
  bool full() const { return act_drop == 0 && weight_drop == 0; }
};
// By operator index; array layers not listed compute at full precision.
using PrecisionPlan = std::map<size_t, LayerPrecision>;
// Int8 operands in a precision mode of `mode_bits` (1..8).
LayerPrecision int8_precision(int mode_bits);
// Every array layer of `model` at `mode_bits`.
PrecisionPlan uniform_precision(const tflite::Model& model, int mode_bits);
// "BITS" (every array layer) and/or "OP=BITS" items, comma-separated, e.g.
// "6,0=8": operator 0 at 8 bits, every other array layer at 6 (vosa infer
// --precision). Throws naming the item on a bad one.
PrecisionPlan parse_precision_plan(const tflite::Model& model, const std::string& spec);

// Per-operator constants computed once (TFLite's Prepare step).
struct PreparedOp {
  size_t index = 0;
  const tflite::Operator* op = nullptr;
  // CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED
  lowering::ConvGeometry geometry;
  LayerPrecision precision;         // operand reduction of this layer (full by default)
  std::vector<int32_t> correction;  // bias - zp_in * sum(w), per output channel (reduced: lowering::correction_of)
  std::vector<int32_t> bias;        // raw bias (reference path)
  std::vector<quant::QuantizedMultiplier> channel_multiplier;  // kTFLiteReference
  std::vector<float> channel_scale;                             // kTFLite
  PackedWeights packed;                   // fast path, conv/FC
  std::vector<int16_t> depthwise_weights;  // fast path, depthwise: [taps][out_c]
  std::vector<int32_t> correction_padded;  // correction, zero-padded to packed.n_padded
  ChannelRequant requant;
  int32_t input_offset = 0;  // -zp_in
  // Shared by most operators.
  int32_t output_zero_point = 0;
  int32_t activation_min = -128, activation_max = 127;
  // ADD
  int32_t input1_offset = 0, input2_offset = 0;
  int left_shift = 20;
  quant::QuantizedMultiplier input1_multiplier, input2_multiplier, output_multiplier;  // kTFLiteReference
  quant::XnnpackAdd xnnpack_add;                                                       // kTFLite
  // SOFTMAX
  int32_t softmax_input_multiplier = 0;
  int softmax_input_left_shift = 0;
  int32_t softmax_diff_min = 0;
  std::vector<float> softmax_exp_table;  // kTFLite: exp(-in_scale * beta * (255 - i))
  float softmax_output_scale = 0;
  // MEAN / QUANTIZE
  quant::QuantizedMultiplier requant_multiplier;
  float mean_scale = 0;  // kTFLite MEAN: in_scale / (out_scale * count)
  int32_t input_zero_point = 0;
};

// Scratch memory of one thread: every activation tensor's bytes plus GEMM buffers.
struct Workspace {
  std::vector<std::vector<uint8_t>> values;
  std::vector<int16_t> a16;
  std::vector<int32_t> acc;
  std::vector<int8_t> reduced_input;  // a reduced-precision layer's input activations
  std::vector<int32_t> observed;      // an observer's accumulators when ws.acc's rows are padded
};

// Called after each array layer with its input activations and its int32
// accumulators (m x out_c, row-major, bias included, before requantization).
// The observer may replace the accumulators (same size): the engine then
// requantizes those, so a testbench can run the rest of the network on the
// values its hardware computed.
using AccumulatorObserver =
    std::function<void(const PreparedOp& layer, const int8_t* input, std::vector<int32_t>& accumulators)>;

class Engine {
 public:
  // `precision`: per-layer operand reduction (fast kernels, integer
  // arithmetics only; the observer still sees each layer's unreduced input,
  // as the array does before its PEs reduce it).
  explicit Engine(std::shared_ptr<const tflite::Model> model, Kernels kernels = Kernels::kFast,
                  Arithmetic arithmetic = Arithmetic::kTFLite, const PrecisionPlan& precision = {});

  const tflite::Model& model() const { return *model_; }
  const std::vector<PreparedOp>& ops() const { return ops_; }
  Kernels kernels() const { return kernels_; }
  Arithmetic arithmetic() const { return arithmetic_; }
  // MACs of the array layers of one inference.
  int64_t macs_per_inference() const;

  // Runs one input (the input tensor's raw bytes); returns the output
  // tensor's raw bytes (int8 or uint8). An observer needs integer
  // accumulators (not Arithmetic::kArmNN).
  std::vector<uint8_t> run(const std::vector<uint8_t>& input, Workspace& ws,
                           const AccumulatorObserver& observer = nullptr) const;

  // run() one step at a time, for layer-by-layer comparisons (vosa
  // infer-dump): begin() places the input in ws, run_operator(i) computes
  // operator i's output from the tensors already in ws. Engines of the same
  // model may take turns on one Workspace.
  void begin(const std::vector<uint8_t>& input, Workspace& ws) const;
  void run_operator(size_t index, Workspace& ws, const AccumulatorObserver& observer = nullptr) const;

 private:
  void prepare(const tflite::Operator& op, size_t index, const LayerPrecision& precision);
  void run_array_layer(const PreparedOp& p, Workspace& ws, const AccumulatorObserver& observer) const;
  void run_add(const PreparedOp& p, Workspace& ws) const;
  void run_average_pool(const PreparedOp& p, Workspace& ws) const;
  void run_mean(const PreparedOp& p, Workspace& ws) const;
  void run_softmax(const PreparedOp& p, Workspace& ws) const;
  void run_quantize(const PreparedOp& p, Workspace& ws) const;
  void run_armnn(const PreparedOp& p, Workspace& ws) const;
  const uint8_t* data_of(int tensor, const Workspace& ws) const;
  uint8_t* output_of(const PreparedOp& p, Workspace& ws) const;

  std::shared_ptr<const tflite::Model> model_;
  Kernels kernels_;
  Arithmetic arithmetic_;
  std::vector<PreparedOp> ops_;
};

// Accumulators of one array layer computed two ways (for tests and tools).
std::vector<int32_t> reference_accumulators(const tflite::Model& model, const PreparedOp& p, const int8_t* input);
std::vector<int32_t> fast_accumulators(const PreparedOp& p, const int8_t* input, Workspace& ws);

// The fast GEMM kernel: c[i][j] = init[j] + sum_k a[i][k] * w[j][k] for
// j < w.n_padded, with a (m x w.k_padded, int16, zero beyond k), init
// (w.n_padded entries or null) and c (m x w.n_padded). Exposed for tests.
void gemm_s16(const int16_t* a, int m, const PackedWeights& w, const int32_t* init, int32_t* c);
// Whether the fast path's hand-written AVX2 kernels (GEMM, requantization,
// ADD) run: the CPU has AVX2 and they are not disabled.
bool gemm_uses_avx2();
// Disables (or re-enables) those kernels so tests can check the portable
// fallbacks on an AVX2 machine. Not for use while engines run.
void set_avx2_enabled(bool enabled);

}  // namespace vosa::engine
