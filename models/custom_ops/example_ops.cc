// The example custom-op library (build/libonyx_example_ops.so): four ops of domain com.example
// written with onyx's header-only plug-in wrapper. It links nothing from onyx.
//
//   Swish(X; beta=1.0) -> Y = X * sigmoid(beta * X)                 activation with a gradient
//   WeightedSum(X...; weights=[]) -> Y = sum_i weights[i] * X_i      variadic input
//   ShiftAndNorm(X, [Shift]) -> Y = X + Shift, Norm = sqrt(sum Y^2) optional input, two outputs
//     (Shift has X's trailing dims)
//   HuberLoss(Prediction, Target; delta=1.0) -> mean Huber loss      custom loss with a gradient
#include <algorithm>
#include <cmath>
#include <string>

#include "runtime/extensions/onyx_custom_op.hpp"

namespace {

using namespace onyx_plugin;

constexpr const char* kDomain = "com.example";

void require_same_shape(const Tensor& a, const Tensor& b, const std::string& what) {
  if (a.shape() != b.shape()) throw Error(what + " must have the shape of the first input");
}

void swish(KernelContext& ctx) {
  Tensor x = ctx.input(0);
  float beta = ctx.get_float("beta");
  Tensor y = ctx.output(0, ONYX_FLOAT, x.shape());
  const float* in = x.data<float>();
  float* out = y.data<float>();
  for (int64_t i = 0; i < x.element_count(); ++i) out[i] = in[i] / (1.0f + std::exp(-beta * in[i]));
}

// dX = dY * s * (1 + beta*X*(1 - s)), s = sigmoid(beta*X); beta comes from the forward node.
GradientGraph swish_gradient() {
  return GradientGraph()
      .inputs({"X", "Y", "dY"})
      .outputs({"dX"})
      .constant("one", 1.0f)
      .node("Constant", {}, {"beta"}, {Attr::ref_to("value_float", ONYX_ATTRIBUTE_FLOAT, "beta")})
      .node("Mul", {"X", "beta"}, {"bx"})
      .node("Sigmoid", {"bx"}, {"s"})
      .node("Sub", {"one", "s"}, {"one_minus_s"})
      .node("Mul", {"bx", "one_minus_s"}, {"t"})
      .node("Add", {"one", "t"}, {"u"})
      .node("Mul", {"s", "u"}, {"dydx"})
      .node("Mul", {"dY", "dydx"}, {"dX"});
}

void weighted_sum(KernelContext& ctx) {
  std::vector<float> weights = ctx.get_floats("weights");
  size_t n = ctx.input_count();
  if (!weights.empty() && weights.size() != n) {
    throw Error("weights has " + std::to_string(weights.size()) + " entries for " + std::to_string(n) + " inputs");
  }
  Tensor first = ctx.input(0);
  Tensor y = ctx.output(0, ONYX_FLOAT, first.shape());
  float* out = y.data<float>();
  for (int64_t i = 0; i < y.element_count(); ++i) out[i] = 0;
  for (size_t k = 0; k < n; ++k) {
    Tensor x = ctx.input(k);
    require_same_shape(first, x, "input " + std::to_string(k));
    float w = weights.empty() ? 1.0f : weights[k];
    const float* in = x.data<float>();
    for (int64_t i = 0; i < y.element_count(); ++i) out[i] += w * in[i];
  }
}

void shift_and_norm(KernelContext& ctx) {
  Tensor x = ctx.input(0);
  Tensor y = ctx.output(0, ONYX_FLOAT, x.shape());
  const float* in = x.data<float>();
  float* out = y.data<float>();
  bool shifted = ctx.has_input(1);
  const float* shift = nullptr;
  int64_t shift_count = 1;
  if (shifted) {
    // Shift has the trailing dims of X (a per-feature shift) or all of them.
    Tensor s = ctx.input(1);
    std::vector<int64_t> x_dims = x.shape(), s_dims = s.shape();
    bool trailing = s_dims.size() <= x_dims.size() &&
                    std::equal(s_dims.begin(), s_dims.end(), x_dims.end() - static_cast<std::ptrdiff_t>(s_dims.size()));
    if (!trailing) throw Error("Shift must have the trailing dims of X");
    shift = s.data<float>();
    shift_count = s.element_count();
  }
  double sum = 0;
  for (int64_t i = 0; i < x.element_count(); ++i) {
    out[i] = in[i] + (shifted && shift_count ? shift[i % shift_count] : 0.0f);
    sum += static_cast<double>(out[i]) * out[i];
  }
  if (ctx.has_output(1)) ctx.output(1, ONYX_FLOAT, {}).data<float>()[0] = static_cast<float>(std::sqrt(sum));
}

void shift_and_norm_shapes(ShapeContext& ctx) {
  ctx.copy_input_shape(0, 0);
  if (ctx.output_count() > 1) ctx.set_output(1, 0, {});  // Norm is a scalar
}

// A kernel class: delta is read and checked once per node, when the kernel is created.
class HuberLossKernel {
 public:
  explicit HuberLossKernel(const KernelInfo& info) : delta_(info.get_float("delta")) {
    if (!(delta_ > 0)) throw Error("delta must be positive, got " + std::to_string(delta_));
  }
  void compute(KernelContext& ctx) const {
    Tensor prediction = ctx.input(0);
    Tensor target = ctx.input(1);
    require_same_shape(prediction, target, "Target");
    const float* p = prediction.data<float>();
    const float* t = target.data<float>();
    double total = 0;
    int64_t n = prediction.element_count();
    for (int64_t i = 0; i < n; ++i) {
      double d = std::fabs(static_cast<double>(p[i]) - t[i]);
      total += d <= delta_ ? 0.5 * d * d : delta_ * (d - 0.5 * delta_);
    }
    ctx.output(0, ONYX_FLOAT, {}).data<float>()[0] = n ? static_cast<float>(total / n) : 0.0f;
  }

