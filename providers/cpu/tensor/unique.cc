// CPU kernel of Unique: the distinct elements (or slices along `axis`) of a tensor, sorted or in
// order of first occurrence, with first-occurrence indices, inverse indices and counts.
#include <algorithm>
#include <numeric>

#include "onnx_ops/axes.h"
#include "providers/cpu/tensor/copy.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

template <typename T>
inline auto sort_key(const T& v) {
  if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
    return static_cast<float>(v);
  } else {
    return v;  // copies strings only in comparisons of equal prefixes; fine for Unique's sizes
  }
}

class UniqueKernel final : public Kernel {
 public:
  explicit UniqueKernel(const KernelInfo& info)
      : has_axis_(info.attributes().has("axis")), axis_(info.attributes().get_int("axis", 0)),
        sorted_(info.attributes().get_int("sorted", 1) != 0) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() == DataType::kString) return run<std::string>(ctx, x);
    dispatch_numeric(x.dtype(), "Unique", [&]<typename T>() { run<T>(ctx, x); });
  }

 private:
  template <typename T>
  void run(KernelContext& ctx, const Tensor& x) {
    Shape shape = has_axis_ ? x.shape() : Shape{x.element_count()};
    const int64_t axis =
        has_axis_ ? normalize_axis(axis_, static_cast<int64_t>(shape.size()), "Unique") : 0;
    const int64_t dim = shape[axis];
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
    for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
    const T* data = x.data<T>();
    // Slice k compares element by element over (outer, inner) in row-major order.
    auto compare = [&](int64_t a, int64_t b) -> int {
      for (int64_t o = 0; o < outer; ++o) {
        const T* pa = data + (o * dim + a) * inner;
        const T* pb = data + (o * dim + b) * inner;
        for (int64_t i = 0; i < inner; ++i) {
          auto ka = sort_key(pa[i]);
          auto kb = sort_key(pb[i]);
          if (ka < kb) return -1;
          if (kb < ka) return 1;
        }
      }
      return 0;
    };
    std::vector<int64_t> order(static_cast<size_t>(dim));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return compare(a, b) < 0; });
    // Groups of equal slices; the first of each group is its first occurrence.
    std::vector<int64_t> firsts, counts, group_of(static_cast<size_t>(dim));
    for (size_t i = 0; i < order.size(); ++i) {
      if (i == 0 || compare(order[i - 1], order[i]) != 0) {
        firsts.push_back(order[i]);
        counts.push_back(0);
      }
      ++counts.back();
      group_of[order[i]] = static_cast<int64_t>(firsts.size()) - 1;
    }
    std::vector<int64_t> rank(firsts.size());  // output position of each group
    std::iota(rank.begin(), rank.end(), 0);
    if (!sorted_) {
      std::vector<int64_t> by_first(firsts.size());
      std::iota(by_first.begin(), by_first.end(), 0);
      std::sort(by_first.begin(), by_first.end(),
                [&](int64_t a, int64_t b) { return firsts[a] < firsts[b]; });
      for (size_t p = 0; p < by_first.size(); ++p) rank[by_first[p]] = static_cast<int64_t>(p);
    }
    const int64_t groups = static_cast<int64_t>(firsts.size());
    Shape y_shape = shape;
    y_shape[axis] = groups;
    Tensor& y = ctx.output(0, x.dtype(), y_shape);
    T* out = y.mutable_data<T>();
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t o = 0; o < outer; ++o) {
        copy_elements(data + (o * dim + firsts[g]) * inner, out + (o * groups + rank[g]) * inner,
                      inner);
      }
    }
    if (ctx.has_output(1)) {
      int64_t* idx = ctx.output(1, DataType::kInt64, {groups}).mutable_data<int64_t>();
      for (int64_t g = 0; g < groups; ++g) idx[rank[g]] = firsts[g];
    }
    if (ctx.has_output(2)) {
      int64_t* inv = ctx.output(2, DataType::kInt64, {dim}).mutable_data<int64_t>();
      for (int64_t k = 0; k < dim; ++k) inv[k] = rank[group_of[k]];
    }
    if (ctx.has_output(3)) {
      int64_t* cnt = ctx.output(3, DataType::kInt64, {groups}).mutable_data<int64_t>();
      for (int64_t g = 0; g < groups; ++g) cnt[rank[g]] = counts[g];
    }
  }

  bool has_axis_;
  int64_t axis_;
  bool sorted_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Unique", 11, kOpsetOpenEnded, UniqueKernel);

}  // namespace onyx
