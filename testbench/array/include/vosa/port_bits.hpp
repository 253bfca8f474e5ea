// Bit-field access to Verilated ports of any width: ports up to 64 bits are
// plain integers, wider ones are VlWide<N> arrays of 32-bit words.
#pragma once

#include <verilated.h>

#include <algorithm>
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

// Wide ports: a field of up to 64 bits spans at most three 32-bit words;
// each is updated with one masked store.
template <std::size_t N>
inline void set_bits(VlWide<N>& port, int lsb, int width, std::uint64_t value) {
  if (width < 64) value &= (1ULL << width) - 1;
  int bit = lsb, done = 0;
  while (done < width) {
    const int word = bit / 32, offset = bit % 32;
    const int take = std::min(32 - offset, width - done);
    const EData mask = static_cast<EData>(((take == 32 ? 0x100000000ULL : (1ULL << take)) - 1) << offset);
    const EData part = static_cast<EData>(((value >> done) << offset) & mask);
    port[word] = (port[word] & ~mask) | part;
    bit += take;
    done += take;
  }
}

template <std::size_t N>
inline std::uint64_t get_bits(const VlWide<N>& port, int lsb, int width) {
  std::uint64_t value = 0;
  int bit = lsb, done = 0;
  while (done < width) {
    const int word = bit / 32, offset = bit % 32;
    const int take = std::min(32 - offset, width - done);
    const std::uint64_t part = (static_cast<std::uint64_t>(port[word]) >> offset) &
                               ((take == 32 ? 0x100000000ULL : (1ULL << take)) - 1);
    value |= part << done;
    bit += take;
    done += take;
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
