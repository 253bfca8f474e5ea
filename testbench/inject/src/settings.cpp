// The array shape from a generator config, Razor specs, and the settings
// ("schedule") file of docs/inject.md.
#include "vosa/inject.hpp"
#include "vosa/output_file.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

namespace vosa::inject {

ArrayShape ArrayShape::from_config(const ArrayConfig& c, const std::string& source) {
  if (c.dataflow != Dataflow::WeightStationary)
    throw InjectError(source + ": error injection models the weight-stationary array; 'dataflow' is " +
                      to_string(c.dataflow));
  if (c.act_bits != 8 || c.weight_bits != 8 || !c.is_signed)
    throw InjectError(source + ": the int8 engine needs a signed 8 x 8 array (act_bits " +
                      std::to_string(c.act_bits) + ", weight_bits " + std::to_string(c.weight_bits) +
                      (c.is_signed ? ", signed)" : ", unsigned)"));
  if (c.acc_bits > 62) throw InjectError(source + ": acc_bits " + std::to_string(c.acc_bits) + " above 62");
  ArrayShape s;
  s.rows = c.rows;
  s.cols = c.cols;
  s.acc_bits = c.acc_bits;
  s.is_signed = c.is_signed;
  s.carry_save = c.arithmetic.psum == PsumKind::CarrySave;
  if (s.carry_save && 2 * c.acc_bits > 64)
    throw InjectError(source + ": a carry-save array's error masks cover both words: acc_bits " +
                      std::to_string(c.acc_bits) + " above 32");
  s.island_of_column.assign(static_cast<std::size_t>(c.cols), 0);
  // Razor without islands gets one implicit island in the config too.
  if (!c.islands.groups.empty()) {
    s.islands = static_cast<int>(c.islands.groups.size());
    for (std::size_t i = 0; i < c.islands.groups.size(); ++i)
      for (int col : c.islands.groups[i]) s.island_of_column.at(static_cast<std::size_t>(col)) = static_cast<int>(i);
  }
  if (c.razor.enabled) {
    for (int b : c.razor.bits) s.razor.mask |= std::uint64_t{1} << b;
    s.razor.policy = c.razor.policy;
  }
  s.depthwise_group_rows = c.depthwise.group_rows;
  return s;
}

RazorSetting RazorSpec::resolve(int acc_bits, const std::string& where) const {
  RazorSetting r;
  r.policy = policy;
  if (!bits.empty()) {
    for (int b : bits) {
      if (b < 0 || b >= acc_bits)
        throw InjectError(where + ": Razor bit " + std::to_string(b) + " is outside the " + std::to_string(acc_bits) +
                          "-bit accumulator (0.." + std::to_string(acc_bits - 1) + ")");
      r.mask |= std::uint64_t{1} << b;
    }
    return r;
  }
  if (top_k < 0 || top_k > acc_bits)
    throw InjectError(where + ": Razor top_k " + std::to_string(top_k) + " is outside 0.." + std::to_string(acc_bits));
  for (int b = acc_bits - top_k; b < acc_bits; ++b) r.mask |= std::uint64_t{1} << b;
  return r;
}

namespace {

RazorPolicy parse_policy(const std::string& s, const std::string& where) {
  if (s == "correct") return RazorPolicy::Correct;
  if (s == "drop") return RazorPolicy::Drop;
  throw InjectError(where + ": policy '" + s + "' is not one of correct, drop");
}

std::vector<double> parse_voltages(const nlohmann::json& j, const std::string& where) {
  if (!j.is_array() || j.empty()) throw InjectError(where + ": expected a non-empty list of voltages, got " + j.dump());
  std::vector<double> v;
  for (const auto& x : j) {
    if (!x.is_number() || x.get<double>() <= 0)
      throw InjectError(where + ": voltage " + x.dump() + " is not a positive number");
    v.push_back(x.get<double>());
  }
  return v;
}

RazorSpec parse_razor(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw InjectError(where + ": expected an object {top_k|bits, policy}, got " + j.dump());
  for (const auto& [key, value] : j.items()) {
    (void)value;
    if (key != "top_k" && key != "bits" && key != "policy")
      throw InjectError(where + ": unknown field '" + key + "' (allowed: top_k, bits, policy)");
  }
  if (j.contains("top_k") == j.contains("bits"))
    throw InjectError(where + ": give exactly one of 'top_k' and 'bits'");
  RazorSpec r;
  if (j.contains("top_k")) {
    if (!j.at("top_k").is_number_integer() || j.at("top_k").get<int>() < 0)
      throw InjectError(where + ".top_k: expected an integer >= 0, got " + j.at("top_k").dump());
    r.top_k = j.at("top_k").get<int>();
  } else {
    if (!j.at("bits").is_array()) throw InjectError(where + ".bits: expected a list of bit indices");
    for (const auto& b : j.at("bits")) {
      if (!b.is_number_integer() || b.get<int>() < 0)
        throw InjectError(where + ".bits: " + b.dump() + " is not a bit index");
      r.bits.push_back(b.get<int>());
    }
    if (r.bits.empty()) throw InjectError(where + ".bits: empty (use \"top_k\": 0 for no Razor)");
  }
  if (j.contains("policy")) {
    if (!j.at("policy").is_string()) throw InjectError(where + ".policy: expected \"correct\" or \"drop\"");
    r.policy = parse_policy(j.at("policy").get<std::string>(), where + ".policy");
  }
  return r;
}

nlohmann::json razor_json(const RazorSpec& r) {
  nlohmann::json j;
  if (r.bits.empty())
    j["top_k"] = r.top_k;
  else
    j["bits"] = r.bits;
  j["policy"] = to_string(r.policy);
  return j;
}

}  // namespace

Settings settings_from_json(const nlohmann::json& doc, const std::string& source) {
  if (!doc.is_object()) throw InjectError(source + ": expected a JSON object");
  for (const auto& [key, value] : doc.items()) {
    (void)value;
    static const std::set<std::string> known = {"errmodel", "period_ns", "voltages", "razor", "layers", "comment"};
    if (!known.count(key))
      throw InjectError(source + ": unknown field '" + key +
                        "' (allowed: errmodel, period_ns, voltages, razor, layers, comment)");
  }
  Settings s;
  if (!doc.contains("errmodel") || !doc.at("errmodel").is_string())
    throw InjectError(source + ": field 'errmodel' (path of errmodel.json) is missing or not a string");
  s.errmodel = doc.at("errmodel").get<std::string>();
  if (doc.contains("period_ns")) {
    if (!doc.at("period_ns").is_number() || doc.at("period_ns").get<double>() <= 0)
      throw InjectError(source + ": field 'period_ns' must be a positive number, got " + doc.at("period_ns").dump());
    s.period_ns = doc.at("period_ns").get<double>();
  }
  if (!doc.contains("voltages")) throw InjectError(source + ": field 'voltages' (one per island) is missing");
  s.voltages = parse_voltages(doc.at("voltages"), source + ": field 'voltages'");
  if (doc.contains("razor")) s.razor = parse_razor(doc.at("razor"), source + ": field 'razor'");
  if (doc.contains("layers")) {
    const auto& layers = doc.at("layers");
    if (!layers.is_array()) throw InjectError(source + ": field 'layers' must be a list");
    std::set<std::size_t> seen;
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const std::string where = source + ": layers[" + std::to_string(i) + "]";
      const auto& l = layers[i];
      if (!l.is_object() || !l.contains("op") || !l.at("op").is_number_integer() || l.at("op").get<long long>() < 0)
        throw InjectError(where + ": needs 'op' (operator index >= 0)");
      for (const auto& [key, value] : l.items()) {
        (void)value;
        if (key != "op" && key != "voltages" && key != "razor" && key != "errmodel")
          throw InjectError(where + ": unknown field '" + key + "' (allowed: op, voltages, razor, errmodel)");
      }
      LayerSetting ls;
      ls.op = l.at("op").get<std::size_t>();
      if (!seen.insert(ls.op).second) throw InjectError(where + ": operator " + std::to_string(ls.op) + " given twice");
      ls.voltages = l.contains("voltages") ? parse_voltages(l.at("voltages"), where + ".voltages") : s.voltages;
      if (l.contains("razor")) ls.razor = parse_razor(l.at("razor"), where + ".razor");
      if (l.contains("errmodel")) {
        if (!l.at("errmodel").is_string() || l.at("errmodel").get<std::string>().empty())
          throw InjectError(where + ".errmodel: expected the path of the layer's errmodel.json, got " +
                            l.at("errmodel").dump());
        ls.errmodel = l.at("errmodel").get<std::string>();
      }
      s.layers.push_back(std::move(ls));
    }
  }
  return s;
}

