// Verilator check of the reuse array (config "reuse": true, docs/reuse.md,
// "Hardware") against the engine's delta computation on a real stream.
//
// vosa::reuse::ReuseRunner runs DS-CNN over consecutive windows of the KWS
// stream; after every array layer of every window but the first it hands
// over the previous and the new quantized input and accumulators. Each
// layer is lowered onto GEMMs for both inputs (vosa::lowering, depthwise in
// groups of COLS channels, as vosa::reuse::streamed_cycles counts), and the
// generated array runs every (N tile, K tile) that has a changed operand,
// streaming only the GEMM rows with one (new and previous activations on
// a_vec_i / a_prev_vec_i; the top takes their difference). The accumulation
// buffer (here, outside the array) adds the column sums of all K tiles to
// the previous accumulators; the result must equal the runner's exactly,
// and the RTL's cycles must equal streamed_cycles' count.
//
// --trace-out PREFIX writes, for PE (--pe-row, --pe-col) over every tile of
// every checked window, the operands it sees cycle by cycle (docs/trace.md):
// PREFIX.delta.vtrace (the deltas it multiplies, ACT_BITS+1 bits),
// PREFIX.skipall.vtrace (the same cycles with every delta zero: every MAC
// skipped, the partial sums still passing) and PREFIX.recompute.vtrace (the
// same layers recomputed in full on the new input, for a plain ACT_BITS PE).
// Cycles of a tile in which the PE does not compute (weight load, fill and
// drain: 2 * ROWS + COLS - 1) are zero operands with the tile's weight.
#include "Vvosa_top.h"
#include "verilated.h"

#include "vosa/array_driver.hpp"
#include "vosa/config.hpp"
#include "vosa/lowering.hpp"
#include "vosa/operand_trace.hpp"
#include "vosa/reuse.hpp"
#include "vosa_params.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef VOSA_HAS_REUSE
#error "array_check.cpp needs a design generated with \"reuse\": true"
#endif

namespace {

using vosa::lowering::Gemm;

struct Options {
  std::string model, data, trace_out;
  int clips = 3, windows = 3, stride = 4, q = 8, pe_row = -1, pe_col = 0;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "vosa_sim (reuse array check): %s\n"
               "usage: vosa_sim --model M.tflite --data DIR [--clips N] [--windows W] [--stride S] [--q Q]\n"
               "                [--trace-out PREFIX [--pe-row R] [--pe-col C]]\n",
               why.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("+verilator", 0) == 0) continue;
    if (i + 1 >= argc) usage("option " + a + " needs a value");
    const std::string v = argv[++i];
    auto num = [&]() {
      try {
        return std::stoi(v);
      } catch (const std::exception&) {
        usage("option " + a + ": '" + v + "' is not a number");
      }
    };
    if (a == "--model") o.model = v;
    else if (a == "--data") o.data = v;
    else if (a == "--trace-out") o.trace_out = v;
    else if (a == "--clips") o.clips = num();
    else if (a == "--windows") o.windows = num();
    else if (a == "--stride") o.stride = num();
    else if (a == "--q") o.q = num();
    else if (a == "--pe-row") o.pe_row = num();
    else if (a == "--pe-col") o.pe_col = num();
    else usage("unknown option " + a);
  }
  if (o.model.empty() || o.data.empty()) usage("--model and --data are required");
  if (o.windows < 2) usage("--windows must be at least 2 (the first window has nothing to reuse)");
  if (o.pe_row < 0) o.pe_row = vosa_params::kRows - 1;
  if (o.pe_row >= vosa_params::kRows || o.pe_col < 0 || o.pe_col >= vosa_params::kCols)
    usage("--pe-row / --pe-col outside the array");
  return o;
}

// One PE's operand streams (see the file comment).
struct PeTraces {
  std::unique_ptr<vosa::OperandTraceWriter> delta, skipall, recompute;
  int acc_bits = 0, plain_acc_bits = 0;
  void idle(int weight, int cycles) {
    for (int i = 0; i < cycles; ++i) {
      delta->append({0, weight, 0, 0});
      skipall->append({0, weight, 0, 0});
    }
  }
};

