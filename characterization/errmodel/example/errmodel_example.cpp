// Example consumer of an error model: load it, print the per-bit error
// probabilities at one operating point, and inject sampled timing errors into
// a stream of int accumulator values, the way a fault-injecting DNN simulator
// would. Build: any C++17 compiler with nlohmann/json and
//   -I <vosa>/characterization/include
//   errmodel_example errmodel.json [voltage] [period_ns] [cycles]
#include "vosa/error_model.hpp"

#include <cstdlib>
#include <iostream>
#include <random>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: errmodel_example errmodel.json [voltage] [period_ns] [cycles]\n";
    return 2;
  }
  try {
    const vosa::ErrorModel model = vosa::ErrorModel::load(argv[1]);
    const double voltage = argc > 2 ? std::atof(argv[2]) : model.points.front().voltage;
    const double period = argc > 3 ? std::atof(argv[3]) : model.points.front().period_ns;
    const long cycles = argc > 4 ? std::atol(argv[4]) : 1000000;
    const auto& pt = model.nearest(voltage, period);
    std::cout << "point: " << pt.voltage << " V, " << pt.period_ns << " ns (" << pt.delay_source
              << ", " << pt.samples << " samples), P(any error) = " << pt.p_any_error() << "\n";
    for (const auto& b : pt.bits)
      if (b.p_error > 0)
        std::cout << "  bit " << b.bit << ": p_error " << b.p_error << " [" << b.ci_low << ", "
                  << b.ci_high << "]\n";
    std::mt19937_64 rng(1);
    const std::uint64_t mask = model.acc_bits >= 64 ? ~0ull : (1ull << model.acc_bits) - 1;
    long corrupted = 0;
    double abs_error = 0;
    for (long i = 0; i < cycles; ++i) {
      const std::uint64_t acc = rng() & mask;            // stand-in for a real accumulator value
      const std::uint64_t bad = acc ^ pt.sample_mask(rng);  // joint bit-flip injection
      corrupted += bad != acc;
      abs_error += std::abs(static_cast<double>(pt.sample_error_value(rng)));
    }
    std::cout << "sampled " << cycles << " PE-cycles: " << corrupted << " corrupted by bit masks ("
              << static_cast<double>(corrupted) / cycles << "), mean |error value| "
              << abs_error / cycles << "\n";
  } catch (const std::exception& e) {
    std::cerr << "errmodel_example: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
