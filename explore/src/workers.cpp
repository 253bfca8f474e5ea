// vosa explore's worker processes (see workers.hpp). The protocol is one
// JSON document per line: a worker first writes {"clean_correct": [...]},
// then answers every request line on its stdin ({"settings": <schedule>,
// "mode": "exact"|"sampled", "begin": i, "end": j}, inputs of its own block)
// with {"faulty_correct": [...], "layers": [...]}, or {"error": "..."}
// before it exits.
#include "vosa/explore/workers.hpp"

#include "vosa/config.hpp"
#include "vosa/explore/energy.hpp"
#include "vosa/infer.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <memory>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace vosa::explore {
namespace {

std::string block_name(std::size_t k, std::size_t first, std::size_t count) {
  return "explore worker " + std::to_string(k) + " (inputs " + std::to_string(first) + ".." +
         std::to_string(first + count - 1) + ")";
}

}  // namespace

WorkerPool::WorkerPool(const WorkerJob& job, int workers) : job_(job) {
  if (workers < 1) throw ExploreError("--workers must be >= 1");
  if (job.samples == 0) throw ExploreError(job.data + ": no inputs for the workers");
  std::signal(SIGPIPE, SIG_IGN);  // a worker that died is reported, not fatal to the explorer
  std::filesystem::create_directories(job.log_dir);
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(workers), job.samples);
  try {
    for (std::size_t k = 0, first = 0; k < n; ++k) {
      Worker w;
      w.first = first;
      w.count = job.samples / n + (k < job.samples % n ? 1 : 0);
      first += w.count;
      w.log = job.log_dir + "/worker_" + std::to_string(k) + ".log";
      std::vector<std::string> args = job.launch_prefix;
      args.insert(args.end(), {job.vosa, "explore-worker", "--config", job.config, "--model", job.model, "--data",
                               job.data, "--input-encoding", job.encoding, "--resize", job.resize, "--first",
                               std::to_string(w.first), "--count", std::to_string(w.count), "--repeats",
                               std::to_string(job.repeats), "--seed", std::to_string(job.seed), "-j",
                               std::to_string(job.threads)});
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      int in[2], out[2];
      // Close-on-exec: later workers must not hold this one's pipes open.
      if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
        throw ExploreError(std::string("pipe: ") + std::strerror(errno));
      posix_spawn_file_actions_t actions;
      posix_spawn_file_actions_init(&actions);
      posix_spawn_file_actions_adddup2(&actions, in[0], 0);
      posix_spawn_file_actions_adddup2(&actions, out[1], 1);
      posix_spawn_file_actions_addopen(&actions, 2, w.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int rc = ::posix_spawnp(&w.pid, argv[0], &actions, nullptr, argv.data(), environ);
      posix_spawn_file_actions_destroy(&actions);
      ::close(in[0]);
      ::close(out[1]);
      w.to = ::fdopen(in[1], "w");
      w.from = ::fdopen(out[0], "r");
      if (rc != 0) {
        w.pid = -1;
        workers_.push_back(w);
        throw ExploreError("cannot start " + args.front() + " for " + block_name(k, w.first, w.count) + ": " +
                           std::strerror(rc));
      }
      workers_.push_back(w);
    }
    clean_correct_.reserve(job.samples);
    for (std::size_t k = 0; k < workers_.size(); ++k) {
      const nlohmann::json reply = read_reply(workers_[k], "its clean pass");
      const auto clean = reply.at("clean_correct").get<std::vector<std::uint8_t>>();
      if (clean.size() != workers_[k].count)
        throw ExploreError(block_name(k, workers_[k].first, workers_[k].count) + " ran " +
                           std::to_string(clean.size()) + " inputs; log: " + workers_[k].log);
      clean_correct_.insert(clean_correct_.end(), clean.begin(), clean.end());
    }
  } catch (...) {
    stop(true);
    throw;
  }
}

WorkerPool::~WorkerPool() { stop(false); }

