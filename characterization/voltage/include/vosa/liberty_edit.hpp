// Text edits of a liberty file: the voltage model and `vosa charlib` write a
// new corner by copying a shipped corner's text and replacing its numbers, so
// every attribute they do not touch stays exactly as the PDK wrote it.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vosa::voltage {

std::string format_number(double v);  // %.7g
// `values ("r0c0, r0c1", "r1c0, ...");`. 1-D tables are held as a column (one
// value per index_1 entry) and, with one_dimensional, written as one row.
std::string format_values(std::vector<std::vector<double>> rows, bool one_dimensional = false);

// Replace the `keyword ...;` statement (values, value, capacitance, ...) that
// follows line `line` (1-based) of the text, before its group closes.
struct Edit {
  int line = 0;
  std::string keyword;
  std::string replacement;
};
// Edits sorted by line; errors name `source` and the line.
std::string apply_edits(const std::string& text, std::vector<Edit> edits, const std::string& source);

// Library-level settings (before the first cell): nom_voltage, operating
// condition voltage and voltage_map entries at base_v become new_v; with
// `temperature` (base, new), nom_temperature and operating-condition
// temperatures become the new one; base_name (the corner) becomes new_name.
std::string retarget_header(const std::string& text, double base_v, double new_v, const std::string& base_name,
                            const std::string& new_name, std::optional<std::pair<double, double>> temperature);

}  // namespace vosa::voltage
