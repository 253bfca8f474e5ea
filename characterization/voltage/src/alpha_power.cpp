#include "vosa/voltage_model.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace vosa::voltage {

double alpha_power_shape(double voltage, double vth, double alpha) {
  return voltage / std::pow(voltage - vth, alpha);
}

namespace {

// For fixed vth, ln d = ln k + ln V - alpha ln(V - vth) is linear in (ln k, alpha).
AlphaPowerFit fit_for_vth(const std::vector<double>& v, const std::vector<double>& d, double vth) {
  const size_t n = v.size();
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  std::vector<double> x(n), y(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = -std::log(v[i] - vth);
    y[i] = std::log(d[i]) - std::log(v[i]);
    sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
  }
  AlphaPowerFit fit;
  fit.vth = vth;
  const double det = n * sxx - sx * sx;
  fit.alpha = det != 0 ? (n * sxy - sx * sy) / det : 1.0;
  const double lnk = (sy - fit.alpha * sx) / n;
  fit.k = std::exp(lnk);
  double sse = 0;
  for (size_t i = 0; i < n; ++i) {
    const double r = lnk + fit.alpha * x[i] - y[i];
    sse += r * r;
  }
  fit.rms_log_error = std::sqrt(sse / n);
  return fit;
}

}  // namespace

AlphaPowerFit fit_alpha_power(const std::vector<double>& voltages, const std::vector<double>& delays,
                              double vth_if_underdetermined) {
  if (voltages.size() != delays.size() || voltages.size() < 2)
    throw std::invalid_argument("alpha-power fit needs at least 2 (voltage, delay) points");
  double vmin = std::numeric_limits<double>::max();
  for (size_t i = 0; i < voltages.size(); ++i) {
    if (!(delays[i] > 0) || !(voltages[i] > 0))
      throw std::invalid_argument("alpha-power fit needs positive voltages and delays");
    vmin = std::min(vmin, voltages[i]);
  }
  if (voltages.size() == 2 || vth_if_underdetermined >= vmin) {
    // Two points determine (k, alpha) for a given vth; keep vth physical.
    return fit_for_vth(voltages, delays, std::min(vth_if_underdetermined, 0.8 * vmin));
  }
  // Three or more points: scan vth, then refine by golden section. The
  // alpha-power law is meaningful for 1 <= alpha <= 2 and 0 < vth < Vmin.
  auto cost = [&](double vth) {
    AlphaPowerFit f = fit_for_vth(voltages, delays, vth);
    double penalty = 0;
    if (f.alpha < 1.0) penalty = (1.0 - f.alpha) * 10;
    if (f.alpha > 2.0) penalty = (f.alpha - 2.0) * 10;
    return f.rms_log_error + penalty;
  };
  const double hi = 0.95 * vmin;
  double best_vth = 0.05, best = std::numeric_limits<double>::max();
  const int steps = 90;
  for (int i = 0; i <= steps; ++i) {
    const double vth = 0.05 + (hi - 0.05) * i / steps;
    const double c = cost(vth);
    if (c < best) best = c, best_vth = vth;
  }
  double a = std::max(0.05, best_vth - (hi - 0.05) / steps), b = std::min(hi, best_vth + (hi - 0.05) / steps);
  const double g = (std::sqrt(5.0) - 1) / 2;
  for (int i = 0; i < 40; ++i) {
    const double c1 = b - g * (b - a), c2 = a + g * (b - a);
    if (cost(c1) < cost(c2)) b = c2; else a = c1;
  }
  return fit_for_vth(voltages, delays, (a + b) / 2);
}

}  // namespace vosa::voltage
