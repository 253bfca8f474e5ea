// Error-injecting inference (testbench/inject): the hit application against
// an independent per-capture simulation of the lowered GEMMs, the sampler's
// rates, bit-exactness without errors and with full Razor correction,
// reproducibility across thread counts, and the settings file's validation.
#include "vosa/inject.hpp"
#include "vosa/synthetic_errmodel.hpp"

#include "vosa/lowering.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <tuple>

using namespace vosa;
using namespace vosa::inject;

namespace {

// ---------------------------------------------------------------- synthetic models

tflite::Tensor int8_tensor(const std::string& name, std::vector<int> shape, float scale, int zp) {
  tflite::Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.type = tflite::TensorType::kInt8;
  t.scale = {scale};
  t.zero_point = {zp};
  return t;
}

// A one-layer model: CONV_2D (3x3, SAME, stride `stride`), DEPTHWISE_CONV_2D
// (3x3, SAME) or FULLY_CONNECTED, random weights and biases.
std::shared_ptr<tflite::Model> one_layer_model(tflite::OpType type, int h, int w, int c, int out_c, int stride,
                                               std::mt19937_64& rng) {
  auto m = std::make_shared<tflite::Model>();
  m->path = "synthetic";
  std::uniform_int_distribution<int> byte(-128, 127), bias(-2000, 2000);
  const int in_zp = 3;
  m->tensors.push_back(int8_tensor("in", {1, h, w, c}, 0.05f, in_zp));
  tflite::Operator op;
  op.type = type;
  op.stride_h = op.stride_w = stride;
  op.padding = tflite::Padding::kSame;
  int out_h = (h + stride - 1) / stride, out_w = (w + stride - 1) / stride;
  tflite::Tensor wt;
  if (type == tflite::OpType::kFullyConnected) {
    wt = int8_tensor("w", {out_c, h * w * c}, 0.01f, 0);
    out_h = out_w = 1;
  } else if (type == tflite::OpType::kDepthwiseConv2D) {
    out_c = c;
    op.depth_multiplier = 1;
    wt = int8_tensor("w", {1, 3, 3, c}, 0.01f, 0);
  } else {
    wt = int8_tensor("w", {out_c, 3, 3, c}, 0.01f, 0);
  }
  wt.data.resize(wt.num_elements());
  for (auto& b : wt.data) b = static_cast<uint8_t>(byte(rng));
  m->tensors.push_back(wt);
  tflite::Tensor bt;
  bt.name = "b";
  bt.shape = {out_c};
  bt.type = tflite::TensorType::kInt32;
  bt.scale = {0.0005f};
  bt.zero_point = {0};
  bt.data.resize(static_cast<size_t>(out_c) * 4);
  for (int i = 0; i < out_c; ++i) {
    const int32_t v = bias(rng);
    std::memcpy(bt.data.data() + 4 * i, &v, 4);
  }
  m->tensors.push_back(bt);
  if (type == tflite::OpType::kFullyConnected)
    m->tensors.push_back(int8_tensor("out", {1, out_c}, 0.2f, -5));
  else
    m->tensors.push_back(int8_tensor("out", {1, out_h, out_w, out_c}, 0.2f, -5));
  op.inputs = {0, 1, 2};
  op.outputs = {3};
  m->operators.push_back(op);
  m->inputs = {0};
  m->outputs = {3};
  return m;
}

std::vector<uint8_t> random_input(const tflite::Model& m, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<uint8_t> x(m.input().num_elements());
  for (auto& v : x) v = static_cast<uint8_t>(byte(rng));
  return x;
}

// One random layer, its engine, its operator and a random input (drawn in
// that order from rng): the set-up most tests share.
struct OneLayer {
  OneLayer(tflite::OpType type, int h, int w, int c, int out_c, int stride, std::mt19937_64& rng)
      : model(one_layer_model(type, h, w, c, out_c, stride, rng)),
        layer_engine(model),
        x(random_input(*model, rng)),
        op(layer_engine.ops().at(0)),
        input(reinterpret_cast<const int8_t*>(x.data())) {}
  std::shared_ptr<tflite::Model> model;
  engine::Engine layer_engine;
  std::vector<uint8_t> x;
  const engine::PreparedOp& op;
  const int8_t* input;
};

ArrayShape small_array(int rows, int cols, int islands = 1) {
  ArrayShape s;
  s.rows = rows;
  s.cols = cols;
  s.acc_bits = min_acc_bits(rows, 8, 8, true);
  s.islands = islands;
  for (int c = 0; c < cols; ++c) s.island_of_column.push_back(c * islands / cols);
  return s;
}

// An error model with one point per (voltage, p_any): bits 0..acc_bits-1
// with p_error spread over the top bits, two recorded patterns and the rest
// of the error mass unrecorded.
nlohmann::json synthetic_model_json(int acc_bits, const std::vector<std::pair<double, double>>& points) {
  nlohmann::json j;
  j["schema_version"] = 1;
  j["pdk"] = "synthetic";
  j["design"] = {{"module", "vosa_pe"}, {"dataflow", "weight_stationary"}, {"acc_bits", acc_bits}, {"signed", true}};
  j["netlist_hash"] = "0";
  j["operand_source"] = "test";
  j["points"] = nlohmann::json::array();
  const std::uint64_t samples = 1000000;
  for (const auto& [voltage, p_any] : points) {
    const auto errors = static_cast<std::uint64_t>(std::llround(p_any * samples));
    nlohmann::json pt{{"voltage", voltage},           {"period_ns", 10.0}, {"delay_source", "liberty-corner"},
                      {"samples", samples},           {"cycles_with_error", errors},
                      {"error_values", nlohmann::json::array()}};
    pt["bits"] = nlohmann::json::array();
    for (int b = 0; b < acc_bits; ++b) {
      const double p = b >= acc_bits - 6 ? p_any / 4 : (b % 3 == 0 ? p_any / 20 : 0.0);
      pt["bits"].push_back({{"bit", b}, {"p_error", p}, {"ci95", {p, p}}});
    }
    pt["error_patterns"] = nlohmann::json::array();
    if (errors) {
      pt["error_patterns"].push_back({{"mask", std::uint64_t{1} << (acc_bits - 2)}, {"count", errors / 2}});
      pt["error_patterns"].push_back({{"mask", std::uint64_t{5}}, {"count", errors / 5}});
    }
    j["points"].push_back(pt);
  }
  return j;
}

ErrorModel synthetic_model(int acc_bits, const std::vector<std::pair<double, double>>& points) {
  return ErrorModel::from_json(synthetic_model_json(acc_bits, points), "synthetic errmodel");
}

Settings uniform_settings(std::vector<double> voltages, std::optional<RazorSpec> razor = std::nullopt) {
  Settings s;
  s.errmodel = "synthetic errmodel";
  s.voltages = std::move(voltages);
  s.razor = razor;
  return s;
}

std::int64_t field(std::uint64_t bits, int acc_bits) {
  return ((bits >> (acc_bits - 1)) & 1) ? static_cast<std::int64_t>(bits) - (std::int64_t{1} << acc_bits)
                                        : static_cast<std::int64_t>(bits);
}

// One capture of a carry-save PE written out bit by bit (one full adder per
// bit, the carry out of the MSB dropped), with the pair mask f (sum word low,
// carry word high) and Razor on the same bits of both words.
void slow_carry_save_capture(std::uint64_t& sum, std::uint64_t& carry, std::uint64_t product, std::uint64_t f,
                             const RazorSetting& razor, int acc_bits) {
  const std::uint64_t word = (std::uint64_t{1} << acc_bits) - 1;
  std::uint64_t ns = 0, nc = 0;
  for (int b = 0; b < acc_bits; ++b) {
    const int x1 = (sum >> b) & 1, x2 = (carry >> b) & 1, x3 = (product >> b) & 1;
    ns |= static_cast<std::uint64_t>(x1 ^ x2 ^ x3) << b;
    if (b + 1 < acc_bits) nc |= static_cast<std::uint64_t>((x1 + x2 + x3) >= 2) << (b + 1);
  }
  std::uint64_t fs = f & word, fc = f >> acc_bits;
  if ((fs | fc) & razor.mask) {
    if (razor.policy == RazorPolicy::Drop) return;  // the incoming pair passes on
    fs &= ~razor.mask;
    fc &= ~razor.mask;
  }
  sum = ns ^ fs;
  carry = nc ^ fc;
}

// One register capture of a carry-propagate PE with flip mask f (Razor as
// docs/inject.md: correct restores the protected bits, drop keeps s).
std::uint64_t capture(std::uint64_t s, std::int64_t prod, std::uint64_t f, const RazorSetting& razor,
                      std::uint64_t acc_mask) {
  const std::uint64_t sum = (s + static_cast<std::uint64_t>(prod)) & acc_mask;
  if (f & razor.mask) return razor.policy == RazorPolicy::Correct ? (sum ^ (f & ~razor.mask)) & acc_mask : s;
  return (sum ^ f) & acc_mask;
}

// Independent model: every GEMM materialized by lowering::lower_layer, every
// register capture of every column simulated, hits looked up by coordinates
// (a carry-save array: both words, slow_carry_save_capture).
std::vector<int32_t> slow_faulty_accumulators(const tflite::Model& model, const engine::PreparedOp& p,
                                              const int8_t* input, const ArrayShape& shape,
                                              const RazorSetting& razor, const std::vector<Hit>& hits) {
  std::map<std::tuple<int, int, int, int, int>, std::uint64_t> flips;
  for (const Hit& h : hits) flips[{h.gemm, h.column, h.k_tile, h.m, h.row}] |= h.mask;
  const auto gemms = lowering::lower_layer(model, *p.op, p.geometry, input, shape.cols);
  const std::uint64_t acc_mask = (std::uint64_t{1} << shape.acc_bits) - 1;
  std::vector<std::vector<int64_t>> results;
  for (int gi = 0; gi < static_cast<int>(gemms.size()); ++gi) {
    const lowering::Gemm& g = gemms[static_cast<size_t>(gi)];
    std::vector<int64_t> c(static_cast<size_t>(g.m) * g.n, 0);
    for (int j = 0; j < g.n; ++j)
      for (int kt = 0; kt * shape.rows < g.k; ++kt)
        for (int m = 0; m < g.m; ++m) {
          std::uint64_t s = 0, carry = 0;
          for (int r = 0; r < shape.rows; ++r) {
            const int k = kt * shape.rows + r;
            const std::int64_t prod = k < g.k ? static_cast<std::int64_t>(g.a[static_cast<size_t>(m) * g.k + k]) *
                                                    g.b[static_cast<size_t>(k) * g.n + j]
                                              : 0;
            const auto it = flips.find({gi, j, kt, m, r});
            const std::uint64_t f = it == flips.end() ? 0 : it->second;
            if (shape.carry_save)
              slow_carry_save_capture(s, carry, static_cast<std::uint64_t>(prod) & acc_mask, f, razor, shape.acc_bits);
            else
              s = capture(s, prod, f, razor, acc_mask);
          }
          c[static_cast<size_t>(m) * g.n + j] += field((s + carry) & acc_mask, shape.acc_bits);
        }
    results.push_back(std::move(c));
  }
  return lowering::assemble_accumulators(p.geometry, gemms, results,
                                         lowering::correction_of(model, *p.op, p.geometry));
}

// Random hits anywhere in the layer's capture space, several per chain.
std::vector<Hit> random_hits(const LayerOperands& ops, const ArrayShape& shape, std::mt19937_64& rng, int count) {
  std::vector<Hit> hits;
  std::uniform_int_distribution<int> any(0, 1 << 20);
  for (int i = 0; i < count; ++i) {
    Hit h;
    h.gemm = any(rng) % ops.gemms();
    h.column = any(rng) % ops.n(h.gemm);
    h.k_tile = any(rng) % ((ops.k(h.gemm) + shape.rows - 1) / shape.rows);
    h.m = any(rng) % ops.vectors(h.gemm);
    h.row = any(rng) % shape.rows;
    // Single bits (low and high) and multi-bit masks.
    switch (any(rng) % 3) {
      case 0: h.mask = std::uint64_t{1} << (any(rng) % shape.acc_bits); break;
      case 1: h.mask = std::uint64_t{3} << (shape.acc_bits - 2); break;
      default: h.mask = (static_cast<std::uint64_t>(any(rng)) | 1) & ((std::uint64_t{1} << shape.acc_bits) - 1);
    }
    hits.push_back(h);
    if (any(rng) % 2) {  // a second hit further down the same chain
      Hit h2 = h;
      h2.row = (h.row + 1 + any(rng) % (shape.rows - 1)) % shape.rows;
      h2.mask = std::uint64_t{1} << (any(rng) % shape.acc_bits);
      hits.push_back(h2);
    }
  }
  return hits;
}

// No Razor, Razor correct and Razor drop on the two top bits.
std::vector<RazorSetting> razor_cases(int acc_bits) {
  RazorSetting none, correct, drop;
  correct.mask = drop.mask = std::uint64_t{3} << (acc_bits - 2);
  drop.policy = RazorPolicy::Drop;
  return {none, correct, drop};
}

// Random hits applied by apply_hits against `slow` (razor, hits ->
// accumulators) for each razor_cases setting, with the counts: changed
// outputs, hits, Razor detections and distinct (tile, cycle) pairs with one
// (PE (r, c) handles row m at cycle m + r + c of its tile).
template <class Slow>
void check_random_hits(const LayerOperands& ops, const ArrayShape& shape, const std::vector<int32_t>& clean,
                       std::mt19937_64& rng, const std::string& where, Slow slow) {
  for (const RazorSetting& razor : razor_cases(shape.acc_bits)) {
    const std::vector<Hit> hits = random_hits(ops, shape, rng, 150);
    std::vector<int32_t> fast = clean;
    const LayerStats st = apply_hits(ops, shape, razor, hits, fast);
    ASSERT_EQ(fast, slow(razor, hits)) << where << " razor mask " << razor.mask << " policy " << to_string(razor.policy);
    std::uint64_t differ = 0;
    for (size_t i = 0; i < clean.size(); ++i) differ += fast[i] != clean[i];
    EXPECT_EQ(st.corrupted_outputs, differ) << where;
    EXPECT_GT(differ, 0u) << where;
    EXPECT_EQ(st.hits, hits.size()) << where;
    std::set<std::tuple<int, int, int, int>> cycles;
    std::uint64_t detected = 0;
    for (const Hit& h : hits)
      if (h.mask & razor.mask) {
        ++detected;
        cycles.insert({h.gemm, h.column / shape.cols, h.k_tile, h.m + h.row + h.column % shape.cols});
      }
    EXPECT_EQ(st.razor_detected, detected) << where;
    EXPECT_EQ(st.razor_error_cycles, cycles.size()) << where;
    if (razor.mask) {
      EXPECT_GT(cycles.size(), 0u) << where;
    }
  }
}

// A model with one point at 1.0 V whose row bands (first, last PE row) err
// at `rate` with one recorded pattern, the single bit `bit`.
ErrorModel row_band_model(int acc_bits, const std::vector<std::tuple<int, int, double, int>>& bands) {
  nlohmann::json j = {{"schema_version", 2}, {"pdk", "synthetic"}, {"netlist_hash", "0"}, {"operand_source", "test"},
                      {"design", {{"acc_bits", acc_bits}, {"signed", true}}}};
  j["points"] = nlohmann::json::array();
  const std::uint64_t samples = 100000;
  for (const auto& [first, last, rate, bit] : bands) {
    const auto e = static_cast<std::uint64_t>(rate * samples);
    nlohmann::json bits = nlohmann::json::array();
    for (int k = 0; k < acc_bits; ++k)
      bits.push_back({{"bit", k}, {"errors", k == bit ? e : 0}, {"p_error", k == bit ? rate : 0.0}, {"ci95", {0.0, 1.0}}});
    j["points"].push_back({{"voltage", 1.0}, {"period_ns", 10.0}, {"delay_source", "liberty-corner"},
                           {"samples", samples}, {"cycles_with_error", e}, {"bits", bits},
                           {"error_values", nlohmann::json::array()},
                           {"error_patterns", e ? nlohmann::json::array({{{"mask", 1u << bit}, {"count", e}}})
                                                : nlohmann::json::array()},
                           {"pe_rows", {first, last}}});
  }
  return ErrorModel::from_json(j, "row model");
}

}  // namespace

