// Liberty reader: syntax, errors with line numbers, functions, real PDK libraries.
#include "vosa/liberty.hpp"
#include "data_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

using namespace vosa::liberty;

namespace {

const char* kSmallLib = R"lib(/* header */
library(tiny) {
  time_unit : "1ps";
  nom_voltage : 1.2;
  capacitive_load_unit (1, pf);
  lu_table_template(t2) {
    variable_1 : input_net_transition;
    index_1 ("1, 2");
    index_2 ("10, 20");
  }
  cell (NAND2) {
    area : 4.5;
    pin(A, B) { direction : input; capacitance : 0.01; }
    pin(Y) {
      direction : output;
      function : "!(A B)";
      timing() {
        related_pin : "A";
        timing_sense : negative_unate;
        cell_rise(t2) {
          values ("1.0, 2.0", \
                  "3.0, 4.0");
        }
      }
    }
  }
  cell (DFF) {
    ff (IQ, IQN) { next_state : "D"; clocked_on : "CLK"; clear : "R'"; }
    pin(Q) { direction : output; function : "IQ"; }
  }
}
)lib";

}  // namespace

TEST(Liberty, ParsesGroupsAttributesAndContinuations) {
  const Library lib = build_library(parse_liberty(kSmallLib, "tiny.lib"), "tiny.lib");
  EXPECT_EQ(lib.name, "tiny");
  EXPECT_DOUBLE_EQ(lib.time_unit_ns, 1e-3);
  EXPECT_DOUBLE_EQ(lib.nom_voltage, 1.2);
  const Attribute* cap = lib.root.find_attribute("capacitive_load_unit");
  ASSERT_NE(cap, nullptr);
  EXPECT_TRUE(cap->is_complex);
  EXPECT_EQ(cap->values, (std::vector<std::string>{"1", "pf"}));
  const Cell& nand = lib.cell("NAND2");
  EXPECT_DOUBLE_EQ(nand.area, 4.5);
  ASSERT_NE(nand.find_pin("B"), nullptr);  // pin(A, B) declares two pins
  const Pin* y = nand.find_pin("Y");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->line, 14);
  ASSERT_EQ(y->timing.size(), 1u);
  const Table& rise = y->timing[0].tables.at("cell_rise");
  EXPECT_EQ(rise.index_1, (std::vector<double>{1, 2}));  // from the template
  EXPECT_DOUBLE_EQ(rise.lookup(1.5, 15), 2.5);
  EXPECT_DOUBLE_EQ(rise.lookup(2, 20), 4.0);
  const Cell& dff = lib.cell("DFF");
  ASSERT_TRUE(dff.is_sequential());
  EXPECT_EQ(dff.state->next_state, "D");
  EXPECT_EQ(dff.state->clear, "R'");
}

