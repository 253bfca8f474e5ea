// `vosa bitwidth`: input-dependent dynamic bit-width on a real DNN
// (docs/precision.md).
#pragma once

#include <CLI/CLI.hpp>

namespace vosa::explore {

void add_bitwidth_command(CLI::App& app);

}  // namespace vosa::explore
