#include "vosa/explore/bitwidth_command.hpp"

#include "vosa/explore/bitwidth.hpp"
#include "vosa/explore/energy.hpp"
#include "vosa/infer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

namespace vosa::explore {
namespace {

namespace fs = std::filesystem;

struct Options {
  std::string model, data, energy, out, model_name;
  engine::EngineInputOptions input;
  std::vector<int> modes = {8, 6, 4};
  double budget = 1.0;
  size_t limit = 0;
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
};

// Per mode, from the precision characterization (make precision-characterize,
// docs/precision.md): energy per MAC at the nominal voltage and at the mode's
// lowest error-free voltage.
struct ModeEnergy {
  int bits = 0;
  double nominal_pj = 0;
  double error_free_voltage = 0;  // 0: not characterized
  double error_free_pj = 0;
};

struct EnergyFile {
  std::string source, pdk, voltage_source;
  double nominal_voltage = 0, period_ns = 0;
  std::vector<ModeEnergy> modes;  // in Options::modes order
};

EnergyFile load_energy(const std::string& path, const std::vector<int>& wanted) {
  std::ifstream in(path);
  if (!in) throw ExploreError(path + ": cannot open the precision energy file (--energy)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw ExploreError(path + ": malformed JSON: " + e.what());
  }
  EnergyFile f;
  try {
    f.source = j.at("energy_source").get<std::string>();
    f.pdk = j.value("pdk", std::string("?"));
    f.voltage_source = j.value("voltage_source", std::string(""));
    f.nominal_voltage = j.value("nominal_voltage", 0.0);
    f.period_ns = j.value("period_ns", 0.0);
    for (int bits : wanted) {
      bool found = false;
      for (const auto& m : j.at("modes")) {
        if (m.at("bits").get<int>() != bits) continue;
        ModeEnergy e;
        e.bits = bits;
        e.nominal_pj = m.at("energy_per_mac_pj").get<double>();
        if (m.contains("error_free_voltage") && !m.at("error_free_voltage").is_null()) {
          e.error_free_voltage = m.at("error_free_voltage").get<double>();
          e.error_free_pj = m.at("energy_per_mac_pj_at_error_free").get<double>();
        }
        if (!(e.nominal_pj > 0) || e.error_free_pj < 0)
          throw ExploreError(path + ": mode " + std::to_string(bits) + ": energies must be positive");
        f.modes.push_back(e);
        found = true;
      }
      if (!found) throw ExploreError(path + ": field 'modes' has no entry with bits " + std::to_string(bits));
    }
  } catch (const nlohmann::json::exception& e) {
    throw ExploreError(path + ": " + e.what());
  }
  return f;
}

void check_modes(const std::vector<int>& modes) {
  if (modes.empty()) throw ExploreError("--modes: give at least one width");
  for (std::size_t i = 0; i < modes.size(); ++i) {
    if (modes[i] < 1 || modes[i] > 8)
      throw ExploreError("--modes: " + std::to_string(modes[i]) + " bits; int8 layers take 1..8");
    if (i && modes[i] >= modes[i - 1]) throw ExploreError("--modes: not sorted descending without repeats");
  }
  if (modes.front() != 8) throw ExploreError("--modes: the first mode must be the full width 8");
}

std::string pct(double x, int digits = 1) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, 100.0 * x);
  return b;
}
std::string num(double x, int digits = 3) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, x);
  return b;
}

struct Scheme {
  std::string name, voltage;
  PolicyOutcome outcome;
  PairedLoss loss;
  std::string detail;
};

