#include "vosa/flow_commands.hpp"

#include "vosa/bit_timing.hpp"
#include "vosa/charlib.hpp"
#include "vosa/charlib_commands.hpp"
#include "vosa/liberty.hpp"
#include "vosa/pdk.hpp"
#include "vosa/voltage_model.hpp"
#include "vosa/output_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace vosa {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string tcl_quote(const std::string& s) { return "{" + s + "}"; }

// Capacitance of `cell/pin` in fF, from the liberty's capacitive_load_unit.
double pin_capacitance_ff(const liberty::Library& lib, const std::string& cell, const std::string& pin) {
  const liberty::Pin* p = lib.cell(cell).find_pin(pin);
  if (!p) throw pdk::PdkError("cell " + cell + " in " + lib.path + " has no pin " + pin);
  double unit_ff = 1000.0;  // pf, the common default
  if (const liberty::Attribute* a = lib.root.find_attribute("capacitive_load_unit")) {
    if (a->values.size() == 2) {
      const double scale = std::stod(a->values[0]);
      const std::string& u = a->values[1];
      unit_ff = scale * (u == "ff" ? 1.0 : u == "pf" ? 1000.0 : u == "nf" ? 1e6 : 1000.0);
    }
  }
  return p->capacitance * unit_ff;
}

