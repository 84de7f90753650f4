// Kernels by (provider, domain, op) with opset ranges. A node resolves to the kernel whose
// [since, until] range covers the model's opset for the node's domain, so one kernel serves
// every opset in which the op's meaning did not change (unlike an exact-version lookup).
// Kernels register themselves beside their code with ONYX_REGISTER_KERNEL.
#pragma once

#include <concepts>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <vector>

#include "providers/kernel.h"
#include "runtime/common/macros.h"

namespace onyx {

constexpr int64_t kOpsetOpenEnded = 1 << 30;

using KernelFactory = std::function<std::unique_ptr<Kernel>(const KernelInfo&)>;
// Whether a kernel handles a node with these attributes and inferred input types (a device
// kernel may serve fewer element types or ranks than the op allows). The partitioner asks
// before choosing a provider, so an unsupported node falls back to the next one (the CPU).
using KernelSupport = std::function<bool(const KernelInfo&)>;

// Where a kernel reads its inputs. By default in its provider's memory. `host` inputs (shapes,
// axes, pads, scales, repeats) are read by the host code that launches device work, so the
// partitioner brings them to the host and leaves their producers (shape chains) on the CPU;
// `any_device` inputs are read only for their type and shape (Shape, Size), so no copy is made.
// On the CPU provider both are the same as the default.
struct InputMemory {
  std::vector<int> host;
  std::vector<int> any_device;
  // Control flow (If, Loop): every input but the `host` ones goes to the subgraphs as it is,
  // wherever it is, and the outputs are wherever the subgraphs made them.
  bool passes_values_through = false;
  bool on_host(size_t input) const;
  bool on_any_device(size_t input) const;
};

struct KernelDef {
  std::string provider;  // "CPU", "CUDA"
  std::string domain;    // canonical: "" for ai.onnx
  std::string op_type;
  int64_t since_version = 1;
  int64_t until_version = kOpsetOpenEnded;  // inclusive
  KernelFactory factory;
  InputMemory input_memory = {};
  KernelSupport supports = nullptr;  // null: every node the op's registration covers
};

class KernelRegistry {
 public:
  static KernelRegistry& global();
  // A registry whose lookups fall back to `fallback` (a session's own ops over the global ones).
  explicit KernelRegistry(const KernelRegistry* fallback = nullptr) : fallback_(fallback) {}

  // Throws if the range overlaps one already registered for the same provider, domain and op
  // (here or in the fallback).
  void add(KernelDef def);
  const KernelDef* find(const std::string& provider, const std::string& domain,
                        const std::string& op_type, int64_t opset) const;
  // Version ranges registered for an op on any provider, for error messages ("has 1-12").
  std::string describe_ranges(const std::string& domain, const std::string& op_type) const;
  // This registry's kernels and then its fallback's.
  std::vector<const KernelDef*> all() const;

 private:
  const KernelDef* find_overlapping(const KernelDef& def) const;
  const KernelDef* overlapping_here(const KernelDef& def) const;  // the caller holds mutex_

  const KernelRegistry* fallback_ = nullptr;
  // Plug-ins (the CUDA provider's library) add kernels to the global registry when they load,
  // which may be while another thread creates a session and looks kernels up. Definitions are
  // never removed and their keys' vectors only grow for a plug-in's own provider, so the
  // pointers lookups return stay valid.
  mutable std::shared_mutex mutex_;
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<KernelDef>> kernels_;
};

// Every kernel is made through this: the node's attributes are checked first
// (onnx_ops/attribute_checks.h), so a factory never sees a value it cannot handle. Errors leave
// the node to the caller, as the factory's do.
std::unique_ptr<Kernel> create_checked_kernel(const KernelDef& def, const KernelInfo& info);

namespace detail {
struct KernelRegistrar {
  explicit KernelRegistrar(KernelDef def) { KernelRegistry::global().add(std::move(def)); }
};
template <typename KernelClass>
KernelFactory factory_of() {
  return [](const KernelInfo& info) -> std::unique_ptr<Kernel> {
    return std::make_unique<KernelClass>(info);
  };
}
// A kernel class with `static bool supports(const KernelInfo&)` gets it as its KernelDef's
// `supports`: declaring the function is all a kernel does to be asked.
template <typename KernelClass>
concept DeclaresSupport = requires(const KernelInfo& info) {
  { KernelClass::supports(info) } -> std::convertible_to<bool>;
};
template <typename KernelClass>
KernelDef kernel_def(std::string provider, std::string domain, std::string op_type, int64_t since, int64_t until,
                     InputMemory memory = {}) {
  KernelDef def{std::move(provider), std::move(domain), std::move(op_type), since, until,
                factory_of<KernelClass>(), std::move(memory)};
  if constexpr (DeclaresSupport<KernelClass>) {
    def.supports = [](const KernelInfo& info) { return static_cast<bool>(KernelClass::supports(info)); };
  }
  return def;
}
}  // namespace detail

}  // namespace onyx

// ONYX_REGISTER_KERNEL("CPU", "", "Relu", 6, 13, ReluKernel): KernelClass(const KernelInfo&).
#define ONYX_REGISTER_KERNEL(provider, domain, op_type, since, until, KernelClass)     \
  static const ::onyx::detail::KernelRegistrar ONYX_CONCAT(onyx_kernel_, __COUNTER__)( \
      ::onyx::detail::kernel_def<KernelClass>(provider, domain, op_type, since, until))
// Same, with a factory function or lambda returning std::unique_ptr<Kernel>.
#define ONYX_REGISTER_KERNEL_FACTORY(provider, domain, op_type, since, until, factory)        \
  static const ::onyx::detail::KernelRegistrar ONYX_CONCAT(onyx_kernel_, __COUNTER__)(        \
      ::onyx::KernelDef{provider, domain, op_type, since, until, factory})
// Same as ONYX_REGISTER_KERNEL, stating where inputs are read:
// ONYX_REGISTER_KERNEL_WITH_MEMORY("CUDA", "", "Reshape", 14, 18, ReshapeKernel, {.host = {1}}).
#define ONYX_REGISTER_KERNEL_WITH_MEMORY(provider, domain, op_type, since, until, KernelClass, ...) \
  static const ::onyx::detail::KernelRegistrar ONYX_CONCAT(onyx_kernel_, __COUNTER__)(             \
      ::onyx::detail::kernel_def<KernelClass>(provider, domain, op_type, since, until,             \
                                              ::onyx::InputMemory __VA_ARGS__))

