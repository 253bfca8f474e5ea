#include "vosa/netlist.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

namespace vosa {

std::string NetlistPort::bit_name(int i) const {
  if (!is_vector) return name;
  const int index = msb >= lsb ? lsb + i : lsb - i;
  return name + "[" + std::to_string(index) + "]";
}

int Netlist::find_net(const std::string& name) const {
  const auto it = net_index.find(name);
  return it == net_index.end() ? -1 : it->second;
}

const NetlistPort* Netlist::find_port(const std::string& name) const {
  for (const auto& p : ports)
    if (p.name == name) return &p;
  return nullptr;
}

const NetlistInstance* Netlist::find_instance(const std::string& name) const {
  const auto it = instance_index.find(name);
  return it == instance_index.end() ? nullptr : &instances[it->second];
}

namespace {

struct Token {
  std::string text;
  int line = 0;
  bool is_name = false;  // identifier (plain or escaped) or number
};

class Lexer {
 public:
  Lexer(const std::string& text, const std::string& source) : text_(text), source_(source) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    while (true) {
      skip();
      if (pos_ >= text_.size()) return out;
      const char c = text_[pos_];
      Token t;
      t.line = line_;
      if (c == '\\') {  // escaped identifier: up to whitespace
        const size_t start = ++pos_;
        while (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
        t.text = text_.substr(start, pos_ - start);
        t.is_name = true;
      } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '\'') {
        const size_t start = pos_;
        while (pos_ < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' ||
                text_[pos_] == '$' || text_[pos_] == '\''))
          ++pos_;
        t.text = text_.substr(start, pos_ - start);
        t.is_name = true;
      } else {
        t.text = std::string(1, c);
        ++pos_;
      }
      out.push_back(std::move(t));
    }
  }

 private:
  const std::string& text_;
  const std::string& source_;
  size_t pos_ = 0;
  int line_ = 1;

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
        if (end == std::string::npos)
          throw NetlistError(source_ + ":" + std::to_string(line_) + ": unterminated comment");
        for (size_t i = pos_; i < end; ++i) line_ += text_[i] == '\n';
        pos_ = end + 2;
      } else if (c == '(' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '*') {
        const size_t end = text_.find("*)", pos_ + 2);  // attributes
        if (end == std::string::npos)
          throw NetlistError(source_ + ":" + std::to_string(line_) + ": unterminated attribute");
        for (size_t i = pos_; i < end; ++i) line_ += text_[i] == '\n';
        pos_ = end + 2;
      } else {
        return;
      }
    }
  }
};

class Parser {
 public:
  Parser(std::vector<Token> tokens, Netlist& nl) : t_(std::move(tokens)), nl_(nl) {}

  void run() {
    expect_word("module");
    nl_.module = name("module name");
    if (peek("(")) {  // port list: names only; directions come from declarations
      next();
      while (!peek(")")) {
        name("port name");
        if (peek(",")) next();
      }
      next();
    }
    expect(";");
    while (!peek_word("endmodule")) {
      if (at_end()) fail("missing 'endmodule'");
      const Token& kw = cur();
      if (kw.text == "input" || kw.text == "output" || kw.text == "inout" || kw.text == "wire") {
        declaration();
      } else if (kw.text == "assign") {
        assignment();
      } else if (kw.is_name) {
        instance();
      } else {
        fail("unexpected '" + kw.text + "'");
      }
    }
    next();
    if (!at_end()) fail("only one module per netlist file is supported (found more after 'endmodule')");
  }

 private:
  std::vector<Token> t_;
  Netlist& nl_;
  size_t i_ = 0;
  std::unordered_map<std::string, std::pair<int, int>> vectors_;  // name -> (msb, lsb)

  bool at_end() const { return i_ >= t_.size(); }
  const Token& cur() const {
    static const Token eof{"<end of file>", 0, false};
    return at_end() ? eof : t_[i_];
  }
  const Token& next() { return t_[i_++]; }
  bool peek(const char* s) const { return !at_end() && t_[i_].text == s && !t_[i_].is_name; }
  bool peek_word(const char* s) const { return !at_end() && t_[i_].text == s && t_[i_].is_name; }
  [[noreturn]] void fail(const std::string& why) const {
    const int line = at_end() ? (t_.empty() ? 1 : t_.back().line) : cur().line;
    throw NetlistError(nl_.path + ":" + std::to_string(line) + ": " + why);
  }
  void expect(const char* s) {
    if (!peek(s)) fail(std::string("expected '") + s + "', found '" + cur().text + "'");
    next();
  }
  void expect_word(const char* s) {
    if (!peek_word(s)) fail(std::string("expected '") + s + "', found '" + cur().text + "'");
    next();
  }
  std::string name(const char* what) {
    if (at_end() || !cur().is_name) fail(std::string("expected ") + what + ", found '" + cur().text + "'");
    return next().text;
  }
  int number() {
    const std::string s = name("number");
    for (char c : s)
      if (!std::isdigit(static_cast<unsigned char>(c))) fail("expected a number, found '" + s + "'");
    return std::stoi(s);
  }

