// `vosa charlib` and `vosa charlib-compare` (docs/charlib.md).
#pragma once

#include <CLI/CLI.hpp>

namespace vosa::spice {

void add_charlib_commands(CLI::App& app);

}  // namespace vosa::spice
