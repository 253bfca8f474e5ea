// Error-injecting inference: the reference engine's array layers corrupted
// the way a weight-stationary array at reduced supply voltage corrupts them,
// with errors drawn from an error model (docs/errmodel.md) per PE per cycle.
// docs/inject.md describes the semantics, the settings file and the CLI.
//
// What is simulated, per array layer (lowered exactly as vosa/lowering.hpp
// lowers it for a rows x cols array: N tiles of `cols` columns, K tiles of
// `rows` rows, depthwise = block-diagonal GEMMs of `cols` channels):
//   every output value (m, channel) of every K tile passes `rows` register
//   captures in its column (PE rows 0..rows-1). Each capture errs with the
//   probability p_any of the error-model point of its column's island
//   voltage; an erring capture gets an error mask drawn from the point's
//   joint patterns (conditioned on at least one wrong bit). Down the column:
//     sum = (s + a * w) mod 2^acc_bits
//     flip & razor != 0:  correct -> s = sum ^ (flip & ~razor)
//                         drop    -> s = s        (TE-Drop: product dropped)
//     else                          s = sum ^ flip
//   and the K tiles' acc_bits-wide outputs are summed exactly (plus the
//   per-channel correction), as testbench/array/razor_check.cpp's model_gemm.
// On an array with the depthwise mode (ArrayShape::depthwise_group_rows) the
// depthwise layers the mode computes run in it: a "GEMM" is a weight tile of
// the mode (pass x block of channels), each capture the PE's of the mode
// (LayerOperands below), the cycles lowering::lanes_cycles.
// Hits are found by geometric skipping over the capture index space (no
// per-MAC random draw), so rare errors cost almost nothing.
#pragma once

#include "vosa/config.hpp"
#include "vosa/dataset.hpp"
#include "vosa/engine.hpp"
#include "vosa/error_model.hpp"
#include "vosa/infer.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa::inject {

// Bad settings, a model/config mismatch, or a voltage the error model lacks.
class InjectError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------- random numbers

// xoshiro256** seeded through splitmix64: small, fast, and the same stream
// on every platform (std::uniform_real_distribution is not).
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  double uniform();       // [0, 1)
  double uniform_open();  // (0, 1]

 private:
  std::uint64_t s_[4];
};

// One stream per (seed, sample, repeat, layer): results do not depend on
// which thread ran which sample.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t sample, std::uint64_t repeat, std::uint64_t layer);

// ---------------------------------------------------------------- array and settings

struct RazorSetting {
  std::uint64_t mask = 0;  // protected bits of the PE output register
  RazorPolicy policy = RazorPolicy::Correct;
};

// The array the layers run on, from a generator config (docs/config.md).
struct ArrayShape {
  int rows = 8, cols = 8, acc_bits = 19;
  bool is_signed = true;
  int islands = 1;
  std::vector<int> island_of_column;  // cols entries in 0..islands-1
  RazorSetting razor;                 // the config's Razor bits and policy (mask 0: none)
  // Carry-save partial sums (arithmetic.psum carry_save): each PE registers
  // a sum and a carry word; an error mask is then a pair mask, bits 0..acc_bits-1
  // the sum word's and acc_bits..2*acc_bits-1 the carry word's (docs/inject.md).
  bool carry_save = false;
  int mask_bits() const { return carry_save ? 2 * acc_bits : acc_bits; }
  // The array's depthwise mode (config "depthwise", docs/rtl.md): rows per
  // activation lane, 0 without the mode. Depthwise layers the mode computes
  // (lowering::lanes_supported) then run in it, as `make layers` runs them:
  // their MACs, errors and cycles are the mode's (docs/inject.md).
  int depthwise_group_rows = 0;
  bool depthwise_mode(const lowering::ConvGeometry& g) const {
    return depthwise_group_rows > 0 && lowering::lanes_supported(g);
  }
  // Razor bits protect the same bits of both words (the shadow flops of a
  // carry-save PE cover sum and carry register alike).
  std::uint64_t protected_mask(std::uint64_t razor_bits) const {
    return carry_save ? razor_bits | (razor_bits << acc_bits) : razor_bits;
  }

  // Throws InjectError naming `source` for configs the int8 engine cannot
  // run on (output-stationary, widths other than signed 8 x 8).
  static ArrayShape from_config(const ArrayConfig& config, const std::string& source);
};

