#include "training/nn/sequential.h"

#include "runtime/common/error.h"

namespace onyx::nn {

Sequential::Sequential(std::vector<std::shared_ptr<Layer>> layers) : Layer("Sequential") {
  for (auto& layer : layers) add(std::move(layer));
}

Sequential& Sequential::add(std::shared_ptr<Layer> layer) {
  ONYX_CHECK(layer != nullptr, ErrorCode::kInvalidArgument, "Sequential: a null layer");
  register_module(std::to_string(layers_.size()), layer);
  layers_.push_back(std::move(layer));
  return *this;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (auto& layer : layers_) y = (*layer)(y);
  return y;
}

}  // namespace onyx::nn