  int add_net(const std::string& n) {
    const auto it = nl_.net_index.find(n);
    if (it != nl_.net_index.end()) return it->second;
    const int id = static_cast<int>(nl_.net_names.size());
    nl_.net_names.push_back(n);
    nl_.net_index.emplace(n, id);
    return id;
  }

  void declaration() {
    const std::string kind = next().text;
    int msb = 0, lsb = 0;
    bool vec = false;
    if (peek("[")) {
      next();
      msb = number();
      expect(":");
      lsb = number();
      expect("]");
      vec = true;
    }
    for (;;) {
      const std::string n = name("declared name");
      if (vec) vectors_[n] = {msb, lsb};
      if (kind == "wire") {
        if (nl_.find_port(n)) {
          // `output foo; wire foo;` re-declares a port: nothing new.
        } else if (vec) {
          for (int b = std::min(msb, lsb); b <= std::max(msb, lsb); ++b)
            add_net(n + "[" + std::to_string(b) + "]");
        } else {
          add_net(n);
        }
      } else {
        NetlistPort p{n, kind, msb, lsb, vec};
        for (int b = 0; b < p.width(); ++b) add_net(p.bit_name(b));
        nl_.ports.push_back(p);
      }
      if (peek(",")) {
        next();
        continue;
      }
      expect(";");
      return;
    }
  }

  // A net reference: name, name[bit], or a 1-bit constant 1'b0 / 1'b1.
  int net_ref() {
    const Token& tok = cur();
    if (!tok.is_name) fail("expected a net, found '" + tok.text + "'");
    std::string n = next().text;
    if (n == "1'b0" || n == "1'h0") return nl_.const0 = add_net("1'b0");
    if (n == "1'b1" || n == "1'h1") return nl_.const1 = add_net("1'b1");
    if (n.find('\'') != std::string::npos)
      fail("constant '" + n + "' is not a single bit (write the netlist after splitnets)");
    if (peek("[")) {
      next();
      const int b = number();
      if (peek(":")) fail("part-select of '" + n + "' (write the netlist after splitnets)");
      expect("]");
      n += "[" + std::to_string(b) + "]";
    }
    const int id = nl_.find_net(n);
    if (id < 0) fail("net '" + n + "' is used but not declared");
    return id;
  }

  // Bits of an assign side, MSB first: a net, a whole vector, or {a, b[3], ...}.
  std::vector<int> bit_list() {
    std::vector<int> bits;
    auto one = [&]() {
      const Token& tok = cur();
      if (tok.is_name && !peek_next("[")) {
        const auto v = vectors_.find(tok.text);
        if (v != vectors_.end()) {  // whole vector
          next();
          const auto [msb, lsb] = v->second;
          for (int b = msb; msb >= lsb ? b >= lsb : b <= lsb; b += msb >= lsb ? -1 : 1)
            bits.push_back(nl_.find_net(tok.text + "[" + std::to_string(b) + "]"));
          return;
        }
      }
      bits.push_back(net_ref());
    };
    if (peek("{")) {
      next();
      for (;;) {
        one();
        if (peek(",")) {
          next();
          continue;
        }
        expect("}");
        return bits;
      }
    }
    one();
    return bits;
  }
  bool peek_next(const char* s) const {
    return i_ + 1 < t_.size() && t_[i_ + 1].text == s && !t_[i_ + 1].is_name;
  }

  void assignment() {
    next();  // assign
    const int line = cur().line;
    const std::vector<int> lhs = bit_list();
    expect("=");
    const std::vector<int> rhs = bit_list();
    expect(";");
    if (lhs.size() != rhs.size())
      throw NetlistError(nl_.path + ":" + std::to_string(line) + ": assign of " +
                         std::to_string(rhs.size()) + " bits to " + std::to_string(lhs.size()) + " bits");
    for (size_t k = 0; k < lhs.size(); ++k) nl_.assigns.emplace_back(lhs[k], rhs[k]);
  }

  void instance() {
    NetlistInstance inst;
    inst.line = cur().line;
    inst.cell_type = next().text;
    if (peek("#")) fail("parameterized instance of '" + inst.cell_type + "' (expected a flat gate netlist)");
    inst.name = name("instance name");
    expect("(");
    while (!peek(")")) {
      if (!peek(".")) fail("instance '" + inst.name + "': only named pin connections are supported");
      next();
      const std::string pin = name("pin name");
      expect("(");
      int net = -1;
      if (!peek(")")) net = net_ref();
      expect(")");
      if (net >= 0) inst.pins.emplace_back(pin, net);
      if (peek(",")) next();
    }
    next();
    expect(";");
    if (nl_.instance_index.count(inst.name)) fail("instance '" + inst.name + "' declared twice");
    nl_.instance_index.emplace(inst.name, nl_.instances.size());
    nl_.instances.push_back(std::move(inst));
  }
};

}  // namespace

Netlist parse_netlist(const std::string& text, const std::string& source) {
  Netlist nl;
  nl.path = source;
  Parser(Lexer(text, source).run(), nl).run();
  return nl;
}

Netlist read_netlist(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw NetlistError(path + ": cannot open netlist");
  std::ostringstream s;
  s << in.rdbuf();
  return parse_netlist(s.str(), path);
}

}  // namespace vosa
