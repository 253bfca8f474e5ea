// Per-bit static timing of the PE's output register (bit_timing.json) and
// power/energy per corner (energy.json), assembled from the per-corner
// reports flow/sta_corner.tcl writes. Field reference: docs/flow.md.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa::sta {

class StaReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr int kBitTimingSchemaVersion = 1;
inline constexpr int kEnergySchemaVersion = 1;

struct PathDelay {
  double arrival_ns = 0.0;
  double slack_ns = 0.0;
  std::string startpoint;
  int pins = 0;
};

struct BitTiming {
  int bit = 0;
  std::string endpoint;
  double arrival_ns = 0.0;
  double required_ns = 0.0;
  double slack_ns = 0.0;
  std::vector<PathDelay> paths;  // top distinct paths, latest first
};

// One flow/sta_corner.tcl report (sta/<corner>.paths.tsv).
struct CornerPaths {
  std::string corner;
  double period_ns = 0.0;
  std::string liberty;
  double worst_slack_ns = 0.0;  // over every endpoint of the PE
  std::vector<BitTiming> bits;  // ascending bit
};
CornerPaths read_paths_report(const std::filesystem::path& path);

struct CornerPower {
  std::string corner;
  double period_ns = 0.0;
  std::string activity;
  double internal_w = 0, switching_w = 0, leakage_w = 0, total_w = 0;
};
CornerPower read_power_report(const std::filesystem::path& path);

// Inputs shared by both documents.
struct CollectOptions {
  std::string pdk;                        // name or path of the PDK config
  std::filesystem::path manifest;         // design/manifest.json (output register, width)
  std::filesystem::path netlist;          // hashed into the output
  std::vector<std::string> corners;       // in output order
  std::filesystem::path report_dir;       // holds <corner>.paths.tsv / <corner>.power.tsv
  std::string period_source;              // how the period was chosen (free text)
};

// Build bit_timing.json; throws StaReportError naming the file and the bit
// when a report is missing, malformed, or lacks a bit of the output register.
nlohmann::json collect_bit_timing(const CollectOptions& options);
nlohmann::json collect_energy(const CollectOptions& options);

// The DVFS point of one process and temperature at the document's clock
// period: the lowest timed voltage from which every timed voltage upward has
// worst_slack_ns >= 0 (STA slack grows with the voltage at one corner), i.e.
// what conventional voltage scaling reaches without any timing error.
struct DvfsPoint {
  std::string process;
  double temperature_c = 0;
  bool available = false;  // false: the highest timed voltage already fails
  double voltage = 0;
  std::string corner;
};
// One per (process, temperature) among bit_timing's corners, in first-seen
// order; with only_voltages non-empty, just the corners at those voltages
// (5 mV) count.
std::vector<DvfsPoint> dvfs_points(const nlohmann::json& bit_timing, const std::vector<double>& only_voltages = {});

// Human-readable table of a bit_timing.json: bits down, corners across.
std::string format_timing_table(const nlohmann::json& bit_timing, const std::string& field = "arrival_ns");

// Energy per MAC and power against voltage, one line per corner.
std::string format_energy_table(const nlohmann::json& energy);

// 64-bit FNV-1a of a file's bytes, hex: names the netlist a result belongs to.
std::string file_hash(const std::filesystem::path& path);

}  // namespace vosa::sta
