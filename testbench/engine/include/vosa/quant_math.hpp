// Requantization arithmetic of the TFLite runtime, reimplemented for vosa from
// the kernels' source (docs/dnn.md, "Bit-exact with TFLite"):
//  - what the TFLite runtime runs int8 convolutions, FC, ADD and MEAN with
//    (its XNNPACK delegate): single rounding in float (requantize_fp32,
//    XnnpackAdd);
//  - what TFLite's *reference* int8 kernels compute (kernels/internal/common.h
//    and gemmlowp's fixedpoint.h): the double-rounding
//    MultiplyByQuantizedMultiplier, QuantizeMultiplier, and the Q-format exp
//    and reciprocal of their int8 SOFTMAX (Arithmetic::kTFLiteReference).
// Every function here must match its source bit for bit; tests/dnn checks
// them on hand-computed values.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace vosa::quant {

// round(a*b / 2^31) with ties away from zero, saturating (-1)*(-1).
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// Arithmetic right shift rounding to nearest, ties away from zero.
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * multiplier * 2^shift with TFLite's two roundings (shift > 0: left).
inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  return rounding_divide_by_pot(
      saturating_rounding_doubling_high_mul(static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift), multiplier),
      right_shift);
}

struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int shift = 0;  // > 0: left shift
};

// Splits a real multiplier into a Q31 significand and a power of two, as
// TFLite's QuantizeMultiplier does (round half away from zero, flush < 2^-31).
inline QuantizedMultiplier quantize_multiplier(double real) {
  QuantizedMultiplier q;
  if (real == 0.0) return q;
  int shift = 0;
  const double fraction = std::frexp(real, &shift);
  int64_t fixed = static_cast<int64_t>(std::round(fraction * static_cast<double>(int64_t{1} << 31)));
  if (fixed == (int64_t{1} << 31)) {
    fixed /= 2;
    ++shift;
  }
  if (shift < -31) {
    shift = 0;
    fixed = 0;
  }
  q.multiplier = static_cast<int32_t>(fixed);
  q.shift = shift;
  return q;
}

// --- gemmlowp-style Q-format helpers for SOFTMAX ---------------------------
// A raw int32 with `integer_bits` integer bits represents raw / 2^(31 - integer_bits).

// x * 2^exponent, saturating for exponent > 0, rounding for exponent < 0.
inline int32_t saturating_rounding_multiply_by_pot(int32_t x, int exponent) {
  if (exponent == 0) return x;
  if (exponent < 0) return rounding_divide_by_pot(x, -exponent);
  const int32_t threshold = static_cast<int32_t>((int64_t{1} << (31 - exponent)) - 1);
  if (x > threshold) return std::numeric_limits<int32_t>::max();
  if (x < -threshold) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(static_cast<uint32_t>(x) << exponent);
}

// (a + b) / 2 rounded half away from zero.
inline int32_t rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = static_cast<int64_t>(a) + static_cast<int64_t>(b);
  const int64_t sign = sum >= 0 ? 1 : -1;
  return static_cast<int32_t>((sum + sign) / 2);
}

// exp(a) for a in [-1/4, 0), a and result in Q0.31.
inline int32_t exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a) {
  const int32_t constant_term = 1895147668;    // exp(-1/8) in Q0.31
  const int32_t constant_1_over_3 = 715827883;  // 1/3 in Q0.31
  const int32_t x = a + (1 << 28);              // a + 1/8
  const int32_t x2 = saturating_rounding_doubling_high_mul(x, x);
  const int32_t x3 = saturating_rounding_doubling_high_mul(x2, x);
  const int32_t x4 = saturating_rounding_doubling_high_mul(x2, x2);
  const int32_t x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2);
  const int32_t poly = saturating_rounding_multiply_by_pot(
      saturating_rounding_doubling_high_mul(x4_over_4 + x3, constant_1_over_3) + x2, -1);
  return constant_term + saturating_rounding_doubling_high_mul(constant_term, x + poly);
}

