// BER(V) curves, per-chip fault maps and the weight buffer layout (sram.hpp).
#include "vosa/sram.hpp"

#include "vosa/inject.hpp"
#include "vosa/lowering.hpp"
#include "vosa/output_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace vosa::sram {
namespace fs = std::filesystem;

void check_ber(double ber, const std::string& what) {
  if (!(ber >= 0.0 && ber <= 1.0))  // also refuses NaN
    throw SramError(what + ": bit-error rate " + std::to_string(ber) + " is outside [0, 1]");
}

// ---------------------------------------------------------------- BER(V)

namespace {

// log-linear between two positive rates, linear when one of them is zero.
double interpolate_ber(double v0, double b0, double v1, double b1, double v) {
  const double t = (v - v0) / (v1 - v0);
  if (b0 <= 0 || b1 <= 0) return b0 + t * (b1 - b0);
  return std::exp(std::log(b0) + t * (std::log(b1) - std::log(b0)));
}

}  // namespace

double BerCurve::ber_at(double v) const {
  if (v <= voltage.front()) return ber.front();
  if (v >= voltage.back()) return ber.back();
  const size_t i = static_cast<size_t>(std::upper_bound(voltage.begin(), voltage.end(), v) - voltage.begin());
  return interpolate_ber(voltage[i - 1], ber[i - 1], voltage[i], ber[i], v);
}

double BerCurve::voltage_at(double b) const {
  if (b >= ber.front()) return voltage.front();
  if (b < ber.back()) return voltage.back();  // faulty even at the top of the curve
  for (size_t i = 1; i < voltage.size(); ++i) {
    if (ber[i] > b) continue;
    // ber[i-1] > b >= ber[i]: invert the segment's interpolation.
    const double b0 = ber[i - 1], b1 = ber[i];
    double t;
    if (b0 <= 0 || b1 <= 0 || b <= 0)
      t = (b0 - b) / (b0 - b1);
    else
      t = (std::log(b0) - std::log(b)) / (std::log(b0) - std::log(b1));
    return voltage[i - 1] + t * (voltage[i] - voltage[i - 1]);
  }
  return voltage.back();
}

void check_ber_curve(const BerCurve& c) {
  const std::string where = c.path.empty() ? "BER curve" : c.path;
  if (c.voltage.size() < 2 || c.voltage.size() != c.ber.size())
    throw SramError(where + ": points: need at least two (voltage, ber) points");
  for (size_t i = 0; i < c.voltage.size(); ++i) {
    const std::string point = where + ": points[" + std::to_string(i) + "]";
    check_ber(c.ber[i], point + ".ber");
    if (!(c.voltage[i] > 0)) throw SramError(point + ".voltage must be > 0");
    if (i && !(c.voltage[i] > c.voltage[i - 1]))
      throw SramError(point + ".voltage: voltages must increase strictly");
    if (i && c.ber[i] > c.ber[i - 1])
      throw SramError(point + ".ber: the bit-error rate must not rise with the voltage (" +
                      std::to_string(c.ber[i]) + " after " + std::to_string(c.ber[i - 1]) + ")");
  }
  if (!(c.nominal_v > 0)) throw SramError(where + ": nominal_v must be > 0");
}

BerCurve load_ber_curve(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw SramError("cannot read BER curve " + path);
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception& e) {
    throw SramError(path + ": not valid JSON (" + e.what() + ")");
  }
  BerCurve c;
  c.path = path;
  try {
    if (j.value("schema", "") != "vosa-sram-ber")
      throw SramError(path + ": schema: expected \"vosa-sram-ber\"");
    c.source = j.at("source").get<std::string>();
    c.corner = j.value("corner", "");
    c.nominal_v = j.at("nominal_v").get<double>();
    for (const auto& p : j.at("points")) {
      c.voltage.push_back(p.at("voltage").get<double>());
      c.ber.push_back(p.at("ber").get<double>());
    }
  } catch (const nlohmann::json::exception& e) {
    throw SramError(path + ": " + e.what() + " (fields: schema, source, nominal_v, points[{voltage, ber}])");
  }
  check_ber_curve(c);
  return c;
}

