// CPU kernel of Einsum (opset 12): every output element sums, over the contracted labels, the
// product of the operands' elements, addressed through per-label strides from EinsumPlan
// (diagonals and broadcast ellipsis dims are just strides). Outputs run in parallel; the
// innermost contracted label gets a tight loop specialised for one and two operands.
// A general reference path: matmul-shaped equations would be faster through a GEMM.
#include <algorithm>

#include "onnx_ops/reduction_einsum.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

// Odometer over `dims` carrying one offset per operand.
struct MultiIndex {
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> strides;  // [dim][operand]
  std::vector<int64_t> index;

  void seek(int64_t linear, std::vector<int64_t>& offsets) {
    index.assign(dims.size(), 0);
    std::fill(offsets.begin(), offsets.end(), 0);
    for (size_t d = dims.size(); d-- > 0;) {
      index[d] = linear % dims[d];
      linear /= dims[d];
      for (size_t k = 0; k < offsets.size(); ++k) offsets[k] += index[d] * strides[d][k];
    }
  }
  void next(std::vector<int64_t>& offsets) {
    for (size_t d = dims.size(); d-- > 0;) {
      for (size_t k = 0; k < offsets.size(); ++k) offsets[k] += strides[d][k];
      if (++index[d] < dims[d]) return;
      for (size_t k = 0; k < offsets.size(); ++k) offsets[k] -= index[d] * strides[d][k];
      index[d] = 0;
    }
  }
};

template <typename T>
void einsum(const EinsumPlan& plan, const std::vector<const T*>& xs, T* y, int threads) {
  using A = ComputeType<T>;
  const size_t operands = xs.size();
  auto make_index = [&](const std::vector<int64_t>& labels) {
    MultiIndex m;
    for (int64_t l : labels) {
      m.dims.push_back(plan.label_sizes[l]);
      std::vector<int64_t> s(operands);
      for (size_t k = 0; k < operands; ++k) s[k] = plan.strides[k][l];
      m.strides.push_back(std::move(s));
    }
    return m;
  };
  // The innermost contracted label runs as a plain loop; the rest go through an odometer.
  std::vector<int64_t> contracted = plan.contracted_labels;
  int64_t inner = 1;
  std::vector<int64_t> inner_strides(operands, 0);
  if (!contracted.empty()) {
    const int64_t l = contracted.back();
    contracted.pop_back();
    inner = plan.label_sizes[l];
    for (size_t k = 0; k < operands; ++k) inner_strides[k] = plan.strides[k][l];
  }
  int64_t outer_count = 1;
  for (int64_t l : contracted) outer_count *= plan.label_sizes[l];
  const int64_t total = shape_element_count(plan.output_shape);
  const int64_t work = std::max<int64_t>(outer_count * inner, 1);
  parallel_for(total, std::max<int64_t>(1, kElementwiseGrain / work), threads,
               [&](int64_t o0, int64_t o1) {
    MultiIndex out_index = make_index(plan.output_labels);
    MultiIndex sum_index = make_index(contracted);
    std::vector<int64_t> base(operands), offsets(operands);
    out_index.seek(o0, base);
    for (int64_t o = o0; o < o1; ++o) {
      A acc = A(0);
      if (inner > 0) {
        sum_index.seek(0, offsets);
        for (int64_t c = 0; c < outer_count; ++c) {
          if (operands == 1) {
            const T* a = xs[0] + base[0] + offsets[0];
            const int64_t sa = inner_strides[0];
            for (int64_t i = 0; i < inner; ++i) acc += static_cast<A>(load(a[i * sa]));
          } else if (operands == 2) {
            const T* a = xs[0] + base[0] + offsets[0];
            const T* b = xs[1] + base[1] + offsets[1];
            const int64_t sa = inner_strides[0], sb = inner_strides[1];
            for (int64_t i = 0; i < inner; ++i) {
              acc += static_cast<A>(load(a[i * sa])) * static_cast<A>(load(b[i * sb]));
            }
          } else {
            for (int64_t i = 0; i < inner; ++i) {
              A product = A(1);
              for (size_t k = 0; k < operands; ++k) {
                product *= static_cast<A>(load(xs[k][base[k] + offsets[k] + i * inner_strides[k]]));
              }
              acc += product;
            }
          }
          sum_index.next(offsets);
        }
      }
      y[o] = convert_to<T>(acc);
      out_index.next(base);
    }
  });
}

class EinsumKernel : public Kernel {
 public:
  explicit EinsumKernel(const KernelInfo& info)
      : equation_(info.attributes().require_string("equation")) {}

  void compute(KernelContext& ctx) override {
    std::vector<Shape> shapes;
    const DataType dtype = ctx.input(0).dtype();
    for (size_t i = 0; i < ctx.input_count(); ++i) {
      const Tensor& x = ctx.input(i);
      ONYX_CHECK(x.dtype() == dtype, ErrorCode::kInvalidArgument, "Einsum: input ", i, " is ",
                 dtype_name(x.dtype()), " but input 0 is ", dtype_name(dtype));
      shapes.push_back(x.shape());
    }
    const EinsumPlan plan = plan_einsum(equation_, shapes);
    Tensor& y = ctx.output(0, dtype, plan.output_shape);
    if (y.element_count() == 0) return;
    dispatch_dtype_or_throw<NumericTypes>(dtype, "Einsum", [&]<typename T>() {
      std::vector<const T*> xs;
      for (size_t i = 0; i < ctx.input_count(); ++i) xs.push_back(ctx.input(i).data<T>());
      einsum<T>(plan, xs, y.mutable_data<T>(), ctx.threads());
    });
  }

 private:
  std::string equation_;
};

ONYX_REGISTER_KERNEL("CPU", "", "Einsum", 12, kOpsetOpenEnded, EinsumKernel);

}  // namespace
}  // namespace onyx
