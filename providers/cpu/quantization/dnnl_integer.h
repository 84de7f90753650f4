// The fast path of the integer ops (QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger):
// one oneDNN int8 convolution (u8/s8 activations times s8 weights on VNNI, requantized inside
// the primitive), built when everything but the activations is constant, as
// onnxruntime.quantization writes them: int8 weights with zero points 0, scalar activation
// zero points and scales, per-tensor or per-channel weight scales, an int32 bias. A matrix
// product A[rows, K] * B[K, N] is a 1x1 channels-last convolution of one image of `rows`
// pixels (A and Y are already laid out so), with B transposed once into its weights. Anything
// else runs the reference loops of integer_ops.cc.
#pragma once

#include <memory>
#include <optional>

#include "providers/cpu/linalg/dnnl_util.h"
#include "providers/cpu/nn/dnnl_conv.h"
#include "providers/kernel.h"

namespace onyx {

class DnnlIntegerConv {
 public:
  // Null unless the node's constants allow the oneDNN path (see above). `matmul`: the node is
  // QLinearMatMul or MatMulInteger; `qlinear`: it requantizes (QLinear*); `channels_last`: X
  // and Y of a convolution are [N, spatial..., C] (com.onyx NhwcQLinearConv), the layout
  // oneDNN's int8 kernels read, so no reorder runs around them.
  static std::unique_ptr<DnnlIntegerConv> create(const KernelInfo& info, bool matmul, bool qlinear,
                                                 const WindowAttributes* window, int64_t group,
                                                 bool channels_last = false);

  // Runs the node on `x` into context output 0 and returns true, or returns false (touching
  // nothing) when oneDNN cannot run this input; the caller then runs its reference loops.
  bool run(KernelContext& ctx, const Tensor& x);

 private:
  DnnlIntegerConv() = default;
  std::shared_ptr<const DnnlConv> conv_for(const Shape& x_shape, const ConvShapes& s);
  bool run_matmul(KernelContext& ctx, const Tensor& a);

  bool matmul_ = false;
  bool channels_last_ = false;  // a convolution's X and Y channels-last
  DataType x_type_ = DataType::kUInt8, y_type_ = DataType::kInt32;
  DnnlConvOptions options_;
  const WindowAttributes* window_ = nullptr;  // the kernel's (convolutions)
  int64_t group_ = 1;
  Tensor weights_;  // int8 [maps, C/group, k...]; a matmul's B transposed to [N, K, 1, 1]
  Tensor bias_;     // int32 [maps], or undefined
  PrimitiveCache<Shape, DnnlConv> convs_{16};
};

}  // namespace onyx
