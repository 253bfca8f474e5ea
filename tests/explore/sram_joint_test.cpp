// vosa explore-sram's joint search (explore/sram_joint.hpp) on a synthetic
// evaluator whose losses add up: the island table of the X-TPU tests plus a
// loss per SRAM supply that collapses below 0.35 V. Known answers: a brute
// force over every (island setting, SRAM supply).
#include "vosa/explore/sram_joint.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

using namespace vosa::explore;
using nlohmann::json;

namespace {

json joint_energy_fixture() {
  json e = {{"pdk", "testpdk"}, {"signoff_corner", "c1v00"}};
  for (auto [name, v, pj] : std::vector<std::tuple<const char*, double, double>>{
           {"c0v80", 0.8, 6.0}, {"c0v90", 0.9, 8.0}, {"c1v00", 1.0, 10.0}})
    e["corners"].push_back(
        {{"name", name}, {"voltage", v}, {"delay_source", "liberty-corner"}, {"energy_per_mac_pj", pj}});
  return e;
}

json joint_razor_fixture() {
  json rows = json::array();
  for (auto [k, r] : std::vector<std::pair<int, double>>{{0, 1.0}, {4, 1.2}, {8, 1.4}, {19, 1.62}})
    rows.push_back({{"block", "vosa_pe int8 (acc 19 bits)"}, {"protected_bits", k}, {"power_rel_pe0", r}});
  rows.push_back({{"block", "vosa_island_ctrl (8 cols)"}, {"protected_bits", nullptr}, {"energy_pj_per_cycle", 5.0}});
  return {{"pdks", {{"testpdk", {{"rows", rows}}}}}};
}

EnergyModel joint_energy() {
  ArrayGeometry g;
  g.rows = 2;
  g.cols = 4;
  g.acc_bits = 20;
  g.islands = {{0, 1}, {2, 3}};
  g.settle_cycles = 0;  // the knapsack prices units separately
  return EnergyModel::from_json(joint_energy_fixture(), "energy.json", joint_razor_fixture(), "razor_cost.json", g);
}

const std::vector<double> kLevels{0.8, 0.9, 1.0};
const std::vector<double> kCycles{100, 200, 50};

struct JointSynthetic {
  // island loss[l][i][k] (percentage points), as the X-TPU tests
  std::vector<std::vector<std::vector<double>>> island{
      {{0.6, 0.1, 0}, {0.2, 0.05, 0}}, {{3.0, 0.4, 0}, {0.3, 0.0, 0}}, {{0.25, 0.2, 0}, {1.5, 0.3, 0}}};
  // loss of the weight SRAM at each supply: collapses below 0.35 V
  std::map<double, double> sram{{1.0, 0}, {0.5, 0.1}, {0.4, 0.3}, {0.35, 0.6}, {0.3, 8.0}, {0.25, 60.0}};
  std::set<double> asked;  // supplies the search evaluated
  double array_loss(const Setting& s) const {
    double total = 0;
    for (size_t l = 0; l < 3; ++l)
      for (size_t i = 0; i < 2; ++i)
        for (size_t k = 0; k < 3; ++k)
          if (std::abs(s.voltage[l][i] - kLevels[k]) < 1e-9) total += island[l][i][k];
    return total;
  }
  double loss(const Setting& s, double v) const { return array_loss(s) + sram.at(v); }
  JointEvaluator evaluator() {
    return [this](const Setting& s, double v) {
      asked.insert(v);
      Evaluation e;
      e.loss.samples = 100;
      e.loss.repeats = 1;
      e.loss.loss_pct = loss(s, v);
      e.loss.ci_low_pct = e.loss.loss_pct - 0.1;
      e.loss.ci_high_pct = e.loss.loss_pct + 0.1;
      e.layer_array_cycles = kCycles;
      e.layer_stall_cycles = {0, 0, 0};
      return e;
    };
  }
};

SramEnergyModel sram_energy() {
  SramEnergyModel s;
  s.nominal_v = 1.0;
  s.bits_per_inference = 10000;
  s.pj_per_bit = 1.0;  // 10 nJ at nominal: comparable to the array's 28 nJ
  s.pj_per_bit_source = "test";
  return s;
}

// The cheapest (array + SRAM) energy over every island setting and supply
// whose loss fits; restricted to one knob when asked.
double brute_force_best(const JointSynthetic& syn, const EnergyModel& m, double budget, bool array, bool sram) {
  const SramEnergyModel se = sram_energy();
  double best = 1e300;
  for (const auto& [v, unused] : syn.sram) {
    if (!sram && v != 1.0) continue;
    for (int code = 0; code < 729; ++code) {
      Setting s = Setting::uniform(3, 2, 1.0);
      int c = code;
      for (int l = 0; l < 3; ++l)
        for (int i = 0; i < 2; ++i, c /= 3) s.voltage[l][i] = kLevels[c % 3];
      if (!array && code != 728) continue;  // 728: every digit 2, all at sign-off
      if (syn.loss(s, v) > budget + 1e-12) continue;
      // All at sign-off is the conventional array: no island controller.
      const double array_pj = code == 728 ? m.baseline_pj(kCycles) : m.inference(s, kCycles, {0, 0, 0}).total_pj;
      best = std::min(best, array_pj + se.pj(v));
    }
  }
  return best;
}

}  // namespace