// Razor as a settings file gives it: the top k bits or a bit list, and the policy.
struct RazorSpec {
  int top_k = 0;          // used when bits is empty; 0 = no Razor
  std::vector<int> bits;  // explicit protected bits
  RazorPolicy policy = RazorPolicy::Correct;
  // Throws InjectError naming `where` when a bit is outside the register.
  RazorSetting resolve(int acc_bits, const std::string& where) const;
};

struct LayerSetting {
  std::size_t op = 0;                // operator index in the model
  std::vector<double> voltages;      // one per island
  std::optional<RazorSpec> razor;    // absent: the settings' (or the config's)
  std::string errmodel;              // the layer's own error model (per-layer models); empty: the settings'
};

// The "schedule" (docs/inject.md): what voltage each island runs at in each
// array layer, at which clock, with which Razor bits.
struct Settings {
  std::string errmodel;            // path of errmodel.json
  double period_ns = 0;            // 0: the error model's only period
  std::vector<double> voltages;    // one per island; every array layer not in `layers`
  std::optional<RazorSpec> razor;  // absent: the config's Razor
  std::vector<LayerSetting> layers;
};

// `source` names the file in errors. Relative errmodel paths are kept as
// given; load_settings resolves them against the file's folder.
Settings settings_from_json(const nlohmann::json& doc, const std::string& source);
nlohmann::json to_json(const Settings& settings);
Settings load_settings(const std::string& path);
// The settings with every error-model path (the settings' and the layers')
// made absolute against the working directory.
Settings with_absolute_errmodels(Settings settings);
// How save_settings records the error model's path: absolute (the file can
// move alone), or relative to the settings file's folder (the settings and
// the model can move together, e.g. an explore output folder).
enum class ErrmodelPath { kAbsolute, kRelativeToFile };
// Writes atomically (a .partial file renamed into place).
void save_settings(const Settings& settings, const std::string& path,
                   ErrmodelPath style = ErrmodelPath::kAbsolute);

// ---------------------------------------------------------------- error sampling

// What a PE sees in the cycle of a capture: the seam for error probabilities
// conditioned on an operand class (errors depend on the transition).
struct CaptureOperands {
  int prev_activation = 0, activation = 0, weight = 0;
  int row = 0, col = 0;
};

// Optional class conditioning of one error-model point: p(error | class).
// The hit loop draws candidates at the largest class probability and keeps
// each with p(class) / p_max (thinning), which is exact.
struct OperandClasses {
  std::function<int(const CaptureOperands&)> class_of;
  std::vector<double> p_error;  // by class
};

