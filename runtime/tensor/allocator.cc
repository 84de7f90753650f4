#include "runtime/tensor/allocator.h"

#include <cstdlib>
#include <new>

namespace onyx {

std::string Device::to_string() const {
  switch (type) {
    case DeviceType::kCpu: return "cpu";
    case DeviceType::kCuda: return "cuda:" + std::to_string(index);
    case DeviceType::kEmulated: return "emulated:" + std::to_string(index);
  }
  return "unknown device";
}

std::shared_ptr<void> Allocator::allocate_shared(size_t bytes) {
  std::shared_ptr<Allocator> self = weak_from_this().lock();
  void* memory = allocate(bytes);
  if (self) return std::shared_ptr<void>(memory, [self](void* p) { self->deallocate(p); });
  return std::shared_ptr<void>(memory, [this](void* p) { deallocate(p); });
}

void* CpuAllocator::allocate(size_t bytes) {
  if (bytes > SIZE_MAX - kAlignment) throw std::bad_alloc();  // rounding up would wrap to a tiny block
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* pointer = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (pointer == nullptr) throw std::bad_alloc();
  return pointer;
}

void CpuAllocator::deallocate(void* pointer) { std::free(pointer); }

std::shared_ptr<Allocator> cpu_allocator() {
  static const auto* instance = new std::shared_ptr<Allocator>(std::make_shared<CpuAllocator>());
  return *instance;
}

}  // namespace onyx
