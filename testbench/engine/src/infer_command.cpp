#include "vosa/infer.hpp"

#include "vosa/inject.hpp"
#include "vosa/layer_trace.hpp"
#include "vosa/number_list.hpp"
#include "vosa/output_file.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>
#include <thread>

#include <sys/resource.h>

namespace vosa::engine {

std::vector<int> ranked_classes(const std::vector<uint8_t>& output, bool is_signed) {
  std::vector<int> order(output.size());
  std::iota(order.begin(), order.end(), 0);
  auto value = [&](int i) {
    return is_signed ? static_cast<int>(static_cast<int8_t>(output[static_cast<size_t>(i)]))
                     : static_cast<int>(output[static_cast<size_t>(i)]);
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return value(a) > value(b); });
  return order;
}

InferResult evaluate(const Engine& engine, const Dataset& data, const InferOptions& options) {
  const size_t n = options.limit ? std::min(options.limit, data.samples.size()) : data.samples.size();
  InferResult result;
  result.samples = n;
  result.predictions.assign(n, -1);
  result.outputs.assign(n, {});
  std::vector<char> hit1(n, 0), hit5(n, 0);
  const tflite::Tensor& input = engine.model().input();
  const bool out_signed = engine.model().output().type == tflite::TensorType::kInt8;
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&]() {
    Workspace ws;
    try {
      for (size_t i = next++; i < n; i = next++) {
        const Sample& s = data.samples[i];
        const std::vector<uint8_t> x = load_input(s, input, options.encoding, options.resize);
        const std::vector<uint8_t>& y = engine.run(x, ws);
        const std::vector<int> ranks = ranked_classes(y, out_signed);
        result.predictions[i] = ranks[0];
        for (uint8_t v : y) result.outputs[i].push_back(out_signed ? static_cast<int8_t>(v) : v);
        hit1[i] = ranks[0] == s.label;
        for (size_t r = 0; r < std::min<size_t>(5, ranks.size()); ++r) hit5[i] |= ranks[r] == s.label;
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = n;
    }
  };
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, options.jobs); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (error) std::rethrow_exception(error);
  result.top1 = static_cast<size_t>(std::count(hit1.begin(), hit1.end(), 1));
  result.top5 = static_cast<size_t>(std::count(hit5.begin(), hit5.end(), 1));
  result.macs = engine.macs_per_inference() * static_cast<int64_t>(n);
  return result;
}