TEST(ExploreSramJoint, MatchesBruteForceAndBeatsEachKnobAlone) {
  const EnergyModel m = joint_energy();
  {  // with a controller this cheap, lowering islands pays
    JointSynthetic syn;
    ExploreOptions o;
    o.budget_pct = 1.0;
    const JointResult r = explore_joint(syn.evaluator(), m, 3, kLevels, {0.4}, sram_energy(), o, true);
    EXPECT_LT(r.array_only.total_pj, r.nominal.total_pj);
    EXPECT_LT(r.sram_only.total_pj, r.nominal.total_pj);
  }
  for (double budget : {0.5, 1.0, 2.0}) {
    JointSynthetic syn;
    ExploreOptions o;
    o.budget_pct = budget;
    const JointResult r = explore_joint(syn.evaluator(), m, 3, kLevels, {0.5, 0.4, 0.35, 0.3, 0.25}, sram_energy(), o,
                                        /*quiet=*/true);
    ASSERT_TRUE(r.joint.fits) << budget;
    EXPECT_LE(syn.loss(r.joint.setting, r.joint.sram_v), budget + 1e-12);
    // The search is exact on additive losses: the brute-force optimum.
    EXPECT_NEAR(r.joint.total_pj, brute_force_best(syn, m, budget, true, true), 1e-6) << budget;
    EXPECT_NEAR(r.array_only.total_pj, brute_force_best(syn, m, budget, true, false), 1e-6) << budget;
    EXPECT_NEAR(r.sram_only.total_pj, brute_force_best(syn, m, budget, false, true), 1e-6) << budget;
    // Never worse than either knob alone, on the same evaluations.
    EXPECT_LE(r.joint.total_pj, r.array_only.total_pj + 1e-9);
    EXPECT_LE(r.joint.total_pj, r.sram_only.total_pj + 1e-9);
    EXPECT_GT(r.joint.saving_pct(), 0);
    EXPECT_NEAR(r.nominal.saving_pct(), 0, 1e-9);
  }
}

TEST(ExploreSramJoint, SupplyBelowTheCollapseIsRejected) {
  const EnergyModel m = joint_energy();
  JointSynthetic syn;
  ExploreOptions o;
  o.budget_pct = 1.0;
  const JointResult r =
      explore_joint(syn.evaluator(), m, 3, kLevels, {0.25, 0.3, 0.35, 0.4, 0.5}, sram_energy(), o, true);
  // 0.30 V alone loses 8 points: rejected, and 0.25 V below it never run.
  ASSERT_EQ(r.steps.size(), 5u);  // 1.0 (nominal, added), 0.5, 0.4, 0.35, 0.3
  EXPECT_DOUBLE_EQ(r.steps.front().sram_v, 1.0);
  EXPECT_TRUE(r.steps.back().rejected);
  EXPECT_DOUBLE_EQ(r.steps.back().sram_v, 0.3);
  EXPECT_EQ(r.not_measured, std::vector<double>{0.25});
  EXPECT_EQ(syn.asked.count(0.25), 0u);
  EXPECT_GE(r.joint.sram_v, 0.35);
  EXPECT_GE(r.sram_only.sram_v, 0.35);
  // What the SRAM spends is no longer there for the islands.
  for (const JointStep& s : r.steps)
    if (!s.rejected) {
      EXPECT_NEAR(s.budget_left_pct, 1.0 - syn.sram.at(s.sram_v), 1e-12);
    }
  // A supply above nominal is a named error.
  EXPECT_THROW(explore_joint(syn.evaluator(), m, 3, kLevels, {1.2}, sram_energy(), o, true), ExploreError);
  const json j = to_json(r, sram_energy());
  EXPECT_EQ(j.at("schema"), "vosa-explore-sram");
  EXPECT_TRUE(j.at("steps").back().at("rejected").get<bool>());
}
