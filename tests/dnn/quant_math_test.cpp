// Fixed-point helpers against hand-computed values, and the SIMD kernels
// (GEMM, requantization) against plain loops.
#include "../../testbench/engine/src/fast_kernels.hpp"
#include "vosa/engine.hpp"
#include "vosa/quant_math.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

using namespace vosa;

TEST(QuantMath, QuantizeMultiplierSplitsSignificandAndExponent) {
  auto q = quant::quantize_multiplier(0.5);
  EXPECT_EQ(q.multiplier, 1 << 30);
  EXPECT_EQ(q.shift, 0);
  q = quant::quantize_multiplier(1.0);
  EXPECT_EQ(q.multiplier, 1 << 30);
  EXPECT_EQ(q.shift, 1);
  q = quant::quantize_multiplier(0.75);
  EXPECT_EQ(q.multiplier, 1610612736);
  EXPECT_EQ(q.shift, 0);
  // A significand that rounds up to 2^31 moves to the next exponent.
  q = quant::quantize_multiplier((2147483648.0 - 0.4) / 2147483648.0);
  EXPECT_EQ(q.multiplier, 1 << 30);
  EXPECT_EQ(q.shift, 1);
  // Below 2^-31 TFLite flushes to zero.
  q = quant::quantize_multiplier(1e-12);
  EXPECT_EQ(q.multiplier, 0);
  EXPECT_EQ(q.shift, 0);
  q = quant::quantize_multiplier(0.0);
  EXPECT_EQ(q.multiplier, 0);
}

TEST(QuantMath, RoundingDivideByPotRoundsHalfAwayFromZero) {
  EXPECT_EQ(quant::rounding_divide_by_pot(5, 1), 3);
  EXPECT_EQ(quant::rounding_divide_by_pot(-5, 1), -3);
  EXPECT_EQ(quant::rounding_divide_by_pot(-4, 1), -2);
  EXPECT_EQ(quant::rounding_divide_by_pot(7, 2), 2);
  EXPECT_EQ(quant::rounding_divide_by_pot(-6, 2), -2);
  EXPECT_EQ(quant::rounding_divide_by_pot(-7, 2), -2);
  EXPECT_EQ(quant::rounding_divide_by_pot(123, 0), 123);
}

