#include "vosa/pdk.hpp"
#include "vosa/output_file.hpp"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <regex>
#include <set>
#include <sstream>
#include <string_view>
#include <system_error>

#include <unistd.h>

#ifndef VOSA_SOURCE_DIR
#define VOSA_SOURCE_DIR "."
#endif

namespace vosa::pdk {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

// Field accessors that name the file and the field on any error.
class FieldReader {
 public:
  FieldReader(const fs::path& file, const json& root) : file_(file.string()), root_(root) {}

  const json& at(const json& obj, const std::string& key, const std::string& where) const {
    if (!obj.is_object() || !obj.contains(key)) fail(where + key, "is missing");
    return obj.at(key);
  }
  std::string string(const json& obj, const std::string& key, const std::string& where) const {
    const json& v = at(obj, key, where);
    if (!v.is_string() || v.get<std::string>().empty()) fail(where + key, "must be a non-empty string");
    return v.get<std::string>();
  }
  std::string optional_string(const json& obj, const std::string& key) const {
    if (!obj.contains(key)) return "";
    if (!obj.at(key).is_string()) fail(key, "must be a string");
    return obj.at(key).get<std::string>();
  }
  double number(const json& obj, const std::string& key, const std::string& where) const {
    const json& v = at(obj, key, where);
    if (!v.is_number()) fail(where + key, "must be a number");
    return v.get<double>();
  }
  std::vector<std::string> strings(const json& obj, const std::string& key, const std::string& where,
                                   bool required) const {
    if (!obj.contains(key)) {
      if (required) fail(where + key, "is missing");
      return {};
    }
    const json& v = obj.at(key);
    if (!v.is_array()) fail(where + key, "must be an array of strings");
    std::vector<std::string> out;
    for (const auto& item : v) {
      if (!item.is_string()) fail(where + key, "must be an array of strings");
      out.push_back(item.get<std::string>());
    }
    return out;
  }
  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw PdkError(file_ + ": field '" + field + "' " + problem);
  }

 private:
  std::string file_;
  const json& root_;
};

CellPin read_cell_pin(const FieldReader& r, const json& cells, const std::string& key) {
  const json& obj = r.at(cells, key, "cells.");
  return CellPin{r.string(obj, "cell", "cells." + key + "."), r.string(obj, "pin", "cells." + key + ".")};
}

// The voltage inside a corner name: 1v28, 1p20V, 5v00.
const std::regex& voltage_token() {
  static const std::regex re("([0-9]+)([vp])([0-9]+)(V?)");
  return re;
}

std::string expand_env(const std::string& dir, bool* unset) {
  static const std::regex var(R"(\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?)");
  std::string out;
  std::sregex_iterator it(dir.begin(), dir.end(), var), end;
  size_t last = 0;
  *unset = false;
  for (; it != end; ++it) {
    const auto& m = *it;
    out += dir.substr(last, m.position() - last);
    const char* value = std::getenv(m[1].str().c_str());
    if (m[1].str() == "VOSA_DATA_DIR" && (value == nullptr || *value == '\0')) {
      // Same default as the Makefile: ../shared beside the checkout.
      static const std::string fallback = std::string(VOSA_SOURCE_DIR) + "/../shared";
      value = fallback.c_str();
    }
    if (value == nullptr || *value == '\0') *unset = true;
    out += value ? value : "";
    last = m.position() + m.length();
  }
  return out + dir.substr(last);
}

}  // namespace

const Corner& PdkConfig::corner(const std::string& corner_name) const {
  auto it = corners.find(corner_name);
  if (it == corners.end()) {
    std::vector<std::string> names;
    for (const auto& [n, c] : corners) names.push_back(n);
    throw PdkError("PDK " + name + " has no characterized corner '" + corner_name +
                   "' (corners: " + join(names, ", ") + ")");
  }
  return it->second;
}

const std::vector<std::string>& PdkConfig::ladder(const std::string& ladder_name) const {
  auto it = ladders.find(ladder_name);
  if (it == ladders.end()) {
    std::vector<std::string> names;
    for (const auto& [n, l] : ladders) names.push_back(n);
    throw PdkError("PDK " + name + " has no voltage ladder '" + ladder_name + "' (ladders: " +
                   join(names, ", ") + ")");
  }
  return it->second;
}

bool PdkConfig::is_dont_use(const std::string& cell_name) const {
  return std::any_of(dont_use.begin(), dont_use.end(),
                     [&](const std::string& p) { return glob_match(p, cell_name); });
}

