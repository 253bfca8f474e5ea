// Self-check of a generated array in Verilator: integer GEMMs of many shapes,
// tiled onto the array, compared bit-exact with reference_gemm().
//   vosa_gemm_check [--seed S] [--random N]     run the checks (exit 1 on a mismatch)
//   vosa_gemm_check --bench M K N [--repeat R]  time one large GEMM
#include "Vvosa_top.h"
#include "vosa/array_driver.hpp"
#include "vosa/gemm_reference.hpp"
#include "vosa/precision.hpp"

#include <verilated.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>

namespace {

using Driver = vosa::ArrayDriver<Vvosa_top>;
using vosa::random_matrix;

struct Tally {
  int gemms = 0;
  std::uint64_t macs = 0;
  int failures = 0;
};

void check(Driver& drv, Tally& tally, const std::string& name, const std::vector<std::int32_t>& a,
           const std::vector<std::int32_t>& b, int m, int k, int n) {
  const auto got = drv.gemm(a, b, m, k, n);
  const auto want = vosa::reference_gemm(a, b, m, k, n);
  ++tally.gemms;
  tally.macs += static_cast<std::uint64_t>(m) * k * n;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (got[i] != want[i]) {
      ++tally.failures;
      std::printf("FAIL %s (%dx%d by %dx%d): C[%zu][%zu] = %lld, expected %lld\n", name.c_str(), m,
                  k, k, n, i / n, i % n, static_cast<long long>(got[i]),
                  static_cast<long long>(want[i]));
      return;
    }
  }
}

#ifdef VOSA_HAS_PRECISION_MODES
// Precision modes (docs/precision.md): the operands as mode `m` reduces them.
std::vector<std::int32_t> reduced(const std::vector<std::int32_t>& v, int mode, int width) {
  std::vector<std::int32_t> out(v.size());
  const int drop = vosa::dropped_bits(vosa_params::kPrecisionModes[mode], width);
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<std::int32_t>(vosa::reduce_operand(v[i], drop));
  return out;
}

void set_all_modes(Driver& drv, int mode) {
  for (int i = 0; i < vosa_params::kModeRegs; ++i)
    drv.write_reg(vosa_params::kModeRegBase + static_cast<unsigned>(i), static_cast<std::uint32_t>(mode));
}

