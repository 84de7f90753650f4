// The CUDA device allocator: a stream-ordered caching pool (block_pool.h) over cudaMalloc.
// Sessions with dynamic shapes reach a steady state with no cudaMalloc/cudaFree per run (each
// of which synchronizes the device). Every block keeps the pool alive through its deleter, so
// a tensor may outlive the allocator, the provider and the session.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <cuda_runtime_api.h>

#include "providers/cuda/block_pool.h"
#include "runtime/tensor/allocator.h"

namespace onyx::cuda {

// The device side of BlockPool: cudaMalloc/cudaFree on one device, events as fences.
class CudaBlockBackend {
 public:
  using Stream = cudaStream_t;
  using Fence = cudaEvent_t;

  explicit CudaBlockBackend(int device) : device_(device) {}
  CudaBlockBackend(CudaBlockBackend&& other) noexcept;
  ~CudaBlockBackend();

  void* allocate(size_t bytes);
  void deallocate(void* block) noexcept;
  Fence record_fence(Stream stream);
  bool fence_done(Fence fence);
  void release_fence(Fence fence) noexcept;
  void synchronize() noexcept;
  int device_index() const { return device_; }

 private:
  int device_;
  std::vector<cudaEvent_t> spare_events_;  // events are reused: creating one takes a driver call
};

using CudaBlockPool = BlockPool<CudaBlockBackend>;

class CudaAllocator final : public Allocator {
 public:
  // `limit`: most bytes reserved on the device (0: none). `default_stream`: the stream that
  // plain allocate()/allocate_shared() order their blocks on (the provider's own stream).
  CudaAllocator(int device, size_t limit, cudaStream_t default_stream);

  void* allocate(size_t bytes) override;
  void deallocate(void* pointer) override;
  Device device() const override { return {DeviceType::kCuda, device_}; }
  std::shared_ptr<void> allocate_shared(size_t bytes) override;
  // A block for work ordered on `stream`, freed as last used on that stream.
  std::shared_ptr<void> allocate_on(size_t bytes, cudaStream_t stream);

  // The provider sets its own stream here in open(); blocks taken before use the legacy stream.
  void set_default_stream(cudaStream_t stream) { default_stream_ = stream; }

  size_t cached_bytes() const { return pool_->cached_bytes(); }
  size_t reserved_bytes() const { return pool_->reserved_bytes(); }
  size_t in_use_bytes() const { return pool_->in_use_bytes(); }
  size_t peak_bytes() const { return pool_->peak_bytes(); }
  void empty_cache() { pool_->empty_cache(); }

 private:
  struct RawBlock {
    size_t rounded;
    cudaStream_t stream;
  };

  int device_;
  cudaStream_t default_stream_;
  std::shared_ptr<CudaBlockPool> pool_;
  // Blocks handed out by the raw allocate() (not shared): their size class and stream.
  std::mutex raw_mutex_;
  std::map<void*, RawBlock> raw_blocks_;
};

}  // namespace onyx::cuda
