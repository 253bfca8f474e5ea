// `vosa infer-dump`: every operator's output tensor of the reference engine
// for a few samples, to compare an independent engine layer by layer
// (scripts/armnn_reference.py --tensors writes the same CSV; docs/dnn.md).
#pragma once

#include "vosa/dataset.hpp"
#include "vosa/engine.hpp"

#include <CLI/CLI.hpp>

#include <ostream>

namespace vosa::engine {

// Writes the operator outputs a run left in ws, one line per tensor in
// execution order:
//   file,op,tensor,name,values   (values space-separated integers; commas in
//                                  tensor names become ';')
void dump_tensors(const tflite::Model& model, const Sample& sample, const Workspace& ws, std::ostream& out);

void add_infer_dump_command(CLI::App& app);

}  // namespace vosa::engine
