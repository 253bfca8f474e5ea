// Drawing and applying PE timing errors to one array layer (see inject.hpp).
#include "vosa/inject.hpp"

#include "vosa/carry_save.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

namespace vosa::inject {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// The register's bits read as an acc_bits-wide integer.
std::int64_t field_value(std::uint64_t bits, int acc_bits, bool is_signed) {
  if (is_signed && ((bits >> (acc_bits - 1)) & 1)) return static_cast<std::int64_t>(bits) - (std::int64_t{1} << acc_bits);
  return static_cast<std::int64_t>(bits);
}

int ceil_div(int a, int b) { return (a + b - 1) / b; }

std::string list_voltages(const std::vector<double>& v) {
  std::ostringstream s;
  for (std::size_t i = 0; i < v.size(); ++i) s << (i ? ", " : "") << v[i];
  return s.str();
}

}  // namespace

// ---------------------------------------------------------------- Rng

Rng::Rng(std::uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
double Rng::uniform_open() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t sample, std::uint64_t repeat, std::uint64_t layer) {
  std::uint64_t x = seed;
  std::uint64_t h = splitmix64(x);
  for (std::uint64_t v : {sample, repeat, layer}) {
    x = h ^ (v + 0x632be59bd9b4e019ULL);
    h = splitmix64(x);
  }
  return h;
}

// ---------------------------------------------------------------- PointSampler

PointSampler::PointSampler(const ErrorModelPoint& point, int acc_bits)
    : PointSampler(std::vector<const ErrorModelPoint*>{&point}, acc_bits, 0) {}

PointSampler::PointSampler(const std::vector<const ErrorModelPoint*>& bands, int acc_bits, int rows) {
  if (bands.empty()) throw InjectError("error model point: no points");
  for (const ErrorModelPoint* pt : bands) {
    const std::string where = "error model point " + std::to_string(pt->voltage) + " V, " +
                              std::to_string(pt->period_ns) + " ns" +
                              (pt->positioned() ? ", PE rows " + std::to_string(pt->row_first) + "-" +
                                                      std::to_string(pt->row_last)
                                                : "");
    const auto check_bits = [&](const ErrorModelPoint::ClassStats& stats) {
      for (const auto& p : stats.patterns)
        if (acc_bits < 64 && (p.mask >> acc_bits) != 0)
          throw InjectError(where + ": error pattern " + std::to_string(p.mask) + " has bits above acc_bits " +
                            std::to_string(acc_bits));
      for (const auto& b : stats.bits)
        if (b.p_error > 0 && b.bit >= acc_bits)
          throw InjectError(where + ": bit " + std::to_string(b.bit) + " is above acc_bits " + std::to_string(acc_bits));
    };
    Band band;
    band.point = *pt;
    check_bits({pt->samples, pt->cycles_with_error, pt->bits, pt->patterns});
    band.masks = pt->mask_sampler();
    // Per-class statistics in the file: each class's masks from its own patterns.
    for (int k = 0; k < static_cast<int>(pt->classes.size()); ++k) {
      const ErrorModelPoint::ClassStats& c = pt->classes[static_cast<std::size_t>(k)];
      check_bits(c);
      band.class_masks.push_back(c.cycles_with_error ? std::optional<ErrorMaskSampler>(pt->mask_sampler(k))
                                                     : std::nullopt);
    }
    bands_.push_back(std::move(band));
  }
  // Bands in row order; the last one stands for the point (ErrorModel::nearest's choice).
  std::sort(bands_.begin(), bands_.end(),
            [](const Band& x, const Band& y) { return x.point.row_first < y.point.row_first; });
  if (bands_.size() > 1 || bands_.front().point.positioned()) {
    std::vector<const ErrorModelPoint*> sorted;
    for (const Band& b : bands_) sorted.push_back(&b.point);
    for (int r = 0; r < rows; ++r) {
      try {
        const ErrorModelPoint& p = ErrorModel::band_for_row(sorted, r);
        band_of_row_.push_back(static_cast<int>(std::find(sorted.begin(), sorted.end(), &p) - sorted.begin()));
      } catch (const ErrorModelError& e) {
        throw InjectError(std::string(e.what()) + " (the array has " + std::to_string(rows) + " rows)");
      }
    }
    for (const Band& b : bands_) {
      rows_differ_ |= b.point.p_any_error() != bands_.front().point.p_any_error();
      for (int k = 0; k < kOperandClasses; ++k)
        rows_differ_ |= b.point.p_any_error(k) != bands_.front().point.p_any_error(k);
    }
  }
  for (const Band& b : bands_) {
    keeps_correct_bits_ |= b.masks.keeps_correct_bits();
    for (const auto& c : b.class_masks) keeps_correct_bits_ |= c && c->keeps_correct_bits();
  }
  p_max_ = compute_p_max();
  set_value_rates();
  // 1024 masks per class (and of the whole point) of the last row's band, a
  // fixed stream: the sampled injector's variance and Razor-detection rates.
  Rng rng(0x5eed);
  const ErrorModelPoint& last = bands_.back().point;
  const int sampled_classes = last.has_classes() ? kOperandClasses : 0;
  for (int c = -1; c < sampled_classes; ++c) {
    std::vector<std::uint64_t> masks;
    if (last.cycles_with_error)
      for (int i = 0; i < 1024; ++i) masks.push_back(sample_mask(rng, c));
    mask_samples_.push_back(std::move(masks));
  }
}

const std::vector<std::uint64_t>& PointSampler::mask_sample(int cls) const {
  const std::size_t i = static_cast<std::size_t>(cls + 1);
  return i < mask_samples_.size() ? mask_samples_[i] : mask_samples_.front();
}

const PointSampler::Band& PointSampler::band_of(int row) const {
  if (band_of_row_.empty() || row < 0) return bands_.back();
  if (row >= static_cast<int>(band_of_row_.size()))
    throw InjectError("PE row " + std::to_string(row) + " is outside the error model's " +
                      std::to_string(band_of_row_.size()) + " rows");
  return bands_[static_cast<std::size_t>(band_of_row_[static_cast<std::size_t>(row)])];
}

double PointSampler::p_error(const Band& band, int cls) const {
  if (classes_) {
    if (cls < 0 || static_cast<std::size_t>(cls) >= classes_->p_error.size())
      throw InjectError("operand class " + std::to_string(cls) + " has no error probability");
    return classes_->p_error[static_cast<std::size_t>(cls)];
  }
  return band.point.has_classes() ? band.point.p_any_error(cls) : band.point.p_any_error();
}

int PointSampler::class_of(const CaptureOperands& operands) const {
  if (classes_) return classes_->class_of(operands);
  return has_classes() ? operand_class(operands.prev_activation, operands.activation, operands.weight) : 0;
}

std::uint64_t PointSampler::sample_mask(Rng& rng, int cls, int row) const {
  const Band& band = band_of(row);
  const auto u01 = [&rng] { return rng.uniform(); };
  if (!classes_ && cls >= 0 && static_cast<std::size_t>(cls) < band.class_masks.size() &&
      band.class_masks[static_cast<std::size_t>(cls)])
    return band.class_masks[static_cast<std::size_t>(cls)]->draw(u01);
  return band.masks.draw(u01);
}

double PointSampler::compute_p_max() const {
  double m = 0;
  for (const Band& b : bands_) {
    if (!has_classes()) m = std::max(m, b.point.p_any_error());
    else if (classes_) m = std::max(m, *std::max_element(classes_->p_error.begin(), classes_->p_error.end()));
    else m = std::max(m, b.point.p_any_error_max());
  }
  return m;
}

double PointSampler::p_upper(const Band& band, int cls) const {
  if (!value_rates_) return p_error(band, cls);
  return band.point.p_any_error_upper(band.point.has_classes() ? cls : -1);
}

double PointSampler::accept_class_by_value(int cls, int row) const {
  if (!value_rates_) return accept_class(cls, row);
  return p_max_by_value_ > 0 ? p_upper(band_of(row), cls) / p_max_by_value_ : 0.0;
}

double PointSampler::accept_value(int cls, int row, std::uint64_t correct, int acc_bits) const {
  if (!value_rates_) return 1.0;
  const Band& band = band_of(row);
  const int k = band.point.has_classes() ? cls : -1;
  const double upper = p_upper(band, cls);
  return upper > 0 ? band.point.p_any_error(k, band.point.value_class_of(k, correct, acc_bits)) / upper : 0.0;
}

double PointSampler::accept(const CaptureOperands& operands) const {
  if (!thins()) return 1.0;
  return accept_class(has_classes() ? class_of(operands) : -1, operands.row);
}

double PointSampler::accept_class(int cls, int row) const {
  if (!thins()) return 1.0;
  return p_max_ > 0 ? p_error(band_of(row), cls) / p_max_ : 0.0;
}

void PointSampler::set_classes(OperandClasses classes) {
  if (!classes.class_of || classes.p_error.empty())
    throw InjectError("operand classes need a classifier and one probability per class");
  classes_ = std::move(classes);  // a caller's own classes: the whole point's masks
  p_max_ = compute_p_max();
  set_value_rates();
}

void PointSampler::set_value_rates() {
  value_rates_ = !classes_ && std::any_of(bands_.begin(), bands_.end(),
                                          [](const Band& b) { return b.point.has_value_rates(); });
  p_max_by_value_ = p_max_;
  if (!value_rates_) return;
  p_max_by_value_ = 0;
  for (const Band& b : bands_) {
    if (!b.point.has_classes()) p_max_by_value_ = std::max(p_max_by_value_, p_upper(b, -1));
    else
      for (int k = 0; k < kOperandClasses; ++k) p_max_by_value_ = std::max(p_max_by_value_, p_upper(b, k));
  }
}

std::uint64_t PointSampler::sample_mask(Rng& rng) const { return sample_mask(rng, -1); }

std::uint64_t PointSampler::sample_mask(Rng& rng, int cls, int row, std::uint64_t correct,
                                        std::uint64_t acc_mask) const {
  const Band& band = band_of(row);
  const auto u01 = [&rng] { return rng.uniform(); };
  if (!classes_ && cls >= 0 && static_cast<std::size_t>(cls) < band.class_masks.size() &&
      band.class_masks[static_cast<std::size_t>(cls)])
    return band.class_masks[static_cast<std::size_t>(cls)]->draw(u01, correct, acc_mask);
  return band.masks.draw(u01, correct, acc_mask);
}

bool PointSampler::razor_characterized(std::uint64_t protected_mask) const {
  return std::all_of(bands_.begin(), bands_.end(),
                     [&](const Band& b) { return b.point.razor_characterized(protected_mask, true); });
}

std::uint64_t PointSampler::draw_razor_missed(std::uint64_t late, Rng& rng, int row) const {
  const ErrorModelPoint& point = band_of(row).point;
  if (!point.razor) return 0;
  std::uint64_t missed = 0;
  for (int j = 0; late >> j; ++j)
    if (((late >> j) & 1) && rng.uniform() < point.razor->miss_given_late(j)) missed |= std::uint64_t{1} << j;
  return missed;
}

// ---------------------------------------------------------------- ThinnedSampler

ThinnedSampler::ThinnedSampler(const PointSampler& sampler, std::uint64_t razor, int acc_bits)
    : base_(sampler), razor_(razor) {
  const std::uint64_t register_bits = acc_bits >= 64 ? ~0ULL : (std::uint64_t{1} << acc_bits) - 1;
  const int classes = sampler.classes_ ? static_cast<int>(sampler.classes_->p_error.size())
                      : sampler.has_classes() ? kOperandClasses
                                              : 0;
  for (const PointSampler::Band& band : sampler.bands_) {
    std::vector<double> p, p_error, p_detected;
    std::vector<ErrorMaskSampler> masks;
    for (int c = -1; c < classes; ++c) {
      // The masks PointSampler::sample_mask draws for this band and class.
      const bool own = !sampler.classes_ && c >= 0 && static_cast<std::size_t>(c) < band.class_masks.size() &&
                       band.class_masks[static_cast<std::size_t>(c)];
      const ErrorMaskSampler& all = own ? *band.class_masks[static_cast<std::size_t>(c)] : band.masks;
      const double pe = c < 0 ? band.point.p_any_error() : sampler.p_error(band, c);
      auto [kept, p_kept] = all.restricted_to(register_bits & ~razor);
      p.push_back(pe * p_kept);
      p_error.push_back(pe);
      p_detected.push_back(pe * all.restricted_to(razor).second);
      masks.push_back(std::move(kept));
      p_max_ = std::max(p_max_, p.back());
    }
    p_.push_back(std::move(p));
    p_error_.push_back(std::move(p_error));
    p_detected_.push_back(std::move(p_detected));
    masks_.push_back(std::move(masks));
  }
}

std::size_t ThinnedSampler::band_index(int row) const {
  if (base_.band_of_row_.empty() || row < 0) return p_.size() - 1;
  return static_cast<std::size_t>(base_.band_of_row_.at(static_cast<std::size_t>(row)));
}

double ThinnedSampler::at(const std::vector<std::vector<double>>& table, int cls, int row) const {
  const std::vector<double>& band = table[band_index(row)];
  const std::size_t i = static_cast<std::size_t>(cls + 1);
  return i < band.size() ? band[i] : band.front();
}

double ThinnedSampler::accept_class(int cls, int row) const {
  return p_max_ > 0 ? at(p_, cls, row) / p_max_ : 0.0;
}

std::uint64_t ThinnedSampler::sample_mask(Rng& rng, int cls, int row) const {
  const auto& band = masks_[band_index(row)];
  const std::size_t i = static_cast<std::size_t>(cls + 1);
  return (i < band.size() ? band[i] : band.front()).draw([&rng] { return rng.uniform(); });
}

// ---------------------------------------------------------------- LayerOperands

