// Computation reuse for similar consecutive inputs (docs/reuse.md), after
// Riera et al. (ISCA'18) and Mquans (Qi et al., 2020).
//
// A stream: the feature frames of consecutive clips concatenated, windows of
// the model's input length sliding over them with a stride. Reuse: before
// each array layer (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) the input is
// quantized to q bits; where a quantized input equals the previous
// inference's, its contribution is reused, and the int32 accumulators are
// the previous ones plus the contributions of the changed inputs' differences
// (delta computation). With q = 8 this is bit-exact with recomputation.
#pragma once

#include "vosa/dataset.hpp"
#include "vosa/engine.hpp"
#include "vosa/inject.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vosa::reuse {
namespace detail {
class DeltaLayer;
}

// The frames of a data set's clips, in label-list order, one after the other.
// The model input must be 1 x T x F x 1 (T frames of F features, e.g. DS-CNN's
// 49 x 10 MFCC) and the data set .bin tensors of that shape.
struct FeatureStream {
  int window_frames = 0;   // T: frames per model input (= frames per clip)
  int frame_features = 0;  // F
  std::vector<int8_t> frames;     // num_frames() x F, frame-major
  std::vector<int> clip_labels;   // one per clip
  size_t num_frames() const { return frames.size() / static_cast<size_t>(frame_features); }
  size_t num_clips() const { return clip_labels.size(); }
};

// Reads the first `max_clips` clips (0 = all). Throws naming the model input
// or the data directory when they are not a feature stream (JPEG images, an
// input that is not 1 x T x F x 1 int8).
FeatureStream load_feature_stream(const tflite::Tensor& model_input, const engine::Dataset& data,
                                  size_t max_clips = 0);

// One window: frames [first_frame, first_frame + T). Its label is the label
// of the clip holding its centre frame, first_frame + T / 2.
struct Window {
  size_t first_frame = 0;
  int label = -1;
};
// Windows starting at 0, stride, 2 * stride, ... that fit in the stream.
// stride must be in [1, T].
std::vector<Window> stream_windows(const FeatureStream& stream, int stride);
// The model input bytes of one window.
std::vector<uint8_t> window_input(const FeatureStream& stream, const Window& window);

// An int8 activation x with zero point zp quantized to q bits: d = x - zp is
// rounded to a multiple of 2^(8 - q) (to nearest, halves up) and the result
// clamped to int8. q = 8 leaves x unchanged; zero (x = zp) stays exact.
int8_t quantize_activation(int8_t x, int32_t zero_point, int q);
// Throws a named error unless q is in [1, 8].
void check_quantization_bits(int q);
// Parses "OP=Q" (the --layer-q flag) into layer_q; throws naming the text.
void parse_layer_q(const std::string& text, std::map<size_t, int>& layer_q);

// A width per input channel of array layers: operator index -> one width per
// input channel (in_c entries). Listed layers take these widths instead of
// the uniform / per-layer ones (the criticality analysis, docs/reuse.md).
using ChannelWidths = std::map<size_t, std::vector<int>>;

// Array cycles of one layer on a weight-stationary rows x cols array that, in
// every (N tile, K tile), streams only the GEMM rows with an operand whose
// `changed` flag (one per input activation) is set, and skips a tile with
// none (padding never changes). The layer is lowered as the array runs it
// (vosa::lowering) on a marker tensor. Every input changed gives
// inject::layer_cycles less the rows that are all padding in a tile.
uint64_t streamed_cycles(const tflite::Model& model, const engine::PreparedOp& layer, const std::vector<bool>& changed,
                         const inject::ArrayShape& shape);

// Work of one array layer summed over a stream.
struct LayerReuse {
  size_t op_index = 0;
  std::string op_type;
  int64_t macs = 0;       // MACs of full recomputation (padding taps excluded)
  int64_t macs_done = 0;  // MACs the delta scheme computed
  // Skipped MACs whose input was zero (its zero point) both times: a scheme
  // that only skips zero operands would skip these too.
  int64_t macs_skipped_zero = 0;
  int64_t inputs = 0, inputs_changed = 0;  // input activations, and those whose quantized value changed
  // Array cycles (weight-stationary, docs/reuse.md "Array cycles"): recomputing
  // everything (inject::layer_cycles), and streaming only the GEMM rows with
  // a changed operand in each (N tile, K tile), a tile with none skipped.
  uint64_t cycles = 0, cycles_done = 0;
  double reuse_ratio() const { return macs ? 1.0 - static_cast<double>(macs_done) / static_cast<double>(macs) : 0.0; }
};

// Runs an engine over consecutive inputs with reuse. Keeps, per array layer,
// the previous quantized input and accumulators. Not thread-safe; one stream.
class ReuseRunner {
 public:
  // q in [1, 8] for every array layer, except the layers (operator index)
  // in layer_q, which get their own width. verify: check every layer's delta
  // accumulators against a recomputation from the quantized input (and, at
  // q = 8, against the engine's own accumulators); a mismatch throws
  // std::logic_error.
  // channel_q: per-input-channel widths of the listed layers (checked: an
  // array layer, in_c widths, each in [1, 8]).
  ReuseRunner(const engine::Engine& engine, int q, bool verify = false, const std::map<size_t, int>& layer_q = {},
              const ChannelWidths& channel_q = {}, const inject::ArrayShape& array = default_array());
  // The array whose cycles are counted: 16 x 16 (generator/examples/explore_16x16.json).
  static inject::ArrayShape default_array();

