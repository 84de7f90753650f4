// CPU kernel of RoiAlign (opset 10; 16 adds coordinate_transformation_mode, default
// half_pixel). Each output bin averages (or maxes) bilinear samples on a regular grid inside the
// bin; sample positions and weights depend only on the ROI, so they are computed once per ROI
// and reused for every channel.
#include <cmath>
#include <vector>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

struct Sample {
  int64_t pos[4];
  double w[4];
};

class RoiAlignKernel final : public Kernel {
 public:
  explicit RoiAlignKernel(const KernelInfo& info) {
    const auto& a = info.attributes();
    std::string mode = a.get_string("mode", "avg");
    // Values as the attribute check (onnx_ops/vision_checks.cc) allowed them.
    max_ = mode == "max";
    out_h_ = a.get_int("output_height", 1);
    out_w_ = a.get_int("output_width", 1);
    sampling_ratio_ = a.get_int("sampling_ratio", 0);
    spatial_scale_ = a.get_float("spatial_scale", 1.0f);
    std::string ct = info.opset() >= 16
                         ? a.get_string("coordinate_transformation_mode", "half_pixel")
                         : "output_half_pixel";
    half_pixel_ = ct == "half_pixel";
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& rois = ctx.input(1);
    const Tensor& batch = ctx.input(2);
    ONYX_CHECK(x.rank() == 4, ErrorCode::kInvalidArgument, "RoiAlign: X must be 4-D, got ",
               shape_to_string(x.shape()));
    ONYX_CHECK(rois.rank() == 2 && rois.dim(1) == 4, ErrorCode::kInvalidArgument,
               "RoiAlign: rois must be [num_rois, 4], got ", shape_to_string(rois.shape()));
    ONYX_CHECK(batch.rank() == 1 && batch.dim(0) == rois.dim(0), ErrorCode::kInvalidArgument,
               "RoiAlign: batch_indices ", shape_to_string(batch.shape()),
               " must be [num_rois] for rois ", shape_to_string(rois.shape()));
    ONYX_CHECK(rois.dtype() == x.dtype(), ErrorCode::kInvalidArgument,
               "RoiAlign: rois type ", dtype_name(rois.dtype()), " differs from X's ",
               dtype_name(x.dtype()));
    std::vector<int64_t> batch_index = batch.to_int64_vector();
    for (int64_t b : batch_index) {
      ONYX_CHECK(b >= 0 && b < x.dim(0), ErrorCode::kInvalidArgument,
                 "RoiAlign: batch index ", b, " out of range for X ", shape_to_string(x.shape()));
    }
    Tensor& y = ctx.output(0, x.dtype(), {rois.dim(0), x.dim(1), out_h_, out_w_});
    if (y.element_count() == 0) return;
    ONYX_CHECK(x.dim(2) > 0 && x.dim(3) > 0, ErrorCode::kInvalidArgument,
               "RoiAlign: cannot sample ROIs from empty image ", shape_to_string(x.shape()));
    dispatch_dtype_or_throw<TypeList<float, double, Float16, BFloat16>>(
        x.dtype(), "RoiAlign", [&]<typename T>() { run<T>(x, rois, batch_index, y, ctx.threads()); });
  }