// Every mode: random GEMMs bit-exact against the reference on reduced
// operands; the MODE registers read back; an out-of-range index is ignored;
// and a stream whose mode registers change between back-to-back vectors
// (different modes per island) where every output row is exact in the modes
// that were set when its vector entered the array.
void check_precision_modes(Driver& drv, Tally& tally, std::mt19937_64& rng) {
  const auto& p = drv.params();
  auto fail = [&](const std::string& what) {
    ++tally.failures;
    std::printf("FAIL precision modes: %s\n", what.c_str());
  };
  for (int mode = 0; mode < vosa_params::kModes; ++mode) {
    set_all_modes(drv, mode);
    for (int i = 0; i < vosa_params::kModeRegs; ++i)
      if (drv.read_reg(vosa_params::kModeRegBase + static_cast<unsigned>(i)) != static_cast<std::uint32_t>(mode))
        fail("MODE[" + std::to_string(i) + "] does not read back " + std::to_string(mode));
    const int m = 2 * p.rows + 1, k = 2 * p.rows + 1, n = 2 * p.cols + 1;
    const auto a = random_matrix(rng, static_cast<std::size_t>(m) * k, p.act_min(), p.act_max());
    const auto b = random_matrix(rng, static_cast<std::size_t>(k) * n, p.weight_min(), p.weight_max());
    const auto got = drv.gemm(a, b, m, k, n);
    ++tally.gemms;
    tally.macs += static_cast<std::uint64_t>(m) * k * n;
    if (got != vosa::reference_gemm(reduced(a, mode, p.act_bits), reduced(b, mode, p.weight_bits), m, k, n))
      fail("mode " + std::to_string(mode) + " (" + std::to_string(vosa_params::kPrecisionModes[mode]) +
           " bits): GEMM differs from the reference on reduced operands");
    else if (mode > 0 && got == vosa::reference_gemm(a, b, m, k, n))
      fail("mode " + std::to_string(mode) + " computes at full precision");
  }
  set_all_modes(drv, 0);
  drv.write_reg(vosa_params::kModeRegBase, static_cast<std::uint32_t>(vosa_params::kModes));  // no such mode
  if (drv.read_reg(vosa_params::kModeRegBase) != 0) fail("a write of an index >= MODES was not ignored");

#ifdef VOSA_HAS_BUFFERS
  // Through the buffers a vector enters the array one cycle after its read,
  // so the write-and-acceptance timing below does not apply.
  std::printf("precision modes: %d modes x %d MODE register(s) bit-exact against reduced operands (mid-stream "
              "switches not checked through the buffers)\n",
              vosa_params::kModes, vosa_params::kModeRegs);
  set_all_modes(drv, 0);
#else
  // Mid-stream switches: one weight tile, M vectors back to back; before some
  // vectors one MODE register changes (the write and that vector's acceptance
  // share a clock edge, so the vector still takes the old mode).
  auto& top = drv.top();
  const int m = 6 * (p.rows + p.cols) + 4;
  const auto a = random_matrix(rng, static_cast<std::size_t>(m) * p.rows, p.act_min(), p.act_max());
  const auto b = random_matrix(rng, static_cast<std::size_t>(p.rows) * p.cols, p.weight_min(), p.weight_max());
  drv.load_weight_tile(b, p.rows, p.cols, 0, 0);
  std::vector<int> modes(static_cast<std::size_t>(vosa_params::kModeRegs), 0);
  std::vector<std::vector<int>> vector_modes;  // mode of each island for each accepted vector
  std::vector<std::vector<std::int64_t>> rows_out;
  std::uniform_int_distribution<int> pick_mode(0, vosa_params::kModes - 1), pick_reg(0, vosa_params::kModeRegs - 1);
  int sent = 0, writes = 0;
  for (int guard = 0; static_cast<int>(rows_out.size()) < m; ++guard) {
    if (guard > 100 * m) {
      fail("mid-stream switch: the array produced too few results");
      return;
    }
    const bool ready = drv.ready();
    int new_reg = -1, new_mode = 0;
    if (sent < m) {
      drv.push_activation_row(a, p.rows, sent, 0);
      if (ready && sent % 3 == 1) {  // a switch every third vector
        new_reg = pick_reg(rng);
        new_mode = pick_mode(rng);
        top.reg_we_i = 1;
        top.reg_addr_i = vosa_params::kModeRegBase + static_cast<unsigned>(new_reg);
        top.reg_wdata_i = static_cast<std::uint32_t>(new_mode);
        ++writes;
      }
      if (ready) {
        vector_modes.push_back(modes);
        ++sent;
      }
    } else {
      top.in_valid_i = 0;
    }
    drv.tick();
    top.reg_we_i = 0;
    if (new_reg >= 0) modes[static_cast<std::size_t>(new_reg)] = new_mode;
    if (top.out_valid_o) {
      std::vector<std::int64_t> row;
      for (int c = 0; c < p.cols; ++c)
        row.push_back(vosa::field_value(vosa::get_bits(top.out_vec_o, c * p.acc_bits, p.acc_bits), p.acc_bits,
                                        p.is_signed));
      rows_out.push_back(row);
    }
  }
  top.in_valid_i = 0;
  int bad = 0;
  for (int i = 0; i < m; ++i)
    for (int c = 0; c < p.cols; ++c) {
      const int mode = vector_modes[static_cast<std::size_t>(i)][static_cast<std::size_t>(
          vosa_params::kModeRegs > 1 ? vosa_params::kIslandOfColumn[c] : 0)];
      const int da = vosa::dropped_bits(vosa_params::kPrecisionModes[mode], p.act_bits);
      const int dw = vosa::dropped_bits(vosa_params::kPrecisionModes[mode], p.weight_bits);
      std::int64_t want = 0;
      for (int r = 0; r < p.rows; ++r)
        want += vosa::reduce_operand(a[static_cast<std::size_t>(i) * p.rows + r], da) *
                vosa::reduce_operand(b[static_cast<std::size_t>(r) * p.cols + c], dw);
      if (rows_out[static_cast<std::size_t>(i)][static_cast<std::size_t>(c)] != want && bad++ == 0)
        fail("mid-stream switch: vector " + std::to_string(i) + " column " + std::to_string(c) + " = " +
             std::to_string(rows_out[static_cast<std::size_t>(i)][static_cast<std::size_t>(c)]) + ", expected " +
             std::to_string(want) + " in mode " + std::to_string(mode));
    }
  ++tally.gemms;
  tally.macs += static_cast<std::uint64_t>(m) * p.rows * p.cols;
  std::printf("precision modes: %d modes x %d MODE register(s) bit-exact against reduced operands; mid-stream: %d "
              "vectors, %d mode switches, %d wrong outputs\n",
              vosa_params::kModes, vosa_params::kModeRegs, m, writes, bad);
  set_all_modes(drv, 0);
#endif
}
#endif

