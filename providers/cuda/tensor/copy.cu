// Device code of the data-movement kernels; each is one grid-stride loop over the output that
// reads through an index map from providers/cuda/index_math.h.
#include <cstring>

#include "providers/cuda/cuda_check.h"
#include "providers/cuda/device_types.cuh"
#include "providers/cuda/tensor/copy_ops.h"

namespace onyx::cuda {

namespace {

template <typename T>
__global__ void strided_copy_kernel(const T* input, T* output, int64_t count, StridedMap map) {
  ONYX_GRID_STRIDE_LOOP(i, count) { output[i] = input[strided_offset(map, i)]; }
}

template <typename T>
__global__ void tile_kernel(const T* input, T* output, int64_t count, TileMap map) {
  ONYX_GRID_STRIDE_LOOP(i, count) { output[i] = input[tile_source_offset(map, i)]; }
}

template <typename T>
__global__ void concat_part_kernel(const T* input, T* output, int64_t count, int64_t in_axis, int64_t inner,
                                   int64_t out_axis, int64_t axis_base) {
  ONYX_GRID_STRIDE_LOOP(i, count) { output[concat_output_offset(i, in_axis, inner, out_axis, axis_base)] = input[i]; }
}

template <typename T, typename Index>
__global__ void gather_kernel(const T* data, const Index* indices, T* output, int64_t count, GatherMap map) {
  ONYX_GRID_STRIDE_LOOP(i, count) {
    int64_t index = normalize_gather_index(static_cast<int64_t>(indices[gather_index_position(map, i)]), map.axis_dim);
    output[i] = index < 0 ? T(0) : data[gather_source_offset(map, i, index)];
  }
}

template <typename T, typename Index>
__global__ void gather_elements_kernel(const T* data, const Index* indices, T* output, int64_t count,
                                       GatherElementsMap map, int64_t axis_dim) {
  ONYX_GRID_STRIDE_LOOP(i, count) {
    int64_t index = normalize_gather_index(static_cast<int64_t>(indices[i]), axis_dim);
    output[i] = index < 0 ? T(0) : data[gather_elements_offset(map, i, index)];
  }
}

template <typename T, typename Index>
__global__ void scatter_elements_kernel(const T* updates, const Index* indices, T* output, int64_t count,
                                        GatherElementsMap map, int64_t axis_dim) {
  ONYX_GRID_STRIDE_LOOP(i, count) {
    int64_t index = normalize_gather_index(static_cast<int64_t>(indices[i]), axis_dim);
    if (index >= 0) output[gather_elements_offset(map, i, index)] = updates[i];
  }
}

template <typename T>
__global__ void trilu_kernel(const T* input, T* output, int64_t count, int64_t rows, int64_t columns, int64_t k,
                             bool upper) {
  ONYX_GRID_STRIDE_LOOP(i, count) {
    int64_t column = i % columns, row = (i / columns) % rows;
    bool keep = upper ? column - row >= k : column - row <= k;
    output[i] = keep ? input[i] : T(0);
  }
}

template <typename T>
__global__ void pad_kernel(const T* input, T* output, int64_t count, PadMap map, T value) {
  ONYX_GRID_STRIDE_LOOP(i, count) {
    int64_t source = pad_source_offset(map, i);
    output[i] = source < 0 ? value : input[source];
  }
}

template <typename T>
__global__ void scatter_nd_kernel(const int64_t* indices, const T* updates, T* output, int64_t count, ScatterMap map) {
  ONYX_GRID_STRIDE_LOOP(i, count) {
    int64_t update = i / map.block;
    int64_t offset = 0;
    bool inside = true;
    for (int d = 0; d < map.depth; ++d) {
      int64_t index = normalize_gather_index(indices[update * map.depth + d], map.dims[d]);
      inside = inside && index >= 0;
      offset += index * map.strides[d];
    }
    if (inside) output[offset + i % map.block] = updates[i];
  }
}

template <typename Fn>
void with_width(int bytes, Fn&& fn) {
  switch (bytes) {
    case 1: fn(uint8_t{}); break;
    case 2: fn(uint16_t{}); break;
    case 4: fn(uint32_t{}); break;
    case 8: fn(uint64_t{}); break;
    default: throw_error(ErrorCode::kNotImplemented, "CUDA copy of ", bytes, "-byte elements");
  }
}

}  // namespace

bool copy_width_supported(int bytes) { return bytes == 1 || bytes == 2 || bytes == 4 || bytes == 8; }

void launch_strided_copy(int element_bytes, const void* input, void* output, int64_t count, const StridedMap& map,
                         cudaStream_t stream) {
  if (count == 0) return;
  with_width(element_bytes, [&](auto tag) {
    using T = decltype(tag);
    strided_copy_kernel<T><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(static_cast<const T*>(input),
                                                                             static_cast<T*>(output), count, map);
  });
  ONYX_CUDA_CHECK(cudaGetLastError());
}

void launch_tile(int element_bytes, const void* input, void* output, int64_t count, const TileMap& map,
                 cudaStream_t stream) {
  if (count == 0) return;
  with_width(element_bytes, [&](auto tag) {
    using T = decltype(tag);
    tile_kernel<T><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(static_cast<const T*>(input), static_cast<T*>(output),
                                                                     count, map);
  });
  ONYX_CUDA_CHECK(cudaGetLastError());
}

void launch_concat_part(int element_bytes, const void* input, void* output, int64_t in_count, int64_t in_axis,
                        int64_t inner, int64_t out_axis, int64_t axis_base, cudaStream_t stream) {
  if (in_count == 0) return;
  with_width(element_bytes, [&](auto tag) {
    using T = decltype(tag);
    concat_part_kernel<T><<<grid_for(in_count), kThreadsPerBlock, 0, stream>>>(
        static_cast<const T*>(input), static_cast<T*>(output), in_count, in_axis, inner, out_axis, axis_base);
  });
  ONYX_CUDA_CHECK(cudaGetLastError());
}

void launch_gather(int element_bytes, const void* data, const void* indices, bool indices_int64, void* output,
                   int64_t count, const GatherMap& map, cudaStream_t stream) {
  if (count == 0) return;
  with_width(element_bytes, [&](auto tag) {
    using T = decltype(tag);
    if (indices_int64) {
      gather_kernel<T, int64_t><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(
          static_cast<const T*>(data), static_cast<const int64_t*>(indices), static_cast<T*>(output), count, map);
    } else {
      gather_kernel<T, int32_t><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(
          static_cast<const T*>(data), static_cast<const int32_t*>(indices), static_cast<T*>(output), count, map);
    }
  });
  ONYX_CUDA_CHECK(cudaGetLastError());
}

void launch_gather_elements(int element_bytes, const void* data, const void* indices, bool indices_int64, void* output,
                            int64_t count, const GatherElementsMap& map, int64_t axis_dim, cudaStream_t stream) {
  if (count == 0) return;
  with_width(element_bytes, [&](auto tag) {
    using T = decltype(tag);
    if (indices_int64) {
      gather_elements_kernel<T, int64_t><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(
          static_cast<const T*>(data), static_cast<const int64_t*>(indices), static_cast<T*>(output), count, map, axis_dim);
    } else {
      gather_elements_kernel<T, int32_t><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(
          static_cast<const T*>(data), static_cast<const int32_t*>(indices), static_cast<T*>(output), count, map, axis_dim);
    }
  });
  ONYX_CUDA_CHECK(cudaGetLastError());
}

void launch_scatter_elements(int element_bytes, const void* updates, const void* indices, bool indices_int64,
                             void* output, int64_t count, const GatherElementsMap& map, int64_t axis_dim,
                             cudaStream_t stream) {
  if (count == 0) return;
  with_width(element_bytes, [&](auto tag) {
    using T = decltype(tag);
    if (indices_int64) {
      scatter_elements_kernel<T, int64_t><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(
          static_cast<const T*>(updates), static_cast<const int64_t*>(indices), static_cast<T*>(output), count, map,
          axis_dim);
    } else {
      scatter_elements_kernel<T, int32_t><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(
          static_cast<const T*>(updates), static_cast<const int32_t*>(indices), static_cast<T*>(output), count, map,
          axis_dim);
    }
  });
  ONYX_CUDA_CHECK(cudaGetLastError());
}

void launch_trilu(int element_bytes, const void* input, void* output, int64_t count, int64_t rows, int64_t columns,
                  int64_t k, bool upper, cudaStream_t stream) {
  if (count == 0) return;
  with_width(element_bytes, [&](auto tag) {
    using T = decltype(tag);
    trilu_kernel<T><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(static_cast<const T*>(input), static_cast<T*>(output),
                                                                      count, rows, columns, k, upper);
  });
  ONYX_CUDA_CHECK(cudaGetLastError());
}

void launch_pad(int element_bytes, const void* input, void* output, int64_t count, const PadMap& map,
                uint64_t value_bits, cudaStream_t stream) {
  if (count == 0) return;
  with_width(element_bytes, [&](auto tag) {
    using T = decltype(tag);
    T value;
    std::memcpy(&value, &value_bits, sizeof(T));  // little-endian: the low bytes
    pad_kernel<T><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(static_cast<const T*>(input),
                                                                    static_cast<T*>(output), count, map, value);
  });
  ONYX_CUDA_CHECK(cudaGetLastError());
}

void launch_scatter_nd(int element_bytes, const int64_t* indices, const void* updates, void* output,
                       int64_t update_count, const ScatterMap& map, cudaStream_t stream) {
  int64_t count = update_count * map.block;
  if (count == 0) return;
  with_width(element_bytes, [&](auto tag) {
    using T = decltype(tag);
    scatter_nd_kernel<T><<<grid_for(count), kThreadsPerBlock, 0, stream>>>(indices, static_cast<const T*>(updates),
                                                                           static_cast<T*>(output), count, map);
  });
  ONYX_CUDA_CHECK(cudaGetLastError());
}

}  // namespace onyx::cuda
