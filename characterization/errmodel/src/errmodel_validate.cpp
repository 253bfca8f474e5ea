// `vosa errmodel-validate`: fidelity of error models on a real operand stream
// (docs/errmodel.md, "Fidelity"). For each voltage: the simulator's errors on
// the stream (vosa dta --error-log) against injection from each model into
// the same cycles, whole-point and (when the model has them) per operand class.
#include "vosa/errmodel_fidelity.hpp"
#include "vosa/pdk.hpp"
#include "vosa/output_file.hpp"

#include <CLI/CLI.hpp>

#include <cmath>
#include <iostream>
#include <memory>
#include <sstream>

namespace vosa {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

void add_errmodel_validate_command(CLI::App& app) {
  struct Options {
    std::vector<std::string> models;
    std::string trace, dta_logs, voltages, out_json, out_md, require;
    double period_ns = 0;
    std::uint64_t cycles = 0, seeds = 100;
    fidelity::Tolerance tol;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "errmodel-validate",
      "Fidelity of error models on a real operand stream: per-bit error rates, P(any error), mean and\n"
      "max |captured - correct| of the PE output register, from the gate-level simulator's run of the\n"
      "stream (vosa dta --operands trace:F --error-log L) side by side with injection from each model\n"
      "into the same cycles over many seeds (docs/errmodel.md, \"Fidelity\").");
  cmd->add_option("--model", opt->models, "NAME=errmodel.json (repeatable); a model with classes is also tried per class")
      ->required();
  cmd->add_option("--trace", opt->trace, "the operand trace the simulator ran (*.vtrace)")->required();
  cmd->add_option("--cycles", opt->cycles, "first records of the trace the simulator ran (vosa dta --cycles; 0: all)");
  cmd->add_option("--voltage", opt->voltages, "voltage(s), comma-separated")->required();
  cmd->add_option("--dta-errors", opt->dta_logs, "vosa dta --error-log file(s), one per voltage, comma-separated")
      ->required();
  cmd->add_option("--period-ns", opt->period_ns, "clock period (ns)")->required();
  cmd->add_option("--seeds", opt->seeds, "injected runs per model (default 100)")->check(CLI::Range(1, 100000));
  cmd->add_option("--tolerance", opt->tol.relative, "allowed |model / simulator - 1| of rates and mean |error| (default 0.25)")
      ->check(CLI::Range(0.0, 10.0));
  cmd->add_option("--bit-factor", opt->tol.bit_factor, "allowed factor between model and simulator per-bit rates (default 1.5)")
      ->check(CLI::Range(1.0, 100.0));
  cmd->add_option("--min-errors", opt->tol.min_errors, "judge a bit only with at least this many errors (default 20)");
  cmd->add_option("--out-json", opt->out_json, "report JSON");
  cmd->add_option("--out-md", opt->out_md, "report Markdown");
  cmd->add_option("--require", opt->require,
                  "exit 2 unless the comparison of this model label (NAME or NAME+classes) passes at every voltage");
  cmd->callback([opt]() {
    using nlohmann::json;
    OperandTrace trace = read_trace(opt->trace);
    if (opt->cycles && trace.records.size() > opt->cycles) trace.records.resize(opt->cycles);
    std::vector<double> voltages;
    for (const auto& v : split(opt->voltages, ',')) {
      try {
        voltages.push_back(std::stod(v));
      } catch (const std::exception&) {
        throw std::runtime_error("--voltage: '" + v + "' is not a number");
      }
    }
    const auto logs = split(opt->dta_logs, ',');
    if (logs.size() != voltages.size())
      throw std::runtime_error("--dta-errors: " + std::to_string(logs.size()) + " file(s) for " +
                               std::to_string(voltages.size()) + " voltage(s); give one log per voltage");
    struct Named {
      std::string name, path;
      ErrorModel model;
    };
    std::vector<Named> models;
    for (const auto& spec : opt->models) {
      const auto eq = spec.find('=');
      if (eq == std::string::npos || eq == 0)
        throw std::runtime_error("--model '" + spec + "': expected NAME=errmodel.json");
      models.push_back({spec.substr(0, eq), spec.substr(eq + 1), ErrorModel::load(spec.substr(eq + 1))});
      const auto& m = models.back().model;
      if (m.acc_bits != trace.header.acc_bits || m.is_signed != trace.header.is_signed)
        throw std::runtime_error(models.back().path + ": model is for a " + std::to_string(m.acc_bits) +
                                 "-bit accumulator, the trace " + opt->trace + " has " +
                                 std::to_string(trace.header.acc_bits) + " bits");
    }

    bool required_seen = opt->require.empty(), required_pass = true;
    json runs = json::array();
    std::ostringstream md;
    md << "# Error-model fidelity\n\nStream: `" << opt->trace << "` (" << trace.header.source << "; "
       << trace.header.layer << "; PE " << trace.header.pe_row << "," << trace.header.pe_col << "), "
       << trace.records.size() << " cycles, T = " << opt->period_ns << " ns. Injected: " << opt->seeds
       << " seeds per model. Tolerance: model within " << opt->tol.relative * 100
       << " % of the simulator, or inside the simulator's 95 % interval, for P(any error) and mean |error|; "
          "within a factor "
       << opt->tol.bit_factor << " (or inside the interval) for every bit with at least " << opt->tol.min_errors
       << " errors on either side; median max |error| within a factor 2 (docs/errmodel.md, \"Fidelity\").\n";
    for (size_t vi = 0; vi < voltages.size(); ++vi) {
      const double v = voltages[vi];
      const fidelity::StreamStats dta =
          fidelity::dta_stats(trace, fidelity::read_error_log(logs[vi], opt->period_ns), logs[vi]);
      json run = {{"voltage", v}, {"period_ns", opt->period_ns}, {"dta_errors", logs[vi]}, {"models", json::array()}};
      for (const auto& nm : models) {
        // A model with PE positions: the band of the row the stream was traced at.
        const ErrorModelPoint& pt = nm.model.has_positions() ? nm.model.nearest(v, opt->period_ns, trace.header.pe_row)
                                                             : nm.model.nearest(v, opt->period_ns);
        if (std::abs(pt.voltage - v) > 1e-6 || std::abs(pt.period_ns - opt->period_ns) > 1e-3)
          throw std::runtime_error(nm.path + ": no point at " + std::to_string(v) + " V, " +
                                   std::to_string(opt->period_ns) + " ns (nearest: " + std::to_string(pt.voltage) +
                                   " V, " + std::to_string(pt.period_ns) + " ns)");
        for (bool use_classes : {false, true}) {
          if (use_classes && !pt.has_classes()) continue;
          const std::string label = nm.name + (use_classes ? "+classes" : "");
          std::vector<fidelity::StreamStats> injected;
          for (std::uint64_t s = 1; s <= opt->seeds; ++s)
            injected.push_back(fidelity::inject_stats(trace, pt, use_classes, s));
          json cmp = fidelity::compare(dta, injected, opt->tol);
          const bool pass = cmp.at("pass");
          if (label == opt->require) {
            required_seen = true;
            required_pass = required_pass && pass;
          }
          md << "\n## " << v << " V (" << pt.corner << ", " << pt.delay_source << "): model `" << label << "`\n\n"
             << "Model: `" << nm.path << "`, characterized on " << nm.model.operand_source << "; "
             << (use_classes ? "per operand class (" + nm.model.class_scheme + ")" : std::string("whole-point statistics"))
             << (pt.positioned() ? "; PE rows " + std::to_string(pt.row_first) + "-" + std::to_string(pt.row_last)
                                 : std::string(""))
             << ". Simulator log: `" << logs[vi] << "`.\n\n"
             << fidelity::comparison_markdown(cmp);
          std::cout << "errmodel-validate: " << v << " V " << pt.corner << " (" << pt.delay_source << ") " << label
                    << ": P(any) sim " << cmp["p_any_error"]["dta"]["value"].get<double>() << " model "
                    << cmp["p_any_error"]["model"]["mean"].get<double>() << ", mean |err| sim "
                    << cmp["mean_abs_error"]["dta"]["value"].get<double>() << " model "
                    << cmp["mean_abs_error"]["model"]["mean"].get<double>() << ", max |err| sim "
                    << cmp["max_abs_error"]["dta"].get<std::uint64_t>() << " model "
                    << cmp["max_abs_error"]["model"]["median"].get<double>()
                    << ": within tolerance: " << (pass ? "yes" : "no") << "\n";
          run["models"].push_back({{"label", label},
                                   {"file", nm.path},
                                   {"operand_source", nm.model.operand_source},
                                   {"per_class", use_classes},
                                   {"class_scheme", use_classes ? nm.model.class_scheme : ""},
                                   {"corner", pt.corner},
                                   {"delay_source", pt.delay_source},
                                   {"comparison", cmp}});
        }
      }
      runs.push_back(run);
    }
    if (!required_seen)
      throw std::runtime_error("--require '" + opt->require + "': no model has that label (NAME or NAME+classes)");
    const json report = {{"tool", "vosa errmodel-validate"},
                         {"trace", opt->trace},
                         {"trace_source", trace.header.source},
                         {"layer", trace.header.layer},
                         {"pe", {trace.header.pe_row, trace.header.pe_col}},
                         {"cycles", trace.records.size()},
                         {"seeds", opt->seeds},
                         {"tolerance",
                          {{"relative", opt->tol.relative}, {"bit_factor", opt->tol.bit_factor}, {"min_errors", opt->tol.min_errors}}},
                         {"runs", runs}};
    if (!opt->out_json.empty()) write_output_file(opt->out_json, report.dump(1) + "\n");
    if (!opt->out_md.empty()) write_output_file(opt->out_md, md.str());
    if (!required_pass) {
      std::cerr << "errmodel-validate: model '" << opt->require << "' is not within tolerance\n";
      throw CLI::RuntimeError(2);
    }
  });
}

}  // namespace vosa