class ReuseArrayCheck {
 public:
  ReuseArrayCheck(Vvosa_top& top, const Options& opt) : drv_(top), top_(top), opt_(opt) {
    drv_.reset();
    shape_.rows = vosa_params::kRows;
    shape_.cols = vosa_params::kCols;
  }

  const vosa::inject::ArrayShape& shape() const { return shape_; }
  void set_traces(PeTraces* traces) { traces_ = traces; }

  // Checks one layer of one window; returns the RTL cycles it took.
  std::uint64_t check_layer(const vosa::tflite::Model& model, const vosa::reuse::ReuseRunner::LayerDelta& d) {
    const auto& layer = *d.layer;
    const auto& g = layer.geometry;
    const std::vector<Gemm> now = vosa::lowering::lower_layer(model, *layer.op, g, d.input->data(), shape_.cols);
    const std::vector<Gemm> before = vosa::lowering::lower_layer(model, *layer.op, g, d.prev_input->data(), shape_.cols);
    std::vector<std::vector<std::int64_t>> sums;
    std::uint64_t cycles = 0;
    for (std::size_t i = 0; i < now.size(); ++i) sums.push_back(run_gemm(now[i], before[i], cycles));
    // The accumulation buffer: previous accumulators plus the delta sums
    // (the per-channel correction cancels in a difference).
    const std::vector<std::int64_t> zero(static_cast<std::size_t>(g.out_c), 0);
    const std::vector<std::int32_t> delta = vosa::lowering::assemble_accumulators(g, now, sums, zero);
    const std::string where = "operator " + std::to_string(layer.index);
    for (std::size_t i = 0; i < delta.size(); ++i) {
      const std::int64_t got = static_cast<std::int64_t>((*d.prev_acc)[i]) + delta[i];
      if (got != (*d.acc)[i])
        throw std::runtime_error(where + ": accumulator " + std::to_string(i) + " from the array is " +
                                 std::to_string(got) + ", the engine's delta computation gives " +
                                 std::to_string((*d.acc)[i]));
    }
    std::vector<bool> changed(d.input->size());
    for (std::size_t i = 0; i < changed.size(); ++i) changed[i] = (*d.input)[i] != (*d.prev_input)[i];
    const std::uint64_t model_cycles = vosa::reuse::streamed_cycles(model, layer, changed, shape_);
    if (model_cycles != cycles)
      throw std::runtime_error(where + ": the array took " + std::to_string(cycles) +
                               " cycles, vosa::reuse::streamed_cycles counts " + std::to_string(model_cycles));
    return cycles;
  }

  std::uint64_t pe_macs = 0, pe_macs_gated = 0;  // PE-cycles of streamed rows, and those with a zero delta
  // Accumulation-buffer updates (one int32 read-add-write per column result)
  // with reuse and recomputing every tile, and previous activations read
  // from the input store (one per row operand streamed).
  std::uint64_t acc_updates = 0, acc_updates_full = 0, prev_reads = 0;
  // (N tile, K tile) pairs and GEMM rows in them: all, and those run / streamed.
  std::uint64_t tiles = 0, tiles_run = 0, tile_rows = 0, tile_rows_streamed = 0;

