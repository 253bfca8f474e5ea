// Settle-bound filter in front of the event-driven simulator (docs/dta.md,
// "Engines", `--engine filter`): the same captured value in every cycle as
// TimingSimulator on the whole stream, with most cycles near sign-off never
// simulated event by event.
//
// For 64 cycles at a time (one per bit of a word) it computes, over the
// levelized netlist, the zero-delay value of every net and a bound on its
// latest transition in the cycle, assuming the cycle starts quiet (nothing in
// flight from the one before):
//   - a source (input port, flip-flop output) that keeps its value never
//     moves; one that changes moves once, at its launch time;
//   - a gate output never moves when its inputs' fixed values alone fix its
//     function (every input still, or a still controlling input: an AND with
//     a still 0), because every evaluation schedules the value it already has;
//   - otherwise it moves at most once per input event, each after that
//     input's arc delay, so its latest transition is at most
//     max over moving inputs of (their bound + the slowest arc of that input).
// A cycle whose bounds are all before the clock edge (so it ends quiet) and
// whose flip-flop inputs are all bounded by their capture deadline captures
// the zero-delay values. Every other cycle is simulated by TimingSimulator,
// which is loaded with the quiet state the cycle starts from; it keeps
// simulating until a cycle ends quiet again. The captured values become the
// flip-flop state in cycle order, so an accumulator that captured a wrong
// value carries it on exactly as in the event engine; the zero-delay values
// of later cycles assume correct captures and are recomputed after a wrong
// one (the block ends there).
#include "vosa/pe_dta.hpp"

#include "lane_words.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <exception>
#include <thread>

