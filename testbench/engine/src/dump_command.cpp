#include "vosa/infer_dump.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace vosa::engine {

void dump_tensors(const Engine& engine, const Sample& sample, const std::vector<uint8_t>& input, std::ostream& out) {
  const tflite::Model& m = engine.model();
  Workspace ws;
  engine.run(input, ws);
  for (const PreparedOp& p : engine.ops()) {
    for (int t : p.op->outputs) {
      const tflite::Tensor& tensor = m.tensor(t);
      std::string name = tensor.name;
      std::replace(name.begin(), name.end(), ',', ';');
      out << sample.path << "," << p.index << "," << t << "," << name << ",";
      const std::vector<uint8_t>& v = ws.values[static_cast<size_t>(t)];
      const bool is_signed = tensor.type == tflite::TensorType::kInt8;
      for (size_t i = 0; i < v.size(); ++i)
        out << (i ? " " : "") << (is_signed ? static_cast<int>(static_cast<int8_t>(v[i])) : static_cast<int>(v[i]));
      out << "\n";
    }
  }
}

void add_infer_dump_command(CLI::App& app) {
  struct Options {
    std::string model;
    std::string data;
    size_t limit = 1;
    std::string encoding = "raw";
    std::string resize = "bilinear";
    std::string kernels = "fast";
    std::string arithmetic = "tflite";
    std::string out;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "infer-dump",
      "Run the reference engine on the first N samples of a data set and write every operator's output\n"
      "tensor (file,op,tensor,name,values) to a CSV, to compare another engine layer by layer\n"
      "(scripts/armnn_reference.py --tensors, scripts/compare_tensors.py). See docs/dnn.md.");
  cmd->add_option("-m,--model", opt->model, "model (.tflite, int8)")->required();
  cmd->add_option("-d,--data", opt->data, "data directory")->required();
  cmd->add_option("-n,--limit", opt->limit, "the first N samples (default 1)")->check(CLI::PositiveNumber);
  cmd->add_option("-o,--out", opt->out, "CSV to write")->required();
  cmd->add_option("--input-encoding", opt->encoding,
                  "raw: .bin bytes are the input tensor; pixels: .bin bytes are uint8 pixels "
                  "(minus 128 for an int8 input)")
      ->check(CLI::IsMember({"raw", "pixels"}));
  cmd->add_option("--resize", opt->resize, "JPEG to model size: bilinear (half-pixel centres) or crop (centre)")
      ->check(CLI::IsMember({"bilinear", "crop"}));
  cmd->add_option("--kernels", opt->kernels, "fast (SIMD GEMM) or reference (plain TFLite-style loops)")
      ->check(CLI::IsMember({"fast", "reference"}));
  cmd->add_option("--arithmetic", opt->arithmetic,
                  "tflite: TFLite's reference int8 kernels, bit-exact (default); armnn: Arm NN 20.08 CpuRef's "
                  "float arithmetic (dequantize, compute in float, requantize)")
      ->check(CLI::IsMember({"tflite", "armnn"}));
  cmd->callback([opt]() {
    auto model = std::make_shared<tflite::Model>(tflite::load_tflite(opt->model));
    const Engine engine(model, opt->kernels == "reference" ? Kernels::kReference : Kernels::kFast,
                        opt->arithmetic == "armnn" ? Arithmetic::kArmNN : Arithmetic::kTFLite);
    const Dataset data = load_dataset(opt->data);
    const InputEncoding encoding = opt->encoding == "pixels" ? InputEncoding::kPixels : InputEncoding::kRaw;
    const Resize resize = opt->resize == "crop" ? Resize::kCenterCrop : Resize::kBilinear;
    const size_t n = std::min(opt->limit, data.samples.size());
    const std::string partial = opt->out + ".partial";
    {
      std::ofstream csv(partial);
      if (!csv) throw std::runtime_error("cannot write " + partial);
      for (size_t i = 0; i < n; ++i) {
        const Sample& s = data.samples[i];
        dump_tensors(engine, s, load_input(s, model->input(), encoding, resize), csv);
      }
      csv.close();
      if (!csv) {
        std::filesystem::remove(partial);
        throw std::runtime_error("cannot write " + opt->out);
      }
    }
    std::filesystem::rename(partial, opt->out);
    std::cout << "vosa infer-dump: " << n << " sample(s), " << engine.ops().size() << " operators -> " << opt->out
              << "\n";
  });
}

}  // namespace vosa::engine
