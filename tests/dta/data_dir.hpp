// Where tests find PDK and DNN data: $VOSA_DATA_DIR, else ../shared beside
// the repository. A missing file fails the test with its path.
#pragma once

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#ifndef VOSA_SOURCE_DIR
#error "VOSA_SOURCE_DIR must be defined by CMake"
#endif

namespace vosa::test {

inline std::string data_dir() {
  if (const char* d = std::getenv("VOSA_DATA_DIR"); d && *d) return d;
  return std::string(VOSA_SOURCE_DIR) + "/../shared";
}

inline std::string require_file(const std::string& path) {
  if (!std::ifstream(path))
    throw std::runtime_error("required test data is missing: " + path +
                             " (set VOSA_DATA_DIR to the shared data folder)");
  return path;
}

inline std::string data_file(const std::string& relative) {
  return require_file(data_dir() + "/" + relative);
}

// osu018 comes from Debian's qflow-tech-osu018 (scripts/setup.sh installs it).
inline std::string osu018_liberty() {
  return require_file("/usr/share/qflow/tech/osu018/osu018_stdcells.lib");
}

}  // namespace vosa::test