// ---------------------------------------------------------------- fault maps

std::vector<Fault> FaultMap::at_ber(double b) const {
  check_ber(b, "fault map BER");
  if (b > max_ber)
    throw SramError("fault map BER " + std::to_string(b) + " exceeds the map's max_ber " + std::to_string(max_ber) +
                    " (generate the chip with a larger --max-ber)");
  std::vector<Fault> out;
  for (const Fault& f : faults)
    if (f.quantile < b) out.push_back(f);
  return out;
}

std::vector<Fault> FaultMap::at_voltage(double v, const BerCurve& curve) const {
  const double b = curve.ber_at(v);
  if (b > max_ber)
    throw SramError("at " + std::to_string(v) + " V the BER curve " + curve.path + " gives " + std::to_string(b) +
                    ", above the fault map's max_ber " + std::to_string(max_ber));
  return at_ber(b);
}

FaultMap generate_fault_map(const Geometry& g, std::uint64_t seed, double max_ber, const BerCurve* curve,
                            const std::string& buffer) {
  check_ber(max_ber, "--max-ber");
  if (buffer != "weights" && buffer != "activations")
    throw SramError("fault map buffer '" + buffer + "': expected weights or activations");
  if (g.words == 0 || g.width <= 0) throw SramError("SRAM geometry: words and width must be > 0");
  FaultMap m;
  m.geometry = g;
  m.seed = seed;
  m.max_ber = max_ber;
  m.buffer = buffer;
  m.ber_curve = curve ? (curve->path.empty() ? curve->source : curve->path) : "";
  if (max_ber <= 0) return m;
  // Its own stream: chip `seed`'s map does not share draws with the
  // timing-error injector's streams of the same seed.
  // The two buffers of one chip draw from two streams.
  inject::Rng rng(inject::derive_seed(seed, 0x5352414dULL /* "SRAM" */, buffer == "weights" ? 0 : 1, 0));
  const std::uint64_t cells = g.bits();
  const double log_keep = std::log1p(-std::min(max_ber, 1.0 - 1e-16));
  std::uint64_t cell = 0;
  for (;;) {
    // Cells skipped before the next faulty one: geometric with p = max_ber.
    const double skip = max_ber >= 1.0 ? 0.0 : std::floor(std::log(rng.uniform_open()) / log_keep);
    if (skip >= static_cast<double>(cells - cell)) break;
    cell += static_cast<std::uint64_t>(skip);
    Fault f;
    f.word = cell / static_cast<std::uint64_t>(g.width);
    f.bit = static_cast<int>(cell % static_cast<std::uint64_t>(g.width));
    f.quantile = max_ber * rng.uniform();  // uniform below max_ber, given faulty there
    f.stuck_one = (rng.next() >> 63) != 0;
    f.v_fail = curve ? curve->voltage_at(f.quantile) : 0.0;
    m.faults.push_back(f);
    if (++cell >= cells) break;
  }
  return m;
}

void write_fault_map(const FaultMap& m, const std::string& path) {
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial);
    if (!out) throw SramError("cannot write " + path);
    out << "# vosa-sram-faultmap 1\n"
        << "# buffer=" << m.buffer << "\n# words=" << m.geometry.words << "\n# width=" << m.geometry.width << "\n# seed=" << m.seed << "\n";
    char line[160];
    std::snprintf(line, sizeof line, "# max_ber=%.17g\n", m.max_ber);
    out << line << "# ber_curve=" << m.ber_curve << "\n"
        << "word,bit,stuck,quantile,v_fail\n";
    for (const Fault& f : m.faults) {
      std::snprintf(line, sizeof line, "%llu,%d,%d,%.17g,%.6f\n", static_cast<unsigned long long>(f.word), f.bit,
                    f.stuck_one ? 1 : 0, f.quantile, f.v_fail);
      out << line;
    }
    if (!out) throw SramError("cannot write " + path);
  }
  move_output_into_place(partial, path);
}