namespace {

// Operand traces of every array layer for one sample, --trace-sample (docs/dnn.md).
template <typename Options>
void write_traces(const Engine& engine, const Dataset& data, const InferOptions& io, const Options& opt) {
  int row = -1, col = -1, rows = 0, cols = 0;
  // "all,COL": one trace per row of column COL (per-position error models, docs/errmodel.md).
  const bool all_rows = std::sscanf(opt.trace_pe.c_str(), "all,%d", &col) == 1;
  if (!all_rows && std::sscanf(opt.trace_pe.c_str(), "%d,%d", &row, &col) != 2)
    throw std::runtime_error("--trace-pe: expected ROW,COL or all,COL, got '" + opt.trace_pe + "'");
  if (std::sscanf(opt.trace_array.c_str(), "%dx%d", &rows, &cols) != 2 || rows < 1 || cols < 1)
    throw std::runtime_error("--trace-array: expected ROWSxCOLS, got '" + opt.trace_array + "'");
  if ((!all_rows && (row < 0 || row >= rows)) || col < 0 || col >= cols)
    throw std::runtime_error("--trace-pe " + opt.trace_pe + " is outside the " + opt.trace_array + " array");
  // Accumulator width the generator gives an int8 array of `rows` rows: the
  // worst-case sum of rows products of -128 * -128, plus the sign bit.
  int acc_bits = 1;
  while ((int64_t{1} << (acc_bits - 1)) <= int64_t{rows} * 128 * 128) ++acc_bits;
  std::filesystem::create_directories(opt.trace_dir);
  const tflite::Model& model = engine.model();
  if (opt.trace_sample >= data.samples.size())
    throw std::runtime_error("--trace-sample " + std::to_string(opt.trace_sample) + ": the data set has only " +
                             std::to_string(data.samples.size()) + " sample(s) (index from 0)");
  const Sample& sample = data.samples.at(opt.trace_sample);
  const std::vector<uint8_t> x = load_input(sample, model.input(), io.encoding, io.resize);
  Workspace ws;
  engine.run(x, ws, [&](const PreparedOp& p, const int8_t* input, std::vector<int32_t>&) {
    const auto gemms = lowering::lower_layer(model, *p.op, p.geometry, input, cols);
    const std::string source = model.path + " operator " + std::to_string(p.index) + " (" +
                               tflite::to_string(p.op->type) + ") input " + sample.path;
    for (int r = all_rows ? 0 : row; r <= (all_rows ? rows - 1 : row); ++r) {
      const std::string name = opt.trace_dir + "/op" + std::to_string(p.index) + "_" + tflite::to_string(p.op->type) +
                               "_pe" + std::to_string(r) + "_" + std::to_string(col) + ".vtrace";
      const size_t n =
          write_layer_trace(name, gemms, rows, cols, acc_bits, r, col, opt.trace_records, source, 0, 0, opt.trace_carry_save);
      std::cout << "  trace: " << name << " (" << n << " records)\n";
    }
  });
}

// Error injection flags of `vosa infer` (docs/inject.md).
struct FaultOptions {
  std::string config, errmodel, voltages, settings, razor_bits, razor_policy, json, injection = "exact",
              drop_walk = "auto";
  double period_ns = 0;
  int razor_top_k = -1;
  std::uint64_t seed = 1;
  int repeats = 1;
  bool requested() const { return !errmodel.empty() || !settings.empty() || !voltages.empty(); }
};

// Settings from --settings, or from --errmodel/--voltages/--period-ns/--razor-*.
inject::Settings fault_settings(const FaultOptions& f, const ArrayConfig& config) {
  if (!f.settings.empty()) return inject::load_settings(f.settings);
  if (f.errmodel.empty() || f.voltages.empty())
    throw std::runtime_error("error injection needs --errmodel and --voltages (or --settings FILE)");
  inject::Settings s;
  s.errmodel = f.errmodel;
  s.period_ns = f.period_ns;
  s.voltages = parse_number_list(f.voltages, "--voltages");
  const int islands = config.islands.groups.empty() ? 1 : static_cast<int>(config.islands.groups.size());
  if (s.voltages.size() == 1) s.voltages.assign(static_cast<size_t>(islands), s.voltages[0]);  // every island
  if (f.razor_top_k >= 0 || !f.razor_bits.empty() || !f.razor_policy.empty()) {
    inject::RazorSpec r;
    if (f.razor_top_k >= 0) {
      r.top_k = f.razor_top_k;
    } else if (!f.razor_bits.empty()) {
      for (double b : parse_number_list(f.razor_bits, "--razor-bits")) r.bits.push_back(static_cast<int>(b));
    } else if (config.razor.enabled) {
      r.bits = config.razor.bits;  // only the policy changes
    } else {
      throw std::runtime_error("--razor-policy needs --razor-top-k or --razor-bits (the config has no razor)");
    }
    r.policy = f.razor_policy.empty() ? (config.razor.enabled ? config.razor.policy : RazorPolicy::Correct)
               : f.razor_policy == "drop" ? RazorPolicy::Drop
                                          : RazorPolicy::Correct;
    s.razor = r;
  }
  return s;
}

void run_with_faults(const Engine& engine, const Dataset& data, const InferOptions& io, const FaultOptions& f,
                     const std::string& model_path, bool quiet) {
  if (f.config.empty())
    throw std::runtime_error("error injection needs --config (the array's generator config, e.g. "
                             "generator/examples/default.json)");
  if (f.repeats < 1) throw std::runtime_error("--repeats must be >= 1");
  const ArrayConfig config = load_config(f.config);
  inject::Injector injector = inject::make_injector(fault_settings(f, config), config, f.config);
  injector.set_mode(inject::parse_injection_mode(f.injection));
  injector.set_drop_walk(inject::parse_drop_walk(f.drop_walk));
  injector.check_model(engine.model());
  const inject::FaultEvaluator evaluator(engine, data, io);
  const inject::FaultyEvalResult r = evaluator.evaluate(injector, f.repeats, f.seed);
  const nlohmann::json j = inject::to_json(r, injector);
  const size_t clean_hits = static_cast<size_t>(std::count(r.clean_correct.begin(), r.clean_correct.end(), 1));
  char line[512];
  if (!quiet) {
    const auto& plan = injector.default_plan();
    std::string volts, bits;
    for (const auto& s : plan.island) volts += (volts.empty() ? "" : ",") + nlohmann::json(s->point().voltage).dump();
    for (int b = 63; b >= 0; --b)
      if ((plan.razor.mask >> b) & 1) bits += (bits.empty() ? "" : ",") + std::to_string(b);
    std::cout << "errors: " << injector.settings().errmodel << " at " << injector.period_ns() << " ns ("
              << (plan.island.empty() ? "" : plan.island.front()->point().delay_source) << "), island voltages "
              << volts << (injector.settings().layers.empty() ? "" : " (plus per-layer settings)") << "; Razor "
              << (bits.empty() ? "none" : "bits " + bits + " " + to_string(plan.razor.policy))
              << (injector.razor_error_source().empty() ? "" : " (" + injector.razor_error_source() + " errors)")
              << "; array "
              << injector.shape().rows << "x" << injector.shape().cols << ", acc_bits " << injector.shape().acc_bits
              << ", " << injector.shape().islands << " island(s); seed " << f.seed << ", " << f.repeats
              << " repeat(s)\n";
    std::cout << "  op  captures      hits  razor-det  razor-cycles  corrupted  cycles\n";
    for (const auto& l : r.layers) {
      std::snprintf(line, sizeof line, "  %-3zu %-12llu %-9llu %-10llu %-13llu %-10llu %llu\n", l.op,
                    static_cast<unsigned long long>(l.captures), static_cast<unsigned long long>(l.hits),
                    static_cast<unsigned long long>(l.razor_detected),
                    static_cast<unsigned long long>(l.razor_error_cycles),
                    static_cast<unsigned long long>(l.corrupted_outputs), static_cast<unsigned long long>(l.cycles));
      std::cout << line;
    }
  }
  std::snprintf(line, sizeof line,
                "clean top-1 %.1f %% (%zu/%zu)  faulty top-1 %.2f %%  paired loss %.2f %% +- %.2f (95 %% CI, %zu "
                "inputs x %d repeats)\n"
                "injection: %.1f hits per 1e6 captures, Razor stall cycles %.4f %% of array cycles; "
                "clean pass %.3f s, faulty %.3f s",
                100.0 * r.clean_top1, clean_hits, r.samples, 100.0 * r.faulty_top1, 100.0 * r.loss,
                100.0 * r.loss_ci95, r.samples, r.repeats, j.at("hits_per_million_captures").get<double>(),
                100.0 * j.at("razor_stall_fraction").get<double>(), evaluator.clean_seconds(), r.seconds);
  std::cout << line << "\n";
  if (!f.json.empty()) {
    nlohmann::json out = j;
    out["model"] = model_path;
    out["data"] = data.directory;
    out["config"] = f.config;
    out["clean_seconds"] = evaluator.clean_seconds();
    write_output_file(f.json, out.dump(2) + "\n");
  }
}

// Writes the first `n` samples' input tensors, as the engine gets them (JPEGs
// decoded and resized), to `directory` as .bin files with a y_labels.csv, so
// another runtime (scripts/tflite_runner.js) can be fed the same tensors.
// Writes into directory.partial and renames it; refuses an existing directory.
void save_inputs(const Engine& engine, const Dataset& data, const InferOptions& io, const std::string& directory) {
  namespace fs = std::filesystem;
  if (fs::exists(directory)) throw std::runtime_error("--save-inputs: " + directory + " exists; give a new directory");
  const std::string partial = directory + ".partial";
  fs::remove_all(partial);
  fs::create_directories(partial);
  const size_t n = io.limit ? std::min(io.limit, data.samples.size()) : data.samples.size();
  const size_t classes = engine.model().output().num_elements();
  std::ofstream labels(partial + "/y_labels.csv");
  for (size_t i = 0; i < n; ++i) {
    const Sample& s = data.samples[i];
    const std::vector<uint8_t> x = load_input(s, engine.model().input(), io.encoding, io.resize);
    char name[32];
    std::snprintf(name, sizeof name, "%06zu_", i);  // sample order; keeps equal base names apart
    const std::string file = name + fs::path(s.path).stem().string() + ".bin";
    std::ofstream bin(partial + "/" + file, std::ios::binary);
    bin.write(reinterpret_cast<const char*>(x.data()), static_cast<std::streamsize>(x.size()));
    if (!bin) throw std::runtime_error("--save-inputs: cannot write " + partial + "/" + file);
    labels << file << "," << classes << "," << s.label << "\n";
  }
  labels.close();
  if (!labels) throw std::runtime_error("--save-inputs: cannot write " + partial + "/y_labels.csv");
  fs::rename(partial, directory);
}

}  // namespace

