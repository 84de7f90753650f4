// CPU kernels of the indexed reads: Gather (whole inner blocks by memcpy), GatherElements
// (element by element) and GatherND (slices). Indices are checked before any copy so a bad
// index fails with a message naming it and the bound instead of reading out of bounds.
#include <algorithm>

#include "onnx_ops/axes.h"
#include "providers/cpu/tensor/copy.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

// Reads indices as int64 and wraps negative ones, checking each against [-dim, dim).
std::vector<int64_t> checked_indices(const Tensor& indices, int64_t dim, const char* op,
                                     int64_t axis) {
  std::vector<int64_t> out = indices.to_int64_vector();
  for (int64_t& i : out) {
    if (i < -dim || i >= dim) {
      throw_error(ErrorCode::kInvalidArgument, op, ": index ", i, " is out of range for axis ",
                  axis, " of size ", dim, " (expected [", -dim, ", ", dim - 1, "])");
    }
    if (i < 0) i += dim;
  }
  return out;
}

class GatherKernel final : public Kernel {
 public:
  explicit GatherKernel(const KernelInfo& info) : axis_(info.attributes().get_int("axis", 0)) {}
  void compute(KernelContext& ctx) override {
    const Tensor& data = ctx.input(0);
    const Tensor& indices_tensor = ctx.input(1);
    const int64_t axis = normalize_axis(axis_, static_cast<int64_t>(data.rank()), "Gather");
    std::vector<int64_t> indices = checked_indices(indices_tensor, data.dim(axis), "Gather", axis);
    Shape out_shape(data.shape().begin(), data.shape().begin() + axis);
    out_shape.insert(out_shape.end(), indices_tensor.shape().begin(), indices_tensor.shape().end());
    out_shape.insert(out_shape.end(), data.shape().begin() + axis + 1, data.shape().end());
    Tensor& out = ctx.output(0, data.dtype(), out_shape);
    if (out.element_count() == 0) return;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= data.dim(d);
    for (size_t d = axis + 1; d < data.rank(); ++d) inner *= data.dim(d);
    const int64_t n = static_cast<int64_t>(indices.size());
    const int64_t axis_dim = data.dim(axis);
    dispatch_by_width(data.dtype(), "Gather", [&]<typename T>() {
      const T* src = static_cast<const T*>(data.raw_data());
      T* dst = static_cast<T*>(out.mutable_raw_data());
      parallel_for(outer * n, std::max<int64_t>(1, kCopyGrain / inner), ctx.threads(),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t t = begin; t < end; ++t) {
                       const int64_t o = t / n, k = t % n;
                       copy_elements(src + (o * axis_dim + indices[k]) * inner, dst + t * inner,
                                     inner);
                     }
                   });
    });
  }

 private:
  int64_t axis_;
};

class GatherElementsKernel final : public Kernel {
 public:
  explicit GatherElementsKernel(const KernelInfo& info)
      : axis_(info.attributes().get_int("axis", 0)) {}
  void compute(KernelContext& ctx) override {
    const Tensor& data = ctx.input(0);
    const Tensor& indices_tensor = ctx.input(1);
    const int64_t rank = static_cast<int64_t>(data.rank());
    const int64_t axis = normalize_axis(axis_, rank, "GatherElements");
    ONYX_CHECK(indices_tensor.rank() == data.rank(), ErrorCode::kInvalidArgument,
               "GatherElements: indices ", shape_to_string(indices_tensor.shape()),
               " and data ", shape_to_string(data.shape()), " differ in rank");
    for (int64_t d = 0; d < rank; ++d) {
      ONYX_CHECK(d == axis || indices_tensor.dim(d) <= data.dim(d), ErrorCode::kInvalidArgument,
                 "GatherElements: indices ", shape_to_string(indices_tensor.shape()),
                 " exceed data ", shape_to_string(data.shape()), " at axis ", d);
    }
    std::vector<int64_t> indices =
        checked_indices(indices_tensor, data.dim(axis), "GatherElements", axis);
    Tensor& out = ctx.output(0, data.dtype(), indices_tensor.shape());
    if (out.element_count() == 0) return;
    const Shape& shape = indices_tensor.shape();
    std::vector<int64_t> strides = contiguous_strides(data.shape());
    const int64_t inner = shape.back();
    dispatch_by_width(data.dtype(), "GatherElements", [&]<typename T>() {
      const T* src = static_cast<const T*>(data.raw_data());
      T* dst = static_cast<T*>(out.mutable_raw_data());
      const int64_t rows = out.element_count() / inner;
      parallel_for(rows, std::max<int64_t>(1, kCopyGrain / inner), ctx.threads(),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t r = begin; r < end; ++r) {
                       // Data offset of the row with the axis coordinate left out.
                       int64_t base = 0, rest = r;
                       for (int64_t d = rank - 1; d-- > 0;) {
                         const int64_t i = rest % shape[d];
                         rest /= shape[d];
                         if (d != axis) base += i * strides[d];
                       }
                       const int64_t* idx = indices.data() + r * inner;
                       T* o = dst + r * inner;
                       if (axis == rank - 1) {
                         for (int64_t j = 0; j < inner; ++j) o[j] = src[base + idx[j]];
                       } else {
                         const int64_t s = strides[axis];
                         for (int64_t j = 0; j < inner; ++j) o[j] = src[base + j + idx[j] * s];
                       }
                     }
                   });
    });
  }

 private:
  int64_t axis_;
};

