// An execution provider: a device with its allocator, its kernels, and the copies between its
// memory and the host. The partitioner asks each provider, in priority order, whether it can
// run a node; the first that can takes it, and copies are inserted where data changes device.
#pragma once

#include <memory>
#include <string>

#include "providers/kernel_registry.h"
#include "runtime/tensor/allocator.h"

namespace onyx {

class ExecutionProvider {
 public:
  virtual ~ExecutionProvider() = default;

  virtual std::string name() const = 0;  // the provider key used by kernel registrations
  virtual Device device() const = 0;
  virtual Allocator& allocator() = 0;

  // Capability: the kernel this provider would use for the node, or nullptr. `kernels` is the
  // session's registry (built-in kernels plus the session's custom ops).
  virtual const KernelDef* find_kernel(const Node& node, int64_t opset,
                                       const KernelRegistry& kernels = KernelRegistry::global()) const {
    return kernels.find(name(), node.domain, node.op_type, opset);
  }

  // Moves a tensor between this provider's device and the host; the CPU provider copies.
  virtual Tensor to_host(const Tensor& tensor) = 0;
  virtual Tensor from_host(const Tensor& tensor) = 0;
  // Waits for queued device work (a no-op on the CPU).
  virtual void synchronize() {}
};

}  // namespace onyx
