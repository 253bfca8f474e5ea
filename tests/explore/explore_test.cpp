// vosa explore: energy model against hand arithmetic, the selection
// algorithms on synthetic evaluators whose optimum is known, points.json.
#include "../dnn/data_dir.hpp"
#include "vosa/bit_timing.hpp"
#include "vosa/explore/energy.hpp"
#include "vosa/explore/explore_command.hpp"
#include "vosa/explore/report.hpp"
#include "vosa/explore/selection.hpp"
#include "vosa/explore/stages.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <tuple>

using namespace vosa::explore;
using nlohmann::json;

namespace {

json energy_fixture(std::vector<std::pair<double, double>> corners = {{0.8, 6.0}, {0.9, 8.0}, {1.0, 10.0}}) {
  json e = {{"pdk", "testpdk"}, {"signoff_corner", "c1v00"}};
  for (auto [v, pj] : corners) {
    char name[16];
    std::snprintf(name, sizeof name, "c%dv%02d", int(v), int(std::lround(v * 100)) % 100);
    e["corners"].push_back(
        {{"name", name}, {"voltage", v}, {"delay_source", "liberty-corner"}, {"energy_per_mac_pj", pj}});
  }
  return e;
}

json razor_fixture() {
  json rows = json::array();
  for (auto [k, r] : std::vector<std::pair<int, double>>{{0, 1.0}, {4, 1.2}, {8, 1.4}, {19, 1.62}})
    rows.push_back({{"block", "vosa_pe int8 (acc 19 bits)"}, {"protected_bits", k}, {"power_rel_pe0", r}});
  rows.push_back({{"block", "vosa_island_ctrl (8 cols)"}, {"protected_bits", nullptr}, {"energy_pj_per_cycle", 100.0}});
  return {{"pdks", {{"testpdk", {{"rows", rows}}}}}};
}

ArrayGeometry small_geometry(int settle_cycles = 5) {
  ArrayGeometry g;
  g.rows = 2;
  g.cols = 4;
  g.acc_bits = 20;
  g.islands = {{0, 1}, {2, 3}};
  g.settle_cycles = settle_cycles;
  return g;
}

// settle_cycles 0 for the selection tests: the knapsack prices units
// separately, the settle stalls between layers are not separable.
EnergyModel small_energy(int settle_cycles = 5) {
  return EnergyModel::from_json(energy_fixture(), "energy.json", razor_fixture(), "razor_cost.json",
                                small_geometry(settle_cycles));
}

}  // namespace

TEST(ExploreEnergy, MatchesHandComputation) {
  const EnergyModel m = small_energy();
  EXPECT_DOUBLE_EQ(m.signoff_voltage(), 1.0);
  EXPECT_NEAR(m.razor_factor(0, RazorPolicy::kCorrect), 1.0, 1e-12);
  EXPECT_NEAR(m.razor_factor(2, RazorPolicy::kCorrect), 1.1, 1e-12);
  EXPECT_NEAR(m.razor_factor(19, RazorPolicy::kCorrect), 1.62, 1e-12);
  EXPECT_NEAR(m.razor_factor(20, RazorPolicy::kCorrect), 1.64, 1e-12);  // last slope 0.02/bit
  EXPECT_NEAR(m.razor_factor(4, RazorPolicy::kDrop), 1.2 + 20 * 0.02, 1e-12);
  EXPECT_NEAR(m.razor_factor(4, RazorPolicy::kNone), 1.0, 1e-12);

  Setting s;
  s.voltage = {{0.8, 1.0}, {0.8, 1.0}};
  s.razor_mask = 0xF0000;  // 4 bits
  s.policy = RazorPolicy::kCorrect;
  const EnergyBreakdown e = m.inference(s, {10, 20}, {1, 0});
  // PE: layer 0: 10 cycles x 2 rows x 2 cols x 6 pJ + 10 x 4 x 10; layer 1 the same x 20.
  EXPECT_NEAR(e.pe_pj, 240 + 400 + 480 + 800, 1e-9);
  EXPECT_NEAR(e.razor_pj, 0.2 * 1920, 1e-9);
  EXPECT_NEAR(e.stall_pj, 1 * (4 * 6 + 4 * 10) * 1.2, 1e-9);  // one stall in layer 0, no voltage change
  EXPECT_NEAR(e.controller_pj, (10 + 1 + 20) * 100.0, 1e-9);
  EXPECT_NEAR(e.baseline_pj, 30 * 8 * 10.0, 1e-9);
  EXPECT_NEAR(e.total_pj, 1920 + 384 + 76.8 + 3100, 1e-9);
  EXPECT_NEAR(e.saving_pct, 100 * (1 - e.total_pj / 2400), 1e-9);

  // A voltage change between layers stalls the whole array settle_cycles.
  Setting t = Setting::uniform(2, 2, 1.0);
  t.voltage[1] = {0.9, 0.9};
  const EnergyBreakdown f = m.inference(t, {10, 20}, {0, 0});
  EXPECT_NEAR(f.stall_pj, 5 * 8 * 8.0, 1e-9);
  EXPECT_NEAR(f.pe_pj, 10 * 8 * 10.0 + 20 * 8 * 8.0, 1e-9);
}

