#include "vosa/reuse.hpp"

#include <algorithm>
#include <stdexcept>

namespace vosa::reuse {

FeatureStream load_feature_stream(const tflite::Tensor& input, const engine::Dataset& data, size_t max_clips) {
  if (data.images)
    throw std::runtime_error(data.directory + " holds JPEG images, not a stream of feature frames: the streaming "
                             "mode needs .bin feature tensors (y_labels.csv), e.g. the keyword-spotting MFCC data");
  const bool frames_input = input.type == tflite::TensorType::kInt8 && input.shape.size() == 4 &&
                            input.dim(0) == 1 && input.dim(3) == 1 && input.dim(1) > 1;
  if (!frames_input)
    throw std::runtime_error("model input '" + input.name + "' (" + tflite::shape_string(input.shape) + " " +
                             tflite::to_string(input.type) +
                             ") is not a 1 x frames x features x 1 INT8 feature input: the streaming mode slides "
                             "windows over feature frames (e.g. DS-CNN's 1x49x10x1 MFCC)");
  FeatureStream s;
  s.window_frames = input.dim(1);
  s.frame_features = input.dim(2);
  const size_t n = max_clips ? std::min(max_clips, data.samples.size()) : data.samples.size();
  s.frames.reserve(n * input.num_elements());
  for (size_t i = 0; i < n; ++i) {
    // load_input checks the file holds exactly the input tensor's bytes.
    const std::vector<uint8_t> clip =
        engine::load_input(data.samples[i], input, engine::InputEncoding::kRaw, engine::Resize::kBilinear);
    for (uint8_t b : clip) s.frames.push_back(static_cast<int8_t>(b));
    s.clip_labels.push_back(data.samples[i].label);
  }
  return s;
}

FeatureStream clip_range(const FeatureStream& stream, size_t first, size_t count) {
  if (count == 0 || first + count > stream.num_clips())
    throw std::runtime_error("--calibration-clips: clips [" + std::to_string(first) + ", " +
                             std::to_string(first + count) + ") are not inside the stream's " +
                             std::to_string(stream.num_clips()) +
                             " clips; the calibration and held-out parts must both hold clips");
  FeatureStream part;
  part.window_frames = stream.window_frames;
  part.frame_features = stream.frame_features;
  const size_t clip_values = static_cast<size_t>(stream.window_frames) * static_cast<size_t>(stream.frame_features);
  part.frames.assign(stream.frames.begin() + static_cast<std::ptrdiff_t>(first * clip_values),
                     stream.frames.begin() + static_cast<std::ptrdiff_t>((first + count) * clip_values));
  part.clip_labels.assign(stream.clip_labels.begin() + static_cast<std::ptrdiff_t>(first),
                          stream.clip_labels.begin() + static_cast<std::ptrdiff_t>(first + count));
  return part;
}

std::vector<Window> stream_windows(const FeatureStream& stream, int stride) {
  if (stride < 1 || stride > stream.window_frames)
    throw std::runtime_error("--stride " + std::to_string(stride) + ": the window stride must be in [1, " +
                             std::to_string(stream.window_frames) + "] frames (the window length)");
  std::vector<Window> windows;
  const size_t t = static_cast<size_t>(stream.window_frames);
  for (size_t first = 0; first + t <= stream.num_frames(); first += static_cast<size_t>(stride)) {
    const size_t centre = first + t / 2;
    windows.push_back({first, stream.clip_labels[centre / t]});
  }
  return windows;
}

std::vector<uint8_t> window_input(const FeatureStream& stream, const Window& window) {
  const size_t f = static_cast<size_t>(stream.frame_features);
  const auto begin = stream.frames.begin() + static_cast<std::ptrdiff_t>(window.first_frame * f);
  std::vector<uint8_t> bytes(static_cast<size_t>(stream.window_frames) * f);
  std::transform(begin, begin + static_cast<std::ptrdiff_t>(bytes.size()), bytes.begin(),
                 [](int8_t v) { return static_cast<uint8_t>(v); });
  return bytes;
}

}  // namespace vosa::reuse