bool glob_match(const std::string& pattern, const std::string& text) {
  // Iterative '*' / '?' matcher with backtracking to the last star.
  size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p, ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++, mark = t;
    } else if (star != std::string::npos) {
      p = star + 1, t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::vector<fs::path> pdk_config_dirs() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("VOSA_PDK_CONFIGS"); env && *env) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) dirs.emplace_back(item);
  }
  dirs.emplace_back(fs::path(VOSA_SOURCE_DIR) / "pdk_configs");
  return dirs;
}

std::vector<std::string> available_pdks() {
  std::set<std::string> names;
  for (const auto& dir : pdk_config_dirs()) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() == ".json") names.insert(entry.path().stem().string());
  }
  return {names.begin(), names.end()};
}

fs::path find_pdk_config(const std::string& name_or_path) {
  if (name_or_path.empty()) throw PdkError("no PDK given");
  const bool is_path = name_or_path.find('/') != std::string::npos ||
                       fs::path(name_or_path).extension() == ".json";
  if (is_path) {
    if (!fs::is_regular_file(name_or_path))
      throw PdkError("PDK config " + name_or_path + " does not exist");
    return name_or_path;
  }
  std::vector<std::string> looked;
  for (const auto& dir : pdk_config_dirs()) {
    const fs::path candidate = dir / (name_or_path + ".json");
    if (fs::is_regular_file(candidate)) return candidate;
    looked.push_back(candidate.string());
  }
  throw PdkError("unknown PDK '" + name_or_path + "': looked for " + join(looked, ", ") +
                 "; available PDKs: " + join(available_pdks(), ", "));
}

