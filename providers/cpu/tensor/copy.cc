#include "providers/cpu/tensor/copy.h"

#include <algorithm>

namespace onyx {

void copy_tensor_data(const Tensor& src, Tensor& dst) {
  if (src.dtype() == DataType::kString) {
    copy_elements(src.data<std::string>(), dst.mutable_data<std::string>(), src.element_count());
  } else if (src.byte_size() > 0) {
    std::memcpy(dst.mutable_raw_data(), src.raw_data(), src.byte_size());
  }
}

namespace {

struct StridedPlan {
  Shape shape;
  std::vector<int64_t> src;
  std::vector<int64_t> dst;
};

// Drops dims of size 1 and merges neighbours that are contiguous with each other in both
// source and destination, so the innermost run is as long as possible.
StridedPlan simplify(const Shape& shape, const std::vector<int64_t>& src,
                     const std::vector<int64_t>& dst) {
  StridedPlan plan;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (!plan.shape.empty() && plan.src.back() == src[d] * shape[d] &&
        plan.dst.back() == dst[d] * shape[d]) {
      plan.shape.back() *= shape[d];
      plan.src.back() = src[d];
      plan.dst.back() = dst[d];
      continue;
    }
    plan.shape.push_back(shape[d]);
    plan.src.push_back(src[d]);
    plan.dst.push_back(dst[d]);
  }
  if (plan.shape.empty()) {
    plan.shape.push_back(1);
    plan.src.push_back(1);
    plan.dst.push_back(1);
  }
  return plan;
}

template <typename T>
void run_strided(const T* src, T* dst, const StridedPlan& plan, int threads) {
  const size_t rank = plan.shape.size();
  const int64_t run = plan.shape.back();
  const int64_t s_inner = plan.src.back();
  const int64_t d_inner = plan.dst.back();
  int64_t runs = 1;
  for (size_t d = 0; d + 1 < rank; ++d) runs *= plan.shape[d];
  const int64_t grain = std::max<int64_t>(1, kCopyGrain / std::max<int64_t>(run, 1));
  parallel_for(runs, grain, threads, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> index(rank, 0);
    int64_t s_off = 0, d_off = 0, rest = begin;
    for (size_t d = rank - 1; d-- > 0;) {
      index[d] = rest % plan.shape[d];
      rest /= plan.shape[d];
      s_off += index[d] * plan.src[d];
      d_off += index[d] * plan.dst[d];
    }
    for (int64_t r = begin; r < end; ++r) {
      const T* s = src + s_off;
      T* o = dst + d_off;
      if (s_inner == 1 && d_inner == 1) {
        copy_elements(s, o, run);
      } else if (s_inner == 0) {
        for (int64_t i = 0; i < run; ++i) o[i * d_inner] = *s;
      } else {
        for (int64_t i = 0; i < run; ++i) o[i * d_inner] = s[i * s_inner];
      }
      for (size_t d = rank - 1; d-- > 0;) {
        s_off += plan.src[d];
        d_off += plan.dst[d];
        if (++index[d] < plan.shape[d]) break;
        s_off -= index[d] * plan.src[d];
        d_off -= index[d] * plan.dst[d];
        index[d] = 0;
      }
    }
  });
}

}  // namespace

void strided_copy(DataType dtype, const void* src, void* dst, const Shape& shape,
                  const std::vector<int64_t>& src_strides, const std::vector<int64_t>& dst_strides,
                  int threads) {
  if (shape_element_count(shape) == 0) return;
  StridedPlan plan = simplify(shape, src_strides, dst_strides);
  dispatch_by_width(dtype, "copy", [&]<typename T>() {
    run_strided(static_cast<const T*>(src), static_cast<T*>(dst), plan, threads);
  });
}

void fill_with_scalar(const Tensor& value, void* dst, int64_t count, int threads) {
  dispatch_by_width(value.dtype(), "fill", [&]<typename T>() {
    const T v = *static_cast<const T*>(value.raw_data());
    T* out = static_cast<T*>(dst);
    parallel_for(count, kCopyGrain, threads, [&](int64_t begin, int64_t end) {
      std::fill(out + begin, out + end, v);
    });
  });
}

}  // namespace onyx