void run(const Options& o) {
  check_modes(o.modes);
  if (o.input.kernels != "fast") throw ExploreError("--kernels: reduced precision runs on the fast kernels only");
  if (o.budget < 0 || o.budget > 100) throw ExploreError("--budget: a top-1 loss in percentage points, 0..100");
  const EnergyFile energy = load_energy(o.energy, o.modes);
  if (fs::exists(o.out) && !(fs::is_directory(o.out) && (fs::is_empty(o.out) || fs::exists(fs::path(o.out) / "bitwidth.json"))))
    throw ExploreError("--out " + o.out + " exists and is not an earlier vosa bitwidth output; give a new folder");
  auto model = std::make_shared<tflite::Model>(tflite::load_tflite(o.model));
  const engine::Dataset data = engine::load_dataset(o.data);
  engine::InferOptions io;
  io.limit = o.limit;
  io.jobs = o.jobs;
  io.encoding = o.input.input_encoding(model->input(), data);
  io.resize = o.input.resize_mode();

  // One engine pass per mode over every input.
  std::vector<engine::InferResult> runs;
  int64_t macs = 0;
  for (int bits : o.modes) {
    const engine::Engine eng(model, engine::Kernels::kFast, engine::Arithmetic::kTFLite,
                             engine::uniform_precision(*model, bits));
    macs = eng.macs_per_inference();
    runs.push_back(engine::evaluate(eng, data, io));
    std::cerr << "bitwidth: " << bits << "-bit pass: top-1 " << pct(static_cast<double>(runs.back().top1) /
                                                                     static_cast<double>(runs.back().samples))
              << " % over " << runs.back().samples << " inputs (" << num(runs.back().seconds, 1) << " s)\n";
  }
  const std::size_t n = runs.front().samples;
  if (n < 4) throw ExploreError("bitwidth: needs at least 4 inputs (2 calibration, 2 held-out)");
  // Interleaved split: even sample indices calibrate, odd ones are held out
  // (data sets listed class by class get both halves from every class).
  PassTable cal, test;
  for (PassTable* t : {&cal, &test}) t->outcomes.assign(o.modes.size(), {});
  for (std::size_t m = 0; m < o.modes.size(); ++m)
    for (std::size_t i = 0; i < n; ++i) {
      PassOutcome p;
      p.confidence = confidence_margin(runs[m].outputs[i]);
      p.correct = runs[m].predictions[i] == data.samples[i].label;
      (i % 2 == 0 ? cal : test).outcomes[m].push_back(p);
    }
  auto pass_energy = [&](bool error_free) {
    std::vector<double> e;
    for (const ModeEnergy& me : energy.modes)
      e.push_back(static_cast<double>(macs) * (error_free ? me.error_free_pj : me.nominal_pj));
    return e;
  };
  const bool have_vmin = std::all_of(energy.modes.begin(), energy.modes.end(),
                                     [](const ModeEnergy& m) { return m.error_free_voltage > 0; });
  cal.energy = test.energy = pass_energy(false);
  const Policy policy = choose_thresholds(cal, o.budget);
  const std::size_t static_mode = choose_static_mode(cal, o.budget);

  std::vector<Scheme> schemes;
  auto add = [&](const std::string& name, const std::string& voltage, const PassTable& t, const PolicyOutcome& r,
                 const std::string& detail) { schemes.push_back({name, voltage, r, loss_against_full(t, r), detail}); };
  const std::string nominal = "nominal " + num(energy.nominal_voltage, 2) + " V";
  add("static " + std::to_string(o.modes[0]) + "-bit", nominal, test, apply_static(test, 0), "reference");
  add("static best (" + std::to_string(o.modes[static_mode]) + "-bit)", nominal, test, apply_static(test, static_mode),
      "narrowest static width within the budget on calibration");
  add("dynamic", nominal, test, apply_policy(test, policy), "cascade, thresholds from calibration");
  PassTable test_v = test;
  if (have_vmin) {
    test_v.energy = pass_energy(true);
    auto v_of = [&](std::size_t m) { return num(energy.modes[m].error_free_voltage, 2) + " V"; };
    add("static " + std::to_string(o.modes[0]) + "-bit", "error-free " + v_of(0), test_v, apply_static(test_v, 0),
        "guardband removed, full width");
    add("static best (" + std::to_string(o.modes[static_mode]) + "-bit)", "error-free " + v_of(static_mode), test_v,
        apply_static(test_v, static_mode), "");
    add("dynamic + per-mode voltage", "each mode at its error-free voltage", test_v, apply_policy(test_v, policy),
        "same thresholds");
  }
  const double ref = schemes.front().outcome.mean_energy;
  const double ref_static_best = schemes[1].outcome.mean_energy;

  nlohmann::json j;
  j["model"] = o.model_name.empty() ? fs::path(o.model).stem().string() : o.model_name;
  j["model_file"] = o.model;
  j["data"] = o.data;
  j["inputs"] = n;
  j["calibration_inputs"] = cal.inputs();
  j["held_out_inputs"] = test.inputs();
  j["split"] = "interleaved: even sample indices calibrate, odd ones are held out";
  j["budget_pct"] = o.budget;
  j["modes"] = o.modes;
  j["macs_per_pass"] = macs;
  j["confidence"] = "top-1 minus top-2 output score (int8 units of the output tensor)";
  j["energy_file"] = o.energy;
  j["energy_source"] = energy.source;
  j["voltage_source"] = energy.voltage_source;
  j["pdk"] = energy.pdk;
  j["period_ns"] = energy.period_ns;
  nlohmann::json th = nlohmann::json::object();
  for (std::size_t m = 1; m < o.modes.size(); ++m)
    th[std::to_string(o.modes[m])] = policy.thresholds[m] >= kNever ? nlohmann::json(nullptr)
                                                                     : nlohmann::json(policy.thresholds[m]);
  j["thresholds"] = th;
  j["static_best_bits"] = o.modes[static_mode];
  nlohmann::json per_mode = nlohmann::json::array();
  for (std::size_t m = 0; m < o.modes.size(); ++m) {
    const PolicyOutcome s = apply_static(test, m);
    per_mode.push_back({{"bits", o.modes[m]},
                        {"held_out_top1_pct", 100 * s.top1},
                        {"calibration_top1_pct", 100 * apply_static(cal, m).top1},
                        {"energy_per_mac_pj", energy.modes[m].nominal_pj},
                        {"error_free_voltage", energy.modes[m].error_free_voltage > 0
                                                   ? nlohmann::json(energy.modes[m].error_free_voltage)
                                                   : nlohmann::json(nullptr)},
                        {"energy_per_mac_pj_at_error_free", energy.modes[m].error_free_pj}});
  }
  for (std::size_t m = 1; m < o.modes.size(); ++m) {
    per_mode[m]["break_even_accepted_fraction"] = energy.modes[m].nominal_pj / energy.modes[0].nominal_pj;
    per_mode[m]["calibration_max_accepted_fraction"] = max_accepted_fraction(cal, m, o.budget);
  }
  j["per_mode"] = per_mode;
  nlohmann::json rows = nlohmann::json::array();
  for (const Scheme& s : schemes) {
    nlohmann::json accepted = nlohmann::json::object();
    for (std::size_t m = 0; m < o.modes.size(); ++m)
      accepted[std::to_string(o.modes[m])] =
          static_cast<double>(s.outcome.accepted_at[m]) / static_cast<double>(test.inputs());
    rows.push_back({{"scheme", s.name},
                    {"voltage", s.voltage},
                    {"top1_pct", 100 * s.outcome.top1},
                    {"loss_pct", s.loss.loss_pct},
                    {"loss_ci95_pct", {s.loss.ci_low_pct, s.loss.ci_high_pct}},
                    {"energy_per_inference_uj", s.outcome.mean_energy * 1e-6},
                    {"mean_passes", s.outcome.mean_passes},
                    {"accepted_fraction", accepted},
                    {"saving_vs_static_full_pct", 100 * (1 - s.outcome.mean_energy / ref)},
                    {"saving_vs_static_best_pct", 100 * (1 - s.outcome.mean_energy / ref_static_best)}});
  }
  j["schemes"] = rows;

  std::ostringstream md;
  md << "# Dynamic bit-width: " << j["model"].get<std::string>() << "\n\n"
     << "Modes " << nlohmann::json(o.modes).dump() << " bits; " << n << " inputs of " << o.data << ": "
     << cal.inputs() << " calibrate the thresholds, " << test.inputs() << " held out (even/odd sample index). "
     << "Budget: top-1 at most " << o.budget << " points below static full width on the calibration inputs. "
     << "Confidence: top-1 minus top-2 output score. Thresholds:";
  for (std::size_t m = 1; m < o.modes.size(); ++m)
    md << " " << o.modes[m] << "-bit "
       << (policy.thresholds[m] >= kNever ? std::string("(skipped)") : ">= " + std::to_string(policy.thresholds[m]));
  md << ". Energy: " << macs << " array MACs per pass x energy per MAC of the mode (" << energy.source
     << "; PDK " << energy.pdk << ", clock " << num(energy.period_ns, 3) << " ns"
     << (energy.voltage_source.empty() ? "" : "; error-free voltages: " + energy.voltage_source)
     << "); a rerun costs a whole pass; non-array operators are not counted.\n\n"
     << "| scheme | voltage | held-out top-1 | loss vs 8-bit (95 % CI) | energy / inference | passes | saving vs static 8-bit | vs static best |\n"
     << "|---|---|---|---|---|---|---|---|\n";
  for (const Scheme& s : schemes)
    md << "| " << s.name << " | " << s.voltage << " | " << pct(s.outcome.top1) << " % | " << num(s.loss.loss_pct, 2)
       << " [" << num(s.loss.ci_low_pct, 2) << ", " << num(s.loss.ci_high_pct, 2) << "] | "
       << num(s.outcome.mean_energy * 1e-6, 3) << " uJ | " << num(s.outcome.mean_passes, 2) << " | "
       << pct(1 - s.outcome.mean_energy / ref) << " % | " << pct(1 - s.outcome.mean_energy / ref_static_best)
       << " % |\n";
  md << "\nPer mode (held-out top-1, static): ";
  for (std::size_t m = 0; m < o.modes.size(); ++m)
    md << (m ? ", " : "") << o.modes[m] << "-bit " << pct(per_mode[m]["held_out_top1_pct"].get<double>() / 100) << " %";
  md << ".\n\nWhy the cascade does or does not pay (two stages, mode then full width, nominal voltage): "
        "a reduced pass saves energy only if more than E_mode / E_8 of the inputs are accepted at it.\n\n"
     << "| mode | energy / MAC (pJ) | break-even accepted fraction | largest fraction acceptable within the budget "
        "(calibration) |\n|---|---|---|---|\n";
  for (std::size_t m = 1; m < o.modes.size(); ++m)
    md << "| " << o.modes[m] << "-bit | " << num(energy.modes[m].nominal_pj, 3) << " | "
       << pct(per_mode[m]["break_even_accepted_fraction"].get<double>()) << " % | "
       << pct(per_mode[m]["calibration_max_accepted_fraction"].get<double>()) << " % |\n";

  const std::string partial = o.out + ".partial";
  fs::remove_all(partial);
  fs::create_directories(partial);
  {
    std::ofstream f(partial + "/bitwidth.json");
    f << j.dump(2) << "\n";
    std::ofstream r(partial + "/report.md");
    r << md.str();
    if (!f || !r) throw ExploreError("cannot write " + partial);
  }
  fs::remove_all(o.out);
  fs::rename(partial, o.out);
  std::cout << md.str() << "bitwidth: -> " << o.out << "/report.md\n";
}

}  // namespace