#ifdef VOSA_HAS_DEPTHWISE_MODE
// Depthwise mode (docs/rtl.md): random lane values and weight tiles, extreme
// values included, against the mode's definition: row l * G + i of column c
// multiplies lane l of column c at vector t + i.
void check_depthwise_mode(Driver& drv, Tally& tally, std::mt19937_64& rng) {
  const auto& p = drv.params();
  const int lanes = vosa::kDwLanes, group = vosa::kDwGroupRows;
  for (int m : {1, 2, group + 1, 3 * (p.rows + p.cols) + 1}) {
    auto lane = random_matrix(rng, static_cast<std::size_t>(m) * p.cols * lanes, p.act_min(), p.act_max());
    auto b = random_matrix(rng, static_cast<std::size_t>(p.rows) * p.cols, p.weight_min(), p.weight_max());
    lane[0] = static_cast<std::int32_t>(p.act_min());
    b[0] = static_cast<std::int32_t>(p.weight_min());
    const auto got = drv.depthwise_pass(lane, b, m);
    ++tally.gemms;
    tally.macs += static_cast<std::uint64_t>(m) * p.rows * p.cols;
    for (int t = 0; t < m; ++t)
      for (int c = 0; c < p.cols; ++c) {
        std::int64_t want = 0;
        for (int r = 0; r < p.rows; ++r) {
          const int l = r / group, i = r % group;
          if (t + i < m)
            want += static_cast<std::int64_t>(b[static_cast<std::size_t>(r) * p.cols + c]) *
                    lane[(static_cast<std::size_t>(t + i) * p.cols + c) * lanes + l];
        }
        if (got[static_cast<std::size_t>(t) * p.cols + c] != want) {
          ++tally.failures;
          std::printf("FAIL depthwise mode (%d vectors): C[%d][%d] = %lld, expected %lld\n", m, t, c,
                      static_cast<long long>(got[static_cast<std::size_t>(t) * p.cols + c]),
                      static_cast<long long>(want));
          return;
        }
      }
  }
}
#endif

