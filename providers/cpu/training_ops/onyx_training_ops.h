// onyx's own training ops (domain com.onyx.training, opset 1): graphs only onyx runs use them
// in place of standard-op compositions that cost extra passes and tensors. TrainingSession's
// gradient graphs (GradientGraphOptions::onyx_ops) and the optimizer update graphs
// (OptimizerConfig::fused) emit them; `onyx gradient` writes the portable forms. CPU kernels and
// shape rules beside this header; every output is typed like the named input.
//
//   AdamUpdate(X, G, M, V, Vmax?, lr, beta1, beta2, eps, weight_decay, step) -> (X', M', V', Vmax'?)
//       attributes decoupled (AdamW), amsgrad, maximize; torch.optim.Adam/AdamW 1.13's
//       arithmetic in one pass per parameter (the composition: thirteen ops and tensors)
//   SgdUpdate(X, G, B?, lr, momentum, dampening, weight_decay, step) -> (X', B'?)
//       attributes nesterov, maximize; torch.optim.SGD 1.13's arithmetic in one pass
//     (hyper-parameters and step: float scalars, bias corrections computed once per call in double)
//   MaxPoolGrad(dY, Indices, X) -> dX (like X): dY added at the flat input positions of the
//       forward MaxPool's Indices into zeros; each plane filled and scattered once (the portable
//       ConstantOfShape + ScatterElements fills, copies and scatters the whole input)
//   ReluGrad(dY, X) -> dX = X > 0 ? dY : 0 in one pass (the portable Greater + Where makes a
//       boolean tensor between two passes)
//   ConvWeightGrad(X, dY, W) -> dW: training/conv_weight_gradient.h
#pragma once

namespace onyx::training {

inline constexpr const char* kTrainingDomain = "com.onyx.training";
inline constexpr const char* kAdamUpdateOp = "AdamUpdate";
inline constexpr const char* kSgdUpdateOp = "SgdUpdate";
inline constexpr const char* kMaxPoolGradOp = "MaxPoolGrad";
inline constexpr const char* kReluGradOp = "ReluGrad";

}  // namespace onyx::training
