// Real DNN layers on the generated array in Verilator.
//
// For each input, the reference engine runs the network; at every CONV_2D,
// DEPTHWISE_CONV_2D and FULLY_CONNECTED layer the testbench lowers the
// layer's actual input activations to GEMMs (vosa/lowering.hpp, the same
// lowering the engine's accumulators are defined by), runs them on the
// Verilated array through vosa::ArrayDriver, and compares the resulting
// int32 accumulators bit-exact with the engine's. The array's accumulators
// then replace the engine's, so the rest of the network (requantization,
// ADD, pooling, softmax, in C++) runs on what the hardware computed; the
// final prediction is compared with the engine-only run and the label.
//
//   vosa_layers --model M --data D [-n N] [--input-encoding auto|raw|pixels]
//               [--trace-dir DIR --trace-pe ROW,COL [--trace-records N]]
//               [--corrupt-first-weight]   (checks the checker: flips one weight, must fail)
//               [--settings SCHEDULE.json | --errmodel F --voltages V[,V...] [--period-ns P]]
//               [--seed S] [--repeats R]
//               [--mode M] [--layer-mode OP=M ...]   (precision modes, docs/precision.md)
//               [--depthwise auto|channels|spatial|mode]  (depthwise mapping, docs/dnn.md)
//               [--layers OP[,OP...]]   (only these operators on the array; the rest in the engine)
//               [--sram-faults MAP.csv --sram-ber B]   (buffered design, built with SRAM_FAULTS=1)
//               [--sram-act-faults MAP.csv --sram-ber B]   (the same, activation buffer)
// Exit status 0 only when every accumulator of every layer matched.
//
// A design with the depthwise mode (config "depthwise", docs/rtl.md) runs
// depthwise layers in that mode (by default or --depthwise mode; lanes from
// vosa::lowering::lower_depthwise_lanes, ArrayDriver::depthwise_pass), with
// --errmodel/--settings too: the engine's injector then maps each of their
// MACs onto the mode's PE (inject::ArrayShape::depthwise_group_rows).
//
// With --sram-faults (a design generated with "buffers", the RTL built with
// +define+VOSA_SRAM_FAULTS: run_layers.sh SRAM_FAULTS=1) the weight buffer's
// SRAM model reads through the stuck cells of the fault map (vosa sram
// faultmap --words <weight_depth> --width <cols x 8>) at BER B, loaded as
// $readmemh masks; the testbench writes the clean weights into the buffer
// at the addresses vosa::sram::array_weight_layout gives (from word 0 at
// every inference, so the faults persist across inferences). The engine
// runs the model whose weights vosa::sram::apply_weight_faults read through
// the same map and layout: every accumulator must agree bit for bit, and the
// faults must have changed some (counted against the clean weights).
// --sram-act-faults does the same for the activation buffer (a map of
// --words <act_depth> --width <rows x 8>): the testbench writes the clean
// im2col rows, the RTL reads them through the stuck cells, and the engine runs
// with vosa::sram::ArrayActivationBuffer's observer, its model of that buffer
// (row m of a lowered A in word m mod act_depth, element k mod rows).
//
// With --mode / --layer-mode (a design generated with precision_modes) the
// testbench writes each layer's mode index to the MODE registers before the
// layer's GEMMs and still feeds the array the layer's full int8 operands:
// the PEs reduce them. The engine runs with the same per-layer precision
// (vosa::engine::PrecisionPlan), so the check is RTL reduction vs engine
// reduction, bit-exact.
//
// With --errmodel (the RTL built with +define+VOSA_INJECT_ERRORS) the PEs take
// timing errors drawn from the model at each island's voltage
// (array_error_source.hpp). Then every GEMM's outputs are checked bit-exact
// against the replay of the injected masks (vosa/injection_replay.hpp: the
// Razor/TE-Drop hardware does what the injection model says), the network
// runs on the faulty accumulators, and top-1 is reported against the
// error-free engine on the same inputs. Finally the engine's own injector
// (vosa/inject.hpp, what `vosa infer --errmodel` and `vosa explore` use) runs
// the same inputs with R error draws each: per layer, the fraction of
// accumulators the errors change must agree (z test, |z| < 5), and top-1 of
// both is printed side by side.
#include "Vvosa_top.h"
#include "array_error_source.hpp"
#include "vosa/array_driver.hpp"
#include "vosa/inject.hpp"
#include "vosa/engine.hpp"
#include "vosa/infer.hpp"
#include "vosa/layer_trace.hpp"
#include "vosa/lowering.hpp"
#include "vosa/number_list.hpp"
#include "vosa/precision.hpp"
#include "vosa/sram.hpp"

#include <verilated.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string model, data, trace_dir;
  size_t count = 1;
  std::string encoding_flag = "auto";  // resolved against the model and data in run()
  vosa::engine::InputEncoding encoding = vosa::engine::InputEncoding::kRaw;
  vosa::engine::Resize resize = vosa::engine::Resize::kBilinear;
  int trace_row = -1, trace_col = -1;
  size_t trace_records = 100000;
  bool trace_fed_operands = false;    // reduced modes: record the operands as fed (gated PE), not as reduced
  bool corrupt_first_weight = false;  // self-check of the checker: must end in a mismatch
  std::string settings;               // inject timing errors as this schedule says (docs/inject.md)
  std::string errmodel;               // or: from this model at --voltages for every layer
  std::vector<double> voltages;       // per island (one value: every island)
  double period_ns = 0;               // 0: the model's only period
  uint64_t seed = 1;
  int repeats = 20;                   // the engine's error draws per input for the prediction
  int mode = 0;                       // precision mode index of every array layer
  std::map<size_t, int> layer_modes;  // overrides per operator index
  // Depthwise layers: block-diagonal channel groups, spatial patches, or
  // whichever takes fewer cycles (vosa::lowering::plan_depthwise).
  vosa::lowering::DepthwiseMapping depthwise = vosa::lowering::DepthwiseMapping::kAuto;
  bool depthwise_given = false;
  bool depthwise_mode = false;  // --depthwise mode: the array's depthwise mode (needs config "depthwise")
  std::vector<size_t> only_ops;  // --layers: run just these operators on the array (large arrays)
  std::string sram_faults;       // fault map of the weight buffer (buffered designs)
  std::string sram_act_faults;   // fault map of the activation buffer (buffered designs)
  double sram_ber = -1;          // the BER it is read at
};

std::unique_ptr<vosa::ArrayErrorSource> g_errors;
const vosa::ArrayDriver<Vvosa_top>* g_driver = nullptr;

}  // namespace

