#include "vosa/liberty.hpp"
#include "vosa/voltage_model.hpp"

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

struct TableRef {
  const liberty::Table* table;
};

std::map<std::string, const liberty::Table*> index_tables(const liberty::Library& lib) {
  std::map<std::string, const liberty::Table*> out;
  for (const auto& [cname, cell] : lib.cells)
    for (const auto& pin : cell.pins)
      for (size_t a = 0; a < pin.timing.size(); ++a)
        for (const auto& [type, table] : pin.timing[a].tables)
          if (is_delay_table(type)) out[table_key(cname, pin.name, a, type)] = &table;
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", v);
  return buf;
}

std::string format_values(const std::vector<std::vector<double>>& rows) {
  std::string out = "values (";
  for (size_t r = 0; r < rows.size(); ++r) {
    out += (r ? ", \\\n          \"" : "\"");
    for (size_t c = 0; c < rows[r].size(); ++c) out += (c ? ", " : "") + format_number(rows[r][c]);
    out += "\"";
  }
  return out + ");";
}

// A text edit: replace the `values (...);` (or `value : x;`) statement that
// follows `line` with `replacement`.
struct Edit {
  int line = 0;
  std::string keyword;  // "values" or "value"
  std::string replacement;
};

std::string apply_edits(const std::string& text, std::vector<Edit> edits, const std::string& source) {
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.line < b.line; });
  edits.erase(std::unique(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.line == b.line; }),
              edits.end());
  std::vector<size_t> line_start{0};
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') line_start.push_back(i + 1);
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t copied = 0;
  for (const Edit& e : edits) {
    if (e.line < 1 || static_cast<size_t>(e.line) > line_start.size())
      throw pdk::PdkError(source + ": table line " + std::to_string(e.line) + " out of range");
    const size_t from = line_start[e.line - 1];
    const size_t close_brace = text.find('}', from);
    size_t pos = from;
    // The keyword as a whole word, before the group closes.
    for (;;) {
      pos = text.find(e.keyword, pos);
      if (pos == std::string::npos || pos > close_brace)
        throw pdk::PdkError(source + ":" + std::to_string(e.line) + ": no '" + e.keyword + "' in this group");
      const char before = pos ? text[pos - 1] : ' ';
      const char after = pos + e.keyword.size() < text.size() ? text[pos + e.keyword.size()] : ' ';
      if (!std::isalnum(static_cast<unsigned char>(before)) && before != '_' &&
          !std::isalnum(static_cast<unsigned char>(after)) && after != '_')
        break;
      pos += e.keyword.size();
    }
    const size_t end = text.find(';', pos);
    if (end == std::string::npos || end > close_brace)
      throw pdk::PdkError(source + ":" + std::to_string(e.line) + ": unterminated '" + e.keyword + "'");
    if (pos < copied) continue;  // two pins declared by one group: already rewritten
    out.append(text, copied, pos - copied);
    out += e.replacement;
    copied = end + 1;
  }
  out.append(text, copied, std::string::npos);
  return out;
}

