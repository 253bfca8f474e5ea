// Row bands chosen from the data (docs/errmodel.md, "PE positions"), and
// `vosa errmodel-bands`.
#include "vosa/errmodel_bands.hpp"
#include "vosa/pdk.hpp"
#include "vosa/output_file.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>

namespace vosa::bands {

using nlohmann::json;

namespace {

// Two-sided critical value of the normal distribution for a tail mass alpha.
double normal_critical(double alpha) {
  double lo = 0, hi = 20;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (std::erfc(mid / std::sqrt(2.0)) > alpha ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

// k1 of n1 and k2 of n2 come from one rate: the split of the k1 + k2 events.
bool same_rate(std::uint64_t k1, std::uint64_t n1, std::uint64_t k2, std::uint64_t n2, double z) {
  if (k1 + k2 == 0 || n1 == 0 || n2 == 0) return true;
  const auto [lo, hi] = wilson_interval(k1, k1 + k2, z);
  const double expected = static_cast<double>(n1) / static_cast<double>(n1 + n2);
  return expected >= lo && expected <= hi;
}

// Counts of one operating point over a band's rows.
struct Counts {
  std::uint64_t samples = 0, errors = 0;
  std::vector<std::uint64_t> bits;
  std::vector<std::uint64_t> class_samples, class_errors;
  void add(const ErrorModelPoint& p) {
    samples += p.samples;
    errors += p.cycles_with_error;
    if (bits.size() < p.bits.size()) bits.resize(p.bits.size());
    for (const auto& b : p.bits)
      if (b.bit >= 0 && static_cast<std::size_t>(b.bit) < bits.size()) bits[static_cast<std::size_t>(b.bit)] += b.errors;
    if (class_samples.size() < p.classes.size()) {
      class_samples.resize(p.classes.size());
      class_errors.resize(p.classes.size());
    }
    for (std::size_t k = 0; k < p.classes.size(); ++k) {
      class_samples[k] += p.classes[k].samples;
      class_errors[k] += p.classes[k].cycles_with_error;
    }
  }
};

struct Comparison {
  std::string statistic;
  std::uint64_t k1, n1, k2, n2;
};

std::vector<Comparison> comparisons(const Counts& band, const Counts& row, std::uint64_t min_errors) {
  std::vector<Comparison> out;
  auto judged = [&](std::uint64_t a, std::uint64_t b) { return std::max(a, b) >= min_errors; };
  if (judged(band.errors, row.errors)) out.push_back({"P(any error)", band.errors, band.samples, row.errors, row.samples});
  for (std::size_t j = 0; j < std::min(band.bits.size(), row.bits.size()); ++j)
    if (judged(band.bits[j], row.bits[j]))
      out.push_back({"bit " + std::to_string(j) + " rate", band.bits[j], band.samples, row.bits[j], row.samples});
  for (std::size_t k = 0; k < std::min(band.class_samples.size(), row.class_samples.size()); ++k)
    if (judged(band.class_errors[k], row.class_errors[k]))
      out.push_back({"class " + std::to_string(k) + " (" + operand_class_name(static_cast<int>(k)) + ") P(any error)",
                     band.class_errors[k], band.class_samples[k], row.class_errors[k], row.class_samples[k]});
  return out;
}

}  // namespace

Choice choose(const ErrorModel& per_row, const std::string& path, std::uint64_t min_errors) {
  // (voltage, period) -> the point of each row.
  std::map<std::pair<double, double>, std::map<int, const ErrorModelPoint*>> at;
  for (const auto& p : per_row.points) {
    if (!p.positioned() || p.row_first != p.row_last)
      throw ErrorModelError(path + ": a point at " + std::to_string(p.voltage) + " V is not one PE row (pe_rows " +
                            (p.positioned() ? std::to_string(p.row_first) + "-" + std::to_string(p.row_last)
                                            : std::string("absent")) +
                            "); choosing bands needs one band per row (vosa dta --pe-rows ROW per row)");
    at[{p.voltage, p.period_ns}][p.row_first] = &p;
  }
  if (at.empty()) throw ErrorModelError(path + ": no points");
  const int rows = static_cast<int>(at.begin()->second.size());
  for (const auto& [vt, by_row] : at)
    for (int r = 0; r < rows; ++r)
      if (static_cast<int>(by_row.size()) != rows || !by_row.count(r))
        throw ErrorModelError(path + ": at " + std::to_string(vt.first) + " V, " + std::to_string(vt.second) +
                              " ns row " + std::to_string(r) + " has no point (every point needs rows 0-" +
                              std::to_string(rows - 1) + ")");

  Choice c;
  int first = 0;
  std::map<std::pair<double, double>, Counts> band;
  for (const auto& [vt, by_row] : at) band[vt].add(*by_row.at(0));
  for (int r = 1; r < rows; ++r) {
    std::vector<std::pair<std::pair<double, double>, Comparison>> all;
    for (const auto& [vt, by_row] : at) {
      Counts row;
      row.add(*by_row.at(r));
      for (auto& cmp : comparisons(band[vt], row, min_errors)) all.push_back({vt, cmp});
    }
    const double z = normal_critical(0.05 / static_cast<double>(std::max<std::size_t>(all.size(), 1)));
    c.tests = std::max(c.tests, static_cast<int>(all.size()));
    c.z = std::max(c.z, z);
    const auto differs = std::find_if(all.begin(), all.end(), [&](const auto& a) {
      return !same_rate(a.second.k1, a.second.n1, a.second.k2, a.second.n2, z);
    });
    if (differs == all.end()) {
      for (const auto& [vt, by_row] : at) band[vt].add(*by_row.at(r));
      continue;
    }
    c.bands.push_back({first, r - 1});
    c.splits.push_back({r, differs->first.first, differs->first.second, differs->second.statistic, differs->second.k1,
                        differs->second.n1, differs->second.k2, differs->second.n2});
    first = r;
    band.clear();
    for (const auto& [vt, by_row] : at) band[vt].add(*by_row.at(r));
  }
  c.bands.push_back({first, rows - 1});
  return c;
}

namespace {

std::uint64_t count_of(const json& j, const char* key) { return j.value(key, std::uint64_t{0}); }

// Joint patterns (or error values) merged by key, counts summed.
json merge_counted(const std::vector<const json*>& lists, const char* key, std::uint64_t samples, bool by_count) {
  std::map<std::int64_t, json> merged;
  for (const json* l : lists)
    for (const auto& e : *l) {
      const std::int64_t k = e.at(key).get<std::int64_t>();
      auto it = merged.find(k);
      if (it == merged.end()) {
        merged[k] = e;
        continue;
      }
      it->second["count"] = count_of(it->second, "count") + count_of(e, "count");
      // A joint pattern's correct bits (schema 3) pooled alike; kept only when every list has them.
      if (it->second.contains("correct_bits") && e.contains("correct_bits")) {
        std::map<std::uint64_t, std::uint64_t> c;
        for (const json* side : std::initializer_list<const json*>{&it->second.at("correct_bits"), &e.at("correct_bits")})
          for (const auto& r : *side) c[r.at("value").get<std::uint64_t>()] += count_of(r, "count");
        std::vector<std::pair<std::uint64_t, std::uint64_t>> sorted(c.begin(), c.end());
        std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
        json refs = json::array();
        for (const auto& [v, n] : sorted) refs.push_back({{"value", v}, {"count", n}});
        it->second["correct_bits"] = refs;
      } else {
        it->second.erase("correct_bits");
      }
    }
  std::vector<json> out;
  for (auto& [k, e] : merged) {
    if (e.contains("p")) e["p"] = samples ? static_cast<double>(count_of(e, "count")) / samples : 0.0;
    out.push_back(e);
  }
  if (by_count)
    std::stable_sort(out.begin(), out.end(),
                     [](const json& a, const json& b) { return count_of(a, "count") > count_of(b, "count"); });
  return out;
}

json merge_bits(const std::vector<const json*>& lists, std::uint64_t samples) {
  json out = *lists.front();
  for (std::size_t j = 0; j < out.size(); ++j) {
    std::uint64_t errors = 0;
    double settle = 0, max_settle = 0;
    std::vector<std::uint64_t> hist;
    for (const json* l : lists) {
      const json& b = l->at(j);
      errors += count_of(b, "errors");
      settle += b.value("mean_settle_ns", 0.0) * static_cast<double>(count_of(b, "errors"));
      max_settle = std::max(max_settle, b.value("max_settle_ns", 0.0));
      if (b.contains("settle_hist")) {
        const auto h = b["settle_hist"].get<std::vector<std::uint64_t>>();
        if (hist.size() < h.size()) hist.resize(h.size());
        for (std::size_t i = 0; i < h.size(); ++i) hist[i] += h[i];
      }
    }
    json& b = out[j];
    b["errors"] = errors;
    b["p_error"] = samples ? static_cast<double>(errors) / samples : 0.0;
    const auto [lo, hi] = wilson95(errors, samples);
    b["ci95"] = {lo, hi};
    if (b.contains("mean_settle_ns")) b["mean_settle_ns"] = errors ? settle / static_cast<double>(errors) : 0.0;
    if (b.contains("max_settle_ns")) b["max_settle_ns"] = max_settle;
    if (b.contains("settle_hist")) b["settle_hist"] = hist;
  }
  return out;
}

// Schema 4 `value_classes` of the rows' points (or operand classes), pooled
// class by class into `into` (the first row's, overwritten).
void pool_value_classes(json& into, const std::vector<const json*>& rows) {
  json& by_class = into["by_class"];
  for (std::size_t k = 0; k < by_class.size(); ++k) {
    std::uint64_t ce = 0, cs = 0;
    bool samples = true;  // every row's class has them (the hit rate per value class)
    std::vector<const json*> vbits, vpatterns;
    for (const json* q : rows) {
      const json& qv = q->at("by_class").at(k);
      ce += count_of(qv, "cycles_with_error");
      samples = samples && qv.contains("samples");
      if (samples) cs += count_of(qv, "samples");
      vbits.push_back(&qv.at("bits"));
      vpatterns.push_back(&qv.at("error_patterns"));
    }
    by_class[k]["cycles_with_error"] = ce;
    if (samples) {
      by_class[k]["samples"] = cs;
      by_class[k]["p_any_error"] = cs ? static_cast<double>(ce) / cs : 0.0;
    } else {
      by_class[k].erase("samples");
      by_class[k].erase("p_any_error");
    }
    by_class[k]["bits"] = merge_bits(vbits, ce);
    by_class[k]["error_patterns"] = merge_counted(vpatterns, "mask", ce, true);
  }
}

}  // namespace

json pool(const json& model, const std::vector<std::pair<int, int>>& bands, const std::string& path) {
  static const std::set<std::string> copied = {"voltage", "period_ns", "corner", "sdf", "delay_source",
                                               "settle_hist_bin_ns", "pe_rows"};
  static const std::set<std::string> pooled = {"samples", "cycles_with_error", "p_any_error", "bits",
                                               "error_values", "error_patterns", "classes", "value_classes"};
  std::map<std::pair<double, double>, std::map<int, const json*>> at;
  for (const auto& p : model.at("points")) {
    for (const auto& [key, value] : p.items())
      if (!copied.count(key) && !pooled.count(key))
        throw ErrorModelError(path + ": points[]." + key + " cannot be pooled over rows; characterize the band's "
                              "stream with vosa dta --pe-rows FIRST-LAST instead");
    at[{p.at("voltage").get<double>(), p.at("period_ns").get<double>()}][p.at("pe_rows").at(0).get<int>()] = &p;
  }
  json out = model;
  out["points"] = json::array();
  for (const auto& [vt, by_row] : at)
    for (const auto& [first, last] : bands) {
      std::vector<const json*> rows;
      for (int r = first; r <= last; ++r) rows.push_back(by_row.at(r));
      json p = *rows.front();
      std::uint64_t samples = 0, errors = 0;
      std::vector<const json*> bits, values, patterns;
      for (const json* q : rows) {
        if (q->at("delay_source") != p.at("delay_source"))
          throw ErrorModelError(path + ": rows " + std::to_string(first) + "-" + std::to_string(last) + " at " +
                                std::to_string(vt.first) + " V have different delay_source");
        samples += count_of(*q, "samples");
        errors += count_of(*q, "cycles_with_error");
        bits.push_back(&q->at("bits"));
        values.push_back(&q->at("error_values"));
        patterns.push_back(&q->at("error_patterns"));
      }
      p["pe_rows"] = {first, last};
      p["samples"] = samples;
      p["cycles_with_error"] = errors;
      p["p_any_error"] = samples ? static_cast<double>(errors) / samples : 0.0;
      p["bits"] = merge_bits(bits, samples);
      p["error_values"] = merge_counted(values, "value", samples, false);
      p["error_patterns"] = merge_counted(patterns, "mask", samples, true);
      // Value classes (schema 4) pooled alike; dropped unless every row has them.
      const bool all_values = std::all_of(rows.begin(), rows.end(), [](const json* q) { return q->contains("value_classes"); });
      auto pool_values = [&](json& into, auto&& of_row) {
        if (!all_values) {
          into.erase("value_classes");
          return;
        }
        std::vector<const json*> vs;
        for (const json* q : rows) vs.push_back(&of_row(*q));
        pool_value_classes(into["value_classes"], vs);
      };
      pool_values(p, [](const json& q) -> const json& { return q.at("value_classes"); });
      if (p.contains("classes")) {
        json& by_class = p["classes"]["by_class"];
        for (std::size_t k = 0; k < by_class.size(); ++k) {
          std::uint64_t cs = 0, ce = 0;
          std::vector<const json*> cbits, cpatterns;
          for (const json* q : rows) {
            const json& qc = q->at("classes").at("by_class").at(k);
            cs += count_of(qc, "samples");
            ce += count_of(qc, "cycles_with_error");
            cbits.push_back(&qc.at("bits"));
            cpatterns.push_back(&qc.at("error_patterns"));
          }
          by_class[k]["samples"] = cs;
          by_class[k]["cycles_with_error"] = ce;
          by_class[k]["p_any_error"] = cs ? static_cast<double>(ce) / cs : 0.0;
          by_class[k]["bits"] = merge_bits(cbits, cs);
          by_class[k]["error_patterns"] = merge_counted(cpatterns, "mask", cs, true);
          if (by_class[k].contains("value_classes"))
            pool_values(by_class[k], [k](const json& q) -> const json& {
              return q.at("classes").at("by_class").at(k).at("value_classes");
            });
        }
      }
      out["points"].push_back(p);
    }
  return out;
}

}  // namespace vosa::bands

namespace vosa {

void add_errmodel_bands_command(CLI::App& app) {
  struct Options {
    std::string model, out, report;
    std::uint64_t min_errors = 20;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "errmodel-bands",
      "Row bands chosen from the data: from an error model with one band per PE row (vosa dta --pe-rows ROW,\n"
      "vosa errmodel-merge), merge adjacent rows whose P(any error), per-bit and per-class rates agree\n"
      "within their intervals, and write the model with each band's rows pooled (docs/errmodel.md,\n"
      "\"PE positions\").");
  cmd->add_option("model", opt->model, "error model with one band per row")->required();
  cmd->add_option("--out", opt->out, "banded error model")->required();
  cmd->add_option("--min-errors", opt->min_errors, "compare a statistic only with at least this many errors (default 20)");
  cmd->add_option("--report-json", opt->report, "the bands and, per boundary, the statistic that differed");
  cmd->callback([opt]() {
    using nlohmann::json;
    std::ifstream in(opt->model);
    if (!in) throw std::runtime_error(opt->model + ": cannot open error model");
    json j;
    try {
      in >> j;
    } catch (const std::exception& e) {
      throw std::runtime_error(opt->model + ": not valid JSON: " + e.what());
    }
    const ErrorModel m = ErrorModel::from_json(j, opt->model);
    const bands::Choice c = bands::choose(m, opt->model, opt->min_errors);
    json out = bands::pool(j, c.bands, opt->model);
    json report = {{"model", opt->model},
                   {"rule", "adjacent rows merge while P(any error), every bit's and every operand class's rate with >= " +
                                std::to_string(opt->min_errors) +
                                " errors agree with the band's pooled counts at every point (Wilson interval of "
                                "the split of the events, Bonferroni over the comparisons)"},
                   {"bands", c.bands},
                   {"splits", json::array()}};
    for (const auto& s : c.splits)
      report["splits"].push_back({{"row", s.row},
                                  {"voltage", s.voltage},
                                  {"period_ns", s.period_ns},
                                  {"statistic", s.statistic},
                                  {"band", {{"errors", s.band_errors}, {"samples", s.band_samples}}},
                                  {"row_stats", {{"errors", s.row_errors}, {"samples", s.row_samples}}}});
    out["row_bands"] = {{"chosen_by", "vosa errmodel-bands"}, {"rule", report["rule"]}, {"bands", c.bands}};
    // The pooled file must read back like any other (bands do not overlap).
    ErrorModel::from_json(out, opt->out);
    write_output_file(opt->out, out.dump(1) + "\n");
    if (!opt->report.empty()) write_output_file(opt->report, report.dump(1) + "\n");
    std::cout << "errmodel-bands: " << opt->model << ": bands";
    for (const auto& [a, b] : c.bands) std::cout << " " << a << (a == b ? "" : "-" + std::to_string(b));
    std::cout << "\n";
    for (const auto& s : c.splits)
      std::cout << "errmodel-bands: row " << s.row << " starts a band: " << s.statistic << " at " << s.voltage
                << " V: " << s.row_errors << " of " << s.row_samples << " against the band's " << s.band_errors
                << " of " << s.band_samples << "\n";
    std::cout << "errmodel-bands: wrote " << opt->out << "\n";
  });
}

}  // namespace vosa