LayerOperands::LayerOperands(const tflite::Model& model, const engine::PreparedOp& layer, const int8_t* input,
                             int cols)
    : geometry_(layer.geometry),
      input_(input),
      weights_(reinterpret_cast<const int8_t*>(model.tensor(layer.op->inputs[1]).data.data())),
      pad_(static_cast<int8_t>(-layer.input_offset)),
      cols_(cols),
      gemms_(layer.geometry.depthwise ? ceil_div(layer.geometry.out_c, cols) : 1) {}

LayerOperands::LayerOperands(const tflite::Model& model, const engine::PreparedOp& layer, const int8_t* input,
                             const ArrayShape& shape)
    : LayerOperands(model, layer, input, shape.cols) {
  if (!shape.depthwise_mode(geometry_)) return;
  plan_ = lowering::lane_plan(geometry_, shape.rows, shape.depthwise_group_rows);
  for (const auto& pass : plan_) per_row_.push_back(lowering::lane_vectors_per_row(geometry_, pass));
  rows_ = shape.rows;
  group_rows_ = shape.depthwise_group_rows;
  blocks_ = ceil_div(geometry_.out_c, cols_);
  gemms_ = static_cast<int>(plan_.size()) * blocks_;
}

int LayerOperands::vectors(int gemm) const {
  if (plan_.empty()) return m();
  return geometry_.batch * geometry_.out_h * per_row_[static_cast<std::size_t>(gemm / blocks_)];
}

int LayerOperands::max_vectors() const {
  int most = 0;
  for (int g = 0; g < gemms_; ++g) most = std::max(most, vectors(g));
  return most;
}

int LayerOperands::n(int gemm) const {
  if (!plan_.empty()) return std::min(cols_, geometry_.out_c - (gemm % blocks_) * cols_);
  return geometry_.depthwise ? std::min(cols_, geometry_.out_c - gemm * cols_) : geometry_.out_c;
}

int LayerOperands::k(int gemm) const {
  if (!plan_.empty()) return rows_;
  return geometry_.depthwise ? n(gemm) * geometry_.taps() : geometry_.reduction();
}

int LayerOperands::out_channel(int gemm, int j) const {
  if (!plan_.empty()) return (gemm % blocks_) * cols_ + j;
  return geometry_.depthwise ? gemm * cols_ + j : j;
}

std::int64_t LayerOperands::output_index(int gemm, int m, int j) const {
  if (!plan_.empty())
    return lowering::lane_output_index(geometry_, per_row_[static_cast<std::size_t>(gemm / blocks_)], m,
                                       out_channel(gemm, j));
  return static_cast<std::int64_t>(m) * geometry_.out_c + out_channel(gemm, j);
}

int LayerOperands::lane_value(int gemm, int lane, int t, int j) const {
  const std::size_t pass = static_cast<std::size_t>(gemm / blocks_);
  const lowering::LaneRun& run = plan_[pass][static_cast<std::size_t>(lane)];
  // An idle lane, a vector beyond the pass's last (the lanes read zero there).
  if (run.len == 0 || t < 0 || t >= vectors(gemm)) return 0;
  const std::int64_t at =
      lowering::lane_input_index(geometry_, run, per_row_[pass], t, out_channel(gemm, j) / geometry_.depth_multiplier);
  return at >= 0 ? input_[at] : pad_;
}

LayerOperands::Tap LayerOperands::tap_of(int gemm, int k) const {
  const lowering::ConvGeometry& g = geometry_;
  int ci, tap;
  if (g.depthwise) {
    tap = k % g.taps();
    ci = (gemm * cols_ + k / g.taps()) / g.depth_multiplier;
  } else {
    tap = k / g.in_c;
    ci = k % g.in_c;
  }
  return {ci, tap / g.kernel_w, tap % g.kernel_w};
}

int LayerOperands::input_at(const Tap& t, int m) const {
  const lowering::ConvGeometry& g = geometry_;
  const int per_image = g.out_h * g.out_w;
  const int b = m / per_image, oy = (m % per_image) / g.out_w, ox = m % g.out_w;
  const int iy = oy * g.stride_h - g.pad_top + t.ky * g.dilation_h;
  const int ix = ox * g.stride_w - g.pad_left + t.kx * g.dilation_w;
  if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) return pad_;
  return input_[((static_cast<std::size_t>(b) * g.in_h + iy) * g.in_w + ix) * g.in_c + t.channel];
}

int LayerOperands::a(int gemm, int m, int k, int j) const {
  // Depthwise mode: row k meets its lane's value for vector m + k % group_rows.
  if (!plan_.empty()) return lane_value(gemm, k / group_rows_, m + k % group_rows_, j);
  return input_at(tap_of(gemm, k), m);
}

std::pair<int, int> LayerOperands::a_and_previous(int gemm, int m, int k, int j) const {
  if (!plan_.empty()) return {a(gemm, m, k, j), m > 0 ? a(gemm, m - 1, k, j) : 0};
  const Tap t = tap_of(gemm, k);
  return {input_at(t, m), m > 0 ? input_at(t, m - 1) : 0};
}

int LayerOperands::b(int gemm, int k, int j) const {
  const lowering::ConvGeometry& g = geometry_;
  if (!plan_.empty()) {
    const lowering::LaneRun& run = plan_[static_cast<std::size_t>(gemm / blocks_)][static_cast<std::size_t>(k / group_rows_)];
    const int i = k % group_rows_;
    return i < run.len && j < n(gemm) ? weights_[lowering::lane_weight_index(g, run, i, out_channel(gemm, j))] : 0;
  }
  if (!g.depthwise) return weights_[static_cast<std::size_t>(j) * g.reduction() + k];
  if (k / g.taps() != j) return 0;  // block-diagonal
  return weights_[static_cast<std::size_t>(k % g.taps()) * g.out_c + gemm * cols_ + j];
}

LayerOperands::ColumnWeights LayerOperands::column_weights(int gemm, int j) const {
  const lowering::ConvGeometry& g = geometry_;
  // Depthwise mode: the tile's rows are not strided in the filter tensor; no
  // data pointer (the injector runs such layers exact, which reads only the extent).
  if (!plan_.empty()) return {nullptr, rows_, 0, 0};
  if (!g.depthwise) return {weights_ + static_cast<std::size_t>(j) * g.reduction(), g.reduction(), 1, 0};
  return {weights_ + gemm * cols_ + j, g.taps(), g.out_c, j * g.taps()};
}

void LayerOperands::activations(int gemm, int k, std::int8_t* out) const {
  const lowering::ConvGeometry& g = geometry_;
  const Tap t = tap_of(gemm, k);
  std::size_t m = 0;
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < g.out_h; ++oy) {
      const int iy = oy * g.stride_h - g.pad_top + t.ky * g.dilation_h;
      const bool row_in = iy >= 0 && iy < g.in_h;
      const int8_t* row = input_ + ((static_cast<std::size_t>(b) * g.in_h + (row_in ? iy : 0)) * g.in_w) * g.in_c + t.channel;
      for (int ox = 0; ox < g.out_w; ++ox, ++m) {
        const int ix = ox * g.stride_w - g.pad_left + t.kx * g.dilation_w;
        out[m] = row_in && ix >= 0 && ix < g.in_w ? row[static_cast<std::size_t>(ix) * g.in_c] : pad_;
      }
    }
}

void LayerOperands::chain_products(int gemm, int m, int j, int k0, int count, std::int64_t* out) const {
  const lowering::ConvGeometry& g = geometry_;
  if (!plan_.empty()) {
    for (int i = 0; i < count; ++i) {
      const int kk = k0 + i;
      const int w = kk < rows_ ? b(gemm, kk, j) : 0;
      out[i] = w ? static_cast<std::int64_t>(a(gemm, m, kk, j)) * w : 0;
    }
    return;
  }
  const int k_end = std::min(k0 + count, k(gemm));
  const int per_image = g.out_h * g.out_w;
  const int b = m / per_image, oy = (m % per_image) / g.out_w, ox = m % g.out_w;
  const int8_t* image = input_ + static_cast<std::size_t>(b) * g.in_h * g.in_w * g.in_c;
  const int iy0 = oy * g.stride_h - g.pad_top, ix0 = ox * g.stride_w - g.pad_left;
  auto activation = [&](int tap, int ci) -> int {
    const int iy = iy0 + (tap / g.kernel_w) * g.dilation_h, ix = ix0 + (tap % g.kernel_w) * g.dilation_w;
    if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) return pad_;
    return image[(static_cast<std::size_t>(iy) * g.in_w + ix) * g.in_c + ci];
  };
  int i = 0;
  if (g.depthwise) {
    // Only column j's own block of taps is non-zero.
    const int oc = gemm * cols_ + j, ci = oc / g.depth_multiplier;
    for (int kk = k0; kk < k_end; ++kk, ++i) {
      const int tap = kk - j * g.taps();
      out[i] = tap >= 0 && tap < g.taps()
                   ? static_cast<std::int64_t>(activation(tap, ci)) * weights_[static_cast<std::size_t>(tap) * g.out_c + oc]
                   : 0;
    }
  } else {
    // Incremental (tap, channel) decode of k along the chain.
    const int8_t* w = weights_ + static_cast<std::size_t>(j) * g.reduction();
    int tap = k0 / g.in_c, ci = k0 % g.in_c;
    for (int kk = k0; kk < k_end; ++kk, ++i) {
      out[i] = w[kk] ? static_cast<std::int64_t>(activation(tap, ci)) * w[kk] : 0;
      if (++ci == g.in_c) {
        ci = 0;
        ++tap;
      }
    }
  }
  for (; i < count; ++i) out[i] = 0;  // rows below the end of K
}

// ---------------------------------------------------------------- counting

LayerStats& LayerStats::operator+=(const LayerStats& o) {
  captures += o.captures;
  hits += o.hits;
  razor_detected += o.razor_detected;
  razor_error_cycles += o.razor_error_cycles;
  corrupted_outputs += o.corrupted_outputs;
  cycles += o.cycles;
  return *this;
}

nlohmann::json to_json(const LayerStats& s) {
  return {{"op", s.op},
          {"captures", s.captures},
          {"hits", s.hits},
          {"razor_detected", s.razor_detected},
          {"razor_error_cycles", s.razor_error_cycles},
          {"corrupted_outputs", s.corrupted_outputs},
          {"cycles", s.cycles}};
}

LayerStats layer_stats_from_json(const nlohmann::json& j, const std::string& where) {
  LayerStats s;
  try {
    s.op = j.at("op").get<std::size_t>();
    s.captures = j.at("captures").get<std::uint64_t>();
    s.hits = j.at("hits").get<std::uint64_t>();
    s.razor_detected = j.at("razor_detected").get<std::uint64_t>();
    s.razor_error_cycles = j.at("razor_error_cycles").get<std::uint64_t>();
    s.corrupted_outputs = j.at("corrupted_outputs").get<std::uint64_t>();
    s.cycles = j.at("cycles").get<std::uint64_t>();
  } catch (const nlohmann::json::exception& e) {
    throw InjectError(where + ": layer counts: " + e.what());
  }
  return s;
}

namespace {

// Calls f(n, k) for every GEMM of the layer (depthwise: groups of cols channels).
template <class F>
void for_each_gemm(const lowering::ConvGeometry& g, int cols, F f) {
  if (!g.depthwise) {
    f(g.out_c, g.reduction());
    return;
  }
  for (int c0 = 0; c0 < g.out_c; c0 += cols) {
    const int group = std::min(cols, g.out_c - c0);
    f(group, group * g.taps());
  }
}

}  // namespace

std::uint64_t layer_cycles(const lowering::ConvGeometry& geometry, const ArrayShape& shape) {
  if (shape.depthwise_mode(geometry))
    return static_cast<std::uint64_t>(
        lowering::lanes_cycles(geometry, shape.rows, shape.cols, shape.depthwise_group_rows));
  std::uint64_t total = 0;
  const std::uint64_t per_tile = tile_cycles(shape, geometry.rows());
  for_each_gemm(geometry, shape.cols, [&](int n, int k) {
    total += static_cast<std::uint64_t>(ceil_div(n, shape.cols)) * ceil_div(k, shape.rows) * per_tile;
  });
  return total;
}

std::uint64_t tile_cycles(const ArrayShape& shape, int streamed_rows) {
  return static_cast<std::uint64_t>(2 * shape.rows + streamed_rows + shape.cols - 1);
}

std::uint64_t layer_captures(const lowering::ConvGeometry& geometry, const ArrayShape& shape) {
  std::uint64_t total = 0;
  if (shape.depthwise_mode(geometry)) {
    // Per pass: every used column's rows capture each of the pass's vectors.
    for (const auto& pass : lowering::lane_plan(geometry, shape.rows, shape.depthwise_group_rows))
      total += static_cast<std::uint64_t>(geometry.batch) * geometry.out_h * lowering::lane_vectors_per_row(geometry, pass) *
               static_cast<std::uint64_t>(geometry.out_c) * shape.rows;
    return total;
  }
  for_each_gemm(geometry, shape.cols, [&](int n, int k) {
    total += static_cast<std::uint64_t>(n) * ceil_div(k, shape.rows) * geometry.rows() * shape.rows;
  });
  return total;
}

// ---------------------------------------------------------------- applying hits

namespace {

// Distinct (tile, cycle of the tile's stream) pairs with a detected error:
// the Razor error cycles. PE (r, c) handles row m of its tile at cycle m + r + c.
class RazorCycles {
 public:
  RazorCycles(const LayerOperands& ops, int rows, int cols)
      : rows_(rows), cols_(cols), tile_cycles_(static_cast<std::uint64_t>(ops.max_vectors() + rows + cols)),
        tile_base_(static_cast<std::size_t>(ops.gemms()) + 1, 0) {
    for (int g = 0; g < ops.gemms(); ++g)
      tile_base_[static_cast<std::size_t>(g) + 1] =
          tile_base_[static_cast<std::size_t>(g)] +
          static_cast<std::uint64_t>(ceil_div(ops.n(g), cols)) * ceil_div(ops.k(g), rows);
  }
  // Counts the cycle of a detected hit once; returns whether it was new.
  bool add(const LayerOperands& ops, const Hit& x) {
    const std::uint64_t tile = tile_base_[static_cast<std::size_t>(x.gemm)] +
                               static_cast<std::uint64_t>(x.column / cols_) * ceil_div(ops.k(x.gemm), rows_) +
                               static_cast<std::uint64_t>(x.k_tile);
    const std::uint64_t bit = tile * tile_cycles_ + static_cast<std::uint64_t>(x.m + x.row + x.column % cols_);
    if (bits_.empty()) bits_.assign((tile_base_.back() * tile_cycles_ + 63) / 64, 0);
    std::uint64_t& word = bits_[bit / 64];
    const std::uint64_t m = std::uint64_t{1} << (bit % 64);
    const bool added = (word & m) == 0;
    word |= m;
    return added;
  }