int run_checks(std::uint64_t seed, int random_count) {
  auto top = std::make_unique<Vvosa_top>();
  Driver drv(*top);
  const auto& p = drv.params();
  drv.reset();
  std::mt19937_64 rng(seed);
  Tally tally;

  auto rand_check = [&](const std::string& name, int m, int k, int n) {
    check(drv, tally, name, random_matrix(rng, static_cast<std::size_t>(m) * k, p.act_min(), p.act_max()),
          random_matrix(rng, static_cast<std::size_t>(k) * n, p.weight_min(), p.weight_max()), m, k, n);
  };

  // Shapes that fit exactly, one element, and non-multiples of the array size.
  rand_check("exact tile", p.rows, p.rows, p.cols);
  rand_check("single element", 1, 1, 1);
  rand_check("multi-tile", 2 * p.rows + 1, 2 * p.rows + 1, 2 * p.cols + 1);
  std::uniform_int_distribution<int> dim_m(1, 3 * p.rows + 2), dim_k(1, 3 * p.rows + 2),
      dim_n(1, 3 * p.cols + 2);
  for (int i = 0; i < random_count; ++i) rand_check("random shape", dim_m(rng), dim_k(rng), dim_n(rng));

  // The accumulator's worst cases at K = rows: every product at its extreme.
  const int m = p.rows, k = p.rows, n = p.cols;
  auto filled = [](std::size_t count, std::int64_t v) {
    return std::vector<std::int32_t>(count, static_cast<std::int32_t>(v));
  };
  const std::size_t mk = static_cast<std::size_t>(m) * k, kn = static_cast<std::size_t>(k) * n;
  check(drv, tally, "extreme min*min", filled(mk, p.act_min()), filled(kn, p.weight_min()), m, k, n);
  check(drv, tally, "extreme max*max", filled(mk, p.act_max()), filled(kn, p.weight_max()), m, k, n);
  check(drv, tally, "extreme min*max", filled(mk, p.act_min()), filled(kn, p.weight_max()), m, k, n);
  check(drv, tally, "extreme max*min", filled(mk, p.act_max()), filled(kn, p.weight_min()), m, k, n);

  // Empty shapes are rejected before anything reaches the array.
  for (const auto& shape : {std::array<int, 3>{0, 1, 1}, {1, 0, 1}, {1, 1, 0}}) {
    try {
      drv.gemm({}, {}, shape[0], shape[1], shape[2]);
      ++tally.failures;
      std::printf("FAIL: empty GEMM %dx%dx%d was accepted\n", shape[0], shape[1], shape[2]);
    } catch (const std::invalid_argument& e) {
      if (std::strstr(e.what(), "empty") == nullptr) {
        ++tally.failures;
        std::printf("FAIL: unexpected message for an empty GEMM: %s\n", e.what());
      }
    }
  }
  // Operands out of the array's range are rejected too.
  try {
    drv.gemm({static_cast<std::int32_t>(p.act_max() + 1)}, {0}, 1, 1, 1);
    ++tally.failures;
    std::printf("FAIL: an out-of-range activation was accepted\n");
  } catch (const std::invalid_argument&) {
  }

  // A reset in the middle of a stream: nothing of the interrupted stream may
  // come out afterwards, and the next GEMM is exact.
  {
    const auto a = random_matrix(rng, static_cast<std::size_t>(p.rows) * p.rows, p.act_min(), p.act_max());
    const auto b = random_matrix(rng, static_cast<std::size_t>(p.rows) * p.cols, p.weight_min(), p.weight_max());
    if constexpr (vosa_params::kWeightStationary) {
      drv.load_weight_tile(b, p.rows, p.cols, 0, 0);
      for (int i = 0; i < p.rows; ++i) {
        drv.push_activation_row(a, p.rows, i, 0);
        drv.tick();
      }
    } else {
#ifndef VOSA_HAS_BUFFERS  // (buffered designs are weight-stationary)
      top->in_valid_i = 1;
#endif
      for (int i = 0; i < p.rows / 2 + 1; ++i) drv.tick();
    }
    drv.reset();
    for (int i = 0; i < 4 * (p.rows + p.cols) + 8; ++i) {
      drv.tick();
      if (top->out_valid_o || top->busy_o) {
        ++tally.failures;
        std::printf("FAIL: the array reports a result or activity after a mid-stream reset\n");
        break;
      }
    }
    check(drv, tally, "after mid-stream reset", a, b, p.rows, p.rows, p.cols);
  }
#ifdef VOSA_HAS_PRECISION_MODES
  check_precision_modes(drv, tally, rng);
#endif
#ifdef VOSA_HAS_DEPTHWISE_MODE
  check_depthwise_mode(drv, tally, rng);
  // Back in weight-stationary mode: the row stream feeds the PEs again.
  {
    const auto a = random_matrix(rng, static_cast<std::size_t>(5) * p.rows, p.act_min(), p.act_max());
    const auto b = random_matrix(rng, static_cast<std::size_t>(p.rows) * p.cols, p.weight_min(), p.weight_max());
    check(drv, tally, "after depthwise mode", a, b, 5, p.rows, p.cols);
  }
#endif

  std::printf(
      "gemm_check: %s %dx%d %s array, %dx%d-bit %s operands, %d-bit accumulators: %d GEMMs, "
      "%llu MACs checked bit-exact against the reference, %llu cycles, %d mismatching GEMMs\n",
      tally.failures ? "FAIL" : "PASS", p.rows, p.cols,
      p.weight_stationary ? "weight-stationary" : "output-stationary", p.act_bits, p.weight_bits,
      p.is_signed ? "signed" : "unsigned", p.acc_bits, tally.gemms,
      static_cast<unsigned long long>(tally.macs), static_cast<unsigned long long>(drv.cycles()),
      tally.failures);
  top->final();
  return tally.failures ? 1 : 0;
}

