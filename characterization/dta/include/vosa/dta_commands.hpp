// Subcommands of the characterization chain: `vosa dta`, `vosa trace`,
// `vosa errmodel-merge`, `vosa errmodel-csv`.
#pragma once

#include <CLI/CLI.hpp>

namespace vosa {
void add_dta_commands(CLI::App& app);
}  // namespace vosa
