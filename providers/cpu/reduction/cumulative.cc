// CPU kernels of CumSum (opset 11, 14) and CumProd (opset 26): running sums or products along
// the axis given as input 1, with `exclusive` and `reverse`. The input is viewed as
// [outer, n, inner]; for inner > 1 whole rows update a tile of running values, so the inner loop
// is contiguous and vectorizes. 16-bit floats accumulate in float.
#include <algorithm>

#include "onnx_ops/reduction.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

constexpr int64_t kScanTile = 512;

struct AddStep {
  template <typename A>
  static A identity() { return A(0); }
  template <typename A>
  static A apply(A a, A b) { return a + b; }
};
struct MulStep {
  template <typename A>
  static A identity() { return A(1); }
  template <typename A>
  static A apply(A a, A b) { return a * b; }
};

template <typename Step, typename T>
void scan(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool exclusive, bool reverse,
          int threads) {
  using A = ComputeType<T>;
  const int64_t tiles = (inner + kScanTile - 1) / kScanTile;
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(n * std::min(inner, kScanTile), 1));
  parallel_for(outer * tiles, grain, threads, [&](int64_t i0, int64_t i1) {
    A acc[kScanTile];
    for (int64_t item = i0; item < i1; ++item) {
      const int64_t o = item / tiles;
      const int64_t c0 = (item % tiles) * kScanTile;
      const int64_t m = std::min(kScanTile, inner - c0);
      std::fill(acc, acc + m, Step::template identity<A>());
      for (int64_t step = 0; step < n; ++step) {
        const int64_t k = reverse ? n - 1 - step : step;
        const int64_t offset = (o * n + k) * inner + c0;
        const T* in = x + offset;
        T* out = y + offset;
        if (exclusive) {
          for (int64_t j = 0; j < m; ++j) {
            const A v = load(in[j]);
            out[j] = convert_to<T>(acc[j]);
            acc[j] = Step::apply(acc[j], v);
          }
        } else {
          for (int64_t j = 0; j < m; ++j) {
            acc[j] = Step::apply(acc[j], static_cast<A>(load(in[j])));
            out[j] = convert_to<T>(acc[j]);
          }
        }
      }
    }
  });
}

template <typename Step>
class CumulativeKernel : public Kernel {
 public:
  explicit CumulativeKernel(const KernelInfo& info) : op_type_(info.node().op_type) {
    exclusive_ = info.attributes().get_int("exclusive", 0) != 0;
    reverse_ = info.attributes().get_int("reverse", 0) != 0;
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& axis_tensor = ctx.input(1);
    ONYX_CHECK(axis_tensor.element_count() == 1 &&
                   (axis_tensor.dtype() == DataType::kInt32 || axis_tensor.dtype() == DataType::kInt64),
               ErrorCode::kInvalidArgument, op_type_,
               ": axis must be one int32 or int64 value, got ", dtype_name(axis_tensor.dtype()),
               shape_to_string(axis_tensor.shape()));
    const int64_t rank = static_cast<int64_t>(x.rank());
    const int64_t axis = normalize_axis(axis_tensor.to_int64_vector()[0], rank, op_type_);
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    if (x.element_count() == 0) return;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
    for (int64_t d = axis + 1; d < rank; ++d) inner *= x.dim(d);
    dispatch_dtype_or_throw<NumericTypes>(x.dtype(), op_type_, [&]<typename T>() {
      scan<Step>(x.data<T>(), y.mutable_data<T>(), outer, x.dim(axis), inner, exclusive_,
                 reverse_, ctx.threads());
    });
  }

 private:
  std::string op_type_;
  bool exclusive_ = false;
  bool reverse_ = false;
};

ONYX_REGISTER_KERNEL("CPU", "", "CumSum", 11, kOpsetOpenEnded, CumulativeKernel<AddStep>);
ONYX_REGISTER_KERNEL("CPU", "", "CumProd", 26, kOpsetOpenEnded, CumulativeKernel<MulStep>);

}  // namespace
}  // namespace onyx
