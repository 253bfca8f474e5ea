#include "vosa/layer_trace.hpp"

#include "vosa/operand_trace.hpp"

#include <stdexcept>

namespace vosa {

size_t write_layer_trace(const std::string& path, const lowering::Gemm& g, int rows, int cols, int acc_bits,
                         int pe_row, int pe_col, size_t max_records, const std::string& source) {
  if (pe_row < 0 || pe_row >= rows || pe_col < 0 || pe_col >= cols)
    throw std::invalid_argument("PE " + std::to_string(pe_row) + "," + std::to_string(pe_col) + " is outside the " +
                                std::to_string(rows) + "x" + std::to_string(cols) + " array");
  TraceHeader h;
  h.act_bits = 8;
  h.weight_bits = 8;
  h.acc_bits = acc_bits;
  h.is_signed = true;
  h.source = source;
  h.pe_row = pe_row;
  h.pe_col = pe_col;
  h.layer = "GEMM " + std::to_string(g.m) + "x" + std::to_string(g.k) + "x" + std::to_string(g.n) + " on a " +
            std::to_string(rows) + "x" + std::to_string(cols) + " weight-stationary array";
  h.notes = "N tiles outer, K tiles inner, one activation row per record; weight loads and pipeline fill/drain "
            "are not recorded; psum_in is 0 at row 0 of every K tile";
  OperandTraceWriter w(path, h);
  auto a_at = [&](int m, int k) -> int32_t { return k < g.k ? g.a[static_cast<size_t>(m) * g.k + k] : 0; };
  auto b_at = [&](int k, int n) -> int32_t { return (k < g.k && n < g.n) ? g.b[static_cast<size_t>(k) * g.n + n] : 0; };
  size_t written = 0;
  for (int n0 = 0; n0 < g.n && written < max_records; n0 += cols) {
    for (int k0 = 0; k0 < g.k && written < max_records; k0 += rows) {
      const int n = n0 + pe_col;
      for (int m = 0; m < g.m && written < max_records; ++m) {
        int64_t psum = 0;
        for (int r = 0; r < pe_row; ++r) psum += static_cast<int64_t>(a_at(m, k0 + r)) * b_at(k0 + r, n);
        OperandRecord rec;
        rec.activation = a_at(m, k0 + pe_row);
        rec.weight = b_at(k0 + pe_row, n);
        rec.psum_in = wrap_to_bits(psum, acc_bits, true);
        w.append(rec);
        ++written;
      }
    }
  }
  w.close();
  return written;
}

}  // namespace vosa
