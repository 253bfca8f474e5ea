// Liberty boolean function expressions (pin `function`, ff `next_state`, ...).
#include "vosa/liberty.hpp"

#include <algorithm>
#include <cctype>

namespace vosa::liberty {

class BoolExprParser {
 public:
  explicit BoolExprParser(const std::string& text) : text_(text) {}

  BoolExpr parse() {
    BoolExpr e = parse_or();
    skip();
    if (pos_ != text_.size()) fail("unexpected '" + std::string(1, text_[pos_]) + "'");
    return e;
  }

 private:
  const std::string& text_;
  size_t pos_ = 0;

  [[noreturn]] void fail(const std::string& why) const {
    throw LibertyError("bad function expression \"" + text_ + "\" at column " +
                       std::to_string(pos_ + 1) + ": " + why);
  }
  void skip() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  static bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '[' || c == ']' ||
           c == '.' || c == '$';
  }
  static BoolExpr make(BoolExpr::Op op, std::vector<BoolExpr> operands) {
    BoolExpr e;
    e.op_ = op;
    e.operands_ = std::move(operands);
    return e;
  }

  BoolExpr parse_or() {
    BoolExpr left = parse_and();
    for (;;) {
      skip();
      if (pos_ < text_.size() && (text_[pos_] == '|' || text_[pos_] == '+')) {
        ++pos_;
        left = make(BoolExpr::Op::kOr, {left, parse_and()});
      } else {
        return left;
      }
    }
  }
  // AND: explicit & or *, or juxtaposition of two factors.
  BoolExpr parse_and() {
    BoolExpr left = parse_xor();
    for (;;) {
      skip();
      if (pos_ >= text_.size()) return left;
      const char c = text_[pos_];
      if (c == '&' || c == '*') {
        ++pos_;
        left = make(BoolExpr::Op::kAnd, {left, parse_xor()});
      } else if (c == '!' || c == '(' || is_name_char(c)) {
        left = make(BoolExpr::Op::kAnd, {left, parse_xor()});
      } else {
        return left;
      }
    }
  }
  BoolExpr parse_xor() {
    BoolExpr left = parse_unary();
    for (;;) {
      skip();
      if (pos_ < text_.size() && text_[pos_] == '^') {
        ++pos_;
        left = make(BoolExpr::Op::kXor, {left, parse_unary()});
      } else {
        return left;
      }
    }
  }
  BoolExpr parse_unary() {
    skip();
    if (pos_ >= text_.size()) fail("expression ends early");
    BoolExpr e;
    const char c = text_[pos_];
    if (c == '!') {
      ++pos_;
      e = make(BoolExpr::Op::kNot, {parse_unary()});
    } else if (c == '(') {
      ++pos_;
      e = parse_or();
      skip();
      if (pos_ >= text_.size() || text_[pos_] != ')') fail("missing ')'");
      ++pos_;
    } else if (is_name_char(c)) {
      const size_t start = pos_;
      while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
      const std::string word = text_.substr(start, pos_ - start);
      if (word == "0" || word == "1") {
        e.op_ = BoolExpr::Op::kConst;
        e.constant_ = word == "1";
      } else {
        e.op_ = BoolExpr::Op::kVar;
        e.name_ = word;
      }
    } else {
      fail("unexpected '" + std::string(1, c) + "'");
    }
    // Postfix complement, possibly repeated: A''
    for (;;) {
      skip();
      if (pos_ < text_.size() && text_[pos_] == '\'') {
        ++pos_;
        e = make(BoolExpr::Op::kNot, {e});
      } else {
        return e;
      }
    }
  }
};

BoolExpr BoolExpr::parse(const std::string& text) {
  return BoolExprParser(text).parse();
}


std::vector<std::string> BoolExpr::variables() const {
  std::vector<std::string> out;
  std::vector<const BoolExpr*> stack{this};
  // Depth-first, left to right, so the order is the order of appearance.
  while (!stack.empty()) {
    const BoolExpr* e = stack.back();
    stack.pop_back();
    if (e->op_ == Op::kVar && std::find(out.begin(), out.end(), e->name_) == out.end())
      out.push_back(e->name_);
    for (auto it = e->operands_.rbegin(); it != e->operands_.rend(); ++it) stack.push_back(&*it);
  }
  return out;
}

bool BoolExpr::evaluate(const std::vector<std::string>& order, std::uint64_t values) const {
  switch (op_) {
    case Op::kConst:
      return constant_;
    case Op::kVar: {
      for (size_t i = 0; i < order.size(); ++i)
        if (order[i] == name_) return (values >> i) & 1U;
      throw LibertyError("function variable '" + name_ + "' is not an input of the cell");
    }
    case Op::kNot:
      return !operands_[0].evaluate(order, values);
    case Op::kAnd:
      return operands_[0].evaluate(order, values) && operands_[1].evaluate(order, values);
    case Op::kOr:
      return operands_[0].evaluate(order, values) || operands_[1].evaluate(order, values);
    case Op::kXor:
      return operands_[0].evaluate(order, values) != operands_[1].evaluate(order, values);
  }
  return false;
}

std::uint64_t BoolExpr::truth_table(const std::vector<std::string>& order) const {
  if (order.size() > 6)
    throw LibertyError("function \"" + to_string() + "\" has more than 6 inputs");
  std::uint64_t table = 0;
  const std::uint64_t rows = std::uint64_t{1} << order.size();
  for (std::uint64_t k = 0; k < rows; ++k)
    if (evaluate(order, k)) table |= std::uint64_t{1} << k;
  return table;
}

std::string BoolExpr::to_string() const {
  switch (op_) {
    case Op::kConst:
      return constant_ ? "1" : "0";
    case Op::kVar:
      return name_;
    case Op::kNot:
      return "!" + operands_[0].to_string();
    case Op::kAnd:
      return "(" + operands_[0].to_string() + "&" + operands_[1].to_string() + ")";
    case Op::kOr:
      return "(" + operands_[0].to_string() + "|" + operands_[1].to_string() + ")";
    case Op::kXor:
      return "(" + operands_[0].to_string() + "^" + operands_[1].to_string() + ")";
  }
  return "";
}

}  // namespace vosa::liberty
