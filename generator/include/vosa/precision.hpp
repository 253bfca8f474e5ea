// The operand reduction of the PE's precision modes (docs/precision.md), in
// one place for the generator, the engine and the testbenches: a mode of b
// bits replaces the low d = width - b bits of an operand of `width` bits
// (none when b >= width) by the constant 10..0 before the multiplier, as the
// PE's gates do: the reduced operand is the midpoint of the 2^d values it
// stands for, so the reduction error has (nearly) zero mean. Zero stays zero
// (the array's zero padding and idle cycles must contribute nothing).
#pragma once

#include <cstdint>

namespace vosa {

// Low bits a mode of `mode_bits` drops from an operand of `operand_bits`.
inline int dropped_bits(int mode_bits, int operand_bits) {
  return operand_bits > mode_bits ? operand_bits - mode_bits : 0;
}

// The operand with its `dropped` low bits replaced by 10..0: for two's
// complement, the largest multiple of 2^dropped not above v, plus
// 2^(dropped-1); 0 for 0. Stays in the operand's range (only low bits change).
inline std::int64_t reduce_operand(std::int64_t v, int dropped) {
  return dropped <= 0 || v == 0 ? v
                      : static_cast<std::int64_t>((static_cast<std::uint64_t>(v) & ~((std::uint64_t{1} << dropped) - 1)) |
                                                  (std::uint64_t{1} << (dropped - 1)));
}

}  // namespace vosa