void add_pdk_command(CLI::App& app) {
  auto* pdk_cmd = app.add_subcommand(
      "pdk",
      "PDK configs (pdk_configs/<name>.json, see docs/pdks.md): list them, their corners, and the\n"
      "uncompressed liberty of any corner, characterized or from the voltage model.");
  pdk_cmd->require_subcommand(1);

  pdk_cmd->add_subcommand("list", "Names of the PDK configs found (VOSA_PDK_CONFIGS, then pdk_configs/)")
      ->callback([]() {
        for (const auto& name : pdk::available_pdks()) std::cout << name << "\n";
      });

  struct Options {
    std::string pdk, corner, ladder, key;
    std::string cache_dir, netlist;
    std::vector<std::string> cells;
    std::vector<std::string> fit_corners;
    std::vector<double> voltages;
    bool synth = false, characterized = false, all = false;
  };
  auto opt = std::make_shared<Options>();
  const std::string cache_help = "where prepared liberty files go (default: $VOSA_PDK_CACHE or build/pdk)";
  auto cache_dir = [opt]() { return opt->cache_dir.empty() ? pdk::default_cache_dir() : fs::path(opt->cache_dir); };

  auto* corners = pdk_cmd->add_subcommand(
      "corners",
      "Corners a flow run times by default: the default ladder plus the config's derated_voltages,\n"
      "ascending voltage, one per line. --ladder picks another ladder; --all lists every characterized corner.");
  corners->add_option("-p,--pdk", opt->pdk, "PDK name or config file")->required();
  corners->add_option("-l,--ladder", opt->ladder, "a voltage ladder of the PDK");
  corners->add_flag("-a,--all", opt->all, "every characterized corner");
  corners->add_option("-V,--voltages", opt->voltages, "corner names at these voltages on the ladder (1.3,1.5)")
      ->delimiter(',');
  corners->callback([opt]() {
    const pdk::PdkConfig p = pdk::load_pdk(opt->pdk);
    std::vector<std::string> names;
    if (!opt->voltages.empty()) {
      const std::string ladder = opt->ladder.empty() ? p.default_ladder : opt->ladder;
      for (double v : opt->voltages) {
        names.push_back(pdk::corner_name_at(p, ladder, v));
        pdk::resolve_corner(p, names.back());  // e.g. single-corner ladder without a voltage model
      }
    } else if (opt->all) {
      for (const auto& [n, c] : p.corners) names.push_back(n);
    } else if (!opt->ladder.empty()) {
      names = p.ladder(opt->ladder);
    } else {
      names = pdk::default_flow_corners(p);
    }
    for (const auto& n : names) std::cout << n << "\n";
  });

  auto* info = pdk_cmd->add_subcommand(
      "info", "One corner as JSON: voltage, ladder, delay_source (liberty-corner/interpolated/derated)");
  info->add_option("-p,--pdk", opt->pdk, "PDK name or config file")->required();
  info->add_option("-c,--corner", opt->corner, "corner name, e.g. ss_n40C_1v40 or ss_n40C_1v30")->required();
  info->callback([opt]() {
    const pdk::PdkConfig p = pdk::load_pdk(opt->pdk);
    const pdk::CornerRequest r = pdk::resolve_corner(p, opt->corner);
    json j = {{"pdk", p.name},         {"corner", r.name},
              {"voltage", r.voltage},  {"ladder", r.ladder},
              {"delay_source", r.delay_source}, {"characterized", r.characterized},
              {"outside_ladder", r.outside_ladder}};
    std::cout << j.dump(2) << "\n";
  });

  auto* path = pdk_cmd->add_subcommand("path", "Print the path of a PDK's config file (validated)");
  path->add_option("-p,--pdk", opt->pdk, "PDK name or config file")->required();
  path->callback([opt]() { std::cout << pdk::load_pdk(opt->pdk).path.string() << "\n"; });

  auto* get = pdk_cmd->add_subcommand(
      "get", "Print one field of a PDK config, by dotted path (signoff_corner, cells.driver.cell, ...)");
  get->add_option("-p,--pdk", opt->pdk, "PDK name or config file")->required();
  get->add_option("key", opt->key, "dotted path into the config JSON")->required();
  get->callback([opt]() {
    const fs::path file = pdk::find_pdk_config(opt->pdk);
    pdk::load_pdk_config(file);  // validates
    std::ifstream in(file);
    json node = json::parse(in);
    std::stringstream path(opt->key);
    std::string part;
    while (std::getline(path, part, '.')) {
      if (!node.is_object() || !node.contains(part))
        throw pdk::PdkError(file.string() + ": no field '" + opt->key + "'");
      node = node.at(part);
    }
    if (node.is_string()) std::cout << node.get<std::string>() << "\n";
    else if (node.is_array()) for (const auto& v : node) std::cout << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
    else std::cout << node.dump() << "\n";
  });

  auto* lib = pdk_cmd->add_subcommand(
      "liberty",
      "Print the path of the uncompressed liberty for a corner, preparing it if needed: gunzipped\n"
      "copy of a characterized corner, or a liberty at a non-ladder voltage from the voltage model\n"
      "(interpolated inside a ladder, derated outside it or on single-corner PDKs), or, where the PDK\n"
      "config names SPICE models, characterized with ngspice outside the ladders (spice / spice-ratio:\n"
      "needs --netlist or --cells, the liberty holds only those cells; docs/charlib.md).");
  lib->add_option("-p,--pdk", opt->pdk, "PDK name or config file")->required();
  lib->add_option("-c,--corner", opt->corner, "corner name")->required();
  lib->add_flag("-s,--synth", opt->synth, "synthesis copy: dont_use cells marked (characterized corners)");
  lib->add_option("--fit-corners", opt->fit_corners, "voltage model: ladder corners to fit on (default: all)")
      ->delimiter(',');
  lib->add_option("--cache-dir", opt->cache_dir, cache_help);
  lib->add_option("--netlist", opt->netlist, "SPICE corners: characterize the cells of this gate netlist");
  lib->add_option("--cells", opt->cells, "SPICE corners: characterize these cells (comma-separated)")->delimiter(',');
  lib->callback([opt, cache_dir]() {
    const pdk::PdkConfig p = pdk::load_pdk(opt->pdk);
    const std::string source = pdk::resolve_corner(p, opt->corner).delay_source;
    if (opt->synth) {
      std::cout << pdk::prepare_liberty(p, opt->corner, cache_dir(), true).string() << "\n";
    } else if (opt->fit_corners.empty() && (source == pdk::kSourceSpice || source == pdk::kSourceSpiceRatio)) {
      std::vector<std::string> cells = opt->cells;
      if (!opt->netlist.empty()) {
        const auto more = spice::netlist_cells(opt->netlist);
        cells.insert(cells.end(), more.begin(), more.end());
      }
      if (cells.empty())
        throw pdk::PdkError("corner " + opt->corner + " of PDK " + p.name + " is characterized with SPICE (" + source +
                            "): give --netlist or --cells");
      std::cout << spice::prepare_spice_liberty(p, opt->corner, cells, cache_dir()).string() << "\n";
    } else {
      std::cout << voltage::prepare_corner_liberty(p, opt->corner, cache_dir(), opt->fit_corners).string() << "\n";
    }
  });

  auto* tcl = pdk_cmd->add_subcommand(
      "tcl", "Tcl `set vosa_pdk(...)` lines with the PDK's cells for the flow's Yosys/OpenSTA scripts");
  tcl->add_option("-p,--pdk", opt->pdk, "PDK name or config file")->required();
  tcl->add_option("-c,--corner", opt->corner, "corner whose liberty gives the load capacitance (default: sign-off)");
  tcl->add_option("--cache-dir", opt->cache_dir, cache_help);
  tcl->callback([opt, cache_dir]() {
    const pdk::PdkConfig p = pdk::load_pdk(opt->pdk);
    const std::string corner = opt->corner.empty() ? p.signoff_corner : opt->corner;
    const liberty::Library lib = liberty::load_library(pdk::prepare_liberty(p, corner, cache_dir()).string());
    for (const auto& cell : {p.driver.cell, p.load.cell, p.buffer.cell}) lib.cell(cell);  // must exist
    const double load_ff = p.load_count * pin_capacitance_ff(lib, p.load.cell, p.load.pin);
    std::ostringstream out;
    out << "# PDK " << p.name << " (" << p.path.string() << "), load from corner " << corner << "\n";
    auto set = [&](const std::string& key, const std::string& value) {
      out << "set vosa_pdk(" << key << ") " << tcl_quote(value) << "\n";
    };
    set("name", p.name);
    set("library", p.library);
    set("driver_cell", p.driver.cell);
    set("driver_pin", p.driver.pin);
    set("load_cell", p.load.cell);
    set("load_pin", p.load.pin);
    set("load_count", std::to_string(p.load_count));
    std::ostringstream ff;
    ff << std::setprecision(6) << load_ff;
    set("load_ff", ff.str());
    set("buffer_cell", p.buffer.cell);
    set("buffer_in", p.buffer.in);
    set("buffer_out", p.buffer.out);
    set("tie_hi_cell", p.tie_hi ? p.tie_hi->cell : "");
    set("tie_hi_pin", p.tie_hi ? p.tie_hi->pin : "");
    set("tie_lo_cell", p.tie_lo ? p.tie_lo->cell : "");
    set("tie_lo_pin", p.tie_lo ? p.tie_lo->pin : "");
    std::cout << out.str();
  });
}

