#include "vosa/explore/explore_command.hpp"

#include "vosa/config.hpp"
#include "vosa/error_model.hpp"
#include "vosa/explore/report.hpp"
#include "vosa/explore/selection.hpp"
#include "vosa/infer.hpp"
#include "vosa/inject.hpp"
#include "vosa/lowering.hpp"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

namespace vosa::explore {
namespace {

struct Options {
  std::string config, errmodel, energy, razor_cost, sta, model, data, out, model_name;
  std::string encoding = "auto", resize = "bilinear", levels, algorithms = "xtpu,rathore,thundervolt";
  std::string bound = "point", solver = "exact", curve_top_k = "4,8";
  double budget = 0.5, period_ns = 0;
  size_t limit = 0;
  int repeats = 2, jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int tedrop_top_k = -1, max_backoff = 64;
  std::uint64_t seed = 1;
  std::string command_line;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

void require_file(const std::string& path, const std::string& what, const std::string& made_by) {
  if (path.empty()) throw ExploreError(what + " not given");
  if (!std::filesystem::is_regular_file(path))
    throw ExploreError(what + " " + path + " does not exist" + (made_by.empty() ? "" : " (make it with " + made_by + ")"));
}

inject::RazorSpec razor_spec(const Setting& s) {
  inject::RazorSpec r;
  for (int b = 63; b >= 0; --b)
    if ((s.razor_mask >> b) & 1) r.bits.push_back(b);
  r.top_k = 0;
  r.policy = s.policy == RazorPolicy::kDrop ? vosa::RazorPolicy::Drop : vosa::RazorPolicy::Correct;
  return r;
}

inject::Settings to_inject_settings(const Setting& s, const std::string& errmodel, double period_ns,
                                    const std::vector<std::size_t>& ops) {
  inject::Settings out;
  out.errmodel = errmodel;
  out.period_ns = period_ns;
  out.voltages = s.voltage.at(0);
  out.razor = razor_spec(s);
  for (size_t l = 0; l < ops.size(); ++l) {
    inject::LayerSetting ls;
    ls.op = ops[l];
    ls.voltages = s.voltage[l];
    out.layers.push_back(ls);
  }
  return out;
}

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
  if (!(o.budget > 0)) throw ExploreError("--budget must be > 0 (percentage points of top-1), got " + std::to_string(o.budget));
  if (o.repeats < 1) throw ExploreError("--repeats must be >= 1");
  require_file(o.config, "--config", "");
  require_file(o.model, "--model", "");
  require_file(o.errmodel, "--errmodel", "make characterize");
  require_file(o.energy, "--energy", "make power");
  require_file(o.razor_cost, "--razor-cost", "make razor-cost");
  if (!o.sta.empty()) require_file(o.sta, "--sta", "make sta");
  if (!std::filesystem::is_directory(o.data)) throw ExploreError("--data " + o.data + " is not a directory");
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
  const EnergyModel energy = EnergyModel::load(o.energy, o.razor_cost, geometry);
  const ErrorModel errmodel = ErrorModel::load(o.errmodel);

  // Levels: --levels, else the config's island voltages, else every energy corner.
  std::vector<double> levels;
  for (const auto& v : split(o.levels)) levels.push_back(std::stod(v));
  if (levels.empty()) levels = config.islands.voltages;
  if (levels.empty())
    for (const auto& c : energy.corners()) levels.push_back(c.voltage);
  std::sort(levels.begin(), levels.end());
  std::vector<std::string> level_source;
  for (double v : levels) {
    const ErrorModelPoint* pt = nullptr;
    for (const auto& p : errmodel.points)
      if (std::abs(p.voltage - v) < 5e-3 && (o.period_ns <= 0 || std::abs(p.period_ns - o.period_ns) < 1e-6)) pt = &p;
    if (!pt)
      throw ExploreError(o.errmodel + ": no point at " + std::to_string(v) +
                         " V (characterize it: make characterize VOLTAGES=...)");
    level_source.push_back(pt->delay_source);
  }

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
  std::cerr << "explore: " << o.model << ": " << ops.size() << " array layers; clean run of "
            << (o.limit ? std::min(o.limit, data.samples.size()) : data.samples.size()) << " inputs\n";
  const inject::FaultEvaluator evaluator(engine, data, io);
  const std::vector<std::uint8_t> clean(evaluator.clean_correct().begin(), evaluator.clean_correct().end());

  const Evaluator evaluate = [&](const Setting& s) {
    const inject::Injector injector =
        inject::make_injector(to_inject_settings(s, o.errmodel, o.period_ns, ops), config, o.config);
    // The same seed for every setting: common random numbers make settings comparable.
    const inject::FaultyEvalResult r = evaluator.evaluate(injector, o.repeats, o.seed);
    Evaluation e;
    e.loss = paired_loss(clean, r.faulty_correct, static_cast<std::size_t>(r.repeats));
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
    return e;
  };

  // The three baselines of every saving (docs/explore.md "Baselines").
  Baseline nominal;
  nominal.name = "nominal";
  nominal.available = true;
  nominal.voltage = levels.back();
  nominal.source = "sign-off voltage (" + energy.signoff_corner() + ") at the clock target";
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
  const Baseline error_free = error_free_baseline(errmodel, levels, o.period_ns);

  ExploreOptions eo;
  eo.budget_pct = o.budget;
  eo.verify_bound = o.bound == "upper" ? Bound::kUpper : Bound::kPoint;
  eo.exact_solver = o.solver == "exact";
  eo.max_backoff = o.max_backoff;
  Explorer ex(evaluate, energy, static_cast<int>(ops.size()), levels, eo);
  ex.layer_cycles();

