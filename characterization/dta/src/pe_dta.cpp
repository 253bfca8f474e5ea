#include "vosa/pe_dta.hpp"

#include "vosa/carry_save.hpp"
#include "vosa/error_model.hpp"
#include "vosa/precision.hpp"

#include "run_slices.hpp"

#include <algorithm>
#include <cmath>

namespace vosa::dta {

namespace {

// A stall_i tied to err_o falls once the restore removed the mismatch; a
// longer run means the netlist never clears its error flag.
constexpr int kMaxStallRun = 4;

std::vector<int> port_nets(const Circuit& c, const Netlist& nl, const std::string& name) {
  const NetlistPort* p = nl.find_port(name);
  if (!p) throw DtaError(nl.path + ": PE netlist has no port '" + name + "'");
  std::vector<int> nets;
  for (int b = 0; b < p->width(); ++b) nets.push_back(c.net_alias[nl.find_net(p->bit_name(b))]);
  return nets;
}

}  // namespace

PeBinding bind_pe(const Circuit& c, const Netlist& nl, Dataflow dataflow, const PeOperatingPoint& op) {
  PeBinding b;
  b.dataflow = dataflow;
  const std::vector<int> out_nets = port_nets(c, nl, "psum_o");
  for (size_t j = 0; j < out_nets.size(); ++j) {
    int f = c.flop_driving(out_nets[j]);
    // TE-Drop muxes psum_o between psum_q and psum_in_q: the register is psum_q.
    if (f < 0 && !op.razor_policy.empty()) {
      const int q = nl.find_net("psum_q[" + std::to_string(j) + "]");
      if (q >= 0) f = c.flop_driving(c.net_alias[q]);
    }
    if (f < 0)
      throw DtaError(nl.path + ": output port psum_o bit '" + c.net_names[out_nets[j]] +
                     "' is not driven by a flip-flop Q (expected the PE output register)");
    b.output_flops.push_back(f);
  }
  if (nl.find_port("psum_c_i")) {  // carry-save partial sums: the carry word in and its register
    b.psum_c_nets = port_nets(c, nl, "psum_c_i");
    const std::vector<int> carry_out = port_nets(c, nl, "psum_c_o");
    for (size_t j = 0; j < carry_out.size(); ++j) {
      int net = carry_out[j];
      int f = c.flop_driving(net);
      // TE-Drop muxes psum_c_o between psum_c_q and psum_c_in_q: the register is psum_c_q.
      if (f < 0 && !op.razor_policy.empty()) {
        const int q = nl.find_net("psum_c_q[" + std::to_string(j) + "]");
        if (q < 0 && j == 0) {  // the constant carry bit: its flop is gone, its name too
          b.carry_flops.push_back(-1);
          continue;
        }
        if (q >= 0) {
          net = c.net_alias[q];
          f = c.flop_driving(net);
        }
      }
      // Synthesis removes the flop of a constant carry bit (bit 0 is always 0).
      if (f < 0 && std::find(c.constant_nets.begin(), c.constant_nets.end(), net) != c.constant_nets.end()) {
        b.carry_flops.push_back(-1);
        continue;
      }
      if (f < 0)
        throw DtaError(nl.path + ": output port psum_c_o bit '" + c.net_names[net] +
                       "' is not driven by a flip-flop Q (expected the carry register psum_c_q)");
      b.carry_flops.push_back(f);
    }
  }
  b.act_nets = port_nets(c, nl, "a_i");
  b.weight_nets = port_nets(c, nl, "w_i");
  b.psum_nets = port_nets(c, nl, "psum_i");
  b.act_bits = static_cast<int>(b.act_nets.size());
  b.weight_bits = static_cast<int>(b.weight_nets.size());
  b.acc_bits = static_cast<int>(b.output_flops.size());

  // Control inputs held for steady computation; anything else is unexpected.
  // stall_i (the hold enable) is held inactive as in every cycle the array
  // computes, so the characterized netlist, stall mux included, is the one the
  // array instantiates; with Razor policy correct the caller ties it to err_o
  // (BuildOptions::port_ties) and it is no primary input.
  const std::map<std::string, bool> controls = {{"rst_ni", true}, {"w_shift_i", true},
                                                {"valid_i", true}, {"first_i", false},
                                                {"drain_i", false}, {"stall_i", false}};
  for (const auto& p : nl.ports) {
    if (p.direction != "input" || p.name == c.clock_port || p.name == c.shadow_clock_port || p.name == "a_i" ||
        p.name == "w_i" || p.name == "psum_i" || p.name == "psum_c_i")
      continue;
    if (p.name == "mode_i") {
      // The precision mode register's value, held as the array holds it
      // while a layer runs in one mode.
      if (op.mode < 0)
        throw DtaError(nl.path + ": the PE has precision modes (port mode_i): give the mode to simulate (--mode)");
      const std::vector<int> nets = port_nets(c, nl, p.name);
      if (op.mode >= (1 << nets.size()))
        throw DtaError(nl.path + ": --mode " + std::to_string(op.mode) + " does not fit mode_i (" +
                       std::to_string(nets.size()) + " bits)");
      for (size_t k = 0; k < nets.size(); ++k) b.constants.emplace_back(nets[k], (op.mode >> k) & 1);
      continue;
    }
    if (p.name == "stall_i" && std::find(c.primary_inputs.begin(), c.primary_inputs.end(),
                                         port_nets(c, nl, p.name)[0]) == c.primary_inputs.end()) {
      if (op.razor_policy != "correct")
        throw DtaError(nl.path + ": stall_i is driven by err_o, but the PE's Razor policy is not correct");
      b.stall_net = port_nets(c, nl, p.name)[0];
      continue;
    }
    const auto it = controls.find(p.name);
    if (it == controls.end())
      throw DtaError(nl.path + ": PE input port '" + p.name + "' has no known role");
    for (int n : port_nets(c, nl, p.name)) b.constants.emplace_back(n, it->second);
  }
  // The simulated error flag (the err log's source): with policy correct the
  // PE masks it in the cycle after a stalled edge (docs/razor.md).
  if (!op.razor_policy.empty()) b.err_net = port_nets(c, nl, "err_o")[0];
  if (op.mode >= 0 && !nl.find_port("mode_i"))
    throw DtaError(nl.path + ": --mode " + std::to_string(op.mode) + " given, but the PE has no precision modes (no port mode_i)");
  b.act_drop = op.act_drop;
  b.weight_drop = op.weight_drop;

  // Razor: the shadow flop of each protected bit (the flow names its Q net
  // g_bit[j].g_razor.shadow_q); every shadow flop must belong to one.
  int shadows = 0;
  for (const auto& ff : c.flops) shadows += ff.shadow;
  if (shadows && op.razor_policy.empty())
    throw DtaError(nl.path + ": the PE has Razor shadow flops (clocked by " + c.shadow_clock_port +
                   "): the manifest's razor settings are needed (--manifest)");
  if (!op.razor_policy.empty()) {
    b.razor_policy = op.razor_policy;
    b.shadow_flops.assign(b.output_flops.size(), -1);
    for (int j : op.razor_bits) {
      if (j < 0 || j >= static_cast<int>(b.output_flops.size()))
        throw DtaError(nl.path + ": Razor bit " + std::to_string(j) + " is outside psum_o");
      const int q = nl.find_net("g_bit[" + std::to_string(j) + "].g_razor.shadow_q");
      const int f = q < 0 ? -1 : c.flop_driving(c.net_alias[q]);
      if (f < 0 || !c.flops[f].shadow)
        throw DtaError(nl.path + ": no shadow flop on " + c.shadow_clock_port + " drives g_bit[" + std::to_string(j) +
                       "].g_razor.shadow_q (Razor bit " + std::to_string(j) + " of the manifest)");
      b.shadow_flops[j] = f;
    }
    int carry_shadows = 0;
    if (b.carry_save()) {  // the same bits of the carry word (g_bit[j].g_razor.shadow_c_q)
      b.carry_shadow_flops.assign(b.output_flops.size(), -1);
      for (int j : op.razor_bits) {
        const int q = nl.find_net("g_bit[" + std::to_string(j) + "].g_razor.shadow_c_q");
        const int f = q < 0 ? -1 : c.flop_driving(c.net_alias[q]);
        if (f >= 0 && c.flops[f].shadow) {
          b.carry_shadow_flops[j] = f;
          ++carry_shadows;
        } else if (j < static_cast<int>(b.carry_flops.size()) && b.carry_flops[j] >= 0) {
          throw DtaError(nl.path + ": no shadow flop on " + c.shadow_clock_port + " drives g_bit[" +
                         std::to_string(j) + "].g_razor.shadow_c_q (Razor bit " + std::to_string(j) +
                         " of the carry word)");
        }
      }
    }
    if (static_cast<int>(op.razor_bits.size()) + carry_shadows != shadows)
      throw DtaError(nl.path + ": " + std::to_string(shadows) + " shadow flops, but the manifest protects " +
                     std::to_string(op.razor_bits.size()) + " bits" +
                     (b.carry_save() ? " (and " + std::to_string(carry_shadows) + " carry-word bits)" : ""));
  }

  // Pipeline alignment: a port whose bits reach the output register's D
  // through logic only is consumed in its own cycle (lead 0); otherwise it is
  // registered first and must be applied one cycle early (lead 1).
  std::vector<std::uint8_t> in_cone(c.net_names.size(), 0);
  for (int f : b.output_flops) in_cone[c.flops[f].d_net] = 1;
  for (auto it = c.gates.rbegin(); it != c.gates.rend(); ++it)
    if (in_cone[it->out_net])
      for (int k = 0; k < it->num_inputs; ++k) in_cone[it->in_net[k]] = 1;
  auto lead = [&](const std::vector<int>& nets) {
    for (int n : nets)
      if (in_cone[n]) return 0;
    return 1;
  };
  b.act_lead = lead(b.act_nets);
  b.weight_lead = lead(b.weight_nets);
  b.psum_lead = lead(b.psum_nets);
  if (b.carry_save() && lead(b.psum_c_nets) != b.psum_lead)
    throw DtaError(nl.path + ": psum_c_i and psum_i reach the registers at different pipeline stages");
  return b;
}

void PointStats::init(int bits, std::int32_t period) {
  acc_bits = bits;
  period_ps = period;
  bit_errors.assign(bits, 0);
  settle_sum_ps.assign(bits, 0.0);
  settle_max_ps.assign(bits, 0);
  settle_hist.assign(bits, std::vector<std::uint64_t>(kSettleBins, 0));
  value_low_bit = std::max(0, bits - kValueClassTopBits);
  by_value.assign(kValueClasses, ValueCounts{});
  for (auto& v : by_value) v.bit_errors.assign(bits, 0);
  classes.assign(kOperandClasses, ClassCounts{});
  for (auto& c : classes) {
    c.bit_errors.assign(bits, 0);
    c.by_value = by_value;
  }
}

void ValueCounts::add(std::uint64_t diff, std::uint64_t settled, int acc_bits) {
  ++cycles_with_error;
  for (int j = 0; j < acc_bits; ++j) bit_errors[j] += (diff >> j) & 1;
  ++patterns[diff];
  ++pattern_correct[diff][settled & diff];
}

void ValueCounts::merge(const ValueCounts& o) {
  samples += o.samples;
  cycles_with_error += o.cycles_with_error;
  if (bit_errors.size() < o.bit_errors.size()) bit_errors.resize(o.bit_errors.size(), 0);
  for (std::size_t j = 0; j < o.bit_errors.size(); ++j) bit_errors[j] += o.bit_errors[j];
  for (const auto& [m, n] : o.patterns) patterns[m] += n;
  for (const auto& [m, refs] : o.pattern_correct)
    for (const auto& [r, n] : refs) pattern_correct[m][r] += n;
}

void PointStats::merge(const PointStats& o) {
  samples += o.samples;
  cycles_with_error += o.cycles_with_error;
  settled_mismatches += o.settled_mismatches;
  events += o.events;
  event_times += o.event_times;
  filtered += o.filtered;
  cone_simulated += o.cone_simulated;
  bound_seconds += o.bound_seconds;
  simulate_seconds += o.simulate_seconds;
  lane_gates = std::max(lane_gates, o.lane_gates);
  gates = std::max(gates, o.gates);
  for (int j = 0; j < acc_bits; ++j) {
    bit_errors[j] += o.bit_errors[j];
    settle_sum_ps[j] += o.settle_sum_ps[j];
    settle_max_ps[j] = std::max(settle_max_ps[j], o.settle_max_ps[j]);
    for (int k = 0; k < kSettleBins; ++k) settle_hist[j][k] += o.settle_hist[j][k];
  }
  for (const auto& [v, n] : o.error_values) error_values[v] += n;
  for (const auto& [m, n] : o.patterns) patterns[m] += n;
  for (const auto& [m, refs] : o.pattern_correct)
    for (const auto& [r, n] : refs) pattern_correct[m][r] += n;
  for (size_t k = 0; k < classes.size(); ++k) {
    classes[k].merge(o.classes[k]);
    for (std::size_t v = 0; v < classes[k].by_value.size() && v < o.classes[k].by_value.size(); ++v)
      classes[k].by_value[v].merge(o.classes[k].by_value[v]);
  }
  for (std::size_t v = 0; v < by_value.size() && v < o.by_value.size(); ++v) by_value[v].merge(o.by_value[v]);
  error_cycles.insert(error_cycles.end(), o.error_cycles.begin(), o.error_cycles.end());
  razor.merge(o.razor);
  carry.merge(o.carry);
  if (net_toggles.size() < o.net_toggles.size()) {
    net_toggles.resize(o.net_toggles.size(), 0);
    net_high.resize(o.net_high.size(), 0);
    net_functional.resize(o.net_functional.size(), 0);
  }
  for (std::size_t n = 0; n < o.net_toggles.size(); ++n) {
    net_toggles[n] += o.net_toggles[n];
    net_high[n] += o.net_high[n];
    net_functional[n] += o.net_functional[n];
  }
  activity_cycles += o.activity_cycles;
}

void check_trace_shape(const PeBinding& b, const OperandTrace& trace) {
  const TraceHeader& h = trace.header;
  if (h.act_bits != b.act_bits || h.weight_bits != b.weight_bits || h.acc_bits != b.acc_bits)
    throw DtaError("operand trace '" + h.source + "' is " + std::to_string(h.act_bits) + "x" +
                   std::to_string(h.weight_bits) + " bits with a " + std::to_string(h.acc_bits) +
                   "-bit accumulator, but the PE netlist has a_i " + std::to_string(b.act_bits) +
                   ", w_i " + std::to_string(b.weight_bits) + " and psum_o " +
                   std::to_string(b.acc_bits) + " bits");
}

CycleOperands record_operands(const PeBinding& b, const OperandTrace& trace, std::size_t n) {
  auto rec = [&](std::size_t i) -> const OperandRecord* {
    return i < trace.records.size() ? &trace.records[i] : nullptr;
  };
  const OperandRecord* ra = rec(n + b.act_lead);
  const OperandRecord* rw = rec(n + b.weight_lead);
  const OperandRecord* rp = rec(n + b.psum_lead);
  const bool os = b.dataflow == Dataflow::kOutputStationary;
  return {ra ? ra->activation : 0, rw ? rw->weight : 0, (rp && !os) ? rp->psum_in : 0, (rp && !os) ? rp->psum_c_in : 0};
}

CycleOperands priming_operands(const PeBinding& b, const OperandTrace& trace, std::size_t begin) {
  const OperandRecord& r0 = trace.records[begin];
  return {b.act_lead ? r0.activation : 0, b.weight_lead ? r0.weight : 0, 0, 0};
}

void record_cycle(PointStats& s, const PeBinding& b, const OperandTrace& trace, std::size_t n,
                  std::uint64_t captured, std::uint64_t settled, const std::int32_t* settle_ps,
                  std::uint64_t& acc_state, const RunOptions& opt) {
  const std::uint64_t mask = b.acc_bits >= 64 ? ~0ull : ((1ull << b.acc_bits) - 1);
  const bool os = b.dataflow == Dataflow::kOutputStationary;
  const int bin_width = std::max<std::int32_t>(1, s.period_ps / 10);
  for (int j = 0; j < b.acc_bits; ++j) {
    const std::int32_t t = settle_ps[j];
    s.settle_sum_ps[j] += t;
    s.settle_max_ps[j] = std::max(s.settle_max_ps[j], t);
    s.settle_hist[j][std::min<int>(PointStats::kSettleBins - 1, t / bin_width)]++;
  }
  // Check the netlist computes what the PE should (functional sanity).
  const OperandRecord& r = trace.records[n];
  const std::uint64_t base = os ? acc_state : static_cast<std::uint64_t>(r.psum_in);
  const std::uint64_t product =
      static_cast<std::uint64_t>(reduce_operand(r.activation, b.act_drop) * reduce_operand(r.weight, b.weight_drop));
  const std::uint64_t expect =
      b.carry_save() ? carry_save_add(base, static_cast<std::uint64_t>(r.psum_c_in), product, b.acc_bits).sum
                     : (base + product) & mask;
  if (expect != settled) ++s.settled_mismatches;
  acc_state = captured;
  const std::uint64_t diff = captured ^ settled;
  ++s.samples;
  // The activation register held record n-1's activation (0 after reset).
  ClassCounts& cls = s.classes[operand_class(n > 0 ? trace.records[n - 1].activation : 0, r.activation, r.weight)];
  ++cls.samples;
  // The value class of the settled value, counted in every cycle (the hit
  // rate per value class, docs/errmodel.md "Hit rate per value class").
  const int vc = b.acc_bits >= 2 ? value_class(settled, b.acc_bits, s.value_low_bit) : -1;
  if (vc >= 0) {
    ++s.by_value[vc].samples;
    ++cls.by_value[vc].samples;
  }
  if (diff) {
    ++s.cycles_with_error;
    for (int j = 0; j < b.acc_bits; ++j) s.bit_errors[j] += (diff >> j) & 1;
    ++s.patterns[diff];
    ++s.pattern_correct[diff][settled & diff];
    cls.add(diff, settled, b.acc_bits);
    if (vc >= 0) {
      s.by_value[vc].add(diff, settled, b.acc_bits);
      cls.by_value[vc].add(diff, settled, b.acc_bits);
    }
    if (opt.record_error_cycles) s.error_cycles.push_back({n, settled, captured});
    const std::int64_t cv = wrap_to_bits(static_cast<std::int64_t>(captured), b.acc_bits, opt.is_signed);
    const std::int64_t sv = wrap_to_bits(static_cast<std::int64_t>(settled), b.acc_bits, opt.is_signed);
    ++s.error_values[cv - sv];
  }
}

void CarryWordStats::merge(const CarryWordStats& o) {
  cycles_with_error += o.cycles_with_error;
  settled_mismatches += o.settled_mismatches;
  pair_cycles_with_error += o.pair_cycles_with_error;
  if (bit_errors.size() < o.bit_errors.size()) bit_errors.resize(o.bit_errors.size(), 0);
  for (size_t j = 0; j < o.bit_errors.size(); ++j) bit_errors[j] += o.bit_errors[j];
  for (const auto& [v, n] : o.pair_error_values) pair_error_values[v] += n;
  either_cycles_with_error += o.either_cycles_with_error;
  for (const auto& [m, n] : o.joint_patterns) joint_patterns[m] += n;
}

namespace {

// The carry word of record n and the partial sum of the pair, against the
// settled pair (which must be the carry-save step of the record's inputs).
void record_carry(CarryWordStats& s, const PeBinding& b, const OperandTrace& trace, std::size_t n,
                  std::uint64_t sum_captured, std::uint64_t sum_settled, std::uint64_t captured, std::uint64_t settled,
                  bool is_signed) {
  if (s.bit_errors.empty()) s.bit_errors.assign(b.acc_bits, 0);
  const OperandRecord& r = trace.records[n];
  const std::uint64_t product =
      static_cast<std::uint64_t>(reduce_operand(r.activation, b.act_drop) * reduce_operand(r.weight, b.weight_drop));
  if (carry_save_add(static_cast<std::uint64_t>(r.psum_in), static_cast<std::uint64_t>(r.psum_c_in), product,
                     b.acc_bits).carry != settled)
    ++s.settled_mismatches;
  const std::uint64_t diff = captured ^ settled;
  if (diff) {
    ++s.cycles_with_error;
    for (int j = 0; j < b.acc_bits; ++j) s.bit_errors[j] += (diff >> j) & 1;
  }
  const std::uint64_t sum_diff = sum_captured ^ sum_settled;
  if (diff || sum_diff) {
    ++s.either_cycles_with_error;
    ++s.joint_patterns[{sum_diff, diff}];
  }
  const std::int64_t got = wrap_to_bits(static_cast<std::int64_t>(sum_captured + captured), b.acc_bits, is_signed);
  const std::int64_t want = wrap_to_bits(static_cast<std::int64_t>(sum_settled + settled), b.acc_bits, is_signed);
  if (got != want) {
    ++s.pair_cycles_with_error;
    ++s.pair_error_values[got - want];
  }
}

}  // namespace

void RazorStats::merge(const RazorStats& o) {
  flagged += o.flagged;
  corrected += o.corrected;
  miscorrected += o.miscorrected;
  undetected += o.undetected;
  false_flags += o.false_flags;
  stall_cycles += o.stall_cycles;
  stall_capture_errors += o.stall_capture_errors;
  residual_cycles += o.residual_cycles;
  if (late.size() < o.late.size()) {
    late.resize(o.late.size(), 0);
    missed.resize(o.late.size(), 0);
    residual_bit_errors.resize(o.late.size(), 0);
  }
  for (size_t j = 0; j < o.late.size(); ++j) {
    late[j] += o.late[j];
    missed[j] += o.missed[j];
    residual_bit_errors[j] += o.residual_bit_errors[j];
  }
  for (const auto& [v, n] : o.residual_values) residual_values[v] += n;
}

void record_razor(RazorStats& s, const PeBinding& b, const OperandTrace& trace, std::size_t n,
                  std::uint64_t captured, std::uint64_t settled, std::uint64_t shadow, bool is_signed,
                  const CarryCapture* carry, const StallCapture* stall) {
  if (s.late.empty()) {
    s.late.assign(b.acc_bits, 0);
    s.missed.assign(b.acc_bits, 0);
    s.residual_bit_errors.assign(b.acc_bits, 0);
  }
  std::uint64_t protect = 0;
  for (int j = 0; j < b.acc_bits; ++j)
    if (b.shadow_flops[j] >= 0) protect |= std::uint64_t{1} << j;
  // A carry-save PE: a protected bit position is late (missed, flagged) when
  // it is in either word.
  const CarryCapture none;
  const CarryCapture& cw = carry ? *carry : none;
  const std::uint64_t late = ((captured ^ settled) | (cw.captured ^ cw.settled)) & protect;
  const std::uint64_t shadow_wrong = ((shadow ^ settled) | (cw.shadow ^ cw.settled)) & protect;
  const bool flagged = (((captured ^ shadow) | (cw.captured ^ cw.shadow)) & protect) != 0;
  for (int j = 0; j < b.acc_bits; ++j) {
    s.late[j] += (late >> j) & 1;
    s.missed[j] += (late & shadow_wrong) >> j & 1;
  }
  if (flagged) {
    ++s.flagged;
    if (shadow_wrong) ++s.miscorrected;
    else ++s.corrected;
    if (!late) ++s.false_flags;
  } else if (late) {
    ++s.undetected;
  }
  // What the PE passes on: correct restores the protected bits from the
  // shadow in the stall cycle; drop (TE-Drop) passes the incoming partial sum.
  const std::uint64_t word = (std::uint64_t{1} << b.acc_bits) - 1;
  std::uint64_t out = captured, carry_out = cw.captured;
  if (stall) {  // simulated: what the registers hold after the stall edge, if there was one
    if (stall->stalled) {
      out = stall->sum;
      carry_out = stall->carry;
    }
  } else if (flagged) {
    const bool drop = b.razor_policy == "drop";
    out = drop ? static_cast<std::uint64_t>(trace.records[n].psum_in) & word : (captured & ~protect) | (shadow & protect);
    carry_out = drop ? static_cast<std::uint64_t>(trace.records[n].psum_c_in) & word
                     : (cw.captured & ~protect) | (cw.shadow & protect);
  }
  if (carry) {  // the pair: its bits (either word wrong) and the error of its value
    const std::uint64_t pair_diff = (out ^ settled) | (carry_out ^ cw.settled);
    if (!pair_diff) return;
    ++s.residual_cycles;
    for (int j = 0; j < b.acc_bits; ++j) s.residual_bit_errors[j] += (pair_diff >> j) & 1;
    ++s.residual_values[wrap_to_bits(static_cast<std::int64_t>((out + carry_out) & word), b.acc_bits, is_signed) -
                        wrap_to_bits(static_cast<std::int64_t>((settled + cw.settled) & word), b.acc_bits, is_signed)];
    return;
  }
  const std::uint64_t diff = out ^ settled;
  if (!diff) return;
  ++s.residual_cycles;
  for (int j = 0; j < b.acc_bits; ++j) s.residual_bit_errors[j] += (diff >> j) & 1;
  ++s.residual_values[wrap_to_bits(static_cast<std::int64_t>(out), b.acc_bits, is_signed) -
                      wrap_to_bits(static_cast<std::int64_t>(settled), b.acc_bits, is_signed)];
}

PointStats run_pe_trace(const Circuit& c, const PeBinding& b, const OperandTrace& trace,
                        std::size_t begin, std::size_t end, const RunOptions& opt) {
  check_trace_shape(b, trace);
  TimingSimulator sim(c, opt.sim);
  PointStats s;
  s.init(b.acc_bits, sim.period_ps());

  auto set_bits = [&](const std::vector<int>& nets, std::int64_t v) {
    for (size_t i = 0; i < nets.size(); ++i) sim.set_input(nets[i], (static_cast<std::uint64_t>(v) >> i) & 1);
  };
  auto apply = [&](const CycleOperands& in, bool log = true) {
    set_bits(b.act_nets, in.a);
    set_bits(b.weight_nets, in.w);
    set_bits(b.psum_nets, in.psum);
    set_bits(b.psum_c_nets, in.psum_c);
    if (opt.input_log && log) opt.input_log->push_back({in.a, in.w, in.psum});
    if (opt.carry_input_log && log) opt.carry_input_log->push_back(in.psum_c);
  };
  for (const auto& [n, v] : b.constants) sim.set_input(n, v);
  // Prime the input registers with the first record of this chunk.
  set_bits(b.act_nets, 0);
  set_bits(b.weight_nets, 0);
  set_bits(b.psum_nets, 0);
  set_bits(b.psum_c_nets, 0);
  sim.reset(false);
  if (begin > 0) {  // the chunk starts where the previous record left the registers
    apply(record_operands(b, trace, begin - 1));
    sim.step();
  }
  apply(priming_operands(b, trace, begin));
  sim.step();
  std::uint64_t acc_state = 0;  // OS: the value the accumulator really holds
  for (int j = 0; j < b.acc_bits; ++j) acc_state |= std::uint64_t{sim.captured(b.output_flops[j])} << j;
  if (opt.captured_log) opt.captured_log->push_back(acc_state);
  auto carry_word = [&]() {
    std::uint64_t w = 0;
    for (size_t j = 0; j < b.carry_flops.size(); ++j)
      if (b.carry_flops[j] >= 0) w |= std::uint64_t{sim.captured(b.carry_flops[j])} << j;
    return w;
  };
  if (opt.carry_log) opt.carry_log->push_back(carry_word());

  std::vector<std::int32_t> settle(b.acc_bits);
  // Razor: record n's shadow sample is taken in the window of record n + 1.
  auto shadow_word = [&]() {
    std::uint64_t w = 0;
    for (int j = 0; j < b.acc_bits; ++j)
      if (b.shadow_flops[j] >= 0) w |= std::uint64_t{sim.captured(b.shadow_flops[j])} << j;
    return w;
  };
  auto carry_shadow_word = [&]() {
    std::uint64_t w = 0;
    for (size_t j = 0; j < b.carry_shadow_flops.size(); ++j)
      if (b.carry_shadow_flops[j] >= 0) w |= std::uint64_t{sim.captured(b.carry_shadow_flops[j])} << j;
    return w;
  };
  std::uint64_t razor_captured = 0, razor_settled = 0;
  dta::CarryCapture razor_carry;  // carry-save: the carry register of the record Razor judges next
  auto log_err = [&]() {
    if (opt.err_log && b.razor()) opt.err_log->push_back(sim.edge_value(b.err_net));
  };
  auto judge_razor = [&](std::size_t record, const StallCapture& stall) {
    razor_carry.shadow = carry_shadow_word();
    record_razor(s.razor, b, trace, record, razor_captured, razor_settled, shadow_word(), opt.is_signed,
                 b.carry_save() ? &razor_carry : nullptr, b.stall_net >= 0 ? &stall : nullptr);
  };
  if (opt.count_activity) {
    s.net_toggles.assign(c.net_names.size(), 0);
    s.net_high.assign(c.net_names.size(), 0);
    s.net_functional.assign(c.net_names.size(), 0);
  }
  auto step = [&](const CycleOperands& in, bool log) {
    apply(in, log);
    sim.step();
    if (opt.count_activity) {
      sim.add_activity(s.net_toggles.data(), s.net_high.data(), s.net_functional.data());
      ++s.activity_cycles;
    }
  };
  // stall_i tied to err_o: was the edge that closed the last window a stall
  // (the array held; the PE restored its flagged bits from the shadows)?
  auto stall_edge = [&]() {
    StallCapture st;
    st.stalled = b.stall_net >= 0 && sim.edge_value(b.stall_net);
    if (!st.stalled) return st;
    for (int j = 0; j < b.acc_bits; ++j) st.sum |= std::uint64_t{sim.captured(b.output_flops[j])} << j;
    st.carry = carry_word();
    return st;
  };
  // A stall edge holds the neighbours' registers too: the PE's inputs repeat
  // until an edge that is no stall captures the record (the one in flight).
  auto hold_while_stalled = [&](StallCapture st, std::size_t n, bool log) {
    for (int run = 0; st.stalled; ++run) {
      if (run == kMaxStallRun)
        throw DtaError("record " + std::to_string(n) + ": the PE stalled " + std::to_string(run) +
                       " edges in a row (stall_i = err_o never fell)");
      ++s.razor.stall_cycles;
      std::uint64_t settled = 0, carry_settled = 0;
      for (int j = 0; j < b.acc_bits; ++j) settled |= std::uint64_t{sim.settled(b.output_flops[j])} << j;
      for (size_t j = 0; j < b.carry_flops.size(); ++j)
        if (b.carry_flops[j] >= 0) carry_settled |= std::uint64_t{sim.settled(b.carry_flops[j])} << j;
      if (st.sum != settled || (b.carry_save() && st.carry != carry_settled)) ++s.razor.stall_capture_errors;
      if (opt.captured_log) opt.captured_log->push_back(st.sum);
      if (opt.carry_log) opt.carry_log->push_back(st.carry);
      step(record_operands(b, trace, n), log);
      st = stall_edge();
      log_err();
    }
  };
  for (std::size_t n = begin; n < end; ++n) {
    step(record_operands(b, trace, n), true);
    const StallCapture st = stall_edge();
    if (b.razor() && n > begin) judge_razor(n - 1, st);
    log_err();
    hold_while_stalled(st, n, true);
    std::uint64_t captured = 0, settled = 0;
    for (int j = 0; j < b.acc_bits; ++j) {
      const int f = b.output_flops[j];
      captured |= std::uint64_t{sim.captured(f)} << j;
      settled |= std::uint64_t{sim.settled(f)} << j;
      settle[j] = sim.settle_time_ps(f);
    }
    razor_captured = captured;
    razor_settled = settled;
    if (b.carry_save()) {
      std::uint64_t carry_captured = 0, carry_settled = 0;
      for (size_t j = 0; j < b.carry_flops.size(); ++j) {
        if (b.carry_flops[j] < 0) continue;  // a constant-0 carry bit
        carry_captured |= std::uint64_t{sim.captured(b.carry_flops[j])} << j;
        carry_settled |= std::uint64_t{sim.settled(b.carry_flops[j])} << j;
      }
      record_carry(s.carry, b, trace, n, captured, settled, carry_captured, carry_settled, opt.is_signed);
      razor_carry.captured = carry_captured;
      razor_carry.settled = carry_settled;
    }
    record_cycle(s, b, trace, n, captured, settled, settle.data(), acc_state, opt);
    if (opt.captured_log) opt.captured_log->push_back(captured);
    if (opt.carry_log) opt.carry_log->push_back(carry_word());
  }
  if (b.razor() && end > begin) {  // the last record's shadow sample: one more edge (logged: the kit replays it)
    step(record_operands(b, trace, end), true);
    const StallCapture st = stall_edge();
    judge_razor(end - 1, st);
    log_err();
    s.razor.stall_cycles += st.stalled;  // its held window is not simulated
  }
  s.events = sim.events_processed();
  return s;
}

PointStats run_pe_trace_parallel(const Circuit& c, const PeBinding& b, const OperandTrace& trace,
                                 const RunOptions& opt, int threads) {
  const std::size_t n = trace.records.size();
  if (n == 0) throw DtaError("operand trace '" + trace.header.source + "' has no records");
  threads = std::max(1, std::min<int>(threads, static_cast<int>(n / 1000) + 1));
  if (threads == 1 || opt.captured_log || b.dataflow == Dataflow::kOutputStationary)
    return run_pe_trace(c, b, trace, 0, n, opt);
  std::vector<PointStats> parts(threads);
  run_slices(threads, [&](int t) { parts[t] = run_pe_trace(c, b, trace, n * t / threads, n * (t + 1) / threads, opt); });
  PointStats total = parts[0];
  for (int t = 1; t < threads; ++t) total.merge(parts[t]);
  return total;
}

namespace {

// The `top` most frequent joint error masks, most frequent first, each with
// the settled value's bits at its positions (`correct_bits`, most frequent
// first; schema 3).
nlohmann::json patterns_to_json(const std::unordered_map<std::uint64_t, std::uint64_t>& counts,
                                const PatternCorrectBits& correct, int acc_bits, std::uint64_t samples, int top) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> pats(counts.begin(), counts.end());
  std::sort(pats.begin(), pats.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  nlohmann::json patterns = nlohmann::json::array();
  for (size_t i = 0; i < pats.size() && static_cast<int>(i) < top; ++i) {
    nlohmann::json bl = nlohmann::json::array();
    for (int j = 0; j < acc_bits; ++j)
      if ((pats[i].first >> j) & 1) bl.push_back(j);
    nlohmann::json refs = nlohmann::json::array();
    const auto it = correct.find(pats[i].first);
    if (it != correct.end()) {
      std::vector<std::pair<std::uint64_t, std::uint64_t>> r(it->second.begin(), it->second.end());
      std::sort(r.begin(), r.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
      });
      for (const auto& [v, n] : r) refs.push_back({{"value", v}, {"count", n}});
    }
    patterns.push_back({{"mask", pats[i].first},
                        {"bits", bl},
                        {"count", pats[i].second},
                        {"p", samples ? static_cast<double>(pats[i].second) / samples : 0.0},
                        {"correct_bits", refs}});
  }
  return patterns;
}

nlohmann::json bit_to_json(int j, std::uint64_t errors, std::uint64_t samples) {
  const auto [lo, hi] = wilson95(errors, samples);
  return {{"bit", j},
          {"errors", errors},
          {"p_error", samples ? static_cast<double>(errors) / samples : 0.0},
          {"ci95", {lo, hi}}};
}

// Schema 4: the patterns per value class of the settled value (docs/errmodel.md
// "Value classes"); a bit's p_error is its rate among the class's erroneous cycles.
nlohmann::json value_classes_to_json(const std::vector<ValueCounts>& by_value, int low_bit, int acc_bits, int top) {
  nlohmann::json by_class = nlohmann::json::array();
  for (std::size_t k = 0; k < by_value.size(); ++k) {
    const ValueCounts& v = by_value[k];
    nlohmann::json bits = nlohmann::json::array();
    for (int j = 0; j < acc_bits; ++j) bits.push_back(bit_to_json(j, v.bit_errors[j], v.cycles_with_error));
    by_class.push_back({{"class", k},
                        {"name", value_class_name(static_cast<int>(k))},
                        {"samples", v.samples},
                        {"cycles_with_error", v.cycles_with_error},
                        {"p_any_error", v.samples ? static_cast<double>(v.cycles_with_error) / v.samples : 0.0},
                        {"bits", bits},
                        {"error_patterns", patterns_to_json(v.patterns, v.pattern_correct, acc_bits, v.cycles_with_error, top)}});
  }
  return {{"scheme", kValueClassScheme}, {"low_bit", low_bit}, {"by_class", by_class}};
}

}  // namespace

