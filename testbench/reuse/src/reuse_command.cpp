// `vosa reuse`: streaming accuracy and per-layer reuse of the delta scheme.
#include "vosa/reuse.hpp"

#include "vosa/pdk.hpp"
#include "vosa/reuse_criticality.hpp"
#include "vosa/tflite_model.hpp"
#include "vosa/output_file.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>

namespace vosa::reuse {

namespace {
struct ReuseCommandOptions {
  std::string model, data;
  StreamOptions stream;
  size_t clips = 0;
  std::vector<std::string> layer_q;
  size_t calibration_clips = 0;
  CriticalityOptions criticality;
  std::string budget_on = "top1";
  std::string widths_json;
};
void print_width_choice(const WidthChoice& choice, const CriticalityOptions& options) {
  const double n = static_cast<double>(choice.calibration_windows);
  std::printf("criticality analysis (per input channel) on %zu calibration windows (sensitivity on %zu): %zu of %zu "
              "narrowing steps accepted within a %s budget of %.2f points; %d calibration runs; %.1f s\n",
              choice.calibration_windows, choice.sensitivity_windows, choice.steps_taken, choice.steps.size(),
              to_string(options.metric), options.budget, choice.evaluations, choice.seconds);
  std::printf("calibration: baseline top-1 %.2f %% (%zu)  reuse top-1 %.2f %% (%zu)  same prediction %.2f %%  loss "
              "%.2f points (%s)\n",
              100.0 * static_cast<double>(choice.baseline_top1) / n, choice.baseline_top1,
              100.0 * static_cast<double>(choice.reuse_top1) / n, choice.reuse_top1,
              100.0 * static_cast<double>(choice.agree) / n, choice.loss_points, to_string(options.metric));
  std::printf("widths (channels at q = 8 7 6 5 4 3 2 1):\n");
  for (const auto& [op, widths] : choice.widths) {
    std::printf("  op %-3zu", op);
    for (int q = 8; q >= 1; --q)
      std::printf(" %3lld", static_cast<long long>(std::count(widths.begin(), widths.end(), q)));
    std::printf("\n");
  }
}

}  // namespace

void add_reuse_command(CLI::App& app) {
  auto opt = std::make_shared<ReuseCommandOptions>();
  auto* cmd = app.add_subcommand(
      "reuse", "computation reuse on a stream of feature frames: windows slide over consecutive clips, each array "
               "layer's input is quantized to q bits and only changed inputs are multiplied; widths uniform, per layer or per "
               "input channel by a criticality analysis (--budget); MACs and array cycles (docs/reuse.md)");
  cmd->add_option("-m,--model", opt->model, "model (.tflite, int8, input 1 x frames x features x 1)")->required();
  cmd->add_option("-d,--data", opt->data, "feature data directory (y_labels.csv and .bin clips)")->required();
  cmd->add_option("--stride", opt->stream.stride, "frames between consecutive windows, 1 .. window length (default 4)");
  cmd->add_option("--q", opt->stream.q, "activation quantization width in bits, 1 .. 8 (8 = exact; default 8)");
  cmd->add_option("--layer-q", opt->layer_q,
                  "OPERATOR=BITS,...: these array layers (operator index, as printed) get their own width")
      ->delimiter(',');
  cmd->add_option("--clips", opt->clips, "use only the first N clips of the label list (0 = all)");
  cmd->add_option("-n,--limit", opt->stream.max_windows, "use only the first N windows (0 = all)");
  cmd->add_flag("--verify", opt->stream.verify,
                "check every layer's delta accumulators against recomputation (slower)");
  cmd->add_option("--rows", opt->stream.array.rows, "array rows for the cycle counts (default 16)");
  cmd->add_option("--cols", opt->stream.array.cols, "array columns for the cycle counts (default 16)");
  cmd->add_option("--calibration-clips", opt->calibration_clips,
                  "split the stream: the first N clips are the calibration part (for --budget), the rest the "
                  "held-out part that is evaluated (0 = no split, evaluate every clip)");
  auto* budget = cmd->add_option("--budget", opt->criticality.budget,
                                 "choose a width per input channel by a criticality analysis (Mquans) on the "
                                 "calibration part, within this loss in percentage points (needs --calibration-clips)");
  cmd->add_option("--budget-on", opt->budget_on,
                  "what --budget limits on the calibration part: top1 (top-1 loss against the unmodified model, "
                  "default) or agreement (windows whose prediction changes)");
  cmd->add_option("--min-q", opt->criticality.min_q, "narrowest width the analysis considers, 1 .. 8 (default 4)");
  cmd->add_option("--sensitivity-windows", opt->criticality.sensitivity_windows,
                  "calibration windows the per-channel sensitivity is measured on (default 64)");
  cmd->add_option("--max-evaluations", opt->criticality.max_evaluations,
                  "calibration runs the budget walk may take (default 40)");
  cmd->add_option("--widths-json", opt->widths_json,
                  "write the chosen widths and the per-channel criticality to this JSON file");
  cmd->callback([opt, cmd, budget]() {
    check_quantization_bits(opt->stream.q);
    for (const std::string& text : opt->layer_q) parse_layer_q(text, opt->stream.layer_q);
    const bool choose = budget->count() > 0;
    if (choose && opt->calibration_clips == 0)
      throw CLI::ValidationError("--budget", "needs --calibration-clips N: the widths are chosen on the first N clips "
                                             "and evaluated on the rest");
    if (choose && (cmd->count("--q") || !opt->layer_q.empty()))
      throw CLI::ValidationError("--budget", "chooses the widths itself; do not combine it with --q or --layer-q");
    if (!choose && !opt->widths_json.empty())
      throw CLI::ValidationError("--widths-json", "writes the widths --budget chooses; give --budget");
    opt->criticality.metric = parse_budget_metric(opt->budget_on);
    opt->criticality.stride = opt->stream.stride;
    auto model = std::make_shared<tflite::Model>(tflite::load_tflite(opt->model));
    const engine::Engine engine(model);
    const engine::Dataset data = engine::load_dataset(opt->data);
    const FeatureStream whole = load_feature_stream(model->input(), data, opt->clips);
    FeatureStream stream = whole;
    if (opt->calibration_clips) {
      stream = clip_range(whole, opt->calibration_clips, whole.num_clips() > opt->calibration_clips
                                                             ? whole.num_clips() - opt->calibration_clips
                                                             : 0);
      std::printf("split: calibration clips [0, %zu), held-out clips [%zu, %zu) (evaluated below)\n",
                  opt->calibration_clips, opt->calibration_clips, whole.num_clips());
    }
    if (choose) {
      const FeatureStream calibration = clip_range(whole, 0, opt->calibration_clips);
      const WidthChoice choice = choose_channel_widths(engine, calibration, opt->criticality);
      print_width_choice(choice, opt->criticality);
      if (!opt->widths_json.empty())
        write_output_file(opt->widths_json, to_json(choice, opt->criticality).dump(1) + "\n");
      opt->stream.channel_q = choice.widths;
    }
    const StreamResult r = evaluate_stream(engine, stream, opt->stream);
    std::printf("stream: %zu clips, %zu frames of %d features; windows of %d frames, stride %d, labelled by the "
                "clip of the centre frame: %zu windows\n",
                stream.num_clips(), stream.num_frames(), stream.frame_features, stream.window_frames,
                opt->stream.stride, r.windows);
    const double n = static_cast<double>(r.windows);
    if (!opt->stream.layer_q.empty()) {
      std::printf("per-layer widths:");
      for (const auto& [op, bits] : opt->stream.layer_q) std::printf(" %zu=%d", op, bits);
      std::printf(" (other array layers q=%d)\n", opt->stream.q);
    }
    const std::string widths = !opt->stream.channel_q.empty() ? "per-channel q"
                               : opt->stream.layer_q.empty() ? "q=" + std::to_string(opt->stream.q)
                                                             : "per-layer q";
    std::printf("baseline top-1 %.2f %% (%zu/%zu)  reuse %s top-1 %.2f %% (%zu/%zu)  same prediction %.2f %%\n",
                100.0 * static_cast<double>(r.baseline_top1) / n, r.baseline_top1, r.windows, widths.c_str(),
                100.0 * static_cast<double>(r.reuse_top1) / n, r.reuse_top1, r.windows,
                100.0 * static_cast<double>(r.agree) / n);
    std::printf("%-4s %-18s %14s %14s %9s %14s %13s %9s\n", "op", "type", "MACs", "MACs done", "reuse",
                "inputs changed", "zero-skipped", "cycles");
    for (const LayerReuse& l : r.layers)
      std::printf("%-4zu %-18s %14lld %14lld %8.2f%% %13.2f%% %12.2f%% %8.2f%%\n", l.op_index, l.op_type.c_str(),
                  static_cast<long long>(l.macs), static_cast<long long>(l.macs_done), 100.0 * l.reuse_ratio(),
                  l.inputs ? 100.0 * static_cast<double>(l.inputs_changed) / static_cast<double>(l.inputs) : 0.0,
                  l.macs ? 100.0 * static_cast<double>(l.macs_skipped_zero) / static_cast<double>(l.macs) : 0.0,
                  l.cycles ? 100.0 * static_cast<double>(l.cycles_done) / static_cast<double>(l.cycles) : 0.0);
    const double saved = r.macs() ? 1.0 - static_cast<double>(r.macs_done()) / static_cast<double>(r.macs()) : 0.0;
    const double zero = r.macs() ? static_cast<double>(r.macs_skipped_zero()) / static_cast<double>(r.macs()) : 0.0;
    std::printf("overall: %lld of %lld MACs computed, %.2f %% skipped (%.3fx fewer MACs), %.2f %% on inputs that "
                "stayed zero%s; %.1f s\n",
                static_cast<long long>(r.macs_done()), static_cast<long long>(r.macs()), 100.0 * saved,
                r.macs_done() ? static_cast<double>(r.macs()) / static_cast<double>(r.macs_done()) : 0.0, 100.0 * zero,
                opt->stream.verify ? "; delta accumulators verified against recomputation" : "", r.seconds);
    std::printf("array cycles (%dx%d weight-stationary): %llu recomputing, %llu with reuse (%.2f %%): %.3fx speedup\n",
                opt->stream.array.rows, opt->stream.array.cols, static_cast<unsigned long long>(r.cycles()),
                static_cast<unsigned long long>(r.cycles_done()),
                r.cycles() ? 100.0 * static_cast<double>(r.cycles_done()) / static_cast<double>(r.cycles()) : 0.0,
                r.cycles_done() ? static_cast<double>(r.cycles()) / static_cast<double>(r.cycles_done()) : 0.0);
    const PairedLoss loss = top1_loss(r);
    std::printf("top-1 loss %.2f points, 95 %% CI [%.2f, %.2f] (cluster-robust over %zu centre clips)\n", loss.points,
                loss.low, loss.high, loss.clusters);
  });
}

}  // namespace vosa::reuse
