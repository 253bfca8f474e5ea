// The two ngspice helpers every SPICE deck of vosa uses: the PDK's model
// folder prepared for ngspice, and one batch run of a deck.
#pragma once

#include "vosa/pdk.hpp"

#include <filesystem>
#include <string>

namespace vosa::spice {

// A gunzipped copy of the PDK's model folder (ngspice cannot read .gz) under
// <cache>/<pdk>/spice/models; returns the model library file inside it.
// Throws CharlibError (vosa/charlib.hpp) naming the missing folder or file.
std::filesystem::path prepare_models(const pdk::PdkConfig& pdk, const std::filesystem::path& cache_dir);

// Writes `deck` to <dir>/deck.cir, runs `ngspice -b` there on one thread and
// returns its stdout+stderr; throws CharlibError naming `what` and the log
// when ngspice fails or reports no convergence.
std::string run_ngspice(const std::string& deck, const std::filesystem::path& dir, const std::string& what);

}  // namespace vosa::spice
