// The synthesis/STA flow end to end with the real tools (Yosys, OpenSTA):
// flow/stages.make driven the way `make synth/sta/sdf/power` drives it,
// each test in its own build directory.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kSource = VOSA_SOURCE_DIR;
const fs::path kVosa = VOSA_BINARY;

struct Result {
  int status = -1;
  std::string output;
};

Result run(const std::string& command) {
  Result r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int raw = ::pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

fs::path data_dir() {
  const char* env = std::getenv("VOSA_DATA_DIR");
  return env && *env ? fs::path(env) : kSource / ".." / "shared";
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) ADD_FAILURE() << "missing " << p;
  return in ? json::parse(in) : json();
}

// A build directory with the default design generated into it.
class FlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    build_ = fs::temp_directory_path() / ("vosa_flow_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(build_);
    fs::create_directories(build_);
    const Result gen = run(kVosa.string() + " generate --quiet --config " +
                           (kSource / "generator/examples/default.json").string() + " --out " +
                           (build_ / "default/design").string());
    ASSERT_EQ(gen.status, 0) << gen.output;
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(build_);
  }
  Result flow(const std::string& pdk, const std::string& target, const std::string& extra = "",
              const std::string& env = "") {
    return run("cd " + kSource.string() + " && " + env + " make --no-print-directory -f flow/stages.make ROOT=" + kSource.string() +
               " BUILD=" + build_.string() + " VOSA=" + kVosa.string() + " CONFIG_NAME=default PDK=" + pdk +
               " DESIGN_DIR=" + (build_ / "default/design").string() + " " + extra + " " + target);
  }
  fs::path out(const std::string& pdk) const { return build_ / "default" / pdk; }
  int acc_bits() const { return read_json(build_ / "default/design/manifest.json")["config"]["acc_bits"]; }

  fs::path build_;
};

// Per bit: arrival strictly grows as the voltage falls (corners listed in
// ascending voltage).
void expect_arrival_grows_as_voltage_falls(const json& corners) {
  for (size_t c = 1; c < corners.size(); ++c) {
    ASSERT_LT(corners[c - 1]["voltage"].get<double>(), corners[c]["voltage"].get<double>());
    for (size_t b = 0; b < corners[c]["bits"].size(); ++b)
      EXPECT_GT(corners[c - 1]["bits"][b]["arrival_ns"].get<double>(), corners[c]["bits"][b]["arrival_ns"].get<double>())
          << "bit " << b << ": " << corners[c - 1]["name"] << " vs " << corners[c]["name"];
  }
}

void expect_every_bit_present(const json& corner, int bits) {
  ASSERT_EQ(corner["bits"].size(), static_cast<size_t>(bits)) << corner["name"];
  for (int b = 0; b < bits; ++b) {
    const json& bit = corner["bits"][b];
    EXPECT_EQ(bit["bit"], b);
    EXPECT_NE(bit["endpoint"].get<std::string>().find("psum_q[" + std::to_string(b) + "]_reg/"), std::string::npos);
    EXPECT_FALSE(bit["paths"].empty());
    EXPECT_NEAR(bit["required_ns"].get<double>() - bit["arrival_ns"].get<double>(), bit["slack_ns"].get<double>(), 1e-5);
  }
}

}  // namespace

