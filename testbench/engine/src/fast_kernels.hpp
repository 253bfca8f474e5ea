// SIMD-friendly kernels of the fast path (internal to vosa_engine).
#pragma once

#include "vosa/engine.hpp"

namespace vosa::engine::fast {

// Depthwise accumulators (bias included, padded taps skipped) into acc
// (rows x out_c).
void depthwise(const PreparedOp& p, const int8_t* input, int32_t* acc);

// out[i][j] = clamp(MBQM(acc[i][j]) + zp) for j < n, acc rows `stride` apart.
void requantize(const int32_t* acc, int rows, int n, int stride, const ChannelRequant& q, int32_t zero_point,
                int32_t lo, int32_t hi, int8_t* out);

}  // namespace vosa::engine::fast
