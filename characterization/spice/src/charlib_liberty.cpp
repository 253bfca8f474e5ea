// The liberty file of a SPICE characterization: the reference corner's text
// for the characterized cells, with the measured numbers written over it.
//   spice:       tables, capacitances and leakage are the SPICE values.
//   spice-ratio: the reference's shipped values times SPICE(corner) /
//                SPICE(reference), entry by entry (layout parasitics and model
//                differences the schematic netlists miss cancel in the ratio).
// Setup/hold of a flop's data pin and outputs' internal power are simulated
// too. Tables SPICE does not measure (recovery/removal, pulse widths, reset
// arcs, input pins' internal power) are the reference's, scaled: timing by
// the cell's median SPICE delay ratio (corner / reference), power by
// (V / V_reference)^2; the banner says so.
#include "vosa/charlib.hpp"

#include "vosa/hash.hpp"
#include "vosa/liberty.hpp"
#include "vosa/liberty_edit.hpp"
#include "vosa/output_file.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

namespace vosa::spice {
namespace fs = std::filesystem;

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 1.0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// Character range [begin, end) of the top-level group starting on `line`
// (1-based) of `text`, through its closing brace and newline.
std::pair<size_t, size_t> group_range(const std::string& text, const std::vector<size_t>& line_start, int line) {
  const size_t begin = line_start.at(static_cast<size_t>(line - 1));
  size_t pos = text.find('{', begin);
  int depth = 0;
  for (; pos < text.size(); ++pos) {
    if (text[pos] == '{') ++depth;
    if (text[pos] == '}' && --depth == 0) break;
  }
  if (pos >= text.size()) throw CharlibError("unbalanced braces in the group on line " + std::to_string(line));
  size_t end = text.find('\n', pos);
  return {begin, end == std::string::npos ? text.size() : end + 1};
}

std::string number_list(const std::vector<double>& v) {
  std::string s = "\"";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + voltage::format_number(v[i]);
  return s + "\"";
}

}  // namespace

liberty::Table spice_ratio_table(const std::vector<std::vector<double>>& values,
                                 const std::vector<std::vector<double>>& ref_values, const std::vector<double>& axis_1,
                                 const std::vector<double>& axis_2, double offset_per_slew,
                                 std::vector<double>* valid_ratios) {
  liberty::Table t;
  t.index_1 = axis_1;
  t.index_2 = axis_2;
  t.values = values;
  std::vector<double> valid;
  for (size_t r = 0; r < values.size(); ++r)
    for (size_t c = 0; c < values[r].size(); ++c) {
      const double k = offset_per_slew * axis_1.at(r);
      const double v = values[r][c] + k, vr = ref_values.at(r).at(c) + k;
      t.values[r][c] = v > 0 && vr > 0 ? v / vr : std::nan("");
      if (v > 0 && vr > 0) valid.push_back(v / vr);
    }
  const double fill = median(valid);
  for (auto& row : t.values)
    for (double& x : row)
      if (std::isnan(x)) x = fill;
  if (valid_ratios) *valid_ratios = valid;
  return t;
}

liberty::Table constraint_change_table(const std::vector<std::vector<double>>& values,
                                       const std::vector<std::vector<double>>& ref_values,
                                       const std::vector<double>& axis_1, const std::vector<double>& axis_2) {
  liberty::Table t;
  t.index_1 = axis_1;
  t.index_2 = axis_2;
  t.values = values;
  for (size_t r = 0; r < values.size(); ++r)
    for (size_t c = 0; c < values[r].size(); ++c) t.values[r][c] = values[r][c] - ref_values.at(r).at(c);
  return t;
}

double constraint_change_apply(const liberty::Table& change, double shipped, double x1, double x2, double factor) {
  return shipped + factor * change.lookup(x1, x2);
}

