// ngspice characterization of standard cells (see charlib.hpp).
//
// One batch ngspice deck per cell and corner holds every measurement of the
// cell (the models load once per deck, about 2 s for sky130): each probe is
// an `alter` of the input sources and load capacitors, a transient run and a
// few `meas` lines whose results are echoed as "R <probe> ..." lines. Probes
// whose output did not settle inside their window run again with a longer
// one; a cell whose output still never crosses its threshold stops working
// at that corner, a named error. Cells run on `workers` ngspice processes at
// once; results are cached per cell under the hash of the deck.
#include "vosa/charlib.hpp"
#include "vosa/ngspice_run.hpp"

#include "vosa/hash.hpp"
#include "vosa/liberty.hpp"
#include "vosa/netlist.hpp"
#include "vosa/voltage_model.hpp"
#include "vosa/output_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/file.h>
#include <unistd.h>

namespace vosa::spice {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kCacheVersion = "charlib-2";

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ------------------------------------------------------------ PDK inputs

// Every .subckt of the PDK's cell netlist file, by lower-case name.
struct SubcktLibrary {
  fs::path file;
  std::map<std::string, std::string> text;            // the .subckt ... .ends lines
  std::map<std::string, std::vector<std::string>> ports;
};

const SubcktLibrary& cell_netlists(const pdk::PdkConfig& pdk) {
  static std::mutex mutex;
  static std::map<std::string, SubcktLibrary> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  const fs::path file = pdk::find_first_existing(pdk.spice->cell_netlists, "cell netlist of PDK " + pdk.name +
                                                                              " (spice.cell_netlists in " +
                                                                              pdk.path.string() + ")");
  auto it = loaded.find(file.string());
  if (it != loaded.end()) return it->second;
  SubcktLibrary lib;
  lib.file = file;
  std::istringstream in(pdk::read_text_file(file));
  std::string line, current, body;
  while (std::getline(in, line)) {
    const std::string l = lower(line);
    if (l.rfind(".subckt", 0) == 0) {
      std::istringstream words(line);
      std::string w, name;
      words >> w >> name;
      current = lower(name);
      body.clear();
      std::vector<std::string> ports;
      while (words >> w) ports.push_back(w);
      lib.ports[current] = ports;
    }
    if (!current.empty()) body += line + "\n";
    if (!current.empty() && l.rfind(".ends", 0) == 0) {
      lib.text[current] = body;
      current.clear();
    }
  }
  return loaded.emplace(file.string(), std::move(lib)).first->second;
}

// The netlist length unit in um: `.option scale=1.0u` of the deck options (1 m otherwise).
double netlist_scale_um(const pdk::SpiceConfig& sp) {
  static const std::regex scale(R"(scale\s*=\s*([0-9.eE+-]+)([a-zA-Z]*))", std::regex::icase);
  for (const auto& o : sp.deck_options) {
    std::smatch m;
    if (std::regex_search(o, m, scale)) {
      const std::string u = lower(m[2].str());
      const double f = u == "u" ? 1.0 : u == "n" ? 1e-3 : u == "m" ? 1e3 : u.empty() ? 1e6 : 0.0;
      if (f == 0.0) throw CharlibError("cannot read the scale in deck option '" + o + "'");
      return std::stod(m[1].str()) * f;
    }
  }
  return 1e6;
}

// The cell's .subckt with estimated diffusion geometry on every device line
// (X or M) that has a w= and no ad=: layout-free junction areas, in the
// netlist's own units (w= as written; areas scale with .option scale^2 like
// the netlist's w x l).
std::string with_diffusion_geometry(const std::string& subckt, double length_um, double scale_um) {
  if (length_um <= 0) return subckt;
  static const std::regex width(R"(\bw\s*=\s*([0-9.eE+-]+)([a-zA-Z]*))", std::regex::icase);
  std::istringstream in(subckt);
  std::ostringstream out;
  std::string line;
  while (std::getline(in, line)) {
    const std::string l = lower(line);
    std::smatch m;
    const char first = l.empty() ? ' ' : l[0];
    if ((first == 'x' || first == 'm') && l.find(" ad=") == std::string::npos && l.find(" ad =") == std::string::npos &&
        std::regex_search(line, m, width)) {
      static const std::map<std::string, double> suffix{{"", 1.0}, {"u", 1e-6}, {"n", 1e-9}, {"m", 1e-3}, {"p", 1e-12}};
      auto it = suffix.find(lower(m[2].str()));
      if (it == suffix.end()) throw CharlibError("cannot read the width in netlist line '" + line + "'");
      const double w = std::stod(m[1].str()) * it->second;  // netlist units (x scale = metres)
      const double len = length_um / scale_um;  // the diffusion length in netlist units
      out << line << " ad=" << num(w * len) << " as=" << num(w * len) << " pd=" << num(2 * (w + len))
          << " ps=" << num(2 * (w + len)) << "\n";
    } else {
      out << line << "\n";
    }
  }
  return out.str();
}

// ------------------------------------------------------ liberty conventions

struct Conventions {
  double in_rise = 0.5, in_fall = 0.5, out_rise = 0.5, out_fall = 0.5;  // fractions of the supply
  double slew_lo_rise = 0.2, slew_hi_rise = 0.8, slew_lo_fall = 0.2, slew_hi_fall = 0.8;
  double slew_derate = 1.0;
  double time_ns = 1.0;   // one library time unit in ns
  double cap_pf = 1.0;    // one library capacitance unit in pF
  double power_nw = 1.0;  // one library leakage unit in nW
};

double unit_scale(const std::string& text, const std::map<std::string, double>& units, const std::string& what,
                  const std::string& path) {
  static const std::regex re(R"(^\s*([0-9.eE+-]+)\s*([a-zA-Z]+)\s*$)");
  std::smatch m;
  if (std::regex_match(text, m, re)) {
    auto it = units.find(lower(m[2].str()));
    if (it != units.end()) return std::stod(m[1].str()) * it->second;
  }
  throw CharlibError(path + ": cannot read " + what + " '" + text + "'");
}

Conventions read_conventions(const liberty::Library& lib) {
  Conventions c;
  const liberty::Group& root = lib.root;
  auto pct = [&](const char* name, double fallback) {
    const liberty::Attribute* a = root.find_attribute(name);
    return a ? a->number(lib.path) / 100.0 : fallback;
  };
  c.in_rise = pct("input_threshold_pct_rise", 0.5);
  c.in_fall = pct("input_threshold_pct_fall", 0.5);
  c.out_rise = pct("output_threshold_pct_rise", 0.5);
  c.out_fall = pct("output_threshold_pct_fall", 0.5);
  c.slew_lo_rise = pct("slew_lower_threshold_pct_rise", 0.2);
  c.slew_hi_rise = pct("slew_upper_threshold_pct_rise", 0.8);
  c.slew_lo_fall = pct("slew_lower_threshold_pct_fall", 0.2);
  c.slew_hi_fall = pct("slew_upper_threshold_pct_fall", 0.8);
  if (const liberty::Attribute* a = root.find_attribute("slew_derate_from_library")) c.slew_derate = a->number(lib.path);
  c.time_ns = lib.time_unit_ns;
  if (const liberty::Attribute* a = root.find_attribute("capacitive_load_unit"); a && a->values.size() == 2)
    c.cap_pf = std::stod(a->values[0]) * unit_scale("1" + a->values[1], {{"ff", 1e-3}, {"pf", 1.0}, {"nf", 1e3}},
                                                    "capacitive_load_unit", lib.path);
  if (auto v = root.attribute_value("leakage_power_unit"))
    c.power_nw = unit_scale(*v, {{"pw", 1e-3}, {"nw", 1.0}, {"uw", 1e3}, {"mw", 1e6}}, "leakage_power_unit", lib.path);
  return c;
}

// ------------------------------------------------------------- the plan

// One transient run (or an operating point, for leakage).
struct Probe {
  // kSetup / kHold: one bisection of the data-to-clock offset (below).
  enum class Kind { kCombinational, kClockToQ, kLeakage, kSetup, kHold } kind = Kind::kCombinational;
  std::string related, output;              // switching input (clock for flops) and measured output
  std::map<std::string, int> inputs;        // every other input's constant value
  bool positive = true;                     // output follows the related pin (flops: Q, not QN)
  std::string data_pin;                     // flops: D
  double slew = 0.0, load = 0.0;            // library units
  double window_ns = 1.0;                   // per input edge
  std::string key;                          // "<pin>/<arc>" of the tables it fills
  size_t row = 0, col = 0;
  bool capacitance = false;                 // also integrate the related pin's charge
  int leakage_line = 0;                     // kLeakage: the reference group's line
  // kSetup / kHold: D's edge (rise_constraint: D rises), its slew (`slew`
  // is the clock's) and the clock-to-Q pushout that counts as a failure.
  bool d_rise = true;
  double d_slew = 0.0;
  double pushout = 0.1;
  std::string constraint;  // rise_constraint or fall_constraint
  double settle_ns = 0.0;  // expected clock-to-Q (sets the time step)
};

bool is_constraint(const Probe& p) { return p.kind == Probe::Kind::kSetup || p.kind == Probe::Kind::kHold; }

constexpr double kMissing = -1e30;
// Time steps per transient run at most (ngspice's maximum step is
// tstop/kStepsPerRun): the run time goes with it, and linear interpolation
// between steps sets the measurement resolution.
constexpr double kStepsPerRun = 300;
// A combinational run counts only when the output has come within this
// fraction of the supply of its rail before the related pin switches back
// (and at the end): else the second edge starts from a half-swung output
// and measures garbage (xor2_1 at ss_n40C_1v40: output at 80 % when the
// input fell, fall transition 0.37 ns against 0.12 ns at 1.28 V).
constexpr double kSettleFraction = 0.1;
// Bisection steps per setup/hold value: the bracket (1.5 windows for setup,
// one for hold) / 2^12, 0.2-3 ps at tt 1.8 V.
constexpr int kConstraintSteps = 12;
// Clock-to-Q runs: D changes this fraction of a window into the clock's high
// phase (window w, high phase w).
constexpr double kFlopDataChange = 0.85;

struct ProbeResult {
  double rise_delay = kMissing, fall_delay = kMissing, rise_slew = kMissing, fall_slew = kMissing;  // ns
  double charge_rise = 0, charge_fall = 0;                                  // coulomb
  // Supply charge (coulomb, delivered) over the related pin's rising-edge
  // window (flip-flops: the edge that makes Q follow D=1) and falling one.
  double supply_a = 0, supply_b = 0;
  double leakage_w = 0;
  // Combinational: the output voltage (V) just before the related pin's
  // second ramp and at the end of the run (negative: not measured).
  double out_mid = -1, out_end = -1;
  // kSetup / kHold: clock-to-Q with D far from the edge, and the bisection's
  // final bracket [lo, hi] (s): hi is the smallest passing offset.
  double constraint_ref = kMissing, constraint_lo = 0, constraint_hi = 0;
};

std::vector<size_t> reduced_axis(size_t n, int points) {
  std::vector<size_t> out;
  if (points <= 0 || static_cast<size_t>(points) >= n) {
    for (size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  for (int k = 0; k < points; ++k)
    out.push_back(points == 1 ? 0 : static_cast<size_t>(std::lround(double(k) * double(n - 1) / (points - 1))));
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool is_measured_table(const std::string& type) {
  return type == "cell_rise" || type == "cell_fall" || type == "rise_transition" || type == "fall_transition";
}

struct CellPlan {
  std::string cell;
  std::vector<std::string> inputs, outputs;
  std::vector<Probe> probes;
  std::map<std::string, std::vector<double>> axes_1, axes_2;  // per "<pin>/<arc>" key
};

// Side-input vectors simulated per unate arc at most (the worst is kept).
constexpr size_t kMaxSideVectors = 4;

// Values of `others` (bit i = others[i]) under which `expr` depends on `pin`,
// with the direction of that dependence.
struct Sensitization {
  std::map<std::string, int> values;
  bool positive = true;
};
std::vector<Sensitization> sensitize(const liberty::BoolExpr& expr, const std::string& pin,
                                     const std::vector<std::string>& others) {
  std::vector<std::string> order = others;
  order.push_back(pin);
  std::vector<Sensitization> out;
  for (std::uint64_t v = 0; v < (1ull << others.size()); ++v) {
    const bool low = expr.evaluate(order, v), high = expr.evaluate(order, v | (1ull << others.size()));
    if (low == high) continue;
    Sensitization s;
    for (size_t i = 0; i < others.size(); ++i) s.values[others[i]] = static_cast<int>((v >> i) & 1);
    s.positive = high;
    out.push_back(s);
  }
  return out;
}

// A rough slowdown from the reference voltage, to size the first window
// (too short only costs a rerun; the window never sets a measured value).
double slowdown_guess(double v, double v_ref) {
  const double vth = 0.55, alpha = 1.5;
  if (v <= vth + 0.05) return 100.0;
  return std::max(1.0, voltage::alpha_power_shape(v, vth, alpha) / voltage::alpha_power_shape(v_ref, vth, alpha));
}

// Full-swing ramp time (ns) of a liberty slew value.
double ramp_ns(double slew, const Conventions& c) {
  return slew * c.time_ns * c.slew_derate / (c.slew_hi_rise - c.slew_lo_rise);
}

// Setup and hold of the flip-flop's data pin against its clock: one probe
// per (clock slew, D slew) point of the reference's setup_rising /
// hold_rising tables and D edge, watching the first output that follows
// the state, at the lightest load. Constraints of other pins (scan,
// recovery/removal of resets) stay scaled.
void plan_constraints(const liberty::Library& ref, const liberty::Cell& cell, const std::string& clock,
                      const std::string& data, const std::map<std::string, int>& flop_inputs, const Conventions& conv,
                      double slow, int grid_points, CellPlan& plan) {
  const liberty::Pin* q = nullptr;
  const liberty::TimingArc* ctoq = nullptr;
  for (const auto& pin : cell.pins)
    for (const auto& arc : pin.timing)
      if (!q && pin.direction == "output" && arc.timing_type == "rising_edge" && arc.related_pin == clock &&
          (pin.function == cell.state->state_var || pin.function == cell.state->state_var_n))
        q = &pin, ctoq = &arc;
  const liberty::Pin* d = cell.find_pin(data);
  if (!q || !d) return;
  // The pushout that counts as a failure: the reference's own criterion
  // (violation_delay_degrade_pct; sky130: 10 %), else 10 %.
  const liberty::Group* pin_group = nullptr;
  for (const auto* g : ref.root.groups_of_type("cell"))
    if (g->name() == cell.name) pin_group = g->find_group("pin", data);
  const auto timing_groups = pin_group ? pin_group->groups_of_type("timing") : std::vector<const liberty::Group*>{};
  for (size_t a = 0; a < d->timing.size(); ++a) {
    const liberty::TimingArc& arc = d->timing[a];
    const bool setup = arc.timing_type == "setup_rising", hold = arc.timing_type == "hold_rising";
    if ((!setup && !hold) || arc.related_pin != clock) continue;
    double pushout = 0.1;
    if (a < timing_groups.size())
      if (const auto* attr = timing_groups[a]->find_attribute("violation_delay_degrade_pct"))
        pushout = attr->number(ref.path) / 100.0;
    const std::string key = data + "/" + std::to_string(a);
    for (const char* type : {"rise_constraint", "fall_constraint"}) {
      auto t = arc.tables.find(type);
      if (t == arc.tables.end()) continue;
      const liberty::Table& grid = t->second;  // index_1: clock slew, index_2: D slew
      std::vector<double> ax1, ax2;
      for (size_t r : reduced_axis(grid.index_1.size(), grid_points)) ax1.push_back(grid.index_1.at(r));
      for (size_t c : reduced_axis(std::max<size_t>(1, grid.index_2.size()), grid_points))
        ax2.push_back(grid.index_2.empty() ? grid.index_1.front() : grid.index_2.at(c));
      plan.axes_1[key] = ax1;
      plan.axes_2[key] = ax2;
      for (size_t r = 0; r < ax1.size(); ++r)
        for (size_t c = 0; c < ax2.size(); ++c) {
          Probe p;
          p.kind = setup ? Probe::Kind::kSetup : Probe::Kind::kHold;
          p.related = clock;
          p.data_pin = data;
          p.output = q->name;
          p.inputs = flop_inputs;
          p.positive = q->function == cell.state->state_var;
          p.slew = ax1[r];
          p.d_slew = ax2[c];
          p.load = ctoq->tables.begin()->second.index_2.empty() ? 0.0 : ctoq->tables.begin()->second.index_2.front();
          p.d_rise = std::string(type) == "rise_constraint";
          p.constraint = type;
          p.pushout = pushout;
          p.key = key;
          p.row = r;
          p.col = c;
          double settle = 0.0;
          for (const auto& [tt, table] : ctoq->tables)
            if (is_measured_table(tt)) settle = std::max(settle, table.lookup(p.slew, p.load));
          // Room for both ramps beside the clock-to-Q time (the hold
          // pulse must fit between the two edges, see make_deck).
          p.settle_ns = settle * conv.time_ns * slow;
          p.window_ns = 2.0 * p.settle_ns + 1.5 * (ramp_ns(p.d_slew, conv) + ramp_ns(p.slew, conv)) + 0.01;
          plan.probes.push_back(p);
        }
    }
  }
}

CellPlan plan_cell(const liberty::Library& ref, const std::string& cell_name, const Conventions& conv,
                   double v, double v_ref, int grid_points) {
  const liberty::Cell* cell = ref.find_cell(cell_name);
  if (!cell) throw CharlibError("unknown cell '" + cell_name + "': not in reference liberty " + ref.path);
  CellPlan plan;
  plan.cell = cell_name;
  for (const auto& p : cell->pins) {
    if (p.direction == "input") plan.inputs.push_back(p.name);
    else if (p.direction == "output") plan.outputs.push_back(p.name);
    else if (p.direction != "internal")
      throw CharlibError("cell " + cell_name + ": pin " + p.name + " has direction '" + p.direction +
                         "', which vosa charlib does not characterize");
  }
  const double slow = slowdown_guess(v, v_ref);

  std::string clock, data;
  std::map<std::string, int> flop_inputs;
  if (cell->state) {
    const liberty::StateElement& st = *cell->state;
    if (st.is_latch) throw CharlibError("cell " + cell_name + " is a latch; vosa charlib characterizes flip-flops");
    const auto clk_vars = liberty::BoolExpr::parse(st.clocked_on).variables();
    const auto d_vars = liberty::BoolExpr::parse(st.next_state).variables();
    if (clk_vars.size() != 1 || st.clocked_on != clk_vars[0])
      throw CharlibError("cell " + cell_name + ": clocked_on '" + st.clocked_on + "' is not one rising clock pin");
    clock = clk_vars[0];
    // Another input sets next_state = D (e.g. scan enable low); pick D as
    // the variable next_state follows with clear/preset inactive.
    std::vector<std::string> others;
    for (const auto& in : plan.inputs)
      if (in != clock) others.push_back(in);
    const auto next = liberty::BoolExpr::parse(st.next_state);
    for (const auto& cand : d_vars) {
      std::vector<std::string> rest;
      for (const auto& o : others)
        if (o != cand) rest.push_back(o);
      std::vector<std::string> order = rest;
      order.push_back(cand);
      for (std::uint64_t val = 0; val < (1ull << rest.size()) && data.empty(); ++val) {
        auto inactive = [&](const std::string& e) {
          if (e.empty()) return true;
          const auto x = liberty::BoolExpr::parse(e);
          for (const auto& var : x.variables())
            if (std::find(order.begin(), order.end(), var) == order.end()) return false;
          return !x.evaluate(order, val) && !x.evaluate(order, val | (1ull << rest.size()));
        };
        if (!next.evaluate(order, val) && next.evaluate(order, val | (1ull << rest.size())) && inactive(st.clear) &&
            inactive(st.preset)) {
          data = cand;
          for (size_t i = 0; i < rest.size(); ++i) flop_inputs[rest[i]] = static_cast<int>((val >> i) & 1);
        }
      }
      if (!data.empty()) break;
    }
    if (data.empty())
      throw CharlibError("cell " + cell_name + ": no input makes next_state '" + st.next_state + "' follow a data pin");
  }

  std::set<std::string> cap_done;
  for (const auto& out : cell->pins) {
    if (out.direction != "output") continue;
    for (size_t a = 0; a < out.timing.size(); ++a) {
      const liberty::TimingArc& arc = out.timing[a];
      const std::string key = out.name + "/" + std::to_string(a);
      std::vector<Sensitization> vectors;
      Probe base;
      base.related = arc.related_pin;
      base.output = out.name;
      base.key = key;
      if (arc.timing_type == "combinational" && !cell->state) {
        std::vector<std::string> others;
        for (const auto& in : plan.inputs)
          if (in != arc.related_pin) others.push_back(in);
        if (out.function.empty())
          throw CharlibError("cell " + cell_name + ": output " + out.name + " has no function");
        vectors = sensitize(liberty::BoolExpr::parse(out.function), arc.related_pin, others);
        if (vectors.empty())
          throw CharlibError("cell " + cell_name + ": output " + out.name + " does not depend on " + arc.related_pin);
        // Unate arcs: every sensitizing vector of the arc's polarity (an
        // XOR's pin has a positive_unate and a negative_unate arc, each with
        // its own side inputs), up to kMaxSideVectors; non-unate: the first
        // of each direction. The tables keep the worst vector per entry, as
        // the shipped sky130 files say they do (default_arc_mode
        // "worst_edges", one arc per pin without `when`): a21oi's B1 rises
        // slowest with one of A1/A2's parallel pMOS on, not both.
        std::vector<Sensitization> picked;
        if (arc.timing_sense == "positive_unate" || arc.timing_sense == "negative_unate") {
          const bool want = arc.timing_sense == "positive_unate";
          for (const auto& s : vectors)
            if (s.positive == want && picked.size() < kMaxSideVectors) picked.push_back(s);
          if (picked.empty())
            throw CharlibError("cell " + cell_name + ": no input makes output " + out.name + " " + arc.timing_sense +
                               " in " + arc.related_pin);
        } else {
          picked.push_back(vectors.front());
          for (const auto& s : vectors)
            if (s.positive != picked.front().positive) {
              picked.push_back(s);
              break;
            }
          if (arc.timing_sense != "non_unate") picked.resize(1);
        }
        vectors = picked;
        base.kind = Probe::Kind::kCombinational;
      } else if (arc.timing_type == "rising_edge" && cell->state && arc.related_pin == clock) {
        const std::string& st_var = out.function;
        Sensitization s;
        s.values = flop_inputs;
        s.positive = st_var == cell->state->state_var;
        if (!s.positive && st_var != cell->state->state_var_n)
          throw CharlibError("cell " + cell_name + ": output " + out.name + " function '" + out.function +
                             "' is not the flip-flop state");
        vectors.push_back(s);
        base.kind = Probe::Kind::kClockToQ;
        base.data_pin = data;
      } else {
        continue;  // constraints and other arcs: scaled, see the writer
      }
      // The grid: the arc's first measured table (all four share it in
      // the libraries vosa knows; a differing one is sampled, not simulated).
      const liberty::Table* grid = nullptr;
      for (const auto& [type, t] : arc.tables)
        if (is_measured_table(type)) {
          grid = &t;
          break;
        }
      if (!grid) continue;
      std::vector<double> ax1, ax2;
      const auto rows = reduced_axis(grid->index_1.size(), grid_points);
      const auto cols = reduced_axis(std::max<size_t>(1, grid->index_2.size()), grid_points);
      for (size_t r : rows) ax1.push_back(grid->index_1.at(r));
      for (size_t c : cols) ax2.push_back(grid->index_2.empty() ? 0.0 : grid->index_2.at(c));
      plan.axes_1[key] = ax1;
      plan.axes_2[key] = ax2;
      for (const auto& s : vectors)
        for (size_t r = 0; r < ax1.size(); ++r)
          for (size_t c = 0; c < ax2.size(); ++c) {
            Probe p = base;
            p.inputs = s.values;
            p.positive = s.positive;
            p.slew = ax1[r];
            p.load = ax2[c];
            p.row = r;
            p.col = c;
            double settle = 0.0;
            for (const auto& [type, t] : arc.tables)
              if (is_measured_table(type)) settle = std::max(settle, t.lookup(p.slew, p.load));
            p.window_ns = 2.0 * settle * conv.time_ns * slow + 0.01;
            const std::string cap_pin = base.kind == Probe::Kind::kClockToQ ? clock : arc.related_pin;
            if (r == 0 && c == 0 && !cap_done.count(cap_pin)) {
              p.capacitance = true;
              cap_done.insert(cap_pin);
            }
            plan.probes.push_back(p);
          }
    }
  }
  if (cell->state) plan_constraints(ref, *cell, clock, data, flop_inputs, conv, slow, grid_points, plan);
  // Leakage per state of the reference's leakage_power groups (combinational cells).
  if (!cell->state) {
    const liberty::Group* cg = nullptr;
    for (const auto* g : ref.root.groups_of_type("cell"))
      if (g->name() == cell_name) cg = g;
    for (const auto* lg : cg->groups_of_type("leakage_power")) {
      const auto when = lg->attribute_value("when");
      if (!when) continue;
      const auto expr = liberty::BoolExpr::parse(*when);
      std::vector<std::string> order = plan.inputs;
      bool found = false;
      for (std::uint64_t v = 0; v < (1ull << order.size()) && !found; ++v) {
        bool known = true;
        for (const auto& var : expr.variables()) known = known && std::count(order.begin(), order.end(), var);
        if (!known || !expr.evaluate(order, v)) continue;
        Probe p;
        p.kind = Probe::Kind::kLeakage;
        for (size_t i = 0; i < order.size(); ++i) p.inputs[order[i]] = static_cast<int>((v >> i) & 1);
        p.leakage_line = lg->line;
        plan.probes.push_back(p);
        found = true;
      }
    }
  }
  return plan;
}

// ---------------------------------------------------------------- decks

struct DeckContext {
  fs::path model_lib;
  std::string section;
  const pdk::SpiceConfig* spice = nullptr;
  std::string subckt;
  std::vector<std::string> ports;
  double vdd = 0, temperature = 0;
  Conventions conv;
  double min_load_pf = 0.0005;
  double output_wire_pf = 0.0;
  std::map<std::string, double> threshold_shift;  // device model -> delvto (V)
};

std::string node_of(const std::string& port, const CellPlan& plan, const pdk::SpiceConfig& sp, const std::string& cell) {
  for (const auto& p : sp.supply_pins)
    if (lower(p) == lower(port)) return "vsup";
  for (const auto& p : sp.ground_pins)
    if (lower(p) == lower(port)) return "0";
  for (const auto& p : plan.inputs)
    if (lower(p) == lower(port)) return "in_" + lower(p);
  for (const auto& p : plan.outputs)
    if (lower(p) == lower(port)) return "out_" + lower(p);
  throw CharlibError("cell " + cell + ": subckt port " + port + " is no liberty pin and no supply_pins/ground_pins entry");
}

std::string pulse_constant(double level) {
  return "[ " + num(level) + " " + num(level) + " 0 1e-12 1e-12 1e-9 2e-9 ]";
}

// `alter` lines that add each device's calibrated threshold shift (ngspice's
// BSIM delvto) to every transistor of the cell: the cell's X instances of a
// shifted model, reached through the model subckt's inner device. A key
// "<model>@internal-gate" (kInternalGateSuffix) overrides "<model>" for the
// transistors whose gate is an internal net of the cell (a later stage: the
// output inverter of maj3, and2, buf...), so that a cell's stages can take
// shifts of their own (docs/charlib.md, "Ninth session": why maj3_1 cannot
// be fitted by one shift).
std::string threshold_shift_lines(const DeckContext& ctx) {
  if (ctx.threshold_shift.empty()) return "";
  std::set<std::string> ports;
  for (const auto& p : ctx.ports) ports.insert(lower(p));
  std::ostringstream d;
  std::istringstream in(ctx.subckt);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string inst, w;
    if (!(words >> inst) || std::tolower(static_cast<unsigned char>(inst[0])) != 'x') continue;
    std::vector<std::string> nodes;
    while (words >> w) {
      // X<name> drain gate source bulk model: the gate is the second node.
      auto it = ctx.threshold_shift.end();
      if (nodes.size() >= 2 && !ports.count(nodes[1])) it = ctx.threshold_shift.find(lower(w) + kInternalGateSuffix);
      if (it == ctx.threshold_shift.end()) it = ctx.threshold_shift.find(lower(w));
      if (it == ctx.threshold_shift.end()) {
        nodes.push_back(lower(w));
        continue;
      }
      if (it->second == 0.0) break;
      std::string device = ctx.spice->device_in_subckt;
      device.replace(device.find("{model}"), 7, lower(w));
      d << "alter @m.xdut." << lower(inst) << "." << device << "[delvto] = " << num(it->second) << "\n";
      break;
    }
  }
  return d.str();
}

// The bracket [lo, hi] (s) a setup or hold bisection starts from, in a
// probe's window w: D w after the edge (fails) to w (setup) or w/2 (hold)
// on the safe side of it.
std::pair<double, double> constraint_bracket(const Probe& p, double w) {
  return {-w / 2, p.kind == Probe::Kind::kSetup ? w : w / 2};
}

// One setup or hold value by bisection, inside ngspice's control language.
// The clock edges at w (Q takes the opposite of the value to capture) and
// t1 = w + period (the edge under test). Setup: D moves to the captured
// value x before t1's crossing; hold: D holds the captured value (from half
// a window after the first edge) until x after it. A run passes when Q
// crosses to the captured value within (1 + pushout) x the clock-to-Q time
// with D far from the edge, and is still there at the end. The smallest
// passing x, to (bracket / 2^kConstraintSteps), is echoed as
// "C <id> <reference clock-to-Q> <hi> <lo>"; a failing reference leaves -1.
std::string constraint_lines(const DeckContext& ctx, const Probe& p, size_t id, double w, double w_planned) {
  const Conventions& c = ctx.conv;
  const double vdd = ctx.vdd;
  const bool setup = p.kind == Probe::Kind::kSetup;
  const double rc = ramp_ns(p.slew, c) * 1e-9, rd = ramp_ns(p.d_slew, c) * 1e-9;
  const double period = 2 * w + 2 * rc, t1 = w + period, tclk = t1 + rc * c.in_rise;
  const double tstop = t1 + rc + w;
  // The value the edge under test captures, and D's crossing fraction of
  // its ramp towards it (setup) or away from it (hold's second edge).
  const bool captured = setup ? p.d_rise : !p.d_rise;
  const double towards = captured ? c.in_rise : 1 - c.in_fall, away = captured ? 1 - c.in_fall : c.in_rise;
  const double v_from = captured ? 0.0 : vdd, v_to = captured ? vdd : 0.0;
  const bool q_rises = captured == p.positive;
  const std::string out = "v(out_" + lower(p.output) + ")", clk = "v(in_" + lower(p.related) + ")";
  const double hold_start = w + rc + w / 2;
  const auto [lo, hi] = constraint_bracket(p, w);
  std::ostringstream d;
  d << "alter @v_" << lower(p.related) << "[pulse] = [ 0 " << num(vdd) << " " << num(w) << " " << num(rc) << " "
    << num(rc) << " " << num(w) << " " << num(period) << " ]\n";
  // D's pulse for offset x: setup moves its delay, hold its width.
  const std::string d_alter =
      setup ? "let d_td = " + num(tclk - rd * towards) + " - x\nalter @v_" + lower(p.data_pin) + "[pulse] = [ " +
                  num(v_from) + " " + num(v_to) + " $&d_td " + num(rd) + " " + num(rd) + " " + num(10 * period) + " " +
                  num(20 * period) + " ]\n"
            : "let d_pw = " + num(tclk - hold_start - rd - rd * away) + " + x\nalter @v_" + lower(p.data_pin) +
                  "[pulse] = [ " + num(v_from) + " " + num(v_to) + " " + num(hold_start) + " " + num(rd) + " " +
                  num(rd) + " $&d_pw " + num(20 * period) + " ]\n";
  const std::string thr = num((q_rises ? c.out_rise : c.out_fall) * vdd);
  // One run at offset x: clock-to-Q into d_c, Q's final value into d_q.
  // The pass/fail test compares clock-to-Q times within 10 %: the time step
  // follows the clock-to-Q time, not the (ramp-dominated) run length.
  const double max_step = std::min(tstop / kStepsPerRun, p.settle_ns * 1e-9 * (w / w_planned) / 20);
  const std::string run = d_alter + "tran " + num(max_step) + " " + num(tstop) + " 0 " + num(max_step) +
                          "\nlet m_c = -1\nlet m_q = -1\nmeas tran m_c trig " + clk + " val=" +
                          num(c.in_rise * vdd) + " td=" + num(t1 - w / 4) + " rise=1 targ " + out + " val=" + thr +
                          " td=" + num(t1 - w / 4) + (q_rises ? " rise=1" : " fall=1") + "\nmeas tran m_q find " + out +
                          " at=" + num(t1 + rc + 0.9 * w) + "\nset c_v = \"$&m_c\"\nset q_v = \"$&m_q\"\ndestroy all\nlet d_c = $c_v\n" +
                          "let d_q = $q_v\n";
  const std::string q_ok = q_rises ? "d_q gt " + num(0.5 * vdd) : "d_q lt " + num(0.5 * vdd);
  d << "let lo = " << num(lo) << "\nlet hi = " << num(hi) << "\nlet x = hi\n" << run;
  d << "let d_ref = -1\nif d_c gt 0 & " << q_ok << "\n  let d_ref = d_c\n  let k = 0\n  while k lt "
    << kConstraintSteps << "\n    let x = (lo + hi) / 2\n" << run;
  d << "    if d_c gt 0 & d_c lt " << num(1 + p.pushout) << " * d_ref & " << q_ok
    << "\n      let hi = x\n    else\n      let lo = x\n    end\n    let k = k + 1\n  end\nend\n";
  d << "echo \"C " << id << " $&d_ref $&hi $&lo\"\n";
  return d.str();
}

// The deck for `probes` of one cell. Probe i echoes "R i ...", "C i ..." or "L i ...".
std::string make_deck(const DeckContext& ctx, const CellPlan& plan, const std::vector<Probe>& probes,
                      const std::vector<size_t>& ids, const std::vector<double>& windows) {
  const Conventions& c = ctx.conv;
  const double vdd = ctx.vdd;
  std::ostringstream d;
  d << "* vosa charlib: " << plan.cell << "\n";
  d << ".lib \"" << ctx.model_lib.string() << "\" " << ctx.section << "\n";
  for (const auto& o : ctx.spice->deck_options) d << o << "\n";
  d << ".temp " << num(ctx.temperature) << "\n";
  d << ctx.subckt;
  d << "vsup vsup 0 " << num(vdd) << "\n";
  for (const auto& in : plan.inputs) d << "v_" << lower(in) << " in_" << lower(in) << " 0 pulse(0 0 0 1p 1p 1n 2n)\n";
  d << "xdut";
  for (const auto& port : ctx.ports) d << " " << node_of(port, plan, *ctx.spice, plan.cell);
  d << " " << lower(plan.cell) << "\n";
  for (const auto& out : plan.outputs)
    d << "c_" << lower(out) << " out_" << lower(out) << " 0 " << num(ctx.min_load_pf * 1e-12) << "\n";
  if (ctx.output_wire_pf > 0)
    for (const auto& out : plan.outputs)
      d << "cwire_" << lower(out) << " out_" << lower(out) << " 0 " << num(ctx.output_wire_pf * 1e-12) << "\n";
  d << ".control\nset noaskquit\n";
  d << threshold_shift_lines(ctx);
  bool gmin_lowered = false;  // leakage probes come last in a plan
  for (size_t k = 0; k < ids.size(); ++k) {
    const Probe& p = probes[ids[k]];
    const size_t id = ids[k];
    for (const auto& out : plan.outputs)
      d << "alter c_" << lower(out) << " = "
        << num((out == p.output && p.kind != Probe::Kind::kLeakage ? p.load * c.cap_pf : ctx.min_load_pf) * 1e-12)
        << "\n";
    for (const auto& in : plan.inputs) {
      if (in == p.related || in == p.data_pin) continue;
      auto it = p.inputs.find(in);
      d << "alter @v_" << lower(in) << "[pulse] = " << pulse_constant(it != p.inputs.end() && it->second ? vdd : 0.0)
        << "\n";
    }
    if (p.kind == Probe::Kind::kLeakage) {
      // ngspice's default gmin (1e-12 S across every junction) would pass
      // picoamperes, far above sub-threshold leakage at -40 C.
      if (!gmin_lowered) d << "option gmin=1e-18\n";
      gmin_lowered = true;
      d << "op\necho \"L " << id << " $&vsup#branch\"\ndestroy all\n";
      continue;
    }
    const double ramp = ramp_ns(p.slew, c) * 1e-9;  // the related pin's full swing
    const double w = windows[k] * 1e-9;
    if (is_constraint(p)) {
      d << constraint_lines(ctx, p, id, w, p.window_ns * 1e-9);
      continue;
    }
    const std::string in = "v(in_" + lower(p.related) + ")", out = "v(out_" + lower(p.output) + ")";
    const double td = 10e-12;
    double tstop = 0.0;
    std::string trig_rise, trig_fall;  // trigger of the output's rise / fall
    std::string targ_after;            // flip-flops: skip the initializing edge
    std::vector<double> cap_window;    // rising-edge charge from [0] to [1], falling from [1] to [2]
    if (p.kind == Probe::Kind::kCombinational) {
      d << "alter @v_" << lower(p.related) << "[pulse] = [ 0 " << num(vdd) << " " << num(td) << " " << num(ramp) << " "
        << num(ramp) << " " << num(w) << " " << num(4 * (w + ramp)) << " ]\n";
      tstop = td + 2 * ramp + 2 * w;
      const std::string in_rise = "trig " + in + " val=" + num(c.in_rise * vdd) + " rise=1";
      const std::string in_fall = "trig " + in + " val=" + num(c.in_fall * vdd) + " fall=1";
      trig_rise = p.positive ? in_rise : in_fall;
      trig_fall = p.positive ? in_fall : in_rise;
      cap_window = {0.0, td + ramp + w, tstop};
    } else {
      // Clock edges at t_k = w + k * period: edge 0 captures D=0 (the state
      // ngspice's operating point leaves is arbitrary), edge 1 captures D=1,
      // edge 2 D=0. D changes late in the clock's high phase, after Q has
      // settled (its supply energy is integrated up to that moment).
      const double period = 2 * w + 2 * ramp;
      const double d_ramp = std::min(ramp, w / 8);
      const double t1 = w + period, t2 = w + 2 * period;
      d << "alter @v_" << lower(p.related) << "[pulse] = [ 0 " << num(vdd) << " " << num(w) << " " << num(ramp) << " "
        << num(ramp) << " " << num(w) << " " << num(period) << " ]\n";
      d << "alter @v_" << lower(p.data_pin) << "[pulse] = [ 0 " << num(vdd) << " " << num(w + ramp + kFlopDataChange * w) << " "
        << num(d_ramp) << " " << num(d_ramp) << " " << num(period - d_ramp) << " " << num(2 * period) << " ]\n";
      tstop = t2 + ramp + w;
      auto edge = [&](double t) {
        return "trig " + in + " val=" + num(c.in_rise * vdd) + " td=" + num(t - w / 4) + " rise=1";
      };
      trig_rise = p.positive ? edge(t1) : edge(t2);
      trig_fall = p.positive ? edge(t2) : edge(t1);
      // The output's own edges are searched after edge 0 has settled.
      targ_after = " td=" + num(t1 - w / 4);
      cap_window = {t1 - w / 4, t1 + ramp + w, t1 + 2 * ramp + 2 * w};
    }
    d << "tran " << num(tstop / kStepsPerRun) << " " << num(tstop) << "\n";
    d << "let m_dr = -1000\nlet m_df = -1000\nlet m_sr = -1000\nlet m_sf = -1000\nlet m_qr = 0\nlet m_qf = 0\nlet m_ea = 0\nlet m_eb = 0\n"
      << "let m_vm = -1\nlet m_ve = -1\n";
    if (p.kind == Probe::Kind::kCombinational)
      d << "meas tran m_vm find " << out << " at=" << num(td + ramp + w) << "\nmeas tran m_ve find " << out
        << " at=" << num(tstop * 0.999) << "\n";
    d << "meas tran m_dr " << trig_rise << " targ " << out << " val=" << num(c.out_rise * vdd) << targ_after
      << " rise=1\n";
    d << "meas tran m_df " << trig_fall << " targ " << out << " val=" << num(c.out_fall * vdd) << targ_after
      << " fall=1\n";
    d << "meas tran m_sr trig " << out << " val=" << num(c.slew_lo_rise * vdd) << targ_after << " rise=1 targ " << out
      << " val=" << num(c.slew_hi_rise * vdd) << targ_after << " rise=1\n";
    d << "meas tran m_sf trig " << out << " val=" << num(c.slew_hi_fall * vdd) << targ_after << " fall=1 targ " << out
      << " val=" << num(c.slew_lo_fall * vdd) << targ_after << " fall=1\n";
    // Supply charge per edge (internal power): the related pin's rising
    // window, then its falling one (flip-flops: the edges where Q follows
    // D=1 and D=0, up to the moment D next changes).
    const std::vector<double> supply_window =
        p.kind == Probe::Kind::kCombinational ? cap_window
                                              : std::vector<double>{cap_window[0], cap_window[0] + w / 4 + ramp + kFlopDataChange * w,
                                                                    cap_window[0] + 2 * w + 2 * ramp,
                                                                    cap_window[0] + 2 * w + 2 * ramp + w / 4 + ramp + kFlopDataChange * w};
    d << "meas tran m_ea integ i(vsup) from=" << num(supply_window[0]) << " to=" << num(supply_window[1]) << "\n";
    d << "meas tran m_eb integ i(vsup) from=" << num(supply_window[supply_window.size() == 4 ? 2 : 1])
      << " to=" << num(supply_window.back()) << "\n";
    if (p.capacitance) {
      const std::string i = "i(v_" + lower(p.related) + ")";
      d << "meas tran m_qr integ " << i << " from=" << num(cap_window[0]) << " to=" << num(cap_window[1]) << "\n";
      d << "meas tran m_qf integ " << i << " from=" << num(cap_window[1]) << " to=" << num(cap_window[2]) << "\n";
    }
    d << "echo \"R " << id << " $&m_dr $&m_df $&m_sr $&m_sf $&m_qr $&m_qf $&m_ea $&m_eb $&m_vm $&m_ve\"\ndestroy all\n";
  }
  d << "quit\n.endc\n.end\n";
  return d.str();
}

std::map<size_t, ProbeResult> parse_results(const std::string& text) {
  std::map<size_t, ProbeResult> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream w(line);
    std::string tag;
    size_t id;
    if (!(w >> tag >> id)) continue;
    if (tag == "R") {
      ProbeResult r;
      if (!(w >> r.rise_delay >> r.fall_delay >> r.rise_slew >> r.fall_slew >> r.charge_rise >> r.charge_fall >>
            r.supply_a >> r.supply_b >> r.out_mid >> r.out_end))
        continue;
      // -1000 s: the measurement found no crossing (delays themselves may be
      // negative: a slow input and a light load).
      auto ns = [](double s) { return s < -1.0 ? kMissing : s * 1e9; };
      r.rise_delay = ns(r.rise_delay);
      r.fall_delay = ns(r.fall_delay);
      r.rise_slew = ns(r.rise_slew);
      r.fall_slew = ns(r.fall_slew);
      out[id] = r;
    } else if (tag == "C") {
      ProbeResult r;
      if (w >> r.constraint_ref >> r.constraint_hi >> r.constraint_lo) out[id] = r;
    } else if (tag == "L") {
      ProbeResult r;
      if (w >> r.leakage_w) out[id] = r;
    }
  }
  return out;
}

json measurements_to_json(const CellMeasurements& m) {
  json j;
  j["tables"] = m.tables;
  j["axes_1"] = m.axes_1;
  j["axes_2"] = m.axes_2;
  j["rise_capacitance"] = m.rise_capacitance;
  j["fall_capacitance"] = m.fall_capacitance;
  json leak = json::object();
  for (const auto& [line, v] : m.leakage) leak[std::to_string(line)] = v;
  j["leakage"] = leak;
  j["supply_energy"] = m.supply_energy;
  j["energy_grid"] = m.energy_grid;
  j["simulations"] = m.simulations;
  return j;
}

CellMeasurements measurements_from_json(const json& j) {
  CellMeasurements m;
  m.tables = j.at("tables").get<decltype(m.tables)>();
  m.axes_1 = j.at("axes_1").get<decltype(m.axes_1)>();
  m.axes_2 = j.at("axes_2").get<decltype(m.axes_2)>();
  m.rise_capacitance = j.at("rise_capacitance").get<decltype(m.rise_capacitance)>();
  m.fall_capacitance = j.at("fall_capacitance").get<decltype(m.fall_capacitance)>();
  for (const auto& [line, v] : j.at("leakage").items()) m.leakage[std::stoi(line)] = v.get<double>();
  m.supply_energy = j.at("supply_energy").get<decltype(m.supply_energy)>();
  m.energy_grid = j.at("energy_grid").get<decltype(m.energy_grid)>();
  m.simulations = j.at("simulations").get<int>();
  return m;
}

// Simulates every probe of `plan`; windows grow 4x for probes whose output
// never settled, three times, before the cell is declared not working.
CellMeasurements run_cell(const DeckContext& ctx, const CellPlan& plan, const fs::path& work_dir,
                          const std::string& corner) {
  CellMeasurements m;
  m.axes_1 = plan.axes_1;
  m.axes_2 = plan.axes_2;
  for (const auto& p : plan.probes) {
    if (p.key.empty()) continue;
    const std::vector<std::string> types =
        is_constraint(p) ? std::vector<std::string>{p.constraint}
                         : std::vector<std::string>{"cell_rise", "cell_fall", "rise_transition", "fall_transition"};
    for (const auto& type : types)
      m.tables.emplace(p.key + "/" + type, std::vector<std::vector<double>>(plan.axes_1.at(p.key).size(),
                                                                          std::vector<double>(plan.axes_2.at(p.key).size(), kMissing)));
  }
  std::vector<size_t> pending(plan.probes.size());
  for (size_t i = 0; i < pending.size(); ++i) pending[i] = i;
  std::vector<double> windows;
  for (const auto& p : plan.probes) windows.push_back(p.window_ns);
  const std::string what = "cell " + plan.cell + " at " + corner;
  std::set<size_t> unsettled;  // crossed its thresholds but never came near the rail
  for (int pass = 0; pass < 4 && !pending.empty(); ++pass) {
    std::vector<double> w;
    for (size_t id : pending) w.push_back(windows[id]);
    const std::string text =
        run_ngspice(make_deck(ctx, plan, plan.probes, pending, w), work_dir / ("pass" + std::to_string(pass)), what);
    const auto results = parse_results(text);
    std::vector<size_t> again;
    for (size_t id : pending) {
      const Probe& p = plan.probes[id];
      auto it = results.find(id);
      if (it == results.end())
        throw CharlibError(what + ": no result for probe " + std::to_string(id) + ", see " +
                           (work_dir / ("pass" + std::to_string(pass)) / "ngspice.log").string());
      const ProbeResult& r = it->second;
      ++m.simulations;
      if (p.kind == Probe::Kind::kLeakage) {
        m.leakage[p.leakage_line] = -r.leakage_w * ctx.vdd * 1e9 / ctx.conv.power_nw;
        continue;
      }
      if (is_constraint(p)) {
        // The bisection must have passed its reference, passed somewhere
        // below the bracket's top and failed somewhere above its bottom;
        // else the window was too short for this flop at this corner.
        const auto [lo, hi] = constraint_bracket(p, windows[id] * 1e-9);
        const double step = (hi - lo) / std::pow(2.0, kConstraintSteps);
        if (!(r.constraint_ref > 0) || r.constraint_hi > hi - step / 2 || r.constraint_lo < lo + step / 2) {
          again.push_back(id);
          windows[id] *= 4;
          continue;
        }
        m.tables[p.key + "/" + p.constraint][p.row][p.col] = r.constraint_hi * 1e9 / ctx.conv.time_ns;
        continue;
      }
      if (r.rise_delay == kMissing || r.fall_delay == kMissing || !(r.rise_slew > 0) || !(r.fall_slew > 0)) {
        again.push_back(id);
        windows[id] *= 4;
        continue;
      }
      if (p.kind == Probe::Kind::kCombinational) {
        // The output rises with the related pin's first ramp when positive.
        const double mid_rail = p.positive ? ctx.vdd : 0.0, end_rail = ctx.vdd - mid_rail;
        if (std::abs(r.out_mid - mid_rail) > kSettleFraction * ctx.vdd ||
            std::abs(r.out_end - end_rail) > kSettleFraction * ctx.vdd) {
          unsettled.insert(id);
          again.push_back(id);
          windows[id] *= 4;
          continue;
        }
        unsettled.erase(id);
      }
      auto put = [&](const char* type, double ns) {
        double& cell = m.tables[p.key + "/" + type][p.row][p.col];
        cell = std::max(cell, ns / ctx.conv.time_ns);  // non-unate: the worse vector
      };
      // Supply energy per output edge (library energy units: capacitance
      // unit x V^2); the writer takes the load's share off.
      const double to_energy = ctx.vdd / (ctx.conv.cap_pf * 1e-12);
      const double e_rise = -(p.positive ? r.supply_a : r.supply_b) * to_energy;
      const double e_fall = -(p.positive ? r.supply_b : r.supply_a) * to_energy;
      const std::string power_key = p.output + "/" + p.related;
      m.energy_grid.emplace(power_key, p.key);
      for (const auto& [type, e] : {std::pair<const char*, double>{"rise_power", e_rise}, {"fall_power", e_fall}}) {
        auto& table = m.supply_energy[power_key + "/" + type];
        if (table.empty())
          table.assign(plan.axes_1.at(p.key).size(), std::vector<double>(plan.axes_2.at(p.key).size(), kMissing));
        table[p.row][p.col] = std::max(table[p.row][p.col], e);  // non-unate, XOR's two arcs: the larger
      }
      put("cell_rise", r.rise_delay);
      put("cell_fall", r.fall_delay);
      put("rise_transition", r.rise_slew);
      put("fall_transition", r.fall_slew);
      if (p.capacitance) {
        const std::string pin = p.related;
        m.rise_capacitance[pin] = -r.charge_rise / ctx.vdd * 1e12 / ctx.conv.cap_pf;
        m.fall_capacitance[pin] = r.charge_fall / ctx.vdd * 1e12 / ctx.conv.cap_pf;
      }
    }
    pending = again;
  }
  if (!pending.empty()) {
    const Probe& p = plan.probes[pending.front()];
    const std::string edge =
        p.kind == Probe::Kind::kClockToQ ? "flip-flop " + p.output + " does not capture D"
        : is_constraint(p) ? "flip-flop " + p.output + " does not capture D even with D far from the clock edge (" +
                                 (p.kind == Probe::Kind::kSetup ? "setup" : "hold") + " bisection, D slew " +
                                 num(p.d_slew) + ")"
        : unsettled.count(pending.front())
            ? "output " + p.output + " never comes within " + num(100 * kSettleFraction) + " % of its rail"
            : "output " + p.output + " never crosses its threshold";
    throw CharlibError("cell " + plan.cell + " stops working at " + corner + ": " + edge + " after " + p.related +
                       " switches (slew " + num(p.slew) + ", load " + num(p.load) + ", waited " +
                       num(windows[pending.front()]) + " ns); " + std::to_string(pending.size()) +
                       " measurements failed, see " + work_dir.string());
  }
  return m;
}

}  // namespace

// A gunzipped copy of the model folder (ngspice cannot read .gz) under
// <cache>/<pdk>/spice/models; returns the model library file inside it.
fs::path prepare_models(const pdk::PdkConfig& pdk, const fs::path& cache_dir) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  const pdk::SpiceConfig& sp = *pdk.spice;
  const fs::path source = pdk::find_first_existing(sp.model_dirs, "SPICE model folder of PDK " + pdk.name +
                                                                       " (spice.model_dirs in " + pdk.path.string() + ")");
  const fs::path dest = fs::absolute(cache_dir / pdk.name / "spice" / "models");
  const fs::path stamp = dest / ".vosa_source";
  // Other vosa processes (parallel corners, Slurm tasks on a shared build/)
  // may prepare the same folder: one copies while the others wait, so no
  // process replaces the models another one is simulating with.
  fs::create_directories(dest.parent_path());
  const std::string lock_path = dest.string() + ".lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX) != 0) {
    if (lock_fd >= 0) ::close(lock_fd);
    throw CharlibError("cannot lock " + lock_path);
  }
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }
  } unlock{lock_fd};
  if (fs::exists(stamp) && pdk::read_text_file(stamp) == source.string()) {
    if (!fs::exists(dest / sp.model_lib))
      throw CharlibError("SPICE model library " + (dest / sp.model_lib).string() + " (spice.model_lib) is missing");
    return dest / sp.model_lib;
  }
  const fs::path tmp = dest.string() + ".tmp." + std::to_string(::getpid());
  fs::remove_all(tmp);
  for (const auto& entry : fs::recursive_directory_iterator(source)) {
    if (!entry.is_regular_file()) continue;
    fs::path rel = fs::relative(entry.path(), source);
    if (rel.extension() == ".gz") rel.replace_extension();
    fs::create_directories((tmp / rel).parent_path());
    std::ofstream(tmp / rel, std::ios::binary) << pdk::read_text_file(entry.path());
  }
  std::ofstream(tmp / ".vosa_source") << source.string();
  fs::remove_all(dest);
  fs::rename(tmp, dest);
  if (!fs::exists(dest / sp.model_lib))
    throw CharlibError("SPICE model library " + sp.model_lib + " (spice.model_lib in " + pdk.path.string() +
                       ") is not in " + source.string());
  return dest / sp.model_lib;
}

