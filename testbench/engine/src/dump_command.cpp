#include "vosa/infer_dump.hpp"

#include "vosa/infer.hpp"
#include "vosa/output_file.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>

namespace vosa::engine {
namespace {

std::vector<int> as_integers(const std::vector<uint8_t>& v, const tflite::Tensor& t) {
  std::vector<int> out(v.size());
  const bool is_signed = t.type == tflite::TensorType::kInt8;
  for (size_t i = 0; i < v.size(); ++i) out[i] = is_signed ? static_cast<int8_t>(v[i]) : v[i];
  return out;
}

// Operator types named on the command line (TFLite's names, e.g. CONV_2D).
std::set<tflite::OpType> parse_op_types(const std::string& list) {
  static const tflite::OpType kAll[] = {tflite::OpType::kConv2D,   tflite::OpType::kDepthwiseConv2D,
                                        tflite::OpType::kFullyConnected, tflite::OpType::kAdd,
                                        tflite::OpType::kAveragePool2D,  tflite::OpType::kMean,
                                        tflite::OpType::kReshape,        tflite::OpType::kSoftmax,
                                        tflite::OpType::kQuantize};
  std::set<tflite::OpType> types;
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name == "all") {
      types.insert(std::begin(kAll), std::end(kAll));
      continue;
    }
    const auto* it = std::find_if(std::begin(kAll), std::end(kAll),
                                  [&](tflite::OpType t) { return name == tflite::to_string(t); });
    if (it == std::end(kAll)) {
      std::string known;
      for (tflite::OpType t : kAll) known += std::string(known.empty() ? "" : ", ") + tflite::to_string(t);
      throw std::runtime_error("--armnn-ops: unknown operator '" + name + "' (known: all, " + known + ")");
    }
    types.insert(*it);
  }
  return types;
}

// Per operator: values of its output that TFLite's arithmetic computes
// differently from Arm NN's when both get Arm NN's inputs.
struct IsolatedDifference {
  size_t values = 0, differing = 0;
  int largest = 0;
};

}  // namespace

void dump_tensors(const tflite::Model& m, const Sample& sample, const Workspace& ws, std::ostream& out) {
  for (const tflite::Operator& op : m.operators) {
    const size_t index = static_cast<size_t>(&op - m.operators.data());
    for (int t : op.outputs) {
      const tflite::Tensor& tensor = m.tensor(t);
      std::string name = tensor.name;
      std::replace(name.begin(), name.end(), ',', ';');
      out << sample.path << "," << index << "," << t << "," << name << ",";
      const std::vector<int> v = as_integers(ws.values[static_cast<size_t>(t)], tensor);
      for (size_t i = 0; i < v.size(); ++i) out << (i ? " " : "") << v[i];
      out << "\n";
    }
  }
}

