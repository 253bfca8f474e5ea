// Cycle-windowed event propagation over a levelized netlist. Because the
// logic between flip-flops is loop-free, each gate can be simulated in one go
// once the waveforms on its inputs are final: it replays its own input events
// in time order against its own queue of scheduled output events, which is
// exactly what an event-driven simulator does for that gate, without a global
// event queue.
#include "vosa/timing_sim.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

namespace vosa::dta {

TimingSimulator::TimingSimulator(const Circuit& circuit, const SimOptions& options)
    : c_(circuit), opt_(options) {
  period_ps_ = static_cast<std::int32_t>(std::llround(options.period_ns * 1000.0));
  input_delay_ps_ = static_cast<std::int32_t>(std::llround(options.input_delay_ns * 1000.0));
  if (period_ps_ <= 0) throw DtaError("clock period must be positive");
  if (input_delay_ps_ < 0 || input_delay_ps_ >= period_ps_)
    throw DtaError("input delay must be in [0, period)");
  const size_t nets = c_.net_names.size();
  value_.assign(nets, 0);
  next_input_.assign(nets, 0);
  wave_begin_.assign(nets, 0);
  wave_count_.assign(nets, 0);
  arena_.resize(1 << 16);
  gate_of_net_.assign(nets, -1);
  for (size_t g = 0; g < c_.gates.size(); ++g) gate_of_net_[c_.gates[g].out_net] = static_cast<int>(g);
  gate_inputs_.assign(c_.gates.size(), 0);
  gate_out_.assign(c_.gates.size(), 0);
  pending_.assign(c_.gates.size(), {});
  active_.assign(c_.gates.size(), 0);
  state_.assign(c_.flops.size(), 0);
  settled_.assign(c_.flops.size(), 0);
  settle_ps_.assign(c_.flops.size(), 0);
  zero_delay_.assign(nets, 0);
  // How soon an input transition can move a gate's output (step_cut): in
  // transport mode the output transition it schedules comes after the delay
  // of the arc or input taken (never negative, as process_gate computes it),
  // and it pre-empts only transitions at or after that time. Inertial and
  // modpath can act on the output right after the input's own time.
  min_delay_.assign(c_.gates.size(), 0);
  max_delay_.assign(c_.gates.size(), 0);
  for (size_t g = 0; g < c_.gates.size(); ++g) {
    const Gate& G = c_.gates[g];
    for (int k = 0; k < G.num_inputs; ++k) {
      max_delay_[g] = std::max({max_delay_[g], G.rise_ps[k], G.fall_ps[k]});
      for (int e = 0; e < 2; ++e)
        for (int o = 0; o < 2; ++o) max_delay_[g] = std::max(max_delay_[g], G.arc_ps[k][e][o]);
    }
  }
  if (options.delay_mode == DelayMode::kTransport)
    for (size_t g = 0; g < c_.gates.size(); ++g) {
      const Gate& G = c_.gates[g];
      std::int32_t d = INT32_MAX;
      for (int k = 0; k < G.num_inputs; ++k) {
        d = std::min({d, std::max(0, G.rise_ps[k]), std::max(0, G.fall_ps[k])});
        for (int e = 0; e < 2; ++e)
          for (int o = 0; o < 2; ++o)
            if (G.arc_ps[k][e][o] >= 0) d = std::min(d, G.arc_ps[k][e][o]);
      }
      min_delay_[g] = G.num_inputs ? d : 0;
    }
  listed_.assign(std::max(nets, c_.gates.size()), 0);
  // Shadow flops (Razor): their delayed edge must fall inside the window and
  // after their setup time, so that they sample the previous computation's D.
  shadow_delay_ps_ = static_cast<std::int32_t>(std::llround(options.shadow_delay_ns * 1000.0));
  std::vector<std::uint8_t> in_cone(c_.gates.size(), 0);
  std::vector<int> frontier;
  for (size_t f = 0; f < c_.flops.size(); ++f) {
    const FlipFlop& ff = c_.flops[f];
    if (!ff.shadow) continue;
    const std::string& name = c_.instance_names[ff.instance];
    if (shadow_delay_ps_ <= 0)
      throw DtaError("flip-flop " + name + " is clocked by " + c_.shadow_clock_port +
                     ": the shadow clock's delay after the main clock must be given (positive)");
    for (int edge = 0; edge < 2; ++edge)
      if (shadow_delay_ps_ - setup_ps(ff, edge) < 0)
        throw DtaError("shadow clock delay " + std::to_string(shadow_delay_ps_) + " ps is shorter than the setup time of " +
                       name + " (" + std::to_string(setup_ps(ff, edge)) + " ps)");
    if (shadow_delay_ps_ + std::max(ff.clk_to_q_rise_ps, ff.clk_to_q_fall_ps) >= period_ps_)
      throw DtaError("shadow clock delay + clock-to-Q of " + name + " is not shorter than the clock period");
    shadow_flops_.push_back(static_cast<int>(f));
    for (int n : {ff.q_net, ff.qn_net})
      if (n >= 0) frontier.push_back(n);
  }
  while (!frontier.empty()) {  // gates in the transitive fan-out of the shadows' outputs
    const int n = frontier.back();
    frontier.pop_back();
    for (int i = c_.fanout_begin[n]; i < c_.fanout_begin[n + 1]; ++i) {
      const int g = c_.fanout_gates[i];
      if (in_cone[g]) continue;
      in_cone[g] = 1;
      shadow_cone_.push_back(g);
      frontier.push_back(c_.gates[g].out_net);
    }
  }
  std::sort(shadow_cone_.begin(), shadow_cone_.end());  // topological order
  cone_inputs_.resize(shadow_cone_.size());
  cone_out_.resize(shadow_cone_.size());
  cone_pending_.resize(shadow_cone_.size());
  reset(false);
}

// Zero-delay evaluation with the sources at their new values: the value every
// net settles to in this cycle if given enough time.
void TimingSimulator::settle_zero_delay() {
  for (size_t i = 0; i < c_.constant_nets.size(); ++i) zero_delay_[c_.constant_nets[i]] = c_.constant_values[i];
  for (int n : c_.primary_inputs) zero_delay_[n] = next_input_[n];
  for (size_t f = 0; f < c_.flops.size(); ++f) {
    const FlipFlop& ff = c_.flops[f];
    if (ff.q_net >= 0) zero_delay_[ff.q_net] = state_[f];
    if (ff.qn_net >= 0) zero_delay_[ff.qn_net] = !state_[f];
  }
  for (const Gate& g : c_.gates) {
    std::uint32_t bits = 0;
    for (int k = 0; k < g.num_inputs; ++k) bits |= std::uint32_t{zero_delay_[g.in_net[k]]} << k;
    zero_delay_[g.out_net] = (g.truth_table >> bits) & 1;
  }
}

void TimingSimulator::reset(bool flop_value) {
  const std::vector<std::uint8_t> state(c_.flops.size(), flop_value);
  load_quiet(state, state);
}

void TimingSimulator::load_quiet(const std::vector<std::uint8_t>& settled_for, const std::vector<std::uint8_t>& state) {
  state_ = settled_for;
  settle_zero_delay();
  value_ = zero_delay_;
  for (size_t g = 0; g < c_.gates.size(); ++g) {
    const Gate& G = c_.gates[g];
    std::uint32_t bits = 0;
    for (int k = 0; k < G.num_inputs; ++k) bits |= std::uint32_t{value_[G.in_net[k]]} << k;
    gate_inputs_[g] = bits;
    gate_out_[g] = value_[G.out_net];
    pending_[g].clear();
  }
  std::fill(active_.begin(), active_.end(), 0);
  for (int n : touched_) wave_count_[n] = 0;
  touched_.clear();
  arena_used_ = 0;
  carry_.clear();
  state_ = state;
}

// The value after the last D transition that met its own deadline: T minus
// the setup time and wire delay of its edge (STA checks rising and falling
// data against their own setup times).
std::uint8_t TimingSimulator::captured_value(const FlipFlop& ff) const {
  std::int32_t deadline[2];
  for (int edge = 0; edge < 2; ++edge) deadline[edge] = period_ps_ - setup_ps(ff, edge);
  std::uint8_t v = value_[ff.d_net];
  const Event* e = arena_.data() + wave_begin_[ff.d_net];
  for (std::uint32_t i = 0; i < wave_count_[ff.d_net]; ++i)
    if (e[i].time <= deadline[e[i].value]) v = e[i].value;
  return v;
}

template <bool Cut>
void TimingSimulator::process_gate(int gi, std::int32_t in_limit, std::int32_t out_limit) {
  const Gate& g = c_.gates[gi];
  std::vector<Event>& pend = pending_[gi];
  const Event* cur[6];
  const Event* end[6];
  std::uint32_t counts[6];
  int pin[6];
  int moving = 0;
  std::uint32_t total = 0;
  // Output transitions from here on carry over (Cut: are dropped).
  const std::int32_t window_end = Cut ? std::min(period_ps_, out_limit + 1) : period_ps_;
  for (int k = 0; k < g.num_inputs; ++k) {
    std::uint32_t count = wave_count_[g.in_net[k]];
    if (Cut) {  // input transitions after in_limit can only act after out_limit
      const Event* w = arena_.data() + wave_begin_[g.in_net[k]];
      while (count && w[count - 1].time > in_limit) --count;
    }
    counts[k] = count;
    if (!count) continue;
    total += count;
    pin[moving++] = k;
  }
  if (total == 0 && pend.empty()) return;
  const DelayMode mode = opt_.delay_mode;
  const bool modpath = mode == DelayMode::kModpath;
  if (total == 1 && pend.empty() && !modpath) {
    // The most frequent call (about 40 % of them on the sky130hd PE at any
    // period): one input edge, nothing scheduled. What the loop below does then.
    const int k = pin[0];
    const Event e = arena_[wave_begin_[g.in_net[k]]];
    const std::uint32_t bits = (gate_inputs_[gi] & ~(1u << k)) | (std::uint32_t{e.value} << k);
    gate_inputs_[gi] = bits;
    ++events_;
    const std::uint8_t nv = (g.truth_table >> bits) & 1;
    if (nv == gate_out_[gi]) return;
    const std::int32_t arc = g.arc_ps[k][e.value][nv];
    const std::int32_t te = e.time + (arc >= 0 ? arc : std::max(0, nv ? g.rise_ps[k] : g.fall_ps[k]));
    if (te >= window_end) {  // carries over into the next cycle
      pend.push_back({te, nv});
      carry_.push_back(gi);
      return;
    }
    gate_out_[gi] = nv;
    wave_begin_[g.out_net] = static_cast<std::uint32_t>(arena_used_);
    wave_count_[g.out_net] = 1;
    *arena_room(1) = {te, nv};
    ++arena_used_;
    touched_.push_back(g.out_net);
    mark_fanout(g.out_net);
    return;
  }

  // The output events go to the arena after the used part; room for the most
  // a gate can produce (one per pending event and per input group) is made
  // first, so that the input pointers below stay valid.
  const std::size_t out_at = arena_used_;
  Event* const q = arena_room(total + pend.size());
  for (int m = 0; m < moving; ++m) {
    const int n = g.in_net[pin[m]];
    cur[m] = arena_.data() + wave_begin_[n];
    end[m] = cur[m] + counts[pin[m]];
  }
  const std::uint64_t tt = g.truth_table;
  std::uint32_t bits = gate_inputs_[gi];
  // Input changes are merged in time order straight from the input waveforms
  // (each already in time order). next_time(): the earliest pending change.
  // take_group(t): applies all changes at t (they act together: the slowest
  // changed arc wins; modpath: the fastest, as Icarus does) and gives the
  // delay to a rising and to a falling output.
  auto next_time = [&]() {
    std::int32_t t = cur[0]->time;
    for (int m = 1; m < moving; ++m) t = std::min(t, cur[m]->time);
    return t;
  };
  auto take_group = [&](std::int32_t t, std::int32_t& rise, std::int32_t& fall) {
    rise = modpath ? INT32_MAX : 0;
    fall = modpath ? INT32_MAX : 0;
    std::int32_t arc_rise = -1, arc_fall = -1;  // slowest arc whose sense matches the edges
    for (int m = 0; m < moving;) {
      if (cur[m]->time != t) {
        ++m;
        continue;
      }
      const int k = pin[m];
      const std::uint8_t v = cur[m]->value;
      bits = (bits & ~(1u << k)) | (std::uint32_t{v} << k);
      rise = modpath ? std::min(rise, g.rise_ps[k]) : std::max(rise, g.rise_ps[k]);
      fall = modpath ? std::min(fall, g.fall_ps[k]) : std::max(fall, g.fall_ps[k]);
      arc_rise = std::max(arc_rise, g.arc_ps[k][v][1]);
      arc_fall = std::max(arc_fall, g.arc_ps[k][v][0]);
      if (++cur[m] == end[m]) {  // this input is done: drop its cursor
        --moving;
        cur[m] = cur[moving];
        end[m] = end[moving];
        pin[m] = pin[moving];
      } else {
        ++m;
      }
    }
    if (!modpath) {  // transport/inertial: the delay of the input edge that can cause the output edge
      if (arc_rise >= 0) rise = arc_rise;
      if (arc_fall >= 0) fall = arc_fall;
    }
  };

  std::uint64_t groups = 0;
  std::size_t produced = 0;
  std::uint8_t committed = gate_out_[gi];
  if (!modpath) {
    // Transport and inertial: q[0, head) are committed output events (this
    // window's waveform), q[head, tail) the scheduled ones, in time order. A
    // new event only removes scheduled events, so the committed ones stay a
    // prefix of q.
    std::size_t head = 0, tail = pend.size();
    std::copy(pend.begin(), pend.end(), q);
    pend.clear();
    const bool transport = mode == DelayMode::kTransport;
    while (moving) {
      const std::int32_t t = next_time();
      while (head < tail && q[head].time <= t) ++head;  // events up to t happen first
      std::int32_t rise, fall;
      take_group(t, rise, fall);
      ++groups;
      const std::uint8_t nv = (tt >> bits) & 1;
      const std::int32_t te = t + (nv ? rise : fall);
      const std::uint8_t now = head ? q[head - 1].value : committed;
      if (transport) {
        // A new event pre-empts every scheduled event at or after its own time.
        while (tail > head && q[tail - 1].time >= te) --tail;
        const std::uint8_t last = tail > head ? q[tail - 1].value : now;
        if (nv != last) q[tail++] = {te, nv};
      } else {
        // Inertial: a pulse shorter than the delay never reaches the output.
        if (tail > head && q[tail - 1].value == nv) continue;
        tail = head;
        if (nv != now) q[tail++] = {te, nv};
      }
    }
    while (head < tail && q[head].time < window_end) ++head;  // the rest carries over into the next cycle
    pend.assign(q + head, q + tail);
    produced = head;
    if (head) committed = q[head - 1].value;
  } else {
    // Modpath: scheduled entries are wake-up times; at each the output takes
    // the function's value then (events only where it changes).
    auto commit_until = [&](std::int32_t t, bool inclusive) {
      const std::uint8_t fv = (tt >> bits) & 1;
      std::size_t n = 0;
      for (; n < pend.size() && (inclusive ? pend[n].time <= t : pend[n].time < t); ++n)
        if (fv != committed) {
          q[produced++] = {pend[n].time, fv};
          committed = fv;
        }
      if (n) pend.erase(pend.begin(), pend.begin() + static_cast<std::ptrdiff_t>(n));
    };
    while (moving) {
      const std::int32_t t = next_time();
      commit_until(t, true);
      const std::uint8_t old_fv = (tt >> bits) & 1;
      std::int32_t rise, fall;
      take_group(t, rise, fall);
      ++groups;
      const std::uint8_t nv = (tt >> bits) & 1;
      if (nv == old_fv) continue;
      const std::int32_t te = t + (nv ? rise : fall);
      auto pos = pend.end();
      while (pos != pend.begin() && (pos - 1)->time > te) --pos;
      pend.insert(pos, Event{te, nv});
    }
    commit_until(window_end, false);  // the rest carries over into the next cycle
  }
  events_ += groups;
  arena_used_ = out_at + produced;
  gate_out_[gi] = committed;
  gate_inputs_[gi] = bits;
  if (produced) {
    wave_begin_[g.out_net] = static_cast<std::uint32_t>(out_at);
    wave_count_[g.out_net] = static_cast<std::uint32_t>(produced);
    touched_.push_back(g.out_net);
    mark_fanout(g.out_net);
  }
  if (!pend.empty()) carry_.push_back(gi);
}

void TimingSimulator::add_activity(std::uint64_t* toggles, std::uint64_t* high, std::uint64_t* functional) const {
  for (int n : touched_) {
    toggles[n] += wave_count_[n];
    functional[n] += arena_[wave_begin_[n] + wave_count_[n] - 1].value != value_[n];
  }
  for (std::size_t n = 0; n < value_.size(); ++n)
    high[n] += wave_count_[n] ? arena_[wave_begin_[n] + wave_count_[n] - 1].value : value_[n];
}

// Shadow flops sample their D at the delayed edge minus setup, in this window.
// What they sample cannot depend on their own new Q (it launches later, at the
// delayed edge plus clock-to-Q), so the gates were processed with the old Q;
// when a shadow's Q changes, the gates in the fan-out cone of the shadows are
// simulated again from their state before this window with the Q transition.
void TimingSimulator::capture_shadows() {
  bool moved = false;
  for (int f : shadow_flops_) {
    const FlipFlop& ff = c_.flops[f];
    std::uint8_t v = value_[ff.d_net];
    const Event* e = arena_.data() + wave_begin_[ff.d_net];
    for (std::uint32_t i = 0; i < wave_count_[ff.d_net]; ++i)
      if (e[i].time <= shadow_delay_ps_ - setup_ps(ff, e[i].value)) v = e[i].value;
    settled_[f] = zero_delay_[ff.d_net];
    settle_ps_[f] = 0;
    if (v == state_[f]) continue;
    state_[f] = v;
    moved = true;
    for (const auto& [net, q] : {std::pair<int, std::uint8_t>{ff.q_net, v}, {ff.qn_net, static_cast<std::uint8_t>(!v)}}) {
      if (net < 0) continue;
      wave_begin_[net] = static_cast<std::uint32_t>(arena_used_);
      wave_count_[net] = 1;
      *arena_room(1) = {shadow_delay_ps_ + (q ? ff.clk_to_q_rise_ps : ff.clk_to_q_fall_ps), q};
      ++arena_used_;
      touched_.push_back(net);
    }
  }
  if (!moved) return;
  for (size_t i = 0; i < shadow_cone_.size(); ++i) {
    const int g = shadow_cone_[i];
    gate_inputs_[g] = cone_inputs_[i];
    gate_out_[g] = cone_out_[i];
    pending_[g] = cone_pending_[i];
    wave_count_[c_.gates[g].out_net] = 0;
  }
  for (int g : shadow_cone_) process_gate<false>(g);
  for (int g : shadow_cone_) active_[g] = 0;
  // The settled values downstream of the shadows (the error flag, and through
  // a stall_i tied to it the hold/correction muxes) follow their new Q.
  for (int f : shadow_flops_) {
    const FlipFlop& ff = c_.flops[f];
    if (ff.q_net >= 0) zero_delay_[ff.q_net] = state_[f];
    if (ff.qn_net >= 0) zero_delay_[ff.qn_net] = !state_[f];
  }
  for (int g : shadow_cone_) {
    const Gate& G = c_.gates[g];
    std::uint32_t bits = 0;
    for (int k = 0; k < G.num_inputs; ++k) bits |= std::uint32_t{zero_delay_[G.in_net[k]]} << k;
    zero_delay_[G.out_net] = (G.truth_table >> bits) & 1;
  }
  // The first pass listed some nets and gates again: keep each once.
  auto dedupe = [&](std::vector<int>& v, auto keep) {
    std::size_t k = 0;
    for (int x : v)
      if (!listed_[x] && keep(x)) {
        listed_[x] = 1;
        v[k++] = x;
      }
    v.resize(k);
    for (int x : v) listed_[x] = 0;
  };
  dedupe(touched_, [&](int n) { return wave_count_[n] > 0; });
  dedupe(carry_, [&](int g) { return !pending_[g].empty(); });
}

// Launch: flip-flops after clock-to-Q, primary inputs after the input delay
// (with a cut: only where the net has one at or after the launch, step_cut).
void TimingSimulator::launch_sources(const std::vector<std::int32_t>* cut) {
  auto launch = [&](int net, std::uint8_t v, std::int32_t t) {
    if (net < 0 || value_[net] == v || (cut && t > (*cut)[net])) return;
    wave_begin_[net] = static_cast<std::uint32_t>(arena_used_);
    wave_count_[net] = 1;
    *arena_room(1) = {t, v};
    ++arena_used_;
    touched_.push_back(net);
    mark_fanout(net);
  };
  for (size_t f = 0; f < c_.flops.size(); ++f) {
    const FlipFlop& ff = c_.flops[f];
    if (ff.shadow) continue;  // launches at its delayed edge (capture_shadows)
    const std::uint8_t q = state_[f];
    launch(ff.q_net, q, q ? ff.clk_to_q_rise_ps : ff.clk_to_q_fall_ps);
    launch(ff.qn_net, !q, q ? ff.clk_to_q_fall_ps : ff.clk_to_q_rise_ps);
  }
  for (int n : c_.primary_inputs) launch(n, next_input_[n], input_delay_ps_);
}

// The last cycle's waveforms collapse to their final values; the arena is free.
void TimingSimulator::take_final_values() {
  for (int n : touched_) {
    value_[n] = arena_[wave_begin_[n] + wave_count_[n] - 1].value;
    wave_count_[n] = 0;
  }
  touched_.clear();
  arena_used_ = 0;
}

void TimingSimulator::step() {
  take_final_values();
  // Events still pending from the last cycle move into this window's frame.
  for (int g : carry_) {
    for (Event& e : pending_[g]) e.time -= period_ps_;
    active_[g] = 1;
  }
  carry_.clear();

  launch_sources(nullptr);

  settle_zero_delay();
  for (size_t i = 0; i < shadow_cone_.size(); ++i) {  // the cone's state before this window
    const int g = shadow_cone_[i];
    cone_inputs_[i] = gate_inputs_[g];
    cone_out_[i] = gate_out_[g];
    cone_pending_[i] = pending_[g];
  }
  const int num_gates = static_cast<int>(c_.gates.size());
  for (int g = 0; g < num_gates; ++g)
    if (active_[g]) {
      active_[g] = 0;
      process_gate<false>(g);
    }
  if (!shadow_flops_.empty()) capture_shadows();

  // Capture at T - setup; the captured value becomes the state, right or wrong.
  for (size_t f = 0; f < c_.flops.size(); ++f) {
    const FlipFlop& ff = c_.flops[f];
    if (ff.shadow) continue;
    std::uint8_t v = captured_value(ff);
    settled_[f] = zero_delay_[ff.d_net];
    if (!ff.async_nets.empty()) {
      std::uint32_t bits = 0;
      for (size_t k = 0; k < ff.async_nets.size(); ++k) bits |= std::uint32_t{zero_delay_[ff.async_nets[k]]} << k;
      if ((ff.clear_tt >> bits) & 1) v = settled_[f] = 0;
      else if ((ff.preset_tt >> bits) & 1) v = settled_[f] = 1;
    }
    state_[f] = v;
    // When the D net last moved: committed events, or still-pending ones.
    std::int32_t last = 0;
    if (wave_count_[ff.d_net]) last = arena_[wave_begin_[ff.d_net] + wave_count_[ff.d_net] - 1].time;
    const int drv = gate_of_net_[ff.d_net];
    if (drv >= 0 && !pending_[drv].empty()) last = std::max(last, pending_[drv].back().time);
    settle_ps_[f] = last;
  }
}

// step() from a quiet edge, restricted to the transitions that can reach a
// cut net by its cut: a gate's output transitions up to cut[out] follow from
// its input transitions up to cut[out] - min_delay (a later one schedules and
// pre-empts only after cut[out]), and those inputs have cuts at least that late.
void TimingSimulator::step_cut(const std::vector<std::int32_t>& cut,
                               const std::vector<std::pair<int, std::uint8_t>>& frozen) {
  if (!shadow_flops_.empty()) throw DtaError("step_cut: not for a netlist with shadow flip-flops (internal error)");
  if (!carry_.empty()) throw DtaError("step_cut: the cycle does not start quiet (internal error)");
  take_final_values();
  for (const auto& [net, v] : frozen) value_[net] = v;
  const int num_gates = static_cast<int>(c_.gates.size());
  for (int g = 0; g < num_gates; ++g) {  // the simulated gates' state at the edge, frozen inputs included
    const Gate& G = c_.gates[g];
    if (cut[G.out_net] == kNoCut) continue;
    std::uint32_t bits = 0;
    for (int k = 0; k < G.num_inputs; ++k) bits |= std::uint32_t{value_[G.in_net[k]]} << k;
    gate_inputs_[g] = bits;
    gate_out_[g] = value_[G.out_net] = (G.truth_table >> bits) & 1;
  }
  launch_sources(&cut);
  for (int g = 0; g < num_gates; ++g)
    if (active_[g]) {
      active_[g] = 0;
      const std::int32_t out = cut[c_.gates[g].out_net];
      if (out != kNoCut) process_gate<true>(g, out - min_delay_[g], out);
    }
  for (size_t f = 0; f < c_.flops.size(); ++f) state_[f] = captured_value(c_.flops[f]);
}

}  // namespace vosa::dta
