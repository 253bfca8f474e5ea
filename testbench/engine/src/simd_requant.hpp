// AVX2 forms of the requantizations of vosa/quant_math.hpp for 8 int32 lanes
// (internal to vosa_engine; the scalar functions there are the reference).
#pragma once

#include <immintrin.h>

namespace vosa::engine::simd {

// The multiplier is positive, so the sign of the 64-bit product is the sign
// of x and the doubling high multiply runs on |x| with unsigned 32x32->64
// products: ab >= 0: (ab + 2^30) >> 31; ab < 0: -((|ab| + 2^30 - 1) >> 31),
// which is gemmlowp's nudge-and-truncate. |x| = 2^31 (x = INT32_MIN) is exact
// as an unsigned lane. Then the rounding right shift, per lane.
__attribute__((target("avx2"))) inline __m256i multiply_by_quantized_multiplier(__m256i x, __m256i m, __m256i ls,
                                                                                __m256i rs) {
  const __m256i nudge = _mm256_set1_epi64x(int64_t{1} << 30);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i zero = _mm256_setzero_si256();
  x = _mm256_sllv_epi32(x, ls);
  const __m256i neg = _mm256_cmpgt_epi32(zero, x);
  const __m256i ux = _mm256_abs_epi32(x);
  const __m256i neg_even = _mm256_srli_epi64(_mm256_slli_epi64(neg, 32), 63);
  const __m256i neg_odd = _mm256_srli_epi64(neg, 63);
  __m256i pe = _mm256_mul_epu32(ux, m);
  __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(ux, 32), _mm256_srli_epi64(m, 32));
  pe = _mm256_srli_epi64(_mm256_sub_epi64(_mm256_add_epi64(pe, nudge), neg_even), 31);
  po = _mm256_srli_epi64(_mm256_sub_epi64(_mm256_add_epi64(po, nudge), neg_odd), 31);
  __m256i q = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
  q = _mm256_sub_epi32(_mm256_xor_si256(q, neg), neg);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, rs), one);
  const __m256i remainder = _mm256_and_si256(q, mask);
  const __m256i threshold =
      _mm256_add_epi32(_mm256_srli_epi32(mask, 1), _mm256_and_si256(_mm256_cmpgt_epi32(zero, q), one));
  return _mm256_add_epi32(_mm256_srav_epi32(q, rs),
                          _mm256_and_si256(_mm256_cmpgt_epi32(remainder, threshold), one));
}

// quant::requantize_fp32 for 8 lanes, without the final clamp (the result is
// already inside [lo, hi]): int32 -> float, times the scale, clamped to the
// bounds less the zero point, rounded to nearest even (vcvtps2dq under the
// default MXCSR rounding), plus the zero point.
__attribute__((target("avx2"))) inline __m256i requantize_fp32(__m256i x, __m256 scale, __m256 lo_less_zp,
                                                               __m256 hi_less_zp, __m256i zero_point) {
  __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(x), scale);
  v = _mm256_min_ps(_mm256_max_ps(v, lo_less_zp), hi_less_zp);
  return _mm256_add_epi32(_mm256_cvtps_epi32(v), zero_point);
}

// 8 int32 lanes (already clamped to int8) to 8 bytes.
__attribute__((target("avx2"))) inline void store_int8x8(__m256i v, void* out) {
  const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packs_epi16(w16, w16));
}

}  // namespace vosa::engine::simd