void add_engine_input_options(CLI::App* cmd, EngineInputOptions& options) {
  cmd->add_option("--input-encoding", options.encoding,
                  "raw: .bin bytes are the input tensor; pixels: .bin bytes are uint8 pixels "
                  "(minus 128 for an int8 input); auto: from DATA/vosa_dataset.json or the model's input type, "
                  "refused when that leaves both possible (docs/dnn.md)")
      ->check(CLI::IsMember({"auto", "raw", "pixels"}))
      ->capture_default_str();  // also for commands without always_capture_default
  cmd->add_option("--resize", options.resize, "JPEG to model size: bilinear (half-pixel centres) or crop (centre)")
      ->check(CLI::IsMember({"bilinear", "crop"}))
      ->capture_default_str();
  cmd->add_option("--kernels", options.kernels, "fast (SIMD GEMM) or reference (plain TFLite-style loops)")
      ->check(CLI::IsMember({"fast", "reference"}))
      ->capture_default_str();
}

void add_infer_command(CLI::App& app) {
  struct Options {
    std::string model;
    std::string data;
    size_t limit = 0;
    int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    EngineInputOptions input;
    std::string arithmetic = "tflite";
    bool quiet = false;
    std::string trace_dir;
    std::string trace_pe;
    std::string trace_array = "16x16";
    size_t trace_records = 100000;
    bool trace_carry_save = false;
    size_t trace_sample = 0;
    std::string outputs_csv;
    std::string save_inputs;
    std::string precision;
  };
  auto opt = std::make_shared<Options>();
  auto faults = std::make_shared<FaultOptions>();
  auto* cmd = app.add_subcommand(
      "infer",
      "Run an int8 TFLite classifier bit-exactly (the TFLite runtime's arithmetic, checked tensor by tensor\n"
      "against TFLite itself) over a labelled data set and print top-1 / top-5 accuracy and throughput. DATA holds y_labels.csv (raw .bin\n"
      "tensors) or dataset_1001.txt (JPEGs). See docs/dnn.md. With --config and --errmodel (or --settings):\n"
      "the same inputs with PE timing errors injected; clean vs faulty top-1 and the paired loss (docs/inject.md).");
  cmd->option_defaults()->always_capture_default();  // --help shows every default
  cmd->add_option("-m,--model", opt->model, "model (.tflite, int8)")->required();
  cmd->add_option("-d,--data", opt->data, "data directory")->required();
  cmd->add_option("-n,--limit", opt->limit, "use only the first N samples (0 = all)")
      ->check(CLI::Range(0, 1000000000));
  cmd->add_option("-j,--jobs", opt->jobs, "worker threads")->check(CLI::Range(1, 256));
  add_engine_input_options(cmd, opt->input);
  cmd->add_option("--arithmetic", opt->arithmetic,
                  "tflite: the TFLite runtime's int8 arithmetic (XNNPACK + builtin kernels), bit-exact (default); "
                  "tflite-reference: TFLite's reference int8 kernels (double-rounding fixed point, as TFLite Micro); "
                  "armnn: Arm NN 20.08 CpuRef's float arithmetic (docs/dnn.md)")
      ->check(CLI::IsMember({"tflite", "tflite-reference", "armnn"}));
  cmd->add_flag("-q,--quiet", opt->quiet, "print only the summary line");
  cmd->add_option("--precision", opt->precision,
                  "operand precision of the array layers, as a precision mode of the PE reduces it "
                  "(docs/precision.md): BITS for every layer and/or OP=BITS per operator, e.g. 6 or 6,0=8 "
                  "(default: full 8 bits; fast kernels, tflite arithmetic)");
  cmd->add_option("--outputs", opt->outputs_csv,
                  "also write every sample's output tensor to this CSV: file,label,prediction,values (space-separated), "
                  "e.g. to compare with another engine");
  cmd->add_option("--save-inputs", opt->save_inputs,
                  "also write the input tensors the engine gets (JPEGs decoded and resized) to this new directory "
                  "as .bin files with y_labels.csv, e.g. to feed scripts/tflite_runner.js the same tensors");
  cmd->add_option("--trace-dir", opt->trace_dir,
                  "also write, for the first sample (--trace-sample), one operand trace (*.vtrace) per conv/depthwise/FC layer: "
                  "what PE --trace-pe of a --trace-array weight-stationary array sees");
  cmd->add_option("--trace-sample", opt->trace_sample,
                  "which sample of DATA --trace-dir traces (index from 0, independent of --limit), e.g. 1 for a model "
                  "fitted on another input than the one it is checked on");
  cmd->add_option("--trace-pe", opt->trace_pe, "PE position ROW,COL for --trace-dir (all,COL: one trace per row)");
  cmd->add_option("--trace-array", opt->trace_array, "array shape ROWSxCOLS for --trace-dir (default 16x16)");
  cmd->add_option("--trace-records", opt->trace_records,
                  "records per trace at most (default 100000); a longer layer is sampled from every tile pass "
                  "(docs/dnn.md)");
  cmd->add_flag("--trace-carry-save", opt->trace_carry_save,
                "for --trace-dir: the array's partial sums are carry-save pairs (arithmetic.psum carry_save): each "
                "record also holds the carry word the rows above pass down (trace version 2, docs/trace.md)");
  // Error injection (docs/inject.md).
  cmd->add_option("--config", faults->config, "array generator config (rows, cols, acc_bits, islands, razor) for --errmodel");
  auto* em = cmd->add_option("--errmodel", faults->errmodel, "inject PE timing errors drawn from this errmodel.json");
  auto* volts = cmd->add_option("--voltages", faults->voltages,
                                "supply voltage of every island (V), or one per island V1,V2,...; all array layers");
  auto* period = cmd->add_option("--period-ns", faults->period_ns,
                                 "clock period of the error-model points (default: the model's only period)")
                    ->default_str("");
  auto* topk = cmd->add_option("--razor-top-k", faults->razor_top_k,
                               "protect the k most significant accumulator bits with Razor (0: none; default: "
                               "the config's razor)")
                  ->default_str("");
  auto* rbits = cmd->add_option("--razor-bits", faults->razor_bits, "or: protect exactly these bits, e.g. 18,17,16");
  auto* policy = cmd->add_option("--razor-policy", faults->razor_policy, "correct (stall one cycle) or drop (TE-Drop)")
                     ->check(CLI::IsMember({"correct", "drop"}));
  topk->excludes(rbits);
  cmd->add_option("--settings", faults->settings,
                  "settings file (errmodel, period, per-island and per-layer voltages, razor) instead of the flags")
      ->excludes(em)
      ->excludes(volts)
      ->excludes(period)
      ->excludes(topk)
      ->excludes(rbits)
      ->excludes(policy);
  cmd->add_option("--seed", faults->seed, "seed of the error draws (default 1)");
  cmd->add_option("--injection", faults->injection,
                  "exact (every erring capture down its column), thinned (with Razor correct only the errors it "
                  "leaves, and TE-Drop of every failing bit only the drops of non-zero products: the same "
                  "distribution, expected Razor counts) or sampled (per-output error counts and sums: cost grows "
                  "with the outputs, not the errors; an approximation, docs/inject.md; TE-Drop as thinned)")
      ->check(CLI::IsMember({"exact", "thinned", "sampled"}))
      ->capture_default_str();
  cmd->add_option("--drop-walk", faults->drop_walk,
                  "how thinned/sampled TE-Drop layers find their drops: by-class (conv/FC: each operand class's "
                  "captures walked at its own rate), candidates (at the largest class rate, thinned by class) or "
                  "auto (the cheaper per layer); the same distribution, docs/inject.md")
      ->check(CLI::IsMember({"auto", "candidates", "by-class"}))
      ->capture_default_str();
  cmd->add_option("--repeats", faults->repeats, "independent error draws per input (default 1)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--json", faults->json, "also write the faulty evaluation's numbers to this JSON file");
  cmd->callback([opt, faults]() {
    auto model = std::make_shared<tflite::Model>(tflite::load_tflite(opt->model));
    const Engine engine(model, opt->input.kernel_path(), parse_arithmetic(opt->arithmetic),
                        opt->precision.empty() ? PrecisionPlan{} : parse_precision_plan(*model, opt->precision));
    const Dataset data = load_dataset(opt->data);
    InferOptions io;
    io.limit = opt->limit;
    io.jobs = opt->jobs;
    io.encoding = opt->input.input_encoding(model->input(), data);
    io.resize = opt->input.resize_mode();
    if (opt->arithmetic == "armnn" && (faults->requested() || !opt->trace_dir.empty()))
      throw std::runtime_error("--arithmetic armnn is for accuracy runs: error injection and traces work on TFLite's "
                               "integer accumulators");
    if (faults->requested() || !faults->json.empty() || !faults->config.empty()) {
      if (!faults->requested())
        throw std::runtime_error("--config/--json are for error injection: give --errmodel and --voltages, or --settings");
      if (!opt->outputs_csv.empty() || !opt->trace_dir.empty())
        throw std::runtime_error("--outputs and --trace-dir are for runs without error injection");
      if (!opt->quiet)
        std::cout << "vosa infer: " << opt->model << ": " << model->operators.size() << " operators, "
                  << engine.macs_per_inference() << " MACs per inference; " << opt->input.kernels << " kernels, " << io.jobs
                  << " thread(s)\n";
      run_with_faults(engine, data, io, *faults, opt->model, opt->quiet);
      return;
    }
    if (!opt->quiet) {
      std::cout << "vosa infer: " << opt->model << ": " << model->operators.size() << " operators, "
                << engine.macs_per_inference() << " MACs per inference; " << opt->input.kernels << " kernels"
                << (opt->input.kernels == "fast" ? (gemm_uses_avx2() ? " (AVX2)" : " (scalar)") : "")
                << ", " << opt->arithmetic << " arithmetic, " << io.jobs
                << " thread(s)\n";
    }
    // CPU time as well as wall time: on a shared machine the threads may get
    // less than a core each.
    auto cpu_seconds = []() {
      rusage u{};
      getrusage(RUSAGE_SELF, &u);
      return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
             1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
    };
    const double cpu0 = cpu_seconds();
    if (!opt->save_inputs.empty()) save_inputs(engine, data, io, opt->save_inputs);
    const InferResult r = evaluate(engine, data, io);
    const double cpu = cpu_seconds() - cpu0;
    char line[640];
    std::snprintf(line, sizeof line,
                  "top-1 %.1f %% (%zu/%zu)  top-5 %.1f %% (%zu/%zu)  %.3f s, %.1f inferences/s, %.2f GMAC/s "
                  "(%.2f GMAC per CPU-second)",
                  100.0 * static_cast<double>(r.top1) / static_cast<double>(r.samples), r.top1, r.samples,
                  100.0 * static_cast<double>(r.top5) / static_cast<double>(r.samples), r.top5, r.samples, r.seconds,
                  static_cast<double>(r.samples) / r.seconds, static_cast<double>(r.macs) / r.seconds / 1e9,
                  static_cast<double>(r.macs) / cpu / 1e9);
    std::cout << line << "\n";
    if (!opt->outputs_csv.empty()) {
      const std::string partial = opt->outputs_csv + ".partial";
      std::ofstream csv(partial);
      for (size_t i = 0; i < r.samples; ++i) {
        csv << data.samples[i].path << "," << data.samples[i].label << "," << r.predictions[i] << ",";
        for (size_t k = 0; k < r.outputs[i].size(); ++k) csv << (k ? " " : "") << r.outputs[i][k];
        csv << "\n";
      }
      csv.close();
      if (!csv) throw std::runtime_error("cannot write " + opt->outputs_csv);
      move_output_into_place(partial, opt->outputs_csv);
    }
    if (!opt->trace_dir.empty()) write_traces(engine, data, io, *opt);
  });
}

}  // namespace vosa::engine