TEST_F(FlowTest, Osu018FullFlowDefaultPe) {
  ASSERT_TRUE(fs::exists("/usr/share/qflow/tech/osu018/osu018_stdcells.lib"))
      << "osu018 liberty missing: /usr/share/qflow/tech/osu018/osu018_stdcells.lib (apt install qflow-tech-osu018)";
  const Result r = flow("osu018", "all");
  ASSERT_EQ(r.status, 0) << r.output;
  const fs::path dir = out("osu018");
  EXPECT_TRUE(fs::file_size(dir / "synth/pe_netlist.v") > 1000);
  EXPECT_TRUE(fs::exists(dir / "synth/synth.log"));

  const json timing = read_json(dir / "sta/bit_timing.json");
  const json& corners = timing["corners"];
  ASSERT_EQ(corners.size(), 7u);  // typ_1v80 and six derated voltages
  for (const auto& c : corners) {
    expect_every_bit_present(c, acc_bits());
    EXPECT_TRUE(fs::file_size(dir / "sdf" / (c["name"].get<std::string>() + ".sdf")) > 1000);
    EXPECT_EQ(c["delay_source"], c["name"] == "typ_1v80" ? "liberty-corner" : "derated") << c["name"];
  }
  expect_arrival_grows_as_voltage_falls(corners);
  // Default period = the sign-off critical path rounded up: met at 1.8 V, missed below.
  const json& signoff = corners.back();
  EXPECT_EQ(signoff["name"], "typ_1v80");
  EXPECT_GE(signoff["worst_slack_ns"].get<double>(), 0.0);
  EXPECT_LT(signoff["worst_slack_ns"].get<double>(), 0.011);
  EXPECT_LT(corners.front()["output_register_worst_slack_ns"].get<double>(), 0.0);

  const json energy = read_json(dir / "power/energy.json");
  ASSERT_EQ(energy["corners"].size(), 7u);
  for (size_t c = 1; c < 7; ++c)  // lower voltage, less energy per MAC
    EXPECT_LT(energy["corners"][c - 1]["energy_per_mac_pj"].get<double>(),
              energy["corners"][c]["energy_per_mac_pj"].get<double>());

  // Incremental: a second run redoes nothing.
  const auto stamp = fs::last_write_time(dir / "synth/pe_netlist.v");
  const Result again = flow("osu018", "all");
  ASSERT_EQ(again.status, 0) << again.output;
  EXPECT_EQ(again.output.find("synthesizing"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("flow: STA"), std::string::npos) << again.output;
  EXPECT_EQ(stamp, fs::last_write_time(dir / "synth/pe_netlist.v"));
}

TEST_F(FlowTest, Sky130TwoCorners) {
  const fs::path lib = data_dir() / "pdks/sky130_fd_sc_hd/sky130_fd_sc_hd__ss_n40C_1v28.lib.gz";
  ASSERT_TRUE(fs::exists(lib)) << "PDK data missing: " << lib << " (set VOSA_DATA_DIR)";
  const Result r = flow("sky130hd", "sta", "REQUESTED_CORNERS='ss_n40C_1v28 ss_n40C_1v76'");
  ASSERT_EQ(r.status, 0) << r.output;
  const json timing = read_json(out("sky130hd") / "sta/bit_timing.json");
  const json& corners = timing["corners"];
  ASSERT_EQ(corners.size(), 2u);
  for (const auto& c : corners) {
    expect_every_bit_present(c, acc_bits());
    EXPECT_EQ(c["delay_source"], "liberty-corner");
  }
  expect_arrival_grows_as_voltage_falls(corners);
  EXPECT_EQ(corners[1]["name"], timing["signoff_corner"]);
  EXPECT_GE(corners[1]["worst_slack_ns"].get<double>(), 0.0);      // met at sign-off
  EXPECT_LT(corners[0]["output_register_worst_slack_ns"].get<double>(), 0.0);  // fails at 1.28 V
  const Result table = run(kVosa.string() + " timing-table " + (out("sky130hd") / "sta/bit_timing.json").string());
  ASSERT_EQ(table.status, 0) << table.output;
  EXPECT_NE(table.output.find("ss_n40C_1v28"), std::string::npos);
}

TEST_F(FlowTest, CopiedPdkConfigNeedsNoCodeChange) {
  const fs::path configs = build_ / "configs";
  fs::create_directories(configs);
  json j = read_json(kSource / "pdk_configs/osu018.json");
  j["name"] = "my_osu";
  std::ofstream(configs / "my_osu.json") << j.dump(2);
  const Result r = flow("my_osu", "sta", "REQUESTED_CORNERS=typ_1v80", "VOSA_PDK_CONFIGS=" + configs.string());
  ASSERT_EQ(r.status, 0) << r.output;
  const json timing = read_json(out("my_osu") / "sta/bit_timing.json");
  EXPECT_EQ(timing["pdk"], "my_osu");
  expect_every_bit_present(timing["corners"][0], acc_bits());
}

TEST_F(FlowTest, BadPdkNameIsAClearError) {
  const Result r = flow("no_such_pdk", "sta");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("unknown PDK 'no_such_pdk'"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out("no_such_pdk") / "synth/pe_netlist.v"));
}

TEST_F(FlowTest, MissingLibertyIsAClearError) {
  const fs::path configs = build_ / "configs";
  fs::create_directories(configs);
  json j = read_json(kSource / "pdk_configs/osu018.json");
  j["name"] = "lost";
  j["liberty_dirs"] = {(build_ / "no_liberty_here").string()};
  std::ofstream(configs / "lost.json") << j.dump(2);
  const Result r = flow((configs / "lost.json").string(), "synth");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("not found; looked in: " + (build_ / "no_liberty_here/osu018_stdcells.lib").string()),
            std::string::npos)
      << r.output;
}

TEST_F(FlowTest, CorruptNetlistIsAClearError) {
  const fs::path netlist = build_ / "corrupt.v";
  std::ofstream(netlist) << "module vosa_pe(clk_i; this is not verilog\n";
  std::ofstream(build_ / "pdk.tcl") << "set vosa_pdk(driver_cell) BUFX2\nset vosa_pdk(driver_pin) Y\n"
                                       "set vosa_pdk(load_cell) INVX1\nset vosa_pdk(load_pin) A\n"
                                       "set vosa_pdk(load_count) 4\n";
  const fs::path paths = build_ / "out.paths.tsv";
  const Result r = run("VOSA_LIBERTY=/usr/share/qflow/tech/osu018/osu018_stdcells.lib VOSA_NETLIST=" + netlist.string() +
                       " VOSA_TOP=vosa_pe VOSA_PDK_TCL=" + (build_ / "pdk.tcl").string() +
                       " VOSA_PERIOD_NS=5 VOSA_CORNER=typ_1v80 VOSA_OUTPUT_REG=psum_q VOSA_PATHS_OUT=" +
                       paths.string() + " " + (kSource / "flow/run_sta.sh").string() + " " +
                       (build_ / "sta.log").string() + " " + paths.string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find(netlist.string()), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(paths));
}
