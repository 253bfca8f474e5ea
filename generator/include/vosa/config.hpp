// Array configuration: the JSON schema of docs/config.md, parsed and validated.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace vosa {

enum class Dataflow { WeightStationary, OutputStationary };

const char* to_string(Dataflow dataflow);

struct ArrayConfig {
  int rows = 0;
  int cols = 0;
  int act_bits = 8;
  int weight_bits = 8;
  int acc_bits = 0;  // after validation: the given value or the minimum
  bool is_signed = true;
  Dataflow dataflow = Dataflow::WeightStationary;
  double clock_period_ns = 10.0;
};

// A config that violates the schema. what() names the source, the field,
// the offending value and what is allowed.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Smallest accumulator width that holds every sum of `terms` products of an
// act_bits x weight_bits multiply without overflow.
int min_acc_bits(int terms, int act_bits, int weight_bits, bool is_signed);

// Parses and validates; `source` names the file in error messages.
ArrayConfig parse_config(const nlohmann::json& doc, const std::string& source);

// Reads a JSON file and parses it; a missing or malformed file is a ConfigError.
ArrayConfig load_config(const std::string& path);

// Canonical JSON of a validated config (every field, defaults filled in).
nlohmann::json to_json(const ArrayConfig& config);

// Stable 16-hex-digit hash of the canonical JSON.
std::string config_hash(const ArrayConfig& config);

}  // namespace vosa
