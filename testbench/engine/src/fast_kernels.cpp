#include "fast_kernels.hpp"

#include "simd_requant.hpp"

#include <immintrin.h>

#include <algorithm>

namespace vosa::engine::fast {
namespace {

int8_t add_one(int8_t a, int8_t b, const PreparedOp& p) {
  const int32_t shifted1 = (a + p.input1_offset) * (1 << p.left_shift);
  const int32_t shifted2 = (b + p.input2_offset) * (1 << p.left_shift);
  const int32_t scaled1 =
      quant::multiply_by_quantized_multiplier(shifted1, p.input1_multiplier.multiplier, p.input1_multiplier.shift);
  const int32_t scaled2 =
      quant::multiply_by_quantized_multiplier(shifted2, p.input2_multiplier.multiplier, p.input2_multiplier.shift);
  const int32_t raw = quant::multiply_by_quantized_multiplier(scaled1 + scaled2, p.output_multiplier.multiplier,
                                                              p.output_multiplier.shift) +
                      p.output_zero_point;
  return static_cast<int8_t>(std::min(std::max(raw, p.activation_min), p.activation_max));
}

// One row of TFLite's requantization, scalar (the tail and non-AVX2 CPUs).
inline int8_t requantize_one(int32_t acc, int32_t multiplier, int32_t left, int32_t right, int32_t zp, int32_t lo,
                             int32_t hi) {
  const int32_t v = quant::rounding_divide_by_pot(
                        quant::saturating_rounding_doubling_high_mul(
                            static_cast<int32_t>(static_cast<uint32_t>(acc) << left), multiplier),
                        right) +
                    zp;
  return static_cast<int8_t>(std::min(std::max(v, lo), hi));
}

__attribute__((target("avx2"))) void requantize_row_avx2(const int32_t* acc, int n, const int32_t* mult,
                                                         const int32_t* left, const int32_t* right, int32_t zp,
                                                         int32_t lo, int32_t hi, int8_t* out) {
  const __m256i vzp = _mm256_set1_epi32(zp), vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + j));
    const __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(mult + j));
    const __m256i ls = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(left + j));
    const __m256i rs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(right + j));
    const __m256i r = simd::multiply_by_quantized_multiplier(x, m, ls, rs);
    simd::store_int8x8(_mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(r, vzp), vlo), vhi), out + j);
  }
  for (; j < n; ++j) out[j] = requantize_one(acc[j], mult[j], left[j], right[j], zp, lo, hi);
}

__attribute__((target("avx2"))) void requantize_row_fp32_avx2(const int32_t* acc, int n, const float* scale,
                                                              int32_t zp, int32_t lo, int32_t hi, int8_t* out) {
  const __m256i vzp = _mm256_set1_epi32(zp);
  const __m256 vlo = _mm256_set1_ps(static_cast<float>(lo - zp)), vhi = _mm256_set1_ps(static_cast<float>(hi - zp));
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + j));
    simd::store_int8x8(simd::requantize_fp32(x, _mm256_loadu_ps(scale + j), vlo, vhi, vzp), out + j);
  }
  for (; j < n; ++j) out[j] = static_cast<int8_t>(quant::requantize_fp32(acc[j], scale[j], zp, lo, hi));
}

// TFLite's int8 ADD for 8 lanes at a time (uniform parameters).
__attribute__((target("avx2"))) void add_avx2(const int8_t* a, const int8_t* b, size_t n, const PreparedOp& p,
                                              int8_t* out) {
  const __m256i off1 = _mm256_set1_epi32(p.input1_offset), off2 = _mm256_set1_epi32(p.input2_offset);
  const __m256i shift = _mm256_set1_epi32(p.left_shift);
  const quant::QuantizedMultiplier& q1 = p.input1_multiplier;
  const quant::QuantizedMultiplier& q2 = p.input2_multiplier;
  const quant::QuantizedMultiplier& qo = p.output_multiplier;
  const __m256i m1 = _mm256_set1_epi32(q1.multiplier), l1 = _mm256_set1_epi32(std::max(q1.shift, 0)),
                r1 = _mm256_set1_epi32(std::max(-q1.shift, 0));
  const __m256i m2 = _mm256_set1_epi32(q2.multiplier), l2 = _mm256_set1_epi32(std::max(q2.shift, 0)),
                r2 = _mm256_set1_epi32(std::max(-q2.shift, 0));
  const __m256i mo = _mm256_set1_epi32(qo.multiplier), lo_ = _mm256_set1_epi32(std::max(qo.shift, 0)),
                ro = _mm256_set1_epi32(std::max(-qo.shift, 0));
  const __m256i vzp = _mm256_set1_epi32(p.output_zero_point);
  const __m256i vlo = _mm256_set1_epi32(p.activation_min), vhi = _mm256_set1_epi32(p.activation_max);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i x1 = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a + i)));
    const __m256i x2 = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + i)));
    const __m256i s1 = simd::multiply_by_quantized_multiplier(
        _mm256_sllv_epi32(_mm256_add_epi32(x1, off1), shift), m1, l1, r1);
    const __m256i s2 = simd::multiply_by_quantized_multiplier(
        _mm256_sllv_epi32(_mm256_add_epi32(x2, off2), shift), m2, l2, r2);
    const __m256i r = simd::multiply_by_quantized_multiplier(_mm256_add_epi32(s1, s2), mo, lo_, ro);
    simd::store_int8x8(_mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(r, vzp), vlo), vhi), out + i);
  }
  for (; i < n; ++i) out[i] = add_one(a[i], b[i], p);
}