// exp(a) for a <= 0; a has `integer_bits` integer bits, the result is Q0.31.
inline int32_t exp_on_negative_values(int32_t a, int integer_bits) {
  const int fractional_bits = 31 - integer_bits;
  const int32_t one_quarter = int32_t{1} << (fractional_bits - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
  // Rescale from `integer_bits` to 0 integer bits.
  int32_t result = exp_on_interval_between_negative_one_quarter_and_0_excl(
      saturating_rounding_multiply_by_pot(a_mod_quarter_minus_one_quarter, integer_bits));
  const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
  // Barrel shifter: multiply by exp(-2^k) for every set bit k of the remainder.
  struct Step {
    int exponent;
    int32_t multiplier;
  };
  static constexpr Step kSteps[] = {{-2, 1672461947}, {-1, 1302514674}, {0, 790015084}, {1, 290630308},
                                    {2, 39332535},    {3, 720401},      {4, 242}};
  for (const Step& step : kSteps) {
    if (integer_bits > step.exponent) {
      const int shift_amount = fractional_bits + step.exponent;
      if (remainder & (int32_t{1} << shift_amount))
        result = saturating_rounding_doubling_high_mul(result, step.multiplier);
    }
  }
  if (integer_bits > 5) {
    const int32_t clamp = -(int32_t{1} << (36 - integer_bits));  // -32.0
    if (a < clamp) result = 0;
  }
  if (a == 0) result = std::numeric_limits<int32_t>::max();  // One() in Q0.31
  return result;
}

// 1 / (1 + a) for a in [0, 1), a and result in Q0.31 (Newton-Raphson in Q2.29).
inline int32_t one_over_one_plus_x_for_x_in_0_1(int32_t a) {
  const int32_t half_denominator = rounding_half_sum(a, std::numeric_limits<int32_t>::max());
  const int32_t constant_48_over_17 = 1515870810;
  const int32_t constant_neg_32_over_17 = -1010580540;
  const int32_t one_q2 = int32_t{1} << 29;
  int32_t x = constant_48_over_17 + saturating_rounding_doubling_high_mul(half_denominator, constant_neg_32_over_17);
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x = saturating_rounding_doubling_high_mul(half_denominator, x);
    const int32_t one_minus = one_q2 - half_denominator_times_x;
    // Q2.29 * Q2.29 is Q4.27; rescale back to Q2.29.
    x = x + saturating_rounding_multiply_by_pot(saturating_rounding_doubling_high_mul(x, one_minus), 2);
  }
  // x / 2 in Q1.30 rescaled to Q0.31.
  return saturating_rounding_multiply_by_pot(x, 1);
}

inline int count_leading_zeros(uint32_t x) { return x == 0 ? 32 : __builtin_clz(x); }

// 1/x for x with `integer_digits` integer bits; returns a Q0.31 value v and
// num_bits_over_unit such that 1/x = v * 2^-num_bits_over_unit.
inline int32_t get_reciprocal(int32_t x, int integer_digits, int* num_bits_over_unit) {
  const int headroom_plus_one = count_leading_zeros(static_cast<uint32_t>(x));
  *num_bits_over_unit = integer_digits - headroom_plus_one;
  const int32_t shifted_sum_minus_one =
      static_cast<int32_t>((static_cast<uint32_t>(x) << headroom_plus_one) - (uint32_t{1} << 31));
  return one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
}

// --- XNNPACK's int8 kernels (the TFLite runtime's default delegate) --------

// XNNPACK's "fp32" requantization: acc * scale in float (one rounding of the
// product to float), clamped to the output range less the zero point, rounded
// to nearest with ties to even (lrintf / the magic-bias trick), plus the zero
// point. lo and hi are the clamp bounds in the output's quantized domain.
inline int32_t requantize_fp32(int32_t acc, float scale, int32_t zero_point, int32_t lo, int32_t hi) {
  float v = static_cast<float>(acc) * scale;
  v = std::min(std::max(v, static_cast<float>(lo - zero_point)), static_cast<float>(hi - zero_point));
  return static_cast<int32_t>(std::nearbyint(v)) + zero_point;
}

// XNNPACK's requantization scale of a convolution / FC channel: computed in
// float, in this order (xnn_create_convolution2d_nhwc_qs8_qc8w).
inline float xnnpack_conv_scale(float input_scale, float weight_scale, float output_scale) {
  return input_scale * weight_scale / output_scale;
}

// XNNPACK's int8 ADD (xnn_init_qs8_add_minmax_scalar_params and the scalar
// vadd kernel): both inputs scaled by 21-bit integer multipliers sharing one
// shift, summed in int32 with a rounding bias, shifted once.
struct XnnpackAdd {
  int32_t a_multiplier = 0, b_multiplier = 0, bias = 0;
  int shift = 0;
};

inline XnnpackAdd xnnpack_add_params(float a_scale, float b_scale, float output_scale, int32_t a_zero_point,
                                     int32_t b_zero_point) {
  const float a_output_scale = a_scale / output_scale;
  const float b_output_scale = b_scale / output_scale;
  const float max_output_scale = std::max(a_output_scale, b_output_scale);
  int exponent = 0;
  std::frexp(max_output_scale, &exponent);  // max = f * 2^exponent, f in [0.5, 1)
  XnnpackAdd p;
  p.shift = 20 - (exponent - 1);           // 20 multiplier bits below the leading one
  p.a_multiplier = static_cast<int32_t>(std::nearbyint(std::ldexp(a_output_scale, p.shift)));
  p.b_multiplier = static_cast<int32_t>(std::nearbyint(std::ldexp(b_output_scale, p.shift)));
  p.bias = (int32_t{1} << (p.shift - 1)) - p.a_multiplier * a_zero_point - p.b_multiplier * b_zero_point;
  return p;
}

inline int32_t xnnpack_add(int32_t a, int32_t b, const XnnpackAdd& p, int32_t zero_point, int32_t lo, int32_t hi) {
  const int32_t acc = p.bias + a * p.a_multiplier + b * p.b_multiplier;
  return std::min(std::max((acc >> p.shift) + zero_point, lo), hi);
}

}  // namespace vosa::quant
