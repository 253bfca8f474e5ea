// Pattern-parallel timing simulation (docs/dta.md, "Engines"): 64 cycles of
// the trace per pass, one per bit of a machine word, with exactly the
// transport semantics of the event-driven TimingSimulator.
//
// Each net's waveform over a pass is a list of (time, lanes that change at
// that time) on the 1 ps grid, plus its value at the start. A gate merges its
// input lists; at each input time u the lanes where some input changed make
// an "op": the function value v(u) is scheduled at u + d, d being the slowest
// changed arc of the edges involved (TimingSimulator::process_gate). In
// transport mode the output at time t is the value of the latest op (largest
// u) whose scheduled time is <= t: a later op pre-empts every event scheduled
// at or after its own time. The gate sorts its ops by scheduled time and
// keeps, per lane, the one with the largest u.
//
// Cycles are coupled only through transitions still in flight at a clock edge
// and through flip-flops whose captured value feeds logic. Every event lies
// within L (the longest path, max of rise/fall per arc) of the launch that
// caused it, so cycle j depends only on the launches of cycles j-K..j with
// (K+1) T > L: lane j simulates those K+1 cycles from the settled state before
// them. Flip-flops whose D is logic and whose Q feeds logic (an accumulator)
// are speculated to capture their settled value; the first lane that captured
// anything else ends the pass, and the next pass restarts after it.
#include "vosa/pe_dta.hpp"

#include "lane_words.hpp"
#include "run_slices.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <stdexcept>
#include <string>