TEST(QuantMath, DoublingHighMulNudgesAndSaturates) {
  const int32_t kMin = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(quant::saturating_rounding_doubling_high_mul(kMin, kMin), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(quant::saturating_rounding_doubling_high_mul(100, 1 << 30), 50);
  EXPECT_EQ(quant::saturating_rounding_doubling_high_mul(3, 1 << 30), 2);    // 1.5 -> 2
  EXPECT_EQ(quant::saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);  // gemmlowp's nudge: -1.5 -> -1
}

TEST(QuantMath, MultiplyByQuantizedMultiplierRoundsTwice) {
  EXPECT_EQ(quant::multiply_by_quantized_multiplier(3, 1 << 30, -1), 1);    // 0.75
  EXPECT_EQ(quant::multiply_by_quantized_multiplier(-3, 1 << 30, -1), -1);  // -0.75
  EXPECT_EQ(quant::multiply_by_quantized_multiplier(10, 1 << 30, 2), 20);   // 10 * 0.5 * 4
  EXPECT_EQ(quant::multiply_by_quantized_multiplier(1000, 1610612736, -3), 94);  // 1000 * 0.75 / 8 = 93.75
}

// XNNPACK's fp32 requantization (the TFLite runtime's): one rounding of the
// float product, ties to even, clamp before the zero point.
TEST(QuantMath, Fp32RequantizationRoundsOnceTiesToEven) {
  EXPECT_EQ(quant::requantize_fp32(5, 0.5f, 0, -128, 127), 2);    // 2.5 -> 2
  EXPECT_EQ(quant::requantize_fp32(7, 0.5f, 0, -128, 127), 4);    // 3.5 -> 4
  EXPECT_EQ(quant::requantize_fp32(-5, 0.5f, 0, -128, 127), -2);  // -2.5 -> -2
  EXPECT_EQ(quant::requantize_fp32(3, 0.25f, 10, -128, 127), 11);  // 0.75 -> 1, + 10
  EXPECT_EQ(quant::requantize_fp32(1000, 1.0f, -128, -128, 127), 127);
  EXPECT_EQ(quant::requantize_fp32(-1000, 1.0f, -128, -128, 127), -128);
  EXPECT_EQ(quant::requantize_fp32(std::numeric_limits<int32_t>::max(), 1.0f, 0, -128, 127), 127);
  // The double-rounding window of the reference kernels (docs/dnn.md): acc
  // 3894 with ResNet-8's first multiplier is 16.49911, one rounding gives 16.
  EXPECT_EQ(quant::requantize_fp32(3894, 16.49911f / 3894, 0, -128, 127), 16);
}

// XNNPACK's int8 ADD parameters and kernel on hand-computed values.
TEST(QuantMath, XnnpackAddSharesOneShift) {
  // a_scale/out = 0.75 (exponent -1), b_scale/out = 0.25: shift = 20 - (-1) = 21.
  const quant::XnnpackAdd p = quant::xnnpack_add_params(0.75f, 0.25f, 1.0f, 0, 0);
  EXPECT_EQ(p.shift, 21);
  EXPECT_EQ(p.a_multiplier, 3 << 19);  // 0.75 * 2^21
  EXPECT_EQ(p.b_multiplier, 1 << 19);
  EXPECT_EQ(p.bias, 1 << 20);  // rounding only
  EXPECT_EQ(quant::xnnpack_add(10, 10, p, 0, -128, 127), 10);  // 7.5 + 2.5
  EXPECT_EQ(quant::xnnpack_add(1, 1, p, 5, -128, 127), 6);     // 1.0 + 5
  EXPECT_EQ(quant::xnnpack_add(1, 0, p, 0, -128, 127), 1);     // 0.75 -> 1
  EXPECT_EQ(quant::xnnpack_add(-1, -1, p, 0, -128, 127), -1);  // -1.0
  EXPECT_EQ(quant::xnnpack_add(-2, 0, p, 0, -128, 127), -1);   // -1.5 -> -1: ties toward +infinity
  EXPECT_EQ(quant::xnnpack_add(127, 127, p, 100, -128, 127), 127);
  // Zero points enter through the bias.
  const quant::XnnpackAdd z = quant::xnnpack_add_params(0.75f, 0.25f, 1.0f, -3, 4);
  EXPECT_EQ(quant::xnnpack_add(-3 + 10, 4 + 10, z, 0, -128, 127), 10);
}

TEST(QuantMath, FixedPointExpAndReciprocalApproximateTheRealFunctions) {
  EXPECT_EQ(quant::exp_on_negative_values(0, 5), std::numeric_limits<int32_t>::max());
  for (double x : {-0.1, -0.25, -1.0, -2.5, -7.0, -15.0}) {
    const int32_t a = static_cast<int32_t>(std::lround(x * (1 << 26)));  // Q5.26
    const double got = quant::exp_on_negative_values(a, 5) / 2147483648.0;
    EXPECT_NEAR(got, std::exp(x), 2e-8 + 1e-6 * std::exp(x)) << "exp(" << x << ")";
  }
  for (double x : {0.0, 0.25, 0.5, 0.9}) {
    const int32_t a = static_cast<int32_t>(std::min(2147483647.0, std::round(x * 2147483648.0)));
    EXPECT_NEAR(quant::one_over_one_plus_x_for_x_in_0_1(a) / 2147483648.0, 1.0 / (1.0 + x), 1e-8) << x;
  }
  int bits = 0;
  const int32_t r = quant::get_reciprocal(3 << 19, 12, &bits);  // 3.0 in Q12.19
  EXPECT_NEAR(r / 2147483648.0 * std::ldexp(1.0, -bits), 1.0 / 3.0, 1e-8);
}

TEST(FastKernels, GemmMatchesPlainLoopsOnEveryShapeRemainder) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> val(-128, 127);
  for (int m : {1, 3, 4, 5, 9}) {
    for (int n : {1, 15, 16, 17, 40}) {
      for (int k : {1, 2, 3, 16, 27, 50}) {
        std::vector<int8_t> a(static_cast<size_t>(m) * k), w(static_cast<size_t>(n) * k);
        for (auto& v : a) v = static_cast<int8_t>(val(rng));
        for (auto& v : w) v = static_cast<int8_t>(val(rng));
        const engine::PackedWeights packed = engine::pack_weights(w.data(), n, k);
        std::vector<int16_t> a16(static_cast<size_t>(m) * packed.k_padded, 0);
        for (int i = 0; i < m; ++i)
          for (int kk = 0; kk < k; ++kk) a16[static_cast<size_t>(i) * packed.k_padded + kk] = a[static_cast<size_t>(i) * k + kk];
        std::vector<int32_t> init(static_cast<size_t>(packed.n_padded));
        for (auto& v : init) v = val(rng) * 1000;
        std::vector<int32_t> c(static_cast<size_t>(m) * packed.n_padded);
        engine::gemm_s16(a16.data(), m, packed, init.data(), c.data());
        for (int i = 0; i < m; ++i)
          for (int j = 0; j < n; ++j) {
            int32_t want = init[static_cast<size_t>(j)];
            for (int kk = 0; kk < k; ++kk) want += a[static_cast<size_t>(i) * k + kk] * w[static_cast<size_t>(j) * k + kk];
            ASSERT_EQ(c[static_cast<size_t>(i) * packed.n_padded + j], want) << m << "x" << n << "x" << k;
          }
      }
    }
  }
}

