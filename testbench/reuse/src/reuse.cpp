#include "vosa/reuse.hpp"

#include "vosa/infer.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace vosa::reuse {
namespace {

// Calls visit(output_row, tap) for every output position that reads input
// pixel (b, iy, ix) through kernel tap (ky, kx); padding taps read nothing.
template <typename Visit>
void for_each_reader(const lowering::ConvGeometry& g, int b, int iy, int ix, Visit&& visit) {
  for (int ky = 0; ky < g.kernel_h; ++ky) {
    const int ty = iy + g.pad_top - ky * g.dilation_h;
    if (ty < 0 || ty % g.stride_h != 0 || ty / g.stride_h >= g.out_h) continue;
    for (int kx = 0; kx < g.kernel_w; ++kx) {
      const int tx = ix + g.pad_left - kx * g.dilation_w;
      if (tx < 0 || tx % g.stride_w != 0 || tx / g.stride_w >= g.out_w) continue;
      visit((b * g.out_h + ty / g.stride_h) * g.out_w + tx / g.stride_w, ky * g.kernel_w + kx);
    }
  }
}

// Calls visit(index, b, iy, ix, ic) for every input activation of the layer.
template <typename Visit>
void for_each_input(const lowering::ConvGeometry& g, Visit&& visit) {
  size_t i = 0;
  for (int b = 0; b < g.batch; ++b)
    for (int iy = 0; iy < g.in_h; ++iy)
      for (int ix = 0; ix < g.in_w; ++ix)
        for (int ic = 0; ic < g.in_c; ++ic) visit(i++, b, iy, ix, ic);
}

}  // namespace

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