// Called by every PE at every capture of its output register when the RTL is
// built with VOSA_INJECT_ERRORS (see rtl_templates/vosa_pe_ws.v).
// d: the value the register captures without error (the mask is drawn to
// fit its bits when the model has them, docs/errmodel.md).
extern "C" long long vosa_inject_mask(int row, int col, unsigned long long d) {
  if (!g_errors || !g_driver) return 0;
  return static_cast<long long>(g_errors->draw_word(g_driver->edge_index(), row, col, false, d));
}
// The carry word's half of a carry-save PE's pair mask (VOSA_HAS_CARRY_SAVE).
extern "C" long long vosa_inject_carry_mask(int row, int col) {
  if (!g_errors || !g_driver) return 0;
  return static_cast<long long>(g_errors->draw_word(g_driver->edge_index(), row, col, true));
}

namespace {

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "vosa_layers: %s\n"
               "usage: vosa_layers --model M --data D [-n N] [--input-encoding auto|raw|pixels] [--resize bilinear|crop]\n"
               "                   [--trace-dir DIR --trace-pe ROW,COL [--trace-records N] [--trace-fed-operands]]\n"
               "                   [--depthwise auto|channels|spatial|mode] [--layers OP[,OP...]]\n"
               "                   [--sram-faults MAP.csv | --sram-act-faults MAP.csv] --sram-ber B   (buffered design,\n"
               "                   SRAM_FAULTS=1 build)\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
      return argv[++i];
    };
    if (arg == "--model") o.model = value();
    else if (arg == "--data") o.data = value();
    else if (arg == "-n") o.count = std::stoul(value());
    else if (arg == "--input-encoding") {
      o.encoding_flag = value();
      if (o.encoding_flag != "auto" && o.encoding_flag != "raw" && o.encoding_flag != "pixels")
        usage("--input-encoding is auto, raw or pixels");
    } else if (arg == "--resize") {
      const std::string v = value();
      if (v != "bilinear" && v != "crop") usage("--resize is bilinear or crop");
      o.resize = v == "crop" ? vosa::engine::Resize::kCenterCrop : vosa::engine::Resize::kBilinear;
    } else if (arg == "--trace-dir") o.trace_dir = value();
    else if (arg == "--trace-pe") {
      if (std::sscanf(value().c_str(), "%d,%d", &o.trace_row, &o.trace_col) != 2) usage("--trace-pe is ROW,COL");
    } else if (arg == "--trace-records") o.trace_records = std::stoul(value());
    else if (arg == "--trace-fed-operands") o.trace_fed_operands = true;
    else if (arg == "--corrupt-first-weight") o.corrupt_first_weight = true;
    else if (arg == "--sram-faults") o.sram_faults = value();
    else if (arg == "--sram-ber") o.sram_ber = std::stod(value());
    else if (arg == "--sram-act-faults") o.sram_act_faults = value();
    else if (arg == "--settings") o.settings = value();
    else if (arg == "--errmodel") o.errmodel = value();
    else if (arg == "--repeats") o.repeats = std::stoi(value());
    else if (arg == "--voltages") o.voltages = vosa::parse_number_list(value(), "--voltages");
    else if (arg == "--period-ns") o.period_ns = std::stod(value());
    else if (arg == "--seed") o.seed = std::stoull(value());
    else if (arg == "--mode") o.mode = std::stoi(value());
    else if (arg == "--layers") {
      for (double v : vosa::parse_number_list(value(), "--layers")) {
        if (v < 0 || v != static_cast<double>(static_cast<size_t>(v))) usage("--layers takes operator indices");
        o.only_ops.push_back(static_cast<size_t>(v));
      }
    } else if (arg == "--depthwise") {
      const std::string v = value();
      if (v == "mode") {
        if (!vosa::kHasDepthwiseMode) usage("--depthwise mode needs a design generated with \"depthwise\" (docs/rtl.md)");
        o.depthwise_mode = true;
      } else {
        try {
          o.depthwise = vosa::lowering::depthwise_mapping_from_string(v);
        } catch (const std::invalid_argument& e) {
          usage((std::string(e.what()) + " (or mode)").c_str());
        }
      }
      o.depthwise_given = true;
    }
    else if (arg == "--layer-mode") {
      size_t op = 0;
      int mode = 0;
      if (std::sscanf(value().c_str(), "%zu=%d", &op, &mode) != 2) usage("--layer-mode is OP=MODE");
      o.layer_modes[op] = mode;
    }
    else if (arg.rfind("+verilator", 0) == 0) continue;
    else usage(("unknown argument " + arg).c_str());
  }
  if (o.model.empty() || o.data.empty()) usage("--model and --data are required");
  if (!o.trace_dir.empty() && o.trace_row < 0) usage("--trace-dir needs --trace-pe ROW,COL");
  if (!o.errmodel.empty() && o.voltages.empty()) usage("--errmodel needs --voltages V[,V...] (one per island)");
  if (!o.errmodel.empty() && !o.settings.empty()) usage("give --settings or --errmodel, not both");
  if (o.repeats < 1) usage("--repeats is at least 1");
  const bool sram = !o.sram_faults.empty() || !o.sram_act_faults.empty();
  if (sram != (o.sram_ber >= 0)) usage("--sram-faults / --sram-act-faults MAP.csv and --sram-ber B go together");
  if (!o.sram_faults.empty() && !o.sram_act_faults.empty())
    usage("give --sram-faults or --sram-act-faults, not both (padding weights would meet faulty padding activations)");
  if (sram && (!o.errmodel.empty() || !o.settings.empty()))
    usage("--sram-faults / --sram-act-faults are checked without timing errors (no --errmodel / --settings)");
  return o;
}

// Sets each island's voltage-level register to the level of its voltage, as
// a host would before a layer (the controller stalls the array while the
// regulator settles). Needs islands.voltages in the config; without them the
// voltages act through the error source only.
void program_island_levels(vosa::ArrayDriver<Vvosa_top>& drv, const std::vector<double>& voltages) {
  if constexpr (!vosa_params::kHasLevelVoltages) {
    (void)drv;
    (void)voltages;
  } else {
    constexpr unsigned kRegLevel = 0x100;
    for (size_t i = 0; i < voltages.size(); ++i) {
      int level = -1;
      for (int l = 0; l < vosa_params::kLevels; ++l)
        if (std::abs(vosa_params::kLevelVoltages[l] - voltages[i]) < 1e-6) level = l;
      if (level < 0) {
        std::string have;
        for (int l = 0; l < vosa_params::kLevels; ++l)
          have += (l ? ", " : "") + std::to_string(vosa_params::kLevelVoltages[l]);
        throw std::runtime_error("island " + std::to_string(i) + ": " + std::to_string(voltages[i]) +
                                 " V is not one of the config's islands.voltages (" + have + ")");
      }
      if ((drv.read_reg(kRegLevel + static_cast<unsigned>(i)) & 0xffu) != static_cast<unsigned>(level))
        drv.write_reg(kRegLevel + static_cast<unsigned>(i), static_cast<uint32_t>(level));
    }
  }
}

