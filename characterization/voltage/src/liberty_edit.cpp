#include "vosa/liberty_edit.hpp"
#include "vosa/pdk.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace vosa::voltage {

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", v);
  return buf;
}

// 1-D tables are held as a column (one value per index_1 entry) and written
// back as the single row liberty uses.
std::string format_values(std::vector<std::vector<double>> rows, bool one_dimensional) {
  if (one_dimensional && rows.size() > 1) {
    std::vector<double> flat;
    for (const auto& row : rows) flat.insert(flat.end(), row.begin(), row.end());
    rows = {flat};
  }
  std::string out = "values (";
  for (size_t r = 0; r < rows.size(); ++r) {
    out += (r ? ", \\\n          \"" : "\"");
    for (size_t c = 0; c < rows[r].size(); ++c) out += (c ? ", " : "") + format_number(rows[r][c]);
    out += "\"";
  }
  return out + ");";
}


std::string apply_edits(const std::string& text, std::vector<Edit> edits, const std::string& source) {
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.line < b.line; });
  edits.erase(std::unique(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.line == b.line; }),
              edits.end());
  std::vector<size_t> line_start{0};
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') line_start.push_back(i + 1);
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t copied = 0;
  for (const Edit& e : edits) {
    if (e.line < 1 || static_cast<size_t>(e.line) > line_start.size())
      throw pdk::PdkError(source + ": table line " + std::to_string(e.line) + " out of range");
    const size_t from = line_start[e.line - 1];
    const size_t close_brace = text.find('}', from);
    size_t pos = from;
    // The keyword as a whole word, before the group closes.
    for (;;) {
      pos = text.find(e.keyword, pos);
      if (pos == std::string::npos || pos > close_brace)
        throw pdk::PdkError(source + ":" + std::to_string(e.line) + ": no '" + e.keyword + "' in this group");
      const char before = pos ? text[pos - 1] : ' ';
      const char after = pos + e.keyword.size() < text.size() ? text[pos + e.keyword.size()] : ' ';
      if (!std::isalnum(static_cast<unsigned char>(before)) && before != '_' &&
          !std::isalnum(static_cast<unsigned char>(after)) && after != '_')
        break;
      pos += e.keyword.size();
    }
    const size_t end = text.find(';', pos);
    if (end == std::string::npos || end > close_brace)
      throw pdk::PdkError(source + ":" + std::to_string(e.line) + ": unterminated '" + e.keyword + "'");
    if (pos < copied) continue;  // two pins declared by one group: already rewritten
    out.append(text, copied, pos - copied);
    out += e.replacement;
    copied = end + 1;
  }
  out.append(text, copied, std::string::npos);
  return out;
}

// Library-level voltage settings (before the first cell): nom_voltage,
// operating_conditions voltage, supply voltage_map entries at the base
// voltage; the base corner's name becomes the new corner's.
std::string retarget_header(const std::string& text, double base_v, double new_v, const std::string& base_name,
                            const std::string& new_name, std::optional<std::pair<double, double>> temperature) {
  size_t first_cell = text.find("\n  cell");
  if (first_cell == std::string::npos) first_cell = text.find("cell (");
  if (first_cell == std::string::npos) first_cell = text.size();
  std::string head = text.substr(0, first_cell);
  const std::string tail = text.substr(first_cell);
  std::istringstream in(head);
  std::string line, out;
  const std::string v = format_number(new_v);
  auto near_base = [&](const std::string& s) {
    try {
      return std::abs(std::stod(s) - base_v) < 1e-6;
    } catch (const std::exception&) {
      return false;
    }
  };
  while (std::getline(in, line)) {
    std::string trimmed = line.substr(std::min(line.size(), line.find_first_not_of(" \t")));
    if (temperature && (trimmed.rfind("nom_temperature", 0) == 0 || trimmed.rfind("temperature", 0) == 0)) {
      const size_t colon = line.find(':'), semi = line.find(';');
      if (colon != std::string::npos && semi != std::string::npos)
        line = line.substr(0, colon + 1) + " " + format_number(temperature->second) + line.substr(semi);
    } else if (trimmed.rfind("nom_voltage", 0) == 0 || trimmed.rfind("voltage ", 0) == 0 ||
        trimmed.rfind("voltage:", 0) == 0) {
      const size_t colon = line.find(':'), semi = line.find(';');
      if (colon != std::string::npos && semi != std::string::npos && near_base(line.substr(colon + 1, semi - colon - 1)))
        line = line.substr(0, colon + 1) + " " + v + line.substr(semi);
    } else if (trimmed.rfind("voltage_map", 0) == 0) {
      const size_t comma = line.find(','), close = line.rfind(')');
      if (comma != std::string::npos && close != std::string::npos && near_base(line.substr(comma + 1, close - comma - 1)))
        line = line.substr(0, comma + 1) + " " + v + line.substr(close);
    }
    for (size_t p = line.find(base_name); !base_name.empty() && p != std::string::npos; p = line.find(base_name, p + new_name.size()))
      line.replace(p, base_name.size(), new_name);
    out += line + "\n";
  }
  return out + tail.substr(tail.size() && tail[0] == '\n' ? 1 : 0);
}

}  // namespace vosa::voltage
