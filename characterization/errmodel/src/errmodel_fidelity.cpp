#include "vosa/errmodel_fidelity.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>

namespace vosa::fidelity {

using nlohmann::json;

std::vector<LoggedError> read_error_log(const std::string& path, double period_ns) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open DTA error log");
  std::string line;
  if (!std::getline(in, line) || line != "period_ns,cycle,settled,captured")
    throw std::runtime_error(path + ": line 1: expected the header 'period_ns,cycle,settled,captured' "
                             "(vosa dta --error-log)");
  struct Row {
    double period;
    LoggedError e;
  };
  std::vector<Row> rows;
  for (int n = 2; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    std::istringstream s(line);
    Row r{};
    char c1 = 0, c2 = 0, c3 = 0;
    if (!(s >> r.period >> c1 >> r.e.cycle >> c2 >> r.e.settled >> c3 >> r.e.captured) || c1 != ',' || c2 != ',' ||
        c3 != ',' || !(s >> std::ws).eof())
      throw std::runtime_error(path + ": line " + std::to_string(n) + ": expected period_ns,cycle,settled,captured, got '" +
                               line + "'");
    rows.push_back(r);
  }
  // Every period of the run logs into one file; keep the one asked for.
  double best = std::numeric_limits<double>::infinity();
  for (const auto& r : rows) best = std::abs(r.period - period_ns) < std::abs(best - period_ns) ? r.period : best;
  if (!rows.empty() && std::abs(best - period_ns) > 1e-6 * std::max(1.0, period_ns))
    throw std::runtime_error(path + ": no cycle logged at period " + std::to_string(period_ns) + " ns (closest: " +
                             std::to_string(best) + " ns)");
  std::vector<LoggedError> out;
  for (const auto& r : rows)
    if (r.period == best) out.push_back(r.e);
  return out;
}

StreamStats::StreamStats(int bits, bool sign)
    : acc_bits(bits), is_signed(sign), bit_errors(bits, 0), class_cycles(kOperandClasses, 0),
      class_errors(kOperandClasses, 0) {}

void StreamStats::add(int cls, std::uint64_t correct, std::uint64_t captured) {
  ++cycles;
  ++class_cycles[cls];
  const std::uint64_t diff = correct ^ captured;
  if (!diff) return;
  ++cycles_with_error;
  ++class_errors[cls];
  for (int j = 0; j < acc_bits; ++j) bit_errors[j] += (diff >> j) & 1;
  const std::int64_t c = wrap_to_bits(static_cast<std::int64_t>(captured), acc_bits, is_signed);
  const std::int64_t v = wrap_to_bits(static_cast<std::int64_t>(correct), acc_bits, is_signed);
  const std::uint64_t a = static_cast<std::uint64_t>(c > v ? c - v : v - c);
  sum_abs_error += static_cast<double>(a);
  sum_sq_abs_error += static_cast<double>(a) * static_cast<double>(a);
  max_abs_error = std::max(max_abs_error, a);
}

std::vector<std::uint64_t> correct_values(const OperandTrace& trace) {
  const int bits = trace.header.acc_bits;
  const std::uint64_t mask = bits >= 64 ? ~0ull : ((1ull << bits) - 1);
  std::vector<std::uint64_t> out;
  out.reserve(trace.records.size());
  for (const auto& r : trace.records)
    out.push_back((static_cast<std::uint64_t>(r.psum_in) +
                   static_cast<std::uint64_t>(static_cast<std::int64_t>(r.activation) * r.weight)) &
                  mask);
  return out;
}

std::vector<int> cycle_classes(const OperandTrace& trace) {
  std::vector<int> out;
  out.reserve(trace.records.size());
  std::int64_t prev = 0;
  for (const auto& r : trace.records) {
    out.push_back(operand_class(prev, r.activation, r.weight));
    prev = r.activation;
  }
  return out;
}