void add_sta_collect_command(CLI::App& app) {
  struct Options {
    std::string kind = "timing";
    sta::CollectOptions collect;
    std::string out;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "sta-collect",
      "Assemble the per-corner reports of flow/sta_corner.tcl into bit_timing.json (--kind timing)\n"
      "or energy.json (--kind energy). Fields: docs/flow.md. Nothing is written on error.");
  cmd->add_option("-k,--kind", opt->kind, "timing or energy")->check(CLI::IsMember({"timing", "energy"}));
  cmd->add_option("-p,--pdk", opt->collect.pdk, "PDK name or config file")->required();
  cmd->add_option("-m,--manifest", opt->collect.manifest, "design manifest.json (output register and width)")
      ->required();
  cmd->add_option("-n,--netlist", opt->collect.netlist, "the timed gate netlist (hashed into the output)")
      ->required();
  cmd->add_option("-c,--corners", opt->collect.corners, "corners, in output order")->required()->delimiter(',');
  cmd->add_option("-r,--reports", opt->collect.report_dir, "directory of <corner>.paths.tsv / .power.tsv")
      ->required();
  cmd->add_option("--period-source", opt->collect.period_source, "how the clock period was chosen (recorded)");
  cmd->add_option("-o,--out", opt->out, "output JSON")->required();
  cmd->callback([opt]() {
    const json doc = opt->kind == "timing" ? sta::collect_bit_timing(opt->collect) : sta::collect_energy(opt->collect);
    write_output_file(opt->out, doc.dump(1) + "\n");
    if (opt->kind == "energy") std::cout << sta::format_energy_table(doc);
  });
}

