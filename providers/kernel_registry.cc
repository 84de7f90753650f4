#include "providers/kernel_registry.h"

#include <algorithm>
#include <mutex>

#include "onnx_ops/attribute_checks.h"

namespace onyx {

bool InputMemory::on_host(size_t input) const {
  return std::find(host.begin(), host.end(), static_cast<int>(input)) != host.end();
}

bool InputMemory::on_any_device(size_t input) const {
  return std::find(any_device.begin(), any_device.end(), static_cast<int>(input)) != any_device.end();
}

std::unique_ptr<Kernel> create_checked_kernel(const KernelDef& def, const KernelInfo& info) {
  std::vector<const TypeInfo*> input_types;
  for (size_t i = 0; i < info.input_count(); ++i) input_types.push_back(&info.input_type(i));
  check_node_attributes(info.node(), info.opset(), input_types);
  return def.factory(info);
}

KernelRegistry& KernelRegistry::global() {
  static KernelRegistry registry;
  return registry;
}

void KernelRegistry::add(KernelDef def) {
  def.domain = canonical_domain(def.domain);
  if (def.since_version > def.until_version) {
    throw_error(ErrorCode::kInvalidArgument, "kernel ", def.op_type, " for ", def.provider,
                ": empty opset range ", def.since_version, "-", def.until_version);
  }
  std::unique_lock lock(mutex_);
  const KernelDef* existing = overlapping_here(def);
  if (!existing && fallback_) existing = fallback_->find_overlapping(def);
  if (existing) {
    throw_error(ErrorCode::kInvalidArgument, "kernel ", def.op_type, " (domain ",
                display_domain(def.domain), ") for ", def.provider, " registered twice for opsets ",
                std::max(def.since_version, existing->since_version), "-",
                std::min(def.until_version, existing->until_version));
  }
  kernels_[{def.provider, def.domain, def.op_type}].push_back(std::move(def));
}

const KernelDef* KernelRegistry::find_overlapping(const KernelDef& def) const {
  {
    std::shared_lock lock(mutex_);
    if (const KernelDef* existing = overlapping_here(def)) return existing;
  }
  return fallback_ ? fallback_->find_overlapping(def) : nullptr;
}

const KernelDef* KernelRegistry::overlapping_here(const KernelDef& def) const {
  auto it = kernels_.find({def.provider, def.domain, def.op_type});
  if (it != kernels_.end()) {
    for (const KernelDef& existing : it->second) {
      if (def.since_version <= existing.until_version && existing.since_version <= def.until_version) {
        return &existing;
      }
    }
  }
  return nullptr;
}

const KernelDef* KernelRegistry::find(const std::string& provider, const std::string& domain,
                                      const std::string& op_type, int64_t opset) const {
  {
    std::shared_lock lock(mutex_);
    auto it = kernels_.find({provider, canonical_domain(domain), op_type});
    if (it != kernels_.end()) {
      for (const KernelDef& def : it->second) {
        if (def.since_version <= opset && opset <= def.until_version) return &def;
      }
    }
  }
  return fallback_ ? fallback_->find(provider, domain, op_type, opset) : nullptr;
}

std::string KernelRegistry::describe_ranges(const std::string& domain,
                                            const std::string& op_type) const {
  std::string text;
  std::shared_lock lock(mutex_);
  for (const auto& [key, versions] : kernels_) {
    if (std::get<1>(key) != canonical_domain(domain) || std::get<2>(key) != op_type) continue;
    for (const KernelDef& def : versions) {
      if (!text.empty()) text += ", ";
      text += std::get<0>(key) + " opset " + std::to_string(def.since_version);
      text += def.until_version == kOpsetOpenEnded ? "+" : "-" + std::to_string(def.until_version);
    }
  }
  std::string inherited = fallback_ ? fallback_->describe_ranges(domain, op_type) : "";
  if (!inherited.empty()) text += (text.empty() ? "" : ", ") + inherited;
  return text;
}

std::vector<const KernelDef*> KernelRegistry::all() const {
  std::vector<const KernelDef*> defs;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [key, versions] : kernels_) {
      for (const KernelDef& def : versions) defs.push_back(&def);
    }
  }
  if (fallback_) {
    for (const KernelDef* def : fallback_->all()) defs.push_back(def);
  }
  return defs;
}

}  // namespace onyx