double clock_to_q_factor(const liberty::Cell& shipped, const CellMeasurements& at_reference) {
  std::vector<double> ratios;
  for (const auto& [tkey, values] : at_reference.tables) {
    const size_t s1 = tkey.find('/'), s2 = tkey.rfind('/');
    const std::string type = tkey.substr(s2 + 1), key = tkey.substr(0, s2);
    if (type != "cell_rise" && type != "cell_fall") continue;
    const liberty::Pin* pin = shipped.find_pin(tkey.substr(0, s1));
    const liberty::TimingArc& arc = pin->timing.at(std::stoul(tkey.substr(s1 + 1, s2 - s1 - 1)));
    if (arc.timing_type != "rising_edge" || !arc.tables.count(type)) continue;
    const auto& ax1 = at_reference.axes_1.at(key);
    const auto& ax2 = at_reference.axes_2.at(key);
    for (size_t r = 0; r < ax1.size(); ++r)
      for (size_t c = 0; c < ax2.size(); ++c)
        if (values[r][c] > 0) ratios.push_back(arc.tables.at(type).lookup(ax1[r], ax2[c]) / values[r][c]);
  }
  return median(ratios);
}

double spice_ratio_lookup(const liberty::Table& ratio, double x1, double x2) {
  auto positive = [](const std::vector<double>& axis) {
    return !axis.empty() && std::all_of(axis.begin(), axis.end(), [](double x) { return x > 0; });
  };
  const bool log_1 = positive(ratio.index_1) && x1 > 0, log_2 = positive(ratio.index_2) && x2 > 0;
  if (!log_1 && !log_2) return ratio.lookup(x1, x2);
  liberty::Table in_log = ratio;
  auto to_log = [](std::vector<double>& axis) {
    for (double& x : axis) x = std::log(x);
  };
  if (log_1) to_log(in_log.index_1), x1 = std::log(x1);
  if (log_2) to_log(in_log.index_2), x2 = std::log(x2);
  return in_log.lookup(x1, x2);
}

double spice_ratio_apply(const liberty::Table& ratio, double shipped, double x1, double x2, double offset_per_slew) {
  const double k = offset_per_slew * x1;
  return (shipped + k) * spice_ratio_lookup(ratio, x1, x2) - k;
}

// The banner's line on the calibration the simulations used (docs/charlib.md).
std::string calibration_note(const std::map<std::string, double>& shift,
                             const std::map<std::string, std::map<std::string, double>>& per_cell,
                             double diffusion_length_um, double output_wire_pf) {
  std::string note;
  if (!shift.empty()) {
    note = "\n   Calibrated (spice.threshold_shift): device thresholds shifted by";
    for (const auto& [model, volts] : shift) note += " " + model + " " + voltage::format_number(volts) + " V";
    note += ".";
  }
  if (!per_cell.empty()) {
    note += "\n   Per-cell calibration (spice.cell_calibration or --cell-calibration), these cells instead:";
    for (const auto& [cell, shifts] : per_cell) {
      note += "\n     " + cell + ":";
      for (const auto& [model, volts] : shifts) note += " " + model + " " + voltage::format_number(volts) + " V";
    }
  }
  if (diffusion_length_um > 0)
    note += "\n   Drain/source areas estimated from a " + voltage::format_number(diffusion_length_um) +
            " um diffusion beside each gate.";
  if (output_wire_pf > 0)
    note += "\n   Every output carries " + voltage::format_number(output_wire_pf) + " pF of wiring besides its load.";
  return note;
}