PdkConfig load_pdk_config(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw PdkError("cannot read PDK config " + path.string());
  json root;
  try {
    root = json::parse(in);
  } catch (const json::exception& e) {
    throw PdkError(path.string() + ": not valid JSON: " + e.what());
  }
  const FieldReader r(path, root);
  if (!root.is_object()) r.fail("(top level)", "must be an object");
  PdkConfig pdk;
  pdk.path = path;
  const double schema = r.number(root, "schema_version", "");
  if (schema != 1) r.fail("schema_version", "is " + std::to_string(schema) + "; this vosa reads version 1");
  pdk.name = r.string(root, "name", "");
  pdk.description = r.optional_string(root, "description");
  pdk.library = r.string(root, "library", "");
  pdk.liberty_dirs = r.strings(root, "liberty_dirs", "", true);
  if (pdk.liberty_dirs.empty()) r.fail("liberty_dirs", "must name at least one directory");

  const json& corners = r.at(root, "corners", "");
  if (!corners.is_object() || corners.empty()) r.fail("corners", "must be a non-empty object");
  for (const auto& [cname, c] : corners.items()) {
    const std::string where = "corners." + cname + ".";
    Corner corner;
    corner.name = cname;
    corner.file = r.string(c, "file", where);
    corner.process = r.string(c, "process", where);
    corner.temperature_c = r.number(c, "temperature_c", where);
    corner.voltage = r.number(c, "voltage", where);
    if (!(corner.voltage > 0)) r.fail(where + "voltage", "must be positive");
    pdk.corners[cname] = corner;
  }

  const json& ladders = r.at(root, "ladders", "");
  if (!ladders.is_object() || ladders.empty()) r.fail("ladders", "must be a non-empty object");
  for (const auto& [lname, l] : ladders.items()) {
    const std::string field = "ladders." + lname;
    std::vector<std::string> names = r.strings(ladders, lname, "ladders.", true);
    if (names.empty()) r.fail(field, "must list at least one corner");
    for (const auto& n : names) {
      if (!pdk.corners.count(n)) r.fail(field, "names corner '" + n + "', which is not in corners");
      const Corner& first = pdk.corners.at(names.front());
      const Corner& c = pdk.corners.at(n);
      if (c.process != first.process || c.temperature_c != first.temperature_c)
        r.fail(field, "mixes process/temperature: '" + n + "' differs from '" + first.name + "'");
      if (!std::regex_search(n, voltage_token()))
        r.fail(field, "corner '" + n + "' has no voltage in its name (like 1v80 or 1p20V)");
    }
    std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
      return pdk.corners.at(a).voltage < pdk.corners.at(b).voltage;
    });
    pdk.ladders[lname] = names;
  }
  pdk.default_ladder = r.string(root, "default_ladder", "");
  if (!pdk.ladders.count(pdk.default_ladder))
    r.fail("default_ladder", "names '" + pdk.default_ladder + "', which is not in ladders");
  pdk.nominal_corner = r.string(root, "nominal_corner", "");
  pdk.signoff_corner = r.string(root, "signoff_corner", "");
  for (const auto& [field, value] : {std::pair<std::string, std::string>{"nominal_corner", pdk.nominal_corner},
                                     {"signoff_corner", pdk.signoff_corner}})
    if (!pdk.corners.count(value)) r.fail(field, "names '" + value + "', which is not in corners");

  if (root.contains("derated_voltages")) {
    const json& dv = root.at("derated_voltages");
    if (!dv.is_array()) r.fail("derated_voltages", "must be an array of numbers");
    for (const auto& v : dv) {
      if (!v.is_number() || !(v.get<double>() > 0)) r.fail("derated_voltages", "must hold positive numbers");
      pdk.derated_voltages.push_back(v.get<double>());
    }
  }

  const json& cells = r.at(root, "cells", "");
  pdk.driver = read_cell_pin(r, cells, "driver");
  pdk.load = read_cell_pin(r, cells, "load");
  const json& load = cells.at("load");
  if (load.contains("count")) {
    if (!load.at("count").is_number_integer() || load.at("count").get<int>() < 1)
      r.fail("cells.load.count", "must be a positive integer");
    pdk.load_count = load.at("count").get<int>();
  }
  const json& buffer = r.at(cells, "buffer", "cells.");
  pdk.buffer = BufferCell{r.string(buffer, "cell", "cells.buffer."), r.string(buffer, "in", "cells.buffer."),
                          r.string(buffer, "out", "cells.buffer.")};
  if (cells.contains("tie_hi")) pdk.tie_hi = read_cell_pin(r, cells, "tie_hi");
  if (cells.contains("tie_lo")) pdk.tie_lo = read_cell_pin(r, cells, "tie_lo");
  pdk.dont_use = r.strings(root, "dont_use", "", false);

  if (root.contains("voltage_model")) {
    const json& vm = root.at("voltage_model");
    const std::string law = r.string(vm, "law", "voltage_model.");
    if (law != "alpha_power") r.fail("voltage_model.law", "is '" + law + "'; supported: alpha_power");
    AlphaPowerParams p;
    p.vth = r.number(vm, "vth", "voltage_model.");
    p.alpha = r.number(vm, "alpha", "voltage_model.");
    p.source = r.string(vm, "source", "voltage_model.");
    if (!(p.vth > 0) || !(p.alpha >= 1.0 && p.alpha <= 2.0))
      r.fail("voltage_model", "needs vth > 0 and 1 <= alpha <= 2");
    pdk.voltage_model = p;
  }
  if (root.contains("spice")) {
    const json& sp = root.at("spice");
    SpiceConfig c;
    c.model_dirs = r.strings(sp, "model_dirs", "spice.", true);
    c.model_lib = r.string(sp, "model_lib", "spice.");
    c.cell_netlists = r.strings(sp, "cell_netlists", "spice.", true);
    c.supply_pins = r.strings(sp, "supply_pins", "spice.", true);
    c.ground_pins = r.strings(sp, "ground_pins", "spice.", true);
    c.deck_options = r.strings(sp, "deck_options", "spice.", false);
    const json& sections = r.at(sp, "sections", "spice.");
    if (!sections.is_object() || sections.empty()) r.fail("spice.sections", "must map processes to model sections");
    for (const auto& [process, section] : sections.items()) {
      if (!section.is_string()) r.fail("spice.sections." + process, "must be a string");
      c.sections[process] = section.get<std::string>();
    }
    c.delay_source = r.string(sp, "delay_source", "spice.");
    if (c.delay_source != kSourceSpice && c.delay_source != kSourceSpiceRatio)
      r.fail("spice.delay_source", "is '" + c.delay_source + "'; allowed: spice, spice-ratio");
    if (sp.contains("threshold_shift")) {
      const json& shifts = sp.at("threshold_shift");
      if (!shifts.is_object()) r.fail("spice.threshold_shift", "must map processes to {device model: volts}");
      for (const auto& [process, models] : shifts.items()) {
        if (!c.sections.count(process)) r.fail("spice.threshold_shift." + process, "is no process of spice.sections");
        if (!models.is_object()) r.fail("spice.threshold_shift." + process, "must map device models to volts");
        for (const auto& [model, volts] : models.items()) {
          if (!volts.is_number() || std::abs(volts.get<double>()) > 0.3)
            r.fail("spice.threshold_shift." + process + "." + model, "must be a number of volts within +-0.3");
          c.threshold_shift[process][model] = volts.get<double>();
        }
      }
      if (!sp.contains("device_in_subckt")) r.fail("spice.threshold_shift", "needs spice.device_in_subckt");
    }
    if (sp.contains("cell_calibration")) {
      const json& files = sp.at("cell_calibration");
      if (!files.is_object()) r.fail("spice.cell_calibration", "must map processes to calibration files");
      for (const auto& [process, file] : files.items()) {
        if (!c.sections.count(process)) r.fail("spice.cell_calibration." + process, "is no process of spice.sections");
        if (!file.is_string() || file.get<std::string>().empty())
          r.fail("spice.cell_calibration." + process, "must be a file name (relative to the config's folder)");
        fs::path f = file.get<std::string>();
        if (f.is_relative()) f = path.parent_path() / f;
        c.cell_calibration[process] = f.lexically_normal().string();
      }
      if (!sp.contains("device_in_subckt")) r.fail("spice.cell_calibration", "needs spice.device_in_subckt");
    }
    if (sp.contains("ratio_grid_points")) {
      const json& g = sp.at("ratio_grid_points");
      if (!g.is_number_integer() || g.get<int>() < 0 || g.get<int>() == 1 || g.get<int>() > 64)
        r.fail("spice.ratio_grid_points", "must be 0 (the full grid) or 2..64 points per axis");
      c.ratio_grid_points = g.get<int>();
    }
    if (sp.contains("device_in_subckt")) {
      c.device_in_subckt = r.string(sp, "device_in_subckt", "spice.");
      if (c.device_in_subckt.find("{model}") == std::string::npos)
        r.fail("spice.device_in_subckt", "must contain {model} (e.g. \"m{model}\")");
    }
    if (c.model_dirs.empty() || c.cell_netlists.empty() || c.supply_pins.empty() || c.ground_pins.empty())
      r.fail("spice", "needs model_dirs, cell_netlists, supply_pins and ground_pins");
    pdk.spice = c;
  }
  const auto& signoff_ladder = pdk.ladder(pdk.default_ladder);
  if (signoff_ladder.size() == 1 && !pdk.voltage_model && !pdk.derated_voltages.empty())
    r.fail("voltage_model", "is required to derate a single-corner ladder to derated_voltages");
  return pdk;
}