nlohmann::json to_json(const Settings& s) {
  nlohmann::json j;
  j["errmodel"] = s.errmodel;
  if (s.period_ns > 0) j["period_ns"] = s.period_ns;
  j["voltages"] = s.voltages;
  if (s.razor) j["razor"] = razor_json(*s.razor);
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerSetting& l : s.layers) {
    nlohmann::json lj{{"op", l.op}, {"voltages", l.voltages}};
    if (l.razor) lj["razor"] = razor_json(*l.razor);
    if (!l.errmodel.empty()) lj["errmodel"] = l.errmodel;
    layers.push_back(std::move(lj));
  }
  j["layers"] = std::move(layers);
  return j;
}

Settings load_settings(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InjectError(path + ": cannot open settings file");
  nlohmann::json doc;
  try {
    in >> doc;
  } catch (const std::exception& e) {
    throw InjectError(path + ": not valid JSON: " + e.what());
  }
  Settings s = settings_from_json(doc, path);
  const auto resolve = [&](std::string& errmodel) {
    const std::filesystem::path model(errmodel);
    if (model.is_relative()) errmodel = (std::filesystem::path(path).parent_path() / model).lexically_normal().string();
  };
  resolve(s.errmodel);
  for (LayerSetting& l : s.layers)
    if (!l.errmodel.empty()) resolve(l.errmodel);
  return s;
}

Settings with_absolute_errmodels(Settings settings) {
  const auto absolute = [](std::string& p) { p = std::filesystem::absolute(p).lexically_normal().string(); };
  absolute(settings.errmodel);
  for (LayerSetting& l : settings.layers)
    if (!l.errmodel.empty()) absolute(l.errmodel);
  return settings;
}

void save_settings(const Settings& settings, const std::string& path, ErrmodelPath style) {
  const std::string partial = path + ".partial";
  {
    // Readers resolve a relative path against the file's folder, writers'
    // paths are relative to the working directory.
    Settings copy = with_absolute_errmodels(settings);
    const auto relative = [&](std::string& p) {
      p = std::filesystem::path(p)
              .lexically_relative(std::filesystem::absolute(path).parent_path().lexically_normal())
              .string();
    };
    if (style == ErrmodelPath::kRelativeToFile) {
      relative(copy.errmodel);
      for (LayerSetting& l : copy.layers)
        if (!l.errmodel.empty()) relative(l.errmodel);
    }
    std::ofstream out(partial);
    out << to_json(copy).dump(2) << "\n";
    if (!out) throw InjectError("cannot write " + partial);
  }
  move_output_into_place(partial, path);
}

}  // namespace vosa::inject
