// Compiles netlist + liberty functions + SDF delays into a levelized Circuit.
#include "vosa/timing_sim.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <numeric>
#include <queue>
#include <unordered_map>

namespace vosa::dta {

DelayMode parse_delay_mode(const std::string& s) {
  if (s == "transport") return DelayMode::kTransport;
  if (s == "inertial") return DelayMode::kInertial;
  if (s == "modpath") return DelayMode::kModpath;
  throw DtaError("unknown delay mode '" + s + "' (expected transport, inertial or modpath)");
}
SetupMode parse_setup_mode(const std::string& s) {
  if (s == "sdf") return SetupMode::kSdf;
  if (s == "zero") return SetupMode::kZero;
  throw DtaError("unknown setup mode '" + s + "' (expected sdf or zero)");
}
std::string to_string(DelayMode m) {
  return m == DelayMode::kTransport ? "transport" : m == DelayMode::kInertial ? "inertial" : "modpath";
}
std::string to_string(SetupMode m) { return m == SetupMode::kSdf ? "sdf" : "zero"; }

int Circuit::flop_driving(int net) const {
  if (net < 0 || net >= static_cast<int>(net_alias.size())) return -1;
  const int rep = net_alias[net];
  for (size_t f = 0; f < flops.size(); ++f)
    if (flops[f].q_net == rep) return static_cast<int>(f);
  return -1;
}

namespace {

std::int32_t to_ps(double ns, double resolution_ps) {
  return static_cast<std::int32_t>(std::llround(ns * 1000.0 / resolution_ps) * resolution_ps);
}

}  // namespace

Circuit build_circuit(const Netlist& nl, const liberty::Library& lib, const Sdf& sdf,
                      const BuildOptions& options) {
  Circuit c;
  c.net_names = nl.net_names;
  c.clock_port = options.clock_port;
  const int num_nets = static_cast<int>(nl.net_names.size());

  // Aliases from `assign lhs = rhs;`: the rhs drives, so it is the representative.
  std::vector<int> parent(num_nets);
  std::iota(parent.begin(), parent.end(), 0);
  std::function<int(int)> find = [&](int x) { return parent[x] == x ? x : parent[x] = find(parent[x]); };
  for (const auto& [lhs, rhs] : nl.assigns) {
    const int a = find(lhs), b = find(rhs);
    if (a != b) parent[a] = b;
  }
  for (const auto& [in, out] : options.port_ties) {
    const NetlistPort* pi = nl.find_port(in);
    const NetlistPort* po = nl.find_port(out);
    if (!pi || pi->direction != "input" || pi->width() != 1 || !po || po->direction != "output" || po->width() != 1)
      throw DtaError(nl.path + ": cannot drive input port '" + in + "' from output port '" + out +
                     "': both must exist as one-bit input and output ports");
    const int a = find(nl.find_net(pi->bit_name(0))), b = find(nl.find_net(po->bit_name(0)));
    if (a != b) parent[a] = b;
  }
  c.net_alias.resize(num_nets);
  for (int i = 0; i < num_nets; ++i) c.net_alias[i] = find(i);

  const NetlistPort* clock = nl.find_port(options.clock_port);
  if (!clock) throw DtaError(nl.path + ": netlist has no clock port '" + options.clock_port + "'");
  const int clock_net = c.net_alias[nl.find_net(clock->bit_name(0))];
  int shadow_clock_net = -1;
  if (const NetlistPort* shadow = options.shadow_clock_port.empty() ? nullptr : nl.find_port(options.shadow_clock_port)) {
    c.shadow_clock_port = options.shadow_clock_port;
    shadow_clock_net = c.net_alias[nl.find_net(shadow->bit_name(0))];
  }

  std::unordered_map<std::string, const SdfCell*> sdf_cells;
  for (const auto& sc : sdf.cells) {
    if (sc.instance.empty()) continue;
    if (!nl.find_instance(sc.instance))
      throw DtaError(sdf.path + ":" + std::to_string(sc.line) + ": SDF instance '" + sc.instance +
                     "' is not in netlist " + nl.path + " (SDF and netlist do not match)");
    sdf_cells[sc.instance] = &sc;
  }
  auto where = [&](const NetlistInstance& inst) {
    return "instance '" + inst.name + "' (cell " + inst.cell_type + ", " + nl.path + ":" +
           std::to_string(inst.line) + ")";
  };
  auto iopath = [&](const NetlistInstance& inst, const SdfCell* sc, const std::string& in,
                    const std::string& out, std::int32_t& rise, std::int32_t& fall) {
    bool found = false;
    double r = 0, f = 0;
    if (sc)
      for (const auto& p : sc->iopaths)
        if (p.input_pin == in && p.output_pin == out) {
          r = std::max(r, p.rise.slowest());
          f = std::max(f, p.fall.slowest());
          found = true;
        }
    if (!found)
      throw DtaError(sdf.path + ": no IOPATH " + in + " -> " + out + " for " + where(inst) +
                     " (SDF and netlist do not match)");
    rise = to_ps(r, options.resolution_ps);
    fall = to_ps(f, options.resolution_ps);
  };
  // Load on each net (input pin capacitances), to tell non-unate arcs apart below.
  std::vector<double> net_load(num_nets, 0.0);
  for (const auto& inst : nl.instances)
    if (const liberty::Cell* cell = lib.find_cell(inst.cell_type))
      for (const auto& [p, n] : inst.pins)
        if (const liberty::Pin* pin = cell->find_pin(p); pin && pin->direction == "input")
          net_load[c.net_alias[n]] += pin->capacitance;

  // Delay per (input edge, output edge) of one gate input. A non-unate input
  // (XOR, XNOR, MUX select) has a positive-unate and a negative-unate liberty
  // timing group (more with `when` conditions), and OpenSTA writes one IOPATH
  // for each, with neither edge specifiers nor a documented order. Each
  // applies only to the edge pairs of its sense (taking the larger delay for
  // every edge pair makes the simulation later than STA: docs/dta.md, "STA
  // bounds DTA"), so the IOPATHs are matched to the arcs by their liberty
  // tables: a positive arc's rise and a negative arc's fall share the input's
  // rising slew, and vice versa; the order that fits one slew per input edge
  // wins.
  auto arc_delays = [&](const SdfCell* sc, const liberty::Cell& cell, const std::string& in,
                        const std::string& out, double load, std::int32_t (&arc)[2][2]) {
    // A state-dependent IOPATH (SDF COND, gf180) names its liberty arc by its sdf_cond.
    auto squeeze = [](std::string x) {
      x.erase(std::remove_if(x.begin(), x.end(), [](unsigned char ch) { return std::isspace(ch); }), x.end());
      return x;
    };
    std::vector<const SdfIopath*> paths, cond_paths;
    for (const auto& p : sc->iopaths)
      if (p.input_pin == in && p.output_pin == out) (p.cond.empty() ? paths : cond_paths).push_back(&p);
    std::vector<const liberty::TimingArc*> arcs, cond_arcs;
    if (const liberty::Pin* op = cell.find_pin(out))
      for (const auto& t : op->timing)
        if (t.related_pin == in && t.timing_type == "combinational")
          (t.sdf_cond.empty() ? arcs : cond_arcs).push_back(&t);
    if (cond_paths.empty()) {  // an SDF without COND (OpenSTA on IHP): every arc is unconditional
      arcs.insert(arcs.end(), cond_arcs.begin(), cond_arcs.end());
      std::stable_sort(arcs.begin(), arcs.end(), [](const liberty::TimingArc* a, const liberty::TimingArc* b) {
        return a->line < b->line;
      });
    }
    std::vector<std::string> senses(paths.size(), "non_unate");
    if (paths.size() == arcs.size() && !paths.empty()) {
      // Liberty order or its reverse (what OpenSTA 2.0.17 writes for sky130's
      // XOR/XNOR/MUX): the one whose delays fit the tables at one slew per
      // input edge. Only arcs of different senses make the choice matter.
      auto table = [](const liberty::TimingArc* a, const char* name) -> const liberty::Table* {
        const auto it = a->tables.find(name);
        return it == a->tables.end() || it->second.index_1.empty() ? nullptr : &it->second;
      };
      auto misfit = [&](bool reversed) {
        // (table, delay) pairs driven by the rising input's slew [0] and the falling one's [1].
        std::vector<std::pair<const liberty::Table*, double>> terms[2];
        for (size_t i = 0; i < paths.size(); ++i) {
          const liberty::TimingArc* arc_i = arcs[reversed ? paths.size() - 1 - i : i];
          const liberty::Table *r = table(arc_i, "cell_rise"), *f = table(arc_i, "cell_fall");
          if (!r || !f || arc_i->timing_sense == "non_unate" || arc_i->timing_sense.empty()) continue;
          const bool positive = arc_i->timing_sense == "positive_unate";
          terms[positive ? 0 : 1].emplace_back(r, paths[i]->rise.slowest());
          terms[positive ? 1 : 0].emplace_back(f, paths[i]->fall.slowest());
        }
        double total = 0;
        for (const auto& group : terms) {
          if (group.empty()) continue;
          const double lo = group[0].first->index_1.front(), hi = group[0].first->index_1.back();
          double best = 1e300;
          for (int k = 0; k <= 200; ++k) {
            const double slew = lo + (hi - lo) * k / 200.0;
            double sum = 0;
            for (const auto& [t, v] : group) sum += (t->lookup(slew, load) - v) * (t->lookup(slew, load) - v);
            best = std::min(best, sum);
          }
          total += best;
        }
        return total;
      };
      const bool reversed = paths.size() > 1 && misfit(true) < misfit(false);
      for (size_t i = 0; i < paths.size(); ++i)
        senses[i] = arcs[reversed ? paths.size() - 1 - i : i]->timing_sense;
    }
    for (const SdfIopath* p : cond_paths) {
      std::string sense = "non_unate";
      for (const liberty::TimingArc* a : cond_arcs)
        if (squeeze(a->sdf_cond) == squeeze(p->cond)) sense = a->timing_sense;
      paths.push_back(p);
      senses.push_back(sense);
    }
    for (auto& a : arc) a[0] = a[1] = -1;
    for (size_t i = 0; i < paths.size(); ++i) {
      const SdfIopath& p = *paths[i];
      const std::int32_t r = to_ps(p.rise.slowest(), options.resolution_ps),
                         f = to_ps(p.fall.slowest(), options.resolution_ps);
      for (int in_edge = 0; in_edge < 2; ++in_edge) {
        if ((p.input_edge == "posedge" && in_edge == 0) || (p.input_edge == "negedge" && in_edge == 1)) continue;
        for (int out_edge = 0; out_edge < 2; ++out_edge) {
          if (senses[i] == "positive_unate" && in_edge != out_edge) continue;
          if (senses[i] == "negative_unate" && in_edge == out_edge) continue;
          arc[in_edge][out_edge] = std::max(arc[in_edge][out_edge], out_edge ? r : f);
        }
      }
    }
  };

  std::vector<int> driver_gate(num_nets, -1);
  std::vector<std::uint8_t> is_source(num_nets, 0);
  std::vector<Gate> unordered;
  std::unordered_map<std::string, std::vector<std::pair<int, int>>> gate_pins;  // "inst/pin" -> (gate, input)

  for (size_t ii = 0; ii < nl.instances.size(); ++ii) {
    const NetlistInstance& inst = nl.instances[ii];
    c.instance_names.push_back(inst.name);
    c.instance_cells.push_back(inst.cell_type);
    const liberty::Cell* cell = lib.find_cell(inst.cell_type);
    if (!cell)
      throw DtaError(where(inst) + ": cell '" + inst.cell_type + "' is not in liberty " + lib.path);
    auto pin_net = [&](const std::string& pin) {
      for (const auto& [p, n] : inst.pins)
        if (p == pin) return c.net_alias[n];
      return -1;
    };
    for (const auto& [p, n] : inst.pins)
      if (!cell->find_pin(p))
        throw DtaError(where(inst) + ": pin '" + p + "' is not a pin of liberty cell " + cell->name);
    const auto sit = sdf_cells.find(inst.name);
    const SdfCell* sc = sit == sdf_cells.end() ? nullptr : sit->second;
    if (sc && sc->cell_type != inst.cell_type)
      throw DtaError(sdf.path + ":" + std::to_string(sc->line) + ": SDF says instance '" + inst.name +
                     "' is a " + sc->cell_type + ", the netlist says " + inst.cell_type);

    if (cell->is_sequential()) {
      const liberty::StateElement& st = *cell->state;
      if (st.is_latch) throw DtaError(where(inst) + ": latches are not supported by the timing simulator");
      const auto clk_vars = liberty::BoolExpr::parse(st.clocked_on);
      if (clk_vars.op() != liberty::BoolExpr::Op::kVar)
        throw DtaError(where(inst) + ": only rising-edge flip-flops are supported (clocked_on \"" +
                       st.clocked_on + "\")");
      const std::string clk_pin = clk_vars.variables()[0];
      const int clk_net = pin_net(clk_pin);
      if (clk_net != clock_net && (shadow_clock_net < 0 || clk_net != shadow_clock_net))
        throw DtaError(where(inst) + ": clock pin " + clk_pin + " is not on clock port " + options.clock_port +
                       (shadow_clock_net < 0 ? "" : " or " + options.shadow_clock_port));
      const auto ns = liberty::BoolExpr::parse(st.next_state);
      if (ns.op() != liberty::BoolExpr::Op::kVar)
        throw DtaError(where(inst) + ": next_state \"" + st.next_state +
                       "\" is not a single pin (scan/enable flip-flops are not supported)");
      FlipFlop ff;
      ff.instance = static_cast<int>(ii);
      ff.shadow = clk_net == shadow_clock_net;
      const std::string d_pin = ns.variables()[0];
      ff.d_net = pin_net(d_pin);
      if (ff.d_net < 0) throw DtaError(where(inst) + ": data pin " + d_pin + " is unconnected");
      for (const auto& pin : cell->pins) {
        if (pin.direction != "output" || pin.function.empty()) continue;
        const int net = pin_net(pin.name);
        if (net < 0) continue;
        const auto f = liberty::BoolExpr::parse(pin.function);
        const bool is_q = f.op() == liberty::BoolExpr::Op::kVar && f.variables()[0] == st.state_var;
        const bool is_qn = (f.op() == liberty::BoolExpr::Op::kVar && f.variables()[0] == st.state_var_n) ||
                           (f.op() == liberty::BoolExpr::Op::kNot && f.variables() ==
                                std::vector<std::string>{st.state_var});
        if (!is_q && !is_qn) throw DtaError(where(inst) + ": output " + pin.name + " is neither Q nor QN");
        std::int32_t r = 0, fa = 0;
        iopath(inst, sc, clk_pin, pin.name, r, fa);
        if (is_q) {
          ff.q_net = net;
          ff.clk_to_q_rise_ps = r;
          ff.clk_to_q_fall_ps = fa;
        } else {
          ff.qn_net = net;
        }
        is_source[net] = 1;
      }
      // Setup per data edge: a rising D may arrive later than a falling one (STA checks each).
      double setup[2] = {0, 0};
      if (sc)
        for (const auto& chk : sc->checks)
          if (chk.type == "SETUP" && chk.data_pin == d_pin)
            for (int edge = 0; edge < 2; ++edge)
              if (chk.data_edge.empty() || chk.data_edge == (edge ? "posedge" : "negedge"))
                setup[edge] = std::max(setup[edge], chk.value.slowest());
      for (int edge = 0; edge < 2; ++edge) ff.setup_ps[edge] = to_ps(setup[edge], options.resolution_ps);
      // Asynchronous clear/preset as truth tables over their pins.
      std::vector<std::string> vars;
      std::vector<liberty::BoolExpr> exprs;
      for (const std::string* e : {&st.clear, &st.preset})
        exprs.push_back(e->empty() ? liberty::BoolExpr::parse("0") : liberty::BoolExpr::parse(*e));
      for (const auto& e : exprs)
        for (const auto& v : e.variables())
          if (std::find(vars.begin(), vars.end(), v) == vars.end()) vars.push_back(v);
      for (const auto& v : vars) {
        const int n = pin_net(v);
        if (n < 0) throw DtaError(where(inst) + ": asynchronous pin " + v + " is unconnected");
        ff.async_nets.push_back(n);
      }
      ff.clear_tt = exprs[0].truth_table(vars);
      ff.preset_tt = exprs[1].truth_table(vars);
      c.flops.push_back(std::move(ff));
      continue;
    }

    for (const auto& pin : cell->pins) {
      if (pin.direction != "output" || pin.function.empty()) continue;
      const int out = pin_net(pin.name);
      if (out < 0) continue;
      const auto f = liberty::BoolExpr::parse(pin.function);
      const std::vector<std::string> vars = f.variables();
      if (vars.size() > 6) throw DtaError(where(inst) + ": function of " + pin.name + " has more than 6 inputs");
      if (driver_gate[out] >= 0 || is_source[out])
        throw DtaError(where(inst) + ": net '" + c.net_names[out] + "' has more than one driver");
      if (vars.empty()) {  // tie cell
        c.constant_nets.push_back(out);
        c.constant_values.push_back(f.truth_table({}) & 1);
        is_source[out] = 1;
        continue;
      }
      Gate g;
      g.truth_table = f.truth_table(vars);
      g.out_net = out;
      g.num_inputs = static_cast<int>(vars.size());
      g.instance = static_cast<int>(ii);
      for (int k = 0; k < g.num_inputs; ++k) {
        g.in_net[k] = pin_net(vars[k]);
        if (g.in_net[k] < 0) throw DtaError(where(inst) + ": input pin " + vars[k] + " is unconnected");
        iopath(inst, sc, vars[k], pin.name, g.rise_ps[k], g.fall_ps[k]);
        arc_delays(sc, *cell, vars[k], pin.name, net_load[out], g.arc_ps[k]);
        gate_pins[inst.name + "/" + vars[k]].emplace_back(static_cast<int>(unordered.size()), k);
      }
      driver_gate[out] = static_cast<int>(unordered.size());
      unordered.push_back(g);
    }
  }

  // Wire delays into gate inputs (OpenSTA writes zeros without parasitics).
  for (const auto& ic : sdf.interconnects) {
    const auto it = gate_pins.find(ic.to);
    if (it != gate_pins.end()) {
      for (const auto& [g, k] : it->second) {
        const std::int32_t wr = to_ps(ic.rise.slowest(), options.resolution_ps),
                           wf = to_ps(ic.fall.slowest(), options.resolution_ps);
        unordered[g].rise_ps[k] += wr;
        unordered[g].fall_ps[k] += wf;
        for (auto& a : unordered[g].arc_ps[k]) {
          if (a[1] >= 0) a[1] += wr;
          if (a[0] >= 0) a[0] += wf;
        }
      }
      continue;
    }
    const auto slash = ic.to.rfind('/');
    if (slash != std::string::npos) {
      const NetlistInstance* inst = nl.find_instance(ic.to.substr(0, slash));
      if (!inst)
        throw DtaError(sdf.path + ":" + std::to_string(ic.line) + ": INTERCONNECT to '" + ic.to +
                       "': no such instance in netlist " + nl.path);
      for (auto& ff : c.flops)
        if (nl.instances[ff.instance].name == inst->name && ic.to.substr(slash + 1) != "CLK")
          for (int edge = 0; edge < 2; ++edge)
            ff.d_wire_ps[edge] = std::max(ff.d_wire_ps[edge], to_ps((edge ? ic.rise : ic.fall).slowest(),
                                                                    options.resolution_ps));
    }
  }

  // Primary inputs and constants are sources too.
  for (const auto& p : nl.ports) {
    if (p.direction != "input" || p.name == options.clock_port || p.name == c.shadow_clock_port) continue;
    if (std::any_of(options.port_ties.begin(), options.port_ties.end(), [&](const auto& t) { return t.first == p.name; }))
      continue;  // driven by an output port (BuildOptions::port_ties)
    for (int b = 0; b < p.width(); ++b) {
      const int n = c.net_alias[nl.find_net(p.bit_name(b))];
      c.primary_inputs.push_back(n);
      is_source[n] = 1;
    }
  }
  for (int n : {nl.const0, nl.const1})
    if (n >= 0) {
      c.constant_nets.push_back(c.net_alias[n]);
      c.constant_values.push_back(n == nl.const1);
      is_source[c.net_alias[n]] = 1;
    }

  // Levelize (Kahn); a net with neither driver nor source role is floating.
  std::vector<int> indegree(unordered.size(), 0);
  std::vector<std::vector<int>> fanout(num_nets);
  for (size_t g = 0; g < unordered.size(); ++g)
    for (int k = 0; k < unordered[g].num_inputs; ++k) {
      const int n = unordered[g].in_net[k];
      if (driver_gate[n] >= 0) {
        ++indegree[g];
        fanout[n].push_back(static_cast<int>(g));
      } else if (!is_source[n]) {
        throw DtaError(nl.path + ": net '" + c.net_names[n] + "' (input of instance '" +
                       nl.instances[unordered[g].instance].name + "') has no driver");
      }
    }
  std::queue<int> ready;
  for (size_t g = 0; g < unordered.size(); ++g)
    if (indegree[g] == 0) ready.push(static_cast<int>(g));
  while (!ready.empty()) {
    const int g = ready.front();
    ready.pop();
    c.gates.push_back(unordered[g]);
    for (int h : fanout[unordered[g].out_net])
      if (--indegree[h] == 0) ready.push(h);
  }
  if (c.gates.size() != unordered.size())
    throw DtaError(nl.path + ": combinational loop (the timing simulator needs loop-free logic between flip-flops)");
  // Fanout in topological indices, so the simulator can wake only the gates
  // whose inputs moved.
  std::vector<std::vector<int>> readers(num_nets);
  for (size_t g = 0; g < c.gates.size(); ++g)
    for (int k = 0; k < c.gates[g].num_inputs; ++k) {
      auto& r = readers[c.gates[g].in_net[k]];
      if (r.empty() || r.back() != static_cast<int>(g)) r.push_back(static_cast<int>(g));
    }
  c.fanout_begin.assign(num_nets + 1, 0);
  for (int n = 0; n < num_nets; ++n) {
    c.fanout_begin[n + 1] = c.fanout_begin[n] + static_cast<int>(readers[n].size());
    c.fanout_gates.insert(c.fanout_gates.end(), readers[n].begin(), readers[n].end());
  }
  return c;
}

}  // namespace vosa::dta
