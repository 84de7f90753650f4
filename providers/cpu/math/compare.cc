// Comparisons and boolean logic with NumPy broadcasting, output bool: Equal, Less, Greater,
// LessOrEqual, GreaterOrEqual, And, Or, Xor (opset<7 `broadcast`/`axis` forms too).
#include <string>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

struct EqualOp {
  template <typename T>
  bool operator()(const T& a, const T& b) const { return a == b; }
};
struct LessOp {
  template <typename T>
  bool operator()(T a, T b) const { return a < b; }
};
struct GreaterOp {
  template <typename T>
  bool operator()(T a, T b) const { return a > b; }
};
struct LessEqualOp {
  template <typename T>
  bool operator()(T a, T b) const { return a <= b; }
};
struct GreaterEqualOp {
  template <typename T>
  bool operator()(T a, T b) const { return a >= b; }
};
struct AndOp {
  bool operator()(bool a, bool b) const { return a && b; }
};
struct OrOp {
  bool operator()(bool a, bool b) const { return a || b; }
};
struct XorOp {
  bool operator()(bool a, bool b) const { return a != b; }
};

using OrderedTypes = TypeList<float, double, Float16, BFloat16, int8_t, int16_t, int32_t, int64_t,
                              uint8_t, uint16_t, uint32_t, uint64_t, bool>;
using EqualTypes = TypeList<float, double, Float16, BFloat16, int8_t, int16_t, int32_t, int64_t,
                            uint8_t, uint16_t, uint32_t, uint64_t, bool, std::string>;
using BoolTypes = TypeList<bool>;

template <typename Types, typename Op>
class PredicateKernel final : public Kernel {
 public:
  explicit PredicateKernel(const KernelInfo& info) : legacy_(info), name_(info.node().op_type) {}
  void compute(KernelContext& ctx) override {
    const Tensor& a = ctx.input(0);
    Tensor b = legacy_.adapt(a, ctx.input(1), name_);
    ONYX_CHECK(a.dtype() == b.dtype(), ErrorCode::kInvalidArgument, name_, ": inputs have types ",
               dtype_name(a.dtype()), " and ", dtype_name(b.dtype()), "; they must match");
    Shape shape = broadcast_shapes(a.shape(), b.shape(), name_);
    dispatch_dtype_or_throw<Types>(a.dtype(), name_, [&]<typename T>() {
      Tensor& out = ctx.output(0, DataType::kBool, shape);
      binary_broadcast<T, T, bool>(a, b, out, ctx.threads(), Op{});
    });
  }

 private:
  LegacyBroadcast legacy_;
  std::string name_;
};

using EqualKernel = PredicateKernel<EqualTypes, EqualOp>;
using LessKernel = PredicateKernel<OrderedTypes, LessOp>;
using GreaterKernel = PredicateKernel<OrderedTypes, GreaterOp>;
using LessOrEqualKernel = PredicateKernel<OrderedTypes, LessEqualOp>;
using GreaterOrEqualKernel = PredicateKernel<OrderedTypes, GreaterEqualOp>;
using AndKernel = PredicateKernel<BoolTypes, AndOp>;
using OrKernel = PredicateKernel<BoolTypes, OrOp>;
using XorKernel = PredicateKernel<BoolTypes, XorOp>;

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Equal", 1, kOpsetOpenEnded, EqualKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Less", 1, kOpsetOpenEnded, LessKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Greater", 1, kOpsetOpenEnded, GreaterKernel);
ONYX_REGISTER_KERNEL("CPU", "", "LessOrEqual", 12, kOpsetOpenEnded, LessOrEqualKernel);
ONYX_REGISTER_KERNEL("CPU", "", "GreaterOrEqual", 12, kOpsetOpenEnded, GreaterOrEqualKernel);
ONYX_REGISTER_KERNEL("CPU", "", "And", 1, kOpsetOpenEnded, AndKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Or", 1, kOpsetOpenEnded, OrKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Xor", 1, kOpsetOpenEnded, XorKernel);

}  // namespace onyx
