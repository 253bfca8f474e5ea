// SPICE Monte Carlo of a 6T SRAM cell (vosa sram spice-ber, docs/sram.md):
// the butterfly margins on curves with known answers, and a small real
// ngspice run whose margins must behave as a cell's do.
#include "vosa/charlib.hpp"
#include "vosa/sram_cell.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace fs = std::filesystem;
using vosa::spice::butterfly_lobes;

namespace {

// A falling transfer curve of gain `gain` switching at `trip` (0..vdd).
std::vector<double> inverter(const std::vector<double>& in, double vdd, double trip, double gain) {
  std::vector<double> out;
  for (double x : in) out.push_back(vdd / (1.0 + std::exp(gain * (x - trip) / vdd)));
  return out;
}

std::vector<double> sweep(double vdd, int n) {
  std::vector<double> in;
  for (int i = 0; i <= n; ++i) in.push_back(vdd * i / n);
  return in;
}

TEST(SramCellMargins, IdealInvertersGiveHalfTheSupplyBothWays) {
  const auto in = sweep(1.0, 400);
  const auto f = inverter(in, 1.0, 0.5, 400.0);  // nearly a step
  const auto lobes = butterfly_lobes(in, f, f);
  EXPECT_NEAR(lobes.state1, 0.5, 0.02);
  EXPECT_NEAR(lobes.state0, 0.5, 0.02);
}

TEST(SramCellMargins, SkewedHalfShrinksOneLobeAndAGoneLobeIsNegative) {
  const auto in = sweep(1.0, 400);
  const auto right = inverter(in, 1.0, 0.5, 20.0);
  const auto sym = butterfly_lobes(in, right, right);
  EXPECT_NEAR(sym.state1, sym.state0, 1e-3);
  EXPECT_GT(sym.state1, 0.1);
  // The left half switching early (a weak pull-up) makes Q = 1 harder to hold.
  const auto weak = butterfly_lobes(in, inverter(in, 1.0, 0.3, 20.0), right);
  EXPECT_LT(weak.state1, sym.state1 - 0.05);
  EXPECT_GT(weak.state0, sym.state0 + 0.05);
  // A left half that never outputs more than 0.2 (its bit line low): Q = 1 is gone.
  std::vector<double> low;
  for (double x : inverter(in, 1.0, 0.5, 20.0)) low.push_back(0.2 * x);
  const auto write = butterfly_lobes(in, low, right);
  EXPECT_LT(write.state1, 0.0);
  EXPECT_GT(write.state0, 0.1);
  EXPECT_THROW(butterfly_lobes({0.0, 1.0}, {1.0, 0.0}, {1.0, 0.0}), vosa::spice::CharlibError);
}

TEST(SramCellMargins, NormalTailMatchesKnownValues) {
  EXPECT_NEAR(vosa::spice::normal_tail(0.0), 0.5, 1e-12);
  EXPECT_NEAR(vosa::spice::normal_tail(-3.0), 1.3498980316e-3, 1e-12);
  EXPECT_NEAR(vosa::spice::normal_tail(-6.0) / 9.8658765e-10, 1.0, 1e-6);
}

// 12 cells at 0.35, 0.5 and 1.8 V: about 5 s of ngspice.
TEST(SramCellSpice, MarginsShrinkWithTheSupplyAndTheCurveIsMonotone) {
  const auto pdk = vosa::pdk::load_pdk("sky130hd");
  vosa::spice::SramCellOptions o;
  o.voltages = {0.35, 0.5, 1.8};
  o.samples = 12;
  o.cells_per_deck = 12;
  o.workers = 1;
  o.quiet = true;
  o.cache_dir = fs::temp_directory_path() / ("vosa_sram_cell_" + std::to_string(::getpid()));
  const auto r = vosa::spice::simulate_sram_cell(pdk, o);
  ASSERT_EQ(r.points.size(), 3u);
  // sigma Vth from the models' Pelgrom coefficients (3.356 and 5.5 mV um).
  EXPECT_NEAR(r.sigma_vth_pass, 3.356e-3 / std::sqrt(0.42 * 0.15), 1e-6);
  EXPECT_NEAR(r.sigma_vth_pull_up, 5.5e-3 / std::sqrt(0.42 * 0.15), 1e-6);
  for (size_t i = 0; i < r.points.size(); ++i) {
    const auto& p = r.points[i];
    EXPECT_EQ(p.read.lobes, 24);
    EXPECT_GT(p.hold.mean, p.read.mean) << p.voltage;  // the word line on costs stability
    EXPECT_GT(p.read.sigma, 0.0);
    EXPECT_EQ(p.read_above_hold, 0) << p.voltage;
    if (i > 0) {
      EXPECT_GT(p.hold.mean, r.points[i - 1].hold.mean);
      EXPECT_GT(p.read.mean, r.points[i - 1].read.mean);
      EXPECT_LE(p.ber, r.points[i - 1].ber);
    }
  }
  EXPECT_GT(r.points[2].read.mean, 0.25);  // read SNM at 1.8 V: a few hundred mV
  EXPECT_LT(r.points[2].ber, 1e-12);
  EXPECT_GT(r.points[0].ber, r.points[2].ber);
  const fs::path out = o.cache_dir / "ber.json";
  vosa::spice::write_sram_ber_curve(r, "test", out);
  nlohmann::json j;
  std::ifstream(out) >> j;
  EXPECT_EQ(j.at("schema"), "vosa-sram-ber");
  EXPECT_EQ(j.at("points").size(), 3u);
  // Bad options are named errors.
  o.voltages = {0.5, 0.4};
  EXPECT_THROW(vosa::spice::simulate_sram_cell(pdk, o), vosa::spice::CharlibError);
  o.voltages = {0.5};
  o.process = "xx";
  EXPECT_THROW(vosa::spice::simulate_sram_cell(pdk, o), vosa::spice::CharlibError);
  fs::remove_all(o.cache_dir);
}

}  // namespace