// Draws error events of one (voltage, period) point. A model with PE
// positions (docs/errmodel.md, points with pe_rows) gives one point per band
// of array rows: each capture draws from the band of its PE row
// (CaptureOperands::row), thinned from the largest rate of any row and class.
class PointSampler {
 public:
  PointSampler(const ErrorModelPoint& point, int acc_bits);
  // The row bands of one operating point (ErrorModel::bands_at) for an array
  // of `rows` rows; throws InjectError when a row has no band.
  PointSampler(const std::vector<const ErrorModelPoint*>& bands, int acc_bits, int rows);
  // The point of the last row (the only point of a model without positions).
  const ErrorModelPoint& point() const { return bands_.back().point; }
  // Largest per-capture error probability (p_any without classes) over rows.
  double p_max() const { return p_max_; }
  // Probability that a candidate drawn at p_max is an error (by row and class).
  double accept(const CaptureOperands& operands) const;
  // The same for a candidate whose class is known (class_of(operands); -1
  // without classes) in PE row `row` (-1: the last row's band).
  double accept_class(int cls, int row = -1) const;
  // The classes are the file's own (vosa::operand_class of the operands):
  // a zero weight is class 0 whatever the activations.
  bool has_file_classes() const { return !classes_ && bands_.back().point.has_classes(); }
  bool has_classes() const { return classes_.has_value() || bands_.back().point.has_classes(); }
  // accept() is not always 1: candidates need the capture's operands.
  bool thins() const { return has_classes() || rows_differ_; }
  // A point whose file has operand classes (docs/errmodel.md) sets them up
  // itself: vosa::operand_class of the capture's operands, p_any_error(class).
  // A caller's own classes replace them for every row.
  void set_classes(OperandClasses classes);
  int class_of(const CaptureOperands& operands) const;
  // A fixed sample of error masks of class cls (-1: the whole point's) of
  // the last row's band, drawn once: the sampled injector's variance and
  // Razor-detection rates (sampled injection uses that band for every row).
  const std::vector<std::uint64_t>& mask_sample(int cls) const;
  // sample_mask from the row band's class patterns and bit rates when it has
  // per-class statistics for cls, else from the band's (row -1: the last row's).
  std::uint64_t sample_mask(Rng& rng, int cls, int row = -1) const;
  // An error mask, given that the capture has at least one wrong bit
  // (vosa::ErrorMaskSampler, the one mask sampler of the error model).
  std::uint64_t sample_mask(Rng& rng) const;
  // The same for a capture whose correct value (acc_mask wide) is `correct`:
  // the XOR mask that gives it the signed error its pattern was measured
  // with (ErrorMaskSampler::draw(u01, correct, acc_mask), docs/errmodel.md
  // "Drawn to fit the correct value"); as sample_mask(rng, cls, row) for
  // models without correct bits.
  std::uint64_t sample_mask(Rng& rng, int cls, int row, std::uint64_t correct, std::uint64_t acc_mask) const;
  // Some band's patterns carry the correct value's bits (schema 3).
  bool keeps_correct_bits() const { return keeps_correct_bits_; }
  // Hit rates per value class of the correct value (docs/errmodel.md "Hit
  // rate per value class"): some band's file has them and no caller's
  // classes replace the file's. The exact walk then draws candidates at the
  // upper rates (p_max_by_value, accept_class_by_value: the largest rate of
  // any value class of the capture's row band and operand class) and keeps
  // each with accept_value once the capture's correct value is known, which
  // is exact: P(hit) = upper * p(cls, value class) / upper. Without them the
  // three equal p_max, accept_class and 1.
  bool value_rates() const { return value_rates_; }
  double p_max_by_value() const { return p_max_by_value_; }
  double accept_class_by_value(int cls, int row = -1) const;
  double accept_value(int cls, int row, std::uint64_t correct, int acc_bits) const;
  // Every band was characterized as a Razor PE with policy correct and
  // exactly these protected bits (ErrorModelPoint::razor_characterized).
  bool razor_characterized(std::uint64_t protected_mask) const;
  // Of the protected bits a capture got wrong (`late`), the ones whose shadow
  // is wrong too: each with the row band's P(missed | late).
  std::uint64_t draw_razor_missed(std::uint64_t late, Rng& rng, int row = -1) const;

 private:
  struct Band {
    ErrorModelPoint point;
    ErrorMaskSampler masks;
    std::vector<std::optional<ErrorMaskSampler>> class_masks;  // by class; empty: none recorded
  };
  const Band& band_of(int row) const;
  double p_error(const Band& band, int cls) const;
  double p_upper(const Band& band, int cls) const;  // the largest value class's rate (p_error without them)
  double compute_p_max() const;
  void set_value_rates();  // value_rates_ and p_max_by_value_, after p_max_

  std::vector<Band> bands_;
  std::vector<int> band_of_row_;  // empty: bands_[0] for every row
  bool rows_differ_ = false;
  double p_max_ = 0, p_max_by_value_ = 0;
  bool value_rates_ = false;
  std::optional<OperandClasses> classes_;  // set_classes: the caller's
  std::vector<std::vector<std::uint64_t>> mask_samples_;  // [cls + 1], the last band's
  bool keeps_correct_bits_ = false;
  friend class ThinnedSampler;
};

// A PointSampler thinned to the errors Razor (policy correct) does not
// fully correct: per row band and class, p(error with a bit outside
// `razor` wrong) and the masks given that, restricted to those bits
// (ErrorMaskSampler::restricted_to). Exact for the corrected register,
// whose value depends only on the unprotected bits of each error; the
// fully corrected errors are not drawn (InjectionMode::kThinned).
class ThinnedSampler {
 public:
  ThinnedSampler(const PointSampler& sampler, std::uint64_t razor, int acc_bits);
  const PointSampler& base() const { return base_; }
  std::uint64_t razor() const { return razor_; }
  double p_max() const { return p_max_; }
  bool thins() const { return base_.thins() || p_.size() > 1; }
  bool has_classes() const { return base_.has_classes(); }
  bool has_file_classes() const { return base_.has_file_classes(); }
  int class_of(const CaptureOperands& operands) const { return base_.class_of(operands); }
  double accept_class(int cls, int row = -1) const;
  std::uint64_t sample_mask(Rng& rng, int cls, int row = -1) const;
  // Of the last row's band (what the counts' estimates use), per capture of
  // class cls (-1: without classes): p(error), p(error with a protected bit
  // wrong), p(error with an unprotected bit wrong).
  double p_error(int cls) const { return at(p_error_, cls); }
  double p_detected(int cls) const { return at(p_detected_, cls); }
  double p_unprotected(int cls) const { return at(p_, cls); }

