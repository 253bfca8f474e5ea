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
//   - otherwise every output transition is scheduled by an input transition
//     after an arc delay, so its latest rising (falling) transition is at
//     most the max over the input edges that have an arc to a rising
//     (falling) output of (that edge's bound + the arc's delay). The event
//     engine falls back to an input's largest delay when no changed input has
//     a matching arc; such a change only matters where it can switch the
//     function to that output value (checked per gate when the circuit is
//     loaded: then the input's largest delay from either input edge counts
//     too); docs/dta.md gives the argument. Modpath delays do not follow the
//     edges: there every input edge counts with the input's largest delay;
//   - once inputs have taken final values that fix the function (a
//     controlling partial assignment: an AND's 0, two equal majority inputs),
//     the other inputs count only up to those inputs' latest transition;
//   - transitions alternate and the last one reaches the zero-delay value, so
//     the bound of the edge away from it is at most the bound towards it.
// A cycle whose bounds are all before the clock edge (so it ends quiet) and
// whose flip-flop inputs' edges towards their final values are all bounded by
// their capture deadlines captures the zero-delay values. A cycle that starts
// with transitions in flight (the one before was simulated) and passes that
// bound is bounded once more with the simulator's pending events as extra
// terms (probe_in_flight). Every other cycle is simulated by TimingSimulator,
// which is loaded with the quiet state the cycle starts from when that is
// quiet; it keeps simulating until a cycle is resolved again. The
// captured values become the flip-flop state in cycle order, so an
// accumulator that captured a wrong value carries it on exactly as in the
// event engine; the zero-delay values of later cycles assume correct captures
// and are recomputed after a wrong one (the block ends there).
#include "vosa/pe_dta.hpp"

#include "lane_words.hpp"
#include "run_slices.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>

