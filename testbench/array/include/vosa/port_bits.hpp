// Bit-field access to Verilated ports of any width: ports up to 64 bits are
// plain integers, wider ones are VlWide<N> arrays of 32-bit words.
#pragma once

#include <verilated.h>

#include <cstdint>
#include <type_traits>

namespace vosa {

template <typename T>
inline void set_bits(T& port, int lsb, int width, std::uint64_t value) {
  static_assert(std::is_integral<T>::value, "integral port expected");
  const std::uint64_t mask = width >= 64 ? ~0ULL : ((1ULL << width) - 1);
  std::uint64_t word = static_cast<std::uint64_t>(port);
  word = (word & ~(mask << lsb)) | ((value & mask) << lsb);
  port = static_cast<T>(word);
}

template <typename T>
inline std::uint64_t get_bits(const T& port, int lsb, int width) {
  static_assert(std::is_integral<T>::value, "integral port expected");
  const std::uint64_t mask = width >= 64 ? ~0ULL : ((1ULL << width) - 1);
  return (static_cast<std::uint64_t>(port) >> lsb) & mask;
}

template <std::size_t N>
inline void set_bits(VlWide<N>& port, int lsb, int width, std::uint64_t value) {
  for (int i = 0; i < width; ++i) {
    const int bit = lsb + i;
    const EData m = EData{1} << (bit % 32);
    if ((value >> i) & 1ULL) {
      port[bit / 32] |= m;
    } else {
      port[bit / 32] &= ~m;
    }
  }
}

template <std::size_t N>
inline std::uint64_t get_bits(const VlWide<N>& port, int lsb, int width) {
  std::uint64_t value = 0;
  for (int i = 0; i < width; ++i) {
    const int bit = lsb + i;
    value |= static_cast<std::uint64_t>((port[bit / 32] >> (bit % 32)) & 1U) << i;
  }
  return value;
}

// Two's-complement or unsigned interpretation of a width-bit field.
inline std::int64_t field_value(std::uint64_t raw, int width, bool is_signed) {
  if (!is_signed || width >= 64) return static_cast<std::int64_t>(raw);
  const std::uint64_t sign = 1ULL << (width - 1);
  return static_cast<std::int64_t>((raw ^ sign)) - static_cast<std::int64_t>(sign);
}

}  // namespace vosa
