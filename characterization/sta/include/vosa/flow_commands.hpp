// The flow's vosa subcommands: `vosa pdk ...` (PDK configs and liberty files
// for any corner), `vosa sta-collect` (bit_timing.json / energy.json from the
// per-corner OpenSTA reports), `vosa timing-table`, `vosa vmodel ...`.
#pragma once

#include <CLI/CLI.hpp>

namespace vosa {

void add_flow_commands(CLI::App& app);

}  // namespace vosa
