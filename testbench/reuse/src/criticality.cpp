#include "vosa/reuse_criticality.hpp"

#include "delta_layer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>

namespace vosa::reuse {

BudgetMetric parse_budget_metric(const std::string& name) {
  if (name == "top1") return BudgetMetric::kTop1;
  if (name == "agreement") return BudgetMetric::kAgreement;
  throw std::runtime_error("--budget-on '" + name + "': expected top1 or agreement");
}

const char* to_string(BudgetMetric metric) { return metric == BudgetMetric::kTop1 ? "top1" : "agreement"; }

namespace {

struct ArrayLayer {
  const engine::PreparedOp* op;
  detail::DeltaLayer delta;
  size_t first_channel;  // index of its input channel 0 in WidthChoice::channels
};

// The layer's inputs of channel `channel` that quantizing to q moves, with the move.
struct InputMove {
  int b, iy, ix, ic;
  int32_t delta;
};
std::vector<InputMove> channel_moves(const ArrayLayer& layer, const int8_t* input, int channel, int q) {
  const int32_t zero_point = -layer.op->input_offset;
  std::vector<InputMove> moves;
  detail::for_each_input(layer.delta.geometry(), [&](size_t i, int b, int iy, int ix, int ic) {
    if (ic != channel) return;
    const int32_t d = static_cast<int32_t>(quantize_activation(input[i], zero_point, q)) - input[i];
    if (d != 0) moves.push_back({b, iy, ix, ic, d});
  });
  return moves;
}

double l1_distance(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  double sum = 0;
  for (size_t k = 0; k < a.size(); ++k) sum += std::abs(static_cast<double>(a[k]) - static_cast<double>(b[k]));
  return sum;
}

// Step a (ratio gain / cost) before step b? A step that adds no sensitivity comes first.
bool better_step(const WidthStep& a, const WidthStep& b) {
  if (a.cost <= 0 || b.cost <= 0) return a.cost <= 0 && (b.cost > 0 || a.gain > b.gain);
  return a.gain / a.cost > b.gain / b.cost;
}

}  // namespace

ChannelWidths widths_after_steps(const engine::Engine& engine, const std::vector<ChannelCriticality>& channels,
                                 const std::vector<WidthStep>& order, size_t steps) {
  ChannelWidths widths;
  for (const engine::PreparedOp& p : engine.ops())
    if (lowering::is_array_layer(p.op->type)) widths[p.index].assign(static_cast<size_t>(p.geometry.in_c), 8);
  for (size_t k = 0; k < std::min(steps, order.size()); ++k) {
    const ChannelCriticality& c = channels.at(order[k].channel);
    widths.at(c.op).at(static_cast<size_t>(c.channel)) = order[k].to_q;
  }
  return widths;
}

WidthChoice choose_channel_widths(const engine::Engine& engine, const FeatureStream& calibration,
                                  const CriticalityOptions& options) {
  if (!(options.budget >= 0))
    throw std::runtime_error("--budget " + std::to_string(options.budget) +
                             ": the accuracy budget is a loss in percentage points, >= 0");
  if (options.min_q < 1 || options.min_q > 8)
    throw std::runtime_error("--min-q " + std::to_string(options.min_q) +
                             ": the narrowest width must be in [1, 8] bits (the int8 operand width)");
  if (options.sensitivity_windows == 0)
    throw std::runtime_error("--sensitivity-windows 0: the sensitivity needs at least one calibration window");
  if (options.max_evaluations < 1)
    throw std::runtime_error("--max-evaluations " + std::to_string(options.max_evaluations) +
                             ": the budget walk needs at least one calibration run");
  if (engine.arithmetic() == engine::Arithmetic::kArmNN)
    throw std::runtime_error("reuse needs integer accumulators: --arithmetic tflite or tflite-reference, not armnn");
  const auto start = std::chrono::steady_clock::now();
  StreamOptions stream_options;
  stream_options.stride = options.stride;
  stream_options.count_cycles = false;
  const std::vector<Window> windows = selected_windows(calibration, stream_options);
  if (windows.size() < 2)
    throw std::runtime_error("--calibration-clips: the calibration part holds " + std::to_string(windows.size()) +
                             " window(s); the analysis needs consecutive windows");

  WidthChoice choice;
  choice.calibration_windows = windows.size();
  const tflite::Model& model = engine.model();
  std::vector<ArrayLayer> layers;
  std::vector<int> slot(engine.ops().size(), -1);
  for (const engine::PreparedOp& p : engine.ops()) {
    if (!lowering::is_array_layer(p.op->type)) continue;
    slot[p.index] = static_cast<int>(layers.size());
    layers.push_back({&p, detail::DeltaLayer(model, p), choice.channels.size()});
    for (int c = 0; c < p.geometry.in_c; ++c) choice.channels.push_back({p.index, c, {}, {}});
  }
  const size_t last_op = layers.back().op->index;  // its accumulators are the logits

  // 1. Gain: MACs of each channel's inputs that change between consecutive windows, by width.
  {
    std::vector<std::vector<int8_t>> previous(layers.size());
    engine::Workspace ws;
    for (const Window& w : windows)
      engine.run(window_input(calibration, w), ws,
                 [&](const engine::PreparedOp& op, const int8_t* input, std::vector<int32_t>&) {
                   const ArrayLayer& layer = layers[static_cast<size_t>(slot[op.index])];
                   std::vector<int8_t>& prev = previous[static_cast<size_t>(slot[op.index])];
                   const std::vector<int32_t>& fan_out = layer.delta.fan_out();
                   const int32_t zero_point = -op.input_offset;
                   const size_t in_c = static_cast<size_t>(op.geometry.in_c);
                   if (!prev.empty())
                     for (size_t i = 0; i < fan_out.size(); ++i) {
                       if (input[i] == prev[i]) continue;
                       ChannelCriticality& c = choice.channels[layer.first_channel + i % in_c];
                       for (int q = options.min_q; q <= 8; ++q)
                         if (quantize_activation(input[i], zero_point, q) != quantize_activation(prev[i], zero_point, q))
                           c.macs_changed[static_cast<size_t>(q)] += fan_out[i];
                     }
                   prev.assign(input, input + fan_out.size());
                 });
  }

  // 2. Sensitivity: one channel quantized at a time, the rest of the network exact.
  const size_t sensitivity_count = std::min(options.sensitivity_windows, windows.size());
  choice.sensitivity_windows = sensitivity_count;
  for (size_t s = 0; s < sensitivity_count; ++s) {
    const Window& w = windows[s * windows.size() / sensitivity_count];
    engine::Workspace base;
    engine.begin(window_input(calibration, w), base);
    std::vector<engine::Workspace> before(layers.size());
    std::vector<std::vector<int8_t>> inputs(layers.size());
    std::vector<int32_t> base_logits;
    for (size_t j = 0; j < engine.ops().size(); ++j) {
      if (slot[j] >= 0) before[static_cast<size_t>(slot[j])] = base;
      engine.run_operator(j, base, [&](const engine::PreparedOp& op, const int8_t* input, std::vector<int32_t>& acc) {
        inputs[static_cast<size_t>(slot[op.index])].assign(input, input + layers[static_cast<size_t>(slot[op.index])]
                                                                               .delta.fan_out()
                                                                               .size());
        if (op.index == last_op) base_logits = acc;
      });
    }
    for (size_t l = 0; l < layers.size(); ++l) {
      const ArrayLayer& layer = layers[l];
      const size_t op_index = layer.op->index;
      const int out_tensor = layer.op->op->outputs[0];
      for (int c = 0; c < layer.op->geometry.in_c; ++c)
        for (int q = options.min_q; q < 8; ++q) {
          const std::vector<InputMove> moves = channel_moves(layer, inputs[l].data(), c, q);
          if (moves.empty()) continue;  // already on the q grid: nothing changes
          engine::Workspace ws = before[l];
          std::vector<int32_t> logits;
          engine.run_operator(op_index, ws, [&](const engine::PreparedOp& op, const int8_t*, std::vector<int32_t>& acc) {
            for (const InputMove& m : moves) layer.delta.add(m.b, m.iy, m.ix, m.ic, m.delta, acc.data());
            if (op.index == last_op) logits = acc;
          });
          if (op_index != last_op) {
            // Same requantized output: the rest of the network is unchanged.
            if (ws.values[static_cast<size_t>(out_tensor)] == base.values[static_cast<size_t>(out_tensor)]) continue;
            for (size_t j = op_index + 1; j < engine.ops().size(); ++j)
              engine.run_operator(j, ws, [&](const engine::PreparedOp& op, const int8_t*, std::vector<int32_t>& acc) {
                if (op.index == last_op) logits = acc;
              });
          }
          choice.channels[layer.first_channel + static_cast<size_t>(c)].sensitivity[static_cast<size_t>(q)] +=
              l1_distance(logits, base_logits);
        }
    }
  }
  for (ChannelCriticality& c : choice.channels)
    for (double& v : c.sensitivity) v /= static_cast<double>(sensitivity_count);

  // 3. Greedy order of narrowing steps.
  std::vector<int> current(choice.channels.size(), 8);
  auto next_step = [&](size_t k) -> std::optional<WidthStep> {
    const ChannelCriticality& c = choice.channels[k];
    const int from = current[k];
    for (int to = from - 1; to >= options.min_q; --to)  // the next width that skips more MACs
      if (c.macs_changed[static_cast<size_t>(to)] < c.macs_changed[static_cast<size_t>(from)])
        return WidthStep{k, from, to,
                         static_cast<double>(c.macs_changed[static_cast<size_t>(from)] -
                                             c.macs_changed[static_cast<size_t>(to)]),
                         std::max(0.0, c.sensitivity[static_cast<size_t>(to)] -
                                           c.sensitivity[static_cast<size_t>(from)])};
    return std::nullopt;
  };
  std::vector<std::optional<WidthStep>> offers(choice.channels.size());
  for (size_t k = 0; k < offers.size(); ++k) offers[k] = next_step(k);
  for (;;) {
    std::optional<size_t> best;
    for (size_t k = 0; k < offers.size(); ++k)
      if (offers[k] && (!best || better_step(*offers[k], *offers[*best]))) best = k;
    if (!best) break;
    choice.steps.push_back(*offers[*best]);
    current[*best] = offers[*best]->to_q;
    offers[*best] = next_step(*best);
  }

  // 4. Walk the order under the budget, measuring on every calibration window:
  // try the next run of steps; if the loss stays within the budget take it
  // and double the run, else halve it; a single step that breaks the budget
  // is rejected and its channel keeps its width (its later steps are dropped).
  const std::vector<int> baseline = baseline_predictions(engine, calibration, windows);
  auto loss_of = [&](const StreamResult& r) {
    const double n = static_cast<double>(r.windows);
    return options.metric == BudgetMetric::kTop1
               ? 100.0 * (static_cast<double>(r.baseline_top1) - static_cast<double>(r.reuse_top1)) / n
               : 100.0 * static_cast<double>(r.windows - r.agree) / n;
  };
  const double slack = 1e-9;  // far below one window: budget 0 means no window lost
  std::vector<WidthStep> accepted;
  std::vector<bool> frozen(choice.channels.size(), false);
  std::optional<StreamResult> chosen;
  size_t pos = 0, run = 1;
  while (pos < choice.steps.size() && choice.evaluations < options.max_evaluations) {
    std::vector<WidthStep> trial = accepted;
    size_t end = pos, taken = 0;
    for (; end < choice.steps.size() && taken < run; ++end)
      if (!frozen[choice.steps[end].channel]) {
        trial.push_back(choice.steps[end]);
        ++taken;
      }
    if (taken == 0) break;
    stream_options.channel_q = widths_after_steps(engine, choice.channels, trial, trial.size());
    ++choice.evaluations;
    StreamResult r = evaluate_stream(engine, calibration, stream_options, baseline);
    if (loss_of(r) <= options.budget + slack) {
      accepted = std::move(trial);
      chosen = std::move(r);
      pos = end;
      run *= 2;
    } else if (taken > 1) {
      run = std::max<size_t>(1, taken / 2);
    } else {
      frozen[choice.steps[end - 1].channel] = true;
      pos = end;
    }
  }
  if (!chosen) {  // nothing taken: full width, exact
    stream_options.channel_q = widths_after_steps(engine, choice.channels, accepted, 0);
    ++choice.evaluations;
    chosen = evaluate_stream(engine, calibration, stream_options, baseline);
  }
  choice.steps_taken = accepted.size();
  choice.widths = widths_after_steps(engine, choice.channels, accepted, accepted.size());
  choice.baseline_top1 = chosen->baseline_top1;
  choice.reuse_top1 = chosen->reuse_top1;
  choice.agree = chosen->agree;
  choice.loss_points = loss_of(*chosen);
  choice.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return choice;
}

nlohmann::json to_json(const WidthChoice& choice, const CriticalityOptions& options) {
  nlohmann::json j;
  j["analysis"] = "Mquans-style criticality per input channel (docs/reuse.md)";
  j["options"] = {{"stride", options.stride},
                  {"budget_points", options.budget},
                  {"budget_on", to_string(options.metric)},
                  {"min_q", options.min_q},
                  {"sensitivity_windows", options.sensitivity_windows},
                  {"max_evaluations", options.max_evaluations}};
  j["calibration"] = {{"windows", choice.calibration_windows},
                      {"sensitivity_windows", choice.sensitivity_windows},
                      {"baseline_top1", choice.baseline_top1},
                      {"reuse_top1", choice.reuse_top1},
                      {"agree", choice.agree},
                      {"loss_points", choice.loss_points},
                      {"steps_taken", choice.steps_taken},
                      {"steps_total", choice.steps.size()},
                      {"evaluations", choice.evaluations},
                      {"seconds", choice.seconds}};
  nlohmann::json widths = nlohmann::json::object();
  for (const auto& [op, w] : choice.widths) widths[std::to_string(op)] = w;
  j["widths"] = widths;
  nlohmann::json channels = nlohmann::json::array();
  for (const ChannelCriticality& c : choice.channels)
    channels.push_back({{"op", c.op},
                        {"channel", c.channel},
                        {"sensitivity_by_q", c.sensitivity},
                        {"macs_changed_by_q", c.macs_changed}});
  j["channels"] = channels;
  return j;
}

}  // namespace vosa::reuse
