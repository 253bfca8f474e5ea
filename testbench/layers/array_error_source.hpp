// Timing errors for the Verilated array, drawn from an error model
// (errmodel.json) at each island's voltage: the source behind the C
// function vosa_inject_mask(row, col) that every PE calls at every capture of
// its output register when the RTL is built with +define+VOSA_INJECT_ERRORS.
//
// Per PE it counts down a geometric number of captures to the next candidate
// at the largest per-class error probability of the PE's island, then keeps
// the candidate with p(class)/p_max, the class being the operand class of
// what the PE holds at that edge (previous and current activation, weight),
// with hit rates per value class (PointSampler::value_rates) draws candidates
// at the upper rates and keeps each with the correct value's class's share,
// and draws the mask (a model with PE positions: the band of the PE's row,
// for the rate and the mask). Probabilities, classes and masks come from the engine
// injector's own samplers (vosa::inject::PointSampler), so the Verilated array
// and `vosa infer --errmodel` draw from one distribution. Every mask it
// returns is logged for vosa::replay_injected_gemm. In the depthwise mode
// (set_lanes) a PE's operands are the pass's lanes and weight tile.
// A carry-save array (ArrayParams::carry_save) captures two words per PE:
// one pair mask is drawn per capture (sum word low, carry word high, from
// the error model's joint statistics of the two words) and handed out in
// halves by vosa_inject_mask (sum) and vosa_inject_carry_mask (carry),
// whichever the model calls first drawing it; the log holds the pair mask.
#pragma once

#include "vosa/array_driver.hpp"
#include "vosa/inject.hpp"
#include "vosa/injection_replay.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace vosa {

class ArrayErrorSource {
 public:
  ArrayErrorSource(const ArrayParams& p, std::vector<int> island_of_column, std::uint64_t seed)
      : p_(p), island_of_column_(std::move(island_of_column)), rng_(seed) {
    if (static_cast<int>(island_of_column_.size()) != p_.cols)
      throw std::runtime_error("island map has " + std::to_string(island_of_column_.size()) + " columns, the array " +
                               std::to_string(p_.cols));
    countdown_.assign(static_cast<std::size_t>(p_.rows) * p_.cols, 0);
    pair_edge_.assign(countdown_.size(), 0);
    pair_mask_.assign(countdown_.size(), 0);
  }

  // The sampler of each island's (voltage, period) point for the layer about
  // to run (null: no errors in that island).
  void set_samplers(std::vector<const inject::PointSampler*> island_samplers) {
    points_ = std::move(island_samplers);
    for (int r = 0; r < p_.rows; ++r)
      for (int c = 0; c < p_.cols; ++c) redraw(r, c);  // memoryless: a fresh start is exact
  }

  // The GEMM the array is about to run (operands of the PE captures) and the
  // driver's accept edges (filled while it runs).
  void set_gemm(const std::vector<std::int32_t>* a, const std::vector<std::int32_t>* b, int m, int k, int n,
                const std::vector<std::uint64_t>* accept_edges, std::size_t accept_base) {
    a_ = a, b_ = b, m_ = m, k_ = k, n_ = n, accept_ = accept_edges, accept_base_ = accept_base, lanes_ = nullptr;
  }

  // Or a pass of the array's depthwise mode (null: none): PE (r, c) then
  // holds lane r / G of column c at vector t + r % G of the pass and the
  // tile's weight b[r][c] (vosa::lowering::LanePass, ArrayDriver::depthwise_pass).
  void set_lanes(const lowering::LanePass* pass, const std::vector<std::uint64_t>* accept_edges) {
    lanes_ = pass, a_ = nullptr, b_ = nullptr, accept_ = accept_edges, accept_base_ = 0;
    if (pass) m_ = pass->m, k_ = pass->rows, n_ = pass->cols;
  }

  // Hit rates per value class (inject::PointSampler::value_rates): on by
  // default for a carry-propagate array; layers_main turns them off with
  // Razor, where the engine's exact walk draws the operand class's rate.
  void thin_by_value(bool on) { by_value_ = on; }

