// Cell characterization with ngspice (`vosa charlib`, docs/charlib.md):
// NLDM delay and transition tables, input capacitance and leakage of the
// cells a netlist uses, at any process corner, temperature and supply the
// PDK's SPICE models cover, written as a liberty file that copies a shipped
// reference corner's structure for those cells and replaces its numbers.
#pragma once

#include "vosa/liberty.hpp"
#include "vosa/pdk.hpp"

#include <filesystem>
#include <map>
#include <set>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa::spice {

// Bad input (missing model or netlist, unknown cell, ngspice failure) or a
// cell that stops working at the corner; what() names the cell and corner.
class CharlibError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A threshold-shift key "<device model>@internal-gate" applies to the
// transistors of that model whose gate is an internal net of the cell (its
// later stages); "<device model>" alone to the others, and to those too when
// no such key is given.
inline constexpr const char* kInternalGateSuffix = "@internal-gate";

struct CharlibOptions {
  std::vector<std::string> cells;  // cells to characterize (sorted, unique)
  std::filesystem::path cache_dir;  // PDK cache: models, decks, results under <cache>/<pdk>/spice/
  int workers = 2;                  // ngspice processes at once
  int grid_points = 0;              // >0: this many points per table axis (tests), 0: the full grid
  std::string reference_corner;     // shipped corner whose structure and grid are copied ("" = nearest)
  // Device model -> threshold shift in V (delvto); unset: the PDK config's
  // spice.threshold_shift for the corner's process (calibrated), empty: none.
  std::optional<std::map<std::string, double>> threshold_shift;
  // Per-cell calibration, cell -> {device model -> delvto (V)}: replaces the
  // threshold shifts above for the cells it names. Unset: the PDK config's
  // spice.cell_calibration file for the corner's process (when threshold_shift
  // is unset too), empty: none (docs/charlib.md, "Per-cell calibration").
  std::optional<std::map<std::string, std::map<std::string, double>>> cell_threshold_shift;
  // A per-cell calibration file to use instead of the config's (for corners
  // of the file's process; --cell-calibration). Ignored when either map above is set.
  std::filesystem::path cell_calibration_file;
  // >0: give every transistor without them drain/source areas and perimeters
  // of a diffusion this long (um) beside its gate (AD = AS = W x length,
  // PD = PS = 2 (W + length)): the junction capacitance and leakage a
  // schematic netlist lacks. 0: the netlist as it is.
  double diffusion_length_um = 0.0;
  // >0: a capacitor of this many pF on every output besides the table's
  // load: the output wiring a schematic netlist lacks (docs/charlib.md).
  double output_wire_pf = 0.0;
  // Tests: the first window of every measurement times this, so that the
  // reruns for outputs that did not settle are exercised cheaply.
  double first_window_scale = 1.0;
  bool quiet = false;
};

// One cell's measured numbers at one corner, on the reference tables' grid.
struct CellMeasurements {
  // "<pin>/<arc index>/<table type>" -> values[index_1][index_2]; flip-flop
  // setup/hold: "<D>/<arc>/<rise|fall>_constraint" over (clock slew, D slew)
  std::map<std::string, std::vector<std::vector<double>>> tables;
  std::map<std::string, std::vector<double>> axes_1, axes_2;  // same keys: the grid used
  std::map<std::string, double> rise_capacitance, fall_capacitance;  // pin -> library units
  std::map<int, double> leakage;  // leakage_power group line in the reference -> library units
  // Energy the supply delivers per output edge (library energy units), load's
  // charge included: "<output>/<related pin>/<rise_power|fall_power>" ->
  // values on the grid of the arc energy_grid["<output>/<related pin>"] names.
  std::map<std::string, std::vector<std::vector<double>>> supply_energy;
  std::map<std::string, std::string> energy_grid;
  int simulations = 0;
  bool cached = false;
};

