#include "runtime/session/shape_specialized_memory.h"

#include <algorithm>

namespace onyx {

ShapeSpecializedMemory::ShapeSpecializedMemory(int slot_count, std::vector<ValueLifetime> fixed,
                                               std::vector<ValueLifetime> sized_at_run_time,
                                               std::vector<int> recycled_slots, std::shared_ptr<Allocator> allocator)
    : slot_count_(slot_count),
      fixed_(std::move(fixed)),
      sized_at_run_time_(std::move(sized_at_run_time)),
      recycled_slots_(std::move(recycled_slots)),
      allocator_(std::move(allocator)) {}

bool ShapeSpecializedMemory::signature_of(std::span<const Value> inputs, std::vector<int64_t>& signature) {
  signature.clear();
  for (const Value& input : inputs) {
    if (!input.is_tensor()) return false;
    const Tensor& tensor = input.tensor();
    signature.push_back(static_cast<int64_t>(tensor.dtype()));
    signature.push_back(static_cast<int64_t>(tensor.shape().size()));
    signature.insert(signature.end(), tensor.shape().begin(), tensor.shape().end());
  }
  return true;
}

std::shared_ptr<const ShapeSpecializedMemory::Layout> ShapeSpecializedMemory::find(
    const std::vector<int64_t>& signature) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& layout : layouts_) {
    if (layout->signature == signature) return layout;
  }
  return nullptr;
}

std::shared_ptr<const ShapeSpecializedMemory::Layout> ShapeSpecializedMemory::record(
    const std::vector<int64_t>& signature, const std::vector<size_t>& observed) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (layouts_.size() >= kMaxLayouts) return nullptr;
  }
  std::vector<ValueLifetime> lifetimes = fixed_;
  for (ValueLifetime value : sized_at_run_time_) {
    value.bytes = observed[static_cast<size_t>(value.slot)];
    if (value.bytes > 0) lifetimes.push_back(value);
  }
  auto layout = std::make_shared<const Layout>(signature, MemoryPlan(slot_count_, lifetimes, recycled_slots_), allocator_);
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& existing : layouts_) {
    if (existing->signature == signature) return existing;
  }
  if (layouts_.size() >= kMaxLayouts) return nullptr;
  layouts_.push_back(layout);
  return layout;
}

size_t ShapeSpecializedMemory::layout_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return layouts_.size();
}

std::shared_ptr<const ShapeSpecializedMemory::Layout> ShapeSpecializedMemory::latest() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return layouts_.empty() ? nullptr : layouts_.back();
}

}  // namespace onyx