TEST(FastKernels, SimdRequantizationMatchesScalarIncludingExtremes) {
  std::mt19937 rng(11);
  const int n = 37;  // 4 vectors of 8 and a scalar tail
  engine::ChannelRequant q;
  std::vector<quant::QuantizedMultiplier> qm;
  for (int j = 0; j < n; ++j) {
    std::uniform_real_distribution<double> scale(1e-6, 3.0);
    qm.push_back(quant::quantize_multiplier(scale(rng)));
    q.multiplier.push_back(qm.back().multiplier);
    q.left_shift.push_back(qm.back().shift > 0 ? qm.back().shift : 0);
    q.right_shift.push_back(qm.back().shift > 0 ? 0 : -qm.back().shift);
  }
  std::vector<int32_t> acc;
  std::uniform_int_distribution<int32_t> small(-(1 << 24), 1 << 24);
  for (int i = 0; i < 40 * n; ++i) acc.push_back(small(rng));
  // Extremes where no left shift applies.
  for (int j = 0; j < n; ++j) {
    if (q.left_shift[static_cast<size_t>(j)] == 0) {
      acc[static_cast<size_t>(j)] = std::numeric_limits<int32_t>::min();
      acc[static_cast<size_t>(n + j)] = std::numeric_limits<int32_t>::max();
      acc[static_cast<size_t>(2 * n + j)] = -1;
    }
  }
  const int rows = static_cast<int>(acc.size()) / n;
  std::vector<int8_t> out(acc.size());
  engine::fast::requantize(acc.data(), rows, n, n, q, -3, -128, 127, out.data());
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < n; ++j) {
      const auto& m = qm[static_cast<size_t>(j)];
      const int32_t v = quant::multiply_by_quantized_multiplier(acc[static_cast<size_t>(i) * n + j], m.multiplier, m.shift) - 3;
      ASSERT_EQ(out[static_cast<size_t>(i) * n + j], std::min(127, std::max(-128, v))) << "row " << i << " col " << j;
    }
}

// The AVX2 fp32 requantization (the TFLite runtime's) against the scalar one,
// ties and the extremes of int32 included.
TEST(FastKernels, SimdFp32RequantizationMatchesScalarIncludingExtremes) {
  std::mt19937 rng(12);
  const int n = 37;
  engine::ChannelRequant q;
  q.fp32 = true;
  std::uniform_real_distribution<float> scale(1e-6f, 3.0f);
  for (int j = 0; j < n; ++j) q.scale.push_back(j == 0 ? 0.5f : scale(rng));  // channel 0: exact ties
  q.multiplier.assign(n, 0);
  q.left_shift.assign(n, 0);
  q.right_shift.assign(n, 0);
  std::vector<int32_t> acc;
  std::uniform_int_distribution<int32_t> small(-(1 << 24), 1 << 24);
  for (int i = 0; i < 40 * n; ++i) acc.push_back(i % n == 0 ? (i / n) * 2 + 1 - 40 : small(rng));
  for (int j = 0; j < n; ++j) {
    acc[static_cast<size_t>(n + j)] = std::numeric_limits<int32_t>::min();
    acc[static_cast<size_t>(2 * n + j)] = std::numeric_limits<int32_t>::max();
  }
  const int rows = static_cast<int>(acc.size()) / n;
  for (bool avx2 : {true, false}) {
    engine::set_avx2_enabled(avx2);
    std::vector<int8_t> out(acc.size());
    engine::fast::requantize(acc.data(), rows, n, n, q, -3, -128, 127, out.data());
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < n; ++j) {
        const size_t k = static_cast<size_t>(i) * n + j;
        ASSERT_EQ(out[k], quant::requantize_fp32(acc[k], q.scale[static_cast<size_t>(j)], -3, -128, 127))
            << "avx2 " << avx2 << " row " << i << " col " << j;
      }
  }
  engine::set_avx2_enabled(true);
}
