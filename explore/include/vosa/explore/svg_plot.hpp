// A small SVG writer for the explore report: line/scatter plots with error
// bars and a heatmap. No plotting package needed.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace vosa::explore {

struct PlotSeries {
  std::string name;
  std::vector<std::pair<double, double>> xy;
  std::vector<std::pair<double, double>> y_range;  // optional error bar (low, high) per point
  bool line = true;                                 // connect points (else markers only)
};

std::string svg_plot(const std::string& title, const std::string& x_label, const std::string& y_label,
                     const std::vector<PlotSeries>& series);

// values[row][col]; NaN cells are drawn grey. Colour runs from low (blue) to high (red).
std::string svg_heatmap(const std::string& title, const std::vector<std::string>& row_labels,
                        const std::vector<std::string>& col_labels, const std::vector<std::vector<double>>& values,
                        double low, double high, const std::string& unit);

}  // namespace vosa::explore
