// int16 x int16 -> int32 GEMM for the fast path. Products of int8 values
// widened to int16 sum exactly in int32 (|a*b| <= 2^14, a pair <= 2^15), so
// _mm256_madd_epi16 is exact; there is no saturation anywhere.
//
// Layout (see PackedWeights): weights are stored as k-pairs interleaved
// across 16-column panels, so one broadcast pair of activations times one
// 16-wide weight vector gives 8 outputs x 2 k-steps with no horizontal sums.
// That keeps small-K layers (MobileNetV2's 1x1 convs, K = 16..32) fast.
#include "vosa/engine.hpp"

#include "fast_kernels.hpp"
#include "simd_requant.hpp"

#include <immintrin.h>

#include <cstring>
#include <vector>

namespace vosa::engine {
namespace {

// Plain loops on the packed layout, for CPUs without AVX2.
void gemm_scalar(const int16_t* a, int m, int kp, const PackedWeights& w, const int32_t* init, int32_t* c) {
  const int np = w.n_padded;
  for (int i = 0; i < m; ++i) {
    int32_t* out = c + static_cast<size_t>(i) * np;
    for (int j = 0; j < np; ++j) out[j] = init ? init[j] : 0;
    const int16_t* ar = a + static_cast<size_t>(i) * kp;
    for (int k2 = 0; k2 < kp / 2; ++k2) {
      const int32_t a0 = ar[2 * k2], a1 = ar[2 * k2 + 1];
      const int16_t* wp = w.data.data() + static_cast<size_t>(k2) * np * 2;
      for (int j = 0; j < np; ++j) out[j] += a0 * wp[2 * j] + a1 * wp[2 * j + 1];
    }
  }
}

// ep != null: requantize the tile and store int8 to ep->out (rows `row0`..,
// columns `col0`..), else store int32 to c.
template <int MR, bool Fused>
__attribute__((target("avx2"))) void tile(const int16_t* a, int kp, const int16_t* w, int np, const int32_t* init,
                                          int32_t* c, const fast::RequantEpilogue* ep, int row0, int col0) {
  __m256i acc[MR][2];
  const __m256i i0 = init ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(init)) : _mm256_setzero_si256();
  const __m256i i1 = init ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(init + 8)) : _mm256_setzero_si256();
  for (int r = 0; r < MR; ++r) {
    acc[r][0] = i0;
    acc[r][1] = i1;
  }
  const size_t w_step = static_cast<size_t>(np) * 2;
  for (int k2 = 0; k2 < kp / 2; ++k2) {
    const int16_t* wp = w + static_cast<size_t>(k2) * w_step;
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + 16));
    for (int r = 0; r < MR; ++r) {
      int32_t pair;
      std::memcpy(&pair, a + static_cast<size_t>(r) * kp + 2 * k2, sizeof pair);
      const __m256i av = _mm256_set1_epi32(pair);
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(av, w0));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(av, w1));
    }
  }
  if constexpr (!Fused) {
    (void)ep;
    (void)row0;
    (void)col0;
    for (int r = 0; r < MR; ++r) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + static_cast<size_t>(r) * np), acc[r][0]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + static_cast<size_t>(r) * np + 8), acc[r][1]);
    }
  } else {
  const ChannelRequant& q = *ep->requant;
  const __m256i vzp = _mm256_set1_epi32(ep->zero_point), vlo = _mm256_set1_epi32(ep->lo),
                vhi = _mm256_set1_epi32(ep->hi);
  for (int h = 0; h < 2; ++h) {
    const int col = col0 + 8 * h;
    if (col >= ep->n) break;
    const __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q.multiplier.data() + col));
    const __m256i ls = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q.left_shift.data() + col));
    const __m256i rs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q.right_shift.data() + col));
    const __m256 scale = q.fp32 ? _mm256_loadu_ps(q.scale.data() + col) : _mm256_setzero_ps();
    const __m256 lo_f = _mm256_set1_ps(static_cast<float>(ep->lo - ep->zero_point));
    const __m256 hi_f = _mm256_set1_ps(static_cast<float>(ep->hi - ep->zero_point));
    for (int r = 0; r < MR; ++r) {
      const __m256i v =
          q.fp32 ? simd::requantize_fp32(acc[r][h], scale, lo_f, hi_f, vzp)
                 : _mm256_min_epi32(
                       _mm256_max_epi32(
                           _mm256_add_epi32(simd::multiply_by_quantized_multiplier(acc[r][h], m, ls, rs), vzp), vlo),
                       vhi);
      int8_t* dst = ep->out + static_cast<size_t>(row0 + r) * ep->n + col;
      if (col + 8 <= ep->n) {
        simd::store_int8x8(v, dst);
      } else {
        int8_t tmp[8];
        simd::store_int8x8(v, tmp);
        std::memcpy(dst, tmp, static_cast<size_t>(ep->n - col));
      }
    }
  }
  }
}

