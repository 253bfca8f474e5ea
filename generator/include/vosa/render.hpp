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

struct WriteResult {
  enum Outcome { kCreated, kUnchanged, kReplaced } outcome = kCreated;
  std::string previous_config_hash;  // of the replaced output (kReplaced)
};

// Writes the files into a sibling staging directory and renames it onto
// out_dir only when every file is written, so a failure leaves no partial
// output. An existing out_dir is replaced only when it is empty or an earlier
// vosa output (every file listed in its manifest.json); any other content is
// refused with an error naming it, and nothing is written or deleted.
WriteResult write_files_atomically(const std::vector<GeneratedFile>& files, const std::string& out_dir);

}  // namespace vosa