// (b) The injector's hit application equals the per-capture simulation of
// the lowered GEMMs for the same hits: conv (several N and K tiles, stride 2),
// depthwise (block-diagonal groups, a partial last group) and FC; no Razor,
// Razor correct and Razor drop.
TEST(Inject, HitsMatchPerCaptureSimulation) {
  std::mt19937_64 rng(7);
  struct Case {
    tflite::OpType type;
    int h, w, c, out_c, stride, rows, cols;
  };
  const Case cases[] = {{tflite::OpType::kConv2D, 6, 5, 3, 7, 1, 4, 3},
                        {tflite::OpType::kConv2D, 7, 7, 5, 4, 2, 8, 8},
                        {tflite::OpType::kDepthwiseConv2D, 5, 6, 7, 7, 1, 4, 3},
                        {tflite::OpType::kFullyConnected, 2, 3, 5, 6, 1, 4, 4}};
  for (const Case& cs : cases) {
    const OneLayer layer(cs.type, cs.h, cs.w, cs.c, cs.out_c, cs.stride, rng);
    const auto& [model, engine, x, p, input] = layer;
    const std::vector<int32_t> clean = engine::reference_accumulators(*model, p, input);
    const ArrayShape shape = small_array(cs.rows, cs.cols);
    const LayerOperands ops(*model, p, input, shape.cols);
    check_random_hits(ops, shape, clean, rng, tflite::to_string(cs.type), [&](const RazorSetting& razor, const std::vector<Hit>& hits) {
      return slow_faulty_accumulators(*model, p, input, shape, razor, hits);
    });
    // The lowered capture count: every output value x K tiles x rows.
    std::uint64_t captures = 0;
    for (int g = 0; g < ops.gemms(); ++g)
      captures += static_cast<std::uint64_t>(ops.n(g)) * ((ops.k(g) + shape.rows - 1) / shape.rows) * ops.m() *
                  shape.rows;
    EXPECT_EQ(layer_captures(p.geometry, shape), captures);
  }
}

namespace {

// Independent model of the array's depthwise mode (docs/rtl.md): every pass
// of lowering::lower_depthwise_lanes, every capture of every column simulated
// from the pass's lanes and weight tile (PE (r, j) at vector t multiplies
// b[r][j] by lane r / G of column j at vector t + r % G), hits looked up by
// (pass, column, vector, row), the passes' results summed per accumulator
// (lowering::assemble_lane_accumulators).
std::vector<int32_t> slow_mode_accumulators(const tflite::Model& model, const engine::PreparedOp& p,
                                            const int8_t* input, const ArrayShape& shape, const RazorSetting& razor,
                                            const std::vector<Hit>& hits) {
  std::map<std::tuple<int, int, int, int>, std::uint64_t> flips;
  for (const Hit& h : hits) {
    EXPECT_EQ(h.k_tile, 0);
    flips[{h.gemm, h.column, h.m, h.row}] |= h.mask;
  }
  const auto passes = lowering::lower_depthwise_lanes(model, *p.op, p.geometry, input, shape.rows, shape.cols,
                                                      shape.depthwise_group_rows);
  const std::uint64_t acc_mask = (std::uint64_t{1} << shape.acc_bits) - 1;
  std::vector<std::vector<int64_t>> results;
  for (int gi = 0; gi < static_cast<int>(passes.size()); ++gi) {
    const lowering::LanePass& pass = passes[static_cast<size_t>(gi)];
    std::vector<int64_t> c(static_cast<size_t>(pass.m) * pass.cols, 0);
    for (int j = 0; j < pass.cols; ++j)
      for (int t = 0; t < pass.m; ++t) {
        std::uint64_t s = 0;
        for (int r = 0; r < pass.rows; ++r) {
          const int l = r / pass.group_rows, i = r % pass.group_rows;
          const std::int64_t lane =
              t + i < pass.m ? pass.lane_values[(static_cast<size_t>(t + i) * pass.cols + j) * pass.lanes + l] : 0;
          const std::int64_t prod = lane * pass.b[static_cast<size_t>(r) * pass.cols + j];
          const auto it = flips.find({gi, j, t, r});
          s = capture(s, prod, it == flips.end() ? 0 : it->second, razor, acc_mask);
        }
        c[static_cast<size_t>(t) * pass.cols + j] = field(s, shape.acc_bits);
      }
    results.push_back(std::move(c));
  }
  return lowering::assemble_lane_accumulators(p.geometry, passes, results,
                                              lowering::correction_of(model, *p.op, p.geometry));
}

}  // namespace

