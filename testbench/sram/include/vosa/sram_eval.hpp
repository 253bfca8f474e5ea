// Accuracy of a model whose weights are read through faulty SRAM, over many
// simulated chips (`vosa sram eval`, docs/sram.md).
#pragma once

#include "vosa/dataset.hpp"
#include "vosa/engine.hpp"
#include "vosa/sram.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vosa::sram {

// Input tensors decoded once (JPEG decoding would otherwise dominate runs
// over many chips), with their labels.
struct Inputs {
  std::vector<std::vector<uint8_t>> tensors;
  std::vector<int> labels;
};
Inputs load_inputs(const tflite::Model& model, const engine::Dataset& data, size_t first, size_t count,
                   engine::InputEncoding encoding, engine::Resize resize);

// Stuck cells of the activation buffer through which every array layer's
// input is read (activation_geometry_for_model).
struct ActivationFaults {
  Geometry geometry;
  std::vector<Fault> faults;
  // 0: the NHWC buffer above. Else the activation buffer of a buffered
  // array_rows x array_cols array (ArrayActivationBuffer: the lowered
  // GEMMs' A rows, geometry act_depth x rows*8; depthwise layers mapped as
  // the layer bench's default, DepthwiseMapping::kAuto).
  int array_rows = 0, array_cols = 0;
};

// Every output tensor (raw bytes) of `engine` on `inputs`, on `jobs` threads;
// with `act`, each array layer's input tensor read through the faulty buffer.
std::vector<std::vector<uint8_t>> run_all(const engine::Engine& engine, const Inputs& inputs, int jobs,
                                          const ActivationFaults* act = nullptr);
// Fraction of `inputs` whose top-1 class is their label.
double top1_accuracy(const engine::Engine& engine, const Inputs& inputs, int jobs,
                     const ActivationFaults* act = nullptr);

// The points of a sweep: bit-error rates, or supply voltages through a curve.
struct SweepPoint {
  double ber = 0;
  std::optional<double> voltage;
};

struct PointStats {
  SweepPoint point;
  std::vector<double> top1;            // per chip
  std::vector<std::uint64_t> faulty_cells, flipped_bits;  // per chip (weight buffer)
  std::vector<std::uint64_t> act_faulty_cells;             // per chip (activation buffer, with activations)
  double mean() const;
  double stddev() const;  // sample standard deviation over chips (0 for one chip)
};

struct SweepOptions {
  int chips = 10;
  std::uint64_t seed = 1;  // chip c is seed + c
  int width = 64;          // weight buffer word width (bits)
  std::uint64_t words = 0; // 0: just large enough for the model's weights
  int jobs = 1;
  bool activations = false;        // also read array-layer inputs through a faulty activation buffer
  int act_width = 64;              // activation buffer word width (bits); depth: the largest layer input
  int act_array_rows = 0, act_array_cols = 0;  // > 0: the array's activation buffer instead (ActivationFaults)
  std::uint64_t act_depth = 0;                 // its depth (words), with act_array_rows
  std::vector<std::string> maps;  // evaluate these fault-map files instead of generated chips
  std::string save_maps;          // write each generated chip's map into this folder
};

struct SweepResult {
  double clean_top1 = 0;
  Geometry geometry;
  std::optional<Geometry> act_geometry;
  int act_array_rows = 0, act_array_cols = 0;  // the array's activation buffer (0: NHWC)
  std::uint64_t weight_bytes = 0;
  std::vector<PointStats> points;
  std::vector<std::uint64_t> chip_seeds;
};

SweepResult sweep(const tflite::Model& model, const Inputs& inputs, const std::vector<SweepPoint>& points,
                  const SweepOptions& options, const BerCurve* curve, engine::Kernels kernels);
nlohmann::json to_json(const SweepResult& r);

}  // namespace vosa::sram
