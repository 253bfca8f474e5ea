// A NeuralFuse-style input transformation (Sun et al., "NeuralFuse: Learning
// to Recover the Accuracy of Access-Limited Neural Network Inference in
// Low-Voltage Regimes", arXiv:2306.16869), restricted-access setting: the
// int8 model is a black box (only its outputs), so the transform is trained
// gradient-free with SPSA (simultaneous perturbation, Spall 1992) against the
// engine running on chips with faulty weight SRAM (docs/sram.md).
//
// The transform works on the input tensor [1, H, W, C] (int8 or uint8):
//   x' = clamp(round(gain[c] * x + bias[c] + pattern(h, w, c)))
// with pattern a grid x grid x C array upsampled bilinearly to H x W: a
// learned, input-independent perturbation plus a per-channel affine map
// (a far smaller generator than the paper's conv nets: SPSA's step count
// grows with the parameter count).
#pragma once

#include "vosa/sram_eval.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace vosa::sram {

struct InputTransform {
  int height = 0, width = 0, channels = 0, grid = 8;
  bool is_signed = true;
  std::vector<double> gain, bias, pattern;  // C, C, grid*grid*C

  static InputTransform identity(const tflite::Tensor& input, int grid);
  std::vector<double> parameters() const;  // (gain - 1) * 100, bias, pattern: one scale for SPSA
  void set_parameters(const std::vector<double>& p);
  std::vector<uint8_t> apply(const std::vector<uint8_t>& x) const;
  Inputs apply(const Inputs& in) const;
  // Operations per inference (multiply-adds of the affine map and the
  // upsampling), to set against the model's MACs.
  std::int64_t ops_per_inference() const;
};
void write_transform(const InputTransform& t, const nlohmann::json& meta, const std::string& path);
InputTransform read_transform(const std::string& path);

struct FuseTrainOptions {
  double ber = 0.01;
  int train_chips = 16;            // pool of training chips (seeds train_seed..)
  std::uint64_t train_seed = 1000;
  int chips_per_step = 4;          // EOPM: perturbed models per loss evaluation
  int steps = 200;
  int directions = 1;              // SPSA perturbations averaged per step (same batch and chips)
  int batch = 64;
  double lambda = 5;               // weight of the faulty-model loss (NeuralFuse's -LM)
  double learning_rate = 1.0;      // Adam step, in input LSBs
  double perturbation = 2.0;       // SPSA c, in input LSBs
  int grid = 8;
  int width = 64;                  // weight buffer word width
  int jobs = 1;
  std::uint64_t seed = 1;          // minibatch and SPSA draws
};

// Trains on `train` inputs with chips drawn from train_seed.. (keep both
// disjoint from evaluation). Prints one line per `report_every` steps.
InputTransform train_transform(const tflite::Model& model, const Inputs& train, const FuseTrainOptions& o,
                               engine::Kernels kernels, int report_every);

}  // namespace vosa::sram
