// `vosa errmodel-csv`: flat per-bit table of an error model, for spreadsheets
// and pandas. One row per (point, bit).
#include "vosa/error_model.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

namespace vosa {

void add_errmodel_csv_command(CLI::App& app) {
  struct Options {
    std::string model, out;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "errmodel-csv",
      "Write an error model (errmodel.json) as CSV, one row per (voltage, period, bit):\n"
      "voltage,period_ns,corner,delay_source,samples,bit,p_error,ci95_low,ci95_high,mean_settle_ns");
  cmd->add_option("model", opt->model, "errmodel.json")->required();
  cmd->add_option("--out", opt->out, "CSV file (default: standard output)");
  cmd->callback([opt]() {
    const ErrorModel m = ErrorModel::load(opt->model);
    std::ostringstream csv;
    csv.precision(9);
    csv << "voltage,period_ns,corner,delay_source,samples,bit,p_error,ci95_low,ci95_high,mean_settle_ns\n";
    for (const auto& p : m.points)
      for (const auto& b : p.bits)
        csv << p.voltage << "," << p.period_ns << "," << p.corner << "," << p.delay_source << ","
            << p.samples << "," << b.bit << "," << b.p_error << "," << b.ci_low << "," << b.ci_high
            << "," << b.mean_settle_ns << "\n";
    if (opt->out.empty()) {
      std::cout << csv.str();
      return;
    }
    const std::string tmp = opt->out + ".partial";
    {
      std::ofstream out(tmp);
      if (!out) throw std::runtime_error(tmp + ": cannot create file");
      out << csv.str();
    }
    std::filesystem::rename(tmp, opt->out);
  });
}

}  // namespace vosa
