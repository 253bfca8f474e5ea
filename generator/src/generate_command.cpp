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
      "OUT/include/vosa_params.h. On any error nothing is written. OUT must be new, empty, or an earlier\n"
      "vosa generate output (recognised by its manifest.json), which is then replaced; a folder holding\n"
      "any other file is refused, so vosa never deletes a file it did not write.");
  cmd->add_option("-c,--config", opt->config, "array config (JSON)")->required();
  cmd->add_option("-o,--out", opt->out, "output directory: new, empty, or an earlier vosa generate output (replaced)")->required();
  cmd->add_flag("-q,--quiet", opt->quiet, "print nothing on success");
  cmd->callback([opt]() {
    const ArrayConfig config = load_config(opt->config);
    const auto files = generate_design(config);
    const WriteResult written = write_files_atomically(files, opt->out);
    if (written.outcome == WriteResult::kReplaced)
      std::cerr << "vosa generate: replacing the earlier vosa output in " << opt->out << " (config hash "
                << written.previous_config_hash << ")\n";
    if (!opt->quiet) {
      std::cout << "vosa generate: " << config.rows << "x" << config.cols << " "
                << to_string(config.dataflow) << " array, " << config.act_bits << "x"
                << config.weight_bits << "-bit " << (config.is_signed ? "signed" : "unsigned")
                << " operands, " << config.acc_bits << "-bit accumulators (config hash "
                << config_hash(config) << ")\n";
      if (written.outcome == WriteResult::kUnchanged)
        std::cout << "  " << opt->out << " already holds exactly these files: left untouched\n";
      else
        for (const auto& f : files) std::cout << "  wrote " << opt->out << "/" << f.path << "\n";
    }
  });
}

}  // namespace vosa
