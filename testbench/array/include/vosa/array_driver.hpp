// Drives a Verilated vosa_top through its streaming interface (see the
// comments at the top of rtl_templates/vosa_top_*.v) and runs integer GEMMs
// of any shape on it, tiling K and N (and M for output-stationary arrays)
// onto the array. Compiled together with the generated include/vosa_params.h.
#pragma once

#include "vosa/gemm_reference.hpp"
#include "vosa/port_bits.hpp"
#include "vosa_params.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa {

struct ArrayParams {
  int rows = vosa_params::kRows;
  int cols = vosa_params::kCols;
  int act_bits = vosa_params::kActBits;
  int weight_bits = vosa_params::kWeightBits;
  int acc_bits = vosa_params::kAccBits;
  bool is_signed = vosa_params::kSigned;
  bool weight_stationary = vosa_params::kWeightStationary;
  int islands = vosa_params::kIslands;
#ifdef VOSA_HAS_CARRY_SAVE
  bool carry_save = true;  // sum and carry words down each column (vosa/carry_save.hpp)
#else
  bool carry_save = false;
#endif

  std::int64_t act_min() const { return is_signed ? -(1LL << (act_bits - 1)) : 0; }
  std::int64_t act_max() const { return is_signed ? (1LL << (act_bits - 1)) - 1 : (1LL << act_bits) - 1; }
  std::int64_t weight_min() const { return is_signed ? -(1LL << (weight_bits - 1)) : 0; }
  std::int64_t weight_max() const {
    return is_signed ? (1LL << (weight_bits - 1)) - 1 : (1LL << weight_bits) - 1;
  }
};

// Whether the array has the depthwise mode (config "depthwise", docs/rtl.md
// "Depthwise mode"): activation lanes per column, kDwLanes of them.
#ifdef VOSA_HAS_DEPTHWISE_MODE
constexpr bool kHasDepthwiseMode = true;
constexpr int kDwLanes = vosa_params::kDwLanes;
constexpr int kDwGroupRows = vosa_params::kDwGroupRows;
#else
constexpr bool kHasDepthwiseMode = false;
constexpr int kDwLanes = 0;
constexpr int kDwGroupRows = 0;
#endif

// Whether the top has the register interface reg_*: the island controller's
// (Razor, islands) and/or the MODE registers of precision modes.
#ifdef VOSA_HAS_PRECISION_MODES
constexpr bool kHasRegisterBus = true;
#else
constexpr bool kHasRegisterBus = vosa_params::kStall;
#endif

// Whether weights and activations reach the array through the buffers
// (config "buffers", docs/sram.md): then a weight row or input vector is
// written into its SRAM and read from it into the array.
#ifdef VOSA_HAS_BUFFERS
constexpr bool kHasBuffers = true;
constexpr int kWeightBufferDepth = vosa_params::kWeightBufferDepth;
constexpr int kActBufferDepth = vosa_params::kActBufferDepth;
#else
constexpr bool kHasBuffers = false;
constexpr int kWeightBufferDepth = 0;
constexpr int kActBufferDepth = 0;
#endif

template <class Top>
class ArrayDriver {
 public:
  explicit ArrayDriver(Top& top) : top_(top) {
    top_.clk_i = 0;
    top_.rst_ni = 1;
    idle_inputs();
    top_.eval();
  }

  const ArrayParams& params() const { return p_; }
  std::uint64_t cycles() const { return cycles_; }
  // Clock edges at which the array was not stalled (all of them without
  // Razor/islands): the time base of the array's pipeline.
  std::uint64_t active_cycles() const { return active_cycles_; }
  std::uint64_t macs() const { return macs_; }
  Top& top() { return top_; }

  // Called at the start of every tick with the cycle count, before the edge:
  // lets a test drive extra inputs (e.g. a register write) mid-stream.
  void set_tick_hook(std::function<void(std::uint64_t)> hook) { tick_hook_ = std::move(hook); }

  // Cycles the modelled voltage regulator takes to acknowledge a request.
  void set_regulator_latency(int cycles) { regulator_latency_ = cycles; }