  InjectionLog& log() { return log_; }
  std::uint64_t captures() const { return captures_; }
  std::uint64_t hits() const { return hits_; }
  // Hits whose mask was drawn to fit the captured value's correct bits (a
  // carry-propagate PE and a model with correct_bits, schema 3 and 4).
  std::uint64_t fitted_hits() const { return fitted_hits_; }

  // One word of a carry-save PE's capture at `edge` (carry: the carry word):
  // the pair's mask is drawn once per edge and PE.
  // correct: the value the sum word captures without error (carry-propagate
  // PE: the mask is drawn to fit its bits when the model has them).
  std::uint64_t draw_word(std::uint64_t edge, int row, int col, bool carry, std::uint64_t correct = 0) {
    if (!p_.carry_save) return carry ? 0 : draw(edge, row, col, correct);
    const std::size_t i = static_cast<std::size_t>(row) * p_.cols + col;
    if (pair_edge_[i] != edge + 1) {
      pair_edge_[i] = edge + 1;
      pair_mask_[i] = draw(edge, row, col);
    }
    const std::uint64_t word = p_.acc_bits >= 64 ? ~0ULL : (1ULL << p_.acc_bits) - 1;
    return carry ? (pair_mask_[i] >> p_.acc_bits) & word : pair_mask_[i] & word;
  }

  // One PE capture at active edge `edge` (carry-save: the pair mask).
  std::uint64_t draw(std::uint64_t edge, int row, int col, std::uint64_t correct = 0) {
    ++captures_;
    const std::size_t i = static_cast<std::size_t>(row) * p_.cols + col;
    if (countdown_[i] > 1) {
      --countdown_[i];
      return 0;
    }
    const inject::PointSampler* pt = point_of(col);
    if (!pt) return 0;
    redraw(row, col);
    const inject::CaptureOperands ops = operands_at(edge, row, col);
    const int mask_bits = p_.carry_save ? 2 * p_.acc_bits : p_.acc_bits;
    const std::uint64_t acc_mask = mask_bits >= 64 ? ~0ULL : (1ULL << mask_bits) - 1;
    const int cls = pt->has_classes() ? pt->class_of(ops) : -1;
    if (by_value(pt)) {
      // A candidate at the value classes' upper rate, thinned by the operand
      // class's upper rate and then by the correct value's class (exact).
      if (rng_.uniform() >= pt->accept_class_by_value(cls, row)) return 0;
      const double keep = pt->accept_value(cls, row, correct & acc_mask, p_.acc_bits);
      if (keep < 1 && rng_.uniform() >= keep) return 0;
    } else if (rng_.uniform() >= pt->accept(ops)) {
      return 0;
    }
    const bool fit = !p_.carry_save && pt->keeps_correct_bits();
    const std::uint64_t mask =
        (fit ? pt->sample_mask(rng_, cls, row, correct & acc_mask, acc_mask)
                                                    : pt->sample_mask(rng_, cls, row)) &
        acc_mask;
    if (!mask) return 0;
    ++hits_;
    fitted_hits_ += fit;
    log_[{edge, row, col}] = mask;
    return mask;
  }

 private:
  const inject::PointSampler* point_of(int col) const {
    const int island = island_of_column_[static_cast<std::size_t>(col)];
    return island < static_cast<int>(points_.size()) ? points_[static_cast<std::size_t>(island)] : nullptr;
  }

  bool by_value(const inject::PointSampler* pt) const { return by_value_ && !p_.carry_save && pt->value_rates(); }

  void redraw(int row, int col) {
    const inject::PointSampler* pt = point_of(col);
    const double p = !pt ? 0.0 : by_value(pt) ? pt->p_max_by_value() : pt->p_max();
    std::uint64_t& c = countdown_[static_cast<std::size_t>(row) * p_.cols + col];
    if (p <= 0.0) {
      c = ~0ULL;
    } else if (p >= 1.0) {
      c = 1;
    } else {
      const double u = rng_.uniform();
      const double gap = std::floor(std::log1p(-u) / std::log1p(-p)) + 1.0;  // captures until the next candidate
      c = gap >= 1e18 ? ~0ULL : static_cast<std::uint64_t>(gap);
    }
  }

