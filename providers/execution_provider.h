// An execution provider: a device with its allocator, its kernels, and the copies between its
// memory and the host. The partitioner (runtime/session/placement.h) asks each provider, in
// priority order, whether it can run a node; the first that can takes it, and copies are
// inserted where data changes device.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "providers/kernel_registry.h"
#include "runtime/tensor/allocator.h"

namespace onyx {

// One run's state on a device: a CUDA stream and the library handles bound to it. A session
// run acquires one per device provider (subgraph frames share their parent's), hands it to
// that provider's kernels and copies through KernelContext::device_state, and releases it at
// the end, so concurrent runs never share a stream.
class DeviceRunState {
 public:
  virtual ~DeviceRunState() = default;
};

class ExecutionProvider {
 public:
  virtual ~ExecutionProvider() = default;

  virtual std::string name() const = 0;  // the provider key used by kernel registrations
  virtual Device device() const = 0;
  // Held by shared_ptr so that every buffer it hands out keeps it alive (a tensor may outlive
  // the session and its provider).
  virtual std::shared_ptr<Allocator> allocator() = 0;

  // Checks that the device can be used (driver, device, memory) and sets up what kernels need;
  // the session calls it before creating kernels. Placement alone (`onyx inspect`) does not,
  // so it works on a machine without the device. Throws a clear onyx::Error otherwise.
  virtual void open() {}

  // Capability: the kernel this provider would use for the node, or nullptr. `kernels` is the
  // session's registry (built-in kernels plus the session's custom ops).
  virtual const KernelDef* find_kernel(const Node& node, int64_t opset,
                                       const KernelRegistry& kernels = KernelRegistry::global()) const {
    return kernels.find(name(), node.domain, node.op_type, opset);
  }

  // Per-run state (a stream); null for providers that need none (the CPU).
  virtual std::shared_ptr<DeviceRunState> acquire_run_state() { return nullptr; }

  // Output and work memory of one run's steps on this provider, ordered on `run`: by default
  // plain blocks from allocator(). (A session serves host values from its own memory plan.)
  virtual std::unique_ptr<OutputAllocator> make_output_allocator(DeviceRunState* run);

  // Moves a tensor between this provider's device and the host, ordered on `run` (may be null:
  // then the provider's default stream). to_host returns only once the data is on the host.
  virtual Tensor to_host(const Tensor& tensor, DeviceRunState* run) = 0;
  virtual Tensor from_host(const Tensor& tensor, DeviceRunState* run) = 0;
  // Waits for the work queued on `run`.
  virtual void synchronize(DeviceRunState* /*run*/) {}
};

// The providers of one session (or one eager context), in priority order; the host (CPU) one
// always among them.
using DeviceRunStates = std::vector<std::shared_ptr<DeviceRunState>>;

}  // namespace onyx
