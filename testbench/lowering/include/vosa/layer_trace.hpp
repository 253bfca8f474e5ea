// Operand traces of real layers: what one PE of a weight-stationary
// rows x cols array sees while it computes a lowered GEMM (vosa/lowering.hpp),
// written in the *.vtrace format of vosa/operand_trace.hpp.
#pragma once

#include "vosa/lowering.hpp"

#include <cstddef>
#include <string>

namespace vosa {

// Writes the operand stream of PE (pe_row, pe_col) for `gemm`, tiled as
// vosa::ArrayDriver tiles it (N tiles outer, K tiles inner, one activation
// row per cycle): record = (A[m][k0 + pe_row], B[k0 + pe_row][n0 + pe_col],
// psum_in = sum_{r < pe_row} A[m][k0 + r] * B[k0 + r][n0 + pe_col] wrapped to
// acc_bits), zero outside A and B. Weight-load and pipeline fill/drain cycles
// are not records. Stops after max_records. Returns the record count.
size_t write_layer_trace(const std::string& path, const lowering::Gemm& gemm, int rows, int cols, int acc_bits,
                         int pe_row, int pe_col, size_t max_records, const std::string& source);

}  // namespace vosa
