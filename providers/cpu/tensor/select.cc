// CPU kernels that select or rearrange elements by a mask or a per-row rule: Trilu, OneHot,
// NonZero, Compress and ReverseSequence.
#include <algorithm>
#include <cmath>

#include "onnx_ops/axes.h"
#include "onnx_ops/tensor_ops.h"
#include "providers/cpu/tensor/copy.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

class TriluKernel final : public Kernel {
 public:
  explicit TriluKernel(const KernelInfo& info) : upper_(info.attributes().get_int("upper", 1) != 0) {}
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    ONYX_CHECK(input.rank() >= 2, ErrorCode::kInvalidArgument,
               "Trilu: input must have rank >= 2, got ", shape_to_string(input.shape()));
    const int64_t k = ctx.has_input(1) ? ctx.input(1).to_int64_vector().at(0) : 0;
    Tensor& out = ctx.output(0, input.dtype(), input.shape());
    const int64_t rows = input.dim(input.rank() - 2), cols = input.dim(input.rank() - 1);
    const int64_t matrices = rows * cols == 0 ? 0 : input.element_count() / (rows * cols);
    dispatch_by_width(input.dtype(), "Trilu", [&]<typename T>() {
      const T* src = static_cast<const T*>(input.raw_data());
      T* dst = static_cast<T*>(out.mutable_raw_data());
      for (int64_t m = 0; m < matrices; ++m) {
        for (int64_t i = 0; i < rows; ++i) {
          const T* s = src + (m * rows + i) * cols;
          T* d = dst + (m * rows + i) * cols;
          // Columns kept: j >= i + k (upper) or j <= i + k (lower).
          const int64_t edge = std::clamp<int64_t>(upper_ ? i + k : i + k + 1, 0, cols);
          const int64_t keep_begin = upper_ ? edge : 0, keep_end = upper_ ? cols : edge;
          std::fill(d, d + keep_begin, T{});
          copy_elements(s + keep_begin, d + keep_begin, keep_end - keep_begin);
          std::fill(d + keep_end, d + cols, T{});
        }
      }
    });
  }

 private:
  bool upper_;
};

class OneHotKernel final : public Kernel {
 public:
  explicit OneHotKernel(const KernelInfo& info) : axis_(info.attributes().get_int("axis", -1)) {}
  void compute(KernelContext& ctx) override {
    const Tensor& indices = ctx.input(0);
    const Tensor& depth_tensor = ctx.input(1);
    const Tensor& values = ctx.input(2);
    ONYX_CHECK(depth_tensor.element_count() == 1 && values.element_count() == 2,
               ErrorCode::kInvalidArgument, "OneHot: depth must hold one value and values two, got ",
               shape_to_string(depth_tensor.shape()), " and ", shape_to_string(values.shape()));
    const int64_t depth = one_hot_depth(depth_tensor);
    const int64_t out_rank = static_cast<int64_t>(indices.rank()) + 1;
    const int64_t axis = normalize_axis(axis_, out_rank, "OneHot");
    Shape out_shape = indices.shape();
    out_shape.insert(out_shape.begin() + axis, depth);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= indices.dim(d);
    for (size_t d = axis; d < indices.rank(); ++d) inner *= indices.dim(d);
    std::vector<int64_t> hot(static_cast<size_t>(indices.element_count()));
    for (int64_t i = 0; i < indices.element_count(); ++i) {
      int64_t v = static_cast<int64_t>(indices.element_as_double(i));
      hot[i] = v < 0 ? v + depth : v;  // out of range: no hot entry
    }
    Tensor& out = ctx.output(0, values.dtype(), out_shape);
    dispatch_by_width(values.dtype(), "OneHot", [&]<typename T>() {
      const T off = static_cast<const T*>(values.raw_data())[0];
      const T on = static_cast<const T*>(values.raw_data())[1];
      T* dst = static_cast<T*>(out.mutable_raw_data());
      std::fill(dst, dst + out.element_count(), off);
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
          const int64_t h = hot[o * inner + i];
          if (h >= 0 && h < depth) dst[(o * depth + h) * inner + i] = on;
        }
      }
    });
  }

 private:
  int64_t axis_;
};

// True where an element is nonzero (-0.0 counts as zero).
std::vector<uint8_t> nonzero_mask(const Tensor& input) {
  std::vector<uint8_t> mask(static_cast<size_t>(input.element_count()));
  dispatch_numeric(input.dtype(), "NonZero", [&]<typename T>() {
    const T* x = input.data<T>();
    for (size_t i = 0; i < mask.size(); ++i) {
      if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
        mask[i] = static_cast<float>(x[i]) != 0.0f;
      } else {
        mask[i] = x[i] != T(0);
      }
    }
  });
  return mask;
}

class NonZeroKernel final : public Kernel {
 public:
  explicit NonZeroKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    std::vector<uint8_t> mask = nonzero_mask(input);
    const int64_t count = std::count(mask.begin(), mask.end(), uint8_t{1});
    const int64_t rank = static_cast<int64_t>(input.rank());
    Tensor& out = ctx.output(0, DataType::kInt64, {rank, count});
    int64_t* dst = out.mutable_data<int64_t>();
    std::vector<int64_t> index(input.rank(), 0);
    int64_t n = 0;
    for (size_t e = 0; e < mask.size(); ++e) {
      if (mask[e]) {
        for (int64_t d = 0; d < rank; ++d) dst[d * count + n] = index[d];
        ++n;
      }
      for (int64_t d = rank; d-- > 0;) {
        if (++index[d] < input.dim(d)) break;
        index[d] = 0;
      }
    }
  }
};