TEST(ExploreEnergy, BadInputsNameTheProblem) {
  const auto g = small_geometry();
  auto expect_error = [](auto f, const std::string& text) {
    try {
      f();
      ADD_FAILURE() << "no error, expected: " << text;
    } catch (const ExploreError& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  expect_error([&] { EnergyModel::load("/nonexistent/energy.json", "/nonexistent/r.json", g); }, "make power");
  const std::string tmp = (std::filesystem::temp_directory_path() / "vosa_explore_energy.json").string();
  std::ofstream(tmp) << energy_fixture().dump();
  expect_error([&] { EnergyModel::load(tmp, "/nonexistent/r.json", g); }, "make razor-cost");
  std::filesystem::remove(tmp);
  json no_pdk = razor_fixture();
  no_pdk["pdks"].erase("testpdk");
  expect_error([&] { EnergyModel::from_json(energy_fixture(), "e", no_pdk, "r", g); }, "no table for PDK testpdk");
  json bad = energy_fixture();
  bad["corners"][0].erase("energy_per_mac_pj");
  expect_error([&] { EnergyModel::from_json(bad, "e.json", razor_fixture(), "r", g); }, "energy_per_mac_pj");
  expect_error([&] { small_energy().corner_at(0.85); }, "no corner at 0.85");
}

TEST(ExplorePairedLoss, HandComputed) {
  const PairedLoss r = paired_loss({1, 1, 0, 1}, std::vector<double>{1, 0, 0, 0.5}, 2);
  EXPECT_NEAR(r.loss_pct, 37.5, 1e-9);
  EXPECT_NEAR(r.clean_accuracy_pct, 75, 1e-9);
  EXPECT_NEAR(r.faulty_accuracy_pct, 37.5, 1e-9);
  // d = 0, 1, 0, 0.5: sd = 0.4787, t(3) = 3.182
  const double half = 3.182 * std::sqrt((0.140625 + 0.390625 + 0.140625 + 0.015625) / 3 / 4);
  EXPECT_NEAR(r.ci_high_pct - r.loss_pct, 100 * half, 1e-6);
  const PairedLoss s = paired_loss({1, 0}, {{1, 0}, {0, 0}});  // repeats: the second loses sample 0
  EXPECT_NEAR(s.loss_pct, 25, 1e-9);
  EXPECT_THROW(paired_loss({1, 0}, {{1}}), ExploreError);
}

// What a synthetic evaluator returns: a loss with a +-0.1 interval, the
// layers' cycles, no stalls.
Evaluation synthetic_evaluation(double loss_pct, std::vector<double> cycles, std::size_t samples) {
  Evaluation e;
  e.loss.samples = samples;
  e.loss.repeats = 1;
  e.loss.loss_pct = loss_pct;
  e.loss.ci_low_pct = loss_pct - 0.1;
  e.loss.ci_high_pct = loss_pct + 0.1;
  e.layer_stall_cycles.assign(cycles.size(), 0.0);
  e.layer_array_cycles = std::move(cycles);
  return e;
}

// Additive synthetic evaluator: each (layer, island) below sign-off adds a
// known loss; optional interaction penalty when many units are lowered.
struct Synthetic {
  int layers = 3, islands = 2;
  std::vector<double> levels{0.8, 0.9, 1.0};
  // loss[l][i][k]
  std::vector<std::vector<std::vector<double>>> loss;
  double penalty = 0;  // added when more than penalty_after units are below sign-off
  int penalty_after = 100;
  int calls = 0;
  Synthetic() {
    loss = {{{0.6, 0.1, 0}, {0.2, 0.05, 0}}, {{3.0, 0.4, 0}, {0.3, 0.0, 0}}, {{0.25, 0.2, 0}, {1.5, 0.3, 0}}};
  }
  double measured(const Setting& s) const {
    double total = 0;
    int lowered = 0;
    for (int l = 0; l < layers; ++l)
      for (int i = 0; i < islands; ++i)
        for (int k = 0; k < 3; ++k)
          if (std::abs(s.voltage[l][i] - levels[k]) < 1e-9) {
            total += loss[l][i][k];
            lowered += k < 2;
          }
    return total + (lowered > penalty_after ? penalty : 0);
  }
  Evaluator evaluator() {
    return [this](const Setting& s) {
      ++calls;
      return synthetic_evaluation(measured(s), {100, 200, 50}, 100);
    };
  }
};

namespace {
// Brute force: the largest energy saving whose additive loss fits.
double brute_force_best_saving(const Synthetic& syn, const EnergyModel& m, double budget) {
  double best = -1e300;
  for (int code = 0; code < 729; ++code) {
    Setting s = Setting::uniform(3, 2, 1.0);
    int c = code;
    for (int l = 0; l < 3; ++l)
      for (int i = 0; i < 2; ++i, c /= 3) s.voltage[l][i] = syn.levels[c % 3];
    if (syn.measured(s) > budget + 1e-12) continue;
    best = std::max(best, m.inference(s, {100, 200, 50}, {0, 0, 0}).saving_pct);
  }
  return best;
}
}  // namespace

TEST(ExploreXtpu, ExactMatchesBruteForceAndRespectsBudget) {
  const EnergyModel m = small_energy(0);
  double last_saving = -1e300;
  for (double budget : {0.3, 0.5, 1.0, 2.0}) {
    Synthetic syn;
    ExploreOptions o;
    o.budget_pct = budget;
    Explorer ex(syn.evaluator(), m, 3, syn.levels, o);
    ex.set_quiet(true);
    const Selection sel = select_xtpu(ex);
    ASSERT_TRUE(sel.fits) << budget;
    const Point& p = ex.points()[sel.point_id];
    EXPECT_LE(p.eval.loss.loss_pct, budget + 1e-12);
    EXPECT_EQ(sel.backoffs, 0);
    EXPECT_NEAR(p.energy.saving_pct, brute_force_best_saving(syn, m, budget), 1e-9) << budget;
    EXPECT_GE(p.energy.saving_pct, last_saving - 1e-12) << "saving must not fall as the budget grows";
    last_saving = p.energy.saving_pct;
    // Sensitivity stops below a level that alone exceeds the budget.
    if (budget < 3.0) {
      EXPECT_LT(sel.sensitivity[2][0], 0);  // layer 1 island 0 at 0.8 V: 3.0 %
    }
  }
}

TEST(ExploreXtpu, GreedyRespectsBudget) {
  const EnergyModel m = small_energy(0);
  Synthetic syn;
  ExploreOptions o;
  o.budget_pct = 0.5;
  o.exact_solver = false;
  Explorer ex(syn.evaluator(), m, 3, syn.levels, o);
  ex.set_quiet(true);
  const Selection sel = select_xtpu(ex);
  ASSERT_TRUE(sel.fits);
  EXPECT_LE(sel.predicted_loss_pct, 0.5 + 1e-12);
  EXPECT_LE(brute_force_best_saving(syn, m, 0.5) - ex.points()[sel.point_id].energy.saving_pct, 10.0);
}

TEST(ExploreXtpu, BacksOffWhenTheAdditivePredictionIsWrong) {
  const EnergyModel m = small_energy(0);
  Synthetic syn;
  syn.penalty = 5.0;  // more than two units lowered together: far over budget
  syn.penalty_after = 2;
  ExploreOptions o;
  o.budget_pct = 1.0;
  Explorer ex(syn.evaluator(), m, 3, syn.levels, o);
  ex.set_quiet(true);
  const Selection sel = select_xtpu(ex);
  ASSERT_TRUE(sel.fits);
  EXPECT_GT(sel.backoffs, 0);
  EXPECT_LE(ex.points()[sel.point_id].eval.loss.loss_pct, 1.0);
  int lowered = 0;
  for (const auto& l : sel.setting.voltage)
    for (double v : l) lowered += v < 1.0;
  EXPECT_LE(lowered, 2);
}

TEST(ExploreXtpu, UpperBoundIsStricterThanPointEstimate) {
  const EnergyModel m = small_energy(0);
  Synthetic syn;
  ExploreOptions o;
  o.budget_pct = 0.5;
  o.verify_bound = Bound::kUpper;  // loss + 0.1 must fit
  Explorer ex(syn.evaluator(), m, 3, syn.levels, o);
  ex.set_quiet(true);
  const Selection sel = select_xtpu(ex);
  ASSERT_TRUE(sel.fits);
  EXPECT_LE(ex.points()[sel.point_id].eval.loss.ci_high_pct, 0.5 + 1e-12);
}

TEST(ExploreBudget, MustBePositive) {
  const EnergyModel m = small_energy(0);
  Synthetic syn;
  ExploreOptions o;
  o.budget_pct = 0;
  EXPECT_THROW(Explorer(syn.evaluator(), m, 3, syn.levels, o), ExploreError);
  o.budget_pct = 0.5;
  EXPECT_THROW(Explorer(syn.evaluator(), m, 3, {0.8, 0.9}, o), ExploreError);  // no sign-off level
  EXPECT_THROW(Explorer(syn.evaluator(), m, 3, {0.85, 1.0}, o), ExploreError);  // no energy figure
}

TEST(ExploreThundervolt, PerLayerVoltageWithTeDrop) {
  const EnergyModel m = small_energy(0);
  Synthetic syn;
  ExploreOptions o;
  o.budget_pct = 0.5;
  Explorer ex(syn.evaluator(), m, 3, syn.levels, o);
  ex.set_quiet(true);
  const Selection sel = select_thundervolt(ex, 0xF0000);
  ASSERT_TRUE(sel.fits);
  EXPECT_EQ(sel.setting.policy, RazorPolicy::kDrop);
  EXPECT_EQ(sel.setting.razor_mask, 0xF0000u);
  for (const auto& l : sel.setting.voltage) EXPECT_EQ(l[0], l[1]);  // one voltage per layer
  EXPECT_LE(ex.points()[sel.point_id].eval.loss.loss_pct, 0.5);
}

// TE-Drop priced from razor-cost's measured policy-drop row when the table has
// one (its extra over policy correct at the same bits), assumed otherwise.
TEST(ExploreEnergy, TeDropUsesTheMeasuredDropRow) {
  json razor = razor_fixture();
  auto& rows = razor["pdks"]["testpdk"]["rows"];
  rows.push_back({{"block", "vosa_pe int8 (acc 19 bits)"}, {"protected_bits", 8}, {"policy", "drop"},
                  {"power_rel_pe0", 1.5}});
  const EnergyModel m = EnergyModel::from_json(energy_fixture(), "energy.json", razor, "razor_cost.json",
                                               small_geometry());
  EXPECT_NEAR(m.razor_factor(8, RazorPolicy::kCorrect), 1.4, 1e-12);  // the drop row is not a correct point
  EXPECT_NEAR(m.razor_factor(4, RazorPolicy::kDrop), 1.2 + 0.1, 1e-12);
  EXPECT_NE(m.drop_cost_source().find("measured"), std::string::npos);
  EXPECT_NE(small_energy().drop_cost_source().find("assumed"), std::string::npos);
  rows.back()["policy"] = "fix";
  EXPECT_THROW(EnergyModel::from_json(energy_fixture(), "energy.json", razor, "razor_cost.json", small_geometry()),
               ExploreError);
}

// The island controller: this array's own (razor-cost RAZOR_COST_CTRL_CONFIG,
// same columns and islands) over the reference one, and the source says which.
TEST(ExploreEnergy, ControllerAsGeneratedWinsOverTheReference) {
  EXPECT_NE(small_energy().controller_source().find("not this array's"), std::string::npos);
  json razor = razor_fixture();
  razor["pdks"]["testpdk"]["rows"].push_back({{"block", "vosa_island_ctrl (explore: 4 cols, 2 islands)"},
                                             {"protected_bits", nullptr}, {"cols", 4}, {"islands", 2},
                                             {"energy_pj_per_cycle", 50.0}});
  const EnergyModel m = EnergyModel::from_json(energy_fixture(), "energy.json", razor, "razor_cost.json",
                                               small_geometry());
  EXPECT_DOUBLE_EQ(m.controller_pj_per_cycle(), 50.0);
  EXPECT_NE(m.controller_source().find("as generated"), std::string::npos);
  razor["pdks"]["testpdk"]["rows"].back()["cols"] = 8;  // another array's: the reference stays
  EXPECT_DOUBLE_EQ(EnergyModel::from_json(energy_fixture(), "energy.json", razor, "razor_cost.json", small_geometry())
                       .controller_pj_per_cycle(),
                   100.0);
}

// The controller is priced with the PE's activity source: simulated next to
// a simulated PE, OpenSTA's default activity otherwise, and the source says so.
TEST(ExploreEnergy, ControllerTakesThePesActivitySource) {
  json razor = razor_fixture();
  razor["pdks"]["testpdk"]["rows"].back()["energy_pj_per_cycle_simulated"] = 20.0;
  json simulated = energy_fixture();
  simulated["activity_source"] = "simulated";
  const EnergyModel sim = EnergyModel::from_json(simulated, "energy.json", razor, "razor_cost.json", small_geometry());
  EXPECT_DOUBLE_EQ(sim.controller_pj_per_cycle(), 20.0);
  EXPECT_NE(sim.controller_source().find("simulated activity"), std::string::npos);
  const EnergyModel sta = EnergyModel::from_json(energy_fixture(), "energy.json", razor, "razor_cost.json",
                                                 small_geometry());
  EXPECT_DOUBLE_EQ(sta.controller_pj_per_cycle(), 100.0);
  EXPECT_NE(sta.controller_source().find("OpenSTA default activity"), std::string::npos);
  // An older table without the simulated figure: OpenSTA's, labelled as the mismatch it is.
  const EnergyModel old = EnergyModel::from_json(simulated, "energy.json", razor_fixture(), "razor_cost.json",
                                                 small_geometry());
  EXPECT_DOUBLE_EQ(old.controller_pj_per_cycle(), 100.0);
  EXPECT_NE(old.controller_source().find("unlike the PE's simulated"), std::string::npos);
}

// Razor PEs are priced with the PE's activity source too: the simulated
// ratios when every PE row has one and the PE's energy is simulated.
TEST(ExploreEnergy, RazorPesTakeThePesActivitySource) {
  json razor = razor_fixture();
  for (auto& r : razor["pdks"]["testpdk"]["rows"])
    if (r["protected_bits"].is_number()) r["power_rel_pe0_simulated"] = 1.0 + 0.01 * r["protected_bits"].get<int>();
  json simulated = energy_fixture();
  simulated["activity_source"] = "simulated";
  const EnergyModel sim = EnergyModel::from_json(simulated, "energy.json", razor, "razor_cost.json", small_geometry());
  EXPECT_NEAR(sim.razor_factor(8, RazorPolicy::kCorrect), 1.08, 1e-12);
  EXPECT_NE(sim.razor_power_source().find("simulated activity"), std::string::npos);
  // OpenSTA's ratios beside an OpenSTA-priced PE, and beside a simulated PE
  // when the table lacks a simulated ratio for any PE row (labelled).
  const EnergyModel sta = EnergyModel::from_json(energy_fixture(), "energy.json", razor, "razor_cost.json",
                                                 small_geometry());
  EXPECT_NEAR(sta.razor_factor(8, RazorPolicy::kCorrect), 1.4, 1e-12);
  razor["pdks"]["testpdk"]["rows"][2].erase("power_rel_pe0_simulated");
  const EnergyModel partial = EnergyModel::from_json(simulated, "energy.json", razor, "razor_cost.json",
                                                     small_geometry());
  EXPECT_NEAR(partial.razor_factor(8, RazorPolicy::kCorrect), 1.4, 1e-12);
  EXPECT_NE(partial.razor_power_source().find("unlike the PE's simulated"), std::string::npos);
}

TEST(ExploreRathore, ProtectsBitsInRankOrderUntilTheLossFits) {
  EXPECT_EQ(rank_bits_by_error_magnitude({0, 0.5, 0, 0.1, 0.01}), (std::vector<int>{1, 3, 4}));  // 1.0, 0.8, 0.16
  EXPECT_EQ(rank_bits_by_error_magnitude({0, 0.01, 0, 0.1}), (std::vector<int>{3, 1}));
  // Bits 17..19 fail at 0.9 V, 14..19 at 0.8 V; each unprotected failing bit costs 2^(bit-17) x 0.2 %.
  const EnergyModel m = small_energy(0);
  auto failing = [](double v) {
    std::vector<double> p(20, 0.0);
    for (int b = (v < 0.85 ? 14 : 17); b < 20; ++b) p[b] = 0.01;
    return p;
  };
  int calls = 0;
  Evaluator eval = [&](const Setting& s) {
    ++calls;
    const double v = s.voltage[0][0];
    Evaluation e;
    e.loss.samples = 100;
    e.loss.repeats = 1;
    const auto p = failing(v);
    for (int b = 0; b < 20; ++b)
      if (p[b] > 0 && !((s.razor_mask >> b) & 1)) e.loss.loss_pct += 0.2 * std::ldexp(1.0, b - 17);
    e.loss.ci_low_pct = e.loss.ci_high_pct = e.loss.loss_pct;
    e.layer_array_cycles = {100};
    e.layer_stall_cycles = {0};
    return e;
  };
  ExploreOptions o;
  o.budget_pct = 0.5;
  Explorer ex(eval, m, 1, {0.8, 0.9, 1.0}, o);
  ex.set_quiet(true);
  const Selection sel =
      select_rathore(ex, [&](double v) { return rank_bits_by_error_magnitude(failing(v)); });
  ASSERT_TRUE(sel.fits);
  // At 0.8 V: protecting 19, 18 leaves 0.2 + 0.1/8-ish: bits 17 (0.2) + 16..14 (0.175) = 0.375 <= 0.5.
  EXPECT_NEAR(sel.setting.voltage[0][0], 0.8, 1e-12);
  EXPECT_EQ(sel.setting.razor_mask, (1u << 19) | (1u << 18));
  EXPECT_EQ(sel.setting.policy, RazorPolicy::kCorrect);
  EXPECT_LE(ex.points()[sel.point_id].eval.loss.loss_pct, 0.5);
}

TEST(ExploreReport, PointsJsonSchemaAndParetoFront) {
  const EnergyModel m = small_energy(0);
  Synthetic syn;
  ExploreOptions o;
  o.budget_pct = 0.5;
  Explorer ex(syn.evaluator(), m, 3, syn.levels, o);
  ex.set_quiet(true);
  std::vector<Selection> sels{select_xtpu(ex)};
  ReportContext ctx;
  ctx.layer_names = {"op 0", "op 1", "op 2"};
  ctx.level_delay_source = {"interpolated", "liberty-corner", "liberty-corner"};
  ctx.curves = {{"unprotected", 0}};
  sweep_uniform(ex, "unprotected", 0, RazorPolicy::kNone);
  const json j = points_json(ex, sels, ctx);
  EXPECT_EQ(j.at("schema_version"), 1);
  ASSERT_EQ(j.at("points").size(), ex.points().size());
  ASSERT_EQ(j.at("levels").size(), 3u);
  EXPECT_EQ(j.at("levels")[0].at("delay_source"), "interpolated");
  for (const auto& p : j.at("points")) {
    EXPECT_EQ(p.at("schedule").at("voltages").size(), 3u);
    EXPECT_EQ(p.at("loss_ci95_pct").size(), 2u);
    EXPECT_LE(p.at("loss_ci95_pct")[0].get<double>(), p.at("loss_pct").get<double>());
    EXPECT_TRUE(p.at("energy_pj").contains("total"));
    EXPECT_TRUE(p.contains("saving_pct"));
    EXPECT_TRUE(p.at("razor_errors").is_string());  // which Razor errors the loss was measured with
  }
  EXPECT_EQ(j.at("chosen")[0].at("algorithm"), "xtpu");
  // No point of the front is dominated by any point.
  const auto front = pareto_front(ex.points());
  for (int f : front)
    for (const auto& p : ex.points())
      EXPECT_FALSE(p.eval.loss.loss_pct < ex.points()[f].eval.loss.loss_pct &&
                   p.energy.saving_pct > ex.points()[f].energy.saving_pct);
  const auto dir = std::filesystem::temp_directory_path() / "vosa_explore_report_test";
  std::filesystem::create_directories(dir);
  write_report(dir.string(), ex, sels, ctx);
  for (const char* f : {"report.md", "accuracy_vs_voltage.svg", "saving_vs_loss.svg", "xtpu_voltages.svg"})
    EXPECT_TRUE(std::filesystem::file_size(dir / f) > 100) << f;
  std::filesystem::remove_all(dir);
}

// Rathore: the sign-off level is searched, and a point with more protected bits
// wins when its fewer stalls save more than the extra bit costs.
TEST(ExploreRathore, SearchesSignoffAndKeepsAddingBitsWhileSavingGrows) {
  const EnergyModel m = small_energy(0);
  // Bit 19 fails at every level (also at sign-off, 1.0 V); bit 18 fails
  // often and costs no accuracy but a stall per error unless protected.
  Evaluator eval = [&](const Setting& s) {
    Evaluation e;
    e.loss.samples = 100;
    e.loss.repeats = 1;
    const bool p19 = (s.razor_mask >> 19) & 1, p18 = (s.razor_mask >> 18) & 1;
    e.loss.loss_pct = p19 ? 0.0 : 5.0;
    e.loss.ci_low_pct = e.loss.ci_high_pct = e.loss.loss_pct;
    e.layer_array_cycles = {100};
    // Razor on bit 19 alone: bit 18's errors still stall (as if detected by
    // the protected neighbour's shadow); protecting bit 18 removes them.
    e.layer_stall_cycles = {p19 && !p18 ? 60.0 : 0.0};
    return e;
  };
  ExploreOptions o;
  o.budget_pct = 0.5;
  Explorer ex(eval, m, 1, {0.9, 1.0}, o);
  ex.set_quiet(true);
  const Selection sel = select_rathore(ex, [](double) { return std::vector<int>{19, 18}; });
  ASSERT_TRUE(sel.fits);
  EXPECT_EQ(sel.setting.razor_mask, (1u << 19) | (1u << 18));
  EXPECT_NEAR(sel.setting.voltage[0][0], 0.9, 1e-12);
  bool signoff_searched = false;
  for (const auto& p : ex.points())
    if (p.algorithm == "rathore" && std::abs(p.setting.voltage[0][0] - 1.0) < 1e-9 && p.setting.razor_mask)
      signoff_searched = true;
  EXPECT_TRUE(signoff_searched);
}

// Baselines: the DVFS point is the lowest level from which STA passes upward
// at the sign-off process and temperature (other corners ignored); the
// error-free point the lowest level from which the model saw no error upward.
TEST(ExploreBaselines, DvfsAndErrorFreePoints) {
  auto corner = [](const char* name, const char* process, double t, double v, double slack) {
    return json{{"name", name}, {"process", process}, {"temperature_c", t}, {"voltage", v}, {"worst_slack_ns", slack}};
  };
  json sta = {{"period_ns", 5.0},
              {"corners",
               {corner("ss_1v00", "ss", -40, 1.0, 0.3), corner("ss_0v90", "ss", -40, 0.9, 0.01),
                corner("ss_0v80", "ss", -40, 0.8, -0.2), corner("tt_0v80", "tt", 25, 0.8, 1.0)}}};
  const std::vector<double> levels{0.7, 0.8, 0.9, 1.0};
  Baseline d = dvfs_baseline(sta, "bit_timing.json", "ss_1v00", levels, 5.0);
  ASSERT_TRUE(d.available) << d.source;
  EXPECT_DOUBLE_EQ(d.voltage, 0.9);
  EXPECT_THROW(dvfs_baseline(sta, "bit_timing.json", "ss_1v00", levels, 4.0), ExploreError);  // other period
  sta["corners"][0]["worst_slack_ns"] = -0.1;  // fails at the top: nothing to scale to
  EXPECT_FALSE(dvfs_baseline(sta, "bit_timing.json", "ss_1v00", levels, 5.0).available);
  EXPECT_FALSE(dvfs_baseline(sta, "bit_timing.json", "nope", levels, 5.0).available);
  // The flow's own summary (bit_timing.json dvfs_points, timing-table): one
  // point per process and temperature.
  const auto points = vosa::sta::dvfs_points(sta);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_FALSE(points[0].available);  // ss: the top (1.0 V) fails now
  EXPECT_TRUE(points[1].available);
  EXPECT_EQ(points[1].corner, "tt_0v80");
  sta["corners"][0]["worst_slack_ns"] = 0.3;
  EXPECT_DOUBLE_EQ(vosa::sta::dvfs_points(sta, {0.8, 1.0})[0].voltage, 1.0);  // 0.9 V not among the voltages

  vosa::ErrorModel m;
  m.pdk = "testpdk";
  for (auto [v, errs] : std::vector<std::pair<double, int>>{{0.7, 50}, {0.8, 0}, {0.9, 3}, {1.0, 0}}) {
    vosa::ErrorModelPoint p;
    p.voltage = v;
    p.period_ns = 5.0;
    p.samples = 1000;
    p.cycles_with_error = errs;
    m.points.push_back(p);
  }
  Baseline e = error_free_baseline(m, levels, 5.0);
  ASSERT_TRUE(e.available);
  EXPECT_DOUBLE_EQ(e.voltage, 1.0);  // 0.8 V saw none, but 0.9 V above it erred
  // The source names the chosen level's samples, not the erring level's below it.
  EXPECT_NE(e.source.find("in 1000 samples"), std::string::npos) << e.source;
  m.points[2].cycles_with_error = 0;
  EXPECT_DOUBLE_EQ(error_free_baseline(m, levels, 5.0).voltage, 0.8);

  // Saving against a baseline: the same point saves less against a lower one.
  const EnergyModel em = small_energy(0);
  Point p;
  p.eval.layer_array_cycles = {100};
  p.energy.total_pj = 100 * 8 * 7.0;
  Baseline nominal{"nominal", true, 1.0, ""}, low{"dvfs", true, 0.9, ""};
  EXPECT_NEAR(saving_vs(em, p, nominal), 30.0, 1e-9);
  EXPECT_NEAR(saving_vs(em, p, low), 100 * (1 - 7.0 / 8.0), 1e-9);
  EXPECT_TRUE(std::isnan(saving_vs(em, p, Baseline{"error_free", false, 0, "n/a"})));
}

// OPERATING_CORNER: only the operating ladder's corners, the sign-off voltage
// taken on it; a file without that voltage on the ladder is a named error.
TEST(ExploreEnergy, OperatingCornerKeepsItsLadder) {
  json e = {{"pdk", "sky130hd"}, {"signoff_corner", "ss_n40C_1v76"}};
  for (auto [name, v, pj] : std::vector<std::tuple<std::string, double, double>>{
           {"ss_n40C_1v60", 1.60, 30.0}, {"ss_n40C_1v76", 1.76, 40.0}, {"tt_025C_1v60", 1.60, 20.0},
           {"tt_025C_1v76", 1.76, 25.0}})
    e["corners"].push_back({{"name", name}, {"voltage", v}, {"delay_source", "x"}, {"energy_per_mac_pj", pj}});
  json razor = razor_fixture();
  razor["pdks"]["sky130hd"] = razor["pdks"]["testpdk"];
  const ArrayGeometry g = small_geometry();
  const EnergyModel tt = EnergyModel::from_json(e, "energy.json", razor, "razor_cost.json", g, "tt_025C");
  ASSERT_EQ(tt.corners().size(), 2u);
  EXPECT_EQ(tt.corner_at(1.60).name, "tt_025C_1v60");
  EXPECT_EQ(tt.corner_at(1.76).energy_per_mac_pj, 25.0);
  EXPECT_DOUBLE_EQ(tt.signoff_voltage(), 1.76);
  EXPECT_EQ(tt.describe().at("operating_corner"), "tt_025C");
  const EnergyModel ss = EnergyModel::from_json(e, "energy.json", razor, "razor_cost.json", g, "ss_n40C");
  EXPECT_EQ(ss.corner_at(1.60).energy_per_mac_pj, 30.0);
  e["corners"].erase(3);  // no tt corner at the sign-off voltage
  try {
    EnergyModel::from_json(e, "energy.json", razor, "razor_cost.json", g, "tt_025C");
    ADD_FAILURE() << "no error without tt_025C_1v76";
  } catch (const ExploreError& err) {
    EXPECT_NE(std::string(err.what()).find("no corner of the operating corner tt_025C at the sign-off voltage 1.76 V"),
              std::string::npos)
        << err.what();
    EXPECT_NE(std::string(err.what()).find("CORNERS=tt_025C_1v76"), std::string::npos) << err.what();
  }
}

// Coarse-to-fine: only a loss whose lower 99.9 % bound exceeds the budget is
// decided on the coarse inputs.
TEST(CoarseToFine, RejectsOnlyClearlyOverBudget) {
  std::vector<std::uint8_t> clean(100, 1);
  std::vector<double> half(100, 1.0), two(100, 1.0);
  for (int i = 0; i < 50; ++i) half[i] = 0.0;
  two[3] = two[40] = 0.0;
  const PairedLoss big = paired_loss(clean, half, 1), small = paired_loss(clean, two, 1);
  EXPECT_NEAR(big.loss_pct, 50.0, 1e-9);
  EXPECT_NEAR(small.std_error_pct, 100.0 * std::sqrt(0.02 * 0.98 * 100 / 99 / 100), 1e-9);
  EXPECT_TRUE(clearly_over_budget(big, 0.5));
  EXPECT_FALSE(clearly_over_budget(small, 0.5));  // 2 % +- 1.4: could still fit
  EXPECT_TRUE(clearly_over_budget(small, 0.5, 1.0));
  EXPECT_FALSE(clearly_over_budget(paired_loss({1}, std::vector<double>{0.0}, 1), 0.5));  // one input decides nothing
}

// Coarse-to-fine over settings: sensitivity points go to the screening
// evaluator, the verified schedule to the full one (evaluated again in full
// even if the same setting was screened).
TEST(CoarseToFine, SensitivityScreenedVerifyInFull) {
  const EnergyModel m = small_energy(0);
  Synthetic syn;
  ExploreOptions o;
  o.budget_pct = 1.0;
  Explorer ex(syn.evaluator(), m, 3, syn.levels, o);
  ex.set_quiet(true);
  int screened = 0;
  const Evaluator full = syn.evaluator();
  ex.set_screening([&](const Setting& s) {
    ++screened;
    Evaluation e = full(s);
    e.loss.samples = 20;
    return e;
  });
  const Selection sel = select_xtpu(ex);
  ASSERT_TRUE(sel.fits);
  EXPECT_GT(screened, 0);
  for (const Point& p : ex.points())
    EXPECT_EQ(p.eval.loss.samples, p.phase == "sensitivity" ? 20u : 100u) << p.phase << " " << p.label;
  EXPECT_EQ(ex.points()[sel.point_id].eval.loss.samples, 100u);
}

// The array's depthwise mode (config "depthwise"): explore's per-layer array
// cycles (add_layer_cycles, what the energy multiplies; 8x8, lanes of 3 rows) and the injector's
// counts are the mode's for DS-CNN's depthwise layers (lanes_cycles), the
// GEMM mapping's on the same array without the mode; other layers unchanged.
TEST(ExploreDepthwiseMode, CyclesAreTheModesOnAConfigWithIt) {
  namespace inj = vosa::inject;
  auto model = std::make_shared<vosa::tflite::Model>(vosa::tflite::load_tflite(vosa::test::data_path(vosa::test::kDscnnModel)));
  const vosa::engine::Engine engine(model);
  const vosa::engine::Dataset data = vosa::engine::load_dataset(vosa::test::data_path(vosa::test::kDscnnData));
  vosa::engine::InferOptions options;
  options.limit = 2;
  options.jobs = 1;
  const inj::FaultEvaluator evaluator(engine, data, options);
  const std::string fixture = std::string(VOSA_SOURCE_DIR) + "/tests/dnn/configs/errmodel_fixture.json";
  inj::Settings s;
  s.errmodel = fixture;
  s.voltages = {1.0};  // the fixture's error-free point: only the counts matter here
  std::map<bool, std::vector<double>> cycles;
  inj::ArrayShape gemm_shape;  // the array without the mode
  for (bool mode : {false, true}) {
    json c = {{"rows", 8}, {"cols", 8}, {"acc_bits", 19}};
    if (mode) c["depthwise"] = {{"group_rows", 3}};
    const vosa::ArrayConfig config = vosa::parse_config(c, "dw config");
    const inj::Injector injector = inj::make_injector(s, config, "dw config");
    if (!mode) gemm_shape = injector.shape();
    EXPECT_EQ(injector.shape().depthwise_group_rows, mode ? 3 : 0);
    const inj::FaultyEvalResult r = evaluator.evaluate(injector, 1, 1);
    Evaluation e;
    add_layer_cycles(engine, injector, r, e);
    size_t l = 0;
    for (const auto& p : engine.ops()) {
      if (!vosa::lowering::is_array_layer(p.op->type)) continue;
      const bool in_mode = mode && p.geometry.depthwise;
      const double expect = in_mode ? double(vosa::lowering::lanes_cycles(p.geometry, 8, 8, 3))
                                    : double(inj::layer_cycles(p.geometry, gemm_shape));
      EXPECT_EQ(e.layer_array_cycles.at(l), expect) << "op " << p.index << (in_mode ? " (mode)" : "");
      EXPECT_EQ(e.layer_stall_cycles.at(l), 0.0);
      EXPECT_EQ(double(r.layers.at(l).cycles), expect * 2) << "op " << p.index;  // 2 inputs
      ++l;
    }
    cycles[mode] = e.layer_array_cycles;
  }
  size_t l = 0, dw = 0;
  for (const auto& p : engine.ops()) {
    if (!vosa::lowering::is_array_layer(p.op->type)) continue;
    if (p.geometry.depthwise) {
      ++dw;
      EXPECT_LT(cycles[true][l], cycles[false][l]) << "op " << p.index;
    } else {
      EXPECT_EQ(cycles[true][l], cycles[false][l]) << "op " << p.index;
    }
    ++l;
  }
  EXPECT_EQ(dw, 4u);
}

// --- Verify and back-off at scale (docs/explore.md "Verify and back-off") ---

namespace {

// A uniform number in [0, 1) from two integers (splitmix64): fixed per input,
// so settings share their random numbers like the injector's common seed.
double uniform01(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E5Full;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return double(z >> 11) / double(1ull << 53);
}

// Many layers, each (layer, island) alone costing little, but beyond 4 levels
// below sign-off in all every one adds `per_step` points: the additive
// prediction is far off and the loss falls monotonically along any back-off
// order.
struct ManyUnits {
  int layers = 12, islands = 2;
  std::vector<double> levels{0.8, 0.9, 1.0};
  double alone_09 = 0.02, alone_08 = 0.04, per_step = 0.25;
  double noise = 0;  // > 0: a setting-dependent term in [-noise/2, noise/2): no longer monotone
  int calls = 0;
  int steps_below(const Setting& s) const {
    int n = 0;
    for (const auto& l : s.voltage)
      for (double v : l) n += v < 0.85 ? 2 : v < 0.95 ? 1 : 0;
    return n;
  }
  double measured(const Setting& s) const {
    double alone = 0;
    for (const auto& l : s.voltage)
      for (double v : l) alone += v < 0.85 ? alone_08 : v < 0.95 ? alone_09 : 0;
    const double extra = noise > 0 ? noise * (uniform01(std::hash<std::string>()(s.key()), 7) - 0.5) : 0;
    return (steps_below(s) > 4 ? alone + per_step * steps_below(s) : alone) + extra;
  }
  Evaluator evaluator() {
    return [this](const Setting& s) {
      ++calls;
      std::vector<double> cycles(layers);
      for (int l = 0; l < layers; ++l) cycles[l] = 100.0 + 10 * l;  // distinct exposure per layer
      return synthetic_evaluation(measured(s), cycles, 1000);
    };
  }
};

Selection run_backoff(ManyUnits& syn, Backoff how, bool thundervolt, std::vector<Point>* points = nullptr,
                      double tolerance = 0) {
  static const EnergyModel m = small_energy(0);
  ExploreOptions o;
  o.budget_pct = 1.0;
  o.backoff = how;
  o.backoff_saving_tolerance_pct = tolerance;
  Explorer ex(syn.evaluator(), m, syn.layers, syn.levels, o);
  ex.set_quiet(true);
  Selection sel = thundervolt ? select_thundervolt(ex, 0xF0000) : select_xtpu(ex);
  if (points) *points = ex.points();
  // The accepted point is the selection's setting, measured, and fits.
  if (sel.point_id >= 0) {
    EXPECT_TRUE(ex.points()[sel.point_id].setting == sel.setting);
    EXPECT_EQ(ex.fits(ex.points()[sel.point_id]), sel.fits);
  }
  int backoff_points = 0;
  for (const Point& p : ex.points()) backoff_points += p.phase == "backoff";
  EXPECT_EQ(backoff_points, sel.backoff_evaluations);
  return sel;
}

}  // namespace

// On a loss that falls along the back-off order, bisection (the end of the
// order first) and galloping + bisection accept exactly the schedule of one
// step per evaluation, with far fewer evaluations; the fixture needs almost
// the whole order (the first fit near its end), the case bisection is built
// for: it evaluates fewer than galloping.
TEST(ExploreBackoff, BisectFindsTheOneAtATimeScheduleWithFewerEvaluations) {
  for (bool thundervolt : {false, true}) {
    ManyUnits a, b, c;
    const Selection one = run_backoff(a, Backoff::kOne, thundervolt);
    const Selection bis = run_backoff(b, Backoff::kBisect, thundervolt);
    const Selection gal = run_backoff(c, Backoff::kGallop, thundervolt);
    ASSERT_TRUE(one.fits) << thundervolt;
    ASSERT_TRUE(bis.fits) << thundervolt;
    ASSERT_TRUE(gal.fits) << thundervolt;
    for (const Selection* s : {&bis, &gal}) {
      EXPECT_TRUE(one.setting == s->setting) << thundervolt;
      EXPECT_EQ(one.unit_level, s->unit_level) << thundervolt;
      EXPECT_EQ(one.backoffs, s->backoffs) << thundervolt;
      EXPECT_LT(s->backoff_evaluations * 2, one.backoff_evaluations) << thundervolt;
    }
    EXPECT_GE(one.backoffs, 15) << "the fixture must need many back-offs";
    EXPECT_EQ(one.backoff_evaluations, one.backoffs);
    // Galloping to the first fit past j, then bisection: at most 2 ceil(log2 j) + 2.
    EXPECT_LE(gal.backoff_evaluations, 2 * int(std::ceil(std::log2(gal.backoffs))) + 2) << thundervolt;
    // The end of the order, then bisection over it: at most ceil(log2 last) + 1.
    const int last = thundervolt ? a.layers * 2 : a.layers * a.islands * 2;  // every unit 2 levels below sign-off at most
    EXPECT_LE(bis.backoff_evaluations, int(std::ceil(std::log2(last))) + 1) << thundervolt;
    EXPECT_LT(bis.backoff_evaluations, gal.backoff_evaluations) << thundervolt;
    EXPECT_LT(b.calls, c.calls) << thundervolt;
    EXPECT_LT(c.calls, a.calls) << thundervolt;
  }
}

// The saving tolerance: the bisection stops once no schedule left can save
// more than the fitting one plus the tolerance. It never accepts a schedule
// over budget (on a monotone and on a noisy loss), the schedule it accepts
// saves at most the tolerance less than the first that fits (monotone loss),
// and it evaluates fewer schedules than without a tolerance.
TEST(ExploreBackoff, SavingToleranceStopsEarlyNeverOverBudgetAndCostsAtMostTheTolerance) {
  for (bool thundervolt : {false, true}) {
    ManyUnits exact_syn;
    std::vector<Point> exact_points;
    const Selection exact = run_backoff(exact_syn, Backoff::kBisect, thundervolt, &exact_points);
    ASSERT_TRUE(exact.fits);
    const double exact_saving = exact_points[exact.point_id].energy.saving_pct;
    bool fewer = false;
    for (double tolerance : {0.2, 1.0, 3.0, 10.0}) {
      ManyUnits syn;
      std::vector<Point> points;
      const Selection sel = run_backoff(syn, Backoff::kBisect, thundervolt, &points, tolerance);
      ASSERT_TRUE(sel.fits) << tolerance;
      EXPECT_LE(syn.measured(sel.setting), 1.0 + 1e-12) << tolerance;
      EXPECT_GE(sel.backoffs, exact.backoffs) << tolerance;  // the first fit or one after it
      EXPECT_GE(points[sel.point_id].energy.saving_pct, exact_saving - tolerance - 1e-9) << tolerance;
      EXPECT_LE(sel.backoff_evaluations, exact.backoff_evaluations) << tolerance;
      fewer = fewer || sel.backoff_evaluations < exact.backoff_evaluations;
    }
    EXPECT_TRUE(fewer) << "some tolerance must save an evaluation on this fixture (" << thundervolt << ")";
    // Galloping is the search before the tolerance: it ignores it.
    ManyUnits g0, g10;
    const Selection gal0 = run_backoff(g0, Backoff::kGallop, thundervolt);
    const Selection gal10 = run_backoff(g10, Backoff::kGallop, thundervolt, nullptr, 10.0);
    EXPECT_EQ(gal0.backoffs, gal10.backoffs);
    EXPECT_EQ(gal0.backoff_evaluations, gal10.backoff_evaluations);
  }
  for (int seed = 0; seed < 8; ++seed) {
    ManyUnits syn;
    syn.noise = 0.8;
    syn.per_step = 0.05 + 0.02 * seed;
    std::vector<Point> points;
    const Selection sel = run_backoff(syn, Backoff::kBisect, seed % 2 == 1, &points, 1.0 + seed);
    ASSERT_TRUE(sel.fits) << seed;
    EXPECT_LE(syn.measured(sel.setting), 1.0 + 1e-12) << seed;
    EXPECT_FALSE(points[sel.point_id].eval.coarse) << seed;
  }
}

// --max-ci: a schedule whose paired CI is wider than the limit does not fit,
// however low its mean. On a loss whose CI widens with every unit below sign-off
// (more erring units, more inputs whose prediction flips), the search backs off
// past the first schedule whose mean fits, to one whose CI is within the limit;
// without the limit it stops at the first whose mean fits.
TEST(ExploreBackoff, MaxCiHalfWidthBacksOffToAResolvedSchedule) {
  for (bool thundervolt : {false, true}) {
    ManyUnits syn;
    const EnergyModel m = small_energy(0);
    const auto half_width = [&](const Setting& s) { return 0.1 + 0.15 * syn.steps_below(s); };
    const Evaluator widening = [&](const Setting& s) {
      Evaluation e = syn.evaluator()(s);
      e.loss.ci_low_pct = e.loss.loss_pct - half_width(s);
      e.loss.ci_high_pct = e.loss.loss_pct + half_width(s);
      return e;
    };
    Selection sel[2];
    for (int limited = 0; limited < 2; ++limited) {
      ExploreOptions o;
      o.budget_pct = 1.0;
      o.max_ci_half_width_pct = limited ? 0.5 : 0;
      Explorer ex(widening, m, syn.layers, syn.levels, o);
      ex.set_quiet(true);
      sel[limited] = thundervolt ? select_thundervolt(ex, 0xF0000) : select_xtpu(ex);
      ASSERT_TRUE(sel[limited].fits) << thundervolt << limited;
      EXPECT_LE(syn.measured(sel[limited].setting), 1.0 + 1e-12) << thundervolt << limited;
    }
    EXPECT_GT(half_width(sel[0].setting), 0.5) << "the fixture's first fit must be unresolved at 0.5 (" << thundervolt << ")";
    EXPECT_LE(half_width(sel[1].setting), 0.5 + 1e-12) << thundervolt;
    EXPECT_GT(sel[1].backoffs, sel[0].backoffs) << thundervolt;
  }
}

// A saving tolerance or a CI half-width cannot be negative.
TEST(ExploreBackoff, NegativeSavingToleranceOrCiWidthIsRefused) {
  ManyUnits syn;
  const EnergyModel m = small_energy(0);
  for (int which = 0; which < 2; ++which) {
    ExploreOptions o;
    (which ? o.max_ci_half_width_pct : o.backoff_saving_tolerance_pct) = -0.1;
    EXPECT_THROW(Explorer(syn.evaluator(), m, syn.layers, syn.levels, o), ExploreError) << which;
  }
}

// The back-off order depends on the sensitivities only: one step per entry,
// the worst offender (largest loss alone at its level) first.
TEST(ExploreBackoff, OrderRaisesOneUnitOneLevelPerStep) {
  ManyUnits syn;
  const EnergyModel m = small_energy(0);
  ExploreOptions o;
  o.max_backoff = 5;
  Explorer ex(syn.evaluator(), m, syn.layers, syn.levels, o);
  ex.set_quiet(true);
  Selection sel;
  sel.unit_level = {0, 1, 2};
  sel.sensitivity = {{0.5, 0.1, 0}, {0.9, 0.3, 0}, {-1, 0.2, 0}};
  const std::vector<Unit> units{{0, {0}}, {1, {0}}, {2, {1}}};
  bool exhausted = true;
  const auto order = backoff_order(ex, units, sel, &exhausted);
  ASSERT_EQ(order.size(), 4u);  // three steps take every unit to sign-off
  EXPECT_TRUE(exhausted);
  EXPECT_EQ(order[1], (std::vector<int>{1, 1, 2}));  // unit 0 at 0.5 beats unit 1 at 0.3
  EXPECT_EQ(order[2], (std::vector<int>{1, 2, 2}));  // 0.3 beats 0.1
  EXPECT_EQ(order[3], (std::vector<int>{2, 2, 2}));
  o.max_backoff = 2;
  Explorer ex2(syn.evaluator(), m, syn.layers, syn.levels, o);
  ex2.set_quiet(true);
  EXPECT_EQ(backoff_order(ex2, units, sel, &exhausted).size(), 3u);
  EXPECT_FALSE(exhausted);
}

// With a loss that does not fall monotonically, bisection still accepts only a
// schedule that fits, with the one before it in the order measured over budget.
TEST(ExploreBackoff, BisectOnANoisyLossAcceptsAFittingScheduleAfterOneThatFails) {
  for (int seed = 0; seed < 8; ++seed) {
    ManyUnits syn;
    syn.noise = 0.8;
    syn.per_step = 0.05 + 0.02 * seed;
    std::vector<Point> points;
    const Selection sel = run_backoff(syn, Backoff::kBisect, seed % 2 == 1, &points);
    ASSERT_TRUE(sel.fits) << seed;
    ASSERT_GT(sel.backoffs, 0) << seed;
    EXPECT_LE(syn.measured(sel.setting), 1.0 + 1e-12) << seed;
    // The step before the accepted one was evaluated and did not fit.
    const std::string before = sel.backoffs == 1 ? "chosen schedule" : "back-off " + std::to_string(sel.backoffs - 1);
    int found = 0;
    for (const Point& p : points)
      if ((p.phase == "verify" || p.phase == "backoff") && p.label == before) {
        ++found;
        EXPECT_GT(p.eval.loss.loss_pct, 1.0) << seed;
      }
    EXPECT_EQ(found, 1) << seed << " " << before;
  }
}

namespace {

// Per-input outcomes of a setting: input i is lost with probability rate(i)
// (one uniform number per input, shared by every setting); the sampled
// screening draws the same outcomes.
struct Outcomes {
  std::vector<std::uint8_t> lost;  // per input
  std::size_t inputs_run = 0;      // cost: input runs over every call
  StageRun runner() {
    return [this](std::size_t begin, std::size_t end, bool) {
      vosa::inject::FaultyEvalResult r;
      r.repeats = 1;
      r.samples = end - begin;
      for (std::size_t i = begin; i < end; ++i) r.faulty_correct.push_back(lost.at(i) ? 0.0 : 1.0);
      inputs_run += end - begin;
      return r;
    };
  }
};

// An evaluator of 4 layers whose per-input outcomes come from `lost_of`,
// measured in stages with the rejection bound z; counts its calls.
Evaluator staged_evaluator(std::function<std::vector<std::uint8_t>(const Setting&)> lost_of, double budget, double z,
                           int* calls = nullptr) {
  return [=](const Setting& s) {
    if (calls) ++*calls;
    Outcomes o;
    o.lost = lost_of(s);
    StagePlan plan;
    plan.inputs = o.lost.size();
    plan.budget_pct = budget;
    plan.reject_z = z;
    const StagedMeasurement mm = measure_in_stages(plan, std::vector<std::uint8_t>(o.lost.size(), 1), o.runner());
    Evaluation e;
    e.loss = mm.loss;
    e.coarse = mm.coarse;
    e.reject_z = mm.reject_z;
    e.look_z = mm.look_z;
    e.layer_array_cycles.assign(4, 100.0);
    e.layer_stall_cycles.assign(4, 0.0);
    return e;
  };
}

PairedLoss full_loss(const std::vector<std::uint8_t>& lost) {
  std::vector<double> faulty;
  for (auto x : lost) faulty.push_back(x ? 0.0 : 1.0);
  return paired_loss(std::vector<std::uint8_t>(lost.size(), 1), faulty, 1);
}

}  // namespace

// The candidates' larger error budget (2.5 % against 0.05 %): it can reject a
// schedule that would fit on all inputs (costing saving), but a measurement it
// does not stop is the run on all inputs, so nothing over budget is ever
// accepted; and it rejects everything the 0.05 % rule does, never at more
// input runs.
TEST(CoarseToFine, CandidateBoundRejectsMoreButNeverAcceptsOverBudget) {
  const std::size_t n = 1000;
  const std::vector<std::uint8_t> clean(n, 1);
  StagePlan plan;
  plan.inputs = n;
  plan.coarse = 100;
  plan.budget_pct = 0.5;
  EXPECT_EQ(input_stages(n, 100), (std::vector<std::size_t>{10, 100, 200, 400, 700, 1000}));
  // 12 of the first 100 lost (none of the first 10), none after: 12 % +- 3.3
  // on 100 is over budget under 2.5 %, not under 0.05 %.
  Outcomes early;
  early.lost = std::vector<std::uint8_t>(n, 0);
  for (int i = 20; i < 32; ++i) early.lost[i] = 1;
  plan.reject_z = kCoarseRejectZ;
  const StagedMeasurement strict = measure_in_stages(plan, clean, early.runner());
  EXPECT_FALSE(strict.coarse);
  EXPECT_EQ(strict.loss.samples, n);
  EXPECT_NEAR(strict.loss.loss_pct, 1.2, 1e-9);
  plan.reject_z = kCandidateRejectZ;
  early.inputs_run = 0;
  const StagedMeasurement weak = measure_in_stages(plan, clean, early.runner());
  EXPECT_TRUE(weak.coarse);
  EXPECT_EQ(weak.loss.samples, 100u);
  EXPECT_DOUBLE_EQ(weak.reject_z, kCandidateRejectZ);
  EXPECT_GT(weak.look_z, 2.5);  // the look's share of 2.5 %, not 1.96
  EXPECT_LE(early.inputs_run, 100u + 10u + 100u);  // sampled 10 and 100, or measured 100

  // Randomized: losses of every size and where in the inputs they fall.
  int weak_only = 0;
  for (int trial = 0; trial < 400; ++trial) {
    Outcomes o;
    o.lost = std::vector<std::uint8_t>(n, 0);
    const double base = 0.03 * uniform01(trial, 1), front = 0.15 * uniform01(trial, 2);
    const std::size_t front_n = std::size_t(200 * uniform01(trial, 3));
    for (std::size_t i = 0; i < n; ++i) o.lost[i] = uniform01(trial * 7919 + 11, i) < (i < front_n ? front : base);
    const PairedLoss all = full_loss(o.lost);
    for (bool sampled : {false, true}) {
      plan.sampled_screen = sampled;
      std::size_t cost[2];
      bool coarse[2];
      for (int k = 0; k < 2; ++k) {
        plan.reject_z = k == 0 ? kCoarseRejectZ : kCandidateRejectZ;
        o.inputs_run = 0;
        const StagedMeasurement mm = measure_in_stages(plan, clean, o.runner());
        cost[k] = o.inputs_run;
        coarse[k] = mm.coarse;
        if (mm.coarse) {
          // Stopped: over budget by the bound it was stopped with (never "fits").
          EXPECT_GT(mm.loss.loss_pct - mm.look_z * mm.loss.std_error_pct, plan.budget_pct) << trial;
          EXPECT_GE(mm.look_z, plan.reject_z) << trial;
          EXPECT_LT(mm.loss.samples, n);
        } else {
          // Not stopped: exactly the measurement on all inputs.
          EXPECT_EQ(mm.loss.samples, n) << trial;
          EXPECT_DOUBLE_EQ(mm.loss.loss_pct, all.loss_pct) << trial;
          EXPECT_DOUBLE_EQ(mm.loss.ci_high_pct, all.ci_high_pct) << trial;
        }
      }
      EXPECT_TRUE(!coarse[0] || coarse[1]) << "0.05 % rejects, 2.5 % must too: " << trial;
      EXPECT_LE(cost[1], cost[0]) << trial;
      weak_only += coarse[1] && !coarse[0];
    }
  }
  EXPECT_GT(weak_only, 0) << "the trials must exercise the weaker bound";
}

// The sequential stopping rule beyond --coarse: a candidate clearly over
// budget (4 % on 1000 inputs, budget 0.5 %) is not decided on its first 100
// inputs but is stopped at a chunk (400 inputs) instead of running all 1000.
TEST(CoarseToFine, SequentialChunksStopAClearlyOverCandidateBeforeAllInputs) {
  const std::size_t n = 1000;
  const std::vector<std::uint8_t> clean(n, 1);
  Outcomes o;
  o.lost = std::vector<std::uint8_t>(n, 0);
  for (std::size_t i = 12; i < n; i += 25) o.lost[i] = 1;  // 4 %, none in the first 10
  StagePlan plan;
  plan.inputs = n;
  plan.budget_pct = 0.5;
  plan.reject_z = kCandidateRejectZ;
  for (bool sampled : {false, true}) {
    plan.sampled_screen = sampled;
    o.inputs_run = 0;
    const StagedMeasurement m = measure_in_stages(plan, clean, o.runner());
    ASSERT_TRUE(m.coarse) << sampled;
    EXPECT_GT(m.loss.samples, 100u) << sampled;
    EXPECT_LT(m.loss.samples, n) << sampled;
    EXPECT_NEAR(m.loss.loss_pct, 4.0, 1e-9) << sampled;
    EXPECT_LE(o.inputs_run, n / 2) << sampled;  // a full run costs n input runs
  }
  // The same outcomes with the chunks off (stages 10 and all): all 1000 run.
  plan.coarse = 0;
  o.inputs_run = 0;
  EXPECT_FALSE(measure_in_stages(plan, clean, o.runner()).coarse);
  EXPECT_EQ(o.inputs_run, n);
}

// The error-spending rule: the looks' shares add up to at most alpha, and a
// setting whose true loss is at the budget is stopped before all its inputs in
// at most about alpha of the runs (a rule that used z = 1.96 at each of the
// five looks stops more than alpha).
TEST(CoarseToFine, ErrorSpendingKeepsWrongStopsWithinAlpha) {
  EXPECT_NEAR(normal_upper_quantile(0.025), 1.95996, 1e-4);
  EXPECT_NEAR(normal_upper_quantile(0.0005), 3.2905, 1e-3);
  const std::size_t n = 1000;
  StagePlan plan;
  plan.inputs = n;
  plan.budget_pct = 5.0;
  plan.reject_z = kCandidateRejectZ;
  const double alpha = normal_tail(kCandidateRejectZ);
  for (bool sampled : {false, true}) {
    plan.sampled_screen = sampled;
    const LookThresholds t = look_thresholds(plan, input_stages(n, 100));
    ASSERT_EQ(t.measured.size(), 5u);
    double spent = sampled ? 2 * normal_tail(t.sampled) : 0.0;
    for (double z : t.measured) {
      EXPECT_GT(z, kCandidateRejectZ);
      spent += normal_tail(z);
    }
    EXPECT_LE(spent, alpha * (1 + 1e-9)) << sampled;
    std::cout << (sampled ? "with" : "without") << " screening:";
    if (sampled)
      std::cout << " sampled looks z = " << t.sampled << ";";
    std::cout << " measured looks z =";
    for (double z : t.measured) std::cout << " " << z;
    StagePlan strict = plan;
    strict.reject_z = kCoarseRejectZ;
    std::cout << "; every other point:";
    for (double z : look_thresholds(strict, input_stages(n, 100)).measured) std::cout << " " << z;
    std::cout << "\n";
    EXPECT_GT(spent, 0.5 * alpha) << sampled;  // the budget is used, not thrown away
  }
  // Monte Carlo: each input lost with probability 5 % (the budget).
  plan.sampled_screen = false;
  const std::vector<std::uint8_t> clean(n, 1);
  const int trials = 8000;
  int stopped = 0, stopped_flat = 0;
  for (int trial = 0; trial < trials; ++trial) {
    Outcomes o;
    o.lost.resize(n);
    for (std::size_t i = 0; i < n; ++i) o.lost[i] = uniform01(std::uint64_t(trial) * 104729 + 3, i) < 0.05;
    stopped += measure_in_stages(plan, clean, o.runner()).coarse;
    // The rule without spending: 1.96 at every look.
    std::size_t done = 0;
    for (std::size_t k : input_stages(n, 100)) {
      if (k == n) break;
      done = k;
      const PairedLoss l = full_loss(std::vector<std::uint8_t>(o.lost.begin(), o.lost.begin() + std::ptrdiff_t(done)));
      if (clearly_over_budget(l, plan.budget_pct, kCandidateRejectZ)) {
        ++stopped_flat;
        break;
      }
    }
  }
  const double rate = double(stopped) / trials, flat = double(stopped_flat) / trials;
  EXPECT_LE(rate, alpha + 3 * std::sqrt(alpha * (1 - alpha) / trials)) << rate;
  std::cout << "stopped at the budget: " << rate << " with spending, " << flat << " with 1.96 at each look\n";
  const double sd = 3 * std::sqrt(alpha * (1 - alpha) / trials);
  EXPECT_GT(flat, alpha + sd) << flat;  // the Monte Carlo can see a broken rule
  EXPECT_LT(rate, flat);
}

// In the explorer: candidates stopped by the weaker bound are cached apart
// (a full evaluation of the same setting runs again), and a selection built on
// them accepts only schedules whose measurement on all inputs fits.
TEST(ExploreBackoff, CandidateRejectionNeverAcceptsAScheduleOverBudget) {
  const EnergyModel m = small_energy(0);
  const std::size_t n = 400;
  int weak_rejections = 0, accepted = 0;
  for (int trial = 0; trial < 12; ++trial) {
    ManyUnits syn;
    syn.layers = 4;
    // The loss rate of a setting from the synthetic model; per-input outcomes
    // drawn with a setting-dependent stream (noisy, not monotone).
    const auto outcomes = [&, trial](const Setting& s) {
      const double rate = std::min(0.9, syn.measured(s) / 100.0);
      const std::uint64_t h = std::hash<std::string>()(s.key()) ^ std::uint64_t(trial);
      std::vector<std::uint8_t> lost(n);
      for (std::size_t i = 0; i < n; ++i) lost[i] = uniform01(h, i) < rate;
      return lost;
    };
    ExploreOptions eo;
    eo.budget_pct = 1.0;
    eo.backoff = trial % 2 ? Backoff::kOne : Backoff::kBisect;
    syn.per_step = 0.3 + 0.1 * (trial % 4);
    Explorer ex(staged_evaluator(outcomes, 1.0, kCoarseRejectZ), m, syn.layers, syn.levels, eo);
    ex.set_quiet(true);
    ex.set_candidates(staged_evaluator(outcomes, 1.0, kCandidateRejectZ));
    const Selection sel = trial % 3 ? select_xtpu(ex) : select_thundervolt(ex, 0xF0000);
    for (const Point& p : ex.points()) weak_rejections += p.eval.coarse && p.eval.reject_z == kCandidateRejectZ;
    if (!sel.fits) continue;
    ++accepted;
    const Point& p = ex.points()[sel.point_id];
    EXPECT_FALSE(p.eval.coarse) << trial;
    EXPECT_EQ(p.eval.loss.samples, n) << trial;
    EXPECT_LE(full_loss(outcomes(sel.setting)).loss_pct, 1.0 + 1e-12) << trial;
  }
  EXPECT_GT(accepted, 6);
  EXPECT_GT(weak_rejections, 0) << "the trials must exercise the weaker bound";

  // Cached apart: a candidate stopped at 100 inputs, then the same setting in full.
  std::vector<std::uint8_t> lost(n, 0);
  for (int i = 20; i < 32; ++i) lost[i] = 1;  // 12 % on the first 100, 3 % on all 400
  const auto same = [lost](const Setting&) { return lost; };
  int full_calls = 0, candidate_calls = 0;
  ExploreOptions eo;
  eo.budget_pct = 0.5;
  Explorer ex(staged_evaluator(same, 0.5, kCoarseRejectZ, &full_calls), m, 4, {0.8, 0.9, 1.0}, eo);
  ex.set_quiet(true);
  ex.set_candidates(staged_evaluator(same, 0.5, kCandidateRejectZ, &candidate_calls));
  const Setting s = Setting::uniform(4, 2, 0.9);
  const Point& c = ex.evaluate(s, "xtpu", "backoff");
  EXPECT_TRUE(c.eval.coarse);
  EXPECT_EQ(c.eval.loss.samples, 100u);
  EXPECT_EQ(ex.evaluate(s, "xtpu", "verify").id, c.id);  // candidates share it
  const Point& f = ex.evaluate(s, "sweep", "uniform");
  EXPECT_FALSE(f.eval.coarse);
  EXPECT_EQ(f.eval.loss.samples, n);
  EXPECT_EQ(ex.evaluate(Setting::uniform(4, 2, 0.9), "xtpu", "backoff").id, f.id);  // a full point serves candidates
  EXPECT_EQ(candidate_calls, 1);
  EXPECT_EQ(full_calls, 1);

  // Curves as candidates: a sweep point goes to the candidates' evaluator and,
  // stopped early there, does not answer a decision point (Rathore's) of the
  // same setting, which is measured again under the full bound.
  int curve_full_calls = 0, curve_candidate_calls = 0;
  Explorer cx(staged_evaluator(same, 0.5, kCoarseRejectZ, &curve_full_calls), m, 4, {0.8, 0.9, 1.0}, eo);
  cx.set_quiet(true);
  cx.set_candidates(staged_evaluator(same, 0.5, kCandidateRejectZ, &curve_candidate_calls));
  cx.set_curves_as_candidates(true);
  const Point& curve = cx.evaluate(s, "sweep", "unprotected");
  EXPECT_TRUE(curve.eval.coarse);
  EXPECT_EQ(curve.eval.reject_z, kCandidateRejectZ);
  EXPECT_EQ(curve_candidate_calls, 1);
  EXPECT_EQ(curve_full_calls, 0);
  const Point& decision = cx.evaluate(s, "rathore", "sweep");
  EXPECT_NE(decision.id, cx.points()[0].id);
  EXPECT_FALSE(decision.eval.coarse);
  EXPECT_EQ(decision.eval.loss.samples, n);
  EXPECT_EQ(curve_full_calls, 1);
}