struct LayerStats {
  std::string name;
  std::string mapping;  // depthwise layers: channels or spatial PHxPW
  int m = 0, k = 0, n = 0, gemms = 0;
  uint64_t macs = 0, cycles = 0, mismatches = 0;
  uint64_t outputs = 0;  // accumulators compared, over all inputs
  uint64_t sram_changed = 0;  // --sram-(act-)faults: accumulators the faulty buffer changed
};

// The engine's injector on the same inputs (o.repeats error draws each)
// against what the Verilated array did: per layer, the fraction of
// accumulators that the errors changed (two-proportion z test), and top-1.
bool engine_agrees(const vosa::engine::Engine& eng, const vosa::engine::Dataset& data, const Options& o,
                   const vosa::inject::Injector& injector, const std::map<size_t, LayerStats>& stats,
                   const std::vector<char>& array_correct) {
  using namespace vosa;
  engine::InferOptions options;
  options.limit = array_correct.size();
  options.jobs = 2;
  options.encoding = o.encoding;
  options.resize = o.resize;
  const inject::FaultEvaluator evaluator(eng, data, options);
  const inject::FaultyEvalResult r = evaluator.evaluate(injector, o.repeats, o.seed + 1);
  std::printf("engine injector (same inputs, %d error draws each): changed accumulators per layer, Verilator vs "
              "engine\n", o.repeats);
  std::printf("%-5s %12s %12s %8s\n", "op", "Verilator", "engine", "z");
  bool ok = true;
  for (const auto& ls : r.layers) {
    const auto it = stats.find(ls.op);
    if (it == stats.end() || it->second.outputs == 0) continue;
    const double n1 = static_cast<double>(it->second.outputs);
    const double n2 = n1 * o.repeats;
    const double f1 = static_cast<double>(it->second.mismatches) / n1;
    const double f2 = static_cast<double>(ls.corrupted_outputs) / n2;
    const double f = (f1 * n1 + f2 * n2) / (n1 + n2);
    const double se = std::sqrt(std::max(f * (1 - f), 1e-12) * (1 / n1 + 1 / n2));
    const double z = (f1 - f2) / se;
    const bool layer_ok = std::abs(z) < 5.0;
    ok = ok && layer_ok;
    std::printf("%-5zu %12.5f %12.5f %8.2f%s\n", ls.op, f1, f2, z, layer_ok ? "" : "  DISAGREE");
  }
  // Paired per input: the array's top-1 (one draw) minus the engine's mean over its draws.
  double sum = 0, sum2 = 0;
  const size_t n = array_correct.size();
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(array_correct[i]) - r.faulty_correct[i];
    sum += d;
    sum2 += d * d;
  }
  const double mean = sum / static_cast<double>(n);
  const double var = n > 1 ? (sum2 - sum * mean) / static_cast<double>(n - 1) : 0.0;
  const double half = 1.96 * std::sqrt(var / static_cast<double>(n));
  std::printf("top-1 with timing errors: Verilator array %.1f %%, engine prediction %.1f %% (error-free %.1f %%); "
              "difference %+.1f %% +- %.1f %% (95 %%, paired over %zu inputs)\n",
              100.0 * (mean + r.faulty_top1), 100.0 * r.faulty_top1, 100.0 * r.clean_top1, 100.0 * mean, 100.0 * half,
              n);
  std::printf("engine prediction: %s\n", ok ? "every layer agrees with the Verilated array (|z| < 5)"
                                             : "DISAGREES with the Verilated array");
  return ok;
}

// The errors the Verilated array took in one GEMM (gemm index `gemm` of the
// layer), as the engine injector's hits: a log entry (edge, row, col) is PE
// row `row` processing the activation row accepted at edge - row - col - 1
// (vosa/injection_replay.hpp); tiles run N outer, K inner. Captures outside
// the GEMM's rows and columns (fill, drain, unused columns) reach no output.
void collect_logged_hits(const vosa::ArrayParams& ap, const vosa::lowering::Gemm& g, int gemm,
                         const std::vector<uint64_t>& accept_edges, const vosa::InjectionLog& log,
                         std::vector<vosa::inject::Hit>& hits) {
  const int k_tiles = (g.k + ap.rows - 1) / ap.rows;
  for (const auto& [key, mask] : log) {
    const auto [edge, row, col] = key;
    const uint64_t lag = static_cast<uint64_t>(row + col + 1);
    if (edge < lag) continue;
    const auto it = std::lower_bound(accept_edges.begin(), accept_edges.end(), edge - lag);
    if (it == accept_edges.end() || *it != edge - lag) continue;
    const size_t idx = static_cast<size_t>(it - accept_edges.begin());
    const int tile = static_cast<int>(idx / static_cast<size_t>(g.m));
    vosa::inject::Hit h;
    h.gemm = gemm;
    h.m = static_cast<int>(idx % static_cast<size_t>(g.m));
    h.k_tile = tile % k_tiles;
    h.column = (tile / k_tiles) * ap.cols + col;
    h.row = row;
    h.mask = mask;
    if (h.column < g.n) hits.push_back(h);
  }
}

// Mode index of each array layer, checked against the design's modes.
std::map<size_t, int> layer_mode_indices(const vosa::tflite::Model& model, const Options& o) {
#ifdef VOSA_HAS_PRECISION_MODES
  constexpr int modes = vosa_params::kModes;
#else
  constexpr int modes = 1;
#endif
  std::map<size_t, int> out;
  for (size_t i = 0; i < model.operators.size(); ++i)
    if (vosa::lowering::is_array_layer(model.operators[i].type)) out[i] = o.mode;
  for (const auto& [op, mode] : o.layer_modes) {
    if (!out.count(op))
      throw std::runtime_error("--layer-mode " + std::to_string(op) + "=...: operator " + std::to_string(op) +
                               " is not an array layer of " + model.path);
    out[op] = mode;
  }
  for (const auto& [op, mode] : out)
    if (mode < 0 || mode >= modes)
      throw std::runtime_error("operator " + std::to_string(op) + ": precision mode index " + std::to_string(mode) +
                               " is not one of the design's " + std::to_string(modes) +
                               " mode(s) (generate it with precision_modes, docs/precision.md)");
  return out;
}

