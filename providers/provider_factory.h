// Providers by name: "cpu", "cuda", "cuda:1", "emulated". Each provider registers a maker
// beside its code, so a build without CUDA simply has no "cuda" entry and asking for it gives
// one clear message instead of a link error or a crash. The CUDA provider is a library of its
// own (libonyx_cuda.so), loaded the first time it is asked for. SessionOptions take the instances:
//   options.providers = make_providers({"cuda:0", "cpu"});
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "providers/execution_provider.h"

namespace onyx {

struct ProviderSpec {
  std::string name;      // lower case: "cpu", "cuda"
  int device_id = 0;
  std::map<std::string, std::string> options;  // provider-specific, e.g. cuda's "memory_limit"

  // "cuda", "cuda:1", "cuda:0,memory_limit=2000000000,tf32=1"; throws kInvalidArgument.
  static ProviderSpec parse(const std::string& text);
  std::string to_string() const;
};

using ProviderMaker = std::function<std::shared_ptr<ExecutionProvider>(const ProviderSpec&)>;

struct ProviderRegistrar {
  ProviderRegistrar(const std::string& name, std::string description, ProviderMaker maker);
};

// Throws kNotImplemented naming the providers this build has when `spec.name` is unknown
// ("cuda" in a build without CUDA says how to get one).
std::shared_ptr<ExecutionProvider> make_provider(const ProviderSpec& spec);
// In priority order; the CPU provider is appended when missing (every node can fall back).
std::vector<std::shared_ptr<ExecutionProvider>> make_providers(const std::vector<std::string>& specs);
// Loads the library of a provider built apart (libonyx_cuda.so for "cuda") if it is not loaded
// yet: false when this build has none, throws when it is there but cannot load. make_provider
// calls it; the emulated provider too, so that its placement follows the CUDA kernels'.
bool load_provider_library(const std::string& name);
// Names and one-line descriptions of the providers in this build (plug-ins without loading them).
std::vector<std::pair<std::string, std::string>> available_providers();

}  // namespace onyx

// ONYX_REGISTER_PROVIDER("cuda", "NVIDIA GPUs through CUDA, cuBLAS and cuDNN", make_cuda_provider);
#define ONYX_REGISTER_PROVIDER(name, description, maker) \
  static const ::onyx::ProviderRegistrar ONYX_CONCAT(onyx_provider_, __COUNTER__)(name, description, maker)
