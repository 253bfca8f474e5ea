#include "vosa/commands.hpp"
#include "vosa/config.hpp"
#include "vosa/render.hpp"

#include <iostream>
#include <memory>

namespace vosa {

void add_generate_command(CLI::App& app) {
  struct Options {
    std::string config;
    std::string out;
    bool quiet = false;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "generate",
      "Generate Verilog for a systolic array from a JSON config (see docs/config.md).\n"
      "Writes OUT/rtl/*.v (one module per file), OUT/manifest.json, OUT/constraints.sdc and\n"
      "OUT/include/vosa_params.h. On any error nothing is written.");
  cmd->add_option("-c,--config", opt->config, "array config (JSON)")->required();
  cmd->add_option("-o,--out", opt->out, "output directory (replaced if it exists)")->required();
  cmd->add_flag("-q,--quiet", opt->quiet, "print nothing on success");
  cmd->callback([opt]() {
    const ArrayConfig config = load_config(opt->config);
    const auto files = generate_design(config);
    write_files_atomically(files, opt->out);
    if (!opt->quiet) {
      std::cout << "vosa generate: " << config.rows << "x" << config.cols << " "
                << to_string(config.dataflow) << " array, " << config.act_bits << "x"
                << config.weight_bits << "-bit " << (config.is_signed ? "signed" : "unsigned")
                << " operands, " << config.acc_bits << "-bit accumulators (config hash "
                << config_hash(config) << ")\n";
      for (const auto& f : files) std::cout << "  wrote " << opt->out << "/" << f.path << "\n";
    }
  });
}

}  // namespace vosa