namespace vosa::dta {

namespace {

using Word = LaneWord;
constexpr int kLanes = 64;
// "Never moves": far below any transition time, and it stays negative after
// the delays of any path are added to it.
constexpr std::int32_t kNever = -(1 << 30);

// The instruction sets the lane loops are compiled for.
enum class Isa { kAvx512, kAvx2, kPortable };
const char* isa_name(Isa isa) { return isa == Isa::kAvx512 ? "avx512f" : isa == Isa::kAvx2 ? "avx2" : "x86-64"; }
// The best one this CPU runs, or the one $VOSA_FILTER_ISA names (x86-64: the
// portable loops on any CPU, e.g. to test them; the results are the same).
Isa pick_isa() {
  __builtin_cpu_init();
  // (AVX-512: F and BW, for the 16-bit lanes.)
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"),
             avx2 = __builtin_cpu_supports("avx2");
  const char* env = std::getenv("VOSA_FILTER_ISA");
  if (!env || !*env) return avx512 ? Isa::kAvx512 : avx2 ? Isa::kAvx2 : Isa::kPortable;
  const std::string want = env;
  if (want == "x86-64") return Isa::kPortable;
  if (want == "avx2" || want == "avx512f") {
    if (!(want == "avx2" ? avx2 : avx512)) throw DtaError("VOSA_FILTER_ISA=" + want + ": this CPU does not have " +
                                                         (want == "avx2" ? want : "avx512f and avx512bw"));
    return want == "avx2" ? Isa::kAvx2 : Isa::kAvx512;
  }
  throw DtaError("VOSA_FILTER_ISA='" + want + "': expected avx512f, avx2 or x86-64");
}

// The lane loops work on times of type T: std::int32_t, or std::int16_t
// (twice the lanes per register) when every time fits (FilterEngine::narrow_:
// the longest path is below kNever16's magnitude, so "never" plus the delays
// of any path stays negative and every real time is exact). A negative time
// is "no transition" in both.
constexpr std::int16_t kNever16 = -(1 << 14);
template <typename T>
constexpr T never_v = sizeof(T) == 2 ? T(kNever16) : T(kNever);
// A 32-bit time as T (negative: none).
template <typename T>
inline T narrow_time(std::int32_t t) {
  return t < 0 ? never_v<T> : static_cast<T>(t);
}
// $VOSA_FILTER_TIMES=32: 32-bit times even where 16-bit ones fit (e.g. to
// test them; the results are the same). 16 or unset: 16-bit where they fit.
bool wide_times_forced() {
  const char* env = std::getenv("VOSA_FILTER_TIMES");
  if (!env || !*env || std::string(env) == "16") return false;
  if (std::string(env) == "32") return true;
  throw DtaError(std::string("VOSA_FILTER_TIMES='") + env + "': expected 16 or 32");
}
// W lanes of T in GCC's generic vectors (the loop form stays scalar under
// GCC 12): one register of 64 bytes for AVX-512, 32 for AVX2, 16 for plain
// x86-64 (SSE2). A vector wider than the target's registers is lowered
// through the stack (the AVX2 pass with 16 int32 lanes took twice the
// portable one's time).
template <typename T, int W>
struct LanesOf;
#define VOSA_LANES(T, W)                                                                  \
  template <>                                                                             \
  struct LanesOf<T, W> {                                                                  \
    using type = T __attribute__((vector_size(W * sizeof(T)), aligned(sizeof(T)), may_alias)); \
  };
VOSA_LANES(std::int32_t, 16)
VOSA_LANES(std::int32_t, 8)
VOSA_LANES(std::int32_t, 4)
VOSA_LANES(std::int16_t, 32)
VOSA_LANES(std::int16_t, 16)
VOSA_LANES(std::int16_t, 8)
#undef VOSA_LANES
template <typename T, int W>
using Lanes = typename LanesOf<T, W>::type;

// m = lanes c..c+W-1 of a word as a mask (-1 where the bit is set). (An out
// parameter: a vector return value would differ between the variants' ABIs.)
// Each lane tests its own bit of the broadcast word (32 lanes of int16: of
// its low or high 16 bits).
template <typename T, int W>
__attribute__((always_inline)) inline void lane_mask(Word w, int c, Lanes<T, W>& m) {
  if constexpr (W == 32) {  // the low 16 bits in lanes 0..15, the high ones in 16..31
    using V = Lanes<T, W>;
    V bit, pick;
    for (int i = 0; i < W; ++i) {
      bit[i] = static_cast<T>(1u << (i % 16));
      pick[i] = static_cast<T>(i < 16 ? i : W + i);
    }
    const V lo = V{} + static_cast<T>((w >> c) & 0xffff), hi = V{} + static_cast<T>((w >> (c + 16)) & 0xffff);
    m = (__builtin_shuffle(lo, hi, pick) & bit) != 0;
  } else {
    Lanes<T, W> bit;
    for (int i = 0; i < W; ++i) bit[i] = static_cast<T>(1u << i);
    m = ((Lanes<T, W>{} + static_cast<T>((w >> c) & ((Word{1} << W) - 1))) & bit) != 0;
  }
}

// Latest-transition bounds of one gate output in 64 lanes, W lanes at a time
// held in registers: per edge o the max over its terms of (input edge bound
// + arc delay); then towards the final value (the edge away from it bounded
// by the edge towards it, `one`: lanes whose final value is 1), none in the
// lanes `held` (a still controlling input), and latest = max(latest, both).
// One pass, each W-lane chunk loaded and stored once. Inlined into
// FilterEngine::bound_pass_body, which is compiled for AVX-512, AVX2 and
// plain x86-64 and picked at run time. An input edge's bound counts only up
// to `settled` (when a controlling input took its final value; nullptr: none did).
// The terms of edge o: input edge bounds base + at[k], delays delay[k].
template <typename T>
struct GateTerms {
  const std::uint32_t* at;
  const T* delay;
  int n;
};
template <typename T, int W, bool Settled, bool Held, bool Track>
__attribute__((always_inline)) inline void gate_bound(T* out, const T* base, const GateTerms<T>* terms,
                                                      const T* settled, Word one, Word held, T* latest) {
  using V = Lanes<T, W>;
  constexpr T never = never_v<T>;
  for (int c = 0; c < kLanes; c += W) {
    V edge[2];
    for (int o = 0; o < 2; ++o) {
      const GateTerms<T>& t = terms[o];
      V bound = V{} + never;
      if (Settled) {
        const V until = *reinterpret_cast<const V*>(settled + c);
        for (int k = 0; k < t.n; ++k) {
          const V b = *reinterpret_cast<const V*>(base + t.at[k] + c);
          const V x = (b < until ? b : until) + t.delay[k];
          bound = bound > x ? bound : x;
        }
      } else {
        for (int k = 0; k < t.n; ++k) {
          const V x = *reinterpret_cast<const V*>(base + t.at[k] + c) + t.delay[k];
          bound = bound > x ? bound : x;
        }
      }
      edge[o] = bound;
    }
    V m;
    lane_mask<T, W>(one, c, m);
    const V low = edge[0] < edge[1] ? edge[0] : edge[1];
    V fall = (low & m) | (edge[0] & ~m), rise = (low & ~m) | (edge[1] & m);
    if (Held) {
      V h;
      lane_mask<T, W>(held, c, h);
      fall = (never & h) | (fall & ~h);
      rise = (never & h) | (rise & ~h);
    }
    *reinterpret_cast<V*>(out + c) = fall;
    *reinterpret_cast<V*>(out + kLanes + c) = rise;
    if (Track) {
      V& lat = *reinterpret_cast<V*>(latest + c);
      const V top = fall > rise ? fall : rise;
      lat = lat > top ? lat : top;
    }
  }
}

// settled = min(settled, latest transition of the n inputs `bound`) in the lanes of `at`.
template <typename T, int W>
__attribute__((always_inline)) inline void settle_by(T* settled, Word at, const T* const* bound, int n) {
  using V = Lanes<T, W>;
  for (int c = 0; c < kLanes; c += W) {
    V last = V{} + never_v<T>;
    for (int k = 0; k < n; ++k) {
      const V fall = *reinterpret_cast<const V*>(bound[k] + c);
      const V rise = *reinterpret_cast<const V*>(bound[k] + kLanes + c);
      const V edge = fall > rise ? fall : rise;
      last = last > edge ? last : edge;
    }
    V& now = *reinterpret_cast<V*>(settled + c);
    V in;
    lane_mask<T, W>(at, c, in);
    const V t = now < last ? now : last;
    now = (t & in) | (now & ~in);
  }
}

// out = (fall, rise) in the lanes of `moves`, none in the others.
template <typename T, int W>
__attribute__((always_inline)) inline void static_bound(T* out, Word moves, T fall, T rise) {
  using V = Lanes<T, W>;
  constexpr T never = never_v<T>;
  for (int c = 0; c < kLanes; c += W) {
    V m;
    lane_mask<T, W>(moves, c, m);
    *reinterpret_cast<V*>(out + c) = (fall & m) | (never & ~m);
    *reinterpret_cast<V*>(out + kLanes + c) = (rise & m) | (never & ~m);
  }
}

// latest = max(latest, both edges' bounds of a net).
template <typename T>
__attribute__((always_inline)) inline void track_latest(T* latest, const T* bound) {
  for (int l = 0; l < kLanes; ++l) latest[l] = std::max(latest[l], std::max(bound[l], bound[kLanes + l]));
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
      for (int e = 0; e < 2; ++e)
        x.deadline[e] = period_ - (opt.sim.setup_mode == SetupMode::kSdf ? ff.setup_ps[e] : 0) - ff.d_wire_ps[e];
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
    // Per gate and output edge, the (input, input edge, delay) terms of its bound.
    terms_.resize(c.gates.size());
    const bool modpath = opt.sim.delay_mode == DelayMode::kModpath;
    for (size_t g = 0; g < c.gates.size(); ++g) {
      const Gate& G = c.gates[g];
      const int n = G.num_inputs;
      for (int o = 0; o < 2; ++o) {
        // Can the function switch to o with only inputs changed that have no
        // arc to an o output edge (the event engine's fallback delay)?
        bool fallback = false;
        for (std::uint32_t x = 0; x < (1u << n) && !fallback; ++x)
          for (std::uint32_t y = 0; y < (1u << n) && !fallback; ++y) {
            if (x == y || ((G.truth_table >> x) & 1) == std::uint64_t(o) || ((G.truth_table >> y) & 1) != std::uint64_t(o))
              continue;
            bool unmatched = true;
            for (int k = 0; k < n; ++k)
              if (((x ^ y) >> k) & 1) unmatched &= G.arc_ps[k][(y >> k) & 1][o] < 0;
            fallback = unmatched;
          }
        auto& list = terms_[g][o];
        for (int k = 0; k < n; ++k)
          for (int e = 0; e < 2; ++e) {
            std::int32_t d = G.arc_ps[k][e][o];
            if (modpath) d = std::max(G.rise_ps[k], G.fall_ps[k]);
            else if (fallback) d = std::max(d, o ? G.rise_ps[k] : G.fall_ps[k]);
            if (d >= 0) list.push_back({static_cast<std::size_t>(G.in_net[k] * 2 + e) * kLanes, d});
          }
      }
    }
    // The same terms in flat arrays, for the bound pass.
    term_from_.push_back(0);
    for (size_t g = 0; g < c.gates.size(); ++g)
      for (int o = 0; o < 2; ++o) {
        for (const Term& term : terms_[g][o]) {
          term_at_.push_back(static_cast<std::uint32_t>(term.at));
          term_delay32_.push_back(term.delay);
          term_delay16_.push_back(static_cast<std::int16_t>(std::min<std::int32_t>(term.delay, INT16_MAX)));
        }
        term_from_.push_back(static_cast<int>(term_at_.size()));
      }
    // Gates in the fan-in cones of the flip-flops read by logic, in order.
    std::vector<std::uint8_t> in_cone(nets, 0);
    for (size_t f = 0; f < c.flops.size(); ++f)
      if (flops_[f].state) in_cone[c.flops[f].d_net] = 1;
    for (int g = static_cast<int>(c.gates.size()) - 1; g >= 0; --g)
      if (in_cone[c.gates[g].out_net]) {
        state_cone_.push_back(g);
        for (int k = 0; k < c.gates[g].num_inputs; ++k) in_cone[c.gates[g].in_net[k]] = 1;
      }
    std::reverse(state_cone_.begin(), state_cone_.end());
    // Controlling partial assignments: inputs whose values alone fix the
    // function (an AND's 0, a majority's two equal inputs), the minimal ones
    // with fewer inputs than the gate has.
    controls_.resize(c.gates.size());
    for (size_t g = 0; g < c.gates.size(); ++g) {
      const Gate& G = c.gates[g];
      const std::uint32_t all = (1u << G.num_inputs) - 1;
      std::vector<Control>& list = controls_[g];
      for (std::uint32_t care = 1; care < all; ++care)
        for (std::uint32_t val = care;; val = (val - 1) & care) {
          int seen = 0;  // bit 0: some completion gives 0, bit 1: gives 1
          for (std::uint32_t x = 0; x <= all; ++x)
            if ((x & care) == val) seen |= 1 << ((G.truth_table >> x) & 1);
          bool minimal = seen != 3;
          for (const Control& k : list)  // a smaller one already covers it
            if ((k.care & care) == k.care && (val & k.care) == k.value) minimal = false;
          if (minimal) {
            Control k{care, val};
            for (int i = 0; i < G.num_inputs; ++i)
              if ((care >> i) & 1) {
                k.in[k.n] = static_cast<std::uint8_t>(i);
                k.zero[k.n++] = !((val >> i) & 1);
              }
            list.push_back(k);
          }
          if (val == 0) break;
        }
      std::sort(list.begin(), list.end(), [](const Control& a, const Control& b) {
        return __builtin_popcount(a.care) < __builtin_popcount(b.care);
      });
    }
    // K: every transition lies within the longest path (slowest arc of each
    // cell, latest launch) of the launch that caused it, so K = L / T edges.
    std::vector<std::int64_t> longest(nets, 0);
    std::int64_t launch = input_delay_;
    for (const FlipFlop& ff : c.flops) launch = std::max<std::int64_t>({launch, ff.clk_to_q_rise_ps, ff.clk_to_q_fall_ps});
    std::int64_t path = launch;
    for (size_t g = 0; g < c.gates.size(); ++g) {
      const Gate& G = c.gates[g];
      std::int64_t t = launch;
      for (int o = 0; o < 2; ++o)
        for (const Term& term : terms_[g][o]) t = std::max(t, longest[term.at / (2 * kLanes)] + term.delay);
      longest[G.out_net] = std::max(longest[G.out_net], t);
      path = std::max(path, t);
    }
    reach_ = static_cast<int>(path / period_);
    // Required time of each net: a transition later than this could reach a
    // flip-flop after its deadline or the next edge (backwards over the
    // slowest arcs, as STA does).
    required_.assign(nets, period_ - 1);
    for (size_t f = 0; f < c.flops.size(); ++f)
      required_[c.flops[f].d_net] =
          std::min({required_[c.flops[f].d_net], flops_[f].deadline[0], flops_[f].deadline[1]});
    for (int g = static_cast<int>(c.gates.size()) - 1; g >= 0; --g)
      for (int o = 0; o < 2; ++o)
        for (const Term& term : terms_[g][o]) {
          const std::size_t in = term.at / (2 * kLanes);
          required_[in] = std::min(required_[in], required_[c.gates[g].out_net] - term.delay);
        }
    // Latest transition of each net in any cycle (STA-like, the same terms).
    // A gate whose output can never be later than its required time, and
    // whose fan-out has no gate that can, never decides a lane: it takes that
    // static bound (or none where still) instead of the per-lane one.
    std::vector<std::array<std::int32_t, 2>> worst(nets, {kNever, kNever});
    for (const Input& in : inputs_) worst[in.net] = {input_delay_, input_delay_};
    for (const FlipFlop& ff : c.flops) {
      if (ff.q_net >= 0) worst[ff.q_net] = {ff.clk_to_q_fall_ps, ff.clk_to_q_rise_ps};
      if (ff.qn_net >= 0) worst[ff.qn_net] = {ff.clk_to_q_rise_ps, ff.clk_to_q_fall_ps};
    }
    for (int n : c.constant_nets) worst[n] = {kNever, kNever};
    worst_.resize(c.gates.size());
    for (size_t g = 0; g < c.gates.size(); ++g) {
      for (int o = 0; o < 2; ++o) {
        std::int32_t t = kNever;
        for (const Term& term : terms_[g][o]) {
          const std::int32_t w = worst[term.at / (2 * kLanes)][(term.at / kLanes) % 2];
          if (w >= 0) t = std::max(t, w + term.delay);
        }
        worst[c.gates[g].out_net][o] = t;
      }
      worst_[g] = worst[c.gates[g].out_net];
    }
    decides_.assign(c.gates.size(), 0);
    for (int g = static_cast<int>(c.gates.size()) - 1; g >= 0; --g) {
      const int out = c.gates[g].out_net;
      bool d = std::max(worst[out][0], worst[out][1]) > required_[out];
      for (int i = c.fanout_begin[out]; i < c.fanout_begin[out + 1] && !d; ++i) d = decides_[c.fanout_gates[i]];
      decides_[g] = d;
    }
    constant_.assign(c.gates.size(), 0);
    for (size_t g = 0; g < c.gates.size(); ++g) {
      const int n = c.gates[g].num_inputs;
      const std::uint64_t full = n >= 6 ? ~0ull : ((1ull << (1 << n)) - 1), tt = c.gates[g].truth_table & full;
      constant_[g] = tt == 0 || tt == full;
    }
    refines_.assign(c.gates.size(), 0);
    for (size_t g = 0; g < c.gates.size(); ++g) {
      const int out = c.gates[g].out_net;
      refines_[g] = std::max(worst[out][0], worst[out][1]) > required_[out];
    }
    // Only a gate whose output can be as late as the next edge can make a
    // cycle end with transitions in flight.
    tracks_.assign(c.gates.size(), 0);
    for (size_t g = 0; g < c.gates.size(); ++g) tracks_[g] = std::max(worst_[g][0], worst_[g][1]) >= period_;
    for (size_t f = 0; f < c.flops.size(); ++f)
      for (int e = 0; e < 2; ++e) flops_[f].can_be_late |= worst[c.flops[f].d_net][e] > flops_[f].deadline[e];
    for (const auto& [n, v] : b.constants) sim_.set_input(n, v);
    value_.assign(nets, 0);
    still_.assign(nets, 0);
    // 16-bit times when the longest path (every real time is within it, and
    // "never" plus the delays of any path stays negative) is below 2^14 ps and
    // no launch is before the edge (every real time is >= 0).
    bool nonnegative = input_delay_ >= 0;
    for (const FlipFlop& ff : c.flops) nonnegative &= ff.clk_to_q_rise_ps >= 0 && ff.clk_to_q_fall_ps >= 0;
    narrow_ = nonnegative && path < -std::int64_t{kNever16} && !wide_times_forced();
    if (narrow_) bound16_.assign(static_cast<size_t>(nets) * 2 * kLanes, kNever16);
    else bound32_.assign(static_cast<size_t>(nets) * 2 * kLanes, kNever);
    state_.assign(c.flops.size(), 0);
    prev_state_.assign(c.flops.size(), 0);
    spec_.assign(c.flops.size(), 0);
    seed_.assign(c.gates.size(), kNever);
    cut_.assign(nets, TimingSimulator::kNoCut);
    from_.assign(nets, INT32_MAX);
    sim_.reset(false);
    steps_ = trace.records.size() + 1;  // step 0 primes the input registers
  }

