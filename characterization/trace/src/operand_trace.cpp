#include "vosa/operand_trace.hpp"

#include "vosa/carry_save.hpp"
#include "vosa/output_file.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>

namespace vosa {

namespace {

constexpr char kMagic[8] = {'V', 'O', 'S', 'A', 'T', 'R', 'C', '1'};
// Version 1: 16-byte records. Version 2 (only for a carry-save PE's stream,
// header "carry_save": true): 24-byte records, the incoming carry word after
// psum_in. Other streams are still written as version 1.
constexpr int kVersion = 1;
constexpr int kCarrySaveVersion = 2;
constexpr size_t kRecordBytes = 16;
constexpr size_t kCarrySaveRecordBytes = 24;
size_t record_bytes(const TraceHeader& h) { return h.carry_save ? kCarrySaveRecordBytes : kRecordBytes; }
// Room left in the header for the final count, which a streaming writer only
// knows at close(); JSON allows the trailing spaces.
constexpr size_t kCountSlack = 24;

void put_le(char* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
std::uint64_t get_le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

void check_shape(const TraceHeader& h, const std::string& what) {
  auto bad = [&](const std::string& field, int v, int lo, int hi) {
    if (v < lo || v > hi)
      throw TraceError(what + ": header field '" + field + "' = " + std::to_string(v) +
                       " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  };
  bad("act_bits", h.act_bits, 1, 32);
  bad("weight_bits", h.weight_bits, 1, 32);
  bad("acc_bits", h.acc_bits, 1, 64);
}

nlohmann::json header_json(const TraceHeader& h) {
  nlohmann::json j = {{"format", "vosa-operand-trace"},
                      {"version", h.carry_save ? kCarrySaveVersion : kVersion},
                      {"act_bits", h.act_bits},
                      {"weight_bits", h.weight_bits},
                      {"acc_bits", h.acc_bits},
                      {"signed", h.is_signed},
                      {"count", h.count},
                      {"source", h.source},
                      {"pe", {{"row", h.pe_row}, {"col", h.pe_col}}}};
  if (!h.layer.empty()) j["layer"] = h.layer;
  if (!h.notes.empty()) j["notes"] = h.notes;
  if (h.carry_save) j["carry_save"] = true;
  return j;
}

TraceHeader parse_header(const std::string& text, const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw TraceError(path + ": trace header is not valid JSON: " + e.what());
  }
  auto field = [&](const char* name) -> const nlohmann::json& {
    if (!j.contains(name)) throw TraceError(path + ": trace header has no field '" + name + "'");
    return j.at(name);
  };
  try {
    if (field("format") != "vosa-operand-trace")
      throw TraceError(path + ": header field 'format' is " + field("format").dump() +
                       ", expected \"vosa-operand-trace\"");
    if (field("version") != kVersion && field("version") != kCarrySaveVersion)
      throw TraceError(path + ": trace version " + field("version").dump() +
                       " is not supported (this reader knows versions " + std::to_string(kVersion) + " and " +
                       std::to_string(kCarrySaveVersion) + ")");
    TraceHeader h;
    h.carry_save = j.value("carry_save", false);
    if (h.carry_save != (field("version") == kCarrySaveVersion))
      throw TraceError(path + ": trace version " + field("version").dump() + " with \"carry_save\": " +
                       (h.carry_save ? "true" : "false") + " (version 2 is the carry-save format, version 1 the other)");
    h.act_bits = field("act_bits").get<int>();
    h.weight_bits = field("weight_bits").get<int>();
    h.acc_bits = field("acc_bits").get<int>();
    h.is_signed = field("signed").get<bool>();
    h.count = field("count").get<std::uint64_t>();
    h.source = field("source").get<std::string>();
    if (j.contains("pe")) {
      h.pe_row = j["pe"].value("row", 0);
      h.pe_col = j["pe"].value("col", 0);
    }
    h.layer = j.value("layer", "");
    h.notes = j.value("notes", "");
    check_shape(h, path);
    return h;
  } catch (const nlohmann::json::exception& e) {
    throw TraceError(path + ": trace header has a field of the wrong type: " + e.what());
  }
}

// Reads magic, header; returns header and the offset of the first record.
TraceHeader read_prefix(std::ifstream& in, const std::string& path, std::uint64_t& data_offset) {
  char magic[8];
  unsigned char len_bytes[4];
  if (!in.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0)
    throw TraceError(path + ": not a vosa operand trace (magic 'VOSATRC1' missing)");
  if (!in.read(reinterpret_cast<char*>(len_bytes), 4))
    throw TraceError(path + ": truncated trace header");
  const std::uint64_t len = get_le(len_bytes, 4);
  if (len > (1u << 24)) throw TraceError(path + ": trace header length " + std::to_string(len) + " is implausible");
  std::string text(len, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(len)))
    throw TraceError(path + ": truncated trace header");
  data_offset = 12 + len;
  return parse_header(text, path);
}

}  // namespace

std::int64_t min_value(int bits, bool is_signed) {
  if (!is_signed) return 0;
  return bits >= 64 ? INT64_MIN : -(std::int64_t{1} << (bits - 1));
}
std::int64_t max_value(int bits, bool is_signed) {
  if (bits >= 64) return INT64_MAX;
  if (!is_signed) return (std::int64_t{1} << bits) - 1;
  return (std::int64_t{1} << (bits - 1)) - 1;
}
std::int64_t wrap_to_bits(std::int64_t v, int bits, bool is_signed) {
  if (bits >= 64) return v;
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  std::uint64_t u = static_cast<std::uint64_t>(v) & mask;
  if (is_signed && (u >> (bits - 1)) & 1) u |= ~mask;
  return static_cast<std::int64_t>(u);
}

void check_record(const TraceHeader& h, const OperandRecord& r, std::uint64_t index,
                  const std::string& what) {
  auto check = [&](const char* field, std::int64_t v, int bits) {
    if (v < min_value(bits, h.is_signed) || v > max_value(bits, h.is_signed))
      throw TraceError(what + ": record " + std::to_string(index) + ": " + field + " = " +
                       std::to_string(v) + " does not fit " + std::to_string(bits) + " " +
                       (h.is_signed ? "signed" : "unsigned") + " bits");
  };
  check("activation", r.activation, h.act_bits);
  check("weight", r.weight, h.weight_bits);
  check("psum_in", r.psum_in, h.acc_bits);
  if (h.carry_save) check("psum_c_in", r.psum_c_in, h.acc_bits);
}

std::string header_to_json(const TraceHeader& h, int indent) { return header_json(h).dump(indent); }

// ------------------------------------------------------------------ writer

OperandTraceWriter::OperandTraceWriter(const std::string& path, TraceHeader header)
    : path_(path), partial_path_(path + ".partial"), header_(std::move(header)) {
  check_shape(header_, path_);
  header_.count = 0;
  const std::string json = header_json(header_).dump();
  header_len_ = static_cast<std::uint32_t>(json.size() + kCountSlack);
  out_.open(partial_path_, std::ios::binary | std::ios::trunc);
  if (!out_) throw TraceError(partial_path_ + ": cannot create file");
  char prefix[12];
  std::memcpy(prefix, kMagic, 8);
  put_le(prefix + 8, header_len_, 4);
  out_.write(prefix, 12);
  std::string padded = json;
  padded.resize(header_len_, ' ');
  out_.write(padded.data(), static_cast<std::streamsize>(padded.size()));
}

OperandTraceWriter::~OperandTraceWriter() {
  if (!closed_) {
    out_.close();
    std::remove(partial_path_.c_str());
  }
}

void OperandTraceWriter::append(const OperandRecord& r) {
  check_record(header_, r, header_.count, path_);
  char buf[kCarrySaveRecordBytes];
  put_le(buf, static_cast<std::uint32_t>(r.activation), 4);
  put_le(buf + 4, static_cast<std::uint32_t>(r.weight), 4);
  put_le(buf + 8, static_cast<std::uint64_t>(r.psum_in), 8);
  put_le(buf + 16, static_cast<std::uint64_t>(r.psum_c_in), 8);
  out_.write(buf, static_cast<std::streamsize>(record_bytes(header_)));
  ++header_.count;
}

void OperandTraceWriter::close() {
  if (closed_) return;
  std::string json = header_json(header_).dump();
  if (json.size() > header_len_) throw TraceError(path_ + ": internal: header outgrew its slot");
  json.resize(header_len_, ' ');
  out_.seekp(12);
  out_.write(json.data(), static_cast<std::streamsize>(json.size()));
  out_.close();
  if (!out_) throw TraceError(partial_path_ + ": write failed");
  try {
    move_output_into_place(partial_path_, path_);
  } catch (const std::runtime_error& e) {
    throw TraceError(e.what());
  }
  closed_ = true;
}

void write_trace(const std::string& path, const OperandTrace& trace) {
  OperandTraceWriter w(path, trace.header);
  for (const auto& r : trace.records) w.append(r);
  w.close();
}

// ------------------------------------------------------------------ reader

TraceHeader read_trace_header(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TraceError(path + ": cannot open trace");
  std::uint64_t offset = 0;
  return read_prefix(in, path, offset);
}

OperandTrace read_trace(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw TraceError(path + ": cannot open trace");
  const std::uint64_t size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  std::uint64_t offset = 0;
  OperandTrace t;
  t.header = read_prefix(in, path, offset);
  const size_t bytes = record_bytes(t.header);
  const std::uint64_t expected = offset + t.header.count * bytes;
  if (size != expected)
    throw TraceError(path + ": file is " + std::to_string(size) + " bytes but the header's count " +
                     std::to_string(t.header.count) + " needs " + std::to_string(expected) +
                     " (truncated or corrupt)");
  std::vector<unsigned char> data(t.header.count * bytes);
  if (!in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size())))
    throw TraceError(path + ": read failed");
  t.records.resize(t.header.count);
  for (std::uint64_t i = 0; i < t.header.count; ++i) {
    const unsigned char* p = data.data() + i * bytes;
    OperandRecord& r = t.records[i];
    r.activation = static_cast<std::int32_t>(static_cast<std::uint32_t>(get_le(p, 4)));
    r.weight = static_cast<std::int32_t>(static_cast<std::uint32_t>(get_le(p + 4, 4)));
    r.psum_in = static_cast<std::int64_t>(get_le(p + 8, 8));
    if (t.header.carry_save) r.psum_c_in = static_cast<std::int64_t>(get_le(p + 16, 8));
    check_record(t.header, r, i, path);
  }
  return t;
}