FaultMap read_fault_map(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw SramError("cannot read fault map " + path);
  FaultMap m;
  std::string line;
  size_t number = 0;
  bool have_words = false, have_width = false, have_max = false, have_columns = false;
  auto fail = [&](const std::string& why) -> SramError {
    return SramError(path + ":" + std::to_string(number) + ": " + why);
  };
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (number == 1 && line != "# vosa-sram-faultmap 1")
      throw fail("not a vosa fault map (first line must be '# vosa-sram-faultmap 1')");
    if (line[0] == '#') {
      const size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = line.substr(2, eq - 2), value = line.substr(eq + 1);
      try {
        if (key == "words") m.geometry.words = std::stoull(value), have_words = true;
        else if (key == "width") m.geometry.width = std::stoi(value), have_width = true;
        else if (key == "seed") m.seed = std::stoull(value);
        else if (key == "max_ber") m.max_ber = std::stod(value), have_max = true;
        else if (key == "ber_curve") m.ber_curve = value;
        else if (key == "buffer") {
          if (value != "weights" && value != "activations") throw std::invalid_argument(value);
          m.buffer = value;
        }
      } catch (const std::exception&) {
        throw fail("header field " + key + ": bad value '" + value + "'");
      }
      continue;
    }
    if (!have_columns) {
      if (line != "word,bit,stuck,quantile,v_fail") throw fail("expected the column line word,bit,stuck,quantile,v_fail");
      if (!have_words || !have_width || !have_max) throw fail("header needs words=, width= and max_ber=");
      if (m.geometry.words == 0 || m.geometry.width <= 0) throw fail("words and width must be > 0");
      check_ber(m.max_ber, path + ": max_ber");
      have_columns = true;
      continue;
    }
    Fault f;
    unsigned long long word = 0;
    int stuck = 0;
    char tail = 0;
    if (std::sscanf(line.c_str(), "%llu,%d,%d,%lf,%lf%c", &word, &f.bit, &stuck, &f.quantile, &f.v_fail, &tail) != 5)
      throw fail("expected word,bit,stuck,quantile,v_fail, got '" + line + "'");
    f.word = word;
    if (f.word >= m.geometry.words) throw fail("word " + std::to_string(f.word) + " is beyond words=" +
                                               std::to_string(m.geometry.words));
    if (f.bit < 0 || f.bit >= m.geometry.width) throw fail("bit " + std::to_string(f.bit) + " is outside the " +
                                                           std::to_string(m.geometry.width) + "-bit word");
    if (stuck != 0 && stuck != 1) throw fail("stuck must be 0 or 1");
    f.stuck_one = stuck == 1;
    check_ber(f.quantile, path + ":" + std::to_string(number) + ": quantile");
    if (f.quantile >= m.max_ber && m.max_ber > 0) throw fail("quantile is not below max_ber");
    m.faults.push_back(f);
  }
  if (!have_columns) throw SramError(path + ": no column line (empty or truncated fault map)");
  std::sort(m.faults.begin(), m.faults.end(),
            [](const Fault& a, const Fault& b) { return a.word != b.word ? a.word < b.word : a.bit < b.bit; });
  return m;
}

// ---------------------------------------------------------------- weight buffer

namespace {

// A byte read back through one stuck cell (bit `bit % 8` of the byte); true when it changed.
bool force_stuck(std::uint8_t& byte, const Fault& f) {
  const std::uint8_t mask = static_cast<std::uint8_t>(1u << (f.bit % 8));
  const std::uint8_t after = f.stuck_one ? static_cast<std::uint8_t>(byte | mask) : static_cast<std::uint8_t>(byte & ~mask);
  const bool changed = after != byte;
  byte = after;
  return changed;
}

// The smallest buffer of `width` bits per word that holds `bytes` bytes.
Geometry geometry_holding(std::uint64_t bytes, int width, const char* buffer) {
  if (width <= 0 || width % 8 != 0)
    throw SramError(std::string(buffer) + " buffer width " + std::to_string(width) +
                    " bits: must be a positive multiple of 8");
  const std::uint64_t per_word = static_cast<std::uint64_t>(width / 8);
  return {std::max<std::uint64_t>(1, (bytes + per_word - 1) / per_word), width};
}

void check_fault_in(const Fault& f, const Geometry& g, const char* buffer) {
  if (f.word >= g.words || f.bit >= g.width)
    throw SramError(std::string("fault at word ") + std::to_string(f.word) + " bit " + std::to_string(f.bit) +
                    " is outside the " + std::to_string(g.words) + " x " + std::to_string(g.width) + " " + buffer +
                    " buffer");
}

}  // namespace