 private:
  int rows_, cols_;
  std::uint64_t tile_cycles_;
  std::vector<std::uint64_t> tile_base_;  // first tile index of each GEMM
  std::vector<std::uint64_t> bits_;       // one bit per (tile, cycle), allocated on the first detection
};

// Adds a column's summed errors to its accumulators (the engine's int32
// accumulator: the K tiles are summed exactly outside the array; saturating,
// out of reach for realistic acc_bits and K), counting the changed ones.
// Depthwise mode: several passes add to one accumulator, so the changed ones
// are counted at the end against their values before (`before`: index and
// value at its first change; count_changed).
using BeforeValues = std::vector<std::pair<std::int64_t, std::int32_t>>;
void flush_column_deltas(const LayerOperands& ops, int g, int j, std::vector<std::int64_t>& column_delta,
                         std::vector<int>& touched, std::vector<int32_t>& acc, std::uint64_t& corrupted,
                         BeforeValues* before = nullptr) {
  for (int m : touched) {
    std::int64_t& d = column_delta[static_cast<std::size_t>(m)];
    const std::int64_t at = ops.output_index(g, m, j);
    if (!d || at < 0) {  // (a discarded vector of the depthwise mode reaches no accumulator)
      d = 0;
      continue;
    }
    std::int32_t& a = acc.at(static_cast<std::size_t>(at));
    if (before) before->emplace_back(at, a);
    else ++corrupted;
    a = static_cast<std::int32_t>(std::clamp<std::int64_t>(static_cast<std::int64_t>(a) + d,
                                                           std::numeric_limits<std::int32_t>::min(),
                                                           std::numeric_limits<std::int32_t>::max()));
    d = 0;
  }
  touched.clear();
}

std::uint64_t count_changed(BeforeValues& before, const std::vector<int32_t>& acc) {
  std::stable_sort(before.begin(), before.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::uint64_t changed = 0;
  for (std::size_t i = 0; i < before.size(); ++i)
    if ((i == 0 || before[i].first != before[i - 1].first) && acc[static_cast<std::size_t>(before[i].first)] != before[i].second)
      ++changed;
  return changed;
}

// apply_hits for hits already in chain order (gemm, column, k tile, m, row).
// With `redraw` (a schema-3 model, no Razor, carry-propagate partial sums):
// each hit's mask is drawn again from its column's sampler once the
// capture's correct value (the partial sum the PE computes from what the PE
// above passed on) is known, so that it fits that value's bits
// (docs/errmodel.md "The injection's form").
struct Redraw {
  std::function<const PointSampler*(int array_column)> sampler_of;
  Rng* rng = nullptr;
};
LayerStats apply_ordered_hits(const LayerOperands& ops, const ArrayShape& shape, const RazorSetting& razor,
                              const std::vector<Hit>& hits, std::vector<int32_t>& acc,
                              const Redraw* redraw = nullptr) {
  LayerStats st;
  st.hits = hits.size();
  if (hits.empty()) return st;
  const int rows = shape.rows, cols = shape.cols;
  const std::uint64_t acc_mask = shape.acc_bits >= 64 ? ~0ULL : (std::uint64_t{1} << shape.acc_bits) - 1;
  // Carry-save: masks are pair masks (sum word low, carry word high).
  const std::uint64_t hit_bits = shape.mask_bits() >= 64 ? ~0ULL : (std::uint64_t{1} << shape.mask_bits()) - 1;
  const std::uint64_t protect = shape.protected_mask(razor.mask);
  RazorCycles razor_cycles(ops, rows, cols);
  std::vector<std::uint64_t> flip(static_cast<std::size_t>(rows)), missed(static_cast<std::size_t>(rows));
  std::vector<const Hit*> hit_at(static_cast<std::size_t>(rows), nullptr);
  if (redraw && (shape.carry_save || razor.mask)) redraw = nullptr;
  if (!redraw && std::any_of(hits.begin(), hits.end(), [](const Hit& x) { return x.by_value; }))
    throw InjectError("hits drawn at the value classes' upper rates (Hit::by_value) need the injector's chain walk "
                      "to thin them (Injector::corrupt), on a carry-propagate array without Razor");
  std::uint64_t thinned_out = 0;  // by_value candidates not kept
  std::vector<std::int64_t> prod(static_cast<std::size_t>(rows));
  // Error of each output of the current GEMM column, summed over K tiles.
  std::vector<std::int64_t> column_delta(static_cast<std::size_t>(ops.max_vectors()), 0);
  std::vector<int> touched;
  BeforeValues before;
  BeforeValues* mode_before = ops.depthwise_mode() ? &before : nullptr;
  for (std::size_t h = 0; h < hits.size();) {
    const Hit& first = hits[h];
    // One column chain: every hit of (gemm, column, k tile, m).
    std::fill(flip.begin(), flip.end(), 0);
    std::fill(missed.begin(), missed.end(), 0);
    if (redraw) std::fill(hit_at.begin(), hit_at.end(), nullptr);
    bool changes = false;
    std::size_t e = h;
    for (; e < hits.size() && hits[e].gemm == first.gemm && hits[e].column == first.column &&
           hits[e].k_tile == first.k_tile && hits[e].m == first.m;
         ++e) {
      const Hit& x = hits[e];
      if (x.row < 0 || x.row >= rows || x.mask == 0 || (x.mask & ~hit_bits) || x.m < 0 || x.m >= ops.vectors(x.gemm))
        throw InjectError("hit at row " + std::to_string(x.row) + ", m " + std::to_string(x.m) + " with mask " +
                          std::to_string(x.mask) + " does not fit the " + std::to_string(rows) + "-row, " +
                          std::to_string(shape.acc_bits) + "-bit " + (shape.carry_save ? "carry-save " : "") +
                          "array and the layer");
      flip[static_cast<std::size_t>(x.row)] |= x.mask;
      if (redraw) hit_at[static_cast<std::size_t>(x.row)] = &x;
      missed[static_cast<std::size_t>(x.row)] |= x.razor_missed & x.mask & protect;
      if (x.mask & protect & ~x.razor_missed) {  // some late protected bit with a right shadow: flagged
        ++st.razor_detected;
        st.razor_error_cycles += razor_cycles.add(ops, x);
      }
      // A fully corrected hit leaves the chain as it was.
      if (!(razor.policy == RazorPolicy::Correct && (x.mask & protect) && !(x.mask & ~protect) && !x.razor_missed))
        changes = true;
    }
    if (changes) {
      const int g = first.gemm, j = first.column;
      ops.chain_products(g, first.m, j, first.k_tile * rows, rows, prod.data());
      std::uint64_t s = 0, clean = 0;
      if (shape.carry_save) {
        // The column's sum and carry words, PE by PE (vosa/carry_save.hpp);
        // the column adder at the bottom adds them (it takes no errors).
        CarrySaveWords w, clean_words;
        for (int r = 0; r < rows; ++r) {
          const auto pr = static_cast<std::uint64_t>(prod[static_cast<std::size_t>(r)]);
          clean_words = carry_save_add(clean_words.sum, clean_words.carry, pr, shape.acc_bits);
          w = carry_save_capture(w, pr, shape.acc_bits, flip[static_cast<std::size_t>(r)], razor.mask,
                                 razor.policy == RazorPolicy::Correct);
        }
        s = carry_save_value(w, shape.acc_bits);
        clean = carry_save_value(clean_words, shape.acc_bits);
      }
      for (int r = 0; r < rows && !shape.carry_save; ++r) {
        const auto pr = static_cast<std::uint64_t>(prod[static_cast<std::size_t>(r)]);
        clean = (clean + pr) & acc_mask;
        const std::uint64_t sum = (s + pr) & acc_mask;
        std::uint64_t f = flip[static_cast<std::size_t>(r)];
        const std::uint64_t u = missed[static_cast<std::size_t>(r)];
        if (redraw && hit_at[static_cast<std::size_t>(r)]) {
          const Hit& x = *hit_at[static_cast<std::size_t>(r)];
          const PointSampler* sp = redraw->sampler_of(x.column % cols);
          // A candidate at the value classes' upper rate: kept with p(class, value class of sum) / upper.
          if (x.by_value && sp) {
            const double keep = sp->accept_value(x.cls, r, sum, shape.acc_bits);
            if (keep < 1 && redraw->rng->uniform() >= keep) {
              f = 0;
              ++thinned_out;
            }
          }
          if (f && sp && sp->keeps_correct_bits()) f = sp->sample_mask(*redraw->rng, x.cls, r, sum, acc_mask);
        }
        if ((f & razor.mask) && (f & razor.mask) != u)  // detected: the restore leaves the missed bits wrong
          s = razor.policy == RazorPolicy::Correct ? (sum ^ (f & ~razor.mask) ^ u) & acc_mask : s;
        else
          s = (sum ^ f) & acc_mask;
      }
      const std::int64_t delta = field_value(s, shape.acc_bits, shape.is_signed) -
                                 field_value(clean, shape.acc_bits, shape.is_signed);
      if (delta) {
        std::int64_t& d = column_delta[static_cast<std::size_t>(first.m)];
        if (!d) touched.push_back(first.m);  // (a later tile may bring it back to 0: flush checks)
        d += delta;
      }
    }
    h = e;
    if (h == hits.size() || hits[h].gemm != first.gemm || hits[h].column != first.column)
      flush_column_deltas(ops, first.gemm, first.column, column_delta, touched, acc, st.corrupted_outputs, mode_before);
  }
  if (mode_before) st.corrupted_outputs = count_changed(before, acc);
  st.hits -= thinned_out;
  return st;
}

// Policy drop when every error has a protected bit wrong (Injector::drops_only):
// each hit drops its product a * w and nothing else, and no subset of a
// chain's products wraps the register (rows * 2^14 < 2^(acc_bits - 1)), so
// the output changes by minus the dropped products: no chain walk.
// products: each hit's a * w when the walk knows it (DropWalk::kByClass), else decoded here.
LayerStats apply_dropped_hits(const LayerOperands& ops, const ArrayShape& shape, const std::vector<Hit>& hits,
                              std::vector<int32_t>& acc, const std::vector<std::int32_t>* products = nullptr) {
  LayerStats st;
  st.hits = st.razor_detected = hits.size();
  RazorCycles razor_cycles(ops, shape.rows, shape.cols);
  std::vector<std::int64_t> column_delta(static_cast<std::size_t>(ops.max_vectors()), 0);
  std::vector<int> touched;
  BeforeValues before;
  BeforeValues* mode_before = ops.depthwise_mode() ? &before : nullptr;
  for (std::size_t h = 0; h < hits.size(); ++h) {
    const Hit& x = hits[h];
    st.razor_error_cycles += razor_cycles.add(ops, x);
    const int kk = x.k_tile * shape.rows + x.row;
    if (products) {
      if (const std::int32_t product = (*products)[h]) {
        std::int64_t& d = column_delta[static_cast<std::size_t>(x.m)];
        if (!d) touched.push_back(x.m);
        d -= product;
      }
    } else if (kk < ops.k(x.gemm)) {
      if (const int w = ops.b(x.gemm, kk, x.column)) {
        std::int64_t& d = column_delta[static_cast<std::size_t>(x.m)];
        if (!d) touched.push_back(x.m);  // (a later hit may bring it back to 0: flush checks)
        d -= static_cast<std::int64_t>(ops.a(x.gemm, x.m, kk, x.column)) * w;
      }
    }
    if (h + 1 == hits.size() || hits[h + 1].gemm != x.gemm || hits[h + 1].column != x.column)
      flush_column_deltas(ops, x.gemm, x.column, column_delta, touched, acc, st.corrupted_outputs, mode_before);
  }
  if (mode_before) st.corrupted_outputs = count_changed(before, acc);
  return st;
}

}  // namespace

LayerStats apply_hits(const LayerOperands& ops, const ArrayShape& shape, const RazorSetting& razor,
                      std::vector<Hit> hits, std::vector<int32_t>& acc) {
  const auto chain_order = [](const Hit& x, const Hit& y) {
    return std::tie(x.gemm, x.column, x.k_tile, x.m, x.row) < std::tie(y.gemm, y.column, y.k_tile, y.m, y.row);
  };
  if (!std::is_sorted(hits.begin(), hits.end(), chain_order)) std::sort(hits.begin(), hits.end(), chain_order);
  return apply_ordered_hits(ops, shape, razor, hits, acc);
}

// ---------------------------------------------------------------- Injector

void Injector::check_model_fits(const ErrorModel& model, const std::string& path) const {
  if (model.acc_bits != shape_.acc_bits)
    throw InjectError(path + ": the error model is of a PE with acc_bits " + std::to_string(model.acc_bits) +
                      " (design.acc_bits), the array config has acc_bits " + std::to_string(shape_.acc_bits) +
                      ": characterize this config's PE (make characterize CONFIG=...)");
  if (model.is_signed != shape_.is_signed)
    throw InjectError(path + ": the error model's PE and the array config differ in signedness");
  if (model.carry_save() != shape_.carry_save)
    throw InjectError(path + (shape_.carry_save ? ": the array config has carry-save partial sums (arithmetic.psum), "
                                                  "the error model is of a carry-propagate PE (no carry_word)"
                                                : ": the error model is of a carry-save PE (carry_word), the array "
                                                  "config has carry-propagate partial sums") +
                      ": characterize this config's PE (make characterize CONFIG=...)");
}

Injector::Injector(ErrorModel model, ArrayShape shape, Settings settings)
    : model_(std::move(model)), shape_(std::move(shape)), settings_(std::move(settings)) {
  const std::string& path = settings_.errmodel;
  check_model_fits(model_, path);
  if (static_cast<int>(shape_.island_of_column.size()) != shape_.cols)
    throw InjectError("array shape: island_of_column needs one entry per column");
  std::set<double> periods;
  for (const auto& p : model_.points) periods.insert(p.period_ns);
  std::vector<double> period_list(periods.begin(), periods.end());
  if (settings_.period_ns > 0) {
    bool found = false;
    for (double p : periods) found |= std::abs(p - settings_.period_ns) <= 1e-3 * settings_.period_ns;
    if (!found)
      throw InjectError(path + ": no point at period " + std::to_string(settings_.period_ns) +
                        " ns (the model has periods " + list_voltages(period_list) + " ns)");
    period_ns_ = settings_.period_ns;
  } else {
    if (periods.size() != 1)
      throw InjectError(path + ": the model has several periods (" + list_voltages(period_list) +
                        " ns): give period_ns (--period-ns)");
    period_ns_ = *periods.begin();
  }
  auto make_plan = [&](const std::vector<double>& voltages, const RazorSetting& razor, const std::string& where,
                       const std::string& errmodel) {
    if (static_cast<int>(voltages.size()) != shape_.islands)
      throw InjectError(where + ": " + std::to_string(voltages.size()) + " voltage(s) for " +
                        std::to_string(shape_.islands) + " island(s) of the array config");
    LayerPlan plan;
    plan.razor = razor;
    for (double v : voltages) {
      const PointSampler& s = sampler_for(errmodel, v, where);
      for (const auto& owned : samplers_)
        if (owned.get() == &s) plan.island.push_back(owned);
      plan.p_max = std::max(plan.p_max, s.p_max());
    }
    // A Razor characterization with the same bits and policy correct: its
    // shadow misses are drawn (the carry-save pair keeps the ideal correction).
    plan.after_razor = razor.mask && razor.policy == RazorPolicy::Correct && !shape_.carry_save &&
                       std::all_of(plan.island.begin(), plan.island.end(), [&](const auto& s) {
                         return s->razor_characterized(shape_.protected_mask(razor.mask));
                       });
    return plan;
  };
  const RazorSetting razor = settings_.razor ? settings_.razor->resolve(shape_.acc_bits, "settings 'razor'") : shape_.razor;
  default_plan_ = make_plan(settings_.voltages, razor, "settings 'voltages'", "");
  for (const LayerSetting& l : settings_.layers) {
    const std::string where = "settings layer op " + std::to_string(l.op);
    const RazorSetting lr = l.razor ? l.razor->resolve(shape_.acc_bits, where + " razor") : razor;
    layer_plans_.emplace_back(l.op, make_plan(l.voltages, lr, where, l.errmodel));
  }
}

const ErrorModel& Injector::model_at(const std::string& errmodel) {
  if (errmodel.empty() || errmodel == settings_.errmodel) return model_;
  for (const auto& [path, model] : layer_models_)
    if (path == errmodel) return *model;
  auto model = std::make_unique<ErrorModel>();
  try {
    *model = ErrorModel::load(errmodel);
  } catch (const ErrorModelError& e) {
    throw InjectError(e.what());
  }
  check_model_fits(*model, errmodel);
  layer_models_.emplace_back(errmodel, std::move(model));
  return *layer_models_.back().second;
}

const PointSampler& Injector::sampler_for(const std::string& errmodel, double voltage, const std::string& where) {
  const ErrorModel& model = model_at(errmodel);
  const std::string& path = errmodel.empty() ? settings_.errmodel : errmodel;
  const ErrorModelPoint* best = nullptr;
  std::vector<double> available;
  for (const auto& p : model.points) {
    if (std::abs(p.period_ns - period_ns_) > 1e-3 * period_ns_) continue;
    available.push_back(p.voltage);
    if (!best || std::abs(p.voltage - voltage) < std::abs(best->voltage - voltage)) best = &p;
  }
  constexpr double kVoltageTolerance = 0.005;  // V: the model's points are the characterized corners
  if (!best || std::abs(best->voltage - voltage) > kVoltageTolerance)
    throw InjectError(where + ": " + std::to_string(voltage) + " V is not a point of " + path + " at " +
                      std::to_string(period_ns_) + " ns (within 5 mV); available voltages: " +
                      list_voltages(available));
  // One sampler per point of each model (a point's bands share one).
  for (std::size_t i = 0; i < samplers_.size(); ++i)
    if (sampler_points_[i] == best) return *samplers_[i];
  // A model with PE positions: every row band of that point, each row its own.
  if (shape_.carry_save) {
    // A carry-save PE errs in either word: the bands' pair statistics.
    std::vector<ErrorModelPoint> pairs;
    try {
      for (const ErrorModelPoint* p : model.bands_at(*best)) pairs.push_back(p->pair_point(shape_.acc_bits));
    } catch (const ErrorModelError& e) {
      throw InjectError(path + ": " + e.what());
    }
    std::vector<const ErrorModelPoint*> bands;
    for (const auto& p : pairs) bands.push_back(&p);
    samplers_.push_back(std::make_shared<PointSampler>(bands, shape_.mask_bits(), shape_.rows));
  } else {
    samplers_.push_back(std::make_shared<PointSampler>(model.bands_at(*best), shape_.acc_bits, shape_.rows));
  }
  sampler_points_.push_back(best);
  return *samplers_.back();
}

void Injector::check_model(const tflite::Model& model) const {
  std::vector<std::size_t> array_ops;
  for (std::size_t i = 0; i < model.operators.size(); ++i)
    if (lowering::is_array_layer(model.operators[i].type)) array_ops.push_back(i);
  for (const auto& [op, plan] : layer_plans_) {
    (void)plan;
    if (std::find(array_ops.begin(), array_ops.end(), op) == array_ops.end()) {
      std::string list;
      for (std::size_t i : array_ops) list += (list.empty() ? "" : ", ") + std::to_string(i);
      throw InjectError("settings layer op " + std::to_string(op) + " is not an array layer of " + model.path +
                        " (array layers: " + list + ")");
    }
  }
}

const Injector::LayerPlan& Injector::plan(std::size_t op) const {
  for (const auto& [index, plan] : layer_plans_)
    if (index == op) return plan;
  return default_plan_;
}

bool Injector::error_free() const {
  if (default_plan_.p_max > 0) return false;
  for (const auto& [index, plan] : layer_plans_)
    if (plan.p_max > 0) return false;
  return true;
}

std::string Injector::razor_error_source() const {
  bool after = false, ideal = false;
  const auto visit = [&](const LayerPlan& plan) {
    if (!plan.razor.mask || plan.razor.policy != RazorPolicy::Correct) return;
    (plan.after_razor ? after : ideal) = true;
  };
  visit(default_plan_);
  for (const auto& [index, plan] : layer_plans_) visit(plan);
  return after && ideal ? "mixed" : after ? "after-razor" : ideal ? "ideal" : "";
}

void Injector::set_classes(double voltage, OperandClasses classes) {
  bool found = false;
  for (const auto& s : samplers_)
    if (std::abs(s->point().voltage - voltage) <= 0.005) {
      s->set_classes(classes);
      found = true;
    }
  if (!found) throw InjectError("set_classes: no layer runs at " + std::to_string(voltage) + " V");
  auto refresh = [](LayerPlan& plan) {
    plan.p_max = 0;
    for (const auto& s : plan.island) plan.p_max = std::max(plan.p_max, s->p_max());
  };
  refresh(default_plan_);
  for (auto& [index, plan] : layer_plans_) refresh(plan);
  set_mode(mode_);  // kThinned: thin the new classes' rates
}

std::vector<Hit> Injector::draw_hits(const LayerOperands& ops, std::size_t op, Rng& rng) const {
  std::vector<Hit> hits;
  draw_hits_into(ops, op, rng, hits);
  return hits;
}

namespace {

// The hit walk of draw_hits_into for PointSampler (exact) and ThinnedSampler
// (kThinned) alike: sampler_of(c) is array column c's sampler.
std::uint64_t razor_missed_of(const PointSampler& s, std::uint64_t late, Rng& rng, int row) {
  return s.draw_razor_missed(late, rng, row);
}
std::uint64_t razor_missed_of(const ThinnedSampler&, std::uint64_t, Rng&, int) { return 0; }

// A PointSampler for TE-Drop when every error has a protected bit wrong
// (Injector::drops_only): the same rates; the mask is not drawn, since any
// protected bit drops the product (apply_dropped_hits reads no mask).
class DropSampler {
 public:
  DropSampler(const PointSampler& base, std::uint64_t protect) : base_(base), protect_(protect) {}
  double p_max() const { return base_.p_max(); }
  bool thins() const { return base_.thins(); }
  bool has_classes() const { return base_.has_classes(); }
  bool has_file_classes() const { return base_.has_file_classes(); }
  int class_of(const CaptureOperands& operands) const { return base_.class_of(operands); }
  double accept_class(int cls, int row) const { return base_.accept_class(cls, row); }
  std::uint64_t sample_mask(Rng&, int, int) const { return protect_; }

