// Device memory allocators. Every provider hands out memory through this interface so the
// memory planner and the tensors it creates are device-agnostic.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace onyx {

// kEmulated: host memory that the test-only emulated provider (providers/emulated/) claims as
// a device's, so placement and copies are exercised on machines without a GPU.
enum class DeviceType { kCpu, kCuda, kEmulated };

struct Device {
  DeviceType type = DeviceType::kCpu;
  int index = 0;

  bool operator==(const Device&) const = default;
  bool is_cpu() const { return type == DeviceType::kCpu; }
  // True when the host can read the memory directly (the CPU, the emulated device).
  bool is_host_memory() const { return type != DeviceType::kCuda; }
  std::string to_string() const;
};

// Allocators held by shared_ptr (the process-wide one, providers' own) are kept alive by every
// block they hand out, so a tensor may outlive whoever made the allocator, static objects
// destroyed at exit included.
class Allocator : public std::enable_shared_from_this<Allocator> {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* pointer) = 0;
  virtual Device device() const = 0;
  // Owning handle to fresh memory. The default frees through this allocator and keeps it alive
  // while the memory lives when it is owned by a shared_ptr; one that is not must outlive the
  // memory itself (or override this to keep its state alive, as CachingAllocator does).
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

// The process-wide host allocator; also what tensors built outside a session use. Never
// destroyed: allocators that wrap it (CachingAllocator pools, thread_local ones included) hold
// it by reference and may outlive every static destructor.
std::shared_ptr<Allocator> cpu_allocator();

}  // namespace onyx
