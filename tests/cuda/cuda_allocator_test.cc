// The CUDA caching allocator over the real runtime. Without a device an allocation fails with
// an onyx::Error naming the CUDA call; with one, blocks are reused by size class on their
// stream, the memory limit gives the out-of-memory message, and empty_cache returns the cache.
// (The bookkeeping itself is tested on every machine in block_pool_test.cc.)
#include <gtest/gtest.h>

#if ONYX_WITH_CUDA

#include <cuda_runtime_api.h>

#include <string>

#include "providers/cuda/cuda_allocator.h"

namespace onyx::cuda {
namespace {

bool cuda_device_present() {
  int count = 0;
  bool present = cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
  cudaGetLastError();
  return present;
}

TEST(CudaAllocator, FailsWithTheCallNamedOrReusesBlocksOnTheirStream) {
  auto allocator = std::make_shared<CudaAllocator>(0, /*limit=*/size_t{1} << 20, nullptr);
  if (!cuda_device_present()) {
    try {
      allocator->allocate_shared(1000);
      ADD_FAILURE() << "an allocation without a device succeeded";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kRuntimeFailure);
      EXPECT_NE(std::string(error.what()).find("cuda"), std::string::npos) << error.what();
    }
    return;
  }
  void* first = nullptr;
  {
    std::shared_ptr<void> block = allocator->allocate_shared(1000);
    first = block.get();
    EXPECT_EQ(allocator->in_use_bytes(), 1024u);
  }
  EXPECT_EQ(allocator->cached_bytes(), 1024u);
  std::shared_ptr<void> again = allocator->allocate_shared(900);
  EXPECT_EQ(again.get(), first) << "same size class, same stream: the cached block";
  try {
    allocator->allocate_shared(size_t{2} << 20);
    ADD_FAILURE() << "the 1 MiB limit let 2 MiB through";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("CUDA out of memory on cuda:0"), std::string::npos) << error.what();
  }
  again.reset();
  allocator->empty_cache();
  EXPECT_EQ(allocator->reserved_bytes(), 0u);
  // Blocks outlive their allocator: the pool stays alive through them.
  std::shared_ptr<void> survivor = allocator->allocate_shared(256);
  allocator.reset();
  survivor.reset();
}

}  // namespace
}  // namespace onyx::cuda

#endif  // ONYX_WITH_CUDA