std::uint64_t WeightLayout::total_bytes() const {
  return regions.empty() ? 0 : regions.back().offset + regions.back().bytes;
}

WeightLayout weight_layout(const tflite::Model& model, const Geometry& g) {
  if (g.width <= 0 || g.width % 8 != 0)
    throw SramError("weight buffer width " + std::to_string(g.width) + " bits: must be a positive multiple of 8");
  if (g.words == 0) throw SramError("weight buffer words must be > 0");
  WeightLayout layout;
  layout.geometry = g;
  std::uint64_t offset = 0;
  for (size_t i = 0; i < model.operators.size(); ++i) {
    const tflite::Operator& op = model.operators[i];
    if (op.type != tflite::OpType::kConv2D && op.type != tflite::OpType::kDepthwiseConv2D &&
        op.type != tflite::OpType::kFullyConnected)
      continue;
    const tflite::Tensor& w = model.tensor(op.inputs.at(1));
    if (w.type != tflite::TensorType::kInt8 || !w.is_constant())
      throw SramError(model.path + ": operator " + std::to_string(i) + " (" + tflite::to_string(op.type) +
                      "): weights '" + w.name + "' are not constant int8");
    layout.regions.push_back({i, op.inputs.at(1), offset, w.data.size(), {}});
    offset += w.data.size();
  }
  return layout;
}

Geometry geometry_for_model(const tflite::Model& model, int width) {
  geometry_holding(0, width, "weight");  // the width check first, with the buffer's name
  return geometry_holding(weight_layout(model, {1, width}).total_bytes(), width, "weight");
}

tflite::Model apply_weight_faults(const tflite::Model& model, const WeightLayout& layout,
                                  const std::vector<Fault>& faults, std::uint64_t* flipped_bits) {
  tflite::Model out = model;
  const std::uint64_t per_word = static_cast<std::uint64_t>(layout.geometry.width / 8);
  const std::uint64_t capacity = layout.geometry.words * per_word;
  const std::uint64_t total = layout.total_bytes();
  std::uint64_t flipped = 0;
  for (const Fault& f : faults) {
    check_fault_in(f, layout.geometry, "weight");
    // Every weight byte stored in this cell (more than one when the model wraps).
    for (std::uint64_t a = f.word * per_word + static_cast<std::uint64_t>(f.bit / 8); a < total; a += capacity) {
      const auto it = std::upper_bound(layout.regions.begin(), layout.regions.end(), a,
                                       [](std::uint64_t x, const WeightRegion& r) { return x < r.offset; });
      const WeightRegion& r = *(it - 1);
      const std::int64_t byte = r.byte_of.empty() ? static_cast<std::int64_t>(a - r.offset) : r.byte_of.at(a - r.offset);
      if (byte < 0) continue;  // padding: no weight is stored there
      flipped += force_stuck(out.tensors.at(static_cast<size_t>(r.tensor)).data.at(static_cast<size_t>(byte)), f);
    }
  }
  if (flipped_bits) *flipped_bits = flipped;
  return out;
}

