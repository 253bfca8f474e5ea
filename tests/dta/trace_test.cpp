// Operand trace format: round trip, validation errors naming file and record.
#include "vosa/operand_trace.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace vosa;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("vosa_trace_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

void expect_error_containing(const std::string& path, const std::string& needle) {
  try {
    read_trace(path);
    FAIL() << "no error for " << path;
  } catch (const TraceError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Trace, RoundTripKeepsHeaderAndRecords) {
  TraceHeader shape;
  shape.pe_row = 3;
  shape.pe_col = 5;
  shape.layer = "random";
  const OperandTrace t = make_uniform_random_trace(shape, 1000, 7);
  const std::string path = temp_path("rt.vtrace");
  write_trace(path, t);
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  const OperandTrace back = read_trace(path);
  EXPECT_EQ(back.header.count, 1000u);
  EXPECT_EQ(back.header.source, "uniform-random seed=7");
  EXPECT_EQ(back.header.pe_row, 3);
  EXPECT_EQ(back.header.layer, "random");
  ASSERT_EQ(back.records.size(), 1000u);
  bool any_negative_psum = false;
  for (size_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(back.records[i].activation, t.records[i].activation);
    EXPECT_EQ(back.records[i].weight, t.records[i].weight);
    EXPECT_EQ(back.records[i].psum_in, t.records[i].psum_in);
    any_negative_psum |= t.records[i].psum_in < 0;
  }
  EXPECT_TRUE(any_negative_psum);
  // File layout: 8 magic + 4 length + header + 16 per record.
  std::ifstream in(path, std::ios::binary);
  char magic[9] = {};
  in.read(magic, 8);
  EXPECT_STREQ(magic, "VOSATRC1");
  std::remove(path.c_str());
}

TEST(Trace, RandomLayerPsumIsTheColumnPrefixSum) {
  TraceHeader shape;
  shape.pe_row = 0;
  const OperandTrace top = make_random_layer_trace(shape, 8, 8, 50, 3);
  for (const auto& r : top.records) EXPECT_EQ(r.psum_in, 0);  // row 0 gets no partial sum
  shape.pe_row = 7;
  const OperandTrace bottom = make_random_layer_trace(shape, 8, 8, 50, 3);
  for (size_t i = 1; i < bottom.records.size(); ++i)  // weight stationary
    EXPECT_EQ(bottom.records[i].weight, bottom.records[0].weight);
  bool nonzero = false;
  for (const auto& r : bottom.records) nonzero |= r.psum_in != 0;
  EXPECT_TRUE(nonzero);
}

// The carry-save column (docs/dta.md "The PE as generated"): the sum and carry
// words the rows above pass down stand for the same partial sum, the carry
// word is a real carry (bit 0 clear, not just psum split at random), and such
// a stream round-trips through a version-2 trace while other streams stay
// version 1 (docs/trace.md).
TEST(Trace, CarrySaveLayerWordsAddUpToThePartialSum) {
  TraceHeader shape;
  shape.pe_row = 7;
  const OperandTrace plain = make_random_layer_trace(shape, 8, 8, 200, 5);
  shape.carry_save = true;
  const OperandTrace csa = make_random_layer_trace(shape, 8, 8, 200, 5);
  ASSERT_EQ(csa.records.size(), plain.records.size());
  int carries = 0;
  for (size_t i = 0; i < csa.records.size(); ++i) {
    const OperandRecord &c = csa.records[i], &p = plain.records[i];
    EXPECT_EQ(c.activation, p.activation);
    EXPECT_EQ(wrap_to_bits(c.psum_in + c.psum_c_in, shape.acc_bits, true), p.psum_in) << "record " << i;
    EXPECT_EQ(c.psum_c_in & 1, 0);
    carries += c.psum_c_in != 0;
  }
  EXPECT_GT(carries, 150);
  const std::string path = temp_path("csa.vtrace");
  write_trace(path, csa);
  const OperandTrace back = read_trace(path);
  EXPECT_TRUE(back.header.carry_save);
  ASSERT_EQ(back.records.size(), csa.records.size());
  for (size_t i = 0; i < csa.records.size(); ++i) {
    EXPECT_EQ(back.records[i].psum_in, csa.records[i].psum_in) << "record " << i;
    EXPECT_EQ(back.records[i].psum_c_in, csa.records[i].psum_c_in) << "record " << i;
  }
  EXPECT_NE(header_to_json(back.header).find("\"version\":2"), std::string::npos);
  // 24-byte records: a file cut by 8 bytes is truncated, not read as shorter records.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 8);
  EXPECT_THROW(read_trace(path), TraceError);
  // A stream without the carry word keeps the version-1 layout.
  const std::string plain_path = temp_path("plain.vtrace");
  write_trace(plain_path, plain);
  const OperandTrace plain_back = read_trace(plain_path);
  EXPECT_FALSE(plain_back.header.carry_save);
  EXPECT_NE(header_to_json(plain_back.header).find("\"version\":1"), std::string::npos);
}

TEST(Trace, WrapToBits) {
  EXPECT_EQ(wrap_to_bits(524288, 20, true), -524288);
  EXPECT_EQ(wrap_to_bits(-1, 20, false), (1 << 20) - 1);
  EXPECT_EQ(wrap_to_bits(-5, 20, true), -5);
}

TEST(Trace, RejectsBadFiles) {
  TraceHeader shape;
  const OperandTrace t = make_uniform_random_trace(shape, 10, 1);
  const std::string path = temp_path("bad.vtrace");
  write_trace(path, t);
  // Truncated: the count no longer matches the length.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  expect_error_containing(path, "count 10");
  // Wrong magic.
  { std::ofstream(path, std::ios::binary) << "NOTATRACE-------"; }
  expect_error_containing(path, "magic");
  // A value wider than declared: an 8-bit trace holding 300.
  {
    OperandTrace wide = t;
    wide.header.act_bits = 16;
    wide.records[4].activation = 300;
    write_trace(path, wide);
    std::string bytes;
    {
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const auto pos = bytes.find("\"act_bits\":16");
    ASSERT_NE(pos, std::string::npos);
    bytes.replace(pos, 13, "\"act_bits\":8 ");
    std::ofstream(path, std::ios::binary) << bytes;
  }
  expect_error_containing(path, "record 4: activation = 300");
  // Writer refuses out-of-range values and leaves no file.
  const std::string path2 = temp_path("never.vtrace");
  {
    OperandTraceWriter w(path2, shape);
    EXPECT_THROW(w.append({128, 0, 0}), TraceError);
  }
  EXPECT_FALSE(std::filesystem::exists(path2));
  EXPECT_FALSE(std::filesystem::exists(path2 + ".partial"));
  std::remove(path.c_str());
  EXPECT_THROW(read_trace("/nonexistent.vtrace"), TraceError);
}
