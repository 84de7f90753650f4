// The CPU execution provider: always present, the fallback for every node.
#pragma once

#include "providers/execution_provider.h"

namespace onyx {

inline constexpr const char* kCpuProvider = "CPU";

class CpuExecutionProvider final : public ExecutionProvider {
 public:
  std::string name() const override { return kCpuProvider; }
  Device device() const override { return {}; }
  std::shared_ptr<Allocator> allocator() override { return cpu_allocator(); }
  Tensor to_host(const Tensor& tensor, DeviceRunState*) override { return tensor; }
  Tensor from_host(const Tensor& tensor, DeviceRunState*) override { return tensor; }
};

}  // namespace onyx