namespace vosa::dta {

namespace {

using Word = LaneWord;
constexpr int kLanes = 64;
// "Never moves": far below any transition time, and it stays negative after
// the delays of any path are added to it.
constexpr std::int32_t kNever = -(1 << 30);

// Lanes in which some assignment of the moving inputs (s = 0) makes the
// function 0 (can0) or 1 (can1), the still inputs (s = 1) holding x.
void reachable(std::uint64_t tt, int n, const Word* x, const Word* s, Word& can0, Word& can1) {
  const std::uint64_t full = n >= 6 ? ~0ull : ((1ull << (1 << n)) - 1);
  if ((tt & full) == 0) {
    can0 = ~Word{0};
    can1 = 0;
    return;
  }
  if ((tt & full) == full) {
    can0 = 0;
    can1 = ~Word{0};
    return;
  }
  const int half = 1 << (n - 1);
  const std::uint64_t low_mask = half >= 64 ? ~0ull : ((1ull << half) - 1);
  const std::uint64_t lo = tt & low_mask, hi = (tt >> half) & low_mask;
  if (lo == hi) return reachable(lo, n - 1, x, s, can0, can1);
  Word a0, a1, b0, b1;
  reachable(lo, n - 1, x, s, a0, a1);
  reachable(hi, n - 1, x, s, b0, b1);
  const Word xs = x[n - 1], st = s[n - 1];
  can0 = (st & ((xs & b0) | (~xs & a0))) | (~st & (a0 | b0));
  can1 = (st & ((xs & b1) | (~xs & a1))) | (~st & (a1 | b1));
}

// Latest-transition bounds of one gate's output in 64 lanes: the max over its
// inputs of (input bound + that input's slowest arc). Plain int loops the
// compiler vectorizes (AVX2 where the CPU has it, SSE2 otherwise).
__attribute__((target_clones("avx2", "default"))) void gate_bound(std::int32_t* out, const std::int32_t* const* in,
                                                                   const std::int32_t* delay, int n,
                                                                   std::int32_t* latest) {
  for (int l = 0; l < kLanes; ++l) out[l] = in[0][l] + delay[0];
  for (int k = 1; k < n; ++k) {
    const std::int32_t* b = in[k];
    const std::int32_t d = delay[k];
    for (int l = 0; l < kLanes; ++l) out[l] = std::max(out[l], b[l] + d);
  }
  for (int l = 0; l < kLanes; ++l) latest[l] = std::max(latest[l], out[l]);
}

// Per lane: 1 while every bound checked so far is <= its limit.
__attribute__((target_clones("avx2", "default"))) void check_bound(std::int32_t* ok, const std::int32_t* bound,
                                                                    std::int32_t limit) {
  for (int l = 0; l < kLanes; ++l) ok[l] &= bound[l] <= limit;
}

class FilterEngine {
 public:
  FilterEngine(const Circuit& c, const PeBinding& b, const OperandTrace& trace, const RunOptions& opt)
      : c_(c), b_(b), trace_(trace), opt_(opt), sim_(c, opt.sim) {
    period_ = sim_.period_ps();
    input_delay_ = static_cast<std::int32_t>(std::llround(opt.sim.input_delay_ns * 1000.0));
    const int nets = static_cast<int>(c.net_names.size());
    // Primary inputs: which bit of which operand, or a held constant.
    std::vector<std::pair<int, int>> role(nets, {-1, 0});
    auto bind = [&](const std::vector<int>& v, int kind) {
      for (size_t i = 0; i < v.size(); ++i) role[v[i]] = {kind, static_cast<int>(i)};
    };
    bind(b.act_nets, 0);
    bind(b.weight_nets, 1);
    bind(b.psum_nets, 2);
    for (const auto& [n, v] : b.constants) role[n] = {3, v ? 1 : 0};
    for (int n : c.primary_inputs) {
      if (role[n].first < 0)
        throw DtaError("primary input '" + c.net_names[n] + "' has no role in the PE binding");
      inputs_.push_back({n, role[n].first, role[n].second});
    }
    std::vector<int> constant(nets, -1);
    for (size_t i = 0; i < c.constant_nets.size(); ++i) constant[c.constant_nets[i]] = c.constant_values[i];
    for (const auto& [n, v] : b.constants) constant[n] = v;
    // Flip-flops: capture deadline (the earlier of the two edges'), and the
    // constant outcome of asynchronous pins held by constants.
    std::vector<std::uint8_t> read(nets, 0);
    for (const Gate& g : c.gates)
      for (int k = 0; k < g.num_inputs; ++k) read[g.in_net[k]] = 1;
    for (const FlipFlop& ff : c.flops) read[ff.d_net] = 1;
    for (size_t f = 0; f < c.flops.size(); ++f) {
      const FlipFlop& ff = c.flops[f];
      Flop x;
      x.deadline = period_;
      for (int e = 0; e < 2; ++e)
        x.deadline = std::min(x.deadline, period_ - (opt.sim.setup_mode == SetupMode::kSdf ? ff.setup_ps[e] : 0) -
                                              ff.d_wire_ps[e]);
      x.state = (ff.q_net >= 0 && read[ff.q_net]) || (ff.qn_net >= 0 && read[ff.qn_net]);
      if (!ff.async_nets.empty()) {
        std::uint32_t bits = 0;
        for (size_t k = 0; k < ff.async_nets.size(); ++k) {
          if (constant[ff.async_nets[k]] < 0)
            throw DtaError("--engine filter: asynchronous pin of " + c.instance_names[ff.instance] +
                           " is not held constant; use --engine event");
          bits |= std::uint32_t(constant[ff.async_nets[k]]) << k;
        }
        if ((ff.clear_tt >> bits) & 1) x.forced = 0;
        else if ((ff.preset_tt >> bits) & 1) x.forced = 1;
      }
      flops_.push_back(x);
    }
    // The slowest arc of each gate input, whatever the edges.
    delay_.resize(c.gates.size());
    for (size_t g = 0; g < c.gates.size(); ++g) {
      const Gate& G = c.gates[g];
      for (int k = 0; k < G.num_inputs; ++k) {
        std::int32_t d = std::max(G.rise_ps[k], G.fall_ps[k]);
        for (int e = 0; e < 2; ++e)
          for (int o = 0; o < 2; ++o) d = std::max(d, G.arc_ps[k][e][o]);
        delay_[g][k] = d;
      }
    }
    for (const auto& [n, v] : b.constants) sim_.set_input(n, v);
    value_.assign(nets, 0);
    still_.assign(nets, 0);
    bound_.assign(static_cast<size_t>(nets) * kLanes, kNever);
    state_.assign(c.flops.size(), 0);
    prev_state_.assign(c.flops.size(), 0);
    spec_.assign(c.flops.size(), 0);
    sim_.reset(false);
    steps_ = trace.records.size() + 1;  // step 0 primes the input registers
  }