 private:
  // ΔC = (A_now - A_before) B on the array, tile by tile; only rows with a
  // changed operand are streamed, tiles without one are skipped.
  std::vector<std::int64_t> run_gemm(const Gemm& now, const Gemm& before, std::uint64_t& cycles) {
    const int rows = shape_.rows, cols = shape_.cols;
    std::vector<std::int64_t> c(static_cast<std::size_t>(now.m) * now.n, 0);
    const std::vector<std::int32_t> a(now.a.begin(), now.a.end());
    const std::vector<std::int32_t> b(now.b.begin(), now.b.end());
    for (int n0 = 0; n0 < now.n; n0 += cols) {
      for (int k0 = 0; k0 < now.k; k0 += rows) {
        const int k1 = std::min(now.k, k0 + rows);
        std::vector<int> streamed;
        for (int m = 0; m < now.m; ++m) {
          const std::size_t at = static_cast<std::size_t>(m) * now.k;
          for (int k = k0; k < k1; ++k)
            if (now.a[at + k] != before.a[at + k]) {
              streamed.push_back(m);
              break;
            }
        }
        trace_recompute(now, k0, n0);
        const std::uint64_t used_cols = static_cast<std::uint64_t>(std::min(cols, now.n - n0));
        acc_updates_full += static_cast<std::uint64_t>(now.m) * used_cols;
        acc_updates += streamed.size() * used_cols;
        prev_reads += streamed.size() * static_cast<std::uint64_t>(k1 - k0);
        ++tiles;
        tiles_run += !streamed.empty();
        tile_rows += static_cast<std::uint64_t>(now.m);
        tile_rows_streamed += streamed.size();
        if (streamed.empty()) continue;
        while (top_.busy_o) drv_.tick();
        const std::uint64_t start = drv_.cycles();
        drv_.load_weight_tile(b, now.k, now.n, k0, n0);
        const std::size_t count = streamed.size();
        std::size_t sent = 0, received = 0;
        for (int guard = 0; received < count; ++guard) {
          if (guard > static_cast<int>(count) + 4 * (rows + cols) + 16)
            throw std::runtime_error("the reuse array produced too few results");
          if (sent < count) {
            const int m = streamed[sent++];
            drv_.push_activation_row(a, now.k, m, k0);
            for (int r = 0; r < rows; ++r) {
              const int k = k0 + r;
              const std::int64_t x = k < now.k ? before.a[static_cast<std::size_t>(m) * now.k + k] : 0;
              vosa::set_bits(top_.a_prev_vec_i, r * vosa_params::kActBits, vosa_params::kActBits,
                             static_cast<std::uint64_t>(x));
            }
          } else {
            top_.in_valid_i = 0;
          }
          drv_.tick();
          if (top_.out_valid_o) {
            const int m = streamed[received++];
            for (int cc = 0; cc < cols && n0 + cc < now.n; ++cc)
              c[static_cast<std::size_t>(m) * now.n + n0 + cc] += vosa::field_value(
                  vosa::get_bits(top_.out_vec_o, cc * vosa_params::kAccBits, vosa_params::kAccBits),
                  vosa_params::kAccBits, true);
          }
        }
        top_.in_valid_i = 0;
        cycles += drv_.cycles() - start;
        count_pe_macs(now, before, streamed, k0);
        trace_delta(now, before, streamed, k0, n0);
      }
    }
    return c;
  }

  void count_pe_macs(const Gemm& now, const Gemm& before, const std::vector<int>& streamed, int k0) {
    // Every PE of a streamed row computes or is gated, by the delta of its
    // row (rows beyond K in a partial tile carry zero deltas).
    for (int m : streamed)
      for (int r = 0; r < shape_.rows; ++r) {
        const int k = k0 + r;
        const bool zero = k >= now.k || now.a[static_cast<std::size_t>(m) * now.k + k] ==
                                            before.a[static_cast<std::size_t>(m) * now.k + k];
        pe_macs += static_cast<std::uint64_t>(shape_.cols);
        if (zero) pe_macs_gated += static_cast<std::uint64_t>(shape_.cols);
      }
  }

  int weight_at(const Gemm& gm, int k, int n) const {
    return (k < gm.k && n < gm.n) ? gm.b[static_cast<std::size_t>(k) * gm.n + n] : 0;
  }

  // The partial sum entering PE row pe_row: the products of the rows above.
  template <class Value>
  std::int64_t psum_above(const Gemm& gm, int m, int k0, int n, int acc_bits, Value value) const {
    std::int64_t s = 0;
    for (int r = 0; r < opt_.pe_row; ++r)
      if (k0 + r < gm.k) s += value(m, k0 + r) * weight_at(gm, k0 + r, n);
    return vosa::wrap_to_bits(s, acc_bits, true);
  }

