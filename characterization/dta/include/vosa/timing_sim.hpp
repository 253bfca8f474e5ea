// Gate-level timing simulator (dynamic timing analysis) for a flat netlist
// with liberty cell functions and SDF delays. See docs/dta.md.
//
// Time runs in integer picoseconds inside one clock cycle ("window"). Every
// cycle: flip-flops launch the value they captured at the previous edge after
// their clock-to-Q delay, primary inputs change after the input delay, every
// gate propagates its input waveforms with the annotated rise/fall delay of
// the input that changed (transport or inertial), and every flip-flop
// captures the value its D net holds at T - setup. Transitions that are
// still pending at the next edge carry over into the next cycle, as in
// hardware.
#pragma once

#include "vosa/liberty.hpp"
#include "vosa/netlist.hpp"
#include "vosa/sdf.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa::dta {

class DtaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// transport: every input change reaches the output after the arc delay;
// inertial: a pulse shorter than the delay is swallowed;
// modpath: Verilog specify-path semantics as Icarus implements them: each
// change of the cell's function schedules an update after the delay of the
// input that changed last, and the update takes the function's value at that
// time (used for the cycle-for-cycle cross-check against Icarus).
enum class DelayMode { kTransport, kInertial, kModpath };
enum class SetupMode { kSdf, kZero };

DelayMode parse_delay_mode(const std::string& s);
SetupMode parse_setup_mode(const std::string& s);
std::string to_string(DelayMode m);
std::string to_string(SetupMode m);

struct Event {
  std::int32_t time;  // ps from the launching clock edge
  std::uint8_t value;
};

struct Gate {  // one output pin of a combinational cell
  std::uint64_t truth_table = 0;
  int out_net = -1;
  int num_inputs = 0;
  int in_net[6] = {};
  std::int32_t rise_ps[6] = {}, fall_ps[6] = {};  // IOPATH + INTERCONNECT, per input (max over arcs)
  // Per input, input edge (0 fall, 1 rise) and output edge (0 fall, 1 rise):
  // the delay of the liberty arc whose timing sense links those two edges,
  // -1 when no arc does (a positive-unate input never makes the output fall
  // by rising). Non-unate cells (XOR, MUX select) have one SDF IOPATH per
  // sense with different delays; see docs/dta.md "STA bounds DTA".
  std::int32_t arc_ps[6][2][2] = {};
  int instance = -1;
};

struct FlipFlop {
  int instance = -1;
  int d_net = -1, q_net = -1, qn_net = -1;
  std::int32_t clk_to_q_rise_ps = 0, clk_to_q_fall_ps = 0;
  std::int32_t setup_ps[2] = {};   // from SDF SETUP, per data edge (0 falling, 1 rising D)
  std::int32_t d_wire_ps[2] = {};  // INTERCONNECT into D, per edge
  // Asynchronous clear/preset, evaluated on the settled pin nets.
  std::uint64_t clear_tt = 0, preset_tt = 0;
  std::vector<int> async_nets;
  // Clocked by the delayed shadow clock (a Razor shadow flop): it captures at
  // SimOptions::shadow_delay_ns after the main edge, i.e. in the next window.
  bool shadow = false;
};

// The compiled circuit: nets, levelized gates, flip-flops.
struct Circuit {
  std::vector<std::string> net_names;
  std::vector<Gate> gates;  // topological order
  std::vector<FlipFlop> flops;
  std::vector<int> primary_inputs;  // nets of input-port bits (clock excluded)
  std::vector<int> constant_nets;   // driven by tie cells or 1'b0/1'b1
  std::vector<std::uint8_t> constant_values;
  std::string clock_port;
  std::string shadow_clock_port;  // empty: the netlist has no delayed clock
  std::vector<std::string> instance_names;
  std::vector<std::string> instance_cells;

  // Gates reading each net (indices into `gates`), as CSR: fanout_gates[fanout_begin[n] .. fanout_begin[n+1]).
  std::vector<int> fanout_begin, fanout_gates;

  int flop_driving(int net) const;  // flop whose Q drives `net` (after aliases), -1 if none
  std::vector<int> net_alias;       // netlist net -> representative net
};

