// CPU kernels of the sequence ops. A sequence Value is immutable and shares its items, so
// SequenceAt/Erase/Insert copy only the list of items, never tensor data. Tensors that enter a
// sequence (SequenceConstruct, SequenceInsert) are deep-copied: the session's memory plan may
// reuse an input's arena bytes once its last reader ran, while the sequence lives on.
#include <algorithm>
#include <string>
#include <vector>

#include "onnx_ops/axes.h"
#include "onnx_ops/sequence.h"
#include "providers/cpu/tensor/copy.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

const Sequence& sequence_input(const KernelContext& ctx, size_t i, std::string_view op) {
  const Value& value = ctx.input_value(i);
  ONYX_CHECK(value.is_sequence(), ErrorCode::kInvalidArgument, op, ": input ", i,
             " must be a sequence");
  return value.sequence_items();
}

// An owned copy of `tensor`, safe to keep beyond the current step.
Tensor owned_copy(const Tensor& tensor) { return tensor.clone(); }

class SequenceEmptyKernel final : public Kernel {
 public:
  explicit SequenceEmptyKernel(const KernelInfo& info)
      : dtype_(dtype_from_code(static_cast<int32_t>(
            info.attributes().get_int("dtype", static_cast<int64_t>(DataType::kFloat))))) {}
  void compute(KernelContext& ctx) override { ctx.set_output(0, Value::sequence({}, dtype_)); }

 private:
  DataType dtype_;
};

class SequenceConstructKernel final : public Kernel {
 public:
  explicit SequenceConstructKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    ONYX_CHECK(ctx.input_count() > 0, ErrorCode::kInvalidModel,
               "SequenceConstruct: needs at least one input");
    const DataType dtype = ctx.input(0).dtype();
    Sequence items;
    items.reserve(ctx.input_count());
    for (size_t i = 0; i < ctx.input_count(); ++i) {
      const Tensor& t = ctx.input(i);
      ONYX_CHECK(t.dtype() == dtype, ErrorCode::kInvalidArgument, "SequenceConstruct: input ", i,
                 " is ", dtype_name(t.dtype()), " but input 0 is ", dtype_name(dtype));
      items.emplace_back(owned_copy(t));
    }
    ctx.set_output(0, Value::sequence(std::move(items), dtype));
  }
};

class SequenceInsertKernel final : public Kernel {
 public:
  explicit SequenceInsertKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Value& input = ctx.input_value(0);
    const Sequence& items = sequence_input(ctx, 0, "SequenceInsert");
    const Tensor& tensor = ctx.input(1);
    DataType dtype = input.sequence_element_type();
    if (dtype == DataType::kUndefined) dtype = tensor.dtype();
    ONYX_CHECK(tensor.dtype() == dtype, ErrorCode::kInvalidArgument, "SequenceInsert: tensor is ",
               dtype_name(tensor.dtype()), " but the sequence holds ", dtype_name(dtype));
    const int64_t size = static_cast<int64_t>(items.size());
    int64_t position = size;
    if (ctx.has_input(2)) {
      position = normalize_sequence_position(
          sequence_position_value(ctx.input(2), "SequenceInsert"), size, true, "SequenceInsert");
    }
    Sequence result;
    result.reserve(items.size() + 1);
    result.insert(result.end(), items.begin(), items.begin() + position);
    result.emplace_back(owned_copy(tensor));
    result.insert(result.end(), items.begin() + position, items.end());
    ctx.set_output(0, Value::sequence(std::move(result), dtype));
  }
};

class SequenceEraseKernel final : public Kernel {
 public:
  explicit SequenceEraseKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Value& input = ctx.input_value(0);
    const Sequence& items = sequence_input(ctx, 0, "SequenceErase");
    const int64_t size = static_cast<int64_t>(items.size());
    const int64_t raw = ctx.has_input(1) ? sequence_position_value(ctx.input(1), "SequenceErase")
                                         : int64_t{-1};
    const int64_t position = normalize_sequence_position(raw, size, false, "SequenceErase");
    Sequence result;
    result.reserve(items.size() - 1);
    for (int64_t i = 0; i < size; ++i) {
      if (i != position) result.push_back(items[static_cast<size_t>(i)]);
    }
    ctx.set_output(0, Value::sequence(std::move(result), input.sequence_element_type()));
  }
};

class SequenceAtKernel final : public Kernel {
 public:
  explicit SequenceAtKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Sequence& items = sequence_input(ctx, 0, "SequenceAt");
    const int64_t position =
        normalize_sequence_position(sequence_position_value(ctx.input(1), "SequenceAt"),
                                    static_cast<int64_t>(items.size()), false, "SequenceAt");
    // Items own their memory (never arena bytes), so the output may share it.
    ctx.set_output(0, items[static_cast<size_t>(position)]);
  }
};

class SequenceLengthKernel final : public Kernel {
 public:
  explicit SequenceLengthKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Sequence& items = sequence_input(ctx, 0, "SequenceLength");
    ctx.output(0, DataType::kInt64, {}).mutable_data<int64_t>()[0] =
        static_cast<int64_t>(items.size());
  }
};

// [outer, dim, inner] view of a tensor around one axis.
struct AxisView {
  int64_t outer = 1, dim = 1, inner = 1;
};

AxisView axis_view(const Shape& shape, int64_t axis) {
  AxisView v;
  v.dim = shape[static_cast<size_t>(axis)];
  for (int64_t d = 0; d < axis; ++d) v.outer *= shape[d];
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) v.inner *= shape[d];
  return v;
}

