#include "vosa/verilog_ports.hpp"

#include <cctype>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace vosa {

namespace {

class ExprParser {
 public:
  ExprParser(const std::string& text, const std::map<std::string, long long>& names)
      : text_(text), names_(names) {}

  long long parse() {
    const long long v = sum();
    skip_space();
    if (pos_ != text_.size()) fail("unexpected '" + text_.substr(pos_) + "'");
    return v;
  }

 private:
  long long sum() {
    long long v = product();
    for (;;) {
      skip_space();
      if (accept('+')) v += product();
      else if (accept('-')) v -= product();
      else return v;
    }
  }
  long long product() {
    long long v = unary();
    for (;;) {
      skip_space();
      if (accept('*')) {
        v *= unary();
      } else if (accept('/')) {
        const long long d = unary();
        if (d == 0) fail("division by zero");
        v /= d;
      } else {
        return v;
      }
    }
  }
  long long unary() {
    skip_space();
    if (accept('-')) return -unary();
    if (accept('(')) {
      const long long v = sum();
      skip_space();
      if (!accept(')')) fail("missing ')'");
      return v;
    }
    if (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      long long v = 0;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_])))
        v = v * 10 + (text_[pos_++] - '0');
      return v;
    }
    std::string name;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
      name += text_[pos_++];
    if (name.empty()) fail("expected a number or a name");
    const auto it = names_.find(name);
    if (it == names_.end()) fail("unknown name '" + name + "'");
    return it->second;
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool accept(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error("cannot evaluate '" + text_ + "': " + why);
  }

  const std::string& text_;
  const std::map<std::string, long long>& names_;
  std::size_t pos_ = 0;
};

}  // namespace

long long eval_int_expr(const std::string& expr, const std::map<std::string, long long>& names) {
  return ExprParser(expr, names).parse();
}

nlohmann::json describe_module(const std::string& verilog, const std::string& source_name) {
  static const std::regex module_re(R"(^\s*module\s+(\w+))");
  static const std::regex param_re(R"(^\s*parameter\s+integer\s+(\w+)\s*=\s*(\d+))");
  static const std::regex port_re(
      R"(^\s*(input|output|inout)\s+wire\s*(\[\s*([^\]:]+?)\s*:\s*([^\]]+?)\s*\])?\s*(\w+))");
  nlohmann::json module = {{"parameters", nlohmann::json::object()},
                           {"ports", nlohmann::json::array()}};
  std::map<std::string, long long> params;
  std::istringstream lines(verilog);
  std::string line;
  std::smatch m;
  int ifdef_depth = 0;  // simulation-only declarations are not part of the interface
  while (std::getline(lines, line)) {
    if (line.find("`ifdef") != std::string::npos || line.find("`ifndef") != std::string::npos) {
      ++ifdef_depth;
      continue;
    }
    if (line.find("`endif") != std::string::npos) {
      --ifdef_depth;
      continue;
    }
    if (ifdef_depth > 0) continue;
    if (!module.contains("name") && std::regex_search(line, m, module_re)) {
      module["name"] = m[1].str();
    } else if (std::regex_search(line, m, param_re)) {
      params[m[1].str()] = std::stoll(m[2].str());
      module["parameters"][m[1].str()] = std::stoll(m[2].str());
    } else if (std::regex_search(line, m, port_re)) {
      long long width = 1;
      std::string range;
      if (m[2].matched) {
        width = eval_int_expr(m[3].str(), params) - eval_int_expr(m[4].str(), params) + 1;
        range = "[" + m[3].str() + ":" + m[4].str() + "]";
      }
      module["ports"].push_back(
          {{"name", m[5].str()}, {"direction", m[1].str()}, {"width", width}, {"range", range}});
    } else if (line.find(");") != std::string::npos && module.contains("name")) {
      break;  // end of the ANSI port list
    }
  }
  if (!module.contains("name")) throw std::runtime_error(source_name + ": no module declaration");
  return module;
}

}  // namespace vosa