// The array's depthwise mode (ArrayShape::depthwise_group_rows): the
// injector's operands, hit application and draws against the independent
// per-capture simulation of the mode's passes above: one pass (16 rows,
// stride 1), several passes of different lengths (3 rows, stride 2: runs of
// 2 and 1 taps), an idle lane (8 rows: lanes of 3, 3 and 2 rows), a partial
// last block of channels; no Razor, Razor correct, Razor drop.
TEST(InjectDepthwiseMode, HitsMatchPerCaptureSimulationOfTheLanes) {
  std::mt19937_64 rng(17);
  struct Case {
    int h, w, c, stride, rows, cols, group_rows;
  };
  const Case cases[] = {{7, 9, 20, 1, 16, 16, 3}, {9, 8, 13, 2, 3, 11, 3}, {6, 7, 10, 1, 8, 8, 3},
                        {8, 8, 5, 2, 8, 4, 3}};
  for (const Case& cs : cases) {
    const OneLayer layer(tflite::OpType::kDepthwiseConv2D, cs.h, cs.w, cs.c, cs.c, cs.stride, rng);
    const auto& [model, engine, x, p, input] = layer;
    const std::vector<int32_t> clean = engine::reference_accumulators(*model, p, input);
    ArrayShape shape = small_array(cs.rows, cs.cols);
    shape.depthwise_group_rows = cs.group_rows;
    const std::string where = std::to_string(cs.rows) + "x" + std::to_string(cs.cols) + " stride " +
                              std::to_string(cs.stride);
    const LayerOperands ops(*model, p, input, shape);
    ASSERT_TRUE(ops.depthwise_mode()) << where;
    const auto passes = lowering::lower_depthwise_lanes(*model, *p.op, p.geometry, input, cs.rows, cs.cols,
                                                        cs.group_rows);
    ASSERT_EQ(ops.gemms(), static_cast<int>(passes.size())) << where;
    // The operands are the passes' own, element by element.
    std::uint64_t captures = 0;
    for (int g = 0; g < ops.gemms(); ++g) {
      const lowering::LanePass& pass = passes[static_cast<size_t>(g)];
      ASSERT_EQ(ops.vectors(g), pass.m) << where;
      captures += static_cast<std::uint64_t>(ops.n(g)) * pass.m * cs.rows;
      for (int j = 0; j < ops.n(g); ++j)
        for (int r = 0; r < cs.rows; ++r) {
          ASSERT_EQ(ops.b(g, r, j), pass.b[static_cast<size_t>(r) * cs.cols + j]) << where;
          for (int t = 0; t < pass.m; ++t) {
            const int i = r % cs.group_rows, l = r / cs.group_rows;
            const int lane = t + i < pass.m
                                 ? pass.lane_values[(static_cast<size_t>(t + i) * cs.cols + j) * pass.lanes + l]
                                 : 0;
            ASSERT_EQ(ops.a(g, t, r, j), lane) << where << " pass " << g << " t " << t << " row " << r;
            ASSERT_EQ(ops.output_index(g, t, j), pass.out_index[static_cast<size_t>(t) * cs.cols + j]) << where;
          }
        }
    }
    EXPECT_EQ(layer_captures(p.geometry, shape), captures) << where;
    EXPECT_EQ(layer_cycles(p.geometry, shape),
              static_cast<std::uint64_t>(lowering::lanes_cycles(p.geometry, cs.rows, cs.cols, cs.group_rows)))
        << where;
    // Without errors the mode's passes give the engine's accumulators.
    EXPECT_EQ(slow_mode_accumulators(*model, p, input, shape, RazorSetting{}, {}), clean) << where;
    check_random_hits(ops, shape, clean, rng, where, [&](const RazorSetting& razor, const std::vector<Hit>& hits) {
      return slow_mode_accumulators(*model, p, input, shape, razor, hits);
    });
  }
}

// Drawn in the mode: each MAC's error from the PE that computes it there, so
// the island of its column and the row band of its row; corrupt() equals
// the per-capture simulation of its own draws; the rate per capture is p.
TEST(InjectDepthwiseMode, DrawsFollowTheModesPes) {
  std::mt19937_64 rng(23);
  const OneLayer layer(tflite::OpType::kDepthwiseConv2D, 10, 12, 12, 12, 1, rng);
  const auto& [model, engine, x, p, input] = layer;
  // Two islands of 4 columns; island 1 error-free.
  ArrayShape shape = small_array(8, 8, 2);
  shape.depthwise_group_rows = 3;
  const Injector inj(synthetic_model(shape.acc_bits, {{1.0, 0.05}, {1.2, 0.0}}), shape, uniform_settings({1.0, 1.2}));
  const LayerOperands ops(*model, p, input, shape);
  Rng r(9);
  const std::vector<Hit> hits = inj.draw_hits(ops, p.index, r);
  ASSERT_GT(hits.size(), 100u);
  for (const Hit& h : hits) ASSERT_LT(h.column % shape.cols, 4) << "a hit in the error-free island's columns";
  // Rate: hits over island 0's captures (columns 0-3 of both blocks of channels) within 4 sigma of p.
  double n = 0;
  for (int g = 0; g < ops.gemms(); ++g)
    for (int j = 0; j < ops.n(g); ++j) n += j < 4 ? double(ops.vectors(g)) * shape.rows : 0.0;
  EXPECT_EQ(n, static_cast<double>(layer_captures(p.geometry, shape)) * 8 / 12);  // 8 of the 12 channels
  EXPECT_NEAR(static_cast<double>(hits.size()), 0.05 * n, 4 * std::sqrt(0.05 * 0.95 * n));
  std::vector<int32_t> acc = engine::reference_accumulators(*model, p, input);
  const std::vector<int32_t> clean = acc;
  apply_hits(ops, shape, RazorSetting{}, hits, acc);
  EXPECT_EQ(acc, slow_mode_accumulators(*model, p, input, shape, RazorSetting{}, hits));
  for (InjectionMode mode : {InjectionMode::kExact, InjectionMode::kThinned, InjectionMode::kSampled}) {
    Injector with_mode(synthetic_model(shape.acc_bits, {{1.0, 0.05}, {1.2, 0.0}}), shape, uniform_settings({1.0, 1.2}));
    with_mode.set_mode(mode);
    std::vector<int32_t> via_corrupt = clean;
    Rng same(9);
    const LayerStats st = with_mode.corrupt(*model, p, input, via_corrupt, same);
    EXPECT_EQ(via_corrupt, acc) << to_string(mode) << ": the mode's layers run exact";
    EXPECT_EQ(st.hits, hits.size());
    EXPECT_EQ(st.captures, layer_captures(p.geometry, shape));
    EXPECT_EQ(st.cycles, layer_cycles(p.geometry, shape));
  }
  // Row bands (docs/errmodel.md "PE positions"): rows 0-2 error-free, rows 3-7
  // at 5 %: the mode's hits land on rows 3-7 only, with that band's mask.
  const Injector banded(row_band_model(shape.acc_bits, {{0, 2, 0.0, 0}, {3, 7, 0.05, 4}}), shape,
                       uniform_settings({1.0, 1.0}));
  Rng rb(4);
  const std::vector<Hit> band_hits = banded.draw_hits(ops, p.index, rb);
  ASSERT_GT(band_hits.size(), 100u);
  for (const Hit& h : band_hits) {
    ASSERT_GE(h.row, 3);
    ASSERT_EQ(h.mask, 1u << 4);
  }
  const double band_n = static_cast<double>(layer_captures(p.geometry, shape)) * 5 / 8;
  EXPECT_NEAR(static_cast<double>(band_hits.size()), 0.05 * band_n, 4 * std::sqrt(0.05 * 0.95 * band_n));
}

// A config with the depthwise mode: ArrayShape takes group_rows, and a layer
// the mode computes counts the mode's cycles (lanes_cycles), not the GEMM
// mapping's; a dilated layer (which the mode does not take) keeps the GEMM's.
TEST(InjectDepthwiseMode, ConfigGivesTheModesCycles) {
  const ArrayConfig cfg = parse_config(nlohmann::json{{"rows", 16}, {"cols", 16}, {"depthwise", {{"group_rows", 3}}}},
                                       "dw config");
  const ArrayShape shape = ArrayShape::from_config(cfg, "dw config");
  EXPECT_EQ(shape.depthwise_group_rows, 3);
  ArrayShape gemm_shape = shape;
  gemm_shape.depthwise_group_rows = 0;
  lowering::ConvGeometry g;  // MobileNetV2's 112x112x32 depthwise layer
  g.depthwise = true;
  g.in_h = g.in_w = g.out_h = g.out_w = 112;
  g.in_c = g.out_c = 32;
  g.kernel_h = g.kernel_w = 3;
  g.pad_top = g.pad_left = 1;
  const auto mode = static_cast<std::uint64_t>(lowering::lanes_cycles(g, 16, 16, 3));
  EXPECT_EQ(layer_cycles(g, shape), mode);
  EXPECT_NE(layer_cycles(g, gemm_shape), mode);
  EXPECT_LT(layer_cycles(g, shape), layer_cycles(g, gemm_shape));
  // 2 blocks x (16 + 112 x 114 + 32) cycles: one pass of 3 lanes.
  EXPECT_EQ(mode, 2u * (16u + 112u * 114u + 32u));
  g.dilation_w = 2;
  EXPECT_EQ(layer_cycles(g, shape), layer_cycles(g, gemm_shape));
}

// (b) continued: hits drawn by the injector (not hand-made) at a high rate
// give the same accumulators in both simulations.
TEST(Inject, DrawnHitsMatchPerCaptureSimulation) {
  std::mt19937_64 rng(11);
  const OneLayer layer(tflite::OpType::kDepthwiseConv2D, 6, 6, 10, 10, 1, rng);
  const auto& [model, engine, x, p, input] = layer;
  const ArrayShape shape = small_array(4, 4, 2);
  for (const char* policy : {"correct", "drop"}) {
    RazorSpec razor;
    razor.top_k = 3;
    razor.policy = std::string(policy) == "drop" ? RazorPolicy::Drop : RazorPolicy::Correct;
    const Injector inj(synthetic_model(shape.acc_bits, {{1.0, 0.2}, {1.2, 0.05}}), shape,
                       uniform_settings({1.0, 1.2}, razor));
    const LayerOperands ops(*model, p, input, shape.cols);
    Rng r(5);
    const std::vector<Hit> hits = inj.draw_hits(ops, p.index, r);
    ASSERT_GT(hits.size(), 100u);
    std::vector<int32_t> acc = engine::reference_accumulators(*model, p, input);
    apply_hits(ops, shape, inj.plan(p.index).razor, hits, acc);
    EXPECT_EQ(acc, slow_faulty_accumulators(*model, p, input, shape, inj.plan(p.index).razor, hits)) << policy;
    // corrupt() (the engine's path) draws and applies the same hits.
    std::vector<int32_t> via_corrupt = engine::reference_accumulators(*model, p, input);
    Rng same(5);
    const LayerStats st = inj.corrupt(*model, p, input, via_corrupt, same);
    EXPECT_EQ(via_corrupt, acc) << policy;
    EXPECT_EQ(st.hits, hits.size());
    EXPECT_EQ(st.captures, layer_captures(p.geometry, shape));
  }
}