StreamStats dta_stats(const OperandTrace& trace, const std::vector<LoggedError>& log, const std::string& log_name) {
  const auto correct = correct_values(trace);
  const auto classes = cycle_classes(trace);
  std::vector<std::uint64_t> captured = correct;
  for (const auto& e : log) {
    if (e.cycle >= correct.size())
      throw std::runtime_error(log_name + ": cycle " + std::to_string(e.cycle) + " is outside the trace (" +
                               std::to_string(correct.size()) + " records)");
    if (e.settled != correct[e.cycle])
      throw std::runtime_error(log_name + ": cycle " + std::to_string(e.cycle) + " settled at " +
                               std::to_string(e.settled) + " but the trace's psum_in + a*w is " +
                               std::to_string(correct[e.cycle]) + ": the log is of another operand stream");
    if (captured[e.cycle] != correct[e.cycle])
      throw std::runtime_error(log_name + ": cycle " + std::to_string(e.cycle) + " is logged twice");
    captured[e.cycle] = e.captured;
  }
  StreamStats s(trace.header.acc_bits, trace.header.is_signed);
  for (size_t n = 0; n < correct.size(); ++n) s.add(classes[n], correct[n], captured[n]);
  return s;
}

StreamStats inject_stats(const OperandTrace& trace, const ErrorModelPoint& pt, bool use_classes, std::uint64_t seed) {
  const auto correct = correct_values(trace);
  const auto classes = cycle_classes(trace);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  // The mask tables once per class, not per hit.
  std::vector<ErrorMaskSampler> class_masks;
  for (int k = 0; k < kOperandClasses; ++k) class_masks.push_back(pt.mask_sampler(k));
  const ErrorMaskSampler point_masks = pt.mask_sampler();
  StreamStats s(trace.header.acc_bits, trace.header.is_signed);
  const std::uint64_t acc_mask =
      trace.header.acc_bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << trace.header.acc_bits) - 1;
  for (size_t n = 0; n < correct.size(); ++n) {
    const int cls = classes[n];
    // The hit rate of the cycle's operand class and, where the file has
    // value-class samples, of its correct value's class (the injectors thin
    // their candidates to the same rate, docs/errmodel.md "Hit rate per value class").
    const int k = use_classes ? cls : -1;
    const double p = pt.p_any_error(k, pt.value_class_of(k, correct[n], trace.header.acc_bits));
    std::uint64_t mask = 0;
    if (u(rng) < p) {
      const ErrorMaskSampler& masks =
          use_classes && cls >= 0 && cls < kOperandClasses ? class_masks[static_cast<std::size_t>(cls)] : point_masks;
      // Drawn to fit the correct value's bits where the file has them (schema 3).
      mask = masks.draw(uniform01_of(rng), correct[n], acc_mask);
    }
    s.add(cls, correct[n], correct[n] ^ mask);
  }
  return s;
}

namespace {

struct Spread {
  double mean = 0, lo = 0, hi = 0;  // over seeds: mean, 2.5 % and 97.5 % quantiles
  double median = 0;
};

Spread spread(std::vector<double> v) {
  Spread s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  auto q = [&](double f) { return v[std::min(v.size() - 1, static_cast<size_t>(std::floor(f * (v.size() - 1) + 0.5)))]; };
  s.lo = q(0.025);
  s.hi = q(0.975);
  s.median = q(0.5);
  return s;
}

json spread_json(const Spread& s) { return {{"mean", s.mean}, {"q025", s.lo}, {"q975", s.hi}}; }

// Model agrees with the simulator on a rate/mean: within the relative
// tolerance, or inside the simulator's own 95 % interval (which is wider
// than the tolerance when the stream has few errors).
bool agrees(double model, double dta, double ci_lo, double ci_hi, double rel) {
  if (model >= ci_lo && model <= ci_hi) return true;
  if (dta == 0) return model == 0;
  return std::abs(model / dta - 1) <= rel;
}
bool agrees_within_factor(double model, double dta, double ci_lo, double ci_hi, double factor) {
  if (model >= ci_lo && model <= ci_hi) return true;
  if (dta == 0 || model == 0) return model == dta;
  return model / dta <= factor && dta / model <= factor;
}

}  // namespace