// --sram-faults: reads the map, checks it fits the design's weight buffer,
// replaces `model` by the model as the faulty buffer reads it back, writes
// the RTL's $readmemh masks and hands them to the SRAM model by plusarg
// (before the Verilated model is built). Returns the masks file ("" without).
std::string prepare_sram_faults(const Options& o, std::shared_ptr<vosa::tflite::Model>& model) {
  using namespace vosa;
  if (o.sram_faults.empty()) return "";
#if !defined(VOSA_HAS_BUFFERS)
  (void)model;
  throw std::runtime_error("--sram-faults needs a design generated with \"buffers\" (docs/sram.md)");
#elif !defined(VOSA_SRAM_FAULTS)
  (void)model;
  throw std::runtime_error("--sram-faults needs the testbench built with VOSA_SRAM_FAULTS (run_layers.sh SRAM_FAULTS=1)");
#else
  if (vosa_params::kWeightBits != 8)
    throw std::runtime_error("--sram-faults: the weight buffer must hold int8 weights (weight_bits 8), the design has " +
                             std::to_string(vosa_params::kWeightBits));
  const sram::FaultMap map = sram::read_fault_map(o.sram_faults);
  const sram::Geometry want{static_cast<std::uint64_t>(vosa_params::kWeightBufferDepth), vosa_params::kCols * 8};
  if (map.geometry.words != want.words || map.geometry.width != want.width)
    throw std::runtime_error(o.sram_faults + ": a " + std::to_string(map.geometry.words) + " x " +
                             std::to_string(map.geometry.width) + " map, but the design's weight buffer is " +
                             std::to_string(want.words) + " x " + std::to_string(want.width) +
                             " (vosa sram faultmap --words " + std::to_string(want.words) + " --width " +
                             std::to_string(want.width) + ")");
  const std::vector<sram::Fault> faults = map.at_ber(o.sram_ber);
  std::vector<size_t> ops = o.only_ops;
  if (ops.empty())
    for (size_t i = 0; i < model->operators.size(); ++i)
      if (lowering::is_array_layer(model->operators[i].type)) ops.push_back(i);
  std::sort(ops.begin(), ops.end());
  const sram::WeightLayout layout =
      sram::array_weight_layout(*model, ops, vosa_params::kRows, vosa_params::kCols, want.words);
  std::uint64_t flipped = 0;
  model = std::make_shared<tflite::Model>(sram::apply_weight_faults(*model, layout, faults, &flipped));
  const std::string masks =
      (std::filesystem::temp_directory_path() / ("vosa_layers_wbuf_" + std::to_string(::getpid()) + ".hex")).string();
  sram::write_readmemh_masks(map.geometry, faults, masks);
  const std::string plusarg = "+vosa_wbuf_faults=" + masks;
  const char* args[] = {"vosa_layers", plusarg.c_str()};
  Verilated::commandArgsAdd(2, args);
  std::printf("vosa_layers: weight buffer %llu x %d bits through %s at BER %g: %zu faulty cells, %llu weight bits "
              "changed in %zu layers (%llu tile rows)\n",
              static_cast<unsigned long long>(want.words), want.width, o.sram_faults.c_str(), o.sram_ber, faults.size(),
              static_cast<unsigned long long>(flipped), ops.size(),
              static_cast<unsigned long long>(layout.total_bytes() / static_cast<std::uint64_t>(vosa_params::kCols)));
  return masks;
#endif
}

// --sram-act-faults: reads the map, checks it fits the design's activation
// buffer, writes the RTL's masks and hands them over by plusarg; returns the
// engine's model of that buffer (null without a map) and the masks file.
std::unique_ptr<vosa::sram::ArrayActivationBuffer> prepare_sram_act_faults(const Options& o, std::string& masks) {
  using namespace vosa;
  if (o.sram_act_faults.empty()) return nullptr;
#if !defined(VOSA_HAS_BUFFERS)
  (void)masks;
  throw std::runtime_error("--sram-act-faults needs a design generated with \"buffers\" (docs/sram.md)");
#elif !defined(VOSA_SRAM_FAULTS)
  (void)masks;
  throw std::runtime_error("--sram-act-faults needs the testbench built with VOSA_SRAM_FAULTS (run_layers.sh SRAM_FAULTS=1)");
#else
#ifdef VOSA_HAS_PRECISION_MODES
  throw std::runtime_error("--sram-act-faults: the engine's activation-buffer model has no precision modes");
#endif
  if (vosa_params::kActBits != 8)
    throw std::runtime_error("--sram-act-faults: the activation buffer must hold int8 activations (act_bits 8), the "
                             "design has " + std::to_string(vosa_params::kActBits));
  const sram::FaultMap map = sram::read_fault_map(o.sram_act_faults);
  const sram::Geometry want{static_cast<std::uint64_t>(vosa_params::kActBufferDepth), vosa_params::kRows * 8};
  if (map.geometry.words != want.words || map.geometry.width != want.width)
    throw std::runtime_error(o.sram_act_faults + ": a " + std::to_string(map.geometry.words) + " x " +
                             std::to_string(map.geometry.width) + " map, but the design's activation buffer is " +
                             std::to_string(want.words) + " x " + std::to_string(want.width) +
                             " (vosa sram faultmap --buffer activations --words " + std::to_string(want.words) +
                             " --width " + std::to_string(want.width) + ")");
  const std::vector<sram::Fault> faults = map.at_ber(o.sram_ber);
  auto buffer = std::make_unique<sram::ArrayActivationBuffer>(want, faults, vosa_params::kRows);
  masks = (std::filesystem::temp_directory_path() / ("vosa_layers_abuf_" + std::to_string(::getpid()) + ".hex")).string();
  sram::write_readmemh_masks(map.geometry, faults, masks);
  const std::string plusarg = "+vosa_abuf_faults=" + masks;
  const char* args[] = {"vosa_layers", plusarg.c_str()};
  Verilated::commandArgsAdd(2, args);
  std::printf("vosa_layers: activation buffer %llu x %d bits through %s at BER %g: %zu faulty cells\n",
              static_cast<unsigned long long>(want.words), want.width, o.sram_act_faults.c_str(), o.sram_ber,
              faults.size());
  return buffer;
#endif
}

