// Paired clean/faulty accuracy over a data set (see inject.hpp).
#include "vosa/inject.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

namespace vosa::inject {
namespace {

// Runs body(worker_state, i) for i in [0, n) on `jobs` threads; the first
// exception stops the others and is rethrown.
template <class State, class Body>
void parallel_for(std::size_t n, int jobs, Body body) {
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&]() {
    State state;
    try {
      for (std::size_t i = next++; i < n; i = next++) body(state, i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = n;
    }
    body(state, n);  // i == n: the worker is done (lets it publish its state)
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, jobs); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

int top1(const engine::Engine& engine, const std::vector<uint8_t>& output) {
  const bool out_signed = engine.model().output().type == tflite::TensorType::kInt8;
  return engine::ranked_classes(output, out_signed).front();
}

}  // namespace

std::uint64_t FaultyEvalResult::captures() const {
  std::uint64_t n = 0;
  for (const auto& l : layers) n += l.captures;
  return n;
}
std::uint64_t FaultyEvalResult::hits() const {
  std::uint64_t n = 0;
  for (const auto& l : layers) n += l.hits;
  return n;
}
std::uint64_t FaultyEvalResult::razor_error_cycles() const {
  std::uint64_t n = 0;
  for (const auto& l : layers) n += l.razor_error_cycles;
  return n;
}
std::uint64_t FaultyEvalResult::cycles() const {
  std::uint64_t n = 0;
  for (const auto& l : layers) n += l.cycles;
  return n;
}

FaultEvaluator::FaultEvaluator(const engine::Engine& engine, const engine::Dataset& data,
                               const engine::InferOptions& options, std::size_t checkpoint_bytes)
    : engine_(engine), options_(options) {
  if (engine.arithmetic() == engine::Arithmetic::kArmNN)
    throw InjectError("error injection needs the engine's TFLite integer arithmetic (the array's accumulators)");
  if (data.samples.empty()) throw InjectError(data.directory + ": no samples");
  if (options.first >= data.samples.size())
    throw InjectError(data.directory + ": first sample " + std::to_string(options.first) + " of " +
                      std::to_string(data.samples.size()));
  const std::size_t available = data.samples.size() - options.first;
  const std::size_t n = options.limit ? std::min(options.limit, available) : available;
  inputs_.resize(n);
  labels_.resize(n);
  clean_prediction_.assign(n, -1);
  clean_correct_.assign(n, 0);
  choose_checkpoints(checkpoint_bytes);
  saved_.assign(n, {});
  const tflite::Tensor& input = engine.model().input();
  const tflite::Model& model = engine.model();
  const auto start = std::chrono::steady_clock::now();
  parallel_for<engine::Workspace>(n, options.jobs, [&](engine::Workspace& ws, std::size_t i) {
    if (i == n) return;
    const engine::Sample& s = data.samples[options.first + i];
    inputs_[i] = engine::load_input(s, input, options.encoding, options.resize);
    labels_[i] = s.label;
    // Operator by operator (= engine.run), keeping the checkpoints' live tensors.
    engine_.begin(inputs_[i], ws);
    std::size_t c = 0;
    for (std::size_t op = 0; op < engine_.ops().size(); ++op) {
      if (c < checkpoint_ops_.size() && checkpoint_ops_[c] == op) {
        std::vector<uint8_t> bytes;
        for (int t : checkpoint_tensors_[c]) {
          const auto& v = ws.values[static_cast<std::size_t>(t)];
          bytes.insert(bytes.end(), v.begin(), v.end());
        }
        saved_[i].push_back(std::move(bytes));
        ++c;
      }
      engine_.run_operator(op, ws);
    }
    clean_prediction_[i] = top1(engine, ws.values[static_cast<std::size_t>(model.outputs.at(0))]);
    clean_correct_[i] = clean_prediction_[i] == s.label;
  });
  clean_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void FaultEvaluator::choose_checkpoints(std::size_t budget_bytes) {
  const tflite::Model& model = engine_.model();
  const auto& ops = engine_.ops();
  const std::size_t n = inputs_.size();
  // Live tensors before operator b: produced earlier (or the input), read by
  // operator b or later (or a model output).
  std::vector<int> producer(model.tensors.size(), -1), last_use(model.tensors.size(), -1);
  for (std::size_t op = 0; op < ops.size(); ++op) {
    for (int t : ops[op].op->inputs)
      if (t >= 0) last_use[static_cast<std::size_t>(t)] = static_cast<int>(op);
    for (int t : ops[op].op->outputs) producer[static_cast<std::size_t>(t)] = static_cast<int>(op);
  }
  for (int t : model.outputs) last_use[static_cast<std::size_t>(t)] = static_cast<int>(ops.size());
  struct Candidate {
    std::size_t op;
    std::vector<int> tensors;
    double bytes;
  };
  std::vector<Candidate> candidates;
  std::vector<double> macs_before(ops.size() + 1, 0);  // clean array MACs of operators < b
  for (std::size_t b = 0; b < ops.size(); ++b) {
    const lowering::ConvGeometry& g = ops[b].geometry;
    const bool array = lowering::is_array_layer(ops[b].op->type);
    macs_before[b + 1] = macs_before[b] + (array ? double(g.rows()) * g.out_c * (g.depthwise ? g.taps() : g.reduction()) : 0);
    if (!array || b == 0) continue;
    Candidate c{b, {}, 0};
    for (std::size_t t = 0; t < model.tensors.size(); ++t) {
      const bool produced = producer[t] >= 0 ? producer[t] < static_cast<int>(b)
                                             : std::find(model.inputs.begin(), model.inputs.end(), int(t)) != model.inputs.end();
      if (produced && !model.tensors[t].is_constant() && last_use[t] >= static_cast<int>(b)) {
        c.tensors.push_back(static_cast<int>(t));
        c.bytes += double(model.tensors[t].num_elements());
      }
    }
    candidates.push_back(std::move(c));
  }
  // Greedy: the checkpoint that saves the most clean MACs per byte, assuming
  // the first erring layer is any array layer with equal chance.
  std::vector<std::size_t> array_ops;
  for (std::size_t b = 0; b < ops.size(); ++b)
    if (lowering::is_array_layer(ops[b].op->type)) array_ops.push_back(b);
  std::vector<char> chosen(candidates.size(), 0);
  const auto saving = [&](const std::vector<char>& pick) {
    double total = 0;
    for (std::size_t l : array_ops) {
      double best = 0;
      for (std::size_t c = 0; c < candidates.size(); ++c)
        if (pick[c] && candidates[c].op <= l) best = std::max(best, macs_before[candidates[c].op]);
      total += best;
    }
    return total;
  };
  double used = 0;
  for (;;) {
    const double base = saving(chosen);
    int best = -1;
    double best_ratio = 0;
    for (std::size_t c = 0; c < candidates.size(); ++c) {
      if (chosen[c] || used + candidates[c].bytes * double(n) > double(budget_bytes)) continue;
      chosen[c] = 1;
      const double ratio = (saving(chosen) - base) / std::max(1.0, candidates[c].bytes);
      chosen[c] = 0;
      if (ratio > best_ratio) {
        best_ratio = ratio;
        best = static_cast<int>(c);
      }
    }
    if (best < 0) break;
    chosen[static_cast<std::size_t>(best)] = 1;
    used += candidates[static_cast<std::size_t>(best)].bytes * double(n);
  }
  for (std::size_t c = 0; c < candidates.size(); ++c)
    if (chosen[c]) {
      checkpoint_ops_.push_back(candidates[c].op);
      checkpoint_tensors_.push_back(candidates[c].tensors);
    }
}

FaultyEvalResult FaultEvaluator::evaluate(const Injector& injector, int repeats, std::uint64_t seed) const {
  std::vector<std::size_t> all(inputs_.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  return evaluate(injector, repeats, seed, all);
}

FaultyEvalResult FaultEvaluator::evaluate(const Injector& injector, int repeats, std::uint64_t seed,
                                          const std::vector<std::size_t>& subset) const {
  if (repeats < 1) throw InjectError("repeats must be >= 1, got " + std::to_string(repeats));
  const tflite::Model& model = engine_.model();
  injector.check_model(model);
  const std::size_t n = subset.size();
  if (n == 0) throw InjectError("no inputs to evaluate");
  for (std::size_t i : subset)
    if (i >= inputs_.size())
      throw InjectError("input " + std::to_string(i) + " is beyond the " + std::to_string(inputs_.size()) + " loaded");
  FaultyEvalResult r;
  r.samples = n;
  r.repeats = repeats;
  r.seed = seed;
  r.clean_correct.resize(n);
  for (std::size_t s = 0; s < n; ++s) r.clean_correct[s] = clean_correct_[subset[s]];
  r.faulty_correct.assign(n, 0.0);
  // One LayerStats slot per array layer, in operator order.
  const auto& ops = engine_.ops();
  std::vector<std::size_t> slot(ops.size(), 0);
  std::vector<char> can_err(ops.size(), 0);
  for (std::size_t op = 0; op < ops.size(); ++op) {
    const engine::PreparedOp& p = ops[op];
    if (!lowering::is_array_layer(p.op->type)) continue;
    slot[op] = r.layers.size();
    LayerStats st;
    st.op = p.index;
    r.layers.push_back(st);
    can_err[op] = injector.plan(p.index).p_max > 0;
  }
  // next_err[op]: the first operator >= op that can err (ops.size(): none).
  std::vector<std::size_t> next_err(ops.size() + 1, ops.size());
  for (std::size_t op = ops.size(); op-- > 0;) next_err[op] = can_err[op] ? op : next_err[op + 1];
  const auto count_clean_layers = [&](std::vector<LayerStats>& layers, std::size_t from, std::size_t to) {
    for (std::size_t op = from; op < to; ++op)
      if (lowering::is_array_layer(ops[op].op->type)) {
        LayerStats& st = layers[slot[op]];
        st.captures += layer_captures(ops[op].geometry, injector.shape());
        st.cycles += layer_cycles(ops[op].geometry, injector.shape());
      }
  };
  // The last checkpoint in (after, upto], or -1.
  const auto checkpoint_in = [&](std::size_t after_or_at, std::size_t upto, bool inclusive_from) {
    int found = -1;
    for (std::size_t c = 0; c < checkpoint_ops_.size(); ++c) {
      const std::size_t b = checkpoint_ops_[c];
      if ((inclusive_from ? b >= after_or_at : b > after_or_at) && b <= upto) found = static_cast<int>(c);
    }
    return found;
  };
  const auto start = std::chrono::steady_clock::now();
  struct State {
    engine::Workspace ws;
    std::vector<LayerStats> layers;
    std::uint64_t rejoined = 0;
  };
  std::mutex merge_mutex;
  parallel_for<State>(n, options_.jobs, [&](State& state, std::size_t s) {
    if (s == n) {  // merge this worker's counts
      std::lock_guard<std::mutex> lock(merge_mutex);
      for (std::size_t l = 0; l < state.layers.size(); ++l) r.layers[l] += state.layers[l];
      r.rejoined_clean += state.rejoined;
      return;
    }
    const std::size_t i = subset[s];
    if (state.layers.empty()) state.layers.resize(r.layers.size());
    const auto restore = [&](int c) {
      state.ws.values.resize(model.tensors.size());
      const std::vector<uint8_t>& bytes = saved_[i][static_cast<std::size_t>(c)];
      std::size_t at = 0;
      for (int t : checkpoint_tensors_[static_cast<std::size_t>(c)]) {
        auto& v = state.ws.values[static_cast<std::size_t>(t)];
        v.assign(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                 bytes.begin() + static_cast<std::ptrdiff_t>(at + model.tensors[static_cast<std::size_t>(t)].num_elements()));
        at += v.size();
      }
      return checkpoint_ops_[static_cast<std::size_t>(c)];
    };
    // Whether the live tensors equal checkpoint c's clean values (the same layout restore reads).
    const auto matches_checkpoint = [&](int c) {
      const std::vector<uint8_t>& bytes = saved_[i][static_cast<std::size_t>(c)];
      std::size_t at = 0;
      for (int t : checkpoint_tensors_[static_cast<std::size_t>(c)]) {
        const auto& v = state.ws.values[static_cast<std::size_t>(t)];
        const std::size_t size = model.tensors[static_cast<std::size_t>(t)].num_elements();
        if (v.size() != size || !std::equal(v.begin(), v.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at)))
          return false;
        at += size;
      }
      return true;
    };
    int correct = 0;
    std::uint64_t rejoined = 0;
    for (int rep = 0; rep < repeats; ++rep) {
      std::uint64_t changed = 0;  // accumulators changed by this run's layers so far
      const engine::AccumulatorObserver observer = [&](const engine::PreparedOp& p, const int8_t* input,
                                                       std::vector<int32_t>& acc) {
        // The data set's sample index: a block of a sharded run draws what the whole run draws.
        Rng rng(derive_seed(seed, options_.first + i, static_cast<std::uint64_t>(rep), p.index));
        const LayerStats st = injector.corrupt(model, p, input, acc, rng);
        changed += st.corrupted_outputs;
        state.layers[slot[p.index]] += st;
      };
      std::size_t op = 0;
      if (next_err[0] == ops.size()) {  // nothing can err: the clean run
        count_clean_layers(state.layers, 0, ops.size());
        correct += clean_correct_[i];
        continue;
      }
      if (const int c = checkpoint_in(0, next_err[0], true); c >= 0) {
        op = restore(c);
        count_clean_layers(state.layers, 0, op);
      } else {
        engine_.begin(inputs_[i], state.ws);
      }
      int prediction = -1;
      while (op < ops.size()) {
        if (changed != 0) {
          // Exact early agreement: at a checkpoint whose live activations all
          // equal the clean run's, the errors so far left no trace.
          const int c = checkpoint_in(op, op, true);
          if (c >= 0 && matches_checkpoint(c)) {
            changed = 0;
            ++rejoined;
          }
        }
        if (changed == 0) {
          // Still the clean state: skip to where an error can next change it.
          const std::size_t e = next_err[op];
          if (e == ops.size()) {
            count_clean_layers(state.layers, op, ops.size());
            prediction = clean_prediction_[i];
            break;
          }
          if (const int c = checkpoint_in(op, e, false); c >= 0) {
            const std::size_t b = checkpoint_ops_[static_cast<std::size_t>(c)];
            count_clean_layers(state.layers, op, b);
            op = restore(c);
            continue;
          }
        }
        if (can_err[op]) {
          engine_.run_operator(op, state.ws, observer);
        } else {
          engine_.run_operator(op, state.ws);
          count_clean_layers(state.layers, op, op + 1);
        }
        ++op;
      }
      if (prediction < 0) prediction = top1(engine_, state.ws.values[static_cast<std::size_t>(model.outputs.at(0))]);
      correct += prediction == labels_[i];
    }
    r.faulty_correct[s] = static_cast<double>(correct) / repeats;
    state.rejoined += rejoined;
  });
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double clean = 0, faulty = 0;
  for (std::size_t s = 0; s < n; ++s) {
    clean += r.clean_correct[s];
    faulty += r.faulty_correct[s];
  }
  r.clean_top1 = clean / static_cast<double>(n);
  r.faulty_top1 = faulty / static_cast<double>(n);
  r.loss = r.clean_top1 - r.faulty_top1;
  // Paired: the per-input differences' spread, normal interval over inputs.
  double ss = 0;
  for (std::size_t s = 0; s < n; ++s) {
    const double d = r.clean_correct[s] - r.faulty_correct[s] - r.loss;
    ss += d * d;
  }
  r.loss_ci95 = n > 1 ? 1.96 * std::sqrt(ss / static_cast<double>(n - 1) / static_cast<double>(n)) : 0.0;
  return r;
}

FaultyEvalResult evaluate_with_faults(const engine::Engine& engine, const engine::Dataset& data,
                                      const engine::InferOptions& options, const Injector& injector, int repeats,
                                      std::uint64_t seed) {
  return FaultEvaluator(engine, data, options).evaluate(injector, repeats, seed);
}

nlohmann::json to_json(const FaultyEvalResult& r, const Injector& injector) {
  const auto mask_bits = [](std::uint64_t mask) {
    std::vector<int> bits;
    for (int b = 63; b >= 0; --b)
      if ((mask >> b) & 1) bits.push_back(b);
    return bits;
  };
  nlohmann::json j;
  j["samples"] = r.samples;
  j["repeats"] = r.repeats;
  j["seed"] = r.seed;
  j["settings"] = to_json(injector.settings());
  j["period_ns"] = injector.period_ns();
  j["array"] = {{"rows", injector.shape().rows},
                {"cols", injector.shape().cols},
                {"acc_bits", injector.shape().acc_bits},
                {"islands", injector.shape().islands}};
  j["clean_top1"] = r.clean_top1;
  j["faulty_top1"] = r.faulty_top1;
  j["loss"] = r.loss;
  j["loss_ci95"] = r.loss_ci95;
  const double captures = static_cast<double>(r.captures());
  const double cycles = static_cast<double>(r.cycles());
  j["hits_per_million_captures"] = captures > 0 ? 1e6 * static_cast<double>(r.hits()) / captures : 0.0;
  j["razor_error_cycles"] = r.razor_error_cycles();
  j["cycles"] = r.cycles();
  std::uint64_t stalls = 0;
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerStats& l : r.layers) {
    const Injector::LayerPlan& plan = injector.plan(l.op);
    std::vector<double> voltages;
    for (const auto& s : plan.island) voltages.push_back(s->point().voltage);
    const bool stalls_here = plan.razor.policy == RazorPolicy::Correct;
    if (stalls_here) stalls += l.razor_error_cycles;
    nlohmann::json layer = to_json(l);
    layer.update({{"voltages", voltages},
                  {"delay_source", plan.island.empty() ? "" : plan.island.front()->point().delay_source},
                  {"razor_bits", mask_bits(plan.razor.mask)},
                  {"razor_policy", to_string(plan.razor.policy)}});
    layers.push_back(std::move(layer));
  }
  j["razor_stall_fraction"] = cycles > 0 ? static_cast<double>(stalls) / cycles : 0.0;
  j["layers"] = std::move(layers);
  j["per_sample"] = {{"clean_correct", r.clean_correct}, {"faulty_correct", r.faulty_correct}};
  j["seconds"] = r.seconds;
  return j;
}

}  // namespace vosa::inject
