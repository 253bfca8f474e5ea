// Dynamic bit-width policy (explore/bitwidth): the cascade, threshold choice
// on synthetic confidence scores with known answers, the static choice.
#include "vosa/explore/bitwidth.hpp"
#include "vosa/explore/energy.hpp"

#include <gtest/gtest.h>

using namespace vosa::explore;

namespace {

// Modes {8, 4}: a 4-bit pass costs 1, an 8-bit pass 4. Inputs 0..9: the
// 4-bit pass is right exactly when its confidence is >= 5 (confidence = i);
// the 8-bit pass is always right.
PassTable two_mode_table() {
  PassTable t;
  t.energy = {4.0, 1.0};
  t.outcomes.resize(2);
  for (int i = 0; i < 10; ++i) {
    t.outcomes[0].push_back({100, true});
    t.outcomes[1].push_back({i, i >= 5});
  }
  return t;
}

}  // namespace

TEST(Bitwidth, ConfidenceMargin) {
  EXPECT_EQ(confidence_margin({3, 9, 1, 7}), 2);
  EXPECT_EQ(confidence_margin({9, 9, 1}), 0);
  EXPECT_EQ(confidence_margin({-128, 127}), 255);
  EXPECT_EQ(confidence_margin({5}), 0);
}

TEST(Bitwidth, CascadeCountsReruns) {
  const PassTable t = two_mode_table();
  const PolicyOutcome r = apply_policy(t, Policy{{kNever, 5}});
  // Inputs 5..9 accepted at 4 bits (energy 1), 0..4 rerun at 8 bits (1 + 4).
  EXPECT_EQ(r.accepted_at[1], 5u);
  EXPECT_EQ(r.accepted_at[0], 5u);
  EXPECT_DOUBLE_EQ(r.top1, 1.0);
  EXPECT_DOUBLE_EQ(r.mean_energy, (5 * 1.0 + 5 * 5.0) / 10);
  EXPECT_DOUBLE_EQ(r.mean_passes, 1.5);
  // Never accepting the 4-bit pass is static 8-bit.
  const PolicyOutcome full = apply_policy(t, Policy{{kNever, kNever}});
  EXPECT_DOUBLE_EQ(full.mean_energy, 4.0);
  EXPECT_DOUBLE_EQ(full.mean_energy, apply_static(t, 0).mean_energy);
}

TEST(Bitwidth, ThresholdsMeetTheBudgetAtLeastEnergy) {
  const PassTable t = two_mode_table();
  // No loss allowed: accept exactly the confident-and-right inputs (>= 5).
  EXPECT_EQ(choose_thresholds(t, 0.0).thresholds[1], 5);
  // 10 points allowed: one wrong acceptance (confidence 4) is within budget
  // and saves a rerun.
  EXPECT_EQ(choose_thresholds(t, 10.0).thresholds[1], 4);
  // 100 points: accept everything (threshold 0, the lowest confidence).
  EXPECT_EQ(choose_thresholds(t, 100.0).thresholds[1], 0);
  // A budget never makes the policy dearer than static full width.
  PassTable useless = t;
  for (auto& o : useless.outcomes[1]) o.correct = false;
  EXPECT_EQ(choose_thresholds(useless, 0.0).thresholds[1], kNever);
}

TEST(Bitwidth, RerunsCanCostMoreThanTheySave) {
  // A narrow pass that costs 3.5 of the 4 of a full pass: accepting only
  // half the inputs costs 0.5 * 3.5 + 0.5 * 7.5 = 5.5 > 4, so the search
  // must keep static full width at budget 0.
  PassTable t = two_mode_table();
  t.energy = {4.0, 3.5};
  EXPECT_EQ(choose_thresholds(t, 0.0).thresholds[1], kNever);
}

TEST(Bitwidth, ThreeModeCascadeStartsAtTheNarrowest) {
  // Modes {8, 6, 4}: 4-bit right and confident on inputs 0..3, 6-bit on
  // 0..7, 8-bit on all; energies 0.5, 2, 4.
  PassTable t;
  t.energy = {4.0, 2.0, 0.5};
  t.outcomes.resize(3);
  for (int i = 0; i < 10; ++i) {
    t.outcomes[0].push_back({50, true});
    t.outcomes[1].push_back({i < 8 ? 20 : 1, i < 8});
    t.outcomes[2].push_back({i < 4 ? 30 : 2, i < 4});
  }
  const Policy p = choose_thresholds(t, 0.0);
  const PolicyOutcome r = apply_policy(t, p);
  EXPECT_DOUBLE_EQ(r.top1, 1.0);
  EXPECT_EQ(r.accepted_at[2], 4u);
  EXPECT_EQ(r.accepted_at[1], 4u);
  EXPECT_EQ(r.accepted_at[0], 2u);
  EXPECT_DOUBLE_EQ(r.mean_energy, (4 * 0.5 + 4 * 2.5 + 2 * 6.5) / 10);
  // At 1 per 4-bit pass the 4-bit stage costs more reruns than it saves
  // (cascade 3.0 against 2.8 going straight to 6 bits): it is skipped.
  t.energy[2] = 1.0;
  const Policy skip = choose_thresholds(t, 0.0);
  EXPECT_EQ(skip.thresholds[2], kNever);
  EXPECT_DOUBLE_EQ(apply_policy(t, skip).mean_energy, (8 * 2.0 + 2 * 6.0) / 10);
  t.energy[2] = 0.5;
  // Static: 6 bits loses 20 points, 4 bits 60; only full width meets 10.
  EXPECT_EQ(choose_static_mode(t, 10.0), 0u);
  EXPECT_EQ(choose_static_mode(t, 20.0), 1u);
  EXPECT_EQ(choose_static_mode(t, 60.0), 2u);
}

TEST(Bitwidth, PairedLossAgainstFullWidth) {
  const PassTable t = two_mode_table();
  const PairedLoss l = loss_against_full(t, apply_static(t, 1));
  EXPECT_DOUBLE_EQ(l.loss_pct, 50.0);
  EXPECT_LT(l.ci_low_pct, 50.0);
  EXPECT_GT(l.ci_high_pct, 50.0);
}

TEST(Bitwidth, InconsistentTablesAreErrors) {
  PassTable t = two_mode_table();
  t.energy.pop_back();
  EXPECT_THROW(apply_static(t, 0), ExploreError);
  PassTable u = two_mode_table();
  u.outcomes[1].pop_back();
  EXPECT_THROW(choose_thresholds(u, 1.0), ExploreError);
  EXPECT_THROW(apply_policy(two_mode_table(), Policy{{kNever}}), ExploreError);
}