int run_bench(int m, int k, int n, int repeat) {
  auto top = std::make_unique<Vvosa_top>();
  Driver drv(*top);
  const auto& p = drv.params();
  drv.reset();
  std::mt19937_64 rng(1);
  const auto a = random_matrix(rng, static_cast<std::size_t>(m) * k, p.act_min(), p.act_max());
  const auto b = random_matrix(rng, static_cast<std::size_t>(k) * n, p.weight_min(), p.weight_max());
  const auto want = vosa::reference_gemm(a, b, m, k, n);
  const std::uint64_t cycles0 = drv.cycles();
  const auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < repeat; ++r) {
    if (drv.gemm(a, b, m, k, n) != want) {
      std::printf("bench: result mismatch\n");
      return 1;
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cycles = static_cast<double>(drv.cycles() - cycles0);
  const double macs = static_cast<double>(m) * k * n * repeat;
  // One JSON line, so scripts can collect it.
  std::printf(
      "{\"rows\": %d, \"cols\": %d, \"m\": %d, \"k\": %d, \"n\": %d, \"repeat\": %d, "
      "\"seconds\": %.4f, \"cycles\": %.0f, \"cycles_per_s\": %.1f, \"macs_per_s\": %.1f, "
      "\"pe_cycles_per_s\": %.1f}\n",
      p.rows, p.cols, m, k, n, repeat, s, cycles, cycles / s, macs / s,
      cycles * p.rows * p.cols / s);
  top->final();
  return 0;
}

int usage() {
  std::fprintf(stderr,
               "usage: vosa_gemm_check [--seed S] [--random N]\n"
               "       vosa_gemm_check --bench M K N [--repeat R]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Verilated::commandArgs(argc, argv);
  std::uint64_t seed = 1;
  int random_count = 24;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--random" && i + 1 < argc) {
      random_count = std::atoi(argv[++i]);
    } else if (arg == "--bench" && i + 3 < argc) {
      const int m = std::atoi(argv[i + 1]), k = std::atoi(argv[i + 2]), n = std::atoi(argv[i + 3]);
      int repeat = 1;
      if (i + 5 < argc && std::string(argv[i + 4]) == "--repeat") repeat = std::atoi(argv[i + 5]);
      if (m <= 0 || k <= 0 || n <= 0 || repeat <= 0) return usage();
      return run_bench(m, k, n, repeat);
    } else {
      return usage();
    }
  }
  try {
    return run_checks(seed, random_count);
  } catch (const std::exception& e) {
    std::printf("gemm_check: FAIL: %s\n", e.what());
    return 1;
  }
}