 private:
  std::size_t band_index(int row) const;
  double at(const std::vector<std::vector<double>>& table, int cls, int row = -1) const;

  const PointSampler& base_;
  std::uint64_t razor_;
  double p_max_ = 0;
  std::vector<std::vector<double>> p_, p_error_, p_detected_;  // [band][cls + 1]
  std::vector<std::vector<ErrorMaskSampler>> masks_;          // [band][cls + 1]
};

// ---------------------------------------------------------------- one layer

// Lowered A and B of one array layer, element by element, without building
// the matrices (same values as lowering::lower_layer with group = cols).
//
// In the array's depthwise mode (ArrayShape::depthwise_mode) a "GEMM" is one
// weight tile of the mode: pass p of lowering::lane_plan for block b of
// `cols` channels (gemm = p * blocks + b), one K tile of `rows` rows, its
// vectors(gemm) vectors streamed; PE (r, j) multiplies the tile's weight of
// row r by lane r / group_rows of column j at vector m + r % group_rows, so
// the activation depends on the column (a(gemm, m, k, j)). Discarded vectors
// have no accumulator (output_index -1). Same values as
// lowering::lower_depthwise_lanes / reference_lanes.
class LayerOperands {
 public:
  LayerOperands(const tflite::Model& model, const engine::PreparedOp& layer, const int8_t* input, int cols);
  // The layer as it runs on `shape`: in the depthwise mode when the shape has
  // it and the layer is a depthwise layer the mode computes.
  LayerOperands(const tflite::Model& model, const engine::PreparedOp& layer, const int8_t* input,
                const ArrayShape& shape);
  bool depthwise_mode() const { return !plan_.empty(); }
  const lowering::ConvGeometry& geometry() const { return geometry_; }
  int gemms() const { return gemms_; }
  int m() const { return geometry_.rows(); }  // the layer's output positions
  // Vectors (activation rows) GEMM `gemm` streams: m(), or a mode pass's.
  int vectors(int gemm) const;
  int max_vectors() const;
  int k(int gemm) const;
  int n(int gemm) const;
  int out_channel(int gemm, int j) const;
  // The accumulator (position x out_c + channel) that result (m, j) of GEMM
  // `gemm` adds to; -1: none (a discarded vector of the depthwise mode).
  std::int64_t output_index(int gemm, int m, int j) const;
  int a(int gemm, int m, int k, int j = 0) const;  // k < k(gemm); j: the column (depthwise mode only)
  // a(gemm, m, k, j) and a(gemm, m - 1, k, j) (0 for m = 0) with one decode.
  std::pair<int, int> a_and_previous(int gemm, int m, int k, int j = 0) const;
  int b(int gemm, int k, int j) const;
  // Column j's weights that can be non-zero: count of them, stride apart,
  // at reduction index first_k + i (conv/FC: all K; depthwise: its taps).
  struct ColumnWeights {
    const int8_t* data;
    int count, stride, first_k;
  };
  ColumnWeights column_weights(int gemm, int j) const;
  // out[m] = a(gemm, m, k) for every m < m(): one reduction index's
  // activations, decoded incrementally (GEMM mappings, not the depthwise mode).
  void activations(int gemm, int k, std::int8_t* out) const;
  // out[r] = A[m][k0 + r] * B[k0 + r][j] for r < count (0 beyond K): one
  // column chain's products, decoded incrementally.
  void chain_products(int gemm, int m, int j, int k0, int count, std::int64_t* out) const;