json compare(const StreamStats& dta, const std::vector<StreamStats>& injected, const Tolerance& tol) {
  if (injected.empty()) throw std::invalid_argument("compare: no injected streams");
  const double n = static_cast<double>(dta.cycles);
  auto over_seeds = [&](auto f) {
    std::vector<double> v;
    for (const auto& s : injected) v.push_back(f(s));
    return spread(v);
  };
  bool pass = true;
  json checks = json::array();
  auto check = [&](const std::string& what, bool ok) {
    checks.push_back({{"check", what}, {"pass", ok}});
    pass = pass && ok;
  };

  json bits = json::array();
  for (int j = 0; j < dta.acc_bits; ++j) {
    const auto [lo, hi] = wilson95(dta.bit_errors[j], dta.cycles);
    const Spread m = over_seeds([&](const StreamStats& s) { return s.p_bit(j); });
    const bool judged = std::max<double>(dta.bit_errors[j], m.mean * n) >= tol.min_errors;
    json b = {{"bit", j},
              {"dta", {{"errors", dta.bit_errors[j]}, {"p_error", dta.p_bit(j)}, {"ci95", {lo, hi}}}},
              {"model", spread_json(m)},
              {"judged", judged}};
    if (judged) {
      const bool ok = agrees_within_factor(m.mean, dta.p_bit(j), lo, hi, tol.bit_factor);
      b["pass"] = ok;
      check("bit " + std::to_string(j) + " rate", ok);
    }
    bits.push_back(b);
  }

  const auto [alo, ahi] = wilson95(dta.cycles_with_error, dta.cycles);
  const Spread pany = over_seeds([](const StreamStats& s) { return s.p_any(); });
  check("P(any error)", agrees(pany.mean, dta.p_any(), alo, ahi, tol.relative));

  // The simulator's mean |error| with a normal 95 % interval from its
  // per-cycle spread (every non-erroneous cycle contributes 0).
  const double sq = dta.sum_sq_abs_error;
  const double mean = dta.mean_abs_error();
  const double sd = n > 1 ? std::sqrt(std::max(0.0, sq / n - mean * mean)) : 0.0;
  const double half = n > 0 ? 1.96 * sd / std::sqrt(n) : 0.0;
  const Spread mabs = over_seeds([](const StreamStats& s) { return s.mean_abs_error(); });
  check("mean abs error", agrees(mabs.mean, mean, std::max(0.0, mean - half), mean + half, tol.relative));

  const Spread mx = over_seeds([](const StreamStats& s) { return static_cast<double>(s.max_abs_error); });
  const double dmax = static_cast<double>(dta.max_abs_error);
  // The maximum is set by the highest failing bit: same bit within one.
  check("max abs error (median over seeds within a factor 2)",
        dmax == 0 ? mx.median == 0 : (mx.median >= dmax / 2 && mx.median <= dmax * 2));

  json classes = json::array();
  for (int k = 0; k < kOperandClasses; ++k) {
    const auto [clo, chi] = wilson95(dta.class_errors[k], dta.class_cycles[k]);
    const Spread m = over_seeds([&](const StreamStats& s) {
      return s.class_cycles[k] ? static_cast<double>(s.class_errors[k]) / s.class_cycles[k] : 0.0;
    });
    classes.push_back({{"class", k},
                       {"name", operand_class_name(k)},
                       {"cycles", dta.class_cycles[k]},
                       {"dta", {{"errors", dta.class_errors[k]},
                                {"p_any_error", dta.class_cycles[k] ? static_cast<double>(dta.class_errors[k]) /
                                                                          dta.class_cycles[k]
                                                                    : 0.0},
                                {"ci95", {clo, chi}}}},
                       {"model", spread_json(m)}});
  }

  return {{"cycles", dta.cycles},
          {"seeds", injected.size()},
          {"tolerance", {{"relative", tol.relative}, {"bit_factor", tol.bit_factor}, {"min_errors", tol.min_errors}}},
          {"p_any_error", {{"dta", {{"value", dta.p_any()}, {"errors", dta.cycles_with_error}, {"ci95", {alo, ahi}}}},
                           {"model", spread_json(pany)}}},
          {"mean_abs_error", {{"dta", {{"value", mean}, {"ci95", {std::max(0.0, mean - half), mean + half}}}},
                              {"model", spread_json(mabs)}}},
          {"max_abs_error", {{"dta", dta.max_abs_error}, {"model", {{"median", mx.median}, {"q025", mx.lo}, {"q975", mx.hi}}}}},
          {"bits", bits},
          {"classes", classes},
          {"checks", checks},
          {"pass", pass}};
}