// Runs `ngspice -b deck.cir` in `dir` with stdout and stderr to `log`, one
// OpenMP thread, and returns its exit status (-signal when killed). The child
// gets SIGKILL when the thread that started it dies (PR_SET_PDEATHSIG), so
// killing vosa does not leave its ngspice runs going.
static int spawn_ngspice(const fs::path& dir, const fs::path& log) {
  // Everything the child needs is built before fork (only async-signal-safe
  // calls after it: the process has other threads).
  const std::string dir_s = dir.string(), log_s = log.string();
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "OMP_NUM_THREADS=", 16) != 0) env_s.emplace_back(*e);
  env_s.emplace_back("OMP_NUM_THREADS=1");
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  char arg0[] = "ngspice", arg1[] = "-b", arg2[] = "deck.cir";
  char* argv[] = {arg0, arg1, arg2, nullptr};
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw CharlibError("cannot start ngspice in " + dir_s + ": fork failed");
  if (pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(126);
    if (chdir(dir_s.c_str()) != 0) _exit(126);
    const int fd = open(log_s.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) _exit(126);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    execvpe(argv[0], argv, envp.data());
    static const char msg[] = "ngspice: not found\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw CharlibError("cannot wait for ngspice in " + dir_s);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs ngspice on `deck` in `dir`; returns stdout+stderr.
std::string run_ngspice(const std::string& deck, const fs::path& dir, const std::string& what) {
  fs::create_directories(dir);
  const fs::path cir = dir / "deck.cir", log = dir / "ngspice.log";
  {
    std::ofstream f(cir);
    f << deck;
    if (!f) throw CharlibError("cannot write " + cir.string());
  }
  // One thread per ngspice: Debian's build evaluates devices with OpenMP,
  // whose threads spin against each other and the other workers (one
  // flip-flop run on the busy 2-core machine: 24.9 s of device load with
  // the default, 0.05 s with one thread). ngspice takes the count from
  // .spiceinit (OMP_NUM_THREADS alone does not do it).
  std::ofstream(dir / ".spiceinit") << "set num_threads=1\n";
  const int rc = spawn_ngspice(dir, log);
  const std::string text = fs::exists(log) ? pdk::read_text_file(log) : "";
  if (rc == 127 && text.find("ngspice: not found") != std::string::npos)
    throw CharlibError("ngspice is not installed (Debian package ngspice; scripts/setup.sh installs it)");
  if (rc != 0)
    throw CharlibError(what + ": ngspice failed (" + (rc < 0 ? "killed by signal " + std::to_string(-rc) : "exit " + std::to_string(rc)) +
                       "), see " + log.string());
  const std::string l = lower(text);
  for (const char* bad : {"timestep too small", "singular matrix", "gmin stepping failed", "could not find"})
    if (l.find(bad) != std::string::npos)
      throw CharlibError(what + ": ngspice reports '" + std::string(bad) + "' (no convergence or a bad deck), see " +
                         log.string());
  return text;
}

double ramp_offset_per_slew(const liberty::Library& lib) {
  const Conventions c = read_conventions(lib);
  return c.slew_derate * c.in_rise / (c.slew_hi_rise - c.slew_lo_rise);
}

std::map<std::string, double> threshold_shift_for(const pdk::PdkConfig& pdk, const std::string& process,
                                                  const CharlibOptions& options) {
  if (options.threshold_shift) return *options.threshold_shift;
  if (!pdk.spice) return {};
  auto it = pdk.spice->threshold_shift.find(process);
  return it == pdk.spice->threshold_shift.end() ? std::map<std::string, double>{} : it->second;
}

ShiftDescent::ShiftDescent(Shift start, std::vector<std::string> models, std::vector<double> steps, int max_evaluations)
    : best_(std::move(start)), models_(std::move(models)), steps_(std::move(steps)), max_evaluations_(max_evaluations) {
  if (models_.empty() || steps_.empty()) throw CharlibError("ShiftDescent: no models or no steps to descend over");
  for (const auto& m : models_) best_.emplace(m, 0.0);
}

void ShiftDescent::advance() {
  if (++dir_ == 2) {
    dir_ = 0;
    if (++model_ == models_.size()) {
      model_ = 0;
      if (!improved_) ++step_;
      improved_ = false;
    }
  }
}

std::optional<ShiftDescent::Shift> ShiftDescent::next() {
  if (evaluations_ == 0) return best_;
  while (!done_) {
    if (step_ >= steps_.size()) {
      done_ = converged_ = true;
      break;
    }
    if (max_evaluations_ > 0 && evaluations_ >= max_evaluations_) {
      done_ = true;
      break;
    }
    Shift trial = best_;
    double& v = trial[models_[model_]];
    v = std::round((v + (dir_ == 0 ? 1.0 : -1.0) * steps_[step_]) * 1000.0) / 1000.0;
    if (std::abs(v) > 0.3 || seen_.count(trial)) {
      advance();
      continue;
    }
    return trial;
  }
  return std::nullopt;
}

void ShiftDescent::result(const Shift& trial, double value) {
  seen_.insert(trial);
  if (evaluations_++ == 0) {
    best_f_ = start_f_ = value;
  } else if (value < best_f_ - 1e-6) {
    best_f_ = value, best_ = trial, improved_ = true;  // the next trial goes on in this direction
  } else {
    advance();
  }
}

CellCalibration read_cell_calibration(const fs::path& file) {
  auto fail = [&](const std::string& field, const std::string& what) -> void {
    throw CharlibError("per-cell calibration " + file.string() + ": " + (field.empty() ? "" : "field '" + field + "' ") +
                       what + " (docs/charlib.md, \"Per-cell calibration\")");
  };
  if (!fs::exists(file)) fail("", "does not exist");
  json j;
  try {
    j = json::parse(pdk::read_text_file(file));
  } catch (const json::exception& e) {
    fail("", std::string("is not JSON: ") + e.what());
  }
  if (!j.is_object()) fail("", "must be a JSON object");
  if (j.value("format", std::string()) != kCellCalibrationFormat)
    fail("format", std::string("must be \"") + kCellCalibrationFormat + "\"");
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int>() != kCellCalibrationVersion)
    fail("version", "must be " + std::to_string(kCellCalibrationVersion) + " (the version this vosa reads)");
  CellCalibration c;
  auto str = [&](const char* field) {
    if (!j.contains(field) || !j[field].is_string() || j[field].get<std::string>().empty()) fail(field, "must be a non-empty string");
    return j[field].get<std::string>();
  };
  auto strings = [&](const char* field) {
    if (!j.contains(field) || !j[field].is_array()) fail(field, "must be an array of strings");
    std::vector<std::string> out;
    for (const auto& v : j[field]) {
      if (!v.is_string()) fail(field, "must be an array of strings");
      out.push_back(v.get<std::string>());
    }
    return out;
  };
  c.pdk = str("pdk");
  c.process = str("process");
  c.top = str("top");
  c.corners = strings("corners");
  c.models = strings("models");
  if (!j.contains("grid_points") || !j["grid_points"].is_number_integer()) fail("grid_points", "must be an integer");
  c.grid_points = j["grid_points"].get<int>();
  if (!j.contains("cells") || !j["cells"].is_object() || j["cells"].empty())
    fail("cells", "must map cell names to {\"threshold_shift\": {model: volts}, ...}");
  for (const auto& [cell, entry] : j["cells"].items()) {
    const std::string field = "cells." + cell;
    if (!entry.is_object() || !entry.contains("threshold_shift") || !entry["threshold_shift"].is_object())
      fail(field + ".threshold_shift", "must map device models to volts");
    auto& shifts = c.shifts[cell];
    for (const auto& [model, v] : entry["threshold_shift"].items()) {
      if (!v.is_number() || !(std::abs(v.get<double>()) <= 0.3))
        fail(field + ".threshold_shift." + model, "must be a number of volts within +-0.3");
      shifts[model] = v.get<double>();
    }
    for (const char* k : {"objective_start", "objective"})
      if (entry.contains(k)) {
        if (!entry[k].is_number()) fail(field + "." + k, "must be a number");
        (std::string(k) == "objective" ? c.objective : c.objective_start)[cell] = entry[k].get<double>();
      }
    if (entry.contains("evaluations")) {
      if (!entry["evaluations"].is_number_integer()) fail(field + ".evaluations", "must be an integer");
      c.evaluations[cell] = entry["evaluations"].get<int>();
    }
    if (entry.contains("converged")) {
      if (!entry["converged"].is_boolean()) fail(field + ".converged", "must be true or false");
      c.converged[cell] = entry["converged"].get<bool>();
    }
  }
  return c;
}

