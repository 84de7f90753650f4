// Device memory allocators. Every provider hands out memory through this interface so the
// memory planner and the tensors it creates are device-agnostic.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace onyx {

enum class DeviceType { kCpu, kCuda };

struct Device {
  DeviceType type = DeviceType::kCpu;
  int index = 0;

  bool operator==(const Device&) const = default;
  bool is_cpu() const { return type == DeviceType::kCpu; }
  std::string to_string() const;
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* pointer) = 0;
  virtual Device device() const = 0;
  // Owning handle to fresh memory. The default frees through this allocator and so requires it
  // to outlive the memory; allocators with shorter lives override it to keep themselves alive.
  virtual std::shared_ptr<void> allocate_shared(size_t bytes);
};

// 64-byte aligned host memory, so vector kernels and oneDNN never see a misaligned buffer.
class CpuAllocator final : public Allocator {
 public:
  static constexpr size_t kAlignment = 64;
  void* allocate(size_t bytes) override;
  void deallocate(void* pointer) override;
  Device device() const override { return {}; }
};

// The process-wide host allocator; also what tensors built outside a session use.
std::shared_ptr<Allocator> cpu_allocator();

}  // namespace onyx
