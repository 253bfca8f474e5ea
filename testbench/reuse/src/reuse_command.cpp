// `vosa reuse`: streaming accuracy and per-layer reuse of the delta scheme.
#include "vosa/reuse.hpp"

#include "vosa/tflite_model.hpp"

#include <cstdio>
#include <memory>

namespace vosa::reuse {

namespace {
struct ReuseCommandOptions {
  std::string model, data;
  StreamOptions stream;
  size_t clips = 0;
  std::vector<std::string> layer_q;
};
}  // namespace

void add_reuse_command(CLI::App& app) {
  auto opt = std::make_shared<ReuseCommandOptions>();
  auto* cmd = app.add_subcommand(
      "reuse", "computation reuse on a stream of feature frames: windows slide over consecutive clips, each array "
               "layer's input is quantized to q bits and only changed inputs are multiplied (docs/reuse.md)");
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
  cmd->callback([opt]() {
    check_quantization_bits(opt->stream.q);
    for (const std::string& text : opt->layer_q) parse_layer_q(text, opt->stream.layer_q);
    auto model = std::make_shared<tflite::Model>(tflite::load_tflite(opt->model));
    const engine::Engine engine(model);
    const engine::Dataset data = engine::load_dataset(opt->data);
    const FeatureStream stream = load_feature_stream(model->input(), data, opt->clips);
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
    const std::string widths = opt->stream.layer_q.empty() ? "q=" + std::to_string(opt->stream.q) : "per-layer q";
    std::printf("baseline top-1 %.2f %% (%zu/%zu)  reuse %s top-1 %.2f %% (%zu/%zu)  same prediction %.2f %%\n",
                100.0 * static_cast<double>(r.baseline_top1) / n, r.baseline_top1, r.windows, widths.c_str(),
                100.0 * static_cast<double>(r.reuse_top1) / n, r.reuse_top1, r.windows,
                100.0 * static_cast<double>(r.agree) / n);
    std::printf("%-4s %-18s %14s %14s %9s %14s %13s\n", "op", "type", "MACs", "MACs done", "reuse", "inputs changed",
                "zero-skipped");
    for (const LayerReuse& l : r.layers)
      std::printf("%-4zu %-18s %14lld %14lld %8.2f%% %13.2f%% %12.2f%%\n", l.op_index, l.op_type.c_str(),
                  static_cast<long long>(l.macs), static_cast<long long>(l.macs_done), 100.0 * l.reuse_ratio(),
                  l.inputs ? 100.0 * static_cast<double>(l.inputs_changed) / static_cast<double>(l.inputs) : 0.0,
                  l.macs ? 100.0 * static_cast<double>(l.macs_skipped_zero) / static_cast<double>(l.macs) : 0.0);
    const double saved = r.macs() ? 1.0 - static_cast<double>(r.macs_done()) / static_cast<double>(r.macs()) : 0.0;
    const double zero = r.macs() ? static_cast<double>(r.macs_skipped_zero()) / static_cast<double>(r.macs()) : 0.0;
    std::printf("overall: %lld of %lld MACs computed, %.2f %% skipped (%.3fx fewer MACs), %.2f %% on inputs that "
                "stayed zero%s; %.1f s\n",
                static_cast<long long>(r.macs_done()), static_cast<long long>(r.macs()), 100.0 * saved,
                r.macs_done() ? static_cast<double>(r.macs()) / static_cast<double>(r.macs_done()) : 0.0, 100.0 * zero,
                opt->stream.verify ? "; delta accumulators verified against recomputation" : "", r.seconds);
  });
}

}  // namespace vosa::reuse
