#include "vosa/config.hpp"

#include "vosa/hash.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

namespace vosa {

const char* to_string(RazorPolicy policy) {
  return policy == RazorPolicy::Correct ? "correct" : "drop";
}

const char* to_string(Dataflow dataflow) {
  return dataflow == Dataflow::WeightStationary ? "weight_stationary" : "output_stationary";
}

namespace {

// The config spelling of every arithmetic option, in documentation order.
const std::vector<std::pair<AdderKind, const char*>> kAdderNames = {
    {AdderKind::Behavioral, "behavioral"}, {AdderKind::Ripple, "ripple"},
    {AdderKind::KoggeStone, "kogge_stone"}, {AdderKind::BrentKung, "brent_kung"},
    {AdderKind::Sklansky, "sklansky"},     {AdderKind::CarrySelect, "carry_select"}};
const std::vector<std::pair<MultiplierKind, const char*>> kMultiplierNames = {
    {MultiplierKind::Behavioral, "behavioral"}, {MultiplierKind::BoothWallace, "booth_wallace"}};
const std::vector<std::pair<PsumKind, const char*>> kPsumNames = {
    {PsumKind::CarryPropagate, "carry_propagate"}, {PsumKind::CarrySave, "carry_save"}};

template <typename Kind>
const char* name_of(const std::vector<std::pair<Kind, const char*>>& names, Kind kind) {
  for (const auto& [k, name] : names)
    if (k == kind) return name;
  return "?";
}

}  // namespace

const char* to_string(AdderKind kind) { return name_of(kAdderNames, kind); }
const char* to_string(MultiplierKind kind) { return name_of(kMultiplierNames, kind); }
const char* to_string(PsumKind kind) { return name_of(kPsumNames, kind); }

int min_acc_bits(int terms, int act_bits, int weight_bits, bool is_signed) {
  // Largest magnitude of one product, then of the sum of `terms` of them.
  // Signed: the extreme is (-2^(a-1)) * (-2^(w-1)) = +2^(a+w-2), which needs
  // one more bit than its magnitude for the sign. Unsigned: (2^a-1)(2^w-1).
  long double max_sum;
  if (is_signed) {
    max_sum = static_cast<long double>(terms) * std::ldexp(1.0L, act_bits + weight_bits - 2);
  } else {
    max_sum = static_cast<long double>(terms) * (std::ldexp(1.0L, act_bits) - 1) *
              (std::ldexp(1.0L, weight_bits) - 1);
  }
  int bits = 0;
  while (std::ldexp(1.0L, bits) <= max_sum) ++bits;  // bits to hold max_sum unsigned
  return is_signed ? bits + 1 : bits;
}

namespace {

// Reads the fields of one JSON object; `prefix` names the object in errors
// ("razor." for the razor object).
struct FieldReader {
  const nlohmann::json& doc;
  const std::string& source;
  std::string prefix;

  [[noreturn]] void fail(const std::string& field, const std::string& value,
                         const std::string& allowed) const {
    throw ConfigError(source + ": field '" + prefix + field + "' = " + value +
                      " is invalid: " + allowed);
  }

  void only_known(const std::set<std::string>& known) const {
    if (!doc.is_object()) {
      throw ConfigError(source + ": " + (prefix.empty() ? std::string("the config") : "'" + prefix.substr(0, prefix.size() - 1) + "'") +
                        " must be a JSON object, got " + std::string(doc.type_name()));
    }
    for (const auto& item : doc.items()) {
      if (known.count(item.key())) continue;
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw ConfigError(source + ": unknown field '" + prefix + item.key() + "' (known fields: " +
                        list + ")");
    }
  }

  int integer(const std::string& field, int lo, int hi, int fallback, bool required) const {
    if (!doc.contains(field)) {
      if (required) fail(field, "(missing)", "required, an integer in " + range(lo, hi));
      return fallback;
    }
    return integer_value(doc.at(field), field, lo, hi);
  }

  int integer_value(const nlohmann::json& v, const std::string& field, int lo, int hi) const {
    if (!v.is_number_integer()) fail(field, v.dump(), "must be an integer in " + range(lo, hi));
    const long long x = v.get<long long>();
    if (x < lo || x > hi) fail(field, v.dump(), "allowed range is " + range(lo, hi));
    return static_cast<int>(x);
  }

