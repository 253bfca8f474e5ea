// The operand reduction of the PE's precision modes (docs/precision.md), in
// one place for the generator, the engine and the testbenches: a mode of b
// bits zeroes the low (width - b) bits of an operand of `width` bits (none
// when b >= width) before the multiplier, as the PE's AND gates do.
#pragma once

#include <cstdint>

namespace vosa {

// Low bits a mode of `mode_bits` zeroes in an operand of `operand_bits`.
inline int dropped_bits(int mode_bits, int operand_bits) {
  return operand_bits > mode_bits ? operand_bits - mode_bits : 0;
}

// The operand with its `dropped` low bits zeroed: for two's complement the
// largest multiple of 2^dropped not above v (truncation toward -infinity).
inline std::int64_t reduce_operand(std::int64_t v, int dropped) {
  return dropped <= 0 ? v : static_cast<std::int64_t>(static_cast<std::uint64_t>(v) & ~((std::uint64_t{1} << dropped) - 1));
}

}  // namespace vosa
