// The `vosa` binary: one entry point, one subcommand per step of the chain.
#include "vosa/commands.hpp"
#include "vosa/dta_commands.hpp"
#include "vosa/explore/explore_command.hpp"
#include "vosa/infer.hpp"
#include "vosa/infer_dump.hpp"
#include "vosa/flow_commands.hpp"
#include "vosa/render.hpp"

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"vosa: voltage-overscaled systolic arrays -- RTL generator and timing-error "
               "characterization"};
  app.set_version_flag("--version", std::string("vosa ") + vosa::kGeneratorVersion);
  app.require_subcommand(1);
  vosa::add_generate_command(app);
  vosa::engine::add_infer_command(app);
  vosa::engine::add_infer_dump_command(app);
  vosa::add_flow_commands(app);
  vosa::add_dta_commands(app);
  vosa::explore::add_explore_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "vosa: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