TEST(Liberty, ErrorsNameFileAndLine) {
  try {
    parse_liberty("library(x) {\n  cell (A) {\n    area 3;\n  }\n}\n", "bad.lib");
    FAIL() << "no error";
  } catch (const LibertyError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.lib:3:"), std::string::npos) << e.what();
  }
  try {
    parse_liberty("library(x) {\n  cell (A) {\n", "open.lib");
    FAIL() << "no error";
  } catch (const LibertyError& e) {
    EXPECT_NE(std::string(e.what()).find("open.lib:2:"), std::string::npos) << e.what();
  }
  const Library lib = build_library(parse_liberty(kSmallLib, "tiny.lib"), "tiny.lib");
  try {
    lib.cell("NOPE");
    FAIL() << "no error";
  } catch (const LibertyError& e) {
    EXPECT_NE(std::string(e.what()).find("'NOPE'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_liberty_file("/nonexistent/x.lib"), LibertyError);
}

TEST(Liberty, BooleanFunctions) {
  const std::vector<std::string> ab{"A", "B"};
  EXPECT_EQ(BoolExpr::parse("!(A B)").truth_table(ab), 0b0111u);
  EXPECT_EQ(BoolExpr::parse("(A*B)'").truth_table(ab), 0b0111u);
  EXPECT_EQ(BoolExpr::parse("A|B").truth_table(ab), 0b1110u);
  EXPECT_EQ(BoolExpr::parse("A^B").truth_table(ab), 0b0110u);
  EXPECT_EQ(BoolExpr::parse("!A+B").truth_table(ab), 0b1101u);
  // XOR binds tighter than AND, AND tighter than OR (OpenSTA's precedence).
  const std::vector<std::string> abc{"A", "B", "C"};
  const BoolExpr e = BoolExpr::parse("A&B^C|!C");
  for (unsigned k = 0; k < 8; ++k) {
    const bool a = k & 1, b = k & 2, c = k & 4;
    EXPECT_EQ(e.evaluate(abc, k), (a && (b != c)) || !c) << k;
  }
  EXPECT_EQ(BoolExpr::parse("((A&B)|(B&C))|(A&C)").variables(), abc);
  EXPECT_THROW(BoolExpr::parse("A & (B"), LibertyError);
  EXPECT_THROW(BoolExpr::parse("A B").evaluate({"A"}, 1), LibertyError);
}

TEST(Liberty, ReadsOsu018) {
  const Library lib = load_library(vosa::test::osu018_liberty());
  EXPECT_EQ(lib.name, "osu018_stdcells");
  EXPECT_DOUBLE_EQ(lib.nom_voltage, 1.8);
  const Cell& fa = lib.cell("FAX1");
  const Pin* ys = fa.find_pin("YS");
  ASSERT_NE(ys, nullptr);
  const BoolExpr f = BoolExpr::parse(ys->function);
  const std::vector<std::string> in{"A", "B", "C"};
  EXPECT_EQ(f.truth_table(in), 0b10010110u);  // sum = A^B^C
  EXPECT_TRUE(lib.cell("DFFPOSX1").is_sequential());
  bool has_setup = false;
  for (const auto& arc : lib.cell("DFFPOSX1").find_pin("D")->timing)
    has_setup |= arc.timing_type == "setup_rising";
  EXPECT_TRUE(has_setup);
}

// Power data for the energy from the simulated activity (activity_energy.hpp).
TEST(Liberty, ReadsOsu018PowerData) {
  const Library lib = load_library(vosa::test::osu018_liberty());
  EXPECT_DOUBLE_EQ(lib.capacitance_unit_pf, 1.0);
  EXPECT_DOUBLE_EQ(lib.leakage_unit_w, 1e-9);
  EXPECT_DOUBLE_EQ(lib.energy_unit_pj(), 1.0);
  const Cell& ff = lib.cell("DFFPOSX1");
  ASSERT_TRUE(ff.cell_leakage_power.has_value());
  EXPECT_DOUBLE_EQ(*ff.cell_leakage_power, 0.160725);
  const Pin* clk = ff.find_pin("CLK");
  ASSERT_EQ(clk->internal_power.size(), 1u);
  EXPECT_EQ(clk->internal_power[0].related_pin, "");
  ASSERT_TRUE(clk->internal_power[0].rise_power.has_value());
  // passive_energy_template_6x1: index_1 0.06 .. 1.8 ns, rise 0.006865 .. 0.183321 pJ
  EXPECT_NEAR(clk->internal_power[0].rise_power->lookup_slew_load(0.06, 0.0), 0.006865, 1e-9);
  EXPECT_NEAR(clk->internal_power[0].fall_power->lookup_slew_load(1.8, 0.0), 0.338194, 1e-9);
  EXPECT_DOUBLE_EQ(clk->rise_capacitance, 0.0279235);
  EXPECT_DOUBLE_EQ(clk->fall_capacitance, 0.0274634);
  // Output tables are indexed (load, slew) in osu018: lookup by meaning.
  const Pin* q = ff.find_pin("Q");
  ASSERT_EQ(q->internal_power.size(), 1u);
  const Table& t = *q->internal_power[0].rise_power;
  EXPECT_EQ(t.variable_1, "total_output_net_capacitance");
  EXPECT_DOUBLE_EQ(t.lookup_slew_load(t.index_2[0], t.index_1[0]), t.values[0][0]);
  EXPECT_DOUBLE_EQ(t.lookup_slew_load(t.index_2[1], t.index_1[0]), t.values[0][1]);
  // DFFSR Q's S-related group has one `power` table for both edges.
  bool one = false;
  for (const auto& ip : lib.cell("DFFSR").find_pin("Q")->internal_power)
    if (ip.related_pin == "S") one = ip.one_table && ip.rise_power && ip.fall_power;
  EXPECT_TRUE(one);
}

TEST(Liberty, ReadsGzippedSky130) {
  const std::string path =
      vosa::test::data_file("pdks/sky130_fd_sc_hd/sky130_fd_sc_hd__ss_n40C_1v28.lib.gz");
  const Library lib = load_library(path);
  EXPECT_DOUBLE_EQ(lib.nom_voltage, 1.28);
  EXPECT_GT(lib.cells.size(), 400u);
  const Cell& nand = lib.cell("sky130_fd_sc_hd__nand2_1");
  const Pin* y = nand.find_pin("Y");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(BoolExpr::parse(y->function).truth_table({"A", "B"}), 0b0111u);
  ASSERT_FALSE(y->timing.empty());
  const Table& t = y->timing[0].tables.at("cell_rise");
  EXPECT_GT(t.lookup(0.01, 0.005), 0.0);
}

// Every liberty file of every PDK in $VOSA_DATA_DIR/pdks loads, and every pin
// function and flip-flop next_state parses (~7 s).
TEST(Liberty, ReadsEveryPdkLibertyInTheDataDir) {
  namespace fs = std::filesystem;
  const fs::path pdks = vosa::test::require_file(vosa::test::data_dir() + "/pdks");
  std::vector<fs::path> files;
  for (const auto& dir : fs::directory_iterator(pdks))
    if (dir.is_directory())
      for (const auto& f : fs::directory_iterator(dir.path())) {
        const std::string name = f.path().filename().string();
        if (name.size() > 4 && (name.substr(name.size() - 4) == ".lib" || name.find(".lib.gz") != std::string::npos))
          files.push_back(f.path());
      }
  EXPECT_GE(files.size(), 25u);  // sky130 16, IHP 6, GF180 3
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    const Library lib = load_library(f.string());
    EXPECT_GT(lib.cells.size(), 50u);
    EXPECT_GT(lib.nom_voltage, 0.0);
    for (const auto& [name, cell] : lib.cells) {
      for (const auto& pin : cell.pins) {
        if (!pin.function.empty()) {
          EXPECT_NO_THROW(BoolExpr::parse(pin.function)) << name << "/" << pin.name;
        }
      }
      if (cell.state && !cell.state->next_state.empty()) {
        EXPECT_NO_THROW(BoolExpr::parse(cell.state->next_state)) << name;
      }
    }
  }
  std::cout << "[          ] " << files.size() << " liberty files\n";
}
