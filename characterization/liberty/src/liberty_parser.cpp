// Liberty tokenizer and recursive-descent parser into the Group tree.
#include "vosa/liberty.hpp"

#include <zlib.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace vosa::liberty {

namespace {

class Parser {
 public:
  Parser(const std::string& text, const std::string& source) : text_(text), source_(source) {}

  Group parse_file() {
    skip_space();
    if (at_end()) fail("empty file: no library group");
    Group root = parse_group_or_attribute_as_group();
    skip_space();
    if (!at_end()) fail("unexpected text after the end of group '" + root.type + "'");
    return root;
  }

 private:
  const std::string& text_;
  const std::string& source_;
  size_t pos_ = 0;
  int line_ = 1;

  [[noreturn]] void fail(const std::string& message, int line = 0) const {
    throw LibertyError(source_ + ":" + std::to_string(line ? line : line_) + ": " + message);
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void advance() {
    if (text_[pos_] == '\n') ++line_;
    ++pos_;
  }

  // Whitespace, comments and backslash line continuations.
  void skip_space() {
    while (!at_end()) {
      const char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        advance();
      } else if (c == '\\' && pos_ + 1 < text_.size() &&
                 (text_[pos_ + 1] == '\n' || text_[pos_ + 1] == '\r')) {
        advance();
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '*') {
        const int start = line_;
        pos_ += 2;
        while (!at_end() && !(text_[pos_] == '*' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/'))
          advance();
        if (at_end()) fail("unterminated comment", start);
        pos_ += 2;
      } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
        while (!at_end() && text_[pos_] != '\n') advance();
      } else {
        break;
      }
    }
  }

  static bool is_word_char(char c) {
    return !(std::isspace(static_cast<unsigned char>(c)) || c == '(' || c == ')' || c == '{' ||
             c == '}' || c == ':' || c == ';' || c == ',' || c == '"' || c == '\0');
  }

  std::string parse_word() {
    const size_t start = pos_;
    while (!at_end() && is_word_char(text_[pos_])) advance();
    if (start == pos_) {
      if (at_end()) fail("unexpected end of file");
      fail(std::string("unexpected character '") + peek() + "'");
    }
    return text_.substr(start, pos_ - start);
  }

  std::string parse_quoted() {
    const int start = line_;
    advance();  // opening quote
    std::string out;
    while (!at_end() && text_[pos_] != '"') {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
        const char next = text_[pos_ + 1];
        if (next == '\n' || next == '\r') {  // continuation inside a string
          advance();
          continue;
        }
        out += next;
        advance();
        advance();
        continue;
      }
      out += text_[pos_];
      advance();
    }
    if (at_end()) fail("unterminated string", start);
    advance();  // closing quote
    return out;
  }

  // One value in an argument list: quoted string or words up to , or ).
  std::string parse_argument() {
    skip_space();
    if (peek() == '"') return parse_quoted();
    std::string out;
    while (!at_end() && peek() != ',' && peek() != ')') {
      if (peek() == '"') {
        out += parse_quoted();
        continue;
      }
      if (peek() == '\\' && pos_ + 1 < text_.size() &&
          (text_[pos_ + 1] == '\n' || text_[pos_ + 1] == '\r'))
        break;
      if (peek() == '\n') break;
      if (peek() == '{' || peek() == '}' || peek() == ';') fail("unterminated argument list");
      out += peek();
      advance();
    }
    while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
    return out;
  }

  // Simple attribute value: a quoted string or the raw text up to ';' or end of line.
  std::string parse_simple_value() {
    while (!at_end() && (peek() == ' ' || peek() == '\t')) advance();
    if (peek() == '"') {
      std::string v = parse_quoted();
      return v;
    }
    std::string out;
    while (!at_end() && peek() != ';' && peek() != '\n' && peek() != '}') {
      if (peek() == '\\' && pos_ + 1 < text_.size() &&
          (text_[pos_ + 1] == '\n' || text_[pos_ + 1] == '\r')) {
        advance();
        advance();
        continue;
      }
      out += peek();
      advance();
    }
    while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
    if (out.empty()) fail("attribute has no value");
    return out;
  }

  void skip_optional_semicolon() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\r')) advance();
    if (peek() == ';') advance();
  }