void add_infer_dump_command(CLI::App& app) {
  struct Options {
    std::string model;
    std::string data;
    size_t limit = 1;
    EngineInputOptions input;
    std::string arithmetic = "tflite";
    std::string armnn_ops;
    bool isolate = false;
    std::string out;
    std::string outputs_csv;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "infer-dump",
      "Run the reference engine on the first N samples of a data set, print top-1, and write every\n"
      "operator's output tensor (file,op,tensor,name,values) to a CSV, to compare another engine layer by\n"
      "layer (scripts/armnn_reference.py --tensors, scripts/compare_tensors.py). --isolate counts, per\n"
      "operator, the values TFLite's and Arm NN's arithmetic compute differently from the same inputs.\n"
      "See docs/dnn.md.");
  cmd->add_option("-m,--model", opt->model, "model (.tflite, int8)")->required();
  cmd->add_option("-d,--data", opt->data, "data directory")->required();
  cmd->add_option("-n,--limit", opt->limit, "the first N samples (default 1; 0 = all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-o,--out", opt->out, "CSV of every operator's output tensor for every sample");
  cmd->add_option("--outputs", opt->outputs_csv,
                  "CSV of every sample's output tensor: file,label,prediction,values (as vosa infer --outputs)");
  add_engine_input_options(cmd, opt->input);
  cmd->add_option("--arithmetic", opt->arithmetic,
                  "tflite: the TFLite runtime's int8 arithmetic, bit-exact (default); tflite-reference: TFLite's "
                  "reference kernels (double rounding); armnn: Arm NN 20.08 CpuRef's float arithmetic (dequantize, "
                  "compute in float, requantize)")
      ->check(CLI::IsMember({"tflite", "tflite-reference", "armnn"}));
  cmd->add_option("--armnn-ops", opt->armnn_ops,
                  "run these operator types (comma-separated TFLite names, e.g. CONV_2D,ADD, or all) with Arm NN's "
                  "arithmetic, the rest with --arithmetic tflite or tflite-reference");
  cmd->add_flag("--isolate", opt->isolate,
                "per operator: run Arm NN's arithmetic through the network and count the output values TFLite's "
                "arithmetic computes differently from the same (Arm NN's) inputs");
  cmd->callback([opt]() {
    auto model = std::make_shared<tflite::Model>(tflite::load_tflite(opt->model));
    const Kernels kernels = opt->input.kernel_path();
    // The integer arithmetic (TFLite's) that --armnn-ops and --isolate compare with.
    const Arithmetic chosen = parse_arithmetic(opt->arithmetic);
    if (chosen == Arithmetic::kArmNN && !opt->armnn_ops.empty())
      throw std::runtime_error("--armnn-ops: give --arithmetic tflite or tflite-reference for the other operators");
    const Engine tflite_engine(model, kernels, chosen == Arithmetic::kArmNN ? Arithmetic::kTFLite : chosen);
    const Engine armnn_engine(model, kernels, Arithmetic::kArmNN);
    const std::set<tflite::OpType> armnn_ops =
        opt->arithmetic == "armnn" ? parse_op_types("all") : parse_op_types(opt->armnn_ops);
    const Dataset data = load_dataset(opt->data);
    const InputEncoding encoding = opt->input.input_encoding(model->input(), data);
    const Resize resize = opt->input.resize_mode();
    const size_t n = opt->limit ? std::min(opt->limit, data.samples.size()) : data.samples.size();
    const std::string partial = opt->out + ".partial", outputs_partial = opt->outputs_csv + ".partial";
    std::ofstream csv, outputs_csv;
    if (!opt->out.empty()) {
      csv.open(partial);
      if (!csv) throw std::runtime_error("cannot write " + partial);
    }
    if (!opt->outputs_csv.empty()) {
      outputs_csv.open(outputs_partial);
      if (!outputs_csv) throw std::runtime_error("cannot write " + outputs_partial);
    }
    const tflite::Tensor& output = model->output();
    std::vector<IsolatedDifference> isolated(model->operators.size());
    size_t top1 = 0;
    Workspace ws, trial;
    for (size_t s = 0; s < n; ++s) {
      const Sample& sample = data.samples[s];
      const std::vector<uint8_t> input = load_input(sample, model->input(), encoding, resize);
      (opt->isolate ? armnn_engine : tflite_engine).begin(input, ws);
      for (size_t i = 0; i < model->operators.size(); ++i) {
        const bool armnn = opt->isolate || armnn_ops.count(model->operators[i].type) > 0;
        (armnn ? armnn_engine : tflite_engine).run_operator(i, ws);
        if (!opt->isolate) continue;
        trial.values = ws.values;  // this operator again from the same inputs, TFLite's way
        tflite_engine.run_operator(i, trial);
        const int t = model->operators[i].outputs[0];
        const tflite::Tensor& tensor = model->tensor(t);
        const std::vector<int> a = as_integers(ws.values[static_cast<size_t>(t)], tensor);
        const std::vector<int> b = as_integers(trial.values[static_cast<size_t>(t)], tensor);
        IsolatedDifference& d = isolated[i];
        d.values += a.size();
        for (size_t k = 0; k < a.size(); ++k) {
          if (a[k] == b[k]) continue;
          ++d.differing;
          d.largest = std::max(d.largest, std::abs(a[k] - b[k]));
        }
      }
      const std::vector<int> ranks =
          ranked_classes(ws.values[static_cast<size_t>(model->outputs[0])], output.type == tflite::TensorType::kInt8);
      top1 += ranks.at(0) == sample.label;
      if (csv.is_open()) dump_tensors(*model, sample, ws, csv);
      if (outputs_csv.is_open()) {
        outputs_csv << sample.path << "," << sample.label << "," << ranks[0] << ",";
        const std::vector<int> y = as_integers(ws.values[static_cast<size_t>(model->outputs[0])], output);
        for (size_t k = 0; k < y.size(); ++k) outputs_csv << (k ? " " : "") << y[k];
        outputs_csv << "\n";
      }
    }
    auto finish = [](std::ofstream& f, const std::string& partial_path, const std::string& path) {
      if (!f.is_open()) return;
      f.close();
      if (!f) {
        std::filesystem::remove(partial_path);
        throw std::runtime_error("cannot write " + path);
      }
      move_output_into_place(partial_path, path);
    };
    finish(csv, partial, opt->out);
    finish(outputs_csv, outputs_partial, opt->outputs_csv);
    std::string mode = opt->isolate || opt->arithmetic == "armnn" ? "armnn"
                       : armnn_ops.empty()                        ? opt->arithmetic
                                                                  : opt->arithmetic + " with Arm NN " + opt->armnn_ops;
    char line[256];
    std::snprintf(line, sizeof line, "vosa infer-dump: %s arithmetic: top-1 %.1f %% (%zu/%zu)", mode.c_str(),
                  100.0 * static_cast<double>(top1) / static_cast<double>(n), top1, n);
    std::cout << line << (opt->out.empty() ? "" : ", tensors -> " + opt->out) << "\n";
    if (opt->isolate) {
      std::cout << "per operator, from Arm NN's inputs: output values where TFLite's arithmetic differs from Arm "
                   "NN's\n";
      for (size_t i = 0; i < isolated.size(); ++i) {
        const IsolatedDifference& d = isolated[i];
        std::snprintf(line, sizeof line, "  op %3zu %-18s %8zu / %9zu  (%.3f %%)  max %d", i,
                      tflite::to_string(model->operators[i].type), d.differing, d.values,
                      100.0 * static_cast<double>(d.differing) / static_cast<double>(std::max<size_t>(1, d.values)),
                      d.largest);
        std::cout << line << "\n";
      }
    }
  });
}

}  // namespace vosa::engine
