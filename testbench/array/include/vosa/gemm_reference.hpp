// Exact integer GEMM, the reference the array is checked against.
#pragma once

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa {

// Throws std::invalid_argument for an empty or inconsistent shape.
inline void check_gemm_shape(std::size_t a_size, std::size_t b_size, int m, int k, int n) {
  if (m <= 0 || k <= 0 || n <= 0) {
    throw std::invalid_argument("GEMM shape " + std::to_string(m) + "x" + std::to_string(k) +
                                " by " + std::to_string(k) + "x" + std::to_string(n) +
                                " is empty: M, K and N must all be at least 1");
  }
  if (a_size != static_cast<std::size_t>(m) * k || b_size != static_cast<std::size_t>(k) * n) {
    throw std::invalid_argument("GEMM operands hold " + std::to_string(a_size) + " and " +
                                std::to_string(b_size) + " values, expected " +
                                std::to_string(static_cast<long long>(m) * k) + " and " +
                                std::to_string(static_cast<long long>(k) * n));
  }
}

// C[m][n] = sum_k A[m][k] * B[k][n], row-major, without overflow.
inline std::vector<std::int64_t> reference_gemm(const std::vector<std::int32_t>& a,
                                                const std::vector<std::int32_t>& b, int m, int k,
                                                int n) {
  check_gemm_shape(a.size(), b.size(), m, k, n);
  std::vector<std::int64_t> c(static_cast<std::size_t>(m) * n, 0);
  for (int i = 0; i < m; ++i)
    for (int p = 0; p < k; ++p) {
      const std::int64_t x = a[static_cast<std::size_t>(i) * k + p];
      for (int j = 0; j < n; ++j) c[static_cast<std::size_t>(i) * n + j] += x * b[static_cast<std::size_t>(p) * n + j];
    }
  return c;
}

// count values drawn uniformly from [lo, hi]: random operands for the checks.
inline std::vector<std::int32_t> random_matrix(std::mt19937_64& rng, std::size_t count,
                                               std::int64_t lo, std::int64_t hi) {
  std::uniform_int_distribution<std::int64_t> dist(lo, hi);
  std::vector<std::int32_t> v(count);
  for (auto& x : v) x = static_cast<std::int32_t>(dist(rng));
  return v;
}

}  // namespace vosa