ReuseRunner::ReuseRunner(const engine::Engine& engine, int q, bool verify, const std::map<size_t, int>& layer_q)
    : engine_(engine), verify_(verify) {
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
  if (engine.arithmetic() == engine::Arithmetic::kArmNN)
    throw std::runtime_error("reuse needs integer accumulators: --arithmetic tflite or tflite-reference, not armnn");
  const tflite::Model& model = engine.model();
  for (const engine::PreparedOp& p : engine.ops()) {
    if (!lowering::is_array_layer(p.op->type)) {
      slot_.push_back(-1);
      continue;
    }
    slot_.push_back(static_cast<int>(states_.size()));
    const lowering::ConvGeometry& g = p.geometry;
    LayerState s;
    s.q = layer_q.count(p.index) ? layer_q.at(p.index) : q;
    const int8_t* w = reinterpret_cast<const int8_t*>(model.tensor(p.op->inputs[1]).data.data());
    if (g.depthwise) {
      s.weights_io.assign(w, w + static_cast<size_t>(g.taps()) * g.out_c);
    } else {
      // TFLite's OHWI (FC: [out][in]) to [tap][in][out], so one changed input
      // updates a contiguous row of output channels.
      s.weights_io.resize(static_cast<size_t>(g.taps()) * g.in_c * g.out_c);
      for (int oc = 0; oc < g.out_c; ++oc)
        for (int t = 0; t < g.taps(); ++t)
          for (int ic = 0; ic < g.in_c; ++ic)
            s.weights_io[(static_cast<size_t>(t) * g.in_c + ic) * g.out_c + oc] =
                w[(static_cast<size_t>(oc) * g.taps() + t) * g.in_c + ic];
    }
    const int per_tap = g.depthwise ? g.depth_multiplier : g.out_c;
    LayerReuse stats;
    stats.op_index = p.index;
    stats.op_type = tflite::to_string(p.op->type);
    s.fan_out.assign(static_cast<size_t>(g.batch) * g.in_h * g.in_w * g.in_c, 0);
    for_each_input(g, [&](size_t i, int b, int iy, int ix, int) {
      for_each_reader(g, b, iy, ix, [&](int, int) { s.fan_out[i] += per_tap; });
    });
    states_.push_back(std::move(s));
    stats_.push_back(stats);
  }
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
  const int32_t zero_point = -layer.input_offset;
  const size_t n = s.fan_out.size();
  std::vector<int8_t> quantized(n);
  for (size_t i = 0; i < n; ++i) quantized[i] = quantize_activation(input[i], zero_point, s.q);

  int64_t layer_macs = 0;
  for (int32_t f : s.fan_out) layer_macs += f;
  stats.macs += layer_macs;
  stats.inputs += static_cast<int64_t>(n);
  std::vector<int32_t> result;
  if (!s.valid) {
    // Nothing to reuse: the full computation on the quantized input.
    result = engine::reference_accumulators(engine_.model(), layer, quantized.data());
    stats.macs_done += layer_macs;
    stats.inputs_changed += static_cast<int64_t>(n);
  } else {
    result = s.prev_acc;
    for_each_input(g, [&](size_t i, int b, int iy, int ix, int ic) {
      const int32_t delta = static_cast<int32_t>(quantized[i]) - s.prev_input[i];
      if (delta == 0) {
        if (quantized[i] == zero_point) stats.macs_skipped_zero += s.fan_out[i];
        return;
      }
      ++stats.inputs_changed;
      stats.macs_done += s.fan_out[i];
      for_each_reader(g, b, iy, ix, [&](int row, int tap) {
        int32_t* out = result.data() + static_cast<size_t>(row) * g.out_c;
        if (g.depthwise) {
          const int8_t* w = s.weights_io.data() + static_cast<size_t>(tap) * g.out_c;
          for (int m = 0; m < g.depth_multiplier; ++m) {
            const int oc = ic * g.depth_multiplier + m;
            out[oc] += delta * w[oc];
          }
        } else {
          const int8_t* w = s.weights_io.data() + (static_cast<size_t>(tap) * g.in_c + ic) * g.out_c;
          for (int oc = 0; oc < g.out_c; ++oc) out[oc] += delta * w[oc];
        }
      });
    });
  }
  if (verify_) {
    const std::string where = "operator " + std::to_string(layer.index) + " (" + stats.op_type + ")";
    if (result != engine::reference_accumulators(engine_.model(), layer, quantized.data()))
      throw std::logic_error(where + ": delta accumulators differ from recomputation on the quantized input");
    if (s.q == 8 && result != acc)
      throw std::logic_error(where + ": q = 8 accumulators differ from the engine's");
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

int64_t StreamResult::macs() const {
  int64_t total = 0;
  for (const LayerReuse& l : layers) total += l.macs;
  return total;
}

int64_t StreamResult::macs_done() const {
  int64_t total = 0;
  for (const LayerReuse& l : layers) total += l.macs_done;
  return total;
}

int64_t StreamResult::macs_skipped_zero() const {
  int64_t total = 0;
  for (const LayerReuse& l : layers) total += l.macs_skipped_zero;
  return total;
}

StreamResult evaluate_stream(const engine::Engine& engine, const FeatureStream& stream, const StreamOptions& options) {
  check_quantization_bits(options.q);
  std::vector<Window> windows = stream_windows(stream, options.stride);
  if (options.max_windows && windows.size() > options.max_windows) windows.resize(options.max_windows);
  const auto start = std::chrono::steady_clock::now();
  const bool is_signed = engine.model().output().type == tflite::TensorType::kInt8;
  ReuseRunner runner(engine, options.q, options.verify, options.layer_q);
  engine::Workspace ws;
  StreamResult r;
  for (const Window& w : windows) {
    const std::vector<uint8_t> input = window_input(stream, w);
    const int baseline = engine::ranked_classes(engine.run(input, ws), is_signed).front();
    const int reused = engine::ranked_classes(runner.run(input, ws), is_signed).front();
    ++r.windows;
    r.baseline_top1 += baseline == w.label;
    r.reuse_top1 += reused == w.label;
    r.agree += baseline == reused;
  }
  r.layers = runner.layers();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace vosa::reuse
