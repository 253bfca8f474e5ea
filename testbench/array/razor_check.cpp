// Razor, TE-Drop and voltage-island checks of a generated weight-stationary
// array in Verilator, built with +define+VOSA_INJECT_ERRORS: the PEs' output
// registers take timing errors (bit flips) from vosa_inject_mask() below, and
// every GEMM is compared with an exact model of what the array must produce.
//   vosa_razor_check [--seed S]
#include "Vvosa_top.h"
#include "vosa/array_driver.hpp"
#include "vosa/gemm_reference.hpp"
#include "vosa/injection_replay.hpp"

#include <verilated.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>

namespace {

using Driver = vosa::ArrayDriver<Vvosa_top>;
using vosa::random_matrix;

// Injects bit flips into PE output-register captures.
struct Injector {
  double rate = 0.0;           // probability per PE capture
  std::vector<int> bits;       // a flip picks one of these bits
  std::set<int> columns;       // empty: every column
  std::mt19937_64 rng{1};
  const Driver* driver = nullptr;
  // (edge, row, col) -> mask of every injection made.
  vosa::InjectionLog log;

  std::uint64_t draw(int row, int col) {
    if (rate <= 0.0 || bits.empty()) return 0;
    if (!columns.empty() && !columns.count(col)) return 0;
    if (std::uniform_real_distribution<double>(0.0, 1.0)(rng) >= rate) return 0;
    const int bit = bits[std::uniform_int_distribution<std::size_t>(0, bits.size() - 1)(rng)];
    std::uint64_t mask = 1ULL << bit;
    // A carry-save PE: the flip hits the sum or the carry word (pair mask).
    if (driver->params().carry_save && (rng() & 1)) mask <<= driver->params().acc_bits;
    log[{driver->edge_index(), row, col}] = mask;
    return mask;
  }
  // One word of a carry-save PE's capture: the pair's flip is drawn once per
  // edge and PE, by whichever of the two calls comes first.
  std::uint64_t draw_word(int row, int col, bool carry) {
    if (!driver->params().carry_save) return carry ? 0 : draw(row, col);
    const int acc = driver->params().acc_bits;
    auto& [edge, pair] = pending[{row, col}];
    if (edge != driver->edge_index() + 1) {
      edge = driver->edge_index() + 1;
      pair = draw(row, col);
    }
    return carry ? pair >> acc : pair & ((1ULL << acc) - 1);
  }
  std::map<std::pair<int, int>, std::pair<std::uint64_t, std::uint64_t>> pending;  // (row, col) -> (edge + 1, pair)
};

Injector g_injector;

}  // namespace

// Called by every PE at every capture of its output register (see vosa_pe.v).
// d (the error-free captured value) is not used: this check draws its own masks.
extern "C" long long vosa_inject_mask(int row, int col, unsigned long long /*d*/) {
  return static_cast<long long>(g_injector.draw_word(row, col, false));
}
// The carry word of a carry-save PE (VOSA_HAS_CARRY_SAVE).
extern "C" long long vosa_inject_carry_mask(int row, int col) {
  return static_cast<long long>(g_injector.draw_word(row, col, true));
}