PdkConfig load_pdk(const std::string& name_or_path) { return load_pdk_config(find_pdk_config(name_or_path)); }

std::string corner_name_at(const PdkConfig& pdk, const std::string& ladder, double voltage) {
  const std::string& template_name = pdk.ladder(ladder).front();
  std::smatch m;
  std::regex_search(template_name, m, voltage_token());  // validated at load
  const int decimals = static_cast<int>(m[3].length());
  const long scaled = std::lround(voltage * std::pow(10.0, decimals));
  const long whole = scaled / static_cast<long>(std::pow(10.0, decimals));
  const long frac = scaled % static_cast<long>(std::pow(10.0, decimals));
  std::ostringstream token;
  token << whole << m[2].str() << std::setw(decimals) << std::setfill('0') << frac << m[4].str();
  return m.prefix().str() + token.str() + m.suffix().str();
}

namespace {

// Where a voltage no liberty ships gets its tables from the PDK's SPICE
// models: spice-ratio when a shipped corner of the same process and
// temperature exists to scale, spice otherwise.
std::string spice_source(const PdkConfig& pdk, const std::string& process, double temperature_c) {
  if (pdk.spice->delay_source == kSourceSpiceRatio)
    for (const auto& [n, c] : pdk.corners)
      if (c.process == process && std::abs(c.temperature_c - temperature_c) < 1e-9) return kSourceSpiceRatio;
  return kSourceSpice;
}

}  // namespace

