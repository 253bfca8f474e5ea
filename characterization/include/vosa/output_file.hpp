// How every command puts a finished output file in place: written whole to a
// temporary file beside it, then renamed over the target, so that a failed or
// interrupted run leaves the old file (or none), never half of one.
// Header-only.
#pragma once

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include <unistd.h>

namespace vosa {

// Moves the finished `tmp` onto `target`. A target that is a device or a pipe
// (/dev/null, /dev/stdout, a FIFO) is written in place instead: renaming over
// it would replace the device itself (run as root, /dev/null becomes a file).
inline void move_output_into_place(const std::filesystem::path& tmp, const std::filesystem::path& target) {
  std::error_code ec;
  const auto st = std::filesystem::status(target, ec);
  if (std::filesystem::exists(st) && !std::filesystem::is_regular_file(st) && !std::filesystem::is_directory(st)) {
    {
      std::ifstream in(tmp, std::ios::binary);
      std::ofstream out(target, std::ios::binary);
      if (!in || !out || !(out << in.rdbuf()) || !out.flush())
        throw std::runtime_error(target.string() + ": cannot write");
    }
    std::filesystem::remove(tmp, ec);
    return;
  }
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw std::runtime_error(target.string() + ": cannot replace with " + tmp.string() + ": " + ec.message());
  }
}

// Writes `text` to `path` (creating its folder) through a temporary file and
// move_output_into_place. Throws std::runtime_error naming the file.
inline void write_output_file(const std::filesystem::path& path, const std::string& text) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  const std::filesystem::path tmp = path.string() + ".partial." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(tmp.string() + ": cannot create file");
    out << text;
    out.close();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw std::runtime_error(path.string() + ": cannot write file");
    }
  }
  move_output_into_place(tmp, path);
}

}  // namespace vosa
