// com.onyx.training::ConvWeightGrad(X, dY, W) -> dW, the weight gradient of Conv(X, W) with the
// Conv's attributes, on a oneDNN backward-weights primitive for float. Only onyx runs it, so
// the Conv gradient rule emits it only for graphs onyx itself runs
// (GradientGraphOptions::onyx_ops, set by TrainingSession); kernel and shape rule in the .cc.
#pragma once

#include "training/seeded_dropout.h"  // kTrainingDomain

namespace onyx::training {

inline constexpr const char* kConvWeightGradOp = "ConvWeightGrad";

}  // namespace onyx::training
