// `vosa sram`: fault maps and accuracy with faulty weight SRAM (docs/sram.md).
#pragma once

#include <CLI/CLI.hpp>

namespace vosa::sram {
void add_sram_command(CLI::App& app);
}