 private:
  // Where reduction index k of GEMM `gemm` reads the input: channel and kernel tap.
  struct Tap {
    int channel, ky, kx;
  };
  Tap tap_of(int gemm, int k) const;
  int input_at(const Tap& tap, int m) const;  // A[m][k] for k's tap (the pad value outside)
  // Depthwise mode: the value lane `lane` of column j carries for vector t of GEMM `gemm`.
  int lane_value(int gemm, int lane, int t, int j) const;

  const lowering::ConvGeometry& geometry_;
  const int8_t* input_;
  const int8_t* weights_;
  int8_t pad_;
  int cols_;
  int gemms_;
  // Depthwise mode (empty without): the passes' lane runs, their vectors per output row.
  std::vector<std::vector<lowering::LaneRun>> plan_;
  std::vector<int> per_row_;
  int rows_ = 0, group_rows_ = 0, blocks_ = 0;
};

// One erring register capture: PE row `row` of GEMM column `column` while it
// processes activation row m of K tile k_tile.
struct Hit {
  int gemm = 0, column = 0, k_tile = 0, m = 0, row = 0;
  std::uint64_t mask = 0;
  // Policy correct with a Razor characterization (docs/inject.md "After-Razor
  // errors"): the protected bits of mask whose shadow was wrong too; Razor
  // leaves them wrong, and a capture whose late protected bits are all missed
  // is not detected.
  std::uint64_t razor_missed = 0;
  // The operand class the mask was drawn for (-1: the whole point's masks):
  // with a schema-3 model the mask is drawn again once the capture's correct
  // value is known (PointSampler::sample_mask with `correct`).
  int cls = -1;
  // A candidate drawn at the upper rate of the value classes
  // (PointSampler::value_rates): the injector keeps it with
  // PointSampler::accept_value once the chain walk knows the capture's
  // correct value. apply_hits refuses such hits (it has no sampler).
  bool by_value = false;
};

struct LayerStats {
  std::size_t op = 0;
  std::uint64_t captures = 0;            // PE register captures that feed an output
  std::uint64_t hits = 0;                // captures with an error
  std::uint64_t razor_detected = 0;      // hits with a protected bit wrong
  std::uint64_t razor_error_cycles = 0;  // distinct (tile, cycle) with a detected error
  std::uint64_t corrupted_outputs = 0;   // accumulators that differ from the clean ones
  std::uint64_t cycles = 0;              // array cycles, stalls included (docs/inject.md)
  LayerStats& operator+=(const LayerStats& o);
};
// The counts as JSON (op, captures, hits, razor_detected, razor_error_cycles,
// corrupted_outputs, cycles) and back; `where` names the source in errors.
nlohmann::json to_json(const LayerStats& stats);
LayerStats layer_stats_from_json(const nlohmann::json& j, const std::string& where);

// Array cycles of one layer without stalls: per (N tile, K tile), `rows` to
// load weights plus M + rows + cols - 1 to stream, fill and drain
// (vosa_top_ws: results LATENCY = rows + cols cycles after the input). A
// layer in the depthwise mode (ArrayShape::depthwise_mode): the mode's
// passes, lowering::lanes_cycles.
std::uint64_t layer_cycles(const lowering::ConvGeometry& geometry, const ArrayShape& shape);
// Cycles of one (N tile, K tile) that streams `streamed_rows` GEMM rows.
std::uint64_t tile_cycles(const ArrayShape& shape, int streamed_rows);
// PE register captures of one layer that feed an output (depthwise mode:
// every capture of its passes' used columns, the discarded vectors' included).
std::uint64_t layer_captures(const lowering::ConvGeometry& geometry, const ArrayShape& shape);

// Applies hits (in any order) to a layer's accumulators (m x out_c) with the
// column semantics above; fills hits/razor/corrupted counts of the stats.
// Exposed so tests can feed the same hits to an independent simulation.
LayerStats apply_hits(const LayerOperands& operands, const ArrayShape& shape, const RazorSetting& razor,
                      std::vector<Hit> hits, std::vector<int32_t>& accumulators);

// ---------------------------------------------------------------- the injector

