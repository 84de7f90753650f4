// A caching allocator for values whose size is only known at run time. Freed blocks go to
// per-size free lists instead of back to the system, so a model with dynamic shapes reaches a
// steady state with no malloc/mmap (and no page faults) per run. Sizes are rounded up to
// size classes (powers of two below 1 MiB, 1/8 steps above) to make reuse likely.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "runtime/tensor/allocator.h"

namespace onyx {

class CachingAllocator final : public Allocator {
 public:
  // Every block (and the pool) keeps `base` alive: a device allocator may be made per session,
  // and a tensor may outlive the session.
  explicit CachingAllocator(std::shared_ptr<Allocator> base);

  void* allocate(size_t bytes) override;
  void deallocate(void* pointer) override;
  Device device() const override { return state_->base->device(); }
  // Blocks stay valid after the allocator is destroyed: each holds the pool alive.
  std::shared_ptr<void> allocate_shared(size_t bytes) override;

  size_t cached_bytes() const;
  static size_t size_class(size_t bytes);
  static constexpr size_t kSmallestClass = 256;

 private:
  struct State {
    std::shared_ptr<Allocator> base;
    mutable std::mutex mutex;
    std::map<size_t, std::vector<void*>> free_blocks;  // by size class
    std::map<void*, size_t> live_sizes;
    size_t cached_bytes = 0;
    // One freed block of the smallest class, handed over without the mutex: a loop making a
    // scalar per iteration frees and takes one such block each time.
    std::atomic<void*> spare_small{nullptr};
    ~State();
    void* take(size_t bytes);
    void give_back(void* pointer) noexcept;
  };
  std::shared_ptr<State> state_;
};

}  // namespace onyx