  std::size_t steps() const { return steps_; }
  std::size_t position() const { return next_; }

  int reach() const { return reach_; }
  // The flip-flops read by logic hold the same values at the last K+2 steps
  // in both walks (then everything after is the same).
  bool continues_into(const FilterEngine& o) const {
    if (history_.size() != o.start_history_.size() || next_ != o.start_) return false;
    for (size_t i = 0; i < history_.size(); ++i)
      for (size_t f = 0; f < flops_.size(); ++f)
        if (flops_[f].state && history_[i][f] != o.start_history_[i][f]) return false;
    return true;
  }
  // Starts the walk at step `start` (> K + 1) without walking up to it: the
  // states of steps start-K-1..start are guessed as correct captures would
  // leave them, and the event engine replays steps start-K..start-1 from the
  // settled state before them, which gives exactly the transitions still in
  // flight at `start` when the guess is right (same_history checks it).
  void start_at(std::size_t start) {
    const std::size_t first = start - (kLanes - 1);
    std::fill(state_.begin(), state_.end(), 0);
    std::fill(prev_state_.begin(), prev_state_.end(), 0);
    compute_block(first, kLanes);
    auto guess = [&](std::size_t step) {
      std::vector<std::uint8_t> v(flops_.size());
      for (size_t f = 0; f < v.size(); ++f) v[f] = (st_[f] >> (step - first)) & 1;
      return v;
    };
    history_.clear();
    for (std::size_t m = start - reach_ - 1; m <= start; ++m) history_.push_back(guess(m));
    apply(operands(static_cast<long>(start - reach_ - 1)));
    sim_.load_quiet(history_[0], history_[1]);
    for (int w = 1; w <= reach_; ++w) {
      apply(operands(static_cast<long>(start - reach_ - 1 + w)));
      sim_.step();
      for (size_t f = 0; f < flops_.size(); ++f) sim_.set_state(static_cast<int>(f), history_[w + 1][f]);
    }
    prev_state_ = history_[history_.size() - 2];
    state_ = history_.back();
    quiet_ = reach_ == 0 || sim_.quiet();
    synced_ = true;
    acc_state_ = 0;
    for (int j = 0; j < b_.acc_bits; ++j) acc_state_ |= std::uint64_t{state_[b_.output_flops[j]]} << j;
    next_ = start_ = start;
    start_history_ = history_;
    events_seen_ = sim_.events_processed();
  }

