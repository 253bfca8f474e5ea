#include "vosa/explore/sram_joint_command.hpp"

#include "vosa/config.hpp"
#include "vosa/error_model.hpp"
#include "vosa/explore/explore_command.hpp"
#include "vosa/explore/sram_joint.hpp"
#include "vosa/infer.hpp"
#include "vosa/inject.hpp"
#include "vosa/lowering.hpp"
#include "vosa/number_list.hpp"
#include "vosa/sram.hpp"
#include "vosa/output_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

namespace vosa::explore {
namespace {

// Horowitz, "Computing's energy problem", ISSCC 2014 (45 nm, 0.9 V): a 64-bit
// read of a 32 KB SRAM costs 20 pJ, an 8-bit multiply 0.2 pJ and a 32-bit add
// 0.1 pJ. Their ratio, 0.3125 pJ per bit over 0.3 pJ per MAC, prices an SRAM
// bit against this PDK's PE when no absolute figure is given.
constexpr double kHorowitzBitPerMac = (20.0 / 64.0) / (0.2 + 0.1);

struct Options : ArrayRunOptions {
  std::string out, ber_curve, sram_voltages, injection = "thinned";
  double pj_per_bit = 0, bit_per_mac = kHorowitzBitPerMac;
  int repeats = 1, chips = 4, width = 64;
  std::uint64_t chip_seed = 1;
};

// The model read through one chip's weight SRAM at one supply, and its evaluator.
struct Chip {
  std::shared_ptr<tflite::Model> model;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<inject::FaultEvaluator> evaluator;
};

void run(const Options& o) {
  check_array_run_options(o);
  if (o.repeats < 1) throw ExploreError("--repeats must be >= 1");
  if (o.chips < 1) throw ExploreError("--chips must be >= 1");
  if (o.pj_per_bit < 0) throw ExploreError("--sram-pj-per-bit must be >= 0");
  require_file(o.ber_curve, "--ber-curve", "make sram-ber");
  if (o.out.empty() || std::filesystem::is_directory(o.out)) throw ExploreError("--out must name a JSON file");

  const ArrayConfig config = load_config(o.config);
  const ArrayGeometry geometry = ArrayGeometry::from_config(config, o.config);
  const EnergyModel energy = EnergyModel::load(o.energy, o.razor_cost, geometry, o.operating_corner);
  const ErrorModel errmodel = ErrorModel::load(o.errmodel);
  const sram::BerCurve curve = sram::load_ber_curve(o.ber_curve);
  const std::vector<double> levels = island_levels(o.levels, config, energy);
  const std::vector<std::string> level_source =
      level_delay_sources(errmodel, o.errmodel, energy, o.energy, levels, o.period_ns);
  std::vector<double> sram_voltages;
  for (const auto& v : split_list(o.sram_voltages)) sram_voltages.push_back(std::stod(v));
  if (sram_voltages.empty()) throw ExploreError("--sram-voltages: no voltage given");
  if (!(curve.nominal_v > 0)) throw ExploreError(o.ber_curve + ": nominal_v must be > 0");

  auto model = std::make_shared<tflite::Model>(tflite::load_tflite(o.model));
  const engine::Engine engine(model);
  const engine::Dataset data = engine::load_dataset(o.data);
  engine::InferOptions io;
  io.limit = o.limit;
  io.jobs = o.jobs;
  io.encoding = engine::resolve_input_encoding(o.encoding, model->input(), data);
  std::vector<std::size_t> ops;
  for (const auto& p : engine.ops())
    if (lowering::is_array_layer(p.op->type)) ops.push_back(p.index);
  // Chips' evaluators hold their own clean checkpoints: a small budget each.
  constexpr std::size_t kCheckpointBytes = std::size_t{64} << 20;
  const inject::FaultEvaluator nominal_evaluator(engine, data, io, kCheckpointBytes);
  const std::vector<char>& clean = nominal_evaluator.clean_correct();
  const std::vector<std::uint8_t> clean_u8(clean.begin(), clean.end());

  // Weight-buffer bits read per inference: one cols x weight_bits word per
  // tile row, rows per (N tile, K tile) of every array layer.
  const inject::Injector signoff_injector = inject::make_injector(
      to_inject_settings(Setting::uniform(static_cast<int>(ops.size()), static_cast<int>(geometry.islands.size()),
                                          levels.back()),
                         o.errmodel, o.period_ns, ops),
      config, o.config);
  const inject::ArrayShape& shape = signoff_injector.shape();
  double tiles = 0;
  for (const auto& p : engine.ops())
    if (lowering::is_array_layer(p.op->type))
      tiles += double(inject::layer_cycles(p.geometry, shape)) / double(inject::tile_cycles(shape, p.geometry.rows()));
  SramEnergyModel sram_energy;
  sram_energy.nominal_v = curve.nominal_v;
  sram_energy.bits_per_inference = tiles * shape.rows * shape.cols * config.weight_bits;
  if (o.pj_per_bit > 0) {
    sram_energy.pj_per_bit = o.pj_per_bit;
    sram_energy.pj_per_bit_source = "given (--sram-pj-per-bit)";
  } else {
    const double pe_pj = energy.corner_at(energy.signoff_voltage()).energy_per_mac_pj;
    sram_energy.pj_per_bit = o.bit_per_mac * pe_pj;
    char text[256];
    std::snprintf(text, sizeof text,
                  "assumed: %.4g x the PE's energy per cycle at sign-off (%.4g pJ, %s); %.4g is Horowitz ISSCC 2014, "
                  "45 nm: 32 KB SRAM 64-bit read 20 pJ per bit over an 8-bit multiply + 32-bit add 0.3 pJ",
                  o.bit_per_mac, pe_pj, energy.signoff_corner().c_str(), kHorowitzBitPerMac);
    sram_energy.pj_per_bit_source = text;
  }

  // Chip c: seed chip_seed + c, drawn once up to the BER of the lowest supply,
  // so every supply's faults are a subset of the next lower one's.
  const double lowest = *std::min_element(sram_voltages.begin(), sram_voltages.end());
  const double max_ber = curve.ber_at(lowest);
  const sram::Geometry wgeom = sram::geometry_for_model(*model, o.width);
  const sram::WeightLayout layout = sram::weight_layout(*model, wgeom);
  std::vector<sram::FaultMap> maps;
  if (max_ber > 0)
    for (int c = 0; c < o.chips; ++c)
      maps.push_back(sram::generate_fault_map(wgeom, o.chip_seed + c, max_ber, &curve));

  const inject::InjectionMode mode = inject::parse_injection_mode(o.injection);
  double chips_v = -1;
  std::vector<Chip> chips;  // the chips at supply chips_v (fault-free supplies use the nominal evaluator)
  // Top-1 (%) of each chip at each evaluated (setting, supply): the spread over chips.
  std::map<std::string, std::vector<double>> chip_top1;
  const auto point_key = [](const Setting& s, double v) { return s.key() + "@" + std::to_string(v); };
  const JointEvaluator evaluate = [&](const Setting& s, double sram_v) {
    inject::Injector injector = inject::make_injector(to_inject_settings(s, o.errmodel, o.period_ns, ops), config, o.config);
    injector.set_mode(mode);
    if (std::abs(chips_v - sram_v) > 1e-9) {
      chips.clear();
      chips_v = sram_v;
      if (curve.ber_at(sram_v) > 0)
        for (const auto& map : maps) {
          Chip chip;
          chip.model = std::make_shared<tflite::Model>(
              sram::apply_weight_faults(*model, layout, map.at_voltage(sram_v, curve)));
          chip.engine = std::make_unique<engine::Engine>(chip.model);
          chip.evaluator = std::make_unique<inject::FaultEvaluator>(*chip.engine, data, io, kCheckpointBytes);
          chips.push_back(std::move(chip));
        }
    }
    Evaluation e;
    std::vector<double> fraction(clean.size(), 0.0);
    inject::FaultyEvalResult total;
    const auto add = [&](const inject::FaultyEvalResult& r, double weight) {
      for (std::size_t i = 0; i < fraction.size(); ++i) fraction[i] += weight * r.faulty_correct.at(i);
      if (total.layers.empty()) {
        total = r;
      } else {
        for (std::size_t l = 0; l < total.layers.size(); ++l) total.layers[l] += r.layers.at(l);
        total.samples += r.samples;
      }
    };
    std::vector<double>& top1 = chip_top1[point_key(s, sram_v)];
    top1.clear();
    const auto add_chip = [&](const inject::FaultyEvalResult& r, double weight) {
      add(r, weight);
      double correct = 0;
      for (double f : r.faulty_correct) correct += f;
      top1.push_back(100.0 * correct / double(r.faulty_correct.size()));
    };
    if (chips.empty()) {
      add_chip(nominal_evaluator.evaluate(injector, o.repeats, o.seed), 1.0);
    } else {
      for (const Chip& chip : chips) add_chip(chip.evaluator->evaluate(injector, o.repeats, o.seed), 1.0 / chips.size());
    }
    const std::size_t runs = static_cast<std::size_t>(o.repeats) * std::max<std::size_t>(1, chips.size());
    e.loss = paired_loss(clean_u8, fraction, runs);
    e.injection = mode == inject::InjectionMode::kThinned && s.razor_mask ? "thinned" : "exact";
    add_layer_cycles(engine, injector, total, e);
    return e;
  };

  // The activity source of the array's energy (make explore passes the
  // simulated-activity table, energy_simulated.json).
  std::string activity = "not stated in " + o.energy;
  {
    std::ifstream in(o.energy);
    const nlohmann::json e = nlohmann::json::parse(in, nullptr, false);
    if (e.is_object() && e.contains("activity")) activity = e.value("activity_source", "") + ": " + e.value("activity", "");
  }
  ExploreOptions eo;
  eo.budget_pct = o.budget;
  eo.verify_bound = o.bound == "upper" ? Bound::kUpper : Bound::kPoint;
  std::cerr << "explore-sram: " << o.model << ": " << ops.size() << " array layers, " << clean.size() << " inputs, "
            << o.chips << " chips; SRAM supplies " << o.sram_voltages << " (nominal " << curve.nominal_v << " V)\n";
  const JointResult r =
      explore_joint(evaluate, energy, static_cast<int>(ops.size()), levels, sram_voltages, sram_energy, eo);

  nlohmann::json j = to_json(r, sram_energy);
  // Mean, sample standard deviation, min and max of top-1 over the chips.
  const auto spread = [&](const JointPoint& p) {
    const std::vector<double>& t = chip_top1.at(point_key(p.setting, p.sram_v));
    double mean = 0, var = 0;
    for (double x : t) mean += x / double(t.size());
    for (double x : t) var += (x - mean) * (x - mean);
    const double sd = t.size() > 1 ? std::sqrt(var / double(t.size() - 1)) : 0.0;
    return nlohmann::json{{"per_chip", t},
                          {"mean", mean},
                          {"stddev", sd},
                          {"min", *std::min_element(t.begin(), t.end())},
                          {"max", *std::max_element(t.begin(), t.end())}};
  };
  for (const auto& [name, p] : std::vector<std::pair<std::string, const JointPoint*>>{
           {"nominal", &r.nominal}, {"array_only", &r.array_only}, {"sram_only", &r.sram_only}, {"joint", &r.joint}})
    j["choices"][name]["top1_over_chips_pct"] = spread(*p);
  nlohmann::json sources = nlohmann::json::object();
  for (size_t k = 0; k < levels.size(); ++k) sources[std::to_string(levels[k])] = level_source[k];
  j["meta"] = {{"model", o.model_name.empty() ? std::filesystem::path(o.model).stem().string() : o.model_name},
               {"model_file", o.model},
               {"data", o.data},
               {"samples", clean.size()},
               {"repeats", o.repeats},
               {"chips", o.chips},
               {"chip_seeds_from", o.chip_seed},
               {"weight_buffer", {{"words", wgeom.words}, {"width", wgeom.width}, {"layout", "packed (resident weights)"}}},
               {"ber_curve", o.ber_curve},
               {"ber_curve_source", curve.source},
               {"budget_pct", o.budget},
               {"bound", o.bound},
               {"levels", levels},
               {"level_delay_source", sources},
               {"array_energy", energy.describe()},
               {"array_activity_source", activity},
               {"errmodel", o.errmodel},
               {"config", o.config}};
  write_output_file(o.out, j.dump(1) + "\n");

  std::printf("explore-sram: budget %.2f %% top-1 (clean %.2f %%); SRAM %.4g pJ/bit at %.2f V (%s)\n", o.budget,
              r.nominal.eval.loss.clean_accuracy_pct, sram_energy.pj_per_bit, curve.nominal_v,
              sram_energy.pj_per_bit_source.c_str());
  std::printf("  array: energy per PE-cycle from %s (activity %s); delay source per level:", o.energy.c_str(),
              activity.c_str());
  for (size_t k = 0; k < levels.size(); ++k) std::printf(" %.2f V %s", levels[k], level_source[k].c_str());
  std::printf("\n  weight SRAM: %llu x %d bits (packed, resident weights), %.0f bits read per inference; BER(V) %s\n",
              static_cast<unsigned long long>(wgeom.words), wgeom.width, sram_energy.bits_per_inference,
              o.ber_curve.c_str());
  // Islands below sign-off: how many (layer, island) units, at what mean voltage.
  const auto islands = [&](const Setting& s) {
    int lowered = 0, all = 0;
    double sum = 0;
    for (const auto& layer : s.voltage)
      for (double v : layer) ++all, sum += v, lowered += v < levels.back() - 1e-9;
    char text[96];
    std::snprintf(text, sizeof text, "%2d of %d units lowered, mean %.3f V", lowered, all, all ? sum / all : 0.0);
    return std::string(text);
  };
  std::printf("  SRAM V   SRAM alone loss  joint loss  joint islands                          saving vs nominal\n");
  for (const JointStep& s : r.steps) {
    if (s.rejected) {
      std::printf("  %.3f    %6.2f %%  REJECTED (over budget alone; lower supplies not measured)\n", s.sram_v,
                  s.sram_alone.eval.loss.loss_pct);
      continue;
    }
    std::printf("  %.3f    %6.2f %%         %6.2f %%%s   %-38s %.2f %%\n", s.sram_v, s.sram_alone.eval.loss.loss_pct,
                s.joint_point.eval.loss.loss_pct, s.joint_point.fits ? "" : " (no fit)",
                islands(s.joint_point.setting).c_str(), s.joint_point.saving_pct());
  }
  for (const JointPoint* p : {&r.nominal, &r.array_only, &r.sram_only, &r.joint}) {
    const nlohmann::json t = spread(*p);
    if (curve.ber_at(p->sram_v) > 0)
      std::printf("  %-8s top-1 over %zu chips: %.2f +- %.2f [%.1f, %.1f] %%\n", p->knob.c_str(), t["per_chip"].size(),
                  t["mean"].get<double>(), t["stddev"].get<double>(), t["min"].get<double>(), t["max"].get<double>());
    else
      std::printf("  %-8s top-1 %.2f %% (no SRAM fault at %.3f V: one run for every chip)\n", p->knob.c_str(),
                  t["mean"].get<double>(), p->sram_v);
    std::printf("  %-8s SRAM %.3f V, islands %s, loss %.2f %% [%.2f, %.2f], array %.4g pJ + SRAM %.4g pJ = %.4g pJ, "
                "saving %.2f %% vs nominal\n",
                p->knob.c_str(), p->sram_v, islands(p->setting).c_str(), p->eval.loss.loss_pct,
                p->eval.loss.ci_low_pct, p->eval.loss.ci_high_pct, p->array_pj, p->sram_pj, p->total_pj,
                p->saving_pct());
  }
  std::printf("  joint vs array alone: %.2f %% less energy; vs SRAM alone: %.2f %% less\n",
              100.0 * (1 - r.joint.total_pj / r.array_only.total_pj),
              100.0 * (1 - r.joint.total_pj / r.sram_only.total_pj));
  std::printf("  -> %s\n", o.out.c_str());
}

}  // namespace

void add_explore_sram_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "explore-sram",
      "Choose the array islands' voltages (X-TPU units) and the weight SRAM's supply together under one top-1\n"
      "budget: timing errors from the error model and the SRAM fault maps of several chips in the same runs;\n"
      "energy = the array's (explore's model) + the weight SRAM's accesses (C V^2). See docs/sram.md.");
  add_array_run_options(*cmd, *o);
  cmd->add_option("-o,--out", o->out, "result JSON (written whole, or not at all)")->required();
  cmd->add_option("--ber-curve", o->ber_curve, "SRAM BER(V) curve (make sram-ber; docs/sram.md)")->required();
  cmd->add_option("--sram-voltages", o->sram_voltages,
                  "SRAM supplies to search, V1,V2,... (the curve's nominal_v is added as the reference)")
      ->required();
  cmd->add_option("--chips", o->chips, "simulated chips (fault maps) per SRAM supply (default 4)");
  cmd->add_option("--chip-seed", o->chip_seed, "chip c has fault-map seed chip-seed + c (default 1)");
  cmd->add_option("--width", o->width, "weight SRAM word width in bits (default 64)");
  cmd->add_option("--sram-pj-per-bit", o->pj_per_bit,
                  "weight SRAM energy per bit read at its nominal supply (default: --sram-bit-per-mac x the PE's "
                  "energy per cycle at sign-off)");
  cmd->add_option("--sram-bit-per-mac", o->bit_per_mac,
                  "SRAM bit read / PE-cycle energy ratio when --sram-pj-per-bit is not given (default 1.042, "
                  "Horowitz ISSCC 2014, 45 nm)");
  cmd->add_option("--repeats", o->repeats, "timing-error draws per input and chip (default 1)");
  cmd->add_option("--injection", o->injection, "exact or thinned (as vosa explore)")
      ->check(CLI::IsMember({"exact", "thinned"}));
  cmd->callback([o]() { run(*o); });
}

}  // namespace vosa::explore
