#include "vosa/dataset.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <jpeglib.h>

namespace vosa::engine {
namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

int parse_label(const std::string& text, const std::string& file, size_t line) {
  try {
    size_t used = 0;
    const int v = std::stoi(text, &used);
    if (used != text.size() || v < 0) throw std::invalid_argument("bad");
    return v;
  } catch (const std::exception&) {
    throw std::runtime_error(file + ":" + std::to_string(line) + ": label '" + text + "' is not a non-negative integer");
  }
}

struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_jpeg_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

}  // namespace

Dataset load_dataset(const std::string& directory) {
  Dataset ds;
  ds.directory = directory;
  if (!fs::is_directory(directory)) throw std::runtime_error(directory + ": data directory does not exist");
  const fs::path csv = fs::path(directory) / "y_labels.csv";
  const fs::path list = fs::path(directory) / "dataset_1001.txt";
  if (fs::exists(csv)) {
    std::ifstream in(csv);
    if (!in) throw std::runtime_error(csv.string() + ": cannot open");
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (trim(line).empty()) continue;
      std::stringstream ss(line);
      std::string file, classes, label;
      if (!std::getline(ss, file, ',') || !std::getline(ss, classes, ',') || !std::getline(ss, label)) {
        throw std::runtime_error(csv.string() + ":" + std::to_string(n) + ": expected 'file,num_classes,label'");
      }
      ds.samples.push_back({(fs::path(directory) / trim(file)).string(), parse_label(trim(label), csv.string(), n)});
    }
  } else if (fs::exists(list)) {
    ds.images = true;
    std::ifstream in(list);
    if (!in) throw std::runtime_error(list.string() + ": cannot open");
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (trim(line).empty()) continue;
      const auto comma = line.rfind(',');
      if (comma == std::string::npos)
        throw std::runtime_error(list.string() + ":" + std::to_string(n) + ": expected 'path,label'");
      ds.samples.push_back({(fs::path(directory) / trim(line.substr(0, comma))).lexically_normal().string(),
                            parse_label(trim(line.substr(comma + 1)), list.string(), n)});
    }
  } else {
    throw std::runtime_error(directory + ": no label list (expected y_labels.csv or dataset_1001.txt)");
  }
  if (ds.samples.empty()) throw std::runtime_error(directory + ": the label list is empty");
  return ds;
}

const char* to_string(InputEncoding encoding) { return encoding == InputEncoding::kPixels ? "pixels" : "raw"; }

InputEncoding resolve_input_encoding(const std::string& requested, const tflite::Tensor& input,
                                     const Dataset& data) {
  const bool int8_input = input.type == tflite::TensorType::kInt8;
  const bool pixels_possible = !int8_input || input.zero_point0() == -128;
  const std::string where = "model input '" + input.name + "' (" + tflite::shape_string(input.shape) +
                            (int8_input ? " INT8, zero point " + std::to_string(input.zero_point0()) : "") + ")";
  if (requested == "raw") return InputEncoding::kRaw;
  if (requested == "pixels") {
    if (!data.images && !pixels_possible)
      throw std::runtime_error("--input-encoding pixels reads .bin bytes as uint8 pixels and subtracts 128, which is "
                               "the " + where + "'s value of a pixel only at zero point -128: these .bin files must "
                               "hold the int8 tensor (--input-encoding raw)");
    return InputEncoding::kPixels;
  }
  if (requested != "auto") throw std::runtime_error("--input-encoding is auto, raw or pixels, not '" + requested + "'");
  if (data.images || !int8_input) return data.images ? InputEncoding::kPixels : InputEncoding::kRaw;
  const fs::path descriptor = fs::path(data.directory) / "vosa_dataset.json";
  if (fs::exists(descriptor)) {
    std::ifstream in(descriptor);
    std::string value;
    try {
      value = nlohmann::json::parse(in).at("input_encoding").get<std::string>();
    } catch (const std::exception& e) {
      throw std::runtime_error(descriptor.string() + ": expected {\"input_encoding\": \"raw\" or \"pixels\"}: " +
                               e.what());
    }
    if (value != "raw" && value != "pixels")
      throw std::runtime_error(descriptor.string() + ": input_encoding is \"raw\" or \"pixels\", not \"" + value + "\"");
    return resolve_input_encoding(value, input, data);
  }
  if (!pixels_possible) return InputEncoding::kRaw;
  throw std::runtime_error(
      data.directory + " holds .bin files and the " + where + " reads them either as the int8 tensor itself "
      "(--input-encoding raw, e.g. already quantized features) or as uint8 pixels minus 128 (--input-encoding "
      "pixels, e.g. CIFAR-10 images): the two give different answers. Give --input-encoding, or write "
      "{\"input_encoding\": \"pixels\"} (or \"raw\") to " + descriptor.string());
}

