// Launchers of the CUDA data-movement kernels (copy.cu): strided copies (Transpose, Slice,
// Expand), Concat parts, Gather and Pad. They move elements by width only (1, 2, 4 or 8
// bytes), so every element type of that width shares one kernel.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "providers/cuda/index_math.h"

namespace onyx::cuda {

bool copy_width_supported(int bytes);

// output[i] = input[strided_offset(map, i)] for i < count.
void launch_strided_copy(int element_bytes, const void* input, void* output, int64_t count, const StridedMap& map,
                         cudaStream_t stream);

// output[i] = input[tile_source_offset(map, i)] (Tile).
void launch_tile(int element_bytes, const void* input, void* output, int64_t count, const TileMap& map,
                 cudaStream_t stream);

// Copies one Concat input ([outer, in_axis, inner], in_count elements) into its slot of the output.
void launch_concat_part(int element_bytes, const void* input, void* output, int64_t in_count, int64_t in_axis,
                        int64_t inner, int64_t out_axis, int64_t axis_base, cudaStream_t stream);

// Gather: indices int32 or int64; an out-of-range index writes zeros (the device cannot throw).
void launch_gather(int element_bytes, const void* data, const void* indices, bool indices_int64, void* output,
                   int64_t count, const GatherMap& map, cudaStream_t stream);

// GatherElements: indices int32 or int64, shaped like the output; out-of-range writes zeros.
void launch_gather_elements(int element_bytes, const void* data, const void* indices, bool indices_int64, void* output,
                            int64_t count, const GatherElementsMap& map, int64_t axis_dim, cudaStream_t stream);

// Trilu over the last two dims [rows, columns]: keeps column - row >= k (upper) or <= k (lower),
// zeros elsewhere.
void launch_trilu(int element_bytes, const void* input, void* output, int64_t count, int64_t rows, int64_t columns,
                  int64_t k, bool upper, cudaStream_t stream);

// ScatterElements without reduction, after the data was copied into `output`: update i (shaped
// like the indices) goes to gather_elements_offset(map, i, index i); out-of-range writes nothing.
void launch_scatter_elements(int element_bytes, const void* updates, const void* indices, bool indices_int64,
                             void* output, int64_t count, const GatherElementsMap& map, int64_t axis_dim,
                             cudaStream_t stream);

// Pad: `value_bits` holds the constant's bytes in its low `element_bytes` bytes.
void launch_pad(int element_bytes, const void* input, void* output, int64_t count, const PadMap& map,
                uint64_t value_bits, cudaStream_t stream);

// ScatterND without reduction, after the data was copied into `output`: update u of
// `update_count` blocks of `block` elements goes to the element offset its index tuple names
// (indices int64 [update_count, depth]; dims/strides: the data's leading `depth` dims). An
// out-of-range index writes nothing.
struct ScatterMap {
  int depth = 0;
  int64_t dims[kMaxIndexDims] = {};
  int64_t strides[kMaxIndexDims] = {};  // in elements
  int64_t block = 1;
};
void launch_scatter_nd(int element_bytes, const int64_t* indices, const void* updates, void* output,
                       int64_t update_count, const ScatterMap& map, cudaStream_t stream);

}  // namespace onyx::cuda