  // Continues the walk up to step `to`, recording every record into `s`.
  void walk(std::size_t to, PointStats& s) {
    while (next_ < to) {
      const int lanes = static_cast<int>(std::min<std::size_t>(kLanes, to - next_));
      const auto t0 = std::chrono::steady_clock::now();
      compute_block(next_, lanes);
      const auto t1 = std::chrono::steady_clock::now();
      s.bound_seconds += std::chrono::duration<double>(t1 - t0).count();
      for (int l = 0; l < lanes; ++l) {
        // A cycle that starts with transitions in flight and passes the
        // quiet-start bound is bounded again with them (probe_in_flight): the
        // choice depends on the cycle alone, not on where its block starts
        // (the same results for any --threads).
        bool in_flight = false;
        if (!quiet_ && ((fast_ >> l) & 1)) {
          load_in_flight();
          in_flight = probe_in_flight(first_ + l);
          if (in_flight)  // its bounds, for the settle times
            for (size_t n = 0; n < carried_.size(); ++n)
              for (int e = 0; e < 2; ++e) {
                const std::size_t i = (n * 2 + e) * kLanes + l;
                if (narrow_) bound16_[i] = narrow_time<std::int16_t>(carried_[n][e]);
                else bound32_[i] = carried_[n][e];
              }
        }
        if (!take_lane(first_ + l, l, s, in_flight)) break;  // a flip-flop feeding logic captured a wrong value
      }
      s.simulate_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    }
    s.gates = static_cast<int>(c_.gates.size());
    s.lane_gates = static_cast<int>(std::count(refines_.begin(), refines_.end(), 1));
    s.events += sim_.events_processed() - events_seen_;
    events_seen_ = sim_.events_processed();
  }

