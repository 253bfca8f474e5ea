// The carry-save partial-sum step of the PE (`arithmetic: {psum: carry_save}`,
// rtl_templates/vosa_pe_ws.v), in one place for every model of the chain: one
// row of full adders compresses the incoming sum and carry words with the
// product; the carry out of the MSB is dropped, so sum + carry wraps at `bits`
// like the carry-propagate partial sum (docs/arith.md).
#pragma once

#include <cstdint>

namespace vosa {

struct CarrySaveWords {
  std::uint64_t sum = 0, carry = 0;  // unsigned `bits`-wide register contents
};

inline CarrySaveWords carry_save_add(std::uint64_t sum, std::uint64_t carry, std::uint64_t product, int bits) {
  const std::uint64_t mask = bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
  return {(sum ^ carry ^ product) & mask, (((sum & carry) | (sum & product) | (carry & product)) << 1) & mask};
}

// The partial sum a pair stands for: what the column's carry-propagate adder
// outputs, sum + carry wrapped to `bits` (unsigned register contents).
inline std::uint64_t carry_save_value(const CarrySaveWords& w, int bits) {
  const std::uint64_t mask = bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
  return (w.sum + w.carry) & mask;
}

// One PE capture of a carry-save column with timing errors, as the injecting
// RTL takes them (rtl_templates/vosa_pe_ws.v, VOSA_INJECT_ERRORS): `flip` is a
// pair mask, bits 0..bits-1 flip the sum word, bits..2*bits-1 the carry word.
// Razor bits `razor` protect the same bits of both words: a flip on one of
// them is detected; policy correct restores the protected bits of both words
// (the unprotected flips stay), TE-Drop passes the incoming pair on.
inline CarrySaveWords carry_save_capture(const CarrySaveWords& in, std::uint64_t product, int bits,
                                         std::uint64_t flip, std::uint64_t razor, bool correct) {
  const std::uint64_t mask = bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
  const CarrySaveWords next = carry_save_add(in.sum, in.carry, product, bits);
  std::uint64_t sum_flip = flip & mask, carry_flip = bits >= 64 ? 0 : (flip >> bits) & mask;
  if ((sum_flip | carry_flip) & razor) {
    if (!correct) return in;
    sum_flip &= ~razor;
    carry_flip &= ~razor;
  }
  return {next.sum ^ sum_flip, next.carry ^ carry_flip};
}

}  // namespace vosa
