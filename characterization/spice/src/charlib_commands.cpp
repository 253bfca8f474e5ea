// `vosa charlib` (characterize cells at corners) and `vosa charlib-compare`
// (SPICE against the shipped liberty corners, entry by entry).
#include "vosa/charlib.hpp"
#include "vosa/charlib_commands.hpp"

#include "vosa/liberty.hpp"
#include "vosa/voltage_model.hpp"
#include "vosa/output_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

namespace vosa::spice {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<std::string> cells_of(const std::vector<std::string>& cells, const std::string& netlist) {
  if (!cells.empty() && !netlist.empty()) throw CharlibError("give --cells or --netlist, not both");
  if (!netlist.empty()) return netlist_cells(netlist);
  if (cells.empty()) throw CharlibError("no cells: give --cells A,B or --netlist <gate netlist>");
  return cells;
}

// What both subcommands simulate and how: the cells (a list or a netlist's),
// the ngspice workers, the grid and the cache.
struct SimulationOptions {
  std::string netlist, cache_dir;
  std::vector<std::string> cells, threshold_shift;
  std::string cell_calibration;
  bool uncalibrated = false, no_cell_calibration = false;
  int workers = 2, grid_points = 0;
  double diffusion_length_um = 0.0, output_wire_pf = 0.0;
};

void add_simulation_options(CLI::App* cmd, SimulationOptions& o) {
  cmd->add_option("--cells", o.cells, "cells (comma-separated)")->delimiter(',');
  cmd->add_option("--netlist", o.netlist, "gate netlist whose cells to use");
  cmd->add_option("-j,--workers", o.workers, "ngspice processes at once")->check(CLI::Range(1, 64));
  cmd->add_option("--grid-points", o.grid_points, "points per table axis (0: the full grid; tests use 2-3)")
      ->check(CLI::Range(0, 64));
  cmd->add_option("--cache-dir", o.cache_dir, "PDK cache (default: $VOSA_PDK_CACHE or build/pdk)");
  cmd->add_option("--threshold-shift", o.threshold_shift,
                  "MODEL=VOLTS,...: device threshold shifts (delvto) instead of the config's spice.threshold_shift")
      ->delimiter(',');
  cmd->add_flag("--uncalibrated", o.uncalibrated,
                "no threshold shifts (ignore spice.threshold_shift and spice.cell_calibration)");
  cmd->add_option("--cell-calibration", o.cell_calibration,
                  "per-cell threshold shifts (a charlib-calibrate --per-cell file) instead of spice.cell_calibration, "
                  "for corners of its process");
  cmd->add_flag("--no-cell-calibration", o.no_cell_calibration,
                "only the per-model spice.threshold_shift (ignore spice.cell_calibration)");
  cmd->add_option("--diffusion-length", o.diffusion_length_um,
                  "um: estimated drain/source areas (W x length) and perimeters for netlists without AD/AS/PD/PS")
      ->check(CLI::Range(0.0, 5.0));
  cmd->add_option("--output-wire-cap", o.output_wire_pf,
                  "pF on every output besides the table's load (output wiring the schematic netlist lacks)")
      ->check(CLI::Range(0.0, 0.1));
}

CharlibOptions charlib_options(const SimulationOptions& o) {
  CharlibOptions c;
  c.cells = cells_of(o.cells, o.netlist);
  c.cache_dir = o.cache_dir.empty() ? pdk::default_cache_dir() : fs::path(o.cache_dir);
  c.workers = o.workers;
  c.grid_points = o.grid_points;
  c.diffusion_length_um = o.diffusion_length_um;
  c.output_wire_pf = o.output_wire_pf;
  if (o.uncalibrated && !o.threshold_shift.empty()) throw CharlibError("give --threshold-shift or --uncalibrated, not both");
  if (int(o.uncalibrated) + int(o.no_cell_calibration) + int(!o.cell_calibration.empty()) > 1)
    throw CharlibError("give at most one of --uncalibrated, --no-cell-calibration, --cell-calibration");
  if (!o.cell_calibration.empty() && !o.threshold_shift.empty())
    throw CharlibError("give --threshold-shift or --cell-calibration, not both");
  if (o.uncalibrated) c.threshold_shift.emplace(), c.cell_threshold_shift.emplace();
  if (o.no_cell_calibration) c.cell_threshold_shift.emplace();
  if (!o.cell_calibration.empty()) {
    c.cell_calibration_file = o.cell_calibration;
    read_cell_calibration(c.cell_calibration_file);  // a bad file fails before any simulation
  }
  for (const auto& item : o.threshold_shift) {
    const size_t eq = item.find('=');
    double volts = 0.0;
    size_t used = 0;
    try {
      if (eq != std::string::npos) volts = std::stod(item.substr(eq + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (eq == std::string::npos || eq == 0 || used == 0 || used != item.size() - eq - 1 || std::abs(volts) > 0.3)
      throw CharlibError("--threshold-shift '" + item + "': expected MODEL=VOLTS with |VOLTS| <= 0.3");
    if (!c.threshold_shift) c.threshold_shift.emplace();
    (*c.threshold_shift)[item.substr(0, eq)] = volts;
  }
  return c;
}

// |relative error| statistics of one quantity.
struct ErrorStats {
  std::vector<double> errors;  // signed, spice/shipped - 1
  void add(double spice, double shipped) {
    if (shipped > 0 && spice > 0) errors.push_back(spice / shipped - 1.0);
  }
  json to_json() const {
    if (errors.empty()) return json{{"count", 0}};
    std::vector<double> a;
    double sum = 0;
    for (double e : errors) a.push_back(std::abs(e)), sum += e;
    std::sort(a.begin(), a.end());
    return json{{"count", a.size()},
                {"median_abs", a[a.size() / 2]},
                {"p90_abs", a[std::min(a.size() - 1, a.size() * 9 / 10)]},
                {"max_abs", a.back()},
                {"mean_signed", sum / static_cast<double>(a.size())}};
  }
};

bool is_constraint_table(const std::string& type) { return type.find("_constraint") != std::string::npos; }

// The shipped output internal power table of (output, related pin, rise_power|fall_power).
const liberty::Table* shipped_power(const liberty::Cell& cell, const std::string& output, const std::string& related,
                                    const std::string& type) {
  const liberty::Pin* pin = cell.find_pin(output);
  if (!pin) return nullptr;
  for (const auto& ip : pin->internal_power)
    if (ip.related_pin == related && !ip.one_table) {
      const auto& t = type == "rise_power" ? ip.rise_power : ip.fall_power;
      if (t && !t->index_2.empty()) return &*t;
    }
  return nullptr;
}

// (x1, x2) is a point of the table's own grid. Constraint tables are 3x3 and
// their grids differ between corners (ss_n40C_1v28: slews 0.01, 2.5, 5 against
// the ladder top's 0.01, 0.5, 1.5), where interpolating a shipped table would
// invent the reference: constraints are compared on shared grid points only.
bool on_grid(const liberty::Table& t, double x1, double x2) {
  auto has = [](const std::vector<double>& axis, double x) {
    for (double a : axis)
      if (std::abs(a - x) <= 1e-9 * std::max(1.0, std::abs(x))) return true;
    return false;
  };
  return has(t.index_1, x1) && (t.index_2.empty() || has(t.index_2, x2));
}

// Simulated setup/hold and output internal power against a shipped corner.
// Constraints: differences SPICE - shipped in library time units (values sit
// near zero, where relative errors mean nothing). Power: relative errors of
// the supply energy per edge (internal + the load's 1/2 C V^2, always
// positive), of internal power where both are positive, and of the internal
// energy per output cycle (rise + fall: the split between the two edges of
// the charge coupled through the input's gate capacitance is a convention).
struct FlopPowerStats {
  ErrorStats setup, hold, supply_energy, internal, per_cycle;
  json to_json() const {
    return {{"setup_minus_shipped", setup.to_json()}, {"hold_minus_shipped", hold.to_json()},
            {"supply_energy", supply_energy.to_json()}, {"internal_power", internal.to_json()},
            {"internal_power_per_cycle", per_cycle.to_json()}};
  }
};

void add_constraint_power_errors(const std::string& cell_name, const CellMeasurements& m, const liberty::Library& shipped,
                                 double volts, FlopPowerStats& st) {
  const liberty::Cell& sc = shipped.cell(cell_name);
  for (const auto& [tkey, values] : m.tables) {
    const size_t s1 = tkey.find('/'), s2 = tkey.rfind('/');
    const std::string type = tkey.substr(s2 + 1), key = tkey.substr(0, s2);
    if (!is_constraint_table(type)) continue;
    const liberty::TimingArc& arc = sc.find_pin(tkey.substr(0, s1))->timing.at(std::stoul(tkey.substr(s1 + 1, s2 - s1 - 1)));
    if (!arc.tables.count(type)) continue;
    ErrorStats& out = arc.timing_type.rfind("setup", 0) == 0 ? st.setup : st.hold;
    const auto& ax1 = m.axes_1.at(key);
    const auto& ax2 = m.axes_2.at(key);
    for (size_t r = 0; r < ax1.size(); ++r)
      for (size_t c = 0; c < ax2.size(); ++c)
        if (on_grid(arc.tables.at(type), ax1[r], ax2[c]))
          out.errors.push_back(values[r][c] - arc.tables.at(type).lookup(ax1[r], ax2[c]));
  }
  for (const auto& [power_key, arc_key] : m.energy_grid) {
    const size_t slash = power_key.find('/');
    const std::string output = power_key.substr(0, slash), related = power_key.substr(slash + 1);
    const liberty::Table* rise = shipped_power(sc, output, related, "rise_power");
    const liberty::Table* fall = shipped_power(sc, output, related, "fall_power");
    if (!rise || !fall) continue;
    const auto& er = m.supply_energy.at(power_key + "/rise_power");
    const auto& ef = m.supply_energy.at(power_key + "/fall_power");
    const auto& ax1 = m.axes_1.at(arc_key);
    const auto& ax2 = m.axes_2.at(arc_key);
    for (size_t r = 0; r < ax1.size(); ++r)
      for (size_t c = 0; c < ax2.size(); ++c) {
        const double half_cv2 = 0.5 * ax2[c] * volts * volts;
        const double sr = rise->lookup(ax1[r], ax2[c]), sf = fall->lookup(ax1[r], ax2[c]);
        st.supply_energy.add(er[r][c], sr + half_cv2);
        st.supply_energy.add(ef[r][c], sf + half_cv2);
        st.internal.add(internal_energy(er[r][c], ax2[c], volts), sr);
        st.internal.add(internal_energy(ef[r][c], ax2[c], volts), sf);
        st.per_cycle.add(er[r][c] + ef[r][c] - 2 * half_cv2, sr + sf);
      }
  }
}

// The spice-ratio predictions of setup/hold and output internal power at a
// ladder corner (from the top's shipped values, as the writer makes them)
// against the shipped values there: the same statistics as above.
void add_predicted_constraint_power_errors(const std::string& cell_name, const CellMeasurements& m,
                                           const CellMeasurements& m_top, const liberty::Library& top_lib,
                                           double v_top, const liberty::Library& shipped, double volts,
                                           FlopPowerStats& st) {
  const liberty::Cell& sc = shipped.cell(cell_name);
  const liberty::Cell& tc = top_lib.cell(cell_name);
  const double factor = clock_to_q_factor(tc, m_top);
  for (const auto& [tkey, values] : m.tables) {
    const size_t s1 = tkey.find('/'), s2 = tkey.rfind('/');
    const std::string type = tkey.substr(s2 + 1), key = tkey.substr(0, s2);
    if (!is_constraint_table(type)) continue;
    const std::string pin = tkey.substr(0, s1);
    const size_t a = std::stoul(tkey.substr(s1 + 1, s2 - s1 - 1));
    const liberty::TimingArc& sa = sc.find_pin(pin)->timing.at(a);
    const liberty::TimingArc& ta = tc.find_pin(pin)->timing.at(a);
    if (!sa.tables.count(type) || !ta.tables.count(type)) continue;
    const liberty::Table change = constraint_change_table(values, m_top.tables.at(tkey), m.axes_1.at(key), m.axes_2.at(key));
    const liberty::Table& tt = ta.tables.at(type);
    ErrorStats& out = sa.timing_type.rfind("setup", 0) == 0 ? st.setup : st.hold;
    for (size_t r = 0; r < tt.values.size(); ++r)
      for (size_t c = 0; c < tt.values[r].size(); ++c) {
        const double x1 = tt.index_1[r], x2 = tt.index_2.empty() ? 0.0 : tt.index_2[c];
        if (on_grid(sa.tables.at(type), x1, x2))
          out.errors.push_back(constraint_change_apply(change, tt.values[r][c], x1, x2, factor) - sa.tables.at(type).lookup(x1, x2));
      }
  }
  for (const auto& [power_key, arc_key] : m.energy_grid) {
    const size_t slash = power_key.find('/');
    const std::string output = power_key.substr(0, slash), related = power_key.substr(slash + 1);
    bool shipped_both = true;
    for (const char* type : {"rise_power", "fall_power"})
      shipped_both = shipped_both && shipped_power(tc, output, related, type) && shipped_power(sc, output, related, type);
    if (!shipped_both) continue;
    std::map<std::string, std::pair<const liberty::Table*, liberty::Table>> by_type;
    for (const char* type : {"rise_power", "fall_power"}) {
      const liberty::Table* top = shipped_power(tc, output, related, type);
      const liberty::Table* at_v = shipped_power(sc, output, related, type);
      const std::string k = power_key + "/" + type;
      const liberty::Table ratio = spice_ratio_table(m.supply_energy.at(k), m_top.supply_energy.at(k), m.axes_1.at(arc_key),
                                                     m.axes_2.at(arc_key), 0.0);
      liberty::Table predicted = *top;
      for (size_t r = 0; r < top->values.size(); ++r)
        for (size_t c = 0; c < top->values[r].size(); ++c) {
          const double x1 = top->index_1[r], x2 = top->index_2[c];
          const double supply = (top->values[r][c] + 0.5 * x2 * v_top * v_top) * spice_ratio_lookup(ratio, x1, x2);
          predicted.values[r][c] = internal_energy(supply, x2, volts);
          const double shipped_v = at_v->lookup(x1, x2);
          st.supply_energy.add(supply, shipped_v + 0.5 * x2 * volts * volts);
          st.internal.add(predicted.values[r][c], shipped_v);
        }
      by_type[type] = {at_v, predicted};
    }
    const liberty::Table& pr = by_type.at("rise_power").second;
    const liberty::Table& pf = by_type.at("fall_power").second;
    for (size_t r = 0; r < pr.values.size(); ++r)
      for (size_t c = 0; c < pr.values[r].size(); ++c) {
        const double x1 = pr.index_1[r], x2 = pr.index_2[c];
        st.per_cycle.add(pr.values[r][c] + pf.values[r][c],
                         by_type.at("rise_power").first->lookup(x1, x2) + by_type.at("fall_power").first->lookup(x1, x2));
      }
  }
}

// spice-ratio end to end at a ladder corner: the top's shipped tables times
// the SPICE ratio V/top (interpolated from the measured grid) against the
// shipped tables at V, at every entry of the top's grid.
void add_ratio_errors(const std::map<std::string, CellMeasurements>& spice,
                      const std::map<std::string, CellMeasurements>& spice_top, const liberty::Library& top_lib,
                      const liberty::Library& shipped, double offset, ErrorStats& delay, ErrorStats& transition,
                      std::map<std::string, ErrorStats>* by_table = nullptr, std::ostream* entries = nullptr,
                      const std::string& corner = "") {
  for (const auto& [cell_name, m] : spice)
    for (const auto& [tkey, values] : m.tables) {
      // "<pin>/<arc>/<type>"
      const size_t s1 = tkey.find('/'), s2 = tkey.rfind('/');
      const std::string pin = tkey.substr(0, s1), type = tkey.substr(s2 + 1), key = tkey.substr(0, s2);
      const size_t arc = std::stoul(tkey.substr(s1 + 1, s2 - s1 - 1));
      const liberty::TimingArc& sa = shipped.cell(cell_name).find_pin(pin)->timing.at(arc);
      const liberty::TimingArc& ta = top_lib.cell(cell_name).find_pin(pin)->timing.at(arc);
      if (!sa.tables.count(type) || !ta.tables.count(type) || is_constraint_table(type)) continue;
      const bool is_delay = type.rfind("cell_", 0) == 0;
      const double k = is_delay ? offset : 0.0;
      const liberty::Table r_table = spice_ratio_table(values, spice_top.at(cell_name).tables.at(tkey),
                                                       m.axes_1.at(key), m.axes_2.at(key), k);
      const liberty::Table& tt = ta.tables.at(type);
      for (size_t r = 0; r < tt.values.size(); ++r)
        for (size_t c = 0; c < tt.values[r].size(); ++c) {
          const double x1 = tt.index_1.empty() ? 0.0 : tt.index_1[r], x2 = tt.index_2.empty() ? 0.0 : tt.index_2[c];
          const double predicted = spice_ratio_apply(r_table, tt.values[r][c], x1, x2, k);
          const double at_v = sa.tables.at(type).lookup(x1, x2);
          (is_delay ? delay : transition).add(predicted, at_v);
          if (entries) {
            // One row per entry (--entries): where the ratio error sits.
            liberty::Table sv, st;
            sv.index_1 = st.index_1 = m.axes_1.at(key);
            sv.index_2 = st.index_2 = m.axes_2.at(key);
            sv.values = values;
            st.values = spice_top.at(cell_name).tables.at(tkey);
            *entries << corner << ',' << cell_name << ',' << pin << ',' << arc << ',' << type << ',' << x1 << ',' << x2
                     << ',' << (on_grid(sv, x1, x2) ? 1 : 0) << ',' << tt.values[r][c] << ',' << at_v << ','
                     << st.lookup(x1, x2) << ',' << sv.lookup(x1, x2) << ',' << predicted << ','
                     << (at_v > 0 && predicted > 0 ? predicted / at_v - 1.0 : std::nan("")) << '\n';
          }
          // cell_rise / rise_transition: the pull-up network; *_fall: the pull-down.
          if (by_table) (*by_table)[type].add(predicted, at_v);
        }
    }
}

// A difference statistic in library time units (ns) as picoseconds.
std::string ps(const json& s, const char* field) {
  if (!s.contains(field)) return "-";
  std::ostringstream o;
  o << std::fixed << std::setprecision(1) << 1000.0 * s.at(field).get<double>() << " ps";
  return o.str();
}

std::string pct(const json& s, const char* field) {
  if (!s.contains(field)) return "-";
  std::ostringstream o;
  o << std::fixed << std::setprecision(1) << 100.0 * s.at(field).get<double>() << " %";
  return o.str();
}

void add_compare_command(CLI::App& app) {
  struct Options {
    std::string pdk, top, out, entries;
    std::vector<std::string> corners, fallback;
    SimulationOptions sim;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "charlib-compare",
      "Characterize cells with ngspice at shipped corners and compare entry by entry with the shipped\n"
      "liberty: relative error of delay, transition, input capacitance, leakage and internal power, setup/hold\n"
      "differences; on the --top corner's ladder also the spice-ratio predictions: the voltage ratio\n"
      "delay(V)/delay(top) that overscaling depends on, setup/hold and internal power (docs/charlib.md).");
  cmd->add_option("-p,--pdk", opt->pdk, "PDK name or config file")->required();
  cmd->add_option("--corners", opt->corners, "shipped corners to compare (comma-separated)")->delimiter(',')->required();
  cmd->add_option("--top", opt->top, "ladder top for the ratio (its ladder's corners share its grid)")->required();
  cmd->add_option("-o,--out", opt->out, "report JSON (a .md beside it)")->required();
  cmd->add_option("--fallback-corners", opt->fallback,
                  "voltages off the top's ladder (ss_n40C_1v10): the alpha-power fallback against spice-ratio")
      ->delimiter(',');
  cmd->add_option("--entries", opt->entries,
                  "CSV of every spice-ratio entry (corner, cell, arc, slew, load, shipped, SPICE, predicted, error)");
  add_simulation_options(cmd, opt->sim);
  cmd->callback([opt]() {
    const pdk::PdkConfig p = pdk::load_pdk(opt->pdk);
    std::ostringstream entries;
    entries << "corner,cell,pin,arc,type,slew,load,measured,shipped_top,shipped_v,spice_top,spice_v,predicted,error\n";
    entries << std::setprecision(6);
    CharlibOptions base = charlib_options(opt->sim);
    const pdk::CornerRequest top = pdk::resolve_corner(p, opt->top);
    if (!top.characterized || top.ladder.empty()) throw CharlibError("--top " + opt->top + " is not a shipped ladder corner");
    const auto& ladder = p.ladder(top.ladder);

    // The ladder top, on its own grid, is every ratio's denominator.
    CharlibOptions on_top = base;
    on_top.reference_corner = opt->top;
    const auto spice_top = measure_cells(p, top, on_top);
    const liberty::Library top_lib = liberty::load_library(pdk::prepare_liberty(p, opt->top, base.cache_dir).string());
    const double offset = ramp_offset_per_slew(top_lib);

    json report = {{"pdk", p.name}, {"top", opt->top}, {"cells", base.cells}, {"grid_points", opt->sim.grid_points},
                   {"threshold_shift_" + top.process, threshold_shift_for(p, top.process, base)},
                   {"cell_threshold_shift_" + top.process, json::object()},
                   {"diffusion_length_um", base.diffusion_length_um},
                   {"output_wire_pf", base.output_wire_pf},
                   {"corners", json::array()}};
    // The per-cell shifts of the cells compared (a calibration file may name more).
    for (const auto& [cell, shifts] : cell_threshold_shift_for(p, top.process, base))
      if (std::find(base.cells.begin(), base.cells.end(), cell) != base.cells.end())
        report["cell_threshold_shift_" + top.process][cell] = shifts;
    ErrorStats ladder_ratio, ladder_ratio_trans, ladder_delay, ladder_setup, ladder_hold, ladder_power;
    for (const auto& name : opt->corners) {
      const pdk::CornerRequest req = pdk::resolve_corner(p, name);
      if (!req.characterized) throw CharlibError("corner " + name + " is not shipped: nothing to compare with");
      const bool on_ladder = std::find(ladder.begin(), ladder.end(), name) != ladder.end();
      CharlibOptions o = base;
      o.reference_corner = on_ladder ? opt->top : name;
      const auto spice = measure_cells(p, req, o);
      const liberty::Library shipped = liberty::load_library(pdk::prepare_liberty(p, name, base.cache_dir).string());
      const liberty::Library& grid_lib = on_ladder ? top_lib : shipped;
      ErrorStats delay, trans, cap, leak, ratio, ratio_trans;
      std::map<std::string, ErrorStats> ratio_by_table;
      FlopPowerStats flop_power, flop_power_ratio;
      if (on_ladder && name != opt->top) {
        add_ratio_errors(spice, spice_top, top_lib, shipped, offset, ratio, ratio_trans, &ratio_by_table,
                         opt->entries.empty() ? nullptr : &entries, name);
        for (const auto& [cell_name, m] : spice)
          add_predicted_constraint_power_errors(cell_name, m, spice_top.at(cell_name), top_lib, top.voltage, shipped,
                                                req.voltage, flop_power_ratio);
      }
      for (const auto& [cell_name, m] : spice) {
        add_constraint_power_errors(cell_name, m, shipped, req.voltage, flop_power);
        const liberty::Cell& sc = shipped.cell(cell_name);
        for (const auto& [tkey, values] : m.tables) {
          // "<pin>/<arc>/<type>"
          const size_t s1 = tkey.find('/'), s2 = tkey.rfind('/');
          const std::string pin = tkey.substr(0, s1), type = tkey.substr(s2 + 1), key = tkey.substr(0, s2);
          const size_t arc = std::stoul(tkey.substr(s1 + 1, s2 - s1 - 1));
          const liberty::TimingArc& sa = sc.find_pin(pin)->timing.at(arc);
          if (!sa.tables.count(type) || is_constraint_table(type)) continue;
          const bool is_delay = type.rfind("cell_", 0) == 0;
          const auto& ax1 = m.axes_1.at(key);
          const auto& ax2 = m.axes_2.at(key);
          for (size_t r = 0; r < ax1.size(); ++r)
            for (size_t c = 0; c < ax2.size(); ++c)
              (is_delay ? delay : trans).add(values[r][c], sa.tables.at(type).lookup(ax1[r], ax2[c]));
        }
        for (const auto& [pin, rc] : m.rise_capacitance) {
          const liberty::Group* pg = nullptr;
          for (const auto* g : shipped.root.groups_of_type("cell"))
            if (g->name() == cell_name) pg = g->find_group("pin", pin);
          if (!pg) continue;
          if (auto a = pg->find_attribute("rise_capacitance")) cap.add(rc, a->number());
          if (auto a = pg->find_attribute("fall_capacitance")) cap.add(m.fall_capacitance.at(pin), a->number());
        }
        // Leakage groups match by position in the cell.
        const liberty::Group *gcell = nullptr, *scell = nullptr;
        for (const auto* g : grid_lib.root.groups_of_type("cell"))
          if (g->name() == cell_name) gcell = g;
        for (const auto* g : shipped.root.groups_of_type("cell"))
          if (g->name() == cell_name) scell = g;
        const auto glk = gcell->groups_of_type("leakage_power"), slk = scell->groups_of_type("leakage_power");
        for (size_t i = 0; i < glk.size() && i < slk.size(); ++i) {
          auto it = m.leakage.find(glk[i]->line);
          if (it != m.leakage.end()) leak.add(it->second, slk[i]->find_attribute("value")->number());
        }
      }
      json c = {{"corner", name}, {"voltage", req.voltage}, {"process", req.process},
                {"temperature_c", req.temperature_c}, {"grid_from", o.reference_corner},
                {"delay", delay.to_json()}, {"transition", trans.to_json()}, {"input_capacitance", cap.to_json()},
                {"leakage", leak.to_json()}, {"constraints_and_power", flop_power.to_json()}};
      if (on_ladder && name != opt->top) {
        c["constraints_and_power_spice_ratio_vs_top"] = flop_power_ratio.to_json();
        for (double e : flop_power_ratio.setup.errors) ladder_setup.errors.push_back(e);
        for (double e : flop_power_ratio.hold.errors) ladder_hold.errors.push_back(e);
        for (double e : flop_power_ratio.per_cycle.errors) ladder_power.errors.push_back(e);
        c["delay_ratio_vs_top"] = ratio.to_json();
        c["transition_ratio_vs_top"] = ratio_trans.to_json();
        for (const auto& [type, stats] : ratio_by_table) c["ratio_vs_top_by_table"][type] = stats.to_json();
        for (double e : ratio.errors) ladder_ratio.errors.push_back(e);
        for (double e : ratio_trans.errors) ladder_ratio_trans.errors.push_back(e);
      }
      if (on_ladder)
        for (double e : delay.errors) ladder_delay.errors.push_back(e);
      report["corners"].push_back(c);
      std::cerr << "charlib-compare: " << name << " delay median " << pct(c["delay"], "median_abs") << "\n";
    }
    // The alpha-power fallback (fitted on the ladder, extrapolated) against
    // spice-ratio where no liberty exists: how far the old source is off.
    report["fallback"] = json::array();
    for (const auto& name : opt->fallback) {
      pdk::CornerRequest req = pdk::resolve_corner(p, name);
      if (req.characterized || req.ladder != top.ladder)
        throw CharlibError("--fallback-corners " + name + " must be an uncharacterized voltage on ladder " + top.ladder);
      CharlibOptions o = base;
      o.reference_corner = opt->top;
      const auto spice = measure_cells(p, req, o);
      req.delay_source = pdk::kSourceDerated;
      const fs::path alpha_path = base.cache_dir / p.name / "spice" / "fallback" / (name + ".alpha.lib");
      voltage::write_liberty_at_voltage(p, req, base.cache_dir, alpha_path);
      const liberty::Library alpha = liberty::load_library(alpha_path.string());
      ErrorStats diff;
      for (const auto& [cell_name, m] : spice)
        for (const auto& [tkey, values] : m.tables) {
          const size_t s1 = tkey.find('/'), s2 = tkey.rfind('/');
          const std::string pin = tkey.substr(0, s1), type = tkey.substr(s2 + 1), key = tkey.substr(0, s2);
          if (type.rfind("cell_", 0) != 0) continue;
          const size_t arc = std::stoul(tkey.substr(s1 + 1, s2 - s1 - 1));
          const liberty::Table& tt = top_lib.cell(cell_name).find_pin(pin)->timing.at(arc).tables.at(type);
          const liberty::Table& at = alpha.cell(cell_name).find_pin(pin)->timing.at(arc).tables.at(type);
          const liberty::Table r_table = spice_ratio_table(values, spice_top.at(cell_name).tables.at(tkey),
                                                           m.axes_1.at(key), m.axes_2.at(key), offset);
          for (size_t r = 0; r < tt.values.size(); ++r)
            for (size_t c = 0; c < tt.values[r].size(); ++c) {
              const double x1 = tt.index_1.empty() ? 0.0 : tt.index_1[r], x2 = tt.index_2.empty() ? 0.0 : tt.index_2[c];
              diff.add(at.lookup(x1, x2), spice_ratio_apply(r_table, tt.values[r][c], x1, x2, offset));
            }
        }
      report["fallback"].push_back({{"corner", name}, {"voltage", req.voltage},
                                    {"alpha_power_vs_spice_ratio_delay", diff.to_json()}});
    }
    report["ladder"] = {{"name", top.ladder},
                        {"delay_ratio_vs_top", ladder_ratio.to_json()},
                        {"transition_ratio_vs_top", ladder_ratio_trans.to_json()},
                        {"delay", ladder_delay.to_json()},
                        {"spice_ratio_setup_minus_shipped", ladder_setup.to_json()},
                        {"spice_ratio_hold_minus_shipped", ladder_hold.to_json()},
                        {"spice_ratio_internal_power_per_cycle", ladder_power.to_json()}};
    write_output_file(opt->out, report.dump(2) + "\n");
    if (!opt->entries.empty()) write_output_file(opt->entries, entries.str());

    std::ostringstream md;
    md << "# SPICE characterization against the shipped liberty (" << p.name << ")\n\n"
       << "Threshold shifts (" << top.process << "): " << report["threshold_shift_" + top.process].dump()
       << (report["cell_threshold_shift_" + top.process].empty()
               ? std::string()
               : "; per-cell calibration for " + std::to_string(report["cell_threshold_shift_" + top.process].size()) +
                     " cells (report.json: cell_threshold_shift_" + top.process + ")")
       << (opt->sim.diffusion_length_um > 0 ? "; diffusion length " + std::to_string(opt->sim.diffusion_length_um) + " um" : "")
       << (opt->sim.output_wire_pf > 0 ? "; output wire " + std::to_string(opt->sim.output_wire_pf) + " pF" : "")
       << ".\n"
       << "Cells: " << base.cells.size() << " (" << (opt->sim.netlist.empty() ? "--cells" : opt->sim.netlist) << "); grid: "
       << (opt->sim.grid_points ? std::to_string(opt->sim.grid_points) + " points per axis" : std::string("full")) << ".\n"
       << "Relative error = SPICE / shipped - 1, per table entry. Delay ratio error (ladder corners): the spice-ratio "
       << "prediction shipped(" << opt->top << ") x SPICE(V)/SPICE(" << opt->top
       << "), the ratio interpolated from the measured grid, / shipped(V) - 1, at every entry of " << opt->top
       << "'s grid.\n\n"
       << "| corner | delay median | delay max | delay mean (bias) | transition median | input cap median | leakage median | delay ratio median | delay ratio p90 | delay ratio max | ratio mean cell_rise / cell_fall |\n"
       << "|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& c : report["corners"]) {
      const json none = json::object();
      const json& r = c.contains("delay_ratio_vs_top") ? c["delay_ratio_vs_top"] : none;
      md << "| " << c["corner"].get<std::string>() << " | " << pct(c["delay"], "median_abs") << " | "
         << pct(c["delay"], "max_abs") << " | " << pct(c["delay"], "mean_signed") << " | "
         << pct(c["transition"], "median_abs") << " | " << pct(c["input_capacitance"], "median_abs") << " | "
         << pct(c["leakage"], "median_abs") << " | " << pct(r, "median_abs") << " | " << pct(r, "p90_abs") << " | "
         << pct(r, "max_abs") << " | ";
      if (c.contains("ratio_vs_top_by_table") && c["ratio_vs_top_by_table"].contains("cell_rise") &&
          c["ratio_vs_top_by_table"].contains("cell_fall"))
        md << pct(c["ratio_vs_top_by_table"]["cell_rise"], "mean_signed") << " / "
           << pct(c["ratio_vs_top_by_table"]["cell_fall"], "mean_signed");
      md << " |\n";
    }
    md << "\nFlip-flop setup/hold (SPICE - shipped, library time units as ps; simulated by bisection; on grid points both tables share) and output "
          "internal power (relative error of the internal energy per output cycle, rise + fall, and of the supply "
          "energy per edge); spice-ratio columns: the prediction from "
       << opt->top << " against the shipped value at V.\n\n"
       << "| corner | setup median / max | hold median / max | power per cycle median / max | supply energy median "
          "| spice-ratio setup median / max | spice-ratio hold median / max | spice-ratio power per cycle median / max |\n"
       << "|---|---|---|---|---|---|---|---|\n";
    for (const auto& c : report["corners"]) {
      const json& f = c["constraints_and_power"];
      const json none = json::object();
      const json& r = c.contains("constraints_and_power_spice_ratio_vs_top") ? c["constraints_and_power_spice_ratio_vs_top"] : none;
      auto pair = [](const std::string& a, const std::string& b) { return a == "-" ? std::string("") : a + " / " + b; };
      const json& rs = r.contains("setup_minus_shipped") ? r["setup_minus_shipped"] : none;
      const json& rh = r.contains("hold_minus_shipped") ? r["hold_minus_shipped"] : none;
      const json& rp = r.contains("internal_power_per_cycle") ? r["internal_power_per_cycle"] : none;
      md << "| " << c["corner"].get<std::string>() << " | "
         << pair(ps(f["setup_minus_shipped"], "median_abs"), ps(f["setup_minus_shipped"], "max_abs")) << " | "
         << pair(ps(f["hold_minus_shipped"], "median_abs"), ps(f["hold_minus_shipped"], "max_abs")) << " | "
         << pair(pct(f["internal_power_per_cycle"], "median_abs"), pct(f["internal_power_per_cycle"], "max_abs")) << " | "
         << pct(f["supply_energy"], "median_abs") << " | " << pair(ps(rs, "median_abs"), ps(rs, "max_abs")) << " | "
         << pair(ps(rh, "median_abs"), ps(rh, "max_abs")) << " | " << pair(pct(rp, "median_abs"), pct(rp, "max_abs"))
         << " |\n";
    }
    const json& lr = report["ladder"]["delay_ratio_vs_top"];
    md << "\nLadder " << top.ladder << ", all corners below the top: delay ratio error median "
       << pct(lr, "median_abs") << ", max " << pct(lr, "max_abs") << " (" << lr.value("count", 0)
       << " entries); transition ratio median " << pct(report["ladder"]["transition_ratio_vs_top"], "median_abs")
       << "; absolute delay median " << pct(report["ladder"]["delay"], "median_abs") << ".\n";
    for (const auto& f : report["fallback"]) {
      const json& d = f["alpha_power_vs_spice_ratio_delay"];
      md << "\nAlpha-power fallback at " << f["corner"].get<std::string>() << " (fitted on the ladder, extrapolated) "
         << "against spice-ratio, delays: median " << pct(d, "median_abs") << ", max " << pct(d, "max_abs")
         << ", mean " << pct(d, "mean_signed") << " (alpha-power / spice-ratio - 1).\n";
    }
    fs::path md_path = opt->out;
    md_path.replace_extension(".md");
    write_output_file(md_path, md.str());
    std::cout << md.str();
  });
}

// The calibration's objective for a set of cells: median |delay ratio error|
// + median |transition ratio error| of the spice-ratio prediction from the
// top over the calibration corners (every entry of the top's grid).
double ratio_objective(const std::vector<std::map<std::string, CellMeasurements>>& at_corners,
                       const std::map<std::string, CellMeasurements>& spice_top, const liberty::Library& top_lib,
                       const std::vector<const liberty::Library*>& shipped, double offset, json* delay_json = nullptr,
                       json* transition_json = nullptr) {
  ErrorStats delay, transition;
  for (size_t i = 0; i < at_corners.size(); ++i)
    add_ratio_errors(at_corners[i], spice_top, top_lib, *shipped[i], offset, delay, transition);
  const json d = delay.to_json(), t = transition.to_json();
  if (delay_json) *delay_json = d;
  if (transition_json) *transition_json = t;
  return d.value("median_abs", 1.0) + t.value("median_abs", 1.0);
}

// `charlib-calibrate --per-cell`: a coordinate descent per cell, every cell
// starting from the config's per-model shifts (or its entry in `start`). A
// step that improves is repeated in the same direction until it stops
// improving (a line search along that model's shift); a full sweep over the
// models without improvement moves to the next step; the fit has converged
// when a sweep at the smallest step finds nothing better (ShiftDescent). The
// cells advance together, one trial each per round, and every round's decks
// (every cell at the top and at the fit corners) go to one measure_cells_at
// pool, so both workers stay busy until the round's last deck.
void calibrate_per_cell(const pdk::PdkConfig& p, const CharlibOptions& base, const pdk::CornerRequest& top,
                        const liberty::Library& top_lib, double offset,
                        const std::vector<std::pair<pdk::CornerRequest, liberty::Library>>& corners,
                        const std::vector<std::string>& corner_names, const std::vector<std::string>& models,
                        const std::vector<double>& steps, int max_evaluations, int grid_points,
                        const fs::path& start_file, const fs::path& out) {
  using Shift = ShiftDescent::Shift;
  std::map<std::string, Shift> start;
  if (!start_file.empty()) {
    const CellCalibration s = read_cell_calibration(start_file);
    if (s.pdk != p.name || s.process != top.process)
      throw CharlibError("--start " + start_file.string() + " was fitted for PDK " + s.pdk + ", process " + s.process +
                         ", not " + p.name + ", " + top.process);
    start = s.shifts;
  }
  std::map<std::string, ShiftDescent> fits;
  const Shift global = threshold_shift_for(p, top.process, base);
  for (const auto& cell : base.cells) {
    Shift s = global;
    if (auto it = start.find(cell); it != start.end())
      for (const auto& [m, v] : it->second) s[m] = v;
    // "<model>@internal-gate" starts where its model starts, so that the
    // start is the per-model calibration (and the same decks).
    for (const auto& m : models)
      if (const auto at = m.find('@'); at != std::string::npos && s.count(m.substr(0, at)) && !s.count(m))
        s[m] = s.at(m.substr(0, at));
    fits.emplace(cell, ShiftDescent(s, models, steps, max_evaluations));
  }
  std::vector<const liberty::Library*> shipped;
  for (const auto& c : corners) shipped.push_back(&c.second);
  for (int round = 0;; ++round) {
    std::map<std::string, Shift> trials;
    for (auto& [cell, f] : fits)
      if (auto t = f.next()) trials[cell] = *t;
    if (trials.empty()) break;
    CharlibOptions o = base;
    o.cells.clear();
    for (const auto& [cell, t] : trials) o.cells.push_back(cell);
    o.cell_threshold_shift = trials;
    o.reference_corner = top.name;
    o.quiet = true;
    // The fit corners and the top in one pool of workers (the fit corners'
    // slower decks first), not one corner after the other.
    std::vector<pdk::CornerRequest> requests;
    for (const auto& c : corners) requests.push_back(c.first);
    requests.push_back(top);
    std::vector<std::map<std::string, CellMeasurements>> at_corners = measure_cells_at(p, requests, o);
    const auto spice_top = std::move(at_corners.back());
    at_corners.pop_back();
    for (const auto& [cell, t] : trials) {
      std::vector<std::map<std::string, CellMeasurements>> mine;
      for (const auto& m : at_corners) mine.push_back({{cell, m.at(cell)}});
      json d, tr;
      const double value = ratio_objective(mine, {{cell, spice_top.at(cell)}}, top_lib, shipped, offset, &d, &tr);
      ShiftDescent& f = fits.at(cell);
      f.result(t, value);
      std::cerr << "charlib-calibrate --per-cell: round " << round << ", " << cell << ":";
      for (const auto& [model, v] : t) std::cerr << " " << model << "=" << v;
      std::cerr << ": delay ratio median " << pct(d, "median_abs") << ", transition " << pct(tr, "median_abs")
                << (f.best() == t ? " (best)" : "") << "\n";
    }
  }
  CellCalibration c;
  c.pdk = p.name;
  c.process = top.process;
  c.top = top.name;
  c.corners = corner_names;
  c.models = models;
  c.grid_points = grid_points;
  for (const auto& [cell, f] : fits) {
    c.shifts[cell] = f.best();
    c.objective_start[cell] = f.start_value();
    c.objective[cell] = f.best_value();
    c.evaluations[cell] = f.evaluations();
    c.converged[cell] = f.converged();
    std::cout << "charlib-calibrate --per-cell: " << cell << " " << json(f.best()).dump()
              << " (delay + transition ratio median " << std::fixed << std::setprecision(1) << 100.0 * f.start_value()
              << " % -> " << 100.0 * f.best_value() << " %, " << f.evaluations() << " evaluations, "
              << (f.converged() ? "converged" : "not converged: stopped at --max-evaluations") << ")\n";
  }
  write_cell_calibration(c, out);
  std::cout << "charlib-calibrate --per-cell: " << c.shifts.size() << " cells -> " << out.string() << "\n";
}

// `vosa charlib-calibrate`: per-device threshold shifts (delvto) that make
// the SPICE voltage ratio match a shipped ladder at calibration corners, by
// coordinate descent over each model's shift (steps 40, 20, 10 mV).
void add_calibrate_command(CLI::App& app) {
  struct Options {
    std::string pdk, top, out;
    std::vector<std::string> corners, models;
    std::vector<double> steps{0.04, 0.02, 0.01};
    bool per_cell = false;
    int max_evaluations = 0;
    std::string start;
    SimulationOptions sim;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "charlib-calibrate",
      "Fit per-device threshold shifts (ngspice delvto) so that SPICE's delay ratio delay(V)/delay(top)\n"
      "matches the shipped ladder at the --corners; prints and writes the spice.threshold_shift entry for\n"
      "the PDK config. Validate on corners held out of the fit with charlib-compare (docs/charlib.md).");
  cmd->add_option("-p,--pdk", opt->pdk, "PDK name or config file")->required();
  cmd->add_option("--corners", opt->corners, "calibration corners on the top's ladder (comma-separated)")
      ->delimiter(',')
      ->required();
  cmd->add_option("--top", opt->top, "ladder top, the ratio's denominator")->required();
  cmd->add_option("--models", opt->models, "device models to shift (comma-separated)")->delimiter(',')->required();
  cmd->add_option("-o,--out", opt->out, "result JSON (--per-cell: the per-cell calibration file)")->required();
  cmd->add_flag("--per-cell", opt->per_cell,
                "fit each cell's own shifts, starting from the config's spice.threshold_shift, and write a per-cell "
                "calibration file (spice.cell_calibration, --cell-calibration)");
  cmd->add_option("--steps", opt->steps, "coordinate-descent steps in V (comma-separated, largest first)")
      ->delimiter(',')
      ->check(CLI::Range(0.001, 0.3));
  cmd->add_option("--max-evaluations", opt->max_evaluations,
                  "evaluations per fit (per cell with --per-cell; 0: until the smallest step stops improving)")
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--start", opt->start,
                  "--per-cell: start each cell the file names from its shifts there (e.g. to continue a fit that "
                  "stopped at --max-evaluations); other cells start from the per-model shifts");
  add_simulation_options(cmd, opt->sim);
  cmd->callback([opt]() {
    if (!opt->start.empty() && !opt->per_cell) throw CharlibError("--start applies to --per-cell only");
    if (opt->sim.uncalibrated || !opt->sim.threshold_shift.empty() || !opt->sim.cell_calibration.empty() ||
        opt->sim.no_cell_calibration)
      throw CharlibError("charlib-calibrate fits the threshold shifts: --threshold-shift, --uncalibrated, "
                         "--cell-calibration and --no-cell-calibration do not apply");
    const pdk::PdkConfig p = pdk::load_pdk(opt->pdk);
    CharlibOptions base = charlib_options(opt->sim);
    const pdk::CornerRequest top = pdk::resolve_corner(p, opt->top);
    if (!top.characterized || top.ladder.empty()) throw CharlibError("--top " + opt->top + " is not a shipped ladder corner");
    const auto& ladder = p.ladder(top.ladder);
    const liberty::Library top_lib = liberty::load_library(pdk::prepare_liberty(p, opt->top, base.cache_dir).string());
    const double offset = ramp_offset_per_slew(top_lib);
    std::vector<std::pair<pdk::CornerRequest, liberty::Library>> corners;
    for (const auto& name : opt->corners) {
      if (name == opt->top || std::find(ladder.begin(), ladder.end(), name) == ladder.end())
        throw CharlibError("--corners " + name + " is not a corner below the top on ladder " + top.ladder);
      corners.emplace_back(pdk::resolve_corner(p, name),
                           liberty::load_library(pdk::prepare_liberty(p, name, base.cache_dir).string()));
    }
    if (opt->per_cell) {
      calibrate_per_cell(p, base, top, top_lib, offset, corners, opt->corners, opt->models, opt->steps,
                         opt->max_evaluations, opt->sim.grid_points, opt->start, opt->out);
      return;
    }
    json evaluations = json::array();
    std::map<std::map<std::string, double>, double> seen;
    // Objective: median |delay ratio error| + median |transition ratio error|.
    auto objective = [&](const std::map<std::string, double>& shift) {
      if (auto it = seen.find(shift); it != seen.end()) return it->second;
      CharlibOptions o = base;
      o.threshold_shift = shift;
      o.reference_corner = opt->top;
      o.quiet = true;
      const auto spice_top = measure_cells(p, top, o);
      std::vector<std::map<std::string, CellMeasurements>> at_corners;
      std::vector<const liberty::Library*> shipped;
      for (const auto& [req, lib] : corners) at_corners.push_back(measure_cells(p, req, o)), shipped.push_back(&lib);
      json d, t;
      const double f = ratio_objective(at_corners, spice_top, top_lib, shipped, offset, &d, &t);
      evaluations.push_back({{"threshold_shift", shift}, {"delay_ratio", d}, {"transition_ratio", t}, {"objective", f}});
      std::cerr << "charlib-calibrate:";
      for (const auto& [model, v] : shift) std::cerr << " " << model << "=" << v;
      std::cerr << ": delay ratio median " << pct(d, "median_abs") << ", transition ratio median "
                << pct(t, "median_abs") << "\n";
      return seen[shift] = f;
    };
    std::map<std::string, double> best;
    for (const auto& model : opt->models) best[model] = 0.0;
    double best_f = objective(best);
    for (double step : opt->steps) {
      for (bool improved = true; improved;) {
        improved = false;
        for (const auto& model : opt->models)
          for (double dir : {1.0, -1.0}) {
            if (opt->max_evaluations > 0 && static_cast<int>(evaluations.size()) >= opt->max_evaluations) break;
            std::map<std::string, double> trial = best;
            trial[model] = std::round((trial[model] + dir * step) * 1000.0) / 1000.0;
            if (std::abs(trial[model]) > 0.3) continue;
            const double f = objective(trial);
            if (f < best_f - 1e-6) best_f = f, best = trial, improved = true;
          }
      }
    }
    const json result = {{"pdk", p.name}, {"process", top.process}, {"top", opt->top}, {"corners", opt->corners},
                         {"cells", base.cells}, {"grid_points", opt->sim.grid_points},
                         {"threshold_shift", best}, {"objective", best_f}, {"evaluations", evaluations}};
    write_output_file(opt->out, result.dump(2) + "\n");
    std::cout << "charlib-calibrate: spice.threshold_shift." << top.process << " = " << json(best).dump()
              << " (delay + transition ratio median " << std::fixed << std::setprecision(1) << 100.0 * best_f
              << " %, " << evaluations.size() << " evaluations) -> " << opt->out << "\n";
  });
}

// `vosa charlib-merge-calibration`: several per-cell calibration files (fits
// of different cell sets) into one, for spice.cell_calibration.
void add_merge_calibration_command(CLI::App& app) {
  struct Options {
    std::vector<std::string> files, cells;
    std::string out;
    bool replace = false;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "charlib-merge-calibration",
      "Merge per-cell calibration files (charlib-calibrate --per-cell) into one. The files must have the same\n"
      "pdk, process, top, corners and grid_points; a cell with different shifts in two files is an error\n"
      "unless --replace (the later file wins). Nothing is written on an error (docs/charlib.md).");
  cmd->add_option("files", opt->files, "per-cell calibration files, in order")->required();
  cmd->add_option("-o,--out", opt->out, "merged per-cell calibration file")->required();
  cmd->add_option("--cells", opt->cells, "take only these cells from the files (comma-separated)")->delimiter(',');
  cmd->add_flag("--replace", opt->replace, "a cell in several files takes the last file's shifts");
  cmd->callback([opt]() {
    std::vector<fs::path> files(opt->files.begin(), opt->files.end());
    const CellCalibration c = merge_cell_calibrations(files, opt->cells, opt->replace);
    write_cell_calibration(c, opt->out);
    std::cout << "charlib-merge-calibration: " << c.shifts.size() << " cells from " << files.size() << " files -> "
              << opt->out << "\n";
  });
}

}  // namespace

void add_charlib_commands(CLI::App& app) {
  struct Options {
    std::string pdk, out_dir, delay_source = pdk::kSourceSpice, reference;
    std::vector<std::string> corners;
    SimulationOptions sim;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "charlib",
      "Characterize standard cells with ngspice at any process corner, temperature and supply the PDK's\n"
      "SPICE models cover (corner names like tt_025C_1v10, ss_n40C_0v95, ff_100C_1v50): NLDM delay and\n"
      "transition tables on the shipped liberty's grid, input capacitance, leakage, output internal power,\n"
      "flip-flop clock-to-Q, setup and hold (bisection, 10 % clock-to-Q pushout).\n"
      "Writes <out-dir>/<corner>.lib (only those cells) and <corner>.json (run statistics). See docs/charlib.md.");
  cmd->add_option("-p,--pdk", opt->pdk, "PDK name or config file (needs a 'spice' field)")->required();
  cmd->add_option("-c,--corners", opt->corners, "corners (comma-separated)")->delimiter(',')->required();
  cmd->add_option("-o,--out-dir", opt->out_dir, "output folder")->required();
  cmd->add_option("--delay-source", opt->delay_source,
                  "spice: SPICE values; spice-ratio: nearest shipped corner x SPICE ratio")
      ->check(CLI::IsMember({pdk::kSourceSpice, pdk::kSourceSpiceRatio}));
  cmd->add_option("--reference-corner", opt->reference,
                  "shipped corner whose structure and grid to copy (default: nearest of the same process)");
  add_simulation_options(cmd, opt->sim);
  cmd->callback([opt]() {
    const pdk::PdkConfig p = pdk::load_pdk(opt->pdk);
    CharlibOptions o = charlib_options(opt->sim);
    o.reference_corner = opt->reference;
    for (const auto& corner : opt->corners) {
      const pdk::CornerRequest req = pdk::resolve_corner(p, corner);
      const fs::path lib = fs::path(opt->out_dir) / (corner + ".lib");
      const CharlibResult r = characterize(p, req, o, opt->delay_source, lib);
      json summary = {{"pdk", p.name},
                      {"corner", corner},
                      {"process", req.process},
                      {"temperature_c", req.temperature_c},
                      {"voltage", req.voltage},
                      {"delay_source", r.delay_source},
                      {"reference_corner", r.reference_corner},
                      {"threshold_shift", r.threshold_shift},
                      {"cell_threshold_shift", r.cell_threshold_shift},
                      {"diffusion_length_um", o.diffusion_length_um},
                      {"output_wire_pf", o.output_wire_pf},
                      {"cells", o.cells},
                      {"grid_points", o.grid_points},
                      {"simulations", r.simulations},
                      {"cached_cells", r.cached_cells},
                      {"workers", o.workers},
                      {"seconds", r.seconds},
                      {"liberty", lib.string()}};
      write_output_file(fs::path(opt->out_dir) / (corner + ".json"), summary.dump(2) + "\n");
      std::cout << "charlib: " << lib.string() << " (" << o.cells.size() << " cells, " << r.simulations
                << " simulations, " << r.cached_cells << " cells cached, " << std::fixed << std::setprecision(1)
                << r.seconds << " s, delay_source " << r.delay_source << ", reference " << r.reference_corner << ")\n";
    }
  });
  add_compare_command(app);
  add_calibrate_command(app);
  add_merge_calibration_command(app);
}

}  // namespace vosa::spice
