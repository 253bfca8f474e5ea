#include "vosa/bit_timing.hpp"

#include "vosa/pdk.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

namespace vosa::sta {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream ss(line);
  std::string field;
  while (std::getline(ss, field, '\t')) fields.push_back(field);
  return fields;
}

double to_number(const std::string& text, const fs::path& file, int line_no, const std::string& what) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw StaReportError(file.string() + ":" + std::to_string(line_no) + ": " + what + " '" + text +
                       "' is not a number");
}

std::ifstream open_report(const fs::path& path) {
  std::ifstream in(path);
  if (!in)
    throw StaReportError("cannot read " + path.string() +
                         " (run the STA step for this corner first: make sta)");
  return in;
}

struct Design {
  std::string output_register;
  int bits = 0;
  std::string config_hash;
  std::string module;
};

Design read_manifest(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw StaReportError("cannot read design manifest " + path.string());
  json m;
  try {
    m = json::parse(in);
    Design d;
    d.output_register = m.at("pe_output_register").get<std::string>();
    d.bits = m.at("config").at("acc_bits").get<int>();
    d.config_hash = m.value("config_hash", "");
    d.module = m.value("pe", "vosa_pe");
    return d;
  } catch (const json::exception& e) {
    throw StaReportError(path.string() + ": not a vosa manifest (needs pe_output_register and config.acc_bits): " +
                         e.what());
  }
}

}  // namespace

std::string file_hash(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw StaReportError("cannot read " + path.string());
  std::uint64_t h = 1469598103934665603ull;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h ^= static_cast<unsigned char>(buffer[i]);
      h *= 1099511628211ull;
    }
  }
  std::ostringstream out;
  out << std::hex << std::setw(16) << std::setfill('0') << h;
  return out.str();
}

CornerPaths read_paths_report(const fs::path& path) {
  std::ifstream in = open_report(path);
  CornerPaths report;
  std::map<int, BitTiming> bits;
  std::string line;
  int line_no = 0;
  bool saw_period = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    const auto f = split_tabs(line);
    const std::string where = path.string() + ":" + std::to_string(line_no) + ": ";
    if (f[0] == "corner" && f.size() == 2) {
      report.corner = f[1];
    } else if (f[0] == "period_ns" && f.size() == 2) {
      report.period_ns = to_number(f[1], path, line_no, "period");
      saw_period = true;
    } else if (f[0] == "liberty" && f.size() == 2) {
      report.liberty = f[1];
    } else if (f[0] == "worst_slack_ns" && f.size() == 2) {
      report.worst_slack_ns = to_number(f[1], path, line_no, "worst slack");
    } else if (f[0] == "bit" && f.size() == 4 && f[3] == "unconstrained") {
      throw StaReportError(where + "bit " + f[1] + " (" + f[2] + ") has no constrained timing path");
    } else if (f[0] == "bit" && f.size() == 6) {
      BitTiming b;
      b.bit = static_cast<int>(to_number(f[1], path, line_no, "bit index"));
      b.endpoint = f[2];
      b.arrival_ns = to_number(f[3], path, line_no, "arrival");
      b.required_ns = to_number(f[4], path, line_no, "required time");
      b.slack_ns = to_number(f[5], path, line_no, "slack");
      if (bits.count(b.bit)) throw StaReportError(where + "bit " + f[1] + " reported twice");
      bits[b.bit] = b;
    } else if (f[0] == "path" && f.size() == 6) {
      const int bit = static_cast<int>(to_number(f[1], path, line_no, "bit index"));
      if (!bits.count(bit)) throw StaReportError(where + "path of bit " + f[1] + " before its bit line");
      PathDelay p;
      p.arrival_ns = to_number(f[2], path, line_no, "path arrival");
      p.slack_ns = to_number(f[3], path, line_no, "path slack");
      p.startpoint = f[4];
      p.pins = static_cast<int>(to_number(f[5], path, line_no, "pin count"));
      bits[bit].paths.push_back(p);
    } else {
      throw StaReportError(where + "unexpected line '" + line + "'");
    }
  }
  if (report.corner.empty() || !saw_period)
    throw StaReportError(path.string() + ": not a flow/sta_corner.tcl report (no corner/period_ns lines)");
  for (auto& [bit, b] : bits) report.bits.push_back(b);
  return report;
}

