// Variadic elementwise ops with NumPy broadcasting of all inputs: Sum, Mean, Max, Min. The
// output is folded input by input in place, each step a vectorizable binary loop.
#include <cstring>
#include <string>
#include <vector>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {

namespace {

struct VariadicSum {
  template <typename T>
  T operator()(T a, T b) const { return a + b; }
};
// NaN wins, as in NumPy's maximum/minimum.
struct VariadicMax {
  template <typename T>
  T operator()(T a, T b) const { return (a > b || a != a) ? a : b; }
};
struct VariadicMin {
  template <typename T>
  T operator()(T a, T b) const { return (a < b || a != a) ? a : b; }
};

template <typename Types, typename Op, bool kMean>
class VariadicKernel final : public Kernel {
 public:
  explicit VariadicKernel(const KernelInfo& info) : name_(info.node().op_type) {}
  void compute(KernelContext& ctx) override {
    std::vector<Tensor> inputs;
    std::vector<Shape> shapes;
    for (size_t i = 0; i < ctx.input_count(); ++i) {
      if (!ctx.has_input(i)) continue;
      inputs.push_back(ctx.input(i));
      shapes.push_back(inputs.back().shape());
      ONYX_CHECK(inputs.back().dtype() == inputs[0].dtype(), ErrorCode::kInvalidArgument, name_,
                 ": input ", i, " has type ", dtype_name(inputs.back().dtype()), ", input 0 ",
                 dtype_name(inputs[0].dtype()));
    }
    ONYX_CHECK(!inputs.empty(), ErrorCode::kInvalidArgument, name_, ": needs at least one input");
    Shape shape = broadcast_shapes(shapes, name_);
    const DataType dtype = inputs[0].dtype();
    dispatch_dtype_or_throw<Types>(dtype, name_, [&]<typename T>() {
      Tensor& out = ctx.output(0, dtype, shape);
      if (inputs.size() == 1) {
        // One input of the output's shape: a copy.
        std::memcpy(out.mutable_raw_data(), inputs[0].raw_data(), out.byte_size());
        return;
      }
      binary_broadcast<T, T, T>(inputs[0], inputs[1], out, ctx.threads(), Op{});
      for (size_t i = 2; i < inputs.size(); ++i) {
        binary_broadcast<T, T, T>(out, inputs[i], out, ctx.threads(), Op{});
      }
      if constexpr (kMean) {
        const double count = static_cast<double>(inputs.size());
        T* o = out.mutable_data<T>();
        unary_map(o, o, out.element_count(), ctx.threads(),
                  [count](auto x) { return x / static_cast<decltype(x)>(count); });
      }
    });
  }

 private:
  std::string name_;
};

using SumKernel = VariadicKernel<NumericTypes, VariadicSum, false>;
using MeanKernel = VariadicKernel<FloatTypes, VariadicSum, true>;
using MaxKernel = VariadicKernel<NumericTypes, VariadicMax, false>;
using MinKernel = VariadicKernel<NumericTypes, VariadicMin, false>;

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "Sum", 1, kOpsetOpenEnded, SumKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Mean", 1, kOpsetOpenEnded, MeanKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Max", 1, kOpsetOpenEnded, MaxKernel);
ONYX_REGISTER_KERNEL("CPU", "", "Min", 1, kOpsetOpenEnded, MinKernel);

}  // namespace onyx
