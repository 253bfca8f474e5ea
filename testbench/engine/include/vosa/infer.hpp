// Accuracy runs of the reference engine over a labelled data set
// (`vosa infer`).
#pragma once

#include "vosa/dataset.hpp"
#include "vosa/engine.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vosa::engine {

struct InferOptions {
  size_t limit = 0;  // 0 = every sample
  size_t first = 0;  // skip the samples before this one (a block of a sharded run)
  int jobs = 1;      // worker threads (one image per thread at a time)
  InputEncoding encoding = InputEncoding::kRaw;
  Resize resize = Resize::kBilinear;
};

struct InferResult {
  size_t samples = 0;
  size_t top1 = 0;
  size_t top5 = 0;
  double seconds = 0;       // wall time of the inference loop (data loading included)
  int64_t macs = 0;         // array-layer MACs over all samples
  std::vector<int> predictions;
  std::vector<std::vector<int>> outputs;  // each sample's output tensor, as integers
};

// Input and kernel options shared by the subcommands that run the engine
// (vosa infer, vosa infer-dump): --input-encoding, --resize, --kernels.
struct EngineInputOptions {
  std::string encoding = "auto";
  std::string resize = "bilinear";
  std::string kernels = "fast";
  InputEncoding input_encoding(const tflite::Tensor& input, const Dataset& data) const {
    return resolve_input_encoding(encoding, input, data);
  }
  Resize resize_mode() const { return resize == "crop" ? Resize::kCenterCrop : Resize::kBilinear; }
  Kernels kernel_path() const { return kernels == "reference" ? Kernels::kReference : Kernels::kFast; }
};
void add_engine_input_options(CLI::App* cmd, EngineInputOptions& options);

// Ranks of the classes by output value, highest first (ties: lower index first).
std::vector<int> ranked_classes(const std::vector<uint8_t>& output, bool is_signed);

InferResult evaluate(const Engine& engine, const Dataset& data, const InferOptions& options);

void add_infer_command(CLI::App& app);

}  // namespace vosa::engine