// Schema 3 (correct bits, docs/errmodel.md "Drawn to fit the correct
// value") in the engine's exact path, on a layer with more channels than
// array columns and two islands: each hit's mask is drawn again with the
// sampler of its ARRAY column (a GEMM column past the array's once read past
// island_of_column and crashed explore). Island 1's point records each
// pattern with the correct bits it was measured on, so every error there is
// a measured signed one whatever the partial sum (-2^(acc_bits-2) or +5; the
// redraw picks the pattern anew by its count); island 0's point records none,
// so its hits are XORed as drawn.
TEST(Inject, CorrectBitsRedrawUsesTheArrayColumnsIsland) {
  std::mt19937_64 rng(21);
  const OneLayer layer(tflite::OpType::kConv2D, 6, 6, 8, 16, 1, rng);  // 16 channels on 4 columns
  const auto& [model, engine, x, p, input] = layer;
  const ArrayShape shape = small_array(4, 4, 2);  // columns 0-1 island 0, 2-3 island 1
  const int acc = shape.acc_bits;
  const std::uint64_t high = std::uint64_t{1} << (acc - 2), n = 1000000, errors = 100000;
  nlohmann::json j = synthetic_model_json(acc, {{1.0, 0.1}, {1.2, 0.1}});
  j["schema_version"] = 3;
  for (auto& pt : j["points"]) {
    const bool keeps = pt["voltage"].get<double>() == 1.0;
    pt["samples"] = n;
    pt["cycles_with_error"] = errors;
    nlohmann::json a = {{"mask", high}, {"count", errors / 2}}, b = {{"mask", 5}, {"count", errors / 2}};
    if (keeps) {
      a["correct_bits"] = nlohmann::json::array({{{"value", high}, {"count", errors / 2}}});  // error -high
      b["correct_bits"] = nlohmann::json::array({{{"value", 0}, {"count", errors / 2}}});     // error +5
    }
    pt["error_patterns"] = nlohmann::json::array({a, b});
  }
  const Injector inj(ErrorModel::from_json(j, "synthetic errmodel"), shape, uniform_settings({1.2, 1.0}));
  ASSERT_FALSE(inj.plan(p.index).island[0]->keeps_correct_bits());
  ASSERT_TRUE(inj.plan(p.index).island[1]->keeps_correct_bits());
  const LayerOperands ops(*model, p, input, shape.cols);
  Rng r(5);
  const std::vector<Hit> hits = inj.draw_hits(ops, p.index, r);
  ASSERT_GT(hits.size(), 100u);
  const std::vector<int32_t> clean = engine::reference_accumulators(*model, p, input);
  std::vector<int32_t> xored = clean, via_corrupt = clean;
  apply_hits(ops, shape, inj.plan(p.index).razor, hits, xored);
  Rng same(5);
  inj.corrupt(*model, p, input, via_corrupt, same);
  const std::size_t out_c = 16;
  std::map<std::size_t, int> hits_of;  // island 1's outputs: how many errors each got
  for (const Hit& h : hits)
    if (shape.island_of_column[static_cast<std::size_t>(h.column % shape.cols)] == 1)
      ++hits_of[static_cast<std::size_t>(h.m) * out_c + static_cast<std::size_t>(h.column)];
  const std::int64_t wrap = std::int64_t{1} << acc;
  int island1_outputs = 0;
  for (std::size_t i = 0; i < clean.size(); ++i) {
    const std::size_t channel = i % out_c;
    if (shape.island_of_column[channel % static_cast<std::size_t>(shape.cols)] == 0) {
      EXPECT_EQ(via_corrupt[i], xored[i]) << "output " << i << ": island 0 keeps its drawn masks";
      continue;
    }
    // h errors, each -high or +5: the change is -a * high + (h - a) * 5 for some a (mod 2^acc_bits).
    const int h = hits_of.count(i) ? hits_of[i] : 0;
    const std::int64_t got = static_cast<std::int64_t>(via_corrupt[i]) - clean[i];
    bool measured = false;
    for (int a = 0; a <= h && !measured; ++a) {
      const std::int64_t want = -a * static_cast<std::int64_t>(high) + (h - a) * 5;
      measured = ((got - want) % wrap + wrap) % wrap == 0;
    }
    EXPECT_TRUE(measured) << "output " << i << ": change " << got << " from " << h << " errors";
    island1_outputs += h > 0;
  }
  EXPECT_GT(island1_outputs, 20);
}

// (c) Hit rate per island within 4 sigma of p_any; p_any = 1 hits every capture;
// masks follow the recorded patterns' frequencies.
TEST(Inject, HitRateMatchesErrorModel) {
  std::mt19937_64 rng(3);
  const OneLayer layer(tflite::OpType::kConv2D, 16, 16, 8, 16, 1, rng);
  const auto& [model, engine, x, p, input] = layer;
  const ArrayShape shape = small_array(8, 8, 2);  // columns 0-3 island 0, 4-7 island 1
  const double p0 = 0.002, p1 = 0.03;
  const ErrorModel em = synthetic_model(shape.acc_bits, {{1.0, p1}, {1.2, p0}, {1.5, 1.0}});
  const Injector inj(em, shape, uniform_settings({1.2, 1.0}));
  const LayerOperands ops(*model, p, input, shape.cols);
  std::uint64_t hits[2] = {0, 0}, top_pattern = 0, total = 0;
  const std::uint64_t per_island = layer_captures(p.geometry, shape) / 2;  // 16 channels, 8 per island
  const int trials = 20;
  for (int t = 0; t < trials; ++t) {
    Rng r(derive_seed(9, static_cast<std::uint64_t>(t), 0, 0));
    for (const Hit& h : inj.draw_hits(ops, p.index, r)) {
      ++hits[shape.island_of_column[static_cast<size_t>(h.column % shape.cols)]];
      top_pattern += h.mask == 5;  // bits 0 and 2: only the recorded pattern makes it (bit 2 has p = 0)
      ++total;
    }
  }
  const double n = static_cast<double>(per_island) * trials;
  for (int i = 0; i < 2; ++i) {
    const double p_i = i == 0 ? p0 : p1;
    const double sigma = std::sqrt(n * p_i * (1 - p_i));
    EXPECT_NEAR(static_cast<double>(hits[i]), n * p_i, 4 * sigma) << "island " << i;
  }
  // A fifth of the error cycles carry the recorded pattern 0b101.
  const double share = static_cast<double>(top_pattern) / static_cast<double>(total);
  EXPECT_NEAR(share, 0.2, 4 * std::sqrt(0.16 / static_cast<double>(total)));
  // p = 1: every capture errs.
  const Injector all(em, shape, uniform_settings({1.5, 1.5}));
  Rng r(1);
  EXPECT_EQ(all.draw_hits(ops, p.index, r).size(), layer_captures(p.geometry, shape));
}

// (c) Thinning by operand class: a classifier that marks half the captures
// error-free halves the rate; the seam for class-conditioned models.
TEST(Inject, OperandClassesThinTheHits) {
  std::mt19937_64 rng(4);
  const OneLayer layer(tflite::OpType::kConv2D, 12, 12, 8, 8, 1, rng);
  const auto& [model, engine, x, p, input] = layer;
  const ArrayShape shape = small_array(8, 8);
  Injector inj(synthetic_model(shape.acc_bits, {{1.0, 0.05}}), shape, uniform_settings({1.0}));
  // Class 1 (p = 0.05) when the PE row is even, class 0 (p = 0) otherwise.
  inj.set_classes(1.0, {[](const CaptureOperands& o) { return o.row % 2 == 0 ? 1 : 0; }, {0.0, 0.05}});
  const LayerOperands ops(*model, p, input, shape.cols);
  std::uint64_t hits = 0;
  for (int t = 0; t < 10; ++t) {
    Rng r(static_cast<std::uint64_t>(t));
    for (const Hit& h : inj.draw_hits(ops, p.index, r)) {
      ASSERT_EQ(h.row % 2, 0);
      ++hits;
    }
  }
  const double n = static_cast<double>(layer_captures(p.geometry, shape)) / 2 * 10;
  EXPECT_NEAR(static_cast<double>(hits), n * 0.05, 4 * std::sqrt(n * 0.05 * 0.95));
}

// Sampled injection's dense pass draws a block of outputs together (every
// count first, then the erring outputs' errors as one run, each output taking
// the difference of the running sum across its part): each output must keep
// its own column's count and errors. Two islands with different rates on a
// 4x4 array, both dense (56 captures per output: 0.1 and 0.01 per capture,
// some outputs beyond the summed 8 errors): per island the fraction of changed
// accumulators, and the hits, against the exact injector over 60 draws.
TEST(InjectSampled, DenseBlocksKeepEachColumnsErrors) {
  std::mt19937_64 rng(11);
  const OneLayer layer(tflite::OpType::kConv2D, 12, 12, 6, 8, 1, rng);
  const auto& [model, engine, x, p, input] = layer;
  const std::vector<int32_t> clean = engine::reference_accumulators(*model, p, input);
  const ArrayShape shape = small_array(4, 4, 2);  // columns 0-1: island 0, 2-3: island 1
  ASSERT_EQ(p.geometry.reduction(), 54);          // 14 K tiles x 4 rows = 56 captures per output
  const ErrorModel em = synthetic_model(shape.acc_bits, {{1.0, 0.1}, {1.1, 0.01}});
  const Injector exact(em, shape, uniform_settings({1.0, 1.1}));
  Injector sampled(em, shape, uniform_settings({1.0, 1.1}));
  sampled.set_mode(InjectionMode::kSampled);
  constexpr int kDraws = 60;
  const int out_c = p.geometry.out_c, m = p.geometry.rows();
  struct Counts {
    std::array<double, 2> changed{};  // per island
    double hits = 0;
  };
  const auto run = [&](const Injector& inj, std::uint64_t seed) {
    Counts c;
    for (int d = 0; d < kDraws; ++d) {
      std::vector<int32_t> acc = clean;
      Rng r(seed + static_cast<std::uint64_t>(d));
      c.hits += static_cast<double>(inj.corrupt(*model, p, input, acc, r).hits);
      for (int i = 0; i < m; ++i)
        for (int ch = 0; ch < out_c; ++ch) {
          const std::size_t at = static_cast<std::size_t>(i) * out_c + ch;
          c.changed[static_cast<std::size_t>(shape.island_of_column[static_cast<std::size_t>(ch % shape.cols)])] +=
              acc[at] != clean[at];
        }
    }
    return c;
  };
  const Counts a = run(exact, 100), b = run(sampled, 900);
  const double per_island = double(m) * out_c / 2 * kDraws;
  for (std::size_t island = 0; island < 2; ++island) {
    const double fa = a.changed[island] / per_island, fb = b.changed[island] / per_island;
    std::printf("island %zu: changed exact %.4f sampled %.4f\n", island, fa, fb);
    EXPECT_NEAR(fa, fb, 0.03 * std::max(fa, fb) + 4 * std::sqrt(fa * (1 - fa) / per_island) + 1e-9) << island;
  }
  EXPECT_GT(a.changed[0], 1.5 * a.changed[1]);  // the islands differ (the test can see a mix-up)
  EXPECT_NEAR(a.hits, b.hits, 0.03 * a.hits + 4 * std::sqrt(a.hits));
}