  // Parses `word (args) { ... }` at top level (the library group).
  Group parse_group_or_attribute_as_group() {
    const int line = line_;
    std::string type = parse_word();
    skip_space();
    if (peek() != '(') fail("expected '(' after '" + type + "'");
    std::vector<std::string> args = parse_arguments();
    skip_space();
    if (peek() != '{') fail("expected '{' to open group '" + type + "'");
    Group g;
    g.type = std::move(type);
    g.names = std::move(args);
    g.line = line;
    parse_group_body(g);
    return g;
  }

  std::vector<std::string> parse_arguments() {
    advance();  // '('
    std::vector<std::string> args;
    skip_space();
    if (peek() == ')') {
      advance();
      return args;
    }
    for (;;) {
      args.push_back(parse_argument());
      skip_space();
      if (peek() == ',') {
        advance();
        continue;
      }
      if (peek() == ')') {
        advance();
        return args;
      }
      fail("expected ',' or ')' in argument list");
    }
  }

  void parse_group_body(Group& g) {
    const int open_line = line_;
    advance();  // '{'
    for (;;) {
      skip_space();
      if (at_end()) fail("group '" + g.type + "' opened here is never closed", open_line);
      if (peek() == '}') {
        advance();
        skip_optional_semicolon();
        return;
      }
      if (peek() == ';') {  // stray semicolons are harmless
        advance();
        continue;
      }
      const int line = line_;
      std::string name = parse_word();
      skip_space();
      if (peek() == ':') {
        advance();
        Attribute a;
        a.name = std::move(name);
        a.values.push_back(parse_simple_value());
        a.line = line;
        skip_optional_semicolon();
        g.attributes.push_back(std::move(a));
      } else if (peek() == '(') {
        std::vector<std::string> args = parse_arguments();
        skip_space();
        if (peek() == '{') {
          Group child;
          child.type = std::move(name);
          child.names = std::move(args);
          child.line = line;
          parse_group_body(child);
          g.groups.push_back(std::move(child));
        } else {
          Attribute a;
          a.name = std::move(name);
          a.values = std::move(args);
          a.is_complex = true;
          a.line = line;
          skip_optional_semicolon();
          g.attributes.push_back(std::move(a));
        }
      } else {
        fail("expected ':' or '(' after '" + name + "'");
      }
    }
  }
};

}  // namespace

Group parse_liberty(const std::string& text, const std::string& source) {
  return Parser(text, source).parse_file();
}

std::string read_maybe_gzipped(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LibertyError(path + ": cannot open file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string raw = buffer.str();
  if (raw.size() < 2 || static_cast<unsigned char>(raw[0]) != 0x1f ||
      static_cast<unsigned char>(raw[1]) != 0x8b)
    return raw;
  // gzip: inflate with zlib (windowBits 15 + 32 = auto-detect gzip header).
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw LibertyError(path + ": zlib init failed");
  zs.next_in = reinterpret_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  std::string out;
  char chunk[1 << 16];
  int rc = Z_OK;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      throw LibertyError(path + ": corrupt gzip data");
    }
    out.append(chunk, sizeof(chunk) - zs.avail_out);
  } while (rc != Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

Group read_liberty_file(const std::string& path) {
  return parse_liberty(read_maybe_gzipped(path), path);
}

// ------------------------------------------------------------- accessors

const std::string& Attribute::value() const {
  static const std::string empty;
  return values.empty() ? empty : values.front();
}

double Attribute::number(const std::string& file) const {
  const std::string& v = value();
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || end == v.c_str() || *end != '\0')
    throw LibertyError((file.empty() ? std::string("liberty") : file) + ":" + std::to_string(line) +
                       ": attribute '" + name + "' is not a number: '" + v + "'");
  return d;
}

const std::string& Group::name() const {
  static const std::string empty;
  return names.empty() ? empty : names.front();
}

const Attribute* Group::find_attribute(const std::string& attr_name) const {
  for (const auto& a : attributes)
    if (a.name == attr_name) return &a;
  return nullptr;
}

std::optional<std::string> Group::attribute_value(const std::string& attr_name) const {
  const Attribute* a = find_attribute(attr_name);
  if (!a) return std::nullopt;
  return a->value();
}

std::vector<const Group*> Group::groups_of_type(const std::string& group_type) const {
  std::vector<const Group*> out;
  for (const auto& g : groups)
    if (g.type == group_type) out.push_back(&g);
  return out;
}

const Group* Group::find_group(const std::string& group_type, const std::string& group_name) const {
  for (const auto& g : groups)
    if (g.type == group_type && g.name() == group_name) return &g;
  return nullptr;
}

}  // namespace vosa::liberty
