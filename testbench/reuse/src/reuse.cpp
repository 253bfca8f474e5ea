#include "vosa/reuse.hpp"

#include "vosa/infer.hpp"

#include "delta_layer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <stdexcept>

namespace vosa::reuse {

using detail::for_each_input;
using detail::for_each_reader;

detail::DeltaLayer::DeltaLayer(const tflite::Model& model, const engine::PreparedOp& layer) : g_(layer.geometry) {
  const int8_t* w = reinterpret_cast<const int8_t*>(model.tensor(layer.op->inputs[1]).data.data());
  if (g_.depthwise) {
    weights_io_.assign(w, w + static_cast<size_t>(g_.taps()) * g_.out_c);
  } else {
    // TFLite's OHWI (FC: [out][in]) to [tap][in][out], so one changed input
    // updates a contiguous row of output channels.
    weights_io_.resize(static_cast<size_t>(g_.taps()) * g_.in_c * g_.out_c);
    for (int oc = 0; oc < g_.out_c; ++oc)
      for (int t = 0; t < g_.taps(); ++t)
        for (int ic = 0; ic < g_.in_c; ++ic)
          weights_io_[(static_cast<size_t>(t) * g_.in_c + ic) * g_.out_c + oc] =
              w[(static_cast<size_t>(oc) * g_.taps() + t) * g_.in_c + ic];
  }
  const int per_tap = g_.depthwise ? g_.depth_multiplier : g_.out_c;
  fan_out_.assign(static_cast<size_t>(g_.batch) * g_.in_h * g_.in_w * g_.in_c, 0);
  for_each_input(g_, [&](size_t i, int b, int iy, int ix, int) {
    for_each_reader(g_, b, iy, ix, [&](int, int) { fan_out_[i] += per_tap; });
  });
}

void detail::DeltaLayer::add(int b, int iy, int ix, int ic, int32_t delta, int32_t* acc) const {
  for_each_reader(g_, b, iy, ix, [&](int row, int tap) {
    int32_t* out = acc + static_cast<size_t>(row) * g_.out_c;
    if (g_.depthwise) {
      const int8_t* w = weights_io_.data() + static_cast<size_t>(tap) * g_.out_c;
      for (int m = 0; m < g_.depth_multiplier; ++m) {
        const int oc = ic * g_.depth_multiplier + m;
        out[oc] += delta * w[oc];
      }
    } else {
      const int8_t* w = weights_io_.data() + (static_cast<size_t>(tap) * g_.in_c + ic) * g_.out_c;
      for (int oc = 0; oc < g_.out_c; ++oc) out[oc] += delta * w[oc];
    }
  });
}

void check_quantization_bits(int q) {
  if (q < 1 || q > 8)
    throw std::runtime_error("--q " + std::to_string(q) +
                             ": the activation quantization width must be in [1, 8] bits (the int8 operand width)");
}

int8_t quantize_activation(int8_t x, int32_t zero_point, int q) {
  const int shift = 8 - q;
  if (shift == 0) return x;
  const int32_t d = static_cast<int32_t>(x) - zero_point;
  // Arithmetic shifts floor, so adding half a step rounds to nearest.
  const int32_t rounded = ((d + (1 << (shift - 1))) >> shift) * (1 << shift);
  return static_cast<int8_t>(std::clamp(zero_point + rounded, -128, 127));
}

void parse_layer_q(const std::string& text, std::map<size_t, int>& layer_q) {
  const auto eq = text.find('=');
  try {
    if (eq == std::string::npos) throw std::invalid_argument("no '='");
    size_t used = 0;
    const int op = std::stoi(text.substr(0, eq), &used);
    if (used != eq || op < 0) throw std::invalid_argument("operator");
    const int q = std::stoi(text.substr(eq + 1), &used);
    if (used != text.size() - eq - 1) throw std::invalid_argument("width");
    layer_q[static_cast<size_t>(op)] = q;
  } catch (const std::exception&) {
    throw std::runtime_error("--layer-q '" + text + "': expected OPERATOR=BITS, e.g. 0=6");
  }
}

ReuseRunner::ReuseRunner(const engine::Engine& engine, int q, bool verify, const std::map<size_t, int>& layer_q,
                         const ChannelWidths& channel_q, const inject::ArrayShape& array)
    : engine_(engine), verify_(verify), array_(array) {
  if (array.rows < 1 || array.cols < 1)
    throw std::runtime_error("--rows " + std::to_string(array.rows) + " --cols " + std::to_string(array.cols) +
                             ": the array's rows and columns must be >= 1");
  check_quantization_bits(q);
  for (const auto& [op, bits] : layer_q) {
    if (op >= engine.ops().size() || !lowering::is_array_layer(engine.ops()[op].op->type))
      throw std::runtime_error(
          "--layer-q " + std::to_string(op) + "=" + std::to_string(bits) + ": operator " + std::to_string(op) +
          (op >= engine.ops().size() ? " does not exist"
                                     : std::string(" (") + tflite::to_string(engine.ops()[op].op->type) +
                                           ") is not a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED layer"));
    try {
      check_quantization_bits(bits);
    } catch (const std::exception&) {
      throw std::runtime_error("--layer-q " + std::to_string(op) + "=" + std::to_string(bits) +
                               ": the width must be in [1, 8] bits (the int8 operand width)");
    }
  }
  for (const auto& [op, widths] : channel_q) {
    const std::string where = "channel widths of operator " + std::to_string(op);
    if (op >= engine.ops().size() || !lowering::is_array_layer(engine.ops()[op].op->type))
      throw std::runtime_error(where + ": not a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED layer");
    const int in_c = engine.ops()[op].geometry.in_c;
    if (widths.size() != static_cast<size_t>(in_c))
      throw std::runtime_error(where + ": " + std::to_string(widths.size()) + " widths for " + std::to_string(in_c) +
                               " input channels");
    for (int bits : widths)
      if (bits < 1 || bits > 8)
        throw std::runtime_error(where + ": width " + std::to_string(bits) +
                                 " outside [1, 8] bits (the int8 operand width)");
  }
  if (engine.arithmetic() == engine::Arithmetic::kArmNN)
    throw std::runtime_error("reuse needs integer accumulators: --arithmetic tflite or tflite-reference, not armnn");
  const tflite::Model& model = engine.model();
  for (const engine::PreparedOp& p : engine.ops()) {
    if (!lowering::is_array_layer(p.op->type)) {
      slot_.push_back(-1);
      continue;
    }
    slot_.push_back(static_cast<int>(states_.size()));
    LayerState s;
    s.delta = std::make_shared<const detail::DeltaLayer>(model, p);
    const int layer_bits = layer_q.count(p.index) ? layer_q.at(p.index) : q;
    s.channel_q = channel_q.count(p.index) ? channel_q.at(p.index)
                                           : std::vector<int>(static_cast<size_t>(p.geometry.in_c), layer_bits);
    LayerReuse stats;
    stats.op_index = p.index;
    stats.op_type = tflite::to_string(p.op->type);
    states_.push_back(std::move(s));
    stats_.push_back(stats);
  }
}

inject::ArrayShape ReuseRunner::default_array() {
  inject::ArrayShape shape;
  shape.rows = 16;
  shape.cols = 16;
  return shape;
}

uint64_t streamed_cycles(const tflite::Model& model, const engine::PreparedOp& layer, const std::vector<bool>& changed,
                      const inject::ArrayShape& shape) {
  const int32_t zero_point = -layer.input_offset;
  const auto same = static_cast<int8_t>(zero_point);
  const auto mark = static_cast<int8_t>(zero_point < 127 ? zero_point + 1 : zero_point - 1);
  std::vector<int8_t> marker(changed.size(), same);
  for (size_t i = 0; i < changed.size(); ++i)
    if (changed[i]) marker[i] = mark;
  uint64_t cycles = 0;
  for (const lowering::Gemm& gm : lowering::lower_layer(model, *layer.op, layer.geometry, marker.data(), shape.cols)) {
    const uint64_t n_tiles = static_cast<uint64_t>((gm.n + shape.cols - 1) / shape.cols);
    for (int k0 = 0; k0 < gm.k; k0 += shape.rows) {
      const int k1 = std::min(gm.k, k0 + shape.rows);
      int streamed = 0;
      for (int m = 0; m < gm.m; ++m) {
        const int8_t* row = gm.a.data() + static_cast<size_t>(m) * gm.k;
        streamed += std::any_of(row + k0, row + k1, [&](int8_t v) { return v != same; });
      }
      if (streamed) cycles += n_tiles * inject::tile_cycles(shape, streamed);
    }
  }
  return cycles;
}


void ReuseRunner::reset() {
  for (LayerState& s : states_) s.valid = false;
}

ReuseRunner::LayerState& ReuseRunner::state_of(const engine::PreparedOp& layer) {
  const int slot = slot_.at(layer.index);
  if (slot < 0) throw std::logic_error("operator " + std::to_string(layer.index) + " is not an array layer");
  return states_[static_cast<size_t>(slot)];
}

void ReuseRunner::on_layer(const engine::PreparedOp& layer, const int8_t* input, std::vector<int32_t>& acc) {
  LayerState& s = state_of(layer);
  LayerReuse& stats = stats_[static_cast<size_t>(slot_[layer.index])];
  const lowering::ConvGeometry& g = layer.geometry;
  const std::vector<int32_t>& fan_out = s.delta->fan_out();
  const int32_t zero_point = -layer.input_offset;
  const size_t n = fan_out.size();
  const size_t in_c = static_cast<size_t>(g.in_c);
  std::vector<int8_t> quantized(n);
  for (size_t i = 0; i < n; ++i) quantized[i] = quantize_activation(input[i], zero_point, s.channel_q[i % in_c]);

  int64_t layer_macs = 0;
  for (int32_t f : fan_out) layer_macs += f;
  stats.macs += layer_macs;
  stats.inputs += static_cast<int64_t>(n);
  const uint64_t full_cycles = count_cycles_ ? inject::layer_cycles(g, array_) : 0;
  stats.cycles += full_cycles;
  std::vector<int32_t> result;
  if (!s.valid) {
    // Nothing to reuse: the full computation on the quantized input.
    result = engine::reference_accumulators(engine_.model(), layer, quantized.data());
    stats.macs_done += layer_macs;
    stats.inputs_changed += static_cast<int64_t>(n);
    stats.cycles_done += full_cycles;
  } else {
    result = s.prev_acc;
    for_each_input(g, [&](size_t i, int b, int iy, int ix, int ic) {
      const int32_t delta = static_cast<int32_t>(quantized[i]) - s.prev_input[i];
      if (delta == 0) {
        if (quantized[i] == zero_point) stats.macs_skipped_zero += fan_out[i];
        return;
      }
      ++stats.inputs_changed;
      stats.macs_done += fan_out[i];
      s.delta->add(b, iy, ix, ic, delta, result.data());
    });
    if (count_cycles_) {
      std::vector<bool> changed(n);
      for (size_t i = 0; i < n; ++i) changed[i] = quantized[i] != s.prev_input[i];
      stats.cycles_done += streamed_cycles(engine_.model(), layer, changed, array_);
    }
  }
  if (verify_) {
    const std::string where = "operator " + std::to_string(layer.index) + " (" + stats.op_type + ")";
    if (result != engine::reference_accumulators(engine_.model(), layer, quantized.data()))
      throw std::logic_error(where + ": delta accumulators differ from recomputation on the quantized input");
    const bool full_width = std::all_of(s.channel_q.begin(), s.channel_q.end(), [](int q) { return q == 8; });
    if (full_width && result != acc) throw std::logic_error(where + ": q = 8 accumulators differ from the engine's");
  }
  if (layer_hook_) {
    static const std::vector<int8_t> no_input;
    static const std::vector<int32_t> no_acc;
    layer_hook_({&layer, s.valid ? &s.prev_input : &no_input, s.valid ? &s.prev_acc : &no_acc, &quantized, &result});
  }
  s.prev_input = std::move(quantized);
  s.prev_acc = result;
  s.valid = true;
  acc = std::move(result);
}

std::vector<uint8_t> ReuseRunner::run(const std::vector<uint8_t>& input, engine::Workspace& ws) {
  return engine_.run(input, ws, [this](const engine::PreparedOp& layer, const int8_t* in, std::vector<int32_t>& acc) {
    on_layer(layer, in, acc);
  });
}

namespace {

// One layer field summed over the layers.
template <class T>
T sum_over(const std::vector<LayerReuse>& layers, T LayerReuse::*field) {
  T total = 0;
  for (const LayerReuse& l : layers) total += l.*field;
  return total;
}

}  // namespace

int64_t StreamResult::macs() const { return sum_over(layers, &LayerReuse::macs); }
int64_t StreamResult::macs_done() const { return sum_over(layers, &LayerReuse::macs_done); }
uint64_t StreamResult::cycles() const { return sum_over(layers, &LayerReuse::cycles); }
uint64_t StreamResult::cycles_done() const { return sum_over(layers, &LayerReuse::cycles_done); }
int64_t StreamResult::macs_skipped_zero() const { return sum_over(layers, &LayerReuse::macs_skipped_zero); }

std::vector<Window> selected_windows(const FeatureStream& stream, const StreamOptions& options) {
  std::vector<Window> windows = stream_windows(stream, options.stride);
  if (options.max_windows && windows.size() > options.max_windows) windows.resize(options.max_windows);
  return windows;
}

std::vector<int> baseline_predictions(const engine::Engine& engine, const FeatureStream& stream,
                                      const std::vector<Window>& windows) {
  const bool is_signed = engine.model().output().type == tflite::TensorType::kInt8;
  engine::Workspace ws;
  std::vector<int> classes;
  classes.reserve(windows.size());
  for (const Window& w : windows)
    classes.push_back(engine::ranked_classes(engine.run(window_input(stream, w), ws), is_signed).front());
  return classes;
}

StreamResult evaluate_stream(const engine::Engine& engine, const FeatureStream& stream, const StreamOptions& options) {
  return evaluate_stream(engine, stream, options, baseline_predictions(engine, stream, selected_windows(stream, options)));
}

StreamResult evaluate_stream(const engine::Engine& engine, const FeatureStream& stream, const StreamOptions& options,
                             const std::vector<int>& baseline) {
  check_quantization_bits(options.q);
  const std::vector<Window> windows = selected_windows(stream, options);
  if (baseline.size() != windows.size())
    throw std::logic_error("evaluate_stream: " + std::to_string(baseline.size()) + " baseline predictions for " +
                           std::to_string(windows.size()) + " windows");
  const auto start = std::chrono::steady_clock::now();
  const bool is_signed = engine.model().output().type == tflite::TensorType::kInt8;
  ReuseRunner runner(engine, options.q, options.verify, options.layer_q, options.channel_q, options.array);
  runner.set_count_cycles(options.count_cycles);
  engine::Workspace ws;
  StreamResult r;
  const size_t t = static_cast<size_t>(stream.window_frames);
  for (size_t k = 0; k < windows.size(); ++k) {
    const Window& w = windows[k];
    const int reused = engine::ranked_classes(runner.run(window_input(stream, w), ws), is_signed).front();
    ++r.windows;
    r.baseline_top1 += baseline[k] == w.label;
    r.reuse_top1 += reused == w.label;
    r.agree += baseline[k] == reused;
    r.outcomes.push_back({(w.first_frame + t / 2) / t, baseline[k] == w.label, reused == w.label});
  }
  r.layers = runner.layers();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

PairedLoss top1_loss(const StreamResult& result) {
  PairedLoss loss;
  loss.windows = result.outcomes.size();
  if (loss.windows == 0) return loss;
  std::map<size_t, double> per_clip;  // sum of paired differences per centre clip
  double total = 0;
  for (const StreamResult::Outcome& o : result.outcomes) {
    const double d = static_cast<double>(o.baseline_correct) - static_cast<double>(o.reuse_correct);
    per_clip[o.clip] += d;
    total += d;
  }
  const double n = static_cast<double>(loss.windows);
  const double mean = total / n;
  loss.clusters = per_clip.size();
  double var = 0;  // cluster-robust variance of the mean
  if (loss.clusters > 1) {
    std::map<size_t, size_t> per_clip_windows;
    for (const StreamResult::Outcome& o : result.outcomes) ++per_clip_windows[o.clip];
    for (const auto& [clip, sum] : per_clip) {
      const double e = sum - mean * static_cast<double>(per_clip_windows[clip]);
      var += e * e;
    }
    const double g = static_cast<double>(loss.clusters);
    var *= g / (g - 1) / (n * n);
  }
  const double half = 1.96 * std::sqrt(var);
  loss.points = 100.0 * mean;
  loss.low = 100.0 * (mean - half);
  loss.high = 100.0 * (mean + half);
  return loss;
}

}  // namespace vosa::reuse
