// Error-injecting inference throughput (Google Benchmark): MobileNetV2
// images per second on the 16x16 explore array with errors at three rates,
// in every array layer and in one late layer only (what an explore
// sensitivity point looks like). `make bench-inject`; docs/PERFORMANCE.md.
//
// The error model is synthetic (vosa/synthetic_errmodel.hpp), so the benchmark
// needs no flow run: one point per rate with the operand-class structure of
// the sky130hd uniform-operand model, errors in the top 8 accumulator bits. Rates per PE-cycle: moderate 3e-4
// (sky130hd ss -40 C, about 1.70 V), heavy 3e-2 (about 1.60 V).
//   vosa_bench_inject MODEL.tflite DATA_DIR CONFIG.json [N_IMAGES] [google benchmark flags]
#include "vosa/inject.hpp"
#include "vosa/synthetic_errmodel.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iterator>
#include <iostream>
#include <memory>

using namespace vosa;
using namespace vosa::inject;

namespace {

struct Setup {
  std::shared_ptr<tflite::Model> model;
  std::unique_ptr<engine::Engine> engine;
  engine::Dataset data;
  ArrayShape shape;
  std::unique_ptr<FaultEvaluator> evaluator;
  std::size_t late_op = 0;
};
Setup* g_setup = nullptr;

constexpr double kRates[] = {0.0, 3e-4, 3e-2};
const char* kRateNames[] = {"none", "moderate", "heavy"};

ErrorModel bench_model(int acc_bits) {
  return synthetic_class_model(acc_bits, std::vector<double>(std::begin(kRates), std::end(kRates)));
}

void run(benchmark::State& state, bool one_layer) {
  Setup& s = *g_setup;
  const int rate = static_cast<int>(state.range(0));
  Settings settings;
  settings.errmodel = "synthetic";
  const double clean_v = 1.0, error_v = 1.0 + rate;
  settings.voltages.assign(static_cast<std::size_t>(s.shape.islands), one_layer ? clean_v : error_v);
  if (one_layer)
    settings.layers.push_back({s.late_op, std::vector<double>(static_cast<std::size_t>(s.shape.islands), error_v), std::nullopt, ""});
  Injector injector(bench_model(s.shape.acc_bits), s.shape, settings);
  const InjectionMode mode = state.range(1) ? InjectionMode::kSampled : InjectionMode::kExact;
  injector.set_mode(mode);
  std::uint64_t hits = 0;
  for (auto _ : state) {
    const FaultyEvalResult r = s.evaluator->evaluate(injector, 1, 1);
    hits = r.hits();
    benchmark::DoNotOptimize(r.faulty_top1);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * s.evaluator->samples()));
  state.counters["hits_per_image"] = double(hits) / double(s.evaluator->samples());
  state.SetLabel(std::string(kRateNames[rate]) + " " + to_string(mode));
}

void all_layers(benchmark::State& state) { run(state, false); }
void one_late_layer(benchmark::State& state) { run(state, true); }

}  // namespace

// Wall time over the threads (2 by default, VOSA_BENCH_JOBS) and the
// process's CPU time (UseRealTime + MeasureProcessCPUTime): both are printed.
// Arguments: rate (0 none, 1 moderate, 2 heavy), mode (0 exact, 1 sampled).
BENCHMARK(all_layers)->ArgsProduct({{0, 1, 2}, {0, 1}})->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(one_late_layer)->ArgsProduct({{1, 2}, {0, 1}})->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (argc < 4) {
    std::cerr << "usage: vosa_bench_inject MODEL.tflite DATA_DIR CONFIG.json [N_IMAGES] [benchmark flags]\n";
    return 2;
  }
  try {
    Setup s;
    s.model = std::make_shared<tflite::Model>(tflite::load_tflite(argv[1]));
    s.engine = std::make_unique<engine::Engine>(s.model);
    s.data = engine::load_dataset(argv[2]);
    s.shape = ArrayShape::from_config(load_config(argv[3]), argv[3]);
    engine::InferOptions o;
    o.limit = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 16;
    const char* jobs = std::getenv("VOSA_BENCH_JOBS");
    o.jobs = jobs ? std::atoi(jobs) : 2;
    o.encoding = engine::resolve_input_encoding("auto", s.model->input(), s.data);
    s.evaluator = std::make_unique<FaultEvaluator>(*s.engine, s.data, o);
    // The array layer before the classifier: what a sensitivity point of a late layer runs.
    std::vector<std::size_t> array_ops;
    for (const auto& p : s.engine->ops())
      if (lowering::is_array_layer(p.op->type)) array_ops.push_back(p.index);
    if (array_ops.size() < 2) throw std::runtime_error("the model needs two array layers");
    s.late_op = array_ops[array_ops.size() - 2];
    std::cerr << "bench-inject: " << s.evaluator->samples() << " images, " << o.jobs << " threads, late layer op "
              << s.late_op << ", " << s.evaluator->checkpoints().size() << " clean checkpoints\n";
    g_setup = &s;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
  } catch (const std::exception& e) {
    std::cerr << "vosa_bench_inject: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