class SplitToSequenceKernel final : public Kernel {
 public:
  explicit SplitToSequenceKernel(const KernelInfo& info)
      : axis_(info.attributes().get_int("axis", 0)),
        keepdims_(info.attributes().get_int("keepdims", 1) != 0) {}
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    const int64_t axis =
        normalize_axis(axis_, static_cast<int64_t>(input.rank()), "SplitToSequence");
    const bool has_split = ctx.has_input(1);
    std::vector<int64_t> sizes =
        split_to_sequence_sizes(input.dim(axis), has_split ? &ctx.input(1) : nullptr);
    const AxisView v = axis_view(input.shape(), axis);
    Sequence items;
    items.reserve(sizes.size());
    int64_t offset = 0;
    dispatch_by_width(input.dtype(), "SplitToSequence", [&]<typename T>() {
      const T* src = static_cast<const T*>(input.raw_data());
      for (int64_t size : sizes) {
        Shape shape = input.shape();
        shape[axis] = size;
        // keepdims applies only to the default split into chunks of 1.
        if (!has_split && !keepdims_) shape.erase(shape.begin() + axis);
        Tensor part(input.dtype(), shape);
        T* dst = static_cast<T*>(part.mutable_raw_data());
        const int64_t block = size * v.inner;
        for (int64_t o = 0; o < v.outer; ++o) {
          copy_elements(src + (o * v.dim + offset) * v.inner, dst + o * block, block);
        }
        offset += size;
        items.emplace_back(std::move(part));
      }
    });
    ctx.set_output(0, Value::sequence(std::move(items), input.dtype()));
  }

 private:
  int64_t axis_;
  bool keepdims_;
};

class ConcatFromSequenceKernel final : public Kernel {
 public:
  explicit ConcatFromSequenceKernel(const KernelInfo& info)
      : axis_(info.attributes().require_int("axis")),
        new_axis_(info.attributes().get_int("new_axis", 0) != 0) {}
  void compute(KernelContext& ctx) override {
    const Sequence& items = sequence_input(ctx, 0, "ConcatFromSequence");
    ONYX_CHECK(!items.empty(), ErrorCode::kInvalidArgument,
               "ConcatFromSequence: the input sequence is empty");
    const Tensor& first = items[0].tensor();
    const int64_t rank = static_cast<int64_t>(first.rank());
    const int64_t axis = normalize_axis(axis_, new_axis_ ? rank + 1 : rank, "ConcatFromSequence");
    // Every item must match the first outside the concatenation axis (stacking: everywhere).
    int64_t total = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      const Tensor& t = items[i].tensor();
      bool same = t.dtype() == first.dtype() && t.rank() == first.rank();
      for (int64_t d = 0; same && d < rank; ++d) {
        same = t.dim(d) == first.dim(d) || (!new_axis_ && d == axis);
      }
      ONYX_CHECK(same, ErrorCode::kInvalidArgument, "ConcatFromSequence: item ", i, " (",
                 dtype_name(t.dtype()), shape_to_string(t.shape()), ") does not match item 0 (",
                 dtype_name(first.dtype()), shape_to_string(first.shape()), ") along axis ",
                 axis_, new_axis_ ? " with new_axis" : "");
      total += new_axis_ ? 1 : t.dim(axis);
    }
    Shape out_shape = first.shape();
    if (new_axis_) {
      out_shape.insert(out_shape.begin() + axis, total);
    } else {
      out_shape[axis] = total;
    }
    Tensor& out = ctx.output(0, first.dtype(), out_shape);
    if (out.element_count() == 0) return;
    // Each item contributes one contiguous block per outer index.
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= out_shape[d];
    const int64_t row = out.element_count() / outer;
    std::vector<int64_t> offsets(items.size());
    int64_t offset = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      offsets[i] = offset;
      offset += items[i].tensor().element_count() / outer;
    }
    const int64_t parts = static_cast<int64_t>(items.size());
    dispatch_by_width(first.dtype(), "ConcatFromSequence", [&]<typename T>() {
      T* dst = static_cast<T*>(out.mutable_raw_data());
      const int64_t per_task = std::max<int64_t>(1, row / parts);
      parallel_for(outer * parts, std::max<int64_t>(1, kCopyGrain / per_task), ctx.threads(),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t task = begin; task < end; ++task) {
                       const int64_t o = task / parts;
                       const size_t i = static_cast<size_t>(task % parts);
                       const Tensor& t = items[i].tensor();
                       const int64_t block = t.element_count() / outer;
                       copy_elements(static_cast<const T*>(t.raw_data()) + o * block,
                                     dst + o * row + offsets[i], block);
                     }
                   });
    });
  }

 private:
  int64_t axis_;
  bool new_axis_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "SequenceEmpty", 11, kOpsetOpenEnded, SequenceEmptyKernel);
ONYX_REGISTER_KERNEL("CPU", "", "SequenceConstruct", 11, kOpsetOpenEnded, SequenceConstructKernel);
ONYX_REGISTER_KERNEL("CPU", "", "SequenceInsert", 11, kOpsetOpenEnded, SequenceInsertKernel);
ONYX_REGISTER_KERNEL("CPU", "", "SequenceErase", 11, kOpsetOpenEnded, SequenceEraseKernel);
ONYX_REGISTER_KERNEL("CPU", "", "SequenceAt", 11, kOpsetOpenEnded, SequenceAtKernel);
ONYX_REGISTER_KERNEL("CPU", "", "SequenceLength", 11, kOpsetOpenEnded, SequenceLengthKernel);
ONYX_REGISTER_KERNEL("CPU", "", "SplitToSequence", 11, kOpsetOpenEnded, SplitToSequenceKernel);
ONYX_REGISTER_KERNEL("CPU", "", "ConcatFromSequence", 11, kOpsetOpenEnded,
                     ConcatFromSequenceKernel);

}  // namespace onyx
