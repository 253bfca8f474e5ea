// Liberty (.lib) reader: the generic group/attribute tree with line numbers,
// plus a typed view of the parts vosa uses (cells, pins, pin functions,
// flip-flops, timing arcs with their lookup tables).
//
// Reads plain and gzip-compressed files. Every error names the file and line.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa::liberty {

// Any problem reading or interpreting a Liberty file; what() names file:line.
class LibertyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------- raw tree

// `name : value ;` (simple, one value) or `name (v1, v2, ...) ;` (complex).
// Values keep their text with surrounding quotes removed.
struct Attribute {
  std::string name;
  std::vector<std::string> values;
  bool is_complex = false;
  int line = 0;

  const std::string& value() const;  // the single value of a simple attribute
  double number(const std::string& file = "") const;  // value() as a number
};

// `type (name, ...) { attributes; groups }`
struct Group {
  std::string type;
  std::vector<std::string> names;  // usually zero or one
  int line = 0;
  std::vector<Attribute> attributes;
  std::vector<Group> groups;

  const std::string& name() const;  // first name, or "" when unnamed
  const Attribute* find_attribute(const std::string& attr_name) const;
  // Value of a simple attribute, or nullopt when absent.
  std::optional<std::string> attribute_value(const std::string& attr_name) const;
  std::vector<const Group*> groups_of_type(const std::string& group_type) const;
  const Group* find_group(const std::string& group_type, const std::string& group_name) const;
};

// Parse Liberty text. `source` names the text in errors (usually the path).
Group parse_liberty(const std::string& text, const std::string& source);
// Read a file (gzip-compressed when it starts with the gzip magic). The
// returned group is the top-level `library` group.
Group read_liberty_file(const std::string& path);
// Whole file contents, transparently gunzipped; errors name the path.
std::string read_maybe_gzipped(const std::string& path);

// ----------------------------------------------------- boolean functions

// A pin `function`, `next_state`, `clocked_on`, ... expression. Operators
// (OpenSTA's precedence, loosest first): `|` `+` OR; `&` `*` and juxtaposition
// AND; `^` XOR; prefix `!` and postfix `'` NOT. Constants 0 and 1.
class BoolExpr {
 public:
  enum class Op { kConst, kVar, kNot, kAnd, kOr, kXor };

  static BoolExpr parse(const std::string& text);  // throws LibertyError
  Op op() const { return op_; }
  // Distinct variable names in order of first appearance.
  std::vector<std::string> variables() const;
  // Evaluate with variable values given in the order of `order` (bit i of
  // `values` is variable order[i]). Unknown variables throw.
  bool evaluate(const std::vector<std::string>& order, std::uint64_t values) const;
  // Truth table over `order` (at most 6 variables): bit k is the value when
  // variable i has value (k >> i) & 1.
  std::uint64_t truth_table(const std::vector<std::string>& order) const;
  std::string to_string() const;
  // The tree, for analyses that need its shape (kVar: name(); kConst: constant()).
  const std::string& name() const { return name_; }
  bool constant() const { return constant_; }
  const std::vector<BoolExpr>& operands() const { return operands_; }

 private:
  Op op_ = Op::kConst;
  bool constant_ = false;
  std::string name_;
  std::vector<BoolExpr> operands_;
  friend class BoolExprParser;
};

// --------------------------------------------------------- typed library

// A lookup table, e.g. cell_rise: values[i1][i2] over index_1 x index_2
// (index_2 empty for 1-D tables; both empty for a scalar).
struct Table {
  std::string template_name;
  std::string variable_1, variable_2;  // from the template: input_net_transition, total_output_net_capacitance, ...
  std::vector<double> index_1, index_2;
  std::vector<std::vector<double>> values;
  int line = 0;
  // Bilinear inter/extrapolation, as STA tools do; x1 for index_1, x2 for index_2.
  double lookup(double x1, double x2 = 0.0) const;
  // Lookup by meaning: the template's variables say which index is the input
  // transition and which the output load (power and delay tables differ by library).
  double lookup_slew_load(double slew, double load) const;
};

struct TimingArc {
  std::string related_pin;
  std::string timing_type = "combinational";  // rising_edge, setup_rising, ...
  std::string timing_sense;                   // positive_unate, negative_unate, non_unate, ""
  std::string sdf_cond;                       // SDF COND expression of a state-dependent arc, "" if none
  std::map<std::string, Table> tables;        // cell_rise, rise_transition, rise_constraint, ...
  int line = 0;
};

// internal_power of a pin: energy per transition of this pin (rise_power when
// it rises, fall_power when it falls), caused by related_pin (empty: the pin's
// own input transitions), counted when `when` holds (empty: always).
struct InternalPower {
  std::string related_pin, when;
  std::optional<Table> rise_power, fall_power;
  bool one_table = false;  // a single `power` table for both edges
  int line = 0;
};

struct Pin {
  std::string name;
  std::string direction;  // input, output, inout, internal
  std::string function;   // "" when none
  double capacitance = 0.0;
  double rise_capacitance = 0.0, fall_capacitance = 0.0;  // = capacitance when the library gives none
  bool is_clock = false;
  std::vector<TimingArc> timing;
  std::vector<InternalPower> internal_power;
  int line = 0;
};

// ff (IQ, IQN) { next_state; clocked_on; clear; preset } or latch(...) {enable; data_in}
struct StateElement {
  bool is_latch = false;
  std::string state_var, state_var_n;  // IQ, IQN
  std::string next_state;              // ff: next_state; latch: data_in
  std::string clocked_on;              // ff: clocked_on; latch: enable
  std::string clear, preset;
};

struct Cell {
  std::string name;
  double area = 0.0;
  std::vector<Pin> pins;
  std::optional<StateElement> state;  // set for flip-flops and latches
  bool dont_use = false;
  std::optional<double> cell_leakage_power;                  // library leakage units
  std::vector<std::pair<std::string, double>> leakage_power;  // state-dependent: (when, value)
  int line = 0;

  const Pin* find_pin(const std::string& pin_name) const;
  bool is_sequential() const { return state.has_value(); }
};

struct Library {
  std::string path;
  std::string name;
  double time_unit_ns = 1.0;  // 1 library time unit in ns
  double nom_voltage = 0.0;
  double nom_temperature = 0.0;
  double nom_process = 0.0;
  double capacitance_unit_pf = 1.0;  // capacitive_load_unit in pF
  double leakage_unit_w = 1e-9;      // leakage_power_unit in W
  double voltage_unit_v = 1.0;       // voltage_unit in V
  // Internal power table unit (voltage_unit^2 x capacitive_load_unit), in pJ.
  double energy_unit_pj() const { return voltage_unit_v * voltage_unit_v * capacitance_unit_pf; }
  double operating_voltage = 0.0;    // default_operating_conditions' voltage (else nom_voltage)
  std::map<std::string, Cell> cells;
  Group root;  // the full tree, for attributes the typed view leaves out

  // Throws LibertyError naming the cell and the library file when absent.
  const Cell& cell(const std::string& cell_name) const;
  const Cell* find_cell(const std::string& cell_name) const;
};

Library build_library(Group root, const std::string& path);
Library load_library(const std::string& path);  // read_liberty_file + build_library

}  // namespace vosa::liberty
