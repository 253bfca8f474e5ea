#include "vosa/sdf.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

namespace vosa {

double SdfTriplet::slowest() const {
  if (max) return *max;
  if (typ) return *typ;
  if (min) return *min;
  return 0.0;
}

namespace {

// S-expression node: an atom or a list.
struct Node {
  bool is_list = false;
  std::string atom;
  std::vector<Node> items;
  int line = 0;
  const std::string& head() const {
    static const std::string none;
    return is_list && !items.empty() && !items[0].is_list ? items[0].atom : none;
  }
};

class Reader {
 public:
  Reader(const std::string& text, const std::string& source) : text_(text), source_(source) {}
  Node read_top() {
    skip();
    if (pos_ >= text_.size() || text_[pos_] != '(') fail("expected '(' at start of SDF");
    Node n = read_list();
    skip();
    if (pos_ < text_.size()) fail("text after the end of DELAYFILE");
    return n;
  }

 private:
  const std::string& text_;
  const std::string& source_;
  size_t pos_ = 0;
  int line_ = 1;

  [[noreturn]] void fail(const std::string& why, int line = 0) const {
    throw SdfError(source_ + ":" + std::to_string(line ? line : line_) + ": " + why);
  }
  void skip() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        ++pos_;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else if (text_.compare(pos_, 2, "//") == 0) {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (text_.compare(pos_, 2, "/*") == 0) {
        const size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string::npos) fail("unterminated comment");
        for (size_t i = pos_; i < end; ++i) line_ += text_[i] == '\n';
        pos_ = end + 2;
      } else {
        return;
      }
    }
  }
  Node read_list() {
    Node n;
    n.is_list = true;
    n.line = line_;
    ++pos_;  // (
    for (;;) {
      skip();
      if (pos_ >= text_.size()) fail("unbalanced '(' opened here", n.line);
      const char c = text_[pos_];
      if (c == ')') {
        ++pos_;
        return n;
      }
      if (c == '(') {
        n.items.push_back(read_list());
        continue;
      }
      Node a;
      a.line = line_;
      if (c == '"') {
        const size_t end = text_.find('"', pos_ + 1);
        if (end == std::string::npos) fail("unterminated string");
        a.atom = text_.substr(pos_ + 1, end - pos_ - 1);
        pos_ = end + 1;
      } else {
        // Atom; a backslash escapes the next character (\[ \/ \~ ...).
        while (pos_ < text_.size()) {
          const char d = text_[pos_];
          if (d == '\\' && pos_ + 1 < text_.size()) {
            a.atom += text_[pos_ + 1];
            pos_ += 2;
            continue;
          }
          if (std::isspace(static_cast<unsigned char>(d)) || d == '(' || d == ')') break;
          a.atom += d;
          ++pos_;
        }
      }
      n.items.push_back(std::move(a));
    }
  }
};

class Builder {
 public:
  explicit Builder(Sdf& sdf) : sdf_(sdf) {}

  void build(const Node& top) {
    if (top.head() != "DELAYFILE") fail(top, "not an SDF file (no DELAYFILE)");
    for (size_t i = 1; i < top.items.size(); ++i) {
      const Node& n = top.items[i];
      const std::string& h = n.head();
      if (h == "DESIGN" && n.items.size() > 1) sdf_.design = n.items[1].atom;
      else if (h == "VOLTAGE" && n.items.size() > 1) sdf_.voltage = join_atoms(n);
      else if (h == "TIMESCALE") sdf_.timescale_ns = timescale(n);
      else if (h == "CELL") cell(n);
    }
  }

 private:
  Sdf& sdf_;

