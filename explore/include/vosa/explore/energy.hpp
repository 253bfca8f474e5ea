// Inference energy of the array at a setting (docs/explore.md, "Energy"):
// PE-cycles of each island in each layer x the PE's energy per cycle at the
// island's voltage (the flow's power/energy.json), x the Razor overhead of the
// protected bits (make razor-cost), plus Razor stall cycles (one extra cycle of
// the whole array each), voltage-change settle stalls, and the island
// controller. The saving is against the sign-off corner with no Razor and no
// controller: same array, same period.
#pragma once

#include "vosa/config.hpp"
#include "vosa/explore/evaluation.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa::explore {

class ExploreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ArrayGeometry {
  int rows = 0, cols = 0, acc_bits = 0;
  std::vector<std::vector<int>> islands;  // columns of each island
  int settle_cycles = 0;                  // stall per voltage change (islands.settle_cycles)
  // From a validated generator config; without islands the whole array is
  // one island.
  static ArrayGeometry from_config(const ArrayConfig& config, const std::string& source);
};

struct EnergyCorner {
  std::string name, delay_source;
  double voltage = 0, energy_per_mac_pj = 0;
};

struct EnergyBreakdown {
  double pe_pj = 0;          // PE-cycles x energy per cycle at the island voltage
  double razor_pj = 0;       // extra energy of the protected bits (and TE-Drop flops)
  double stall_pj = 0;       // Razor stalls and voltage-settle stalls: whole-array cycles
  double controller_pj = 0;  // island controller, always-on at the sign-off voltage
  double total_pj = 0;
  double baseline_pj = 0;    // sign-off voltage, no Razor, no controller
  double saving_pct = 0;     // 100 * (1 - total / baseline)
};

class EnergyModel {
 public:
  // energy_json: the flow's power/energy.json (make power). razor_cost_json:
  // make razor-cost's razor_cost.json, which must have a table for the PDK.
  // operating_corner: the process/temperature the silicon runs at, as the
  // PDK's ladder name (tt_025C); its corners are kept and the sign-off
  // voltage is taken on it (docs/explore.md, "Operating corner"). Empty:
  // every corner of the file, the sign-off corner itself among them.
  static EnergyModel load(const std::string& energy_json, const std::string& razor_cost_json,
                          const ArrayGeometry& geometry, const std::string& operating_corner = "");
  static EnergyModel from_json(const nlohmann::json& energy, const std::string& energy_name,
                               const nlohmann::json& razor_cost, const std::string& razor_name,
                               const ArrayGeometry& geometry, const std::string& operating_corner = "");

  const std::vector<EnergyCorner>& corners() const { return corners_; }
  const EnergyCorner& corner_at(double voltage) const;  // throws unless a corner has this voltage
  double signoff_voltage() const { return signoff_voltage_; }
  const std::string& signoff_corner() const { return signoff_corner_; }
  // The ladder the energies come from ("" = the file's corners as given).
  const std::string& operating_corner() const { return operating_corner_; }
  const std::string& pdk() const { return pdk_; }
  const ArrayGeometry& geometry() const { return geometry_; }

  // Multiplier on the PE's energy per cycle for this many protected bits:
  // linear between the measured 0/4/8/all-bit points of razor-cost (relative
  // to the unprotected PE), extrapolated with the last segment's slope; TE-Drop
  // adds its measured extra over policy correct (razor-cost's policy-drop row),
  // or, for a table without one, acc_bits flops at that last per-bit cost
  // (assumed; drop_cost_source() says which; docs/explore.md).
  double razor_factor(int protected_bits, RazorPolicy policy) const;
  double controller_pj_per_cycle() const { return controller_pj_per_cycle_; }
  const std::string& drop_cost_source() const { return drop_cost_source_; }
  const std::string& controller_source() const { return controller_source_; }
  const std::string& razor_power_source() const { return razor_source_kind_; }

  // Energy of one inference. layer_cycles/layer_stalls: per array layer, as
  // Evaluation gives them.
  EnergyBreakdown inference(const Setting& s, const std::vector<double>& layer_cycles,
                            const std::vector<double>& layer_stalls) const;
  double baseline_pj(const std::vector<double>& layer_cycles) const;  // uniform_pj at the sign-off voltage
  // A conventional array (no Razor, no controller, no stalls) uniformly at
  // one level: the energy of a baseline (baselines.hpp).
  double uniform_pj(const std::vector<double>& layer_cycles, double voltage) const;
  // Energy of one island of one layer at a voltage with the setting's Razor
  // overhead, no stalls: what the selection algorithms trade off.
  double island_layer_pj(int island, double layer_cycles, double voltage, double factor) const;

  nlohmann::json describe() const;  // sources and numbers, for points.json

 private:
  std::string pdk_, energy_source_, razor_source_, signoff_corner_, operating_corner_;
  double signoff_voltage_ = 0;
  std::vector<EnergyCorner> corners_;
  std::vector<std::pair<int, double>> razor_rel_;  // (protected bits, power relative to 0 bits)
  int razor_acc_bits_ = 0;                         // acc bits of the PE razor-cost measured
  double controller_pj_per_cycle_ = 0;
  std::optional<double> drop_extra_;  // TE-Drop factor beyond policy correct, when measured
  std::string drop_cost_source_ = "assumed (acc_bits flops at the last measured per-bit cost)";
  std::string controller_source_;
  std::string razor_source_kind_;  // the activity the Razor PEs' relative cost comes from
  ArrayGeometry geometry_;
};

}  // namespace vosa::explore
