// onyx::nn in one include: modules and layers, initializers, losses, metrics, optimizers,
// traced training steps and export. docs/architecture.md ("Building models in code") describes
// how the parts fit.
#pragma once

#include "runtime/eager/eager.h"
#include "training/nn/activations.h"
#include "training/nn/attention.h"
#include "training/nn/conv.h"
#include "training/nn/dropout.h"
#include "training/nn/embedding.h"
#include "training/nn/init.h"
#include "training/nn/linear.h"
#include "training/nn/losses.h"
#include "training/nn/metrics.h"
#include "training/nn/module.h"
#include "training/nn/normalization.h"
#include "training/nn/optimizer.h"
#include "training/nn/pooling.h"
#include "training/nn/recurrent.h"
#include "training/nn/sequential.h"