 private:
  float delta_;
};

void scalar_output(ShapeContext& ctx) { ctx.set_output(0, 0, {}); }

// dPrediction = dLoss * clip(P - T, -delta, delta) / N; Target gets no gradient.
GradientGraph huber_gradient() {
  return GradientGraph()
      .inputs({"P", "T", "L", "dL"})
      .outputs({"dP", ""})
      .node("Constant", {}, {"delta"}, {Attr::ref_to("value_float", ONYX_ATTRIBUTE_FLOAT, "delta")})
      .node("Neg", {"delta"}, {"minus_delta"})
      .node("Sub", {"P", "T"}, {"diff"})
      .node("Clip", {"diff", "minus_delta", "delta"}, {"clipped"})
      .node("Size", {"P"}, {"n"})
      .node("Cast", {"n"}, {"n_float"}, {Attr("to", ONYX_FLOAT)})
      .node("Div", {"clipped", "n_float"}, {"per_element"})
      .node("Mul", {"per_element", "dL"}, {"dP"});
}

void register_example_ops(Registry& registry) {
  registry.add(Op(kDomain, "Swish")
                   .input("X", "T").output("Y", "T").type_constraint("T", {ONYX_FLOAT})
                   .attribute("beta", 1.0f)
                   .same_shape_as_input(0)
                   .cpu_kernel(swish)
                   .gradient(swish_gradient()));
  registry.add(Op(kDomain, "WeightedSum")
                   .variadic_input("X", "T").output("Y", "T").type_constraint("T", {ONYX_FLOAT})
                   .attribute("weights", std::vector<float>{})
                   .same_shape_as_input(0)
                   .cpu_kernel(weighted_sum));
  registry.add(Op(kDomain, "ShiftAndNorm")
                   .input("X", "T").optional_input("Shift", "T")
                   .output("Y", "T").optional_output("Norm", "T")
                   .type_constraint("T", {ONYX_FLOAT})
                   .infer_shapes(shift_and_norm_shapes)
                   .cpu_kernel(shift_and_norm));
  registry.add(Op(kDomain, "HuberLoss")
                   .input("Prediction", "T").input("Target", "T").output("Loss", "T")
                   .type_constraint("T", {ONYX_FLOAT})
                   .attribute("delta", 1.0f)
                   .infer_shapes(scalar_output)
                   .cpu_kernel<HuberLossKernel>()
                   .gradient(huber_gradient()));
}

}  // namespace

ONYX_CUSTOM_OP_LIBRARY("onyx example ops (com.example)", register_example_ops)
