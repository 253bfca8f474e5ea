#include "vosa/explore/energy.hpp"

#include "vosa/pdk.hpp"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <fstream>
#include <sstream>

namespace vosa::explore {
namespace {

nlohmann::json read_json(const std::string& path, const std::string& made_by) {
  std::ifstream in(path);
  if (!in) throw ExploreError(path + ": cannot open (it is written by " + made_by + ")");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw ExploreError(path + ": not valid JSON (" + e.what() + ")");
  }
}

template <class T>
T field(const nlohmann::json& j, const std::string& key, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) throw ExploreError(where + ": missing field '" + key + "'");
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw ExploreError(where + ": field '" + key + "' has the wrong type");
  }
}

std::string format_voltage(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

ArrayGeometry ArrayGeometry::from_config(const ArrayConfig& config, const std::string& source) {
  if (config.dataflow != Dataflow::WeightStationary)
    throw ExploreError(source + ": dataflow must be weight_stationary (one column = one neuron)");
  ArrayGeometry g;
  g.rows = config.rows;
  g.cols = config.cols;
  g.acc_bits = config.acc_bits;
  if (config.islands.enabled) {
    g.islands = config.islands.groups;
    g.settle_cycles = config.islands.settle_cycles;
  } else {
    std::vector<int> all(g.cols);
    for (int c = 0; c < g.cols; ++c) all[c] = c;
    g.islands.push_back(all);
  }
  return g;
}

EnergyModel EnergyModel::load(const std::string& energy_json, const std::string& razor_cost_json,
                              const ArrayGeometry& geometry, const std::string& operating_corner) {
  const nlohmann::json energy = read_json(energy_json, "make power (flow/flow.mk)");  // named first
  return from_json(energy, energy_json, read_json(razor_cost_json, "make razor-cost (flow/razor.mk)"),
                   razor_cost_json, geometry, operating_corner);
}

EnergyModel EnergyModel::from_json(const nlohmann::json& energy, const std::string& energy_name,
                                   const nlohmann::json& razor_cost, const std::string& razor_name,
                                   const ArrayGeometry& geometry, const std::string& operating_corner) {
  EnergyModel m;
  m.geometry_ = geometry;
  m.energy_source_ = energy_name;
  m.razor_source_ = razor_name;
  m.pdk_ = field<std::string>(energy, "pdk", energy_name);
  m.signoff_corner_ = field<std::string>(energy, "signoff_corner", energy_name);
  const auto corners = energy.contains("corners") ? energy.at("corners") : nlohmann::json();
  if (!corners.is_array() || corners.empty()) throw ExploreError(energy_name + ": no 'corners'");
  bool have_signoff = false;
  std::optional<pdk::PdkConfig> pdk_config;
  if (!operating_corner.empty()) {
    try {
      pdk_config = pdk::load_pdk(m.pdk_);
      m.signoff_voltage_ = pdk::resolve_corner(*pdk_config, m.signoff_corner_).voltage;
    } catch (const std::exception& e) {
      throw ExploreError(energy_name + ": " + e.what());
    }
    m.operating_corner_ = operating_corner;
  }
  for (size_t i = 0; i < corners.size(); ++i) {
    const std::string where = energy_name + " corners[" + std::to_string(i) + "]";
    EnergyCorner c;
    c.name = field<std::string>(corners[i], "name", where);
    c.voltage = field<double>(corners[i], "voltage", where);
    c.delay_source = field<std::string>(corners[i], "delay_source", where);
    c.energy_per_mac_pj = field<double>(corners[i], "energy_per_mac_pj", where);
    if (!(c.energy_per_mac_pj > 0)) throw ExploreError(where + ": energy_per_mac_pj must be > 0");
    if (pdk_config) {  // only the operating corner's process and temperature
      if (pdk::resolve_corner(*pdk_config, c.name).ladder != operating_corner) continue;
      have_signoff = have_signoff || std::abs(c.voltage - m.signoff_voltage_) < 1e-6;
    } else if (c.name == m.signoff_corner_) {
      have_signoff = true;
      m.signoff_voltage_ = c.voltage;
    }
    m.corners_.push_back(c);
  }
  if (!have_signoff && pdk_config)
    throw ExploreError(energy_name + ": no corner of the operating corner " + operating_corner +
                       " at the sign-off voltage " + format_voltage(m.signoff_voltage_) +
                       " V (make power CORNERS=" + pdk::corner_name_at(*pdk_config, operating_corner, m.signoff_voltage_) +
                       ",...)");
  if (!have_signoff)
    throw ExploreError(energy_name + ": the sign-off corner " + m.signoff_corner_ +
                       " is not among its corners (rerun make power with it)");
  std::sort(m.corners_.begin(), m.corners_.end(),
            [](const EnergyCorner& a, const EnergyCorner& b) { return a.voltage < b.voltage; });

  // Razor and controller cost of this PDK.
  const std::string rwhere = razor_name + " pdks." + m.pdk_;
  if (!razor_cost.contains("pdks") || !razor_cost.at("pdks").contains(m.pdk_))
    throw ExploreError(razor_name + ": no table for PDK " + m.pdk_ + " (run make razor-cost RAZOR_COST_PDKS=" +
                       m.pdk_ + ")");
  const auto& rows = razor_cost.at("pdks").at(m.pdk_).at("rows");
  const bool pe_simulated = energy.value("activity_source", std::string()) == "simulated";
  // The Razor PEs' cost relative to the plain PE, with the PE's activity
  // source when every PE row has it (older tables: OpenSTA's default activity).
  const bool razor_simulated =
      pe_simulated && std::all_of(rows.begin(), rows.end(), [](const nlohmann::json& r) {
        return !r.contains("protected_bits") || !r.at("protected_bits").is_number() ||
               r.contains("power_rel_pe0_simulated");
      });
  const char* rel_field = razor_simulated ? "power_rel_pe0_simulated" : "power_rel_pe0";
  m.razor_source_kind_ = razor_simulated ? "simulated activity (vosa dta --energy, make razor-cost)"
                         : pe_simulated  ? "OpenSTA default activity, unlike the PE's simulated energy "
                                           "(rerun make razor-cost to simulate the Razor PEs)"
                                         : "OpenSTA default activity";
  std::vector<std::pair<int, double>> drop_rows;  // (protected bits, power relative to 0 bits), policy drop
  for (const auto& r : rows) {
    const std::string policy = r.contains("policy") ? field<std::string>(r, "policy", rwhere) : "correct";
    if (policy != "correct" && policy != "drop")
      throw ExploreError(rwhere + ": row policy '" + policy + "' (allowed: correct, drop)");
    if (policy == "drop" && r.contains("protected_bits") && r.at("protected_bits").is_number()) {
      drop_rows.emplace_back(r.at("protected_bits").get<int>(), field<double>(r, rel_field, rwhere));
    } else if (r.contains("protected_bits") && r.at("protected_bits").is_number()) {
      m.razor_rel_.emplace_back(r.at("protected_bits").get<int>(), field<double>(r, rel_field, rwhere));
      // "vosa_pe int8 (acc 19 bits)": the largest protected count is all bits.
      m.razor_acc_bits_ = std::max(m.razor_acc_bits_, r.at("protected_bits").get<int>());
    } else if (field<std::string>(r, "block", rwhere).rfind("vosa_island_ctrl", 0) == 0) {
      // This array's own controller (same columns and islands) wins over the
      // reference one (the first row).
      const bool as_generated = r.contains("cols") && r.contains("islands") &&
                                r.at("cols").get<int>() == geometry.cols &&
                                r.at("islands").get<std::size_t>() == geometry.islands.size();
      if (as_generated || m.controller_pj_per_cycle_ <= 0) {
        // Priced with the PE's activity source: a PE from its simulated
        // activity next to a controller at OpenSTA's default activity would
        // overstate the controller about fivefold.
        const bool simulated = pe_simulated && r.contains("energy_pj_per_cycle_simulated");
        m.controller_pj_per_cycle_ =
            field<double>(r, simulated ? "energy_pj_per_cycle_simulated" : "energy_pj_per_cycle", rwhere);
        m.controller_source_ = (as_generated ? "as generated for this array: " : "not this array's (") +
                               field<std::string>(r, "block", rwhere) +
                               (as_generated ? "" : "; make razor-cost RAZOR_COST_CTRL_CONFIG=<config> measures it)") +
                               (simulated ? "; simulated activity (flow/ctrl_activity.sh)"
                                          : pe_simulated ? "; OpenSTA default activity, unlike the PE's simulated "
                                                           "energy (rerun make razor-cost to simulate it)"
                                                         : "; OpenSTA default activity");
      }
    }
  }
  std::sort(m.razor_rel_.begin(), m.razor_rel_.end());
  if (m.razor_rel_.size() < 2 || m.razor_rel_.front().first != 0)
    throw ExploreError(rwhere + ": needs the 0-bit PE and at least one protected PE");
  if (m.controller_pj_per_cycle_ <= 0) throw ExploreError(rwhere + ": no vosa_island_ctrl row");
  // TE-Drop's cost beyond policy correct at the same bits (its psum_in_q flops
  // and drop mux), measured; older razor-cost tables lack it: assumed then.
  if (!drop_rows.empty()) {
    const auto [bits, rel] = drop_rows.front();
    m.drop_extra_ = rel - m.razor_factor(bits, RazorPolicy::kCorrect);
    m.drop_cost_source_ = "measured (razor-cost, " + std::to_string(bits) + " bits, policy drop)";
  }
  return m;
}

const EnergyCorner& EnergyModel::corner_at(double voltage) const {
  for (const auto& c : corners_)
    if (std::abs(c.voltage - voltage) < 1e-6) return c;
  std::ostringstream msg;
  msg << energy_source_ << ": no corner at " << voltage << " V (have";
  for (const auto& c : corners_) msg << " " << c.voltage;
  msg << "; add it with make power VOLTAGES=...)";
  throw ExploreError(msg.str());
}

double EnergyModel::razor_factor(int bits, RazorPolicy policy) const {
  if (policy == RazorPolicy::kNone || bits <= 0) return 1.0;
  auto at = [&](int k) {
    for (size_t i = 1; i < razor_rel_.size(); ++i) {
      const auto [k0, r0] = razor_rel_[i - 1];
      const auto [k1, r1] = razor_rel_[i];
      if (k <= k1 || i + 1 == razor_rel_.size()) return r0 + (r1 - r0) * (k - k0) / double(k1 - k0);
    }
    return razor_rel_.back().second;
  };
  double f = at(bits);
  if (policy == RazorPolicy::kDrop) {
    if (drop_extra_) return f + *drop_extra_;
    const auto& a = razor_rel_[razor_rel_.size() - 2];
    const auto& b = razor_rel_.back();
    const double per_flop = (b.second - a.second) / double(b.first - a.first);
    f += per_flop * geometry_.acc_bits;  // psum_in_q: acc_bits more flops (assumed)
  }
  return f;
}

double EnergyModel::island_layer_pj(int island, double layer_cycles, double voltage, double factor) const {
  const double pe_cycles = layer_cycles * geometry_.rows * double(geometry_.islands.at(island).size());
  return pe_cycles * corner_at(voltage).energy_per_mac_pj * factor;
}

double EnergyModel::baseline_pj(const std::vector<double>& layer_cycles) const {
  return uniform_pj(layer_cycles, signoff_voltage_);
}

double EnergyModel::uniform_pj(const std::vector<double>& layer_cycles, double voltage) const {
  double cycles = 0;
  for (double c : layer_cycles) cycles += c;
  return cycles * geometry_.rows * geometry_.cols * corner_at(voltage).energy_per_mac_pj;
}

EnergyBreakdown EnergyModel::inference(const Setting& s, const std::vector<double>& layer_cycles,
                                       const std::vector<double>& layer_stalls) const {
  const size_t layers = layer_cycles.size();
  if (s.voltage.size() != layers || layer_stalls.size() != layers)
    throw ExploreError("energy: setting has " + std::to_string(s.voltage.size()) + " layers, cycles " +
                       std::to_string(layers) + ", stalls " + std::to_string(layer_stalls.size()));
  const int islands = static_cast<int>(geometry_.islands.size());
  const int bits = static_cast<int>(std::bitset<64>(s.razor_mask).count());
  const double factor = razor_factor(bits, s.policy);
  EnergyBreakdown e;
  double cycles = 0;
  for (size_t l = 0; l < layers; ++l) {
    if (static_cast<int>(s.voltage[l].size()) != islands)
      throw ExploreError("energy: layer " + std::to_string(l) + " has " + std::to_string(s.voltage[l].size()) +
                         " island voltages, the array has " + std::to_string(islands) + " islands");
    double array_cycle_pj = 0;  // one cycle of the whole array at this layer's voltages
    for (int i = 0; i < islands; ++i) {
      const double plain = island_layer_pj(i, 1.0, s.voltage[l][i], 1.0);
      e.pe_pj += plain * layer_cycles[l];
      e.razor_pj += plain * (factor - 1.0) * layer_cycles[l];
      array_cycle_pj += plain * factor;
    }
    // A voltage change before this layer stalls the array while it settles.
    const bool change = l > 0 && s.voltage[l] != s.voltage[l - 1];
    const double stalls = layer_stalls[l] + (change ? geometry_.settle_cycles : 0);
    e.stall_pj += stalls * array_cycle_pj;
    cycles += layer_cycles[l] + stalls;
  }
  e.controller_pj = cycles * controller_pj_per_cycle_;
  e.total_pj = e.pe_pj + e.razor_pj + e.stall_pj + e.controller_pj;
  e.baseline_pj = baseline_pj(layer_cycles);
  e.saving_pct = e.baseline_pj > 0 ? 100.0 * (1.0 - e.total_pj / e.baseline_pj) : 0.0;
  return e;
}

nlohmann::json EnergyModel::describe() const {
  nlohmann::json j;
  j["pdk"] = pdk_;
  j["energy_json"] = energy_source_;
  j["razor_cost_json"] = razor_source_;
  j["signoff_corner"] = signoff_corner_;
  j["signoff_voltage"] = signoff_voltage_;
  j["operating_corner"] = operating_corner_.empty() ? "as the file's corners (sign-off " + signoff_corner_ + ")"
                                                    : operating_corner_;
  for (const auto& c : corners_)
    j["corners"].push_back({{"name", c.name}, {"voltage", c.voltage}, {"delay_source", c.delay_source},
                            {"energy_per_pe_cycle_pj", c.energy_per_mac_pj}});
  for (const auto& [k, r] : razor_rel_)
    j["razor_power_rel"].push_back({{"protected_bits", k}, {"power_rel_pe0", r}});
  j["razor_power_source"] = razor_source_kind_;
  j["razor_measured_acc_bits"] = razor_acc_bits_;
  j["tedrop_cost"] = {{"source", drop_cost_source_},
                      {"extra_rel_over_correct", drop_extra_ ? nlohmann::json(*drop_extra_) : nlohmann::json()}};
  j["controller_pj_per_cycle"] = controller_pj_per_cycle_;
  j["controller_source"] = controller_source_;
  j["array"] = {{"rows", geometry_.rows}, {"cols", geometry_.cols}, {"acc_bits", geometry_.acc_bits},
                {"islands", geometry_.islands}, {"settle_cycles", geometry_.settle_cycles}};
  return j;
}

}  // namespace vosa::explore