  double number(const std::string& field, double lo_exclusive, double hi, double fallback) const {
    if (!doc.contains(field)) return fallback;
    const auto& v = doc.at(field);
    const std::string allowed =
        "must be a number in (" + fmt(lo_exclusive) + ", " + fmt(hi) + "]";
    if (!v.is_number()) fail(field, v.dump(), allowed);
    const double x = v.get<double>();
    if (!(x > lo_exclusive) || x > hi) fail(field, v.dump(), allowed);
    return x;
  }

  bool boolean(const std::string& field, bool fallback) const {
    if (!doc.contains(field)) return fallback;
    const auto& v = doc.at(field);
    if (!v.is_boolean()) fail(field, v.dump(), "must be true or false");
    return v.get<bool>();
  }

  // A string field that must be one of `names`; the error lists them all.
  template <typename Kind>
  Kind choice(const std::string& field, const std::vector<std::pair<Kind, const char*>>& names,
              Kind fallback) const {
    if (!doc.contains(field)) return fallback;
    const auto& v = doc.at(field);
    std::string allowed = "allowed values are ";
    for (std::size_t i = 0; i < names.size(); ++i)
      allowed += (i ? ", \"" : "\"") + std::string(names[i].second) + "\"";
    if (v.is_string())
      for (const auto& [kind, name] : names)
        if (v.get<std::string>() == name) return kind;
    fail(field, v.dump(), allowed);
  }

  FieldReader child(const std::string& field) const {
    return FieldReader{doc.at(field), source, prefix + field + "."};
  }