void add_timing_table_command(CLI::App& app) {
  struct Options {
    std::string file;
    std::string field = "arrival_ns";
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("timing-table",
                                 "Print a bit_timing.json as a table: output-register bits down, corners across");
  cmd->add_option("file", opt->file, "bit_timing.json")->required();
  cmd->add_option("-f,--field", opt->field, "arrival_ns, slack_ns or required_ns")
      ->check(CLI::IsMember({"arrival_ns", "slack_ns", "required_ns"}));
  cmd->callback([opt]() {
    std::ifstream in(opt->file);
    if (!in) throw sta::StaReportError("cannot read " + opt->file);
    json doc;
    try {
      doc = json::parse(in);
    } catch (const json::exception& e) {
      throw sta::StaReportError(opt->file + ": not valid JSON: " + e.what());
    }
    std::cout << sta::format_timing_table(doc, opt->field);
  });
}

void add_vmodel_compare_command(CLI::App& app) {
  struct Options {
    std::string pdk, reference, predicted, low, high, out;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "vmodel-compare",
      "Voltage-model check: per-bit arrival error of a model-liberty STA report against the\n"
      "characterized corner's report (both flow/sta_corner.tcl .paths.tsv). With --low/--high\n"
      "(reports of the neighbouring ladder corners) also the error of linear interpolation.");
  cmd->add_option("-p,--pdk", opt->pdk, "PDK name or config file")->required();
  cmd->add_option("-r,--reference", opt->reference, "report at the characterized corner")->required();
  cmd->add_option("-m,--predicted", opt->predicted, "report with the model liberty, same corner")->required();
  cmd->add_option("--low", opt->low, "report at the ladder corner just below (baseline)");
  cmd->add_option("--high", opt->high, "report at the ladder corner just above (baseline)");
  cmd->add_option("-o,--out", opt->out, "write the comparison as JSON");
  cmd->callback([opt]() {
    const pdk::PdkConfig p = pdk::load_pdk(opt->pdk);
    const sta::CornerPaths ref = sta::read_paths_report(opt->reference);
    const sta::CornerPaths pred = sta::read_paths_report(opt->predicted);
    if (ref.bits.size() != pred.bits.size())
      throw sta::StaReportError(opt->predicted + " has " + std::to_string(pred.bits.size()) + " bits, " +
                                opt->reference + " has " + std::to_string(ref.bits.size()));
    const double v = pdk::resolve_corner(p, ref.corner).voltage;
    const bool baseline = !opt->low.empty() && !opt->high.empty();
    sta::CornerPaths low, high;
    double vl = 0, vh = 0;
    if (baseline) {
      low = sta::read_paths_report(opt->low);
      high = sta::read_paths_report(opt->high);
      vl = pdk::resolve_corner(p, low.corner).voltage;
      vh = pdk::resolve_corner(p, high.corner).voltage;
    }
    struct Stats {
      double max_pct = 0, sum_pct = 0, max_ns = 0, sum_ns = 0;
      void add(double err_ns, double ref_ns) {
        const double pct = 100.0 * std::abs(err_ns) / ref_ns;
        max_pct = std::max(max_pct, pct), sum_pct += pct;
        max_ns = std::max(max_ns, std::abs(err_ns)), sum_ns += std::abs(err_ns);
      }
      json to_json(size_t n) const {
        return {{"max_abs_error_pct", max_pct}, {"mean_abs_error_pct", sum_pct / n},
                {"max_abs_error_ns", max_ns}, {"mean_abs_error_ns", sum_ns / n}};
      }
    } model, linear;
    json bits = json::array();
    for (size_t i = 0; i < ref.bits.size(); ++i) {
      const auto& r = ref.bits[i];
      const auto& m = pred.bits[i];
      if (r.bit != m.bit) throw sta::StaReportError("bit order differs between the reports");
      model.add(m.arrival_ns - r.arrival_ns, r.arrival_ns);
      json b = {{"bit", r.bit}, {"reference_ns", r.arrival_ns}, {"model_ns", m.arrival_ns},
                {"model_error_ns", m.arrival_ns - r.arrival_ns}};
      if (baseline) {
        const double t = (v - vl) / (vh - vl);
        const double lin = low.bits.at(i).arrival_ns + t * (high.bits.at(i).arrival_ns - low.bits.at(i).arrival_ns);
        linear.add(lin - r.arrival_ns, r.arrival_ns);
        b["linear_ns"] = lin;
      }
      bits.push_back(b);
    }
    const size_t n = ref.bits.size();
    json doc = {{"pdk", p.name}, {"corner", ref.corner}, {"voltage", v},
                {"reference", opt->reference}, {"predicted", opt->predicted},
                {"model", model.to_json(n)}, {"bits", bits}};
    if (baseline) doc["linear_interpolation"] = linear.to_json(n), doc["linear_between"] = {low.corner, high.corner};
    std::cout << std::fixed << std::setprecision(3) << "voltage model at " << ref.corner << " (" << v
              << " V), " << n << " bits of the output register: arrival error max " << model.max_pct << " % ("
              << model.max_ns << " ns), mean " << model.sum_pct / n << " % (" << model.sum_ns / n << " ns)\n";
    if (baseline)
      std::cout << "linear interpolation " << low.corner << ".." << high.corner << ": max " << linear.max_pct
                << " % (" << linear.max_ns << " ns), mean " << linear.sum_pct / n << " % ("
                << linear.sum_ns / n << " ns)\n";
    if (!opt->out.empty()) write_output_file(opt->out, doc.dump(1) + "\n");
  });
}

}  // namespace

void add_flow_commands(CLI::App& app) {
  add_pdk_command(app);
  add_sta_collect_command(app);
  add_timing_table_command(app);
  add_vmodel_compare_command(app);
  spice::add_charlib_commands(app);
}

}  // namespace vosa
