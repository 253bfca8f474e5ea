// Content hashes used to tie generated files back to their inputs.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace vosa {

// 64-bit FNV-1a, printed as 16 hex digits: a stable identifier, not a
// cryptographic digest.
inline std::string fnv1a64_hex(const std::string& data) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : data) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace vosa
