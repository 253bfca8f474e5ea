// Unit tests of the flow's C++ pieces: PDK configs and corner resolution,
// liberty lookup errors, the alpha-power fit, and OpenSTA report reading.
#include "../error_of.hpp"
#include "vosa/bit_timing.hpp"
#include "vosa/liberty.hpp"
#include "vosa/pdk.hpp"
#include "vosa/voltage_model.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>

namespace fs = std::filesystem;
using nlohmann::json;
using vosa::pdk::PdkError;

namespace {

using vosa::test::error_of;

const fs::path kConfigs = fs::path(VOSA_SOURCE_DIR) / "pdk_configs";

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("vosa_flow_unit_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

void write_json(const fs::path& p, const json& j) {
  std::ofstream out(p);
  out << j.dump(2);
}

}  // namespace

TEST(PdkConfig, AllFourShippedConfigsLoad) {
  for (const std::string name : {"osu018", "sky130hd", "gf180mcu7t", "ihp_sg13g2"}) {
    const auto pdk = vosa::pdk::load_pdk(name);
    EXPECT_EQ(pdk.name, name);
    EXPECT_TRUE(pdk.corners.count(pdk.signoff_corner)) << name;
    const auto& ladder = pdk.ladder(pdk.default_ladder);
    for (size_t i = 1; i < ladder.size(); ++i)
      EXPECT_LT(pdk.corners.at(ladder[i - 1]).voltage, pdk.corners.at(ladder[i]).voltage) << name;
  }
}

TEST(PdkConfig, Sky130SignoffIsTopOfTheSsLadder) {
  const auto pdk = vosa::pdk::load_pdk("sky130hd");
  EXPECT_EQ(pdk.signoff_corner, "ss_n40C_1v76");
  const auto corners = vosa::pdk::default_flow_corners(pdk);
  ASSERT_EQ(corners.size(), 6u);
  EXPECT_EQ(corners.front(), "ss_n40C_1v28");
  EXPECT_EQ(corners.back(), "ss_n40C_1v76");
}

TEST(PdkConfig, Osu018DefaultCornersAreDerated) {
  const auto pdk = vosa::pdk::load_pdk("osu018");
  ASSERT_TRUE(pdk.voltage_model);
  const auto corners = vosa::pdk::default_flow_corners(pdk);
  EXPECT_EQ(corners.back(), "typ_1v80");
  EXPECT_EQ(corners.front(), "typ_1v20");
  const auto r = vosa::pdk::resolve_corner(pdk, "typ_1v50");
  EXPECT_EQ(r.delay_source, "derated");
  EXPECT_TRUE(r.outside_ladder);
  EXPECT_EQ(vosa::pdk::resolve_corner(pdk, "typ_1v80").delay_source, "liberty-corner");
}

TEST(PdkConfig, CornerNamesFollowEachLibrarysStyle) {
  const auto sky = vosa::pdk::load_pdk("sky130hd");
  EXPECT_EQ(vosa::pdk::corner_name_at(sky, "ss_n40C", 1.3), "ss_n40C_1v30");
  const auto in = vosa::pdk::resolve_corner(sky, "ss_n40C_1v30");
  EXPECT_EQ(in.delay_source, "interpolated");
  EXPECT_DOUBLE_EQ(in.voltage, 1.3);
  // Below the ladder sky130hd's config names SPICE models (tests/charlib).
  const auto out = vosa::pdk::resolve_corner(sky, "ss_n40C_1v20");
  EXPECT_EQ(out.delay_source, "spice-ratio");
  EXPECT_TRUE(out.outside_ladder);
  const auto ihp = vosa::pdk::load_pdk("ihp_sg13g2");
  EXPECT_EQ(vosa::pdk::corner_name_at(ihp, "typ_25C", 1.35), "typ_1p35V_25C");
  EXPECT_EQ(vosa::pdk::resolve_corner(ihp, "typ_1p35V_25C").delay_source, "interpolated");
}

TEST(PdkConfig, UnknownPdkNamesTheAvailableOnes) {
  const std::string msg = error_of([] { vosa::pdk::load_pdk("no_such_pdk"); });
  EXPECT_NE(msg.find("unknown PDK 'no_such_pdk'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("sky130hd"), std::string::npos) << msg;
}

TEST(PdkConfig, UnknownCornerIsAClearError) {
  const auto pdk = vosa::pdk::load_pdk("sky130hd");
  const std::string msg = error_of([&] { vosa::pdk::resolve_corner(pdk, "fast_corner"); });
  EXPECT_NE(msg.find("unknown corner 'fast_corner'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ss_n40C_1v28"), std::string::npos) << msg;
}

TEST(PdkConfig, MissingFieldNamesFileAndField) {
  const fs::path dir = temp_dir("field");
  json j = read_json(kConfigs / "sky130hd.json");
  j.erase("signoff_corner");
  write_json(dir / "broken.json", j);
  const std::string msg = error_of([&] { vosa::pdk::load_pdk((dir / "broken.json").string()); });
  EXPECT_NE(msg.find("broken.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'signoff_corner'"), std::string::npos) << msg;

  j = read_json(kConfigs / "sky130hd.json");
  j["ladders"]["ss_n40C"].push_back("tt_025C_1v80");  // mixes process/temperature
  write_json(dir / "mixed.json", j);
  const std::string mixed = error_of([&] { vosa::pdk::load_pdk((dir / "mixed.json").string()); });
  EXPECT_NE(mixed.find("ladders.ss_n40C"), std::string::npos) << mixed;
  fs::remove_all(dir);
}

TEST(PdkConfig, MissingLibertySaysWhereItLooked) {
  const fs::path dir = temp_dir("liberty");
  json j = read_json(kConfigs / "sky130hd.json");
  j["liberty_dirs"] = {(dir / "nowhere").string(), "$VOSA_UNSET_TEST_VARIABLE/x"};
  write_json(dir / "nolib.json", j);
  const auto pdk = vosa::pdk::load_pdk((dir / "nolib.json").string());
  const std::string msg = error_of([&] { vosa::pdk::find_liberty(pdk, pdk.corner("ss_n40C_1v40")); });
  EXPECT_NE(msg.find((dir / "nowhere" / "sky130_fd_sc_hd__ss_n40C_1v40.lib").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find(".lib.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("$VOSA_UNSET_TEST_VARIABLE/x (variable unset)"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(PdkConfig, CopiedConfigIsFoundThroughVosaPdkConfigs) {
  const fs::path dir = temp_dir("copy");
  json j = read_json(kConfigs / "osu018.json");
  j["name"] = "my_osu";
  write_json(dir / "my_osu.json", j);
  ::setenv("VOSA_PDK_CONFIGS", dir.c_str(), 1);
  const auto pdk = vosa::pdk::load_pdk("my_osu");
  ::unsetenv("VOSA_PDK_CONFIGS");
  EXPECT_EQ(pdk.name, "my_osu");
  EXPECT_EQ(pdk.path, dir / "my_osu.json");
  fs::remove_all(dir);
}

TEST(PdkConfig, GlobMatchesDontUsePatterns) {
  EXPECT_TRUE(vosa::pdk::glob_match("sky130_fd_sc_hd__lpflow_*", "sky130_fd_sc_hd__lpflow_bleeder_1"));
  EXPECT_TRUE(vosa::pdk::glob_match("*_0", "sky130_fd_sc_hd__a_0"));
  EXPECT_FALSE(vosa::pdk::glob_match("*_0", "sky130_fd_sc_hd__a_01"));
  EXPECT_TRUE(vosa::pdk::glob_match("CLKBUF?", "CLKBUF1"));
  EXPECT_FALSE(vosa::pdk::glob_match("LATCH", "LATCHX"));
}

TEST(AlphaPower, FitRecoversKnownParameters) {
  const double vth = 0.55, alpha = 1.45, k = 0.8;
  std::vector<double> v{1.28, 1.35, 1.44, 1.60, 1.76}, d;
  for (double x : v) d.push_back(k * vosa::voltage::alpha_power_shape(x, vth, alpha));
  const auto fit = vosa::voltage::fit_alpha_power(v, d);
  EXPECT_NEAR(fit.vth, vth, 0.01);
  EXPECT_NEAR(fit.alpha, alpha, 0.02);
  EXPECT_LT(fit.rms_log_error, 1e-4);
  // Delay falls as voltage rises.
  EXPECT_GT(vosa::voltage::alpha_power_shape(1.2, fit.vth, fit.alpha),
            vosa::voltage::alpha_power_shape(1.8, fit.vth, fit.alpha));
}

TEST(AlphaPower, RejectsNonPositiveDelays) {
  EXPECT_THROW(vosa::voltage::fit_alpha_power({1.0, 1.2}, {0.5, -0.1}), std::invalid_argument);
  EXPECT_THROW(vosa::voltage::fit_alpha_power({1.0}, {0.5}), std::invalid_argument);
}

TEST(StaReports, CorruptReportNamesFileAndLine) {
  const fs::path dir = temp_dir("report");
  {
    std::ofstream out(dir / "c.paths.tsv");
    out << "corner\tc\nperiod_ns\t5\nbit\t0\tx/D\t1.0\tfour\t3.0\n";
  }
  const std::string msg = error_of([&] { vosa::sta::read_paths_report(dir / "c.paths.tsv"); });
  EXPECT_NE(msg.find("c.paths.tsv:3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'four'"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(StaReports, MissingOutputBitIsAnError) {
  const fs::path dir = temp_dir("bits");
  {
    std::ofstream m(dir / "manifest.json");
    m << R"({"pe": "vosa_pe", "pe_output_register": "psum_q", "config": {"acc_bits": 3}})";
    std::ofstream n(dir / "netlist.v");
    n << "module vosa_pe(); endmodule\n";
    std::ofstream r(dir / "typ_1v80.paths.tsv");
    r << "corner\ttyp_1v80\nperiod_ns\t5\nworst_slack_ns\t1\n";
    for (int bit : {0, 2})
      r << "bit\t" << bit << "\tpsum_q[" << bit << "]_reg/D\t1.0\t4.9\t3.9\npath\t" << bit << "\t1.0\t3.9\ta\t3\n";
  }
  vosa::sta::CollectOptions o;
  o.pdk = "osu018";
  o.manifest = dir / "manifest.json";
  o.netlist = dir / "netlist.v";
  o.corners = {"typ_1v80"};
  o.report_dir = dir;
  const std::string msg = error_of([&] { vosa::sta::collect_bit_timing(o); });
  EXPECT_NE(msg.find("missing: 1"), std::string::npos) << msg;
  fs::remove_all(dir);
}

namespace {

// First cell_rise table of `cell` in a liberty file.
const vosa::liberty::Table& first_cell_rise(const vosa::liberty::Library& lib, const std::string& cell) {
  for (const auto& pin : lib.cell(cell).pins)
    for (const auto& arc : pin.timing)
      if (auto it = arc.tables.find("cell_rise"); it != arc.tables.end()) return it->second;
  throw std::runtime_error("no cell_rise in " + cell);
}

}  // namespace

TEST(VoltageModel, Osu018DeratedLibertyScalesByTheConfigLaw) {
  const fs::path osu = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";
  ASSERT_TRUE(fs::exists(osu)) << "osu018 liberty missing: " << osu << " (apt install qflow-tech-osu018)";
  const fs::path cache = temp_dir("derate");
  const auto pdk = vosa::pdk::load_pdk("osu018");
  const fs::path lib_path = vosa::voltage::prepare_corner_liberty(pdk, "typ_1v50", cache);
  const std::string text = vosa::pdk::read_text_file(lib_path);
  EXPECT_NE(text.find("delay_source derated"), std::string::npos);
  const auto derated = vosa::liberty::load_library(lib_path.string());
  const auto nominal = vosa::liberty::load_library(osu.string());
  EXPECT_DOUBLE_EQ(derated.nom_voltage, 1.5);
  const double expected = vosa::voltage::alpha_power_shape(1.5, 0.45, 1.3) /
                          vosa::voltage::alpha_power_shape(1.8, 0.45, 1.3);
  EXPECT_GT(expected, 1.0);
  const auto& slow = first_cell_rise(derated, "NAND2X1");
  const auto& fast = first_cell_rise(nominal, "NAND2X1");
  ASSERT_EQ(slow.values.size(), fast.values.size());
  for (size_t r = 0; r < fast.values.size(); ++r)
    for (size_t c = 0; c < fast.values[r].size(); ++c)
      EXPECT_NEAR(slow.values[r][c], fast.values[r][c] * expected, 1e-6 * fast.values[r][c] + 1e-9);
  fs::remove_all(cache);
}

TEST(VoltageModel, Sky130InterpolatedTablesLieBetweenTheirCorners) {
  const auto pdk = vosa::pdk::load_pdk("sky130hd");
  const fs::path lib_128 = vosa::pdk::find_liberty(pdk, pdk.corner("ss_n40C_1v28"));  // fails naming the paths
  const fs::path cache = temp_dir("interp");
  const std::vector<std::string> fit{"ss_n40C_1v28", "ss_n40C_1v35", "ss_n40C_1v44"};
  const fs::path model_path = vosa::voltage::prepare_corner_liberty(pdk, "ss_n40C_1v30", cache, fit);
  const auto model = vosa::liberty::load_library(model_path.string());
  const auto lo = vosa::liberty::load_library(vosa::pdk::prepare_liberty(pdk, "ss_n40C_1v28", cache).string());
  const auto hi = vosa::liberty::load_library(vosa::pdk::prepare_liberty(pdk, "ss_n40C_1v35", cache).string());
  EXPECT_DOUBLE_EQ(model.nom_voltage, 1.3);
  int checked = 0;
  for (const std::string cell : {"sky130_fd_sc_hd__nand2_1", "sky130_fd_sc_hd__xor2_1", "sky130_fd_sc_hd__inv_1"}) {
    const auto& m = first_cell_rise(model, cell);
    const auto& a = first_cell_rise(lo, cell);   // 1.28 V: slower
    const auto& b = first_cell_rise(hi, cell);   // 1.35 V: faster
    // The corners' tables have different slew/load axes: compare at the
    // model's grid points (bilinear lookup, as STA does).
    for (size_t r = 0; r < m.values.size(); ++r)
      for (size_t c = 0; c < m.values[r].size(); ++c) {
        const double x1 = m.index_1.at(r), x2 = m.index_2.at(c);
        EXPECT_LT(m.values[r][c], a.lookup(x1, x2)) << cell << " slew " << x1 << " load " << x2;
        EXPECT_GT(m.values[r][c], b.lookup(x1, x2)) << cell << " slew " << x1 << " load " << x2;
        ++checked;
      }
  }
  EXPECT_GT(checked, 100);
  fs::remove_all(cache);
}