 private:
  const PointSampler& base_;
  std::uint64_t protect_;
};
std::uint64_t razor_missed_of(const DropSampler&, std::uint64_t, Rng&, int) { return 0; }

// A PointSampler with hit rates per value class (PointSampler::value_rates),
// walked at its upper rates: every candidate is a Hit::by_value that
// apply_ordered_hits keeps with accept_value once it knows the correct value.
class ByValueSampler {
 public:
  explicit ByValueSampler(const PointSampler& base) : base_(base) {}
  double p_max() const { return base_.p_max_by_value(); }
  bool thins() const { return base_.thins() || base_.value_rates(); }
  bool has_classes() const { return base_.has_classes(); }
  bool has_file_classes() const { return base_.has_file_classes(); }
  int class_of(const CaptureOperands& operands) const { return base_.class_of(operands); }
  double accept_class(int cls, int row) const { return base_.accept_class_by_value(cls, row); }
  std::uint64_t sample_mask(Rng& rng, int cls, int row) const { return base_.sample_mask(rng, cls, row); }
  const PointSampler& base() const { return base_; }

 private:
  const PointSampler& base_;
};
std::uint64_t razor_missed_of(const ByValueSampler&, std::uint64_t, Rng&, int) { return 0; }
template <class Sampler>
bool by_value_of(const Sampler&) { return false; }
bool by_value_of(const ByValueSampler& s) { return s.base().value_rates(); }

// accept[r * kOperandClasses + c]: the sampler's acceptance of a class-c
// candidate in PE row r; accept_cap[r * kOperandClasses + c]: the largest
// acceptance of classes 0..c in that row (what a weight whose class with the
// largest activation change is c can reach).
template <class Sampler>
void accept_table(const Sampler& sampler, int rows, std::vector<double>& accept, std::vector<double>& accept_cap) {
  accept.resize(static_cast<std::size_t>(rows) * kOperandClasses);
  accept_cap.resize(accept.size());
  for (int r = 0; r < rows; ++r) {
    double cap = 0;
    for (int c = 0; c < kOperandClasses; ++c) {
      const std::size_t at = static_cast<std::size_t>(r) * kOperandClasses + static_cast<std::size_t>(c);
      accept[at] = sampler.accept_class(c, r);
      accept_cap[at] = cap = std::max(cap, accept[at]);
    }
  }
}

// razor_misses: the protected bits whose shadow misses are drawn (LayerPlan::after_razor), 0: none.
// skip_zero_weights (TE-Drop, where dropping a zero product changes nothing):
// the K tiles outside a column's own weights are not walked, and their
// expected hits are added to *skipped_hits.
template <class SamplerOf>
void draw_hits_with(const LayerOperands& ops, int rows, int cols, SamplerOf sampler_of, Rng& rng,
                    std::vector<Hit>& hits, std::uint64_t razor_misses = 0, bool skip_zero_weights = false,
                    double* skipped_hits = nullptr) {
  double expected = 0;
  for (int g = 0; g < ops.gemms(); ++g)
    for (int j = 0; j < ops.n(g); ++j)
      expected += sampler_of(j % cols).p_max() * static_cast<double>(ceil_div(ops.k(g), rows)) * ops.vectors(g) * rows;
  hits.reserve(static_cast<std::size_t>(expected * 1.05) + 16);
  std::vector<double> accept, accept_cap;  // [row * kOperandClasses + class], of sampler table_of
  const void* table_of = nullptr;
  // One GEMM column at a time, in the canonical order (gemm, column, k tile,
  // m, row) apply_hits wants, so it need not sort. Geometric gaps between
  // candidates (each capture a candidate with p); restarting them at each
  // column is exact (the geometric distribution is memoryless).
  for (int g = 0; g < ops.gemms(); ++g) {
    const int k = ops.k(g), k_tiles = ceil_div(k, rows), m_count = ops.vectors(g);
    const std::uint64_t total = static_cast<std::uint64_t>(k_tiles) * m_count * rows;
    for (int j = 0; j < ops.n(g); ++j) {
      const int c = j % cols;
      const auto& sampler = sampler_of(c);
      const double p = sampler.p_max();
      if (p <= 0) continue;
      const bool file_classes = sampler.has_file_classes();
      // With the file's classes: each row's acceptance by class, and the
      // largest acceptance any activation change (|a - prev| <= 255) can
      // reach with a weight of class cap c (operand_class(0, 255, w)): a
      // candidate whose uniform is above it is rejected before the
      // activations are decoded. Same draws, same decisions.
      if (file_classes && sampler.thins() && table_of != &sampler) {
        accept_table(sampler, rows, accept, accept_cap);
        table_of = &sampler;
      }
      // With the file's classes a zero weight is class 0 whatever the
      // activations: the K tiles outside the column's own weights
      // (depthwise: all but its taps' one or two tiles) are walked at the
      // largest class-0 rate of any row, the others at p. Exact: each
      // capture is still a candidate with its segment's rate and kept with
      // its own rate over that.
      int kt_first = 0, kt_last = k_tiles - 1;
      double zero_scale = 1;  // class-0 candidate rate / p
      if (skip_zero_weights || (file_classes && sampler.thins())) {
        const auto cw = ops.column_weights(g, j);
        kt_first = cw.first_k / rows;
        kt_last = (cw.first_k + cw.count - 1) / rows;
        zero_scale = 0;
        double zero_per_row_m = 0;  // expected hits of one row m of a zero tile
        for (int r = 0; r < rows; ++r) {
          const double a0 = file_classes ? accept[static_cast<std::size_t>(r) * kOperandClasses] : sampler.accept_class(-1, r);
          zero_scale = std::max(zero_scale, a0);
          zero_per_row_m += p * a0;
        }
        if (skip_zero_weights) {
          *skipped_hits += zero_per_row_m * m_count * (kt_first + (k_tiles - 1 - kt_last));
          zero_scale = 0;
        }
      }
      const std::uint64_t tile = static_cast<std::uint64_t>(m_count) * rows;
      for (const auto& [begin, end, scale] :
           {std::make_tuple(std::uint64_t{0}, kt_first * tile, zero_scale),
            std::make_tuple(kt_first * tile, (kt_last + 1) * tile, 1.0),
            std::make_tuple((kt_last + 1) * tile, total, zero_scale)}) {
      const double rate = p * scale;
      if (begin >= end || rate <= 0) continue;
      const double log_q = rate < 1 ? std::log1p(-rate) : 0;
      auto gap = [&]() -> double { return rate >= 1 ? 0.0 : std::floor(std::log(rng.uniform_open()) / log_q); };
      // Index ((k_tile * M) + m) * rows + row.
      for (double pos = static_cast<double>(begin) + gap(); pos < static_cast<double>(end); pos += 1 + gap()) {
        const auto index = static_cast<std::uint64_t>(pos);
        Hit hit;
        hit.gemm = g;
        hit.column = j;
        if (total <= std::numeric_limits<std::uint32_t>::max()) {  // 32-bit divisions: the walk's dearest steps
          const auto i32 = static_cast<std::uint32_t>(index), q = i32 / static_cast<std::uint32_t>(rows);
          hit.row = static_cast<int>(i32 - q * static_cast<std::uint32_t>(rows));
          hit.k_tile = static_cast<int>(q / static_cast<std::uint32_t>(m_count));
          hit.m = static_cast<int>(q - static_cast<std::uint32_t>(hit.k_tile) * static_cast<std::uint32_t>(m_count));
        } else {
          hit.row = static_cast<int>(index % static_cast<std::uint64_t>(rows));
          const std::uint64_t q = index / static_cast<std::uint64_t>(rows);
          hit.m = static_cast<int>(q % static_cast<std::uint64_t>(m_count));
          hit.k_tile = static_cast<int>(q / static_cast<std::uint64_t>(m_count));
        }
        int cls = -1;
        if (file_classes && sampler.thins()) {
          const int kk = hit.k_tile * rows + hit.row;
          const int weight = kk < k ? ops.b(g, kk, j) : 0;
          const std::size_t at = static_cast<std::size_t>(hit.row) * kOperandClasses;
          const double u = rng.uniform() * scale;
          if (u >= accept_cap[at + static_cast<std::size_t>(operand_class(0, 255, weight))]) continue;
          int activation = 0, prev_activation = 0;
          if (weight != 0) std::tie(activation, prev_activation) = ops.a_and_previous(g, hit.m, kk, j);
          const int c0 = operand_class(prev_activation, activation, weight);
          if (u >= accept[at + static_cast<std::size_t>(c0)]) continue;
          cls = c0;
        } else if (sampler.thins()) {  // a caller's classes, or row bands of different rates
          const int kk = hit.k_tile * rows + hit.row;
          CaptureOperands o;
          o.row = hit.row;
          o.col = c;
          if (kk < k) {
            o.weight = ops.b(g, kk, j);
            std::tie(o.activation, o.prev_activation) = ops.a_and_previous(g, hit.m, kk, j);
          }
          const int c0 = sampler.has_classes() ? sampler.class_of(o) : -1;
          if (rng.uniform() >= sampler.accept_class(c0, hit.row)) continue;
          cls = c0;
        }
        hit.mask = sampler.sample_mask(rng, cls, hit.row);
        hit.cls = cls;
        hit.by_value = by_value_of(sampler);
        if (hit.mask & razor_misses) hit.razor_missed = razor_missed_of(sampler, hit.mask & razor_misses, rng, hit.row);
        hits.push_back(hit);
      }
      }
    }
  }
}

// DropWalk::kByClass. The operand class of capture (m, k) of column j is
// that of d = |a(m, k) - a(m - 1, k)| x |w(k, j)|, and the class boundaries
// of d (1, 128, 512, 2048) are, for a given |w|, boundaries of the activation
// change: class c <=> change in [ceil(lo_c / |w|), ceil(lo_{c+1} / |w|)). The
// changes of a conv/FC layer do not depend on the column, so they are counted
// and sorted once per reduction index k (counting sort, largest first): then
// the captures of weight (k, j) in class c are one run of that order, of known
// length, and each class is walked at its own rate (geometric gaps over the
// concatenation of its runs along the column). No candidate is rejected
// unless the row bands differ (then thinned to the row's rate), and the
// activation of a drop is read from the sort, not decoded.
struct SortedChanges {
  static constexpr int kLevels = 257;  // changes 0..255, and 256: none
  int m = 0, k = 0;
  std::vector<std::uint32_t> at_least;  // [k * kLevels + t]: positions m with change >= t
  std::vector<std::uint32_t> position;  // [k * m + i]: the m of the i-th largest change
  std::vector<std::int8_t> activation;  // [k * m + i]: a(m, k) there
  std::vector<std::int8_t> a;
  std::vector<std::uint8_t> change;

