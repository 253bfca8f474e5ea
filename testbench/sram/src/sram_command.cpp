// `vosa sram faultmap | ber | eval` (docs/sram.md).
#include "vosa/sram_command.hpp"

#include "vosa/infer.hpp"
#include "vosa/number_list.hpp"
#include "vosa/sram_eval.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

namespace vosa::sram {
namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

void write_json(const nlohmann::json& j, const std::string& path) {
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial);
    out << j.dump(2) << "\n";
    if (!out) throw SramError("cannot write " + path);
  }
  std::filesystem::rename(partial, path);
}

void add_faultmap_command(CLI::App* sram) {
  struct Options {
    std::string model, curve, out;
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
  auto* model = cmd->add_option("--model", o->model, "or: size the buffer to hold this model's weights");
  words->excludes(model);
  cmd->add_option("--width", o->width, "word width in bits")->check(CLI::Range(1, 4096));
  cmd->add_option("--seed", o->seed, "chip seed (the same seed gives the same chip)");
  cmd->add_option("--max-ber", o->max_ber, "list every cell faulty up to this bit-error rate");
  cmd->add_option("--ber-curve", o->curve, "BER(V) curve JSON: also write each cell's failure voltage");
  cmd->add_option("-o,--out", o->out, "fault map CSV to write")->required();
  cmd->callback([o]() {
    Geometry g{o->words, o->width};
    if (!o->model.empty()) g = geometry_for_model(tflite::load_tflite(o->model), o->width);
    if (g.words == 0) throw SramError("give --words N or --model M.tflite");
    std::optional<BerCurve> curve;
    if (!o->curve.empty()) curve = load_ber_curve(o->curve);
    const FaultMap m = generate_fault_map(g, o->seed, o->max_ber, curve ? &*curve : nullptr);
    write_fault_map(m, o->out);
    std::cout << o->out << ": " << g.words << " x " << g.width << " bits, seed " << o->seed << ", "
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
    std::cout << "BER(V) from " << c.path << " (" << c.source << ")\n  voltage  BER\n";
    for (double v : parse_number_list(o->voltages, "--voltages")) {
      char line[96];
      std::snprintf(line, sizeof line, "  %.3f    %.3e\n", v, c.ber_at(v));
      std::cout << line;
    }
  });
}

void add_eval_command(CLI::App* sram) {
  struct Options {
    std::string model, data, bers, voltages, curve, json, maps;
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
    o->sweep.maps = split_commas(o->maps);
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

}  // namespace

void add_sram_command(CLI::App& app) {
  auto* sram = app.add_subcommand("sram",
                                  "On-chip SRAM at low voltage: BER(V), persistent per-chip fault maps, accuracy "
                                  "with faulty weight buffers (docs/sram.md)");
  sram->require_subcommand(1);
  add_faultmap_command(sram);
  add_ber_command(sram);
  add_eval_command(sram);
}

}  // namespace vosa::sram
