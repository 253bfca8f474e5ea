// vosa charlib: which corners take SPICE timing, named errors on bad input,
// and a small real characterization (ngspice, sky130 models from
// VOSA_DATA_DIR) checked against the shipped tt_025C_1v80 liberty.
#include "../error_of.hpp"
#include "vosa/charlib.hpp"
#include "vosa/liberty.hpp"
#include "vosa/pdk.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using vosa::spice::CharlibError;

namespace {

using vosa::test::error_of;

const std::string kInv = "sky130_fd_sc_hd__inv_1";
const std::string kFlop = "sky130_fd_sc_hd__dfxtp_1";

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("vosa_charlib_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// One cache for the whole test program: the runs below share their models
// and the tt_025C_1v80 results.
const fs::path& cache() {
  static const fs::path dir = temp_dir("cache");
  return dir;
}

// Options for a quick run: these cells, one grid point, the shared cache.
vosa::spice::CharlibOptions one_point(std::vector<std::string> cells) {
  vosa::spice::CharlibOptions opt;
  opt.cache_dir = cache();
  opt.grid_points = 1;
  opt.cells = std::move(cells);
  opt.quiet = true;
  return opt;
}

vosa::pdk::PdkConfig sky130() {
  const auto pdk = vosa::pdk::load_pdk("sky130hd");
  const fs::path data = std::getenv("VOSA_DATA_DIR") ? fs::path(std::getenv("VOSA_DATA_DIR")) : fs::path("../shared");
  if (!fs::exists(data / "pdks" / "sky130_fd_pr_models"))
    throw std::runtime_error("sky130 SPICE models missing: " + (data / "pdks" / "sky130_fd_pr_models").string() +
                             " (set VOSA_DATA_DIR)");
  return pdk;
}

double first_entry(const vosa::liberty::Library& lib, const std::string& cell, const std::string& pin,
                   const std::string& table) {
  return lib.cell(cell).find_pin(pin)->timing.at(0).tables.at(table).values.at(0).at(0);
}

// The arc of `pin` with `timing_type` (setup_rising, hold_rising), by index.
size_t arc_index(const vosa::liberty::Library& lib, const std::string& cell, const std::string& pin,
                 const std::string& timing_type) {
  const auto& arcs = lib.cell(cell).find_pin(pin)->timing;
  for (size_t a = 0; a < arcs.size(); ++a)
    if (arcs[a].timing_type == timing_type) return a;
  throw std::runtime_error(cell + " pin " + pin + " has no " + timing_type + " arc");
}

// Entry (0, 0) of an output's internal power table for `related`.
double power_entry(const vosa::liberty::Library& lib, const std::string& cell, const std::string& pin,
                   const std::string& related, bool rise) {
  for (const auto& ip : lib.cell(cell).find_pin(pin)->internal_power)
    if (ip.related_pin == related) return (rise ? *ip.rise_power : *ip.fall_power).values.at(0).at(0);
  throw std::runtime_error(cell + " pin " + pin + " has no internal power for " + related);
}

}  // namespace

TEST(CharlibCorners, SpiceTakesOverWhereNoLibertyOrLadderReaches) {
  const auto pdk = vosa::pdk::load_pdk("sky130hd");
  ASSERT_TRUE(pdk.spice.has_value());
  EXPECT_EQ(vosa::pdk::resolve_corner(pdk, "ss_n40C_1v30").delay_source, "interpolated");  // inside the ladder
  EXPECT_EQ(vosa::pdk::resolve_corner(pdk, "ss_n40C_1v00").delay_source, "spice-ratio");
  const auto tt = vosa::pdk::resolve_corner(pdk, "tt_025C_1v20");
  EXPECT_EQ(tt.delay_source, "spice-ratio");
  EXPECT_EQ(tt.process, "tt");
  EXPECT_DOUBLE_EQ(tt.temperature_c, 25.0);
  EXPECT_DOUBLE_EQ(tt.voltage, 1.2);
  // No shipped tt corner at -40 C to scale: absolute SPICE.
  const auto cold = vosa::pdk::resolve_corner(pdk, "tt_n40C_0v90");
  EXPECT_EQ(cold.delay_source, "spice");
  EXPECT_DOUBLE_EQ(cold.temperature_c, -40.0);
  EXPECT_EQ(vosa::spice::reference_corner_for(pdk, tt), "tt_025C_1v80");
  EXPECT_EQ(vosa::spice::reference_corner_for(pdk, vosa::pdk::resolve_corner(pdk, "ss_n40C_1v00")), "ss_n40C_1v28");
  // A process the models do not have is an unknown corner.
  EXPECT_NE(error_of([&] { vosa::pdk::resolve_corner(pdk, "xx_025C_1v20"); }).find("unknown corner"), std::string::npos);
}

TEST(CharlibErrors, BadInputIsNamedAndLeavesNoLiberty) {
  const auto pdk = sky130();
  const fs::path out = temp_dir("errors") / "x.lib";
  vosa::spice::CharlibOptions opt;
  opt.cache_dir = cache();
  opt.grid_points = 2;
  const auto tt = vosa::pdk::resolve_corner(pdk, "tt_025C_1v20");
  opt.cells = {"sky130_fd_sc_hd__no_such_cell"};
  std::string msg = error_of([&] { vosa::spice::characterize(pdk, tt, opt, "spice", out); });
  EXPECT_NE(msg.find("unknown cell 'sky130_fd_sc_hd__no_such_cell'"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(out));
  // A PDK without SPICE models.
  opt.cells = {"NAND2X1"};
  msg = error_of([&] {
    vosa::spice::characterize(vosa::pdk::load_pdk("osu018"), vosa::pdk::resolve_corner(vosa::pdk::load_pdk("osu018"), "typ_1v80"), opt, "spice", out);
  });
  EXPECT_NE(msg.find("names no SPICE models"), std::string::npos) << msg;
  // A missing model folder names the config field.
  auto broken = pdk;
  broken.spice->model_dirs = {"/nonexistent/models"};
  opt.cells = {kInv};
  msg = error_of([&] { vosa::spice::characterize(broken, tt, opt, "spice", out); });
  EXPECT_NE(msg.find("spice.model_dirs"), std::string::npos) << msg;
  EXPECT_NE(msg.find("/nonexistent/models"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(out));
  // Outside the models' range.
  msg = error_of([&] { vosa::spice::characterize(pdk, vosa::pdk::resolve_corner(pdk, "tt_025C_3v00"), opt, "spice", out); });
  EXPECT_NE(msg.find("outside"), std::string::npos) << msg;
}

// Two cells, one grid point each (a minute of ngspice): ngspice at the shipped tt corner lands near the
// shipped tables (schematic netlists: faster, within a factor of two), setup,
// hold and internal power included; the rerun comes from the cache, and
// spice-ratio at 1.2 V is slower than 1.8 V by the measured ratio.
TEST(CharlibRun, InverterAndFlipFlopAgainstTheShippedCorner) {
  const auto pdk = sky130();
  const fs::path dir = temp_dir("run");
  vosa::spice::CharlibOptions opt = one_point({kInv, kFlop});
  const auto nominal = vosa::pdk::resolve_corner(pdk, "tt_025C_1v80");
  const auto r = vosa::spice::characterize(pdk, nominal, opt, "spice", dir / "tt_1v80.lib");
  EXPECT_EQ(r.reference_corner, "tt_025C_1v80");
  EXPECT_EQ(r.cached_cells, 0);
  const auto lib = vosa::liberty::load_library((dir / "tt_1v80.lib").string());
  EXPECT_EQ(lib.cells.size(), 2u);
  const auto shipped = vosa::liberty::load_library(vosa::pdk::prepare_liberty(pdk, "tt_025C_1v80", cache()).string());
  for (const auto& [cell, pin] : {std::pair<std::string, std::string>{kInv, "Y"}, {kFlop, "Q"}})
    for (const char* table : {"cell_rise", "cell_fall", "rise_transition", "fall_transition"}) {
      const double spice = first_entry(lib, cell, pin, table), ref = first_entry(shipped, cell, pin, table);
      EXPECT_GT(spice, 0.3 * ref) << cell << " " << table;
      EXPECT_LT(spice, 1.5 * ref) << cell << " " << table;
    }
  // Setup and hold of D, simulated by bisection (fastest clock and D
  // slews): the shipped sign and magnitude (SPICE 0.3-1.5x, like the
  // delays), written into the liberty's setup_rising / hold_rising groups.
  for (const char* type : {"setup_rising", "hold_rising"})
    for (const char* table : {"rise_constraint", "fall_constraint"}) {
      const size_t a = arc_index(shipped, kFlop, "D", type);
      const double ref = shipped.cell(kFlop).find_pin("D")->timing.at(a).tables.at(table).values[0][0];
      const double spice = lib.cell(kFlop).find_pin("D")->timing.at(a).tables.at(table).values[0][0];
      EXPECT_GT(spice / ref, 0.3) << type << " " << table << ": " << spice << " vs shipped " << ref;
      EXPECT_LT(spice / ref, 1.5) << type << " " << table << ": " << spice << " vs shipped " << ref;
      EXPECT_NEAR(spice, r.cells.at(kFlop).tables.at("D/" + std::to_string(a) + "/" + table)[0][0], 1e-6);
    }
  // Output internal power per cycle (rise + fall; the split between the two
  // edges is a convention) within 0.5-1.5x of the shipped tables: the
  // inverter's output and the flop's clock-to-Q.
  for (const auto& [cell, pin, related] : {std::tuple<std::string, std::string, std::string>{kInv, "Y", "A"},
                                           {kFlop, "Q", "CLK"}}) {
    const double spice = power_entry(lib, cell, pin, related, true) + power_entry(lib, cell, pin, related, false);
    const double ref = power_entry(shipped, cell, pin, related, true) + power_entry(shipped, cell, pin, related, false);
    EXPECT_GT(spice, 0.5 * ref) << cell << " internal power per cycle " << spice << " vs shipped " << ref;
    EXPECT_LT(spice, 1.5 * ref) << cell << " internal power per cycle " << spice << " vs shipped " << ref;
  }
  const double cap = lib.cell(kInv).find_pin("A")->capacitance, ref_cap = shipped.cell(kInv).find_pin("A")->capacitance;
  EXPECT_NEAR(cap, ref_cap, 0.3 * ref_cap);
  // The one-point grid replaced the 7x7 index.
  EXPECT_EQ(lib.cell(kInv).find_pin("Y")->timing.at(0).tables.at("cell_rise").index_1.size(), 1u);

  const auto again = vosa::spice::characterize(pdk, nominal, opt, "spice", dir / "again.lib");
  EXPECT_EQ(again.cached_cells, 2);
  EXPECT_EQ(again.simulations, 0);

  const auto low = vosa::pdk::resolve_corner(pdk, "tt_025C_1v20");
  const auto rr = vosa::spice::characterize(pdk, low, opt, "spice-ratio", dir / "tt_1v20.lib");
  const auto lib_low = vosa::liberty::load_library((dir / "tt_1v20.lib").string());
  EXPECT_DOUBLE_EQ(lib_low.nom_voltage, 1.2);
  // spice-ratio keeps the shipped 7x7 grid; entry (0,0) is shipped x ratio.
  const auto& t_low = lib_low.cell(kInv).find_pin("Y")->timing.at(0).tables.at("cell_rise");
  EXPECT_EQ(t_low.index_1.size(), 7u);
  // Delays are scaled counted from the input ramp's start (k = c * slew).
  const double k = vosa::spice::ramp_offset_per_slew(shipped) * t_low.index_1[0];
  const double measured_ratio = (rr.cells.at(kInv).tables.at("Y/0/cell_rise")[0][0] + k) /
                                (r.cells.at(kInv).tables.at("Y/0/cell_rise")[0][0] + k);
  EXPECT_GT(measured_ratio, 1.5);  // 1.2 V is much slower than 1.8 V
  EXPECT_NEAR(t_low.values[0][0], (first_entry(shipped, kInv, "Y", "cell_rise") + k) * measured_ratio - k, 1e-6);
  // Setup at 1.2 V: the shipped 1.8 V value plus the SPICE change, times the
  // flop's shipped / SPICE clock-to-Q; later than at 1.8 V.
  const size_t setup = arc_index(shipped, kFlop, "D", "setup_rising");
  const std::string key = "D/" + std::to_string(setup) + "/rise_constraint";
  const double factor = vosa::spice::clock_to_q_factor(shipped.cell(kFlop), r.cells.at(kFlop));
  EXPECT_GT(factor, 1.0);  // the schematic flop is faster than the shipped one
  const double shipped_setup = shipped.cell(kFlop).find_pin("D")->timing.at(setup).tables.at("rise_constraint").values[0][0];
  const double low_setup = lib_low.cell(kFlop).find_pin("D")->timing.at(setup).tables.at("rise_constraint").values[0][0];
  EXPECT_NEAR(low_setup, shipped_setup + factor * (rr.cells.at(kFlop).tables.at(key)[0][0] - r.cells.at(kFlop).tables.at(key)[0][0]), 1e-6);
  EXPECT_GT(low_setup, shipped_setup);
  std::ifstream in(dir / "tt_1v20.lib");
  std::string banner;
  std::getline(in, banner);
  EXPECT_NE(banner.find("delay_source spice-ratio"), std::string::npos) << banner;
}

// The calibration (spice.threshold_shift, docs/charlib.md) reaches the deck:
// at ss the config's shifts make the hvt pMOS pull-up faster (+50 mV) and
// the nMOS pull-down slower (+10 mV) than the uncalibrated models; the
// estimated diffusion areas add junction capacitance (slower at a light
// load), and so does an output wire capacitance. One grid point of inv_1 at
// ss_n40C_1v28, four ngspice runs.
TEST(CharlibCalibration, ThresholdShiftAndDiffusionAreasChangeTheDelays) {
  const auto pdk = sky130();
  ASSERT_TRUE(pdk.spice->threshold_shift.count("ss"));
  const double dn = pdk.spice->threshold_shift.at("ss").at("sky130_fd_pr__nfet_01v8");
  const double dp = pdk.spice->threshold_shift.at("ss").at("sky130_fd_pr__pfet_01v8_hvt");
  EXPECT_GT(dp, 0.0);
  EXPECT_GE(dn, 0.0);
  vosa::spice::CharlibOptions opt;
  opt.cache_dir = cache();
  opt.grid_points = 1;
  opt.cells = {kInv};
  opt.quiet = true;
  opt.cell_threshold_shift.emplace();  // the per-model shifts alone (--no-cell-calibration)
  const auto ss = vosa::pdk::resolve_corner(pdk, "ss_n40C_1v28");
  EXPECT_EQ(vosa::spice::threshold_shift_for(pdk, "ss", opt), pdk.spice->threshold_shift.at("ss"));
  EXPECT_TRUE(vosa::spice::threshold_shift_for(pdk, "tt", opt).empty());
  const auto calibrated = vosa::spice::measure_cells(pdk, ss, opt).at(kInv).tables;
  opt.threshold_shift.emplace();  // --uncalibrated
  const auto plain = vosa::spice::measure_cells(pdk, ss, opt).at(kInv).tables;
  EXPECT_LT(calibrated.at("Y/0/cell_rise")[0][0], 0.97 * plain.at("Y/0/cell_rise")[0][0]);
  if (dn > 0) {
    EXPECT_GT(calibrated.at("Y/0/cell_fall")[0][0], plain.at("Y/0/cell_fall")[0][0]);
  }
  // A device model no cell uses (a typo) is named, not ignored.
  auto typo = opt;
  typo.threshold_shift = std::map<std::string, double>{{"sky130_fd_pr__pfet_01v8_hvtx", 0.05}};
  const std::string msg = error_of([&] { vosa::spice::measure_cells(pdk, ss, typo); });
  EXPECT_NE(msg.find("'sky130_fd_pr__pfet_01v8_hvtx'"), std::string::npos) << msg;
  opt.diffusion_length_um = 0.26;
  const auto with_junctions = vosa::spice::measure_cells(pdk, ss, opt).at(kInv).tables;
  EXPECT_GT(with_junctions.at("Y/0/cell_rise")[0][0], 1.05 * plain.at("Y/0/cell_rise")[0][0]);
  EXPECT_GT(with_junctions.at("Y/0/cell_fall")[0][0], 1.05 * plain.at("Y/0/cell_fall")[0][0]);
  // --output-wire-cap: 2 fF of wiring beside the 0.5 fF load is in the deck
  // (slower both ways) and does not reach the cached plain result.
  opt.diffusion_length_um = 0.0;
  opt.output_wire_pf = 0.002;
  const auto with_wire = vosa::spice::measure_cells(pdk, ss, opt).at(kInv).tables;
  EXPECT_GT(with_wire.at("Y/0/cell_rise")[0][0], 1.5 * plain.at("Y/0/cell_rise")[0][0]);
  EXPECT_GT(with_wire.at("Y/0/cell_fall")[0][0], 1.5 * plain.at("Y/0/cell_fall")[0][0]);
}

// measure_cells_at (the per-cell fit's round): two corners' decks on one
// pool come back per corner in the order asked, the same as one corner at a
// time (which then reads them from the cache): on an empty cache, inv_1 and
// nand2_1 at ss_n40C_1v28 and the ladder top ss_n40C_1v76, four ngspice runs.
TEST(CharlibRun, SeveralCornersOnOnePoolComeBackPerCorner) {
  const auto pdk = sky130();
  vosa::spice::CharlibOptions opt;
  opt.cache_dir = temp_dir("pool");
  opt.grid_points = 1;
  opt.workers = 2;
  opt.cells = {kInv, "sky130_fd_sc_hd__nand2_1"};
  opt.quiet = true;
  const auto low = vosa::pdk::resolve_corner(pdk, "ss_n40C_1v28");
  const auto top = vosa::pdk::resolve_corner(pdk, "ss_n40C_1v76");
  int sims = 0;
  const auto both = vosa::spice::measure_cells_at(pdk, {low, top}, opt, &sims);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_GE(sims, 4);
  for (const auto& m : both) {
    ASSERT_EQ(m.size(), 2u);
    for (const auto& [cell, cm] : m) EXPECT_FALSE(cm.cached) << cell;
  }
  // The lower supply is the slower one: the corners are not swapped.
  EXPECT_GT(both[0].at(kInv).tables.at("Y/0/cell_rise")[0][0], 1.3 * both[1].at(kInv).tables.at("Y/0/cell_rise")[0][0]);
  for (size_t c = 0; c < 2; ++c) {
    const auto one = vosa::spice::measure_cells(pdk, c == 0 ? low : top, opt);
    for (const auto& [cell, cm] : one) {
      EXPECT_TRUE(cm.cached) << cell;
      EXPECT_EQ(cm.tables, both[c].at(cell).tables) << cell;
    }
  }
}

// "<model>@internal-gate" shifts only the transistors whose gate is an
// internal net: in maj3_1 the output inverter (X8 pMOS, X3 nMOS), not the
// first stage's pMOS stacks. The output's rise goes through X8, its fall
// through the stacks (which charge the internal node) and X3 (nMOS, not
// shifted here): a faster X8 speeds the rise and barely moves the fall. inv_1 has
// no internal gate, so the key changes nothing there; an unknown qualifier
// is named (docs/charlib.md, "Ninth session").
TEST(CharlibCalibration, InternalGateShiftMovesOnlyTheLaterStage) {
  const auto pdk = sky130();
  const std::string maj = "sky130_fd_sc_hd__maj3_1", pfet = "sky130_fd_pr__pfet_01v8_hvt";
  vosa::spice::CharlibOptions opt = one_point({kInv, maj});
  const auto ss = vosa::pdk::resolve_corner(pdk, "ss_n40C_1v28");
  opt.threshold_shift = std::map<std::string, double>{{"sky130_fd_pr__nfet_01v8", 0.01}, {pfet, 0.05}};
  const auto base = vosa::spice::measure_cells(pdk, ss, opt);
  auto inner = opt;
  inner.threshold_shift->emplace(pfet + vosa::spice::kInternalGateSuffix, 0.15);
  const auto staged = vosa::spice::measure_cells(pdk, ss, inner);
  const double rise0 = base.at(maj).tables.at("X/0/cell_rise")[0][0], rise1 = staged.at(maj).tables.at("X/0/cell_rise")[0][0];
  const double fall0 = base.at(maj).tables.at("X/0/cell_fall")[0][0], fall1 = staged.at(maj).tables.at("X/0/cell_fall")[0][0];
  EXPECT_LT(rise1, 0.97 * rise0) << rise0 << " -> " << rise1;
  // The fall only feels X8 turning off a little later (+2.2 % at this entry
  // when written); the whole model shifted moves it the other way, by more.
  EXPECT_NEAR(fall1 / fall0, 1.0, 0.05) << fall0 << " -> " << fall1;
  EXPECT_EQ(staged.at(kInv).tables.at("Y/0/cell_rise")[0][0], base.at(kInv).tables.at("Y/0/cell_rise")[0][0]);
  EXPECT_EQ(staged.at(kInv).tables.at("Y/0/cell_fall")[0][0], base.at(kInv).tables.at("Y/0/cell_fall")[0][0]);
  // The whole model shifted the same amount moves the first stage too: the fall changes.
  auto all = opt;
  all.threshold_shift->at(pfet) = 0.15;
  const double fall_all = vosa::spice::measure_cells(pdk, ss, all).at(maj).tables.at("X/0/cell_fall")[0][0];
  EXPECT_LT(fall_all, 0.95 * fall0) << fall0 << " -> " << fall_all;
  auto bad = opt;
  bad.threshold_shift->emplace(pfet + "@output", 0.1);
  const std::string msg = error_of([&] { vosa::spice::measure_cells(pdk, ss, bad); });
  EXPECT_NE(msg.find("@output"), std::string::npos) << msg;
  EXPECT_NE(msg.find("@internal-gate"), std::string::npos) << msg;
}

// A config whose calibration names an unknown process is refused by field.
TEST(CharlibCalibration, BadThresholdShiftIsNamed) {
  const fs::path dir = temp_dir("badshift");
  std::string text;
  {
    std::ifstream in(vosa::pdk::load_pdk("sky130hd").path);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string from = "\"threshold_shift\": {\n      \"ss\"";
  const size_t at = text.find(from);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, from.size(), "\"threshold_shift\": {\n      \"xx\"");
  std::ofstream(dir / "bad.json") << text;
  const std::string msg = error_of([&] { vosa::pdk::load_pdk((dir / "bad.json").string()); });
  EXPECT_NE(msg.find("spice.threshold_shift.xx"), std::string::npos) << msg;
}

// Where a cell stops working: at ss, -40 C and 0.6 V the hvt pMOS of inv_1
// no longer pulls its output up; a named error, no liberty written.
TEST(CharlibErrors, CellThatStopsWorkingIsNamed) {
  const auto pdk = sky130();
  const fs::path out = temp_dir("stops") / "ss_0v60.lib";
  vosa::spice::CharlibOptions opt;
  opt.cache_dir = cache();
  opt.grid_points = 1;
  opt.cells = {kInv};
  opt.quiet = true;
  opt.cell_threshold_shift.emplace();  // the per-model shifts, as measured (docs/charlib.md, "Errors")
  const std::string msg = error_of(
      [&] { vosa::spice::characterize(pdk, vosa::pdk::resolve_corner(pdk, "ss_n40C_0v60"), opt, "spice", out); });
  EXPECT_NE(msg.find("cell " + kInv + " stops working at ss_n40C_0v60"), std::string::npos) << msg;
  EXPECT_NE(msg.find("never crosses its threshold"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(out));
}

// An XOR pin has a positive_unate and a negative_unate arc; each is simulated
// with the side input of its own polarity. The shipped tt_025C_1v80 fall
// delay of xor2_1's positive arc is 3.6x its negative arc's; measuring both
// with one side input (the old bug) would make them equal.
TEST(CharlibRun, XorArcsUseTheirOwnPolarity) {
  const auto pdk = sky130();
  vosa::spice::CharlibOptions opt;
  opt.cache_dir = cache();
  opt.grid_points = 1;
  opt.cells = {"sky130_fd_sc_hd__xor2_1"};
  opt.quiet = true;
  const auto m = vosa::spice::measure_cells(pdk, vosa::pdk::resolve_corner(pdk, "tt_025C_1v80"), opt);
  const auto shipped = vosa::liberty::load_library(vosa::pdk::prepare_liberty(pdk, "tt_025C_1v80", cache()).string());
  const auto& arcs = shipped.cell("sky130_fd_sc_hd__xor2_1").find_pin("X")->timing;
  const auto& tables = m.at("sky130_fd_sc_hd__xor2_1").tables;
  for (size_t pos = 0; pos < arcs.size(); ++pos) {
    if (arcs[pos].timing_sense != "positive_unate") continue;
    for (size_t neg = 0; neg < arcs.size(); ++neg) {
      if (arcs[neg].timing_sense != "negative_unate" || arcs[neg].related_pin != arcs[pos].related_pin) continue;
      const double ratio = tables.at("X/" + std::to_string(pos) + "/cell_fall")[0][0] /
                           tables.at("X/" + std::to_string(neg) + "/cell_fall")[0][0];
      EXPECT_GT(ratio, 2.0) << "pin " << arcs[pos].related_pin;
    }
  }
}

// The shipped sky130 files keep the worst side-input vector of an arc
// (default_arc_mode "worst_edges"). a21oi_1's B1 output rise goes through
// B1's pMOS and the parallel A1/A2 pMOS: with both A inputs low (the first
// sensitizing vector) it is about twice as fast as with one. At tt_025C_1v80,
// (0.01 ns, 0.0005 pF): shipped 0.065 ns; the first vector alone 0.025 ns,
// the worst of the three 0.049 ns.
TEST(CharlibRun, UnateArcsKeepTheWorstSideInputVector) {
  const auto pdk = sky130();
  vosa::spice::CharlibOptions opt;
  opt.cache_dir = cache();
  opt.grid_points = 1;
  const std::string cell = "sky130_fd_sc_hd__a21oi_1";
  opt.cells = {cell};
  opt.quiet = true;
  const auto m = vosa::spice::measure_cells(pdk, vosa::pdk::resolve_corner(pdk, "tt_025C_1v80"), opt);
  const auto shipped = vosa::liberty::load_library(vosa::pdk::prepare_liberty(pdk, "tt_025C_1v80", cache()).string());
  const auto& arcs = shipped.cell(cell).find_pin("Y")->timing;
  bool seen = false;
  for (size_t a = 0; a < arcs.size(); ++a) {
    if (arcs[a].related_pin != "B1") continue;
    seen = true;
    const double spice = m.at(cell).tables.at("Y/" + std::to_string(a) + "/cell_rise")[0][0];
    const double ref = arcs[a].tables.at("cell_rise").values[0][0];
    EXPECT_GT(spice / ref, 0.6) << "B1 rise " << spice << " ns against shipped " << ref << " ns";
    EXPECT_LT(spice / ref, 1.3);
  }
  EXPECT_TRUE(seen);
}

// spice-ratio interpolates the ratio in log(slew) and log(load): the liberty
// grids are geometric. A ratio linear in log(x) is reproduced between grid
// points (linear interpolation would give 1.5 + 0.5 * (0.0316 - 0.01) / 0.09
// = 1.62 at the geometric midpoint, not 1.75).
TEST(CharlibRatio, RatioIsInterpolatedOnLogAxes) {
  vosa::liberty::Table r;
  r.index_1 = {0.01, 0.1, 1.0};
  r.index_2 = {0.001, 0.1};
  r.values = {{1.5, 1.5}, {2.0, 2.0}, {2.5, 2.5}};
  EXPECT_NEAR(vosa::spice::spice_ratio_lookup(r, std::sqrt(0.01 * 0.1), 0.001), 1.75, 1e-9);
  EXPECT_NEAR(vosa::spice::spice_ratio_lookup(r, 0.1, 0.05), 2.0, 1e-9);
  EXPECT_NEAR(vosa::spice::spice_ratio_lookup(r, 1.0, 0.1), 2.5, 1e-9);
  // An axis with a value <= 0 falls back to linear interpolation on it.
  r.index_2 = {0.0, 0.1};
  r.values = {{1.0, 2.0}, {1.0, 2.0}, {1.0, 2.0}};
  EXPECT_NEAR(vosa::spice::spice_ratio_lookup(r, 0.1, 0.05), 1.5, 1e-9);
}

// The settle rerun (docs/charlib.md, "Unsettled output"): with the first
// window cut to 0.3x, inv_1's output at tt_025C_1v80 has crossed its
// thresholds but is not within 10 % of its rail when the related input turns
// back (0.2x: no crossing, 0.4x: settled); the run is repeated with a 4x
// window and gives the delays and transitions of the normal window. With
// the check disabled the simulation count stays at the normal run's (checked
// by hand, 2026-12-01). One grid point at tt (fast ngspice runs).
TEST(CharlibRun, UnsettledOutputRunsAgainWithALongerWindow) {
  const auto pdk = sky130();
  const auto tt = vosa::pdk::resolve_corner(pdk, "tt_025C_1v80");
  vosa::spice::CharlibOptions opt;
  opt.cache_dir = cache();
  opt.grid_points = 1;
  opt.cells = {kInv};
  opt.quiet = true;
  const auto normal = vosa::spice::measure_cells(pdk, tt, opt).at(kInv);
  opt.first_window_scale = 0.3;
  const auto shortened = vosa::spice::measure_cells(pdk, tt, opt).at(kInv);
  EXPECT_GT(shortened.simulations, normal.simulations);
  for (const char* type : {"cell_rise", "cell_fall", "rise_transition", "fall_transition"}) {
    const double a = normal.tables.at(std::string("Y/0/") + type)[0][0];
    const double b = shortened.tables.at(std::string("Y/0/") + type)[0][0];
    EXPECT_NEAR(b, a, 0.05 * a) << type;
  }
}

// The per-cell calibration file (charlib-calibrate --per-cell): a written
// file reads back; a missing or malformed one is a named error that names the
// file and the field; the config's spice.cell_calibration and ratio grid are
// checked by field; a per-cell shift reaches only its cell's deck.
// The per-cell fit's descent (charlib-calibrate --per-cell) on an objective
// with a known minimum on its lattice: it reaches it, says it converged, and
// goes on along a direction that improves instead of sweeping every model
// again; a cap stops it unconverged; no shift set is tried twice, none beyond
// +-0.3 V.
TEST(CharlibCalibration, ShiftDescentConvergesOrSaysItStopped) {
  using Shift = vosa::spice::ShiftDescent::Shift;
  const std::vector<std::string> models = {"p", "p@internal-gate", "n", "n@internal-gate"};
  // Minimum at p -0.03, p@internal-gate +0.13, n +0.09, n@internal-gate +0.01
  // (the kind of point the tenth session's fits were heading to).
  const Shift target = {{"p", -0.03}, {"p@internal-gate", 0.13}, {"n", 0.09}, {"n@internal-gate", 0.01}};
  auto objective = [&](const Shift& s) {
    double f = 0;
    for (const auto& [m, v] : target) f += (s.at(m) - v) * (s.at(m) - v) * (m[0] == 'p' ? 3.0 : 1.0);
    return f;
  };
  const Shift start = {{"p", 0.05}, {"p@internal-gate", 0.05}, {"n", 0.01}, {"n@internal-gate", 0.01}};
  auto run = [&](int cap, std::set<Shift>* tried) {
    vosa::spice::ShiftDescent d(start, models, {0.04, 0.02}, cap);
    while (auto t = d.next()) {
      EXPECT_TRUE(tried->insert(*t).second) << "a shift set tried twice";
      for (const auto& [m, v] : *t) EXPECT_LE(std::abs(v), 0.3 + 1e-9) << m;
      d.result(*t, objective(*t));
    }
    return d;
  };
  std::set<Shift> tried;
  auto done = run(0, &tried);
  EXPECT_TRUE(done.converged());
  for (const auto& [m, v] : target) EXPECT_NEAR(done.best().at(m), v, 1e-9) << m;
  EXPECT_DOUBLE_EQ(done.best_value(), 0.0);
  EXPECT_DOUBLE_EQ(done.start_value(), objective(start));
  // Six 0.04 V moves from the start, then a sweep at 0.04 V and one at
  // 0.02 V that confirm (8 trials each): under 32 evaluations in all.
  EXPECT_LT(done.evaluations(), 32);
  EXPECT_EQ(done.evaluations(), static_cast<int>(tried.size()));
  EXPECT_FALSE(done.next().has_value());

  std::set<Shift> capped_tried;
  const auto capped = run(5, &capped_tried);
  EXPECT_FALSE(capped.converged());
  EXPECT_EQ(capped.evaluations(), 5);
  EXPECT_GT(capped.best_value(), 0.0);
  EXPECT_LT(capped.best_value(), capped.start_value());

  // Near the bound: the optimum at +0.5 V is out of reach, the fit stops at
  // the last lattice point within +-0.3 V and still converges.
  vosa::spice::ShiftDescent edge({{"p", 0.25}}, {"p"}, {0.04, 0.02}, 0);
  while (auto t = edge.next()) edge.result(*t, std::abs(t->at("p") - 0.5));
  EXPECT_TRUE(edge.converged());
  EXPECT_NEAR(edge.best().at("p"), 0.29, 1e-9);
}

TEST(CharlibCellCalibration, FileReadsBackAndBadFilesAreNamed) {
  const fs::path dir = temp_dir("cellcal");
  vosa::spice::CellCalibration c;
  c.pdk = "sky130hd";
  c.process = "ss";
  c.top = "ss_n40C_1v76";
  c.corners = {"ss_n40C_1v40"};
  c.models = {"sky130_fd_pr__pfet_01v8_hvt"};
  c.grid_points = 3;
  c.shifts[kInv] = {{"sky130_fd_pr__nfet_01v8", 0.01}, {"sky130_fd_pr__pfet_01v8_hvt", 0.09}};
  c.objective_start[kInv] = 0.2;
  c.objective[kInv] = 0.1;
  c.evaluations[kInv] = 3;
  c.converged[kInv] = false;
  const fs::path good = dir / "good.json";
  vosa::spice::write_cell_calibration(c, good);
  const auto back = vosa::spice::read_cell_calibration(good);
  EXPECT_EQ(back.shifts, c.shifts);
  EXPECT_EQ(back.top, c.top);
  EXPECT_EQ(back.corners, c.corners);
  EXPECT_EQ(back.evaluations, c.evaluations);
  EXPECT_EQ(back.converged, c.converged);
  EXPECT_DOUBLE_EQ(back.objective.at(kInv), 0.1);

  std::string text;
  {
    std::ifstream in(good);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  // (a replacement of the good text, the field the error must name)
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"\"version\": 1", "\"version\": 2", "'version'"},
      {"\"format\": \"vosa-charlib-cell-calibration\"", "\"format\": \"other\"", "'format'"},
      {"\"sky130_fd_pr__pfet_01v8_hvt\": 0.09", "\"sky130_fd_pr__pfet_01v8_hvt\": 0.9",
       "'cells." + kInv + ".threshold_shift.sky130_fd_pr__pfet_01v8_hvt'"},
      {"\"sky130_fd_pr__pfet_01v8_hvt\": 0.09", "\"sky130_fd_pr__pfet_01v8_hvt\": \"x\"",
       "'cells." + kInv + ".threshold_shift.sky130_fd_pr__pfet_01v8_hvt'"},
      {"\"top\": \"ss_n40C_1v76\"", "\"top\": 3", "'top'"},
      {"\"grid_points\": 3", "\"grid_points\": \"3\"", "'grid_points'"},
      {"\"converged\": false", "\"converged\": \"no\"", "'cells." + kInv + ".converged'"},
  };
  for (const auto& [from, to, field] : cases) {
    std::string bad = text;
    const size_t at = bad.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    bad.replace(at, from.size(), to);
    const fs::path f = dir / "bad.json";
    std::ofstream(f) << bad;
    const std::string msg = error_of([&] { vosa::spice::read_cell_calibration(f); });
    EXPECT_NE(msg.find(f.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(field), std::string::npos) << field << ": " << msg;
  }
  std::ofstream(dir / "truncated.json") << text.substr(0, text.size() / 2);
  std::string msg = error_of([&] { vosa::spice::read_cell_calibration(dir / "truncated.json"); });
  EXPECT_NE(msg.find("is not JSON"), std::string::npos) << msg;
  msg = error_of([&] { vosa::spice::read_cell_calibration(dir / "missing.json"); });
  EXPECT_NE(msg.find("missing.json: does not exist"), std::string::npos) << msg;

  // Which shifts a corner takes: the file's for its process, none for
  // --uncalibrated or explicit shifts; a file of another PDK is refused.
  const auto pdk = vosa::pdk::load_pdk("sky130hd");
  vosa::spice::CharlibOptions opt;
  opt.cell_calibration_file = good;
  EXPECT_EQ(vosa::spice::cell_threshold_shift_for(pdk, "ss", opt), c.shifts);
  EXPECT_TRUE(vosa::spice::cell_threshold_shift_for(pdk, "tt", opt).empty());
  auto explicit_shift = opt;
  explicit_shift.threshold_shift.emplace();
  EXPECT_TRUE(vosa::spice::cell_threshold_shift_for(pdk, "ss", explicit_shift).empty());
  auto other = c;
  other.pdk = "osu018";
  vosa::spice::write_cell_calibration(other, dir / "other.json");
  opt.cell_calibration_file = dir / "other.json";
  msg = error_of([&] { vosa::spice::cell_threshold_shift_for(pdk, "ss", opt); });
  EXPECT_NE(msg.find("fitted for PDK osu018"), std::string::npos) << msg;

  // sky130hd's own: the committed ss file reads, matches its PDK, and the
  // flow's spice-ratio grid is the config's.
  const auto shipped = vosa::spice::cell_threshold_shift_for(pdk, "ss", vosa::spice::CharlibOptions{});
  EXPECT_TRUE(shipped.count(kInv)) << "pdk_configs/calibration/sky130hd_cells_ss.json";
  EXPECT_TRUE(vosa::spice::cell_threshold_shift_for(pdk, "tt", vosa::spice::CharlibOptions{}).empty());
  EXPECT_EQ(pdk.spice->ratio_grid_points, 5);
  // The config's fields, by name.
  std::string config;
  {
    std::ifstream in(pdk.path);
    config.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string anchor = "\"delay_source\": \"spice-ratio\"";
  const size_t at = config.find(anchor);
  ASSERT_NE(at, std::string::npos);
  for (const auto& [insert, field] : std::vector<std::pair<std::string, std::string>>{
           {"\"cell_calibration\": {\"xx\": \"a.json\"},", "spice.cell_calibration.xx"},
           {"\"cell_calibration\": {\"ss\": 3},", "spice.cell_calibration.ss"},
           {"\"ratio_grid_points\": 1,", "spice.ratio_grid_points"}}) {
    std::string bad = config;
    bad.insert(at, insert + "\n    ");
    std::ofstream(dir / "badpdk.json") << bad;
    msg = error_of([&] { vosa::pdk::load_pdk((dir / "badpdk.json").string()); });
    EXPECT_NE(msg.find(field), std::string::npos) << field << ": " << msg;
  }
  // A calibration file named by the config that is bad is named on use.
  std::string bad = config;
  bad.insert(at, "\"cell_calibration\": {\"ss\": \"truncated.json\"},\n    ");
  std::ofstream(dir / "badfile_pdk.json") << bad;
  const auto with_bad = vosa::pdk::load_pdk((dir / "badfile_pdk.json").string());
  msg = error_of([&] { vosa::spice::cell_threshold_shift_for(with_bad, "ss", vosa::spice::CharlibOptions{}); });
  EXPECT_NE(msg.find((dir / "truncated.json").string()), std::string::npos) << msg;
}