  void build(const LayerOperands& ops) {
    m = ops.m();
    k = ops.k(0);
    const std::size_t mm = static_cast<std::size_t>(m);
    at_least.resize(static_cast<std::size_t>(k) * kLevels);
    position.resize(static_cast<std::size_t>(k) * mm);
    activation.resize(position.size());
    a.resize(mm);
    change.resize(mm);
    for (int kk = 0; kk < k; ++kk) {
      ops.activations(0, kk, a.data());
      std::uint32_t count[256] = {};
      int prev = 0;  // a_and_previous: 0 before the first row
      for (std::size_t i = 0; i < mm; ++i) {
        const int d = a[i] > prev ? a[i] - prev : prev - a[i];
        change[i] = static_cast<std::uint8_t>(d);
        ++count[d];
        prev = a[i];
      }
      std::uint32_t* ge = &at_least[static_cast<std::size_t>(kk) * kLevels];
      ge[256] = 0;
      for (int t = 255; t >= 0; --t) ge[t] = ge[t + 1] + count[t];
      std::uint32_t slot[256];
      for (int t = 0; t < 256; ++t) slot[t] = ge[t + 1];
      std::uint32_t* pos = &position[static_cast<std::size_t>(kk) * mm];
      std::int8_t* act = &activation[static_cast<std::size_t>(kk) * mm];
      for (std::size_t i = 0; i < mm; ++i) {
        const std::uint32_t at = slot[change[i]]++;
        pos[at] = static_cast<std::uint32_t>(i);
        act[at] = a[i];
      }
    }
  }
};

// kChangeAtLeast[|w|][c]: the smallest activation change whose product step
// with |w| is of class c or above (operand_class's boundaries 1, 128, 512,
// 2048), 256 for none; [c = kOperandClasses]: 256.
struct ChangeThresholds {
  std::array<std::array<std::uint16_t, kOperandClasses + 1>, 129> at{};
  ChangeThresholds() {
    constexpr int lo[kOperandClasses] = {0, 1, 128, 512, 2048};
    for (int w = 1; w <= 128; ++w) {
      for (int c = 0; c < kOperandClasses; ++c) at[w][c] = static_cast<std::uint16_t>(std::min(256, (lo[c] + w - 1) / w));
      at[w][kOperandClasses] = 256;
    }
  }
};

template <class SamplerOf>
void draw_drops_by_class(const LayerOperands& ops, const SortedChanges& sorted, int rows, int cols,
                         SamplerOf sampler_of, Rng& rng, std::vector<Hit>& hits,
                         std::vector<std::int32_t>& products, double& not_drawn) {
  static const ChangeThresholds thresholds;
  const int m_count = ops.m(), k = ops.k(0), k_tiles = ceil_div(k, rows);
  const std::size_t mm = static_cast<std::size_t>(m_count);
  // Per sampler: rate[c] = the largest p(row, c) over rows, and (row bands
  // of different rates) keep[row][c] = p(row, c) / rate[c].
  const void* table_of = nullptr;
  std::array<double, kOperandClasses> rate{}, log_q{};
  std::vector<double> p_row(static_cast<std::size_t>(rows) * kOperandClasses), keep(p_row.size());
  bool rows_differ = false;
  for (int j = 0; j < ops.n(0); ++j) {
    const auto& sampler = sampler_of(j % cols);
    if (sampler.p_max() <= 0) continue;
    if (table_of != &sampler) {
      table_of = &sampler;
      rate.fill(0);
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < kOperandClasses; ++c) {
          const double p = sampler.accept_class(c, r) * sampler.p_max();
          p_row[static_cast<std::size_t>(r) * kOperandClasses + static_cast<std::size_t>(c)] = p;
          rate[static_cast<std::size_t>(c)] = std::max(rate[static_cast<std::size_t>(c)], p);
        }
      rows_differ = false;
      for (int r = 0; r < rows; ++r)
        for (int c = 0; c < kOperandClasses; ++c) {
          const std::size_t at = static_cast<std::size_t>(r) * kOperandClasses + static_cast<std::size_t>(c);
          keep[at] = rate[static_cast<std::size_t>(c)] > 0 ? p_row[at] / rate[static_cast<std::size_t>(c)] : 0;
          rows_differ |= keep[at] < 1 && rate[static_cast<std::size_t>(c)] > 0;
        }
      for (int c = 0; c < kOperandClasses; ++c)
        log_q[static_cast<std::size_t>(c)] = rate[static_cast<std::size_t>(c)] < 1 ? std::log1p(-rate[static_cast<std::size_t>(c)]) : 0;
    }
    const auto gap = [&](int c) -> double {
      return rate[static_cast<std::size_t>(c)] >= 1 ? 0.0 : std::floor(std::log(rng.uniform_open()) / log_q[static_cast<std::size_t>(c)]);
    };
    // Position of the next drop in each class's concatenated runs, and where
    // the current weight's run starts in it.
    double next[kOperandClasses], base[kOperandClasses] = {};
    int classes[kOperandClasses], n_classes = 0;
    for (int c = 0; c < kOperandClasses; ++c)
      if (rate[static_cast<std::size_t>(c)] > 0) {
        classes[n_classes++] = c;
        next[c] = gap(c);
      }
    const auto cw = ops.column_weights(0, j);
    for (int kk = 0; kk < k_tiles * rows; ++kk) {
      const int r = kk % rows;
      const int w = kk < k ? cw.data[static_cast<std::ptrdiff_t>(kk) * cw.stride] : 0;
      if (!w) {  // class 0, and dropping a zero product changes nothing
        not_drawn += static_cast<double>(m_count) * p_row[static_cast<std::size_t>(r) * kOperandClasses];
        continue;
      }
      const auto& at = thresholds.at[static_cast<std::size_t>(w < 0 ? -w : w)];
      const std::uint32_t* ge = &sorted.at_least[static_cast<std::size_t>(kk) * SortedChanges::kLevels];
      for (int i = 0; i < n_classes; ++i) {
        const int c = classes[i];
        const std::uint32_t lo = ge[at[static_cast<std::size_t>(c) + 1]], hi = ge[at[static_cast<std::size_t>(c)]];
        const double end = base[c] + static_cast<double>(hi - lo);
        for (; next[c] < end; next[c] += 1 + gap(c)) {
          if (rows_differ && rng.uniform() >= keep[static_cast<std::size_t>(r) * kOperandClasses + static_cast<std::size_t>(c)])
            continue;
          const std::size_t i_sorted = static_cast<std::size_t>(kk) * mm + lo + static_cast<std::size_t>(next[c] - base[c]);
          Hit hit;
          hit.column = j;
          hit.k_tile = kk / rows;
          hit.row = r;
          hit.m = static_cast<int>(sorted.position[i_sorted]);
          hit.mask = sampler.sample_mask(rng, c, r);
          hit.cls = c;
          hits.push_back(hit);
          products.push_back(static_cast<std::int32_t>(sorted.activation[i_sorted]) * w);
        }
        base[c] = end;
      }
    }
  }
}

}  // namespace

void Injector::draw_hits_into(const LayerOperands& ops, std::size_t op, Rng& rng, std::vector<Hit>& hits) const {
  hits.clear();
  const LayerPlan& plan = this->plan(op);
  if (plan.p_max <= 0) return;
  const auto sampler_of = [&](int c) -> const PointSampler& {
    return *plan.island[static_cast<std::size_t>(shape_.island_of_column[static_cast<std::size_t>(c)])];
  };
  if (by_value(plan)) {
    // Candidates at the value classes' upper rates (Hit::by_value), kept by corrupt's chain walk.
    std::vector<ByValueSampler> islands;
    for (const auto& s : plan.island) islands.emplace_back(*s);
    const auto by_value_of_column = [&](int c) -> const ByValueSampler& {
      return islands[static_cast<std::size_t>(shape_.island_of_column[static_cast<std::size_t>(c)])];
    };
    draw_hits_with(ops, shape_.rows, shape_.cols, by_value_of_column, rng, hits);
    return;
  }
  draw_hits_with(ops, shape_.rows, shape_.cols, sampler_of, rng, hits,
                 plan.after_razor ? shape_.protected_mask(plan.razor.mask) : 0);
}