  void trace_delta(const Gemm& now, const Gemm& before, const std::vector<int>& streamed, int k0, int n0) {
    if (!traces_) return;
    const int k = k0 + opt_.pe_row, n = n0 + opt_.pe_col;
    const int w = weight_at(now, k, n);
    traces_->idle(w, 2 * shape_.rows + shape_.cols - 1);
    auto delta = [&](int m, int kk) -> std::int64_t {
      const std::size_t at = static_cast<std::size_t>(m) * now.k + kk;
      return static_cast<std::int64_t>(now.a[at]) - before.a[at];
    };
    for (int m : streamed) {
      const std::int64_t psum = psum_above(now, m, k0, n, traces_->acc_bits, delta);
      const std::int32_t d = k < now.k ? static_cast<std::int32_t>(delta(m, k)) : 0;
      traces_->delta->append({d, w, psum, 0});
      traces_->skipall->append({0, w, psum, 0});
    }
  }

  void trace_recompute(const Gemm& now, int k0, int n0) {
    if (!traces_) return;
    const int k = k0 + opt_.pe_row, n = n0 + opt_.pe_col;
    const int w = weight_at(now, k, n);
    for (int i = 0; i < 2 * shape_.rows + shape_.cols - 1; ++i) traces_->recompute->append({0, w, 0, 0});
    auto value = [&](int m, int kk) -> std::int64_t { return now.a[static_cast<std::size_t>(m) * now.k + kk]; };
    for (int m = 0; m < now.m; ++m) {
      const std::int32_t x = k < now.k ? static_cast<std::int32_t>(value(m, k)) : 0;
      traces_->recompute->append({x, w, psum_above(now, m, k0, n, traces_->plain_acc_bits, value), 0});
    }
  }

