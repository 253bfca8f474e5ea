// Subcommands of the `vosa` binary. Each library registers its own; the
// binary's main() only collects them.
#pragma once

#include <CLI/CLI.hpp>

namespace vosa {

void add_generate_command(CLI::App& app);

}  // namespace vosa
