#include "vosa/infer.hpp"

#include "vosa/layer_trace.hpp"

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
#include <numeric>
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

// Operand traces of every array layer for the first sample (docs/dnn.md).
template <typename Options>
void write_traces(const Engine& engine, const Dataset& data, const InferOptions& io, const Options& opt) {
  int row = -1, col = -1, rows = 0, cols = 0;
  if (std::sscanf(opt.trace_pe.c_str(), "%d,%d", &row, &col) != 2)
    throw std::runtime_error("--trace-pe: expected ROW,COL, got '" + opt.trace_pe + "'");
  if (std::sscanf(opt.trace_array.c_str(), "%dx%d", &rows, &cols) != 2 || rows < 1 || cols < 1)
    throw std::runtime_error("--trace-array: expected ROWSxCOLS, got '" + opt.trace_array + "'");
  if (row < 0 || row >= rows || col < 0 || col >= cols)
    throw std::runtime_error("--trace-pe " + opt.trace_pe + " is outside the " + opt.trace_array + " array");
  // Accumulator width the generator gives an int8 array of `rows` rows: the
  // worst-case sum of rows products of -128 * -128, plus the sign bit.
  int acc_bits = 1;
  while ((int64_t{1} << (acc_bits - 1)) <= int64_t{rows} * 128 * 128) ++acc_bits;
  std::filesystem::create_directories(opt.trace_dir);
  const tflite::Model& model = engine.model();
  const Sample& sample = data.samples.at(0);
  const std::vector<uint8_t> x = load_input(sample, model.input(), io.encoding, io.resize);
  Workspace ws;
  engine.run(x, ws, [&](const PreparedOp& p, const int8_t* input, std::vector<int32_t>&) {
    const auto gemms = lowering::lower_layer(model, *p.op, p.geometry, input, cols);
    const std::string name = opt.trace_dir + "/op" + std::to_string(p.index) + "_" + tflite::to_string(p.op->type) +
                             "_pe" + std::to_string(row) + "_" + std::to_string(col) + ".vtrace";
    const std::string source = model.path + " operator " + std::to_string(p.index) + " (" +
                               tflite::to_string(p.op->type) + ") input " + sample.path;
    const size_t n = write_layer_trace(name, gemms.front(), rows, cols, acc_bits, row, col, opt.trace_records, source);
    std::cout << "  trace: " << name << " (" << n << " records)\n";
  });
}

}  // namespace

void add_infer_command(CLI::App& app) {
  struct Options {
    std::string model;
    std::string data;
    size_t limit = 0;
    int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::string encoding = "raw";
    std::string resize = "bilinear";
    std::string kernels = "fast";
    bool quiet = false;
    std::string trace_dir;
    std::string trace_pe;
    std::string trace_array = "16x16";
    size_t trace_records = 100000;
    std::string outputs_csv;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "infer",
      "Run an int8 TFLite classifier bit-exactly (TFLite reference-kernel arithmetic) over a labelled\n"
      "data set and print top-1 / top-5 accuracy and throughput. DATA holds y_labels.csv (raw .bin\n"
      "tensors) or dataset_1001.txt (JPEGs). See docs/dnn.md.");
  cmd->add_option("-m,--model", opt->model, "model (.tflite, int8)")->required();
  cmd->add_option("-d,--data", opt->data, "data directory")->required();
  cmd->add_option("-n,--limit", opt->limit, "use only the first N samples (0 = all)");
  cmd->add_option("-j,--jobs", opt->jobs, "worker threads")->check(CLI::Range(1, 256));
  cmd->add_option("--input-encoding", opt->encoding,
                  "raw: .bin bytes are the input tensor; pixels: .bin bytes are uint8 pixels "
                  "(minus 128 for an int8 input)")
      ->check(CLI::IsMember({"raw", "pixels"}));
  cmd->add_option("--resize", opt->resize, "JPEG to model size: bilinear (half-pixel centres) or crop (centre)")
      ->check(CLI::IsMember({"bilinear", "crop"}));
  cmd->add_option("--kernels", opt->kernels, "fast (SIMD GEMM) or reference (plain TFLite-style loops)")
      ->check(CLI::IsMember({"fast", "reference"}));
  cmd->add_flag("-q,--quiet", opt->quiet, "print only the summary line");
  cmd->add_option("--outputs", opt->outputs_csv,
                  "also write every sample's output tensor to this CSV: file,label,prediction,values (space-separated), "
                  "e.g. to compare with another engine");
  cmd->add_option("--trace-dir", opt->trace_dir,
                  "also write, for the first sample, one operand trace (*.vtrace) per conv/depthwise/FC layer: "
                  "what PE --trace-pe of a --trace-array weight-stationary array sees");
  cmd->add_option("--trace-pe", opt->trace_pe, "PE position ROW,COL for --trace-dir");
  cmd->add_option("--trace-array", opt->trace_array, "array shape ROWSxCOLS for --trace-dir (default 16x16)");
  cmd->add_option("--trace-records", opt->trace_records, "records per trace at most (default 100000)");
  cmd->callback([opt]() {
    auto model = std::make_shared<tflite::Model>(tflite::load_tflite(opt->model));
    const Engine engine(model, opt->kernels == "reference" ? Kernels::kReference : Kernels::kFast);
    const Dataset data = load_dataset(opt->data);
    InferOptions io;
    io.limit = opt->limit;
    io.jobs = opt->jobs;
    io.encoding = opt->encoding == "pixels" ? InputEncoding::kPixels : InputEncoding::kRaw;
    io.resize = opt->resize == "crop" ? Resize::kCenterCrop : Resize::kBilinear;
    if (!opt->quiet) {
      std::cout << "vosa infer: " << opt->model << ": " << model->operators.size() << " operators, "
                << engine.macs_per_inference() << " MACs per inference; " << opt->kernels << " kernels"
                << (opt->kernels == "fast" ? (gemm_uses_avx2() ? " (AVX2)" : " (scalar)") : "") << ", " << io.jobs
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
      std::filesystem::rename(partial, opt->outputs_csv);
    }
    if (!opt->trace_dir.empty()) write_traces(engine, data, io, *opt);
  });
}

}  // namespace vosa::engine
