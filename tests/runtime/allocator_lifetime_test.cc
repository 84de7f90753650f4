// Memory handed out by an allocator must stay freeable after every other owner of the allocator
// is gone: tensors held by static objects (or thread_local pools) are destroyed in an order
// nobody controls, and a deleter calling into a destroyed allocator was a heap-use-after-free.
#include <gtest/gtest.h>

#include <memory>

#include "runtime/tensor/allocator.h"
#include "runtime/tensor/tensor.h"

namespace onyx {
namespace {

// Host memory, counting frees in a counter that outlives the allocator.
class FreeCountingAllocator final : public Allocator {
 public:
  explicit FreeCountingAllocator(std::shared_ptr<int> frees) : frees_(std::move(frees)) {}
  void* allocate(size_t bytes) override { return cpu_allocator()->allocate(bytes); }
  void deallocate(void* pointer) override {
    ++*frees_;
    cpu_allocator()->deallocate(pointer);
  }
  Device device() const override { return {}; }

 private:
  std::shared_ptr<int> frees_;
};

TEST(Allocator, ABlockKeepsItsSharedAllocatorAliveUntilItIsFreed) {
  auto frees = std::make_shared<int>(0);
  auto allocator = std::make_shared<FreeCountingAllocator>(frees);
  std::weak_ptr<Allocator> watched = allocator;
  Tensor tensor(DataType::kFloat, {16}, *allocator);
  allocator.reset();
  EXPECT_FALSE(watched.expired()) << "the tensor's memory must hold its allocator";
  tensor = Tensor();
  EXPECT_EQ(*frees, 1);
  EXPECT_TRUE(watched.expired());
}

TEST(Allocator, TheProcessWideAllocatorIsHeldByItsBlocksToo) {
  std::weak_ptr<Allocator> process_wide = cpu_allocator();
  long owners_before = process_wide.use_count();
  Tensor tensor = Tensor::from_vector<float>({4}, {1, 2, 3, 4});
  EXPECT_EQ(process_wide.use_count(), owners_before + 1);
}

}  // namespace
}  // namespace onyx
