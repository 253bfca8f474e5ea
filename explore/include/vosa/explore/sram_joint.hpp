// Joint exploration of the array islands' voltages and the SRAM supply under
// one accuracy budget (`vosa explore-sram`, docs/sram.md "Joint exploration").
//
// The search: X-TPU's per-(layer, island) sensitivities are measured once with
// a fault-free SRAM (its supply at nominal). Then, for each SRAM supply from
// the top down, the all-sign-off array with the weight SRAM at that supply is
// measured over the chips' fault maps ("SRAM alone"); the first supply whose
// loss alone exceeds the budget ends the descent (lower supplies only add
// faults: rejected, not measured). At each supply that fits, the knapsack
// spends what the SRAM loss leaves of the budget on the array units, and the
// combined setting is verified with both error sources together (back-off as
// X-TPU's). The joint choice is the cheapest verified point of the whole
// search, which contains both single-knob choices: the array alone (X-TPU at
// the nominal SRAM supply) and the SRAM alone (the lowest supply that fits).
#pragma once

#include "vosa/explore/selection.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vosa::explore {

// Energy of the weight SRAM per inference: bits read x energy per bit at the
// nominal supply x (V / V_nominal)^2 (C V^2: bit-line and word-line swings,
// capacitances voltage-independent, leakage not counted; docs/sram.md).
struct SramEnergyModel {
  double nominal_v = 0;
  double bits_per_inference = 0;  // weight-buffer bits read per inference (array dataflow)
  double pj_per_bit = 0;          // at nominal_v
  std::string pj_per_bit_source;  // where pj_per_bit comes from
  double pj(double v) const;      // throws ExploreError for a non-positive voltage
};

// Accuracy loss and array cycles of an array setting with the weight SRAM at
// supply sram_v (both error sources together, several chips).
using JointEvaluator = std::function<Evaluation(const Setting&, double sram_v)>;

struct JointPoint {
  std::string knob;  // "nominal", "array", "sram", "joint"
  double sram_v = 0;
  Setting setting;
  Evaluation eval;
  bool fits = false;
  double array_pj = 0, sram_pj = 0, total_pj = 0, baseline_pj = 0;
  double saving_pct() const { return 100.0 * (1.0 - total_pj / baseline_pj); }
};

struct JointStep {  // one SRAM supply of the descent
  double sram_v = 0;
  JointPoint sram_alone;           // array at sign-off
  bool rejected = false;           // the SRAM alone exceeds the budget: this and lower supplies out
  double budget_left_pct = 0;      // what the SRAM loss leaves for the array
  Selection joint;                 // the verified combined schedule (point_id into explorer)
  JointPoint joint_point;
  std::shared_ptr<Explorer> explorer;  // every evaluation at this supply
};

struct JointResult {
  std::vector<JointStep> steps;  // SRAM supplies from the nominal down; the last may be rejected
  Selection array_selection;     // X-TPU at the nominal SRAM supply (steps[0])
  std::vector<double> not_measured;  // supplies below a rejected one
  JointPoint nominal, array_only, sram_only, joint;
};

JointResult explore_joint(const JointEvaluator& evaluate, const EnergyModel& energy, int layers,
                          const std::vector<double>& levels, std::vector<double> sram_voltages,
                          const SramEnergyModel& sram, const ExploreOptions& options, bool quiet = false);

nlohmann::json to_json(const JointResult& r, const SramEnergyModel& sram);

}  // namespace vosa::explore