// A depthwise layer in the array's depthwise mode: its lane passes
// (vosa::lowering::lower_depthwise_lanes) streamed through
// ArrayDriver::depthwise_pass, summed into the layer's accumulators. With
// injected errors, each pass's logged errors become the engine injector's
// hits (pass i = GEMM i of inject::LayerOperands in the mode, one K tile):
// a log entry (edge, row, col) is PE row `row` of column `col` at the vector
// accepted at edge - row - col - 1, as in the GEMMs (collect_logged_hits).
std::vector<int32_t> run_depthwise_mode(vosa::ArrayDriver<Vvosa_top>& drv, const vosa::tflite::Model& model,
                                        const vosa::engine::PreparedOp& p, const int8_t* input,
                                        const std::vector<int64_t>& correction, int& passes, int& vectors,
                                        std::vector<vosa::inject::Hit>& logged_hits) {
  using namespace vosa;
  const ArrayParams& ap = drv.params();
  const auto lane_passes = lowering::lower_depthwise_lanes(model, model.operators.at(p.index), p.geometry, input,
                                                           ap.rows, ap.cols, kDwGroupRows);
  std::vector<std::vector<int64_t>> results;
  const int blocks = (p.geometry.out_c + ap.cols - 1) / ap.cols;
  for (const auto& pass : lane_passes) {
    if (g_errors) {
      drv.accept_edges_.clear();
      g_errors->log().clear();
      g_errors->set_lanes(&pass, &drv.accept_edges_);
    }
    results.push_back(drv.depthwise_pass(std::vector<int32_t>(pass.lane_values.begin(), pass.lane_values.end()),
                                         std::vector<int32_t>(pass.b.begin(), pass.b.end()), pass.m));
    if (g_errors) {
      const int gemm = static_cast<int>(&pass - lane_passes.data());
      const int width = std::min(ap.cols, p.geometry.out_c - (gemm % blocks) * ap.cols);
      for (const auto& [key, mask] : g_errors->log()) {
        const auto [edge, row, col] = key;
        const uint64_t lag = static_cast<uint64_t>(row + col + 1);
        if (edge < lag || col >= width) continue;  // fill, drain, unused columns: no output
        const auto it = std::lower_bound(drv.accept_edges_.begin(), drv.accept_edges_.end(), edge - lag);
        if (it == drv.accept_edges_.end() || *it != edge - lag) continue;
        inject::Hit h;
        h.gemm = gemm;
        h.column = col;
        h.k_tile = 0;
        h.m = static_cast<int>(it - drv.accept_edges_.begin());
        h.row = row;
        h.mask = mask;
        logged_hits.push_back(h);
      }
      g_errors->set_lanes(nullptr, nullptr);
    }
  }
  passes = static_cast<int>(lane_passes.size());
  vectors = lane_passes.front().m;
  return lowering::assemble_lane_accumulators(p.geometry, lane_passes, results, correction);
}