  // Register interface of the island controller (designs with islands or
  // Razor) and of the MODE registers (precision modes).
  void write_reg(unsigned addr, std::uint32_t data) {
    if constexpr (kHasRegisterBus) {
      top_.reg_we_i = 1;
      top_.reg_addr_i = addr;
      top_.reg_wdata_i = data;
      tick();
      top_.reg_we_i = 0;
    }
  }
  std::uint32_t read_reg(unsigned addr) {
    if constexpr (kHasRegisterBus) {
      top_.reg_addr_i = addr;
      top_.eval();
      return top_.reg_rdata_o;
    }
    return 0;
  }

  // True when the array accepts inputs this cycle (no stall).
  bool ready() {
    if constexpr (vosa_params::kStall) {
      top_.eval();
      return top_.in_ready_o;
    }
    return true;
  }

  // Asserts the active-low reset for `cycles` clock cycles.
  void reset(int cycles = 2) {
    idle_inputs();
    top_.rst_ni = 0;
    for (int i = 0; i < cycles; ++i) tick();
    top_.rst_ni = 1;
    tick();
  }

  // One clock cycle: the inputs set now are captured at the rising edge;
  // outputs read afterwards belong to the new cycle.
  void tick() {
    if (tick_hook_) tick_hook_(cycles_);
    const bool active = ready();
    top_.clk_i = 0;
    set_shadow_clock(0);
    top_.eval();
    top_.clk_i = 1;
    set_shadow_clock(1);
    top_.eval();
    ++cycles_;
    if (active) ++active_cycles_;
    model_regulator();
  }

  // Index (in active cycles) of the edge being evaluated in tick(); error
  // injectors use it to tie an injection to the data in flight.
  std::uint64_t edge_index() const { return active_cycles_; }

  // C = A * B for row-major A[m][k], B[k][n]; exact int64 sums. Operands must
  // fit the array's widths. Throws std::invalid_argument on empty shapes.
  std::vector<std::int64_t> gemm(const std::vector<std::int32_t>& a,
                                 const std::vector<std::int32_t>& b, int m, int k, int n) {
    check_gemm_shape(a.size(), b.size(), m, k, n);
    check_range(a, p_.act_min(), p_.act_max(), "activation");
    check_range(b, p_.weight_min(), p_.weight_max(), "weight");
    std::vector<std::int64_t> c(static_cast<std::size_t>(m) * n, 0);
    if constexpr (vosa_params::kWeightStationary) {
      gemm_weight_stationary(a, b, m, k, n, c);
    } else {
      gemm_output_stationary(a, b, m, k, n, c);
    }
    macs_ += static_cast<std::uint64_t>(m) * k * n;
    return c;
  }

