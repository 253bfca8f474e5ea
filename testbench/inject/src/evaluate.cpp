// Paired clean/faulty accuracy over a data set (see inject.hpp).
#include "vosa/inject.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <map>
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
                               const engine::InferOptions& options)
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
  const tflite::Tensor& input = engine.model().input();
  const auto start = std::chrono::steady_clock::now();
  parallel_for<engine::Workspace>(n, options.jobs, [&](engine::Workspace& ws, std::size_t i) {
    if (i == n) return;
    const engine::Sample& s = data.samples[options.first + i];
    inputs_[i] = engine::load_input(s, input, options.encoding, options.resize);
    labels_[i] = s.label;
    clean_prediction_[i] = top1(engine, engine.run(inputs_[i], ws));
    clean_correct_[i] = clean_prediction_[i] == s.label;
  });
  clean_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

FaultyEvalResult FaultEvaluator::evaluate(const Injector& injector, int repeats, std::uint64_t seed) const {
  if (repeats < 1) throw InjectError("repeats must be >= 1, got " + std::to_string(repeats));
  const tflite::Model& model = engine_.model();
  injector.check_model(model);
  const std::size_t n = inputs_.size();
  FaultyEvalResult r;
  r.samples = n;
  r.repeats = repeats;
  r.seed = seed;
  r.clean_correct = clean_correct_;
  r.faulty_correct.assign(n, 0.0);
  // One LayerStats slot per array layer, in operator order.
  std::map<std::size_t, std::size_t> slot;
  for (const engine::PreparedOp& p : engine_.ops())
    if (lowering::is_array_layer(p.op->type)) {
      slot[p.index] = r.layers.size();
      LayerStats st;
      st.op = p.index;
      r.layers.push_back(st);
    }
  const auto start = std::chrono::steady_clock::now();
  if (injector.error_free()) {
    // Nothing can err: the faulty runs are the clean run.
    for (std::size_t i = 0; i < n; ++i) r.faulty_correct[i] = clean_correct_[i];
    for (const engine::PreparedOp& p : engine_.ops()) {
      if (!lowering::is_array_layer(p.op->type)) continue;
      LayerStats& st = r.layers[slot.at(p.index)];
      const std::uint64_t runs = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(repeats);
      st.captures = layer_captures(p.geometry, injector.shape()) * runs;
      st.cycles = layer_cycles(p.geometry, injector.shape()) * runs;
    }
  } else {
    struct State {
      engine::Workspace ws;
      std::vector<LayerStats> layers;
    };
    std::mutex merge_mutex;
    parallel_for<State>(n, options_.jobs, [&](State& state, std::size_t i) {
      if (i == n) {  // merge this worker's counts
        std::lock_guard<std::mutex> lock(merge_mutex);
        for (std::size_t l = 0; l < state.layers.size(); ++l) r.layers[l] += state.layers[l];
        return;
      }
      if (state.layers.empty()) state.layers.resize(r.layers.size());
      int correct = 0;
      for (int rep = 0; rep < repeats; ++rep) {
        const engine::AccumulatorObserver observer = [&](const engine::PreparedOp& p, const int8_t* input,
                                                         std::vector<int32_t>& acc) {
          // The data set's sample index: a block of a sharded run draws what the whole run draws.
          Rng rng(derive_seed(seed, options_.first + i, static_cast<std::uint64_t>(rep), p.index));
          state.layers[slot.at(p.index)] += injector.corrupt(model, p, input, acc, rng);
        };
        // Layers that cannot err run the engine's fused clean path.
        engine_.begin(inputs_[i], state.ws);
        for (std::size_t op = 0; op < engine_.ops().size(); ++op) {
          const engine::PreparedOp& p = engine_.ops()[op];
          const bool array = lowering::is_array_layer(p.op->type);
          if (array && injector.plan(p.index).p_max > 0) {
            engine_.run_operator(op, state.ws, observer);
          } else {
            engine_.run_operator(op, state.ws);
            if (array) {
              LayerStats& st = state.layers[slot.at(p.index)];
              st.captures += layer_captures(p.geometry, injector.shape());
              st.cycles += layer_cycles(p.geometry, injector.shape());
            }
          }
        }
        correct += top1(engine_, state.ws.values[static_cast<std::size_t>(model.outputs.at(0))]) == labels_[i];
      }
      r.faulty_correct[i] = static_cast<double>(correct) / repeats;
    });
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double clean = 0, faulty = 0;
  for (std::size_t i = 0; i < n; ++i) {
    clean += r.clean_correct[i];
    faulty += r.faulty_correct[i];
  }
  r.clean_top1 = clean / static_cast<double>(n);
  r.faulty_top1 = faulty / static_cast<double>(n);
  r.loss = r.clean_top1 - r.faulty_top1;
  // Paired: the per-input differences' spread, normal interval over inputs.
  double ss = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = r.clean_correct[i] - r.faulty_correct[i] - r.loss;
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
    layers.push_back({{"op", l.op},
                      {"voltages", voltages},
                      {"delay_source", plan.island.empty() ? "" : plan.island.front()->point().delay_source},
                      {"razor_bits", mask_bits(plan.razor.mask)},
                      {"razor_policy", to_string(plan.razor.policy)},
                      {"captures", l.captures},
                      {"hits", l.hits},
                      {"razor_detected", l.razor_detected},
                      {"razor_error_cycles", l.razor_error_cycles},
                      {"corrupted_outputs", l.corrupted_outputs},
                      {"cycles", l.cycles}});
  }
  j["razor_stall_fraction"] = cycles > 0 ? static_cast<double>(stalls) / cycles : 0.0;
  j["layers"] = std::move(layers);
  j["per_sample"] = {{"clean_correct", r.clean_correct}, {"faulty_correct", r.faulty_correct}};
  j["seconds"] = r.seconds;
  return j;
}

}  // namespace vosa::inject
