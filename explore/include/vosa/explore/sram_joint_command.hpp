// `vosa explore-sram`: the array islands' voltages and the weight SRAM's
// supply chosen together under one accuracy budget (docs/sram.md, "Joint
// exploration").
#pragma once

#include <CLI/CLI.hpp>

namespace vosa::explore {

void add_explore_sram_command(CLI::App& app);

}  // namespace vosa::explore
