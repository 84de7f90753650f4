// Liveness-based buffer reuse. Every value whose size is known at session creation gets an
// offset in one arena; two values share bytes only if their lifetimes (producing step to last
// reading step) do not overlap. A run takes an arena from a small pool, so steady-state runs
// of static-shape models allocate nothing but their outputs.
#pragma once

#include <array>
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
  // `recycled_slots`: values that leave the run (graph outputs), which cannot live in the
  // arena; see PlannedOutputAllocator.
  MemoryPlan(int slot_count, const std::vector<ValueLifetime>& lifetimes, const std::vector<int>& recycled_slots = {});
  // A value that is a view of a planned one (Reshape, Identity): `slot`'s value may lie inside
  // `source`'s buffer, whose lifetime the caller has extended to cover the view's.
  void set_view_source(int slot, int source) { view_sources_[static_cast<size_t>(slot)] = source; }
  int view_source(int slot) const { return view_sources_[static_cast<size_t>(slot)]; }

  const PlannedBuffer& buffer(int slot) const { return buffers_[static_cast<size_t>(slot)]; }
  // Index of `slot` among the recycled slots, or -1.
  int recycled_index(int slot) const { return recycled_index_[static_cast<size_t>(slot)]; }
  size_t recycled_slot_count() const { return recycled_count_; }
  size_t arena_bytes() const { return arena_bytes_; }
  size_t planned_value_count() const { return planned_count_; }

 private:
  std::vector<PlannedBuffer> buffers_;
  std::vector<int> recycled_index_;
  std::vector<int> view_sources_;  // by slot; -1: none
  size_t recycled_count_ = 0;
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
  // How many arenas acquire() has allocated (concurrent runs each need one).
  size_t arenas_made() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return made_;
  }

 private:
  std::shared_ptr<Allocator> allocator_;
  size_t bytes_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<void>> free_;
  size_t made_ = 0;
};

// Serves planned slots from the run's arena and every other output from the allocator.
//
// A frame run again and again (a Loop or Scan body) would allocate each of its graph outputs
// on every run: they leave the run, so they are not in the arena. Once recycling starts (the
// frame's second run: a frame run once gains nothing), each recycled slot keeps the last two
// blocks it allocated, and hands a block out again once no tensor but its
// own reference holds it (the value it carried has been consumed). A loop-carried value thus
// alternates between two buffers: iteration k+1 writes its state into the buffer iteration k
// read, with no allocation and no copy. A block still held anywhere (a scan output the Loop
// keeps, a value the caller kept, an output aliased by another) is never written.
class PlannedOutputAllocator final : public OutputAllocator {
 public:
  PlannedOutputAllocator(const MemoryPlan& plan, void* arena, Allocator& fallback)
      : plan_(&plan), arena_(static_cast<char*>(arena)), fallback_(fallback) {}
  Tensor allocate(int slot, DataType dtype, const Shape& shape) override;
  // Serves later allocations from `plan` in `arena` (a ShapeSpecializedMemory layout, with the
  // same recycled slots). No value may still live in the arena used before.
  void use(const MemoryPlan& plan, void* arena) {
    plan_ = &plan;
    arena_ = static_cast<char*>(arena);
  }
  // While set, each allocation the plan does not place writes its size to (*sizes)[slot], the
  // largest when a slot is allocated twice; null: nothing is recorded.
  void record_sizes(std::vector<size_t>* sizes) { recorded_sizes_ = sizes; }
  void start_recycling() { recycled_.resize(plan_->recycled_slot_count()); }
  // True when the tensor's memory lies in this run's arena.
  bool in_arena(const Tensor& tensor) const;
  // True when the tensor sits exactly in `slot`'s planned buffer.
  bool in_own_buffer(int slot, const Tensor& tensor) const;
  // True when `slot` is a planned view (MemoryPlan::set_view_source) and the tensor lies inside
  // its source's buffer: the plan keeps those bytes for as long as the view lives.
  bool in_planned_view(int slot, const Tensor& tensor) const;

 private:
  struct RecycledBlock {
    std::shared_ptr<void> memory;
    size_t bytes = 0;
  };
  static constexpr size_t kBlocksPerSlot = 2;  // the value being read and the one being written
  using SlotBlocks = std::array<RecycledBlock, kBlocksPerSlot>;
  Tensor allocate_recycled(SlotBlocks& blocks, DataType dtype, const Shape& shape);

  const MemoryPlan* plan_;
  char* arena_;
  Allocator& fallback_;
  std::vector<size_t>* recorded_sizes_ = nullptr;
  std::vector<SlotBlocks> recycled_;  // by MemoryPlan::recycled_index; empty until recycling starts
};

}  // namespace onyx