CornerPower read_power_report(const fs::path& path) {
  std::ifstream in = open_report(path);
  CornerPower p;
  std::string line;
  int line_no = 0;
  bool saw_total = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    const auto f = split_tabs(line);
    if (f[0] == "corner" && f.size() == 2) p.corner = f[1];
    else if (f[0] == "period_ns" && f.size() == 2) p.period_ns = to_number(f[1], path, line_no, "period");
    else if (f[0] == "activity" && f.size() == 2) p.activity = f[1];
    else if (f[0] == "total" && f.size() == 5) {
      p.internal_w = to_number(f[1], path, line_no, "internal power");
      p.switching_w = to_number(f[2], path, line_no, "switching power");
      p.leakage_w = to_number(f[3], path, line_no, "leakage power");
      p.total_w = to_number(f[4], path, line_no, "total power");
      saw_total = true;
    }
  }
  if (p.corner.empty() || !saw_total)
    throw StaReportError(path.string() + ": not a flow/sta_corner.tcl power report (no corner/total lines)");
  return p;
}

namespace {

json corner_header(const pdk::PdkConfig& pdk, const std::string& corner) {
  const pdk::CornerRequest req = pdk::resolve_corner(pdk, corner);
  json c;
  c["name"] = corner;
  c["voltage"] = req.voltage;
  c["delay_source"] = req.delay_source;
  c["outside_ladder"] = req.outside_ladder;
  c["ladder"] = req.ladder;
  if (req.characterized) {
    const auto& pc = pdk.corner(corner);
    c["process"] = pc.process;
    c["temperature_c"] = pc.temperature_c;
  } else {
    const auto& base = pdk.corner(pdk.ladder(req.ladder).front());
    c["process"] = base.process;
    c["temperature_c"] = base.temperature_c;
  }
  return c;
}

json document_header(const pdk::PdkConfig& pdk, const Design& design, const CollectOptions& o, int schema) {
  json doc;
  doc["schema_version"] = schema;
  doc["generator"] = "vosa";
  doc["pdk"] = pdk.name;
  doc["library"] = pdk.library;
  doc["signoff_corner"] = pdk.signoff_corner;
  doc["design"] = {{"module", design.module},
                   {"output_register", design.output_register},
                   {"bits", design.bits},
                   {"config_hash", design.config_hash}};
  doc["netlist"] = o.netlist.string();
  doc["netlist_hash"] = file_hash(o.netlist);
  doc["period_source"] = o.period_source;
  return doc;
}

}  // namespace