void WorkerPool::stop(bool kill) {
  for (Worker& w : workers_) {
    if (w.to) std::fclose(w.to);  // end of input: the worker exits
    w.to = nullptr;
    if (kill && w.pid > 0) ::kill(w.pid, SIGTERM);
  }
  for (Worker& w : workers_) {
    if (w.pid > 0) ::waitpid(w.pid, nullptr, 0);
    if (w.from) std::fclose(w.from);
    w.pid = -1;
    w.from = nullptr;
  }
}

nlohmann::json WorkerPool::read_reply(Worker& w, const std::string& what) {
  const std::size_t k = static_cast<std::size_t>(&w - workers_.data());
  char* line = nullptr;
  std::size_t capacity = 0;
  const ssize_t got = ::getline(&line, &capacity, w.from);
  const std::string text = got > 0 ? std::string(line, static_cast<std::size_t>(got)) : std::string();
  std::free(line);
  if (got <= 0)
    throw ExploreError(block_name(k, w.first, w.count) + " ended before " + what + "; log: " + w.log);
  nlohmann::json reply;
  try {
    reply = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw ExploreError(block_name(k, w.first, w.count) + ": unreadable reply (" + e.what() + "); log: " + w.log);
  }
  if (reply.contains("error"))
    throw ExploreError(block_name(k, w.first, w.count) + ": " + reply["error"].get<std::string>() + "; log: " + w.log);
  return reply;
}

