#include "fast_kernels.hpp"

#include <immintrin.h>

#include <algorithm>

namespace vosa::engine::fast {
namespace {

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

// 8 lanes of the same arithmetic. The multiplier is positive, so the sign of
// the 64-bit product is the sign of x and the doubling high multiply can run
// on |x| with unsigned 32x32->64 products:
//   ab >= 0: (ab + 2^30) >> 31      ab < 0: -((|ab| + 2^30 - 1) >> 31)
// which is gemmlowp's nudge-and-truncate. |x| = 2^31 (x = INT32_MIN) is
// exact as an unsigned lane.
__attribute__((target("avx2"))) void requantize_row_avx2(const int32_t* acc, int n, const int32_t* mult,
                                                         const int32_t* left, const int32_t* right, int32_t zp,
                                                         int32_t lo, int32_t hi, int8_t* out) {
  const __m256i nudge = _mm256_set1_epi64x(int64_t{1} << 30);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i vzp = _mm256_set1_epi32(zp), vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + j));
    const __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(mult + j));
    const __m256i ls = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(left + j));
    const __m256i rs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(right + j));
    x = _mm256_sllv_epi32(x, ls);
    const __m256i neg = _mm256_cmpgt_epi32(zero, x);  // all ones where x < 0
    const __m256i ux = _mm256_abs_epi32(x);
    // Even lanes and odd lanes as 64-bit products.
    const __m256i neg64_even = _mm256_srli_epi64(_mm256_slli_epi64(neg, 32), 63);  // 1 where even lane negative
    const __m256i neg64_odd = _mm256_srli_epi64(neg, 63);
    __m256i pe = _mm256_mul_epu32(ux, m);
    __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(ux, 32), _mm256_srli_epi64(m, 32));
    pe = _mm256_srli_epi64(_mm256_sub_epi64(_mm256_add_epi64(pe, nudge), neg64_even), 31);
    po = _mm256_srli_epi64(_mm256_sub_epi64(_mm256_add_epi64(po, nudge), neg64_odd), 31);
    // Interleave back: q fits 32 bits.
    __m256i q = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
    q = _mm256_sub_epi32(_mm256_xor_si256(q, neg), neg);  // negate where x < 0
    // Rounding divide by 2^rs.
    const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, rs), one);
    const __m256i remainder = _mm256_and_si256(q, mask);
    const __m256i threshold =
        _mm256_add_epi32(_mm256_srli_epi32(mask, 1), _mm256_and_si256(_mm256_cmpgt_epi32(zero, q), one));
    __m256i r = _mm256_add_epi32(_mm256_srav_epi32(q, rs), _mm256_and_si256(_mm256_cmpgt_epi32(remainder, threshold), one));
    r = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(r, vzp), vlo), vhi);
    // Narrow 8 x int32 to int8 (values are already in range).
    const __m128i lo128 = _mm256_castsi256_si128(r), hi128 = _mm256_extracti128_si256(r, 1);
    const __m128i w16 = _mm_packs_epi32(lo128, hi128);
    const __m128i b8 = _mm_packs_epi16(w16, w16);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + j), b8);
  }
  for (; j < n; ++j) out[j] = requantize_one(acc[j], mult[j], left[j], right[j], zp, lo, hi);
}

bool has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}

inline void depthwise_tap(const int8_t* px, const int16_t* wt, int32_t offset, int n, int32_t* s) {
  for (int c = 0; c < n; ++c) s[c] += (px[c] + offset) * wt[c];
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

void requantize(const int32_t* acc, int rows, int n, int stride, const ChannelRequant& q, int32_t zero_point,
                int32_t lo, int32_t hi, int8_t* out) {
  static const bool avx2 = has_avx2();
  for (int i = 0; i < rows; ++i) {
    const int32_t* a = acc + static_cast<size_t>(i) * stride;
    int8_t* o = out + static_cast<size_t>(i) * n;
    if (avx2) {
      requantize_row_avx2(a, n, q.multiplier.data(), q.left_shift.data(), q.right_shift.data(), zero_point, lo, hi, o);
    } else {
      for (int j = 0; j < n; ++j)
        o[j] = requantize_one(a[j], q.multiplier[static_cast<size_t>(j)], q.left_shift[static_cast<size_t>(j)],
                              q.right_shift[static_cast<size_t>(j)], zero_point, lo, hi);
    }
  }
}

}  // namespace vosa::engine::fast