CharlibResult characterize(const pdk::PdkConfig& pdk, const pdk::CornerRequest& request,
                           const CharlibOptions& options, const std::string& delay_source, const fs::path& out) {
  const auto t0 = std::chrono::steady_clock::now();
  if (delay_source != pdk::kSourceSpice && delay_source != pdk::kSourceSpiceRatio)
    throw CharlibError("delay source '" + delay_source + "': allowed spice, spice-ratio");
  CharlibResult result;
  result.corner = request.name;
  result.delay_source = delay_source;
  CharlibOptions opt = options;
  std::sort(opt.cells.begin(), opt.cells.end());
  opt.cells.erase(std::unique(opt.cells.begin(), opt.cells.end()), opt.cells.end());
  const std::string ref_name = opt.reference_corner.empty() ? reference_corner_for(pdk, request) : opt.reference_corner;
  opt.reference_corner = ref_name;
  result.reference_corner = ref_name;
  if (pdk.spice) {
    result.threshold_shift = threshold_shift_for(pdk, request.process, opt);
    // Only the cells characterized here, and read once for both corners.
    for (const auto& [cell, shifts] : cell_threshold_shift_for(pdk, request.process, opt))
      if (std::binary_search(opt.cells.begin(), opt.cells.end(), cell)) result.cell_threshold_shift[cell] = shifts;
    opt.cell_threshold_shift = result.cell_threshold_shift;
  }
  const pdk::Corner& ref_corner = pdk.corner(ref_name);
  const bool ratio = delay_source == pdk::kSourceSpiceRatio;
  if (ratio && (ref_corner.process != request.process || std::abs(ref_corner.temperature_c - request.temperature_c) > 1e-9))
    throw CharlibError("spice-ratio needs a shipped corner of process " + request.process + " at " +
                       voltage::format_number(request.temperature_c) + " C; the nearest is " + ref_name);

  int sims = 0, ref_sims = 0;
  result.cells = measure_cells(pdk, request, opt, &sims);
  std::map<std::string, CellMeasurements> at_ref;
  if (ratio) at_ref = measure_cells(pdk, pdk::resolve_corner(pdk, ref_name), opt, &ref_sims);
  result.simulations = sims + ref_sims;
  for (const auto& [n, m] : result.cells) result.cached_cells += m.cached;

  const fs::path ref_path = pdk::prepare_liberty(pdk, ref_name, opt.cache_dir);
  const liberty::Library ref = liberty::load_library(ref_path.string());
  const std::string text = liberty::read_maybe_gzipped(ref_path.string());
  std::vector<size_t> line_start{0};
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') line_start.push_back(i + 1);

  const double power_scale = std::pow(request.voltage / ref_corner.voltage, 2);
  const double offset = ramp_offset_per_slew(ref);
  std::string cells_text;
  size_t first_cell = std::string::npos, last_cell_end = 0;
  for (const auto* cg : ref.root.groups_of_type("cell")) {
    const auto range = group_range(text, line_start, cg->line);
    first_cell = std::min(first_cell, range.first);
    last_cell_end = std::max(last_cell_end, range.second);
    auto found = result.cells.find(cg->name());
    if (found == result.cells.end()) continue;
    const CellMeasurements& m = found->second;
    const CellMeasurements* mr = ratio ? &at_ref.at(cg->name()) : nullptr;
    const liberty::Cell& cell = ref.cell(cg->name());
    std::vector<voltage::Edit> edits;
    auto value_of = [&](double measured, double measured_ref, double shipped) {
      if (!ratio) return measured;
      return measured_ref > 0 && measured > 0 ? shipped * measured / measured_ref : shipped;
    };

    const double flop_factor = mr ? clock_to_q_factor(cell, *mr) : 1.0;
    // Timing tables; the cell's median delay ratio scales the rest.
    std::vector<double> delay_ratios;
    struct Pending { const liberty::Group* table; bool power; };
    std::vector<Pending> scaled;
    for (const liberty::Group& pg : cg->groups) {
      if (pg.type != "pin") continue;
      const liberty::Pin* pin = cell.find_pin(pg.name());
      const auto timings = pg.groups_of_type("timing");
      for (size_t a = 0; a < timings.size(); ++a) {
        const std::string key = pg.name() + "/" + std::to_string(a);
        const bool measured = m.axes_1.count(key) > 0;
        for (const liberty::Group& tg : timings[a]->groups) {
          const liberty::Attribute* values = tg.find_attribute("values");
          if (!values) continue;
          const auto tk = m.tables.find(key + "/" + tg.type);
          if (!measured || tk == m.tables.end()) {
            scaled.push_back({&tg, false});
            continue;
          }
          const liberty::Table& shipped = pin->timing.at(a).tables.at(tg.type);
          const auto& ax1 = m.axes_1.at(key);
          const auto& ax2 = m.axes_2.at(key);
          const bool constraint = tg.type.find("_constraint") != std::string::npos;
          if (ratio && constraint) {
            const liberty::Table change = constraint_change_table(tk->second, mr->tables.at(key + "/" + tg.type), ax1, ax2);
            std::vector<std::vector<double>> rows = shipped.values;
            for (size_t r = 0; r < rows.size(); ++r)
              for (size_t c = 0; c < rows[r].size(); ++c)
                rows[r][c] = constraint_change_apply(change, rows[r][c], shipped.index_1.empty() ? 0.0 : shipped.index_1[r],
                                                     shipped.index_2.empty() ? 0.0 : shipped.index_2[c], flop_factor);
            edits.push_back({values->line, "values", voltage::format_values(rows)});
            continue;
          }
          if (ratio) {
            // The SPICE ratio on the measured grid, interpolated onto the
            // shipped grid (the ratio is smooth where the tables are not).
            std::vector<double> valid;
            const double k = tg.type.rfind("cell_", 0) == 0 ? offset : 0.0;
            const liberty::Table r_table =
                spice_ratio_table(tk->second, mr->tables.at(key + "/" + tg.type), ax1, ax2, k, &valid);
            if (k > 0) delay_ratios.insert(delay_ratios.end(), valid.begin(), valid.end());
            std::vector<std::vector<double>> rows = shipped.values;
            for (size_t r = 0; r < rows.size(); ++r)
              for (size_t c = 0; c < rows[r].size(); ++c)
                rows[r][c] = spice_ratio_apply(r_table, rows[r][c], shipped.index_1.empty() ? 0.0 : shipped.index_1[r],
                                               shipped.index_2.empty() ? 0.0 : shipped.index_2[c], k);
            edits.push_back({values->line, "values", voltage::format_values(rows)});
            continue;
          }
          std::vector<std::vector<double>> rows(ax1.size(), std::vector<double>(ax2.size()));
          for (size_t r = 0; r < ax1.size(); ++r)
            for (size_t c = 0; c < ax2.size(); ++c) {
              const double v = tk->second[r][c];
              const double s = shipped.lookup(ax1[r], ax2[c]);
              rows[r][c] = v;
              if (s > 0 && v > 0 && tg.type.rfind("cell_", 0) == 0) delay_ratios.push_back(v / s);
            }
          edits.push_back({values->line, "values", voltage::format_values(rows)});
          if (ax1.size() != shipped.index_1.size() || ax2.size() != std::max<size_t>(1, shipped.index_2.size())) {
            if (const auto* i1 = tg.find_attribute("index_1")) edits.push_back({i1->line, "index_1", "index_1 (" + number_list(ax1) + ");"});
            if (const auto* i2 = tg.find_attribute("index_2")) edits.push_back({i2->line, "index_2", "index_2 (" + number_list(ax2) + ");"});
          }
        }
      }
      for (const auto* ip : pg.groups_of_type("internal_power")) {
        const auto related = ip->attribute_value("related_pin");
        const auto grid = related ? m.energy_grid.find(pg.name() + "/" + *related) : m.energy_grid.end();
        for (const liberty::Group& t : ip->groups) {
          const liberty::Attribute* values = t.find_attribute("values");
          if (!values) continue;
          const auto e = grid == m.energy_grid.end() ? m.supply_energy.end()
                                                     : m.supply_energy.find(grid->first + "/" + t.type);
          const liberty::Table* shipped = nullptr;
          for (const auto& ipw : pin->internal_power)
            if (ipw.line == ip->line) {
              const auto& table = t.type == "rise_power" ? ipw.rise_power : ipw.fall_power;
              if (table && !ipw.one_table) shipped = &*table;
            }
          // Simulated: an output's power over (input slew, load) with its
          // related pin's arc measured; the rest (input pins' own power,
          // reset arcs) stays scaled.
          if (e == m.supply_energy.end() || !shipped || shipped->index_2.empty()) {
            scaled.push_back({&t, true});
            continue;
          }
          const auto& ax1 = m.axes_1.at(grid->second);
          const auto& ax2 = m.axes_2.at(grid->second);
          if (ratio) {
            // The supply energy's ratio (always positive), applied to the
            // shipped supply energy: internal + the load's 1/2 C V^2.
            const liberty::Table r_table =
                spice_ratio_table(e->second, mr->supply_energy.at(e->first), ax1, ax2, 0.0);
            std::vector<std::vector<double>> rows = shipped->values;
            for (size_t r = 0; r < rows.size(); ++r)
              for (size_t c = 0; c < rows[r].size(); ++c) {
                const double x1 = shipped->index_1[r], x2 = shipped->index_2[c];
                const double supply_ref = rows[r][c] + 0.5 * x2 * ref_corner.voltage * ref_corner.voltage;
                rows[r][c] = internal_energy(supply_ref * spice_ratio_lookup(r_table, x1, x2), x2, request.voltage);
              }
            edits.push_back({values->line, "values", voltage::format_values(rows)});
            continue;
          }
          std::vector<std::vector<double>> rows(ax1.size(), std::vector<double>(ax2.size()));
          for (size_t r = 0; r < ax1.size(); ++r)
            for (size_t c = 0; c < ax2.size(); ++c) rows[r][c] = internal_energy(e->second[r][c], ax2[c], request.voltage);
          edits.push_back({values->line, "values", voltage::format_values(rows)});
          if (ax1.size() != shipped->index_1.size() || ax2.size() != shipped->index_2.size()) {
            if (const auto* i1 = t.find_attribute("index_1")) edits.push_back({i1->line, "index_1", "index_1 (" + number_list(ax1) + ");"});
            if (const auto* i2 = t.find_attribute("index_2")) edits.push_back({i2->line, "index_2", "index_2 (" + number_list(ax2) + ");"});
          }
        }
      }
      // Input capacitance.
      auto rc = m.rise_capacitance.find(pg.name());
      auto fc = m.fall_capacitance.find(pg.name());
      if (rc != m.rise_capacitance.end() && fc != m.fall_capacitance.end()) {
        auto shipped_attr = [&](const char* name) {
          const liberty::Attribute* a = pg.find_attribute(name);
          return a ? a->number(ref.path) : pin->capacitance;
        };
        const double rise = value_of(rc->second, mr ? mr->rise_capacitance.at(pg.name()) : 0, shipped_attr("rise_capacitance"));
        const double fall = value_of(fc->second, mr ? mr->fall_capacitance.at(pg.name()) : 0, shipped_attr("fall_capacitance"));
        for (const auto& [name, v] : {std::pair<const char*, double>{"capacitance", (rise + fall) / 2},
                                     {"rise_capacitance", rise}, {"fall_capacitance", fall}})
          if (const liberty::Attribute* a = pg.find_attribute(name))
            edits.push_back({a->line, name, std::string(name) + " : " + voltage::format_number(v) + ";"});
      }
    }
    const double cell_ratio = median(delay_ratios);
    for (const auto& p : scaled) {
      const liberty::Attribute* values = p.table->find_attribute("values");
      const double scale = p.power ? power_scale : cell_ratio;
      std::vector<std::vector<double>> rows;
      for (const auto& row : values->values) {
        std::vector<double> nums;
        std::stringstream ss(row);
        std::string item;
        while (std::getline(ss, item, ',')) nums.push_back(std::stod(item) * scale);
        rows.push_back(nums);
      }
      edits.push_back({values->line, "values", voltage::format_values(rows)});
    }
    // Leakage per state, and the cell's (their mean, as the shipped files do).
    std::vector<double> leaks;
    for (const auto* lg : cg->groups_of_type("leakage_power")) {
      const liberty::Attribute* a = lg->find_attribute("value");
      if (!a) continue;
      const double shipped = a->number(ref.path);
      auto it = m.leakage.find(lg->line);
      const double v = it == m.leakage.end() ? shipped * power_scale
                                             : value_of(it->second, mr ? mr->leakage.at(lg->line) : 0, shipped);
      leaks.push_back(v);
      edits.push_back({a->line, "value", "value : " + voltage::format_number(v) + ";"});
    }
    if (const liberty::Attribute* a = cg->find_attribute("cell_leakage_power")) {
      double v = a->number(ref.path) * power_scale;
      if (!m.leakage.empty() && !leaks.empty()) {
        v = 0;
        for (double l : leaks) v += l;
        v /= static_cast<double>(leaks.size());
      }
      edits.push_back({a->line, "cell_leakage_power", "cell_leakage_power : " + voltage::format_number(v) + ";"});
    }
    // Apply within the cell's own text (line numbers relative to it).
    for (auto& e : edits) e.line -= cg->line - 1;
    cells_text += voltage::apply_edits(text.substr(range.first, range.second - range.first), edits,
                                       ref_path.string() + " (cell " + cg->name() + ")");
  }
  if (first_cell == std::string::npos) throw CharlibError(ref_path.string() + " has no cells");
  std::string header = voltage::retarget_header(text.substr(0, first_cell), ref_corner.voltage, request.voltage,
                                                ref_name, request.name,
                                                std::make_pair(ref_corner.temperature_c, request.temperature_c));
  std::ostringstream banner;
  banner << "/* vosa charlib: " << request.name << " (" << request.process << ", "
         << voltage::format_number(request.temperature_c) << " C, " << voltage::format_number(request.voltage)
         << " V), delay_source " << delay_source << ", " << result.cells.size() << " cells, ngspice with "
         << pdk.spice->model_lib << " section " << pdk.spice->sections.at(request.process) << ".\n   "
         << (ratio ? "Tables, capacitances and leakage: " + ref_name + "'s values times SPICE(" + request.name +
                         ")/SPICE(" + ref_name + ") (delays counted from the input ramp's start), the ratio measured on " +
                         (opt.grid_points ? std::to_string(opt.grid_points) + " points per axis" : std::string("the full grid")) +
                         " and interpolated onto the shipped grid."
                   : "Tables, capacitances and leakage: SPICE values (schematic netlists, no layout parasitics).")
         << calibration_note(result.threshold_shift, result.cell_threshold_shift, opt.diffusion_length_um, opt.output_wire_pf)
         << "\n   Structure and grid from " << ref_name
         << ".\n   Flip-flop setup/hold (D against the clock): bisection on the data-to-clock offset, a failure being "
            "a clock-to-Q pushout over the reference's violation_delay_degrade_pct (else 10 %) or Q not capturing D"
         << (ratio ? "; spice-ratio adds the SPICE change from " + ref_name +
                         " times the cell's shipped/SPICE clock-to-Q to the shipped values"
                   : std::string())
         << ".\n   Output internal power: supply energy per output edge minus the load's 1/2 C V^2"
         << (ratio ? " (spice-ratio: the supply energy's SPICE ratio)" : "")
         << ".\n   Not simulated: other constraints (recovery/removal, minimum pulse width) and timing arcs "
            "(reset-to-Q) scaled by each cell's median SPICE delay ratio; input pins' internal power, reset-arc "
            "power and flip-flop leakage scaled by (V/"
         << voltage::format_number(ref_corner.voltage) << ")^2. */\n";
  write_output_file(out, banner.str() + header + cells_text + text.substr(last_cell_end));
  result.liberty = out;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

fs::path prepare_spice_liberty(const pdk::PdkConfig& pdk, const std::string& corner_name,
                               const std::vector<std::string>& cells, const fs::path& cache_dir, int workers) {
  const pdk::CornerRequest request = pdk::resolve_corner(pdk, corner_name);
  if (request.delay_source != pdk::kSourceSpice && request.delay_source != pdk::kSourceSpiceRatio)
    throw CharlibError("corner " + corner_name + " of PDK " + pdk.name + " takes its delays from " +
                       request.delay_source + ", not SPICE");
  // STA also needs the cells the PDK config drives and loads the PE with.
  std::vector<std::string> sorted = cells;
  for (const auto& c : {pdk.driver.cell, pdk.load.cell, pdk.buffer.cell}) sorted.push_back(c);
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  CharlibOptions opt;
  opt.cells = sorted;
  opt.cache_dir = cache_dir;
  opt.workers = workers;
  // spice-ratio: the ratio is smooth over the grid, so it is measured on
  // spice.ratio_grid_points per axis (default kFlowRatioGridPoints) and
  // interpolated (docs/charlib.md, "Grid": error and cost of 3, 5 and 7).
  if (request.delay_source == pdk::kSourceSpiceRatio)
    opt.grid_points = pdk.spice->ratio_grid_points >= 0 ? pdk.spice->ratio_grid_points : kFlowRatioGridPoints;
  // The file name holds what the tables depend on besides the config: the
  // cells, the grid and the per-cell calibration's shifts.
  std::string key;
  for (const auto& c : sorted) key += c + "\n";
  key += "grid " + std::to_string(opt.grid_points) + "\n";
  for (const auto& [cell, shifts] : cell_threshold_shift_for(pdk, request.process, opt))
    for (const auto& [model, volts] : shifts) key += cell + " " + model + " " + voltage::format_number(volts) + "\n";
  const fs::path out = fs::absolute(cache_dir / pdk.name / "spice" / "lib" /
                                    (corner_name + "." + fnv1a64_hex(key).substr(0, 12) + "." + request.delay_source + ".lib"));
  std::error_code ec;
  if (fs::exists(out) && fs::last_write_time(out, ec) >= fs::last_write_time(pdk.path, ec)) return out;
  return characterize(pdk, request, opt, request.delay_source, out).liberty;
}

}  // namespace vosa::spice