class CompressKernel final : public Kernel {
 public:
  explicit CompressKernel(const KernelInfo& info)
      : has_axis_(info.attributes().has("axis")), axis_(info.attributes().get_int("axis", 0)) {}
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    const Tensor& condition = ctx.input(1);
    ONYX_CHECK(condition.rank() == 1, ErrorCode::kInvalidArgument,
               "Compress: condition must be 1-D, got ", shape_to_string(condition.shape()));
    std::vector<int64_t> cond = condition.to_int64_vector();
    Shape shape = has_axis_ ? input.shape() : Shape{input.element_count()};
    const int64_t axis =
        has_axis_ ? normalize_axis(axis_, static_cast<int64_t>(shape.size()), "Compress") : 0;
    const int64_t dim = shape[axis];
    // As numpy.compress: entries past the axis may be false (ignored), a true one selects a
    // slice that does not exist.
    std::vector<int64_t> kept;
    for (size_t i = 0; i < cond.size(); ++i) {
      if (!cond[i]) continue;
      ONYX_CHECK(static_cast<int64_t>(i) < dim, ErrorCode::kInvalidArgument, "Compress: condition selects entry ",
                 i, " of an axis of length ", dim);
      kept.push_back(static_cast<int64_t>(i));
    }
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
    for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
    Shape out_shape = shape;
    out_shape[axis] = static_cast<int64_t>(kept.size());
    Tensor& out = ctx.output(0, input.dtype(), out_shape);
    dispatch_by_width(input.dtype(), "Compress", [&]<typename T>() {
      const T* src = static_cast<const T*>(input.raw_data());
      T* dst = static_cast<T*>(out.mutable_raw_data());
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t k : kept) {
          copy_elements(src + (o * dim + k) * inner, dst, inner);
          dst += inner;
        }
      }
    });
  }

 private:
  bool has_axis_;
  int64_t axis_;
};

class ReverseSequenceKernel final : public Kernel {
 public:
  explicit ReverseSequenceKernel(const KernelInfo& info)
      : batch_axis_(info.attributes().get_int("batch_axis", 1)),
        time_axis_(info.attributes().get_int("time_axis", 0)) {}
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    const int64_t rank = static_cast<int64_t>(input.rank());
    ONYX_CHECK(rank >= 2, ErrorCode::kInvalidArgument,
               "ReverseSequence: input must have rank >= 2, got ", shape_to_string(input.shape()));
    const int64_t batch_axis = normalize_axis(batch_axis_, rank, "ReverseSequence batch_axis");
    const int64_t time_axis = normalize_axis(time_axis_, rank, "ReverseSequence time_axis");
    ONYX_CHECK(batch_axis != time_axis, ErrorCode::kInvalidArgument,
               "ReverseSequence: batch_axis and time_axis are both ", batch_axis);
    std::vector<int64_t> lens = ctx.input(1).to_int64_vector();
    const int64_t batch = input.dim(batch_axis), steps = input.dim(time_axis);
    ONYX_CHECK(static_cast<int64_t>(lens.size()) == batch, ErrorCode::kInvalidArgument,
               "ReverseSequence: ", lens.size(), " sequence lengths for a batch of ", batch);
    for (int64_t len : lens) {
      ONYX_CHECK(len >= 0 && len <= steps, ErrorCode::kInvalidArgument,
                 "ReverseSequence: sequence length ", len, " is out of range [0, ", steps, "]");
    }
    Tensor& out = ctx.output(0, input.dtype(), input.shape());
    if (out.element_count() == 0) return;
    // Walk the dims up to the later of the two axes; everything after is one contiguous block.
    const int64_t last = std::max(batch_axis, time_axis);
    std::vector<int64_t> strides = contiguous_strides(input.shape());
    const int64_t block = strides[last];
    int64_t blocks = 1;
    for (int64_t d = 0; d <= last; ++d) blocks *= input.dim(d);
    dispatch_by_width(input.dtype(), "ReverseSequence", [&]<typename T>() {
      const T* src = static_cast<const T*>(input.raw_data());
      T* dst = static_cast<T*>(out.mutable_raw_data());
      std::vector<int64_t> index(static_cast<size_t>(last + 1), 0);
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t t = index[time_axis], len = lens[index[batch_axis]];
        const int64_t from = b * block + (t < len ? (len - 1 - 2 * t) * strides[time_axis] : 0);
        copy_elements(src + from, dst + b * block, block);
        for (int64_t d = last + 1; d-- > 0;) {
          if (++index[d] < input.dim(d)) break;
          index[d] = 0;
        }
      }
    });
  }

 private:
  int64_t batch_axis_, time_axis_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Trilu", 14, kOpsetOpenEnded, TriluKernel);
ONYX_REGISTER_KERNEL("CPU", "", "OneHot", 9, kOpsetOpenEnded, OneHotKernel);
ONYX_REGISTER_KERNEL("CPU", "", "NonZero", 9, kOpsetOpenEnded, NonZeroKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Compress", 9, kOpsetOpenEnded, CompressKernel);
ONYX_REGISTER_KERNEL("CPU", "", "ReverseSequence", 10, kOpsetOpenEnded, ReverseSequenceKernel);

}  // namespace onyx
