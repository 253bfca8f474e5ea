#include "vosa/explore/explore_command.hpp"

#include "vosa/config.hpp"
#include "vosa/error_model.hpp"
#include "vosa/explore/report.hpp"
#include "vosa/explore/selection.hpp"
#include "vosa/explore/stages.hpp"
#include "vosa/explore/workers.hpp"
#include "vosa/infer.hpp"
#include "vosa/inject.hpp"
#include "vosa/lowering.hpp"
#include "vosa/number_list.hpp"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

namespace vosa::explore {
namespace {

struct Options : ArrayRunOptions {
  std::string sta, out;
  std::string layer_errmodels;  // folder of op<N>.json: each array layer's own error model
  std::string resize = "bilinear", algorithms = "xtpu,rathore,thundervolt";
  std::string solver = "exact", curve_top_k = "4,8";
  int repeats = 2;
  int tedrop_top_k = -1, max_backoff = 64;
  int workers = 0;           // 0: evaluate in this process with `jobs` threads
  std::string worker_launch;  // command prefix of each worker, e.g. "srun -n1 -N1 --exact"
  size_t coarse = 100, screen = 0;
  double candidate_reject_z = kCandidateRejectZ;  // verify/back-off points at the intermediate stages
  std::string backoff = "bisect";
  double backoff_saving_tolerance = 0.5;  // percentage points of saving the bisection may leave
  double max_ci = 0;                      // > 0: a fitting point's paired 95 % CI at most +- this (points)
  std::string curve_rejection = "candidate";  // the uniform sweeps: candidate (weaker) or full rejection
  std::string coarse_injection = "sampled";
  std::string injection = "thinned";  // the measured stages: exact or thinned (exact in distribution)
  std::uint64_t seed = 1;
  std::string command_line;
};

// "srun -n1 -N1 --exact" -> its words (no quoting: the prefix is options).
std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

std::vector<std::string> split(const std::string& s) { return vosa::split_list(s); }

inject::RazorSpec razor_spec(const Setting& s) {
  inject::RazorSpec r;
  for (int b = 63; b >= 0; --b)
    if ((s.razor_mask >> b) & 1) r.bits.push_back(b);
  r.top_k = 0;
  r.policy = s.policy == RazorPolicy::kDrop ? vosa::RazorPolicy::Drop : vosa::RazorPolicy::Correct;
  return r;
}

}  // namespace

inject::Settings to_inject_settings(const Setting& s, const std::string& errmodel, double period_ns,
                                    const std::vector<std::size_t>& ops,
                                    const std::vector<std::string>& layer_errmodels) {
  inject::Settings out;
  out.errmodel = errmodel;
  out.period_ns = period_ns;
  out.voltages = s.voltage.at(0);
  out.razor = razor_spec(s);
  for (size_t l = 0; l < ops.size(); ++l) {
    inject::LayerSetting ls;
    ls.op = ops[l];
    ls.voltages = s.voltage[l];
    if (!layer_errmodels.empty()) ls.errmodel = layer_errmodels.at(l);
    out.layers.push_back(ls);
  }
  return out;
}

void require_file(const std::string& path, const std::string& what, const std::string& made_by) {
  if (path.empty()) throw ExploreError(what + " not given");
  if (!std::filesystem::is_regular_file(path))
    throw ExploreError(what + " " + path + " does not exist" + (made_by.empty() ? "" : " (make it with " + made_by + ")"));
}

void add_array_run_options(CLI::App& cmd, ArrayRunOptions& o) {
  cmd.add_option("--config", o.config, "array generator config (rows, cols, islands)")->required();
  cmd.add_option("--errmodel", o.errmodel, "errmodel.json of the PE (make characterize)")->required();
  cmd.add_option("--energy", o.energy,
                 "energy per PE-cycle per voltage of the PE (make power: power/energy.json, or "
                 "energy_simulated.json from the PE's simulated activity)")
      ->required();
  cmd.add_option("--razor-cost", o.razor_cost, "razor_cost.json (make razor-cost)")->required();
  cmd.add_option("-m,--model", o.model, "int8 .tflite model")->required();
  cmd.add_option("-d,--data", o.data, "data directory")->required();
  cmd.add_option("--model-name", o.model_name, "name of the network in the output (default: the model file's stem)");
  cmd.add_option("--budget", o.budget, "top-1 accuracy loss budget in percentage points (default 0.5)");
  cmd.add_option("--bound", o.bound, "check the budget against the point estimate or the upper 95 % bound")
      ->check(CLI::IsMember({"point", "upper"}));
  cmd.add_option("--levels", o.levels, "island voltages V1,V2,... (default: the config's islands.voltages)");
  cmd.add_option("--period-ns", o.period_ns, "error-model period (default: its only one)");
  cmd.add_option("--operating-corner", o.operating_corner,
                 "process/temperature the silicon runs at, as a ladder of the PDK (tt_025C): energies and error "
                 "points must be its corners; the sign-off voltage is taken on it (default: the files' corners)");
  cmd.add_option("-n,--limit", o.limit, "first N inputs only (0 = all)");
  cmd.add_option("--seed", o.seed, "seed of the fault draws (default 1)");
  cmd.add_option("-j,--jobs,--threads", o.jobs,
                 "worker threads (inputs evaluated in parallel; results identical for any count)")
      ->check(CLI::Range(1, 256));
  cmd.add_option("--input-encoding", o.encoding, "auto, raw or pixels (see vosa infer)")
      ->check(CLI::IsMember({"auto", "raw", "pixels"}))
      ->capture_default_str();
}

void check_array_run_options(const ArrayRunOptions& o) {
  if (!(o.budget > 0)) throw ExploreError("--budget must be > 0 (percentage points of top-1), got " + std::to_string(o.budget));
  require_file(o.config, "--config", "");
  require_file(o.model, "--model", "");
  require_file(o.errmodel, "--errmodel", "make characterize");
  require_file(o.energy, "--energy", "make power");
  require_file(o.razor_cost, "--razor-cost", "make razor-cost");
  if (!std::filesystem::is_directory(o.data)) throw ExploreError("--data " + o.data + " is not a directory");
}

std::vector<double> island_levels(const std::string& list, const ArrayConfig& config, const EnergyModel& energy) {
  std::vector<double> levels;
  for (const auto& v : vosa::split_list(list)) levels.push_back(std::stod(v));
  if (levels.empty()) levels = config.islands.voltages;
  if (levels.empty())
    for (const auto& c : energy.corners()) levels.push_back(c.voltage);
  std::sort(levels.begin(), levels.end());
  return levels;
}

std::vector<std::string> level_delay_sources(const ErrorModel& errmodel, const std::string& errmodel_path,
                                             const EnergyModel& energy, const std::string& energy_path,
                                             const std::vector<double>& levels, double period_ns) {
  std::vector<std::string> level_source;
  for (double v : levels) {
    const ErrorModelPoint* pt = nullptr;
    for (const auto& p : errmodel.points)
      if (std::abs(p.voltage - v) < 5e-3 && (period_ns <= 0 || std::abs(p.period_ns - period_ns) < 1e-6)) pt = &p;
    if (!pt)
      throw ExploreError(errmodel_path + ": no point at " + std::to_string(v) +
                         " V (characterize it: make characterize VOLTAGES=...)");
    // Errors and energy come from the same silicon (docs/explore.md, "Operating corner").
    const std::string& energy_corner = energy.corner_at(v).name;
    if (!pt->corner.empty() && pt->corner != energy_corner)
      throw ExploreError(errmodel_path + ": the point at " + std::to_string(v) + " V is corner " + pt->corner + ", " +
                         energy_path + " has " + energy_corner +
                         " there; give both files of one operating corner (make explore OPERATING_CORNER=...)");
    level_source.push_back(pt->delay_source);
  }
  return level_source;
}

void add_layer_cycles(const engine::Engine& engine, const inject::Injector& injector,
                      const inject::FaultyEvalResult& r, Evaluation& e) {
  const double runs = double(r.samples) * r.repeats;
  size_t l = 0;
  for (const auto& p : engine.ops()) {
    if (!lowering::is_array_layer(p.op->type)) continue;
    const double array = double(inject::layer_cycles(p.geometry, injector.shape()));
    e.layer_array_cycles.push_back(array);
    e.layer_stall_cycles.push_back(std::max(0.0, double(r.layers.at(l).cycles) / runs - array));
    e.error_hits += r.layers.at(l).hits;
    ++l;
  }
}

namespace {

// A generator config that builds the chosen hardware: the input config with
// the chosen Razor bits, policy and island voltages.
nlohmann::json chosen_config(const nlohmann::json& input_config, const Setting& s, const std::vector<double>& levels) {
  nlohmann::json c = input_config;
  c.erase("razor");
  if (s.razor_mask) {
    std::vector<int> bits;
    for (int b = 63; b >= 0; --b)
      if ((s.razor_mask >> b) & 1) bits.push_back(b);
    c["razor"] = {{"bits", bits}, {"policy", to_string(s.policy)}};
  }
  if (c.contains("islands")) {
    c["islands"]["levels"] = levels.size();
    c["islands"]["voltages"] = levels;
  }
  return c;
}

void write_json(const std::string& path, const nlohmann::json& j) {
  std::ofstream out(path);
  out << j.dump(1) << "\n";
  if (!out) throw ExploreError(path + ": cannot write");
}

// --out is replaced at the end of a run: refuse, before any work, a path that
// is not an earlier explore output (a user's folder must never be deleted).
void require_replaceable_output(const std::string& out) {
  namespace fs = std::filesystem;
  if (out.empty()) throw ExploreError("--out is empty");
  if (!fs::exists(out)) return;
  if (!fs::is_directory(out)) throw ExploreError("--out " + out + " exists and is not a folder; refusing to replace it");
  if (fs::is_empty(out) || fs::exists(fs::path(out) / "points.json")) return;
  throw ExploreError("--out " + out +
                     " is a non-empty folder without points.json, not an earlier vosa explore output; refusing to "
                     "replace it (choose another --out or empty it)");
}

void run(const Options& o) {
  check_array_run_options(o);
  if (o.repeats < 1) throw ExploreError("--repeats must be >= 1");
  if (!o.sta.empty()) require_file(o.sta, "--sta", "make sta");
  require_replaceable_output(o.out);
  std::set<std::string> algos;
  for (const auto& a : split(o.algorithms)) {
    if (a != "xtpu" && a != "rathore" && a != "thundervolt")
      throw ExploreError("--algorithms: unknown '" + a + "' (allowed: xtpu, rathore, thundervolt)");
    algos.insert(a);
  }

  const ArrayConfig config = load_config(o.config);
  nlohmann::json config_json;
  {
    std::ifstream in(o.config);
    config_json = nlohmann::json::parse(in);
  }
  const ArrayGeometry geometry = ArrayGeometry::from_config(config, o.config);
  const EnergyModel energy = EnergyModel::load(o.energy, o.razor_cost, geometry, o.operating_corner);
  const ErrorModel errmodel = ErrorModel::load(o.errmodel);

  const std::vector<double> levels = island_levels(o.levels, config, energy);
  // Every level in every model used, at the energy file's corner; the delay source of each level.
  const auto check_levels = [&](const ErrorModel& m, const std::string& path) {
    return level_delay_sources(m, path, energy, o.energy, levels, o.period_ns);
  };
  const std::vector<std::string> level_source = check_levels(errmodel, o.errmodel);

  // Model, data, the array layers.
  auto model = std::make_shared<tflite::Model>(tflite::load_tflite(o.model));
  const engine::Engine engine(model);
  const engine::Dataset data = engine::load_dataset(o.data);
  engine::InferOptions io;
  io.limit = o.limit;
  io.jobs = o.jobs;
  io.encoding = engine::resolve_input_encoding(o.encoding, model->input(), data);
  io.resize = o.resize == "crop" ? engine::Resize::kCenterCrop : engine::Resize::kBilinear;
  std::vector<std::size_t> ops;
  std::vector<std::string> layer_names;
  for (const auto& p : engine.ops())
    if (lowering::is_array_layer(p.op->type)) {
      ops.push_back(p.index);
      layer_names.push_back("op " + std::to_string(p.index) + " " + tflite::to_string(p.op->type));
    }
  // Per-layer error models (--layer-errmodels DIR: DIR/op<N>.json), checked like --errmodel.
  std::vector<std::string> layer_errmodel(ops.size());
  std::vector<ErrorModel> layer_models(ops.size());
  if (!o.layer_errmodels.empty()) {
    if (!std::filesystem::is_directory(o.layer_errmodels))
      throw ExploreError("--layer-errmodels " + o.layer_errmodels + " is not a directory");
    for (std::size_t l = 0; l < ops.size(); ++l) {
      const std::string path = o.layer_errmodels + "/op" + std::to_string(ops[l]) + ".json";
      if (!std::filesystem::is_regular_file(path)) continue;
      layer_errmodel[l] = path;
      layer_models[l] = ErrorModel::load(path);
      if (check_levels(layer_models[l], path) != level_source)
        throw ExploreError(path + ": its levels' delay sources differ from " + o.errmodel + "'s");
    }
  }
  // The models the layers use (a layer without its own: --errmodel), each with the
  // layer's PE captures: Razor bits are ranked by their capture-weighted rates.
  const inject::ArrayShape shape = inject::ArrayShape::from_config(config, o.config);
  std::vector<std::pair<const ErrorModel*, double>> used_models;
  {
    std::size_t l = 0;
    for (const auto& p : engine.ops())
      if (lowering::is_array_layer(p.op->type)) {
        used_models.emplace_back(layer_errmodel[l].empty() ? &errmodel : &layer_models[l],
                                 double(inject::layer_captures(p.geometry, shape)));
        ++l;
      }
  }
  const std::size_t samples = o.limit ? std::min(o.limit, data.samples.size()) : data.samples.size();
  std::cerr << "explore: " << o.model << ": " << ops.size() << " array layers; clean run of " << samples
            << " inputs" << (o.workers ? " in " + std::to_string(o.workers) + " worker processes" : std::string())
            << "\n";
  // The faulty runs: in this process, or spread over worker processes
  // (docs/slurm.md), with the same results.
  // Outputs go into DIR.partial, renamed onto DIR at the end; the workers'
  // logs go there first (a failed run keeps them for its error message).
  const std::string partial = o.out + ".partial";
  std::filesystem::remove_all(partial);
  std::optional<inject::FaultEvaluator> evaluator;
  std::unique_ptr<WorkerPool> pool;
  std::vector<std::uint8_t> clean;
  if (o.workers > 0) {
    WorkerJob job;
    job.vosa = std::filesystem::read_symlink("/proc/self/exe").string();
    job.config = o.config;
    job.model = o.model;
    job.data = o.data;
    job.encoding = o.encoding;
    job.resize = o.resize;
    job.samples = samples;
    job.repeats = o.repeats;
    job.seed = o.seed;
    job.threads = o.jobs;
    job.launch_prefix = split_words(o.worker_launch);
    job.log_dir = partial + "/workers";
    pool = std::make_unique<WorkerPool>(job, o.workers);
    clean = pool->clean_correct();
  } else {
    evaluator.emplace(engine, data, io);
    clean.assign(evaluator->clean_correct().begin(), evaluator->clean_correct().end());
  }
  // Inputs [begin, end) of one setting, here or in the workers.
  const auto run_inputs = [&](const inject::Settings& settings, const inject::Injector& injector, std::size_t begin,
                              std::size_t end) {
    if (pool) return pool->evaluate(settings, injector.mode(), begin, end);
    std::vector<std::size_t> part;
    for (std::size_t i = begin; i < end; ++i) part.push_back(i);
    return evaluator->evaluate(injector, o.repeats, o.seed, part);
  };

  // Evaluates a setting on the first `inputs` inputs in stages (10, --coarse,
  // all), stopping at a stage where the loss is clearly over budget (lower
  // bound mean - reject_z standard errors above it; explore/stages.hpp).
  const inject::InjectionMode coarse_mode = inject::parse_injection_mode(o.coarse_injection);
  const inject::InjectionMode full_mode = inject::parse_injection_mode(o.injection);
  const auto evaluate_on = [&](const Setting& s, std::size_t inputs, double reject_z) {
    const inject::Settings settings = to_inject_settings(s, o.errmodel, o.period_ns, ops, layer_errmodel);
    inject::Injector injector = inject::make_injector(settings, config, o.config);
    injector.set_mode(full_mode);
    // The same seed for every setting: common random numbers make settings
    // comparable. Each input's draws depend only on (seed, input, repeat,
    // layer), so the stages together give exactly the run on all inputs.
    StagePlan plan;
    plan.inputs = inputs;
    plan.coarse = o.coarse;
    plan.budget_pct = o.budget;
    plan.reject_z = reject_z;
    // Only a stage that can reject the point without going further uses the
    // coarse (sampled) injection; every reported full run is exact (or
    // thinned: exact in distribution, docs/inject.md). TE-Drop of every
    // failing bit in every erring layer: the sampled mode draws exactly what
    // the measured one does (Injector::drops_only_everywhere), so the stages
    // screen it at the same cost without repeating it.
    plan.sampled_screen = coarse_mode == inject::InjectionMode::kSampled && !injector.drops_only_everywhere();
    const StagedMeasurement m =
        measure_in_stages(plan, clean, [&](std::size_t begin, std::size_t end, bool sampled) {
          injector.set_mode(sampled ? inject::InjectionMode::kSampled : full_mode);
          inject::FaultyEvalResult r = run_inputs(settings, injector, begin, end);
          injector.set_mode(full_mode);
          return r;
        });
    const inject::FaultyEvalResult& r = m.runs;
    Evaluation e;
    e.loss = m.loss;
    e.coarse = m.coarse;
    e.coarse_sampled = m.coarse_sampled;
    e.reject_z = m.reject_z;
    e.look_z = m.look_z;
    // What the reported numbers were measured with (thinned only changes
    // layers whose Razor corrects).
    e.razor_errors = injector.razor_error_source();
    // After-Razor plans are drawn hit by hit whatever the mode (exact).
    // TE-Drop layers of every failing bit are thinned too (Injector::drops_thinned).
    e.injection = e.coarse_sampled ? "sampled"
                  : full_mode == inject::InjectionMode::kThinned &&
                            ((s.razor_mask && s.policy == RazorPolicy::kCorrect && e.razor_errors != "after-razor") ||
                             injector.drops_thinned())
                      ? "thinned"
                      : "exact";
    add_layer_cycles(engine, injector, r, e);
    return e;
  };
  const Evaluator evaluate = [&](const Setting& s) { return evaluate_on(s, clean.size(), kCoarseRejectZ); };
  const Evaluator screening = [&](const Setting& s) { return evaluate_on(s, o.screen, kCoarseRejectZ); };
  // Verify and back-off candidates (X-TPU, ThUnderVolt): the weaker rejection.
  const Evaluator candidates = [&](const Setting& s) { return evaluate_on(s, clean.size(), o.candidate_reject_z); };

  // The three baselines of every saving (docs/explore.md "Baselines").
  Baseline nominal;
  nominal.name = "nominal";
  nominal.available = true;
  nominal.voltage = levels.back();
  nominal.source = "sign-off voltage (" + energy.signoff_corner() + ") at the clock target" +
                   (o.operating_corner.empty() ? std::string() : ", silicon at " + o.operating_corner);
  Baseline dvfs;
  dvfs.name = "dvfs";
  dvfs.source = "not available: no --sta bit_timing.json given";
  if (!o.sta.empty()) {
    std::ifstream in(o.sta);
    nlohmann::json bit_timing;
    try {
      in >> bit_timing;
    } catch (const std::exception& e) {
      throw ExploreError("--sta " + o.sta + ": not valid JSON: " + e.what());
    }
    dvfs = dvfs_baseline(bit_timing, o.sta, energy.signoff_corner(), levels, o.period_ns > 0 ? o.period_ns : errmodel.points.front().period_ns);
  }
  // Error-free only where every model a layer uses is.
  Baseline error_free;
  std::string decided;  // the model that sets the level
  for (std::size_t i = 0; i < used_models.size(); ++i) {
    const ErrorModel& m = *used_models[i].first;
    const Baseline b = error_free_baseline(m, levels, o.period_ns);
    if (i == 0 || (error_free.available && (!b.available || b.voltage > error_free.voltage))) {
      error_free = b;
      decided = &m != &errmodel ? "layer op " + std::to_string(ops[i]) + "'s own model" : o.errmodel;
    }
  }
  if (!o.layer_errmodels.empty()) error_free.source += " (the highest over the layers' models: " + decided + ")";

  ExploreOptions eo;
  eo.budget_pct = o.budget;
  eo.verify_bound = o.bound == "upper" ? Bound::kUpper : Bound::kPoint;
  eo.exact_solver = o.solver == "exact";
  eo.max_backoff = o.max_backoff;
  eo.backoff = o.backoff == "one" ? Backoff::kOne : o.backoff == "gallop" ? Backoff::kGallop : Backoff::kBisect;
  eo.backoff_saving_tolerance_pct = o.backoff_saving_tolerance;
  eo.max_ci_half_width_pct = o.max_ci;
  Explorer ex(evaluate, energy, static_cast<int>(ops.size()), levels, eo);
  if (o.screen > 0 && o.screen < clean.size()) ex.set_screening(screening);
  if (o.candidate_reject_z != kCoarseRejectZ) ex.set_candidates(candidates);
  ex.set_curves_as_candidates(o.curve_rejection == "candidate");
  ex.layer_cycles();

  // Bits that can fail at some level, and their ranking per voltage.
  const auto point_in = [&](const ErrorModel& m, double v) -> const ErrorModelPoint& {
    for (const auto& p : m.points)
      if (std::abs(p.voltage - v) < 5e-3 && (o.period_ns <= 0 || std::abs(p.period_ns - o.period_ns) < 1e-6)) return p;
    throw ExploreError(o.errmodel + ": no point at " + std::to_string(v) + " V");
  };
  const auto point_at = [&](double v) -> const ErrorModelPoint& { return point_in(errmodel, v); };
  // Each bit's rate averaged over the array's rows (a model with PE positions)
  // and over the layers' models, weighted by their PE captures.
  const auto rank = [&](double v) {
    std::vector<double> p(geometry.acc_bits, 0.0);
    double weight = 0;
    for (const auto& [m, captures] : used_models) {
      double rows = 0;
      for (const ErrorModelPoint* band : m->bands_at(point_in(*m, v))) rows += band->positioned() ? band->row_last - band->row_first + 1 : 1;
      for (const ErrorModelPoint* band : m->bands_at(point_in(*m, v))) {
        const double w = captures * (band->positioned() ? band->row_last - band->row_first + 1 : 1) / rows;
        weight += w;
        for (const auto& b : band->bits)
          if (b.bit < geometry.acc_bits) p[b.bit] += w * b.p_error;
      }
    }
    for (double& x : p) x /= weight;
    return rank_bits_by_error_magnitude(p);
  };
  std::uint64_t failing = 0;
  for (double v : levels)
    for (int b : rank(v)) failing |= std::uint64_t{1} << b;
  std::uint64_t tedrop_mask = failing;
  if (o.tedrop_top_k >= 0) {
    tedrop_mask = 0;
    for (int b = geometry.acc_bits - o.tedrop_top_k; b < geometry.acc_bits; ++b) tedrop_mask |= std::uint64_t{1} << b;
  }

  // Accuracy against voltage, uniform over the array.
  ReportContext ctx;
  ctx.curves.emplace_back("unprotected", 0);
  for (const auto& k : split(o.curve_top_k)) {
    const int top = std::stoi(k);
    if (top <= 0 || top > geometry.acc_bits) throw ExploreError("--curve-top-k: " + k + " is outside 1..acc_bits");
    std::uint64_t m = 0;
    for (int b = geometry.acc_bits - top; b < geometry.acc_bits; ++b) m |= std::uint64_t{1} << b;
    ctx.curves.emplace_back("Razor top-" + k + " (correct)", m);
  }
  ctx.curves.emplace_back("TE-Drop on " + std::to_string(std::bitset<64>(tedrop_mask).count()) + " bits", tedrop_mask);
  for (const auto& [label, mask] : ctx.curves)
    sweep_uniform(ex, label, mask, label.find("TE-Drop") != std::string::npos ? RazorPolicy::kDrop : RazorPolicy::kCorrect);

  std::vector<Selection> selections;
  if (algos.count("rathore")) selections.push_back(select_rathore(ex, rank));
  if (algos.count("xtpu")) selections.push_back(select_xtpu(ex));
  if (algos.count("thundervolt")) selections.push_back(select_thundervolt(ex, tedrop_mask));

  pool.reset();  // the workers exit and close their logs
  std::filesystem::create_directories(partial + "/chosen");
  ctx.layer_names = layer_names;
  ctx.level_delay_source = level_source;
  ctx.baselines = {nominal, dvfs, error_free};
  ctx.meta = {{"model", o.model_name.empty() ? std::filesystem::path(o.model).stem().string() : o.model_name},
              {"model_file", o.model},
              {"data", o.data},
              {"samples", clean.size()},
              {"repeats", o.repeats},
              {"coarse_inputs", o.coarse},
              {"screen_inputs", o.screen},
              {"coarse_injection", o.coarse_injection},
              {"coarse_reject_z", kCoarseRejectZ},
              {"candidate_reject_z", o.candidate_reject_z},
              {"backoff", o.backoff},
              {"backoff_saving_tolerance_pct", o.backoff_saving_tolerance},
              {"max_ci_half_width_pct", o.max_ci},
              {"curve_rejection", o.curve_rejection},
              {"injection", o.injection},
              {"seed", o.seed},
              {"pdk", energy.pdk()},
              {"config", o.config},
              {"errmodel", o.errmodel},
              {"errmodel_operands", errmodel.operand_source},
              {"layer_errmodels", [&] {
                 nlohmann::json j = nlohmann::json::object();
                 for (std::size_t l = 0; l < ops.size(); ++l)
                   if (!layer_errmodel[l].empty())
                     j[std::to_string(ops[l])] = {{"errmodel", layer_errmodel[l]},
                                                  {"operands", layer_models[l].operand_source}};
                 return j;
               }()},
              {"period_ns", point_at(levels.back()).period_ns},
              {"budget_pct", o.budget},
              {"operating_corner", energy.describe().at("operating_corner")},
              {"command", o.command_line}};
  write_json(partial + "/points.json", points_json(ex, selections, ctx));
  // The chosen schedules name a copy of the model they were chosen with:
  // `make characterize` rewrites its errmodel.json for the next run.
  std::filesystem::copy_file(o.errmodel, partial + "/errmodel.json");
  std::vector<std::string> copied(ops.size());
  for (std::size_t l = 0; l < ops.size(); ++l)
    if (!layer_errmodel[l].empty()) {
      std::filesystem::create_directories(partial + "/errmodels");
      copied[l] = partial + "/errmodels/op" + std::to_string(ops[l]) + ".json";
      std::filesystem::copy_file(layer_errmodel[l], copied[l]);
    }
  for (const auto& s : selections) {
    // Relative to the schedule ("../errmodel.json"): the folder can be moved or shared.
    inject::save_settings(to_inject_settings(s.setting, partial + "/errmodel.json", point_at(levels.back()).period_ns, ops, copied),
                          partial + "/chosen/" + s.algorithm + ".settings.json", inject::ErrmodelPath::kRelativeToFile);
    write_json(partial + "/chosen/" + s.algorithm + ".config.json", chosen_config(config_json, s.setting, levels));
  }
  write_report(partial, ex, selections, ctx);
  std::filesystem::remove_all(o.out);
  std::filesystem::rename(partial, o.out);

  std::cout << "explore: " << ex.points().size() << " points -> " << o.out << "/report.md\n";
  for (const auto& s : selections) {
    if (s.point_id < 0) {
      std::cout << "  " << s.algorithm << ": nothing fits (" << s.note << ")\n";
      continue;
    }
    const Point& p = ex.points()[s.point_id];
    std::printf("  %-12s loss %.2f %% [%.2f, %.2f], saving %.1f %%%s\n", s.algorithm.c_str(), p.eval.loss.loss_pct,
                p.eval.loss.ci_low_pct, p.eval.loss.ci_high_pct, p.energy.saving_pct, s.fits ? "" : " (does NOT fit)");
  }
}

}  // namespace

void add_explore_command(CLI::App& app) {
  add_explore_worker_command(app);
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "explore",
      "Choose island voltages and Razor bits for a DNN under a top-1 accuracy budget (X-TPU, Rathore et al.,\n"
      "ThUnderVolt), with error-injecting inference and the flow's energy per PE-cycle; writes points.json,\n"
      "report.md with SVG plots and the chosen schedules. See docs/explore.md.");
  add_array_run_options(*cmd, *o);
  cmd->add_option("--layer-errmodels", o->layer_errmodels,
                  "per-layer error models: DIR/op<N>.json is array layer N's own (its stream characterized, "
                  "make explore's default, docs/explore.md); a layer without one uses --errmodel");
  cmd->add_option("--sta", o->sta,
                  "bit_timing.json (make sta) at the levels: places the DVFS baseline (lowest level where STA "
                  "passes at the sign-off corner); without it that baseline is reported unavailable");
  cmd->add_option("-o,--out", o->out,
                  "output directory (replaced at the end of the run if it is an earlier explore output; a "
                  "non-empty folder of anything else is refused)")
      ->required();
  cmd->add_option("--solver", o->solver, "xtpu/thundervolt choice: exact (knapsack) or greedy")
      ->check(CLI::IsMember({"exact", "greedy"}));
  cmd->add_option("--algorithms", o->algorithms, "comma list of xtpu, rathore, thundervolt (default all)");
  cmd->add_option("--repeats", o->repeats, "fault draws per input (default 2)");
  cmd->add_option("--coarse", o->coarse,
                  "coarse-to-fine: evaluate each setting on the first 10, the first N inputs, then in chunks to "
                  "0.2, 0.4, 0.7 and all of them, stopping where its loss is clearly over budget (mean - z "
                  "standard errors > budget, z from an error-spending rule: at most 0.05 % of wrongly stopped "
                  "settings over all looks; 2.5 % for xtpu/thundervolt verify and back-off points, "
                  "--candidate-reject-z); 0 = every input always (default 100)");
  cmd->add_option("--coarse-injection", o->coarse_injection,
                  "injection of the screening before the exact stages: sampled (rate-independent, docs/inject.md: "
                  "the first 10 inputs, and the first --coarse ones (at most all) when their loss is above budget "
                  "but not yet clearly; a point it does not reject is measured exactly from the start) or exact")
      ->check(CLI::IsMember({"exact", "sampled"}))
      ->capture_default_str();
  cmd->add_option("--injection", o->injection,
                  "injection of the measured stages: thinned (default; with Razor correct only the errors it "
                  "leaves are drawn, and TE-Drop of every failing bit walks only the drops of non-zero products; "
                  "exact in distribution, Razor counts expected values: docs/inject.md) "
                  "or exact (every error drawn)")
      ->check(CLI::IsMember({"exact", "thinned"}))
      ->capture_default_str();
  cmd->add_option("--screen", o->screen,
                  "coarse-to-fine over settings: the sensitivity points of xtpu/thundervolt (each unit alone below "
                  "sign-off, used only to predict a schedule's loss) on the first N inputs; the points a choice "
                  "rests on (verify, back-off, sweeps, rathore) on all (default 0 = all inputs everywhere)");
  cmd->add_option("--resize", o->resize, "bilinear or crop (JPEG inputs)")->check(CLI::IsMember({"bilinear", "crop"}));
  cmd->add_option("--curve-top-k", o->curve_top_k, "Razor top-k curves of the accuracy plot (default 4,8)");
  cmd->add_option("--tedrop-top-k", o->tedrop_top_k,
                  "ThUnderVolt: protect the top k bits (default: every bit that fails at some level)");
  cmd->add_option("--max-backoff", o->max_backoff,
                  "longest back-off order: units taken back one level each before giving up (default 64)");
  cmd->add_option("--backoff", o->backoff,
                  "xtpu/thundervolt back-off while the verified schedule is over budget, along the back-off order "
                  "(worst offender one level up per step): bisect (default: the end of the order first, then "
                  "bisection between the last that did not fit and the first that did), gallop (steps 1, 2, 4, ... "
                  "until one fits, then bisection) or one (one step per evaluation)")
      ->check(CLI::IsMember({"bisect", "gallop", "one"}))
      ->capture_default_str();
  cmd->add_option("--backoff-saving-tolerance", o->backoff_saving_tolerance,
                  "bisect: stop once no schedule left between the last that did not fit and the first that did can "
                  "save more than that one plus this many percentage points (their saving is known before they "
                  "are measured; 0 = the first schedule of the order that fits)")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--max-ci", o->max_ci,
                  "a point fits the budget only if its paired 95 % CI is at most this many percentage points either "
                  "side of its mean: a schedule whose loss is not resolved that well on these inputs is backed off "
                  "further (0 = any width; e.g. 1 for the +-1 point of a 1000-image run)")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--curve-rejection", o->curve_rejection,
                  "the uniform sweeps of the accuracy plot (no choice rests on them): candidate (default: stopped "
                  "early under --candidate-reject-z, like verify and back-off points: measured until it is clear "
                  "on which side of the budget a point lies) or full (the 0.05 % bound of every decision point)")
      ->check(CLI::IsMember({"candidate", "full"}))
      ->capture_default_str();
  cmd->add_option("--candidate-reject-z", o->candidate_reject_z,
                  "error budget of stopping xtpu/thundervolt verify and back-off points early: a point whose true "
                  "loss is the budget is stopped before all inputs with probability at most P(Z > Z) (default "
                  "1.96: 2.5 %; 3.29 = the 0.05 % of every other point), spent over its stages "
                  "(docs/explore.md); the schedule accepted is always measured on all inputs")
      ->check(CLI::Range(0.5, 10.0))
      ->capture_default_str();
  cmd->add_option("--workers", o->workers,
                  "evaluate in N worker processes, each with a block of the inputs and -j threads (default 0: in "
                  "this process); same results for any N (docs/slurm.md)")
      ->check(CLI::Range(0, 4096));
  cmd->add_option("--worker-launch", o->worker_launch,
                  "command prefix that starts each worker, e.g. \"srun -n1 -N1 --exact\" inside a Slurm allocation");
  cmd->callback([o, cmd]() {
    Options opts = *o;
    opts.command_line = "vosa explore";
    for (const auto* opt : cmd->get_options())
      if (opt->count() && !opt->get_lnames().empty())
        opts.command_line += " --" + opt->get_lnames().front() + " " + opt->as<std::string>();
    run(opts);
  });
}

}  // namespace vosa::explore
