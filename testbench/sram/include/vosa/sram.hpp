// On-chip SRAM at low voltage (docs/sram.md): the bit-error rate of the
// SRAM domain vs its supply voltage, persistent per-chip fault maps, and the
// weight buffer layout through which the engine reads a model's weights.
//
// Fault model (the NeuralFuse model, IBM/NeuralFuse faultmodels/randomfault.py):
// a faulty bit cell is stuck at 0 or at 1 (even odds, drawn once per cell);
// the bit-error rate BER is the fraction of faulty cells, so about BER / 2 of
// the stored bits of random data read back wrong.
//
// Persistence and monotonicity: each cell of a chip draws once a failure
// quantile q ~ U(0, 1) from the chip's seed. The cell is faulty at BER b iff
// q < b, and at supply V iff q < BER(V) (equivalently V <= its failure
// voltage v_fail = BER^-1(q)). Lowering V (raising b) only adds faults; the
// same seed gives the same chip on every machine.
#pragma once

#include "vosa/engine.hpp"
#include "vosa/lowering.hpp"
#include "vosa/tflite_model.hpp"

#include <atomic>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa::sram {

// Bad input (a BER outside [0, 1], a curve that is not monotone, a fault
// map that does not fit its buffer, ...): the message names the file/field.
class SramError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws SramError naming `what` unless 0 <= ber <= 1.
void check_ber(double ber, const std::string& what);

// ---------------------------------------------------------------- BER(V)

// Bit-error rate vs supply voltage: points (V, BER), V strictly increasing,
// BER non-increasing; log-linear interpolation between points, constant
// beyond the ends (docs/sram.md gives the file format).
struct BerCurve {
  std::string path;    // where it was read from (messages)
  std::string source;  // where the numbers come from (a command or a citation)
  std::string corner;  // process/temperature, e.g. tt_025C
  double nominal_v = 0;  // the SRAM domain's nominal supply
  std::vector<double> voltage, ber;

  double ber_at(double v) const;
  // Lowest voltage whose BER does not exceed `b` (the failure voltage of a
  // cell with quantile b); the curve's lowest voltage when b is above it all.
  double voltage_at(double b) const;
};
BerCurve load_ber_curve(const std::string& path);
void check_ber_curve(const BerCurve& curve);  // throws SramError naming curve.path

// ---------------------------------------------------------------- fault maps

// An SRAM macro: `words` words of `width` bits (one read/write port).
struct Geometry {
  std::uint64_t words = 0;
  int width = 0;
  std::uint64_t bits() const { return words * static_cast<std::uint64_t>(width); }
};

struct Fault {
  std::uint64_t word = 0;
  int bit = 0;            // 0 = LSB of the word
  bool stuck_one = false;
  double quantile = 0;    // faulty at BER b iff quantile < b
  double v_fail = 0;      // faulty at V iff V <= v_fail (0 when the map has no curve)
};

// The faulty cells of one simulated chip with quantile below max_ber,
// sorted by (word, bit). Files: CSV, docs/sram.md.
struct FaultMap {
  Geometry geometry;
  std::string buffer = "weights";  // which buffer: "weights" or "activations" (own draws per chip)
  std::uint64_t seed = 0;
  double max_ber = 0;         // cells with a higher quantile are not listed
  std::string ber_curve;      // source of v_fail ("" when none)
  std::vector<Fault> faults;

  // The faults active at BER b (b <= max_ber, else SramError).
  std::vector<Fault> at_ber(double b) const;
  // The faults active at supply v: v_fail >= v (needs a curve; SramError
  // when BER(v) exceeds max_ber, since the map would miss faults).
  std::vector<Fault> at_voltage(double v, const BerCurve& curve) const;
};

// Draws chip `seed`'s faults with quantile < max_ber (geometric skipping: the
// cost is proportional to the faults, not the cells).
FaultMap generate_fault_map(const Geometry& geometry, std::uint64_t seed, double max_ber,
                            const BerCurve* curve = nullptr, const std::string& buffer = "weights");
void write_fault_map(const FaultMap& map, const std::string& path);  // temp file + rename
FaultMap read_fault_map(const std::string& path);

// ---------------------------------------------------------------- weight buffer

// Where each array layer's weights sit in the weight SRAM: the filter
// tensors of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED in execution
// order, each in its stored (TFLite) byte order, packed back to back from
// byte address 0, width / 8 bytes per word, little-endian within the word.
// A model larger than the buffer wraps around (tiles streamed through the
// same cells meet the same faulty cells).
struct WeightRegion {
  std::size_t op = 0;      // operator index
  int tensor = 0;          // filter tensor index
  std::uint64_t offset = 0;  // first byte address (before wrapping)
  std::uint64_t bytes = 0;
  // The tensor byte at each byte of the region, -1 for a padding byte; empty
  // when the region holds the tensor's bytes in order (the packed layout).
  std::vector<std::int64_t> byte_of;
};
struct WeightLayout {
  Geometry geometry;
  std::vector<WeightRegion> regions;
  std::uint64_t total_bytes() const;
};
WeightLayout weight_layout(const tflite::Model& model, const Geometry& geometry);
// The smallest buffer of `width` bits per word that holds every weight once.
Geometry geometry_for_model(const tflite::Model& model, int width);

