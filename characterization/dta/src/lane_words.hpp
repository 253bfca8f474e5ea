// Bit-sliced evaluation shared by the lane-parallel engines
// (parallel_engine.cpp, filter_engine.cpp): one simulated cycle per bit.
#pragma once

#include <cstdint>

namespace vosa::dta {

using LaneWord = std::uint64_t;

// The gate's truth table `tt` over n inputs applied to 64 lanes at once
// (Shannon expansion on the last variable).
inline LaneWord eval_tt(std::uint64_t tt, int n, const LaneWord* x) {
  if (n == 0) return (tt & 1) ? ~LaneWord{0} : 0;
  const int half = 1 << (n - 1);
  const std::uint64_t low_mask = half >= 64 ? ~0ull : ((1ull << half) - 1);
  const std::uint64_t lo = tt & low_mask, hi = (tt >> half) & low_mask;
  if (lo == hi) return eval_tt(lo, n - 1, x);
  const LaneWord a = eval_tt(lo, n - 1, x), b = eval_tt(hi, n - 1, x);
  return (x[n - 1] & b) | (~x[n - 1] & a);
}

}  // namespace vosa::dta