bool Injector::by_value(const LayerPlan& plan) const {
  return !shape_.carry_save && !plan.razor.mask &&
         std::any_of(plan.island.begin(), plan.island.end(), [](const auto& s) { return s->value_rates(); });
}

const char* to_string(InjectionMode mode) {
  switch (mode) {
    case InjectionMode::kSampled: return "sampled";
    case InjectionMode::kThinned: return "thinned";
    case InjectionMode::kExact: break;
  }
  return "exact";
}

InjectionMode parse_injection_mode(const std::string& name) {
  if (name == "exact") return InjectionMode::kExact;
  if (name == "sampled") return InjectionMode::kSampled;
  if (name == "thinned") return InjectionMode::kThinned;
  throw InjectError("unknown injection mode '" + name + "' (allowed: exact, sampled, thinned)");
}

DropWalk parse_drop_walk(const std::string& name) {
  if (name == "auto") return DropWalk::kAuto;
  if (name == "candidates") return DropWalk::kCandidates;
  if (name == "by-class") return DropWalk::kByClass;
  throw InjectError("unknown TE-Drop walk '" + name + "' (allowed: auto, candidates, by-class)");
}

namespace {

// Standard normals by Box-Muller, both of each pair (the second kept for the next call).
class StandardNormal {
 public:
  explicit StandardNormal(Rng& rng) : rng_(rng) {}
  double operator()() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2.0 * std::log(rng_.uniform_open())), a = 6.283185307179586 * rng_.uniform();
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
  }

 private:
  Rng& rng_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// Above this mean, the number of errors of an output is drawn from a normal.
constexpr double kNormalErrorsAbove = 20;

// H ~ Binomial(n, p), h = 0, 1, ... until P(H <= h) reaches 1 - 1e-12 (or n;
// the last h takes the rest), drawn from one random word by Walker's alias
// method (no search, whose unpredictable exit cost more than the rest): the
// error count of an output of a dense column whose mean is at most
// kNormalErrorsAbove, 0 included, so no separate draw decides whether it errs.
// The tables of a GEMM's dense columns live in one arena (no allocation per
// column); a slot is 8 bytes, so a wide layer's tables stay near the core.
struct AliasSlot {
  std::uint32_t keep, alias;  // keep h with probability keep / 2^32 (alias == h: always h)
};
struct BinomialTable {
  std::uint32_t first = 0, size = 0;  // slots [first, first + size) of the arena

  static BinomialTable build(std::uint64_t n, double p, double p_none, std::vector<AliasSlot>& arena) {
    // Scratch of the construction, one per thread (a table per dense column, layer and input).
    thread_local std::vector<double> scaled;
    thread_local std::vector<std::uint32_t> small, large;
    scaled.clear();
    small.clear();
    large.clear();
    double term = p_none, cumulative = 0;
    for (std::uint64_t h = 0; h <= n; ++h) {
      scaled.push_back(term);
      cumulative += term;
      if (cumulative >= 1 - 1e-12) break;
      term *= static_cast<double>(n - h) / static_cast<double>(h + 1) * p / (1 - p);
    }
    scaled.back() += std::max(0.0, 1 - cumulative);
    // Vose's construction.
    BinomialTable t;
    t.first = static_cast<std::uint32_t>(arena.size());
    t.size = static_cast<std::uint32_t>(scaled.size());
    arena.resize(arena.size() + scaled.size());
    AliasSlot* slots = arena.data() + t.first;
    for (std::size_t h = 0; h < scaled.size(); ++h) {
      slots[h] = {0xffffffffu, static_cast<std::uint32_t>(h)};
      scaled[h] *= static_cast<double>(t.size);
      (scaled[h] < 1 ? small : large).push_back(static_cast<std::uint32_t>(h));
    }
    while (!small.empty() && !large.empty()) {
      const std::uint32_t sm = small.back(), l = large.back();
      small.pop_back();
      // scaled < 1: below 2^32 (rounding can leave -1e-16)
      slots[sm] = {static_cast<std::uint32_t>(std::ldexp(std::max(0.0, scaled[sm]), 32)), l};
      scaled[l] -= 1 - scaled[sm];
      if (scaled[l] < 1) {
        large.pop_back();
        small.push_back(l);
      }
    }
    return t;
  }
  std::uint64_t draw(const AliasSlot* arena, std::uint64_t random) const {
    const std::uint64_t own = ((random >> 32) * size) >> 32;
    const AliasSlot& slot = arena[first + own];
    const std::uint64_t take_alias = (random & 0xffffffffu) >= slot.keep;  // no branch: it is unpredictable
    return own + take_alias * (slot.alias - own);
  }
};

// H ~ Binomial(n, p) conditioned on H >= 1 (the outputs of a sparse column
// found by geometric gaps): inverse CDF up to a mean of kNormalErrorsAbove,
// a normal approximation beyond.
std::uint64_t binomial_at_least_one(std::uint64_t n, double p, double p_none, Rng& rng, StandardNormal& normal) {
  const double mean = static_cast<double>(n) * p;
  if (mean > kNormalErrorsAbove) {
    const double h = std::round(mean + std::sqrt(mean * (1 - p)) * normal());
    return static_cast<std::uint64_t>(std::clamp(h, 1.0, static_cast<double>(n)));
  }
  // P(H = h) / P(H >= 1), h = 1, 2, ...
  const double u = rng.uniform() * (1 - p_none);
  double term = p_none * static_cast<double>(n) * p / (1 - p), cumulative = 0;
  std::uint64_t h = 1;
  for (; h < n; ++h) {
    cumulative += term;
    if (u < cumulative) break;
    term *= static_cast<double>(n - h) / static_cast<double>(h + 1) * p / (1 - p);
  }
  return h;
}

// class_share[|w|][c]: the fraction of a layer's activation changes
// |a(m) - a(m-1)| (2048 sampled) that put a capture with weight w in
// operand class c (the classes' other factor, the weight, is known per
// column): the sampled injector's depthwise class mix, one draw per layer
// where per-column samples (sampled_column_class_captures) would cost more
// than the layer's errors.
std::vector<std::array<double, kOperandClasses>> sampled_class_shares(const LayerOperands& ops, Rng& rng) {
  constexpr int kChangeSamples = 2048;
  const int m_count = ops.m();
  std::vector<int> change;
  change.reserve(kChangeSamples);
  for (int t = 0; t < kChangeSamples; ++t) {
    const int g = static_cast<int>(rng.next() % static_cast<std::uint64_t>(ops.gemms()));
    const int m = static_cast<int>(rng.next() % static_cast<std::uint64_t>(m_count));
    const auto kk = ops.column_weights(g, static_cast<int>(rng.next() % static_cast<std::uint64_t>(ops.n(g))));
    const int k = kk.first_k + static_cast<int>(rng.next() % static_cast<std::uint64_t>(kk.count));
    const auto [a, prev] = ops.a_and_previous(g, m, k);
    change.push_back(std::abs(a - prev));
  }
  std::sort(change.begin(), change.end());
  std::vector<std::array<double, kOperandClasses>> class_share(129);
  for (int w = 0; w <= 128; ++w) {
    // operand_class(0, d, w) is monotone in d: count the changes below each class boundary.
    int below = 0;
    for (int c = 0; c < kOperandClasses; ++c) {
      const auto first_above = std::partition_point(change.begin(), change.end(),
                                                    [&](int d) { return operand_class(0, d, w) <= c; });
      const int upto = static_cast<int>(first_above - change.begin());
      class_share[static_cast<std::size_t>(w)][static_cast<std::size_t>(c)] = double(upto - below) / kChangeSamples;
      below = upto;
    }
  }
  return class_share;
}

// Expected captures of each operand class of one output of GEMM column j
// (per_output captures: zero weights and rows below the end of K in class 0).
std::array<double, kOperandClasses> column_class_captures(
    const LayerOperands& ops, int g, int j, const std::vector<std::array<double, kOperandClasses>>& class_share,
    std::uint64_t per_output) {
  std::array<double, kOperandClasses> captures_in{};
  const auto cw = ops.column_weights(g, j);
  for (int i = 0; i < cw.count; ++i) {
    const auto& share = class_share[static_cast<std::size_t>(std::min(128, std::abs(int(cw.data[static_cast<std::ptrdiff_t>(i) * cw.stride]))))];
    for (int c = 0; c < kOperandClasses; ++c) captures_in[static_cast<std::size_t>(c)] += share[static_cast<std::size_t>(c)];
  }
  captures_in[0] += static_cast<double>(per_output) - cw.count;
  return captures_in;
}


// column_class_captures from 64 of column j's own captures, sampled (m and
// the column's taps at random).
std::array<double, kOperandClasses> sampled_column_class_captures(const LayerOperands& ops, int g, int j,
                                                                  std::uint64_t per_output, Rng& rng) {
  constexpr int kSamples = 64;
  std::array<double, kOperandClasses> captures_in{};
  const auto cw = ops.column_weights(g, j);
  for (int t = 0; t < kSamples; ++t) {
    const int m = static_cast<int>(rng.next() % static_cast<std::uint64_t>(ops.m()));
    const int i = static_cast<int>(rng.next() % static_cast<std::uint64_t>(cw.count));
    const auto [a, prev] = ops.a_and_previous(g, m, cw.first_k + i);
    captures_in[static_cast<std::size_t>(operand_class(prev, a, cw.data[static_cast<std::ptrdiff_t>(i) * cw.stride]))] +=
        double(cw.count) / kSamples;
  }
  captures_in[0] += static_cast<double>(per_output) - cw.count;
  return captures_in;
}


// Activation changes |a(m) - a(m-1)| at 256 random (m, k) of a conv/FC
// layer, whose columns all read the same activations: each column's class
// mix is its own weights at those k against those changes (unbiased, and
// it keeps the link between a channel's changes and its weights).
struct SampledChanges {
  static constexpr int kSamples = 256;
  std::vector<std::pair<int, int>> k_and_change;  // the non-zero changes only
  int unchanged = 0;                              // samples with no change: class 0 for any weight
  SampledChanges() = default;
  SampledChanges(const LayerOperands& ops, Rng& rng) {
    for (int t = 0; t < kSamples; ++t) {
      const int m = static_cast<int>(rng.next() % static_cast<std::uint64_t>(ops.m()));
      const int k = static_cast<int>(rng.next() % static_cast<std::uint64_t>(ops.k(0)));
      const auto [a, prev] = ops.a_and_previous(0, m, k);
      if (a == prev)
        ++unchanged;
      else
        k_and_change.emplace_back(k, std::abs(a - prev));
    }
    std::sort(k_and_change.begin(), k_and_change.end());  // a column's weights read in order
  }
  std::array<double, kOperandClasses> column_class_captures(const LayerOperands& ops, int g, int j,
                                                            std::uint64_t per_output) const {
    std::array<int, kOperandClasses> sampled_in{};  // integer counts: no floating-point chain per sample
    sampled_in[0] = unchanged;
    const auto cw = ops.column_weights(g, j);
    for (const auto& [k, change] : k_and_change)
      ++sampled_in[static_cast<std::size_t>(operand_class(0, change, cw.data[static_cast<std::ptrdiff_t>(k) * cw.stride]))];
    std::array<double, kOperandClasses> captures_in{};
    for (int c = 0; c < kOperandClasses; ++c)
      captures_in[static_cast<std::size_t>(c)] = sampled_in[static_cast<std::size_t>(c)] * (double(cw.count) / kSamples);
    captures_in[0] += static_cast<double>(per_output) - cw.count;
    return captures_in;
  }
};
}  // namespace

namespace {
// Up to this many errors of one output are summed one by one (sampled
// injection); beyond, their sum is drawn from a normal.
constexpr std::uint64_t kSummedErrors = 8;

// Buffers of corrupt_sampled's dense pass over a block of outputs.
struct DenseScratch {
  static constexpr std::size_t kOutputs = 4096;  // outputs per block (at least one row)
  struct Output {
    std::uint32_t row, column;  // row m, index of the dense column
    std::uint32_t first_error;  // listed outputs: the first of its errors
    std::uint32_t count;        // its errors
  };
  std::vector<Output> listed, many;
  std::vector<std::uint32_t> owner;  // per error: its listed output
  std::vector<std::int64_t> running;  // running[t]: the summed values of errors < t
  void reserve(std::size_t outputs) {
    if (listed.size() >= outputs) return;
    listed.resize(outputs);
    many.resize(outputs);
    owner.resize(outputs * kSummedErrors + kSummedErrors);
    running.resize(outputs * kSummedErrors + 1);
  }
};
}  // namespace

namespace {
// Rounded up or down at random (unbiased: a layer expecting 0.2 per input sums right over inputs).
std::uint64_t round_randomly(double x, Rng& rng) {
  const double whole = std::floor(x);
  return static_cast<std::uint64_t>(whole) + (rng.uniform() < x - whole ? 1 : 0);
}
}  // namespace