  std::size_t steps() const { return steps_; }
  std::size_t position() const { return next_; }
  std::uint64_t filtered() const { return filtered_; }
  std::uint64_t simulated() const { return simulated_; }

  // Continues the walk up to step `to`, recording every record into `s`.
  void walk(std::size_t to, PointStats& s) {
    while (next_ < to) {
      const int lanes = static_cast<int>(std::min<std::size_t>(kLanes, to - next_));
      compute_block(next_, lanes);
      for (int l = 0; l < lanes; ++l)
        if (!take_lane(l, s)) break;  // a flip-flop feeding logic captured a wrong value
    }
    s.events += sim_.events_processed() - events_seen_;
    events_seen_ = sim_.events_processed();
  }

 private:
  struct Input {
    int net, kind, bit;  // kind: 0 a_i, 1 w_i, 2 psum_i, 3 constant (bit = value)
  };
  struct Flop {
    std::int32_t deadline = 0;
    bool state = false;  // its Q or QN is read by logic or a flip-flop
    int forced = -1;     // asynchronous clear/preset held active: always this value
  };
  const Circuit& c_;
  const PeBinding& b_;
  const OperandTrace& trace_;
  const RunOptions& opt_;
  TimingSimulator sim_;
  std::int32_t period_ = 0, input_delay_ = 0;
  std::size_t steps_ = 0, next_ = 0;
  std::vector<Input> inputs_;
  std::vector<Flop> flops_;
  std::vector<std::array<std::int32_t, 6>> delay_;
  // Walk state: the flip-flops' real values at steps next_-1 and next_;
  // whether the edge before next_ is quiet and the simulator holds that state.
  std::vector<std::uint8_t> prev_state_, state_;
  bool quiet_ = true, synced_ = false;
  std::uint64_t acc_state_ = 0, filtered_ = 0, simulated_ = 0, events_seen_ = 0;
  // Block of 64 steps from first_: zero-delay values, still lanes, bounds.
  std::size_t first_ = 0;
  std::vector<Word> value_, still_, spec_;  // spec_: per flop, the speculated captured value
  std::vector<std::int32_t> bound_;         // net * 64 + lane
  Word fast_ = 0;

  CycleOperands operands(long step) const {
    if (step < 0) return {};
    if (step == 0) return priming_operands(b_, trace_, 0);
    return record_operands(b_, trace_, static_cast<std::size_t>(step - 1));
  }
  static bool input_bit(const Input& in, const CycleOperands& op) {
    if (in.kind == 3) return in.bit;
    const std::int64_t v = in.kind == 0 ? op.a : in.kind == 1 ? op.w : op.psum;
    return (static_cast<std::uint64_t>(v) >> in.bit) & 1;
  }
  void apply(const CycleOperands& op) {
    for (const Input& in : inputs_)
      if (in.kind != 3) sim_.set_input(in.net, input_bit(in, op));
  }