  // Bits that can fail at some level, and their ranking per voltage.
  const auto point_at = [&](double v) -> const ErrorModelPoint& {
    for (const auto& p : errmodel.points)
      if (std::abs(p.voltage - v) < 5e-3 && (o.period_ns <= 0 || std::abs(p.period_ns - o.period_ns) < 1e-6)) return p;
    throw ExploreError(o.errmodel + ": no point at " + std::to_string(v) + " V");
  };
  // A model with PE positions: each bit's rate averaged over the array's rows.
  const auto rank = [&](double v) {
    std::vector<double> p(geometry.acc_bits, 0.0);
    double rows = 0;
    for (const ErrorModelPoint* band : errmodel.bands_at(point_at(v))) {
      const double w = band->positioned() ? band->row_last - band->row_first + 1 : 1;
      rows += w;
      for (const auto& b : band->bits)
        if (b.bit < geometry.acc_bits) p[b.bit] += w * b.p_error;
    }
    for (double& x : p) x /= rows;
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

  // Outputs: everything into DIR.partial, renamed onto DIR at the end.
  const std::string partial = o.out + ".partial";
  std::filesystem::remove_all(partial);
  std::filesystem::create_directories(partial + "/chosen");
  ctx.layer_names = layer_names;
  ctx.level_delay_source = level_source;
  ctx.baselines = {nominal, dvfs, error_free};
  ctx.meta = {{"model", o.model_name.empty() ? std::filesystem::path(o.model).stem().string() : o.model_name},
              {"model_file", o.model},
              {"data", o.data},
              {"samples", evaluator.samples()},
              {"repeats", o.repeats},
              {"seed", o.seed},
              {"pdk", energy.pdk()},
              {"config", o.config},
              {"errmodel", o.errmodel},
              {"errmodel_operands", errmodel.operand_source},
              {"period_ns", point_at(levels.back()).period_ns},
              {"budget_pct", o.budget},
              {"command", o.command_line}};
  write_json(partial + "/points.json", points_json(ex, selections, ctx));
  // The chosen schedules name a copy of the model they were chosen with:
  // `make characterize` rewrites its errmodel.json for the next run.
  std::filesystem::copy_file(o.errmodel, partial + "/errmodel.json");
  for (const auto& s : selections) {
    // Relative to the schedule ("../errmodel.json"): the folder can be moved or shared.
    inject::save_settings(to_inject_settings(s.setting, partial + "/errmodel.json", point_at(levels.back()).period_ns, ops),
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
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "explore",
      "Choose island voltages and Razor bits for a DNN under a top-1 accuracy budget (X-TPU, Rathore et al.,\n"
      "ThUnderVolt), with error-injecting inference and the flow's energy per PE-cycle; writes points.json,\n"
      "report.md with SVG plots and the chosen schedules. See docs/explore.md.");
  cmd->add_option("--config", o->config, "array generator config (rows, cols, islands)")->required();
  cmd->add_option("--errmodel", o->errmodel, "errmodel.json of the PE (make characterize)")->required();
  cmd->add_option("--energy", o->energy, "power/energy.json of the PE (make power)")->required();
  cmd->add_option("--razor-cost", o->razor_cost, "razor_cost.json (make razor-cost)")->required();
  cmd->add_option("--sta", o->sta,
                  "bit_timing.json (make sta) at the levels: places the DVFS baseline (lowest level where STA "
                  "passes at the sign-off corner); without it that baseline is reported unavailable");
  cmd->add_option("-m,--model", o->model, "int8 .tflite model")->required();
  cmd->add_option("-d,--data", o->data, "data directory")->required();
  cmd->add_option("-o,--out", o->out,
                  "output directory (replaced at the end of the run if it is an earlier explore output; a "
                  "non-empty folder of anything else is refused)")
      ->required();
  cmd->add_option("--model-name", o->model_name, "name in the report (default: the model file's stem)");
  cmd->add_option("--budget", o->budget, "top-1 accuracy loss budget in percentage points (default 0.5)");
  cmd->add_option("--bound", o->bound, "check the budget against the point estimate or the upper 95 % bound")
      ->check(CLI::IsMember({"point", "upper"}));
  cmd->add_option("--solver", o->solver, "xtpu/thundervolt choice: exact (knapsack) or greedy")
      ->check(CLI::IsMember({"exact", "greedy"}));
  cmd->add_option("--algorithms", o->algorithms, "comma list of xtpu, rathore, thundervolt (default all)");
  cmd->add_option("--levels", o->levels, "island voltages V1,V2,... (default: the config's islands.voltages)");
  cmd->add_option("--period-ns", o->period_ns, "error-model period (default: its only one)");
  cmd->add_option("-n,--limit", o->limit, "first N inputs only (0 = all)");
  cmd->add_option("--repeats", o->repeats, "fault draws per input (default 2)");
  cmd->add_option("--seed", o->seed, "seed of the fault draws (default 1)");
  cmd->add_option("-j,--jobs", o->jobs, "worker threads")->check(CLI::Range(1, 256));
  cmd->add_option("--input-encoding", o->encoding, "auto, raw or pixels (see vosa infer)")
      ->check(CLI::IsMember({"auto", "raw", "pixels"}))
      ->capture_default_str();
  cmd->add_option("--resize", o->resize, "bilinear or crop (JPEG inputs)")->check(CLI::IsMember({"bilinear", "crop"}));
  cmd->add_option("--curve-top-k", o->curve_top_k, "Razor top-k curves of the accuracy plot (default 4,8)");
  cmd->add_option("--tedrop-top-k", o->tedrop_top_k,
                  "ThUnderVolt: protect the top k bits (default: every bit that fails at some level)");
  cmd->add_option("--max-backoff", o->max_backoff, "verification rounds before giving up (default 64)");
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
