// Labelled input data for `vosa infer` and `make layers`.
//
// A data directory holds either
//   y_labels.csv      lines "file,num_classes,label" (MLPerf Tiny / EEMBC):
//                     each file is the raw input tensor (.bin), or
//   dataset_1001.txt  lines "path,label" (paths relative to the directory):
//                     JPEG images, decoded with libjpeg and resized to the
//                     model's input size.
#pragma once

#include "vosa/tflite_model.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace vosa::engine {

struct Sample {
  std::string path;
  int label = -1;
};

// How the bytes of a .bin file map onto the model input.
//   kRaw     the bytes are the input tensor's values as stored (e.g. DS-CNN's
//            int8 MFCC features).
//   kPixels  the bytes are uint8 pixels; an INT8 input gets pixel - 128
//            (ResNet-8: scale 1, zero point -128), a UINT8 input gets them as is.
enum class InputEncoding { kRaw, kPixels };


// How a JPEG is brought to the model's input height and width.
//   kBilinear    bilinear resampling with half-pixel centres (as
//                tf.image.resize / OpenCV INTER_LINEAR), rounded to uint8.
//   kCenterCrop  the central window, no resampling (image must be large enough).
enum class Resize { kBilinear, kCenterCrop };

struct Dataset {
  std::string directory;
  std::vector<Sample> samples;
  bool images = false;  // JPEGs (true) or .bin tensors
};

// The encoding to use for `requested` ("auto", "raw" or "pixels"; the
// --input-encoding flag). "auto" needs no choice for JPEG data or a UINT8
// input (both encodings give the same bytes), reads
// DATA/vosa_dataset.json {"input_encoding": "raw"|"pixels"} when present,
// takes raw for an INT8 input whose zero point is not -128 (pixels means
// byte - 128, the int8 value of a [0, 255] pixel only at zero point -128),
// and otherwise refuses, naming the flag. An explicit "pixels" on such an
// INT8 input is refused too: it would be a silent wrong answer.
InputEncoding resolve_input_encoding(const std::string& requested, const tflite::Tensor& input,
                                     const Dataset& data);
const char* to_string(InputEncoding encoding);

// Reads the label list; throws naming the directory/file/line on any problem.
Dataset load_dataset(const std::string& directory);

// Reads one sample as the model's input tensor bytes.
std::vector<uint8_t> load_input(const Sample& sample, const tflite::Tensor& input, InputEncoding encoding,
                                Resize resize);

// Decodes a JPEG to interleaved RGB (exposed for tests).
std::vector<uint8_t> decode_jpeg_rgb(const std::string& path, int* width, int* height);

// Resamples interleaved RGB to (out_w, out_h).
std::vector<uint8_t> resize_rgb(const std::vector<uint8_t>& rgb, int width, int height, int out_w, int out_h,
                                Resize mode);

}  // namespace vosa::engine
