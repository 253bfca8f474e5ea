// Template rendering and emission of a generated design.
#pragma once

#include "vosa/config.hpp"

#include <map>
#include <string>
#include <vector>

namespace vosa {

extern const char* const kGeneratorVersion;

// Replaces every {{NAME}} (upper-case identifier) in `text` by vars[NAME].
// A placeholder without a value is an error naming the template.
std::string render_template(const std::string& text, const std::map<std::string, std::string>& vars,
                            const std::string& template_name);

// The rtl_templates/ files compiled into the binary, by file name.
const std::map<std::string, std::string>& embedded_templates();

struct GeneratedFile {
  std::string path;  // relative to the output directory
  std::string content;
};

// Everything `vosa generate` writes: rtl/*.v (one module per file),
// manifest.json, constraints.sdc and include/vosa_params.h.
std::vector<GeneratedFile> generate_design(const ArrayConfig& config);

// Writes the files into a sibling staging directory and renames it onto
// out_dir only when every file is written, so a failure leaves no partial
// output (an existing out_dir is replaced).
void write_files_atomically(const std::vector<GeneratedFile>& files, const std::string& out_dir);

}  // namespace vosa