  vosa::ArrayDriver<Vvosa_top> drv_;
  Vvosa_top& top_;
  const Options& opt_;
  vosa::inject::ArrayShape shape_;
  PeTraces* traces_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  Verilated::commandArgs(argc, argv);
  const Options opt = parse(argc, argv);
  try {
    auto model = std::make_shared<vosa::tflite::Model>(vosa::tflite::load_tflite(opt.model));
    const vosa::engine::Engine engine(model);
    const vosa::engine::Dataset data = vosa::engine::load_dataset(opt.data);
    const vosa::reuse::FeatureStream stream =
        vosa::reuse::load_feature_stream(model->input(), data, static_cast<std::size_t>(opt.clips));
    const std::vector<vosa::reuse::Window> windows = vosa::reuse::stream_windows(stream, opt.stride);
    if (windows.size() < static_cast<std::size_t>(opt.windows))
      usage("--windows " + std::to_string(opt.windows) + ": the stream of " + std::to_string(opt.clips) +
            " clips has " + std::to_string(windows.size()) + " windows");

    auto top = std::make_unique<Vvosa_top>();
    ReuseArrayCheck check(*top, opt);
    std::optional<PeTraces> traces;
    if (!opt.trace_out.empty()) {
      traces.emplace();
      traces->acc_bits = vosa_params::kAccBits;
      traces->plain_acc_bits = vosa::min_acc_bits(vosa_params::kRows, vosa_params::kActBits,
                                                  vosa_params::kWeightBits, true);
      vosa::TraceHeader h;
      h.weight_bits = vosa_params::kWeightBits;
      h.is_signed = true;
      h.pe_row = opt.pe_row;
      h.pe_col = opt.pe_col;
      h.layer = "every array layer, windows 1.." + std::to_string(opt.windows - 1);
      const std::string what = "dscnn kws stream stride " + std::to_string(opt.stride) + " q " +
                               std::to_string(opt.q) + " " + std::to_string(vosa_params::kRows) + "x" +
                               std::to_string(vosa_params::kCols);
      h.act_bits = vosa_params::kPeActBits;
      h.acc_bits = traces->acc_bits;
      h.source = what + " reuse deltas";
      traces->delta = std::make_unique<vosa::OperandTraceWriter>(opt.trace_out + ".delta.vtrace", h);
      h.source = what + " reuse, every delta zero";
      traces->skipall = std::make_unique<vosa::OperandTraceWriter>(opt.trace_out + ".skipall.vtrace", h);
      h.act_bits = vosa_params::kActBits;
      h.acc_bits = traces->plain_acc_bits;
      h.source = what + " recompute";
      traces->recompute = std::make_unique<vosa::OperandTraceWriter>(opt.trace_out + ".recompute.vtrace", h);
    }

    vosa::reuse::ReuseRunner runner(engine, opt.q, /*verify=*/true, {}, {}, check.shape());
    std::uint64_t layers_checked = 0, rtl_cycles = 0, full_cycles = 0, accumulators = 0, input_bytes = 0;
    runner.set_layer_hook([&](const vosa::reuse::ReuseRunner::LayerDelta& d) {
      if (d.prev_input->empty()) return;  // the first window: nothing to reuse
      rtl_cycles += check.check_layer(*model, d);
      full_cycles += vosa::inject::layer_cycles(d.layer->geometry, check.shape());
      accumulators += d.acc->size();
      input_bytes += d.input->size();
      ++layers_checked;
    });
    vosa::engine::Workspace ws;
    for (int w = 0; w < opt.windows; ++w) {
      if (w == 1 && traces) check.set_traces(&*traces);
      runner.run(vosa::reuse::window_input(stream, windows[static_cast<std::size_t>(w)]), ws);
    }
    if (traces) {
      traces->delta->close();
      traces->skipall->close();
      traces->recompute->close();
    }
    const double gated = check.pe_macs ? 100.0 * static_cast<double>(check.pe_macs_gated) /
                                             static_cast<double>(check.pe_macs)
                                       : 0.0;
    std::printf("reuse array %dx%d: %llu layers of %d windows after the first, %llu accumulators bit-exact with "
                "the engine's delta computation (q = %d)\n",
                vosa_params::kRows, vosa_params::kCols, static_cast<unsigned long long>(layers_checked),
                opt.windows - 1, static_cast<unsigned long long>(accumulators), opt.q);
    std::printf("array cycles: %llu with reuse (RTL, = streamed_cycles), %llu recomputing (layer_cycles): %.4fx\n",
                static_cast<unsigned long long>(rtl_cycles), static_cast<unsigned long long>(full_cycles),
                rtl_cycles ? static_cast<double>(full_cycles) / static_cast<double>(rtl_cycles) : 0.0);
    std::printf("tiles: %llu of %llu run (the others had no changed operand); rows streamed: %llu of %llu (%.2f %%)\n",
                static_cast<unsigned long long>(check.tiles_run), static_cast<unsigned long long>(check.tiles),
                static_cast<unsigned long long>(check.tile_rows_streamed),
                static_cast<unsigned long long>(check.tile_rows),
                check.tile_rows ? 100.0 * static_cast<double>(check.tile_rows_streamed) /
                                      static_cast<double>(check.tile_rows)
                                : 0.0);
    std::printf("PE-cycles of streamed rows: %llu, gated (zero delta): %llu (%.2f %%)\n",
                static_cast<unsigned long long>(check.pe_macs), static_cast<unsigned long long>(check.pe_macs_gated),
                gated);
    const auto per_window = [&](std::uint64_t v) { return static_cast<unsigned long long>(v / (opt.windows - 1)); };
    std::printf("outside the array, per inference: store of the previous quantized inputs %llu bytes and accumulators "
                "%llu bytes (int32); %llu previous activations read; accumulation buffer %llu int32 updates with "
                "reuse, %llu recomputing\n",
                per_window(input_bytes), per_window(4 * accumulators), per_window(check.prev_reads),
                per_window(check.acc_updates), per_window(check.acc_updates_full));
    if (traces)
      std::printf("traces of PE (%d, %d): %llu cycles with reuse, %llu recomputing\n", opt.pe_row, opt.pe_col,
                  static_cast<unsigned long long>(traces->delta->count()),
                  static_cast<unsigned long long>(traces->recompute->count()));
    top->final();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vosa_sim (reuse array check): %s\n", e.what());
    return 1;
  }
}