// (a) Zero error probability: bit-exact with the clean engine, captures counted.
// (e) Razor correct on every bit at a high rate: bit-exact too, with hits,
// detected errors and stall cycles counted. Drop on every bit is not exact.
TEST(Inject, ZeroRateAndFullRazorCorrectAreBitExact) {
  std::mt19937_64 rng(5);
  for (auto type : {tflite::OpType::kConv2D, tflite::OpType::kDepthwiseConv2D, tflite::OpType::kFullyConnected}) {
    auto model = one_layer_model(type, 8, 8, 6, 5, 1, rng);
    const engine::Engine engine(model);
    const auto x = random_input(*model, rng);
    engine::Workspace ws;
    const std::vector<uint8_t> clean = engine.run(x, ws);
    const ArrayShape shape = small_array(4, 4);
    const ErrorModel em = synthetic_model(shape.acc_bits, {{1.0, 0.3}, {1.8, 0.0}});
    RazorSpec all_bits;
    all_bits.top_k = shape.acc_bits;
    RazorSpec all_drop = all_bits;
    all_drop.policy = RazorPolicy::Drop;
    const Injector zero(em, shape, uniform_settings({1.8}));
    const Injector corrected(em, shape, uniform_settings({1.0}, all_bits));
    const Injector dropped(em, shape, uniform_settings({1.0}, all_drop));
    EXPECT_TRUE(zero.error_free());
    EXPECT_FALSE(corrected.error_free());
    auto run = [&](const Injector& inj, LayerStats& st) {
      Rng r(42);
      return engine.run(x, ws, [&](const engine::PreparedOp& p, const int8_t* in, std::vector<int32_t>& acc) {
        st += inj.corrupt(*model, p, in, acc, r);
      });
    };
    LayerStats s0, s1, s2;
    EXPECT_EQ(run(zero, s0), clean);
    EXPECT_EQ(s0.hits, 0u);
    EXPECT_EQ(s0.captures, layer_captures(engine.ops()[0].geometry, shape));
    EXPECT_EQ(s0.cycles, layer_cycles(engine.ops()[0].geometry, shape));
    EXPECT_EQ(run(corrected, s1), clean);
    EXPECT_GT(s1.hits, s1.captures / 5);
    EXPECT_EQ(s1.razor_detected, s1.hits);
    EXPECT_GT(s1.razor_error_cycles, 0u);
    EXPECT_LE(s1.razor_error_cycles, s1.hits);
    EXPECT_EQ(s1.cycles, s0.cycles + s1.razor_error_cycles);  // correct stalls one cycle each
    EXPECT_EQ(s1.corrupted_outputs, 0u);
    run(dropped, s2);
    EXPECT_GT(s2.corrupted_outputs, 0u);  // dropped products change the sums
    EXPECT_EQ(s2.cycles, s0.cycles);      // TE-Drop does not stall
  }
}

// After-Razor errors (docs/inject.md): a model characterized as a Razor PE
// (the point's razor object) with the injection's bits and policy correct
// draws the shadow's misses. Shadow never wrong: bit-exact like the ideal
// correction. Shadow always wrong too: nothing detected, no stall, errors pass.
// Other bits: the ideal correction. A razor object with more missed than late
// captures is refused by name.
TEST(Inject, AfterRazorMissesFromTheCharacterization) {
  std::mt19937_64 rng(9);
  auto model = one_layer_model(tflite::OpType::kConv2D, 8, 8, 6, 5, 1, rng);
  const engine::Engine engine(model);
  const auto x = random_input(*model, rng);
  engine::Workspace ws;
  const std::vector<uint8_t> clean = engine.run(x, ws);
  const ArrayShape shape = small_array(4, 4);
  auto with_razor = [&](double miss_share) {
    nlohmann::json j = synthetic_model_json(shape.acc_bits, {{1.0, 0.3}});
    nlohmann::json bits = nlohmann::json::array();
    for (int b = 0; b < shape.acc_bits; ++b)
      bits.push_back({{"bit", b}, {"late", 1000}, {"missed", static_cast<int>(1000 * miss_share)}});
    j["points"][0]["razor"] = {{"policy", "correct"}, {"protected_bits", bits}, {"flagged_cycles", 10},
                               {"miscorrected", 1}, {"undetected", 1}, {"stall_cycles", 10},
                               {"after_razor", {{"cycles_with_error", 2}}}};
    return j;
  };
  RazorSpec all_bits;
  all_bits.top_k = shape.acc_bits;
  auto run = [&](const Injector& inj, LayerStats& st) {
    Rng r(42);
    return engine.run(x, ws, [&](const engine::PreparedOp& p, const int8_t* in, std::vector<int32_t>& acc) {
      st += inj.corrupt(*model, p, in, acc, r);
    });
  };
  LayerStats s0, s1, s2;
  const Injector never(ErrorModel::from_json(with_razor(0.0)), shape, uniform_settings({1.0}, all_bits));
  EXPECT_TRUE(never.default_plan().after_razor);
  EXPECT_EQ(run(never, s0), clean);
  EXPECT_GT(s0.hits, 0u);
  EXPECT_EQ(s0.razor_detected, s0.hits);
  const Injector always(ErrorModel::from_json(with_razor(1.0)), shape, uniform_settings({1.0}, all_bits));
  EXPECT_TRUE(always.default_plan().after_razor);
  EXPECT_NE(run(always, s1), clean);
  EXPECT_GT(s1.hits, s1.captures / 5);
  EXPECT_EQ(s1.razor_detected, 0u);
  EXPECT_EQ(s1.cycles, layer_cycles(engine.ops()[0].geometry, shape));
  EXPECT_GT(s1.corrupted_outputs, 0u);
  // Thinned mode draws after-Razor plans exactly (hit by hit): the same stream.
  Injector always_thinned(ErrorModel::from_json(with_razor(1.0)), shape, uniform_settings({1.0}, all_bits));
  always_thinned.set_mode(InjectionMode::kThinned);
  LayerStats s1t;
  EXPECT_EQ(run(always_thinned, s1t), run(always, s2));
  EXPECT_EQ(s1t.hits, s1.hits);
  RazorSpec fewer = all_bits;
  fewer.top_k = shape.acc_bits - 1;
  const Injector other(ErrorModel::from_json(with_razor(1.0)), shape, uniform_settings({1.0}, fewer));
  EXPECT_FALSE(other.default_plan().after_razor);
  EXPECT_EQ(never.razor_error_source(), "after-razor");
  EXPECT_EQ(other.razor_error_source(), "ideal");
  EXPECT_EQ(Injector(ErrorModel::from_json(with_razor(1.0)), shape, uniform_settings({1.0})).razor_error_source(), "");
  nlohmann::json bad = with_razor(0.0);
  bad["points"][0]["razor"]["protected_bits"][0]["missed"] = 2000;
  try {
    ErrorModel::from_json(bad, "bad.json");
    ADD_FAILURE() << "more missed than late captures was accepted";
  } catch (const ErrorModelError& e) {
    EXPECT_NE(std::string(e.what()).find("points[].razor.protected_bits: bit 0 has more missed than late"), std::string::npos)
        << e.what();
  }
}

// Cycles of the weight-stationary schedule: per (N tile, K tile) rows to load
// weights, M + rows + cols - 1 to stream, fill and drain.
TEST(Inject, LayerCyclesFollowTheSchedule) {
  lowering::ConvGeometry g;
  g.out_h = g.out_w = 4;  // M = 16
  g.in_c = 10;
  g.out_c = 9;
  g.kernel_h = g.kernel_w = 1;  // K = 10
  const ArrayShape shape = small_array(4, 4);
  // N tiles 3, K tiles 3: 9 x (4 + 16 + 4 + 4 - 1)
  EXPECT_EQ(layer_cycles(g, shape), 9u * 27u);
  EXPECT_EQ(layer_captures(g, shape), 9u * 3u * 16u * 4u);
}

// Settings: parsing, round trip, and clear errors.
TEST(Inject, SettingsValidation) {
  const ArrayShape shape = small_array(4, 4, 2);
  const ErrorModel em = synthetic_model(shape.acc_bits, {{1.28, 0.5}, {1.6, 0.01}, {1.76, 0.0}});
  const auto doc = nlohmann::json::parse(R"({
    "errmodel": "em.json", "period_ns": 10, "voltages": [1.6, 1.76],
    "razor": {"top_k": 2, "policy": "drop"},
    "layers": [{"op": 0, "voltages": [1.28, 1.6], "razor": {"bits": [0, 3]}}]})");
  const Settings s = settings_from_json(doc, "s.json");
  EXPECT_EQ(settings_from_json(to_json(s), "again").layers.at(0).razor->bits, (std::vector<int>{0, 3}));
  const Injector inj(em, shape, s);
  EXPECT_EQ(inj.plan(0).razor.mask, 9u);
  EXPECT_EQ(inj.plan(0).razor.policy, RazorPolicy::Correct);
  EXPECT_EQ(inj.plan(5).razor.mask, std::uint64_t{3} << (shape.acc_bits - 2));
  EXPECT_EQ(inj.plan(5).razor.policy, RazorPolicy::Drop);
  EXPECT_DOUBLE_EQ(inj.plan(0).island.at(0)->point().voltage, 1.28);
  EXPECT_DOUBLE_EQ(inj.plan(5).island.at(1)->point().voltage, 1.76);
  EXPECT_DOUBLE_EQ(inj.plan(5).p_max, 0.01);

  auto error_of = [&](const std::string& text, const ArrayShape& sh = small_array(4, 4, 2)) -> std::string {
    try {
      Injector bad(em, sh, settings_from_json(nlohmann::json::parse(text), "bad.json"));
    } catch (const InjectError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of(R"({"errmodel": "e", "voltages": [1.6]})").find("1 voltage(s) for 2 island(s)"),
            std::string::npos);
  const std::string off = error_of(R"({"errmodel": "e", "voltages": [1.5, 1.6]})");
  EXPECT_NE(off.find("1.500000 V is not a point"), std::string::npos) << off;
  EXPECT_NE(off.find("available voltages: 1.28, 1.6, 1.76"), std::string::npos) << off;
  EXPECT_NE(error_of(R"({"errmodel": "e", "voltages": [1.6, 1.6], "period_ns": 5})").find("no point at period"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"errmodel": "e", "voltages": [1.6, 1.6], "razor": {"bits": [40]}})").find("Razor bit 40"),
            std::string::npos);
  ArrayShape wide = small_array(4, 4, 2);
  wide.acc_bits += 1;
  EXPECT_NE(error_of(R"({"errmodel": "e", "voltages": [1.6, 1.6]})", wide).find("acc_bits"), std::string::npos);
  auto parse_error = [](const std::string& text) -> std::string {
    try {
      settings_from_json(nlohmann::json::parse(text), "bad.json");
    } catch (const InjectError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(parse_error(R"({"voltages": [1.6]})").find("'errmodel'"), std::string::npos);
  EXPECT_NE(parse_error(R"({"errmodel": "e", "voltages": [1.6], "volts": 1})").find("unknown field 'volts'"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"errmodel": "e", "voltages": [1.6], "razor": {"top_k": 2, "policy": "fix"}})")
                .find("policy 'fix'"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"errmodel": "e", "voltages": [1.6], "layers": [{"op": 1}, {"op": 1}]})")
                .find("given twice"),
            std::string::npos);
  // File round trip; a relative errmodel path is relative to the file.
  const auto dir = std::filesystem::temp_directory_path() / "vosa_inject_settings_test";
  std::filesystem::create_directories(dir);
  Settings rel = s;
  rel.errmodel = (dir / "em.json").string();
  save_settings(rel, (dir / "s.json").string());
  EXPECT_EQ(load_settings((dir / "s.json").string()).errmodel, (dir / "em.json").string());
  // Stored relative to the file: the folder can move and the path still resolves.
  std::filesystem::create_directories(dir / "a" / "chosen");
  rel.errmodel = (dir / "a" / "em.json").string();
  save_settings(rel, (dir / "a" / "chosen" / "s.json").string(), ErrmodelPath::kRelativeToFile);
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(dir / "a" / "chosen" / "s.json")).at("errmodel"), "../em.json");
  std::filesystem::rename(dir / "a", dir / "moved");
  EXPECT_EQ(load_settings((dir / "moved" / "chosen" / "s.json").string()).errmodel,
            (dir / "moved" / "em.json").string());
  {
    std::ofstream f(dir / "rel.json");
    f << R"({"errmodel": "sub/em.json", "voltages": [1.6]})";
  }
  EXPECT_EQ(load_settings((dir / "rel.json").string()).errmodel, (dir / "sub/em.json").string());
  EXPECT_THROW(load_settings((dir / "missing.json").string()), InjectError);
  std::filesystem::remove_all(dir);
}

