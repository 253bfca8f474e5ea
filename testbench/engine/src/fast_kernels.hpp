// SIMD-friendly kernels of the fast path (internal to vosa_engine).
#pragma once

#include "vosa/engine.hpp"

namespace vosa::engine::fast {

// Depthwise accumulators (bias included, padded taps skipped) into acc
// (rows x out_c).
void depthwise(const PreparedOp& p, const int8_t* input, int32_t* acc);

// out[i][j] = clamp(requantized acc[i][j] + zp) for j < n, acc rows `stride`
// apart, with the fp32 scale or the fixed-point multiplier of q.
void requantize(const int32_t* acc, int rows, int n, int stride, const ChannelRequant& q, int32_t zero_point,
                int32_t lo, int32_t hi, int8_t* out);

// Requantization fused into the GEMM: each finished tile is requantized in
// registers and stored as int8 rows of n bytes, so the int32 accumulators
// never go to memory. The ChannelRequant arrays must cover the packed width.
struct RequantEpilogue {
  const ChannelRequant* requant = nullptr;
  int32_t zero_point = 0, lo = -128, hi = 127;
  int8_t* out = nullptr;
  int n = 0;  // output channels (row stride of out)
};
void gemm_requantize(const int16_t* a, int m, const PackedWeights& w, const int32_t* init, const RequantEpilogue& ep);

// TFLite's reference int8 ADD (same shapes), elementwise.
void add(const int8_t* a, const int8_t* b, size_t n, const PreparedOp& p, int8_t* out);

}  // namespace vosa::engine::fast
