// SPSA training of the NeuralFuse-style input transformation (neuralfuse.hpp).
#include "vosa/neuralfuse.hpp"

#include "vosa/inject.hpp"
#include "vosa/output_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

namespace vosa::sram {

InputTransform InputTransform::identity(const tflite::Tensor& input, int grid) {
  if (input.shape.size() != 4 || input.shape[0] != 1)
    throw SramError("input transform: input tensor '" + input.name + "' of shape " +
                    tflite::shape_string(input.shape) + " is not [1, H, W, C]");
  if (input.type != tflite::TensorType::kInt8 && input.type != tflite::TensorType::kUInt8)
    throw SramError("input transform: input tensor '" + input.name + "' is not int8 or uint8");
  if (grid < 1) throw SramError("input transform: --grid must be >= 1");
  InputTransform t;
  t.height = input.shape[1];
  t.width = input.shape[2];
  t.channels = input.shape[3];
  t.grid = grid;
  t.is_signed = input.type == tflite::TensorType::kInt8;
  t.gain.assign(static_cast<size_t>(t.channels), 1.0);
  t.bias.assign(static_cast<size_t>(t.channels), 0.0);
  t.pattern.assign(static_cast<size_t>(grid * grid * t.channels), 0.0);
  return t;
}

std::vector<double> InputTransform::parameters() const {
  std::vector<double> p;
  for (double g : gain) p.push_back((g - 1.0) * 100.0);
  p.insert(p.end(), bias.begin(), bias.end());
  p.insert(p.end(), pattern.begin(), pattern.end());
  return p;
}

void InputTransform::set_parameters(const std::vector<double>& p) {
  const size_t c = static_cast<size_t>(channels);
  for (size_t i = 0; i < c; ++i) gain[i] = 1.0 + p[i] / 100.0;
  for (size_t i = 0; i < c; ++i) bias[i] = p[c + i];
  std::copy(p.begin() + static_cast<std::ptrdiff_t>(2 * c), p.end(), pattern.begin());
}

std::vector<uint8_t> InputTransform::apply(const std::vector<uint8_t>& x) const {
  const size_t n = static_cast<size_t>(height) * static_cast<size_t>(width) * static_cast<size_t>(channels);
  if (x.size() != n) throw SramError("input transform: input of " + std::to_string(x.size()) + " bytes, expected " +
                                     std::to_string(n));
  std::vector<uint8_t> y(n);
  const double lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  for (int h = 0; h < height; ++h) {
    // Bilinear position in the grid (cell centres, clamped at the borders).
    const double gy = std::clamp((h + 0.5) * grid / height - 0.5, 0.0, grid - 1.0);
    const int y0 = static_cast<int>(gy), y1 = std::min(y0 + 1, grid - 1);
    const double fy = gy - y0;
    for (int w = 0; w < width; ++w) {
      const double gx = std::clamp((w + 0.5) * grid / width - 0.5, 0.0, grid - 1.0);
      const int x0 = static_cast<int>(gx), x1 = std::min(x0 + 1, grid - 1);
      const double fx = gx - x0;
      for (int c = 0; c < channels; ++c) {
        auto p = [&](int yy, int xx) { return pattern[static_cast<size_t>((yy * grid + xx) * channels + c)]; };
        const double add = (1 - fy) * ((1 - fx) * p(y0, x0) + fx * p(y0, x1)) + fy * ((1 - fx) * p(y1, x0) + fx * p(y1, x1));
        const size_t i = (static_cast<size_t>(h) * static_cast<size_t>(width) + static_cast<size_t>(w)) *
                             static_cast<size_t>(channels) + static_cast<size_t>(c);
        const double v = is_signed ? static_cast<double>(static_cast<int8_t>(x[i])) : static_cast<double>(x[i]);
        const double out = std::clamp(std::nearbyint(gain[static_cast<size_t>(c)] * v + bias[static_cast<size_t>(c)] + add), lo, hi);
        y[i] = is_signed ? static_cast<uint8_t>(static_cast<int8_t>(out)) : static_cast<uint8_t>(out);
      }
    }
  }
  return y;
}

Inputs InputTransform::apply(const Inputs& in) const {
  Inputs out;
  out.labels = in.labels;
  for (const auto& x : in.tensors) out.tensors.push_back(apply(x));
  return out;
}

std::int64_t InputTransform::ops_per_inference() const {
  // Per element: 4 multiply-adds of the bilinear pattern, 1 of the affine map.
  return 5LL * height * width * channels;
}

void write_transform(const InputTransform& t, const nlohmann::json& meta, const std::string& path) {
  nlohmann::json j = meta;
  j["schema"] = "vosa-neuralfuse-transform";
  j["height"] = t.height;
  j["width"] = t.width;
  j["channels"] = t.channels;
  j["grid"] = t.grid;
  j["signed"] = t.is_signed;
  j["gain"] = t.gain;
  j["bias"] = t.bias;
  j["pattern"] = t.pattern;
  write_output_file(path, j.dump(1) + "\n");
}

InputTransform read_transform(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw SramError("cannot read input transform " + path);
  try {
    nlohmann::json j;
    in >> j;
    if (j.value("schema", "") != "vosa-neuralfuse-transform")
      throw SramError(path + ": schema: expected \"vosa-neuralfuse-transform\"");
    InputTransform t;
    t.height = j.at("height");
    t.width = j.at("width");
    t.channels = j.at("channels");
    t.grid = j.at("grid");
    t.is_signed = j.at("signed");
    t.gain = j.at("gain").get<std::vector<double>>();
    t.bias = j.at("bias").get<std::vector<double>>();
    t.pattern = j.at("pattern").get<std::vector<double>>();
    if (t.height < 1 || t.width < 1 || t.channels < 1 || t.grid < 1 ||
        t.gain.size() != static_cast<size_t>(t.channels) || t.bias.size() != t.gain.size() ||
        t.pattern.size() != static_cast<size_t>(t.grid * t.grid * t.channels))
      throw SramError(path + ": sizes of gain/bias/pattern do not match channels and grid");
    return t;
  } catch (const nlohmann::json::exception& e) {
    throw SramError(path + ": " + e.what());
  }
}

namespace {

// Cross-entropy of the label under the model's output (dequantized).
double cross_entropy(const tflite::Tensor& out, const std::vector<uint8_t>& y, int label) {
  const bool s = out.type == tflite::TensorType::kInt8;
  const double v = s ? static_cast<int8_t>(y[static_cast<size_t>(label)]) : y[static_cast<size_t>(label)];
  const double p = out.scale0() * (v - out.zero_point0());
  return -std::log(std::max(p, 1.0 / 512));  // an int8 softmax has 1/256 steps
}

}  // namespace

InputTransform train_transform(const tflite::Model& model, const Inputs& train, const FuseTrainOptions& o,
                               engine::Kernels kernels, int report_every) {
  check_ber(o.ber, "--ber");
  if (o.train_chips < 1 || o.chips_per_step < 1 || o.chips_per_step > o.train_chips || o.steps < 1 || o.batch < 1 ||
      o.directions < 1)
    throw SramError("neuralfuse: need train_chips >= chips_per_step >= 1, steps >= 1, batch >= 1, directions >= 1");
  if (train.tensors.empty()) throw SramError("neuralfuse: no training inputs");
  const Geometry g = geometry_for_model(model, o.width);
  const WeightLayout layout = weight_layout(model, g);
  const auto shared = std::make_shared<tflite::Model>(model);
  const engine::Engine clean(shared, kernels);
  std::vector<std::unique_ptr<engine::Engine>> chips;
  for (int c = 0; c < o.train_chips; ++c) {
    const FaultMap map = generate_fault_map(g, o.train_seed + static_cast<std::uint64_t>(c), o.ber);
    chips.push_back(std::make_unique<engine::Engine>(
        std::make_shared<tflite::Model>(apply_weight_faults(model, layout, map.at_ber(o.ber))), kernels));
  }
  const tflite::Tensor& out = model.output();
  InputTransform t = InputTransform::identity(model.input(), o.grid);
  std::vector<double> theta = t.parameters();
  const size_t dim = theta.size();
  std::vector<double> m(dim, 0.0), v(dim, 0.0);
  inject::Rng rng(inject::derive_seed(o.seed, 0x4655534555ULL /* "FUSE" */, 0, 0));

  // EOPM loss: clean CE + lambda * mean CE over the step's chips.
  auto loss = [&](const std::vector<double>& p, const Inputs& batch, const std::vector<int>& step_chips) {
    InputTransform tp = t;
    tp.set_parameters(p);
    const Inputs x = tp.apply(batch);
    double clean_ce = 0, faulty_ce = 0;
    const auto yc = run_all(clean, x, o.jobs);
    for (size_t i = 0; i < yc.size(); ++i) clean_ce += cross_entropy(out, yc[i], x.labels[i]);
    for (int c : step_chips) {
      const auto yf = run_all(*chips[static_cast<size_t>(c)], x, o.jobs);
      for (size_t i = 0; i < yf.size(); ++i) faulty_ce += cross_entropy(out, yf[i], x.labels[i]);
    }
    const double n = static_cast<double>(batch.tensors.size());
    return clean_ce / n + o.lambda * faulty_ce / (n * static_cast<double>(step_chips.size()));
  };

  const double beta1 = 0.9, beta2 = 0.999;
  double running = 0;
  for (int k = 0; k < o.steps; ++k) {
    Inputs batch;
    for (int i = 0; i < o.batch; ++i) {
      const size_t j = static_cast<size_t>(rng.next() % train.tensors.size());
      batch.tensors.push_back(train.tensors[j]);
      batch.labels.push_back(train.labels[j]);
    }
    std::vector<int> pool(static_cast<size_t>(o.train_chips));
    for (int c = 0; c < o.train_chips; ++c) pool[static_cast<size_t>(c)] = c;
    for (int c = 0; c < o.chips_per_step; ++c)  // partial Fisher-Yates
      std::swap(pool[static_cast<size_t>(c)], pool[static_cast<size_t>(c) + rng.next() % (pool.size() - static_cast<size_t>(c))]);
    const std::vector<int> step_chips(pool.begin(), pool.begin() + o.chips_per_step);
    // SPSA gradient estimate (averaged over `directions` perturbations), then an Adam step.
    std::vector<double> grad(dim, 0.0), delta(dim), plus(dim), minus(dim);
    double step_loss = 0;
    for (int q = 0; q < o.directions; ++q) {
      for (size_t i = 0; i < dim; ++i) {
        delta[i] = (rng.next() >> 63) ? 1.0 : -1.0;
        plus[i] = theta[i] + o.perturbation * delta[i];
        minus[i] = theta[i] - o.perturbation * delta[i];
      }
      const double lp = loss(plus, batch, step_chips), lm = loss(minus, batch, step_chips);
      step_loss += 0.5 * (lp + lm) / o.directions;
      for (size_t i = 0; i < dim; ++i) grad[i] += (lp - lm) / (2 * o.perturbation * delta[i]) / o.directions;
    }
    running = k == 0 ? step_loss : 0.9 * running + 0.1 * step_loss;
    for (size_t i = 0; i < dim; ++i) {
      const double gi = grad[i];
      m[i] = beta1 * m[i] + (1 - beta1) * gi;
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
      const double mh = m[i] / (1 - std::pow(beta1, k + 1)), vh = v[i] / (1 - std::pow(beta2, k + 1));
      theta[i] -= o.learning_rate * mh / (std::sqrt(vh) + 1e-8);
    }
    if (report_every > 0 && ((k + 1) % report_every == 0 || k + 1 == o.steps)) {
      char line[128];
      std::snprintf(line, sizeof line, "  step %4d  loss %.4f (running mean)\n", k + 1, running);
      std::cout << line << std::flush;
    }
  }
  t.set_parameters(theta);
  return t;
}

}  // namespace vosa::sram