// A per-cell calibration file (`vosa charlib-calibrate --per-cell`): the
// threshold shifts fitted cell by cell so that SPICE's voltage ratio matches
// a shipped ladder at the calibration corners. JSON, "format"
// kCellCalibrationFormat, "version" kCellCalibrationVersion.
inline constexpr const char* kCellCalibrationFormat = "vosa-charlib-cell-calibration";
inline constexpr int kCellCalibrationVersion = 1;
struct CellCalibration {
  std::string pdk, process, top;           // the ladder top: every fitted ratio's denominator
  std::vector<std::string> corners;        // the calibration corners (everything else is held out)
  std::vector<std::string> models;         // the device models fitted
  int grid_points = 0;                     // grid the fit measured (0: full)
  // cell -> device model -> V; plus each cell's objective before (the start,
  // the config's per-model shifts) and after the fit, and its evaluations.
  std::map<std::string, std::map<std::string, double>> shifts;
  std::map<std::string, double> objective_start, objective;
  std::map<std::string, int> evaluations;
  // Whether a cell's descent converged (a full sweep at the smallest step
  // found nothing better) or stopped at --max-evaluations; absent in files
  // written before the field existed.
  std::map<std::string, bool> converged;
};
// The coordinate descent of `charlib-calibrate --per-cell` over one cell's
// threshold shifts: from `start`, each model's shift in turn is tried one
// step up, then down; a step that improves is repeated in the same direction
// until it stops improving (a line search along that model); a full sweep
// over the models without improvement moves to the next (smaller) step. The
// descent has converged when a sweep at the smallest step finds nothing
// better; it stops unconverged at `max_evaluations` (counting the start; 0:
// no cap). Shifts stay within +-0.3 V, on a 1 mV lattice, and no shift set is
// tried twice. next() gives the trial to evaluate (the start first), result()
// takes its objective; next() returns nothing when the descent is over.
class ShiftDescent {
 public:
  using Shift = std::map<std::string, double>;
  ShiftDescent(Shift start, std::vector<std::string> models, std::vector<double> steps, int max_evaluations);
  std::optional<Shift> next();
  void result(const Shift& trial, double value);
  const Shift& best() const { return best_; }
  double best_value() const { return best_f_; }
  double start_value() const { return start_f_; }
  int evaluations() const { return evaluations_; }
  bool converged() const { return converged_; }

 private:
  void advance();
  Shift best_;
  std::vector<std::string> models_;
  std::vector<double> steps_;
  int max_evaluations_;
  double best_f_ = 0, start_f_ = 0;
  size_t step_ = 0, model_ = 0, dir_ = 0;
  bool improved_ = false, done_ = false, converged_ = false;
  int evaluations_ = 0;
  std::set<Shift> seen_;
};
// Reads and checks a calibration file; a missing file, bad JSON, wrong
// format/version or a bad field is a CharlibError naming the file and field.
CellCalibration read_cell_calibration(const std::filesystem::path& file);
// Writes it (atomically) in the form read_cell_calibration reads.
void write_cell_calibration(const CellCalibration& calibration, const std::filesystem::path& file);
// Merges per-cell calibration files (`vosa charlib-merge-calibration`): every
// cell of every file, or only `cells` when given. The files must agree on
// pdk, process, top, corners and grid_points (a mismatch is a CharlibError
// naming both files and the field); "models" becomes the union. A cell in
// more than one file with different shifts is a CharlibError naming it and
// both files, unless `replace`: then the later file's entry wins. A cell of
// `cells` in no file is an error. Writes nothing; see write_cell_calibration.
CellCalibration merge_cell_calibrations(const std::vector<std::filesystem::path>& files,
                                        const std::vector<std::string>& cells = {}, bool replace = false);
// The per-cell shifts a characterization at `process` simulates:
// options.cell_threshold_shift if set; else none when options.threshold_shift
// is set (explicit shifts or --uncalibrated); else options.cell_calibration_file
// when its process is `process`; else the file named by the PDK config's
// spice.cell_calibration for the process; else none. A file fitted for
// another PDK is an error.
std::map<std::string, std::map<std::string, double>> cell_threshold_shift_for(const pdk::PdkConfig& pdk,
                                                                               const std::string& process,
                                                                               const CharlibOptions& options);

struct CharlibResult {
  std::filesystem::path liberty;
  std::string corner, delay_source, reference_corner;
  std::map<std::string, double> threshold_shift;  // the calibration simulated (empty: none)
  std::map<std::string, std::map<std::string, double>> cell_threshold_shift;  // per-cell calibration simulated
  std::map<std::string, CellMeasurements> cells;
  int simulations = 0, cached_cells = 0;
  double seconds = 0.0;
};

// The shipped corner whose structure, grid and thresholds a characterization
// at `request` copies: same process and temperature at the nearest voltage,
// else same process, else the PDK's nominal corner.
std::string reference_corner_for(const pdk::PdkConfig& pdk, const pdk::CornerRequest& request);

// The threshold shifts a characterization at `process` simulates.
std::map<std::string, double> threshold_shift_for(const pdk::PdkConfig& pdk, const std::string& process,
                                                  const CharlibOptions& options);

