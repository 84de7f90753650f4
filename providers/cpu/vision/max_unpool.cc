// CPU kernel of MaxUnpool (opsets 9 and 11): scatters X into a zero output at the flat indices
// MaxPool produced.
#include <cstring>
#include <vector>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

class MaxUnpoolKernel final : public Kernel {
 public:
  explicit MaxUnpoolKernel(const KernelInfo& info) {
    const auto& a = info.attributes();
    kernel_ = a.require_ints("kernel_shape");
    const size_t n = kernel_.size();
    strides_ = a.get_ints("strides", std::vector<int64_t>(n, 1));
    pads_ = a.get_ints("pads", std::vector<int64_t>(2 * n, 0));
    ONYX_CHECK(strides_.size() == n && pads_.size() == 2 * n, ErrorCode::kInvalidArgument,
               "MaxUnpool: strides (", strides_.size(), ") and pads (", pads_.size(),
               ") do not match kernel_shape (", n, " dims)");
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& indices = ctx.input(1);
    const size_t spatial = kernel_.size();
    ONYX_CHECK(x.rank() == spatial + 2, ErrorCode::kInvalidArgument, "MaxUnpool: X ",
               shape_to_string(x.shape()), " does not have ", spatial,
               " spatial dims as kernel_shape says");
    ONYX_CHECK(indices.shape() == x.shape(), ErrorCode::kInvalidArgument, "MaxUnpool: I ",
               shape_to_string(indices.shape()), " must have X's shape ",
               shape_to_string(x.shape()));
    Shape out_shape{x.dim(0), x.dim(1)};
    for (size_t i = 0; i < spatial; ++i) {
      out_shape.push_back((x.dim(i + 2) - 1) * strides_[i] - pads_[i] - pads_[i + spatial] +
                          kernel_[i]);
    }
    const Shape inferred = out_shape;
    if (ctx.has_input(2)) {
      Shape given = ctx.input(2).to_int64_vector();
      ONYX_CHECK(given.size() == out_shape.size(), ErrorCode::kInvalidArgument,
                 "MaxUnpool: output_shape ", shape_to_string(given), " has the wrong rank for X ",
                 shape_to_string(x.shape()));
      for (size_t i = 0; i < given.size(); ++i) {
        ONYX_CHECK(i < 2 ? given[i] == out_shape[i] : given[i] >= out_shape[i], ErrorCode::kInvalidArgument,
                   "MaxUnpool: output_shape ", shape_to_string(given),
                   " does not contain the inferred ", shape_to_string(out_shape));
      }
      out_shape = given;
    }
    Tensor& y = ctx.output(0, x.dtype(), out_shape);
    std::memset(y.mutable_raw_data(), 0, y.byte_size());
    // Indices address the inferred shape (as MaxPool produced them); a larger output_shape
    // places each element at the same coordinates, leaving the extra rows and columns zero.
    std::vector<int64_t> idx = indices.to_int64_vector();
    const int64_t total = shape_element_count(inferred);
    const bool same = inferred == out_shape;
    for (int64_t& i : idx) {
      ONYX_CHECK(i >= 0 && i < total, ErrorCode::kInvalidArgument, "MaxUnpool: index ", i,
                 " out of range for unpooled shape ", shape_to_string(inferred));
      if (same) continue;
      int64_t rest = i, flat = 0, stride = 1;
      for (size_t d = inferred.size(); d-- > 0;) {
        flat += (rest % inferred[d]) * stride;
        rest /= inferred[d];
        stride *= out_shape[d];
      }
      i = flat;
    }
    dispatch_dtype_or_throw<NumericTypes>(x.dtype(), "MaxUnpool", [&]<typename T>() {
      const T* xd = x.data<T>();
      T* yd = y.mutable_data<T>();
      for (size_t i = 0; i < idx.size(); ++i) yd[idx[i]] = xd[i];
    });
  }

 private:
  std::vector<int64_t> kernel_, strides_, pads_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "MaxUnpool", 9, kOpsetOpenEnded, MaxUnpoolKernel);

}  // namespace onyx
