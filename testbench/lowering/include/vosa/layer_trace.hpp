// Operand traces of real layers: what one PE of a weight-stationary
// rows x cols array sees while it computes a layer's lowered GEMMs
// (vosa/lowering.hpp), written in the *.vtrace format of vosa/operand_trace.hpp.
#pragma once

#include "vosa/lowering.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace vosa {

// Writes the operand stream of PE (pe_row, pe_col) for a whole layer: every
// GEMM of it (a depthwise layer has one per channel group), each tiled as
// vosa::ArrayDriver tiles it (GEMMs in order, N tiles outer, K tiles inner,
// one activation row per cycle): record = (A[m][k0 + pe_row],
// B[k0 + pe_row][n0 + pe_col], psum_in = sum_{r < pe_row} A[m][k0 + r] *
// B[k0 + r][n0 + pe_col] wrapped to acc_bits), zero outside A and B.
// Weight-load and pipeline fill/drain cycles are not records.
//
// Sampling rule when the layer has more PE-cycles than max_records: each of
// the P tile passes (GEMM, N tile, K tile: M cycles each) gives one run of
// L = max(2, max_records / P) consecutive cycles (consecutive, because an
// error depends on the cycle before), pass i starting at row
// floor(i * (M - L) / (P - 1)) so the runs sweep the output positions; when
// even runs of 2 exceed max_records, every s-th pass, s = ceil(2 P / max_records).
// Returns the record count.
// act_drop/weight_drop: a precision mode's gated PEs (docs/precision.md) are
// fed these operands and reduce them (vosa::reduce_operand) before the
// multiplier, so psum_in sums the reduced products of the rows above while the
// records keep the operands as fed.
// carry_save: the array's partial sums are carry-save pairs (config
// arithmetic.psum carry_save): each record holds the sum and carry words the
// rows above pass down (vosa::carry_save_add), a version-2 trace.
size_t write_layer_trace(const std::string& path, const std::vector<lowering::Gemm>& gemms, int rows, int cols,
                         int acc_bits, int pe_row, int pe_col, size_t max_records, const std::string& source,
                         int act_drop = 0, int weight_drop = 0, bool carry_save = false);
// The same for one GEMM.
size_t write_layer_trace(const std::string& path, const lowering::Gemm& gemm, int rows, int cols, int acc_bits,
                         int pe_row, int pe_col, size_t max_records, const std::string& source);

}  // namespace vosa