// |x - zp| <= 255 and |w| <= 128, so every product fits int16 exactly:
// multiplying in 16-bit lanes (vpmullw) halves the work of 32-bit multiplies.
inline void depthwise_tap(const int8_t* px, const int16_t* wt, int32_t offset, int n, int32_t* s) {
  const int16_t off = static_cast<int16_t>(offset);
  for (int c = 0; c < n; ++c)
    s[c] += static_cast<int16_t>(static_cast<int16_t>(px[c] + off) * wt[c]);
}

}  // namespace

// Compiled twice (AVX2 and baseline) and picked at load time, so the
// channel loop vectorizes wide where the CPU allows.
__attribute__((target_clones("avx2", "default"))) void depthwise(const PreparedOp& p, const int8_t* input,
                                                                 int32_t* acc) {
  const lowering::ConvGeometry& g = p.geometry;
  const int16_t* w = p.depthwise_weights.data();
  std::vector<int8_t> expanded;  // input gathered per output channel when depth_multiplier > 1
  if (g.depth_multiplier != 1) expanded.resize(static_cast<size_t>(g.out_c));
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy)
      for (int ox = 0; ox < g.out_w; ++ox) {
        int32_t* s = acc + ((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * g.out_c;
        std::copy(p.bias.begin(), p.bias.end(), s);
        for (int ky = 0; ky < g.kernel_h; ++ky) {
          const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
          if (iy < 0 || iy >= g.in_h) continue;
          for (int kx = 0; kx < g.kernel_w; ++kx) {
            const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
            if (ix < 0 || ix >= g.in_w) continue;
            const int8_t* px = input + ((static_cast<size_t>(b) * g.in_h + iy) * g.in_w + ix) * g.in_c;
            if (g.depth_multiplier != 1) {
              for (int c = 0; c < g.out_c; ++c) expanded[static_cast<size_t>(c)] = px[c / g.depth_multiplier];
              px = expanded.data();
            }
            depthwise_tap(px, w + (static_cast<size_t>(ky) * g.kernel_w + kx) * g.out_c, p.input_offset, g.out_c, s);
          }
        }
      }
}

void add(const int8_t* a, const int8_t* b, size_t n, const PreparedOp& p, int8_t* out) {
  const bool avx2 = gemm_uses_avx2();
  if (avx2) {
    add_avx2(a, b, n, p, out);
  } else {
    for (size_t i = 0; i < n; ++i) out[i] = add_one(a[i], b[i], p);
  }
}

void requantize(const int32_t* acc, int rows, int n, int stride, const ChannelRequant& q, int32_t zero_point,
                int32_t lo, int32_t hi, int8_t* out) {
  const bool avx2 = gemm_uses_avx2();
  for (int i = 0; i < rows; ++i) {
    const int32_t* a = acc + static_cast<size_t>(i) * stride;
    int8_t* o = out + static_cast<size_t>(i) * n;
    if (q.fp32) {
      if (avx2) {
        requantize_row_fp32_avx2(a, n, q.scale.data(), zero_point, lo, hi, o);
      } else {
        for (int j = 0; j < n; ++j)
          o[j] = static_cast<int8_t>(quant::requantize_fp32(a[j], q.scale[static_cast<size_t>(j)], zero_point, lo, hi));
      }
    } else if (avx2) {
      requantize_row_avx2(a, n, q.multiplier.data(), q.left_shift.data(), q.right_shift.data(), zero_point, lo, hi, o);
    } else {
      for (int j = 0; j < n; ++j)
        o[j] = requantize_one(a[j], q.multiplier[static_cast<size_t>(j)], q.left_shift[static_cast<size_t>(j)],
                              q.right_shift[static_cast<size_t>(j)], zero_point, lo, hi);
    }
  }
}

}  // namespace vosa::engine::fast