void Injector::draw_drops_into(const LayerOperands& ops, std::size_t op, Rng& rng, std::vector<Hit>& hits,
                               std::vector<std::int32_t>* products, double* not_drawn) const {
  const LayerPlan& plan = this->plan(op);
  hits.clear();
  if (products) products->clear();
  double skipped = 0;
  if (plan.p_max > 0) {
    std::vector<DropSampler> by_island;
    for (const auto& s : plan.island) by_island.emplace_back(*s, shape_.protected_mask(plan.razor.mask));
    const auto sampler_of = [&](int c) -> const DropSampler& {
      return by_island[static_cast<std::size_t>(shape_.island_of_column[static_cast<std::size_t>(c)])];
    };
    const int rows = shape_.rows, m_count = ops.m();
    bool by_class = drop_walk_ != DropWalk::kCandidates && products && !ops.depthwise_mode() &&
                    !ops.geometry().depthwise && ops.gemms() == 1 &&
                    static_cast<std::uint64_t>(m_count) * static_cast<std::uint64_t>(ops.k(0)) <= (std::uint64_t{1} << 26) &&
                    std::all_of(by_island.begin(), by_island.end(), [](const DropSampler& s) { return s.has_file_classes(); });
    if (by_class && drop_walk_ == DropWalk::kAuto) {
      // Rough costs (ns, measured on MobileNetV2, docs/PERFORMANCE.md): a
      // candidate of the walk about 20; the sort about 4 per (m, k) and 1
      // per (k, change level); the run lengths about 2 per (k, j, class).
      const double k = ops.k(0), n = ops.n(0), m = m_count;
      double candidates = 0;
      for (int j = 0; j < ops.n(0); ++j) candidates += sampler_of(j % shape_.cols).p_max();
      candidates *= m * ceil_div(ops.k(0), rows) * rows;
      by_class = 4 * m * k + SortedChanges::kLevels * k + 2 * kOperandClasses * k * n < 20 * candidates;
    }
    if (by_class) {
      thread_local SortedChanges sorted;
      sorted.build(ops);
      draw_drops_by_class(ops, sorted, rows, shape_.cols, sampler_of, rng, hits, *products, skipped);
    } else {
      draw_hits_with(ops, rows, shape_.cols, sampler_of, rng, hits, 0, true, &skipped);
    }
  }
  if (not_drawn) *not_drawn = skipped;
}

std::vector<Hit> Injector::draw_drops(const LayerOperands& ops, std::size_t op, Rng& rng) const {
  std::vector<Hit> hits;
  std::vector<std::int32_t> products;
  draw_drops_into(ops, op, rng, hits, &products, nullptr);
  return hits;
}

LayerStats Injector::corrupt_dropped(const LayerOperands& ops, const engine::PreparedOp& layer,
                                     std::vector<int32_t>& acc, Rng& rng) const {
  thread_local std::vector<Hit> hits;
  thread_local std::vector<std::int32_t> products;
  double not_drawn = 0;
  draw_drops_into(ops, layer.index, rng, hits, &products, &not_drawn);
  LayerStats st = apply_dropped_hits(ops, shape_, hits, acc, products.empty() ? nullptr : &products);
  // The drops of zero products not drawn (the tiles outside a column's
  // weights, with kByClass every zero weight): expected counts (each its own
  // Razor error cycle; TE-Drop does not stall).
  const std::uint64_t not_walked = round_randomly(not_drawn, rng);
  st.hits += not_walked;
  st.razor_detected += not_walked;
  st.razor_error_cycles += not_walked;
  return st;
}

LayerStats Injector::corrupt_sampled(const LayerOperands& ops, const engine::PreparedOp& layer,
                                     std::vector<int32_t>& acc, Rng& rng) const {
  const LayerPlan& plan = this->plan(layer.index);
  LayerStats st;
  st.op = layer.index;
  st.captures = layer_captures(layer.geometry, shape_);
  st.cycles = layer_cycles(layer.geometry, shape_);
  if (plan.p_max <= 0) return st;
  const int rows = shape_.rows, cols = shape_.cols, m_count = ops.m();
  const std::size_t out_c = acc.size() / static_cast<std::size_t>(m_count);
  // Activation changes |a(m) - a(m-1)| of the layer, sampled, against each
  // column's weights: the columns' class mixes.
  bool any_classes = false;
  for (const auto& s : plan.island) any_classes |= s->has_classes();
  SampledChanges changes;
  if (any_classes && !layer.geometry.depthwise) changes = SampledChanges(ops, rng);
  const std::vector<std::array<double, kOperandClasses>> class_share =
      any_classes && layer.geometry.depthwise ? sampled_class_shares(ops, rng)
                                              : std::vector<std::array<double, kOperandClasses>>{};
  // Per error point (islands at one voltage share it) and class (index 0:
  // the whole point): a pool of single-error values from the sampler's fixed
  // mask sample, each flipped bit's direction (the partial sum's bit) a fair
  // coin from this layer's stream, whether Razor detects it, and the pool's
  // mean square value. Values are packed as value * 2 + detected in 32 bits
  // (|value| < 2^acc_bits) so the pools stay in the L1 cache: the draws of
  // a heavy rate are random reads of them.
  constexpr std::size_t kPool = 1024;
  struct ClassPool {
    std::vector<std::int32_t> packed;
    std::vector<std::int64_t> wide;  // acc_bits > 30: value * 2 + detected in 64 bits
    double mean_square = 0, detected = 0;
    std::size_t size() const { return packed.empty() ? wide.size() : packed.size(); }
  };
  std::vector<std::array<ClassPool, kOperandClasses + 1>> pools;
  std::vector<std::size_t> pool_of_island(plan.island.size());
  for (std::size_t i = 0; i < plan.island.size(); ++i) {
    const std::size_t same = static_cast<std::size_t>(
        std::find(plan.island.begin(), plan.island.end(), plan.island[i]) - plan.island.begin());
    if (same < i) {
      pool_of_island[i] = pool_of_island[same];
      continue;
    }
    pool_of_island[i] = pools.size();
    pools.emplace_back();
    for (int c = -1; c < kOperandClasses; ++c) {
      const auto& masks = plan.island[i]->mask_sample(c);
      ClassPool& pool = pools.back()[static_cast<std::size_t>(c + 1)];
      std::size_t count = 0;
      for (std::size_t t = 0; t < masks.size() && t < kPool; ++t, ++count) {
        const bool detected = (masks[t] & plan.razor.mask) != 0;
        const std::uint64_t coins = rng.next();
        std::int64_t value = 0;
        // Policy correct corrects the protected bits (drop layers are exact).
        for (std::uint64_t eff = masks[t] & ~plan.razor.mask; eff; eff &= eff - 1) {
          const int bit = __builtin_ctzll(eff);
          value += ((coins >> bit) & 1) ? (std::int64_t{1} << bit) : -(std::int64_t{1} << bit);
        }
        pool.mean_square += double(value) * double(value);
        pool.detected += detected;
        if (shape_.acc_bits <= 30) pool.packed.push_back(static_cast<std::int32_t>(value * 2 + detected));
        else pool.wide.push_back(value * 2 + detected);
      }
      if (count) {
        pool.mean_square /= double(count);
        pool.detected /= double(count);
      }
    }
  }
  // One output's errors: their count h >= 1 and summed value, into acc.
  // Where an error's value is read, per class (index 0: the whole point;
  // packed null: wide values), one per pool.
  struct PoolView {
    std::array<const ClassPool*, kOperandClasses + 1> pool{};
    std::array<const std::int32_t*, kOperandClasses + 1> packed{};
    std::array<std::uint64_t, kOperandClasses + 1> size{};
  };
  std::vector<PoolView> views(pools.size());
  for (std::size_t i = 0; i < pools.size(); ++i)
    for (std::size_t c = 0; c < pools[i].size(); ++c) {
      views[i].pool[c] = &pools[i][c];
      views[i].packed[c] = pools[i][c].packed.empty() ? nullptr : pools[i][c].packed.data();
      views[i].size[c] = pools[i][c].size();
    }
  // The fields an output's draws read come first: the dense pass reads every
  // column for every row.
  struct Column {
    BinomialTable errors;  // dense columns up to kNormalErrorsAbove: the count, 0 included (size 0: none)
    const PoolView* view = nullptr;
    std::size_t channel = 0;
    // An error is in class class_base + (how many of class_below lie at or
    // below 32 random bits): class_below[c] is the cumulative share of the
    // column's errors through class c, times 2^32, and class_base 1 (index 0:
    // the whole point's pool, for a sampler without classes: class_base 0
    // and every class_below above any 32-bit value).
    std::array<std::uint64_t, kOperandClasses - 1> class_below{};
    std::uint64_t class_base = 0;
    double p_hit = 0, mean_square = 0, detected = 0, p = 0, p_none = 1, mean_errors = 0;
    std::array<double, kOperandClasses> weight_of_class{};
  };
  StandardNormal normal(rng);
  // The layer's counts stay in locals on the hot path (each detected error
  // counts one Razor error cycle here).
  std::uint64_t hits = 0, detected_hits = 0, corrupted = 0;
  // One error's value * 2 + detected from one random word: its class (in
  // proportion to the class's share of the column's errors) from the low
  // half, its pool entry from the high half (index by the high bits times
  // the size: a division costs more than the rest). No branch: the class is
  // unpredictable.
  const auto error_value = [](const Column& col, std::uint64_t r) __attribute__((always_inline)) {
    const std::uint64_t low = r & 0xffffffffu;
    std::size_t cls = col.class_base;  // index into the view: 0 the whole point, c + 1 class c
    for (int c = 0; c < kOperandClasses - 1; ++c) cls += low >= col.class_below[static_cast<std::size_t>(c)];
    const PoolView& view = *col.view;
    const std::uint64_t slot = (r >> 32) * view.size[cls] >> 32;
    return view.packed[cls] ? std::int64_t{view.packed[cls][slot]} : view.pool[cls]->wide[slot];
  };
  const auto add_to = [&](std::int32_t& a, std::int64_t delta) __attribute__((always_inline)) {
    a = static_cast<std::int32_t>(std::clamp<std::int64_t>(static_cast<std::int64_t>(a) + delta,
                                                           std::numeric_limits<std::int32_t>::min(),
                                                           std::numeric_limits<std::int32_t>::max()));
  };
  // An output's h >= 1 errors into acc.
  const auto apply_errors = [&](const Column& col, std::uint64_t h, int m) __attribute__((always_inline)) {
    hits += h;
    std::int64_t delta = 0;
    if (h <= kSummedErrors) {
      for (std::uint64_t e = 0; e < h; ++e) {
        const std::int64_t v = error_value(col, rng.next());
        detected_hits += static_cast<std::uint64_t>(v & 1);
        delta += v >> 1;  // arithmetic shift: the value
      }
    } else {
      // Many errors: their sum is near normal, mean 0 (fair-coin directions),
      // variance h times the mean square error value.
      const auto d = static_cast<std::uint64_t>(std::llround(col.detected * static_cast<double>(h)));
      detected_hits += d;
      delta = std::llround(std::sqrt(static_cast<double>(h) * col.mean_square) * normal());
    }
    if (!delta) return;
    ++corrupted;
    add_to(acc[static_cast<std::size_t>(m) * out_c + col.channel], delta);
  };
  const auto apply_output = [&](const Column& col, std::uint64_t per_output, int m) {
    apply_errors(col, binomial_at_least_one(per_output, col.p, col.p_none, rng, normal), m);
  };
  // Scratch of the dense pass, one per thread (reused by every layer).
  thread_local std::vector<AliasSlot> arena;
  thread_local std::vector<Column> tabled, untabled;  // dense columns with / without a count table
  thread_local DenseScratch scratch;
  for (int g = 0; g < ops.gemms(); ++g) {
    const int k = ops.k(g), k_tiles = ceil_div(k, rows);
    const std::uint64_t per_output = static_cast<std::uint64_t>(k_tiles) * rows;
    tabled.clear();
    untabled.clear();
    arena.clear();
    for (int j = 0; j < ops.n(g); ++j) {
      Column col;
      const auto island = static_cast<std::size_t>(shape_.island_of_column[static_cast<std::size_t>(j % cols)]);
      col.channel = static_cast<std::size_t>(ops.out_channel(g, j));
      const PointSampler& sampler = *plan.island[island];
      if (sampler.p_max() <= 0) continue;
      // The column's mean error rate per capture and its errors' class mix.
      const auto& pool = pools[pool_of_island[island]];
      col.view = &views[pool_of_island[island]];
      double p = sampler.point().p_any_error();
      col.mean_square = pool[0].mean_square;
      col.detected = pool[0].detected;
      col.class_below.fill(std::numeric_limits<std::uint64_t>::max());
      if (sampler.has_classes()) {
        col.class_base = 1;
        // Conv/FC: the column's own weights at the sampled changes' k (as
        // corrupt_thinned); depthwise: the layer's changes against its weights.
        const auto captures_in = layer.geometry.depthwise ? column_class_captures(ops, g, j, class_share, per_output)
                                                          : changes.column_class_captures(ops, g, j, per_output);
        p = col.mean_square = col.detected = 0;
        for (int c = 0; c < kOperandClasses; ++c) {
          const double w = captures_in[static_cast<std::size_t>(c)] * sampler.accept_class(c) * sampler.p_max();
          col.weight_of_class[static_cast<std::size_t>(c)] = w;
          p += w;
          col.mean_square += w * pool[static_cast<std::size_t>(c + 1)].mean_square;
          col.detected += w * pool[static_cast<std::size_t>(c + 1)].detected;
        }
        if (p > 0) {
          col.mean_square /= p;
          col.detected /= p;
          double through = 0;
          for (int c = 0; c < kOperandClasses - 1; ++c) {
            through += col.weight_of_class[static_cast<std::size_t>(c)];
            col.class_below[static_cast<std::size_t>(c)] =
                static_cast<std::uint64_t>(std::ldexp(std::min(1.0, through / p), 32));
          }
        }
        p /= static_cast<double>(per_output);
      }
      if (p <= 0) continue;
      col.p = std::min(p, 1.0 - 1e-12);
      col.mean_errors = static_cast<double>(per_output) * col.p;
      col.p_none = std::exp(static_cast<double>(per_output) * std::log1p(-col.p));
      col.p_hit = 1 - col.p_none;
      if (col.p_hit > 0.25) {  // most outputs err: visited row by row below (contiguous accumulators)
        if (col.mean_errors <= kNormalErrorsAbove) {
          col.errors = BinomialTable::build(per_output, col.p, col.p_none, arena);
          tabled.push_back(col);
        } else {
          untabled.push_back(col);
        }
        continue;
      }
      // Outputs of this column with at least one error: geometric gaps over m.
      const double log_q = std::log1p(-col.p_hit);
      const auto gap = [&]() { return std::floor(std::log(rng.uniform_open()) / log_q); };
      for (double pos = gap(); pos < m_count; pos += 1 + gap()) apply_output(col, per_output, static_cast<int>(pos));
    }
    // Dense columns with a count table, in blocks of rows, without a branch
    // on any draw (whether an output errs and how often were the cost of a
    // draw-by-draw loop: mispredicted): (1) every output's count from its
    // column's table, the outputs with 1..kSummedErrors errors listed, those
    // with more apart; (2) the listed outputs' errors, one random word each,
    // in order (error t belongs to the output whose run of counts covers t),
    // their values summed as a running total; (3) each listed output adds the
    // difference of the running total across its run; (4) the outputs with
    // more errors: as apply_errors.
    if (!tabled.empty()) {
      const std::size_t width = tabled.size();
      const int block_rows = static_cast<int>(std::max<std::size_t>(1, DenseScratch::kOutputs / width));
      scratch.reserve(static_cast<std::size_t>(block_rows) * width);
      const AliasSlot* slots = arena.data();
      const Column* columns = tabled.data();
      for (int m0 = 0; m0 < m_count; m0 += block_rows) {
        const int m1 = std::min(m_count, m0 + block_rows);
        Rng local = rng;  // the stream in registers
        std::size_t listed = 0, many = 0;
        std::uint32_t errors = 0;
        std::uint64_t counted = 0;
        for (int m = m0; m < m1; ++m)
          for (std::size_t d = 0; d < width; ++d) {
            const std::uint64_t h = columns[d].errors.draw(slots, local.next());
            counted += h;
            const auto row = static_cast<std::uint32_t>(m), column = static_cast<std::uint32_t>(d);
            scratch.listed[listed] = {row, column, errors, static_cast<std::uint32_t>(h)};
            scratch.many[many] = {row, column, 0, static_cast<std::uint32_t>(h)};
            const bool summed = h - 1 < kSummedErrors;  // 1 <= h <= kSummedErrors
            // Error runs: write the output's index over the next
            // kSummedErrors errors (the next listed output overwrites past h).
            for (std::uint32_t e = 0; e < kSummedErrors; ++e) scratch.owner[errors + e] = static_cast<std::uint32_t>(listed);
            errors += summed ? static_cast<std::uint32_t>(h) : 0;
            listed += summed;
            many += h > kSummedErrors;
          }
        hits += counted;
        // (2) the running total of the listed outputs' error values.
        std::int64_t total = 0;
        std::uint64_t detected = 0;
        scratch.running[0] = 0;
        for (std::uint32_t t = 0; t < errors; ++t) {
          const std::int64_t v = error_value(columns[scratch.listed[scratch.owner[t]].column], local.next());
          detected += static_cast<std::uint64_t>(v & 1);
          total += v >> 1;  // arithmetic shift: the value
          scratch.running[t + 1] = total;
        }
        detected_hits += detected;
        rng = local;
        // (3) into the accumulators.
        std::uint64_t changed = 0;
        for (std::size_t i = 0; i < listed; ++i) {
          const DenseScratch::Output& o = scratch.listed[i];
          const std::int64_t delta = scratch.running[o.first_error + o.count] - scratch.running[o.first_error];
          changed += delta != 0;
          add_to(acc[static_cast<std::size_t>(o.row) * out_c + columns[o.column].channel], delta);
        }
        corrupted += changed;
        // (4) the outputs with more errors.
        for (std::size_t i = 0; i < many; ++i) {
          const DenseScratch::Output& o = scratch.many[i];
          hits -= o.count;  // apply_errors counts them
          apply_errors(columns[o.column], o.count, static_cast<int>(o.row));
        }
      }
    }
    for (int m = 0; m < m_count && !untabled.empty(); ++m)
      for (const Column& col : untabled)
        if (rng.uniform() < col.p_hit) apply_output(col, per_output, m);
  }
  st.hits = hits;
  st.razor_detected = st.razor_error_cycles = detected_hits;
  st.corrupted_outputs = corrupted;
  if (plan.razor.policy == RazorPolicy::Correct) st.cycles += st.razor_error_cycles;
  return st;
}