  static std::string range(int lo, int hi) {
    return std::to_string(lo) + ".." + std::to_string(hi);
  }
  static std::string fmt(double x) {
    std::ostringstream s;
    s << x;
    return s.str();
  }
};

const std::set<std::string> kKnownFields = {"rows",     "cols",   "act_bits", "weight_bits",
                                            "acc_bits", "signed", "dataflow", "clock_period_ns",
                                            "razor",    "islands", "arithmetic", "precision_modes",
                                            "tile",     "buffers",  "reuse",  "reuse_adder_isolation",
                                            "depthwise"};

ArithmeticConfig parse_arithmetic(const FieldReader& in, const ArrayConfig& c) {
  in.only_known({"adder", "multiplier", "psum"});
  ArithmeticConfig a;
  a.adder = in.choice("adder", kAdderNames, a.adder);
  a.multiplier = in.choice("multiplier", kMultiplierNames, a.multiplier);
  a.psum = in.choice("psum", kPsumNames, a.psum);
  if (a.psum == PsumKind::CarrySave) {
    // The sum and carry words travel down weight-stationary columns only.
    // Razor shadows the same bits of both words (rtl_templates/vosa_pe_ws.v).
    const std::string value = in.doc.at("psum").dump();
    if (c.dataflow != Dataflow::WeightStationary)
      in.fail("psum", value, "\"carry_save\" needs dataflow \"weight_stationary\" (an "
                             "output-stationary PE accumulates in place)");
  }
  return a;
}

// precision_modes: a list of operand widths, descending, the first the full
// width max(act_bits, weight_bits); mode b computes each operand at
// min(b, its width) bits (docs/precision.md).
std::vector<int> parse_precision_modes(const FieldReader& in, const ArrayConfig& c) {
  const auto& list = in.doc.at("precision_modes");
  const int full = std::max(c.act_bits, c.weight_bits);
  const std::string value = list.dump();
  const std::string shape = "must be a list of operand widths, sorted descending, each 1.." + std::to_string(full) +
                            " (the operand width), the first " + std::to_string(full) + " (full width), e.g. [" +
                            std::to_string(full) + ", " + std::to_string(std::max(1, full - 2)) + "]";
  if (c.dataflow != Dataflow::WeightStationary)
    in.fail("precision_modes", value, "precision modes are implemented for the weight_stationary dataflow only");
  if (!list.is_array() || list.empty() || list.size() > 16) in.fail("precision_modes", value, shape + ", at most 16 modes");
  std::vector<int> modes;
  for (const auto& v : list) {
    if (!v.is_number_integer()) in.fail("precision_modes", value, shape);
    const long long b = v.get<long long>();
    if (b < 1) in.fail("precision_modes", value, "a mode of " + std::to_string(b) + " bits: each mode keeps 1.." +
                                                     std::to_string(full) + " bits");
    if (b > full)
      in.fail("precision_modes", value, "a mode of " + std::to_string(b) + " bits is more than the operand width " +
                                            std::to_string(full) + " (act_bits " + std::to_string(c.act_bits) +
                                            ", weight_bits " + std::to_string(c.weight_bits) + ")");
    if (!modes.empty() && b >= modes.back())
      in.fail("precision_modes", value, "not sorted descending without repeats: " + std::to_string(b) +
                                            " follows " + std::to_string(modes.back()));
    modes.push_back(static_cast<int>(b));
  }
  if (modes.front() != full)
    in.fail("precision_modes", value, "the first mode must be the full width " + std::to_string(full) +
                                          " (mode 0, the reset value), got " + std::to_string(modes.front()));
  return modes;
}

RazorConfig parse_razor(const FieldReader& in, int acc_bits) {
  in.only_known({"top_k", "bits", "shadow_delay", "policy"});
  RazorConfig r;
  r.enabled = true;
  if (in.doc.contains("top_k") == in.doc.contains("bits")) {
    in.fail("top_k", in.doc.contains("top_k") ? in.doc.at("top_k").dump() : "(missing)",
            "give exactly one of 'razor.top_k' (protect the k most significant bits) or "
            "'razor.bits' (a list of bit indices)");
  }
  if (in.doc.contains("top_k")) {
    const int k = in.integer("top_k", 1, acc_bits, 0, true);
    for (int b = acc_bits - 1; b >= acc_bits - k; --b) r.bits.push_back(b);
  } else {
    const auto& list = in.doc.at("bits");
    if (!list.is_array() || list.empty())
      in.fail("bits", list.dump(), "must be a non-empty list of bit indices in 0.." + std::to_string(acc_bits - 1));
    std::set<int> seen;
    for (const auto& v : list) {
      const int b = in.integer_value(v, "bits", 0, acc_bits - 1);
      if (!seen.insert(b).second) in.fail("bits", list.dump(), "bit " + std::to_string(b) + " is listed twice");
    }
    r.bits.assign(seen.rbegin(), seen.rend());
  }
  r.shadow_delay = in.number("shadow_delay", 0.0, 0.5, 0.25);
  if (in.doc.contains("policy")) {
    const auto& v = in.doc.at("policy");
    const std::string allowed = "allowed values are \"correct\", \"drop\"";
    if (!v.is_string()) in.fail("policy", v.dump(), allowed);
    if (v == "correct") r.policy = RazorPolicy::Correct;
    else if (v == "drop") r.policy = RazorPolicy::Drop;
    else in.fail("policy", v.dump(), allowed);
  }
  return r;
}

IslandConfig parse_islands(const FieldReader& in, int cols) {
  in.only_known({"count", "columns", "levels", "settle_cycles", "voltages", "closed_loop"});
  IslandConfig isl;
  isl.enabled = true;
  if (in.doc.contains("count") == in.doc.contains("columns")) {
    in.fail("count", in.doc.contains("count") ? in.doc.at("count").dump() : "(missing)",
            "give exactly one of 'islands.count' (split the columns evenly) or "
            "'islands.columns' (a list of column lists)");
  }
  if (in.doc.contains("count")) {
    const int n = in.integer("count", 1, cols, 0, true);
    // Contiguous groups; the first cols % n islands get one column more.
    int next = 0;
    for (int i = 0; i < n; ++i) {
      const int size = cols / n + (i < cols % n ? 1 : 0);
      std::vector<int> g;
      for (int c = 0; c < size; ++c) g.push_back(next++);
      isl.groups.push_back(g);
    }
  } else {
    const auto& groups = in.doc.at("columns");
    const std::string allowed = "must be a list of non-empty column lists that together hold every "
                                "column 0.." + std::to_string(cols - 1) + " exactly once";
    if (!groups.is_array() || groups.empty()) in.fail("columns", groups.dump(), allowed);
    std::vector<int> owner(static_cast<std::size_t>(cols), -1);
    for (const auto& g : groups) {
      if (!g.is_array() || g.empty()) in.fail("columns", groups.dump(), allowed);
      std::vector<int> cols_of_island;
      for (const auto& v : g) {
        const int c = in.integer_value(v, "columns", 0, cols - 1);
        if (owner[static_cast<std::size_t>(c)] != -1)
          in.fail("columns", groups.dump(), "column " + std::to_string(c) + " is in two islands");
        owner[static_cast<std::size_t>(c)] = static_cast<int>(isl.groups.size());
        cols_of_island.push_back(c);
      }
      isl.groups.push_back(cols_of_island);
    }
    for (int c = 0; c < cols; ++c)
      if (owner[static_cast<std::size_t>(c)] == -1)
        in.fail("columns", groups.dump(), "column " + std::to_string(c) + " is in no island");
  }
  isl.levels = in.integer("levels", 1, 16, 4, false);
  isl.settle_cycles = in.integer("settle_cycles", 0, 65535, 16, false);
  if (in.doc.contains("voltages")) {
    const auto& v = in.doc.at("voltages");
    const std::string allowed = "must list " + std::to_string(isl.levels) +
                                " ascending voltages in (0, 10] V, one per level";
    if (!v.is_array() || static_cast<int>(v.size()) != isl.levels) in.fail("voltages", v.dump(), allowed);
    for (const auto& x : v) {
      if (!x.is_number() || !(x.get<double>() > 0) || x.get<double>() > 10) in.fail("voltages", v.dump(), allowed);
      if (!isl.voltages.empty() && !(x.get<double>() > isl.voltages.back())) in.fail("voltages", v.dump(), allowed);
      isl.voltages.push_back(x.get<double>());
    }
  }
  if (in.doc.contains("closed_loop")) {
    const FieldReader loop = in.child("closed_loop");
    loop.only_known({"enabled", "window", "raise_threshold", "quiet_windows"});
    isl.closed_loop = loop.boolean("enabled", false);
    isl.window = loop.integer("window", 1, 1 << 24, 1024, false);
    isl.raise_threshold = loop.integer("raise_threshold", 0, 1 << 24, 8, false);
    isl.quiet_windows = loop.integer("quiet_windows", 1, 255, 4, false);
  }
  return isl;
}

// tile: {"rows": R, "cols": C}, dividing the array; only the plain
// weight-stationary PE (the tile's ports are the PE's data ports).
TileConfig parse_tile(const FieldReader& in, const ArrayConfig& c) {
  in.only_known({"rows", "cols"});
  TileConfig t;
  t.rows = in.integer("rows", 1, c.rows, 0, true);
  t.cols = in.integer("cols", 1, c.cols, 0, true);
  if (c.rows % t.rows != 0) in.fail("rows", std::to_string(t.rows), "must divide the array's rows (" + std::to_string(c.rows) + ")");
  if (c.cols % t.cols != 0) in.fail("cols", std::to_string(t.cols), "must divide the array's cols (" + std::to_string(c.cols) + ")");
  const std::string value = in.doc.dump();
  auto parent = [&](const std::string& why) {
    throw ConfigError(in.source + ": field 'tile' = " + value + " is invalid: " + why);
  };
  if (c.dataflow != Dataflow::WeightStationary) parent("tiles are implemented for the weight_stationary dataflow only");
  if (c.has_stall() || c.has_precision_modes() || c.arithmetic.psum == PsumKind::CarrySave)
    parent("tiles are implemented for the plain weight-stationary PE only (no razor, islands, precision_modes or "
           "carry_save partial sums)");
  return t;
}

// buffers: {"weight_depth": D, "act_depth": A}; one weight tile (rows
// words) must fit the weight buffer, so a layer's tile can always be loaded.
BufferConfig parse_buffers(const FieldReader& in, const ArrayConfig& c) {
  in.only_known({"weight_depth", "act_depth"});
  BufferConfig b;
  b.weight_depth = in.integer("weight_depth", 1, 1 << 20, 0, true);
  b.act_depth = in.integer("act_depth", 1, 1 << 20, 0, true);
  if (b.weight_depth < c.rows)
    in.fail("weight_depth", std::to_string(b.weight_depth),
            "too small for one weight tile: the array loads " + std::to_string(c.rows) +
                " weight rows (one word each) per tile, so weight_depth must be at least rows = " +
                std::to_string(c.rows));
  if (c.dataflow != Dataflow::WeightStationary)
    throw ConfigError(in.source + ": field 'buffers' = " + in.doc.dump() +
                      " is invalid: buffers are implemented for the weight_stationary dataflow only");
  return b;
}

// depthwise: {"group_rows": G}, the depthwise mode (docs/rtl.md, "Depthwise
// mode"): a per-column activation lane for every G rows. The lanes feed the
// PEs of the plain weight-stationary array (and carry-save columns, whose
// activation path is the same); the other options' activation paths (tile
// ports, buffers, deltas, stalls that would have to hold the lanes) do not
// know them.
DepthwiseModeConfig parse_depthwise(const FieldReader& in, const ArrayConfig& c) {
  in.only_known({"group_rows"});
  DepthwiseModeConfig d;
  d.group_rows = in.integer("group_rows", 1, c.rows, 0, true);
  if (c.dataflow != Dataflow::WeightStationary || c.has_stall() || c.has_precision_modes() || c.tile.enabled() ||
      c.buffers.enabled() || c.reuse)
    throw ConfigError(in.source + ": field 'depthwise' = " + in.doc.dump() +
                      " is invalid: the depthwise mode is implemented for the weight_stationary dataflow without "
                      "razor, islands, precision_modes, tile, buffers or reuse");
  return d;
}

}  // namespace

ArrayConfig parse_config(const nlohmann::json& doc, const std::string& source) {
  const FieldReader in{doc, source, ""};
  in.only_known(kKnownFields);
  ArrayConfig c;
  c.rows = in.integer("rows", 1, 256, 0, true);
  c.cols = in.integer("cols", 1, 256, 0, true);
  c.act_bits = in.integer("act_bits", 2, 16, 8, false);
  c.weight_bits = in.integer("weight_bits", 2, 16, 8, false);
  c.is_signed = in.boolean("signed", true);
  if (doc.contains("dataflow")) {
    const auto& v = doc.at("dataflow");
    const std::string allowed = "allowed values are \"weight_stationary\", \"output_stationary\"";
    if (!v.is_string()) in.fail("dataflow", v.dump(), allowed);
    const auto s = v.get<std::string>();
    if (s == "weight_stationary") {
      c.dataflow = Dataflow::WeightStationary;
    } else if (s == "output_stationary") {
      c.dataflow = Dataflow::OutputStationary;
    } else {
      in.fail("dataflow", v.dump(), allowed);
    }
  }
  c.clock_period_ns = in.number("clock_period_ns", 0.0, 1e6, 10.0);

  c.reuse = in.boolean("reuse", false);
  c.reuse_adder_isolation = in.boolean("reuse_adder_isolation", true);
  if (doc.contains("reuse_adder_isolation") && !c.reuse)
    in.fail("reuse_adder_isolation", doc.at("reuse_adder_isolation").dump(), "needs \"reuse\": true");
  const int needed = min_acc_bits(c.rows, c.pe_act_bits(), c.weight_bits, c.is_signed);
  c.acc_bits = in.integer("acc_bits", 2, 64, needed, false);
  if (c.acc_bits < needed) {
    in.fail("acc_bits", std::to_string(c.acc_bits),
             "too small: the worst-case sum of " + std::to_string(c.rows) + " products of " +
                 std::to_string(c.pe_act_bits()) + "x" + std::to_string(c.weight_bits) + "-bit " +
                 (c.reuse ? "(activation deltas) " : "") +
                 (c.is_signed ? "signed" : "unsigned") + " operands needs " +
                 std::to_string(needed) + " bits (allowed range is " + std::to_string(needed) +
                 "..64)");
  }

  for (const char* field : {"razor", "islands"}) {
    if (doc.contains(field) && c.dataflow != Dataflow::WeightStationary) {
      in.fail(field, doc.at(field).dump(),
              "Razor bits and voltage islands are implemented for the weight_stationary dataflow "
              "only");
    }
  }
  if (doc.contains("razor")) c.razor = parse_razor(in.child("razor"), c.acc_bits);
  if (doc.contains("islands")) c.islands = parse_islands(in.child("islands"), c.cols);
  if (c.razor.enabled && !c.islands.enabled) {
    // Razor errors are counted per island: without islands the array is one.
    std::vector<int> all;
    for (int col = 0; col < c.cols; ++col) all.push_back(col);
    c.islands.groups = {all};
    c.islands.levels = 1;
  }
  if (doc.contains("arithmetic")) c.arithmetic = parse_arithmetic(in.child("arithmetic"), c);
  if (doc.contains("precision_modes")) c.precision_modes = parse_precision_modes(in, c);
  if (doc.contains("tile")) c.tile = parse_tile(in.child("tile"), c);
  if (doc.contains("buffers")) c.buffers = parse_buffers(in.child("buffers"), c);
  if (c.reuse) {
    // The delta PE is the plain weight-stationary one with operand gating;
    // the other options' registers (Razor shadows, modes, carry words, tile
    // ports) do not know the zero-delta flag.
    const std::string value = doc.at("reuse").dump();
    if (c.dataflow != Dataflow::WeightStationary)
      in.fail("reuse", value, "computation reuse is implemented for the weight_stationary dataflow only");
    if (!c.is_signed)
      in.fail("reuse", value, "computation reuse needs \"signed\": true (an activation delta is signed)");
    if (c.has_stall() || c.has_precision_modes() || c.tile.enabled() || c.buffers.enabled() ||
        c.arithmetic.psum == PsumKind::CarrySave)
      in.fail("reuse", value, "computation reuse is implemented for the plain weight-stationary PE only (no razor, "
                              "islands, precision_modes, tile, buffers or carry_save partial sums)");
  }
  if (doc.contains("depthwise")) c.depthwise = parse_depthwise(in.child("depthwise"), c);
  return c;
}

ArrayConfig load_config(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw ConfigError(path + ": cannot open the config file");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(file);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(path + ": malformed JSON: " + e.what());
  }
  return parse_config(doc, path);
}