void add_bitwidth_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "bitwidth",
      "input-dependent dynamic bit-width (Pagliari et al.): a low-precision pass accepted when its confidence "
      "(top-1 minus top-2) passes a threshold, else rerun at the next precision; thresholds from a calibration "
      "split, evaluated on held-out inputs; energy with reruns, static and per-mode voltage (docs/precision.md)");
  cmd->add_option("-m,--model", o->model, "model (.tflite, int8)")->required();
  cmd->add_option("-d,--data", o->data, "labelled data directory")->required();
  cmd->add_option("--energy", o->energy,
                  "precision energy JSON per mode (make precision-characterize: precision_energy.json)")
      ->required();
  cmd->add_option("-o,--out", o->out, "output folder (bitwidth.json, report.md); new, empty or an earlier output")
      ->required();
  cmd->add_option("--modes", o->modes, "precision modes in bits, descending, the first 8 (default 8,6,4)")
      ->delimiter(',');
  cmd->add_option("--budget", o->budget, "top-1 loss allowed on the calibration split, percentage points (default 1)");
  cmd->add_option("-n,--limit", o->limit, "use only the first N inputs (0 = all; half calibrate, half held out)");
  cmd->add_option("-j,--jobs", o->jobs, "worker threads");
  cmd->add_option("--model-name", o->model_name, "name in the report (default: the model file's stem)");
  engine::add_engine_input_options(cmd, o->input);
  cmd->callback([o]() { run(*o); });
}

}  // namespace vosa::explore