inject::FaultyEvalResult WorkerPool::evaluate(const inject::Settings& settings, inject::InjectionMode mode,
                                              std::size_t begin, std::size_t end) {
  const auto start = std::chrono::steady_clock::now();
  end = std::min(end, job_.samples);
  const inject::Settings sent = inject::with_absolute_errmodels(settings);
  // Each worker's part of [begin, end), in its own input numbering.
  std::vector<std::pair<std::size_t, std::size_t>> parts(workers_.size(), {0, 0});
  for (std::size_t k = 0; k < workers_.size(); ++k) {
    const Worker& w = workers_[k];
    const std::size_t from = std::max(begin, w.first), to = std::min(end, w.first + w.count);
    if (from < to) parts[k] = {from - w.first, to - w.first};
  }
  for (std::size_t k = 0; k < workers_.size(); ++k) {
    if (parts[k].first == parts[k].second) continue;
    Worker& w = workers_[k];
    const nlohmann::json request = {{"settings", inject::to_json(sent)},
                                    {"mode", inject::to_string(mode)},
                                    {"begin", parts[k].first},
                                    {"end", parts[k].second}};
    const std::string line = request.dump() + "\n";
    if (std::fputs(line.c_str(), w.to) < 0 || std::fflush(w.to) != 0)
      throw ExploreError(block_name(k, w.first, w.count) + " is gone; log: " + w.log);
  }
  inject::FaultyEvalResult r;
  r.samples = 0;
  r.repeats = job_.repeats;
  r.seed = job_.seed;
  for (std::size_t k = 0; k < workers_.size(); ++k) {
    const std::size_t count = parts[k].second - parts[k].first;
    if (count == 0) continue;
    const nlohmann::json reply = read_reply(workers_[k], "answering a schedule");
    const auto faulty = reply.at("faulty_correct").get<std::vector<double>>();
    if (faulty.size() != count)
      throw ExploreError(block_name(k, workers_[k].first, workers_[k].count) + " answered for " +
                         std::to_string(faulty.size()) + " inputs, not " + std::to_string(count) +
                         "; log: " + workers_[k].log);
    r.faulty_correct.insert(r.faulty_correct.end(), faulty.begin(), faulty.end());
    for (std::size_t i = 0; i < count; ++i)
      r.clean_correct.push_back(static_cast<char>(clean_correct_[workers_[k].first + parts[k].first + i]));
    r.samples += count;
    const auto& layers = reply.at("layers");
    if (r.layers.empty()) r.layers.resize(layers.size());
    if (layers.size() != r.layers.size())
      throw ExploreError(block_name(k, workers_[k].first, workers_[k].count) + ": layer count differs; log: " +
                         workers_[k].log);
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const inject::LayerStats s = inject::layer_stats_from_json(layers[l], workers_[k].log);
      r.layers[l].op = s.op;
      r.layers[l] += s;
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

namespace {

struct WorkerOptions {
  std::string config, model, data, encoding = "auto", resize = "bilinear";
  std::size_t first = 0, count = 0;
  int repeats = 1, jobs = 1;
  std::uint64_t seed = 1;
};

void reply(const nlohmann::json& j) {
  std::cout << j.dump() << "\n" << std::flush;
}

void run_worker(const WorkerOptions& o) {
  const auto model = std::make_shared<tflite::Model>(tflite::load_tflite(o.model));
  const engine::Engine engine(model);
  const engine::Dataset data = engine::load_dataset(o.data);
  engine::InferOptions io;
  io.first = o.first;
  io.limit = o.count;
  io.jobs = o.jobs;
  io.encoding = engine::resolve_input_encoding(o.encoding, model->input(), data);
  io.resize = o.resize == "crop" ? engine::Resize::kCenterCrop : engine::Resize::kBilinear;
  const ArrayConfig config = load_config(o.config);
  const inject::FaultEvaluator evaluator(engine, data, io);
  reply({{"clean_correct", std::vector<int>(evaluator.clean_correct().begin(), evaluator.clean_correct().end())}});
  for (std::string line; std::getline(std::cin, line);) {
    const nlohmann::json request = nlohmann::json::parse(line);
    const inject::Settings settings = inject::settings_from_json(request.at("settings"), "explore schedule");
    inject::Injector injector = inject::make_injector(settings, config, o.config);
    injector.set_mode(inject::parse_injection_mode(request.at("mode").get<std::string>()));
    std::vector<std::size_t> part;
    for (std::size_t i = request.at("begin").get<std::size_t>(); i < request.at("end").get<std::size_t>(); ++i)
      part.push_back(i);
    const inject::FaultyEvalResult r = evaluator.evaluate(injector, o.repeats, o.seed, part);
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : r.layers) layers.push_back(inject::to_json(l));
    reply({{"faulty_correct", r.faulty_correct}, {"layers", layers}});
  }
}

}  // namespace

void add_explore_worker_command(CLI::App& app) {
  auto o = std::make_shared<WorkerOptions>();
  auto* cmd = app.add_subcommand(
      "explore-worker",
      "One block of vosa explore's inputs in its own process (started by vosa explore --workers; reads "
      "schedules as JSON lines on stdin, answers on stdout). See docs/slurm.md.");
  cmd->add_option("--config", o->config, "array generator config")->required();
  cmd->add_option("--model", o->model, "int8 .tflite model")->required();
  cmd->add_option("--data", o->data, "data directory")->required();
  cmd->add_option("--input-encoding", o->encoding, "auto, raw or pixels")->check(CLI::IsMember({"auto", "raw", "pixels"}));
  cmd->add_option("--resize", o->resize, "bilinear or crop")->check(CLI::IsMember({"bilinear", "crop"}));
  cmd->add_option("--first", o->first, "first input of the block (its index in the data set)")->required();
  cmd->add_option("--count", o->count, "inputs in the block")->required()->check(CLI::PositiveNumber);
  cmd->add_option("--repeats", o->repeats, "fault draws per input")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o->seed, "seed of the fault draws");
  cmd->add_option("-j,--jobs", o->jobs, "threads")->check(CLI::Range(1, 256));
  cmd->callback([o]() {
    try {
      run_worker(*o);
    } catch (const std::exception& e) {
      reply({{"error", e.what()}});
      std::cerr << "explore-worker: error: " << e.what() << "\n";
      std::exit(1);
    }
  });
}

}  // namespace vosa::explore