template <int MR, bool Fused>
__attribute__((target("avx2"))) void row_block(const int16_t* a, int kp, const PackedWeights& w, const int32_t* init,
                                               int32_t* c, const fast::RequantEpilogue* ep, int row0) {
  const int np = w.n_padded;
  for (int j = 0; j < np; j += 16) {
    // Panel j of the packed weights starts at column j of each k-pair row.
    tile<MR, Fused>(a, kp, w.data.data() + static_cast<size_t>(j) * 2, np, init ? init + j : nullptr,
                    Fused ? nullptr : c + j, ep, row0, j);
  }
}

template <bool Fused>
__attribute__((target("avx2"))) void gemm_avx2(const int16_t* a, int m, int kp, const PackedWeights& w,
                                               const int32_t* init, int32_t* c, const fast::RequantEpilogue* ep) {
  const int np = w.n_padded;
  int i = 0;
  for (; i + 4 <= m; i += 4)
    row_block<4, Fused>(a + static_cast<size_t>(i) * kp, kp, w, init, Fused ? nullptr : c + static_cast<size_t>(i) * np,
                        ep, i);
  for (; i < m; ++i)
    row_block<1, Fused>(a + static_cast<size_t>(i) * kp, kp, w, init, Fused ? nullptr : c + static_cast<size_t>(i) * np,
                        ep, i);
}

bool detect_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}

}  // namespace

PackedWeights pack_weights(const int8_t* w, int n, int k) {
  PackedWeights p;
  p.n = n;
  p.k = k;
  p.k_padded = (k + 1) / 2 * 2;
  p.n_padded = (n + 15) / 16 * 16;
  p.data.assign(static_cast<size_t>(p.k_padded) * p.n_padded, 0);
  for (int j = 0; j < n; ++j)
    for (int kk = 0; kk < k; ++kk)
      p.data[(static_cast<size_t>(kk / 2) * p.n_padded + j) * 2 + (kk % 2)] = w[static_cast<size_t>(j) * k + kk];
  return p;
}

namespace {
bool avx2_enabled = true;
}

bool gemm_uses_avx2() {
  static const bool has = detect_avx2();
  return has && avx2_enabled;
}

void set_avx2_enabled(bool enabled) { avx2_enabled = enabled; }

void gemm_s16(const int16_t* a, int m, const PackedWeights& w, const int32_t* init, int32_t* c) {
  if (gemm_uses_avx2()) {
    gemm_avx2<false>(a, m, w.k_padded, w, init, c, nullptr);
  } else {
    gemm_scalar(a, m, w.k_padded, w, init, c);
  }
}

namespace fast {

void gemm_requantize(const int16_t* a, int m, const PackedWeights& w, const int32_t* init, const RequantEpilogue& ep) {
  if (gemm_uses_avx2()) {
    gemm_avx2<true>(a, m, w.k_padded, w, init, nullptr, &ep);
    return;
  }
  std::vector<int32_t> row(static_cast<size_t>(w.n_padded));
  for (int i = 0; i < m; ++i) {
    gemm_scalar(a + static_cast<size_t>(i) * w.k_padded, 1, w.k_padded, w, init, row.data());
    requantize(row.data(), 1, ep.n, w.n_padded, *ep.requant, ep.zero_point, ep.lo, ep.hi,
               ep.out + static_cast<size_t>(i) * ep.n);
  }
}

}  // namespace fast
}  // namespace vosa::engine
