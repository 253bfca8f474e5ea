// Arithmetic::kArmNN (internal to vosa_engine): the float arithmetic of Arm NN
// 20.08's CpuRef backend (src/backends/reference/workloads/), the engine behind
// the accuracies MLPerf Tiny's staged models are quoted with. Every operator
// dequantizes its int8 inputs to float (armnn::Dequantize: float(q - zp) *
// scale), computes in float in CpuRef's loop order, and quantizes the result
// (armnn::Quantize: round-half-away(v / scale) + zp, saturated); a fused
// activation is a separate float layer. Not TFLite's arithmetic: docs/dnn.md
// says where it differs and by how much.
#pragma once

#include "vosa/engine.hpp"

namespace vosa::engine::armnn {

// CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (ConvImpl.cpp Convolve,
// FullyConnected.cpp), then the fused activation (Activation.cpp).
void array_layer(const tflite::Model& m, const PreparedOp& p, const int8_t* in, int8_t* out);
// ADD (ElementwiseFunction with std::plus<float>), then the fused activation.
void add(const tflite::Model& m, const PreparedOp& p, const int8_t* a, const int8_t* b, int8_t* out);
// AVERAGE_POOL_2D (Pooling2d.cpp, PaddingMethod::Exclude).
void average_pool(const tflite::Model& m, const PreparedOp& p, const int8_t* in, int8_t* out);
// MEAN (Mean.cpp: float sum in index order, divided by the element count).
void mean(const tflite::Model& m, const PreparedOp& p, const int8_t* in, int8_t* out);
// SOFTMAX (Softmax.cpp: float exp((x - max) * beta) / sum).
void softmax(const tflite::Model& m, const PreparedOp& p, const int8_t* in, int8_t* out);
// QUANTIZE (RefQuantizeWorkload: dequantize, quantize), int8/uint8 either way.
void quantize(const tflite::Model& m, const PreparedOp& p, const uint8_t* in, uint8_t* out);

}  // namespace vosa::engine::armnn