nlohmann::json point_to_json(const PointStats& s, double voltage, const std::string& corner,
                             const std::string& delay_source, int top_patterns) {
  using nlohmann::json;
  const double bin_ns = std::max<std::int32_t>(1, s.period_ps / 10) / 1000.0;
  json bits = json::array();
  for (int j = 0; j < s.acc_bits; ++j) {
    json b = bit_to_json(j, s.bit_errors[j], s.samples);
    b["mean_settle_ns"] = s.samples ? s.settle_sum_ps[j] / s.samples / 1000.0 : 0.0;
    b["max_settle_ns"] = s.settle_max_ps[j] / 1000.0;
    b["settle_hist"] = s.settle_hist[j];
    bits.push_back(b);
  }
  json values = json::array();
  for (const auto& [v, n] : s.error_values) values.push_back({{"value", v}, {"count", n}});
  const json patterns = patterns_to_json(s.patterns, s.pattern_correct, s.acc_bits, s.samples, top_patterns);
  // The same statistics per operand class (docs/errmodel.md, "classes").
  json by_class = json::array();
  for (size_t k = 0; k < s.classes.size(); ++k) {
    const ClassCounts& c = s.classes[k];
    json cbits = json::array();
    for (int j = 0; j < s.acc_bits; ++j) cbits.push_back(bit_to_json(j, c.bit_errors[j], c.samples));
    by_class.push_back({{"class", k},
                        {"name", operand_class_name(static_cast<int>(k))},
                        {"samples", c.samples},
                        {"cycles_with_error", c.cycles_with_error},
                        {"p_any_error", c.samples ? static_cast<double>(c.cycles_with_error) / c.samples : 0.0},
                        {"bits", cbits},
                        {"error_patterns", patterns_to_json(c.patterns, c.pattern_correct, s.acc_bits, c.samples, top_patterns)}});
    if (s.acc_bits >= 2 && c.by_value.size() == static_cast<std::size_t>(kValueClasses))
      by_class.back()["value_classes"] = value_classes_to_json(c.by_value, s.value_low_bit, s.acc_bits, top_patterns);
  }
  json point = {{"voltage", voltage},
          {"corner", corner},
          {"period_ns", s.period_ps / 1000.0},
          {"delay_source", delay_source},
          {"samples", s.samples},
          {"cycles_with_error", s.cycles_with_error},
          {"p_any_error", s.samples ? static_cast<double>(s.cycles_with_error) / s.samples : 0.0},
          {"settle_hist_bin_ns", bin_ns},
          {"bits", bits},
          {"error_values", values},
          {"error_patterns", patterns},
          {"classes", {{"scheme", kOperandClassScheme}, {"by_class", by_class}}}};
  if (s.acc_bits >= 2 && s.by_value.size() == static_cast<std::size_t>(kValueClasses))
    point["value_classes"] = value_classes_to_json(s.by_value, s.value_low_bit, s.acc_bits, top_patterns);
  return point;
}

