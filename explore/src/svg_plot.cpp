#include "vosa/explore/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace vosa::explore {
namespace {

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else o += c;
  }
  return o;
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

// About five round tick values covering [lo, hi].
std::vector<double> ticks(double lo, double hi) {
  const double span = hi - lo;
  const double raw = span / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return t;
}

}  // namespace

std::string svg_plot(const std::string& title, const std::string& x_label, const std::string& y_label,
                     const std::vector<PlotSeries>& series) {
  const double W = 640, H = 420, L = 70, R = 170, T = 40, B = 55;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.xy) {
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
    for (const auto& [lo, hi] : s.y_range) y0 = std::min(y0, lo), y1 = std::max(y1, hi);
  }
  if (!(x0 <= x1)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 < 1e-12) y0 -= 0.5, y1 += 0.5;
  const double px = (x1 - x0) * 0.04, py = (y1 - y0) * 0.06;
  x0 -= px, x1 += px, y0 -= py, y1 += py;
  auto X = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto Y = [&](double y) { return H - B - (y - y0) / (y1 - y0) * (H - T - B); };
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << W / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" << esc(title) << "</text>\n";
  for (double t : ticks(x0, x1))
    o << "<line x1=\"" << X(t) << "\" y1=\"" << T << "\" x2=\"" << X(t) << "\" y2=\"" << H - B
      << "\" stroke=\"#ddd\"/><text x=\"" << X(t) << "\" y=\"" << H - B + 16 << "\" text-anchor=\"middle\">" << num(t)
      << "</text>\n";
  for (double t : ticks(y0, y1))
    o << "<line x1=\"" << L << "\" y1=\"" << Y(t) << "\" x2=\"" << W - R << "\" y2=\"" << Y(t)
      << "\" stroke=\"#ddd\"/><text x=\"" << L - 6 << "\" y=\"" << Y(t) + 4 << "\" text-anchor=\"end\">" << num(t)
      << "</text>\n";
  o << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\"" << H - T - B
    << "\" fill=\"none\" stroke=\"black\"/>\n";
  o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - 12 << "\" text-anchor=\"middle\">" << esc(x_label)
    << "</text>\n";
  o << "<text transform=\"translate(16," << (T + H - B) / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
    << esc(y_label) << "</text>\n";
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    const char* c = kColors[k % 8];
    if (s.line && s.xy.size() > 1) {
      o << "<polyline fill=\"none\" stroke=\"" << c << "\" stroke-width=\"1.5\" points=\"";
      for (const auto& [x, y] : s.xy) o << X(x) << "," << Y(y) << " ";
      o << "\"/>\n";
    }
    for (size_t i = 0; i < s.xy.size(); ++i) {
      const auto [x, y] = s.xy[i];
      if (i < s.y_range.size())
        o << "<line x1=\"" << X(x) << "\" y1=\"" << Y(s.y_range[i].first) << "\" x2=\"" << X(x) << "\" y2=\""
          << Y(s.y_range[i].second) << "\" stroke=\"" << c << "\" stroke-opacity=\"0.5\"/>\n";
      o << "<circle cx=\"" << X(x) << "\" cy=\"" << Y(y) << "\" r=\"" << (s.line ? 3 : 2.5) << "\" fill=\"" << c
        << "\"" << (s.line ? "" : " fill-opacity=\"0.6\"") << "/>\n";
    }
    const double ly = T + 14 + 18 * k;
    o << "<rect x=\"" << W - R + 10 << "\" y=\"" << ly - 9 << "\" width=\"12\" height=\"10\" fill=\"" << c
      << "\"/><text x=\"" << W - R + 28 << "\" y=\"" << ly << "\">" << esc(s.name) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

std::string svg_heatmap(const std::string& title, const std::vector<std::string>& row_labels,
                        const std::vector<std::string>& col_labels, const std::vector<std::vector<double>>& values,
                        double low, double high, const std::string& unit) {
  const double cw = 60, ch = 22, L = 110, T = 60;
  const double W = L + cw * col_labels.size() + 20, H = T + ch * row_labels.size() + 40;
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"10\" y=\"20\" font-size=\"14\">" << esc(title) << "</text>\n";
  for (size_t c = 0; c < col_labels.size(); ++c)
    o << "<text x=\"" << L + cw * c + cw / 2 << "\" y=\"" << T - 8 << "\" text-anchor=\"middle\">"
      << esc(col_labels[c]) << "</text>\n";
  for (size_t r = 0; r < row_labels.size(); ++r) {
    o << "<text x=\"" << L - 6 << "\" y=\"" << T + ch * r + 15 << "\" text-anchor=\"end\">" << esc(row_labels[r])
      << "</text>\n";
    for (size_t c = 0; c < col_labels.size(); ++c) {
      const double v = r < values.size() && c < values[r].size() ? values[r][c] : std::nan("");
      std::string fill = "#ccc";
      if (!std::isnan(v)) {
        const double f = high > low ? std::clamp((v - low) / (high - low), 0.0, 1.0) : 0.5;
        char b[16];
        std::snprintf(b, sizeof b, "#%02x%02x%02x", int(40 + 215 * f), int(90 + 60 * (1 - std::abs(2 * f - 1))),
                      int(255 - 215 * f));
        fill = b;
      }
      o << "<rect x=\"" << L + cw * c << "\" y=\"" << T + ch * r << "\" width=\"" << cw - 1 << "\" height=\""
        << ch - 1 << "\" fill=\"" << fill << "\"/>";
      if (!std::isnan(v))
        o << "<text x=\"" << L + cw * c + cw / 2 << "\" y=\"" << T + ch * r + 15 << "\" text-anchor=\"middle\">"
          << num(v) << "</text>";
      o << "\n";
    }
  }
  o << "<text x=\"10\" y=\"" << H - 12 << "\">colour: " << num(low) << " (blue) to " << num(high) << " (red) "
    << esc(unit) << "</text>\n</svg>\n";
  return o.str();
}

}  // namespace vosa::explore
