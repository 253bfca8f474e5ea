// PDK configs (pdk_configs/<name>.json): corners, voltage ladders, cells the
// flow needs, and where each corner's liberty file lives. Every tool in vosa
// resolves PDKs through this one header, so adding a PDK is adding a file.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa::pdk {

// Any problem with a PDK config or its files; what() names the file/field.
class PdkError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where a delay at some voltage comes from, in order of fidelity (DESIGN.md).
inline constexpr const char* kSourceLibertyCorner = "liberty-corner";
inline constexpr const char* kSourceInterpolated = "interpolated";
inline constexpr const char* kSourceDerated = "derated";
// SPICE characterization of the netlist's cells (vosa charlib): absolute
// tables (spice), or a shipped corner's tables scaled per entry by the SPICE
// ratio between the two corners (spice-ratio).
inline constexpr const char* kSourceSpice = "spice";
inline constexpr const char* kSourceSpiceRatio = "spice-ratio";

struct CellPin {
  std::string cell;
  std::string pin;
};

struct BufferCell {
  std::string cell;
  std::string in;
  std::string out;
};

// A characterized liberty corner.
struct Corner {
  std::string name;  // e.g. ss_n40C_1v28
  std::string file;  // liberty file name, looked up in liberty_dirs (also with .gz)
  std::string process;
  double temperature_c = 0.0;
  double voltage = 0.0;
};

// Alpha-power law parameters for derating a single-voltage library:
// delay(V) proportional to V / (V - vth)^alpha.
struct AlphaPowerParams {
  double vth = 0.0;
  double alpha = 0.0;
  std::string source;  // where the numbers come from
};

// Transistor-level data for `vosa charlib` (the "spice" field of a config):
// device models, cell netlists, and how to wire a cell's supply pins.
struct SpiceConfig {
  std::vector<std::string> model_dirs;  // folders holding model_lib (may contain $VOSA_DATA_DIR / $PDK_ROOT)
  std::string model_lib;                // path inside a model dir, `.lib <file> <section>`
  std::vector<std::string> cell_netlists;  // candidate files (.gz allowed) with every cell's .subckt
  std::map<std::string, std::string> sections;  // process (tt, ss, ...) -> model section
  std::vector<std::string> supply_pins, ground_pins;
  std::vector<std::string> deck_options;  // extra deck lines, e.g. ".option scale=1.0u"
  std::string delay_source;  // kSourceSpice or kSourceSpiceRatio for corners no liberty or ladder covers
  // Calibration (docs/charlib.md): process -> device model -> threshold shift
  // in V (ngspice delvto, added to vth0) fitted so that SPICE's voltage
  // dependence matches the shipped ladder; device_in_subckt names the
  // transistor inside each model's subckt ("m{model}" for sky130).
  std::map<std::string, std::map<std::string, double>> threshold_shift;
  std::string device_in_subckt;
  // Per-cell calibration (docs/charlib.md): process -> file written by
  // `vosa charlib-calibrate --per-cell` (absolute, resolved against the
  // config's folder), whose cells take their own shifts instead.
  std::map<std::string, std::string> cell_calibration;
  // Points per table axis the flow's spice-ratio files measure (0: the full
  // grid; unset, -1: kFlowRatioGridPoints).
  int ratio_grid_points = -1;
};

struct PdkConfig {
  std::filesystem::path path;  // the JSON file it was read from
  std::string name;
  std::string description;
  std::string library;
  std::vector<std::string> liberty_dirs;  // may contain $PDK_ROOT / $VOSA_DATA_DIR
  std::map<std::string, Corner> corners;
  // Corners that differ only in voltage, ascending voltage.
  std::map<std::string, std::vector<std::string>> ladders;
  std::string default_ladder;
  std::string nominal_corner;
  std::string signoff_corner;
  std::vector<double> derated_voltages;  // extra default voltages (derated)
  CellPin driver;
  CellPin load;
  int load_count = 1;
  BufferCell buffer;
  std::optional<CellPin> tie_hi;
  std::optional<CellPin> tie_lo;
  std::vector<std::string> dont_use;  // glob patterns over cell names
  std::optional<AlphaPowerParams> voltage_model;
  std::optional<SpiceConfig> spice;

  const Corner& corner(const std::string& corner_name) const;  // throws PdkError
  const std::vector<std::string>& ladder(const std::string& ladder_name) const;
  bool is_dont_use(const std::string& cell_name) const;
};

// Directories searched for <name>.json: $VOSA_PDK_CONFIGS (colon-separated),
// then the source tree's pdk_configs/.
std::vector<std::filesystem::path> pdk_config_dirs();
// `name_or_path` is a PDK name (osu018) or a path to a JSON file.
std::filesystem::path find_pdk_config(const std::string& name_or_path);
std::vector<std::string> available_pdks();
PdkConfig load_pdk_config(const std::filesystem::path& path);
PdkConfig load_pdk(const std::string& name_or_path);  // find + load

// A corner the flow can time: a characterized corner, or a voltage on a
// ladder spelled like the ladder's corner names (ss_n40C_1v30, typ_1p30V_25C,
// typ_1v20 on osu018), whose liberty the voltage model produces.
struct CornerRequest {
  std::string name;
  std::string ladder;
  double voltage = 0.0;
  std::string delay_source;  // kSourceLibertyCorner / kSourceInterpolated / kSourceDerated
  bool characterized = false;
  bool outside_ladder = false;  // extrapolated: flagged in every output
  std::string process;          // from the ladder's corners or the name (SPICE corners)
  double temperature_c = 0.0;
};
CornerRequest resolve_corner(const PdkConfig& pdk, const std::string& corner_name);
// The corner name for `voltage` on `ladder` (characterized or not).
std::string corner_name_at(const PdkConfig& pdk, const std::string& ladder, double voltage);
// Default corners of a flow run: every corner of the default ladder plus the
// config's derated_voltages, ascending voltage.
std::vector<std::string> default_flow_corners(const PdkConfig& pdk);

// Candidate paths with environment variables expanded (entries whose
// variable is unset are skipped), and the first one that exists; PdkError
// naming `what` and every place looked otherwise.
std::vector<std::filesystem::path> expand_paths(const std::vector<std::string>& candidates);
std::filesystem::path find_first_existing(const std::vector<std::string>& candidates, const std::string& what);

// Every place find_liberty looks for a corner's file, in order (env vars
// expanded; entries whose variable is unset are skipped).
std::vector<std::filesystem::path> liberty_candidates(const PdkConfig& pdk, const Corner& corner);
// First existing candidate; PdkError listing every place looked otherwise.
std::filesystem::path find_liberty(const PdkConfig& pdk, const Corner& corner);

// The uncompressed liberty of a characterized corner (OpenSTA 2.0.17 cannot
// read .lib.gz): the file itself, or a gunzipped copy under cache_dir/<pdk>/.
// With for_synthesis, a copy with `dont_use : true;` on the config's dont_use
// cells (ABC honours it; Yosys 0.23 has no -dont_use option).
std::filesystem::path prepare_liberty(const PdkConfig& pdk, const std::string& corner_name,
                                      const std::filesystem::path& cache_dir,
                                      bool for_synthesis = false);

// Default cache: $VOSA_PDK_CACHE, else build/pdk relative to the working dir.
std::filesystem::path default_cache_dir();

// Helpers shared with the voltage model.
std::string read_text_file(const std::filesystem::path& path);  // gunzips .gz
bool glob_match(const std::string& pattern, const std::string& text);

}  // namespace vosa::pdk