namespace vosa::dta {

namespace {
using Word = std::uint64_t;
constexpr int kLanes = 64;

struct Entry {
  std::int32_t time;
  Word change;  // lanes whose net changes at `time`
};

// One input edge pair of a gate, slowest first (see process_gate).
struct Arc {
  std::int32_t delay;
  std::uint8_t pin, edge;  // edge: the input's new value; 2 = either (fallback)
};

struct Source {
  int net;
  std::int32_t delay[2];  // launch delay of a falling / rising change
  int flop = -1;          // flop index for Q/QN nets, -1 for primary inputs
  bool inverted = false;  // QN
  int pi = -1;            // index into primary input roles
};

class Engine {
 public:
  Engine(const Circuit& c, const PeBinding& b, const OperandTrace& trace, const RunOptions& opt)
      : c_(c), b_(b), trace_(trace), opt_(opt) {
    if (opt.sim.delay_mode != DelayMode::kTransport)
      throw DtaError("--engine parallel simulates --delay-mode transport only (got " +
                     to_string(opt.sim.delay_mode) + "); use --engine event");
    period_ = static_cast<std::int32_t>(std::llround(opt.sim.period_ns * 1000.0));
    input_delay_ = static_cast<std::int32_t>(std::llround(opt.sim.input_delay_ns * 1000.0));
    if (period_ <= 0) throw DtaError("clock period must be positive");
    if (input_delay_ < 0 || input_delay_ >= period_) throw DtaError("input delay must be in [0, period)");
    const int nets = static_cast<int>(c.net_names.size());
    // Primary input roles: value of each PI net in a cycle.
    pi_role_.assign(nets, -1);
    auto role = [&](const std::vector<int>& v, int base) {
      for (size_t i = 0; i < v.size(); ++i) pi_role_[v[i]] = base + static_cast<int>(i);
    };
    role(b.act_nets, 0);
    role(b.weight_nets, 64);
    role(b.psum_nets, 128);
    const_value_.assign(nets, 0);
    for (const auto& [n, v] : b.constants) {
      pi_role_[n] = 192;
      const_value_[n] = v;
    }
    for (size_t i = 0; i < c.constant_nets.size(); ++i) const_value_[c.constant_nets[i]] = c.constant_values[i];
    for (int n : c.primary_inputs)
      if (pi_role_[n] < 0) throw DtaError("primary input '" + c.net_names[n] + "' has no role in the PE binding");

    // Which flops matter for the logic: Q or QN read by a gate or a flop.
    std::vector<std::uint8_t> read_by_flop(nets, 0);
    for (const auto& ff : c.flops) read_by_flop[ff.d_net] = 1;
    auto is_read = [&](int n) { return n >= 0 && (c.fanout_begin[n + 1] > c.fanout_begin[n] || read_by_flop[n]); };
    gate_of_net_.assign(nets, -1);
    for (size_t g = 0; g < c.gates.size(); ++g) gate_of_net_[c.gates[g].out_net] = static_cast<int>(g);
    for (size_t f = 0; f < c.flops.size(); ++f) {
      const FlipFlop& ff = c.flops[f];
      if (ff.shadow)
        throw DtaError("--engine parallel: " + c.instance_names[ff.instance] + " is clocked by the shadow clock " +
                       c.shadow_clock_port + " (Razor); use --engine event");
      if (ff.clk_to_q_rise_ps >= period_ || ff.clk_to_q_fall_ps >= period_)
        throw DtaError("--engine parallel: clock-to-Q of " + c.instance_names[ff.instance] +
                       " is not shorter than the clock period; use --engine event");
      for (int n : ff.async_nets)
        if (gate_of_net_[n] >= 0)
          throw DtaError("--engine parallel: asynchronous pin of " + c.instance_names[ff.instance] +
                         " is driven by logic; use --engine event");
      if (!is_read(ff.q_net) && !is_read(ff.qn_net)) continue;
      state_flop_.push_back(static_cast<int>(f));
      if (gate_of_net_[ff.d_net] >= 0) speculated_.push_back(static_cast<int>(f));
    }
    flop_slot_.assign(c.flops.size(), -1);
    for (size_t i = 0; i < state_flop_.size(); ++i) flop_slot_[state_flop_[i]] = static_cast<int>(i);
    for (int f : state_flop_) {  // a flop fed by a flop that is not tracked would need its state too
      const int d = c.flops[f].d_net;
      const int src = c.flop_driving(d);
      if (src >= 0 && flop_slot_[src] < 0) throw DtaError("--engine parallel: flop chain not supported; use --engine event");
    }
    words_per_state_ = (static_cast<int>(state_flop_.size()) + 63) / 64;
    // The scalar settled-value pass of next_state needs only the fan-in cones
    // of the speculated flops' D nets.
    std::vector<std::uint8_t> in_cone(nets, 0);
    for (int f : speculated_) in_cone[c.flops[f].d_net] = 1;
    for (int g = static_cast<int>(c.gates.size()) - 1; g >= 0; --g)
      if (in_cone[c.gates[g].out_net]) {
        spec_cone_.push_back(g);
        for (int k = 0; k < c.gates[g].num_inputs; ++k) in_cone[c.gates[g].in_net[k]] = 1;
      }
    std::reverse(spec_cone_.begin(), spec_cone_.end());

    // Sources: PIs and the Q/QN nets of tracked flops.
    for (int n : c.primary_inputs) sources_.push_back({n, {input_delay_, input_delay_}, -1, false, pi_role_[n]});
    for (int f : state_flop_) {
      const FlipFlop& ff = c.flops[f];
      if (ff.q_net >= 0) sources_.push_back({ff.q_net, {ff.clk_to_q_fall_ps, ff.clk_to_q_rise_ps}, f, false, -1});
      if (ff.qn_net >= 0) sources_.push_back({ff.qn_net, {ff.clk_to_q_rise_ps, ff.clk_to_q_fall_ps}, f, true, -1});
    }
    is_source_.assign(nets, 0);
    for (const Source& s : sources_) is_source_[s.net] = 1;
    for (int f : state_flop_) {
      int idx = -1;
      for (size_t i = 0; i < sources_.size(); ++i)
        if (sources_[i].net == c.flops[f].d_net) idx = static_cast<int>(i);
      d_source_.push_back(idx);
    }
    scalar_.assign(nets, 0);

    // Arcs per gate and output edge, slowest first: first the arcs whose sense
    // matches (input edge, output edge), then the fallback of the event engine
    // (slowest changed input whatever its edge) for lanes none of them covers.
    arcs_.resize(c.gates.size());
    fallback_start_.resize(c.gates.size());
    for (size_t g = 0; g < c.gates.size(); ++g) {
      const Gate& G = c.gates[g];
      for (int out = 0; out < 2; ++out) {
        auto& list = arcs_[g][out];
        for (int k = 0; k < G.num_inputs; ++k) {
          for (int e = 0; e < 2; ++e)
            if (G.arc_ps[k][e][out] >= 0)
              list.push_back({G.arc_ps[k][e][out], static_cast<std::uint8_t>(k), static_cast<std::uint8_t>(e)});
          if (G.arc_ps[k][0][out] == 0 || G.arc_ps[k][1][out] == 0 || (out ? G.rise_ps[k] : G.fall_ps[k]) == 0)
            throw DtaError("--engine parallel: zero delay on " + c.instance_names[G.instance] + " (" +
                           c.instance_cells[G.instance] + "); use --engine event");
        }
        std::stable_sort(list.begin(), list.end(), [](const Arc& a, const Arc& b) { return a.delay > b.delay; });
        fallback_start_[g][out] = static_cast<int>(list.size());
        std::vector<Arc> fb;
        for (int k = 0; k < G.num_inputs; ++k)
          fb.push_back({out ? G.rise_ps[k] : G.fall_ps[k], static_cast<std::uint8_t>(k), 2});
        std::stable_sort(fb.begin(), fb.end(), [](const Arc& a, const Arc& b) { return a.delay > b.delay; });
        list.insert(list.end(), fb.begin(), fb.end());
      }
    }
    // Longest event time after a launch: sources' latest launch plus the
    // slowest arc of every gate along any path.
    std::vector<std::int64_t> latest(nets, 0);
    for (const Source& s : sources_) latest[s.net] = std::max(s.delay[0], s.delay[1]);
    std::int64_t longest = 0;
    for (const Gate& G : c.gates) {
      std::int64_t t = 0;
      for (int k = 0; k < G.num_inputs; ++k)
        t = std::max(t, latest[G.in_net[k]] + std::max(G.rise_ps[k], G.fall_ps[k]));
      latest[G.out_net] = t;
      longest = std::max(longest, t);
    }
    windows_ = static_cast<int>(longest / period_) + 1;  // (K+1) T > L
    // Capture deadlines and which gates drive an observed D net.
    deadline_.resize(c.flops.size());
    for (size_t f = 0; f < c.flops.size(); ++f)
      for (int e = 0; e < 2; ++e)
        deadline_[f][e] = period_ - (opt.sim.setup_mode == SetupMode::kSdf ? c.flops[f].setup_ps[e] : 0) -
                          c.flops[f].d_wire_ps[e];
    settle_gate_.assign(c.gates.size(), 0);
    for (int f : b.output_flops)
      if (gate_of_net_[c.flops[f].d_net] >= 0) settle_gate_[gate_of_net_[c.flops[f].d_net]] = 1;
    // Steps: 0 primes the input registers, step n+1 computes record n.
    steps_ = trace.records.size() + 1;
  }