void write_cell_calibration(const CellCalibration& c, const fs::path& file) {
  json cells = json::object();
  for (const auto& [cell, shifts] : c.shifts) {
    json e = {{"threshold_shift", shifts}};
    if (c.objective_start.count(cell)) e["objective_start"] = c.objective_start.at(cell);
    if (c.objective.count(cell)) e["objective"] = c.objective.at(cell);
    if (c.evaluations.count(cell)) e["evaluations"] = c.evaluations.at(cell);
    if (c.converged.count(cell)) e["converged"] = c.converged.at(cell);
    cells[cell] = e;
  }
  const json j = {{"format", kCellCalibrationFormat}, {"version", kCellCalibrationVersion},
                  {"pdk", c.pdk}, {"process", c.process}, {"top", c.top}, {"corners", c.corners},
                  {"models", c.models}, {"grid_points", c.grid_points}, {"cells", cells}};
  write_output_file(file, j.dump(2) + "\n");
}

CellCalibration merge_cell_calibrations(const std::vector<fs::path>& files, const std::vector<std::string>& cells,
                                        bool replace) {
  if (files.empty()) throw CharlibError("charlib-merge-calibration: no per-cell calibration files to merge");
  const std::set<std::string> wanted(cells.begin(), cells.end());
  CellCalibration out;
  std::map<std::string, fs::path> from;  // cell -> the file its entry came from
  std::set<std::string> models;
  for (size_t i = 0; i < files.size(); ++i) {
    const CellCalibration c = read_cell_calibration(files[i]);
    if (i == 0) {
      out.pdk = c.pdk, out.process = c.process, out.top = c.top, out.corners = c.corners, out.grid_points = c.grid_points;
    } else {
      auto check = [&](const char* field, const std::string& a, const std::string& b) {
        if (a != b)
          throw CharlibError("charlib-merge-calibration: " + files[i].string() + " has " + field + " " + b + ", " +
                             files[0].string() + " " + a + " (files fitted against different shipped corners or "
                             "models do not merge)");
      };
      auto joined = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
        return "[" + s + "]";
      };
      check("pdk", out.pdk, c.pdk);
      check("process", out.process, c.process);
      check("top", out.top, c.top);
      check("corners", joined(out.corners), joined(c.corners));
      check("grid_points", std::to_string(out.grid_points), std::to_string(c.grid_points));
    }
    bool took = false;
    for (const auto& [cell, shift] : c.shifts) {
      if (!wanted.empty() && !wanted.count(cell)) continue;
      if (auto it = out.shifts.find(cell); it != out.shifts.end() && it->second != shift && !replace)
        throw CharlibError("charlib-merge-calibration: cell " + cell + " has different threshold shifts in " +
                           from.at(cell).string() + " and " + files[i].string() +
                           " (keep one with --cells, or --replace to take the later file's)");
      out.shifts[cell] = shift;
      from[cell] = files[i];
      out.objective_start.erase(cell), out.objective.erase(cell), out.evaluations.erase(cell), out.converged.erase(cell);
      if (c.objective_start.count(cell)) out.objective_start[cell] = c.objective_start.at(cell);
      if (c.objective.count(cell)) out.objective[cell] = c.objective.at(cell);
      if (c.evaluations.count(cell)) out.evaluations[cell] = c.evaluations.at(cell);
      if (c.converged.count(cell)) out.converged[cell] = c.converged.at(cell);
      took = true;
    }
    if (took) models.insert(c.models.begin(), c.models.end());
  }
  for (const auto& cell : wanted)
    if (!out.shifts.count(cell)) throw CharlibError("charlib-merge-calibration: --cells " + cell + " is in none of the files");
  if (out.shifts.empty()) throw CharlibError("charlib-merge-calibration: no cells to write");
  out.models.assign(models.begin(), models.end());
  return out;
}