namespace {

std::string fmt(double v, int prec = 4) {
  std::ostringstream s;
  if (v != 0 && (std::abs(v) < 1e-3 || std::abs(v) >= 1e6))
    s << std::scientific << std::setprecision(2) << v;
  else
    s << std::setprecision(prec) << v;
  return s.str();
}

std::string ratio(double model, double dta) { return dta > 0 ? fmt(model / dta, 3) : (model > 0 ? "inf" : "-"); }

}  // namespace

std::string comparison_markdown(const json& c) {
  std::ostringstream md;
  const auto& pa = c.at("p_any_error");
  const auto& ma = c.at("mean_abs_error");
  const auto& mx = c.at("max_abs_error");
  md << "| statistic | DTA (gate level) | DTA 95 % CI | model (mean over " << c.at("seeds").get<std::size_t>()
     << " seeds) | model 2.5-97.5 % | model / DTA |\n|---|---|---|---|---|---|\n";
  md << "| P(any error) | " << fmt(pa["dta"]["value"]) << " | " << fmt(pa["dta"]["ci95"][0]) << " - "
     << fmt(pa["dta"]["ci95"][1]) << " | " << fmt(pa["model"]["mean"]) << " | " << fmt(pa["model"]["q025"]) << " - "
     << fmt(pa["model"]["q975"]) << " | " << ratio(pa["model"]["mean"], pa["dta"]["value"]) << " |\n";
  md << "| mean abs error | " << fmt(ma["dta"]["value"]) << " | " << fmt(ma["dta"]["ci95"][0]) << " - "
     << fmt(ma["dta"]["ci95"][1]) << " | " << fmt(ma["model"]["mean"]) << " | " << fmt(ma["model"]["q025"]) << " - "
     << fmt(ma["model"]["q975"]) << " | " << ratio(ma["model"]["mean"], ma["dta"]["value"]) << " |\n";
  md << "| max abs error | " << mx["dta"].get<std::uint64_t>() << " | | " << fmt(mx["model"]["median"], 10)
     << " (median) | " << fmt(mx["model"]["q025"], 10) << " - " << fmt(mx["model"]["q975"], 10) << " | "
     << ratio(mx["model"]["median"], mx["dta"].get<double>()) << " |\n\n";
  md << "| bit | DTA errors | DTA p | DTA 95 % CI | model p | model 2.5-97.5 % | model / DTA | verdict |\n"
        "|---|---|---|---|---|---|---|---|\n";
  for (const auto& b : c.at("bits")) {
    const double dp = b["dta"]["p_error"], mp = b["model"]["mean"];
    if (b["dta"]["errors"].get<std::uint64_t>() == 0 && mp == 0) continue;
    md << "| " << b["bit"].get<int>() << " | " << b["dta"]["errors"].get<std::uint64_t>() << " | " << fmt(dp) << " | "
       << fmt(b["dta"]["ci95"][0]) << " - " << fmt(b["dta"]["ci95"][1]) << " | " << fmt(mp) << " | "
       << fmt(b["model"]["q025"]) << " - " << fmt(b["model"]["q975"]) << " | " << ratio(mp, dp) << " | "
       << (b["judged"].get<bool>() ? (b["pass"].get<bool>() ? "ok" : "**off**") : "too few errors") << " |\n";
  }
  md << "\n| operand class | cycles | DTA P(any) | DTA 95 % CI | model P(any) | model / DTA |\n|---|---|---|---|---|---|\n";
  for (const auto& k : c.at("classes")) {
    const double dp = k["dta"]["p_any_error"], mp = k["model"]["mean"];
    md << "| " << k["name"].get<std::string>() << " | " << k["cycles"].get<std::uint64_t>() << " | " << fmt(dp)
       << " | " << fmt(k["dta"]["ci95"][0]) << " - " << fmt(k["dta"]["ci95"][1]) << " | " << fmt(mp) << " | "
       << ratio(mp, dp) << " |\n";
  }
  md << "\nFailed checks: ";
  bool any = false;
  for (const auto& ch : c.at("checks"))
    if (!ch["pass"].get<bool>()) {
      md << (any ? ", " : "") << ch["check"].get<std::string>();
      any = true;
    }
  md << (any ? "" : "none") << ". Within tolerance: **" << (c.at("pass").get<bool>() ? "yes" : "no") << "**.\n";
  return md.str();
}

}  // namespace vosa::fidelity