class GatherNDKernel final : public Kernel {
 public:
  explicit GatherNDKernel(const KernelInfo& info)
      : batch_dims_(info.attributes().get_int("batch_dims", 0)) {}
  void compute(KernelContext& ctx) override {
    const Tensor& data = ctx.input(0);
    const Tensor& indices_tensor = ctx.input(1);
    const int64_t r = static_cast<int64_t>(data.rank());
    const int64_t q = static_cast<int64_t>(indices_tensor.rank());
    const int64_t b = batch_dims_;
    ONYX_CHECK(q >= 1 && b >= 0 && b < std::min(r, q), ErrorCode::kInvalidArgument,
               "GatherND: batch_dims ", b, " is invalid for data ", shape_to_string(data.shape()),
               " and indices ", shape_to_string(indices_tensor.shape()));
    const int64_t k = indices_tensor.dim(q - 1);
    ONYX_CHECK(k >= 1 && k <= r - b, ErrorCode::kInvalidArgument, "GatherND: index tuples of ",
               k, " entries for data ", shape_to_string(data.shape()), " with batch_dims ", b);
    for (int64_t d = 0; d < b; ++d) {
      ONYX_CHECK(data.dim(d) == indices_tensor.dim(d), ErrorCode::kInvalidArgument,
                 "GatherND: batch dim ", d, " differs: data ", shape_to_string(data.shape()),
                 ", indices ", shape_to_string(indices_tensor.shape()));
    }
    Shape out_shape(indices_tensor.shape().begin(), indices_tensor.shape().end() - 1);
    out_shape.insert(out_shape.end(), data.shape().begin() + b + k, data.shape().end());
    std::vector<int64_t> raw = indices_tensor.to_int64_vector();
    std::vector<int64_t> strides = contiguous_strides(data.shape());
    int64_t batches = 1, slice = 1;
    for (int64_t d = 0; d < b; ++d) batches *= data.dim(d);
    for (int64_t d = b + k; d < r; ++d) slice *= data.dim(d);
    const int64_t tuples = static_cast<int64_t>(raw.size()) / k;
    const int64_t per_batch = batches == 0 ? 0 : tuples / batches;
    const int64_t batch_stride = b == 0 ? 0 : strides[b - 1];
    // Source offset of every tuple, checked.
    std::vector<int64_t> offsets(static_cast<size_t>(tuples));
    for (int64_t t = 0; t < tuples; ++t) {
      int64_t off = (per_batch == 0 ? 0 : t / per_batch) * batch_stride;
      for (int64_t j = 0; j < k; ++j) {
        int64_t i = raw[t * k + j];
        const int64_t dim = data.dim(b + j);
        if (i < -dim || i >= dim) {
          throw_error(ErrorCode::kInvalidArgument, "GatherND: index ", i,
                      " is out of range for axis ", b + j, " of size ", dim, " (expected [",
                      -dim, ", ", dim - 1, "])");
        }
        off += (i < 0 ? i + dim : i) * strides[b + j];
      }
      offsets[t] = off;
    }
    Tensor& out = ctx.output(0, data.dtype(), out_shape);
    if (out.element_count() == 0) return;
    dispatch_by_width(data.dtype(), "GatherND", [&]<typename T>() {
      const T* src = static_cast<const T*>(data.raw_data());
      T* dst = static_cast<T*>(out.mutable_raw_data());
      parallel_for(tuples, std::max<int64_t>(1, kCopyGrain / slice), ctx.threads(),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t t = begin; t < end; ++t) {
                       copy_elements(src + offsets[t], dst + t * slice, slice);
                     }
                   });
    });
  }

 private:
  int64_t batch_dims_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Gather", 1, kOpsetOpenEnded, GatherKernel);
ONYX_REGISTER_KERNEL("CPU", "", "GatherElements", 11, kOpsetOpenEnded, GatherElementsKernel);
ONYX_REGISTER_KERNEL("CPU", "", "GatherND", 11, kOpsetOpenEnded, GatherNDKernel);

}  // namespace onyx
