// DeformConv (opset 19+), 2-D: each kernel tap samples the input at its regular position plus
// a learned offset, bilinearly, with zeros outside the image, optionally scaled by a mask.
// Computed in double per output so 16-bit and float inputs stay close to the reference.
#include <cmath>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"
#include "runtime/common/parallel.h"

namespace onyx {

namespace {

class DeformConvKernel final : public Kernel {
 public:
  explicit DeformConvKernel(const KernelInfo& info) {
    const NodeAttributes& a = info.attributes();
    group_ = a.get_int("group", 1);
    offset_group_ = a.get_int("offset_group", 1);
    dilations_ = a.get_ints("dilations", {1, 1});
    strides_ = a.get_ints("strides", {1, 1});
    pads_ = a.get_ints("pads", {0, 0, 0, 0});
    if (dilations_.size() != 2 || strides_.size() != 2 || pads_.size() != 4) {
      throw_error(ErrorCode::kNotImplemented, "DeformConv: only 2-D convolutions are supported");
    }
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const Tensor& offset = ctx.input(2);
    if (x.rank() != 4 || w.rank() != 4 || offset.rank() != 4) {
      throw_error(ErrorCode::kNotImplemented, "DeformConv: only 2-D inputs [N,C,H,W] are supported, got X ",
                  shape_to_string(x.shape()));
    }
    const int64_t n = x.dim(0), channels = x.dim(1), height = x.dim(2), width = x.dim(3);
    const int64_t out_channels = w.dim(0), kh = w.dim(2), kw = w.dim(3);
    const int64_t oh = offset.dim(2), ow = offset.dim(3);
    if (group_ <= 0 || offset_group_ <= 0 || channels != w.dim(1) * group_ || out_channels % group_ != 0 ||
        channels % offset_group_ != 0) {
      throw_error(ErrorCode::kInvalidArgument, "DeformConv: X ", shape_to_string(x.shape()), " and W ",
                  shape_to_string(w.shape()), " do not fit group ", group_, " and offset_group ", offset_group_);
    }
    if (offset.dim(0) != n || offset.dim(1) != offset_group_ * 2 * kh * kw) {
      throw_error(ErrorCode::kInvalidArgument, "DeformConv: offset shape ", shape_to_string(offset.shape()),
                  " does not match offset_group ", offset_group_, " and kernel ", kh, "x", kw);
    }
    const bool has_bias = ctx.has_input(3), has_mask = ctx.has_input(4);
    if (has_mask && (ctx.input(4).dim(1) != offset_group_ * kh * kw || ctx.input(4).dim(2) != oh)) {
      throw_error(ErrorCode::kInvalidArgument, "DeformConv: mask shape ", shape_to_string(ctx.input(4).shape()),
                  " does not match the offsets");
    }
    Tensor& y = ctx.output(0, x.dtype(), {n, out_channels, oh, ow});
    auto run = [&]<typename T>() {
      const T* px = x.data<T>();
      const T* pw = w.data<T>();
      const T* po = offset.data<T>();
      const T* pb = has_bias ? ctx.input(3).data<T>() : nullptr;
      const T* pm = has_mask ? ctx.input(4).data<T>() : nullptr;
      T* py = y.mutable_data<T>();
      const int64_t in_per_group = channels / group_, out_per_group = out_channels / group_;
      const int64_t in_per_offset_group = channels / offset_group_, taps = kh * kw, plane = oh * ow;
      parallel_for(n * out_channels, 1, ctx.threads(), [&](int64_t begin, int64_t end) {
        for (int64_t item = begin; item < end; ++item) {
          const int64_t b = item / out_channels, oc = item % out_channels, g = oc / out_per_group;
          for (int64_t i = 0; i < oh; ++i) {
            for (int64_t j = 0; j < ow; ++j) {
              double sum = pb ? static_cast<double>(static_cast<float>(pb[oc])) : 0.0;
              for (int64_t ci = 0; ci < in_per_group; ++ci) {
                const int64_t c = g * in_per_group + ci, og = c / in_per_offset_group;
                const T* image = px + (b * channels + c) * height * width;
                for (int64_t t = 0; t < taps; ++t) {
                  const int64_t ki = t / kw, kj = t % kw;
                  const int64_t offset_channel = (b * offset_group_ + og) * 2 * taps + 2 * t;
                  const double dy = static_cast<float>(po[offset_channel * plane + i * ow + j]);
                  const double dx = static_cast<float>(po[(offset_channel + 1) * plane + i * ow + j]);
                  const double sy = static_cast<double>(i * strides_[0] - pads_[0] + ki * dilations_[0]) + dy;
                  const double sx = static_cast<double>(j * strides_[1] - pads_[1] + kj * dilations_[1]) + dx;
                  double value = sample(image, height, width, sy, sx);
                  if (pm) value *= static_cast<float>(pm[((b * offset_group_ + og) * taps + t) * plane + i * ow + j]);
                  sum += value * static_cast<float>(pw[((oc * in_per_group) + ci) * taps + t]);
                }
              }
              py[item * plane + i * ow + j] = T(static_cast<float>(sum));
            }
          }
        }
      });
    };
    if (x.dtype() == DataType::kDouble) {
      run.template operator()<double>();  // sample() reads doubles exactly
    } else {
      dispatch_dtype_or_throw<TypeList<float, Float16, BFloat16>>(x.dtype(), "DeformConv", run);
    }
  }

 private:
  // Bilinear sample at (y, x) in pixel coordinates; neighbours outside the image count as 0.
  template <typename T>
  static double sample(const T* image, int64_t height, int64_t width, double y, double x) {
    const double fy = std::floor(y), fx = std::floor(x);
    const auto y0 = static_cast<int64_t>(fy), x0 = static_cast<int64_t>(fx);
    const double ly = y - fy, lx = x - fx;
    auto at = [&](int64_t r, int64_t c) -> double {
      if (r < 0 || r >= height || c < 0 || c >= width) return 0.0;
      if constexpr (std::is_same_v<T, double>) return image[r * width + c];
      else return static_cast<float>(image[r * width + c]);
    };
    return (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x0 + 1)) + ly * ((1 - lx) * at(y0 + 1, x0) + lx * at(y0 + 1, x0 + 1));
  }

  int64_t group_ = 1;
  int64_t offset_group_ = 1;
  std::vector<int64_t> dilations_, strides_, pads_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "DeformConv", 19, kOpsetOpenEnded, DeformConvKernel);

}  // namespace onyx