nlohmann::json to_json(const ArrayConfig& c) {
  nlohmann::json j{{"rows", c.rows},
                   {"cols", c.cols},
                   {"act_bits", c.act_bits},
                   {"weight_bits", c.weight_bits},
                   {"acc_bits", c.acc_bits},
                   {"signed", c.is_signed},
                   {"dataflow", to_string(c.dataflow)},
                   {"clock_period_ns", c.clock_period_ns}};
  if (c.razor.enabled) {
    j["razor"] = {{"bits", c.razor.bits},
                  {"shadow_delay", c.razor.shadow_delay},
                  {"policy", to_string(c.razor.policy)}};
  }
  if (c.islands.enabled) {
    j["islands"] = {{"columns", c.islands.groups},
                    {"levels", c.islands.levels},
                    {"settle_cycles", c.islands.settle_cycles},
                    {"closed_loop",
                     {{"enabled", c.islands.closed_loop},
                      {"window", c.islands.window},
                      {"raise_threshold", c.islands.raise_threshold},
                      {"quiet_windows", c.islands.quiet_windows}}}};
    if (!c.islands.voltages.empty()) j["islands"]["voltages"] = c.islands.voltages;
  }
  // Only when not the default, so configs written before the option keep their hash.
  if (!c.arithmetic.is_default()) {
    j["arithmetic"] = {{"adder", to_string(c.arithmetic.adder)},
                       {"multiplier", to_string(c.arithmetic.multiplier)},
                       {"psum", to_string(c.arithmetic.psum)}};
  }
  if (c.has_precision_modes()) j["precision_modes"] = c.precision_modes;
  if (c.tile.enabled()) j["tile"] = {{"rows", c.tile.rows}, {"cols", c.tile.cols}};
  if (c.buffers.enabled())
    j["buffers"] = {{"weight_depth", c.buffers.weight_depth}, {"act_depth", c.buffers.act_depth}};
  if (c.reuse) j["reuse"] = true;
  if (c.reuse && !c.reuse_adder_isolation) j["reuse_adder_isolation"] = false;
  if (c.depthwise.enabled()) j["depthwise"] = {{"group_rows", c.depthwise.group_rows}};
  return j;
}

std::string config_hash(const ArrayConfig& config) {
  return fnv1a64_hex(to_json(config).dump());
}

}  // namespace vosa