// Library-level voltage settings (before the first cell): nom_voltage,
// operating_conditions voltage, supply voltage_map entries at the base
// voltage; the base corner's name becomes the new corner's.
std::string retarget_header(const std::string& text, double base_v, double new_v, const std::string& base_name,
                            const std::string& new_name) {
  size_t first_cell = text.find("\n  cell");
  if (first_cell == std::string::npos) first_cell = text.find("cell (");
  if (first_cell == std::string::npos) first_cell = text.size();
  std::string head = text.substr(0, first_cell);
  const std::string tail = text.substr(first_cell);
  std::istringstream in(head);
  std::string line, out;
  const std::string v = format_number(new_v);
  auto near_base = [&](const std::string& s) {
    try {
      return std::abs(std::stod(s) - base_v) < 1e-6;
    } catch (const std::exception&) {
      return false;
    }
  };
  while (std::getline(in, line)) {
    std::string trimmed = line.substr(std::min(line.size(), line.find_first_not_of(" \t")));
    if (trimmed.rfind("nom_voltage", 0) == 0 || trimmed.rfind("voltage ", 0) == 0 ||
        trimmed.rfind("voltage:", 0) == 0) {
      const size_t colon = line.find(':'), semi = line.find(';');
      if (colon != std::string::npos && semi != std::string::npos && near_base(line.substr(colon + 1, semi - colon - 1)))
        line = line.substr(0, colon + 1) + " " + v + line.substr(semi);
    } else if (trimmed.rfind("voltage_map", 0) == 0) {
      const size_t comma = line.find(','), close = line.rfind(')');
      if (comma != std::string::npos && close != std::string::npos && near_base(line.substr(comma + 1, close - comma - 1)))
        line = line.substr(0, comma + 1) + " " + v + line.substr(close);
    }
    for (size_t p = line.find(base_name); !base_name.empty() && p != std::string::npos; p = line.find(base_name, p + new_name.size()))
      line.replace(p, base_name.size(), new_name);
    out += line + "\n";
  }
  return out + tail.substr(tail.size() && tail[0] == '\n' ? 1 : 0);
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

  for (const auto& [key, base_table] : indexes[base_index]) {
    // The same table in every fit corner, same shape.
    std::vector<const liberty::Table*> series;
    for (const auto& index : indexes) {
      auto it = index.find(key);
      if (it == index.end() || it->second->values.size() != base_table->values.size()) break;
      series.push_back(it->second);
    }
    std::vector<std::vector<double>> values = base_table->values;
    for (size_t r = 0; r < values.size(); ++r) {
      for (size_t c = 0; c < values[r].size(); ++c) {
        if (single) {
          values[r][c] *= ratio(pdk.voltage_model->vth, pdk.voltage_model->alpha);
          continue;
        }
        std::vector<double> ys;
        bool positive = series.size() == libs.size();
        for (size_t k = 0; positive && k < series.size(); ++k) {
          if (series[k]->values[r].size() != values[r].size()) { positive = false; break; }
          const double y = series[k]->values[r][c];
          if (!(y > 0)) positive = false;
          ys.push_back(y);
        }
        if (!positive) continue;  // non-positive (hold) entries: scaled below with the median law
        const AlphaPowerFit fit = fit_alpha_power(volts, ys, default_vth);
        values[r][c] *= ratio(fit.vth, fit.alpha);
        vths.push_back(fit.vth);
        alphas.push_back(fit.alpha);
      }
    }
    edits.push_back(Edit{base_table->line, "values", format_values(values)});
    ++info.tables_scaled;
  }
  info.median_vth = single ? pdk.voltage_model->vth : median(vths);
  info.median_alpha = single ? pdk.voltage_model->alpha : median(alphas);

  // Entries that could not be fitted (zero/negative, e.g. hold constraints)
  // take the library's median law: redo those tables' edits with it.
  if (!single) {
    const double r_median = ratio(info.median_vth, info.median_alpha);
    std::map<int, size_t> edit_at;
    for (size_t i = 0; i < edits.size(); ++i) edit_at[edits[i].line] = i;
    for (const auto& [key, base_table] : indexes[base_index]) {
      bool any_unfit = false;
      for (const auto& row : base_table->values)
        for (double y : row) any_unfit |= !(y > 0);
      bool complete = true;
      for (const auto& index : indexes) complete &= index.count(key) > 0;
      if (!any_unfit && complete) continue;
      // Recompute: fitted entries keep their fit, the rest use the median law.
      std::vector<std::vector<double>> values = base_table->values;
      for (size_t r = 0; r < values.size(); ++r)
        for (size_t c = 0; c < values[r].size(); ++c) {
          std::vector<double> ys;
          bool positive = complete;
          for (size_t k = 0; positive && k < indexes.size(); ++k) {
            const auto* t = indexes[k].at(key);
            if (r >= t->values.size() || c >= t->values[r].size() || !(t->values[r][c] > 0)) positive = false;
            else ys.push_back(t->values[r][c]);
          }
          if (positive) {
            const AlphaPowerFit fit = fit_alpha_power(volts, ys, default_vth);
            values[r][c] *= ratio(fit.vth, fit.alpha);
          } else {
            values[r][c] *= r_median;
          }
        }
      edits[edit_at.at(base_table->line)].replacement = format_values(values);
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
  text = retarget_header(text, vb, v, base, request.name);
  std::ostringstream banner;
  banner << "/* vosa voltage model: " << request.name << " at " << v << " V, delay_source "
         << info.delay_source << (info.outside_ladder ? " (OUTSIDE the characterized ladder)" : "")
         << ".\n   Tables of " << base << " scaled per entry by the alpha-power law d = k V/(V-Vth)^alpha, "
         << (single ? "Vth and alpha from " + pdk.path.string() : "fitted on " + std::to_string(fit_corners.size()) + " corners:");
  if (!single)
    for (const auto& c : fit_corners) banner << " " << c;
  banner << ".\n   Median Vth " << info.median_vth << " V, alpha " << info.median_alpha
         << ". Internal/leakage power scaled by (V/Vbase)^2. */\n";
  pdk::write_file_atomically(out, banner.str() + text);
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
