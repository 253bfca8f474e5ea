// Internal to testbench/reuse: the input-centric view of one array layer that
// the delta scheme (reuse.cpp) and the criticality analysis (criticality.cpp)
// share: which accumulators an input activation feeds, through which weight.
#pragma once

#include "vosa/engine.hpp"

#include <cstdint>
#include <vector>

namespace vosa::reuse::detail {

// Calls visit(output_row, tap) for every output position that reads input
// pixel (b, iy, ix) through kernel tap (ky, kx); padding taps read nothing.
template <typename Visit>
void for_each_reader(const lowering::ConvGeometry& g, int b, int iy, int ix, Visit&& visit) {
  for (int ky = 0; ky < g.kernel_h; ++ky) {
    const int ty = iy + g.pad_top - ky * g.dilation_h;
    if (ty < 0 || ty % g.stride_h != 0 || ty / g.stride_h >= g.out_h) continue;
    for (int kx = 0; kx < g.kernel_w; ++kx) {
      const int tx = ix + g.pad_left - kx * g.dilation_w;
      if (tx < 0 || tx % g.stride_w != 0 || tx / g.stride_w >= g.out_w) continue;
      visit((b * g.out_h + ty / g.stride_h) * g.out_w + tx / g.stride_w, ky * g.kernel_w + kx);
    }
  }
}

// Calls visit(index, b, iy, ix, ic) for every input activation of the layer
// (NHWC order, so index % in_c == ic).
template <typename Visit>
void for_each_input(const lowering::ConvGeometry& g, Visit&& visit) {
  size_t i = 0;
  for (int b = 0; b < g.batch; ++b)
    for (int iy = 0; iy < g.in_h; ++iy)
      for (int ix = 0; ix < g.in_w; ++ix)
        for (int ic = 0; ic < g.in_c; ++ic) visit(i++, b, iy, ix, ic);
}

class DeltaLayer {
 public:
  DeltaLayer(const tflite::Model& model, const engine::PreparedOp& layer);
  const lowering::ConvGeometry& geometry() const { return g_; }
  // Per input activation: the MACs it takes part in (padding taps excluded).
  const std::vector<int32_t>& fan_out() const { return fan_out_; }
  // acc (m x out_c) += delta * w for every accumulator input (b, iy, ix, ic) feeds.
  void add(int b, int iy, int ix, int ic, int32_t delta, int32_t* acc) const;

 private:
  lowering::ConvGeometry g_;
  std::vector<int8_t> weights_io_;  // conv/FC: [tap][ic][oc]; depthwise: [tap][oc]
  std::vector<int32_t> fan_out_;
};

}  // namespace vosa::reuse::detail
