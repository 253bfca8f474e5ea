// `vosa sram faultmap | ber | eval` (docs/sram.md).
#include "vosa/sram_command.hpp"

#include "vosa/infer.hpp"
#include "vosa/neuralfuse.hpp"
#include "vosa/number_list.hpp"
#include "vosa/sram_eval.hpp"
#include "vosa/sram_cell.hpp"
#include "vosa/output_file.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <thread>

namespace vosa::sram {
namespace {

void write_json(const nlohmann::json& j, const std::string& path, int indent = 2) {
  write_output_file(path, j.dump(indent) + "\n");
}

void add_faultmap_command(CLI::App* sram) {
  struct Options {
    std::string model, curve, out, buffer = "weights";
    std::uint64_t words = 0, seed = 1;
    int width = 64;
    double max_ber = 0.01;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = sram->add_subcommand("faultmap",
                                   "Draw one simulated chip's persistent SRAM fault map (every cell with failure "
                                   "quantile below --max-ber) and write it as CSV (docs/sram.md)");
  cmd->option_defaults()->always_capture_default();
  auto* words = cmd->add_option("--words", o->words, "buffer depth in words");
  auto* model = cmd->add_option("--model", o->model,
                                "or: size the buffer for this model (its weights, or its largest array-layer input "
                                "with --buffer activations)");
  cmd->add_option("--buffer", o->buffer, "which buffer of the chip (each has its own draws)")
      ->check(CLI::IsMember({"weights", "activations"}));
  words->excludes(model);
  cmd->add_option("--width", o->width, "word width in bits")->check(CLI::Range(1, 4096));
  cmd->add_option("--seed", o->seed, "chip seed (the same seed gives the same chip)");
  cmd->add_option("--max-ber", o->max_ber, "list every cell faulty up to this bit-error rate");
  cmd->add_option("--ber-curve", o->curve, "BER(V) curve JSON: also write each cell's failure voltage");
  cmd->add_option("-o,--out", o->out, "fault map CSV to write")->required();
  cmd->callback([o]() {
    Geometry g{o->words, o->width};
    if (!o->model.empty()) {
      const tflite::Model m = tflite::load_tflite(o->model);
      g = o->buffer == "weights" ? geometry_for_model(m, o->width) : activation_geometry_for_model(m, o->width);
    }
    if (g.words == 0) throw SramError("give --words N or --model M.tflite");
    std::optional<BerCurve> curve;
    if (!o->curve.empty()) curve = load_ber_curve(o->curve);
    const FaultMap m = generate_fault_map(g, o->seed, o->max_ber, curve ? &*curve : nullptr, o->buffer);
    write_fault_map(m, o->out);
    std::cout << o->out << ": " << o->buffer << " buffer, " << g.words << " x " << g.width << " bits, seed " << o->seed << ", "
              << m.faults.size() << " cells faulty up to BER " << o->max_ber << "\n";
  });
}

void add_ber_command(CLI::App* sram) {
  struct Options {
    std::string curve, voltages;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = sram->add_subcommand("ber", "Print the bit-error rate of a BER(V) curve at the given voltages");
  cmd->add_option("--ber-curve", o->curve, "BER(V) curve JSON (docs/sram.md)")->required();
  cmd->add_option("--voltages", o->voltages, "supply voltages V1,V2,...")->required();
  cmd->callback([o]() {
    const BerCurve c = load_ber_curve(o->curve);
    // Access energy as C V^2 (bit-line and word-line swings; the capacitances do
    // not change with the supply to first order), leakage not counted.
    std::cout << "BER(V) from " << c.path << " (" << c.source << ")\n  voltage  BER         access energy / at "
              << c.nominal_v << " V (C V^2)\n";
    for (double v : parse_number_list(o->voltages, "--voltages")) {
      char line[96];
      std::snprintf(line, sizeof line, "  %.3f    %.3e   %.4f\n", v, c.ber_at(v), v * v / (c.nominal_v * c.nominal_v));
      std::cout << line;
    }
  });
}

void add_eval_command(CLI::App* sram) {
  struct Options {
    std::string model, data, bers, voltages, curve, json, maps, act_array;
    size_t limit = 0, first = 0;
    engine::EngineInputOptions input;
    SweepOptions sweep;
  };
  auto o = std::make_shared<Options>();
  o->sweep.jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto* cmd = sram->add_subcommand(
      "eval",
      "Top-1 accuracy with the weights read through faulty SRAM: per bit-error rate (--bers) or supply voltage\n"
      "(--voltages with --ber-curve), over --chips simulated chips (persistent fault maps); mean, spread,\n"
      "min and max over chips (docs/sram.md).");
  cmd->option_defaults()->always_capture_default();
  cmd->add_option("-m,--model", o->model, "model (.tflite, int8)")->required();
  cmd->add_option("-d,--data", o->data, "data directory")->required();
  cmd->add_option("-n,--limit", o->limit, "use N samples (0 = all)");
  cmd->add_option("--first", o->first, "start at this sample (e.g. to keep evaluation apart from training inputs)");
  add_engine_input_options(cmd, o->input);
  auto* bers = cmd->add_option("--bers", o->bers, "bit-error rates, e.g. 0.001,0.005,0.01");
  auto* volts = cmd->add_option("--voltages", o->voltages, "or: SRAM supply voltages (needs --ber-curve)");
  bers->excludes(volts);
  cmd->add_option("--ber-curve", o->curve, "BER(V) curve JSON for --voltages");
  cmd->add_option("--chips", o->sweep.chips, "simulated chips (fault maps)")->check(CLI::Range(1, 100000));
  cmd->add_option("--seed", o->sweep.seed, "seed of chip 0 (chip c has seed + c)");
  cmd->add_option("--width", o->sweep.width, "weight buffer word width (bits, multiple of 8)");
  cmd->add_option("--words", o->sweep.words, "weight buffer depth (0: just large enough for the model's weights)");
  cmd->add_flag("--activations", o->sweep.activations,
                "also read every array layer's input through a faulty activation buffer (each chip's own map, "
                "as deep as the largest layer input)");
  cmd->add_option("--act-width", o->sweep.act_width, "activation buffer word width (bits, multiple of 8)");
  cmd->add_option("--act-array", o->act_array,
                  "with --activations: the activation buffer of a buffered RxC array instead (config \"buffers\"; "
                  "the im2col rows of each layer, row m in word m mod --act-depth: docs/sram.md)");
  cmd->add_option("--act-depth", o->sweep.act_depth, "with --act-array: the array's act_depth (words)");
  cmd->add_option("--maps", o->maps, "evaluate these fault-map CSVs (comma-separated) instead of --chips new ones");
  cmd->add_option("--save-maps", o->sweep.save_maps, "write each chip's fault map into this folder");
  cmd->add_option("-j,--jobs", o->sweep.jobs, "worker threads")->check(CLI::Range(1, 256));
  cmd->add_option("--json", o->json, "also write the results to this JSON file");
  cmd->callback([o]() {
    const tflite::Model model = tflite::load_tflite(o->model);
    const engine::Dataset data = engine::load_dataset(o->data);
    std::vector<SweepPoint> points;
    std::optional<BerCurve> curve;
    if (!o->curve.empty()) curve = load_ber_curve(o->curve);
    if (!o->voltages.empty()) {
      if (!curve) throw SramError("--voltages needs --ber-curve (the SRAM's BER(V))");
      for (double v : parse_number_list(o->voltages, "--voltages")) points.push_back({curve->ber_at(v), v});
    } else if (!o->bers.empty()) {
      for (double b : parse_number_list(o->bers, "--bers")) {
        check_ber(b, "--bers");
        points.push_back({b, std::nullopt});
      }
    } else {
      throw SramError("give --bers B1,B2,... or --voltages V1,... with --ber-curve");
    }
    o->sweep.maps = vosa::split_list(o->maps);
    if (!o->act_array.empty()) {  // "RxC"
      const auto x = o->act_array.find('x');
      try {
        if (x == std::string::npos) throw std::invalid_argument("no x");
        o->sweep.act_array_rows = std::stoi(o->act_array.substr(0, x));
        o->sweep.act_array_cols = std::stoi(o->act_array.substr(x + 1));
      } catch (const std::exception&) {
        throw SramError("--act-array '" + o->act_array + "': expected ROWSxCOLS, e.g. 8x8");
      }
      if (o->sweep.act_array_rows < 1 || o->sweep.act_array_cols < 1)
        throw SramError("--act-array '" + o->act_array + "': rows and columns must be >= 1");
    }
    const size_t available = data.samples.size() > o->first ? data.samples.size() - o->first : 0;
    const size_t n = o->limit ? std::min(o->limit, available) : available;
    const Inputs inputs = load_inputs(model, data, o->first, n, o->input.input_encoding(model.input(), data),
                                      o->input.resize_mode());
    const SweepResult r = sweep(model, inputs, points, o->sweep, curve ? &*curve : nullptr, o->input.kernel_path());
    std::printf("vosa sram eval: %s, %zu inputs from %s (from #%zu); weight buffer %llu x %d bits (%llu weight "
                "bytes), %zu chip(s) from seed %llu\nclean top-1 %.2f %%\n",
                o->model.c_str(), n, o->data.c_str(), o->first, static_cast<unsigned long long>(r.geometry.words),
                r.geometry.width, static_cast<unsigned long long>(r.weight_bytes), r.chip_seeds.size(),
                static_cast<unsigned long long>(r.chip_seeds.empty() ? 0 : r.chip_seeds.front()), 100 * r.clean_top1);
    if (r.act_geometry)
      std::printf("activation buffer %llu x %d bits (%s)\n", static_cast<unsigned long long>(r.act_geometry->words),
                  r.act_geometry->width,
                  o->sweep.act_array_rows ? ("the " + o->act_array + " array's: every array layer's im2col rows read "
                                             "through it").c_str()
                                          : "every array layer's input read through it");
    std::printf("  %-9s %-10s %-11s %-9s %-9s %-9s %s\n", "voltage", "BER", "top-1 mean", "std", "min", "max",
                "flipped bits (mean)");
    for (const PointStats& s : r.points) {
      double flipped = 0;
      for (auto f : s.flipped_bits) flipped += static_cast<double>(f);
      flipped /= static_cast<double>(s.flipped_bits.size());
      char v[32] = "-";
      if (s.point.voltage) std::snprintf(v, sizeof v, "%.3f", *s.point.voltage);
      std::printf("  %-9s %-10.3e %-11.2f %-9.2f %-9.2f %-9.2f %.0f\n", v, s.point.ber, 100 * s.mean(),
                  100 * s.stddev(), 100 * *std::min_element(s.top1.begin(), s.top1.end()),
                  100 * *std::max_element(s.top1.begin(), s.top1.end()), flipped);
    }
    if (!o->json.empty()) {
      nlohmann::json j = to_json(r);
      j["model"] = o->model;
      j["data"] = o->data;
      j["inputs"] = n;
      j["first_input"] = o->first;
      if (curve) j["ber_curve"] = {{"path", curve->path}, {"source", curve->source}};
      write_json(j, o->json);
    }
  });
}

// Inputs [first, first + limit) of a data set, as the engine gets them.
struct DataOptions {
  std::string model, data;
  size_t limit = 0, first = 0;
  engine::EngineInputOptions input;
  void add(CLI::App* cmd) {
    cmd->add_option("-m,--model", model, "model (.tflite, int8)")->required();
    cmd->add_option("-d,--data", data, "data directory")->required();
    cmd->add_option("-n,--limit", limit, "use N samples (0 = all from --first on)");
    cmd->add_option("--first", first, "start at this sample");
    add_engine_input_options(cmd, input);
  }
  Inputs load(const tflite::Model& m) const {
    const engine::Dataset d = engine::load_dataset(data);
    const size_t available = d.samples.size() > first ? d.samples.size() - first : 0;
    const size_t n = limit ? std::min(limit, available) : available;
    return load_inputs(m, d, first, n, input.input_encoding(m.input(), d), input.resize_mode());
  }
};

void add_fuse_train_command(CLI::App* sram) {
  auto o = std::make_shared<FuseTrainOptions>();
  auto d = std::make_shared<DataOptions>();
  auto out = std::make_shared<std::string>();
  o->jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto* cmd = sram->add_subcommand(
      "fuse-train",
      "Train a NeuralFuse-style input transformation (restricted access: SPSA against the int8 engine on\n"
      "--train-chips chips with faulty weight SRAM at --ber; docs/sram.md). Use training inputs and chip seeds\n"
      "that `vosa sram fuse-eval` will not use.");
  cmd->option_defaults()->always_capture_default();
  d->add(cmd);
  cmd->add_option("--ber", o->ber, "bit-error rate of the training chips");
  cmd->add_option("--train-chips", o->train_chips, "training chips (seeds --train-seed ..)");
  cmd->add_option("--train-seed", o->train_seed, "seed of the first training chip");
  cmd->add_option("--chips-per-step", o->chips_per_step, "faulty models per loss evaluation (EOPM's N)");
  cmd->add_option("--steps", o->steps, "SPSA steps");
  cmd->add_option("--batch", o->batch, "inputs per step");
  cmd->add_option("--directions", o->directions, "SPSA perturbations averaged per step");
  cmd->add_option("--lambda", o->lambda, "weight of the faulty-model loss");
  cmd->add_option("--learning-rate", o->learning_rate, "Adam step (input LSBs)");
  cmd->add_option("--perturbation", o->perturbation, "SPSA perturbation (input LSBs)");
  cmd->add_option("--grid", o->grid, "pattern grid (grid x grid x channels, upsampled)");
  cmd->add_option("--width", o->width, "weight buffer word width (bits)");
  cmd->add_option("--seed", o->seed, "seed of the minibatch and perturbation draws");
  cmd->add_option("-j,--jobs", o->jobs, "worker threads")->check(CLI::Range(1, 256));
  cmd->add_option("-o,--out", *out, "transform JSON to write")->required();
  cmd->callback([o, d, out]() {
    const tflite::Model model = tflite::load_tflite(d->model);
    const Inputs train = d->load(model);
    std::cout << "vosa sram fuse-train: " << d->model << ", " << train.tensors.size() << " training inputs from "
              << d->data << " (from #" << d->first << "), BER " << o->ber << ", chips " << o->train_seed << ".."
              << o->train_seed + static_cast<std::uint64_t>(o->train_chips) - 1 << "\n";
    const InputTransform t = train_transform(model, train, *o, d->input.kernel_path(), 10);
    nlohmann::json meta;
    meta["trained"] = {{"model", d->model}, {"data", d->data}, {"first", d->first},
                       {"inputs", train.tensors.size()}, {"ber", o->ber}, {"train_seed", o->train_seed},
                       {"train_chips", o->train_chips}, {"chips_per_step", o->chips_per_step},
                       {"steps", o->steps}, {"directions", o->directions}, {"batch", o->batch}, {"lambda", o->lambda},
                       {"learning_rate", o->learning_rate}, {"perturbation", o->perturbation},
                       {"width", o->width}, {"seed", o->seed}};
    write_transform(t, meta, *out);
    std::cout << *out << ": " << t.parameters().size() << " parameters, " << t.ops_per_inference()
              << " operations per inference\n";
  });
}

void add_fuse_eval_command(CLI::App* sram) {
  struct Options {
    std::string transform, transformed, bers = "0.01", json;
    SweepOptions sweep;
  };
  auto o = std::make_shared<Options>();
  auto d = std::make_shared<DataOptions>();
  o->sweep.jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto* cmd = sram->add_subcommand(
      "fuse-eval",
      "Accuracy with and without a trained input transformation on --chips chips with faulty weight SRAM;\n"
      "refuses chips or inputs the transform was trained on (docs/sram.md).");
  cmd->option_defaults()->always_capture_default();
  d->add(cmd);
  auto* transform = cmd->add_option("--transform", o->transform, "transform JSON from vosa sram fuse-train");
  auto* transformed = cmd->add_option(
      "--transformed", o->transformed,
      "or: a data folder of the same inputs already transformed (by an input-dependent generator, e.g.\n"
      "scripts/neuralfuse_relaxed.py), holding transform.json with its training record and cost");
  transform->excludes(transformed);
  cmd->add_option("--bers", o->bers, "bit-error rates");
  cmd->add_option("--chips", o->sweep.chips, "evaluation chips")->check(CLI::Range(1, 100000));
  cmd->add_option("--seed", o->sweep.seed, "seed of the first evaluation chip");
  cmd->add_option("-j,--jobs", o->sweep.jobs, "worker threads")->check(CLI::Range(1, 256));
  cmd->add_option("--json", o->json, "also write the results to this JSON file");
  cmd->callback([o, d]() {
    const tflite::Model model = tflite::load_tflite(d->model);
    if (o->transform.empty() == o->transformed.empty()) throw SramError("give --transform T.json or --transformed DIR");
    const std::string meta_path =
        o->transform.empty() ? (std::filesystem::path(o->transformed) / "transform.json").string() : o->transform;
    nlohmann::json meta;
    {
      std::ifstream in(meta_path);
      if (!in) throw SramError(meta_path + ": cannot open");
      try {
        in >> meta;
      } catch (const nlohmann::json::exception& e) {
        throw SramError(meta_path + ": not JSON (" + e.what() + ")");
      }
    }
    if (!meta.contains("trained") || !meta["trained"].is_object())
      throw SramError(meta_path + ": no 'trained' record (training data and chips)");
    const nlohmann::json& tr = meta.at("trained");
    // Disjoint chips and inputs: evaluating on training material would overstate the recovery.
    const std::uint64_t t0 = tr.at("train_seed"), t1 = t0 + tr.at("train_chips").get<std::uint64_t>();
    const std::uint64_t e0 = o->sweep.seed, e1 = e0 + static_cast<std::uint64_t>(o->sweep.chips);
    if (e0 < t1 && t0 < e1)
      throw SramError("evaluation chips " + std::to_string(e0) + ".." + std::to_string(e1 - 1) +
                      " overlap the transform's training chips " + std::to_string(t0) + ".." + std::to_string(t1 - 1) +
                      " (" + o->transform + "); choose another --seed");
    std::error_code same_error;
    if (std::filesystem::equivalent(tr.at("data").get<std::string>(), d->data, same_error)) {
      const size_t a0 = tr.at("first"), a1 = a0 + tr.at("inputs").get<size_t>();
      const size_t b0 = d->first, b1 = d->limit ? d->first + d->limit : std::numeric_limits<size_t>::max();
      if (b0 < a1 && a0 < b1)
        throw SramError("evaluation inputs overlap the transform's training inputs #" + std::to_string(a0) + ".." +
                        std::to_string(a1 - 1) + " of " + d->data + "; choose --first/--limit outside them");
    }
    o->sweep.width = tr.value("width", 64);
    const Inputs inputs = d->load(model);
    // The transformed inputs and the transform's operations per inference.
    Inputs transformed_inputs;
    std::int64_t transform_ops = 0;
    if (!o->transform.empty()) {
      const InputTransform t = read_transform(o->transform);
      transformed_inputs = t.apply(inputs);
      transform_ops = t.ops_per_inference();
    } else {
      if (!meta.contains("ops_per_inference") || !meta["ops_per_inference"].is_number_integer())
        throw SramError(meta_path + ": no integer 'ops_per_inference' (the transform's cost)");
      transform_ops = meta["ops_per_inference"].get<std::int64_t>();
      DataOptions td = *d;
      td.data = o->transformed;
      td.first = 0;
      td.limit = inputs.tensors.size();
      transformed_inputs = td.load(model);
      if (transformed_inputs.labels != inputs.labels)
        throw SramError(o->transformed + ": its labels differ from those of " + d->data +
                        " (from #" + std::to_string(d->first) + "): not the same inputs transformed");
    }
    std::vector<SweepPoint> points;
    for (double b : parse_number_list(o->bers, "--bers")) {
      check_ber(b, "--bers");
      points.push_back({b, std::nullopt});
    }
    const SweepResult plain = sweep(model, inputs, points, o->sweep, nullptr, d->input.kernel_path());
    const SweepResult fused = sweep(model, transformed_inputs, points, o->sweep, nullptr, d->input.kernel_path());
    const double overhead = static_cast<double>(transform_ops) /
                            static_cast<double>(engine::Engine(std::make_shared<tflite::Model>(model)).macs_per_inference());
    std::printf("vosa sram fuse-eval: %s with %s, %zu inputs from %s (from #%zu), chips %llu..%llu\n"
                "clean top-1 %.2f %% without the transform, %.2f %% with it; transform cost %.4f %% of the model's MACs\n",
                d->model.c_str(), meta_path.c_str(), inputs.tensors.size(), d->data.c_str(), d->first,
                static_cast<unsigned long long>(e0), static_cast<unsigned long long>(e1 - 1), 100 * plain.clean_top1,
                100 * fused.clean_top1, 100 * overhead);
    std::printf("  %-10s %-22s %-22s %s\n", "BER", "top-1 without (std)", "top-1 with (std)", "recovered");
    nlohmann::json j;
    j["transform"] = meta_path;
    j["transform_ops_per_inference"] = transform_ops;
    j["inputs"] = inputs.tensors.size();
    j["clean_top1"] = plain.clean_top1;
    j["clean_top1_with_transform"] = fused.clean_top1;
    j["transform_ops_fraction"] = overhead;
    j["without"] = to_json(plain);
    j["with"] = to_json(fused);
    for (size_t i = 0; i < points.size(); ++i) {
      const PointStats &a = plain.points[i], &b = fused.points[i];
      const double lost = plain.clean_top1 - a.mean();
      const double recovered = lost > 0 ? (b.mean() - a.mean()) / lost : 0;
      std::printf("  %-10.3e %6.2f %% (%5.2f)       %6.2f %% (%5.2f)       %.1f %% of the lost accuracy\n",
                  points[i].ber, 100 * a.mean(), 100 * a.stddev(), 100 * b.mean(), 100 * b.stddev(), 100 * recovered);
      j["recovered"].push_back({{"ber", points[i].ber}, {"fraction", recovered}});
    }
    if (!o->json.empty()) write_json(j, o->json);
  });
}

// A constant tensor's values as numbers (int8, uint8, int32 little-endian).
nlohmann::json constant_values(const tflite::Tensor& t, const std::string& what) {
  nlohmann::json v = nlohmann::json::array();
  switch (t.type) {
    case tflite::TensorType::kInt8:
      for (uint8_t b : t.data) v.push_back(static_cast<int8_t>(b));
      break;
    case tflite::TensorType::kUInt8:
      for (uint8_t b : t.data) v.push_back(b);
      break;
    case tflite::TensorType::kInt32:
      for (size_t i = 0; i + 4 <= t.data.size(); i += 4)
        v.push_back(static_cast<int32_t>(static_cast<uint32_t>(t.data[i]) | static_cast<uint32_t>(t.data[i + 1]) << 8 |
                                         static_cast<uint32_t>(t.data[i + 2]) << 16 |
                                         static_cast<uint32_t>(t.data[i + 3]) << 24));
      break;
    default:
      throw SramError(what + ": constant of type " + tflite::to_string(t.type) +
                      " cannot be exported (int8, uint8 and int32 only)");
  }
  return v;
}

// The model as a float replica needs it (graph, quantization, constants) and,
// per chip, the weight bytes that its faulty cells change.
nlohmann::json export_model(const tflite::Model& model) {
  nlohmann::json j;
  j["schema"] = "vosa-sram-export";
  j["version"] = 1;
  j["model"] = model.path;
  j["inputs"] = model.inputs;
  j["outputs"] = model.outputs;
  for (size_t i = 0; i < model.tensors.size(); ++i) {
    const tflite::Tensor& t = model.tensors[i];
    nlohmann::json x = {{"index", i}, {"name", t.name}, {"shape", t.shape}, {"type", tflite::to_string(t.type)},
                        {"scale", t.scale}, {"zero_point", t.zero_point},
                        {"quantized_dimension", t.quantized_dimension}};
    if (t.is_constant()) x["data"] = constant_values(t, model.path + ": tensor " + std::to_string(i) + " '" + t.name + "'");
    j["tensors"].push_back(x);
  }
  for (const tflite::Operator& op : model.operators) {
    j["operators"].push_back({{"type", tflite::to_string(op.type)}, {"inputs", op.inputs}, {"outputs", op.outputs},
                              {"padding", op.padding == tflite::Padding::kSame ? "SAME" : "VALID"},
                              {"stride", {op.stride_h, op.stride_w}}, {"dilation", {op.dilation_h, op.dilation_w}},
                              {"filter", {op.filter_h, op.filter_w}}, {"depth_multiplier", op.depth_multiplier},
                              {"activation", tflite::to_string(op.activation)}, {"softmax_beta", op.softmax_beta},
                              {"keep_dims", op.keep_dims}});
  }
  return j;
}

void add_export_command(CLI::App* sram) {
  struct Options {
    std::string model, bers, maps, out;
    int chips = 0, width = 64;
    std::uint64_t seed = 1;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = sram->add_subcommand(
      "export",
      "Write a model's graph, quantization parameters and int8 constants as JSON, and for each chip (--chips from\n"
      "--seed at --bers, drawn as `vosa sram eval` draws them, or --maps files) every weight byte its faulty\n"
      "weight-buffer cells change: the input of a float replica (scripts/neuralfuse_relaxed.py, docs/sram.md)");
  cmd->option_defaults()->always_capture_default();
  cmd->add_option("-m,--model", o->model, "model (.tflite, int8)")->required();
  cmd->add_option("--chips", o->chips, "chips to export (seeds --seed, --seed + 1, ...)")->check(CLI::Range(0, 100000));
  cmd->add_option("--seed", o->seed, "seed of the first chip");
  cmd->add_option("--bers", o->bers, "bit-error rates, as given to `vosa sram eval --bers` (a chip is drawn up to the largest)");
  auto* maps = cmd->add_option("--maps", o->maps, "or: these fault-map CSVs (comma-separated)");
  maps->excludes("--chips");
  cmd->add_option("--width", o->width, "weight buffer word width (bits, multiple of 8)");
  cmd->add_option("-o,--out", o->out, "JSON to write")->required();
  cmd->callback([o]() {
    const tflite::Model model = tflite::load_tflite(o->model);
    const Geometry g = geometry_for_model(model, o->width);
    const WeightLayout layout = weight_layout(model, g);
    std::vector<double> bers;
    if (!o->bers.empty()) bers = parse_number_list(o->bers, "--bers");
    for (double b : bers) check_ber(b, "--bers");
    const std::vector<std::string> map_files = vosa::split_list(o->maps);
    if ((o->chips > 0 || !map_files.empty()) && bers.empty()) throw SramError("chips need --bers B1,B2,...");
    const double max_ber = bers.empty() ? 0 : *std::max_element(bers.begin(), bers.end());
    nlohmann::json j = export_model(model);
    j["weight_buffer"] = {{"words", g.words}, {"width", g.width}};
    for (const WeightRegion& r : layout.regions)
      j["weight_buffer"]["regions"].push_back({{"op", r.op}, {"tensor", r.tensor}, {"offset", r.offset}, {"bytes", r.bytes}});
    j["chips"] = nlohmann::json::array();
    const int chips = map_files.empty() ? o->chips : static_cast<int>(map_files.size());
    for (int c = 0; c < chips; ++c) {
      const FaultMap map = map_files.empty()
                               ? generate_fault_map(g, o->seed + static_cast<std::uint64_t>(c), max_ber)
                               : read_fault_map(map_files[static_cast<size_t>(c)]);
      if (map.geometry.words != g.words || map.geometry.width != g.width)
        throw SramError(map_files.at(static_cast<size_t>(c)) + ": fault map of a " + std::to_string(map.geometry.words) +
                        " x " + std::to_string(map.geometry.width) + " buffer, the weight buffer is " +
                        std::to_string(g.words) + " x " + std::to_string(g.width));
      nlohmann::json chip = {{"seed", map.seed}, {"max_ber", map.max_ber}};
      if (!map_files.empty()) chip["map"] = map_files[static_cast<size_t>(c)];
      for (double b : bers) {
        const std::vector<Fault> active = map.at_ber(b);
        std::uint64_t flipped = 0;
        const tflite::Model faulty = apply_weight_faults(model, layout, active, &flipped);
        nlohmann::json changed = nlohmann::json::array();  // [tensor, element, value as read]
        for (const WeightRegion& r : layout.regions) {
          const auto& clean = model.tensor(r.tensor).data;
          const auto& read = faulty.tensor(r.tensor).data;
          for (size_t k = 0; k < clean.size(); ++k)
            if (clean[k] != read[k]) changed.push_back({r.tensor, k, static_cast<int8_t>(read[k])});
        }
        chip["points"].push_back({{"ber", b}, {"faulty_cells", active.size()}, {"flipped_bits", flipped},
                                  {"changed", changed}});
      }
      j["chips"].push_back(chip);
    }
    write_json(j, o->out, -1);  // compact: the constants are long lists
    std::cout << o->out << ": " << model.tensors.size() << " tensors, " << model.operators.size() << " operators, "
              << chips << " chip(s)\n";
  });
}

void add_spice_ber_command(CLI::App* sram) {
  struct Options {
    std::string pdk = "sky130hd", voltages, out, cache_dir;
    spice::SramCellOptions cell;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = sram->add_subcommand(
      "spice-ber",
      "BER(V) of a 6T SRAM cell from an ngspice Monte Carlo of threshold mismatch (the PDK models' Pelgrom\n"
      "coefficients): static hold, read and write margins per sampled cell at each voltage, a Gaussian fit of\n"
      "each margin for the tail; writes a BER(V) curve JSON for --ber-curve (docs/sram.md)");
  cmd->option_defaults()->always_capture_default();
  cmd->add_option("-p,--pdk", o->pdk, "PDK name or config file (needs a 'spice' field with sky130 models)");
  cmd->add_option("--voltages", o->voltages, "SRAM supplies V1,V2,... (increasing)")->required();
  cmd->add_option("--samples", o->cell.samples, "Monte Carlo cells (the same cells at every voltage)")
      ->check(CLI::Range(2, 1000000));
  cmd->add_option("--seed", o->cell.seed, "seed of the Vth draws");
  cmd->add_option("--process", o->cell.process, "model section (tt, ss, ff, sf, fs)");
  cmd->add_option("--temperature", o->cell.temperature_c, "temperature in C");
  cmd->add_option("--pull-down-w", o->cell.pull_down_w, "pull-down width (um)");
  cmd->add_option("--pass-w", o->cell.pass_w, "access transistor width (um)");
  cmd->add_option("--pull-up-w", o->cell.pull_up_w, "pull-up width (um)");
  cmd->add_option("--length", o->cell.length, "channel length of all six (um)");
  cmd->add_option("--cells-per-deck", o->cell.cells_per_deck, "cells per ngspice deck")->check(CLI::Range(1, 1000));
  cmd->add_option("-j,--workers", o->cell.workers, "ngspice processes at once")->check(CLI::Range(1, 64));
  cmd->add_option("--cache-dir", o->cache_dir, "PDK cache (default: $VOSA_PDK_CACHE or build/pdk)");
  cmd->add_option("-o,--out", o->out, "BER(V) curve JSON to write")->required();
  cmd->callback([o]() {
    spice::SramCellOptions c = o->cell;
    c.voltages = parse_number_list(o->voltages, "--voltages");
    c.cache_dir = o->cache_dir.empty() ? pdk::default_cache_dir() : std::filesystem::path(o->cache_dir);
    const pdk::PdkConfig p = pdk::load_pdk(o->pdk);
    const spice::SramCellResult r = spice::simulate_sram_cell(p, c);
    std::ostringstream command;
    command << "vosa sram spice-ber --pdk " << o->pdk << " --process " << c.process << " --temperature "
            << c.temperature_c << " --samples " << c.samples << " --seed " << c.seed << " --voltages " << o->voltages;
    spice::write_sram_ber_curve(r, command.str(), o->out);
    std::printf("6T cell (W pd/pass/pu %.2f/%.2f/%.2f um, L %.2f um), sigma Vth %.1f/%.1f/%.1f mV, %d cells, %s %.0f C\n",
                c.pull_down_w, c.pass_w, c.pull_up_w, c.length, 1e3 * r.sigma_vth_pull_down, 1e3 * r.sigma_vth_pass,
                1e3 * r.sigma_vth_pull_up, c.samples, c.process.c_str(), c.temperature_c);
    std::printf("  V      hold mean/sd mV   read mean/sd mV   write mean/sd mV  failed cells  BER (fit)\n");
    for (const auto& pt : r.points)
      std::printf("  %.3f  %7.1f %6.1f     %7.1f %6.1f     %7.1f %6.1f     %5d         %.3e\n", pt.voltage,
                  1e3 * pt.hold.mean, 1e3 * pt.hold.sigma, 1e3 * pt.read.mean, 1e3 * pt.read.sigma,
                  1e3 * pt.write.mean, 1e3 * pt.write.sigma, pt.failed_cells, pt.ber);
    std::printf("%s: %d ngspice decks, %.1f s\n", o->out.c_str(), r.simulations, r.seconds);
  });
}

}  // namespace

void add_sram_command(CLI::App& app) {
  auto* sram = app.add_subcommand("sram",
                                  "On-chip SRAM at low voltage: BER(V), persistent per-chip fault maps, accuracy "
                                  "with faulty weight buffers (docs/sram.md)");
  sram->require_subcommand(1);
  add_faultmap_command(sram);
  add_ber_command(sram);
  add_spice_ber_command(sram);
  add_eval_command(sram);
  add_fuse_train_command(sram);
  add_fuse_eval_command(sram);
  add_export_command(sram);
}

}  // namespace vosa::sram
