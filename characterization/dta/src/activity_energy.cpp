// Per-net activity -> energy per clock cycle (activity_energy.hpp).
#include "vosa/activity_energy.hpp"

#include "vosa/pdk.hpp"
#include "vosa/timing_sim.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <numeric>
#include <optional>
#include <sstream>

namespace vosa::dta {

namespace {

bool is_constraint(const std::string& timing_type) {
  for (const char* prefix : {"setup", "hold", "recovery", "removal", "skew", "min_pulse", "minimum_period",
                             "nochange", "non_seq"})
    if (timing_type.rfind(prefix, 0) == 0) return true;
  return false;
}

std::vector<std::string> split_names(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

void EnergyBreakdown::add(const EnergyBreakdown& o) {
  internal_pj += o.internal_pj;
  switching_pj += o.switching_pj;
  leakage_pj += o.leakage_pj;
  clock_internal_pj += o.clock_internal_pj;
  sequential_pj += o.sequential_pj;
  combinational_pj += o.combinational_pj;
}

PowerModel::PowerModel(const Netlist& netlist, const liberty::Library& lib, const PowerEnvironment& env)
    : nl_(netlist), lib_(lib), env_(env) {
  voltage_ = env.voltage > 0 ? env.voltage : lib.operating_voltage;
  if (!(voltage_ > 0))
    throw DtaError(lib.path + ": liberty names no operating voltage; give the supply voltage (--voltage)");
  const int nets = static_cast<int>(nl_.net_names.size());
  // Aliases from `assign lhs = rhs;` (the rhs drives), as build_circuit does.
  alias_.resize(nets);
  std::iota(alias_.begin(), alias_.end(), 0);
  std::function<int(int)> find = [&](int x) { return alias_[x] == x ? x : alias_[x] = find(alias_[x]); };
  for (const auto& [lhs, rhs] : nl_.assigns) {
    const int a = find(lhs), b = find(rhs);
    if (a != b) alias_[a] = b;
  }
  for (int i = 0; i < nets; ++i) alias_[i] = find(i);
  const NetlistPort* clock = nl_.find_port(env.clock_port);
  if (!clock) throw DtaError(nl_.path + ": netlist has no clock port '" + env.clock_port + "'");
  clock_net_ = alias_[nl_.find_net(clock->bit_name(0))];
  if (const NetlistPort* shadow = nl_.find_port(env.shadow_clock_port))
    shadow_clock_net_ = alias_[nl_.find_net(shadow->bit_name(0))];

  // Loads: input pins on the net, plus the flow's load on output ports; the
  // larger of the rising and the falling sum, as OpenSTA's loadCap.
  load_pf_.assign(nets, 0.0);
  std::vector<double> fall_pf(nets, 0.0);
  std::vector<std::pair<int, std::string>> driver(nets, {-1, ""});  // net -> (instance, output pin)
  for (std::size_t i = 0; i < nl_.instances.size(); ++i) {
    const NetlistInstance& inst = nl_.instances[i];
    const liberty::Cell* cell = lib_.find_cell(inst.cell_type);
    if (!cell)
      throw DtaError(nl_.path + ":" + std::to_string(inst.line) + ": cell '" + inst.cell_type + "' of instance '" +
                     inst.name + "' is not in liberty " + lib_.path);
    cells_.push_back(cell);
    for (const auto& [p, n] : inst.pins) {
      const liberty::Pin* pin = cell->find_pin(p);
      if (!pin)
        throw DtaError(nl_.path + ":" + std::to_string(inst.line) + ": instance '" + inst.name + "' pin '" + p +
                       "' is not a pin of cell " + cell->name + " in " + lib_.path);
      if (pin->direction == "input") {
        load_pf_[alias_[n]] += pin->rise_capacitance * lib_.capacitance_unit_pf;
        fall_pf[alias_[n]] += pin->fall_capacitance * lib_.capacitance_unit_pf;
      }
      if (pin->direction == "output") driver[alias_[n]] = {static_cast<int>(i), p};
    }
  }
  std::vector<std::uint8_t> is_input_port(nets, 0);
  for (const auto& port : nl_.ports)
    for (int b = 0; b < port.width(); ++b) {
      const int n = alias_[nl_.find_net(port.bit_name(b))];
      if (port.direction == "output") {
        load_pf_[n] += env.output_load_pf;
        fall_pf[n] += env.output_load_pf;
      }
      const bool ideal = std::find(env.ideal_ports.begin(), env.ideal_ports.end(), port.name) != env.ideal_ports.end();
      if (port.direction == "input" && !ideal) is_input_port[n] = 1;
    }

  for (int n = 0; n < nets; ++n) load_pf_[n] = std::max(load_pf_[n], fall_pf[n]);

  // Slews in topological order (memoized depth-first search from each net).
  const liberty::Pin* drv_out = nullptr;
  const liberty::TimingArc* drv_arc = nullptr;
  if (!env.driver_cell.empty()) {
    const liberty::Cell& dc = lib_.cell(env.driver_cell);
    drv_out = dc.find_pin(env.driver_pin);
    if (!drv_out || drv_out->timing.empty())
      throw DtaError(lib_.path + ": driver pin " + env.driver_cell + "/" + env.driver_pin + " has no timing arc");
    drv_arc = &drv_out->timing.front();
  }
  slew_ns_.assign(nets, {0.0, 0.0});
  std::vector<std::uint8_t> state(nets, 0);  // 0 new, 1 on the stack, 2 done
  auto table_or = [](const liberty::TimingArc& arc, const char* name, double slew, double load, double dflt) {
    const auto it = arc.tables.find(name);
    return it == arc.tables.end() ? dflt : it->second.lookup_slew_load(slew, load);
  };
  std::function<void(int)> visit = [&](int n) {
    if (state[n]) return;
    state[n] = 1;
    std::array<double, 2> s = {0.0, 0.0};
    const double load = load_pf_[n] / lib_.capacitance_unit_pf;
    if (is_clock(n)) {
      // ideal clock
    } else if (is_input_port[n]) {
      if (drv_arc)
        s = {table_or(*drv_arc, "fall_transition", 0.0, load, 0.0), table_or(*drv_arc, "rise_transition", 0.0, load, 0.0)};
    } else if (driver[n].first >= 0) {
      const NetlistInstance& inst = nl_.instances[driver[n].first];
      const liberty::Pin* out = cells_[driver[n].first]->find_pin(driver[n].second);
      for (const auto& arc : out->timing) {
        if (is_constraint(arc.timing_type)) continue;
        int from = -1;
        for (const auto& [p, net] : inst.pins)
          if (p == arc.related_pin) from = alias_[net];
        if (from < 0) continue;
        visit(from);
        const auto& in = slew_ns_[from];
        const double either = std::max(in[0], in[1]);
        const bool pos = arc.timing_sense == "positive_unate", neg = arc.timing_sense == "negative_unate";
        const double for_rise = pos ? in[1] : neg ? in[0] : either;
        const double for_fall = pos ? in[0] : neg ? in[1] : either;
        s[1] = std::max(s[1], table_or(arc, "rise_transition", for_rise, load, 0.0));
        s[0] = std::max(s[0], table_or(arc, "fall_transition", for_fall, load, 0.0));
      }
    }
    slew_ns_[n] = s;
    state[n] = 2;
  };
  for (int n = 0; n < nets; ++n)
    if (alias_[n] == n) visit(n);
  for (int n = 0; n < nets; ++n) slew_ns_[n] = slew_ns_[alias_[n]];
}

EnergyBreakdown PowerModel::instance_energy(std::size_t i, const std::vector<NetActivity>& activity,
                                            double period_ns, PowerConvention convention) const {
  const NetlistInstance& inst = nl_.instances[i];
  const liberty::Cell& cell = *cells_[i];
  const bool opensta = convention == PowerConvention::kOpenSta;
  auto net_of = [&](const std::string& pin) -> int {
    for (const auto& [p, n] : inst.pins)
      if (p == pin) return alias_[n];
    return -1;
  };
  auto act = [&](int net) -> NetActivity {
    if (is_clock(net)) return {2.0, 0.5};
    return activity[net];
  };
  // Probability that a pin, or a state variable of the cell, is 1.
  auto var_duty = [&](const std::string& var) -> double {
    if (const int n = net_of(var); n >= 0) return act(n).duty;
    if (cell.state)
      for (const auto& p : cell.pins)
        if (p.direction == "output" && (p.function == var || p.function == cell.state->state_var) &&
            (var == cell.state->state_var || var == cell.state->state_var_n)) {
          const int n = net_of(p.name);
          if (n < 0) continue;
          return var == cell.state->state_var ? act(n).duty : 1.0 - act(n).duty;
        }
    return 0.5;
  };
  // P(expr) with independent inputs (OpenSTA's evalActivity duty rules).
  std::function<double(const liberty::BoolExpr&)> prob = [&](const liberty::BoolExpr& e) -> double {
    using Op = liberty::BoolExpr::Op;
    const auto& o = e.operands();
    switch (e.op()) {
      case Op::kConst: return e.constant() ? 1.0 : 0.0;
      case Op::kVar: return var_duty(e.name());
      case Op::kNot: return 1.0 - prob(o[0]);
      case Op::kAnd: {
        double p = 1.0;
        for (const auto& x : o) p *= prob(x);
        return p;
      }
      case Op::kOr: {
        double q = 1.0;
        for (const auto& x : o) q *= 1.0 - prob(x);
        return 1.0 - q;
      }
      case Op::kXor: {
        double p = 0.0;
        for (const auto& x : o) {
          const double px = prob(x);
          p = p * (1 - px) + px * (1 - p);
        }
        return p;
      }
    }
    return 0.5;
  };
  // OpenSTA's inferred `when` of an arc from `from` (Power::inferedWhen), as a probability.
  std::function<std::optional<double>(const liberty::BoolExpr&, const std::string&)> inferred =
      [&](const liberty::BoolExpr& e, const std::string& from) -> std::optional<double> {
    using Op = liberty::BoolExpr::Op;
    auto is_ref = [&](const liberty::BoolExpr& x) {
      return (x.op() == Op::kVar && x.name() == from) ||
             (x.op() == Op::kNot && x.operands()[0].op() == Op::kVar && x.operands()[0].name() == from);
    };
    const auto& o = e.operands();
    switch (e.op()) {
      case Op::kVar: return e.name() == from ? std::optional<double>(1.0) : std::nullopt;
      case Op::kNot: return inferred(o[0], from);
      case Op::kOr:
      case Op::kXor:
        if (o.size() == 2 && is_ref(o[0])) return 1.0 - prob(o[1]);
        if (o.size() == 2 && is_ref(o[1])) return 1.0 - prob(o[0]);
        return std::nullopt;
      case Op::kAnd:
        if (o.size() == 2 && is_ref(o[0])) return prob(o[1]);
        if (o.size() == 2 && is_ref(o[1])) return prob(o[0]);
        return std::nullopt;
      default: return std::nullopt;
    }
  };
  // Probability that `var` is sensitized in `f` (Boolean difference), inputs independent.
  auto sensitized = [&](const liberty::BoolExpr& f, const std::string& var) -> double {
    std::vector<std::string> vars = f.variables();
    const auto it = std::find(vars.begin(), vars.end(), var);
    if (it == vars.end()) return 0.0;
    if (vars.size() > 6) return 0.5;
    const int k = static_cast<int>(it - vars.begin());
    const std::uint64_t tt = f.truth_table(vars);
    std::vector<double> d;
    for (const auto& v : vars) d.push_back(var_duty(v));
    double p = 0.0;
    for (std::uint64_t m = 0; m < (1ull << vars.size()); ++m) {
      if ((m >> k) & 1) continue;
      if (((tt >> m) & 1) == ((tt >> (m | (1ull << k))) & 1)) continue;
      double w = 1.0;
      for (std::size_t j = 0; j < vars.size(); ++j)
        if (static_cast<int>(j) != k) w *= ((m >> j) & 1) ? d[j] : 1.0 - d[j];
      p += w;
    }
    return p;
  };

  EnergyBreakdown e;
  const double unit = lib_.energy_unit_pj() * env_.internal_scale;
  for (const liberty::Pin& lp : cell.pins) {
    const int to = net_of(lp.name);
    if (to < 0) continue;
    const bool output = lp.direction == "output";
    const NetActivity to_act = act(to);
    const double load = output ? load_pf_[to] : 0.0;
    if (output) e.switching_pj += 0.5 * load * voltage_ * voltage_ * to_act.toggles_per_cycle;
    if (lp.internal_power.empty() || to_act.toggles_per_cycle == 0.0) continue;
    std::optional<liberty::BoolExpr> function;
    if (!lp.function.empty()) function = liberty::BoolExpr::parse(lp.function);
    struct Term {
      double weight, mean_energy;  // weight: OpenSTA duty, or vosa's raw share
      bool clock;
    };
    std::vector<Term> terms;
    for (const liberty::InternalPower& ip : lp.internal_power) {
      std::vector<std::string> froms = split_names(ip.related_pin);
      if (froms.empty()) froms.push_back(lp.name);
      for (const std::string& from_name : froms) {
        const int from = net_of(from_name);
        if (from < 0) continue;  // unconnected related pin: OpenSTA skips it too
        if (opensta && ip.one_table) continue;  // OpenSTA 2.0.17 reads only rise_power/fall_power
        double energy_sum = 0.0;  // E_rise + E_fall at the related pin's slew, this pin's load
        if (ip.rise_power) energy_sum += ip.rise_power->lookup_slew_load(slew_ns_[from][1], load / lib_.capacitance_unit_pf);
        if (ip.fall_power) energy_sum += ip.fall_power->lookup_slew_load(slew_ns_[from][0], load / lib_.capacitance_unit_pf);
        const bool clock = is_clock(from) || is_clock(to);
        const std::optional<double> when_p =
            ip.when.empty() ? std::nullopt : std::optional<double>(prob(liberty::BoolExpr::parse(ip.when)));
        double weight = 0.0;
        if (opensta) {
          std::optional<double> inf;
          if (!ip.related_pin.empty() && ip.when.empty() && function) inf = inferred(*function, from_name);
          if (inf) weight = act(from).toggles_per_cycle / to_act.toggles_per_cycle * *inf;
          else if (when_p) weight = *when_p;
          else if (is_clock(from)) weight = 1.0;
          else weight = 0.5;
        } else {
          const double w = when_p.value_or(1.0);
          if (ip.related_pin.empty()) {
            weight = w;
          } else {
            const double sens = (function && !cell.is_sequential()) ? sensitized(*function, from_name) : 1.0;
            weight = act(from).toggles_per_cycle * sens * w;
          }
        }
        terms.push_back({weight, energy_sum / 2.0, clock});
      }
    }
    double norm = 1.0;
    if (!opensta) {  // vosa: the groups share each transition
      norm = 0.0;
      for (const Term& t : terms) norm += t.weight;
      if (norm <= 0.0) {
        for (Term& t : terms) t.weight = 1.0;
        norm = static_cast<double>(terms.size());
      }
    }
    for (const Term& t : terms) {
      // OpenSTA: duty x (E_rise + E_fall) per transition; vosa: share x mean.
      const double per_transition = opensta ? t.weight * 2.0 * t.mean_energy : t.weight / norm * t.mean_energy;
      const double pj = per_transition * to_act.toggles_per_cycle * unit;
      e.internal_pj += pj;
      if (t.clock) e.clock_internal_pj += pj;
    }
  }

  // Leakage: cell_leakage_power when given (OpenSTA prefers it too), else the
  // state-dependent groups.
  double leak = 0.0;
  if (cell.cell_leakage_power) {
    leak = *cell.cell_leakage_power;
  } else {
    double cond = 0.0, dflt = 0.0;
    bool have_cond = false;
    for (const auto& [when, value] : cell.leakage_power) {
      if (when.empty()) {
        dflt += value;
        continue;
      }
      have_cond = true;
      const liberty::BoolExpr w = liberty::BoolExpr::parse(when);
      if (opensta) {
        double duty = 2.0;
        for (const auto& v : w.variables())
          if (const liberty::Pin* p = cell.find_pin(v); p && p->direction == "input") duty *= 0.5;
        cond += value * duty;
      } else {
        cond += value * prob(w);
      }
    }
    leak = have_cond ? cond : dflt;
  }
  e.leakage_pj = leak * lib_.leakage_unit_w * env_.internal_scale * period_ns * 1e-9 * 1e12;
  (cell.is_sequential() ? e.sequential_pj : e.combinational_pj) = e.total_pj();
  return e;
}

std::vector<EnergyBreakdown> PowerModel::instance_energy_per_cycle(const std::vector<NetActivity>& activity,
                                                                   double period_ns,
                                                                   PowerConvention convention) const {
  if (activity.size() != nl_.net_names.size())
    throw DtaError("activity has " + std::to_string(activity.size()) + " nets, netlist " + nl_.path + " has " +
                   std::to_string(nl_.net_names.size()));
  // Aliases carry their representative's activity (the one given for it, or for an alias).
  std::vector<NetActivity> rep(activity.size(), NetActivity{0.0, 0.0});
  std::vector<std::uint8_t> given(activity.size(), 0);
  for (std::size_t n = 0; n < activity.size(); ++n) {
    const int r = alias_[n];
    if (static_cast<int>(n) == r || !given[r]) rep[r] = activity[n];
    if (static_cast<int>(n) == r) given[r] = 1;
  }
  std::vector<EnergyBreakdown> out;
  for (std::size_t i = 0; i < nl_.instances.size(); ++i)
    out.push_back(instance_energy(i, rep, period_ns, convention));
  return out;
}

EnergyBreakdown PowerModel::energy_per_cycle(const std::vector<NetActivity>& activity, double period_ns,
                                             PowerConvention convention) const {
  EnergyBreakdown total;
  for (const auto& e : instance_energy_per_cycle(activity, period_ns, convention)) total.add(e);
  return total;
}

std::vector<NetActivity> read_net_activity(const std::string& path, const Netlist& netlist, double period_ns) {
  std::ifstream in(path);
  if (!in) throw DtaError("activity file " + path + ": cannot open file");
  std::vector<NetActivity> act(netlist.net_names.size(), NetActivity{0.0, 0.0});
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    std::string name;
    double per_second = 0, duty = 0;
    if (!(f >> name >> per_second >> duty))
      throw DtaError(path + ":" + std::to_string(line_no) + ": expected 'net transitions_per_second duty'");
    const int n = netlist.find_net(name);
    if (n < 0) throw DtaError(path + ":" + std::to_string(line_no) + ": net '" + name + "' is not in " + netlist.path);
    act[n] = {per_second * period_ns * 1e-9, duty};
  }
  return act;
}

}  // namespace vosa::dta

namespace vosa::dta {

PowerEnvironment power_environment(const std::string& pdk_name, const liberty::Library& lib) {
  const pdk::PdkConfig pdk = pdk::load_pdk(pdk_name);
  PowerEnvironment env;
  env.driver_cell = pdk.driver.cell;
  env.driver_pin = pdk.driver.pin;
  const liberty::Pin* load = lib.cell(pdk.load.cell).find_pin(pdk.load.pin);
  if (!load) throw DtaError(lib.path + ": load pin " + pdk.load.cell + "/" + pdk.load.pin + " (" + pdk.path.string() + ") is not in the liberty");
  env.output_load_pf = pdk.load_count * load->capacitance * lib.capacitance_unit_pf;
  return env;
}

std::vector<NetActivity> simulated_activity(const std::vector<std::uint64_t>& toggles,
                                            const std::vector<std::uint64_t>& high, std::uint64_t cycles) {
  std::vector<NetActivity> act(toggles.size());
  const double n = static_cast<double>(std::max<std::uint64_t>(cycles, 1));
  for (std::size_t i = 0; i < toggles.size(); ++i) act[i] = {toggles[i] / n, high[i] / n};
  return act;
}

nlohmann::json energy_to_json(const PowerModel& model, const std::vector<NetActivity>& activity, double period_ns,
                              std::uint64_t cycles, const std::string& activity_source,
                              const std::string& liberty_source) {
  const EnergyBreakdown e = model.energy_per_cycle(activity, period_ns, PowerConvention::kVosa);
  const EnergyBreakdown o = model.energy_per_cycle(activity, period_ns, PowerConvention::kOpenSta);
  double toggles = 0.0;
  for (int n = 0; n < static_cast<int>(activity.size()); ++n)
    if (model.net_representative(n) == n) toggles += activity[n].toggles_per_cycle;
  return {{"activity_source", activity_source},
          {"cycles", cycles},
          {"period_ns", period_ns},
          {"voltage", model.voltage()},
          {"liberty", model.library().path},
          {"liberty_source", liberty_source},
          {"convention", "vosa"},
          {"energy_per_cycle_pj", e.total_pj()},
          {"energy_per_mac_pj", e.total_pj()},
          {"internal_pj", e.internal_pj},
          {"switching_pj", e.switching_pj},
          {"leakage_pj", e.leakage_pj},
          {"clock_internal_pj", e.clock_internal_pj},
          {"sequential_pj", e.sequential_pj},
          {"combinational_pj", e.combinational_pj},
          {"power_mw", e.total_pj() / period_ns},
          {"net_toggles_per_cycle", toggles},
          {"opensta_convention_pj", o.total_pj()}};
}

}  // namespace vosa::dta