// -------------------------------------------------------------- generators

OperandTrace make_uniform_random_trace(const TraceHeader& shape, std::uint64_t count,
                                       std::uint64_t seed) {
  check_shape(shape, "uniform random trace");
  OperandTrace t;
  t.header = shape;
  t.header.count = count;
  t.header.source = "uniform-random seed=" + std::to_string(seed);
  std::mt19937_64 rng(seed);
  auto draw = [&](int bits) {
    std::uniform_int_distribution<std::int64_t> d(min_value(bits, shape.is_signed),
                                                  max_value(bits, shape.is_signed));
    return d(rng);
  };
  t.records.resize(count);
  for (auto& r : t.records) {
    r.activation = static_cast<std::int32_t>(draw(shape.act_bits));
    r.weight = static_cast<std::int32_t>(draw(shape.weight_bits));
    r.psum_in = draw(shape.acc_bits);
  }
  return t;
}

OperandTrace make_random_layer_trace(const TraceHeader& shape, int rows, int cols,
                                     std::uint64_t count, std::uint64_t seed) {
  check_shape(shape, "random layer trace");
  if (shape.pe_row < 0 || shape.pe_row >= rows || shape.pe_col < 0 || shape.pe_col >= cols)
    throw TraceError("random layer trace: PE (" + std::to_string(shape.pe_row) + ", " +
                     std::to_string(shape.pe_col) + ") is outside the " + std::to_string(rows) +
                     "x" + std::to_string(cols) + " array");
  std::mt19937_64 rng(seed);
  auto draw = [&](int bits) {
    std::uniform_int_distribution<std::int64_t> d(min_value(bits, shape.is_signed),
                                                  max_value(bits, shape.is_signed));
    return d(rng);
  };
  std::vector<std::int64_t> w(static_cast<size_t>(rows));  // column pe_col of W
  for (auto& v : w) v = draw(shape.weight_bits);
  OperandTrace t;
  t.header = shape;
  t.header.count = count;
  t.header.source = "random-layer " + std::to_string(rows) + "x" + std::to_string(cols) +
                    " seed=" + std::to_string(seed);
  t.records.resize(count);
  std::vector<std::int64_t> x(static_cast<size_t>(rows));
  for (auto& r : t.records) {
    for (auto& v : x) v = draw(shape.act_bits);
    std::int64_t psum = 0;
    CarrySaveWords words;  // the carry-save column: what the rows above pass down
    for (int k = 0; k < shape.pe_row; ++k) {
      psum += x[k] * w[k];
      if (shape.carry_save)
        words = carry_save_add(words.sum, words.carry, static_cast<std::uint64_t>(x[k] * w[k]), shape.acc_bits);
    }
    r.activation = static_cast<std::int32_t>(x[shape.pe_row]);
    r.weight = static_cast<std::int32_t>(w[shape.pe_row]);
    r.psum_in = wrap_to_bits(shape.carry_save ? static_cast<std::int64_t>(words.sum) : psum, shape.acc_bits, shape.is_signed);
    r.psum_c_in = wrap_to_bits(static_cast<std::int64_t>(words.carry), shape.acc_bits, shape.is_signed);
  }
  return t;
}

}  // namespace vosa
