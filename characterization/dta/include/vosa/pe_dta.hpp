// Drives the synthesized PE (module vosa_pe) with an operand trace through the
// timing simulator and collects per-bit timing-error statistics.
#pragma once

#include "vosa/operand_trace.hpp"
#include "vosa/timing_sim.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace vosa::dta {

enum class Dataflow { kWeightStationary, kOutputStationary };

// How the PE's optional ports are driven, so the simulated netlist is the one
// the array instantiates and computes with (docs/dta.md "The PE as generated").
struct PeOperatingPoint {
  int mode = -1;  // precision mode index on mode_i (-1: the PE must have no mode_i)
  int act_drop = 0, weight_drop = 0;  // low operand bits that mode drops (vosa::dropped_bits)
  std::vector<int> razor_bits;        // protected output-register bits (config razor.bits)
  std::string razor_policy;           // correct or drop
};

// Which nets of the PE netlist carry what.
struct PeBinding {
  Dataflow dataflow = Dataflow::kWeightStationary;
  std::vector<int> output_flops;  // bit j of the output register (psum_o[j])
  std::vector<int> act_nets, weight_nets, psum_nets;
  // Carry-save PE: the incoming carry word and the carry register psum_c_q.
  std::vector<int> psum_c_nets, carry_flops;
  int act_lead = 1, weight_lead = 1, psum_lead = 0;  // 1: the port feeds a register first
  std::vector<std::pair<int, bool>> constants;        // control inputs held constant
  int act_bits = 0, weight_bits = 0, acc_bits = 0;
  int act_drop = 0, weight_drop = 0;  // precision mode: the multiplier sees reduced operands
  // Razor: per output bit its shadow flop (clocked by clk_shadow_i), -1 if unprotected.
  std::vector<int> shadow_flops;
  // Carry-save Razor PE: the carry word's shadow flop of each protected bit
  // (-1: unprotected, or a constant carry bit synthesis removed).
  std::vector<int> carry_shadow_flops;
  std::string razor_policy;
  bool razor() const { return !razor_policy.empty(); }
  // Razor policy correct: stall_i tied to the PE's own err_o (BuildOptions::
  // port_ties), so a detected error stalls the PE as in the array; its net.
  int stall_net = -1;
  int err_net = -1;  // the Razor PE's err_o
  bool carry_save() const { return !psum_c_nets.empty(); }
};

PeBinding bind_pe(const Circuit& c, const Netlist& nl, Dataflow dataflow, const PeOperatingPoint& op = {});

// mask -> (settled & mask) -> erroneous cycles.
using PatternCorrectBits = std::unordered_map<std::uint64_t, std::unordered_map<std::uint64_t, std::uint64_t>>;

// Erroneous cycles: per-bit errors, joint masks and their correct bits; of
// one value class of the settled (correct) value (vosa::value_class,
// error_model.hpp; schema 4), or of one operand class (ClassCounts).
struct ValueCounts {
  // Every cycle of the class, erroneous or not (the hit rate's denominator:
  // a value class's and an operand class's).
  std::uint64_t samples = 0;
  std::uint64_t cycles_with_error = 0;
  std::vector<std::uint64_t> bit_errors;
  std::unordered_map<std::uint64_t, std::uint64_t> patterns;
  PatternCorrectBits pattern_correct;
  void add(std::uint64_t diff, std::uint64_t settled, int acc_bits);
  void merge(const ValueCounts& o);
};

// The statistics of one operand class (vosa::operand_class, error_model.hpp).
// (pattern_correct: per joint mask, the settled value's bits at the mask's
// positions and their counts; schema 3, docs/errmodel.md "correct_bits".)
struct ClassCounts : ValueCounts {
  std::vector<ValueCounts> by_value;  // indexed by vosa::value_class (schema 4)
};

// One cycle in which the output register captured a wrong value.
struct ErrorCycle {
  std::uint64_t cycle = 0;  // record index in the trace
  std::uint64_t settled = 0, captured = 0;  // acc_bits-wide register contents
};

// What Razor makes of each cycle (docs/dta.md "Razor PE"): the shadow flop
// samples the same D at the delayed edge; err_o = main differs from shadow on
// a protected bit.
struct RazorStats {
  std::uint64_t flagged = 0;       // cycles with err_o (a stall with policy correct)
  std::uint64_t corrected = 0;     // flagged, every protected shadow bit right
  std::uint64_t miscorrected = 0;  // flagged, some protected shadow bit wrong
  std::uint64_t undetected = 0;    // a protected bit wrong in main and shadow alike, not flagged
  std::uint64_t false_flags = 0;   // flagged without a wrong protected main bit
  // stall_i driven (policy correct): edges at which the PE held, and of those
  // the ones whose output register did not capture the settled (restored) value.
  std::uint64_t stall_cycles = 0, stall_capture_errors = 0;
  std::vector<std::uint64_t> late, missed;  // per bit: main wrong; main and shadow wrong
  // The partial sum the PE passes on after Razor acted (policy), against the settled one.
  std::uint64_t residual_cycles = 0;
  std::vector<std::uint64_t> residual_bit_errors;
  std::map<std::int64_t, std::uint64_t> residual_values;
  void merge(const RazorStats& o);
};

