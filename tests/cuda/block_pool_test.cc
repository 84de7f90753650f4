// The CUDA caching allocator's bookkeeping (providers/cuda/block_pool.h) on a host backend:
// size classes, same-stream reuse, cross-stream reuse only after the free-time fence, the
// memory limit with cache release and retry, and the out-of-memory message. Runs everywhere.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "providers/cuda/block_pool.h"

namespace onyx::cuda {
namespace {

// malloc-based device with a byte capacity and fences the test completes by hand.
struct FakeDevice {
  size_t capacity = SIZE_MAX;
  size_t allocated = 0;
  int mallocs = 0;
  int frees = 0;
  int synchronizes = 0;
  std::set<void*> live;
  std::vector<bool> fences;  // fence id -> done
  int released_fences = 0;
};

struct FakeBackend {
  using Stream = int;
  using Fence = size_t;
  std::shared_ptr<FakeDevice> device;

  void* allocate(size_t bytes) {
    if (device->allocated + bytes > device->capacity) return nullptr;
    void* block = std::malloc(bytes);
    device->allocated += bytes;
    device->mallocs++;
    device->live.insert(block);
    sizes[block] = bytes;
    return block;
  }
  void deallocate(void* block) noexcept {
    device->allocated -= sizes[block];
    device->frees++;
    device->live.erase(block);
    std::free(block);
  }
  Fence record_fence(Stream) {
    device->fences.push_back(false);
    return device->fences.size() - 1;
  }
  bool fence_done(Fence fence) { return device->fences[fence]; }
  void release_fence(Fence) noexcept { device->released_fences++; }
  void synchronize() noexcept {
    device->synchronizes++;
    for (size_t i = 0; i < device->fences.size(); ++i) device->fences[i] = true;
  }
  int device_index() const { return 3; }
  std::map<void*, size_t> sizes;
};

using FakePool = BlockPool<FakeBackend>;

std::unique_ptr<FakePool> make_pool(std::shared_ptr<FakeDevice> device, size_t limit = 0) {
  return std::make_unique<FakePool>(FakeBackend{std::move(device), {}}, limit);
}

TEST(CudaBlockPool, RoundsToTheHostAllocatorsSizeClasses) {
  EXPECT_EQ(FakePool::size_class(1), 256u);
  EXPECT_EQ(FakePool::size_class(257), 512u);
  EXPECT_EQ(FakePool::size_class((1u << 20) + 1), (1u << 20) + (1u << 17));
  auto device = std::make_shared<FakeDevice>();
  auto pool = make_pool(device);
  size_t rounded = 0;
  void* block = pool->take(300, 0, rounded);
  EXPECT_EQ(rounded, 512u);
  EXPECT_EQ(pool->reserved_bytes(), 512u);
  EXPECT_EQ(pool->in_use_bytes(), 512u);
  pool->give_back(block, rounded, 0);
  EXPECT_EQ(pool->cached_bytes(), 512u);
  EXPECT_EQ(pool->in_use_bytes(), 0u);
}

TEST(CudaBlockPool, ReusesABlockAtOnceOnTheSameStream) {
  auto device = std::make_shared<FakeDevice>();
  auto pool = make_pool(device);
  size_t rounded = 0;
  void* first = pool->take(1000, /*stream=*/7, rounded);
  pool->give_back(first, rounded, 7);
  // The fence is not done, but work on stream 7 is ordered after the block's last use.
  void* second = pool->take(900, 7, rounded);
  EXPECT_EQ(second, first);
  EXPECT_EQ(device->mallocs, 1);
  EXPECT_EQ(pool->cached_bytes(), 0u);
  pool->give_back(second, rounded, 7);
}

TEST(CudaBlockPool, ReusesOnAnotherStreamOnlyAfterTheFence) {
  auto device = std::make_shared<FakeDevice>();
  auto pool = make_pool(device);
  size_t rounded = 0;
  void* first = pool->take(1000, 1, rounded);
  pool->give_back(first, rounded, 1);
  void* other = pool->take(1000, 2, rounded);
  EXPECT_NE(other, first) << "stream 2 may not use a block stream 1 may still be reading";
  EXPECT_EQ(device->mallocs, 2);
  device->fences[0] = true;  // stream 1 reached the free point
  void* reused = pool->take(1000, 2, rounded);
  EXPECT_EQ(reused, first);
  EXPECT_EQ(device->released_fences, 1);
  pool->give_back(other, rounded, 2);
  pool->give_back(reused, rounded, 2);
}

TEST(CudaBlockPool, DifferentSizeClassesDoNotMix) {
  auto device = std::make_shared<FakeDevice>();
  auto pool = make_pool(device);
  size_t small = 0, big = 0;
  void* a = pool->take(256, 0, small);
  pool->give_back(a, small, 0);
  void* b = pool->take(4096, 0, big);
  EXPECT_NE(a, b);
  EXPECT_EQ(pool->cached_bytes(), 256u);
  pool->give_back(b, big, 0);
}

TEST(CudaBlockPool, LimitReleasesTheCacheAndRetries) {
  auto device = std::make_shared<FakeDevice>();
  auto pool = make_pool(device, /*limit=*/4096);
  size_t r1 = 0, r2 = 0;
  void* a = pool->take(2048, 0, r1);
  pool->give_back(a, r1, 0);  // 2048 cached
  void* b = pool->take(4096, 0, r2);  // 2048 + 4096 > limit: the cache goes first
  EXPECT_EQ(device->synchronizes, 1);
  EXPECT_EQ(device->frees, 1);
  EXPECT_EQ(pool->reserved_bytes(), 4096u);
  EXPECT_EQ(pool->cached_bytes(), 0u);
  EXPECT_EQ(pool->peak_bytes(), 4096u);
  pool->give_back(b, r2, 0);
}

TEST(CudaBlockPool, DeviceOutOfMemoryReleasesTheCacheAndRetries) {
  auto device = std::make_shared<FakeDevice>();
  device->capacity = 8192;
  auto pool = make_pool(device);
  size_t r1 = 0, r2 = 0;
  void* a = pool->take(8192, 0, r1);
  pool->give_back(a, r1, 0);
  void* b = pool->take(4096, 0, r2);  // the device is full of cache: freed, then retried
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(device->frees, 1);
  EXPECT_EQ(pool->reserved_bytes(), 4096u);
  pool->give_back(b, r2, 0);
}

TEST(CudaBlockPool, OutOfMemorySaysWhatWasNeededInUseAndTheLimit) {
  auto device = std::make_shared<FakeDevice>();
  auto pool = make_pool(device, /*limit=*/4096);
  size_t r1 = 0, r2 = 0;
  void* a = pool->take(4096, 0, r1);
  try {
    pool->take(1000, 0, r2);
    ADD_FAILURE() << "expected an out-of-memory error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kRuntimeFailure);
    EXPECT_EQ(std::string(error.what()),
              "CUDA out of memory on cuda:3: needed 1024 bytes, 4096 in use, limit 4096");
  }
  EXPECT_EQ(pool->reserved_bytes(), 4096u) << "a failed take reserves nothing";
  pool->give_back(a, r1, 0);
  EXPECT_NE(std::string(out_of_memory_text(0, 1, 0, 0)).find("limit none"), std::string::npos);
}

TEST(CudaBlockPool, EmptyCacheAndDestructionReturnEverythingToTheDevice) {
  auto device = std::make_shared<FakeDevice>();
  auto pool = make_pool(device);
  std::vector<std::pair<void*, size_t>> blocks;
  for (size_t bytes : {100, 5000, 70000, 3000000}) {
    size_t rounded = 0;
    blocks.emplace_back(pool->take(bytes, 0, rounded), rounded);
  }
  for (auto [block, rounded] : blocks) pool->give_back(block, rounded, 0);
  EXPECT_EQ(device->live.size(), 4u);
  pool->empty_cache();
  EXPECT_TRUE(device->live.empty());
  EXPECT_EQ(pool->reserved_bytes(), 0u);
  EXPECT_EQ(pool->peak_bytes(), 256u + 8192u + 131072u + 3145728u);

  size_t rounded = 0;
  void* block = pool->take(10, 0, rounded);
  pool->give_back(block, rounded, 0);
  pool.reset();
  EXPECT_TRUE(device->live.empty());
  EXPECT_EQ(device->allocated, 0u);
}

}  // namespace
}  // namespace onyx::cuda
