// `vosa errmodel-csv`: flat tables of an error model, for spreadsheets and
// pandas: one row per (point, bit) with the point's P(any error), and on
// request the signed error-value distribution, the joint error patterns and
// the correct bits each pattern was measured with (schema 3), and the value
// classes' cycles and hit rates (schema 4).
#include "vosa/error_model.hpp"
#include "vosa/output_file.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>

namespace vosa {

namespace {

// Writes through a temporary file so a failure leaves no half-written CSV.
void write_csv(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    return;
  }
  write_output_file(path, text);
}

// One table: the point's columns, then the row's own, for each row of each point.
std::string table(const ErrorModel& m, const std::string& row_header,
                  const std::function<void(const ErrorModelPoint&, std::ostream&, const std::string&)>& rows) {
  std::ostringstream csv;
  csv.precision(9);
  csv << "voltage,period_ns,corner,delay_source,samples,cycles_with_error,p_any_error,pe_rows," << row_header << "\n";
  for (const auto& p : m.points) {
    std::ostringstream prefix;
    prefix.precision(9);
    // pe_rows: the point's band of PE rows, FIRST-LAST (docs/errmodel.md "PE positions"); empty: every row.
    prefix << p.voltage << "," << p.period_ns << "," << p.corner << "," << p.delay_source << "," << p.samples << ","
           << p.cycles_with_error << "," << p.p_any_error() << ","
           << (p.positioned() ? std::to_string(p.row_first) + "-" + std::to_string(p.row_last) : std::string()) << ",";
    rows(p, csv, prefix.str());
  }
  return csv.str();
}

// captured - correct of a cycle whose correct value has bits `r` at the
// positions of `mask` and that captures correct XOR mask: each flipped bit j
// adds +2^j when it was 0 and -2^j when it was 1, the sign bit of a signed
// acc_bits-wide register the opposite (the signed error vosa dta counts in
// error_values; it does not depend on the value's other bits).
std::int64_t signed_error(std::uint64_t mask, std::uint64_t r, int acc_bits, bool is_signed) {
  std::int64_t e = 0;
  for (int j = 0; j < acc_bits && j < 63; ++j) {  // 63: the weight must fit an int64
    if (!((mask >> j) & 1)) continue;
    const std::int64_t w = (is_signed && j == acc_bits - 1) ? -(std::int64_t{1} << j) : (std::int64_t{1} << j);
    e += ((r >> j) & 1) ? -w : w;
  }
  return e;
}

}  // namespace

