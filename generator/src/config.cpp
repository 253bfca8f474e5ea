#include "vosa/config.hpp"

#include "vosa/hash.hpp"

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace vosa {

const char* to_string(Dataflow dataflow) {
  return dataflow == Dataflow::WeightStationary ? "weight_stationary" : "output_stationary";
}

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

struct FieldReader {
  const nlohmann::json& doc;
  const std::string& source;

  [[noreturn]] void fail(const std::string& field, const std::string& value,
                         const std::string& allowed) const {
    throw ConfigError(source + ": field '" + field + "' = " + value + " is invalid: " + allowed);
  }

  int integer(const std::string& field, int lo, int hi, int fallback, bool required) const {
    if (!doc.contains(field)) {
      if (required) fail(field, "(missing)", "required, an integer in " + range(lo, hi));
      return fallback;
    }
    const auto& v = doc.at(field);
    if (!v.is_number_integer()) fail(field, v.dump(), "must be an integer in " + range(lo, hi));
    const long long x = v.get<long long>();
    if (x < lo || x > hi) fail(field, v.dump(), "allowed range is " + range(lo, hi));
    return static_cast<int>(x);
  }

  static std::string range(int lo, int hi) {
    return std::to_string(lo) + ".." + std::to_string(hi);
  }
};

const std::set<std::string> kKnownFields = {"rows",   "cols",     "act_bits",       "weight_bits",
                                            "acc_bits", "signed", "dataflow", "clock_period_ns"};

}  // namespace

ArrayConfig parse_config(const nlohmann::json& doc, const std::string& source) {
  if (!doc.is_object()) {
    throw ConfigError(source + ": the config must be a JSON object, got " +
                      std::string(doc.type_name()));
  }
  for (const auto& item : doc.items()) {
    if (!kKnownFields.count(item.key())) {
      std::string known;
      for (const auto& k : kKnownFields) known += (known.empty() ? "" : ", ") + k;
      throw ConfigError(source + ": unknown field '" + item.key() + "' (known fields: " + known +
                        ")");
    }
  }
  const FieldReader in{doc, source};
  ArrayConfig c;
  c.rows = in.integer("rows", 1, 256, 0, true);
  c.cols = in.integer("cols", 1, 256, 0, true);
  c.act_bits = in.integer("act_bits", 2, 16, 8, false);
  c.weight_bits = in.integer("weight_bits", 2, 16, 8, false);

  if (doc.contains("signed")) {
    if (!doc.at("signed").is_boolean())
      in.fail("signed", doc.at("signed").dump(), "must be true or false");
    c.is_signed = doc.at("signed").get<bool>();
  }
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
  if (doc.contains("clock_period_ns")) {
    const auto& v = doc.at("clock_period_ns");
    if (!v.is_number() || !(v.get<double>() > 0.0) || v.get<double>() > 1e6)
      in.fail("clock_period_ns", v.dump(), "must be a number in (0, 1e6]");
    c.clock_period_ns = v.get<double>();
  }

  const int needed = min_acc_bits(c.rows, c.act_bits, c.weight_bits, c.is_signed);
  c.acc_bits = in.integer("acc_bits", 2, 64, needed, false);
  if (c.acc_bits < needed) {
    in.fail("acc_bits", std::to_string(c.acc_bits),
             "too small: the worst-case sum of " + std::to_string(c.rows) + " products of " +
                 std::to_string(c.act_bits) + "x" + std::to_string(c.weight_bits) + "-bit " +
                 (c.is_signed ? "signed" : "unsigned") + " operands needs " +
                 std::to_string(needed) + " bits (allowed range is " + std::to_string(needed) +
                 "..64)");
  }
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
  return nlohmann::json{{"rows", c.rows},
                        {"cols", c.cols},
                        {"act_bits", c.act_bits},
                        {"weight_bits", c.weight_bits},
                        {"acc_bits", c.acc_bits},
                        {"signed", c.is_signed},
                        {"dataflow", to_string(c.dataflow)},
                        {"clock_period_ns", c.clock_period_ns}};
}

std::string config_hash(const ArrayConfig& config) {
  return fnv1a64_hex(to_json(config).dump());
}

}  // namespace vosa