// The carry-save PE's second register (docs/dta.md "Carry-save PE"): its
// carry word, and the partial sum the pair stands for (sum + carry).
struct CarryWordStats {
  std::uint64_t cycles_with_error = 0, settled_mismatches = 0;
  std::vector<std::uint64_t> bit_errors;
  std::uint64_t pair_cycles_with_error = 0;           // sum + carry differs from the settled pair's
  std::map<std::int64_t, std::uint64_t> pair_error_values;
  // Cycles with a wrong bit in either word, and their joint (sum mask, carry
  // mask) patterns: what the injector draws a carry-save PE's errors from.
  std::uint64_t either_cycles_with_error = 0;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> joint_patterns;
  void merge(const CarryWordStats& o);
};

struct PointStats {
  int acc_bits = 0;
  std::int32_t period_ps = 0;
  std::uint64_t samples = 0;
  std::vector<std::uint64_t> bit_errors;
  std::vector<double> settle_sum_ps;
  std::vector<std::int32_t> settle_max_ps;  // latest simulated arrival of each bit
  std::vector<std::vector<std::uint64_t>> settle_hist;  // kSettleBins bins of T/10, last one open
  std::map<std::int64_t, std::uint64_t> error_values;
  std::unordered_map<std::uint64_t, std::uint64_t> patterns;
  PatternCorrectBits pattern_correct;  // per mask, the settled value's bits there (ClassCounts')
  std::uint64_t cycles_with_error = 0;
  std::uint64_t settled_mismatches = 0;  // netlist vs arithmetic (must stay 0)
  std::uint64_t events = 0;
  std::uint64_t event_times = 0;  // parallel engine: distinct (gate, time) ops over all lanes
  std::uint64_t filtered = 0;     // filter engine: cycles its settle bound resolved without event simulation
  std::uint64_t cone_simulated = 0;  // filter engine: cycles simulated only in the fan-in of their late flip-flops
  double bound_seconds = 0, simulate_seconds = 0;  // filter engine: CPU time in the bounds and in event simulation
  int lane_gates = 0, gates = 0;  // filter engine: gates bounded lane by lane, of all (the others take a static bound)
  std::vector<ClassCounts> classes;       // indexed by vosa::operand_class
  // Schema 4: the erroneous cycles by value class of the settled value,
  // vosa::value_class(settled, acc_bits, value_low_bit).
  int value_low_bit = 0;
  std::vector<ValueCounts> by_value;
  std::vector<ErrorCycle> error_cycles;   // only with RunOptions::record_error_cycles
  // Only with RunOptions::count_activity: per net, transitions (glitches
  // included), cycles ending at 1 and cycles ending at another value than
  // they began with, over activity_cycles cycles.
  std::vector<std::uint64_t> net_toggles, net_high, net_functional;
  std::uint64_t activity_cycles = 0;
  RazorStats razor;  // only for a Razor PE
  CarryWordStats carry;  // only for a carry-save PE
  static constexpr int kSettleBins = 20;

  void init(int bits, std::int32_t period);
  void merge(const PointStats& o);
};

struct RunOptions {
  SimOptions sim;
  bool is_signed = true;
  std::vector<std::uint64_t>* captured_log = nullptr;  // per cycle output value (optional)
  // Per simulated cycle (priming cycles included): a_i, w_i, psum_i as applied.
  std::vector<std::array<std::int64_t, 3>>* input_log = nullptr;
  // Carry-save PE, with captured_log / input_log: the carry register per
  // captured_log entry and the incoming carry word per input_log entry.
  std::vector<std::uint64_t>* carry_log = nullptr;
  std::vector<std::int64_t>* carry_input_log = nullptr;
  // Razor PE: per captured_log entry, err_o for that value (main differs from
  // the shadow sampled at the delayed edge after it).
  std::vector<std::uint8_t>* err_log = nullptr;
  bool record_error_cycles = false;  // fill PointStats::error_cycles
  bool count_activity = false;       // fill PointStats::net_toggles (event engine)
};

// Operands on a_i, w_i, psum_i in one simulated cycle.
struct CycleOperands {
  std::int64_t a = 0, w = 0, psum = 0, psum_c = 0;
};
// The cycle that computes record n (a registered port gets record n + lead).
CycleOperands record_operands(const PeBinding& b, const OperandTrace& trace, std::size_t n);
// The cycle before record `begin`: fills the input registers with it.
CycleOperands priming_operands(const PeBinding& b, const OperandTrace& trace, std::size_t begin);
// Throws naming the trace and the PE when their widths differ.
void check_trace_shape(const PeBinding& b, const OperandTrace& trace);
// Adds the outcome of record n (captured and settled output register, settle
// time of each bit) to the statistics; `acc_state` is what the register held
// before (output-stationary: the accumulator) and becomes `captured`.
void record_cycle(PointStats& s, const PeBinding& b, const OperandTrace& trace, std::size_t n,
                  std::uint64_t captured, std::uint64_t settled, const std::int32_t* settle_ps,
                  std::uint64_t& acc_state, const RunOptions& opt);

