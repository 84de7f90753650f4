#include "providers/emulated/emulated_provider.h"

#include <cstring>

#include "onnx_ops/host_inputs.h"
#include "providers/cpu/cpu_provider.h"
#include "providers/provider_factory.h"
#include "runtime/common/error.h"

namespace onyx {

namespace {

class EmulatedAllocator final : public Allocator {
 public:
  explicit EmulatedAllocator(Device device) : device_(device) {}
  void* allocate(size_t bytes) override { return cpu_allocator()->allocate(bytes); }
  void deallocate(void* pointer) override { cpu_allocator()->deallocate(pointer); }
  Device device() const override { return device_; }

 private:
  Device device_;
};

Tensor copy_tensor_to(const Tensor& tensor, Allocator& allocator) {
  Tensor copy(tensor.dtype(), tensor.shape(), allocator);
  if (tensor.dtype() == DataType::kString) {
    const auto* from = static_cast<const std::string*>(tensor.raw_data());
    auto* to = static_cast<std::string*>(copy.mutable_raw_data());
    for (int64_t i = 0; i < tensor.element_count(); ++i) to[i] = from[i];
  } else if (tensor.byte_size() > 0) {
    std::memcpy(copy.mutable_raw_data(), tensor.raw_data(), tensor.byte_size());
  }
  return copy;
}

// A CPU kernel run as the emulated device's: inputs must be where the definition says it
// reads them, and outputs the CPU kernel made on the host (views of constants, tensors built
// directly) are moved into device memory, as a device kernel's would be.
class EmulatedKernel final : public Kernel {
 public:
  EmulatedKernel(std::unique_ptr<Kernel> inner, InputMemory memory, std::shared_ptr<Allocator> allocator)
      : inner_(std::move(inner)), memory_(std::move(memory)), allocator_(std::move(allocator)) {}

  void compute(KernelContext& context) override {
    const Device device = allocator_->device();
    for (size_t i = 0; i < context.input_count(); ++i) {
      if (!context.has_input(i) || memory_.on_any_device(i)) continue;
      const Value& value = context.input_value(i);
      if (!value.is_tensor()) continue;
      Device expected = memory_.on_host(i) ? Device{} : device;
      if (value.tensor().device() != expected) {
        throw_error(ErrorCode::kRuntimeFailure, "emulated device: input ", i, " is on ",
                    value.tensor().device().to_string(), " but the kernel reads it on ", expected.to_string(),
                    " (a copy is missing)");
      }
    }
    inner_->compute(context);
    for (size_t i = 0; i < context.output_count(); ++i) {
      const Value& value = context.output_value(i);
      if (value.is_tensor() && value.tensor().device() != device && value.tensor().defined()) {
        context.set_output(i, copy_tensor_to(value.tensor(), *allocator_));
      }
    }
  }

 private:
  std::unique_ptr<Kernel> inner_;
  InputMemory memory_;
  std::shared_ptr<Allocator> allocator_;
};

bool has_subgraph(const Node& node) {
  for (const Attribute& attribute : node.attributes) {
    if (attribute.g || !attribute.graphs.empty()) return true;
  }
  return false;
}

const ProviderRegistrar kEmulatedRegistrar(
    "emulated", "test-only: CPU kernels on host memory claimed as a device's (exercises placement and copies)",
    [](const ProviderSpec& spec) -> std::shared_ptr<ExecutionProvider> {
      if (!spec.options.empty()) throw_error(ErrorCode::kInvalidArgument, "provider 'emulated' takes no options");
      // The CUDA kernels' input memory decides the emulated placement (find_kernel): load them
      // where this build has them. A machine without CUDA's libraries emulates CPU placement.
      try {
        load_provider_library("cuda");
      } catch (const Error&) {
      }
      return std::make_shared<EmulatedDeviceProvider>(spec.device_id);
    });

}  // namespace

EmulatedDeviceProvider::EmulatedDeviceProvider(int index)
    : index_(index), allocator_(std::make_shared<EmulatedAllocator>(Device{DeviceType::kEmulated, index})) {}

const KernelDef* EmulatedDeviceProvider::find_kernel(const Node& node, int64_t opset,
                                                     const KernelRegistry& kernels) const {
  if (has_subgraph(node)) return nullptr;
  const KernelDef* cpu = kernels.find(kCpuProvider, node.domain, node.op_type, opset);
  if (cpu == nullptr) return nullptr;
  const KernelDef* cuda = kernels.find("CUDA", node.domain, node.op_type, opset);
  std::lock_guard<std::mutex> lock(mutex_);
  auto& wrapped = wrapped_[{cpu, cuda}];
  if (!wrapped) {
    wrapped = std::make_unique<KernelDef>(*cpu);
    wrapped->provider = kEmulatedProvider;
    wrapped->input_memory = cuda ? cuda->input_memory : cpu->input_memory;
    wrapped->supports = cuda ? cuda->supports : cpu->supports;
    // The partitioner keeps these on the host for every device (onnx_ops/host_inputs.h); the
    // checks below must expect them there.
    for (int i = 0; i < 8; ++i) {
      if (is_host_input(node.domain, node.op_type, static_cast<size_t>(i)) && !wrapped->input_memory.on_host(i)) {
        wrapped->input_memory.host.push_back(i);
      }
    }
    KernelFactory inner = cpu->factory;
    InputMemory memory = wrapped->input_memory;
    std::shared_ptr<Allocator> allocator = allocator_;
    wrapped->factory = [inner, memory, allocator](const KernelInfo& info) -> std::unique_ptr<Kernel> {
      return std::make_unique<EmulatedKernel>(inner(info), memory, allocator);
    };
  }
  return wrapped.get();
}

Tensor EmulatedDeviceProvider::to_host(const Tensor& tensor, DeviceRunState*) {
  ++to_host_count_;
  return copy_tensor_to(tensor, *cpu_allocator());
}

Tensor EmulatedDeviceProvider::from_host(const Tensor& tensor, DeviceRunState*) {
  ++from_host_count_;
  return copy_tensor_to(tensor, *allocator_);
}

}  // namespace onyx