LayerStats Injector::corrupt_thinned(const LayerOperands& ops, const engine::PreparedOp& layer,
                                     std::vector<int32_t>& acc, Rng& rng) const {
  const LayerPlan& plan = this->plan(layer.index);
  const int rows = shape_.rows, cols = shape_.cols, m_count = ops.m();
  std::vector<const ThinnedSampler*> by_island;
  for (const auto& s : plan.island) by_island.push_back(&thinned_for(*s, shape_.protected_mask(plan.razor.mask)));
  const auto sampler_of = [&](int c) -> const ThinnedSampler& {
    return *by_island[static_cast<std::size_t>(shape_.island_of_column[static_cast<std::size_t>(c)])];
  };
  // The errors with an unprotected bit wrong, their masks without the
  // protected bits: what policy correct leaves of every error.
  thread_local std::vector<Hit> hits;
  hits.clear();
  draw_hits_with(ops, rows, cols, sampler_of, rng, hits);
  LayerStats st = apply_ordered_hits(ops, shape_, plan.razor, hits, acc);
  // The Razor counts, expected values: per column its rates from the
  // layer's sampled operand classes (as corrupt_sampled), per cycle of a
  // tile's stream P(some busy PE detects) = 1 - prod (1 - p_detected).
  bool any_classes = false;
  for (const ThinnedSampler* t : by_island) any_classes |= t->has_classes();
  SampledChanges changes;
  if (any_classes && !layer.geometry.depthwise) changes = SampledChanges(ops, rng);
  double corrected_only = 0, detected = 0, error_cycles = 0;
  std::vector<double> log_undetected(static_cast<std::size_t>(cols));
  for (int g = 0; g < ops.gemms(); ++g) {
    const int k_tiles = ceil_div(ops.k(g), rows);
    const std::uint64_t per_output = static_cast<std::uint64_t>(k_tiles) * rows;
    for (int j0 = 0; j0 < ops.n(g); j0 += cols) {
      const int width = std::min(cols, ops.n(g) - j0);
      for (int c = 0; c < width; ++c) {
        const ThinnedSampler& t = sampler_of(c);
        double p_error = t.p_error(-1), p_detected = t.p_detected(-1), p_unprotected = t.p_unprotected(-1);
        if (t.has_classes()) {
          // A depthwise column reads one channel of its own: its changes, sampled.
          const auto captures_in = layer.geometry.depthwise
                                       ? sampled_column_class_captures(ops, g, j0 + c, per_output, rng)
                                       : changes.column_class_captures(ops, g, j0 + c, per_output);
          p_error = p_detected = p_unprotected = 0;
          for (int k = 0; k < kOperandClasses; ++k) {
            const double share = captures_in[static_cast<std::size_t>(k)] / static_cast<double>(per_output);
            p_error += share * t.p_error(k);
            p_detected += share * t.p_detected(k);
            p_unprotected += share * t.p_unprotected(k);
          }
        }
        const double captures = static_cast<double>(per_output) * m_count;
        corrected_only += captures * std::max(0.0, p_error - p_unprotected);
        detected += captures * p_detected;
        log_undetected[static_cast<std::size_t>(c)] = std::log1p(-std::min(p_detected, 1.0 - 1e-12));
      }
      // Cycle t of the tile's stream has PE (r, c) busy when 0 <= t - r - c < M;
      // every PE is busy from t = rows + width - 2 to M - 1.
      const auto p_cycle = [&](int t) {
        double log_none = 0;
        for (int c = 0; c < width; ++c) {
          const int lo = std::max(0, t - c - m_count + 1), hi = std::min(rows - 1, t - c);
          if (hi >= lo) log_none += (hi - lo + 1) * log_undetected[static_cast<std::size_t>(c)];
        }
        return 1 - std::exp(log_none);
      };
      const int last = m_count + rows + width - 3, steady_begin = rows + width - 2, steady_end = m_count - 1;
      double per_tile = 0;
      for (int t = 0; t <= last; ++t) {
        if (t == steady_begin && steady_begin <= steady_end) {
          per_tile += (steady_end - steady_begin + 1) * p_cycle(t);
          t = steady_end;
          continue;
        }
        per_tile += p_cycle(t);
      }
      error_cycles += per_tile * k_tiles;
    }
  }
  const auto count = [&rng](double x) { return round_randomly(x, rng); };
  st.hits += count(corrected_only);
  st.razor_detected = count(detected);
  st.razor_error_cycles = count(error_cycles);
  return st;
}

LayerStats Injector::corrupt(const tflite::Model& model, const engine::PreparedOp& layer, const int8_t* input,
                             std::vector<int32_t>& accumulators, Rng& rng) const {
  const LayerOperands ops(model, layer, input, shape_);
  const LayerPlan& plan = this->plan(layer.index);
  // Sampled injection models one register's flips; carry-save pairs run exact.
  // After-Razor errors (plan.after_razor) are drawn hit by hit: exact.
  // TE-Drop of every failing bit: the drops, exact in distribution.
  // A layer in the array's depthwise mode runs exact in every mode (the
  // thinned, dropped and sampled paths read the GEMM mappings' weight layout).
  if (mode_ != InjectionMode::kExact && plan.drops_only && !ops.depthwise_mode()) {
    LayerStats st = corrupt_dropped(ops, layer, accumulators, rng);
    st.op = layer.index;
    st.captures = layer_captures(layer.geometry, shape_);
    st.cycles = layer_cycles(layer.geometry, shape_);
    return st;
  }
  if (mode_ == InjectionMode::kSampled && !(plan.razor.mask && plan.razor.policy == RazorPolicy::Drop) &&
      !shape_.carry_save && !plan.after_razor && !ops.depthwise_mode())
    return corrupt_sampled(ops, layer, accumulators, rng);
  LayerStats st;
  if (mode_ == InjectionMode::kThinned && plan.razor.mask && plan.razor.policy == RazorPolicy::Correct &&
      !plan.after_razor && !ops.depthwise_mode()) {
    st = corrupt_thinned(ops, layer, accumulators, rng);
  } else {
    // Hits come in chain order; one buffer per thread saves the allocation per layer.
    thread_local std::vector<Hit> hits;
    draw_hits_into(ops, layer.index, rng, hits);
    bool correct_bits = by_value(plan);
    for (const auto& s : plan.island) correct_bits |= s->keeps_correct_bits();
    Redraw redraw;
    if (correct_bits && !plan.after_razor) {
      redraw.sampler_of = [&](int c) -> const PointSampler* {
        return plan.island[static_cast<std::size_t>(shape_.island_of_column[static_cast<std::size_t>(c)])].get();
      };
      redraw.rng = &rng;
    }
    st = apply_ordered_hits(ops, shape_, plan.razor, hits, accumulators, redraw.rng ? &redraw : nullptr);
  }
  st.op = layer.index;
  st.captures = layer_captures(layer.geometry, shape_);
  st.cycles = layer_cycles(layer.geometry, shape_);
  if (plan.razor.policy == RazorPolicy::Correct) st.cycles += st.razor_error_cycles;
  return st;
}

void Injector::set_mode(InjectionMode mode) {
  mode_ = mode;
  thinned_.clear();
  // TE-Drop plans whose every error has a protected bit wrong (no error is
  // left to flip bits, each drops its product): no caller classes (a zero
  // weight's class must be 0), and no subset of a chain's products can wrap
  // the register (|a * w| <= 2^14), so a drop changes the output by minus
  // its product.
  const bool no_wrap = shape_.is_signed && !shape_.carry_save && shape_.acc_bits < 62 &&
                       static_cast<std::int64_t>(shape_.rows) * (std::int64_t{1} << 14) <
                           (std::int64_t{1} << (shape_.acc_bits - 1));
  const auto mark_drops = [&](LayerPlan& plan) {
    plan.drops_only = mode != InjectionMode::kExact && no_wrap && plan.razor.mask &&
                      plan.razor.policy == RazorPolicy::Drop &&
                      std::all_of(plan.island.begin(), plan.island.end(), [&](const auto& s) {
                        return (!s->has_classes() || s->has_file_classes()) &&
                               ThinnedSampler(*s, shape_.protected_mask(plan.razor.mask), shape_.mask_bits()).p_max() == 0;
                      });
  };
  mark_drops(default_plan_);
  for (auto& [index, plan] : layer_plans_) mark_drops(plan);
  if (mode != InjectionMode::kThinned) return;
  const auto add = [&](const LayerPlan& plan) {
    if (!plan.razor.mask || plan.razor.policy != RazorPolicy::Correct || plan.after_razor) return;
    for (const auto& s : plan.island) {
      bool have = false;
      for (const auto& t : thinned_)
        have |= &t->base() == s.get() && t->razor() == shape_.protected_mask(plan.razor.mask);
      if (!have)
        thinned_.push_back(std::make_shared<const ThinnedSampler>(*s, shape_.protected_mask(plan.razor.mask),
                                                                  shape_.mask_bits()));
    }
  };
  add(default_plan_);
  for (const auto& [index, plan] : layer_plans_) add(plan);
}

bool Injector::drops_thinned() const {
  if (default_plan_.drops_only) return true;
  for (const auto& [index, plan] : layer_plans_)
    if (plan.drops_only) return true;
  return false;
}

bool Injector::drops_only_everywhere() const {
  const auto drops = [](const LayerPlan& plan) { return plan.p_max <= 0 || plan.drops_only; };
  if (!drops(default_plan_)) return false;
  for (const auto& [index, plan] : layer_plans_)
    if (!drops(plan)) return false;
  return drops_thinned();
}

const ThinnedSampler& Injector::thinned_for(const PointSampler& sampler, std::uint64_t razor) const {
  for (const auto& t : thinned_)
    if (&t->base() == &sampler && t->razor() == razor) return *t;
  throw InjectError("thinned injection: no thinned sampler for this layer (set_mode after set_classes)");
}

Injector make_injector(const Settings& settings, const ArrayConfig& config, const std::string& config_source) {
  ErrorModel model;
  try {
    model = ErrorModel::load(settings.errmodel);
  } catch (const ErrorModelError& e) {
    throw InjectError(e.what());
  }
  return Injector(std::move(model), ArrayShape::from_config(config, config_source), settings);
}

}  // namespace vosa::inject