 private:
  struct Input {
    int net, kind, bit;  // kind: 0 a_i, 1 w_i, 2 psum_i, 3 constant (bit = value)
  };
  struct Flop {
    std::int32_t deadline[2] = {};  // per D edge
    bool state = false;  // its Q or QN is read by logic or a flip-flop
    int forced = -1;     // asynchronous clear/preset held active: always this value
    bool can_be_late = false;  // some cycle could change its D after a deadline
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
  std::vector<int> state_cone_;
  struct Term {
    std::size_t at;  // (net * 2 + input edge) * 64 in bound_
    std::int32_t delay;
  };
  std::vector<std::array<std::vector<Term>, 2>> terms_;
  // terms_ flattened: gate g's edge o has terms term_from_[2g+o]..term_from_[2g+o+1]
  // (16-bit delays: used only when every time fits, see narrow_).
  std::vector<int> term_from_;
  std::vector<std::uint32_t> term_at_;
  std::vector<std::int32_t> term_delay32_;
  std::vector<std::int16_t> term_delay16_;
  template <typename T>
  const T* term_delay() const {
    if constexpr (sizeof(T) == 2) return term_delay16_.data();
    else return term_delay32_.data();
  }
  struct Control {
    std::uint32_t care, value;  // inputs (bit k: input k) and the values that fix the function
    int n = 0;                  // the inputs in care: in[0..n), and whether each fixes it at 0 (zero)
    std::uint8_t in[6] = {}, zero[6] = {};
  };
  std::vector<std::vector<Control>> controls_;
  std::vector<std::int32_t> required_;  // per net
  std::vector<std::array<std::int32_t, 2>> worst_;  // per gate: latest output transition in any cycle, per edge
  std::vector<std::uint8_t> decides_;               // per gate: its per-lane bound can decide a lane
  std::vector<std::uint8_t> refines_;               // per gate: its static bound exceeds its required time
  std::vector<std::uint8_t> constant_;              // per gate: its function ignores its inputs
  std::vector<std::uint8_t> tracks_;                // per gate: its static bound reaches the next edge
  // Walk state: the flip-flops' real values at steps next_-1 and next_;
  // whether the edge before next_ is quiet and the simulator holds that state.
  std::vector<std::uint8_t> prev_state_, state_;
  bool quiet_ = true, synced_ = false;
  std::uint64_t acc_state_ = 0, events_seen_ = 0;
  // Block of 64 steps from first_: zero-delay values, still lanes, bounds.
  std::size_t first_ = 0;
  std::vector<Word> value_, still_, spec_;  // spec_: per flop, the speculated captured value
  std::vector<Word> st_;                    // per flop, its speculated state in each lane
  // States of the last K+2 steps (the warm-up a slice starting here needs).
  std::vector<std::vector<std::uint8_t>> history_, start_history_;
  std::vector<std::uint8_t> captured_;  // take_lane's scratch
  std::vector<std::int32_t> settle_;
  std::size_t start_ = 0;
  int reach_ = 0;  // K: launches up to K edges back can still move a net
  // Latest transition per net, edge (0 falling, 1 rising) and lane:
  // bound32_ or bound16_[(net * 2 + edge) * 64 + lane]; negative: no such transition.
  std::vector<std::int32_t> bound32_;
  std::vector<std::int16_t> bound16_;
  bool narrow_ = false;  // 16-bit times: every time of the netlist fits (see never_v)
  std::vector<Word> in_now_, in_before_, st_before_;  // compute_block's source words, for bound_pass
  Word fast_ = 0;
  // Lanes whose bound ends before the next edge (nothing in flight there, if
  // the cycle starts quiet): a failing one needs only its late flip-flops'
  // fan-in simulated (take_lane, TimingSimulator::step_cut).
  Word ends_quiet_ = 0;
  std::vector<std::int32_t> cut_, from_;  // per net, step_cut's limit and the start of the part that matters
  std::vector<std::pair<int, std::uint8_t>> frozen_;  // step_cut's frozen nets
  std::vector<int> late_;          // flip-flops the bound leaves undecided in a lane
  // Transitions in flight at the block's first edge: per gate its latest one
  // (kNever: none), and the gates that have one; per net, whether one can reach it.
  std::vector<std::int32_t> seed_;
  std::vector<int> seeded_;
  // probe_in_flight's per-net value, stillness and bounds (falling, rising).
  std::vector<std::uint8_t> probe_value_, probe_still_;
  std::vector<std::array<std::int32_t, 2>> carried_;

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
  // The lane loops of the bound (sources, then gates), one body per time
  // type compiled for each Isa (isa_ and narrow_ pick); `latest` holds 64 T.
  void bound_pass(void* latest, Word live);
  template <typename T, int W>
  void bound_pass_body(T* latest, Word live);
  template <typename T, int W>
  void bound_source(T* latest, int net, Word moved, std::int32_t rise, std::int32_t fall);
  __attribute__((target("avx512f,avx512bw"))) void bound_pass_avx512(std::int32_t* latest, Word live);
  __attribute__((target("avx2"))) void bound_pass_avx2(std::int32_t* latest, Word live);
  void bound_pass_portable(std::int32_t* latest, Word live);
  __attribute__((target("avx512f,avx512bw"))) void bound_pass_avx512_16(std::int16_t* latest, Word live);
  __attribute__((target("avx2"))) void bound_pass_avx2_16(std::int16_t* latest, Word live);
  void bound_pass_portable_16(std::int16_t* latest, Word live);
  Isa isa_ = pick_isa();
  // The bound's storage: bound16_ when narrow_, else bound32_ (bound_at reads
  // either as 32-bit times).
  template <typename T>
  T* bound_data() {
    if constexpr (sizeof(T) == 2) return bound16_.data();
    else return bound32_.data();
  }
  std::int32_t bound_at(std::size_t i) const {
    if (!narrow_) return bound32_[i];
    const std::int32_t t = bound16_[i];
    return t < 0 ? kNever : t;
  }
  bool take_lane(std::size_t step, int l, PointStats& s, bool in_flight = false);
  void load_in_flight();
  bool probe_in_flight(std::size_t step);
  void restrict_to(int l);
};

// What step_cut must simulate of lane l for the flip-flops in late_: the
// part of each net's waveform that can decide their captures, [from_, cut_].
// A late flip-flop takes the last D transition that meets the deadline of its
// edge, so D matters between the two deadlines (and its value at the first).
// A gate's output up to cut follows from its input transitions up to cut -
// its fastest delay. In transport mode, its output at any time T is the
// function of its inputs at some time in [T - slowest delay, T - fastest
// delay] (the last input change whose transition is due by T pre-empts every
// earlier one due later), so a net whose bound in the lane (its latest
// transition) is at or before `from` holds its final value there: it is
// frozen at that value, and its own fan-in is not needed for it (docs/dta.md).
void FilterEngine::restrict_to(int l) {
  std::fill(cut_.begin(), cut_.end(), TimingSimulator::kNoCut);
  std::fill(from_.begin(), from_.end(), INT32_MAX);
  frozen_.clear();
  for (int f : late_) {
    const int d = c_.flops[f].d_net;
    const std::int32_t* deadline = flops_[f].deadline;
    cut_[d] = std::max({cut_[d], deadline[0], deadline[1]});
    from_[d] = std::min({from_[d], deadline[0], deadline[1]});
  }
  const bool transport = sim_.delay_mode() == DelayMode::kTransport;
  auto freeze = [&](int net) {
    if (!transport || cut_[net] == TimingSimulator::kNoCut) return false;
    const std::size_t b = static_cast<size_t>(net) * 2 * kLanes + l;
    if (std::max(bound_at(b), bound_at(b + kLanes)) > from_[net]) return false;
    frozen_.push_back({net, static_cast<std::uint8_t>((value_[net] >> l) & 1)});
    cut_[net] = TimingSimulator::kNoCut;
    return true;
  };
  for (int g = static_cast<int>(c_.gates.size()) - 1; g >= 0; --g) {
    const Gate& G = c_.gates[g];
    if (cut_[G.out_net] == TimingSimulator::kNoCut || freeze(G.out_net)) continue;
    const std::int32_t cut = cut_[G.out_net] - sim_.min_delay_ps(g), from = from_[G.out_net] - sim_.max_delay_ps(g);
    for (int k = 0; k < G.num_inputs; ++k) {
      const int in = G.in_net[k];
      cut_[in] = std::max(cut_[in], cut);
      from_[in] = std::min(from_[in], from);
    }
  }
  for (int n : c_.constant_nets) freeze(n);
  for (const Input& in : inputs_) freeze(in.net);
  for (const FlipFlop& ff : c_.flops)
    for (int n : {ff.q_net, ff.qn_net})
      if (n >= 0) freeze(n);
}

void FilterEngine::compute_block(std::size_t first, int lanes) {
  first_ = first;
  const Word live = lanes == kLanes ? ~Word{0} : ((Word{1} << lanes) - 1);
  // Input words of this block's steps and of the steps before them.
  // (Step s-1's inputs are lane l-1's, so each step's operands are read once.)
  std::vector<Word>& in_now = in_now_;
  std::vector<Word>& in_before = in_before_;
  in_now.assign(inputs_.size(), 0);
  in_before.assign(inputs_.size(), 0);
  for (int l = 0; l < lanes; ++l) {
    const CycleOperands now = operands(static_cast<long>(first) + l);
    for (size_t i = 0; i < inputs_.size(); ++i) in_now[i] |= Word{input_bit(inputs_[i], now)} << l;
  }
  const CycleOperands before_first = operands(static_cast<long>(first) - 1);
  for (size_t i = 0; i < inputs_.size(); ++i)
    in_before[i] = ((in_now[i] << 1) | Word{input_bit(inputs_[i], before_first)}) & live;
  // Flip-flop states: lane 0 is known; lane l > 0 holds what lane l-1
  // captures if every capture is right (the zero-delay value of its D).
  // Iterated to a fixed point (a register fed by a register settles in a few
  // rounds, an accumulator in up to 64).
  const size_t nf = c_.flops.size();
  std::vector<Word>& st = st_;
  std::vector<Word>& st_before = st_before_;
  st_before.assign(nf, 0);
  st.resize(nf);
  for (size_t f = 0; f < nf; ++f) st[f] = state_[f] ? live : 0;
  auto load_sources = [&]() {
    for (size_t i = 0; i < c_.constant_nets.size(); ++i)
      value_[c_.constant_nets[i]] = c_.constant_values[i] ? ~Word{0} : 0;
    for (size_t i = 0; i < inputs_.size(); ++i) value_[inputs_[i].net] = in_now[i];
    for (size_t f = 0; f < nf; ++f) {
      const FlipFlop& ff = c_.flops[f];
      if (ff.q_net >= 0) value_[ff.q_net] = st[f];
      if (ff.qn_net >= 0) value_[ff.qn_net] = ~st[f];
    }
  };
  auto evaluate = [&](const Gate& g) {
    Word x[6];
    for (int k = 0; k < g.num_inputs; ++k) x[k] = value_[g.in_net[k]];
    value_[g.out_net] = eval_tt(g.truth_table, g.num_inputs, x);
  };
  auto next_states = [&](bool state_flops) {
    bool moved = false;
    for (size_t f = 0; f < nf; ++f) {
      if (flops_[f].state != state_flops) continue;
      const Word d = flops_[f].forced < 0 ? value_[c_.flops[f].d_net] : flops_[f].forced ? ~Word{0} : 0;
      spec_[f] = d;
      const Word next = (((d << 1) | state_[f]) & live);
      moved |= next != st[f];
      st[f] = next;
    }
    return moved;
  };
  // Only the fan-in cone of the flip-flops read by logic takes part in the
  // rounds; the other flip-flops' states follow from the last full pass.
  for (int round = 0;; ++round) {
    load_sources();
    for (int gi : state_cone_) evaluate(c_.gates[gi]);
    if (!next_states(true)) break;
    if (round > kLanes + 1) throw DtaError("--engine filter: flip-flop states do not settle (internal error)");
  }
  for (const Gate& g : c_.gates) evaluate(g);
  next_states(false);
  load_sources();  // the non-state flops' outputs (read by nothing but ports)
  for (size_t f = 0; f < nf; ++f) st_before[f] = ((st[f] << 1) | prev_state_[f]) & live;

  // Still lanes and latest-transition bounds, sources first.
  alignas(64) std::int32_t latest_words[kLanes];
  bound_pass(latest_words, live);
  const std::int16_t* latest16 = reinterpret_cast<const std::int16_t*>(latest_words);
  std::int32_t latest[kLanes];  // (negative: none)
  for (int l = 0; l < kLanes; ++l) latest[l] = narrow_ ? latest16[l] : latest_words[l];
  // A lane passes when nothing is in flight at the next edge and every
  // flip-flop captures its D's final value: the flip-flop takes the value of
  // the last D transition that met the deadline of its edge (TimingSimulator::
  // captured_value), and D's last transition, the one towards its final value,
  // is bounded by that edge's bound (an asynchronously forced one: both edges).
  std::vector<std::int32_t> ok(kLanes);
  for (int l = 0; l < kLanes; ++l) ok[l] = latest[l] < period_;
  for (size_t f = 0; f < nf; ++f) {
    if (!flops_[f].can_be_late) continue;
    const int d = c_.flops[f].d_net;
    const std::size_t fall = static_cast<size_t>(d) * 2 * kLanes, rise = fall + kLanes;
    const std::int32_t* deadline = flops_[f].deadline;
    if (flops_[f].forced >= 0) {
      for (int l = 0; l < kLanes; ++l) ok[l] &= bound_at(fall + l) <= deadline[0] && bound_at(rise + l) <= deadline[1];
      continue;
    }
    for (int l = 0; l < kLanes; ++l)
      ok[l] &= ((value_[d] >> l) & 1) ? bound_at(rise + l) <= deadline[1] : bound_at(fall + l) <= deadline[0];
  }
  fast_ = ends_quiet_ = 0;
  for (int l = 0; l < lanes; ++l) {
    fast_ |= Word(ok[l] != 0) << l;
    ends_quiet_ |= Word(latest[l] < period_) << l;
  }
}

// A source that changes in the lanes of `moved` moves once, at its launch
// time (rise or fall, towards its new value).
template <typename T, int W>
__attribute__((always_inline)) inline void FilterEngine::bound_source(T* latest, int net, Word moved, std::int32_t rise,
                                                                      std::int32_t fall) {
  using V = Lanes<T, W>;
  constexpr T never = never_v<T>;
  still_[net] = ~moved;
  T* bf = bound_data<T>() + static_cast<size_t>(net) * 2 * kLanes;
  T* br = bf + kLanes;
  const T r = narrow_time<T>(rise), f = narrow_time<T>(fall);
  for (int c = 0; c < kLanes; c += W) {
    V up, down;
    lane_mask<T, W>(moved & value_[net], c, up);
    lane_mask<T, W>(moved & ~value_[net], c, down);
    *reinterpret_cast<V*>(br + c) = (r & up) | (never & ~up);
    *reinterpret_cast<V*>(bf + c) = (f & down) | (never & ~down);
  }
  if (moved) track_latest(latest, bf);
}

// Still lanes and bounds of every source and gate output, in topological
// order. The hot loop of the filter engine: one function with the lane helpers
// inlined, compiled for AVX-512, AVX2 and plain x86-64, for 32- and 16-bit times.
template <typename T, int W>
__attribute__((always_inline)) inline void FilterEngine::bound_pass_body(T* latest, Word live) {
  for (int l = 0; l < kLanes; ++l) latest[l] = never_v<T>;
  for (int n : c_.constant_nets) bound_source<T, W>(latest, n, 0, 0, 0);
  for (size_t i = 0; i < inputs_.size(); ++i)
    bound_source<T, W>(latest, inputs_[i].net, (in_now_[i] ^ in_before_[i]) & live, input_delay_, input_delay_);
  for (size_t f = 0; f < c_.flops.size(); ++f) {
    const FlipFlop& ff = c_.flops[f];
    const Word moved = st_[f] ^ st_before_[f];
    if (ff.q_net >= 0) bound_source<T, W>(latest, ff.q_net, moved, ff.clk_to_q_rise_ps, ff.clk_to_q_fall_ps);
    if (ff.qn_net >= 0) bound_source<T, W>(latest, ff.qn_net, moved, ff.clk_to_q_fall_ps, ff.clk_to_q_rise_ps);
  }
  T* const bound = bound_data<T>();
  alignas(64) T settled[kLanes];
  for (size_t gi = 0; gi < c_.gates.size(); ++gi) {
    const Gate& g = c_.gates[gi];
    Word x[6], s[6], all_still = ~Word{0};
    for (int k = 0; k < g.num_inputs; ++k) {
      x[k] = value_[g.in_net[k]];
      s[k] = still_[g.in_net[k]];
      all_still &= s[k];
    }
    T* out = bound + static_cast<size_t>(g.out_net) * 2 * kLanes;
    if ((all_still & live) == live || g.num_inputs == 0) {
      still_[g.out_net] = ~Word{0};
      std::fill(out, out + 2 * kLanes, never_v<T>);
      continue;
    }
    if (!decides_[gi]) {  // within its required time in any cycle: the static bound will do
      still_[g.out_net] = all_still;
      static_bound<T, W>(out, ~all_still, narrow_time<T>(worst_[gi][0]), narrow_time<T>(worst_[gi][1]));
      continue;
    }
    // The output is fixed where the still inputs' values contain a
    // controlling partial assignment (controls_ lists the minimal ones).
    Word fixed = constant_[gi] ? ~Word{0} : 0;
    for (const Control& k : controls_[gi]) {
      Word m = ~Word{0};
      for (int j = 0; j < k.n; ++j) m &= s[k.in[j]] & (x[k.in[j]] ^ (Word{0} - k.zero[j]));
      fixed |= m;
    }
    const Word still = all_still | fixed;
    still_[g.out_net] = still;
    if (!refines_[gi]) {
      // Its static bound is within its required time in any cycle, so it
      // decides no lane (docs/dta.md, rule 6): the static bound where it can
      // move, none where it is still (the exact stillness, which the gates
      // after it read).
      static_bound<T, W>(out, ~still, narrow_time<T>(worst_[gi][0]), narrow_time<T>(worst_[gi][1]));
      continue;
    }
    // Once inputs have taken final values that fix the function, the output
    // only completes what was scheduled before (docs/dta.md): the other inputs
    // count up to those inputs' latest transition. Lane by lane, so a lane's
    // bound never depends on the others (the same results for any --threads).
    bool any_settled = false;
    for (const Control& k : controls_[gi]) {
      Word at = live & ~still;
      for (int j = 0; j < k.n; ++j) at &= x[k.in[j]] ^ (Word{0} - k.zero[j]);
      if (!at) continue;
      if (!any_settled) std::fill(settled, settled + kLanes, std::numeric_limits<T>::max());
      any_settled = true;
      const T* by[6];
      for (int j = 0; j < k.n; ++j) by[j] = bound + static_cast<size_t>(g.in_net[k.in[j]]) * 2 * kLanes;
      settle_by<T, W>(settled, at, by, k.n);
    }
    // A net's transitions alternate and the last one reaches its zero-delay
    // value, so every transition away from that value is followed by one
    // towards it: the bound of the edge away is at most the other's. Lanes
    // held by a still controlling input: no transition at all. (Lanes with
    // every input still are already below zero.)
    GateTerms<T> t[2];
    for (int o = 0; o < 2; ++o) {
      const int from = term_from_[gi * 2 + o];
      t[o] = {&term_at_[from], term_delay<T>() + from, term_from_[gi * 2 + o + 1] - from};
    }
    const Word held = still & ~all_still & live;
    // (Dispatched on what applies: no held lanes, and a gate that can never
    // be as late as the edge leaves `latest` as it is.)
    const Word one = value_[g.out_net];
    const int form = any_settled * 4 + (held != 0) * 2 + tracks_[gi];
    switch (form) {
      case 0: gate_bound<T, W, false, false, false>(out, bound, t, nullptr, one, held, latest); break;
      case 1: gate_bound<T, W, false, false, true>(out, bound, t, nullptr, one, held, latest); break;
      case 2: gate_bound<T, W, false, true, false>(out, bound, t, nullptr, one, held, latest); break;
      case 3: gate_bound<T, W, false, true, true>(out, bound, t, nullptr, one, held, latest); break;
      case 4: gate_bound<T, W, true, false, false>(out, bound, t, settled, one, held, latest); break;
      case 5: gate_bound<T, W, true, false, true>(out, bound, t, settled, one, held, latest); break;
      case 6: gate_bound<T, W, true, true, false>(out, bound, t, settled, one, held, latest); break;
      default: gate_bound<T, W, true, true, true>(out, bound, t, settled, one, held, latest); break;
    }
  }
}

// The transitions in flight at the edge before step next_ (the simulator has
// just stepped up to it) into seed_.
void FilterEngine::load_in_flight() {
  for (int g : seeded_) seed_[g] = kNever;
  seeded_.clear();
  sim_.for_each_in_flight([&](int g, std::int32_t t) {
    if (seed_[g] == kNever) seeded_.push_back(g);
    seed_[g] = std::max(seed_[g], t);
  });
}

// One cycle (`step`) that starts with transitions in flight (seed_), bounded
// alone, in scalars: the same rules as the block's bound (docs/dta.md), with
// each gate's in-flight transitions as one more term of its output bound (a
// transition in flight is an event the gate scheduled before the edge; what
// it schedules in the cycle follows the same rules as from a quiet start) and
// a gate still only where none is in flight (a gate with none whose inputs
// are all still holds the value of its inputs). The controlling refinement
// applies at every gate. True when the cycle ends quiet and every flip-flop
// captures its D's final value; carried_ then holds the bounds (the settle
// times reported for it).
bool FilterEngine::probe_in_flight(std::size_t step) {
  const int nets = static_cast<int>(c_.net_names.size());
  std::vector<std::uint8_t>& v = probe_value_;
  std::vector<std::uint8_t>& still = probe_still_;
  std::vector<std::array<std::int32_t, 2>>& bound = carried_;
  v.assign(nets, 0);
  still.assign(nets, 1);
  bound.assign(nets, {kNever, kNever});
  auto source = [&](int net, bool value, bool moved, std::int32_t rise, std::int32_t fall) {
    v[net] = value;
    still[net] = !moved;
    if (moved) bound[net][value] = value ? rise : fall;
  };
  for (size_t i = 0; i < c_.constant_nets.size(); ++i) v[c_.constant_nets[i]] = c_.constant_values[i];
  const CycleOperands now = operands(static_cast<long>(step)), before = operands(static_cast<long>(step) - 1);
  for (const Input& in : inputs_) {
    const bool x = input_bit(in, now);
    source(in.net, x, x != input_bit(in, before), input_delay_, input_delay_);
  }
  for (size_t f = 0; f < c_.flops.size(); ++f) {
    const FlipFlop& ff = c_.flops[f];
    const bool q = state_[f], moved = state_[f] != prev_state_[f];
    if (ff.q_net >= 0) source(ff.q_net, q, moved, ff.clk_to_q_rise_ps, ff.clk_to_q_fall_ps);
    if (ff.qn_net >= 0) source(ff.qn_net, !q, moved, ff.clk_to_q_fall_ps, ff.clk_to_q_rise_ps);
  }
  std::int32_t latest = kNever;
  for (const auto& b : bound) latest = std::max({latest, b[0], b[1]});
  for (size_t gi = 0; gi < c_.gates.size(); ++gi) {
    const Gate& g = c_.gates[gi];
    const int out = g.out_net;
    std::uint32_t x = 0, held = 0;
    for (int k = 0; k < g.num_inputs; ++k) {
      x |= std::uint32_t{v[g.in_net[k]]} << k;
      held |= std::uint32_t{still[g.in_net[k]]} << k;
    }
    v[out] = (g.truth_table >> x) & 1;
    const std::int32_t seed = seed_[gi];
    bool fixed = constant_[gi] || held == (1u << g.num_inputs) - 1;
    for (const Control& k : controls_[gi]) fixed |= (k.care & held) == k.care && (x & k.care) == k.value;
    still[out] = fixed && seed == kNever;
    if (still[out]) continue;
    // Inputs whose final values fix the function: the others count up to
    // those inputs' latest transition.
    std::int32_t until = INT32_MAX;
    for (const Control& k : controls_[gi]) {
      if ((x & k.care) != k.value) continue;
      std::int32_t last = kNever;
      for (int i = 0; i < g.num_inputs; ++i)
        if ((k.care >> i) & 1) last = std::max({last, bound[g.in_net[i]][0], bound[g.in_net[i]][1]});
      until = std::min(until, last);
    }
    std::array<std::int32_t, 2>& edge = bound[out];
    for (int o = 0; o < 2; ++o) {
      edge[o] = seed;
      for (const Term& term : terms_[gi][o])
        edge[o] = std::max(edge[o], std::min(bound[term.at / (2 * kLanes)][(term.at / kLanes) % 2], until) + term.delay);
    }
    // Transitions alternate and the last one reaches the final value.
    if (v[out]) edge[0] = std::min(edge[0], edge[1]);
    else edge[1] = std::min(edge[1], edge[0]);
    latest = std::max({latest, edge[0], edge[1]});
    if (latest >= period_) return false;  // transitions still in flight at the next edge
  }
  for (size_t f = 0; f < c_.flops.size(); ++f) {
    const int d = c_.flops[f].d_net;
    const std::int32_t fall = bound[d][0], rise = bound[d][1];
    if (flops_[f].forced >= 0 ? fall > flops_[f].deadline[0] || rise > flops_[f].deadline[1]
                              : v[d] ? rise > flops_[f].deadline[1] : fall > flops_[f].deadline[0])
      return false;
  }
  return true;
}

void FilterEngine::bound_pass_avx512(std::int32_t* latest, Word live) {
  bound_pass_body<std::int32_t, 16>(latest, live);
}
void FilterEngine::bound_pass_avx2(std::int32_t* latest, Word live) { bound_pass_body<std::int32_t, 8>(latest, live); }
void FilterEngine::bound_pass_portable(std::int32_t* latest, Word live) {
  bound_pass_body<std::int32_t, 4>(latest, live);
}
void FilterEngine::bound_pass_avx512_16(std::int16_t* latest, Word live) {
  bound_pass_body<std::int16_t, 32>(latest, live);
}
void FilterEngine::bound_pass_avx2_16(std::int16_t* latest, Word live) {
  bound_pass_body<std::int16_t, 16>(latest, live);
}
void FilterEngine::bound_pass_portable_16(std::int16_t* latest, Word live) {
  bound_pass_body<std::int16_t, 8>(latest, live);
}
void FilterEngine::bound_pass(void* latest, Word live) {
  std::int32_t* l32 = static_cast<std::int32_t*>(latest);
  std::int16_t* l16 = static_cast<std::int16_t*>(latest);
  switch (isa_) {
    case Isa::kAvx512: return narrow_ ? bound_pass_avx512_16(l16, live) : bound_pass_avx512(l32, live);
    case Isa::kAvx2: return narrow_ ? bound_pass_avx2_16(l16, live) : bound_pass_avx2(l32, live);
    case Isa::kPortable: return narrow_ ? bound_pass_portable_16(l16, live) : bound_pass_portable(l32, live);
  }
}

// Records step `step`, lane l of the block (-1: simulated without one); false
// when a flip-flop read by logic captured something else than the block
// assumed (the block ends after this lane).
bool FilterEngine::take_lane(std::size_t step, int l, PointStats& s, bool in_flight) {
  const size_t nf = c_.flops.size();
  std::vector<std::uint8_t>& captured = captured_;
  captured.resize(nf);
  std::uint64_t out_captured = 0, out_settled = 0;
  std::vector<std::int32_t>& settle = settle_;
  settle.assign(b_.acc_bits, 0);
  bool speculation_holds = true;
  // Resume event simulation from the quiet edge before this step.
  const auto resync = [&] {
    if (synced_) return;
    apply(operands(static_cast<long>(step) - 1));
    sim_.load_quiet(prev_state_, state_);
  };
  // Lane l's outputs where the settle time is bounded, not simulated: the
  // captured bits as given, the settled ones as the bound says, the bound's time.
  const auto report_bound = [&] {
    for (int j = 0; j < b_.acc_bits; ++j) {
      const int f = b_.output_flops[j];
      out_captured |= std::uint64_t{captured[f]} << j;
      out_settled |= std::uint64_t{(spec_[f] >> l) & 1} << j;
      const std::size_t b = static_cast<size_t>(c_.flops[f].d_net) * 2 * kLanes + l;
      settle[j] = std::max({0, bound_at(b), bound_at(b + kLanes)});
    }
  };
  if (l >= 0 && (quiet_ || in_flight) && ((fast_ >> l) & 1)) {
    for (size_t f = 0; f < nf; ++f) captured[f] = (spec_[f] >> l) & 1;
    report_bound();
    synced_ = false;
    quiet_ = true;  // every bound is before the edge
    s.filtered += step > 0;  // step 0 primes the registers: not a sample
  } else if (l >= 0 && quiet_ && !in_flight && ((ends_quiet_ >> l) & 1)) {
    // The cycle starts and ends quiet: every flip-flop whose D's edge towards
    // its final value is bounded within its deadline captures that value; the
    // others (late_) are simulated exactly up to their deadlines, over their
    // fan-in only (TimingSimulator::step_cut).
    late_.clear();
    for (size_t f = 0; f < nf; ++f) {
      const Flop& x = flops_[f];
      if (!x.can_be_late || x.forced >= 0) continue;  // a forced one captures its forced value
      const int d = c_.flops[f].d_net;
      const std::size_t b = static_cast<size_t>(d) * 2 * kLanes + l;
      if (((value_[d] >> l) & 1) ? bound_at(b + kLanes) > x.deadline[1] : bound_at(b) > x.deadline[0])
        late_.push_back(static_cast<int>(f));
    }
    if (!late_.empty()) {
      resync();
      restrict_to(l);
      apply(operands(static_cast<long>(step)));
      sim_.step_cut(cut_, frozen_);
      synced_ = false;  // only the cone was simulated: the next simulated cycle reloads
    }
    for (size_t f = 0; f < nf; ++f) captured[f] = (spec_[f] >> l) & 1;
    for (int f : late_) {
      captured[f] = sim_.captured(f);
      if (flops_[f].state && captured[f] != ((spec_[f] >> l) & 1)) speculation_holds = false;
    }
    report_bound();  // not simulated past the deadlines: the bound, as resolved cycles
    quiet_ = true;  // every bound is before the edge
    s.cone_simulated += step > 0;
  } else {
    resync();
    apply(operands(static_cast<long>(step)));
    sim_.step();
    for (size_t f = 0; f < nf; ++f) {
      captured[f] = sim_.captured(static_cast<int>(f));
      if (l >= 0 && flops_[f].state && captured[f] != ((spec_[f] >> l) & 1)) speculation_holds = false;
    }
    for (int j = 0; j < b_.acc_bits; ++j) {
      const int f = b_.output_flops[j];
      out_captured |= std::uint64_t{captured[f]} << j;
      out_settled |= std::uint64_t{sim_.settled(f)} << j;
      settle[j] = sim_.settle_time_ps(f);
    }
    quiet_ = sim_.quiet();
    synced_ = true;
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
  if (history_.size() < static_cast<size_t>(reach_) + 2) {
    history_.push_back(state_);
  } else {  // drop the oldest, reusing its storage
    std::rotate(history_.begin(), history_.begin() + 1, history_.end());
    history_.back() = state_;
  }
  return speculation_holds;
}

}  // namespace

std::string filter_engine_isa() {
  return std::string(isa_name(pick_isa())) + (wide_times_forced() ? "; 32-bit times" : "");
}

bool filter_engine_applies(const Circuit& c, const PeBinding& b, const RunOptions& opt) {
  if (b.razor() || b.carry_save() || opt.count_activity) return false;
  // Asynchronous pins must be held constant (tie cells or held control inputs).
  std::vector<std::uint8_t> held(c.net_names.size(), 0);
  for (int n : c.constant_nets) held[n] = 1;
  for (const auto& [n, v] : b.constants) held[n] = 1;
  for (const FlipFlop& ff : c.flops)
    for (int n : ff.async_nets)
      if (!held[n]) return false;
  return true;
}

PointStats run_pe_trace_filtered(const Circuit& c, const PeBinding& b, const OperandTrace& trace,
                                 const RunOptions& opt, int threads) {
  const std::size_t n = trace.records.size();
  if (n == 0) throw DtaError("operand trace '" + trace.header.source + "' has no records");
  check_trace_shape(b, trace);
  // The event engine on the whole stream in one slice: exact.
  if (!filter_engine_applies(c, b, opt)) return run_pe_trace(c, b, trace, 0, n, opt);
  PointStats total;
  total.init(b.acc_bits, static_cast<std::int32_t>(std::llround(opt.sim.period_ns * 1000.0)));
  std::vector<std::unique_ptr<FilterEngine>> engines;
  engines.emplace_back(new FilterEngine(c, b, trace, opt));
  const std::size_t steps = engines[0]->steps();
  // Slices of at least 256 steps, each started with a warm-up (start_at);
  // logs need one walk in order.
  threads = std::max(1, std::min<int>(threads, static_cast<int>(steps / 256)));
  if (opt.captured_log || opt.input_log || engines[0]->reach() + 2 >= kLanes) threads = 1;
  std::vector<std::size_t> bound(threads + 1);
  for (int t = 0; t <= threads; ++t) bound[t] = steps * t / threads;
  for (int t = 1; t < threads; ++t) engines.emplace_back(new FilterEngine(c, b, trace, opt));
  std::vector<PointStats> parts(threads);
  run_slices(threads, [&](int t) {
    parts[t].init(b.acc_bits, total.period_ps);
    if (t > 0) engines[t]->start_at(bound[t]);
    engines[t]->walk(bound[t + 1], parts[t]);
  });
  // A slice whose guessed start differs from where the walk before it really
  // ended (a flip-flop read by logic captured a wrong value there) is walked
  // again, in order, by the walk before it.
  for (int t = 1; t < threads; ++t) {
    if (engines[t - 1]->continues_into(*engines[t])) continue;
    parts[t] = PointStats{};
    parts[t].init(b.acc_bits, total.period_ps);
    engines[t - 1]->walk(bound[t + 1], parts[t]);
    std::swap(engines[t - 1], engines[t]);
  }
  for (const auto& p : parts) total.merge(p);
  return total;
}

}  // namespace vosa::dta
