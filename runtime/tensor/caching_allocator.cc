#include "runtime/tensor/caching_allocator.h"

#include <bit>
#include <new>


namespace onyx {

CachingAllocator::CachingAllocator(std::shared_ptr<Allocator> base) : state_(std::make_shared<State>()) {
  state_->base = std::move(base);
}

size_t CachingAllocator::size_class(size_t bytes) {
  constexpr size_t kSmallest = kSmallestClass;
  constexpr size_t kPowerOfTwoLimit = size_t{1} << 20;
  if (bytes <= kSmallest) return kSmallest;
  if (bytes > SIZE_MAX / 2) throw std::bad_alloc();  // rounding up to a class would wrap
  if (bytes <= kPowerOfTwoLimit) return std::bit_ceil(bytes);
  size_t step = std::bit_floor(bytes) / 8;  // eight classes per octave: at most 12.5% waste
  return (bytes + step - 1) / step * step;
}

void* CachingAllocator::State::take(size_t bytes) {
  size_t rounded = size_class(bytes);
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = free_blocks.find(rounded);
    if (it != free_blocks.end() && !it->second.empty()) {
      void* block = it->second.back();
      it->second.pop_back();
      cached_bytes -= rounded;
      live_sizes[block] = rounded;
      return block;
    }
  }
  void* block = base->allocate(rounded);
  std::lock_guard<std::mutex> lock(mutex);
  live_sizes[block] = rounded;
  return block;
}

void CachingAllocator::State::give_back(void* pointer) noexcept {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = live_sizes.find(pointer);
  if (it == live_sizes.end()) return;  // not ours: nothing safe to do in a deleter
  free_blocks[it->second].push_back(pointer);
  cached_bytes += it->second;
  live_sizes.erase(it);
}

CachingAllocator::State::~State() {
  if (void* spare = spare_small.load()) base->deallocate(spare);
  for (auto& [size, blocks] : free_blocks) {
    for (void* block : blocks) base->deallocate(block);
  }
}

void* CachingAllocator::allocate(size_t bytes) { return state_->take(bytes); }

void CachingAllocator::deallocate(void* pointer) { state_->give_back(pointer); }

std::shared_ptr<void> CachingAllocator::allocate_shared(size_t bytes) {
  // The block's size class travels in the deleter, so shared blocks (every tensor) skip the
  // live-size map: no map node allocated and freed per block.
  size_t rounded = size_class(bytes);
  State& state = *state_;
  void* block = rounded == kSmallestClass ? state.spare_small.exchange(nullptr) : nullptr;
  if (block == nullptr) {
    std::lock_guard<std::mutex> lock(state.mutex);
    auto it = state.free_blocks.find(rounded);
    if (it != state.free_blocks.end() && !it->second.empty()) {
      block = it->second.back();
      it->second.pop_back();
      state.cached_bytes -= rounded;
    }
  }
  if (block == nullptr) block = state.base->allocate(rounded);
  return std::shared_ptr<void>(block, [owner = state_, rounded](void* p) {
    void* empty = nullptr;
    if (rounded == kSmallestClass && owner->spare_small.compare_exchange_strong(empty, p)) return;
    std::lock_guard<std::mutex> lock(owner->mutex);
    owner->free_blocks[rounded].push_back(p);
    owner->cached_bytes += rounded;
  });
}

size_t CachingAllocator::cached_bytes() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->cached_bytes + (state_->spare_small.load() ? kSmallestClass : 0);
}

}  // namespace onyx