void add_errmodel_csv_command(CLI::App& app) {
  struct Options {
    std::string model, out, values, patterns, correct_bits, value_classes;
  };
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "errmodel-csv",
      "Write an error model (errmodel.json) as CSV. Every table starts with the point's columns\n"
      "voltage,period_ns,corner,delay_source,samples,cycles_with_error,p_any_error; then\n"
      "  --out:      one row per bit:    bit,errors,p_error,ci95_low,ci95_high,mean_settle_ns\n"
      "  --values:   one row per signed error value (captured - correct): value,count,p_given_error,p\n"
      "  --patterns: one row per joint error mask (most frequent first): mask,bits,count,p\n"
      "  --correct-bits: one row per (joint error mask, the correct value's bits at its positions)\n"
      "              (schema 3; no rows for an older file): mask,correct_bits,count,p_given_mask,error\n"
      "  --value-classes: one row per (operand class, value class of the correct value) (schema 4;\n"
      "              operand_class empty: the point's own): operand_class,value_class,name,low_bit,class_samples,\n"
      "              class_cycles_with_error,p_error_measured,p_error_injected,patterns\n"
      "(docs/errmodel.md, \"CSV\").");
  cmd->add_option("model", opt->model, "errmodel.json")->required();
  cmd->add_option("--out", opt->out, "per-bit CSV file (default: standard output)");
  cmd->add_option("--values", opt->values, "also write the error-value distribution to this CSV file");
  cmd->add_option("--patterns", opt->patterns, "also write the joint error patterns to this CSV file");
  cmd->add_option("--correct-bits", opt->correct_bits,
                  "also write each joint pattern's correct bits (schema 3) and the signed error they give to this "
                  "CSV file");
  cmd->add_option("--value-classes", opt->value_classes,
                  "also write the value classes (schema 4): each one's cycles, errors and hit rate, per operand class "
                  "and for the point, to this CSV file");
  cmd->callback([opt]() {
    const ErrorModel m = ErrorModel::load(opt->model);
    const std::string bits = table(m, "bit,errors,p_error,ci95_low,ci95_high,mean_settle_ns",
                                   [](const ErrorModelPoint& p, std::ostream& csv, const std::string& prefix) {
                                     for (const auto& b : p.bits)
                                       csv << prefix << b.bit << "," << b.errors << "," << b.p_error << ","
                                           << b.ci_low << "," << b.ci_high << "," << b.mean_settle_ns << "\n";
                                   });
    const std::string values = table(m, "value,count,p_given_error,p",
                                     [](const ErrorModelPoint& p, std::ostream& csv, const std::string& prefix) {
                                       for (const auto& v : p.error_values)
                                         csv << prefix << v.value << "," << v.count << ","
                                             << (p.cycles_with_error ? double(v.count) / p.cycles_with_error : 0.0)
                                             << "," << (p.samples ? double(v.count) / p.samples : 0.0) << "\n";
                                     });
    const std::string patterns = table(m, "mask,bits,count,p",
                                       [](const ErrorModelPoint& p, std::ostream& csv, const std::string& prefix) {
                                         for (const auto& q : p.patterns) {
                                           std::string list;  // bit indices, space-separated
                                           for (int b = 63; b >= 0; --b)
                                             if (q.mask >> b & 1) list += (list.empty() ? "" : " ") + std::to_string(b);
                                           csv << prefix << q.mask << "," << list << "," << q.count << ","
                                               << (p.samples ? double(q.count) / p.samples : 0.0) << "\n";
                                         }
                                       });
    // correct_bits: correct & mask; error: captured - correct of such a cycle (the signed error the
    // sampler reproduces, docs/errmodel.md "Drawn to fit the correct value").
    const std::string correct = table(m, "mask,correct_bits,count,p_given_mask,error",
                                      [&m](const ErrorModelPoint& p, std::ostream& csv, const std::string& prefix) {
                                        for (const auto& q : p.patterns)
                                          for (const auto& [r, n] : q.correct_bits)
                                            csv << prefix << q.mask << "," << r << "," << n << ","
                                                << (q.count ? double(n) / q.count : 0.0) << ","
                                                << signed_error(q.mask, r, m.acc_bits, m.is_signed) << "\n";
                                      });
    // p_error_measured: errors / samples (empty without samples, older schema-4 files);
    // p_error_injected: ErrorModelPoint::p_any_error(cls, vcls), what the injectors draw
    // (docs/errmodel.md "Hit rate per value class").
    const std::string value_classes = table(
        m, "operand_class,value_class,name,low_bit,class_samples,class_cycles_with_error,p_error_measured,p_error_injected,patterns",
        [](const ErrorModelPoint& p, std::ostream& csv, const std::string& prefix) {
          const auto rows = [&](const ErrorModelPoint::ValueClasses& v, int cls) {
            for (std::size_t k = 0; k < v.by_class.size(); ++k) {
              const auto& c = v.by_class[k];
              csv << prefix << (cls < 0 ? std::string() : std::to_string(cls)) << "," << k << ","
                  << value_class_name(static_cast<int>(k)) << "," << v.low_bit << ",";
              if (v.has_samples)
                csv << c.samples << "," << c.cycles_with_error << ","
                    << (c.samples ? double(c.cycles_with_error) / c.samples : 0.0) << ","
                    << p.p_any_error(cls, static_cast<int>(k));
              else
                csv << "," << c.cycles_with_error << ",,";
              csv << "," << c.patterns.size() << "\n";
            }
          };
          if (!p.value_classes.empty()) rows(p.value_classes, -1);
          for (std::size_t k = 0; k < p.class_value_classes.size(); ++k)
            if (!p.class_value_classes[k].empty()) rows(p.class_value_classes[k], static_cast<int>(k));
        });
    if (!opt->value_classes.empty()) write_csv(opt->value_classes, value_classes);
    if (!opt->values.empty()) write_csv(opt->values, values);
    if (!opt->patterns.empty()) write_csv(opt->patterns, patterns);
    if (!opt->correct_bits.empty()) write_csv(opt->correct_bits, correct);
    write_csv(opt->out, bits);
  });
}

}  // namespace vosa