int run(Options o) {
  using namespace vosa;
  auto model = std::make_shared<tflite::Model>(tflite::load_tflite(o.model));
  const std::map<size_t, int> modes = layer_mode_indices(*model, o);
  for (size_t op : o.only_ops)
    if (op >= model->operators.size() || !lowering::is_array_layer(model->operators[op].type))
      throw std::runtime_error("--layers " + std::to_string(op) + ": operator " + std::to_string(op) +
                               " is not a conv/depthwise/FC layer of " + model->path);
  engine::PrecisionPlan precision;
#ifdef VOSA_HAS_PRECISION_MODES
  if (vosa_params::kActBits != 8 || vosa_params::kWeightBits != 8)
    throw std::runtime_error("precision modes on int8 layers need an array of 8-bit activations and weights");
  for (const auto& [op, mode] : modes) precision[op] = engine::int8_precision(vosa_params::kPrecisionModes[mode]);
#endif
  // The array is fed the clean weights (lowered from `clean`); with a fault
  // map the engine and the accumulator correction use the weights as the
  // faulty buffer reads them back.
  const std::shared_ptr<const tflite::Model> clean = model;
  std::string sram_masks = prepare_sram_faults(o, model);
  const std::unique_ptr<sram::ArrayActivationBuffer> abuf = prepare_sram_act_faults(o, sram_masks);
  const engine::Engine eng(model, engine::Kernels::kFast, engine::Arithmetic::kTFLite, precision);
  const engine::Dataset data = engine::load_dataset(o.data);
  o.encoding = engine::resolve_input_encoding(o.encoding_flag, model->input(), data);
  auto top = std::make_unique<Vvosa_top>();
  ArrayDriver<Vvosa_top> drv(*top);
  drv.reset();
  const ArrayParams& ap = drv.params();
  if (ap.act_bits < 8 || ap.weight_bits < 8 || !ap.is_signed)
    throw std::runtime_error("the array must take signed 8-bit (or wider) activations and weights for int8 layers");
  if (!o.trace_dir.empty() && (o.trace_row >= ap.rows || o.trace_col >= ap.cols))
    throw std::runtime_error("--trace-pe " + std::to_string(o.trace_row) + "," + std::to_string(o.trace_col) +
                             " is outside the " + std::to_string(ap.rows) + "x" + std::to_string(ap.cols) + " array");
  if (!o.trace_dir.empty()) std::filesystem::create_directories(o.trace_dir);
  const RazorSemantics razor{vosa_params::kRazorMask, vosa_params::kRazorCorrect};
  // Depthwise layers in the array's depthwise mode: asked for, or by default
  // when the design has it; an explicit --depthwise auto|channels|spatial
  // runs the GEMM mappings on it, to compare.
  const bool use_depthwise_mode = kHasDepthwiseMode && (o.depthwise_mode || !o.depthwise_given);
  std::unique_ptr<inject::Injector> injector;
  std::vector<inject::LayerSetting> schedule;  // per layer voltages (settings' layers)
  std::vector<double> default_voltages;
  if (!o.errmodel.empty() || !o.settings.empty()) {
#ifndef VOSA_INJECT_ERRORS
    throw std::runtime_error("timing errors need the testbench built with VOSA_INJECT_ERRORS (run_layers.sh INJECT=1)");
#endif
    inject::Settings settings;
    if (!o.settings.empty()) {
      settings = inject::load_settings(o.settings);
    } else {
      settings.errmodel = o.errmodel;
      settings.period_ns = o.period_ns;
      settings.voltages = o.voltages;
      if (settings.voltages.size() == 1) settings.voltages.assign(static_cast<size_t>(std::max(1, ap.islands)), o.voltages[0]);
    }
    inject::ArrayShape shape;
    shape.rows = ap.rows, shape.cols = ap.cols, shape.acc_bits = ap.acc_bits, shape.is_signed = ap.is_signed;
    shape.carry_save = ap.carry_save;
    shape.islands = std::max(1, ap.islands);
    shape.island_of_column.assign(vosa_params::kIslandOfColumn, vosa_params::kIslandOfColumn + ap.cols);
    shape.razor.mask = razor.protected_mask;
    shape.razor.policy = razor.correct ? RazorPolicy::Correct : RazorPolicy::Drop;
    // Depthwise layers run in the array's depthwise mode (below): the engine's
    // injector maps their MACs onto the mode's PEs.
    if (use_depthwise_mode) shape.depthwise_group_rows = kDwGroupRows;
    injector = std::make_unique<inject::Injector>(ErrorModel::load(settings.errmodel), shape, settings);
    injector->check_model(*model);
    schedule = settings.layers;
    default_voltages = settings.voltages;
    // Off the depthwise mode, the engine's injector models depthwise layers
    // as block-diagonal channel groups; the array must compute them the same way.
    if (o.depthwise == lowering::DepthwiseMapping::kSpatial && o.depthwise_given)
      throw std::runtime_error("--depthwise spatial cannot be checked with timing errors: the engine's injector "
                               "models depthwise layers as channel groups or the depthwise mode (use --depthwise "
                               "channels, auto or mode)");
    o.depthwise = lowering::DepthwiseMapping::kChannels;
    g_errors = std::make_unique<ArrayErrorSource>(ap, shape.island_of_column, o.seed);
    g_errors->thin_by_value(!razor.protected_mask);  // as the engine's exact walk (Injector::by_value)
    g_driver = &drv;
    std::printf("vosa_layers: injecting timing errors from %s, island voltages", settings.errmodel.c_str());
    for (double v : default_voltages) std::printf(" %.3f", v);
    std::printf(" V%s; Razor mask 0x%llx %s\n", schedule.empty() ? "" : " (and per-layer voltages)",
                static_cast<unsigned long long>(razor.protected_mask),
                razor.protected_mask ? (razor.correct ? "correct" : "TE-Drop") : "(none)");
  }
  // Before each array layer: the schedule's island voltages for it, in the
  // error source and in the island controller.
  auto enter_layer = [&](size_t op) {
#ifdef VOSA_HAS_PRECISION_MODES
    for (int i = 0; i < vosa_params::kModeRegs; ++i)
      drv.write_reg(vosa_params::kModeRegBase + static_cast<unsigned>(i), static_cast<uint32_t>(modes.at(op)));
#endif
    if (!injector) return;
    const inject::Injector::LayerPlan& plan = injector->plan(op);
    if (plan.razor.mask != razor.protected_mask ||
        (razor.protected_mask && (plan.razor.policy == RazorPolicy::Correct) != razor.correct))
      throw std::runtime_error("operator " + std::to_string(op) +
                               ": the schedule's Razor bits/policy differ from the generated RTL's; regenerate the "
                               "design from a config with the schedule's Razor");
    std::vector<const inject::PointSampler*> samplers;
    for (const auto& sp : plan.island) samplers.push_back(sp.get());
    g_errors->set_samplers(samplers);
    std::vector<double> volts = default_voltages;
    for (const auto& l : schedule)
      if (l.op == op) volts = l.voltages;
    program_island_levels(drv, volts);
  };

  std::printf("vosa_layers: %s on a %dx%d %s array (acc %d bits), %zu input(s)\n", o.model.c_str(), ap.rows, ap.cols,
              ap.weight_stationary ? "weight-stationary" : "output-stationary", ap.acc_bits, o.count);

  std::map<size_t, std::vector<int64_t>> corrections;
  std::map<size_t, LayerStats> stats;
  uint64_t total_mismatches = 0, agree = 0, correct_array = 0, correct_engine = 0, replay_mismatches = 0;
  uint64_t engine_hit_mismatches = 0;  // layers where the engine's apply_hits differs from the array
  std::vector<char> array_correct;
  double array_seconds = 0;
  uint64_t array_macs = 0;
  const size_t count = std::min(o.count, data.samples.size());
  // --sram-act-faults: the engine reads the array layers' inputs through its
  // model of the activation buffer (the layers run on the array only).
  std::atomic<std::uint64_t> act_bits_changed{0};
  engine::AccumulatorObserver engine_abuf;
  if (abuf) {
    engine_abuf = [&, through = abuf->observer(*model, ap.cols, o.depthwise, &act_bits_changed)](
                      const engine::PreparedOp& p, const int8_t* input, std::vector<int32_t>& acc) {
      if (o.only_ops.empty() || std::find(o.only_ops.begin(), o.only_ops.end(), p.index) != o.only_ops.end())
        through(p, input, acc);
    };
  }
  for (size_t s = 0; s < count; ++s) {
    const engine::Sample& sample = data.samples[s];
    const auto x = engine::load_input(sample, model->input(), o.encoding, o.resize);
    engine::Workspace ws;
    drv.set_weight_address(0);  // the same weights in the same buffer words at every inference
    auto observer = [&](const engine::PreparedOp& p, const int8_t* input, std::vector<int32_t>& acc) {
      if (!o.only_ops.empty() && std::find(o.only_ops.begin(), o.only_ops.end(), p.index) == o.only_ops.end())
        return;  // this layer stays in the engine
      enter_layer(p.index);
      const std::vector<int32_t> engine_clean = abuf ? acc : std::vector<int32_t>();
      if (abuf) engine_abuf(p, input, acc);  // the engine's accumulators through the faulty buffer
      const auto t0 = Clock::now();
      const uint64_t c0 = drv.cycles();
      auto& corr = corrections[p.index];
      if (corr.empty())
        corr = lowering::correction_of(*model, *p.op, p.geometry, p.precision.act_drop, p.precision.weight_drop);
      const bool in_mode = use_depthwise_mode && lowering::lanes_supported(p.geometry);
      const auto gemms = in_mode ? std::vector<lowering::Gemm>()
                                 : lowering::lower_layer_for_array(*clean, clean->operators.at(p.index), p.geometry,
                                                                   input, ap.rows, ap.cols, o.depthwise);
      int mode_passes = 0, mode_vectors = 0;
      std::vector<inject::Hit> logged_hits;  // the Verilated array's injected errors, as the engine's hits
      const std::vector<int32_t> from_mode =
          in_mode ? run_depthwise_mode(drv, *clean, p, input, corr, mode_passes, mode_vectors, logged_hits)
                  : std::vector<int32_t>();
      std::vector<std::vector<int64_t>> results;
      for (const auto& g : gemms) {
        const std::vector<int32_t> a(g.a.begin(), g.a.end());
        std::vector<int32_t> b(g.b.begin(), g.b.end());
        if (o.corrupt_first_weight && s == 0 && stats.empty() && &g == &gemms.front()) b[0] = b[0] == 1 ? 2 : 1;
        if (g_errors) {
          drv.accept_edges_.clear();
          g_errors->log().clear();
          g_errors->set_gemm(&a, &b, g.m, g.k, g.n, &drv.accept_edges_, 0);
        }
        results.push_back(drv.gemm(a, b, g.m, g.k, g.n));
        if (g_errors) {
          // The array must output exactly what the injected masks imply.
          const auto replay = replay_injected_gemm(ap, razor, a, b, g.m, g.k, g.n, drv.accept_edges_, g_errors->log());
          if (replay != results.back()) {
            ++replay_mismatches;
            std::printf("MISMATCH input %zu operator %zu: the array's outputs differ from the replay of %zu injected "
                        "errors\n", s, p.index, g_errors->log().size());
          }
          collect_logged_hits(ap, g, static_cast<int>(&g - gemms.data()), drv.accept_edges_, g_errors->log(),
                              logged_hits);
          g_errors->set_gemm(nullptr, nullptr, 0, 0, 0, nullptr, 0);
        }
        if (!o.trace_dir.empty() && s == 0 && &g == &gemms.back()) {  // the whole layer, once
          const std::string name = o.trace_dir + "/op" + std::to_string(p.index) + "_" +
                                   tflite::to_string(p.op->type) + "_pe" + std::to_string(o.trace_row) + "_" +
                                   std::to_string(o.trace_col) + ".vtrace";
          const std::string source = model->path + " operator " + std::to_string(p.index) + " (" +
                                      tflite::to_string(p.op->type) + ") input 0";
          // In a reduced precision mode the PE's multiplier sees the reduced
          // operands: the trace records those (docs/precision.md), or with
          // --trace-fed-operands the operands the array is fed (the gated PE
          // reduces them: vosa dta --mode) with the reduced rows' partial sums.
          std::vector<lowering::Gemm> traced = gemms;
          if (!o.trace_fed_operands)
            for (lowering::Gemm& t : traced) {
              for (int8_t& v : t.a) v = static_cast<int8_t>(reduce_operand(v, p.precision.act_drop));
              for (int8_t& v : t.b) v = static_cast<int8_t>(reduce_operand(v, p.precision.weight_drop));
            }
          const std::string mode_note =
              " reduced to " + std::to_string(8 - p.precision.act_drop) + " bits" +
              (o.trace_fed_operands ? " (operands as fed, partial sums reduced)" : "");
          const size_t written = write_layer_trace(
              name, traced, ap.rows, ap.cols, ap.acc_bits, o.trace_row, o.trace_col, o.trace_records,
              p.precision.full() ? source : source + mode_note, o.trace_fed_operands ? p.precision.act_drop : 0,
              o.trace_fed_operands ? p.precision.weight_drop : 0, ap.carry_save);
          std::printf("  trace: %s (%zu records)\n", name.c_str(), written);
        }
      }
      const std::vector<int32_t> from_array =
          in_mode ? from_mode : lowering::assemble_accumulators(p.geometry, gemms, results, corr);
      if (g_errors) {
        // The engine's injector, given the same errors, must compute what the array did, bit for bit.
        std::vector<int32_t> engine_faulty = acc;
        const inject::LayerOperands operands(*model, p, input, injector->shape());
        const size_t ran = in_mode ? static_cast<size_t>(mode_passes) : gemms.size();
        if (operands.gemms() != static_cast<int>(ran) || operands.depthwise_mode() != in_mode) {
          ++engine_hit_mismatches;
          std::printf("MISMATCH input %zu operator %zu: the engine lowers %d GEMMs%s, the array ran %zu%s\n", s,
                      p.index, operands.gemms(), operands.depthwise_mode() ? " in the depthwise mode" : "", ran,
                      in_mode ? " passes in the depthwise mode" : "");
        } else {
          inject::apply_hits(operands, injector->shape(), injector->plan(p.index).razor, logged_hits, engine_faulty);
          if (engine_faulty != from_array) {
            ++engine_hit_mismatches;
            std::printf("MISMATCH input %zu operator %zu: the engine's injector, given the array's %zu errors, "
                        "computes other accumulators\n", s, p.index, logged_hits.size());
          }
        }
      }
      LayerStats& st = stats[p.index];
      st.name = tflite::to_string(p.op->type);
      if (in_mode) {
        st.mapping = "mode";
        // The cycle model (what plans and reports count) must be the array's.
        const int64_t model_cycles = lowering::lanes_cycles(p.geometry, ap.rows, ap.cols, kDwGroupRows);
        if (static_cast<uint64_t>(model_cycles) != drv.cycles() - c0)
          std::printf("NOTE input %zu operator %zu: depthwise mode took %llu cycles, lanes_cycles counts %lld\n", s,
                      p.index, static_cast<unsigned long long>(drv.cycles() - c0), static_cast<long long>(model_cycles));
      } else if (p.geometry.depthwise) {
        const auto plan = lowering::plan_depthwise(p.geometry, ap.rows, ap.cols, o.depthwise);
        st.mapping = plan.mapping == lowering::DepthwiseMapping::kChannels
                         ? "channels"
                         : "spatial " + std::to_string(plan.patch_h) + "x" + std::to_string(plan.patch_w);
      }
      st.m = in_mode ? mode_vectors : gemms.front().m;
      st.k = in_mode ? ap.rows : gemms.front().k;
      st.n = p.geometry.out_c;
      st.gemms = in_mode ? mode_passes : static_cast<int>(gemms.size());
      st.macs += static_cast<uint64_t>(p.geometry.macs());
      st.cycles += drv.cycles() - c0;
      uint64_t bad = 0;
      for (size_t i = 0; i < acc.size(); ++i) {
        if (from_array[i] != acc[i]) {
          if (bad == 0 && !g_errors)
            std::printf("MISMATCH input %zu operator %zu (%s): accumulator [%zu][%zu] array %d, engine %d\n", s,
                        p.index, st.name.c_str(), i / static_cast<size_t>(p.geometry.out_c),
                        i % static_cast<size_t>(p.geometry.out_c), from_array[i], acc[i]);
          ++bad;
        }
      }
      if (abuf) {
        for (size_t i = 0; i < acc.size(); ++i) st.sram_changed += engine_clean[i] != from_array[i];
      } else if (!sram_masks.empty()) {
        // What the clean weights give: the accumulators the faults changed.
        std::vector<std::vector<int64_t>> clean_results;
        for (const auto& g : gemms) clean_results.push_back(lowering::reference_gemm(g));
        const auto clean_acc = lowering::assemble_accumulators(
            p.geometry, gemms, clean_results, lowering::correction_of(*clean, clean->operators.at(p.index), p.geometry));
        for (size_t i = 0; i < acc.size(); ++i) st.sram_changed += clean_acc[i] != from_array[i];
      }
      st.mismatches += bad;
      st.outputs += acc.size();
      total_mismatches += bad;
      acc = from_array;  // the rest of the network runs on the array's values
      array_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
      array_macs += static_cast<uint64_t>(p.geometry.macs());
    };
    const std::vector<uint8_t> with_array = eng.run(x, ws, observer);
    const std::vector<uint8_t> engine_only = eng.run(x, ws, engine_abuf);
    const bool is_signed = model->output().type == tflite::TensorType::kInt8;
    const int pa = engine::ranked_classes(with_array, is_signed)[0];
    const int pe = engine::ranked_classes(engine_only, is_signed)[0];
    agree += with_array == engine_only;
    correct_array += pa == sample.label;
    array_correct.push_back(pa == sample.label);
    correct_engine += pe == sample.label;
    std::printf("input %zu (%s): label %d, array-network top-1 %d, engine top-1 %d, outputs %s\n", s,
                sample.path.c_str(), sample.label, pa, pe, with_array == engine_only ? "identical" : "DIFFER");
  }
  std::printf("%-5s %-18s %7s %6s %6s %5s %12s %12s %6s %-26s %s\n", "op", "type", "M", "K", "N", "gemms", "MACs",
              "cycles", "util", "accumulators", "depthwise mapping");
  uint64_t dw_macs = 0, dw_cycles = 0, all_macs = 0, all_cycles = 0;
  for (const auto& [index, st] : stats) {
    const double util = st.cycles ? static_cast<double>(st.macs) / (static_cast<double>(st.cycles) * ap.rows * ap.cols)
                                  : 0.0;
    std::printf("%-5zu %-18s %7d %6d %6d %5d %12llu %12llu %5.1f%% %-26s %s\n", index, st.name.c_str(), st.m, st.k,
                st.n, st.gemms, static_cast<unsigned long long>(st.macs), static_cast<unsigned long long>(st.cycles),
                100.0 * util,
                g_errors ? (std::to_string(st.mismatches) + " differ from error-free").c_str()
                         : (st.mismatches ? "MISMATCH" : "bit-exact"),
                st.mapping.c_str());
    all_macs += st.macs;
    all_cycles += st.cycles;
    if (!st.mapping.empty()) dw_macs += st.macs, dw_cycles += st.cycles;
  }
  const double pes = static_cast<double>(ap.rows) * ap.cols;
  if (dw_cycles)
    std::printf("depthwise layers: %llu MACs in %llu cycles, utilization %.1f %%; all array layers: %llu cycles, "
                "utilization %.1f %%\n",
                static_cast<unsigned long long>(dw_macs), static_cast<unsigned long long>(dw_cycles),
                100.0 * static_cast<double>(dw_macs) / (static_cast<double>(dw_cycles) * pes),
                static_cast<unsigned long long>(all_cycles),
                100.0 * static_cast<double>(all_macs) / (static_cast<double>(all_cycles) * pes));
  if (g_errors) {
    std::printf("injection: %llu PE captures, %llu errors injected (%.3g per capture); %llu GEMMs differ from the "
                "replay of their injected errors\n",
                static_cast<unsigned long long>(g_errors->captures()), static_cast<unsigned long long>(g_errors->hits()),
                g_errors->captures() ? static_cast<double>(g_errors->hits()) / g_errors->captures() : 0.0,
                static_cast<unsigned long long>(replay_mismatches));
    std::printf("injection: %llu layer runs where the engine's injector, given the array's errors, differs from "
                "the array\n", static_cast<unsigned long long>(engine_hit_mismatches));
    std::printf("injection: %llu errors drawn to fit the captured value's correct bits\n",
                static_cast<unsigned long long>(g_errors->fitted_hits()));
    std::printf("summary: %zu layers x %zu input(s) with timing errors; top-1 array %llu/%zu, error-free engine "
                "%llu/%zu\n",
                stats.size(), count, static_cast<unsigned long long>(correct_array), count,
                static_cast<unsigned long long>(correct_engine), count);
    return replay_mismatches == 0 && engine_hit_mismatches == 0 && engine_agrees(eng, data, o, *injector, stats, array_correct) ? 0 : 1;
  }
  if (!sram_masks.empty()) {
    uint64_t changed = 0, outputs = 0;
    for (const auto& [index, st] : stats) {
      changed += st.sram_changed, outputs += st.outputs;
      std::printf("sram: operator %zu: %llu of %llu accumulators changed by the faulty %s buffer\n", index,
                  static_cast<unsigned long long>(st.sram_changed), static_cast<unsigned long long>(st.outputs),
                  abuf ? "activation" : "weight");
    }
    if (abuf)
      std::printf("sram: %llu activation bits read differently from the faulty buffer (engine side)\n",
                  static_cast<unsigned long long>(act_bits_changed.load()));
    std::printf("sram: faulty %s buffer changed %llu of %llu accumulators; Verilator vs engine with the same "
                "fault map: %llu mismatches\n",
                abuf ? "activation" : "weight", static_cast<unsigned long long>(changed),
                static_cast<unsigned long long>(outputs),
                static_cast<unsigned long long>(total_mismatches));
    std::filesystem::remove(sram_masks);
    if (changed == 0) {
      std::printf("sram: FAIL: the fault map changed no accumulator (no faults applied on either side?)\n");
      return 1;
    }
  }
  std::printf("summary: %zu layers x %zu input(s), %llu accumulator mismatches; outputs identical for %llu/%zu; "
              "top-1 array %llu/%zu, engine %llu/%zu\n",
              stats.size(), count, static_cast<unsigned long long>(total_mismatches),
              static_cast<unsigned long long>(agree), count, static_cast<unsigned long long>(correct_array), count,
              static_cast<unsigned long long>(correct_engine), count);
  std::printf("simulation: %.3g MACs in %.2f s of array time = %.3g MAC/s (Verilator, %dx%d)\n",
              static_cast<double>(array_macs), array_seconds, static_cast<double>(array_macs) / array_seconds, ap.rows,
              ap.cols);
  return total_mismatches == 0 && agree == count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Verilated::commandArgs(argc, argv);
  try {
    const Options o = parse(argc, argv);
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vosa_layers: error: %s\n", e.what());
    return 1;
  }
}