  // Depthwise mode: loads the rows x cols weight tile b (row-major), then
  // streams m vectors in depthwise mode; lane l of column c carries
  // lane_values[(t * cols + c) * kDwLanes + l] for vector t, presented
  // c + l * kDwGroupRows cycles after vector t is accepted (the skew the
  // array leaves to its feeder). Returns the m x cols results:
  // C[t][c] = sum over rows r = l * kDwGroupRows + i of b[r][c] times lane l
  // of column c at vector t + i (zero beyond the last vector).
  std::vector<std::int64_t> depthwise_pass(const std::vector<std::int32_t>& lane_values,
                                           const std::vector<std::int32_t>& b, int m) {
    std::vector<std::int64_t> c(static_cast<std::size_t>(m) * p_.cols, 0);
    if constexpr (kHasDepthwiseMode) {
      if (m < 1 || lane_values.size() != static_cast<std::size_t>(m) * p_.cols * kDwLanes ||
          b.size() != static_cast<std::size_t>(p_.rows) * p_.cols)
        throw std::invalid_argument("depthwise_pass: need m >= 1, m x cols x lanes lane values, rows x cols weights");
      check_range(lane_values, p_.act_min(), p_.act_max(), "lane activation");
      check_range(b, p_.weight_min(), p_.weight_max(), "weight");
      load_weight_tile(b, p_.rows, p_.cols, 0, 0);
      for (int r = 0; r < p_.rows; ++r) set_bits(top_.a_vec_i, r * p_.act_bits, p_.act_bits, 0);
      top_.dw_mode_i = 1;
      int received = 0;
      const long long timeout = m + 4LL * (p_.rows + p_.cols) + 16;
      for (long long t = 0; received < m; ++t) {
        if (t > timeout) throw std::runtime_error("array produced too few results");
        for (int cc = 0; cc < p_.cols; ++cc)
          for (int l = 0; l < kDwLanes; ++l) {
            const long long v = t - cc - static_cast<long long>(l) * kDwGroupRows;
            const std::int64_t x =
                v >= 0 && v < m ? lane_values[(static_cast<std::size_t>(v) * p_.cols + cc) * kDwLanes + l] : 0;
            set_bits(top_.a_dw_i, (cc * kDwLanes + l) * p_.act_bits, p_.act_bits, static_cast<std::uint64_t>(x));
          }
        top_.in_valid_i = t < m;
        if (t < m) accept_edges_.push_back(edge_index());
        tick();
        if (top_.out_valid_o) {
          for (int cc = 0; cc < p_.cols; ++cc)
            c[static_cast<std::size_t>(received) * p_.cols + cc] = output_element(cc);
          ++received;
        }
      }
      top_.in_valid_i = 0;
      top_.dw_mode_i = 0;
    } else {
      (void)lane_values;
      (void)b;
      throw std::logic_error("depthwise_pass: the array has no depthwise mode (config \"depthwise\")");
    }
    return c;
  }

  // --- Weight-stationary primitives (public so tests can interrupt a stream).

  // Buffered designs: the weight buffer address of the next tile's row 0.
  // Tile t's row r goes to word (first + t * rows + r) mod depth, tiles in
  // the order gemm() loads them (column tiles outer, reduction tiles inner),
  // so a fault map of the buffer meets the same weights on every run that
  // starts from the same address (vosa::sram::array_weight_layout).
  void set_weight_address(std::uint64_t first) { weight_word_ = first; }
  std::uint64_t weight_address() const { return weight_word_; }

  // Loads B[k0..k0+rows)[n0..n0+cols) (zero outside B) into the array.
  void load_weight_tile(const std::vector<std::int32_t>& b, int k, int n, int k0, int n0) {
    wait_idle();
    if constexpr (kHasBuffers) {
      load_weight_tile_buffered(b, k, n, k0, n0);
    } else {
      for (int r = p_.rows - 1; r >= 0; --r) {  // bottom row first
        for (int c = 0; c < p_.cols; ++c) {
          const int kk = k0 + r, nn = n0 + c;
          const std::int64_t w = (kk < k && nn < n) ? b[static_cast<std::size_t>(kk) * n + nn] : 0;
          set_bits(top_.w_row_i, c * p_.weight_bits, p_.weight_bits, static_cast<std::uint64_t>(w));
        }
        top_.w_valid_i = 1;
        while (!ready()) tick();  // a stalled cycle does not take the row
        tick();
      }
      top_.w_valid_i = 0;
    }
  }

  // Presents activation row A[mi][k0..k0+rows) (zero outside A) for one cycle.
  // Buffered designs: writes it to activation buffer word 0 (one cycle),
  // then presents the read of that word, which the array accepts one cycle
  // after it is taken.
  void push_activation_row(const std::vector<std::int32_t>& a, int k, int mi, int k0) {
    if constexpr (kHasBuffers) {
      write_activation(a, k, mi, k0, 0);
      read_activation(0);
    } else {
      for (int r = 0; r < p_.rows; ++r) {
        const int kk = k0 + r;
        const std::int64_t x = kk < k ? a[static_cast<std::size_t>(mi) * k + kk] : 0;
        set_bits(top_.a_vec_i, r * p_.act_bits, p_.act_bits, static_cast<std::uint64_t>(x));
      }
      top_.in_valid_i = 1;
    }
  }