  std::size_t steps() const { return steps_; }
  bool sequential() const { return !speculated_.empty(); }
  int windows() const { return windows_; }

  // Outcome of one step for the output register.
  struct Result {
    std::uint64_t captured = 0, settled = 0;
    std::vector<std::int32_t> settle;
    std::vector<Word> speculated_captured;  // bit i: what speculated flop i captured
  };

  // Simulates steps [first, first + lanes) given the tracked flop states of
  // steps first-windows .. first+lanes-1 in `states` (indexed step - base).
  // Returns the number of lanes whose speculated flops captured what was
  // assumed (all when nothing is speculated); results for those lanes.
  // `restart`: the last valid lane captured a speculated flop wrongly.
  int run_pass(std::size_t first, int lanes, const std::vector<Word>& states, std::size_t base,
               std::vector<Result>& out, std::uint64_t& ops, bool& restart);

  // Tracked flop states: state of step m from the operands and states of
  // step m-1 (source-driven flops) and the settled logic (speculated flops).
  void next_state(std::size_t m, const Word* prev, const Word* prev2, Word* next);
  // The speculated flops' bits of `state` from the captured output register.
  void override_speculated(const Result& r, Word* state) const;

  int words_per_state() const { return words_per_state_; }
  int pi_value(int role, const CycleOperands& op) const {
    if (role == 192) return -1;
    const std::int64_t v = role < 64 ? op.a : role < 128 ? op.w : op.psum;
    return static_cast<int>((static_cast<std::uint64_t>(v) >> (role & 63)) & 1);
  }
  CycleOperands operands(long step) const {
    if (step <= 0) return step == 0 ? priming_operands(b_, trace_, 0) : CycleOperands{};
    return record_operands(b_, trace_, static_cast<std::size_t>(step - 1));
  }
  bool source_value(const Source& s, long step, const CycleOperands& op, const Word* state) const {
    if (s.flop < 0) {
      const int v = pi_value(s.pi, op);
      return v < 0 ? const_value_[s.net] : v;
    }
    const int slot = flop_slot_[s.flop];
    const bool q = step < 0 ? false : (state[slot / 64] >> (slot % 64)) & 1;
    return s.inverted ? !q : q;
  }