std::map<std::string, std::map<std::string, double>> cell_threshold_shift_for(const pdk::PdkConfig& pdk,
                                                                               const std::string& process,
                                                                               const CharlibOptions& options) {
  if (options.cell_threshold_shift) return *options.cell_threshold_shift;
  if (options.threshold_shift || !pdk.spice) return {};
  if (!options.cell_calibration_file.empty()) {
    const CellCalibration c = read_cell_calibration(options.cell_calibration_file);
    if (c.pdk != pdk.name)
      throw CharlibError("per-cell calibration " + options.cell_calibration_file.string() + " was fitted for PDK " +
                         c.pdk + ", not " + pdk.name);
    return c.process == process ? c.shifts : std::map<std::string, std::map<std::string, double>>{};
  }
  auto it = pdk.spice->cell_calibration.find(process);
  if (it == pdk.spice->cell_calibration.end()) return {};
  const CellCalibration c = read_cell_calibration(it->second);
  if (c.pdk != pdk.name || c.process != process)
    throw CharlibError("per-cell calibration " + it->second + " (spice.cell_calibration." + process + " in " +
                       pdk.path.string() + ") was fitted for PDK " + c.pdk + ", process " + c.process + ", not " +
                       pdk.name + ", " + process);
  return c.shifts;
}