 private:
  // In RTL simulation the Razor shadow clock is the main clock: the shadow
  // samples the settled value at the same edge (see vosa_pe.v).
  void set_shadow_clock(int level) {
    if constexpr (vosa_params::kRazor) top_.clk_shadow_i = level;
    (void)level;
  }

  // A regulator that acknowledges each island's request after a fixed latency.
  void model_regulator() {
    if constexpr (vosa_params::kStall) {
      for (int i = 0; i < p_.islands; ++i) {
        const bool req = get_bits(top_.vreq_o, i, 1);
        int& waited = regulator_wait_[static_cast<std::size_t>(i)];
        waited = req ? waited + 1 : 0;
        set_bits(top_.vack_i, i, 1, req && waited >= regulator_latency_ ? 1 : 0);
      }
      top_.eval();
    }
  }

  void idle_inputs() {
    if constexpr (kHasRegisterBus) {
      top_.reg_we_i = 0;
      top_.reg_addr_i = 0;
      top_.reg_wdata_i = 0;
    }
    if constexpr (vosa_params::kStall) {
      regulator_wait_.assign(static_cast<std::size_t>(p_.islands), 0);
      for (int i = 0; i < p_.islands; ++i) set_bits(top_.vack_i, i, 1, 0);
    }
    if constexpr (kHasBuffers) {
      top_.wbuf_we_i = 0;
      top_.wbuf_re_i = 0;
      top_.abuf_we_i = 0;
      top_.abuf_re_i = 0;
    } else if constexpr (vosa_params::kWeightStationary) {
      top_.w_valid_i = 0;
      top_.in_valid_i = 0;
      if constexpr (kHasDepthwiseMode) top_.dw_mode_i = 0;
    } else {
      top_.in_valid_i = 0;
      top_.in_last_i = 0;
    }
  }

