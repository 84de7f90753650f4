#include "runtime/session/memory_plan.h"

#include <algorithm>
#include <atomic>

namespace onyx {

namespace {
constexpr size_t kAlignment = 64;
size_t align_up(size_t bytes) { return (bytes + kAlignment - 1) / kAlignment * kAlignment; }
}  // namespace

MemoryPlan::MemoryPlan(int slot_count, const std::vector<ValueLifetime>& lifetimes, const std::vector<int>& recycled_slots)
    : buffers_(static_cast<size_t>(slot_count)),
      recycled_index_(static_cast<size_t>(slot_count), -1),
      view_sources_(static_cast<size_t>(slot_count), -1) {
  for (int slot : recycled_slots) {
    int& index = recycled_index_[static_cast<size_t>(slot)];
    if (index < 0) index = static_cast<int>(recycled_count_++);
  }
  // Greedy by size, largest first: each buffer takes the lowest offset that does not collide
  // with an already placed buffer whose lifetime overlaps its own.
  std::vector<ValueLifetime> order = lifetimes;
  std::stable_sort(order.begin(), order.end(),
                   [](const ValueLifetime& a, const ValueLifetime& b) { return a.bytes > b.bytes; });
  struct Placed {
    size_t offset, bytes;
    int first, last;
  };
  std::vector<Placed> placed;
  for (const ValueLifetime& value : order) {
    if (value.bytes == 0) continue;
    size_t bytes = align_up(value.bytes);
    std::vector<std::pair<size_t, size_t>> busy;
    for (const Placed& p : placed) {
      if (p.first <= value.last_step && value.first_step <= p.last) busy.emplace_back(p.offset, p.bytes);
    }
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [start, size] : busy) {
      if (offset + bytes <= start) break;
      offset = std::max(offset, start + size);
    }
    placed.push_back({offset, bytes, value.first_step, value.last_step});
    buffers_[static_cast<size_t>(value.slot)] = {offset, value.bytes};
    arena_bytes_ = std::max(arena_bytes_, offset + bytes);
    ++planned_count_;
  }
}

std::shared_ptr<void> ArenaPool::acquire() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!free_.empty()) {
      auto arena = std::move(free_.back());
      free_.pop_back();
      return arena;
    }
  }
  void* memory = allocator_->allocate(std::max<size_t>(bytes_, kAlignment));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++made_;
  }
  return std::shared_ptr<void>(memory, [allocator = allocator_](void* p) { allocator->deallocate(p); });
}

void ArenaPool::release(std::shared_ptr<void> arena) {
  std::lock_guard<std::mutex> lock(mutex_);
  free_.push_back(std::move(arena));
}

Tensor PlannedOutputAllocator::allocate(int slot, DataType dtype, const Shape& shape) {
  if (slot >= 0 && dtype != DataType::kString) {
    const PlannedBuffer& planned = plan_->buffer(slot);
    if (planned.bytes > 0 && dtype_storage_bytes(dtype, shape_element_count(shape)) <= planned.bytes) {
      return Tensor::view(dtype, shape, arena_ + planned.offset, nullptr, fallback_.device());
    }
    if (recorded_sizes_ != nullptr) {
      size_t& recorded = (*recorded_sizes_)[static_cast<size_t>(slot)];
      recorded = std::max(recorded, dtype_storage_bytes(dtype, shape_element_count(shape)));
    }
    int recycled = plan_->recycled_index(slot);
    if (recycled >= 0 && !recycled_.empty()) return allocate_recycled(recycled_[static_cast<size_t>(recycled)], dtype, shape);
  }
  return Tensor(dtype, shape, fallback_);
}

Tensor PlannedOutputAllocator::allocate_recycled(SlotBlocks& blocks, DataType dtype, const Shape& shape) {
  const size_t bytes = dtype_storage_bytes(dtype, shape_element_count(shape));
  if (bytes == 0) return Tensor(dtype, shape, fallback_);
  RecycledBlock* replaced = nullptr;
  for (RecycledBlock& block : blocks) {
    // use_count is exact here: only this allocator could hand out new references to the block,
    // and it is the one asking. Once it reads 1, the last other holder has let go.
    const bool free = block.memory && block.memory.use_count() == 1;
    if (free && block.bytes >= bytes) {
      // Pairs with the release of the holder's reference: its reads of the old contents happen
      // before the kernel overwrites them.
      std::atomic_thread_fence(std::memory_order_acquire);
      return Tensor::view(dtype, shape, block.memory.get(), block.memory, fallback_.device());
    }
    // Prefer replacing an empty or a free (too small) block; else the first one, whose holder
    // keeps it alive and frees it as usual.
    if (replaced == nullptr && (!block.memory || free)) replaced = &block;
  }
  if (replaced == nullptr) replaced = &blocks[0];
  replaced->memory = fallback_.allocate_shared(bytes);
  replaced->bytes = bytes;
  return Tensor::view(dtype, shape, replaced->memory.get(), replaced->memory, fallback_.device());
}

bool PlannedOutputAllocator::in_arena(const Tensor& tensor) const {
  const char* data = static_cast<const char*>(tensor.raw_data());
  return data >= arena_ && data < arena_ + plan_->arena_bytes();
}

bool PlannedOutputAllocator::in_own_buffer(int slot, const Tensor& tensor) const {
  const PlannedBuffer& planned = plan_->buffer(slot);
  return planned.bytes > 0 && static_cast<const char*>(tensor.raw_data()) == arena_ + planned.offset;
}

bool PlannedOutputAllocator::in_planned_view(int slot, const Tensor& tensor) const {
  const int source = plan_->view_source(slot);
  if (source < 0) return false;
  const PlannedBuffer& planned = plan_->buffer(source);
  const char* start = arena_ + planned.offset;
  const char* data = static_cast<const char*>(tensor.raw_data());
  return planned.bytes > 0 && data >= start && data + tensor.byte_size() <= start + planned.bytes;
}

}  // namespace onyx