struct BuildOptions {
  std::string clock_port = "clk_i";
  // A second clock port, the main clock delayed (the Razor PE's clk_shadow_i);
  // used when the netlist has it.
  std::string shadow_clock_port = "clk_shadow_i";
  double resolution_ps = 1.0;  // delays are rounded to this grid (Icarus: timescale precision)
  // Input ports driven by an output port of the same netlist (input, output),
  // both one bit: the Razor PE's stall_i from its own err_o, as the array's
  // stall is the OR of the PEs' err_o. The input is then no primary input.
  std::vector<std::pair<std::string, std::string>> port_ties;
};

// Errors name the instance, cell, pin and file that do not match.
Circuit build_circuit(const Netlist& netlist, const liberty::Library& lib, const Sdf& sdf,
                      const BuildOptions& options = {});

struct SimOptions {
  double period_ns = 10.0;
  double input_delay_ns = 0.0;
  DelayMode delay_mode = DelayMode::kTransport;
  SetupMode setup_mode = SetupMode::kSdf;
  // Delay of the shadow clock after the main edge (flops with `shadow`): they
  // capture their D at shadow_delay - setup in the window after the main
  // edge and launch at shadow_delay + clock-to-Q.
  double shadow_delay_ns = 0.0;
};

class TimingSimulator {
 public:
  TimingSimulator(const Circuit& circuit, const SimOptions& options);

  // Value the primary input nets take in the coming cycle (applied at the
  // input delay after the edge).
  void set_input(int net, bool value) { next_input_[net] = value; }
  // Simulate one clock cycle: launch at the edge, propagate, capture at T - setup.
  void step();
  // After step(): what flip-flop f captured at the closing edge, and the
  // value its D net settles to (the correct value), and when it last changed.
  // A shadow flop's captured() is what it sampled at its delayed edge in this
  // window: the D value of the previous window's computation (if no new data
  // raced it, i.e. no hold violation).
  bool captured(int f) const { return state_[f]; }
  bool settled(int f) const { return settled_[f]; }
  std::int32_t settle_time_ps(int f) const { return settle_ps_[f]; }
  std::int32_t period_ps() const { return period_ps_; }
  // Net value at the end of the last window (committed transitions).
  bool net_value(int net) const { return value_[net]; }
  // After step(): the net's value at the closing edge (its last transition in
  // the window, shadow updates included).
  bool edge_value(int net) const {
    return wave_count_[net] ? arena_[wave_begin_[net] + wave_count_[net] - 1].value : value_[net];
  }
  std::uint64_t events_processed() const { return events_; }
  // After step(): adds every net's committed transitions of this cycle to
  // toggles[net], its value at the end of the cycle to high[net], and 1 to
  // functional[net] when that value differs from the one it started with
  // (activity for the energy, activity_energy.hpp).
  void add_activity(std::uint64_t* toggles, std::uint64_t* high, std::uint64_t* functional) const;
  // Force all flip-flops to a state and settle every net with zero delay (reset).
  void reset(bool flop_value = false);
  // The state a quiet clock edge leaves (nothing in flight): every net settled
  // with zero delay for the flip-flop values `settled_for` and the inputs set
  // so far; then the flip-flops hold `state`, which the next step() launches.
  // (`vosa dta --engine filter` resumes event simulation after cycles it did not need to simulate.)
  void load_quiet(const std::vector<std::uint8_t>& settled_for, const std::vector<std::uint8_t>& state);
  // One cycle from a quiet edge (as step()), simulated exactly only as far as
  // needed for the nets with cut[net] != kNoCut (docs/dta.md, "The filter
  // engine", cone-restricted cycles): every transition of such a net at or
  // before cut[net] is the one step() gives it, later ones are not made, and
  // gates whose output has no cut are not simulated. `frozen` nets hold the
  // given value all cycle, without transitions, and the simulated gates start
  // from the values their inputs then give (transport mode: a net that makes
  // its last transition before the part of its waveform that matters can be
  // frozen at its final value, see the filter engine). The caller makes cut
  // closed over fan-in: cut[in] >= cut[out] - min_delay_ps(gate) for every
  // input of a gate whose output has a cut, unless the input is frozen.
  // After it, captured(f) is right for the flip-flops whose D has a cut >=
  // both capture deadlines; nothing else (settled(), settle_time_ps(), the
  // nets, quiet()) is, and the next cycle must start from load_quiet().
  static constexpr std::int32_t kNoCut = INT32_MIN;
  void step_cut(const std::vector<std::int32_t>& cut, const std::vector<std::pair<int, std::uint8_t>>& frozen);
  // The earliest and the latest an input transition of gate g can move its output after it.
  std::int32_t min_delay_ps(int g) const { return min_delay_[g]; }
  std::int32_t max_delay_ps(int g) const { return max_delay_[g]; }
  DelayMode delay_mode() const { return opt_.delay_mode; }
  // Overrides what flip-flop f captured (launched at the next step()).
  void set_state(int f, bool value) { state_[f] = value; }
  // After step(): no transition is still in flight past the closing edge.
  bool quiet() const { return carry_.empty(); }
  // After step(): f(gate, t) for every gate with output events still in flight
  // past the closing edge, t its latest one in the next window's frame (ps
  // from the next edge). (`--engine filter` bounds the next cycle from them.)
  template <class F>
  void for_each_in_flight(F f) const {
    for (int g : carry_) {
      std::int32_t last = INT32_MIN;
      for (const Event& e : pending_[g]) last = std::max(last, e.time);
      if (!pending_[g].empty()) f(g, last - period_ps_);
    }
  }

