#include "runtime/tensor/allocator.h"

#include <cstdlib>
#include <new>

namespace onyx {

std::string Device::to_string() const {
  return type == DeviceType::kCpu ? std::string("cpu") : "cuda:" + std::to_string(index);
}

std::shared_ptr<void> Allocator::allocate_shared(size_t bytes) {
  void* memory = allocate(bytes);
  return std::shared_ptr<void>(memory, [this](void* p) { deallocate(p); });
}

void* CpuAllocator::allocate(size_t bytes) {
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* pointer = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (pointer == nullptr) throw std::bad_alloc();
  return pointer;
}

void CpuAllocator::deallocate(void* pointer) { std::free(pointer); }

std::shared_ptr<Allocator> cpu_allocator() {
  static auto instance = std::make_shared<CpuAllocator>();
  return instance;
}

}  // namespace onyx
