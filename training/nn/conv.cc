#include "training/nn/conv.h"

#include "runtime/common/error.h"
#include "runtime/eager/eager.h"

namespace onyx::nn {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, std::array<int64_t, 2> kernel_size, Conv2dOptions options)
    : Layer("Conv2d"), options_(std::move(options)) {
  ONYX_CHECK(in_channels > 0 && out_channels > 0 && kernel_size[0] > 0 && kernel_size[1] > 0 && options_.groups > 0,
             ErrorCode::kInvalidArgument, "Conv2d: channels, kernel size and groups must be positive");
  ONYX_CHECK(in_channels % options_.groups == 0 && out_channels % options_.groups == 0, ErrorCode::kInvalidArgument,
             "Conv2d: groups ", options_.groups, " must divide in_channels ", in_channels, " and out_channels ",
             out_channels);
  const Shape shape{out_channels, in_channels / options_.groups, kernel_size[0], kernel_size[1]};
  const Fans fans = fans_of(shape);
  weight_ = &register_parameter("weight", (options_.weight_init ? options_.weight_init : fan_in_uniform())(shape, fans));
  if (options_.bias) {
    bias_ = &register_parameter("bias",
                                (options_.bias_init ? options_.bias_init : fan_in_uniform())(Shape{out_channels}, fans));
  }
}

Tensor Conv2d::forward(const Tensor& x) {
  const Tensor& w = weight_->value;
  ONYX_CHECK(x.rank() == 4, ErrorCode::kInvalidArgument, "Conv2d: input must be NCHW, got ", shape_to_string(x.shape()));
  ONYX_CHECK(x.dim(1) < 0 || x.dim(1) == w.dim(1) * options_.groups, ErrorCode::kInvalidArgument, "Conv2d: input has ",
             x.dim(1), " channels, the layer ", w.dim(1) * options_.groups);
  const auto& o = options_;
  ops::ConvAttributes attributes;
  attributes.dilations = {o.dilation[0], o.dilation[1]};
  attributes.group = o.groups;
  attributes.kernel_shape = {w.dim(2), w.dim(3)};
  attributes.pads = {o.padding[0], o.padding[1], o.padding[0], o.padding[1]};
  attributes.strides = {o.stride[0], o.stride[1]};
  return bias_ ? ops::conv(x, w, bias_->value, attributes) : ops::conv(x, w, attributes);
}

}  // namespace onyx::nn