  // One inference on the next input of the stream; returns the output tensor bytes.
  std::vector<uint8_t> run(const std::vector<uint8_t>& input, engine::Workspace& ws);
  // Whether cycles_done is counted (on by default; it lowers each layer once
  // more per inference, so the criticality analysis's calibration runs skip it).
  void set_count_cycles(bool on) { count_cycles_ = on; }
  // Forgets the previous inference: the next run() computes everything.
  void reset();
  // Called after each array layer with what the delta scheme used: the
  // previous inference's quantized input and accumulators (empty on the first
  // inference of a stream), this one's quantized input and its accumulators.
  // The Verilator check of the reuse array (docs/reuse.md, "Hardware") replays
  // these deltas through the generated RTL.
  struct LayerDelta {
    const engine::PreparedOp* layer = nullptr;
    const std::vector<int8_t>* prev_input = nullptr;
    const std::vector<int32_t>* prev_acc = nullptr;
    const std::vector<int8_t>* input = nullptr;
    const std::vector<int32_t>* acc = nullptr;
  };
  void set_layer_hook(std::function<void(const LayerDelta&)> hook) { layer_hook_ = std::move(hook); }
  const std::vector<LayerReuse>& layers() const { return stats_; }

 private:
  struct LayerState {
    std::vector<int> channel_q;      // width per input channel
    std::shared_ptr<const detail::DeltaLayer> delta;
    std::vector<int8_t> prev_input;  // quantized
    std::vector<int32_t> prev_acc;
    bool valid = false;
  };
  void on_layer(const engine::PreparedOp& layer, const int8_t* input, std::vector<int32_t>& acc);
  LayerState& state_of(const engine::PreparedOp& layer);

  const engine::Engine& engine_;
  bool verify_;
  inject::ArrayShape array_;
  bool count_cycles_ = true;
  std::function<void(const LayerDelta&)> layer_hook_;
  std::vector<int> slot_;  // operator index -> index into states_/stats_, -1 if not an array layer
  std::vector<LayerState> states_;
  std::vector<LayerReuse> stats_;
};

struct StreamOptions {
  int stride = 4;
  int q = 8;
  std::map<size_t, int> layer_q;  // operator index -> its own width
  ChannelWidths channel_q;        // per-input-channel widths (override layer_q and q)
  inject::ArrayShape array = ReuseRunner::default_array();  // rows x cols for the cycle counts
  bool count_cycles = true;  // false: LayerReuse::cycles and cycles_done stay 0
  size_t max_windows = 0;  // 0 = every window
  bool verify = false;
};

struct StreamResult {
  size_t windows = 0;
  size_t baseline_top1 = 0;  // unmodified engine
  size_t reuse_top1 = 0;     // with quantization and reuse
  size_t agree = 0;          // windows where both predict the same class
  std::vector<LayerReuse> layers;
  // Per window, in stream order: the clip of its centre frame and whether
  // the baseline and the reuse scheme predicted its label.
  struct Outcome {
    size_t clip = 0;
    bool baseline_correct = false, reuse_correct = false;
  };
  std::vector<Outcome> outcomes;
  int64_t macs() const;
  int64_t macs_done() const;
  int64_t macs_skipped_zero() const;
  uint64_t cycles() const;
  uint64_t cycles_done() const;
  double seconds = 0;
};

// Runs the baseline and the reuse scheme over the stream's windows in order.
StreamResult evaluate_stream(const engine::Engine& engine, const FeatureStream& stream, const StreamOptions& options);
// The same with the baseline's top-1 class of every window given (one per
// window of `options`, from baseline_predictions), so repeated evaluations
// of one stream run the unmodified model once.
StreamResult evaluate_stream(const engine::Engine& engine, const FeatureStream& stream, const StreamOptions& options,
                             const std::vector<int>& baseline);
// The windows options selects (stride, max_windows).
std::vector<Window> selected_windows(const FeatureStream& stream, const StreamOptions& options);
// Top-1 class of the unmodified model on each window.
std::vector<int> baseline_predictions(const engine::Engine& engine, const FeatureStream& stream,
                                      const std::vector<Window>& windows);

// Clips [first, first + count) of a stream, as a stream of their own (the
// calibration / held-out split). Throws naming --calibration-clips when the
// range is empty or runs past the stream.
FeatureStream clip_range(const FeatureStream& stream, size_t first, size_t count);

// Top-1 loss of the reuse scheme against the baseline on the same windows,
// in percentage points, with a 95 % interval. Consecutive windows overlap
// and share clips, so they are not independent: the interval is
// cluster-robust with the centre clip as the cluster (the variance of the
// per-clip sums of paired differences), normal approximation.
struct PairedLoss {
  double points = 0, low = 0, high = 0;
  size_t windows = 0, clusters = 0;
};
PairedLoss top1_loss(const StreamResult& result);

void add_reuse_command(CLI::App& app);

}  // namespace vosa::reuse