// The weight buffer of a buffered rows x cols array (config "buffers",
// docs/sram.md "RTL buffers"): a word is one weight row of one tile, cols
// int8 weights (byte c = column c, width cols x 8 bits). The layers `ops`
// (execution order; CONV_2D and FULLY_CONNECTED only) are lowered to their
// GEMM's B[K][N] and cut into rows x cols tiles, column tiles outer and
// reduction tiles inner, as vosa::ArrayDriver loads them; tile t's row r is
// word (t * rows + r) mod `words` counted from the first tile of the first
// layer. Bytes outside B (the last tiles' padding) are zero weights that
// meet zero activations or unused columns: they map to no tensor byte.
// A depthwise layer is a named error: its lowered B repeats or pads its
// weights, which a faulty filter tensor cannot express.
WeightLayout array_weight_layout(const tflite::Model& model, const std::vector<std::size_t>& ops, int rows, int cols,
                                 std::uint64_t words);

// A copy of `model` whose weights read back through the faulty cells;
// `flipped_bits` (if given) gets the number of stored bits that changed.
tflite::Model apply_weight_faults(const tflite::Model& model, const WeightLayout& layout,
                                  const std::vector<Fault>& faults, std::uint64_t* flipped_bits = nullptr);

// ---------------------------------------------------------------- activation buffer

// The activation buffer holds one array layer's input tensor at a time, in
// its stored (NHWC) byte order from byte address 0, laid out like the weight
// buffer (width / 8 bytes per word, little-endian), wrapping when the tensor
// is larger. Every consumer of that tensor reads it through the buffer.
// The smallest buffer of `width` bits per word that holds the largest one:
Geometry activation_geometry_for_model(const tflite::Model& model, int width);

// Forces the stuck bits of `faults` (cells of a buffer of geometry `g`) on
// the `bytes` bytes at `data` stored from address 0; returns the bits changed.
std::uint64_t apply_buffer_faults(std::uint8_t* data, std::uint64_t bytes, const Geometry& g,
                                  const std::vector<Fault>& faults);

// ---------------------------------------------------------------- the array's activation buffer
// The activation buffer u_abuf of a buffered rows x cols array (config
// "buffers", docs/sram.md "RTL buffers"), not the NHWC buffer above: a word
// is one input vector of the array, rows x 8 bits (element r at bits
// 8r..8r+7), and vosa::ArrayDriver writes row m of a lowered GEMM's A (the
// im2col rows) to word m mod depth for every weight tile, then reads it into
// the array. So A[m][k] is read through the cells of word m mod depth, bits
// 8 (k mod rows) .. 8 (k mod rows) + 7, every time it is used.
class ArrayActivationBuffer {
 public:
  // g: depth x (rows x 8) bits (SramError naming the geometry otherwise).
  ArrayActivationBuffer(const Geometry& g, const std::vector<Fault>& faults, int rows);
  const Geometry& geometry() const { return geometry_; }
  // A (m x k, row-major) as the array reads it; returns the bits changed.
  std::uint64_t read(std::vector<int8_t>& a, int m, int k) const;
  // The engine's model of this hardware: an observer that recomputes each
  // array layer's accumulators from its GEMMs lowered for a rows x cols
  // array (`mapping` for depthwise layers, as the layer bench lowers them)
  // with every A read through the buffer. `model` must be the engine's.
  // `changed_bits` (if given) counts the activation bits the faults changed.
  engine::AccumulatorObserver observer(const tflite::Model& model, int cols, lowering::DepthwiseMapping mapping,
                                       std::atomic<std::uint64_t>* changed_bits = nullptr) const;

 private:
  Geometry geometry_;
  int rows_ = 0;
  std::vector<std::uint8_t> stuck1_, stuck0_;  // per (word, element): the element's stuck-at-1 / -0 bits
};

// ---------------------------------------------------------------- RTL fault masks

// The stuck cells of `faults` as the $readmemh file vosa_sram_sp.v loads
// under VOSA_SRAM_FAULTS: one line per word of `g`, the hex digits of
// {stuck-at-1 mask, stuck-at-0 mask} (2 x width bits, MSB first). Temp file + rename.
void write_readmemh_masks(const Geometry& g, const std::vector<Fault>& faults, const std::string& path);

}  // namespace vosa::sram
