#include "vosa/liberty.hpp"
#include "vosa/liberty_edit.hpp"
#include "vosa/voltage_model.hpp"
#include "vosa/output_file.hpp"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstdio>
#include <functional>
#include <map>
#include <sstream>

namespace vosa::voltage {
namespace fs = std::filesystem;

namespace {

// The delay-like tables of a timing arc: they all follow the alpha-power law.
bool is_delay_table(const std::string& type) {
  return type == "cell_rise" || type == "cell_fall" || type == "rise_transition" || type == "fall_transition" ||
         type == "rise_constraint" || type == "fall_constraint";
}

// One table position across libraries: cell / pin / n-th timing group / table type.
std::string table_key(const std::string& cell, const std::string& pin, size_t arc, const std::string& type) {
  return cell + "/" + pin + "/" + std::to_string(arc) + "/" + type;
}

std::map<std::string, const liberty::Table*> index_tables(const liberty::Library& lib) {
  std::map<std::string, const liberty::Table*> out;
  for (const auto& [cname, cell] : lib.cells)
    for (const auto& pin : cell.pins)
      for (size_t a = 0; a < pin.timing.size(); ++a)
        for (const auto& [type, table] : pin.timing[a].tables)
          if (is_delay_table(type)) out[table_key(cname, pin.name, a, type)] = &table;
  return out;
}

// A table's value at the base table's grid point (r, c). Corners of one
// ladder need not share axes (sky130's ss_n40C corners use different slew
// and load indices), so every corner is sampled where the base has entries,
// with the bilinear inter/extrapolation STA tools use.
double sample_at(const liberty::Table& table, const liberty::Table& base, size_t r, size_t c) {
  const double x1 = base.index_1.empty() ? 0.0 : base.index_1.at(r);
  const double x2 = base.index_2.empty() ? 0.0 : base.index_2.at(c);
  return table.lookup(x1, x2);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace

ModelLibertyInfo write_liberty_at_voltage(const pdk::PdkConfig& pdk, const pdk::CornerRequest& request,
                                          const fs::path& cache_dir, const fs::path& out,
                                          std::vector<std::string> fit_corners) {
  const auto& ladder = pdk.ladder(request.ladder);
  if (fit_corners.empty()) fit_corners = ladder;
  for (const auto& c : fit_corners)
    if (std::find(ladder.begin(), ladder.end(), c) == ladder.end())
      throw pdk::PdkError("fit corner '" + c + "' is not on ladder " + request.ladder + " of PDK " + pdk.name);
  std::sort(fit_corners.begin(), fit_corners.end(),
            [&](const std::string& a, const std::string& b) { return pdk.corners.at(a).voltage < pdk.corners.at(b).voltage; });
  fit_corners.erase(std::unique(fit_corners.begin(), fit_corners.end()), fit_corners.end());

  ModelLibertyInfo info;
  info.path = out;
  info.fit_corners = fit_corners;
  const double v = request.voltage;
  const double vmin = pdk.corners.at(fit_corners.front()).voltage, vmax = pdk.corners.at(fit_corners.back()).voltage;
  info.outside_ladder = v < vmin - 1e-9 || v > vmax + 1e-9;
  info.delay_source = (fit_corners.size() >= 2 && !info.outside_ladder) ? pdk::kSourceInterpolated : pdk::kSourceDerated;

  // The base: the fit corner nearest in voltage (its tables are exact there).
  std::string base = fit_corners.front();
  for (const auto& c : fit_corners)
    if (std::abs(pdk.corners.at(c).voltage - v) < std::abs(pdk.corners.at(base).voltage - v)) base = c;
  info.base_corner = base;
  const double vb = pdk.corners.at(base).voltage;

  std::vector<liberty::Library> libs;
  std::vector<double> volts;
  for (const auto& c : fit_corners) {
    libs.push_back(liberty::load_library(pdk::prepare_liberty(pdk, c, cache_dir).string()));
    volts.push_back(pdk.corners.at(c).voltage);
  }
  const size_t base_index = static_cast<size_t>(std::find(fit_corners.begin(), fit_corners.end(), base) - fit_corners.begin());
  const liberty::Library& base_lib = libs[base_index];

  std::vector<std::map<std::string, const liberty::Table*>> indexes;
  for (const auto& lib : libs) indexes.push_back(index_tables(lib));

  // Scale of one value from vb to v, by alpha-power parameters.
  auto ratio = [&](double vth, double alpha) { return alpha_power_shape(v, vth, alpha) / alpha_power_shape(vb, vth, alpha); };
  const double default_vth = pdk.voltage_model ? pdk.voltage_model->vth : 0.4;

  std::vector<Edit> edits;
  std::vector<double> vths, alphas;
  const bool single = fit_corners.size() == 1;
  if (single && !pdk.voltage_model)
    throw pdk::PdkError("PDK " + pdk.name + " has one fit corner and no voltage_model in " + pdk.path.string());

  auto is_1d = [](const liberty::Table& t) { return t.index_2.empty() && t.values.size() > 1; };
  // Fit one entry of a table across the fit corners; false when some corner
  // lacks the table or a sampled value is not positive (e.g. hold times).
  auto fit_entry = [&](const std::string& key, const liberty::Table& base_table, size_t r, size_t c,
                       AlphaPowerFit* fit) {
    std::vector<double> ys;
    for (const auto& index : indexes) {
      auto it = index.find(key);
      if (it == index.end()) return false;
      const double y = sample_at(*it->second, base_table, r, c);
      if (!(y > 0)) return false;
      ys.push_back(y);
    }
    *fit = fit_alpha_power(volts, ys, default_vth);
    return true;
  };

  // Pass 1: every entry that can be fitted; remember the tables that have
  // entries that cannot, to scale those entries with the median law.
  std::vector<std::pair<std::string, const liberty::Table*>> partly_fitted;
  for (const auto& [key, base_table] : indexes[base_index]) {
    std::vector<std::vector<double>> values = base_table->values;
    bool all_fitted = true;
    for (size_t r = 0; r < values.size(); ++r) {
      for (size_t c = 0; c < values[r].size(); ++c) {
        if (single) {
          values[r][c] *= ratio(pdk.voltage_model->vth, pdk.voltage_model->alpha);
          continue;
        }
        AlphaPowerFit fit;
        if (!fit_entry(key, *base_table, r, c, &fit)) {
          all_fitted = false;
          continue;
        }
        values[r][c] *= ratio(fit.vth, fit.alpha);
        vths.push_back(fit.vth);
        alphas.push_back(fit.alpha);
      }
    }
    if (!all_fitted) partly_fitted.emplace_back(key, base_table);
    edits.push_back(Edit{base_table->line, "values", format_values(values, is_1d(*base_table))});
    ++info.tables_scaled;
  }
  info.median_vth = single ? pdk.voltage_model->vth : median(vths);
  info.median_alpha = single ? pdk.voltage_model->alpha : median(alphas);

  // Entries that could not be fitted (zero/negative, e.g. hold constraints)
  // take the library's median law.
  if (!single && !partly_fitted.empty()) {
    const double r_median = ratio(info.median_vth, info.median_alpha);
    std::map<int, size_t> edit_at;
    for (size_t i = 0; i < edits.size(); ++i) edit_at[edits[i].line] = i;
    for (const auto& [key, base_table] : partly_fitted) {
      std::vector<std::vector<double>> values = base_table->values;
      for (size_t r = 0; r < values.size(); ++r)
        for (size_t c = 0; c < values[r].size(); ++c) {
          AlphaPowerFit fit;
          values[r][c] *= fit_entry(key, *base_table, r, c, &fit) ? ratio(fit.vth, fit.alpha) : r_median;
        }
      edits[edit_at.at(base_table->line)].replacement = format_values(values, is_1d(*base_table));
    }
  }

  // Power: internal energy per transition goes with V^2 (C V^2), leakage
  // is scaled the same way (approximate; leakage is tiny at these clocks).
  const double power_scale = (v / vb) * (v / vb);
  std::function<void(const liberty::Group&, bool)> walk = [&](const liberty::Group& g, bool in_power) {
    const bool power_group = in_power || g.type == "internal_power";
    if (power_group && g.type != "internal_power") {
      if (const liberty::Attribute* a = g.find_attribute("values")) {
        std::vector<std::vector<double>> rows;
        for (const auto& row : a->values) {
          std::vector<double> nums;
          std::stringstream ss(row);
          std::string item;
          while (std::getline(ss, item, ',')) nums.push_back(std::stod(item) * power_scale);
          rows.push_back(nums);
        }
        edits.push_back(Edit{g.line, "values", format_values(rows)});
      }
    }
    if (g.type == "leakage_power") {
      if (const liberty::Attribute* a = g.find_attribute("value"))
        edits.push_back(Edit{g.line, "value", "value : " + format_number(a->number() * power_scale) + " ;"});
    }
    for (const auto& sub : g.groups) walk(sub, power_group);
  };
  for (const auto* cell : base_lib.root.groups_of_type("cell")) walk(*cell, false);

  std::string text = liberty::read_maybe_gzipped(base_lib.path);
  text = apply_edits(text, edits, base_lib.path);
  text = retarget_header(text, vb, v, base, request.name, std::nullopt);
  std::ostringstream banner;
  banner << "/* vosa voltage model: " << request.name << " at " << v << " V, delay_source "
         << info.delay_source << (info.outside_ladder ? " (OUTSIDE the characterized ladder)" : "")
         << ".\n   Tables of " << base << " scaled per entry by the alpha-power law d = k V/(V-Vth)^alpha, "
         << (single ? "Vth and alpha from " + pdk.path.string() : "fitted on " + std::to_string(fit_corners.size()) + " corners:");
  if (!single)
    for (const auto& c : fit_corners) banner << " " << c;
  banner << ".\n   Median Vth " << info.median_vth << " V, alpha " << info.median_alpha
         << ". Internal/leakage power scaled by (V/Vbase)^2. */\n";
  write_output_file(out, banner.str() + text);
  return info;
}

fs::path prepare_corner_liberty(const pdk::PdkConfig& pdk, const std::string& corner_name, const fs::path& cache_dir,
                                const std::vector<std::string>& fit_corners) {
  pdk::CornerRequest request = pdk::resolve_corner(pdk, corner_name);
  if (request.characterized && fit_corners.empty()) return pdk::prepare_liberty(pdk, corner_name, cache_dir);
  if (request.ladder.empty())
    throw pdk::PdkError("corner " + corner_name + " of PDK " + pdk.name + " is on no voltage ladder: cannot model it");
  std::string suffix;
  if (!fit_corners.empty()) {
    std::vector<std::string> sorted = fit_corners;
    std::sort(sorted.begin(), sorted.end());
    suffix = ".fit";
    for (const auto& c : sorted) suffix += "-" + c;
  }
  const fs::path out = fs::absolute(cache_dir / pdk.name / "model" / (corner_name + suffix + ".lib"));
  // Rebuild when a fit corner's liberty or the PDK config is newer.
  std::error_code ec;
  if (fs::exists(out)) {
    bool fresh = fs::last_write_time(out, ec) >= fs::last_write_time(pdk.path, ec);
    for (const auto& c : fit_corners.empty() ? pdk.ladder(request.ladder) : fit_corners)
      fresh = fresh && fs::last_write_time(out, ec) >= fs::last_write_time(pdk::find_liberty(pdk, pdk.corner(c)), ec);
    if (fresh) return out;
  }
  return write_liberty_at_voltage(pdk, request, cache_dir, out, fit_corners).path;
}

}  // namespace vosa::voltage