namespace {

int g_failures = 0;

void expect(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++g_failures;
}

// The logged masks a Razor flop detects: the protected bits of either word.
std::uint64_t protected_log_bits() {
  const std::uint64_t m = vosa_params::kRazorMask;
  return g_injector.driver->params().carry_save ? m | (m << g_injector.driver->params().acc_bits) : m;
}

std::uint64_t distinct_edges(const std::set<int>& columns_filter, std::uint64_t mask_filter) {
  std::set<std::uint64_t> edges;
  for (const auto& [key, mask] : g_injector.log) {
    if (!(mask & mask_filter)) continue;
    if (!columns_filter.empty() && !columns_filter.count(std::get<2>(key))) continue;
    edges.insert(std::get<0>(key));
  }
  return edges.size();
}

constexpr unsigned kRegCtrl = 0x000, kRegWindow = 0x002, kRegRaise = 0x003, kRegQuiet = 0x004,
                   kRegRazorStalls = 0x005, kRegVoltageStalls = 0x006, kRegLevel = 0x100,
                   kRegErrCount = 0x200;

std::set<int> island_columns(int island, int cols) {
  std::set<int> s;
  if constexpr (vosa_params::kIslands > 0) {
    for (int c = 0; c < cols; ++c)
      if (vosa_params::kIslandOfColumn[c] == island) s.insert(c);
  }
  (void)island;
  (void)cols;
  return s;
}

void run_injected_gemm(Driver& drv, std::mt19937_64& rng, const std::string& name, double rate,
                       const std::vector<int>& bits, bool expect_exact_product) {
  const auto& p = drv.params();
  const int m = 3 * p.rows + 1, k = 2 * p.rows + 1, n = p.cols + 2;
  const auto a = random_matrix(rng, static_cast<std::size_t>(m) * k, p.act_min(), p.act_max());
  const auto b = random_matrix(rng, static_cast<std::size_t>(k) * n, p.weight_min(), p.weight_max());
  for (unsigned i = 0; i < static_cast<unsigned>(p.islands); ++i) drv.write_reg(kRegErrCount + i, 0);
  drv.write_reg(kRegRazorStalls, 0);
  g_injector.log.clear();
  g_injector.rate = rate;
  g_injector.bits = bits;
  drv.accept_edges_.clear();
  const std::uint64_t cycles0 = drv.cycles();
  const auto got = drv.gemm(a, b, m, k, n);
  g_injector.rate = 0.0;
  // An error injected at the last edge is flagged (and counted) one cycle later.
  drv.tick();
  drv.tick();
  const auto exact = vosa::reference_gemm(a, b, m, k, n);
  const auto model = vosa::replay_injected_gemm(drv.params(), {vosa_params::kRazorMask, vosa_params::kRazorCorrect}, a,
                                                b, m, k, n, drv.accept_edges_, g_injector.log);
  std::size_t differ = 0;
  for (std::size_t i = 0; i < exact.size(); ++i) differ += got[i] != exact[i];
  expect(got == model, name + ": every output equals the injection model (" +
                           std::to_string(g_injector.log.size()) + " flips injected, " +
                           std::to_string(differ) + " of " + std::to_string(exact.size()) +
                           " outputs differ from the exact product)");
  if (expect_exact_product) expect(differ == 0, name + ": the GEMM is bit-exact despite the flips");
  if (vosa_params::kRazor) {
    const std::uint64_t detected = distinct_edges({}, protected_log_bits());
    const std::uint64_t stalls = drv.read_reg(kRegRazorStalls);
    expect(stalls == (vosa_params::kRazorCorrect ? detected : 0),
           name + ": Razor stall cycles counted = " + std::to_string(stalls) + " (cycles with a detected error: " +
               std::to_string(detected) + ", correction cost " +
               std::to_string(vosa_params::kRazorCorrect ? detected : 0) + " of " +
               std::to_string(drv.cycles() - cycles0) + " cycles)");
    std::uint64_t counted = 0, want = 0;
    for (int i = 0; i < p.islands; ++i) {
      counted += drv.read_reg(kRegErrCount + static_cast<unsigned>(i));
      want += distinct_edges(island_columns(i, p.cols), protected_log_bits());
    }
    expect(counted == want, name + ": per-island Razor error counters sum to " + std::to_string(counted) +
                                " (expected " + std::to_string(want) + ")");
  }
}

void check_unprotected_rate(Driver& drv, std::mt19937_64& rng, const std::vector<int>& bits) {
  // Every output element passes `rows` PE captures; with flip rate q per
  // capture it differs with probability about 1 - (1 - q)^rows.
  const auto& p = drv.params();
  const double q = 0.01;
  const int m = 64, k = p.rows, n = p.cols;
  const auto a = random_matrix(rng, static_cast<std::size_t>(m) * k, p.act_min(), p.act_max());
  const auto b = random_matrix(rng, static_cast<std::size_t>(k) * n, p.weight_min(), p.weight_max());
  std::size_t differ = 0, total = 0;
  g_injector.bits = bits;
  for (int rep = 0; rep < 20; ++rep) {
    g_injector.log.clear();
    g_injector.rate = q;
    drv.accept_edges_.clear();
    const auto got = drv.gemm(a, b, m, k, n);
    g_injector.rate = 0.0;
    const auto exact = vosa::reference_gemm(a, b, m, k, n);
    for (std::size_t i = 0; i < exact.size(); ++i) differ += got[i] != exact[i];
    total += exact.size();
  }
  const double expected = 1.0 - std::pow(1.0 - q, p.rows);
  const double observed = static_cast<double>(differ) / static_cast<double>(total);
  const double sigma = std::sqrt(expected * (1 - expected) / static_cast<double>(total));
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "unprotected flips at %.3f per capture: %.4f of %zu outputs differ (expected %.4f +- %.4f)",
                q, observed, total, expected, 5 * sigma);
  expect(std::fabs(observed - expected) <= 5 * sigma + 1e-9, buf);
}