std::vector<uint8_t> decode_jpeg_rgb(const std::string& path, int* width, int* height) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error(path + ": cannot open image");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> guard(f, &std::fclose);
  jpeg_decompress_struct cinfo{};
  JpegError err{};
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = on_jpeg_error;
  std::vector<uint8_t> rgb;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    throw std::runtime_error(path + ": JPEG decode error: " + err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, f);
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  // Accurate integer IDCT and fancy upsampling: libjpeg's defaults, named so
  // the decode does not depend on a build's defaults.
  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&cinfo);
  const int w = static_cast<int>(cinfo.output_width), h = static_cast<int>(cinfo.output_height);
  rgb.resize(static_cast<size_t>(w) * h * 3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = rgb.data() + static_cast<size_t>(cinfo.output_scanline) * w * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  *width = w;
  *height = h;
  return rgb;
}

std::vector<uint8_t> resize_rgb(const std::vector<uint8_t>& rgb, int width, int height, int out_w, int out_h,
                                Resize mode) {
  std::vector<uint8_t> out(static_cast<size_t>(out_w) * out_h * 3);
  if (mode == Resize::kCenterCrop) {
    if (out_w > width || out_h > height) throw std::runtime_error("image smaller than the crop");
    const int x0 = (width - out_w) / 2, y0 = (height - out_h) / 2;
    for (int y = 0; y < out_h; ++y)
      std::copy_n(rgb.begin() + ((static_cast<std::ptrdiff_t>(y0 + y) * width + x0) * 3), out_w * 3,
                  out.begin() + static_cast<std::ptrdiff_t>(y) * out_w * 3);
    return out;
  }
  const double sy = static_cast<double>(height) / out_h, sx = static_cast<double>(width) / out_w;
  for (int y = 0; y < out_h; ++y) {
    const double fy = std::max(0.0, (y + 0.5) * sy - 0.5);
    const int y0 = std::min(static_cast<int>(fy), height - 1), y1 = std::min(y0 + 1, height - 1);
    const double wy = fy - y0;
    for (int x = 0; x < out_w; ++x) {
      const double fx = std::max(0.0, (x + 0.5) * sx - 0.5);
      const int x0 = std::min(static_cast<int>(fx), width - 1), x1 = std::min(x0 + 1, width - 1);
      const double wx = fx - x0;
      for (int c = 0; c < 3; ++c) {
        auto px = [&](int yy, int xx) { return static_cast<double>(rgb[(static_cast<size_t>(yy) * width + xx) * 3 + c]); };
        const double v = (1 - wy) * ((1 - wx) * px(y0, x0) + wx * px(y0, x1)) + wy * ((1 - wx) * px(y1, x0) + wx * px(y1, x1));
        out[(static_cast<size_t>(y) * out_w + x) * 3 + c] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
  return out;
}

std::vector<uint8_t> load_input(const Sample& sample, const tflite::Tensor& input, InputEncoding encoding,
                                Resize resize) {
  const bool int8_input = input.type == tflite::TensorType::kInt8;
  const std::string ext = fs::path(sample.path).extension().string();
  std::string lower = ext;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (lower == ".jpg" || lower == ".jpeg") {
    if (input.shape.size() != 4 || input.dim(3) != 3)
      throw std::runtime_error(sample.path + ": JPEG input needs a model with a 1xHxWx3 input, got " +
                               tflite::shape_string(input.shape));
    int w = 0, h = 0;
    const std::vector<uint8_t> rgb = decode_jpeg_rgb(sample.path, &w, &h);
    std::vector<uint8_t> px = (w == input.dim(2) && h == input.dim(1))
                                  ? rgb
                                  : resize_rgb(rgb, w, h, input.dim(2), input.dim(1), resize);
    if (int8_input)
      for (auto& v : px) v = static_cast<uint8_t>(static_cast<int8_t>(static_cast<int>(v) - 128));
    return px;
  }
  std::ifstream in(sample.path, std::ios::binary);
  if (!in) throw std::runtime_error(sample.path + ": cannot open input file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() != input.num_elements()) {
    throw std::runtime_error(sample.path + ": " + std::to_string(bytes.size()) + " bytes, but the model input '" +
                             input.name + "' (" + tflite::shape_string(input.shape) + ") needs " +
                             std::to_string(input.num_elements()));
  }
  if (encoding == InputEncoding::kPixels && int8_input)
    for (auto& v : bytes) v = static_cast<uint8_t>(static_cast<int8_t>(static_cast<int>(v) - 128));
  return bytes;
}

}  // namespace vosa::engine
