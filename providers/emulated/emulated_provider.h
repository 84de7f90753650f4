// The emulated device: a test-only provider that runs the CPU kernels on host memory it
// claims as a device's (DeviceType::kEmulated). Placement, copy insertion, per-provider
// allocators and run states are device-independent logic; with this provider they run on
// every machine, and each of its kernels checks that every input arrived where the kernel
// reads it, so a missing or misplaced copy fails loudly instead of passing by accident.
// `--device emulated` on onyx run/test and scripts/conformance.py runs whole suites through it.
#pragma once

#include <atomic>
#include <map>
#include <mutex>

#include "providers/execution_provider.h"

namespace onyx {

inline constexpr const char* kEmulatedProvider = "EMULATED";

class EmulatedDeviceProvider final : public ExecutionProvider {
 public:
  explicit EmulatedDeviceProvider(int index = 0);

  std::string name() const override { return kEmulatedProvider; }
  Device device() const override { return {DeviceType::kEmulated, index_}; }
  std::shared_ptr<Allocator> allocator() override { return allocator_; }
  // Every op with a CPU kernel except those with subgraphs (If/Loop/Scan stay on the host, as
  // on CUDA). Where a CUDA kernel is registered, its input memory is used, so the emulated
  // placement is the one a CUDA session would get.
  const KernelDef* find_kernel(const Node& node, int64_t opset, const KernelRegistry& kernels) const override;
  Tensor to_host(const Tensor& tensor, DeviceRunState* run) override;
  Tensor from_host(const Tensor& tensor, DeviceRunState* run) override;

  int64_t copies_to_host() const { return to_host_count_.load(); }
  int64_t copies_from_host() const { return from_host_count_.load(); }

 private:
  int index_;
  std::shared_ptr<Allocator> allocator_;
  mutable std::mutex mutex_;
  // Wrapped definitions by the (CPU, CUDA) definitions they come from; stable addresses.
  mutable std::map<std::pair<const KernelDef*, const KernelDef*>, std::unique_ptr<KernelDef>> wrapped_;
  std::atomic<int64_t> to_host_count_{0};
  std::atomic<int64_t> from_host_count_{0};
};

}  // namespace onyx
