// CPU kernel of TopK (opset 1: k attribute; 10: k input; 11: largest, sorted, negative axis).
// Each line along the axis is gathered as (value, index) pairs and partially sorted; equal values
// keep the lower index first, as ONNX requires. Results always come out sorted, which
// `sorted = 0` permits.
#include <algorithm>
#include <vector>

#include "onnx_ops/reduction.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

template <typename T>
void top_k(const T* x, T* values, int64_t* indices, int64_t outer, int64_t n, int64_t inner,
           int64_t k, bool largest, int threads) {
  using V = ComputeType<T>;
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(n, 1));
  parallel_for(outer * inner, grain, threads, [&](int64_t l0, int64_t l1) {
    std::vector<std::pair<V, int64_t>> line(static_cast<size_t>(n));
    for (int64_t l = l0; l < l1; ++l) {
      const int64_t o = l / inner;
      const int64_t i = l % inner;
      const T* in = x + o * n * inner + i;
      for (int64_t j = 0; j < n; ++j) line[j] = {load(in[j * inner]), j};
      auto end = line.begin() + k;
      if (largest) {
        std::partial_sort(line.begin(), end, line.end(), [](const auto& a, const auto& b) {
          return a.first > b.first || (a.first == b.first && a.second < b.second);
        });
      } else {
        std::partial_sort(line.begin(), end, line.end(), [](const auto& a, const auto& b) {
          return a.first < b.first || (a.first == b.first && a.second < b.second);
        });
      }
      T* out_v = values + o * k * inner + i;
      int64_t* out_i = indices + o * k * inner + i;
      for (int64_t j = 0; j < k; ++j) {
        out_v[j * inner] = convert_to<T>(line[j].first);
        out_i[j * inner] = line[j].second;
      }
    }
  });
}

class TopKKernel : public Kernel {
 public:
  explicit TopKKernel(const KernelInfo& info) : opset_(info.opset()) {
    axis_ = info.attributes().get_int("axis", -1);
    largest_ = info.attributes().get_int("largest", 1) != 0;
    if (opset_ < 10) k_ = info.attributes().require_int("k");
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    int64_t k = k_;
    if (opset_ >= 10) {
      const Tensor& kt = ctx.input(1);
      ONYX_CHECK(kt.element_count() == 1 && kt.dtype() == DataType::kInt64,
                 ErrorCode::kInvalidArgument, "TopK: K must be a single int64, got ",
                 dtype_name(kt.dtype()), shape_to_string(kt.shape()));
      k = kt.to_int64_vector()[0];
    }
    const int64_t rank = static_cast<int64_t>(x.rank());
    const int64_t axis = normalize_axis(axis_, rank, "TopK");
    const int64_t n = x.dim(axis);
    ONYX_CHECK(k >= 0 && k <= n, ErrorCode::kInvalidArgument, "TopK: k = ", k,
               " is out of range for axis ", axis, " of shape ", shape_to_string(x.shape()));
    Shape shape = x.shape();
    shape[axis] = k;
    Tensor& values = ctx.output(0, x.dtype(), shape);
    Tensor& indices = ctx.output(1, DataType::kInt64, shape);
    if (values.element_count() == 0) return;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
    for (int64_t d = axis + 1; d < rank; ++d) inner *= x.dim(d);
    dispatch_dtype_or_throw<NumericTypes>(x.dtype(), "TopK", [&]<typename T>() {
      top_k(x.data<T>(), values.mutable_data<T>(), indices.mutable_data<int64_t>(), outer, n,
            inner, k, largest_, ctx.threads());
    });
  }

 private:
  int64_t opset_;
  int64_t axis_ = -1;
  int64_t k_ = 0;
  bool largest_ = true;
};

ONYX_REGISTER_KERNEL("CPU", "", "TopK", 1, kOpsetOpenEnded, TopKKernel);

}  // namespace
}  // namespace onyx
