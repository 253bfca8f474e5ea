// The message of the exception a call throws, for tests of named errors:
// EXPECT_NE(error_of([&] { f(); }).find("--flag"), std::string::npos).
#pragma once

#include <exception>
#include <string>

namespace vosa::test {

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace vosa::test