// Per-layer error models: a layer's own errmodel (LayerSetting::errmodel) sets
// its rates; the other layers keep the settings' model; paths round-trip
// relative to the settings file; a bad layer model is refused naming its file.
TEST(Inject, LayerOwnErrorModel) {
  const ArrayShape shape = small_array(4, 4, 1);
  const ErrorModel em = synthetic_model(shape.acc_bits, {{1.44, 0.2}, {1.6, 0.01}});
  const auto dir = std::filesystem::temp_directory_path() / "vosa_inject_layer_model_test";
  std::filesystem::create_directories(dir / "layers");
  std::ofstream(dir / "layers" / "op3.json") << synthetic_model_json(shape.acc_bits, {{1.44, 0.6}, {1.6, 0.3}}).dump();
  std::ofstream(dir / "layers" / "short.json") << synthetic_model_json(shape.acc_bits, {{1.44, 0.6}}).dump();
  std::ofstream(dir / "layers" / "wide.json") << synthetic_model_json(shape.acc_bits + 1, {{1.6, 0.3}}).dump();
  Settings s = uniform_settings({1.6});
  s.errmodel = (dir / "em.json").string();
  LayerSetting own;
  own.op = 3;
  own.voltages = {1.6};
  own.errmodel = (dir / "layers" / "op3.json").string();
  s.layers.push_back(own);
  const Injector inj(em, shape, s);
  EXPECT_DOUBLE_EQ(inj.plan(3).p_max, 0.3);  // the layer's own model
  EXPECT_DOUBLE_EQ(inj.plan(5).p_max, 0.01);  // the settings' model
  // Saved relative to the settings file, loaded back absolute.
  save_settings(s, (dir / "chosen.json").string(), ErrmodelPath::kRelativeToFile);
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(dir / "chosen.json")).at("layers").at(0).at("errmodel"),
            "layers/op3.json");
  EXPECT_EQ(load_settings((dir / "chosen.json").string()).layers.at(0).errmodel, own.errmodel);
  EXPECT_EQ(with_absolute_errmodels(s).layers.at(0).errmodel, own.errmodel);
  auto error_of = [&](const std::string& path) -> std::string {
    Settings bad = s;
    bad.layers.at(0).errmodel = path;
    try {
      Injector i(em, shape, bad);
    } catch (const InjectError& e) {
      return e.what();
    }
    return "";
  };
  std::string e = error_of((dir / "layers" / "short.json").string());
  EXPECT_NE(e.find("short.json at 10"), std::string::npos) << e;
  EXPECT_NE(e.find("settings layer op 3"), std::string::npos) << e;
  e = error_of((dir / "layers" / "wide.json").string());
  EXPECT_NE(e.find("wide.json: the error model is of a PE with acc_bits"), std::string::npos) << e;
  e = error_of((dir / "layers" / "missing.json").string());
  EXPECT_NE(e.find("missing.json"), std::string::npos) << e;
  std::string parse;
  try {
    settings_from_json(nlohmann::json::parse(R"({"errmodel": "e", "voltages": [1.6], "layers": [{"op": 1, "errmodel": 3}]})"),
                       "bad.json");
  } catch (const InjectError& x) {
    parse = x.what();
  }
  EXPECT_NE(parse.find("layers[0].errmodel"), std::string::npos) << parse;
  std::filesystem::remove_all(dir);
}

// (c) A model with operand classes in the file (docs/errmodel.md, scheme
// product-change-v1): the injector thins candidates to each class's own rate
// and draws each class's masks from its own patterns.
TEST(Inject, ClassConditionedModelGivesPerClassHitRates) {
  std::mt19937_64 rng(5);
  const OneLayer layer(tflite::OpType::kConv2D, 12, 12, 8, 8, 1, rng);
  const auto& [model, engine, x, p, input] = layer;
  const ArrayShape shape = small_array(8, 8);
  const std::vector<double> rate = {0.0, 0.3, 0.2, 0.1, 0.05};  // by class
  nlohmann::json j = {{"schema_version", 1}, {"pdk", "synthetic"}, {"netlist_hash", "0"}, {"operand_source", "test"},
                      {"design", {{"acc_bits", shape.acc_bits}, {"signed", true}}}};
  const std::uint64_t per_class = 100000;
  nlohmann::json by_class = nlohmann::json::array();
  std::uint64_t errors = 0;
  for (int k = 0; k < kOperandClasses; ++k) {
    const auto e = static_cast<std::uint64_t>(rate[static_cast<size_t>(k)] * per_class);
    errors += e;
    nlohmann::json bits = nlohmann::json::array();
    for (int b = 0; b < shape.acc_bits; ++b)
      bits.push_back({{"bit", b}, {"errors", b == k ? e : 0}, {"p_error", b == k ? double(e) / per_class : 0.0},
                      {"ci95", {0.0, 1.0}}});
    by_class.push_back({{"class", k}, {"samples", per_class}, {"cycles_with_error", e}, {"bits", bits},
                        {"error_patterns", e ? nlohmann::json::array({{{"mask", 1u << k}, {"count", e}}})
                                             : nlohmann::json::array()}});
  }
  nlohmann::json bits = nlohmann::json::array();
  for (int b = 0; b < shape.acc_bits; ++b) bits.push_back({{"bit", b}, {"p_error", 0.0}, {"ci95", {0.0, 1.0}}});
  j["points"] = nlohmann::json::array({{{"voltage", 1.0}, {"period_ns", 10.0}, {"delay_source", "liberty-corner"},
                                        {"samples", per_class * kOperandClasses}, {"cycles_with_error", errors},
                                        {"bits", bits}, {"error_values", nlohmann::json::array()},
                                        {"error_patterns", nlohmann::json::array({{{"mask", 1u << 9}, {"count", errors}}})},
                                        {"classes", {{"scheme", kOperandClassScheme}, {"by_class", by_class}}}}});
  const Injector inj(ErrorModel::from_json(j, "class model"), shape, uniform_settings({1.0}));
  const LayerOperands ops(*model, p, input, shape.cols);
  // The class of every capture, as the array sees it: previous activation
  // row of the same K index (0 at the first row), activation, weight.
  auto class_at = [&](int g, int jj, int kt, int m, int r) {
    const int k = kt * shape.rows + r;
    if (k >= ops.k(g)) return operand_class(0, 0, 0);
    return operand_class(m > 0 ? ops.a(g, m - 1, k) : 0, ops.a(g, m, k), ops.b(g, k, jj));
  };
  std::vector<double> captures(kOperandClasses, 0), hits(kOperandClasses, 0);
  for (int g = 0; g < ops.gemms(); ++g)
    for (int jj = 0; jj < ops.n(g); ++jj)
      for (int kt = 0; kt * shape.rows < ops.k(g); ++kt)
        for (int m = 0; m < ops.m(); ++m)
          for (int r = 0; r < shape.rows; ++r) ++captures[static_cast<size_t>(class_at(g, jj, kt, m, r))];
  const int trials = 10;
  for (int t = 0; t < trials; ++t) {
    Rng r(derive_seed(11, static_cast<std::uint64_t>(t), 0, 0));
    for (const Hit& h : inj.draw_hits(ops, p.index, r)) {
      const int c = class_at(h.gemm, h.column, h.k_tile, h.m, h.row);
      ASSERT_EQ(h.mask, std::uint64_t{1} << c) << "mask not from the class's own pattern";
      ++hits[static_cast<size_t>(c)];
    }
  }
  for (int k = 0; k < kOperandClasses; ++k) {
    const double n = captures[static_cast<size_t>(k)] * trials, pk = rate[static_cast<size_t>(k)];
    EXPECT_NEAR(hits[static_cast<size_t>(k)], n * pk, 4 * std::sqrt(n * pk * (1 - pk)) + 1e-9) << "class " << k;
  }
  EXPECT_GT(captures[1] + captures[2], 1000) << "the layer must exercise the low classes too";
}

// One mask sampler (vosa::ErrorMaskSampler): the injector's PointSampler and
// the header-only reader's draws are the same function of the same uniforms,
// and its distribution is the documented one: recorded patterns at their
// frequency, the unrecorded erroneous cycles as independent bits at their
// rates among those cycles, conditioned on non-zero.
TEST(Inject, OneMaskSamplerForInjectorAndReader) {
  ErrorModelPoint pt;
  pt.voltage = 1.0;
  pt.period_ns = 5.0;
  pt.samples = 1000;
  pt.cycles_with_error = 100;
  pt.patterns = {{0b011, 50}};
  // Among the 50 unrecorded erroneous cycles: bit 0 in 30, bit 2 in 20, bit 1 in none.
  pt.bits = {{0, 80, 0.08, 0, 0, 0}, {1, 50, 0.05, 0, 0, 0}, {2, 20, 0.02, 0, 0, 0}};
  const PointSampler sampler(pt, 8);
  Rng a(11), b(11);
  const ErrorMaskSampler masks = pt.mask_sampler();
  int pattern = 0, bit0 = 0, bit2 = 0, rest = 0;
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t m = sampler.sample_mask(a);
    ASSERT_EQ(m, masks.draw([&b] { return b.uniform(); }));
    ASSERT_NE(m, 0u);
    if (m == 0b011) {
      ++pattern;
      continue;
    }
    ASSERT_EQ(m & 0b010, 0u) << m;  // bit 1 fails only inside the recorded pattern
    ++rest;
    bit0 += m & 1;
    bit2 += (m >> 2) & 1;
  }
  EXPECT_NEAR(pattern / double(n), 0.5, 0.01);
  const double nonzero = 1 - 0.4 * 0.6;  // P(some of bits 0 (0.6), 2 (0.4) fails)
  EXPECT_NEAR(bit0 / double(rest), 0.6 / nonzero, 0.015);
  EXPECT_NEAR(bit2 / double(rest), 0.4 / nonzero, 0.015);
}

