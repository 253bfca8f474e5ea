// Typed view of a Liberty library: cells, pins, state elements, timing arcs.
#include "vosa/liberty.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <cstdlib>
#include <sstream>

namespace vosa::liberty {

namespace {

[[noreturn]] void fail_at(const std::string& path, int line, const std::string& message) {
  throw LibertyError(path + ":" + std::to_string(line) + ": " + message);
}

std::vector<double> parse_number_list(const std::string& text, const std::string& path, int line) {
  std::vector<double> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ',')) {
    const auto b = item.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) continue;
    const auto e = item.find_last_not_of(" \t\r\n");
    item = item.substr(b, e - b + 1);
    char* end = nullptr;
    const double d = std::strtod(item.c_str(), &end);
    if (end == item.c_str() || *end != '\0') fail_at(path, line, "not a number: '" + item + "'");
    out.push_back(d);
  }
  return out;
}

std::vector<double> join_numbers(const Attribute& a, const std::string& path) {
  std::vector<double> out;
  for (const auto& v : a.values) {
    const auto part = parse_number_list(v, path, a.line);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

Table build_table(const Group& g, const Group& library, const std::string& path) {
  Table t;
  t.template_name = g.name();
  t.line = g.line;
  // Indices default to the template's when the table leaves them out.
  const Group* tmpl = nullptr;
  if (!t.template_name.empty() && t.template_name != "scalar") {
    for (const char* type : {"lu_table_template", "power_lut_template"})
      if (!tmpl) tmpl = library.find_group(type, t.template_name);
  }
  auto index = [&](const char* name) {
    if (const Attribute* a = g.find_attribute(name)) return join_numbers(*a, path);
    if (tmpl)
      if (const Attribute* a = tmpl->find_attribute(name)) return join_numbers(*a, path);
    return std::vector<double>{};
  };
  t.index_1 = index("index_1");
  t.index_2 = index("index_2");
  if (tmpl) {
    t.variable_1 = tmpl->attribute_value("variable_1").value_or("");
    t.variable_2 = tmpl->attribute_value("variable_2").value_or("");
  }
  const Attribute* values = g.find_attribute("values");
  if (!values) fail_at(path, g.line, "table '" + g.type + "' has no values");
  for (const auto& row : values->values) t.values.push_back(parse_number_list(row, path, values->line));
  // A 1-D table may be written as one row; shape checks catch corrupt files.
  const size_t n1 = std::max<size_t>(t.index_1.size(), 1);
  const size_t n2 = std::max<size_t>(t.index_2.size(), 1);
  if (t.index_2.empty() && t.values.size() == 1 && t.values[0].size() == n1 && n1 > 1) {
    std::vector<std::vector<double>> column;
    for (double v : t.values[0]) column.push_back({v});
    t.values = std::move(column);
  }
  if (t.values.size() != n1)
    fail_at(path, values->line,
            "table '" + g.type + "' has " + std::to_string(t.values.size()) + " rows, index_1 has " +
                std::to_string(n1));
  for (const auto& row : t.values)
    if (row.size() != n2)
      fail_at(path, values->line,
              "table '" + g.type + "' row has " + std::to_string(row.size()) +
                  " values, index_2 has " + std::to_string(n2));
  return t;
}

double parse_time_unit_ns(const std::string& unit, const std::string& path, int line) {
  char* end = nullptr;
  const double scale = std::strtod(unit.c_str(), &end);
  const std::string suffix(end);
  if (end == unit.c_str()) fail_at(path, line, "bad time_unit '" + unit + "'");
  if (suffix == "ns") return scale;
  if (suffix == "ps") return scale * 1e-3;
  if (suffix == "us") return scale * 1e3;
  fail_at(path, line, "bad time_unit '" + unit + "' (expected ns, ps or us)");
}

// "1nW", "1V", (1, pf): a number and a unit from `units` (lower case) -> scale.
double parse_unit(const Attribute& a, const std::map<std::string, double>& units, const std::string& path) {
  std::string text;
  for (const auto& v : a.values) text += v;
  char* end = nullptr;
  const double scale = std::strtod(text.c_str(), &end);
  std::string suffix(end);
  suffix.erase(std::remove_if(suffix.begin(), suffix.end(), [](char c) { return c == ' ' || c == ',' || c == '"'; }),
               suffix.end());
  std::transform(suffix.begin(), suffix.end(), suffix.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto it = units.find(suffix);
  if (end == text.c_str() || it == units.end()) fail_at(path, a.line, "bad " + a.name + " '" + text + "'");
  return scale * it->second;
}

}  // namespace

double Table::lookup_slew_load(double slew, double load) const {
  auto is_load = [](const std::string& v) { return v.find("capacitance") != std::string::npos; };
  if (is_load(variable_1)) return lookup(load, slew);
  if (variable_1.empty() && variable_2.empty() && index_2.empty()) return lookup(slew);
  return lookup(slew, load);
}

double Table::lookup(double x1, double x2) const {
  auto locate = [](const std::vector<double>& axis, double x, size_t& lo, double& frac) {
    if (axis.size() < 2) {
      lo = 0;
      frac = 0.0;
      return;
    }
    lo = 0;
    while (lo + 2 < axis.size() && x > axis[lo + 1]) ++lo;
    const double span = axis[lo + 1] - axis[lo];
    frac = span == 0.0 ? 0.0 : (x - axis[lo]) / span;  // extrapolates outside the axis
  };
  size_t i = 0, j = 0;
  double fi = 0.0, fj = 0.0;
  locate(index_1, x1, i, fi);
  locate(index_2, x2, j, fj);
  auto at = [&](size_t a, size_t b) {
    a = std::min(a, values.size() - 1);
    b = std::min(b, values[a].size() - 1);
    return values[a][b];
  };
  const double v00 = at(i, j), v01 = at(i, j + 1), v10 = at(i + 1, j), v11 = at(i + 1, j + 1);
  return (1 - fi) * ((1 - fj) * v00 + fj * v01) + fi * ((1 - fj) * v10 + fj * v11);
}

const Pin* Cell::find_pin(const std::string& pin_name) const {
  for (const auto& p : pins)
    if (p.name == pin_name) return &p;
  return nullptr;
}

const Cell* Library::find_cell(const std::string& cell_name) const {
  const auto it = cells.find(cell_name);
  return it == cells.end() ? nullptr : &it->second;
}

const Cell& Library::cell(const std::string& cell_name) const {
  if (const Cell* c = find_cell(cell_name)) return *c;
  throw LibertyError("cell '" + cell_name + "' is not in liberty library '" + name + "' (" + path +
                     ")");
}

Library build_library(Group root, const std::string& path) {
  if (root.type != "library")
    fail_at(path, root.line, "top-level group is '" + root.type + "', expected 'library'");
  Library lib;
  lib.path = path;
  lib.name = root.name();
  if (const Attribute* a = root.find_attribute("time_unit"))
    lib.time_unit_ns = parse_time_unit_ns(a->value(), path, a->line);
  if (const Attribute* a = root.find_attribute("nom_voltage")) lib.nom_voltage = a->number(path);
  if (const Attribute* a = root.find_attribute("nom_temperature"))
    lib.nom_temperature = a->number(path);
  if (const Attribute* a = root.find_attribute("nom_process")) lib.nom_process = a->number(path);
  if (const Attribute* a = root.find_attribute("capacitive_load_unit"))
    lib.capacitance_unit_pf = parse_unit(*a, {{"ff", 1e-3}, {"pf", 1.0}}, path);
  if (const Attribute* a = root.find_attribute("leakage_power_unit"))
    lib.leakage_unit_w = parse_unit(*a, {{"pw", 1e-12}, {"nw", 1e-9}, {"uw", 1e-6}, {"mw", 1e-3}, {"w", 1.0}}, path);
  if (const Attribute* a = root.find_attribute("voltage_unit"))
    lib.voltage_unit_v = parse_unit(*a, {{"mv", 1e-3}, {"v", 1.0}}, path);
  lib.operating_voltage = lib.nom_voltage;
  if (auto name = root.attribute_value("default_operating_conditions"))
    if (const Group* oc = root.find_group("operating_conditions", *name))
      if (const Attribute* a = oc->find_attribute("voltage")) lib.operating_voltage = a->number(path);

  for (const Group* cg : root.groups_of_type("cell")) {
    Cell cell;
    cell.name = cg->name();
    cell.line = cg->line;
    if (cell.name.empty()) fail_at(path, cg->line, "cell group without a name");
    if (const Attribute* a = cg->find_attribute("area")) cell.area = a->number(path);
    if (auto v = cg->attribute_value("dont_use")) cell.dont_use = *v == "true";
    if (const Attribute* a = cg->find_attribute("cell_leakage_power")) cell.cell_leakage_power = a->number(path);
    for (const Group* lg : cg->groups_of_type("leakage_power"))
      if (const Attribute* a = lg->find_attribute("value"))
        cell.leakage_power.emplace_back(lg->attribute_value("when").value_or(""), a->number(path));
    for (const Group& sub : cg->groups) {
      if (sub.type == "ff" || sub.type == "latch") {
        StateElement st;
        st.is_latch = sub.type == "latch";
        if (!sub.names.empty()) st.state_var = sub.names[0];
        if (sub.names.size() > 1) st.state_var_n = sub.names[1];
        st.next_state = sub.attribute_value(st.is_latch ? "data_in" : "next_state").value_or("");
        st.clocked_on = sub.attribute_value(st.is_latch ? "enable" : "clocked_on").value_or("");
        st.clear = sub.attribute_value("clear").value_or("");
        st.preset = sub.attribute_value("preset").value_or("");
        cell.state = st;
      } else if (sub.type == "pin" || sub.type == "bus") {
        for (const auto& pin_name : sub.names) {  // pin (A, B) declares both
          Pin pin;
          pin.name = pin_name;
          pin.line = sub.line;
          pin.direction = sub.attribute_value("direction").value_or("");
          pin.function = sub.attribute_value("function").value_or("");
          if (const Attribute* a = sub.find_attribute("capacitance")) pin.capacitance = a->number(path);
          pin.rise_capacitance = pin.fall_capacitance = pin.capacitance;
          if (const Attribute* a = sub.find_attribute("rise_capacitance")) pin.rise_capacitance = a->number(path);
          if (const Attribute* a = sub.find_attribute("fall_capacitance")) pin.fall_capacitance = a->number(path);
          pin.is_clock = sub.attribute_value("clock").value_or("") == "true";
          for (const Group* tg : sub.groups_of_type("timing")) {
            TimingArc arc;
            arc.line = tg->line;
            arc.related_pin = tg->attribute_value("related_pin").value_or("");
            arc.timing_type = tg->attribute_value("timing_type").value_or("combinational");
            arc.timing_sense = tg->attribute_value("timing_sense").value_or("");
            arc.sdf_cond = tg->attribute_value("sdf_cond").value_or("");
            for (const Group& table : tg->groups)  // skip non-table groups (e.g. CCS receivers)
              if (table.find_attribute("values")) arc.tables[table.type] = build_table(table, root, path);
            pin.timing.push_back(std::move(arc));
          }
          for (const Group* pg : sub.groups_of_type("internal_power")) {
            InternalPower ip;
            ip.line = pg->line;
            ip.related_pin = pg->attribute_value("related_pin").value_or("");
            ip.when = pg->attribute_value("when").value_or("");
            for (const Group& table : pg->groups) {
              if (!table.find_attribute("values")) continue;
              if (table.type == "rise_power" || table.type == "power") ip.rise_power = build_table(table, root, path);
              if (table.type == "fall_power" || table.type == "power") ip.fall_power = build_table(table, root, path);
              if (table.type == "power") ip.one_table = true;
            }
            pin.internal_power.push_back(std::move(ip));
          }
          cell.pins.push_back(std::move(pin));
        }
      }
    }
    lib.cells[cell.name] = std::move(cell);
  }
  lib.root = std::move(root);
  return lib;
}

Library load_library(const std::string& path) {
  return build_library(read_liberty_file(path), path);
}

}  // namespace vosa::liberty
