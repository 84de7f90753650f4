#include "training/nn/pooling.h"

#include "runtime/common/error.h"
#include "runtime/eager/eager.h"

namespace onyx::nn {

namespace {

std::array<int64_t, 2> pool_strides(const std::array<int64_t, 2>& kernel, const Pool2dOptions& options) {
  return {options.stride[0] > 0 ? options.stride[0] : kernel[0], options.stride[1] > 0 ? options.stride[1] : kernel[1]};
}

void check_pool_input(const Tensor& x, const char* layer) {
  ONYX_CHECK(x.rank() == 4, ErrorCode::kInvalidArgument, layer, ": input must be NCHW, got ", shape_to_string(x.shape()));
}

void check_pool_kernel(const std::array<int64_t, 2>& kernel, const char* layer) {
  ONYX_CHECK(kernel[0] > 0 && kernel[1] > 0, ErrorCode::kInvalidArgument, layer, ": kernel size must be positive");
}

// The window attributes MaxPool and AveragePool share.
template <typename Attributes>
Attributes window_attributes(const std::array<int64_t, 2>& kernel, const Pool2dOptions& options) {
  const auto stride = pool_strides(kernel, options);
  const auto& p = options.padding;
  Attributes attributes;
  attributes.ceil_mode = options.ceil_mode ? 1 : 0;
  attributes.kernel_shape = {kernel[0], kernel[1]};
  attributes.pads = {p[0], p[1], p[0], p[1]};
  attributes.strides = {stride[0], stride[1]};
  return attributes;
}

}  // namespace

MaxPool2d::MaxPool2d(std::array<int64_t, 2> kernel_size, Pool2dOptions options)
    : Layer("MaxPool2d"), kernel_(kernel_size), options_(options) {
  check_pool_kernel(kernel_, "MaxPool2d");
}

Tensor MaxPool2d::forward(const Tensor& x) {
  check_pool_input(x, "MaxPool2d");
  return ops::max_pool(x, window_attributes<ops::MaxPoolAttributes>(kernel_, options_));
}

AvgPool2d::AvgPool2d(std::array<int64_t, 2> kernel_size, Pool2dOptions options)
    : Layer("AvgPool2d"), kernel_(kernel_size), options_(options) {
  check_pool_kernel(kernel_, "AvgPool2d");
}

Tensor AvgPool2d::forward(const Tensor& x) {
  check_pool_input(x, "AvgPool2d");
  auto attributes = window_attributes<ops::AveragePoolAttributes>(kernel_, options_);
  attributes.count_include_pad = options_.count_include_pad ? 1 : 0;
  return ops::average_pool(x, attributes);
}

Tensor GlobalAvgPool2d::forward(const Tensor& x) {
  check_pool_input(x, "GlobalAvgPool2d");
  return ops::global_average_pool(x);
}

}  // namespace onyx::nn