// Simulate `options.cells` at `request` (cached per cell, corner and deck hash).
std::map<std::string, CellMeasurements> measure_cells(const pdk::PdkConfig& pdk, const pdk::CornerRequest& request,
                                                      const CharlibOptions& options, int* simulations = nullptr);
// The same at several corners, every (corner, cell) deck on one pool of
// options.workers: one map per request, in order.
std::vector<std::map<std::string, CellMeasurements>> measure_cells_at(const pdk::PdkConfig& pdk,
                                                                      const std::vector<pdk::CornerRequest>& requests,
                                                                      const CharlibOptions& options,
                                                                      int* simulations = nullptr);

// Characterize and write a liberty with only options.cells to `out`
// (atomically). delay_source spice: the SPICE numbers; spice-ratio: the
// reference corner's shipped tables times SPICE(request)/SPICE(reference).
CharlibResult characterize(const pdk::PdkConfig& pdk, const pdk::CornerRequest& request,
                           const CharlibOptions& options, const std::string& delay_source,
                           const std::filesystem::path& out);

// Distinct cell types of a gate-level netlist (Yosys write_verilog output).
std::vector<std::string> netlist_cells(const std::filesystem::path& netlist);

// spice-ratio works on delays counted from the start of the input ramp,
// d + c * slew (c * slew: the ramp's time to the input threshold), so that
// delays near zero or negative (slow input, light load) do not blow the ratio
// up: predicted = (shipped + c * slew) * R - c * slew. c = 0 for transitions.
double ramp_offset_per_slew(const liberty::Library& lib);

// The table R of (SPICE(corner) + c x1) / (SPICE(reference) + c x1) over the
// measured grid, to interpolate onto the shipped grid with spice_ratio_lookup.
// Entries where either is not positive take the table's median ratio.
liberty::Table spice_ratio_table(const std::vector<std::vector<double>>& values,
                                 const std::vector<std::vector<double>>& ref_values, const std::vector<double>& axis_1,
                                 const std::vector<double>& axis_2, double offset_per_slew,
                                 std::vector<double>* valid_ratios = nullptr);
// The ratio at (x1, x2), interpolated in log(x1) and log(x2) (linearly on an
// axis with a value <= 0): the liberty grids are geometric (sky130: each slew
// and load about 2.3x the last) and the ratio follows the logarithm; on the
// 3x3 grid linear interpolation cost 1.28 V's max error 60 % against 42 %
// (docs/charlib.md).
double spice_ratio_lookup(const liberty::Table& ratio, double x1, double x2);
// The spice-ratio value of a shipped entry at (x1, x2).
double spice_ratio_apply(const liberty::Table& ratio, double shipped, double x1, double x2, double offset_per_slew);

// spice-ratio for setup/hold, whose values sit near zero or below it, where a
// ratio means nothing: the shipped reference value plus the SPICE change
// from the reference corner, times `factor` (the cell's shipped / SPICE
// clock-to-Q at the reference: the parasitics the schematic lacks slow the
// flop's internal paths alike). `change` holds SPICE(corner) -
// SPICE(reference) on the measured grid.
liberty::Table constraint_change_table(const std::vector<std::vector<double>>& values,
                                       const std::vector<std::vector<double>>& ref_values,
                                       const std::vector<double>& axis_1, const std::vector<double>& axis_2);
double constraint_change_apply(const liberty::Table& change, double shipped, double x1, double x2, double factor);
// Median of shipped / SPICE clock-to-Q over the flop's measured rising_edge
// delay entries at the reference corner (1 for a cell without them).
double clock_to_q_factor(const liberty::Cell& shipped, const CellMeasurements& at_reference);

// Internal power (library energy units) from the supply energy of an edge:
// the load's 1/2 C V^2 (the share a tool counts as switching power) taken off,
// as the shipped sky130 tables do.
inline double internal_energy(double supply_energy, double load, double volts) {
  return supply_energy - 0.5 * load * volts * volts;
}

// Points per table axis the flow's spice-ratio liberty files measure when
// the PDK config sets no spice.ratio_grid_points (docs/charlib.md, "Grid").
inline constexpr int kFlowRatioGridPoints = 5;

// The flow's liberty for a corner whose delay_source is spice or spice-ratio
// (`cells` plus the config's driver, load and buffer cells):
// <cache>/<pdk>/spice/lib/<corner>.<cells hash>.<source>.lib, rebuilt when missing.
std::filesystem::path prepare_spice_liberty(const pdk::PdkConfig& pdk, const std::string& corner_name,
                                            const std::vector<std::string>& cells,
                                            const std::filesystem::path& cache_dir, int workers = 2);

}  // namespace vosa::spice
