// Operand traces (*.vtrace): the stream of operands one PE sees, one record
// per clock cycle. Format (little-endian), documented in docs/trace.md:
//   8 bytes "VOSATRC1", uint32 header_len, header_len bytes of JSON header,
//   then `count` records of 16 bytes: int32 activation, int32 weight, int64 psum_in
//   (version 2, a carry-save PE's stream: 24 bytes, int64 psum_c_in after psum_in).
#pragma once

#include <cstdint>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa {

class TraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TraceHeader {
  int act_bits = 8;
  int weight_bits = 8;
  int acc_bits = 20;
  bool is_signed = true;
  std::uint64_t count = 0;  // set by the writer / read from the file
  std::string source;       // "uniform-random seed=1", "resnet8/conv2d_3 input 0", ...
  int pe_row = 0, pe_col = 0;
  std::string layer;  // optional
  std::string notes;  // optional
  // A carry-save PE's stream: the records hold the incoming sum (psum_in) and
  // carry (psum_c_in) words; written as format version 2 (docs/trace.md).
  bool carry_save = false;
};

struct OperandRecord {
  std::int32_t activation = 0;
  std::int32_t weight = 0;
  std::int64_t psum_in = 0;  // already wrapped to acc_bits
  std::int64_t psum_c_in = 0;  // carry word (TraceHeader::carry_save), wrapped like psum_in
};

struct OperandTrace {
  TraceHeader header;
  std::vector<OperandRecord> records;
};

// Value range of a `bits`-wide signed or unsigned integer.
std::int64_t min_value(int bits, bool is_signed);
std::int64_t max_value(int bits, bool is_signed);
// Two's-complement wrap of v to `bits` bits (sign-extended when is_signed).
std::int64_t wrap_to_bits(std::int64_t v, int bits, bool is_signed);

// Throws TraceError naming `what` and the record index when a value does not fit.
void check_record(const TraceHeader& h, const OperandRecord& r, std::uint64_t index,
                  const std::string& what);

// Streaming writer: records go to PATH.partial; close() writes the final
// count and renames it to PATH. Destroying an unclosed writer removes the
// partial file, so an interrupted run leaves nothing half-written.
class OperandTraceWriter {
 public:
  OperandTraceWriter(const std::string& path, TraceHeader header);
  ~OperandTraceWriter();
  OperandTraceWriter(const OperandTraceWriter&) = delete;
  OperandTraceWriter& operator=(const OperandTraceWriter&) = delete;

  void append(const OperandRecord& r);  // checks widths
  void close();
  std::uint64_t count() const { return header_.count; }

 private:
  std::string path_, partial_path_;
  TraceHeader header_;
  std::ofstream out_;
  std::uint32_t header_len_ = 0;
  bool closed_ = false;
};

void write_trace(const std::string& path, const OperandTrace& trace);
// Reads and validates: magic, version, header fields, file length vs count,
// every value against its declared width. Errors name the file (and record).
OperandTrace read_trace(const std::string& path);
TraceHeader read_trace_header(const std::string& path);

// Header as the JSON the file carries (for printing).
std::string header_to_json(const TraceHeader& h, int indent = -1);

// Uniform random operands: every field drawn independently over its full range.
OperandTrace make_uniform_random_trace(const TraceHeader& shape, std::uint64_t count,
                                       std::uint64_t seed);
// A random weight-stationary layer: random weights W[rows][cols] held in the
// PEs, random activations streaming in; the trace is what PE (pe_row, pe_col)
// sees: x[n][pe_row], W[pe_row][pe_col], psum_in = sum_{k<pe_row} x[n][k] W[k][pe_col].
OperandTrace make_random_layer_trace(const TraceHeader& shape, int rows, int cols,
                                     std::uint64_t count, std::uint64_t seed);

}  // namespace vosa
