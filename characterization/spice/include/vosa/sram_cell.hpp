// Bit-error rate vs supply of a 6T SRAM cell from a SPICE Monte Carlo of
// threshold-voltage mismatch (`vosa sram spice-ber`, docs/sram.md).
//
// Each sampled cell has six transistors with their own Vth shift, drawn from
// the PDK models' Pelgrom coefficients (sigma = vth0_slope / sqrt(W L)) and
// applied as a source in series with the gate. ngspice sweeps each half-cell
// open loop (inverter + access transistor) in the hold, read and write
// configurations; the butterfly of the two halves gives the static margins:
//   hold (retention): both lobes of the butterfly with the word line off,
//   read (read disturb): both lobes with the word line on and both bit lines
//     precharged high,
//   write: with one bit line low, the lobe of the old state must vanish; the
//     write margin is minus its size (negative: the write fails).
// A lobe is the side of the largest square between the curves (Seevinck),
// negative when the lobe is gone. The per-lobe margins are fitted with a
// Gaussian at each voltage and the failure probability is its tail below 0,
// which resolves rates far below 1 / samples; the empirical fraction is kept
// beside it as a check where it can resolve one.
#pragma once

#include "vosa/pdk.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace vosa::spice {

struct SramCellOptions {
  std::string process = "tt";  // model section (pdk spice.sections)
  double temperature_c = 25.0;
  std::vector<double> voltages;  // SRAM supplies to simulate (V)
  int samples = 1000;            // Monte Carlo cells per voltage (the same cells at every voltage)
  std::uint64_t seed = 1;
  int workers = 2;               // ngspice processes at once
  int cells_per_deck = 50;       // ngspice's DC sweep grows faster than linearly with the deck
  int sweep_points = 100;        // input steps from 0 to the supply
  // Transistor sizes in um (sky130 model bins exist for W 0.42, 0.55, 0.64, 0.84, 1.0 at L 0.15).
  double pull_down_w = 0.64, pass_w = 0.42, pull_up_w = 0.42, length = 0.15;
  std::string nmos = "sky130_fd_pr__nfet_01v8", pmos = "sky130_fd_pr__pfet_01v8_hvt";
  std::filesystem::path cache_dir;  // PDK cache (models), work decks under <cache>/<pdk>/spice/sram
  bool quiet = false;
};

// A margin's samples at one voltage and what they predict.
struct MarginStats {
  double mean = 0, sigma = 0;  // of the per-lobe margin (V)
  int lobes = 0;               // samples (two lobes per cell)
  int negative = 0;            // lobes below 0 (failed states)
  double p_lobe = 0;           // Gaussian fit: P(margin < 0) of one lobe
  double p_cell = 0;           // the cell fails in either state: min(1, 2 p_lobe)
};

struct SramVoltagePoint {
  double voltage = 0;
  MarginStats hold, read, write;
  int failed_cells = 0;     // cells with any read or write lobe below 0 (empirical)
  double ber_fit = 0;       // 1 - (1 - p_read)(1 - p_write)
  double ber = 0;           // ber_fit made non-increasing with the voltage
  int read_above_hold = 0;  // lobes whose read margin exceeds the hold margin (physics check: 0)
};

struct SramCellResult {
  SramCellOptions options;
  std::string pdk, model_lib;
  double sigma_vth_pull_down = 0, sigma_vth_pass = 0, sigma_vth_pull_up = 0;  // V
  double vth0_slope_nmos = 0, vth0_slope_pmos = 0;                            // V um, from the models
  std::vector<SramVoltagePoint> points;  // by increasing voltage
  int simulations = 0;
  double seconds = 0;
};

// Runs the Monte Carlo. Throws CharlibError on bad options, missing models or
// an ngspice failure.
SramCellResult simulate_sram_cell(const pdk::PdkConfig& pdk, const SramCellOptions& options);

// The BER(V) curve file (schema vosa-sram-ber, docs/sram.md) with every
// point's margin statistics; written to a temp file and renamed.
void write_sram_ber_curve(const SramCellResult& result, const std::string& command,
                          const std::filesystem::path& out);

// The two lobes of a butterfly, in V: left half Q = left(x) with x = QB and
// right half QB = right(x) with x = Q, both sampled at `input`. state1 is the
// lobe of Q = 1 (lower right), state0 of Q = 0; each is negative when the
// lobe is gone (the cell cannot hold that state).
struct Lobes {
  double state1 = 0, state0 = 0;
};
Lobes butterfly_lobes(const std::vector<double>& input, const std::vector<double>& left,
                      const std::vector<double>& right);

// Standard normal lower tail P(Z < z), accurate in the far tail.
double normal_tail(double z);

}  // namespace vosa::spice
