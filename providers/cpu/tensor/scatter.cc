// CPU kernels of the indexed writes: ScatterElements (and its opset 9-10 name Scatter) and
// ScatterND, with the reduction attribute, and TensorScatter (KV-cache writes) (none, add, mul, max, min). The output starts as a
// copy of the data; updates are applied in index order, so repeated indices reduce
// deterministically.
#include <algorithm>

#include "onnx_ops/axes.h"
#include "providers/cpu/tensor/copy.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

Reduction parse_reduction(const KernelInfo& info) {
  const std::string r = info.attributes().get_string("reduction", "none");
  if (r == "none") return Reduction::kNone;
  if (r == "add") return Reduction::kAdd;
  if (r == "mul") return Reduction::kMul;
  if (r == "max") return Reduction::kMax;
  return Reduction::kMin;  // the attribute check allowed only these five
}

// Calls apply(dst_offset, src_offset, count) for each update run; the typed element combine is
// chosen once outside, so the loops stay free of per-element dispatch.
template <typename Visit>
void apply_updates(Tensor& out, const Tensor& updates, Reduction reduction, const char* op,
                   const Visit& visit) {
  if (reduction == Reduction::kNone) {
    dispatch_by_width(out.dtype(), op, [&]<typename T>() {
      T* dst = static_cast<T*>(out.mutable_raw_data());
      const T* src = static_cast<const T*>(updates.raw_data());
      visit([&](int64_t d, int64_t s, int64_t n) {
        if (n == 1) {
          dst[d] = src[s];  // single elements (ScatterElements): no memcpy call per element
        } else {
          copy_elements(src + s, dst + d, n);
        }
      });
    });
    return;
  }
  dispatch_numeric(out.dtype(), op, [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      throw_error(ErrorCode::kNotImplemented, op, ": reductions on bool are not supported");
    } else {
      using C = std::conditional_t<std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>,
                                   float, T>;
      T* dst = out.mutable_data<T>();
      const T* src = updates.data<T>();
      auto run = [&](auto combine) {
        visit([&](int64_t d, int64_t s, int64_t n) {
          for (int64_t i = 0; i < n; ++i) {
            dst[d + i] = cast_element<T>(combine(cast_element<C>(dst[d + i]),
                                                 cast_element<C>(src[s + i])));
          }
        });
      };
      switch (reduction) {
        case Reduction::kAdd: run([](C a, C b) { return C(a + b); }); break;
        case Reduction::kMul: run([](C a, C b) { return C(a * b); }); break;
        case Reduction::kMax: run([](C a, C b) { return std::max(a, b); }); break;
        case Reduction::kMin: run([](C a, C b) { return std::min(a, b); }); break;
        case Reduction::kNone: break;
      }
    }
  });
}

// Destination offset of every update element of ScatterElements, all checked before anything
// is written. When the indices match data on every dim but the axis (MaxPool's gradient
// scatters a flat rank-1 tensor), the offsets are (outer * dim + index) * inner + r, one
// multiply-add per element; otherwise an odometer walks the indices' shape.
std::vector<int64_t> destination_offsets(const Shape& data_shape, const Tensor& indices_tensor, int64_t axis) {
  const int64_t rank = static_cast<int64_t>(data_shape.size());
  const int64_t dim = data_shape[static_cast<size_t>(axis)];
  std::vector<int64_t> offsets = indices_tensor.to_int64_vector();
  auto check = [&](int64_t i) {
    if (i < -dim || i >= dim) {
      throw_error(ErrorCode::kInvalidArgument, "ScatterElements: index ", i, " is out of range for axis ", axis,
                  " of size ", dim, " (expected [", -dim, ", ", dim - 1, "])");
    }
    return i < 0 ? i + dim : i;
  };
  const Shape& shape = indices_tensor.shape();
  bool same_rows = true;  // indices match data on every dim but the axis
  int64_t inner = 1;
  for (int64_t d = 0; d < rank; ++d) {
    same_rows = same_rows && (d == axis || shape[static_cast<size_t>(d)] == data_shape[static_cast<size_t>(d)]);
    if (d > axis) inner *= data_shape[static_cast<size_t>(d)];
  }
  if (same_rows) {
    const int64_t rows = shape[static_cast<size_t>(axis)];
    const int64_t count = static_cast<int64_t>(offsets.size());
    for (int64_t e = 0, outer = 0; e < count; ++outer) {
      for (int64_t j = 0; j < rows; ++j) {
        for (int64_t r = 0; r < inner; ++r, ++e) {
          int64_t& o = offsets[static_cast<size_t>(e)];
          o = (outer * dim + check(o)) * inner + r;
        }
      }
    }
    return offsets;
  }
  std::vector<int64_t> strides = contiguous_strides(data_shape);
  std::vector<int64_t> index(shape.size(), 0);
  for (size_t e = 0; e < offsets.size(); ++e) {
    const int64_t i = check(offsets[e]);
    int64_t off = 0;
    for (int64_t d = 0; d < rank; ++d) off += (d == axis ? i : index[static_cast<size_t>(d)]) * strides[static_cast<size_t>(d)];
    offsets[e] = off;
    for (int64_t d = rank; d-- > 0;) {
      if (++index[static_cast<size_t>(d)] < shape[static_cast<size_t>(d)]) break;
      index[static_cast<size_t>(d)] = 0;
    }
  }
  return offsets;
}