// How a layer's errors are drawn.
//   kExact    every erring capture (geometric gaps over the capture index,
//             thinned by operand class), its mask from the point's sampler,
//             applied down its column chain: cost grows with the hits.
//   kSampled  per output: the number of erring captures drawn from
//             Binomial(captures, p) with p the column's mean rate (operand
//             classes: the layer's activation changes, sampled, against the
//             column's weights), their summed effect drawn from the same
//             masks with each flipped bit's direction (the partial sum's bit)
//             a fair coin, and beyond 8 errors the sum of 8 scaled to the
//             same variance. Cost grows with the outputs, not the hits. An
//             approximation (docs/inject.md "Sampled injection": compared
//             with kExact by tests/inject); TE-Drop layers stay exact.
//   kThinned  kExact for layers without Razor correct or TE-Drop; with Razor
//             correct, only the
//             errors with an unprotected bit wrong are drawn (ThinnedSampler)
//             and walked: the accumulators have exactly kExact's
//             distribution, at a cost that grows with the uncorrected
//             errors only. The Razor counts (hits of protected bits only,
//             razor_detected, razor_error_cycles) are their expected values
//             from the layer's sampled operand classes, not draws. TE-Drop
//             layers whose every error has a protected bit wrong (all
//             failing bits dropped, ThUnderVolt's setting) go through
//             corrupt_dropped in kThinned and kSampled alike: exact in
//             distribution, cost growing with the drops of non-zero products.
enum class InjectionMode { kExact, kSampled, kThinned };

// How corrupt_dropped finds the drops of a conv/FC layer (same distribution;
// docs/inject.md "Thinned TE-Drop"):
//   kCandidates  geometric gaps over the captures at the largest class rate,
//                each candidate kept with its class's share (the exact walk);
//   kByClass     the layer's activation changes |a(m) - a(m-1)| counted and
//                sorted once per reduction index k, so that the captures of
//                weight (k, j) in each operand class are a known run of
//                positions m: each class's captures walked at its own rate,
//                every candidate a drop;
//   kAuto        per layer, the one an estimate of both costs says is cheaper.
enum class DropWalk { kAuto, kCandidates, kByClass };
DropWalk parse_drop_walk(const std::string& name);  // auto | candidates | by-class
const char* to_string(InjectionMode mode);
InjectionMode parse_injection_mode(const std::string& name);  // exact | sampled | thinned

// Error model + array + settings, resolved: for each array layer the error
// point of each island and the Razor setting. Immutable once evaluation
// starts (set_classes / set_mode before); thread-safe.
class Injector {
 public:
  struct LayerPlan {
    std::vector<std::shared_ptr<const PointSampler>> island;  // per island
    RazorSetting razor;
    double p_max = 0;  // over islands
    // Policy correct and every island's point characterized with these Razor
    // bits: hits carry the shadow's misses (Hit::razor_missed), drawn exactly.
    bool after_razor = false;
    // TE-Drop whose every error has a protected bit wrong (each hit drops its
    // product and nothing else): with kThinned or kSampled drawn by
    // corrupt_dropped, exact in distribution (set by set_mode).
    bool drops_only = false;
  };

  // Validates everything that does not need the DNN: island counts, voltages
  // against the model's points (nearest point within 5 mV, refused
  // otherwise), the period, acc_bits and signedness against the model.
  Injector(ErrorModel model, ArrayShape shape, Settings settings);

  const ErrorModel& model() const { return model_; }
  const ArrayShape& shape() const { return shape_; }
  const Settings& settings() const { return settings_; }
  double period_ns() const { return period_ns_; }
  // Throws InjectError when a per-layer setting names an operator that is
  // not an array layer of the model.
  void check_model(const tflite::Model& model) const;
  const LayerPlan& plan(std::size_t op) const;
  // The plan of every layer the settings do not name.
  const LayerPlan& default_plan() const { return default_plan_; }
  // No layer can err: faulty runs equal the clean run.
  bool error_free() const;
  // What Razor (policy correct) leaves of detected errors, over every plan:
  // "after-razor" (the characterized shadow misses, LayerPlan::after_razor),
  // "ideal" (every protected bit restored), "mixed"; "" without such Razor.
  std::string razor_error_source() const;
  // Lets the fidelity work attach operand classes to the sampler of a voltage.
  void set_classes(double voltage, OperandClasses classes);
  // kThinned builds its thinned samplers here (after set_classes); kThinned
  // and kSampled mark the TE-Drop plans they draw by corrupt_dropped.
  void set_mode(InjectionMode mode);
  // Some layer is drawn by corrupt_dropped (LayerPlan::drops_only).
  bool drops_thinned() const;
  // Every layer that can err is (kThinned and kSampled then draw the same
  // errors from the same stream: a sampled screening would only repeat it).
  bool drops_only_everywhere() const;
  InjectionMode mode() const { return mode_; }
  // How TE-Drop layers (LayerPlan::drops_only) are walked; kAuto by default.
  void set_drop_walk(DropWalk walk) { drop_walk_ = walk; }
  DropWalk drop_walk() const { return drop_walk_; }
  // The drops corrupt_dropped draws for one layer with LayerPlan::drops_only,
  // grouped by (gemm, column), each with its operand class (Hit::cls); the
  // captures of zero weights (whose drop changes nothing) may be left out:
  // corrupt_dropped adds their expected count. For tests.
  std::vector<Hit> draw_drops(const LayerOperands& operands, std::size_t op, Rng& rng) const;

