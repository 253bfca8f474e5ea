// Comma-separated lists and numbers from a command-line value ("1.6" or "1.6,1.44"),
// shared by the subcommands and testbenches that take voltage, period or bit
// lists. Header-only.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa {

// Throws std::runtime_error naming `flag` and the offending item.
inline std::vector<double> parse_number_list(const std::string& text, const std::string& flag) {
  std::vector<double> v;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    try {
      size_t used = 0;
      v.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw std::runtime_error(flag + ": '" + item + "' is not a number (expected e.g. 1.6 or 1.6,1.44)");
    }
  }
  if (v.empty()) throw std::runtime_error(flag + ": empty list");
  return v;
}

// The non-empty items of a comma-separated list ("a,b,,c" -> a, b, c).
inline std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace vosa
