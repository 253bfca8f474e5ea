#include "vosa/layer_trace.hpp"

#include "vosa/carry_save.hpp"
#include "vosa/operand_trace.hpp"
#include "vosa/precision.hpp"

#include <algorithm>
#include <stdexcept>

namespace vosa {

namespace {

// One tile pass of PE (pe_row, pe_col): GEMM g, N tile n0, K tile k0.
struct TilePass {
  const lowering::Gemm* g;
  int n0, k0;
};

}  // namespace

size_t write_layer_trace(const std::string& path, const std::vector<lowering::Gemm>& gemms, int rows, int cols,
                         int acc_bits, int pe_row, int pe_col, size_t max_records, const std::string& source,
                         int act_drop, int weight_drop, bool carry_save) {
  if (pe_row < 0 || pe_row >= rows || pe_col < 0 || pe_col >= cols)
    throw std::invalid_argument("PE " + std::to_string(pe_row) + "," + std::to_string(pe_col) + " is outside the " +
                                std::to_string(rows) + "x" + std::to_string(cols) + " array");
  if (gemms.empty()) throw std::invalid_argument("write_layer_trace: the layer has no GEMM");
  std::vector<TilePass> passes;
  size_t total = 0;
  for (const auto& g : gemms)
    for (int n0 = 0; n0 < g.n; n0 += cols)
      for (int k0 = 0; k0 < g.k; k0 += rows) {
        passes.push_back({&g, n0, k0});
        total += static_cast<size_t>(g.m);
      }
  // The sampling rule of the header: all of it, or a run of `run` cycles per pass (every `stride`-th pass).
  const size_t P = passes.size();
  size_t run = 0, stride = 1;
  if (total > max_records) {
    run = std::max<size_t>(2, max_records / std::max<size_t>(1, P));
    if (max_records > 0 && 2 * P > max_records) stride = (2 * P + max_records - 1) / max_records;
  }
  const lowering::Gemm& g0 = gemms.front();
  TraceHeader h;
  h.act_bits = 8;
  h.weight_bits = 8;
  h.acc_bits = acc_bits;
  h.is_signed = true;
  h.source = source;
  h.pe_row = pe_row;
  h.pe_col = pe_col;
  h.carry_save = carry_save;
  h.layer = std::to_string(gemms.size()) + " GEMM(s), the first " + std::to_string(g0.m) + "x" +
            std::to_string(g0.k) + "x" + std::to_string(g0.n) + ", " + std::to_string(P) + " tile passes on a " +
            std::to_string(rows) + "x" + std::to_string(cols) + " weight-stationary array";
  h.notes = "GEMMs in order, N tiles outer, K tiles inner, one activation row per record; weight loads and pipeline "
            "fill/drain are not recorded; psum_in is 0 at row 0 of every K tile; " +
            (carry_save ? std::string("carry-save column: psum_in/psum_c_in are the sum and carry words of the rows "
                                      "above (vosa::carry_save_add); ")
                        : std::string("")) +
            (act_drop || weight_drop ? "operands as fed to the array, psum_in of rows that reduce them (" +
                                           std::to_string(act_drop) + " activation, " + std::to_string(weight_drop) +
                                           " weight low bits dropped, vosa dta --mode); "
                                     : std::string("")) +
            (run == 0 ? std::string("every cycle of the layer")
                      : "sampled: " + std::to_string(run) + " consecutive cycles of every " +
                            (stride == 1 ? std::string("") : std::to_string(stride) + "th ") +
                            "tile pass, starting at row i*(M-run)/(P-1) of pass i (of " + std::to_string(total) +
                            " cycles)");
  OperandTraceWriter w(path, h);
  size_t written = 0;
  for (size_t i = 0; i < P && max_records > 0; i += stride) {
    const lowering::Gemm& g = *passes[i].g;
    const int n0 = passes[i].n0, k0 = passes[i].k0, n = n0 + pe_col;
    auto a_at = [&](int m, int k) -> int32_t { return k < g.k ? g.a[static_cast<size_t>(m) * g.k + k] : 0; };
    auto b_at = [&](int k, int j) -> int32_t {
      return (k < g.k && j < g.n) ? g.b[static_cast<size_t>(k) * g.n + j] : 0;
    };
    int m_begin = 0, m_end = g.m;
    if (run) {
      const int len = static_cast<int>(std::min<size_t>(run, static_cast<size_t>(g.m)));
      m_begin = P > 1 ? static_cast<int>((static_cast<long long>(i) * (g.m - len)) / static_cast<long long>(P - 1)) : 0;
      m_end = m_begin + len;
    }
    for (int m = m_begin; m < m_end; ++m) {
      int64_t psum = 0;
      CarrySaveWords words;  // the carry-save column's pair, as the rows above pass it down
      for (int r = 0; r < pe_row; ++r) {
        const int64_t product = reduce_operand(a_at(m, k0 + r), act_drop) * reduce_operand(b_at(k0 + r, n), weight_drop);
        psum += product;
        if (carry_save) words = carry_save_add(words.sum, words.carry, static_cast<uint64_t>(product), acc_bits);
      }
      OperandRecord rec;
      rec.activation = a_at(m, k0 + pe_row);
      rec.weight = b_at(k0 + pe_row, n);
      rec.psum_in = wrap_to_bits(carry_save ? static_cast<int64_t>(words.sum) : psum, acc_bits, true);
      rec.psum_c_in = wrap_to_bits(static_cast<int64_t>(words.carry), acc_bits, true);
      w.append(rec);
      ++written;
    }
  }
  w.close();
  return written;
}

size_t write_layer_trace(const std::string& path, const lowering::Gemm& gemm, int rows, int cols, int acc_bits,
                         int pe_row, int pe_col, size_t max_records, const std::string& source) {
  return write_layer_trace(path, std::vector<lowering::Gemm>{gemm}, rows, cols, acc_bits, pe_row, pe_col, max_records,
                           source);
}

}  // namespace vosa
