// Where the tests find the DNN data: $VOSA_DATA_DIR, else ../shared beside
// the source tree. A missing file is a test failure naming the path.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace vosa::test {

inline std::string data_dir() {
  const char* env = std::getenv("VOSA_DATA_DIR");
  if (env && *env) return env;
  return std::string(VOSA_SOURCE_DIR) + "/../shared";
}

// Path of a file under $VOSA_DATA_DIR; records a failure when it is absent.
inline std::string data_path(const std::string& relative) {
  const std::string p = data_dir() + "/" + relative;
  if (!std::filesystem::exists(p)) {
    ADD_FAILURE() << "missing test data: " << p << " (set VOSA_DATA_DIR to the shared data folder)";
  }
  return p;
}

inline const char* kResnet8Model = "dnn/ic_resnet8_cifar10/model/pretrainedResnet_quant.tflite";
inline const char* kResnet8Data = "dnn/ic_resnet8_cifar10/data/ic01";
inline const char* kDscnnModel = "dnn/kws_dscnn_speechcommands/model/kws_ref_model.tflite";
inline const char* kDscnnData = "dnn/kws_dscnn_speechcommands/data/kws01";
inline const char* kMobilenetModel = "dnn/mobilenetv2_imagenet/model/tf2_mobilenet_v2_1.0_224_ptq.tflite";
inline const char* kMobilenetUint8Model = "dnn/mobilenetv2_imagenet/model/mobilenet_v2_1.0_224_quant.tflite";
inline const char* kMobilenetData = "dnn/mobilenetv2_imagenet/data/ILSVRC2012_VAL_SET";

}  // namespace vosa::test
