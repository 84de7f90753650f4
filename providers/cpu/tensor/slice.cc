// CPU kernels of the ops that read the input through a strided or repeating view: Slice,
// Expand and Tile (all one strided copy), and Pad and CenterCropPad (an index map per dim,
// interiors by memcpy).
#include <algorithm>

#include "onnx_ops/axes.h"
#include "onnx_ops/broadcast.h"
#include "onnx_ops/tensor_ops.h"
#include "providers/cpu/tensor/copy.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

class SliceKernel final : public Kernel {
 public:
  explicit SliceKernel(const KernelInfo& info) : opset_(info.opset()) {
    if (opset_ < 10) {
      starts_ = info.attributes().require_ints("starts");
      ends_ = info.attributes().require_ints("ends");
      axes_ = info.attributes().get_ints("axes");
    }
  }
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    std::vector<int64_t> starts = starts_, ends = ends_, axes = axes_, steps;
    if (opset_ >= 10) {
      starts = ctx.input(1).to_int64_vector();
      ends = ctx.input(2).to_int64_vector();
      if (ctx.has_input(3)) axes = ctx.input(3).to_int64_vector();
      if (ctx.has_input(4)) steps = ctx.input(4).to_int64_vector();
    }
    std::vector<SliceAxis> ranges = resolve_slice(input.shape(), starts, ends, axes, steps);
    std::vector<int64_t> in_strides = contiguous_strides(input.shape());
    Shape out_shape;
    std::vector<int64_t> src_strides;
    int64_t offset = 0;
    for (size_t d = 0; d < ranges.size(); ++d) {
      out_shape.push_back(ranges[d].count);
      src_strides.push_back(in_strides[d] * ranges[d].step);
      offset += ranges[d].start * in_strides[d];
    }
    Tensor& out = ctx.output(0, input.dtype(), out_shape);
    if (out.element_count() == 0) return;
    dispatch_by_width(input.dtype(), "Slice", [&]<typename T>() {
      strided_copy(input.dtype(), static_cast<const T*>(input.raw_data()) + offset,
                   out.mutable_raw_data(), out_shape, src_strides, contiguous_strides(out_shape),
                   ctx.threads());
    });
  }

 private:
  int64_t opset_;
  std::vector<int64_t> starts_, ends_, axes_;
};

class ExpandKernel final : public Kernel {
 public:
  explicit ExpandKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    Shape target = ctx.input(1).to_int64_vector();
    for (int64_t d : target) {
      ONYX_CHECK(d >= 0, ErrorCode::kInvalidArgument, "Expand: negative dim in the target shape ", shape_to_string(target));
    }
    Shape out_shape = broadcast_shapes(input.shape(), target, "Expand");
    Tensor& out = ctx.output(0, input.dtype(), out_shape);
    const size_t lead = out_shape.size() - input.rank();
    std::vector<int64_t> in_strides = contiguous_strides(input.shape());
    std::vector<int64_t> src_strides(out_shape.size(), 0);
    for (size_t d = 0; d < input.rank(); ++d) {
      src_strides[lead + d] = input.dim(d) == 1 ? 0 : in_strides[d];
    }
    strided_copy(input.dtype(), input.raw_data(), out.mutable_raw_data(), out_shape, src_strides,
                 contiguous_strides(out_shape), ctx.threads());
  }
};

// Tile as a strided copy from the view [r0, d0, r1, d1, ...] whose repeat dims have stride 0.
class TileKernel final : public Kernel {
 public:
  explicit TileKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    std::vector<int64_t> repeats = ctx.input(1).to_int64_vector();
    Shape out_shape = tile_shape(input.shape(), repeats);
    Tensor& out = ctx.output(0, input.dtype(), out_shape);
    std::vector<int64_t> in_strides = contiguous_strides(input.shape());
    Shape view;
    std::vector<int64_t> src_strides;
    for (size_t d = 0; d < input.rank(); ++d) {
      view.insert(view.end(), {repeats[d], input.dim(d)});
      src_strides.insert(src_strides.end(), {0, in_strides[d]});
    }
    strided_copy(input.dtype(), input.raw_data(), out.mutable_raw_data(), view, src_strides,
                 contiguous_strides(view), ctx.threads());
  }
};

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

