// `vosa explore`: voltage and Razor-bit selection on a real DNN with
// error-injecting inference, and its report (docs/explore.md).
#pragma once

#include <CLI/CLI.hpp>

namespace vosa::explore {

void add_explore_command(CLI::App& app);

}  // namespace vosa::explore
