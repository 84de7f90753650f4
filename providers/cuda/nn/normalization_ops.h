// Launchers of the CUDA normalization kernels (normalization.cu): LayerNormalization and
// BatchNormalization in inference mode.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "runtime/tensor/dtype.h"

namespace onyx::cuda {

// x viewed as [rows, columns]; scale/bias hold `columns` values of x's type (bias may be
// null); mean/inv_std_dev (float, `rows` values) may be null.
void launch_layer_norm(DataType dtype, const void* x, const void* scale, const void* bias, void* y, float* mean,
                       float* inv_std_dev, int64_t rows, int64_t columns, float epsilon, cudaStream_t stream);

// x viewed as [outer, channels, inner]; the four parameter vectors hold `channels` values of x's type.
void launch_batch_norm(DataType dtype, const void* x, const void* scale, const void* bias, const void* mean,
                       const void* variance, void* y, int64_t outer, int64_t channels, int64_t inner, float epsilon,
                       cudaStream_t stream);

}  // namespace onyx::cuda