void check_controller(Driver& drv) {
  const auto& p = drv.params();
  auto level_of = [&](int i) { return drv.read_reg(kRegLevel + static_cast<unsigned>(i)) & 0xff; };
  const int top_level = vosa_params::kLevels - 1;
  expect(static_cast<int>(level_of(0)) == top_level, "islands reset to the highest level");
  if (top_level == 0) return;

  // Program island 0 one level down and follow the handshake.
  drv.write_reg(kRegVoltageStalls, 0);
  drv.write_reg(kRegLevel + 0, static_cast<std::uint32_t>(top_level - 1));
  auto& top = drv.top();
  bool saw_req = false, level_ok = true, stalled_while_busy = true;
  std::uint64_t busy_cycles = 0;
  for (int i = 0; i < 200; ++i) {
    top.eval();
    if (vosa::get_bits(top.vreq_o, 0, 1)) {
      saw_req = true;
      level_ok &= static_cast<int>(vosa::get_bits(top.vlevel_o, 0, std::max(1, static_cast<int>(std::ceil(std::log2(vosa_params::kLevels)))))) == top_level - 1;
    }
    const bool busy = (drv.read_reg(0x001) & 1) != 0;
    if (busy) {
      ++busy_cycles;
      stalled_while_busy &= !top.in_ready_o;
    }
    drv.tick();
  }
  expect(saw_req && level_ok, "a level write raises vreq_o with the requested level");
  expect(stalled_while_busy, "the array stalls while the island's voltage moves");
  expect(static_cast<int>(level_of(0)) == top_level - 1, "the level register takes the new level after the settle time");
  expect(drv.read_reg(kRegVoltageStalls) == busy_cycles,
         "voltage stall counter = " + std::to_string(drv.read_reg(kRegVoltageStalls)) + " = busy cycles " +
             std::to_string(busy_cycles) + " (regulator latency + " + std::to_string(vosa_params::kSettleCycles) +
             " settle cycles)");

  // A level change in the middle of a GEMM stream loses no data.
  std::mt19937_64 rng(7);
  const int m = 4 * p.rows, k = p.rows, n = p.cols;
  const auto a = random_matrix(rng, static_cast<std::size_t>(m) * k, p.act_min(), p.act_max());
  const auto b = random_matrix(rng, static_cast<std::size_t>(k) * n, p.weight_min(), p.weight_max());
  const std::uint64_t when = drv.cycles() + p.rows + 5;
  const int last_island = p.islands - 1;
  drv.set_tick_hook([&](std::uint64_t cycle) {
    top.reg_we_i = cycle == when;
    top.reg_addr_i = kRegLevel + static_cast<unsigned>(last_island);
    top.reg_wdata_i = 0;
  });
  drv.write_reg(kRegVoltageStalls, 0);
  const auto got = drv.gemm(a, b, m, k, n);
  drv.set_tick_hook(nullptr);
  top.reg_we_i = 0;
  for (int i = 0; i < 100; ++i) drv.tick();
  expect(drv.read_reg(kRegVoltageStalls) > 0 && got == vosa::reference_gemm(a, b, m, k, n),
         "a voltage change in the middle of a GEMM stream (" + std::to_string(drv.read_reg(kRegVoltageStalls)) +
             " stall cycles) loses no data: the GEMM is bit-exact");
  expect(level_of(last_island) == 0, "island " + std::to_string(last_island) + " reached level 0");

  // Closed loop: errors push island 0 up, quiet windows bring it down.
  if (!vosa_params::kRazor) return;
  drv.write_reg(kRegLevel + 0, 0);
  for (int i = 0; i < 100; ++i) drv.tick();
  drv.write_reg(kRegWindow, 64);
  drv.write_reg(kRegRaise, 2);
  drv.write_reg(kRegQuiet, 3);
  drv.write_reg(kRegCtrl, 1);
  g_injector.columns = island_columns(0, p.cols);
  g_injector.bits.assign(1, 63 - __builtin_clzll(vosa_params::kRazorMask));
  g_injector.rate = 0.02;
  int max_level = 0;
  for (int i = 0; i < 64 * 12; ++i) {
    drv.tick();
    max_level = std::max(max_level, static_cast<int>(level_of(0)));
  }
  g_injector.rate = 0.0;
  expect(max_level >= 1, "closed loop: Razor errors in island 0 raise its level (reached " +
                             std::to_string(max_level) + ")");
  const int raised = static_cast<int>(level_of(0));
  int min_level = raised;
  for (int i = 0; i < 64 * 3 * (top_level + 2) * 2; ++i) {
    drv.tick();
    min_level = std::min(min_level, static_cast<int>(level_of(0)));
  }
  expect(min_level < raised, "closed loop: error-free windows lower it again (from " + std::to_string(raised) +
                                 " to " + std::to_string(min_level) + ")");
  drv.write_reg(kRegCtrl, 0);
  g_injector.columns.clear();
}

}  // namespace