CornerRequest resolve_corner(const PdkConfig& pdk, const std::string& corner_name) {
  CornerRequest req;
  req.name = corner_name;
  if (auto it = pdk.corners.find(corner_name); it != pdk.corners.end()) {
    req.voltage = it->second.voltage;
    req.process = it->second.process;
    req.temperature_c = it->second.temperature_c;
    req.delay_source = kSourceLibertyCorner;
    req.characterized = true;
    for (const auto& [lname, names] : pdk.ladders)
      if (std::find(names.begin(), names.end(), corner_name) != names.end()) req.ladder = lname;
    return req;
  }
  std::smatch m;
  if (std::regex_search(corner_name, m, voltage_token())) {
    const double voltage = std::stod(m[1].str() + "." + m[3].str());
    for (const auto& [lname, names] : pdk.ladders) {
      if (corner_name_at(pdk, lname, voltage) != corner_name) continue;
      const double vmin = pdk.corners.at(names.front()).voltage;
      const double vmax = pdk.corners.at(names.back()).voltage;
      req.ladder = lname;
      req.voltage = voltage;
      req.outside_ladder = voltage < vmin || voltage > vmax;
      req.process = pdk.corners.at(names.front()).process;
      req.temperature_c = pdk.corners.at(names.front()).temperature_c;
      if (names.size() >= 2 && !req.outside_ladder) {
        req.delay_source = kSourceInterpolated;
      } else if (pdk.spice && pdk.spice->sections.count(req.process)) {
        req.delay_source = spice_source(pdk, req.process, req.temperature_c);
      } else {
        if (names.size() == 1 && !pdk.voltage_model)
          throw PdkError("PDK " + pdk.name + " (" + pdk.path.string() + ") has a single corner on ladder '" +
                         lname + "' and no voltage_model: cannot derate to " + corner_name);
        req.delay_source = kSourceDerated;
      }
      return req;
    }
  }
  // Off every ladder: any process/temperature the SPICE models cover, named
  // <process>_<temperature>C_<voltage> like sky130's corners (n40C = -40 C).
  static const std::regex spice_name(R"(^([a-z]+)_(n?)([0-9]+)C_([0-9]+)v([0-9]+)$)");
  if (pdk.spice && std::regex_match(corner_name, m, spice_name) && pdk.spice->sections.count(m[1].str())) {
    req.process = m[1].str();
    req.temperature_c = (m[2].length() ? -1.0 : 1.0) * std::stod(m[3].str());
    req.voltage = std::stod(m[4].str() + "." + m[5].str());
    req.outside_ladder = true;
    req.delay_source = spice_source(pdk, req.process, req.temperature_c);
    return req;
  }
  std::vector<std::string> names, examples;
  for (const auto& [n, c] : pdk.corners) names.push_back(n);
  for (const auto& [lname, l] : pdk.ladders) examples.push_back(corner_name_at(pdk, lname, 1.234));
  throw PdkError("unknown corner '" + corner_name + "' for PDK " + pdk.name + ": characterized corners are " +
                 join(names, ", ") + "; other voltages are named like the ladders' corners (" +
                 join(examples, ", ") + " for 1.23 V)");
}

std::vector<std::string> default_flow_corners(const PdkConfig& pdk) {
  std::vector<std::pair<double, std::string>> list;
  for (const auto& n : pdk.ladder(pdk.default_ladder)) list.emplace_back(pdk.corners.at(n).voltage, n);
  for (double v : pdk.derated_voltages) {
    const std::string n = corner_name_at(pdk, pdk.default_ladder, v);
    if (!pdk.corners.count(n)) list.emplace_back(v, n);
  }
  std::sort(list.begin(), list.end());
  std::vector<std::string> out;
  for (const auto& [v, n] : list) out.push_back(n);
  return out;
}

std::vector<fs::path> expand_paths(const std::vector<std::string>& candidates) {
  std::vector<fs::path> out;
  for (const auto& c : candidates) {
    bool unset = false;
    const std::string expanded = expand_env(c, &unset);
    if (!unset) out.emplace_back(expanded);
  }
  return out;
}

fs::path find_first_existing(const std::vector<std::string>& candidates, const std::string& what) {
  std::vector<std::string> looked;
  for (const auto& p : expand_paths(candidates)) {
    if (fs::exists(p)) return p;
    looked.push_back(p.string());
  }
  throw PdkError(what + " not found; looked in: " + join(looked, ", ") +
                 " (set VOSA_DATA_DIR or PDK_ROOT)");
}

std::vector<fs::path> liberty_candidates(const PdkConfig& pdk, const Corner& corner) {
  std::vector<fs::path> out;
  for (const auto& dir : pdk.liberty_dirs) {
    bool unset = false;
    const std::string expanded = expand_env(dir, &unset);
    if (unset) continue;
    out.push_back(fs::path(expanded) / corner.file);
    out.push_back(fs::path(expanded) / (corner.file + ".gz"));
  }
  return out;
}