class ScatterElementsKernel final : public Kernel {
 public:
  explicit ScatterElementsKernel(const KernelInfo& info)
      : axis_(info.attributes().get_int("axis", 0)), reduction_(parse_reduction(info)) {}
  void compute(KernelContext& ctx) override {
    const Tensor& data = ctx.input(0);
    const Tensor& indices_tensor = ctx.input(1);
    const Tensor& updates = ctx.input(2);
    const int64_t rank = static_cast<int64_t>(data.rank());
    const int64_t axis = normalize_axis(axis_, rank, "ScatterElements");
    ONYX_CHECK(indices_tensor.shape() == updates.shape() && indices_tensor.rank() == data.rank(),
               ErrorCode::kInvalidArgument, "ScatterElements: indices ",
               shape_to_string(indices_tensor.shape()), " and updates ",
               shape_to_string(updates.shape()), " must have one shape of the rank of data ",
               shape_to_string(data.shape()));
    ONYX_CHECK(updates.dtype() == data.dtype(), ErrorCode::kInvalidArgument,
               "ScatterElements: updates are ", dtype_name(updates.dtype()), " but data is ",
               dtype_name(data.dtype()));
    for (int64_t d = 0; d < rank; ++d) {
      ONYX_CHECK(d == axis || indices_tensor.dim(d) <= data.dim(d), ErrorCode::kInvalidArgument,
                 "ScatterElements: indices ", shape_to_string(indices_tensor.shape()),
                 " exceed data ", shape_to_string(data.shape()), " at axis ", d);
    }
    std::vector<int64_t> offsets = destination_offsets(data.shape(), indices_tensor, axis);
    Tensor& out = ctx.output(0, data.dtype(), data.shape());
    copy_tensor_data(data, out);
    apply_updates(out, updates, reduction_, "ScatterElements", [&](const auto& apply) {
      for (size_t e = 0; e < offsets.size(); ++e) apply(offsets[e], int64_t(e), 1);
    });
  }

 private:
  int64_t axis_;
  Reduction reduction_;
};

class ScatterNDKernel final : public Kernel {
 public:
  explicit ScatterNDKernel(const KernelInfo& info) : reduction_(parse_reduction(info)) {}
  void compute(KernelContext& ctx) override {
    const Tensor& data = ctx.input(0);
    const Tensor& indices_tensor = ctx.input(1);
    const Tensor& updates = ctx.input(2);
    const int64_t r = static_cast<int64_t>(data.rank());
    const int64_t q = static_cast<int64_t>(indices_tensor.rank());
    ONYX_CHECK(q >= 1, ErrorCode::kInvalidArgument, "ScatterND: indices must have rank >= 1");
    const int64_t k = indices_tensor.dim(q - 1);
    ONYX_CHECK(k <= r, ErrorCode::kInvalidArgument, "ScatterND: index tuples of ", k,
               " entries for data of rank ", r);
    Shape expected(indices_tensor.shape().begin(), indices_tensor.shape().end() - 1);
    expected.insert(expected.end(), data.shape().begin() + k, data.shape().end());
    ONYX_CHECK(updates.shape() == expected && updates.dtype() == data.dtype(),
               ErrorCode::kInvalidArgument, "ScatterND: updates ",
               shape_to_string(updates.shape()), " ", dtype_name(updates.dtype()),
               " do not match the expected ", shape_to_string(expected), " ",
               dtype_name(data.dtype()));
    std::vector<int64_t> raw = indices_tensor.to_int64_vector();
    std::vector<int64_t> strides = contiguous_strides(data.shape());
    int64_t slice = 1;
    for (int64_t d = k; d < r; ++d) slice *= data.dim(d);
    const int64_t tuples = k == 0 ? shape_element_count(expected) / std::max<int64_t>(slice, 1)
                                  : static_cast<int64_t>(raw.size()) / k;
    std::vector<int64_t> offsets(static_cast<size_t>(tuples), 0);
    for (int64_t t = 0; t < tuples; ++t) {
      for (int64_t j = 0; j < k; ++j) {
        int64_t i = raw[t * k + j];
        const int64_t dim = data.dim(j);
        if (i < -dim || i >= dim) {
          throw_error(ErrorCode::kInvalidArgument, "ScatterND: index ", i,
                      " is out of range for axis ", j, " of size ", dim, " (expected [", -dim,
                      ", ", dim - 1, "])");
        }
        offsets[t] += (i < 0 ? i + dim : i) * strides[j];
      }
    }
    Tensor& out = ctx.output(0, data.dtype(), data.shape());
    copy_tensor_data(data, out);
    apply_updates(out, updates, reduction_, "ScatterND", [&](const auto& apply) {
      for (int64_t t = 0; t < tuples; ++t) apply(offsets[t], t * slice, slice);
    });
  }