WeightLayout array_weight_layout(const tflite::Model& model, const std::vector<std::size_t>& ops, int rows, int cols,
                                 std::uint64_t words) {
  if (rows <= 0 || cols <= 0) throw SramError("array weight buffer: rows and cols must be > 0");
  if (words < static_cast<std::uint64_t>(rows))
    throw SramError("weight buffer of " + std::to_string(words) + " words is too small for one " +
                    std::to_string(rows) + "-row weight tile");
  WeightLayout layout;
  layout.geometry = {words, cols * 8};
  std::uint64_t offset = 0;
  for (std::size_t i : ops) {
    if (i >= model.operators.size()) throw SramError(model.path + ": no operator " + std::to_string(i));
    const tflite::Operator& op = model.operators[i];
    if (op.type != tflite::OpType::kConv2D && op.type != tflite::OpType::kFullyConnected)
      throw SramError(model.path + ": operator " + std::to_string(i) + " (" + tflite::to_string(op.type) +
                      "): only CONV_2D and FULLY_CONNECTED weights map one to one onto the array's weight buffer "
                      "(a depthwise layer's lowered weights repeat or pad its filter); leave it out of the array layers");
    const tflite::Tensor& w = model.tensor(op.inputs.at(1));
    if (w.type != tflite::TensorType::kInt8 || !w.is_constant())
      throw SramError(model.path + ": operator " + std::to_string(i) + ": weights '" + w.name + "' are not constant int8");
    const lowering::ConvGeometry g = lowering::geometry_of(model, op, i);
    const int k_total = g.reduction(), n_total = g.out_c;
    const int k_tiles = (k_total + rows - 1) / rows, n_tiles = (n_total + cols - 1) / cols;
    WeightRegion region{i, op.inputs.at(1), offset, 0, {}};
    region.byte_of.reserve(static_cast<std::size_t>(k_tiles) * n_tiles * rows * cols);
    for (int nt = 0; nt < n_tiles; ++nt)
      for (int kt = 0; kt < k_tiles; ++kt)
        for (int r = 0; r < rows; ++r)
          for (int c = 0; c < cols; ++c) {
            const int k = kt * rows + r, n = nt * cols + c;
            region.byte_of.push_back(k < k_total && n < n_total
                                         ? static_cast<std::int64_t>(lowering::conv_weight_index(g, k, n))
                                         : -1);
          }
    region.bytes = region.byte_of.size();
    offset += region.bytes;
    layout.regions.push_back(std::move(region));
  }
  return layout;
}

// ---------------------------------------------------------------- activation buffer

Geometry activation_geometry_for_model(const tflite::Model& model, int width) {
  std::uint64_t largest = 0;
  for (const tflite::Operator& op : model.operators)
    if (op.type == tflite::OpType::kConv2D || op.type == tflite::OpType::kDepthwiseConv2D ||
        op.type == tflite::OpType::kFullyConnected)
      largest = std::max<std::uint64_t>(largest, model.tensor(op.inputs.at(0)).num_elements());
  return geometry_holding(largest, width, "activation");
}

std::uint64_t apply_buffer_faults(std::uint8_t* data, std::uint64_t bytes, const Geometry& g,
                                  const std::vector<Fault>& faults) {
  const std::uint64_t per_word = static_cast<std::uint64_t>(g.width / 8);
  const std::uint64_t capacity = g.words * per_word;
  std::uint64_t flipped = 0;
  for (const Fault& f : faults) {
    check_fault_in(f, g, "activation");
    for (std::uint64_t a = f.word * per_word + static_cast<std::uint64_t>(f.bit / 8); a < bytes; a += capacity)
      flipped += force_stuck(data[a], f);
  }
  return flipped;
}

// ---------------------------------------------------------------- the array's activation buffer

ArrayActivationBuffer::ArrayActivationBuffer(const Geometry& g, const std::vector<Fault>& faults, int rows)
    : geometry_(g), rows_(rows) {
  if (rows <= 0 || g.words == 0 || g.width != rows * 8)
    throw SramError("array activation buffer: a " + std::to_string(g.words) + " x " + std::to_string(g.width) +
                    " map, but a " + std::to_string(rows) + "-row array's input vector is " +
                    std::to_string(rows * 8) + " bits wide");
  stuck1_.assign(g.words * static_cast<std::uint64_t>(rows), 0);
  stuck0_.assign(stuck1_.size(), 0);
  for (const Fault& f : faults) {
    check_fault_in(f, g, "activation buffer");
    const std::size_t element = f.word * static_cast<std::uint64_t>(rows) + static_cast<std::uint64_t>(f.bit / 8);
    (f.stuck_one ? stuck1_ : stuck0_)[element] |= static_cast<std::uint8_t>(1u << (f.bit % 8));
  }
}