  // Activation the PE (row, col) holds at `edge`: row mi of the tile whose
  // accept edge is edge - row - col - 1; bubbles hold 0.
  std::int64_t activation_at(std::uint64_t edge, int row, int col, int* tile_out) const {
    if ((!a_ && !lanes_) || !accept_ || edge < static_cast<std::uint64_t>(row + col + 1)) return 0;
    const std::uint64_t t = edge - static_cast<std::uint64_t>(row + col + 1);
    const auto begin = accept_->begin() + static_cast<std::ptrdiff_t>(accept_base_);
    const auto it = std::lower_bound(begin, accept_->end(), t);
    if (it == accept_->end() || *it != t) return 0;
    const std::size_t idx = static_cast<std::size_t>(it - begin);
    const int mi = static_cast<int>(idx % static_cast<std::size_t>(m_));
    const int tile = static_cast<int>(idx / static_cast<std::size_t>(m_));
    if (lanes_) {  // depthwise mode: one tile, the row's lane at vector mi + row % G
      if (tile_out) *tile_out = tile;
      const int t = mi + row % lanes_->group_rows, l = row / lanes_->group_rows;
      return t < lanes_->m ? lanes_->lane_values[(static_cast<std::size_t>(t) * lanes_->cols + col) * lanes_->lanes + l] : 0;
    }
    const int k_tiles = (k_ + p_.rows - 1) / p_.rows;
    const int kk = (tile % k_tiles) * p_.rows + row;
    if (tile_out) *tile_out = tile;
    return kk < k_ ? (*a_)[static_cast<std::size_t>(mi) * k_ + kk] : 0;
  }

  inject::CaptureOperands operands_at(std::uint64_t edge, int row, int col) const {
    int tile = -1, prev_tile = -1;
    const std::int64_t act = activation_at(edge, row, col, &tile);
    std::int64_t prev = edge > 0 ? activation_at(edge - 1, row, col, &prev_tile) : 0;
    if (prev_tile != tile) prev = 0;  // a weight load or bubble separates the tiles
    std::int64_t weight = 0;
    if (tile >= 0 && lanes_) {
      weight = lanes_->b[static_cast<std::size_t>(row) * lanes_->cols + col];
    } else if (tile >= 0) {
      const int k_tiles = (k_ + p_.rows - 1) / p_.rows;
      const int kk = (tile % k_tiles) * p_.rows + row, nn = (tile / k_tiles) * p_.cols + col;
      if (kk < k_ && nn < n_) weight = (*b_)[static_cast<std::size_t>(kk) * n_ + nn];
    }
    inject::CaptureOperands ops;
    ops.prev_activation = static_cast<int>(prev);
    ops.activation = static_cast<int>(act);
    ops.weight = static_cast<int>(weight);
    ops.row = row;
    ops.col = col;
    return ops;
  }

  ArrayParams p_;
  std::vector<int> island_of_column_;
  inject::Rng rng_;
  std::vector<const inject::PointSampler*> points_;
  std::vector<std::uint64_t> countdown_;
  std::vector<std::uint64_t> pair_edge_, pair_mask_;  // carry-save: edge + 1 and pair mask of each PE's last draw
  const std::vector<std::int32_t>* a_ = nullptr;
  const std::vector<std::int32_t>* b_ = nullptr;
  const lowering::LanePass* lanes_ = nullptr;
  int m_ = 0, k_ = 0, n_ = 0;
  const std::vector<std::uint64_t>* accept_ = nullptr;
  std::size_t accept_base_ = 0;
  InjectionLog log_;
  std::uint64_t captures_ = 0, hits_ = 0, fitted_hits_ = 0;
  bool by_value_ = true;
};

}  // namespace vosa