 private:
  const Circuit& c_;
  const PeBinding& b_;
  const OperandTrace& trace_;
  const RunOptions& opt_;
  std::int32_t period_ = 0, input_delay_ = 0;
  int windows_ = 1, words_per_state_ = 0;
  std::size_t steps_ = 0;
  std::vector<int> pi_role_, gate_of_net_, state_flop_, speculated_, flop_slot_;
  std::vector<std::uint8_t> const_value_, is_source_, settle_gate_;
  std::vector<Source> sources_;
  std::vector<std::array<std::vector<Arc>, 2>> arcs_;
  std::vector<std::array<int, 2>> fallback_start_;  // first fallback entry of arcs_[g][out]
  std::vector<std::array<std::int32_t, 2>> deadline_;
  std::vector<int> spec_cone_;        // gates feeding speculated flops, topological order
  std::vector<int> d_source_;         // per tracked flop: source index of its D net, -1 if logic/constant
  std::vector<std::uint8_t> scalar_;  // scratch of next_state

  // Per-pass scratch.
  std::vector<Entry> arena_;
  std::vector<std::uint32_t> begin_, count_;
  std::vector<Word> init_, final_;
  struct Write {
    std::int32_t time;
    std::uint32_t u;  // op index
    Word lanes;
    std::uint8_t value;
  };
  std::vector<Write> writes_;
  std::vector<Word> written_;
  std::vector<std::int32_t> op_time_;

 public:
  std::uint64_t op_times_ = 0;  // distinct (gate, time) ops, all lanes together

 private:

  void zero_delay(std::vector<Word>& value, const std::vector<Word>& src_words) const;
  void process_gate(int g, std::int32_t settle_cut, std::int32_t window_start, std::vector<std::int32_t>* last_change,
                    std::uint64_t& ops);
};

void Engine::zero_delay(std::vector<Word>& value, const std::vector<Word>& src_words) const {
  for (size_t i = 0; i < c_.constant_nets.size(); ++i) value[c_.constant_nets[i]] = c_.constant_values[i] ? ~Word{0} : 0;
  for (size_t i = 0; i < sources_.size(); ++i) value[sources_[i].net] = src_words[i];
  for (const Gate& g : c_.gates) {
    Word x[6];
    for (int k = 0; k < g.num_inputs; ++k) x[k] = value[g.in_net[k]];
    value[g.out_net] = eval_tt(g.truth_table, g.num_inputs, x);
  }
}

void Engine::next_state(std::size_t m, const Word* prev, const Word* prev2, Word* next) {
  // Source-driven flops capture the source's new value when its launch met
  // the deadline of its edge, else the old one; speculated flops their
  // settled D (scalar zero-delay evaluation of step m-1).
  std::fill(next, next + words_per_state_, 0);
  if (m == 0) return;  // reset
  const long s1 = static_cast<long>(m) - 1, s2 = static_cast<long>(m) - 2;
  const CycleOperands op1 = operands(s1), op2 = operands(s2);
  if (!speculated_.empty()) {
    for (size_t i = 0; i < c_.constant_nets.size(); ++i) scalar_[c_.constant_nets[i]] = c_.constant_values[i];
    for (const Source& s : sources_) scalar_[s.net] = source_value(s, s1, op1, prev);
    for (int gi : spec_cone_) {
      const Gate& g = c_.gates[gi];
      std::uint32_t bits = 0;
      for (int k = 0; k < g.num_inputs; ++k) bits |= std::uint32_t{scalar_[g.in_net[k]]} << k;
      scalar_[g.out_net] = (g.truth_table >> bits) & 1;
    }
  }
  for (size_t i = 0; i < state_flop_.size(); ++i) {
    const FlipFlop& ff = c_.flops[state_flop_[i]];
    bool v;
    if (gate_of_net_[ff.d_net] >= 0) {
      v = scalar_[ff.d_net];
    } else if (d_source_[i] < 0) {
      v = const_value_[ff.d_net];
    } else {
      const Source& src = sources_[d_source_[i]];
      const bool now = source_value(src, s1, op1, prev), before = source_value(src, s2, op2, prev2);
      v = (now != before && src.delay[now] > deadline_[state_flop_[i]][now]) ? before : now;
    }
    if (!ff.async_nets.empty()) {
      std::uint32_t bits = 0;
      for (size_t k = 0; k < ff.async_nets.size(); ++k) {
        const int n = ff.async_nets[k];
        const int pv = pi_role_[n] >= 0 ? pi_value(pi_role_[n], op1) : -1;
        bits |= std::uint32_t(pv < 0 ? const_value_[n] : pv) << k;
      }
      if ((ff.clear_tt >> bits) & 1) v = false;
      else if ((ff.preset_tt >> bits) & 1) v = true;
    }
    if (v) next[i / 64] |= Word{1} << (i % 64);
  }
}

void Engine::override_speculated(const Result& r, Word* state) const {
  for (size_t i = 0; i < speculated_.size(); ++i) {
    const int slot = flop_slot_[speculated_[i]];
    const Word bit = Word{1} << (slot % 64);
    if ((r.speculated_captured[i / 64] >> (i % 64)) & 1) state[slot / 64] |= bit;
    else state[slot / 64] &= ~bit;
  }
}

void Engine::process_gate(int gi, std::int32_t settle_cut, std::int32_t window_start,
                          std::vector<std::int32_t>* last_change, std::uint64_t& ops) {
  const Gate& g = c_.gates[gi];
  const int n = g.num_inputs;
  const Entry* in[6];
  std::uint32_t len[6], pos[6] = {};
  bool any = false;
  Word x[6];
  for (int k = 0; k < n; ++k) {
    in[k] = arena_.data() + begin_[g.in_net[k]];
    len[k] = count_[g.in_net[k]];
    any |= len[k] != 0;
    x[k] = init_[g.in_net[k]];
  }
  const int out_net = g.out_net;
  count_[out_net] = 0;
  if (!any) return;
  writes_.clear();
  op_time_.clear();
  const auto& rise_arcs = arcs_[gi][1];
  const auto& fall_arcs = arcs_[gi][0];
  const int rise_fb = fallback_start_[gi][1], fall_fb = fallback_start_[gi][0];
  for (;;) {
    std::int32_t u = INT32_MAX;
    for (int k = 0; k < n; ++k)
      if (pos[k] < len[k]) u = std::min(u, in[k][pos[k]].time);
    if (u == INT32_MAX) break;
    Word ch[6], op = 0;
    for (int k = 0; k < n; ++k) {
      ch[k] = 0;
      if (pos[k] < len[k] && in[k][pos[k]].time == u) ch[k] = in[k][pos[k]++].change;
      x[k] ^= ch[k];
      op |= ch[k];
    }
    if (!op) continue;
    ops += static_cast<std::uint64_t>(__builtin_popcountll(op));
    ++op_times_;

    const Word v = eval_tt(g.truth_table, n, x);
    const std::uint32_t ui = static_cast<std::uint32_t>(op_time_.size());
    op_time_.push_back(u);
    for (int out = 1; out >= 0; --out) {
      Word rem = op & (out ? v : ~v);
      if (!rem) continue;
      const auto& list = out ? rise_arcs : fall_arcs;
      const int fb = out ? rise_fb : fall_fb;
      // Lanes with a matching arc take the slowest one; only lanes with none fall back.
      Word matched = 0;
      for (int i = 0; i < fb && rem; ++i) {
        const Arc& a = list[i];
        const Word m = rem & ch[a.pin] & (a.edge ? x[a.pin] : ~x[a.pin]);
        if (m) writes_.push_back({u + a.delay, ui, m, static_cast<std::uint8_t>(out)});
        rem &= ~m;
        matched |= m;
      }
      for (size_t i = fb; i < list.size() && rem; ++i) {
        const Arc& a = list[i];
        const Word m = rem & ch[a.pin];
        if (m) writes_.push_back({u + a.delay, ui, m, static_cast<std::uint8_t>(out)});
        rem &= ~m;
      }
      (void)matched;
    }
  }
  // Transport: per lane the output follows the op with the largest index
  // among those whose scheduled time has passed.
  std::sort(writes_.begin(), writes_.end(), [](const Write& a, const Write& b) {
    return a.time != b.time ? a.time < b.time : a.u < b.u;
  });
  const std::uint32_t nops = static_cast<std::uint32_t>(op_time_.size());
  auto sweep = [&](std::uint32_t op_limit, auto&& emit) {
    // written_[u]: lanes op u has written so far. Writes come in time order,
    // which is nearly op order, so the ops later than u that have written
    // already are few: a short scan up to the latest one.
    written_.assign(nops, 0);
    std::uint32_t latest = 0;
    Word y = init_[out_net];
    for (size_t i = 0; i < writes_.size();) {
      const std::int32_t t = writes_[i].time;
      const Word before = y;
      for (; i < writes_.size() && writes_[i].time == t; ++i) {
        const Write& w = writes_[i];
        if (w.u >= op_limit) continue;
        Word later = 0;
        for (std::uint32_t j = w.u + 1; j <= latest; ++j) later |= written_[j];
        const Word eff = w.lanes & ~later;
        y = w.value ? (y | eff) : (y & ~eff);
        written_[w.u] |= w.lanes;
        latest = std::max(latest, w.u);
      }
      if (y != before) emit(t, y ^ before);
    }
  };
  const std::uint32_t out_begin = static_cast<std::uint32_t>(arena_.size());
  sweep(nops, [&](std::int32_t t, Word change) { arena_.push_back({t, change}); });
  begin_[out_net] = out_begin;
  count_[out_net] = static_cast<std::uint32_t>(arena_.size()) - out_begin;
  if (settle_gate_[gi] && last_change) {
    // Settle time as the event engine reports it: the last change scheduled by
    // ops before the end of the window (later ops have not happened yet).
    std::uint32_t limit = 0;
    while (limit < nops && op_time_[limit] < settle_cut) ++limit;
    sweep(limit, [&](std::int32_t t, Word change) {
      if (t < window_start) return;
      for (Word m = change; m; m &= m - 1) (*last_change)[__builtin_ctzll(m)] = t - window_start;
    });
  }
}

int Engine::run_pass(std::size_t first, int lanes, const std::vector<Word>& states, std::size_t base,
                     std::vector<Result>& out, std::uint64_t& ops, bool& restart) {
  if (lanes < 1 || lanes > kLanes)
    throw std::logic_error("parallel engine: a pass of " + std::to_string(lanes) + " lanes (1 to 64)");
  const int K = windows_ - 1;
  const size_t nets = c_.net_names.size();
  auto state_of = [&](long step) -> const Word* {
    static const Word zero[64] = {};
    if (step < 0) return zero;
    return states.data() + (static_cast<std::size_t>(step) - base) * words_per_state_;
  };
  // Source values per lane and per step offset w = -1..K (step j-K+w).
  const size_t S = sources_.size();
  std::vector<Word> src(S * (K + 2), 0);
  for (int l = 0; l < lanes; ++l) {
    const long j = static_cast<long>(first) + l;
    for (int w = -1; w <= K; ++w) {
      const long m = std::max<long>(j - K + w, -1);
      const CycleOperands op = operands(m);
      const Word* st = state_of(m);
      for (size_t i = 0; i < S; ++i)
        if (source_value(sources_[i], m, op, st)) src[i * (K + 2) + (w + 1)] |= Word{1} << l;
    }
  }
  // Start values: settled logic of the step before the first window.
  init_.assign(nets, 0);
  std::vector<Word> first_src(S), last_src(S);
  for (size_t i = 0; i < S; ++i) {
    first_src[i] = src[i * (K + 2)];
    last_src[i] = src[i * (K + 2) + K + 1];
  }
  zero_delay(init_, first_src);
  final_.assign(nets, 0);
  zero_delay(final_, last_src);
  // Launches.
  arena_.clear();
  begin_.assign(nets, 0);
  count_.assign(nets, 0);
  for (size_t i = 0; i < S; ++i) {
    const Source& s = sources_[i];
    const std::uint32_t b0 = static_cast<std::uint32_t>(arena_.size());
    for (int w = 0; w <= K; ++w) {
      const Word prev = src[i * (K + 2) + w], cur = src[i * (K + 2) + w + 1];
      const Word rise = (prev ^ cur) & cur, fall = (prev ^ cur) & ~cur;
      const std::int32_t tr = w * period_ + s.delay[1], tf = w * period_ + s.delay[0];
      if (tr == tf) {
        if (rise | fall) arena_.push_back({tr, rise | fall});
      } else {
        const bool rise_first = tr < tf;
        const Word a = rise_first ? rise : fall, b = rise_first ? fall : rise;
        if (a) arena_.push_back({rise_first ? tr : tf, a});
        if (b) arena_.push_back({rise_first ? tf : tr, b});
      }
    }
    begin_[s.net] = b0;
    count_[s.net] = static_cast<std::uint32_t>(arena_.size()) - b0;
  }
  // Gates in topological order.
  const std::int32_t window_start = K * period_, window_end = (K + 1) * period_;
  std::vector<std::vector<std::int32_t>> last(b_.acc_bits, std::vector<std::int32_t>(kLanes, 0));
  std::vector<int> settle_bit_of_gate;  // filled lazily
  std::vector<std::int32_t> last_change(kLanes, 0);
  std::vector<std::vector<std::int32_t>> settle_by_gate(c_.gates.size());
  for (int g = 0; g < static_cast<int>(c_.gates.size()); ++g) {
    if (settle_gate_[g]) {
      std::fill(last_change.begin(), last_change.end(), 0);
      process_gate(g, window_end, window_start, &last_change, ops);
      settle_by_gate[g] = last_change;
    } else {
      process_gate(g, window_end, window_start, nullptr, ops);
    }
  }
  // Capture, settled value and settle time of each observed flop.
  auto capture = [&](int f) {
    const FlipFlop& ff = c_.flops[f];
    const Entry* e = arena_.data() + begin_[ff.d_net];
    const std::uint32_t cnt = count_[ff.d_net];
    Word v = init_[ff.d_net];
    std::uint32_t i = 0;
    for (; i < cnt && e[i].time < window_start; ++i) v ^= e[i].change;
    Word cv = v;
    for (; i < cnt && e[i].time < window_end; ++i) {
      v ^= e[i].change;
      const std::int32_t t = e[i].time - window_start;
      Word in_time = 0;
      if (t <= deadline_[f][1]) in_time |= e[i].change & v;
      if (t <= deadline_[f][0]) in_time |= e[i].change & ~v;
      cv = (cv & ~in_time) | (v & in_time);
    }
    Word settled = final_[ff.d_net];
    if (!ff.async_nets.empty()) {
      for (int l = 0; l < lanes; ++l) {
        std::uint32_t bits = 0;
        for (size_t k = 0; k < ff.async_nets.size(); ++k)
          bits |= std::uint32_t((final_[ff.async_nets[k]] >> l) & 1) << k;
        const Word bit = Word{1} << l;
        if ((ff.clear_tt >> bits) & 1) { cv &= ~bit; settled &= ~bit; }
        else if ((ff.preset_tt >> bits) & 1) { cv |= bit; settled |= bit; }
      }
    }
    return std::pair<Word, Word>{cv, settled};
  };
  // Speculated flops: the first lane whose capture differs ends the pass.
  int valid = lanes;
  restart = false;
  std::vector<Word> spec_cv(speculated_.size());
  for (size_t i = 0; i < speculated_.size(); ++i) {
    const auto [cv, settled] = capture(speculated_[i]);
    spec_cv[i] = cv;
    const Word wrong = (cv ^ settled) & (lanes == 64 ? ~Word{0} : ((Word{1} << lanes) - 1));
    if (wrong) {
      valid = std::min(valid, __builtin_ctzll(wrong) + 1);
      restart = true;
    }
  }
  out.resize(lanes);
  for (int l = 0; l < valid; ++l) {
    out[l].speculated_captured.assign((speculated_.size() + 63) / 64, 0);
    for (size_t i = 0; i < speculated_.size(); ++i)
      out[l].speculated_captured[i / 64] |= ((spec_cv[i] >> l) & 1) << (i % 64);
  }
  for (int j = 0; j < b_.acc_bits; ++j) {
    const int f = b_.output_flops[j];
    const auto [cv, settled] = capture(f);
    const int drv = gate_of_net_[c_.flops[f].d_net];
    for (int l = 0; l < valid; ++l) {
      Result& r = out[l];
      if (j == 0) {
        r.captured = r.settled = 0;
        r.settle.assign(b_.acc_bits, 0);
      }
      r.captured |= std::uint64_t((cv >> l) & 1) << j;
      r.settled |= std::uint64_t((settled >> l) & 1) << j;
      std::int32_t t = 0;
      if (drv >= 0) {
        t = settle_by_gate[drv][l];
      } else {  // D driven by a source: its last change in the window
        const Entry* e = arena_.data() + begin_[c_.flops[f].d_net];
        for (std::uint32_t i = 0; i < count_[c_.flops[f].d_net]; ++i)
          if (e[i].time >= window_start && e[i].time < window_end && ((e[i].change >> l) & 1))
            t = e[i].time - window_start;
      }
      r.settle[j] = t;
    }
  }
  return valid;
}

}  // namespace

PointStats run_pe_trace_pattern_parallel(const Circuit& c, const PeBinding& b, const OperandTrace& trace,
                                         const RunOptions& opt, int threads) {
  const std::size_t n = trace.records.size();
  if (n == 0) throw DtaError("operand trace '" + trace.header.source + "' has no records");
  check_trace_shape(b, trace);
  Engine probe(c, b, trace, opt);
  const std::size_t steps = probe.steps();
  const int K = probe.windows() - 1;
  const int wps = probe.words_per_state();

  // Steps [from, to) on one engine, recorded into `s` in order. Step 0 primes
  // the input registers; step n+1 computes record n.
  auto simulate = [&](Engine& e, std::size_t from, std::size_t to, PointStats& s, std::uint64_t& acc_state) {
    const std::size_t base = from > static_cast<std::size_t>(K) + 2 ? from - K - 2 : 0;
    std::vector<Word> states;  // tracked flop states of steps base, base+1, ...
    static const Word zero[64] = {};
    auto state_at = [&](std::size_t m) -> Word* { return states.data() + (m - base) * wps; };
    auto extend = [&](std::size_t upto) {
      if (!wps) return;
      for (std::size_t m = base + states.size() / wps; m <= upto; m = base + states.size() / wps) {
        states.resize(states.size() + wps, 0);
        const Word* p1 = m >= base + 1 ? state_at(m - 1) : zero;
        const Word* p2 = m >= base + 2 ? state_at(m - 2) : zero;
        e.next_state(m, p1, p2, state_at(m));
      }
    };
    std::vector<Engine::Result> pass;
    std::uint64_t ops = 0;
    // Lanes per pass: all 64 while speculation holds; after a wrong
    // speculation twice the run that held, so that frequent errors (an
    // accumulator at a short period) do not waste most of every pass. Never
    // more than 64: a lane is a bit of a Word (a run of more than 32 that
    // held used to ask for up to 128 lanes, and lanes 64.. overwrote lanes 0..).
    int width = kLanes;
    for (std::size_t first = from; first < to;) {
      const int lanes = static_cast<int>(std::min<std::size_t>(width, to - first));
      extend(first + lanes - 1);
      bool restart = false;
      const int valid = e.run_pass(first, lanes, states, base, pass, ops, restart);
      for (int l = 0; l < valid; ++l) {
        const std::size_t step = first + l;
        const Engine::Result& r = pass[l];
        if (step == 0) acc_state = r.captured;
        else record_cycle(s, b, trace, step - 1, r.captured, r.settled, r.settle.data(), acc_state, opt);
        if (opt.captured_log) opt.captured_log->push_back(r.captured);
        if (opt.input_log) {
          const CycleOperands op = e.operands(static_cast<long>(step));
          opt.input_log->push_back({op.a, op.w, op.psum});
        }
      }
      first += valid;
      width = std::min(kLanes, restart ? 2 * valid : 2 * width);
      if (restart) {
        // A speculated flop captured a wrong value: it is the state from here on.
        states.resize((first - base) * wps);
        extend(first);
        e.override_speculated(pass[valid - 1], state_at(first));
      }
    }
    s.events += ops;
    s.event_times += e.op_times_;
    e.op_times_ = 0;
  };

  PointStats total;
  total.init(b.acc_bits, static_cast<std::int32_t>(std::llround(opt.sim.period_ns * 1000.0)));
  threads = std::max(1, std::min<int>(threads, static_cast<int>(steps / 4096) + 1));
  if (threads == 1 || probe.sequential() || opt.captured_log || opt.input_log) {
    std::uint64_t acc_state = 0;
    simulate(probe, 0, steps, total, acc_state);
    return total;
  }
  std::vector<PointStats> parts(threads);
  run_slices(threads, [&](int t) {
    Engine e(c, b, trace, opt);
    parts[t].init(b.acc_bits, total.period_ps);
    std::uint64_t acc_state = 0;
    simulate(e, steps * t / threads, steps * (t + 1) / threads, parts[t], acc_state);
  });
  for (const auto& p : parts) total.merge(p);
  return total;
}

}  // namespace vosa::dta
