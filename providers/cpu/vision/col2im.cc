// CPU kernel of Col2Im (opset 18): the inverse of im2col. Column
// [n, c * prod(block) + b, l] is added to image pixel l * stride - pad_begin + b * dilation
// (per spatial dim) where that falls inside the image.
#include <cstring>
#include <vector>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

class Col2ImKernel final : public Kernel {
 public:
  explicit Col2ImKernel(const KernelInfo& info)
      : dilations_(info.attributes().get_ints("dilations")),
        pads_(info.attributes().get_ints("pads")),
        strides_(info.attributes().get_ints("strides")) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    std::vector<int64_t> image = ctx.input(1).to_int64_vector();
    std::vector<int64_t> block = ctx.input(2).to_int64_vector();
    const size_t nd = image.size();
    ONYX_CHECK(nd > 0 && block.size() == nd, ErrorCode::kInvalidArgument,
               "Col2Im: image_shape ", shape_to_string(image), " and block_shape ",
               shape_to_string(block), " must have the same non-zero length");
    std::vector<int64_t> dil = dilations_.empty() ? std::vector<int64_t>(nd, 1) : dilations_;
    std::vector<int64_t> str = strides_.empty() ? std::vector<int64_t>(nd, 1) : strides_;
    std::vector<int64_t> pads = pads_.empty() ? std::vector<int64_t>(2 * nd, 0) : pads_;
    ONYX_CHECK(dil.size() == nd && str.size() == nd && pads.size() == 2 * nd,
               ErrorCode::kInvalidArgument, "Col2Im: dilations/strides/pads do not match ", nd,
               " spatial dims");
    ONYX_CHECK(x.rank() == 3, ErrorCode::kInvalidArgument, "Col2Im: input must be [N, C*K, L], got ",
               shape_to_string(x.shape()));
    int64_t block_size = 1, blocks = 1;
    std::vector<int64_t> counts(nd);
    for (size_t d = 0; d < nd; ++d) {
      ONYX_CHECK(block[d] > 0 && str[d] > 0 && dil[d] > 0, ErrorCode::kInvalidArgument,
                 "Col2Im: block_shape, strides and dilations must be positive");
      block_size *= block[d];
      const int64_t span = dil[d] * (block[d] - 1) + 1;
      counts[d] = (image[d] + pads[d] + pads[d + nd] - span) / str[d] + 1;
      ONYX_CHECK(counts[d] > 0, ErrorCode::kInvalidArgument, "Col2Im: block ",
                 shape_to_string(block), " does not fit image ", shape_to_string(image));
      blocks *= counts[d];
    }
    ONYX_CHECK(x.dim(1) % block_size == 0 && x.dim(2) == blocks, ErrorCode::kInvalidArgument,
               "Col2Im: input ", shape_to_string(x.shape()), " does not match block ",
               shape_to_string(block), " (", block_size, " per channel) and ", blocks,
               " block positions");
    const int64_t batch = x.dim(0), channels = x.dim(1) / block_size;
    Shape out_shape{batch, channels};
    out_shape.insert(out_shape.end(), image.begin(), image.end());
    Tensor& y = ctx.output(0, x.dtype(), out_shape);
    std::memset(y.mutable_raw_data(), 0, y.byte_size());
    const int64_t pixels = shape_element_count(image);
    dispatch_dtype_or_throw<TypeList<float, double, Float16, BFloat16, int32_t, int64_t>>(
        x.dtype(), "Col2Im", [&]<typename T>() {
          using A = ComputeType<T>;
          const T* in = x.data<T>();
          T* out = y.mutable_data<T>();
          std::vector<A> acc(static_cast<size_t>(pixels));
          std::vector<int64_t> b(nd), l(nd);
          for (int64_t nc = 0; nc < batch * channels; ++nc) {
            std::fill(acc.begin(), acc.end(), A{});
            for (int64_t bi = 0; bi < block_size; ++bi) {
              int64_t rest = bi;
              for (size_t d = nd; d-- > 0;) b[d] = rest % block[d], rest /= block[d];
              const T* row = in + (nc * block_size + bi) * blocks;
              for (int64_t li = 0; li < blocks; ++li) {
                int64_t r = li, flat = 0, stride = 1;
                bool inside = true;
                for (size_t d = nd; d-- > 0;) {
                  const int64_t pos = (r % counts[d]) * str[d] - pads[d] + b[d] * dil[d];
                  r /= counts[d];
                  if (pos < 0 || pos >= image[d]) {
                    inside = false;
                    break;
                  }
                  flat += pos * stride;
                  stride *= image[d];
                }
                if (inside) acc[flat] += load(row[li]);
              }
            }
            T* o = out + nc * pixels;
            for (int64_t p = 0; p < pixels; ++p) o[p] = convert_to<T>(acc[p]);
          }
        });
  }

 private:
  std::vector<int64_t> dilations_, pads_, strides_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Col2Im", 18, kOpsetOpenEnded, Col2ImKernel);

}  // namespace onyx
