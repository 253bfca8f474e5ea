// Error-injecting inference throughput (Google Benchmark): MobileNetV2
// images per second on the 16x16 explore array with errors at three rates,
// in every array layer and in one late layer only (what an explore
// sensitivity point looks like). `make bench-inject`; docs/PERFORMANCE.md.
//
// The error model is synthetic and built here, so the benchmark needs no flow
// run: one point per rate with the operand-class structure of the sky130hd
// uniform-operand model (class 0 never errs, the larger product steps more),
// errors in the top 8 accumulator bits. Rates per PE-cycle: moderate 3e-4
// (sky130hd ss -40 C, about 1.70 V), heavy 3e-2 (about 1.60 V).
//   vosa_bench_inject MODEL.tflite DATA_DIR CONFIG.json [N_IMAGES] [google benchmark flags]
#include "vosa/inject.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
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

nlohmann::json point(double voltage, double p_any, int acc_bits) {
  const std::uint64_t samples = 1000000;
  // Relative class rates of the sky130hd uniform-operand model at 1.60 V.
  const double class_rate[kOperandClasses] = {0.0, 0.6, 0.65, 0.95, 1.0};
  const double class_share[kOperandClasses] = {0.01, 0.04, 0.09, 0.22, 0.64};
  nlohmann::json bits = nlohmann::json::array(), by_class = nlohmann::json::array();
  std::uint64_t errors = 0;
  for (int c = 0; c < kOperandClasses; ++c) {
    const auto n = static_cast<std::uint64_t>(class_share[c] * samples);
    const auto e = static_cast<std::uint64_t>(p_any * class_rate[c] * static_cast<double>(n));
    errors += e;
    nlohmann::json cb = nlohmann::json::array();
    for (int b = acc_bits - 8; b < acc_bits; ++b)
      cb.push_back({{"bit", b}, {"p_error", n ? double(e) / 4 / double(n) : 0.0}, {"errors", e / 4}, {"ci95", {0, 1}}});
    by_class.push_back({{"class", c}, {"samples", n}, {"cycles_with_error", e}, {"bits", cb},
                        {"error_patterns", nlohmann::json::array()}});
  }
  for (int b = acc_bits - 8; b < acc_bits; ++b)
    bits.push_back({{"bit", b}, {"p_error", double(errors) / 4 / samples}, {"errors", errors / 4}, {"ci95", {0, 1}}});
  nlohmann::json p = {{"voltage", voltage}, {"period_ns", 10.0}, {"delay_source", "synthetic"},
                      {"samples", samples}, {"cycles_with_error", errors}, {"bits", bits},
                      {"error_values", nlohmann::json::array()}, {"error_patterns", nlohmann::json::array()}};
  if (p_any > 0) p["classes"] = {{"scheme", kOperandClassScheme}, {"by_class", by_class}};
  return p;
}

ErrorModel bench_model(int acc_bits) {
  nlohmann::json j = {{"schema_version", 1}, {"pdk", "synthetic"}, {"design", {{"acc_bits", acc_bits}, {"signed", true}}},
                      {"netlist_hash", "0"}, {"operand_source", "synthetic"}};
  j["points"] = nlohmann::json::array();
  for (int r = 0; r < 3; ++r) j["points"].push_back(point(1.0 + r, kRates[r], acc_bits));
  return ErrorModel::from_json(j, "synthetic");
}

void run(benchmark::State& state, bool one_layer) {
  Setup& s = *g_setup;
  const int rate = static_cast<int>(state.range(0));
  Settings settings;
  settings.errmodel = "synthetic";
  const double clean_v = 1.0, error_v = 1.0 + rate;
  settings.voltages.assign(static_cast<std::size_t>(s.shape.islands), one_layer ? clean_v : error_v);
  if (one_layer)
    settings.layers.push_back({s.late_op, std::vector<double>(static_cast<std::size_t>(s.shape.islands), error_v), std::nullopt});
  const Injector injector(bench_model(s.shape.acc_bits), s.shape, settings);
  std::uint64_t hits = 0;
  for (auto _ : state) {
    const FaultyEvalResult r = s.evaluator->evaluate(injector, 1, 1);
    hits = r.hits();
    benchmark::DoNotOptimize(r.faulty_top1);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * s.evaluator->samples()));
  state.counters["hits_per_image"] = double(hits) / double(s.evaluator->samples());
  state.SetLabel(kRateNames[rate]);
}

void all_layers(benchmark::State& state) { run(state, false); }
void one_late_layer(benchmark::State& state) { run(state, true); }

}  // namespace

// Wall time over the threads (2 by default, VOSA_BENCH_JOBS) and the
// process's CPU time (UseRealTime + MeasureProcessCPUTime): both are printed.
BENCHMARK(all_layers)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(one_late_layer)->DenseRange(1, 2)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();

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