void apply_mask_form(nlohmann::json& point, const std::string& form) {
  const bool values = form == "value-classes" || form == "value-classes+correct-bits";
  const bool correct = form == "correct-bits" || form == "value-classes+correct-bits";
  if (!values && !correct && form != "xor") throw DtaError("unknown mask form '" + form + "'");
  auto patterns = [&](nlohmann::json& pats) {
    if (!correct)
      for (auto& q : pats) q.erase("correct_bits");
  };
  auto stats = [&](nlohmann::json& o) {
    if (o.contains("error_patterns")) patterns(o["error_patterns"]);
    if (!o.contains("value_classes")) return;
    if (!values) {
      o.erase("value_classes");
      return;
    }
    for (auto& c : o["value_classes"]["by_class"]) patterns(c["error_patterns"]);
  };
  stats(point);
  if (point.contains("classes"))
    for (auto& c : point["classes"]["by_class"]) stats(c);
}

nlohmann::json carry_word_to_json(const CarryWordStats& c, int acc_bits, std::uint64_t samples, int top_patterns) {
  using nlohmann::json;
  // The most frequent joint patterns of the two words (the rest are drawn from
  // the words' per-bit rates by the reader, as a point's own patterns).
  std::vector<std::pair<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t>> joint(c.joint_patterns.begin(),
                                                                                        c.joint_patterns.end());
  std::stable_sort(joint.begin(), joint.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  json joint_json = json::array();
  for (size_t i = 0; i < joint.size() && static_cast<int>(i) < top_patterns; ++i)
    joint_json.push_back({{"mask", joint[i].first.first},
                          {"carry_mask", joint[i].first.second},
                          {"count", joint[i].second},
                          {"p", samples ? static_cast<double>(joint[i].second) / samples : 0.0}});
  json bits = json::array();
  for (int j = 0; j < acc_bits; ++j) bits.push_back(bit_to_json(j, c.bit_errors.empty() ? 0 : c.bit_errors[j], samples));
  json values = json::array();
  for (const auto& [v, n] : c.pair_error_values) values.push_back({{"value", v}, {"count", n}});
  auto rate = [&](std::uint64_t k) { return samples ? static_cast<double>(k) / samples : 0.0; };
  return {{"register", "psum_c_q"},
          {"cycles_with_error", c.cycles_with_error},
          {"p_any_error", rate(c.cycles_with_error)},
          {"bits", bits},
          {"partial_sum",
           {{"cycles_with_error", c.pair_cycles_with_error},
            {"p_any_error", rate(c.pair_cycles_with_error)},
            {"error_values", values}}},
          {"either_word",
           {{"cycles_with_error", c.either_cycles_with_error},
            {"p_any_error", rate(c.either_cycles_with_error)},
            {"error_patterns", joint_json}}}};
}

nlohmann::json razor_to_json(const RazorStats& r, const PeBinding& b, std::uint64_t samples, double shadow_delay_ns) {
  using nlohmann::json;
  json bits = json::array();
  for (int j = 0; j < b.acc_bits; ++j)
    if (b.shadow_flops[j] >= 0)
      bits.push_back({{"bit", j}, {"late", r.late.empty() ? 0 : r.late[j]}, {"missed", r.late.empty() ? 0 : r.missed[j]}});
  json residual_bits = json::array();
  for (int j = 0; j < b.acc_bits; ++j) residual_bits.push_back(bit_to_json(j, r.residual_bit_errors.empty() ? 0 : r.residual_bit_errors[j], samples));
  json values = json::array();
  for (const auto& [v, n] : r.residual_values) values.push_back({{"value", v}, {"count", n}});
  auto rate = [&](std::uint64_t k) { return samples ? static_cast<double>(k) / samples : 0.0; };
  return {{"policy", b.razor_policy},
          {"shadow_delay_ns", shadow_delay_ns},
          {"flagged_cycles", r.flagged},
          {"p_flagged", rate(r.flagged)},
          {"corrected", r.corrected},
          {"miscorrected", r.miscorrected},
          {"undetected", r.undetected},
          {"false_flags", r.false_flags},
          {"stall_driven", b.stall_net >= 0},
          {"stall_cycles", r.stall_cycles},
          {"stall_capture_errors", r.stall_capture_errors},
          {"protected_bits", bits},
          {"after_razor",
           {{"cycles_with_error", r.residual_cycles},
            {"p_any_error", rate(r.residual_cycles)},
            {"bits", residual_bits},
            {"error_values", values}}}};
}

}  // namespace vosa::dta