json collect_bit_timing(const CollectOptions& o) {
  const pdk::PdkConfig pdk = pdk::load_pdk(o.pdk);
  const Design design = read_manifest(o.manifest);
  if (o.corners.empty()) throw StaReportError("no corners given");
  json doc = document_header(pdk, design, o, kBitTimingSchemaVersion);
  json corners = json::array();
  double period = -1;
  for (const auto& name : o.corners) {
    const fs::path file = o.report_dir / (name + ".paths.tsv");
    const CornerPaths report = read_paths_report(file);
    if (report.corner != name)
      throw StaReportError(file.string() + ": reports corner " + report.corner + ", expected " + name);
    if (period >= 0 && std::abs(report.period_ns - period) > 1e-9)
      throw StaReportError(file.string() + ": period " + std::to_string(report.period_ns) +
                           " ns differs from the other corners' " + std::to_string(period) + " ns (stale report?)");
    period = report.period_ns;
    if (static_cast<int>(report.bits.size()) != design.bits) {
      std::vector<bool> seen(design.bits, false);
      for (const auto& b : report.bits)
        if (b.bit >= 0 && b.bit < design.bits) seen[b.bit] = true;
      std::string missing;
      for (int i = 0; i < design.bits; ++i)
        if (!seen[i]) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
      throw StaReportError(file.string() + ": has " + std::to_string(report.bits.size()) + " bits of " +
                           design.output_register + ", the manifest says " + std::to_string(design.bits) +
                           (missing.empty() ? "" : " (missing: " + missing + ")"));
    }
    json c = corner_header(pdk, name);
    c["liberty"] = report.liberty;
    c["worst_slack_ns"] = report.worst_slack_ns;
    json bits = json::array();
    const BitTiming* critical = nullptr;
    for (const auto& b : report.bits) {
      json paths = json::array();
      for (const auto& p : b.paths)
        paths.push_back({{"arrival_ns", p.arrival_ns}, {"slack_ns", p.slack_ns},
                         {"startpoint", p.startpoint}, {"pins", p.pins}});
      bits.push_back({{"bit", b.bit}, {"endpoint", b.endpoint}, {"arrival_ns", b.arrival_ns},
                      {"required_ns", b.required_ns}, {"slack_ns", b.slack_ns}, {"paths", paths}});
      if (!critical || b.slack_ns < critical->slack_ns) critical = &b;
    }
    c["critical_bit"] = critical->bit;
    c["output_register_worst_slack_ns"] = critical->slack_ns;
    c["bits"] = bits;
    corners.push_back(c);
  }
  doc["period_ns"] = period;
  doc["corners"] = corners;
  for (const auto& d : dvfs_points(doc))
    doc["dvfs_points"].push_back({{"process", d.process},
                                  {"temperature_c", d.temperature_c},
                                  {"voltage", d.available ? json(d.voltage) : json()},
                                  {"corner", d.available ? json(d.corner) : json()}});
  return doc;
}

json collect_energy(const CollectOptions& o) {
  const pdk::PdkConfig pdk = pdk::load_pdk(o.pdk);
  const Design design = read_manifest(o.manifest);
  if (o.corners.empty()) throw StaReportError("no corners given");
  json doc = document_header(pdk, design, o, kEnergySchemaVersion);
  json corners = json::array();
  double period = -1;
  std::string activity;
  for (const auto& name : o.corners) {
    const fs::path file = o.report_dir / (name + ".power.tsv");
    const CornerPower p = read_power_report(file);
    if (p.corner != name)
      throw StaReportError(file.string() + ": reports corner " + p.corner + ", expected " + name);
    period = p.period_ns;
    activity = p.activity;
    json c = corner_header(pdk, name);
    c["power_w"] = {{"internal", p.internal_w}, {"switching", p.switching_w},
                    {"leakage", p.leakage_w}, {"total", p.total_w}};
    // One MAC per PE per clock cycle.
    c["energy_per_mac_pj"] = p.total_w * p.period_ns * 1e3;
    corners.push_back(c);
  }
  doc["period_ns"] = period;
  doc["activity"] = activity;
  doc["power_source"] = "OpenSTA report_power (liberty internal/leakage power, switching C*V^2)";
  doc["corners"] = corners;
  return doc;
}

std::vector<DvfsPoint> dvfs_points(const json& bit_timing, const std::vector<double>& only_voltages) {
  struct Timed {
    double voltage, slack;
    std::string corner;
  };
  std::vector<DvfsPoint> points;
  std::vector<std::vector<Timed>> timed;
  for (const auto& c : bit_timing.at("corners")) {
    const double v = c.at("voltage").get<double>();
    if (!only_voltages.empty() &&
        std::none_of(only_voltages.begin(), only_voltages.end(), [&](double x) { return std::abs(x - v) < 5e-3; }))
      continue;
    const std::string process = c.value("process", "");
    const double temperature = c.value("temperature_c", 0.0);
    size_t i = 0;
    while (i < points.size() && !(points[i].process == process && std::abs(points[i].temperature_c - temperature) < 1e-6))
      ++i;
    if (i == points.size()) {
      points.push_back({process, temperature, false, 0, ""});
      timed.emplace_back();
    }
    timed[i].push_back({v, c.at("worst_slack_ns").get<double>(), c.at("name").get<std::string>()});
  }
  for (size_t i = 0; i < points.size(); ++i) {
    std::sort(timed[i].begin(), timed[i].end(), [](const Timed& a, const Timed& b) { return a.voltage > b.voltage; });
    for (const auto& t : timed[i]) {
      if (t.slack < 0) break;
      points[i].available = true;
      points[i].voltage = t.voltage;
      points[i].corner = t.corner;
    }
  }
  return points;
}

