// CPU kernels of Concat and Split: both move one contiguous block per (outer index, tensor),
// so each is a sequence of memcpy calls spread over the threads.
#include <algorithm>

#include "onnx_ops/axes.h"
#include "onnx_ops/tensor_ops.h"
#include "providers/cpu/tensor/copy.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

// One tensor's part of every outer row: `block` elements at `offset` of a row of `row` elements.
struct Part {
  void* data;
  int64_t block;
  int64_t offset;
};

// Copies between the joined tensor (rows of `row` elements) and its parts.
template <typename T>
void move_parts(T* joined, const std::vector<Part>& parts, int64_t outer, int64_t row,
                bool to_joined, int threads) {
  const int64_t tasks = outer * static_cast<int64_t>(parts.size());
  const int64_t per_task = std::max<int64_t>(1, row / std::max<size_t>(parts.size(), 1));
  parallel_for(tasks, std::max<int64_t>(1, kCopyGrain / per_task), threads,
               [&](int64_t begin, int64_t end) {
                 for (int64_t t = begin; t < end; ++t) {
                   const int64_t o = t / static_cast<int64_t>(parts.size());
                   const Part& p = parts[t % static_cast<int64_t>(parts.size())];
                   T* part = static_cast<T*>(p.data) + o * p.block;
                   T* whole = joined + o * row + p.offset;
                   if (to_joined) copy_elements(part, whole, p.block);
                   else copy_elements(whole, part, p.block);
                 }
               });
}

class ConcatKernel final : public Kernel {
 public:
  explicit ConcatKernel(const KernelInfo& info)
      : axis_(info.attributes().get_int("axis", 1)) {}  // opset 1 defaulted to 1
  void compute(KernelContext& ctx) override {
    std::vector<Shape> shapes;
    const Tensor& first = ctx.input(0);
    for (size_t i = 0; i < ctx.input_count(); ++i) {
      const Tensor& t = ctx.input(i);
      ONYX_CHECK(t.dtype() == first.dtype(), ErrorCode::kInvalidArgument, "Concat: input ", i,
                 " is ", dtype_name(t.dtype()), " but input 0 is ", dtype_name(first.dtype()));
      shapes.push_back(t.shape());
    }
    Shape out_shape = concat_shape(shapes, axis_);
    const int64_t axis = normalize_axis(axis_, static_cast<int64_t>(first.rank()), "Concat");
    Tensor& out = ctx.output(0, first.dtype(), out_shape);
    if (out.element_count() == 0) return;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= out_shape[d];
    for (size_t d = axis + 1; d < out_shape.size(); ++d) inner *= out_shape[d];
    std::vector<Part> parts;
    int64_t offset = 0;
    for (size_t i = 0; i < ctx.input_count(); ++i) {
      const Tensor& t = ctx.input(i);
      const int64_t block = t.dim(axis) * inner;
      if (block > 0) parts.push_back({const_cast<void*>(t.raw_data()), block, offset});
      offset += block;
    }
    dispatch_by_width(first.dtype(), "Concat", [&]<typename T>() {
      move_parts(static_cast<T*>(out.mutable_raw_data()), parts, outer, offset, true,
                 ctx.threads());
    });
  }

 private:
  int64_t axis_;
};

class SplitKernel final : public Kernel {
 public:
  explicit SplitKernel(const KernelInfo& info)
      : opset_(info.opset()), axis_(info.attributes().get_int("axis", 0)),
        split_attr_(info.attributes().get_ints("split")),
        num_outputs_(info.attributes().get_int("num_outputs", 0)) {
    if (num_outputs_ > 0) {
      ONYX_CHECK(num_outputs_ == static_cast<int64_t>(info.output_count()),
                 ErrorCode::kInvalidModel, info.node().describe(), ": num_outputs ",
                 num_outputs_, " but the node has ", info.output_count(), " outputs");
    }
  }
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    const int64_t axis = normalize_axis(axis_, static_cast<int64_t>(input.rank()), "Split");
    std::vector<int64_t> split = split_attr_;
    // Opset 1 also took the sizes as an optional input; opset 13 moved them there for good.
    if ((opset_ >= 13 || opset_ == 1) && ctx.has_input(1)) split = ctx.input(1).to_int64_vector();
    const int64_t outputs = static_cast<int64_t>(ctx.output_count());
    std::vector<int64_t> sizes =
        resolve_split(input.dim(axis), split, outputs, opset_ >= 18 && num_outputs_ > 0);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= input.dim(d);
    for (size_t d = axis + 1; d < input.rank(); ++d) inner *= input.dim(d);
    std::vector<Part> parts;
    int64_t offset = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      Shape shape = input.shape();
      shape[axis] = sizes[i];
      Tensor& out = ctx.output(i, input.dtype(), shape);
      const int64_t block = sizes[i] * inner;
      if (block > 0) parts.push_back({out.mutable_raw_data(), block, offset});
      offset += block;
    }
    if (input.element_count() == 0) return;
    dispatch_by_width(input.dtype(), "Split", [&]<typename T>() {
      move_parts(const_cast<T*>(static_cast<const T*>(input.raw_data())), parts, outer, offset,
                 false, ctx.threads());
    });
  }

 private:
  int64_t opset_;
  int64_t axis_;
  std::vector<int64_t> split_attr_;
  int64_t num_outputs_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Concat", 1, kOpsetOpenEnded, ConcatKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Split", 1, kOpsetOpenEnded, SplitKernel);

}  // namespace onyx