std::string reference_corner_for(const pdk::PdkConfig& pdk, const pdk::CornerRequest& request) {
  if (request.characterized) return request.name;
  std::string best;
  double best_score = 1e300;
  for (const auto& [name, c] : pdk.corners) {
    double score = std::abs(c.voltage - request.voltage);
    if (c.process != request.process) score += 1e6;
    if (std::abs(c.temperature_c - request.temperature_c) > 1e-9) score += 1e3 + std::abs(c.temperature_c - request.temperature_c);
    if (score < best_score) best_score = score, best = name;
  }
  return best.empty() ? pdk.nominal_corner : best;
}

namespace {
// One corner's cells, planned and with their deck contexts, for the worker
// pool of measure_cells_at.
struct CornerJobs {
  const pdk::CornerRequest* request = nullptr;
  std::vector<CellPlan> plans;
  std::vector<DeckContext> contexts;
};

CornerJobs plan_corner(const pdk::PdkConfig& pdk, const pdk::CornerRequest& request, const CharlibOptions& options) {
  if (!pdk.spice)
    throw CharlibError("PDK " + pdk.name + " (" + pdk.path.string() + ") names no SPICE models (field 'spice')");
  auto section = pdk.spice->sections.find(request.process);
  if (section == pdk.spice->sections.end())
    throw CharlibError("PDK " + pdk.name + ": no SPICE model section for process '" + request.process +
                       "' of corner " + request.name + " (spice.sections in " + pdk.path.string() + ")");
  if (!(request.voltage >= 0.5 && request.voltage <= 2.5))
    throw CharlibError("corner " + request.name + ": supply " + num(request.voltage) + " V is outside 0.5..2.5 V");
  if (options.cells.empty()) throw CharlibError("no cells to characterize");
  const std::string ref_name = options.reference_corner.empty() ? reference_corner_for(pdk, request) : options.reference_corner;
  const liberty::Library ref = liberty::load_library(pdk::prepare_liberty(pdk, ref_name, options.cache_dir).string());
  const Conventions conv = read_conventions(ref);
  DeckContext base;
  base.model_lib = prepare_models(pdk, options.cache_dir);
  base.section = section->second;
  base.spice = &*pdk.spice;
  base.vdd = request.voltage;
  base.temperature = request.temperature_c;
  base.conv = conv;
  base.output_wire_pf = options.output_wire_pf;
  for (const auto& [model, shift] : threshold_shift_for(pdk, request.process, options)) base.threshold_shift[lower(model)] = shift;
  // Per-cell calibration: these cells simulate their own shifts instead.
  std::map<std::string, std::map<std::string, double>> per_cell;
  for (const auto& [cell, shifts] : cell_threshold_shift_for(pdk, request.process, options))
    for (const auto& [model, shift] : shifts) per_cell[lower(cell)][lower(model)] = shift;
  if ((!base.threshold_shift.empty() || !per_cell.empty()) && pdk.spice->device_in_subckt.empty())
    throw CharlibError("PDK " + pdk.name + ": threshold shifts need spice.device_in_subckt in " + pdk.path.string());
  const SubcktLibrary& subckts = cell_netlists(pdk);
  std::set<std::string> shifted_models;
  for (const auto& [model, shift] : base.threshold_shift) shifted_models.insert(model);
  for (const auto& [cell, shifts] : per_cell)
    for (const auto& [model, shift] : shifts) shifted_models.insert(model);
  for (auto model : shifted_models) {
    // "<model>@internal-gate": that model's transistors driven by an internal net.
    if (const auto at = model.find('@'); at != std::string::npos) {
      if (model.substr(at) != kInternalGateSuffix)
        throw CharlibError("threshold shift for '" + model + "': the only qualifier after a device model is '" +
                           kInternalGateSuffix + "' (transistors whose gate is an internal net)");
      model.resize(at);
    }
    bool used = false;
    for (const auto& [name, text] : subckts.text) used = used || lower(text).find(" " + model + " ") != std::string::npos;
    if (!used)
      throw CharlibError("threshold shift for device model '" + model + "': no cell of " + subckts.file.string() +
                         " uses it");
  }

  CornerJobs jobs;
  jobs.request = &request;
  std::vector<CellPlan>& plans = jobs.plans;
  std::vector<DeckContext>& contexts = jobs.contexts;
  for (const auto& cell : options.cells) {
    auto it = subckts.text.find(lower(cell));
    if (it == subckts.text.end())
      throw CharlibError("unknown cell '" + cell + "': no .subckt in " + subckts.file.string());
    plans.push_back(plan_cell(ref, cell, conv, request.voltage, pdk.corners.at(ref_name).voltage, options.grid_points));
    for (auto& p : plans.back().probes) p.window_ns *= options.first_window_scale;
    DeckContext ctx = base;
    if (auto pc = per_cell.find(lower(cell)); pc != per_cell.end()) ctx.threshold_shift = pc->second;
    ctx.subckt = with_diffusion_geometry(it->second, options.diffusion_length_um, netlist_scale_um(*pdk.spice));
    ctx.ports = subckts.ports.at(lower(cell));
    for (const auto& port : ctx.ports) node_of(port, plans.back(), *pdk.spice, cell);  // every port known
    contexts.push_back(ctx);
  }

  return jobs;
}
}  // namespace

