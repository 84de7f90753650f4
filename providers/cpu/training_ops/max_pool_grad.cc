// Kernel and shape rule of com.onyx.training::MaxPoolGrad (onyx_training_ops.h). MaxPool's
// Indices are flat positions in the whole input, and an output of plane (n, c) always points
// into that plane, so planes are filled and scattered independently (in parallel, no races);
// an index outside its plane is an error, never a write elsewhere.
#include <atomic>
#include <cstring>

#include "onnx_ops/op_schema.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"
#include "providers/cpu/training_ops/onyx_training_ops.h"

namespace onyx::training {
namespace {

class MaxPoolGradKernel final : public Kernel {
 public:
  explicit MaxPoolGradKernel(const KernelInfo&) {}

  void compute(KernelContext& ctx) override {
    const Tensor& dy = ctx.input(0);
    const Tensor& indices = ctx.input(1);
    const Tensor& x = ctx.input(2);
    ONYX_CHECK(indices.dtype() == DataType::kInt64 && indices.shape() == dy.shape() && dy.dtype() == x.dtype(),
               ErrorCode::kInvalidArgument, "MaxPoolGrad: dY ", dtype_name(dy.dtype()), shape_to_string(dy.shape()),
               " and Indices ", dtype_name(indices.dtype()), shape_to_string(indices.shape()),
               " must have one shape, Indices int64 and dY the type of X (", dtype_name(x.dtype()), ")");
    ONYX_CHECK(x.rank() >= 2 && dy.rank() == x.rank() && dy.dim(0) == x.dim(0) && dy.dim(1) == x.dim(1),
               ErrorCode::kInvalidArgument, "MaxPoolGrad: dY ", shape_to_string(dy.shape()), " is not a pooling of X ",
               shape_to_string(x.shape()));
    Tensor& dx = ctx.output(0, x.dtype(), x.shape());
    const int64_t planes = x.dim(0) * x.dim(1);
    if (dx.element_count() == 0) return;
    const int64_t in_size = x.element_count() / planes, out_size = dy.element_count() / planes;
    dispatch_dtype_or_throw<TypeList<float, double, Float16, BFloat16>>(x.dtype(), kMaxPoolGradOp, [&]<typename T>() {
      const T* g = dy.data<T>();
      const int64_t* where = indices.data<int64_t>();
      T* out = dx.mutable_data<T>();
      // A plane's work is its fill plus its scatter; a few planes per chunk amortize the region.
      // (An exception must not leave a parallel region: a bad index is reported after it.)
      std::atomic<int64_t> bad_output{-1};
      const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(in_size + out_size, 1));
      parallel_for(planes, grain, ctx.threads(), [&](int64_t begin, int64_t end) {
        for (int64_t plane = begin; plane < end; ++plane) {
          T* target = out + plane * in_size;
          std::memset(static_cast<void*>(target), 0, static_cast<size_t>(in_size) * sizeof(T));
          const int64_t first = plane * in_size;
          for (int64_t o = plane * out_size; o < (plane + 1) * out_size; ++o) {
            const int64_t offset = where[o] - first;
            if (offset < 0 || offset >= in_size) {
              bad_output.store(o);
              continue;
            }
            if constexpr (kIsHalf<T>) {
              target[offset] = T(static_cast<float>(target[offset]) + static_cast<float>(g[o]));
            } else {
              target[offset] += g[o];
            }
          }
        }
      });
      if (const int64_t o = bad_output.load(); o >= 0) {
        const int64_t first = o / out_size * in_size;
        throw_error(ErrorCode::kInvalidArgument, "MaxPoolGrad: index ", where[o], " of output ", o,
                    " is outside its plane [", first, ", ", first + in_size, ") of X ", shape_to_string(x.shape()));
      }
    });
  }
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", kTrainingDomain, kMaxPoolGradOp, 1, kOpsetOpenEnded, MaxPoolGradKernel);

// dX has X's type and shape.
ONYX_REGISTER_SHAPE_RULE(kTrainingDomain, kMaxPoolGradOp, [](InferenceContext& ctx) {
  ctx.set_output_type(0, ctx.input_type(2));
});

}  // namespace onyx::training