// PE positions (docs/errmodel.md): a model with one point per band of rows;
// every capture errs at the rate of its row's band, with that band's masks
// (the pattern of band b sets bit b), in the injector and its PointSampler.
TEST(Inject, RowBandsGiveEachRowItsOwnRateAndMasks) {
  std::mt19937_64 rng(7);
  auto model = one_layer_model(tflite::OpType::kConv2D, 10, 10, 8, 8, 1, rng);
  const engine::Engine engine(model);
  const engine::PreparedOp& p = engine.ops().at(0);
  const auto x = random_input(*model, rng);
  const ArrayShape shape = small_array(8, 8);
  const std::vector<std::pair<int, int>> bands = {{0, 1}, {2, 5}, {6, 7}};
  const std::vector<double> rate = {0.0, 0.01, 0.05};
  std::vector<std::tuple<int, int, double, int>> band_list;  // band b errs in bit b
  for (std::size_t b = 0; b < bands.size(); ++b) band_list.emplace_back(bands[b].first, bands[b].second, rate[b], int(b));
  const Injector inj(row_band_model(shape.acc_bits, band_list), shape, uniform_settings({1.0}));
  const PointSampler& sampler = *inj.default_plan().island.at(0);
  EXPECT_DOUBLE_EQ(sampler.p_max(), 0.05);
  EXPECT_TRUE(sampler.thins());
  CaptureOperands o;
  o.row = 3;
  EXPECT_DOUBLE_EQ(sampler.accept(o), 0.2);
  const LayerOperands ops(*model, p, reinterpret_cast<const int8_t*>(x.data()), shape.cols);
  std::vector<double> hits(bands.size(), 0);
  double captures_per_row = 0;
  for (int g = 0; g < ops.gemms(); ++g)
    for (int kt = 0; kt * shape.rows < ops.k(g); ++kt) captures_per_row += double(ops.n(g)) * ops.m();
  const int trials = 10;
  for (int t = 0; t < trials; ++t) {
    Rng r(derive_seed(3, static_cast<std::uint64_t>(t), 0, 0));
    for (const Hit& h : inj.draw_hits(ops, p.index, r)) {
      const std::size_t b = h.row < 2 ? 0 : h.row < 6 ? 1 : 2;
      ASSERT_EQ(h.mask, std::uint64_t{1} << b) << "row " << h.row << ": mask not from its band's pattern";
      ++hits[b];
    }
  }
  for (std::size_t b = 0; b < bands.size(); ++b) {
    const double n = captures_per_row * (bands[b].second - bands[b].first + 1) * trials;
    EXPECT_NEAR(hits[b], n * rate[b], 4 * std::sqrt(n * rate[b] * (1 - rate[b])) + 1e-9) << "band " << b;
  }
  // A row no band covers is refused, naming the row.
  band_list.erase(band_list.begin());
  try {
    const Injector bad(row_band_model(shape.acc_bits, band_list), shape, uniform_settings({1.0}));
    ADD_FAILURE() << "rows 0-1 have no band";
  } catch (const InjectError& e) {
    EXPECT_NE(std::string(e.what()).find("PE row 0"), std::string::npos) << e.what();
  }
}

// Carry-save arrays (ArrayShape::carry_save): hits are pair masks, the sum
// word's flips in bits 0..acc_bits-1 and the carry word's above. The
// injector's column chain equals a per-capture simulation of the sum and
// carry words written out bit by bit here (full adders, the carry out of the
// MSB dropped), with Razor protecting the same bits of both words; and the
// injector draws its pair masks from the model's joint patterns
// (tests/dnn/configs/errmodel_fixture_csave.json: some erring cycles have
// only the carry word wrong).
TEST(Inject, CarrySavePairsMatchPerCaptureSimulation) {
  std::mt19937_64 rng(11);
  const OneLayer layer(tflite::OpType::kConv2D, 6, 5, 3, 7, 1, rng);
  const auto& [model, engine, x, p, input] = layer;
  const std::vector<int32_t> clean = engine::reference_accumulators(*model, p, input);
  ArrayShape shape = small_array(4, 3);
  shape.carry_save = true;
  const int W = shape.acc_bits;
  const std::uint64_t word = (std::uint64_t{1} << W) - 1;
  const LayerOperands ops(*model, p, input, shape.cols);
  RazorSetting none, correct, drop;
  correct.mask = drop.mask = std::uint64_t{3} << (W - 2);
  drop.policy = RazorPolicy::Drop;
  for (const RazorSetting& razor : {none, correct, drop}) {
    std::vector<Hit> hits = random_hits(ops, shape, rng, 150);
    for (Hit& h : hits)
      if (rng() % 2) h.mask = ((h.mask << W) | (rng() % 2 ? h.mask : 0)) & ((word << W) | word);  // carry word too
    std::vector<int32_t> fast = clean;
    apply_hits(ops, shape, razor, hits, fast);
    const std::vector<int32_t> slow = slow_faulty_accumulators(*model, p, input, shape, razor, hits);
    ASSERT_EQ(fast, slow) << "razor mask " << razor.mask << " policy " << to_string(razor.policy);
    EXPECT_NE(fast, clean);
  }
  // Pair masks from the joint patterns: the fixture's 0.9 V point has 480
  // cycles with either word wrong, 80 of them with only the carry word wrong.
  const std::string fixture = std::string(VOSA_SOURCE_DIR) + "/tests/dnn/configs/errmodel_fixture_csave.json";
  ArrayShape big = small_array(8, 8);
  big.carry_save = true;
  Settings settings = uniform_settings({0.9});
  settings.errmodel = fixture;
  const Injector injector(ErrorModel::load(fixture), big, settings);
  const PointSampler& sampler = *injector.default_plan().island.at(0);
  EXPECT_NEAR(sampler.p_max(), 0.048, 1e-12);
  const std::uint64_t big_word = (std::uint64_t{1} << big.acc_bits) - 1;
  Rng draws(5);
  int carry_only = 0, carry_any = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t mask = sampler.sample_mask(draws);
    ASSERT_NE(mask, 0u);
    carry_only += (mask & big_word) == 0;
    carry_any += (mask >> big.acc_bits) != 0;
  }
  EXPECT_NEAR(carry_only / static_cast<double>(n), 80.0 / 480, 0.01);
  EXPECT_NEAR(carry_any / static_cast<double>(n), 110.0 / 480, 0.01);
  // A carry-propagate config and this model (or the other way round) are refused.
  ArrayShape plain = small_array(8, 8);
  EXPECT_THROW(Injector(ErrorModel::load(fixture), plain, settings), InjectError);
}

// TE-Drop of every failing bit, thinned (Injector::corrupt_dropped), walked
// by class (DropWalk::kByClass: the activation changes sorted once per
// reduction index, each operand class's captures walked at its own rate) and
// by candidates (DropWalk::kCandidates: at the largest class rate, thinned by
// class): on a conv and an FC layer whose captures fall in every operand
// class (small weights, activations from a few values so that many changes
// are 0), with class rates 2-20x apart, each class's drops over 400 seeds
// and the sum of their dropped products match the expectation summed over
// every capture (5 sigma), for both walks; and one corrupt() equals the
// column semantics (apply_hits) of the drops the same stream draws.
TEST(InjectThinned, TeDropWalkByClassDrawsEachClassAtItsRate) {
  std::mt19937_64 rng(11);
  const std::array<double, kOperandClasses> class_rate = {0.05, 0.1, 0.25, 0.5, 1.0};
  const double rate = 0.02;
  const ErrorModel em = synthetic_class_model(small_array(8, 8).acc_bits, {rate}, class_rate);
  struct Case {
    tflite::OpType type;
    int h, w, c, out_c;
  };
  for (const Case& cs : {Case{tflite::OpType::kConv2D, 12, 12, 12, 10}, Case{tflite::OpType::kFullyConnected, 2, 3, 30, 40}}) {
    auto model = one_layer_model(cs.type, cs.h, cs.w, cs.c, cs.out_c, 1, rng);
    // Small weights (zeros included), so that |w| reaches every class cap
    // (FC: change = |a|, so wider).
    const int w_max = cs.type == tflite::OpType::kFullyConnected ? 48 : 16;
    std::uniform_int_distribution<int> small(-w_max, w_max);
    for (auto& b : model->tensors[1].data) b = static_cast<uint8_t>(static_cast<int8_t>(small(rng)));
    const engine::Engine engine(model);
    const engine::PreparedOp& p = engine.ops().at(0);
    const int8_t values[] = {-128, -120, -100, -60, 0, 0, 0, 5, 40, 127};
    std::vector<int8_t> x(model->input().num_elements());
    std::uniform_int_distribution<int> pick(0, 9);
    for (auto& v : x) v = values[pick(rng)];
    const ArrayShape shape = small_array(8, 8);
    const LayerOperands ops(*model, p, x.data(), shape.cols);
    // Expected drops and dropped products per class, over every capture of a non-zero weight.
    std::array<double, kOperandClasses> expect{}, expect_sum{}, var_sum{}, present{};
    for (int j = 0; j < ops.n(0); ++j)
      for (int kk = 0; kk < ops.k(0); ++kk) {
        const int w = ops.b(0, kk, j);
        if (!w) continue;
        for (int m = 0; m < ops.m(); ++m) {
          const auto [a, prev] = ops.a_and_previous(0, m, kk, j);
          const int c = operand_class(prev, a, w);
          const double pc = rate * class_rate[static_cast<std::size_t>(c)], prod = double(a) * w;
          expect[c] += pc;
          expect_sum[c] += pc * prod;
          var_sum[c] += pc * (1 - pc) * prod * prod;
          present[c] += 1;
        }
      }
    for (int c = 0; c < kOperandClasses; ++c) ASSERT_GT(present[c], 100) << "class " << c << " has too few captures";
    Injector inj(em, shape, uniform_settings({1.0}, RazorSpec{8, {}, RazorPolicy::Drop}));
    inj.set_mode(InjectionMode::kThinned);
    ASSERT_TRUE(inj.drops_only_everywhere());
    const int seeds = 400;
    for (const DropWalk walk : {DropWalk::kByClass, DropWalk::kCandidates}) {
      inj.set_drop_walk(walk);
      const char* name = walk == DropWalk::kByClass ? "by class" : "candidates";
      std::array<double, kOperandClasses> count{}, sum{};
      for (int s = 0; s < seeds; ++s) {
        Rng r(derive_seed(5, static_cast<std::uint64_t>(s), 0, 0));
        for (const Hit& h : inj.draw_drops(ops, p.index, r)) {
          const int kk = h.k_tile * shape.rows + h.row;
          const int w = kk < ops.k(h.gemm) ? ops.b(h.gemm, kk, h.column) : 0;
          if (!w) continue;  // the candidate walk draws zero weights' drops too: they change nothing
          const auto [a, prev] = ops.a_and_previous(h.gemm, h.m, kk, h.column);
          ASSERT_EQ(h.cls, operand_class(prev, a, w)) << name;
          count[h.cls] += 1;
          sum[h.cls] += double(a) * w;
        }
      }
      for (int c = 0; c < kOperandClasses; ++c) {
        const double e = seeds * expect[c], es = seeds * expect_sum[c], sd = std::sqrt(seeds * var_sum[c]);
        std::printf("%s, %s, class %d: drops %.0f expected %.1f, products %.0f expected %.0f +- %.0f\n",
                    tflite::to_string(cs.type), name, c, count[c], e, sum[c], es, sd);
        EXPECT_NEAR(count[c], e, 5 * std::sqrt(e) + 1) << name << " class " << c;
        EXPECT_NEAR(sum[c], es, 5 * sd + 1) << name << " class " << c;
      }
      // corrupt() applies exactly the drops its stream draws (products from the sort).
      std::vector<int32_t> acc = engine::reference_accumulators(*model, p, x.data()), replay = acc;
      Rng r1(99), r2(99);
      const LayerStats st = inj.corrupt(*model, p, x.data(), acc, r1);
      const LayerStats ref = apply_hits(ops, shape, inj.default_plan().razor,
                                        inj.draw_drops(ops, p.index, r2), replay);
      EXPECT_EQ(acc, replay) << name;
      EXPECT_EQ(st.corrupted_outputs, ref.corrupted_outputs) << name;
      EXPECT_GT(ref.corrupted_outputs, 0u) << name;
    }
  }
}

