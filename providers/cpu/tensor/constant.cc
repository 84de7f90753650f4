// CPU kernels of the ops that make tensors from attributes or shapes: Constant, Shape, Size,
// ConstantOfShape, Range and EyeLike.
#include <algorithm>

#include "onnx_ops/tensor_ops.h"
#include "providers/cpu/tensor/copy.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

// The value is built once from whichever attribute the node carries.
Tensor constant_value(const NodeAttributes& attrs) {
  if (const Attribute* a = attrs.find("value")) return a->t;
  if (attrs.has("sparse_value")) {
    throw_error(ErrorCode::kNotImplemented, "Constant: sparse_value is not supported");
  }
  if (const Attribute* a = attrs.find("value_float")) return Tensor::scalar<float>(a->f);
  if (const Attribute* a = attrs.find("value_floats")) {
    return Tensor::from_vector<float>({int64_t(a->floats.size())}, a->floats);
  }
  if (const Attribute* a = attrs.find("value_int")) return Tensor::scalar<int64_t>(a->i);
  if (const Attribute* a = attrs.find("value_ints")) {
    return Tensor::from_vector<int64_t>({int64_t(a->ints.size())}, a->ints);
  }
  if (const Attribute* a = attrs.find("value_string")) return Tensor::scalar<std::string>(a->s);
  if (const Attribute* a = attrs.find("value_strings")) {
    return Tensor::from_vector<std::string>({int64_t(a->strings.size())}, a->strings);
  }
  throw_error(ErrorCode::kInvalidModel, attrs.node().describe(),
              ": Constant needs one of the value attributes");
}

class ConstantKernel final : public Kernel {
 public:
  explicit ConstantKernel(const KernelInfo& info) : value_(constant_value(info.attributes())) {}
  void compute(KernelContext& ctx) override {
    Tensor& out = ctx.output(0, value_.dtype(), value_.shape());
    copy_tensor_data(value_, out);
  }

 private:
  Tensor value_;
};

class ShapeKernel final : public Kernel {
 public:
  explicit ShapeKernel(const KernelInfo& info)
      : start_(info.attributes().get_int("start", 0)),
        end_(info.attributes().get_int("end", INT64_MAX)) {}
  void compute(KernelContext& ctx) override {
    const Shape& shape = ctx.input(0).shape();
    const int64_t rank = static_cast<int64_t>(shape.size());
    auto clamp = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
    const int64_t begin = clamp(start_), end = std::max(begin, clamp(end_));
    Tensor& out = ctx.output(0, DataType::kInt64, {end - begin});
    std::copy(shape.begin() + begin, shape.begin() + end, out.mutable_data<int64_t>());
  }

 private:
  int64_t start_, end_;
};

class SizeKernel final : public Kernel {
 public:
  explicit SizeKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    ctx.output(0, DataType::kInt64, {}).mutable_data<int64_t>()[0] = ctx.input(0).element_count();
  }
};

class ConstantOfShapeKernel final : public Kernel {
 public:
  explicit ConstantOfShapeKernel(const KernelInfo& info) {
    if (const Attribute* a = info.attributes().find("value")) {
      value_ = a->t;
      ONYX_CHECK(value_.element_count() == 1, ErrorCode::kInvalidModel,
                 "ConstantOfShape: value must hold one element, not ", value_.element_count());
    } else {
      value_ = Tensor::scalar<float>(0.0f);
    }
  }
  void compute(KernelContext& ctx) override {
    Shape shape = ctx.input(0).to_int64_vector();
    for (int64_t d : shape) {
      ONYX_CHECK(d >= 0, ErrorCode::kInvalidArgument, "ConstantOfShape: negative dim in shape ",
                 shape_to_string(shape));
    }
    Tensor& out = ctx.output(0, value_.dtype(), shape);
    fill_with_scalar(value_, out.mutable_raw_data(), out.element_count(), ctx.threads());
  }

 private:
  Tensor value_;
};

class RangeKernel final : public Kernel {
 public:
  explicit RangeKernel(const KernelInfo&) {}
  void compute(KernelContext& ctx) override {
    const Tensor& start = ctx.input(0);
    dispatch_numeric(start.dtype(), "Range", [&]<typename T>() {
      if constexpr (std::is_same_v<T, bool>) {
        throw_error(ErrorCode::kNotImplemented, "Range: element type bool is not supported");
      } else {
        using C = std::conditional_t<std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>,
                                     float, T>;
        const C first = cast_element<C>(start.data<T>()[0]);
        const C limit = cast_element<C>(ctx.input(1).data<T>()[0]);
        const C delta = cast_element<C>(ctx.input(2).data<T>()[0]);
        const int64_t n = range_count(double(first), double(limit), double(delta));
        T* out = ctx.output(0, start.dtype(), {n}).mutable_data<T>();
        for (int64_t i = 0; i < n; ++i) out[i] = cast_element<T>(C(first + C(i) * delta));
      }
    });
  }
};

class EyeLikeKernel final : public Kernel {
 public:
  explicit EyeLikeKernel(const KernelInfo& info)
      : k_(info.attributes().get_int("k", 0)), dtype_code_(info.attributes().get_int("dtype", 0)) {}
  void compute(KernelContext& ctx) override {
    const Tensor& input = ctx.input(0);
    ONYX_CHECK(input.rank() == 2, ErrorCode::kInvalidArgument,
               "EyeLike: input must be 2-D, got shape ", shape_to_string(input.shape()));
    DataType dtype = dtype_code_ ? dtype_from_code(int32_t(dtype_code_)) : input.dtype();
    const int64_t rows = input.dim(0), cols = input.dim(1);
    Tensor& out = ctx.output(0, dtype, input.shape());
    dispatch_numeric(dtype, "EyeLike", [&]<typename T>() {
      T* data = out.mutable_data<T>();
      std::fill(data, data + rows * cols, cast_element<T>(0));
      for (int64_t r = std::max<int64_t>(0, -k_); r < rows && r + k_ < cols; ++r) {
        data[r * cols + r + k_] = cast_element<T>(1);
      }
    });
  }

 private:
  int64_t k_, dtype_code_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Constant", 1, kOpsetOpenEnded, ConstantKernel);
// Shape and Size read only the input's metadata: a device tensor needs no copy to the host.
ONYX_REGISTER_KERNEL_WITH_MEMORY("CPU", "", "Shape", 1, kOpsetOpenEnded, ShapeKernel, {.any_device = {0}});
ONYX_REGISTER_KERNEL_WITH_MEMORY("CPU", "", "Size", 1, kOpsetOpenEnded, SizeKernel, {.any_device = {0}});
ONYX_REGISTER_KERNEL("CPU", "", "ConstantOfShape", 9, kOpsetOpenEnded, ConstantOfShapeKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Range", 11, kOpsetOpenEnded, RangeKernel);
ONYX_REGISTER_KERNEL("CPU", "", "EyeLike", 9, kOpsetOpenEnded, EyeLikeKernel);

}  // namespace onyx
