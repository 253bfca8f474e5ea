// The thread pool every engine's --threads uses (pe_dta.cpp, filter_engine.cpp,
// parallel_engine.cpp): one thread per slice of the stream.
#pragma once

#include <exception>
#include <thread>
#include <vector>

namespace vosa::dta {

// Runs body(t) for t = 0 .. threads-1, each on its own thread, waits for all,
// then rethrows the first slice's error (a DtaError names its cause).
template <typename Body>
void run_slices(int threads, Body&& body) {
  std::vector<std::exception_ptr> errors(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t]() {
      try {
        body(t);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  for (auto& th : pool) th.join();
  for (auto& err : errors)
    if (err) std::rethrow_exception(err);
}

}  // namespace vosa::dta