namespace {

// Hit rates per value class (docs/errmodel.md "Hit rate per value class"):
// one point, no operand classes, every error flips bit 0 only (a flip of bit
// 0 never moves a value to another value class), and small negative correct
// values err `neg_rate`, every other class `rate`. The file's cycles are 1 %
// small negatives, so its marginal rate is close to `rate`.
nlohmann::json value_rate_model_json(int acc_bits, double rate, double neg_rate) {
  nlohmann::json j = synthetic_model_json(acc_bits, {{1.0, 0.0}});
  j["schema_version"] = 4;
  const std::uint64_t samples[kValueClasses] = {600000, 290000, 10000, 100000};
  nlohmann::json by = nlohmann::json::array();
  std::uint64_t total = 0, errors = 0;
  for (int v = 0; v < kValueClasses; ++v) {
    const auto e = static_cast<std::uint64_t>(std::llround((v == 2 ? neg_rate : rate) * samples[v]));
    by.push_back({{"class", v},
                  {"samples", samples[v]},
                  {"cycles_with_error", e},
                  {"bits", {{{"bit", 0}, {"p_error", 1.0}, {"errors", e}, {"ci95", {1.0, 1.0}}}}},
                  {"error_patterns", {{{"mask", 1}, {"count", e}}}}});
    total += samples[v];
    errors += e;
  }
  nlohmann::json& pt = j["points"][0];
  pt["samples"] = total;
  pt["cycles_with_error"] = errors;
  pt["bits"] = {{{"bit", 0}, {"p_error", double(errors) / total}, {"errors", errors}, {"ci95", {0, 1}}}};
  pt["error_patterns"] = {{{"mask", 1}, {"count", errors}}};
  pt["value_classes"] = {{"scheme", kValueClassScheme}, {"low_bit", acc_bits - kValueClassTopBits}, {"by_class", by}};
  return j;
}

}  // namespace

// The exact injector draws candidates at the largest value class's rate and
// keeps each with its correct value's class's rate over it: the hits of a
// layer are sum over its captures of p(value class of the capture's correct
// partial sum), which neither the file's marginal rate nor the upper rate
// (the thinning dropped) gives. The DPI source draws the same way
// (ArrayErrorSource; tests/dnn value-class fixture).
TEST(InjectValueRates, ExactInjectionThinsByTheCorrectValuesClass) {
  std::mt19937_64 rng(41);
  const OneLayer layer(tflite::OpType::kConv2D, 8, 8, 16, 16, 1, rng);
  const auto& [model, engine, x, p, input] = layer;
  const ArrayShape shape = small_array(8, 8);
  const double rate = 0.004, neg_rate = 0.04;
  const ErrorModel em = ErrorModel::from_json(value_rate_model_json(shape.acc_bits, rate, neg_rate), "value rates");
  const ErrorModelPoint& pt = em.points[0];
  ASSERT_TRUE(pt.has_value_rates());
  EXPECT_NEAR(pt.p_any_error(-1, 2), neg_rate, 1e-3);  // 10,000 cycles: the prior's pull is small
  EXPECT_NEAR(pt.p_any_error_upper(-1), pt.p_any_error(-1, 2), 1e-15);
  Injector inj(em, shape, uniform_settings({1.0}));
  const PointSampler& sampler = *inj.default_plan().island[0];
  ASSERT_TRUE(sampler.value_rates());
  EXPECT_DOUBLE_EQ(sampler.p_max_by_value(), pt.p_any_error(-1, 2));
  EXPECT_NEAR(sampler.p_max(), pt.p_any_error(), 1e-15);  // the sampled and thinned paths' rate

  // The expected hits from the clean partial sums (bit-0 errors move no sum
  // to another value class), and the two rates a broken thinning would give.
  const LayerOperands ops(*model, p, input, shape);
  const std::uint64_t acc_mask = (std::uint64_t{1} << shape.acc_bits) - 1;
  double expected = 0, variance = 0, captures = 0, neg_small = 0;
  std::vector<std::int64_t> prod(static_cast<std::size_t>(shape.rows));
  for (int g = 0; g < ops.gemms(); ++g)
    for (int j = 0; j < ops.n(g); ++j)
      for (int kt = 0; kt * shape.rows < ops.k(g); ++kt)
        for (int m = 0; m < ops.vectors(g); ++m) {
          ops.chain_products(g, m, j, kt * shape.rows, shape.rows, prod.data());
          std::uint64_t s = 0;
          for (int r = 0; r < shape.rows; ++r) {
            s = (s + static_cast<std::uint64_t>(prod[static_cast<std::size_t>(r)])) & acc_mask;
            const int vc = pt.value_class_of(-1, s, shape.acc_bits);
            const double q = pt.p_any_error(-1, vc);
            expected += q;
            variance += q * (1 - q);
            captures += 1;
            neg_small += vc == 2;
          }
        }
  ASSERT_EQ(captures, static_cast<double>(layer_captures(p.geometry, shape)));
  std::printf("value rates: %.0f captures, %.1f %% small negative; expected hits %.1f per run, marginal %.1f, "
              "upper %.1f\n", captures, 100 * neg_small / captures, expected, pt.p_any_error() * captures,
              sampler.p_max_by_value() * captures);
  const int runs = 20;
  const double sd = std::sqrt(runs * variance);
  ASSERT_GT(std::abs(runs * (expected - pt.p_any_error() * captures)), 10 * sd) << "the test would not see "
                                                                                    "the thinning by value class";
  ASSERT_GT(runs * (sampler.p_max_by_value() * captures - expected), 10 * sd);
  for (InjectionMode mode : {InjectionMode::kExact, InjectionMode::kThinned}) {
    inj.set_mode(mode);
    double hits = 0;
    for (int s = 0; s < runs; ++s) {
      std::vector<int32_t> acc = engine::reference_accumulators(*model, p, input);
      Rng r(derive_seed(7, static_cast<std::uint64_t>(s), 0, 0));
      hits += static_cast<double>(inj.corrupt(*model, p, input, acc, r).hits);
    }
    EXPECT_NEAR(hits, runs * expected, 5 * sd) << to_string(mode);
  }
  // The candidates (Hit::by_value) cannot be applied without the thinning.
  Rng r(3);
  const std::vector<Hit> candidates = inj.draw_hits(ops, p.index, r);
  ASSERT_FALSE(candidates.empty());
  EXPECT_TRUE(candidates.front().by_value);
  std::vector<int32_t> acc = engine::reference_accumulators(*model, p, input);
  EXPECT_THROW(apply_hits(ops, shape, RazorSetting{}, candidates, acc), InjectError);
  // With Razor the walk draws the marginal rate (no candidate to thin).
  Injector with_razor(em, shape, uniform_settings({1.0}, RazorSpec{1, {}, RazorPolicy::Correct}));
  Rng rr(3);
  for (const Hit& h : with_razor.draw_hits(ops, p.index, rr)) ASSERT_FALSE(h.by_value);
}

// The reader: samples per value class must add up to their point's (or
// operand class's) and cover every class; a file without them keeps the
// operand class's rate for every value.
TEST(InjectValueRates, ReaderChecksTheSamplesAndOlderFilesKeepOneRate) {
  const int acc_bits = 19;
  nlohmann::json bad_sum = value_rate_model_json(acc_bits, 0.004, 0.04);
  bad_sum["points"][0]["value_classes"]["by_class"][1]["samples"] = 1;
  EXPECT_THROW(ErrorModel::from_json(bad_sum, "m.json"), ErrorModelError);
  nlohmann::json partial = value_rate_model_json(acc_bits, 0.004, 0.04);
  partial["points"][0]["value_classes"]["by_class"][3].erase("samples");
  EXPECT_THROW(ErrorModel::from_json(partial, "m.json"), ErrorModelError);
  nlohmann::json too_many = value_rate_model_json(acc_bits, 0.004, 0.04);
  too_many["points"][0]["value_classes"]["by_class"][2]["cycles_with_error"] = 10001;
  too_many["points"][0]["cycles_with_error"] = too_many["points"][0]["cycles_with_error"].get<std::uint64_t>() + 10001 - 400;
  try {
    ErrorModel::from_json(too_many, "m.json");
    FAIL();
  } catch (const ErrorModelError& e) {
    EXPECT_NE(std::string(e.what()).find("samples"), std::string::npos) << e.what();
  }
  nlohmann::json old = value_rate_model_json(acc_bits, 0.004, 0.04);
  for (auto& c : old["points"][0]["value_classes"]["by_class"]) c.erase("samples");
  const ErrorModel m = ErrorModel::from_json(old, "old.json");
  EXPECT_FALSE(m.points[0].has_value_rates());
  EXPECT_DOUBLE_EQ(m.points[0].p_any_error(-1, 2), m.points[0].p_any_error());
  EXPECT_FALSE(PointSampler(m.points[0], acc_bits).value_rates());
  // The prior: a class seen in 10 cycles with 10 errors reads (10 + 100 p) / 110, not 1.
  nlohmann::json thin = value_rate_model_json(acc_bits, 0.004, 0.04);
  auto& c0 = thin["points"][0]["value_classes"]["by_class"][3];
  const std::uint64_t e3 = c0["cycles_with_error"].get<std::uint64_t>();
  thin["points"][0]["value_classes"]["by_class"][0]["samples"] =
      thin["points"][0]["value_classes"]["by_class"][0]["samples"].get<std::uint64_t>() + 100000 - 10;
  c0["samples"] = 10;
  c0["cycles_with_error"] = 10;
  c0["bits"][0]["errors"] = 10;
  c0["error_patterns"][0]["count"] = 10;
  auto& pt = thin["points"][0];
  pt["cycles_with_error"] = pt["cycles_with_error"].get<std::uint64_t>() - e3 + 10;
  const ErrorModel t = ErrorModel::from_json(thin, "thin.json");
  const double p = t.points[0].p_any_error();
  EXPECT_NEAR(t.points[0].p_any_error(-1, 3), (10 + 100 * p) / 110, 1e-12);
}
