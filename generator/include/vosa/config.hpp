// Array configuration: the JSON schema of docs/config.md, parsed and validated.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace vosa {

enum class Dataflow { WeightStationary, OutputStationary };

const char* to_string(Dataflow dataflow);

enum class RazorPolicy { Correct, Drop };

const char* to_string(RazorPolicy policy);

// PE arithmetic (docs/arith.md). The defaults are the behavioural `+` and
// `*` that synthesis maps as it likes, with carry-propagate partial sums.
enum class AdderKind { Behavioral, Ripple, KoggeStone, BrentKung, Sklansky, CarrySelect };
enum class MultiplierKind { Behavioral, BoothWallace };
enum class PsumKind { CarryPropagate, CarrySave };

const char* to_string(AdderKind kind);
const char* to_string(MultiplierKind kind);
const char* to_string(PsumKind kind);

struct ArithmeticConfig {
  AdderKind adder = AdderKind::Behavioral;            // every carry-propagate adder of the PE
  MultiplierKind multiplier = MultiplierKind::Behavioral;
  PsumKind psum = PsumKind::CarryPropagate;           // carry_save: weight-stationary only

  bool is_default() const {
    return adder == AdderKind::Behavioral && multiplier == MultiplierKind::Behavioral &&
           psum == PsumKind::CarryPropagate;
  }
};

// Razor double-sampling on chosen bits of every PE's output register.
struct RazorConfig {
  bool enabled = false;
  std::vector<int> bits;      // protected bit indices, descending
  double shadow_delay = 0.25;  // delay of the shadow clock, as a fraction of the period
  RazorPolicy policy = RazorPolicy::Correct;
};

// Voltage islands: groups of columns with their own supply level.
struct IslandConfig {
  bool enabled = false;
  std::vector<std::vector<int>> groups;  // columns of each island
  int levels = 4;                        // K supply levels; K-1 is the highest voltage
  int settle_cycles = 16;                // cycles to wait after the regulator acknowledges
  std::vector<double> voltages;          // optional: the voltage of each level, ascending
  bool closed_loop = false;              // reset value of the closed-loop enable
  int window = 1024;                     // cycles per observation window
  int raise_threshold = 8;               // error cycles in a window above which the level rises
  int quiet_windows = 4;                 // error-free windows before the level falls
};

// Tiles (docs/rtl.md, "Tiles"): the array as a grid of identical
// rows x cols blocks of PEs (vosa_tile), so Verilator (--hierarchical) and
// Yosys build one tile instead of every PE. 0 x 0 = no tiles (flat array).
struct TileConfig {
  int rows = 0;
  int cols = 0;
  bool enabled() const { return rows > 0; }
};

// Weight and activation buffers in front of the array (docs/sram.md, "RTL
// buffers"): behavioural single-port SRAMs (vosa_sram_sp) of weight_depth
// words of one weight row (cols x weight_bits) and act_depth words of one
// input vector (rows x act_bits), in their own voltage domain. 0 = none.
struct BufferConfig {
  int weight_depth = 0;
  int act_depth = 0;
  bool enabled() const { return weight_depth > 0; }
};

// Depthwise mode (docs/rtl.md, "Depthwise mode"): a run-time mode in which
// PE (r, c) takes its activation from lane r / group_rows of column c
// instead of its left neighbour, so each column computes its own channel.
// 0 = no mode (the array and its golden files as without it).
struct DepthwiseModeConfig {
  int group_rows = 0;
  bool enabled() const { return group_rows > 0; }
  // Lanes per column: one per group of group_rows rows (the last may be short).
  int lanes(int rows) const { return enabled() ? (rows + group_rows - 1) / group_rows : 0; }
};

struct ArrayConfig {
  int rows = 0;
  int cols = 0;
  int act_bits = 8;
  int weight_bits = 8;
  int acc_bits = 0;  // after validation: the given value or the minimum
  bool is_signed = true;
  Dataflow dataflow = Dataflow::WeightStationary;
  double clock_period_ns = 10.0;
  RazorConfig razor;
  IslandConfig islands;
  ArithmeticConfig arithmetic;
  TileConfig tile;
  BufferConfig buffers;
  DepthwiseModeConfig depthwise;
  // Precision modes (docs/precision.md): operand widths the PEs can compute
  // at, selected at run time by a MODE register; empty = no modes (full width
  // only). Validated: descending, each 1..max(act_bits, weight_bits), the
  // first the full width.
  std::vector<int> precision_modes;

  bool has_precision_modes() const { return !precision_modes.empty(); }
  // Computation reuse (docs/reuse.md, "Hardware"): the array multiplies the
  // difference of each activation from the previous inference's (act_bits + 1
  // bits) and a PE whose difference is zero holds its multiplier's and
  // adder's operands and passes the partial sum on.
  bool reuse = false;
  // With reuse: force the adder's partial-sum operand to zero while a MAC is
  // skipped (operand isolation); false leaves the adder on psum_i.
  bool reuse_adder_isolation = true;
  // Width of the activation operand inside the array: the delta with reuse.
  int pe_act_bits() const { return reuse ? act_bits + 1 : act_bits; }
  // MODE registers: one per island (the array is one island without islands).
  int mode_registers() const { return has_controller() ? static_cast<int>(islands.groups.size()) : 1; }

  // Razor and islands both stall the array (correction, voltage changes).
  bool has_stall() const { return razor.enabled || islands.enabled; }
  // The controller counts errors and sequences levels; Razor alone gets one island.
  bool has_controller() const { return has_stall(); }
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
