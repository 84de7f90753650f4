// Liveness-based buffer reuse. Every value whose size is known at session creation gets an
// offset in one arena; two values share bytes only if their lifetimes (producing step to last
// reading step) do not overlap. A run takes an arena from a small pool, so steady-state runs
// of static-shape models allocate nothing but their outputs.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "providers/kernel.h"
#include "runtime/tensor/allocator.h"

namespace onyx {

struct PlannedBuffer {
  size_t offset = 0;
  size_t bytes = 0;  // 0: not planned (dynamic size, graph output, string)
};

struct ValueLifetime {
  int slot;
  int first_step;
  int last_step;
  size_t bytes;
};

class MemoryPlan {
 public:
  MemoryPlan() = default;
  MemoryPlan(int slot_count, const std::vector<ValueLifetime>& lifetimes);

  const PlannedBuffer& buffer(int slot) const { return buffers_[static_cast<size_t>(slot)]; }
  size_t arena_bytes() const { return arena_bytes_; }
  size_t planned_value_count() const { return planned_count_; }

 private:
  std::vector<PlannedBuffer> buffers_;
  size_t arena_bytes_ = 0;
  size_t planned_count_ = 0;
};

// Arenas for concurrent runs: each run borrows one and gives it back.
class ArenaPool {
 public:
  // Each arena keeps `allocator` alive, so a frame may outlive the plan's provider.
  ArenaPool(std::shared_ptr<Allocator> allocator, size_t bytes) : allocator_(std::move(allocator)), bytes_(bytes) {}
  std::shared_ptr<void> acquire();
  void release(std::shared_ptr<void> arena);

 private:
  std::shared_ptr<Allocator> allocator_;
  size_t bytes_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<void>> free_;
};

// Serves planned slots from the run's arena and every other output from the allocator.
class PlannedOutputAllocator final : public OutputAllocator {
 public:
  PlannedOutputAllocator(const MemoryPlan& plan, void* arena, Allocator& fallback)
      : plan_(plan), arena_(static_cast<char*>(arena)), fallback_(fallback) {}
  Tensor allocate(int slot, DataType dtype, const Shape& shape) override;
  // True when the tensor's memory lies in this run's arena.
  bool in_arena(const Tensor& tensor) const;
  // True when the tensor sits exactly in `slot`'s planned buffer.
  bool in_own_buffer(int slot, const Tensor& tensor) const;

 private:
  const MemoryPlan& plan_;
  char* arena_;
  Allocator& fallback_;
};

}  // namespace onyx
