// The `vosa` binary: one entry point, one subcommand per step of the chain.
#include "vosa/commands.hpp"
#include "vosa/dta_commands.hpp"
#include "vosa/explore/bitwidth_command.hpp"
#include "vosa/explore/explore_command.hpp"
#include "vosa/explore/sram_joint_command.hpp"
#include "vosa/infer.hpp"
#include "vosa/infer_dump.hpp"
#include "vosa/flow_commands.hpp"
#include "vosa/render.hpp"
#include "vosa/reuse.hpp"
#include "vosa/sram_command.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace {

// Edit distance, for "did you mean" on a mistyped subcommand.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// CLI11 answers an unknown subcommand with "A subcommand is required"; name
// it instead, with the closest subcommand and the list.
int unknown_subcommand(CLI::App& app, const std::string& word) {
  std::string closest, list;
  std::size_t best = std::string::npos;
  for (const CLI::App* sub : app.get_subcommands({})) {
    const std::string& name = sub->get_name();
    list += (list.empty() ? "" : ", ") + name;
    const std::size_t d = name.rfind(word, 0) == 0 ? 0 : edit_distance(word, name);
    if (d < best) best = d, closest = name;
  }
  std::cerr << "vosa: error: unknown subcommand '" << word << "'";
  if (best <= std::max<std::size_t>(2, word.size() / 3)) std::cerr << "; did you mean '" << closest << "'?";
  std::cerr << "\nSubcommands: " << list << " (vosa --help; vosa <subcommand> --help)\n";
  return 2;
}

}  // namespace

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
  vosa::explore::add_bitwidth_command(app);
  vosa::explore::add_explore_sram_command(app);
  vosa::reuse::add_reuse_command(app);
  vosa::sram::add_sram_command(app);
  if (argc > 1 && argv[1][0] != '-') {
    const std::string word = argv[1];
    const auto subs = app.get_subcommands({});
    if (std::none_of(subs.begin(), subs.end(), [&](const CLI::App* sub) { return sub->check_name(word); }))
      return unknown_subcommand(app, word);
  }
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