 private:
  template <typename T>
  void run(const Tensor& x, const Tensor& rois, const std::vector<int64_t>& batch_index,
           Tensor& y, int threads) const {
    const int64_t channels = x.dim(1), height = x.dim(2), width = x.dim(3);
    const int64_t num_rois = rois.dim(0);
    const T* xd = x.data<T>();
    const T* rd = rois.data<T>();
    T* yd = y.mutable_data<T>();
    const int64_t bins = out_h_ * out_w_;
    parallel_for(num_rois, 1, threads, [&](int64_t r0, int64_t r1) {
      std::vector<Sample> samples;
      for (int64_t r = r0; r < r1; ++r) {
        const T* roi = rd + r * 4;
        const double offset = half_pixel_ ? 0.5 : 0.0;
        const double start_w = static_cast<double>(load(roi[0])) * spatial_scale_ - offset;
        const double start_h = static_cast<double>(load(roi[1])) * spatial_scale_ - offset;
        const double end_w = static_cast<double>(load(roi[2])) * spatial_scale_ - offset;
        const double end_h = static_cast<double>(load(roi[3])) * spatial_scale_ - offset;
        double roi_w = end_w - start_w, roi_h = end_h - start_h;
        if (!half_pixel_) {
          roi_w = std::max(roi_w, 1.0);
          roi_h = std::max(roi_h, 1.0);
        }
        const double bin_h = roi_h / static_cast<double>(out_h_);
        const double bin_w = roi_w / static_cast<double>(out_w_);
        const int64_t grid_h = sampling_ratio_ > 0 ? sampling_ratio_
                                                   : static_cast<int64_t>(std::ceil(roi_h / out_h_));
        const int64_t grid_w = sampling_ratio_ > 0 ? sampling_ratio_
                                                   : static_cast<int64_t>(std::ceil(roi_w / out_w_));
        const int64_t per_bin = std::max<int64_t>(grid_h, 0) * std::max<int64_t>(grid_w, 0);
        const double count = static_cast<double>(std::max<int64_t>(per_bin, 1));
        samples.resize(static_cast<size_t>(bins * per_bin));
        size_t s = 0;
        for (int64_t ph = 0; ph < out_h_; ++ph) {
          for (int64_t pw = 0; pw < out_w_; ++pw) {
            for (int64_t iy = 0; iy < grid_h; ++iy) {
              double yy = start_h + ph * bin_h + (iy + 0.5) * bin_h / static_cast<double>(grid_h);
              for (int64_t ix = 0; ix < grid_w; ++ix) {
                double xx = start_w + pw * bin_w + (ix + 0.5) * bin_w / static_cast<double>(grid_w);
                samples[s++] = bilinear(yy, xx, height, width);
              }
            }
          }
        }
        const T* image = xd + batch_index[r] * channels * height * width;
        T* out = yd + r * channels * bins;
        for (int64_t c = 0; c < channels; ++c) {
          const T* plane = image + c * height * width;
          for (int64_t b = 0; b < bins; ++b) {
            const Sample* sb = samples.data() + b * per_bin;
            double v = 0;
            if (max_) {
              bool first = true;
              for (int64_t k = 0; k < per_bin; ++k) {
                double m = sb[k].w[0] * static_cast<double>(load(plane[sb[k].pos[0]]));
                for (int q = 1; q < 4; ++q) {
                  m = std::max(m, sb[k].w[q] * static_cast<double>(load(plane[sb[k].pos[q]])));
                }
                v = first ? m : std::max(v, m);
                first = false;
              }
            } else {
              for (int64_t k = 0; k < per_bin; ++k) {
                for (int q = 0; q < 4; ++q) {
                  v += sb[k].w[q] * static_cast<double>(load(plane[sb[k].pos[q]]));
                }
              }
              v /= count;
            }
            out[c * bins + b] = convert_to<T>(v);
          }
        }
      }
    });
  }

  // Bilinear sample at (y, x), as in the reference: points more than one pixel outside
  // contribute zero, others clamp to the border.
  static Sample bilinear(double y, double x, int64_t height, int64_t width) {
    Sample s{};
    if (y < -1.0 || y > static_cast<double>(height) || x < -1.0 || x > static_cast<double>(width)) {
      return s;
    }
    y = std::max(y, 0.0);
    x = std::max(x, 0.0);
    int64_t y_low = static_cast<int64_t>(y), x_low = static_cast<int64_t>(x);
    int64_t y_high, x_high;
    if (y_low >= height - 1) {
      y_high = y_low = height - 1;
      y = static_cast<double>(y_low);
    } else {
      y_high = y_low + 1;
    }
    if (x_low >= width - 1) {
      x_high = x_low = width - 1;
      x = static_cast<double>(x_low);
    } else {
      x_high = x_low + 1;
    }
    const double ly = y - static_cast<double>(y_low), lx = x - static_cast<double>(x_low);
    const double hy = 1 - ly, hx = 1 - lx;
    s.pos[0] = y_low * width + x_low;
    s.pos[1] = y_low * width + x_high;
    s.pos[2] = y_high * width + x_low;
    s.pos[3] = y_high * width + x_high;
    s.w[0] = hy * hx;
    s.w[1] = hy * lx;
    s.w[2] = ly * hx;
    s.w[3] = ly * lx;
    return s;
  }

  bool max_ = false;
  int64_t out_h_ = 1, out_w_ = 1, sampling_ratio_ = 0;
  float spatial_scale_ = 1.0f;
  bool half_pixel_ = true;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "RoiAlign", 10, kOpsetOpenEnded, RoiAlignKernel);

}  // namespace onyx