  static void check_range(const std::vector<std::int32_t>& v, std::int64_t lo, std::int64_t hi,
                          const char* what) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] < lo || v[i] > hi) {
        throw std::invalid_argument(std::string(what) + " " + std::to_string(v[i]) + " at index " +
                                    std::to_string(i) + " does not fit the array's range [" +
                                    std::to_string(lo) + ", " + std::to_string(hi) + "]");
      }
    }
  }

  std::int64_t output_element(int c) const {
    return field_value(get_bits(top_.out_vec_o, c * p_.acc_bits, p_.acc_bits), p_.acc_bits,
                       p_.is_signed);
  }

  void wait_idle() {
    for (int guard = 0; top_.busy_o; ++guard) {
      if (guard > 4 * (p_.rows + p_.cols) + 16 + 1000000) throw std::runtime_error("array stays busy");
      tick();
    }
  }

  // --- Buffered designs (kHasBuffers): the SRAM ports of the top.

  // Writes row r of weight tile (k0, n0) to the weight buffer word `word`.
  void write_weight_row(const std::vector<std::int32_t>& b, int k, int n, int k0, int n0, int r, std::uint64_t word) {
    if constexpr (kHasBuffers) {
      for (int c = 0; c < p_.cols; ++c) {
        const int kk = k0 + r, nn = n0 + c;
        const std::int64_t w = (kk < k && nn < n) ? b[static_cast<std::size_t>(kk) * n + nn] : 0;
        set_bits(top_.wbuf_wdata_i, c * p_.weight_bits, p_.weight_bits, static_cast<std::uint64_t>(w));
      }
      top_.wbuf_addr_i = static_cast<std::uint32_t>(word);
      top_.wbuf_we_i = 1;
      tick();
      top_.wbuf_we_i = 0;
    }
  }

  // Writes the tile's rows into the weight buffer, then reads them into the
  // array bottom row first (a read is taken only when the array is ready).
  void load_weight_tile_buffered(const std::vector<std::int32_t>& b, int k, int n, int k0, int n0) {
    if constexpr (kHasBuffers) {
      const std::uint64_t depth = static_cast<std::uint64_t>(kWeightBufferDepth);
      auto word_of = [&](int r) { return (weight_word_ + static_cast<std::uint64_t>(r)) % depth; };
      for (int r = 0; r < p_.rows; ++r) write_weight_row(b, k, n, k0, n0, r, word_of(r));
      for (int r = p_.rows - 1; r >= 0; --r) {
        top_.wbuf_addr_i = static_cast<std::uint32_t>(word_of(r));
        top_.wbuf_re_i = 1;
        while (!ready()) tick();
        tick();
      }
      top_.wbuf_re_i = 0;
      while (!ready()) tick();  // the last row read enters the array at the next active edge
      tick();
      weight_word_ = (weight_word_ + static_cast<std::uint64_t>(p_.rows)) % depth;
    }
  }

  // Writes activation row A[mi][k0..k0+rows) (zero outside A) to word `word`.
  void write_activation(const std::vector<std::int32_t>& a, int k, int mi, int k0, int word) {
    if constexpr (kHasBuffers) {
      for (int r = 0; r < p_.rows; ++r) {
        const int kk = k0 + r;
        const std::int64_t x = kk < k ? a[static_cast<std::size_t>(mi) * k + kk] : 0;
        set_bits(top_.abuf_wdata_i, r * p_.act_bits, p_.act_bits, static_cast<std::uint64_t>(x));
      }
      top_.abuf_addr_i = static_cast<std::uint32_t>(word);
      top_.abuf_we_i = 1;
      tick();
      top_.abuf_we_i = 0;
    }
  }

  // Presents a read of activation buffer word `word` for the next tick.
  void read_activation(int word) {
    if constexpr (kHasBuffers) {
      top_.abuf_addr_i = static_cast<std::uint32_t>(word);
      top_.abuf_re_i = 1;
    }
  }

  void collect_output(int n, int n0, int& received, std::vector<std::int64_t>& c) {
    if (!top_.out_valid_o) return;
    for (int cc = 0; cc < p_.cols && n0 + cc < n; ++cc)
      c[static_cast<std::size_t>(received) * n + n0 + cc] += output_element(cc);
    ++received;
  }

  // Weight-stationary GEMM through the buffers: per weight tile, the
  // activation rows in chunks of the activation buffer's depth (chunk row i
  // at word i), each chunk written, then read into the array back to back.
  void gemm_buffered(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b, int m, int k, int n,
                     std::vector<std::int64_t>& c) {
    if constexpr (kHasBuffers) {
      for (int n0 = 0; n0 < n; n0 += p_.cols) {
        for (int k0 = 0; k0 < k; k0 += p_.rows) {
          load_weight_tile(b, k, n, k0, n0);
          int received = 0;
          for (int m0 = 0; m0 < m; m0 += kActBufferDepth) {
            const int chunk = std::min(kActBufferDepth, m - m0);
            for (int i = 0; i < chunk; ++i) {
              write_activation(a, k, m0 + i, k0, i);
              collect_output(n, n0, received, c);
            }
            for (int i = 0; i < chunk;) {
              read_activation(i);
              if (ready()) {
                accept_edges_.push_back(edge_index() + 1);  // it enters the array one active edge later
                ++i;
              }
              tick();
              collect_output(n, n0, received, c);
            }
            top_.abuf_re_i = 0;
          }
          const long long timeout = 4LL * (p_.rows + p_.cols) + 16 + 1000000;
          for (long long guard = 0; received < m; ++guard) {
            if (guard > timeout) throw std::runtime_error("array produced too few results");
            tick();
            collect_output(n, n0, received, c);
          }
        }
      }
    }
  }

  void gemm_weight_stationary(const std::vector<std::int32_t>& a,
                              const std::vector<std::int32_t>& b, int m, int k, int n,
                              std::vector<std::int64_t>& c) {
    if constexpr (kHasBuffers) {
      gemm_buffered(a, b, m, k, n, c);
    } else {
      for (int n0 = 0; n0 < n; n0 += p_.cols) {
        for (int k0 = 0; k0 < k; k0 += p_.rows) {
          load_weight_tile(b, k, n, k0, n0);
          int sent = 0, received = 0;
          const int timeout = m + 4 * (p_.rows + p_.cols) + 16;
          for (int guard = 0; received < m; ++guard) {
            if (guard > timeout + stall_allowance_) {
              throw std::runtime_error("array produced too few results");
            }
            if (sent < m) {
              push_activation_row(a, k, sent, k0);
              if (ready()) {
                accept_edges_.push_back(edge_index());
                ++sent;
              } else {
                ++stall_allowance_;
              }
            } else {
              top_.in_valid_i = 0;
              if (!ready()) ++stall_allowance_;
            }
            tick();
            if (top_.out_valid_o) {
              for (int cc = 0; cc < p_.cols && n0 + cc < n; ++cc)
                c[static_cast<std::size_t>(received) * n + n0 + cc] += output_element(cc);
              ++received;
            }
          }
          top_.in_valid_i = 0;
        }
      }
    }
  }

  void gemm_output_stationary(const std::vector<std::int32_t>& a,
                              const std::vector<std::int32_t>& b, int m, int k, int n,
                              std::vector<std::int64_t>& c) {
    // acc_bits is sized for `rows` products, so one tile sums at most rows steps.
    const int depth = p_.rows;
    for (int m0 = 0; m0 < m; m0 += p_.rows) {
      for (int n0 = 0; n0 < n; n0 += p_.cols) {
        for (int k0 = 0; k0 < k; k0 += depth) {
          const int steps = std::min(depth, k - k0);
          for (int s = 0; s < steps;) {
            if (!top_.in_ready_o) {
              top_.in_valid_i = 0;
              tick();
              continue;
            }
            const int kk = k0 + s;
            for (int r = 0; r < p_.rows; ++r) {
              const std::int64_t x =
                  m0 + r < m ? a[static_cast<std::size_t>(m0 + r) * k + kk] : 0;
              set_bits(top_.a_vec_i, r * p_.act_bits, p_.act_bits, static_cast<std::uint64_t>(x));
            }
            for (int cc = 0; cc < p_.cols; ++cc) {
              const std::int64_t w =
                  n0 + cc < n ? b[static_cast<std::size_t>(kk) * n + n0 + cc] : 0;
              set_bits(top_.w_vec_i, cc * p_.weight_bits, p_.weight_bits,
                       static_cast<std::uint64_t>(w));
            }
            top_.in_valid_i = 1;
            top_.in_last_i = (s == steps - 1);
            tick();
            ++s;
          }
          top_.in_valid_i = 0;
          top_.in_last_i = 0;
          // Results drain bottom row first, one row per cycle.
          int drained = 0;
          const int timeout = 4 * (p_.rows + p_.cols) + 16;
          for (int guard = 0; drained < p_.rows; ++guard) {
            if (guard > timeout) throw std::runtime_error("array did not drain its results");
            tick();
            if (!top_.out_valid_o) continue;
            const int row = p_.rows - 1 - drained++;
            if (m0 + row >= m) continue;
            for (int cc = 0; cc < p_.cols && n0 + cc < n; ++cc)
              c[static_cast<std::size_t>(m0 + row) * n + n0 + cc] += output_element(cc);
          }
        }
      }
    }
  }

  Top& top_;
  ArrayParams p_;
  std::uint64_t cycles_ = 0;
  std::uint64_t active_cycles_ = 0;
  std::uint64_t macs_ = 0;
  int regulator_latency_ = 3;
  std::function<void(std::uint64_t)> tick_hook_;
  std::vector<int> regulator_wait_;
  long long stall_allowance_ = 0;
  std::uint64_t weight_word_ = 0;  // buffered designs: see set_weight_address

 public:
  // Active-edge index at which each activation row was accepted, in order
  // (weight-stationary GEMMs); error-injection tests use it to locate data.
  std::vector<std::uint64_t> accept_edges_;
};

}  // namespace vosa