  void compute_block(std::size_t first, int lanes);
  bool take_lane(int l, PointStats& s);
};

void FilterEngine::compute_block(std::size_t first, int lanes) {
  first_ = first;
  const Word live = lanes == kLanes ? ~Word{0} : ((Word{1} << lanes) - 1);
  // Input words of this block's steps and of the steps before them.
  std::vector<Word> in_now(inputs_.size(), 0), in_before(inputs_.size(), 0);
  for (int l = 0; l < lanes; ++l) {
    const long step = static_cast<long>(first) + l;
    const CycleOperands now = operands(step), before = operands(step - 1);
    for (size_t i = 0; i < inputs_.size(); ++i) {
      in_now[i] |= Word{input_bit(inputs_[i], now)} << l;
      in_before[i] |= Word{input_bit(inputs_[i], before)} << l;
    }
  }
  // Flip-flop states: lane 0 is known; lane l > 0 holds what lane l-1
  // captures if every capture is right (the zero-delay value of its D).
  // Iterated to a fixed point (a register fed by a register settles in a few
  // rounds, an accumulator in up to 64).
  const size_t nf = c_.flops.size();
  std::vector<Word> st(nf), st_before(nf);
  for (size_t f = 0; f < nf; ++f) st[f] = state_[f] ? live : 0;
  for (int round = 0;; ++round) {
    for (size_t i = 0; i < c_.constant_nets.size(); ++i)
      value_[c_.constant_nets[i]] = c_.constant_values[i] ? ~Word{0} : 0;
    for (size_t i = 0; i < inputs_.size(); ++i) value_[inputs_[i].net] = in_now[i];
    for (size_t f = 0; f < nf; ++f) {
      const FlipFlop& ff = c_.flops[f];
      if (ff.q_net >= 0) value_[ff.q_net] = st[f];
      if (ff.qn_net >= 0) value_[ff.qn_net] = ~st[f];
    }
    for (const Gate& g : c_.gates) {
      Word x[6];
      for (int k = 0; k < g.num_inputs; ++k) x[k] = value_[g.in_net[k]];
      value_[g.out_net] = eval_tt(g.truth_table, g.num_inputs, x);
    }
    bool moved = false;
    for (size_t f = 0; f < nf; ++f) {
      const Word d = flops_[f].forced < 0 ? value_[c_.flops[f].d_net] : flops_[f].forced ? ~Word{0} : 0;
      spec_[f] = d;
      const Word next = (((d << 1) | state_[f]) & live);
      moved |= next != st[f];
      st[f] = next;
    }
    if (!moved) break;
    if (round > kLanes + 1) throw DtaError("--engine filter: flip-flop states do not settle (internal error)");
  }
  for (size_t f = 0; f < nf; ++f) st_before[f] = ((st[f] << 1) | prev_state_[f]) & live;

  // Still lanes and latest-transition bounds, sources first.
  std::vector<std::int32_t> latest(kLanes, kNever);
  auto source = [&](int net, Word moved, std::int32_t rise, std::int32_t fall) {
    still_[net] = ~moved;
    std::int32_t* b = &bound_[static_cast<size_t>(net) * kLanes];
    const Word now = value_[net];
    for (int l = 0; l < kLanes; ++l)
      b[l] = ((moved >> l) & 1) ? (((now >> l) & 1) ? rise : fall) : kNever;
    for (int l = 0; l < kLanes; ++l) latest[l] = std::max(latest[l], b[l]);
  };
  for (int n : c_.constant_nets) source(n, 0, 0, 0);
  for (size_t i = 0; i < inputs_.size(); ++i)
    source(inputs_[i].net, (in_now[i] ^ in_before[i]) & live, input_delay_, input_delay_);
  for (size_t f = 0; f < nf; ++f) {
    const FlipFlop& ff = c_.flops[f];
    const Word moved = st[f] ^ st_before[f];
    if (ff.q_net >= 0) source(ff.q_net, moved, ff.clk_to_q_rise_ps, ff.clk_to_q_fall_ps);
    if (ff.qn_net >= 0) source(ff.qn_net, moved, ff.clk_to_q_fall_ps, ff.clk_to_q_rise_ps);
  }
  for (size_t gi = 0; gi < c_.gates.size(); ++gi) {
    const Gate& g = c_.gates[gi];
    Word x[6], s[6], all_still = ~Word{0};
    const std::int32_t* in[6];
    for (int k = 0; k < g.num_inputs; ++k) {
      x[k] = value_[g.in_net[k]];
      s[k] = still_[g.in_net[k]];
      all_still &= s[k];
      in[k] = &bound_[static_cast<size_t>(g.in_net[k]) * kLanes];
    }
    std::int32_t* out = &bound_[static_cast<size_t>(g.out_net) * kLanes];
    if ((all_still & live) == live || g.num_inputs == 0) {
      still_[g.out_net] = ~Word{0};
      std::fill(out, out + kLanes, kNever);
      continue;
    }
    Word can0, can1;
    reachable(g.truth_table, g.num_inputs, x, s, can0, can1);
    const Word still = all_still | ~(can0 & can1);
    still_[g.out_net] = still;
    gate_bound(out, in, delay_[gi].data(), g.num_inputs, latest.data());
    // Lanes held by a still controlling input: no transition at all. (Lanes
    // with every input still are already below zero.)
    for (Word m = still & ~all_still & live; m; m &= m - 1) out[__builtin_ctzll(m)] = kNever;
  }
  // A lane passes when nothing is in flight at the next edge and every
  // flip-flop's D is final by its deadline.
  std::vector<std::int32_t> ok(kLanes);
  for (int l = 0; l < kLanes; ++l) ok[l] = latest[l] < period_;
  for (size_t f = 0; f < nf; ++f)
    check_bound(ok.data(), &bound_[static_cast<size_t>(c_.flops[f].d_net) * kLanes], flops_[f].deadline);
  fast_ = 0;
  for (int l = 0; l < lanes; ++l) fast_ |= Word(ok[l] != 0) << l;
}

// Records lane l of the block; false when a flip-flop read by logic captured
// something else than the block assumed (the block ends after this lane).
bool FilterEngine::take_lane(int l, PointStats& s) {
  const std::size_t step = first_ + static_cast<std::size_t>(l);
  const size_t nf = c_.flops.size();
  std::vector<std::uint8_t> captured(nf);
  std::uint64_t out_captured = 0, out_settled = 0;
  std::vector<std::int32_t> settle(b_.acc_bits, 0);
  bool speculation_holds = true;
  if (quiet_ && ((fast_ >> l) & 1)) {
    for (size_t f = 0; f < nf; ++f) captured[f] = (spec_[f] >> l) & 1;
    for (int j = 0; j < b_.acc_bits; ++j) {
      const int f = b_.output_flops[j];
      out_captured |= std::uint64_t{captured[f]} << j;
      // The settle time is bounded, not simulated: report the bound.
      settle[j] = std::max<std::int32_t>(0, bound_[static_cast<size_t>(c_.flops[f].d_net) * kLanes + l]);
    }
    out_settled = out_captured;
    synced_ = false;
    ++filtered_;
  } else {
    if (!synced_) {  // resume event simulation from the quiet edge before this step
      apply(operands(static_cast<long>(step) - 1));
      sim_.load_quiet(prev_state_, state_);
    }
    apply(operands(static_cast<long>(step)));
    sim_.step();
    for (size_t f = 0; f < nf; ++f) {
      captured[f] = sim_.captured(static_cast<int>(f));
      if (flops_[f].state && captured[f] != ((spec_[f] >> l) & 1)) speculation_holds = false;
    }
    for (int j = 0; j < b_.acc_bits; ++j) {
      const int f = b_.output_flops[j];
      out_captured |= std::uint64_t{captured[f]} << j;
      out_settled |= std::uint64_t{sim_.settled(f)} << j;
      settle[j] = sim_.settle_time_ps(f);
    }
    quiet_ = sim_.quiet();
    synced_ = true;
    ++simulated_;
  }
  if (step == 0) acc_state_ = out_captured;
  else record_cycle(s, b_, trace_, step - 1, out_captured, out_settled, settle.data(), acc_state_, opt_);
  if (opt_.captured_log) opt_.captured_log->push_back(out_captured);
  if (opt_.input_log) {
    const CycleOperands op = operands(static_cast<long>(step));
    opt_.input_log->push_back({op.a, op.w, op.psum});
  }
  prev_state_.swap(state_);
  state_ = captured;
  next_ = step + 1;
  return speculation_holds;
}

}  // namespace

bool filter_engine_applies(const PeBinding& b, const RunOptions& opt) {
  return !b.razor() && !b.carry_save() && !opt.count_activity && !opt.err_log;
}

PointStats run_pe_trace_filtered(const Circuit& c, const PeBinding& b, const OperandTrace& trace,
                                 const RunOptions& opt, int threads) {
  const std::size_t n = trace.records.size();
  if (n == 0) throw DtaError("operand trace '" + trace.header.source + "' has no records");
  check_trace_shape(b, trace);
  if (!filter_engine_applies(b, opt)) return run_pe_trace_parallel(c, b, trace, opt, threads);
  (void)threads;
  FilterEngine e(c, b, trace, opt);
  PointStats total;
  total.init(b.acc_bits, static_cast<std::int32_t>(std::llround(opt.sim.period_ns * 1000.0)));
  e.walk(e.steps(), total);
  total.filtered += e.filtered();
  return total;
}

}  // namespace vosa::dta