// Input index read by output index `o` of a dim, or -1 for the constant.
int64_t pad_source(int64_t o, int64_t begin, int64_t dim, PadMode mode) {
  int64_t i = o - begin;
  if (i >= 0 && i < dim) return i;
  switch (mode) {
    case PadMode::kConstant: return -1;
    case PadMode::kEdge: return i < 0 ? 0 : dim - 1;
    case PadMode::kWrap: return ((i % dim) + dim) % dim;
    case PadMode::kReflect: {
      if (dim == 1) return 0;
      const int64_t period = 2 * (dim - 1);
      i = ((i % period) + period) % period;
      return i < dim ? i : period - i;
    }
  }
  return -1;
}

template <typename T>
void pad_rows(const T* in, T* out, const Shape& out_shape, const std::vector<int64_t>& in_strides,
              const std::vector<std::vector<int64_t>>& maps, T value, int threads) {
  const size_t rank = out_shape.size();
  const int64_t row = out_shape.back();
  const std::vector<int64_t>& last = maps.back();
  // The stretch of the last dim that reads a contiguous run of the input.
  int64_t run_begin = 0, run_end = 0;
  for (int64_t j = 0; j < row; ++j) {
    if (last[j] < 0) continue;
    int64_t k = j + 1;
    while (k < row && last[k] == last[k - 1] + 1) ++k;
    if (k - j > run_end - run_begin) run_begin = j, run_end = k;
    j = k - 1;
  }
  const int64_t rows = row == 0 ? 0 : shape_element_count(out_shape) / row;
  parallel_for(rows, std::max<int64_t>(1, kCopyGrain / std::max<int64_t>(row, 1)), threads,
               [&](int64_t begin, int64_t end) {
                 for (int64_t r = begin; r < end; ++r) {
                   T* dst = out + r * row;
                   int64_t src_offset = 0, rest = r;
                   bool constant_row = false;
                   for (size_t d = rank - 1; d-- > 0;) {
                     int64_t s = maps[d][rest % out_shape[d]];
                     rest /= out_shape[d];
                     if (s < 0) constant_row = true;
                     src_offset += s * in_strides[d];
                   }
                   if (constant_row) {
                     std::fill(dst, dst + row, value);
                     continue;
                   }
                   const T* src = in + src_offset;
                   for (int64_t j = 0; j < run_begin; ++j) dst[j] = last[j] < 0 ? value : src[last[j]];
                   if (run_end > run_begin) {
                     copy_elements(src + last[run_begin], dst + run_begin, run_end - run_begin);
                   }
                   for (int64_t j = run_end; j < row; ++j) dst[j] = last[j] < 0 ? value : src[last[j]];
                 }
               });
}

// Writes `input` padded by `pads` ([begin_0.., end_0..], negative crops) as output 0.
void pad_into_output(KernelContext& ctx, const Tensor& input, const std::vector<int64_t>& pads,
                     PadMode mode, const Tensor& fill) {
  const size_t rank = input.rank();
  Shape out_shape(rank);
  for (size_t d = 0; d < rank; ++d) {
    out_shape[d] = padded_dim(input.dim(d), pads[d], pads[d + rank], d);
    if (mode != PadMode::kConstant && input.dim(d) == 0 && out_shape[d] > 0) {
      throw_error(ErrorCode::kInvalidArgument, "Pad: cannot pad the empty axis ", d,
                  " in a non-constant mode");
    }
  }
  Tensor& out = ctx.output(0, input.dtype(), out_shape);
  if (out.element_count() == 0) return;
  if (rank == 0) return copy_tensor_data(input, out);
  std::vector<std::vector<int64_t>> maps(rank);
  for (size_t d = 0; d < rank; ++d) {
    for (int64_t o = 0; o < out_shape[d]; ++o) {
      maps[d].push_back(input.dim(d) == 0 ? -1 : pad_source(o, pads[d], input.dim(d), mode));
    }
  }
  dispatch_by_width(input.dtype(), "Pad", [&]<typename T>() {
    pad_rows(static_cast<const T*>(input.raw_data()), static_cast<T*>(out.mutable_raw_data()),
             out_shape, contiguous_strides(input.shape()), maps,
             *static_cast<const T*>(fill.raw_data()), ctx.threads());
  });
}

