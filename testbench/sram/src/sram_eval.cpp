// Accuracy over simulated chips with faulty weight SRAM (sram_eval.hpp).
#include "vosa/sram_eval.hpp"

#include "vosa/infer.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>

namespace vosa::sram {

Inputs load_inputs(const tflite::Model& model, const engine::Dataset& data, size_t first, size_t count,
                   engine::InputEncoding encoding, engine::Resize resize) {
  if (count == 0)
    throw SramError(data.directory + ": no inputs (the data set has " + std::to_string(data.samples.size()) +
                    " samples; check --first and --limit)");
  if (first + count > data.samples.size())
    throw SramError(data.directory + ": " + std::to_string(first + count) + " samples needed, " +
                    std::to_string(data.samples.size()) + " present");
  Inputs in;
  for (size_t i = first; i < first + count; ++i) {
    in.tensors.push_back(engine::load_input(data.samples[i], model.input(), encoding, resize));
    in.labels.push_back(data.samples[i].label);
  }
  return in;
}

std::vector<std::vector<uint8_t>> run_all(const engine::Engine& engine, const Inputs& inputs, int jobs,
                                          const ActivationFaults* act) {
  const size_t n = inputs.tensors.size();
  const tflite::Model& model = engine.model();
  std::vector<std::vector<uint8_t>> out(n);
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  // The array's activation buffer: the engine's model of it recomputes every
  // array layer from its lowered GEMMs (sram.hpp, ArrayActivationBuffer).
  std::optional<ArrayActivationBuffer> array_buffer;
  engine::AccumulatorObserver through_array;
  if (act && act->array_rows > 0) {
    array_buffer.emplace(act->geometry, act->faults, act->array_rows);
    through_array = array_buffer->observer(model, act->array_cols, lowering::DepthwiseMapping::kAuto);
  }
  auto worker = [&]() {
    engine::Workspace ws;
    try {
      for (size_t i = next++; i < n; i = next++) {
        if (!act || array_buffer) {
          out[i] = engine.run(inputs.tensors[i], ws, through_array);
          continue;
        }
        engine.begin(inputs.tensors[i], ws);
        for (size_t k = 0; k < engine.ops().size(); ++k) {
          const engine::PreparedOp& p = engine.ops()[k];
          const tflite::OpType type = p.op->type;
          const int in = p.op->inputs.at(0);
          if ((type == tflite::OpType::kConv2D || type == tflite::OpType::kDepthwiseConv2D ||
               type == tflite::OpType::kFullyConnected) && !model.tensor(in).is_constant()) {
            auto& bytes = ws.values[static_cast<size_t>(in)];
            apply_buffer_faults(bytes.data(), bytes.size(), act->geometry, act->faults);
          }
          engine.run_operator(k, ws);
        }
        out[i] = ws.values[static_cast<size_t>(model.outputs.at(0))];
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next = n;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, std::min<int>(jobs, static_cast<int>(n))); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  return out;
}

double top1_accuracy(const engine::Engine& engine, const Inputs& inputs, int jobs, const ActivationFaults* act) {
  if (inputs.tensors.empty()) return 0;
  const bool out_signed = engine.model().output().type == tflite::TensorType::kInt8;
  const auto outputs = run_all(engine, inputs, jobs, act);
  size_t hits = 0;
  for (size_t i = 0; i < outputs.size(); ++i)
    hits += engine::ranked_classes(outputs[i], out_signed).front() == inputs.labels[i];
  return static_cast<double>(hits) / static_cast<double>(outputs.size());
}

double PointStats::mean() const {
  return top1.empty() ? 0 : std::accumulate(top1.begin(), top1.end(), 0.0) / static_cast<double>(top1.size());
}

double PointStats::stddev() const {
  if (top1.size() < 2) return 0;
  const double m = mean();
  double s = 0;
  for (double x : top1) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(top1.size() - 1));
}

SweepResult sweep(const tflite::Model& model, const Inputs& inputs, const std::vector<SweepPoint>& points,
                  const SweepOptions& o, const BerCurve* curve, engine::Kernels kernels) {
  if (points.empty()) throw SramError("no sweep points (give bit-error rates or voltages)");
  if (o.maps.empty() && o.chips < 1) throw SramError("--chips must be >= 1");
  if (o.activations && !o.maps.empty())
    throw SramError("--activations draws each chip's activation-buffer map: it does not combine with --maps");
  SweepResult r;
  r.geometry = o.words ? Geometry{o.words, o.width} : geometry_for_model(model, o.width);
  const WeightLayout layout = weight_layout(model, r.geometry);
  r.weight_bytes = layout.total_bytes();
  if (o.act_array_rows > 0) {
    if (!o.activations) throw SramError("--act-array needs --activations");
    if (o.act_array_cols < 1 || o.act_depth < 1)
      throw SramError("--act-array RxC needs positive rows, columns and --act-depth (the array's act_depth)");
    r.act_geometry = Geometry{o.act_depth, o.act_array_rows * 8};
    r.act_array_rows = o.act_array_rows;
    r.act_array_cols = o.act_array_cols;
  } else if (o.activations) {
    r.act_geometry = activation_geometry_for_model(model, o.act_width);
  }
  double max_ber = 0;
  for (const SweepPoint& p : points) {
    check_ber(p.ber, p.voltage ? "BER at " + std::to_string(*p.voltage) + " V" : "--bers");
    max_ber = std::max(max_ber, p.ber);
  }
  {
    const engine::Engine clean(std::make_shared<tflite::Model>(model), kernels);
    r.clean_top1 = top1_accuracy(clean, inputs, o.jobs);
  }
  for (const SweepPoint& p : points) {
    r.points.emplace_back();
    r.points.back().point = p;
  }
  const int chips = o.maps.empty() ? o.chips : static_cast<int>(o.maps.size());
  if (!o.save_maps.empty()) std::filesystem::create_directories(o.save_maps);
  for (int c = 0; c < chips; ++c) {
    FaultMap map;
    if (o.maps.empty()) {
      map = generate_fault_map(r.geometry, o.seed + static_cast<std::uint64_t>(c), max_ber, curve);
      if (!o.save_maps.empty())
        write_fault_map(map, o.save_maps + "/chip" + std::to_string(map.seed) + ".csv");
    } else {
      map = read_fault_map(o.maps[static_cast<size_t>(c)]);
      if (map.geometry.words != r.geometry.words || map.geometry.width != r.geometry.width)
        throw SramError(o.maps[static_cast<size_t>(c)] + ": fault map of a " + std::to_string(map.geometry.words) +
                        " x " + std::to_string(map.geometry.width) + " buffer, the weight buffer is " +
                        std::to_string(r.geometry.words) + " x " + std::to_string(r.geometry.width));
    }
    r.chip_seeds.push_back(map.seed);
    FaultMap act_map;
    if (r.act_geometry) {
      act_map = generate_fault_map(*r.act_geometry, map.seed, max_ber, curve, "activations");
      if (!o.save_maps.empty())
        write_fault_map(act_map, o.save_maps + "/chip" + std::to_string(map.seed) + "_activations.csv");
    }
    for (PointStats& s : r.points) {
      const std::vector<Fault> active = map.at_ber(s.point.ber);
      std::uint64_t flipped = 0;
      auto faulty = std::make_shared<tflite::Model>(apply_weight_faults(model, layout, active, &flipped));
      const engine::Engine e(faulty, kernels);
      std::optional<ActivationFaults> act;
      if (r.act_geometry) {
        act = ActivationFaults{*r.act_geometry, act_map.at_ber(s.point.ber), o.act_array_rows, o.act_array_cols};
        s.act_faulty_cells.push_back(act->faults.size());
      }
      s.top1.push_back(top1_accuracy(e, inputs, o.jobs, act ? &*act : nullptr));
      s.faulty_cells.push_back(active.size());
      s.flipped_bits.push_back(flipped);
    }
  }
  return r;
}

nlohmann::json to_json(const SweepResult& r) {
  nlohmann::json j;
  j["clean_top1"] = r.clean_top1;
  j["weight_buffer"] = {{"words", r.geometry.words}, {"width", r.geometry.width}, {"weight_bytes", r.weight_bytes}};
  if (r.act_geometry)
    j["activation_buffer"] = {{"words", r.act_geometry->words}, {"width", r.act_geometry->width},
                              {"layout", r.act_array_rows ? "array " + std::to_string(r.act_array_rows) + "x" +
                                                                std::to_string(r.act_array_cols) + " (im2col rows)"
                                                          : std::string("nhwc")}};
  j["chip_seeds"] = r.chip_seeds;
  j["points"] = nlohmann::json::array();
  for (const PointStats& s : r.points) {
    nlohmann::json p;
    p["ber"] = s.point.ber;
    if (s.point.voltage) p["voltage"] = *s.point.voltage;
    p["top1_mean"] = s.mean();
    p["top1_std"] = s.stddev();
    p["top1_min"] = *std::min_element(s.top1.begin(), s.top1.end());
    p["top1_max"] = *std::max_element(s.top1.begin(), s.top1.end());
    p["top1_per_chip"] = s.top1;
    p["faulty_cells_per_chip"] = s.faulty_cells;
    p["flipped_bits_per_chip"] = s.flipped_bits;
    if (r.act_geometry) p["activation_faulty_cells_per_chip"] = s.act_faulty_cells;
    j["points"].push_back(p);
  }
  return j;
}

}  // namespace vosa::sram