fs::path find_liberty(const PdkConfig& pdk, const Corner& corner) {
  std::vector<std::string> looked;
  for (const auto& candidate : liberty_candidates(pdk, corner)) {
    if (fs::is_regular_file(candidate)) return candidate;
    looked.push_back(candidate.string());
  }
  std::vector<std::string> unset;
  for (const auto& dir : pdk.liberty_dirs) {
    bool is_unset = false;
    expand_env(dir, &is_unset);
    if (is_unset) unset.push_back(dir + " (variable unset)");
  }
  throw PdkError("liberty file for corner " + corner.name + " of PDK " + pdk.name + " not found; looked in: " +
                 join(looked, ", ") + (unset.empty() ? "" : "; skipped: " + join(unset, ", ")) +
                 ". Set PDK_ROOT (open_pdks layout) or VOSA_DATA_DIR, or edit liberty_dirs in " +
                 pdk.path.string());
}

std::string read_text_file(const fs::path& path) {
  gzFile gz = gzopen(path.c_str(), "rb");  // reads plain files unchanged
  if (gz == nullptr) throw PdkError("cannot open " + path.string());
  std::string text;
  char buffer[1 << 16];
  int n;
  while ((n = gzread(gz, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  int err = 0;
  const char* msg = gzerror(gz, &err);
  const bool failed = n < 0 || (err != Z_OK && err != Z_STREAM_END);
  const std::string what = failed ? msg : "";
  gzclose(gz);
  if (failed) throw PdkError("cannot read " + path.string() + ": " + what + " (corrupt gzip?)");
  return text;
}

fs::path default_cache_dir() {
  if (const char* env = std::getenv("VOSA_PDK_CACHE"); env && *env) return env;
  return fs::path("build") / "pdk";
}

namespace {

// Insert `dont_use : true ;` as the first statement of every dont_use cell.
// A line scan, not std::regex: liberty files run to tens of megabytes.
std::string mark_dont_use(const PdkConfig& pdk, const std::string& text, int* marked) {
  std::string out;
  out.reserve(text.size() + 4096);
  *marked = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string_view line(text.data() + pos, eol - pos);
    out.append(line);
    const size_t first = line.find_first_not_of(" \t");
    if (first != std::string_view::npos && line.compare(first, 4, "cell") == 0) {
      const size_t open = line.find('(', first + 4);
      const size_t close = line.find(')', first + 4);
      const bool only_space_before_paren =
          open != std::string_view::npos &&
          line.substr(first + 4, open - first - 4).find_first_not_of(" \t") == std::string_view::npos;
      if (only_space_before_paren && close != std::string_view::npos && close > open &&
          line.find('{', close) != std::string_view::npos) {
        std::string name(line.substr(open + 1, close - open - 1));
        name.erase(std::remove_if(name.begin(), name.end(), [](char ch) { return ch == '"' || ch == ' '; }),
                   name.end());
        if (pdk.is_dont_use(name)) {
          out += " dont_use : true ;";
          ++*marked;
        }
      }
    }
    if (eol < text.size()) out += '\n';
    pos = eol + 1;
  }
  return out;
}

}  // namespace

fs::path prepare_liberty(const PdkConfig& pdk, const std::string& corner_name, const fs::path& cache_dir,
                         bool for_synthesis) {
  const Corner& corner = pdk.corner(corner_name);
  const fs::path source = find_liberty(pdk, corner);
  const bool gzipped = source.extension() == ".gz";
  if (!gzipped && !for_synthesis) return fs::absolute(source);
  const fs::path target =
      fs::absolute(cache_dir / pdk.name / (corner_name + (for_synthesis ? ".synth.lib" : ".lib")));
  std::error_code ec;
  if (fs::exists(target) && fs::last_write_time(target, ec) >= fs::last_write_time(source, ec) &&
      fs::last_write_time(target, ec) >= fs::last_write_time(pdk.path, ec))
    return target;
  std::string text = read_text_file(source);
  if (text.find("library") == std::string::npos)
    throw PdkError(source.string() + " does not look like a liberty file (no library group)");
  if (for_synthesis) {
    int marked = 0;
    text = mark_dont_use(pdk, text, &marked);
  }
  write_output_file(target, text);
  return target;
}

}  // namespace vosa::pdk
