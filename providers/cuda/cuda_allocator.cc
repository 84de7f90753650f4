#include "providers/cuda/cuda_allocator.h"

#include "providers/cuda/cuda_check.h"

namespace onyx::cuda {

namespace {

// Makes `device` current for the calling thread for one scope: a pool may be used from any
// thread, and cudaMalloc allocates on the thread's current device.
// `checked`: throw when the device cannot be selected; frees (noexcept, possibly at process
// exit after the runtime unloaded) pass false and carry on.
class CudaAllocDeviceScope {
 public:
  explicit CudaAllocDeviceScope(int device, bool checked = true) {
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
    if (previous_ != device) {
      cudaError_t status = cudaSetDevice(device);
      if (status != cudaSuccess) {
        cudaGetLastError();
        if (checked) throw_cuda_failure(status, "cudaSetDevice(device)");
      }
    }
    if (previous_ == device) previous_ = -1;
  }
  ~CudaAllocDeviceScope() {
    if (previous_ >= 0) cudaSetDevice(previous_);
  }

 private:
  int previous_ = -1;
};

}  // namespace

CudaBlockBackend::CudaBlockBackend(CudaBlockBackend&& other) noexcept
    : device_(other.device_), spare_events_(std::move(other.spare_events_)) {
  other.spare_events_.clear();
}

CudaBlockBackend::~CudaBlockBackend() {
  // At process exit the runtime may already be unloaded; errors here have no one to go to.
  for (cudaEvent_t event : spare_events_) cudaEventDestroy(event);
}

void* CudaBlockBackend::allocate(size_t bytes) {
  CudaAllocDeviceScope scope(device_);
  void* block = nullptr;
  cudaError_t status = cudaMalloc(&block, bytes);
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear it: out of memory is not sticky, the pool retries
    return nullptr;
  }
  ONYX_CUDA_CHECK(status);
  return block;
}

void CudaBlockBackend::deallocate(void* block) noexcept {
  CudaAllocDeviceScope scope(device_, /*checked=*/false);
  cudaFree(block);
}

cudaEvent_t CudaBlockBackend::record_fence(cudaStream_t stream) {
  cudaEvent_t event = nullptr;
  if (!spare_events_.empty()) {
    event = spare_events_.back();
    spare_events_.pop_back();
  } else {
    CudaAllocDeviceScope scope(device_);
    ONYX_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  }
  cudaError_t status = cudaEventRecord(event, stream);
  if (status != cudaSuccess) {
    spare_events_.push_back(event);
    throw_cuda_failure(status, "cudaEventRecord(event, stream)");
  }
  return event;
}

bool CudaBlockBackend::fence_done(cudaEvent_t event) {
  cudaError_t status = cudaEventQuery(event);
  if (status == cudaErrorNotReady) return false;
  ONYX_CUDA_CHECK(status);
  return true;
}

void CudaBlockBackend::release_fence(cudaEvent_t event) noexcept { spare_events_.push_back(event); }

void CudaBlockBackend::synchronize() noexcept {
  CudaAllocDeviceScope scope(device_, /*checked=*/false);
  cudaDeviceSynchronize();
}

CudaAllocator::CudaAllocator(int device, size_t limit, cudaStream_t default_stream)
    : device_(device), default_stream_(default_stream),
      pool_(std::make_shared<CudaBlockPool>(CudaBlockBackend(device), limit)) {}

void* CudaAllocator::allocate(size_t bytes) {
  size_t rounded = 0;
  void* block = pool_->take(bytes, default_stream_, rounded);
  std::lock_guard<std::mutex> lock(raw_mutex_);
  raw_blocks_[block] = RawBlock{rounded, default_stream_};
  return block;
}

void CudaAllocator::deallocate(void* pointer) {
  RawBlock block{};
  {
    std::lock_guard<std::mutex> lock(raw_mutex_);
    auto it = raw_blocks_.find(pointer);
    if (it == raw_blocks_.end()) return;  // not ours
    block = it->second;
    raw_blocks_.erase(it);
  }
  pool_->give_back(pointer, block.rounded, block.stream);
}

std::shared_ptr<void> CudaAllocator::allocate_shared(size_t bytes) { return allocate_on(bytes, default_stream_); }

std::shared_ptr<void> CudaAllocator::allocate_on(size_t bytes, cudaStream_t stream) {
  size_t rounded = 0;
  void* block = pool_->take(bytes, stream, rounded);
  // The deleter holds the pool, never the allocator: the allocator may be gone by then.
  return std::shared_ptr<void>(block, [pool = pool_, rounded, stream](void* p) { pool->give_back(p, rounded, stream); });
}

}  // namespace onyx::cuda