std::string format_timing_table(const json& doc, const std::string& field) {
  try {
    const json& corners = doc.at("corners");
    std::ostringstream out;
    out << "# " << doc.at("pdk").get<std::string>() << ", " << doc.at("design").at("output_register").get<std::string>()
        << " " << field << " per bit, period " << doc.at("period_ns").get<double>() << " ns\n";
    out << std::setw(6) << "bit";
    for (const auto& c : corners) out << std::setw(16) << c.at("name").get<std::string>();
    out << "\n" << std::setw(6) << "V";
    for (const auto& c : corners) out << std::setw(16) << std::fixed << std::setprecision(3) << c.at("voltage").get<double>();
    out << "\n" << std::setw(6) << "src";
    for (const auto& c : corners) {
      std::string src = c.at("delay_source").get<std::string>();
      if (c.value("outside_ladder", false)) src += "!";
      out << std::setw(16) << src;
    }
    out << "\n";
    const size_t nbits = corners.at(0).at("bits").size();
    for (size_t i = nbits; i-- > 0;) {
      out << std::setw(6) << corners.at(0).at("bits").at(i).at("bit").get<int>();
      for (const auto& c : corners) {
        const json& b = c.at("bits").at(i);
        const double v = b.at(field).get<double>();
        std::ostringstream cell;
        cell << std::fixed << std::setprecision(3) << v << (b.at("slack_ns").get<double>() < 0 ? " *" : "  ");
        out << std::setw(16) << cell.str();
      }
      out << "\n";
    }
    out << "(* = negative slack: the bit fails at this period; ! = outside the characterized ladder)\n";
    for (const auto& d : dvfs_points(doc)) {
      out << "DVFS point at " << doc.at("period_ns").get<double>() << " ns, " << d.process << " "
          << std::defaultfloat << d.temperature_c << " C: ";
      if (d.available)
        out << std::fixed << std::setprecision(3) << d.voltage << " V (" << d.corner << ")\n";
      else
        out << "none (STA fails at the highest timed voltage)\n";
    }
    return out.str();
  } catch (const json::exception& e) {
    throw StaReportError(std::string("not a bit_timing.json document: ") + e.what());
  }
}

std::string format_energy_table(const json& doc) {
  try {
    std::ostringstream out;
    out << "# " << doc.at("pdk").get<std::string>() << " " << doc.at("design").at("module").get<std::string>()
        << ", period " << doc.at("period_ns").get<double>() << " ns, activity: " << doc.at("activity").get<std::string>()
        << "\n";
    out << std::setw(18) << "corner" << std::setw(8) << "V" << std::setw(16) << "delay_source" << std::setw(12)
        << "power_mW" << std::setw(16) << "energy_pJ/MAC" << "\n";
    for (const auto& c : doc.at("corners")) {
      std::string src = c.at("delay_source").get<std::string>();
      if (c.value("outside_ladder", false)) src += "!";
      out << std::setw(18) << c.at("name").get<std::string>() << std::setw(8) << std::fixed << std::setprecision(3)
          << c.at("voltage").get<double>() << std::setw(16) << src << std::setw(12) << std::setprecision(4)
          << c.at("power_w").at("total").get<double>() * 1e3 << std::setw(16)
          << c.at("energy_per_mac_pj").get<double>() << "\n";
    }
    return out.str();
  } catch (const json::exception& e) {
    throw StaReportError(std::string("not an energy.json document: ") + e.what());
  }
}

}  // namespace vosa::sta
