// vosa explore's faulty runs spread over worker processes (docs/slurm.md).
// Each worker (`vosa explore-worker`) holds one contiguous block of the
// inputs, runs its clean pass once, then evaluates every schedule the
// explorer sends it on its block. A worker draws the faults of a data-set
// sample exactly as the in-process evaluator does (the sample's index in the
// data set seeds its stream), so any number of workers, local or as Slurm job
// steps (`--worker-launch "srun ..."`), gives the same results.
#pragma once

#include "vosa/inject.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <sys/types.h>
#include <vector>

namespace vosa::explore {

// What every worker needs to rebuild the evaluator on its block.
struct WorkerJob {
  std::string vosa;  // the vosa binary the workers run
  std::string config, model, data, encoding = "auto", resize = "bilinear";
  std::size_t samples = 0;  // inputs of the whole run (the first `samples` of data)
  int repeats = 1;
  std::uint64_t seed = 1;
  int threads = 1;                          // per worker
  std::vector<std::string> launch_prefix;   // e.g. {"srun", "-n1", "-N1", "--exact"}; empty: run directly
  std::string log_dir;                      // worker_<k>.log (stderr) goes here
};

class WorkerPool {
 public:
  // Starts `workers` processes (fewer if there are fewer inputs) and reads
  // their clean passes; throws ExploreError naming the log of a worker that
  // fails to start.
  WorkerPool(const WorkerJob& job, int workers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Clean top-1 correctness of every input, in data-set order.
  const std::vector<std::uint8_t>& clean_correct() const { return clean_correct_; }
  // The same result as inject::FaultEvaluator::evaluate on the inputs
  // [begin, end) with the injector in `mode` (faulty_correct in input order,
  // layer statistics summed); only the workers whose block meets the range
  // run. `seconds` is this call's wall time.
  inject::FaultyEvalResult evaluate(const inject::Settings& settings, inject::InjectionMode mode, std::size_t begin,
                                    std::size_t end);

 private:
  struct Worker {
    pid_t pid = -1;
    FILE* to = nullptr;    // its stdin
    FILE* from = nullptr;  // its stdout
    std::size_t first = 0, count = 0;
    std::string log;
  };
  nlohmann::json read_reply(Worker& w, const std::string& what);
  void stop(bool kill);

  WorkerJob job_;
  std::vector<Worker> workers_;
  std::vector<std::uint8_t> clean_correct_;
};

// `vosa explore-worker` (started by WorkerPool; reads schedules on stdin).
void add_explore_worker_command(CLI::App& app);

}  // namespace vosa::explore
