// vosa/output_file.hpp: how every command puts its output in place.
#include "vosa/output_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / (name + "." + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST(OutputFile, ReplacesARegularFileWholeAndLeavesNoTemporary) {
  const fs::path d = fresh_dir("vosa_output_file_regular");
  std::ofstream(d / "out.json") << "old";
  vosa::write_output_file(d / "out.json", "new\n");
  EXPECT_EQ(read(d / "out.json"), "new\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(d), fs::directory_iterator()), 1);
  fs::remove_all(d);
}

// Renaming over a pipe or device would replace it (as root, /dev/null itself):
// it must stay what it is and receive the text.
TEST(OutputFile, WritesIntoAPipeInsteadOfReplacingIt) {
  const fs::path d = fresh_dir("vosa_output_file_fifo");
  const fs::path fifo = d / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // A reader that never blocks: the pipe's buffer holds the short text, and a
  // writer that renamed instead leaves it empty (and the test fails, not hangs).
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  vosa::write_output_file(fifo, "through the pipe\n");
  char buf[64] = {};
  const ssize_t n = ::read(reader, buf, sizeof buf - 1);
  ::close(reader);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0), "through the pipe\n");
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_EQ(std::distance(fs::directory_iterator(d), fs::directory_iterator()), 1);
  fs::remove_all(d);
}

TEST(OutputFile, AFailedWriteKeepsTheOldFile) {
  const fs::path d = fresh_dir("vosa_output_file_fail");
  std::ofstream(d / "out.json") << "old";
  // The target's folder exists but the temporary cannot be created beside a
  // path whose parent is a regular file.
  EXPECT_THROW(vosa::write_output_file(d / "out.json" / "inner.json", "new"), std::exception);
  EXPECT_EQ(read(d / "out.json"), "old");
  fs::remove_all(d);
}