std::uint64_t ArrayActivationBuffer::read(std::vector<int8_t>& a, int m, int k) const {
  std::uint64_t changed = 0;
  for (int i = 0; i < m; ++i) {
    const std::size_t word = static_cast<std::size_t>(i) % geometry_.words;
    for (int j = 0; j < k; ++j) {
      const std::size_t element = word * static_cast<std::size_t>(rows_) + static_cast<std::size_t>(j % rows_);
      int8_t& x = a[static_cast<std::size_t>(i) * static_cast<std::size_t>(k) + static_cast<std::size_t>(j)];
      const std::uint8_t before = static_cast<std::uint8_t>(x);
      const std::uint8_t after = static_cast<std::uint8_t>((before & ~stuck0_[element]) | stuck1_[element]);
      changed += static_cast<std::uint64_t>(__builtin_popcount(before ^ after));
      x = static_cast<int8_t>(after);
    }
  }
  return changed;
}

engine::AccumulatorObserver ArrayActivationBuffer::observer(const tflite::Model& model, int cols,
                                                            lowering::DepthwiseMapping mapping,
                                                            std::atomic<std::uint64_t>* changed_bits) const {
  return [this, &model, cols, mapping, changed_bits](const engine::PreparedOp& p, const int8_t* input,
                                                      std::vector<int32_t>& acc) {
    std::vector<lowering::Gemm> gemms =
        lowering::lower_layer_for_array(model, *p.op, p.geometry, input, rows_, cols, mapping);
    std::vector<std::vector<int64_t>> results;
    std::uint64_t changed = 0;
    for (lowering::Gemm& g : gemms) {
      changed += read(g.a, g.m, g.k);
      results.push_back(lowering::reference_gemm(g));
    }
    acc = lowering::assemble_accumulators(p.geometry, gemms, results, lowering::correction_of(model, *p.op, p.geometry));
    if (changed_bits) *changed_bits += changed;
  };
}

// ---------------------------------------------------------------- RTL fault masks

void write_readmemh_masks(const Geometry& g, const std::vector<Fault>& faults, const std::string& path) {
  if (g.width <= 0 || g.width % 4 != 0) throw SramError("fault masks: word width must be a multiple of 4 bits");
  const std::size_t width = static_cast<std::size_t>(g.width);
  // Bit j of each mask (LSB first) of every word that has a faulty cell.
  std::map<std::uint64_t, std::pair<std::vector<bool>, std::vector<bool>>> words;  // {stuck-at-1, stuck-at-0}
  for (const Fault& f : faults) {
    check_fault_in(f, g, "RTL");
    auto& w = words[f.word];
    if (w.first.empty()) w = {std::vector<bool>(width), std::vector<bool>(width)};
    (f.stuck_one ? w.first : w.second)[static_cast<std::size_t>(f.bit)] = true;
  }
  auto hex = [](const std::vector<bool>& bits) {
    std::string s;
    for (std::size_t nibble = bits.size() / 4; nibble-- > 0;) {
      int v = 0;
      for (int b = 3; b >= 0; --b) v = v * 2 + (bits[nibble * 4 + static_cast<std::size_t>(b)] ? 1 : 0);
      s += "0123456789abcdef"[v];
    }
    return s;
  };
  const std::string zero(width / 2, '0');  // both masks of a word without faults
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial);
    if (!out) throw SramError("cannot write " + path);
    for (std::uint64_t word = 0; word < g.words; ++word) {
      const auto it = words.find(word);
      out << (it == words.end() ? zero : hex(it->second.first) + hex(it->second.second)) << "\n";
    }
    if (!out) throw SramError("cannot write " + path);
  }
  move_output_into_place(partial, path);
}

}  // namespace vosa::sram