 private:
  const Circuit& c_;
  SimOptions opt_;
  std::int32_t period_ps_ = 0, input_delay_ps_ = 0;
  std::vector<std::uint8_t> value_;        // per net, committed at window start
  std::vector<std::uint8_t> next_input_;   // per net (PIs only meaningful)
  // Events of this window, one contiguous run per net (the driver writes a
  // net's events in one go, so they stay together and in time order).
  std::vector<Event> arena_;  // its size is the capacity; arena_used_ events are in use
  std::size_t arena_used_ = 0;
  // Room for n more events after the used ones (pointers into the arena move when it grows).
  Event* arena_room(std::size_t n) {
    if (arena_used_ + n > arena_.size()) arena_.resize(std::max(2 * arena_.size(), arena_used_ + n));
    return arena_.data() + arena_used_;
  }
  std::vector<std::uint32_t> wave_begin_, wave_count_;  // per net
  std::vector<int> touched_;               // nets with events this window
  std::vector<int> carry_;                 // gates with events pending past the window
  std::vector<std::uint8_t> active_;       // per gate: has input events or pending output
  void mark_fanout(int net) {
    for (int i = c_.fanout_begin[net]; i < c_.fanout_begin[net + 1]; ++i) active_[c_.fanout_gates[i]] = 1;
  }
  std::vector<std::uint32_t> gate_inputs_; // per gate, input bits as of last processed event
  std::vector<std::uint8_t> gate_out_;     // per gate, committed output value
  std::vector<std::vector<Event>> pending_;  // per gate, scheduled output events
  std::vector<std::uint8_t> state_, settled_;
  std::vector<std::int32_t> settle_ps_;
  std::vector<int> gate_of_net_;           // driver gate of a net, -1 if none
  std::vector<std::uint8_t> zero_delay_;   // scratch for settled values
  std::uint64_t events_ = 0;
  // Shadow flops and the gates in the fan-out cone of their Q (processed a
  // second time once the shadow's new Q is known, from a snapshot).
  std::int32_t shadow_delay_ps_ = 0;
  std::vector<int> shadow_flops_, shadow_cone_;
  std::vector<std::uint32_t> cone_inputs_;
  std::vector<std::uint8_t> cone_out_;
  std::vector<std::vector<Event>> cone_pending_;
  std::vector<std::uint8_t> listed_;  // scratch: dedupe touched_/carry_

  // Cut: only input transitions up to in_limit are taken, and output
  // transitions after out_limit are dropped (step_cut).
  template <bool Cut>
  void process_gate(int g, std::int32_t in_limit = 0, std::int32_t out_limit = 0);
  std::vector<std::int32_t> min_delay_, max_delay_;  // per gate (transport: the fastest arc; else 0), the slowest
  void capture_shadows();
  void launch_sources(const std::vector<std::int32_t>* cut);
  void take_final_values();
  void settle_zero_delay();
  std::uint8_t captured_value(const FlipFlop& ff) const;
  // How long before its clock edge a D transition of `edge` must arrive.
  std::int32_t setup_ps(const FlipFlop& ff, int edge) const {
    return (opt_.setup_mode == SetupMode::kSdf ? ff.setup_ps[edge] : 0) + ff.d_wire_ps[edge];
  }
};

}  // namespace vosa::dta