int main(int argc, char** argv) {
  Verilated::commandArgs(argc, argv);
  std::uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--seed") seed = std::strtoull(argv[++i], nullptr, 10);
  auto top = std::make_unique<Vvosa_top>();
  Driver drv(*top);
  g_injector.driver = &drv;
  g_injector.rng.seed(seed);
  drv.reset();
  std::mt19937_64 rng(seed);
  const auto& p = drv.params();

  std::vector<int> protected_bits, unprotected_bits;
  for (int bit = 0; bit < p.acc_bits; ++bit)
    ((vosa_params::kRazorMask >> bit) & 1 ? protected_bits : unprotected_bits).push_back(bit);

  run_injected_gemm(drv, rng, "no injection", 0.0, unprotected_bits, true);
  if (vosa_params::kRazor) {
    run_injected_gemm(drv, rng, std::string("protected flips, policy ") + (vosa_params::kRazorCorrect ? "correct" : "drop"),
                      0.02, protected_bits, vosa_params::kRazorCorrect);
    std::vector<int> all_bits = protected_bits;
    all_bits.insert(all_bits.end(), unprotected_bits.begin(), unprotected_bits.end());
    run_injected_gemm(drv, rng, "flips on any bit", 0.01, all_bits, false);
  }
  if (!unprotected_bits.empty()) {
    run_injected_gemm(drv, rng, "unprotected flips", 0.01, unprotected_bits, false);
    check_unprotected_rate(drv, rng, unprotected_bits);
  }
  if (vosa_params::kStall) check_controller(drv);

  std::printf("razor_check: %s (%dx%d array, Razor mask 0x%llx, %s, %d island(s), %llu cycles)\n",
              g_failures ? "FAIL" : "PASS", p.rows, p.cols, vosa_params::kRazorMask,
              vosa_params::kRazor ? (vosa_params::kRazorCorrect ? "policy correct" : "policy drop") : "no Razor",
              p.islands, static_cast<unsigned long long>(drv.cycles()));
  top->final();
  return g_failures ? 1 : 0;
}