  // Draws the erring captures of one layer, in chain order.
  std::vector<Hit> draw_hits(const LayerOperands& operands, std::size_t op, Rng& rng) const;
  void draw_hits_into(const LayerOperands& operands, std::size_t op, Rng& rng, std::vector<Hit>& hits) const;
  // draw_hits + apply_hits + cycles: corrupts the layer's accumulators
  // (kSampled: corrupt_sampled for layers without TE-Drop).
  LayerStats corrupt(const tflite::Model& model, const engine::PreparedOp& layer, const int8_t* input,
                     std::vector<int32_t>& accumulators, Rng& rng) const;
  // InjectionMode::kSampled on one layer (razor_error_cycles counts the
  // Razor-detected errors, as if no two shared a cycle).
  LayerStats corrupt_sampled(const LayerOperands& operands, const engine::PreparedOp& layer,
                             std::vector<int32_t>& accumulators, Rng& rng) const;

 private:
  // The sampler of the point at `voltage` of error model `errmodel` (empty:
  // the settings' errmodel; a layer's own model is loaded on first use).
  const PointSampler& sampler_for(const std::string& errmodel, double voltage, const std::string& where);
  const ErrorModel& model_at(const std::string& errmodel);
  void check_model_fits(const ErrorModel& model, const std::string& path) const;
  const ThinnedSampler& thinned_for(const PointSampler& sampler, std::uint64_t razor) const;
  // kThinned or kSampled on one TE-Drop layer with LayerPlan::drops_only:
  // only the drops of non-zero products are walked (not the K tiles outside
  // a column's own weights), no mask is drawn, and each output changes by
  // minus its dropped products (no chain walk: no subset of a chain's
  // products wraps the register). The accumulators have exactly kExact's
  // distribution; the hits of the tiles not walked are their expected count.
  LayerStats corrupt_dropped(const LayerOperands& operands, const engine::PreparedOp& layer,
                             std::vector<int32_t>& accumulators, Rng& rng) const;
  // corrupt_dropped's draw: the drops (and with kByClass each one's product
  // a * w in *products), the expected hits not drawn in *not_drawn.
  void draw_drops_into(const LayerOperands& operands, std::size_t op, Rng& rng, std::vector<Hit>& hits,
                       std::vector<std::int32_t>* products, double* not_drawn) const;
  // The exact walk of this plan draws candidates at the value classes'
  // upper rates (Hit::by_value): some island's sampler has value_rates, on a
  // carry-propagate array without Razor (the chain walk then knows each
  // capture's correct value; elsewhere the operand class's rate is drawn).
  bool by_value(const LayerPlan& plan) const;
  // kThinned on one layer with Razor correct.
  LayerStats corrupt_thinned(const LayerOperands& operands, const engine::PreparedOp& layer,
                             std::vector<int32_t>& accumulators, Rng& rng) const;

  ErrorModel model_;
  ArrayShape shape_;
  Settings settings_;
  double period_ns_ = 0;
  std::vector<std::pair<std::string, std::unique_ptr<ErrorModel>>> layer_models_;  // LayerSetting::errmodel, by path
  std::vector<std::shared_ptr<PointSampler>> samplers_;  // one per point used
  std::vector<const ErrorModelPoint*> sampler_points_;   // the point of each sampler (its model's)
  LayerPlan default_plan_;
  std::vector<std::pair<std::size_t, LayerPlan>> layer_plans_;
  InjectionMode mode_ = InjectionMode::kExact;
  DropWalk drop_walk_ = DropWalk::kAuto;
  std::vector<std::shared_ptr<const ThinnedSampler>> thinned_;  // kThinned: per (sampler, Razor mask) used
};

