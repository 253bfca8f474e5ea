// SRAM fault model (testbench/sram, docs/sram.md): BER checks, fault-map
// statistics, persistence and monotonicity, the CSV round trip, the weight
// buffer layout and the faulty weights the engine reads.
#include "vosa/neuralfuse.hpp"
#include "vosa/sram.hpp"
#include "vosa/sram_eval.hpp"

#include "data_dir.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include <unistd.h>

namespace vosa::sram {
namespace {

namespace fs = std::filesystem;

// A folder of this test process, removed when it exits.
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("vosa_sram_test_" + std::to_string(::getpid()));
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string temp_path(const std::string& name) {
  static TempDir dir;
  fs::create_directories(dir.path);
  return (dir.path / name).string();
}

BerCurve test_curve() {
  BerCurve c;
  c.path = "test";
  c.source = "test";
  c.nominal_v = 1.0;
  c.voltage = {0.5, 0.6, 0.7, 1.0};
  c.ber = {0.1, 1e-2, 1e-4, 0.0};
  check_ber_curve(c);
  return c;
}

TEST(SramBer, OutsideZeroOneIsANamedError) {
  for (double b : {-0.01, 1.01, std::numeric_limits<double>::quiet_NaN()}) {
    try {
      check_ber(b, "--bers");
      FAIL() << b;
    } catch (const SramError& e) {
      EXPECT_NE(std::string(e.what()).find("--bers: bit-error rate"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("outside [0, 1]"), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(check_ber(0.0, "x"));
  EXPECT_NO_THROW(check_ber(1.0, "x"));
  EXPECT_THROW(generate_fault_map({16, 8}, 1, 1.5), SramError);
}

TEST(SramBer, CurveInterpolatesLogLinearlyAndInverts) {
  const BerCurve c = test_curve();
  EXPECT_DOUBLE_EQ(c.ber_at(0.4), 0.1);  // constant beyond the ends
  EXPECT_DOUBLE_EQ(c.ber_at(0.6), 1e-2);
  EXPECT_NEAR(c.ber_at(0.55), std::sqrt(0.1 * 1e-2), 1e-12);  // geometric mean half-way
  EXPECT_NEAR(c.ber_at(0.85), 0.5e-4, 1e-12);                 // linear towards zero
  for (double b : {0.05, 3e-3, 2e-4, 1e-5})
    EXPECT_NEAR(c.ber_at(c.voltage_at(b)), b, b * 1e-9) << b;
  BerCurve rising = c;
  rising.ber = {0.1, 1e-2, 2e-2, 0};
  EXPECT_THROW(check_ber_curve(rising), SramError);
  BerCurve above_one = c;
  above_one.ber[0] = 2;
  EXPECT_THROW(check_ber_curve(above_one), SramError);
}

TEST(SramBer, CurveFileErrorsNameTheFile) {
  const std::string path = temp_path("bad_curve.json");
  std::ofstream(path) << R"({"schema": "vosa-sram-ber", "source": "x", "nominal_v": 1.0,
                             "points": [{"voltage": 0.5, "ber": 1.5}, {"voltage": 0.6, "ber": 0.1}]})";
  try {
    load_ber_curve(path);
    FAIL();
  } catch (const SramError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": points[0].ber"), std::string::npos) << e.what();
  }
}

TEST(SramFaultMap, RateMatchesAndStuckValuesAreEven) {
  const Geometry g{4096, 64};  // 262144 cells
  const FaultMap m = generate_fault_map(g, 7, 0.01);
  const double n = static_cast<double>(g.bits());
  const double expected = n * 0.01, sd = std::sqrt(n * 0.01 * 0.99);
  EXPECT_NEAR(static_cast<double>(m.faults.size()), expected, 5 * sd);
  size_t ones = 0, below = 0;
  std::set<std::pair<std::uint64_t, int>> cells;
  for (const Fault& f : m.faults) {
    ones += f.stuck_one;
    below += f.quantile < 0.001;
    EXPECT_LT(f.quantile, 0.01);
    EXPECT_LT(f.word, g.words);
    cells.insert({f.word, f.bit});
  }
  EXPECT_EQ(cells.size(), m.faults.size());  // each cell at most once
  EXPECT_NEAR(static_cast<double>(ones), expected / 2, 5 * std::sqrt(expected / 4));
  EXPECT_NEAR(static_cast<double>(below), n * 0.001, 5 * std::sqrt(n * 0.001));
}

TEST(SramFaultMap, PersistentPerChipAndMonotoneInVoltage) {
  const BerCurve c = test_curve();
  const FaultMap a = generate_fault_map({1024, 32}, 3, 0.05, &c);
  const FaultMap b = generate_fault_map({1024, 32}, 3, 0.05, &c);
  ASSERT_EQ(a.faults.size(), b.faults.size());
  for (size_t i = 0; i < a.faults.size(); ++i) {
    EXPECT_EQ(a.faults[i].word, b.faults[i].word);
    EXPECT_EQ(a.faults[i].bit, b.faults[i].bit);
    EXPECT_EQ(a.faults[i].quantile, b.faults[i].quantile);
  }
  const FaultMap other = generate_fault_map({1024, 32}, 4, 0.05, &c);
  EXPECT_NE(other.faults.front().word * 32 + other.faults.front().bit,
            a.faults.front().word * 32 + a.faults.front().bit);
  // Lowering the voltage only adds faults.
  std::set<std::pair<std::uint64_t, int>> previous;
  for (double v : {0.9, 0.75, 0.7, 0.65, 0.6, 0.57}) {
    std::set<std::pair<std::uint64_t, int>> now;
    for (const Fault& f : a.at_voltage(v, c)) {
      now.insert({f.word, f.bit});
      EXPECT_GE(f.v_fail, v - 1e-9);  // faulty at v means failing at or above v
    }
    for (const auto& cell : previous) EXPECT_TRUE(now.count(cell)) << v;
    EXPECT_GE(now.size(), previous.size());
    previous = now;
  }
  EXPECT_THROW(a.at_voltage(0.5, c), SramError);  // BER 0.1 > max_ber 0.05
  EXPECT_THROW(a.at_ber(0.06), SramError);
}

// The shipped SPICE curve (make sram-ber): a valid, monotone BER(V) whose
// fault maps only gain cells as the supply falls through 1e-4..1e-2.
TEST(SramBer, ShippedSpiceCurveLoadsAndItsFaultMapsAreMonotone) {
  const BerCurve c = load_ber_curve(std::string(VOSA_SOURCE_DIR) + "/testbench/sram/data/ber_sky130hd_tt_25C.json");
  EXPECT_NE(c.source.find("spice"), std::string::npos);
  EXPECT_EQ(c.ber_at(1.8), 0.0);
  EXPECT_GT(c.ber_at(0.3), 1e-3);
  EXPECT_LT(c.ber_at(0.4), 1e-4);
  const FaultMap map = generate_fault_map({4096, 64}, 11, c.ber_at(0.3), &c);
  size_t previous = 0;
  for (double v : {0.45, 0.4, 0.35, 0.34, 0.33, 0.32, 0.31, 0.3}) {
    const auto now = map.at_voltage(v, c);
    EXPECT_GE(now.size(), previous) << v;
    for (const Fault& f : now) EXPECT_GE(f.v_fail, v - 1e-9);
    previous = now.size();
  }
  EXPECT_GT(previous, 2000u);  // about 2 % of 262,144 cells at 0.30 V
}

TEST(SramFaultMap, CsvRoundTripAndBadFiles) {
  const BerCurve c = test_curve();
  const FaultMap m = generate_fault_map({256, 16}, 11, 0.02, &c);
  const std::string path = temp_path("map.csv");
  write_fault_map(m, path);
  EXPECT_FALSE(fs::exists(path + ".partial"));
  const FaultMap r = read_fault_map(path);
  EXPECT_EQ(r.geometry.words, 256u);
  EXPECT_EQ(r.geometry.width, 16);
  EXPECT_EQ(r.seed, 11u);
  EXPECT_EQ(r.max_ber, 0.02);
  ASSERT_EQ(r.faults.size(), m.faults.size());
  for (size_t i = 0; i < m.faults.size(); ++i) {
    EXPECT_EQ(r.faults[i].quantile, m.faults[i].quantile);
    EXPECT_EQ(r.faults[i].stuck_one, m.faults[i].stuck_one);
  }
  const std::string bad = temp_path("bad.csv");
  std::ofstream(bad) << "# vosa-sram-faultmap 1\n# words=4\n# width=8\n# max_ber=0.1\n"
                        "word,bit,stuck,quantile,v_fail\n1,9,0,0.01,0\n";
  try {
    read_fault_map(bad);
    FAIL();
  } catch (const SramError& e) {
    EXPECT_NE(std::string(e.what()).find(bad + ":6: bit 9"), std::string::npos) << e.what();
  }
  std::ofstream(bad) << "word,bit\n";
  EXPECT_THROW(read_fault_map(bad), SramError);
}

TEST(SramWeights, FaultsLandOnTheMappedWeightBits) {
  const tflite::Model model = tflite::load_tflite(test::data_path(test::kResnet8Model));
  const Geometry g = geometry_for_model(model, 64);
  const WeightLayout layout = weight_layout(model, g);
  ASSERT_FALSE(layout.regions.empty());
  EXPECT_LE(layout.total_bytes(), g.words * 8);
  EXPECT_GT(layout.total_bytes(), (g.words - 1) * 8);
  // One fault per stuck polarity at the first weight byte of the second layer.
  const WeightRegion& r = layout.regions[1];
  const std::uint64_t word = r.offset / 8;
  const int lane = static_cast<int>(r.offset % 8);
  const uint8_t before = model.tensor(r.tensor).data[0];
  std::vector<Fault> faults = {{word, lane * 8 + 0, true, 0, 0}, {word, lane * 8 + 7, false, 0, 0}};
  std::uint64_t flipped = 0;
  const tflite::Model faulty = apply_weight_faults(model, layout, faults, &flipped);
  const uint8_t after = faulty.tensor(r.tensor).data[0];
  EXPECT_EQ(after, static_cast<uint8_t>((before | 0x01) & 0x7f));
  EXPECT_EQ(flipped, static_cast<std::uint64_t>(!(before & 1)) + static_cast<std::uint64_t>((before >> 7) & 1));
  // Nothing else changed.
  size_t changed = 0;
  for (size_t t = 0; t < model.tensors.size(); ++t)
    for (size_t i = 0; i < model.tensors[t].data.size(); ++i) changed += model.tensors[t].data[i] != faulty.tensors[t].data[i];
  EXPECT_EQ(changed, static_cast<size_t>(before != after));
  // A buffer of 16 words: the model wraps, so one cell holds many weights.
  const WeightLayout small = weight_layout(model, {16, 64});
  const tflite::Model wrapped = apply_weight_faults(model, small, {{0, 0, true, 0, 0}}, &flipped);
  size_t touched = 0;
  for (size_t t = 0; t < model.tensors.size(); ++t)
    for (size_t i = 0; i < model.tensors[t].data.size(); ++i) touched += model.tensors[t].data[i] != wrapped.tensors[t].data[i];
  EXPECT_EQ(touched, flipped);
  EXPECT_GT(flipped, 100u);  // 77 kB of weights / 128 B: about 600 weights share cell 0, half of them have bit 0 = 0
  EXPECT_THROW(apply_weight_faults(model, small, {{16, 0, true, 0, 0}}), SramError);
  EXPECT_THROW(weight_layout(model, {16, 12}), SramError);
}

// The weight buffer of a buffered rows x cols array: a word is one tile row.
TEST(SramWeights, ArrayLayoutHoldsEveryWeightOnceInTileRows) {
  const tflite::Model model = tflite::load_tflite(test::data_path(test::kResnet8Model));
  std::vector<std::size_t> ops;
  for (std::size_t i = 0; i < model.operators.size(); ++i)
    if (model.operators[i].type == tflite::OpType::kConv2D || model.operators[i].type == tflite::OpType::kFullyConnected)
      ops.push_back(i);
  const WeightLayout layout = array_weight_layout(model, ops, 8, 8, 1u << 20);
  ASSERT_EQ(layout.regions.size(), ops.size());
  EXPECT_EQ(layout.geometry.width, 64);
  for (const WeightRegion& r : layout.regions) {
    EXPECT_EQ(r.offset % (8 * 8), 0u);  // a layer starts a tile
    std::vector<int> seen(model.tensor(r.tensor).data.size(), 0);
    for (std::int64_t b : r.byte_of)
      if (b >= 0) ++seen.at(static_cast<std::size_t>(b));
    for (int n : seen) ASSERT_EQ(n, 1) << "operator " << r.op;
  }
  // ResNet-8's first conv: K = 3x3x3 = 27, N = 16. Word 0 = tile (k0 0, n0 0)
  // row 0: byte c is B[0][c], filter byte c * 27. Word 3 + 8 = the second
  // reduction tile's row 3: B[11][c]. Word 32 = the second column tile.
  const WeightRegion& first = layout.regions[0];
  EXPECT_EQ(first.byte_of[3], 3 * 27);
  EXPECT_EQ(first.byte_of[(8 + 3) * 8 + 2], 2 * 27 + 11);
  EXPECT_EQ(first.byte_of[(4 * 8) * 8 + 1], (8 + 1) * 27);
  EXPECT_EQ(first.byte_of[(3 * 8 + 3) * 8], -1);  // k = 27: padding of the last reduction tile
  const uint8_t before = model.tensor(first.tensor).data[3 * 27];
  const tflite::Model faulty = apply_weight_faults(model, layout, {{0, 3 * 8 + 6, true, 0, 0}});
  EXPECT_EQ(faulty.tensor(first.tensor).data[3 * 27], static_cast<uint8_t>(before | 0x40));
  // A stuck padding cell changes no weight.
  std::uint64_t flipped = 1;
  apply_weight_faults(model, layout, {{3 * 8 + 3, 0, true, 0, 0}}, &flipped);
  EXPECT_EQ(flipped, 0u);
  // Depthwise layers and a buffer smaller than a tile are named errors.
  const tflite::Model dscnn = tflite::load_tflite(test::data_path(test::kDscnnModel));
  try {
    array_weight_layout(dscnn, {1}, 8, 8, 64);
    FAIL();
  } catch (const SramError& e) {
    EXPECT_NE(std::string(e.what()).find("operator 1 (DEPTHWISE_CONV_2D)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(array_weight_layout(model, ops, 8, 8, 7), SramError);
}

TEST(SramWeights, ReadmemhMasksHoldStuckAtOneThenStuckAtZero) {
  const std::string path = temp_path("masks.hex");
  write_readmemh_masks({4, 16}, {{0, 0, false, 0, 0}, {2, 9, true, 0, 0}, {2, 15, false, 0, 0}}, path);
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  EXPECT_EQ(lines, (std::vector<std::string>{"00000001", "00000000", "02008000", "00000000"}));
  EXPECT_THROW(write_readmemh_masks({4, 16}, {{4, 0, true, 0, 0}}, path), SramError);
}

TEST(SramEval, ZeroBerIsTheCleanModelAndFaultsCostAccuracy) {
  const tflite::Model model = tflite::load_tflite(test::data_path(test::kResnet8Model));
  const engine::Dataset data = engine::load_dataset(test::data_path(test::kResnet8Data));
  const Inputs inputs = load_inputs(model, data, 0, 40, engine::InputEncoding::kPixels, engine::Resize::kBilinear);
  SweepOptions o;
  o.chips = 2;
  o.jobs = 2;
  const SweepResult r = sweep(model, inputs, {{0.0, {}}, {0.02, {}}}, o, nullptr, engine::Kernels::kFast);
  ASSERT_EQ(r.points.size(), 2u);
  for (double t : r.points[0].top1) EXPECT_EQ(t, r.clean_top1);
  EXPECT_EQ(r.points[0].flipped_bits[0], 0u);
  // 2 % of the cells stuck: about 1 % of the weight bits wrong.
  const double bits = 8.0 * static_cast<double>(r.weight_bytes);
  EXPECT_NEAR(static_cast<double>(r.points[1].flipped_bits[0]), 0.01 * bits, 0.002 * bits);
  EXPECT_LT(r.points[1].mean(), r.clean_top1 - 0.1);  // measured: 85 % -> about 20 %
}

TEST(SramActivations, BufferFaultsWrapAndForceStuckBits) {
  std::vector<uint8_t> data(40, 0x0f);  // 40 bytes through a 4 x 32-bit (16-byte) buffer
  const Geometry g{4, 32};
  // word 1, bit 13: byte 1 of word 1 = address 5, bit 5 -> addresses 5, 21, 37
  const std::uint64_t flipped = apply_buffer_faults(data.data(), data.size(), g, {{1, 13, true, 0, 0}});
  EXPECT_EQ(flipped, 3u);
  for (size_t a = 0; a < data.size(); ++a) EXPECT_EQ(data[a], (a % 16 == 5) ? 0x2f : 0x0f) << a;
  EXPECT_EQ(apply_buffer_faults(data.data(), data.size(), g, {{1, 13, true, 0, 0}}), 0u);  // already 1
  EXPECT_THROW(apply_buffer_faults(data.data(), data.size(), g, {{4, 0, true, 0, 0}}), SramError);
  EXPECT_THROW(activation_geometry_for_model(tflite::Model{}, 12), SramError);
}

TEST(SramActivations, ArrayBufferReadsImToColRowsThroughWordAndElement) {
  // A 3-word buffer of a 2-row array: 16 bits per word, element r at bits 8r..8r+7.
  const Geometry g{3, 16};
  // word 1, bit 9: element 1, bit 1, stuck at 1; word 2, bit 7: element 0, bit 7, stuck at 0.
  const ArrayActivationBuffer buffer(g, {{1, 9, true, 0, 0}, {2, 7, false, 0, 0}}, 2);
  std::vector<int8_t> a(5 * 3, -128);  // m 5 x k 3, every element 0x80
  EXPECT_EQ(buffer.read(a, 5, 3), 2u /* rows 1, 4: k = 1 */ + 2u /* rows 2: k = 0, 2 */);
  for (int m = 0; m < 5; ++m)
    for (int k = 0; k < 3; ++k) {
      int8_t want = -128;
      if (m % 3 == 1 && k % 2 == 1) want = static_cast<int8_t>(0x82);
      if (m % 3 == 2 && k % 2 == 0) want = 0;
      EXPECT_EQ(a[static_cast<size_t>(m * 3 + k)], want) << m << "," << k;
    }
  EXPECT_THROW(ArrayActivationBuffer(Geometry{3, 24}, {}, 2), SramError);  // not rows x 8 bits
  EXPECT_THROW(ArrayActivationBuffer(g, {{3, 0, true, 0, 0}}, 2), SramError);  // word outside
}

TEST(SramActivations, ArrayBufferWithoutFaultsIsTheEngineAndWithFaultsIsNot) {
  // DS-CNN: conv, depthwise and FC layers, all recomputed from their lowered GEMMs.
  const tflite::Model model = tflite::load_tflite(test::data_path(test::kDscnnModel));
  const engine::Dataset data = engine::load_dataset(test::data_path(test::kDscnnData));
  const Inputs inputs = load_inputs(model, data, 0, 4, engine::InputEncoding::kRaw, engine::Resize::kBilinear);
  const engine::Engine e(std::make_shared<tflite::Model>(model));
  const auto clean = run_all(e, inputs, 2);
  const Geometry g{16, 64};  // an 8-row array's 16-word activation buffer
  const ActivationFaults none{g, {}, 8, 8};
  EXPECT_EQ(run_all(e, inputs, 2, &none), clean);
  ActivationFaults stuck{g, {}, 8, 8};
  for (std::uint64_t w = 0; w < g.words; ++w) stuck.faults.push_back({w, 6, true, 0, 0});  // bit 6 of element 0
  const auto through_array = run_all(e, inputs, 2, &stuck);
  EXPECT_NE(through_array, clean);
  ActivationFaults nhwc = stuck;  // the same cells as the NHWC buffer: other bits hit
  nhwc.array_rows = nhwc.array_cols = 0;
  EXPECT_NE(run_all(e, inputs, 2, &nhwc), through_array);
}

TEST(SramActivations, EveryCellStuckAtZeroMakesEveryInputLookAlike) {
  const tflite::Model model = tflite::load_tflite(test::data_path(test::kResnet8Model));
  const engine::Dataset data = engine::load_dataset(test::data_path(test::kResnet8Data));
  const Inputs inputs = load_inputs(model, data, 0, 6, engine::InputEncoding::kPixels, engine::Resize::kBilinear);
  const Geometry g = activation_geometry_for_model(model, 64);
  EXPECT_EQ(g.words * 8, 32u * 32u * 16u);  // ResNet-8's largest layer input: 32x32x16 (the image is 32x32x3)
  ActivationFaults all_zero{g, {}};
  for (std::uint64_t w = 0; w < g.words; ++w)
    for (int b = 0; b < 64; ++b) all_zero.faults.push_back({w, b, false, 0, 0});
  const engine::Engine e(std::make_shared<tflite::Model>(model));
  const auto clean = run_all(e, inputs, 2);
  const auto faulty = run_all(e, inputs, 2, &all_zero);
  size_t distinct_clean = 0;
  for (size_t i = 1; i < inputs.tensors.size(); ++i) {
    EXPECT_EQ(faulty[i], faulty[0]);  // every layer sees zeros: the input no longer matters
    distinct_clean += clean[i] != clean[0];
  }
  EXPECT_GT(distinct_clean, 0u);
  // No faults: the engine's own run.
  const ActivationFaults none{g, {}};
  EXPECT_EQ(run_all(e, inputs, 2, &none), clean);
}

TEST(NeuralFuse, TransformIsIdentityAtStartAndClamps) {
  const tflite::Model model = tflite::load_tflite(test::data_path(test::kResnet8Model));
  InputTransform t = InputTransform::identity(model.input(), 4);
  std::vector<uint8_t> x(32 * 32 * 3);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint8_t>(i * 37);
  EXPECT_EQ(t.apply(x), x);
  std::vector<double> p = t.parameters();
  ASSERT_EQ(p.size(), 3u + 3u + 4u * 4u * 3u);
  p[3] = 300;  // bias of channel 0: every channel-0 value clamps to 127
  t.set_parameters(p);
  const std::vector<uint8_t> y = t.apply(x);
  for (size_t i = 0; i < y.size(); ++i) {
    if (i % 3 == 0) EXPECT_EQ(static_cast<int8_t>(y[i]), 127);
    else EXPECT_EQ(y[i], x[i]);
  }
  const std::string path = temp_path("t.json");
  write_transform(t, {{"note", "test"}}, path);
  const InputTransform r = read_transform(path);
  EXPECT_EQ(r.apply(x), y);
  EXPECT_THROW(t.apply(std::vector<uint8_t>(5)), SramError);
}

TEST(NeuralFuse, SpsaTrainingMovesTheParameters) {
  const tflite::Model model = tflite::load_tflite(test::data_path(test::kResnet8Model));
  const engine::Dataset data = engine::load_dataset(test::data_path(test::kResnet8Data));
  const Inputs train = load_inputs(model, data, 0, 16, engine::InputEncoding::kPixels, engine::Resize::kBilinear);
  FuseTrainOptions o;
  o.train_chips = 2;
  o.chips_per_step = 1;
  o.steps = 3;
  o.directions = 2;
  o.batch = 8;
  o.grid = 2;
  o.jobs = 2;
  const InputTransform t = train_transform(model, train, o, engine::Kernels::kFast, 0);
  size_t moved = 0;
  for (double v : t.parameters()) {
    EXPECT_TRUE(std::isfinite(v));
    moved += v != 0;
  }
  EXPECT_EQ(moved, t.parameters().size());  // Adam moves every coordinate by about the step
  o.chips_per_step = 3;
  EXPECT_THROW(train_transform(model, train, o, engine::Kernels::kFast, 0), SramError);
}

}  // namespace
}  // namespace vosa::sram