// A carry-save PE's carry register in one capture, for record_razor.
struct CarryCapture {
  std::uint64_t captured = 0, settled = 0, shadow = 0;
};

// What the registers captured at a stall edge (stall_i driven).
struct StallCapture {
  bool stalled = false;  // the edge after the record's judgement held the PE
  std::uint64_t sum = 0, carry = 0;
};

// Adds what Razor made of record n: `shadow` is what the shadow flops sampled
// at the delayed edge after the record's capture (protected bits only). With
// `stall` (stall_i driven), what the PE passes on is what its registers hold
// after that edge: the restore if it stalled, the capture if it did not. A
// carry-save PE passes its carry word too: a protected bit wrong in either
// word counts (late, flagged, ...), correction restores both words, TE-Drop
// passes the incoming pair, and after_razor is the error of the pair's value.
void record_razor(RazorStats& s, const PeBinding& b, const OperandTrace& trace, std::size_t n,
                  std::uint64_t captured, std::uint64_t settled, std::uint64_t shadow, bool is_signed,
                  const CarryCapture* carry = nullptr, const StallCapture* stall = nullptr);

// Simulates records [begin, end) (each one cycle; record begin-1, if any,
// primes the input registers). Single-threaded.
PointStats run_pe_trace(const Circuit& c, const PeBinding& b, const OperandTrace& trace,
                        std::size_t begin, std::size_t end, const RunOptions& opt);
// Splits the trace into `threads` chunks (each primed by its preceding record).
PointStats run_pe_trace_parallel(const Circuit& c, const PeBinding& b, const OperandTrace& trace,
                                 const RunOptions& opt, int threads);

// The pattern-parallel engine (parallel_engine.cpp, docs/dta.md "Engines"):
// the same captured value, settled value and settle time as run_pe_trace on
// the whole trace in every cycle, for transport delays; many cycles per pass.
// Identical results for any thread count. Throws DtaError for a delay mode or
// circuit it cannot simulate exactly.
PointStats run_pe_trace_pattern_parallel(const Circuit& c, const PeBinding& b, const OperandTrace& trace,
                                         const RunOptions& opt, int threads);

// The settle-bound filter engine (filter_engine.cpp, docs/dta.md "Engines"):
// the same captured and settled value as run_pe_trace on the whole trace in
// every cycle, any delay mode; cycles whose latest possible transitions are
// all before their capture deadlines take the zero-delay values, the others
// are simulated event by event. Settle times of the cycles it did not
// simulate are the bound (>= the simulated settle time). A Razor or
// carry-save PE, a run counting activity or a flip-flop whose asynchronous
// pin is driven by logic is simulated by run_pe_trace on the whole stream
// (filter_engine_applies() says which).
PointStats run_pe_trace_filtered(const Circuit& c, const PeBinding& b, const OperandTrace& trace,
                                 const RunOptions& opt, int threads);
bool filter_engine_applies(const Circuit& c, const PeBinding& b, const RunOptions& opt);
// The instruction set the filter engine's lane loops run with: avx512f, avx2
// or x86-64 (the best the CPU has; $VOSA_FILTER_ISA forces one, x86-64 the
// portable loops). A named error for an unknown or unsupported one.
std::string filter_engine_isa();

// What a written point's joint patterns keep (vosa dta --mask-form,
// docs/errmodel.md "Value classes"): "xor" drops correct_bits and
// value_classes, "correct-bits" drops value_classes, "value-classes" drops
// correct_bits, "value-classes+correct-bits" keeps both. The default is the
// form that passed the most fidelity cases (docs/errmodel.md "Hit rate per
// value class", 2026-12-01): value-classes (the patterns and the hit rate per
// value class of the correct value, XORed).
constexpr const char* kDefaultMaskForm = "value-classes";
void apply_mask_form(nlohmann::json& point, const std::string& form);

// One entry of errmodel.json's points[] (schema: docs/errmodel.md).
nlohmann::json point_to_json(const PointStats& s, double voltage, const std::string& corner,
                             const std::string& delay_source, int top_patterns = 16);
// The carry-word object of a carry-save PE's point.
nlohmann::json carry_word_to_json(const CarryWordStats& c, int acc_bits, std::uint64_t samples, int top_patterns = 16);
// The Razor object of a point (docs/errmodel.md "razor").
nlohmann::json razor_to_json(const RazorStats& r, const PeBinding& b, std::uint64_t samples, double shadow_delay_ns);

}  // namespace vosa::dta
