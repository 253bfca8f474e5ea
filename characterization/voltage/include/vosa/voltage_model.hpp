// Voltage model: delays at any supply voltage from a liberty voltage ladder.
//
// Alpha-power law (Sakurai-Newton): delay(V) = k * V / (V - Vth)^alpha.
// Fitted per timing table (cell_rise, cell_fall, transitions, setup/hold
// constraints of every arc) on the ladder's corners; a table at voltage V is
// the nearest characterized corner's table scaled by model(V)/model(V_near),
// so the model is exact at every ladder point. Single-corner libraries
// (osu018) use the Vth/alpha of their PDK config for every table: derated.
#pragma once

#include "vosa/pdk.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace vosa::voltage {

// V / (V - vth)^alpha, the voltage dependence of a gate delay (k omitted).
double alpha_power_shape(double voltage, double vth, double alpha);

struct AlphaPowerFit {
  double vth = 0.0;
  double alpha = 0.0;
  double k = 0.0;          // delay = k * alpha_power_shape(V, vth, alpha)
  double rms_log_error = 0.0;  // fit residual, RMS of ln(model/data)
};
// Least-squares fit in log space over (voltage, delay) points, delays > 0.
// Needs at least 2 points; with 2 points vth is fixed at vth_if_underdetermined.
AlphaPowerFit fit_alpha_power(const std::vector<double>& voltages, const std::vector<double>& delays,
                              double vth_if_underdetermined = 0.4);

struct ModelLibertyInfo {
  std::filesystem::path path;
  std::string delay_source;          // interpolated or derated
  bool outside_ladder = false;
  std::vector<std::string> fit_corners;  // ladder corners the model used
  std::string base_corner;           // characterized corner whose tables were scaled
  int tables_scaled = 0;
  double median_vth = 0.0, median_alpha = 0.0;  // over fitted tables (diagnostics)
};

// Write a liberty file for `request` (a non-characterized corner) fitted on
// `fit_corners` (default: every corner of its ladder) to `out`.
ModelLibertyInfo write_liberty_at_voltage(const pdk::PdkConfig& pdk, const pdk::CornerRequest& request,
                                          const std::filesystem::path& cache_dir,
                                          const std::filesystem::path& out,
                                          std::vector<std::string> fit_corners = {});

// The uncompressed liberty for any corner the flow can time: characterized
// (pdk::prepare_liberty) or produced by the voltage model under
// cache_dir/<pdk>/model/ (regenerated when its inputs change).
std::filesystem::path prepare_corner_liberty(const pdk::PdkConfig& pdk, const std::string& corner_name,
                                             const std::filesystem::path& cache_dir,
                                             const std::vector<std::string>& fit_corners = {});

}  // namespace vosa::voltage
