// What a weight-stationary array must output when timing errors were
// injected into its PE output registers (Verilator builds with
// +define+VOSA_INJECT_ERRORS): replays every column's chain of captures from
// a log of the masks the C function vosa_inject_mask() returned.
//
// Per K-tile the column's partial sum starts at 0 at the top; PE r computes
// sum = (s + a*w) mod 2^acc_bits and captures it XOR the injected mask. A mask
// that touches a Razor-protected bit is detected: policy `correct` restores
// the protected bits (the unprotected part of the flip stays), TE-Drop keeps
// the incoming sum (the PE's product of that cycle is dropped). The tiles'
// column outputs, read as acc_bits-wide integers, are summed exactly.
// A carry-save array (ArrayParams::carry_save): the column carries a sum and a
// carry word, each PE captures vosa::carry_save_capture of its pair with the
// logged pair mask, and the column adder adds them (vosa/carry_save.hpp).
// Header-only; needs the array's geometry (ArrayParams) and the accept edges
// the driver recorded for the GEMM.
#pragma once

#include "vosa/array_driver.hpp"
#include "vosa/carry_save.hpp"
#include "vosa/port_bits.hpp"

#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

namespace vosa {

// (active edge, row, col) -> mask injected at that capture.
using InjectionLog = std::map<std::tuple<std::uint64_t, int, int>, std::uint64_t>;

struct RazorSemantics {
  std::uint64_t protected_mask = 0;  // Razor bits (0: no Razor)
  bool correct = true;               // false: TE-Drop
};

inline std::vector<std::int64_t> replay_injected_gemm(const ArrayParams& p, const RazorSemantics& razor,
                                                      const std::vector<std::int32_t>& a,
                                                      const std::vector<std::int32_t>& b, int m, int k, int n,
                                                      const std::vector<std::uint64_t>& accept_edges,
                                                      const InjectionLog& log) {
  const std::uint64_t acc_mask = p.acc_bits >= 64 ? ~0ULL : (1ULL << p.acc_bits) - 1;
  std::vector<std::int64_t> c(static_cast<std::size_t>(m) * n, 0);
  std::size_t next = 0;
  for (int n0 = 0; n0 < n; n0 += p.cols) {
    for (int k0 = 0; k0 < k; k0 += p.rows) {
      for (int mi = 0; mi < m; ++mi) {
        const std::uint64_t t = accept_edges.at(next++);
        for (int col = 0; col < p.cols && n0 + col < n; ++col) {
          std::uint64_t s = 0;
          CarrySaveWords words;
          for (int r = 0; r < p.rows; ++r) {
            const int kk = k0 + r;
            const std::int64_t prod = kk < k ? static_cast<std::int64_t>(a[static_cast<std::size_t>(mi) * k + kk]) *
                                                   b[static_cast<std::size_t>(kk) * n + n0 + col]
                                             : 0;
            const std::uint64_t sum = (s + static_cast<std::uint64_t>(prod)) & acc_mask;
            // Row r captures activation row mi of this tile at edge t + r + col + 1.
            const auto it = log.find({t + static_cast<std::uint64_t>(r + col + 1), r, col});
            const std::uint64_t flip = it == log.end() ? 0 : it->second;
            if (p.carry_save) {
              words = carry_save_capture(words, static_cast<std::uint64_t>(prod), p.acc_bits, flip,
                                         razor.protected_mask, razor.correct);
              s = carry_save_value(words, p.acc_bits);
            } else if (flip & razor.protected_mask) {
              s = razor.correct ? (sum ^ (flip & ~razor.protected_mask)) & acc_mask : s;
            } else {
              s = (sum ^ flip) & acc_mask;
            }
          }
          c[static_cast<std::size_t>(mi) * n + n0 + col] += field_value(s, p.acc_bits, p.is_signed);
        }
      }
    }
  }
  return c;
}

}  // namespace vosa