  [[noreturn]] void fail(const Node& n, const std::string& why) const {
    throw SdfError(sdf_.path + ":" + std::to_string(n.line) + ": " + why);
  }
  static std::string join_atoms(const Node& n) {
    std::string s;
    for (size_t i = 1; i < n.items.size(); ++i) s += (i > 1 ? " " : "") + n.items[i].atom;
    return s;
  }
  double timescale(const Node& n) const {
    std::string s;
    for (size_t i = 1; i < n.items.size(); ++i) s += n.items[i].atom;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    const std::string unit(end);
    if (end == s.c_str()) fail(n, "bad TIMESCALE '" + s + "'");
    if (unit == "ns") return v;
    if (unit == "ps") return v * 1e-3;
    if (unit == "us") return v * 1e3;
    fail(n, "bad TIMESCALE unit '" + unit + "'");
  }
  std::optional<double> field(const std::string& s, const Node& n) const {
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || *end != '\0') fail(n, "bad delay value '" + s + "'");
    return v * sdf_.timescale_ns;
  }
  // (v) or (min:typ:max) or (); rvalue lists may be nested one level.
  SdfTriplet triplet(const Node& n) const {
    if (!n.is_list) fail(n, "expected a delay triplet in parentheses");
    SdfTriplet t;
    if (n.items.empty()) return t;
    if (n.items.size() != 1 || n.items[0].is_list) fail(n, "malformed delay triplet");
    const std::string& s = n.items[0].atom;
    const size_t c1 = s.find(':');
    if (c1 == std::string::npos) {
      t.min = t.typ = t.max = field(s, n);
      return t;
    }
    const size_t c2 = s.find(':', c1 + 1);
    if (c2 == std::string::npos) fail(n, "malformed delay triplet '" + s + "'");
    t.min = field(s.substr(0, c1), n);
    t.typ = field(s.substr(c1 + 1, c2 - c1 - 1), n);
    t.max = field(s.substr(c2 + 1), n);
    return t;
  }
  // Port spec: NAME or (posedge NAME) or (COND expr (posedge NAME)).
  void port_spec(const Node& n, std::string& pin, std::string& edge, std::string* cond) const {
    if (!n.is_list) {
      pin = n.atom;
      return;
    }
    const std::string& h = n.head();
    if ((h == "posedge" || h == "negedge") && n.items.size() == 2) {
      edge = h;
      pin = n.items[1].atom;
      return;
    }
    if (h == "COND" && n.items.size() >= 3) {
      if (cond) *cond = n.items[1].is_list ? "" : n.items[1].atom;
      port_spec(n.items.back(), pin, edge, nullptr);
      return;
    }
    fail(n, "unsupported port specification");
  }
  void rise_fall(const Node& n, size_t first, SdfTriplet& rise, SdfTriplet& fall) const {
    // One value for both edges, or rise then fall (SDF: 01, 10 transitions).
    if (n.items.size() <= first) fail(n, "delay without values");
    rise = triplet(n.items[first]);
    fall = n.items.size() > first + 1 ? triplet(n.items[first + 1]) : rise;
  }

  void delay_entry(const Node& e, SdfCell& c, const std::string& cond) {
    const std::string& h = e.head();
    if (h == "IOPATH") {
      if (e.items.size() < 4) fail(e, "IOPATH needs input, output and a delay");
      SdfIopath p;
      p.line = e.line;
      p.cond = cond;
      port_spec(e.items[1], p.input_pin, p.input_edge, nullptr);
      p.output_pin = e.items[2].atom;
      rise_fall(e, 3, p.rise, p.fall);
      c.iopaths.push_back(std::move(p));
    } else if (h == "COND") {
      if (e.items.size() < 3) fail(e, "COND without a delay");
      // The condition is every token between COND and the delay, e.g. A2===1'b0 && A3===1'b1.
      std::string expr;
      for (size_t i = 1; i + 1 < e.items.size(); ++i)
        if (!e.items[i].is_list) expr += (expr.empty() ? "" : " ") + e.items[i].atom;
      delay_entry(e.items.back(), c, expr);
    } else if (h == "INTERCONNECT") {
      if (e.items.size() < 4) fail(e, "INTERCONNECT needs two ports and a delay");
      SdfInterconnect ic;
      ic.line = e.line;
      ic.from = e.items[1].atom;
      ic.to = e.items[2].atom;
      rise_fall(e, 3, ic.rise, ic.fall);
      sdf_.interconnects.push_back(std::move(ic));
    }
    // PORT, DEVICE, NETDELAY: not produced by OpenSTA; ignored.
  }

  void cell(const Node& n) {
    SdfCell c;
    c.line = n.line;
    for (size_t i = 1; i < n.items.size(); ++i) {
      const Node& s = n.items[i];
      const std::string& h = s.head();
      if (h == "CELLTYPE") {
        c.cell_type = s.items.size() > 1 ? s.items[1].atom : "";
      } else if (h == "INSTANCE") {
        c.instance = s.items.size() > 1 ? s.items[1].atom : "";
      } else if (h == "DELAY") {
        for (size_t j = 1; j < s.items.size(); ++j) {
          const Node& kind = s.items[j];
          if (kind.head() == "INCREMENT") fail(kind, "INCREMENT delays are not supported");
          for (size_t k = 1; k < kind.items.size(); ++k) delay_entry(kind.items[k], c, "");
        }
      } else if (h == "TIMINGCHECK") {
        for (size_t j = 1; j < s.items.size(); ++j) {
          const Node& e = s.items[j];
          const std::string& t = e.head();
          if ((t == "SETUP" || t == "HOLD") && e.items.size() >= 4) {
            SdfCheck chk;
            chk.type = t;
            chk.line = e.line;
            port_spec(e.items[1], chk.data_pin, chk.data_edge, nullptr);
            port_spec(e.items[2], chk.clock_pin, chk.clock_edge, nullptr);
            chk.value = triplet(e.items[3]);
            c.checks.push_back(std::move(chk));
          }
        }
      }
    }
    sdf_.cells.push_back(std::move(c));
  }
};

}  // namespace

Sdf parse_sdf(const std::string& text, const std::string& source) {
  Sdf sdf;
  sdf.path = source;
  const Node top = Reader(text, source).read_top();
  Builder(sdf).build(top);
  return sdf;
}

Sdf read_sdf(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw SdfError(path + ": cannot open SDF file");
  std::ostringstream s;
  s << in.rdbuf();
  return parse_sdf(s.str(), path);
}

}  // namespace vosa