// Every (corner, cell) deck of all `requests` goes to one pool of workers, so
// that a corner's slow decks do not leave a worker idle while the next
// corner waits (charlib-calibrate --per-cell measures the top and the fit
// corners of a round this way).
std::vector<std::map<std::string, CellMeasurements>> measure_cells_at(const pdk::PdkConfig& pdk,
                                                                      const std::vector<pdk::CornerRequest>& requests,
                                                                      const CharlibOptions& options, int* simulations) {
  std::vector<CornerJobs> corners;
  for (const auto& request : requests) corners.push_back(plan_corner(pdk, request, options));
  std::vector<std::pair<size_t, size_t>> jobs;  // (corner, cell)
  for (size_t c = 0; c < corners.size(); ++c)
    for (size_t i = 0; i < corners[c].plans.size(); ++i) jobs.emplace_back(c, i);
  std::vector<std::map<std::string, CellMeasurements>> out(corners.size());
  std::mutex mutex;
  std::atomic<size_t> next{0};
  std::atomic<int> sims{0};
  std::string first_error;
  const fs::path root = fs::absolute(options.cache_dir / pdk.name / "spice");
  auto worker = [&]() {
    for (size_t j = next++; j < jobs.size(); j = next++) {
      const auto [c, i] = jobs[j];
      const pdk::CornerRequest& request = *corners[c].request;
      const CellPlan& plan = corners[c].plans[i];
      const std::vector<DeckContext>& contexts = corners[c].contexts;
      try {
        std::vector<size_t> all(plan.probes.size());
        std::vector<double> windows;
        for (size_t k = 0; k < all.size(); ++k) all[k] = k, windows.push_back(plan.probes[k].window_ns);
        const std::string deck = make_deck(contexts[i], plan, plan.probes, all, windows);
        const std::string hash = fnv1a64_hex(std::string(kCacheVersion) + deck);
        const fs::path cache_file = root / "cells" / plan.cell / (request.name + "." + hash + ".json");
        CellMeasurements m;
        if (fs::exists(cache_file)) {
          m = measurements_from_json(json::parse(pdk::read_text_file(cache_file)));
          m.cached = true;
        } else {
          const auto t0 = std::chrono::steady_clock::now();
          // The process id keeps two vosa runs of the same cell (make -j) apart.
          m = run_cell(contexts[i], plan,
                       root / "work" / (plan.cell + "." + request.name + "." + hash + "." + std::to_string(::getpid())),
                       request.name);
          write_output_file(cache_file, measurements_to_json(m).dump());
          sims += m.simulations;
          if (!options.quiet) {
            std::lock_guard<std::mutex> lock(mutex);
            std::cerr << "charlib: " << plan.cell << " at " << request.name << ": " << m.simulations
                      << " simulations, "
                      << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
          }
        }
        std::lock_guard<std::mutex> lock(mutex);
        out[c][plan.cell] = std::move(m);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        if (first_error.empty()) first_error = e.what();
        next = jobs.size();  // stop handing out work
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, options.workers); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (!first_error.empty()) throw CharlibError(first_error);
  if (simulations) *simulations = sims;
  return out;
}

std::map<std::string, CellMeasurements> measure_cells(const pdk::PdkConfig& pdk, const pdk::CornerRequest& request,
                                                      const CharlibOptions& options, int* simulations) {
  return measure_cells_at(pdk, {request}, options, simulations).front();
}

std::vector<std::string> netlist_cells(const fs::path& netlist) {
  const Netlist n = read_netlist(netlist.string());
  std::set<std::string> cells;
  for (const auto& inst : n.instances) cells.insert(inst.cell_type);
  if (cells.empty()) throw CharlibError("netlist " + netlist.string() + " has no cell instances");
  return {cells.begin(), cells.end()};
}

}  // namespace vosa::spice