class PadKernel final : public Kernel {
 public:
  explicit PadKernel(const KernelInfo& info) : opset_(info.opset()) {
    const std::string mode = info.attributes().get_string("mode", "constant");
    if (mode == "constant") mode_ = PadMode::kConstant;
    else if (mode == "reflect") mode_ = PadMode::kReflect;
    else if (mode == "edge") mode_ = PadMode::kEdge;
    else mode_ = PadMode::kWrap;  // the attribute check allowed only these four
    if (opset_ < 11) {
      pads_ = info.attributes().get_ints(opset_ < 2 ? "paddings" : "pads");
      value_ = info.attributes().get_float("value", 0.0f);
    }
  }
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    std::vector<int64_t> pads = pads_, axes;
    if (opset_ >= 11) {
      pads = ctx.input(1).to_int64_vector();
      if (ctx.has_input(3)) axes = ctx.input(3).to_int64_vector();
    }
    pads = resolve_pads(pads, axes, input.rank());
    pad_into_output(ctx, input, pads, mode_, fill_value(ctx, input.dtype()));
  }

 private:
  // The constant as a scalar of the input's type: input 2 from opset 11, else attribute value.
  Tensor fill_value(KernelContext& ctx, DataType dtype) const {
    if (opset_ >= 11 && ctx.has_input(2)) {
      const Tensor& v = ctx.input(2);
      ONYX_CHECK(v.dtype() == dtype && v.element_count() == 1, ErrorCode::kInvalidArgument,
                 "Pad: constant_value must be one ", dtype_name(dtype), ", got ",
                 dtype_name(v.dtype()), shape_to_string(v.shape()));
      return v;
    }
    Tensor scalar(dtype, {});
    if (dtype == DataType::kString) return scalar;
    const float value = opset_ < 11 ? value_ : 0.0f;
    dispatch_numeric(dtype, "Pad", [&]<typename T>() {
      scalar.mutable_data<T>()[0] = cast_element<T>(value);
    });
    return scalar;
  }

  int64_t opset_;
  PadMode mode_ = PadMode::kConstant;
  std::vector<int64_t> pads_;
  float value_ = 0;
};

// CenterCropPad is a constant-0 Pad whose pads are negative (centred crop) or positive
// (centred pad) per axis; the extra odd element goes to the end, as in the ONNX reference.
class CenterCropPadKernel final : public Kernel {
 public:
  explicit CenterCropPadKernel(const KernelInfo& info) : axes_(info.attributes().get_ints("axes")) {}
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    std::vector<int64_t> shape = ctx.input(1).to_int64_vector();
    const int64_t rank = static_cast<int64_t>(input.rank());
    std::vector<int64_t> axes = axes_;
    if (axes.empty()) {
      for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
    }
    axes = normalize_axis_list(axes, rank, "CenterCropPad");
    ONYX_CHECK(shape.size() == axes.size(), ErrorCode::kInvalidArgument, "CenterCropPad: ",
               shape.size(), " target sizes for ", axes.size(), " axes");
    std::vector<int64_t> pads(2 * input.rank(), 0);
    for (size_t i = 0; i < axes.size(); ++i) {
      ONYX_CHECK(shape[i] >= 0, ErrorCode::kInvalidArgument, "CenterCropPad: negative size ",
                 shape[i]);
      const int64_t dim = input.dim(axes[i]), diff = shape[i] - dim;
      const int64_t begin = diff >= 0 ? diff / 2 : -((-diff) / 2);
      pads[axes[i]] = begin;
      pads[axes[i] + rank] = diff - begin;
    }
    Tensor zero(input.dtype(), {});
    if (input.dtype() != DataType::kString) std::memset(zero.mutable_raw_data(), 0, zero.byte_size());
    pad_into_output(ctx, input, pads, PadMode::kConstant, zero);
  }

 private:
  std::vector<int64_t> axes_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Slice", 1, kOpsetOpenEnded, SliceKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Expand", 8, kOpsetOpenEnded, ExpandKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Tile", 6, kOpsetOpenEnded, TileKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Pad", 1, kOpsetOpenEnded, PadKernel);
ONYX_REGISTER_KERNEL("CPU", "", "CenterCropPad", 18, kOpsetOpenEnded, CenterCropPadKernel);

}  // namespace onyx