// Builds an injector from a settings file's contents plus an array config.
Injector make_injector(const Settings& settings, const ArrayConfig& config, const std::string& config_source);

// ---------------------------------------------------------------- evaluation

struct FaultyEvalResult {
  std::size_t samples = 0;
  int repeats = 0;
  std::uint64_t seed = 0;
  std::vector<char> clean_correct;     // per sample: clean top-1 correct
  std::vector<double> faulty_correct;  // per sample: fraction of repeats with faulty top-1 correct
  double clean_top1 = 0, faulty_top1 = 0;  // fractions
  double loss = 0;       // clean_top1 - faulty_top1 (paired, same inputs)
  double loss_ci95 = 0;  // half-width of the normal 95 % interval over inputs
  std::vector<LayerStats> layers;  // per array layer, summed over samples and repeats
  std::uint64_t captures() const;
  std::uint64_t hits() const;
  std::uint64_t razor_error_cycles() const;
  std::uint64_t cycles() const;
  double seconds = 0;  // wall time of the faulty runs
  // How often a run's changed state became the clean one again at a
  // checkpoint (every live activation equal to the clean run's there).
  std::uint64_t rejoined_clean = 0;
};

// Loads the inputs once and runs the clean pass once; evaluate() then runs
// only the faulty passes, so one evaluator serves many settings.
//
// Clean checkpoints: the clean pass keeps, per input, the live activations
// before some array layers (chosen to save the most clean MACs within
// `checkpoint_bytes` over all inputs). A faulty run starts from the last
// checkpoint at or before the first layer that can err, and while no layer
// has changed an accumulator its state is the clean one: it jumps ahead to
// the next checkpoint before the next layer that can err, and stops with the
// clean prediction when no later layer can err. A changed state that reaches a
// checkpoint with every live activation equal to the clean run's (the errors
// absorbed by requantization and clamping) is the clean state again: the same
// jumps and early stop apply from there. All of this is exact: the results
// equal those of a run through every operator (tested).
class FaultEvaluator {
 public:
  static constexpr std::size_t kDefaultCheckpointBytes = std::size_t{1} << 30;
  FaultEvaluator(const engine::Engine& engine, const engine::Dataset& data, const engine::InferOptions& options,
                 std::size_t checkpoint_bytes = kDefaultCheckpointBytes);
  std::size_t samples() const { return inputs_.size(); }
  const std::vector<char>& clean_correct() const { return clean_correct_; }
  const std::vector<int>& clean_predictions() const { return clean_prediction_; }
  double clean_seconds() const { return clean_seconds_; }
  // Operator indices (into engine.ops()) before which clean activations are kept.
  const std::vector<std::size_t>& checkpoints() const { return checkpoint_ops_; }
  FaultyEvalResult evaluate(const Injector& injector, int repeats, std::uint64_t seed) const;
  // Only the inputs in `subset` (indices < samples()); the result's per-sample
  // vectors follow the subset's order. Used by coarse-to-fine searches.
  FaultyEvalResult evaluate(const Injector& injector, int repeats, std::uint64_t seed,
                            const std::vector<std::size_t>& subset) const;

 private:
  void choose_checkpoints(std::size_t budget_bytes);

  const engine::Engine& engine_;
  engine::InferOptions options_;
  std::vector<std::vector<uint8_t>> inputs_;
  std::vector<int> labels_;
  std::vector<int> clean_prediction_;
  std::vector<char> clean_correct_;
  double clean_seconds_ = 0;
  std::vector<std::size_t> checkpoint_ops_;                 // ascending operator indices
  std::vector<std::vector<int>> checkpoint_tensors_;        // live tensors at each checkpoint
  std::vector<std::vector<std::vector<uint8_t>>> saved_;    // [input][checkpoint] live tensors, concatenated
};

// One-shot convenience: FaultEvaluator(engine, data, options).evaluate(...).
FaultyEvalResult evaluate_with_faults(const engine::Engine& engine, const engine::Dataset& data,
                                      const engine::InferOptions& options, const Injector& injector, int repeats,
                                      std::uint64_t seed);

// Machine-readable result (what `vosa infer --json` writes).
nlohmann::json to_json(const FaultyEvalResult& result, const Injector& injector);

}  // namespace vosa::inject
