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
    const std::vector<int64_t>& signature, const std::vector<size_t>& sizes, const std::vector<int>& views) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (layouts_.size() >= kMaxLayouts) return nullptr;
  }
  const size_t slots = static_cast<size_t>(slot_count_);
  std::vector<const ValueLifetime*> candidate(slots, nullptr);  // every value the arena may hold
  for (const ValueLifetime& value : fixed_) candidate[static_cast<size_t>(value.slot)] = &value;
  for (const ValueLifetime& value : sized_at_run_time_) candidate[static_cast<size_t>(value.slot)] = &value;
  std::vector<ValueLifetime> lifetimes = fixed_;
  for (ValueLifetime value : sized_at_run_time_) {
    value.bytes = sizes[static_cast<size_t>(value.slot)];
    if (value.bytes > 0) lifetimes.push_back(value);
  }
  std::vector<int> planned(slots, -1);  // index in lifetimes
  for (size_t i = 0; i < lifetimes.size(); ++i) planned[static_cast<size_t>(lifetimes[i].slot)] = static_cast<int>(i);
  // Each view's root: the planned value at the end of its chain (a Reshape of a Reshape).
  std::vector<std::pair<int, int>> view_roots;
  for (size_t slot = 0; slot < slots; ++slot) {
    if (views[slot] < 0 || candidate[slot] == nullptr || planned[slot] >= 0) continue;
    int root = views[slot];
    for (size_t hops = 0; root >= 0 && planned[static_cast<size_t>(root)] < 0 && hops < slots; ++hops) {
      root = views[static_cast<size_t>(root)];
    }
    if (root < 0 || planned[static_cast<size_t>(root)] < 0) continue;  // a view of a feed or constant
    ValueLifetime& source = lifetimes[static_cast<size_t>(planned[static_cast<size_t>(root)])];
    source.last_step = std::max(source.last_step, candidate[slot]->last_step);
    view_roots.emplace_back(static_cast<int>(slot), root);
  }
  MemoryPlan plan(slot_count_, lifetimes, recycled_slots_);
  for (const auto& [view, root] : view_roots) plan.set_view_source(view, root);
  auto layout = std::make_shared<const Layout>(signature, std::move(plan), allocator_);
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
