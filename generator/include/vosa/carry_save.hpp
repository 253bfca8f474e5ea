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

}  // namespace vosa
