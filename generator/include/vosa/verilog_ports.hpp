// Reads a module's parameters and ANSI port list back from rendered Verilog,
// so the manifest describes exactly what was emitted.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>

namespace vosa {

// Evaluates an integer expression of literals, parameter names, + - * / and
// parentheses (the subset the templates use in port widths).
long long eval_int_expr(const std::string& expr, const std::map<std::string, long long>& names);

// {"name", "parameters": {NAME: value}, "ports": [{"name", "direction", "width", "range"}]}
nlohmann::json describe_module(const std::string& verilog, const std::string& source_name);

}  // namespace vosa