 private:
  Reduction reduction_;
};

// TensorScatter writes `update` into a KV cache at a per-batch position along `axis`.
class TensorScatterKernel final : public Kernel {
 public:
  explicit TensorScatterKernel(const KernelInfo& info)
      : axis_(info.attributes().get_int("axis", -2)),
        circular_(info.attributes().get_string("mode", "linear") == "circular") {}
  void compute(KernelContext& ctx) override {
    const Tensor& cache = ctx.input(0);
    const Tensor& update = ctx.input(1);
    const int64_t rank = static_cast<int64_t>(cache.rank());
    const int64_t axis = normalize_axis(axis_, rank, "TensorScatter");
    bool compatible = update.rank() == cache.rank() && update.dtype() == cache.dtype();
    for (int64_t d = 0; compatible && d < rank; ++d) {
      compatible = d == axis ? update.dim(d) <= cache.dim(d) : update.dim(d) == cache.dim(d);
    }
    ONYX_CHECK(compatible, ErrorCode::kInvalidArgument, "TensorScatter: update ",
               shape_to_string(update.shape()), " does not fit the cache ",
               shape_to_string(cache.shape()), " along axis ", axis);
    std::vector<int64_t> positions;
    if (ctx.has_input(2)) positions = ctx.input(2).to_int64_vector();
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= cache.dim(d);
    for (int64_t d = axis + 1; d < rank; ++d) inner *= cache.dim(d);
    const int64_t per_batch = axis == 0 ? 1 : outer / std::max<int64_t>(cache.dim(0), 1);
    const int64_t max_len = cache.dim(axis), len = update.dim(axis);
    Tensor& out = ctx.output(0, cache.dtype(), cache.shape());
    copy_tensor_data(cache, out);
    dispatch_by_width(cache.dtype(), "TensorScatter", [&]<typename T>() {
      const T* src = static_cast<const T*>(update.raw_data());
      T* dst = static_cast<T*>(out.mutable_raw_data());
      for (int64_t o = 0; o < outer; ++o) {
        const int64_t batch = o / per_batch;
        const int64_t start = positions.empty() ? 0 : positions.at(batch);
        for (int64_t s = 0; s < len; ++s) {
          int64_t p = start + s;
          if (circular_) p = ((p % max_len) + max_len) % max_len;
          if (p < 0 || p >= max_len) {
            throw_error(ErrorCode::kInvalidArgument, "TensorScatter: write index ", p,
                        " is out of range for axis ", axis, " of size ", max_len);
          }
          copy_elements(src + (o * len + s) * inner, dst + (o * max_len + p) * inner, inner);
        }
      }
    });
  }

 private:
  int64_t axis_;
  bool circular_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "TensorScatter", 24, kOpsetOpenEnded, TensorScatterKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Scatter", 9, 10, ScatterElementsKernel);
ONYX_REGISTER_KERNEL("CPU", "", "ScatterElements", 11, kOpsetOpenEnded, ScatterElementsKernel);
ONYX_REGISTER_KERNEL("CPU", "", "ScatterND", 11, kOpsetOpenEnded, ScatterNDKernel);

}  // namespace onyx
