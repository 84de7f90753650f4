#include "providers/provider_factory.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <mutex>

#include "providers/cpu/cpu_provider.h"
#include "runtime/common/error.h"

namespace onyx {

namespace {

struct ProviderEntry {
  std::string description;
  ProviderMaker maker;
};

std::map<std::string, ProviderEntry>& provider_makers() {
  static auto* makers = new std::map<std::string, ProviderEntry>();  // never destroyed: used by static registrars
  return *makers;
}

std::string provider_list() {
  std::string list;
  for (const auto& [name, entry] : provider_makers()) list += (list.empty() ? "" : ", ") + name;
  return list;
}

// Guards provider_makers(). Recursive: loading a plug-in runs its registrars (which take it)
// while make_provider holds it.
std::recursive_mutex& providers_mutex() {
  static auto* mutex = new std::recursive_mutex();
  return *mutex;
}

// Providers built as libraries of their own, beside libonyx_core.so, and loaded the first time
// a session asks for them: the CUDA provider links cuBLAS/cuBLASLt/cuDNN, whose loading alone
// takes about 150 MB of resident memory, which no CPU-only process should pay.
struct PluginProvider {
  const char* name;
  const char* title;  // in messages
  const char* library;
  const char* description;
};
constexpr PluginProvider kPluginProviders[] = {
    {"cuda", "CUDA", "libonyx_cuda.so", "NVIDIA GPUs (CUDA, cuBLAS, cuDNN)"},
};

const PluginProvider* plugin_named(const std::string& name) {
  for (const PluginProvider& plugin : kPluginProviders) {
    if (name == plugin.name) return &plugin;
  }
  return nullptr;
}

// The plug-in's path: the folder this library (libonyx_core.so) was loaded from, wherever that
// is (the build folder, an installed Python package).
std::filesystem::path plugin_path(const PluginProvider& plugin) {
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(&provider_makers), &info) == 0 || info.dli_fname == nullptr) return {};
  return std::filesystem::path(info.dli_fname).parent_path() / plugin.library;
}

bool plugin_present(const PluginProvider& plugin) {
  std::error_code error;
  const std::filesystem::path path = plugin_path(plugin);
  return !path.empty() && std::filesystem::is_regular_file(path, error);
}

// Loads the plug-in once (its static registrars add the provider and its kernels); throws when
// it is absent or cannot load (its libraries missing).
void load_plugin(const PluginProvider& plugin) {
  const std::filesystem::path path = plugin_path(plugin);
  if (!plugin_present(plugin)) {
    throw_error(ErrorCode::kNotImplemented, "this onyx build has no ", plugin.title, " provider: ",
                plugin.library, " is not beside libonyx_core.so (onyx was built without the CUDA toolkit; "
                "rebuild with nvcc on the PATH or -DONYX_CUDA=ON); providers in this build: ",
                provider_list());
  }
  // Kept loaded for the life of the process: its kernels are in the global registry.
  if (dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) {
    const char* reason = dlerror();
    throw_error(ErrorCode::kRuntimeFailure, "the '", plugin.name, "' provider (", path.string(),
                ") could not be loaded: ", reason ? reason : "unknown reason",
                "; it needs the CUDA 13 runtime, cuBLAS and cuDNN 9 libraries");
  }
  if (!provider_makers().count(plugin.name)) {
    throw_error(ErrorCode::kRuntimeFailure, path.string(), " loaded but registered no '", plugin.name, "' provider");
  }
}

std::string lowercase_provider_name(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

const ProviderRegistrar kCpuRegistrar("cpu", "the host CPU (oneDNN, OpenMP); every node can fall back to it",
                                      [](const ProviderSpec& spec) -> std::shared_ptr<ExecutionProvider> {
                                        if (spec.device_id != 0 || !spec.options.empty()) {
                                          throw_error(ErrorCode::kInvalidArgument,
                                                      "provider 'cpu' takes no device id or options");
                                        }
                                        return std::make_shared<CpuExecutionProvider>();
                                      });

}  // namespace

ProviderRegistrar::ProviderRegistrar(const std::string& name, std::string description, ProviderMaker maker) {
  std::lock_guard lock(providers_mutex());
  provider_makers()[name] = ProviderEntry{std::move(description), std::move(maker)};
}

ProviderSpec ProviderSpec::parse(const std::string& text) {
  ProviderSpec spec;
  std::string head = text;
  size_t comma = text.find(',');
  if (comma != std::string::npos) {
    head = text.substr(0, comma);
    std::string rest = text.substr(comma + 1);
    while (!rest.empty()) {
      size_t next = rest.find(',');
      std::string item = rest.substr(0, next);
      size_t equals = item.find('=');
      if (equals == std::string::npos || equals == 0) {
        throw_error(ErrorCode::kInvalidArgument, "provider '", text, "': option '", item,
                    "' is not of the form key=value");
      }
      spec.options[item.substr(0, equals)] = item.substr(equals + 1);
      rest = next == std::string::npos ? "" : rest.substr(next + 1);
    }
  }
  size_t colon = head.find(':');
  spec.name = lowercase_provider_name(head.substr(0, colon));
  if (colon != std::string::npos) {
    std::string id = head.substr(colon + 1);
    auto [end, error] = std::from_chars(id.data(), id.data() + id.size(), spec.device_id);
    if (id.empty() || error != std::errc() || end != id.data() + id.size() || spec.device_id < 0) {
      throw_error(ErrorCode::kInvalidArgument, "provider '", text, "': device id '", id,
                  "' is not a non-negative integer");
    }
  }
  if (spec.name.empty()) throw_error(ErrorCode::kInvalidArgument, "provider '", text, "' has no name");
  return spec;
}

std::string ProviderSpec::to_string() const {
  std::string text = name + ":" + std::to_string(device_id);
  for (const auto& [key, value] : options) text += "," + key + "=" + value;
  return text;
}

bool load_provider_library(const std::string& name) {
  std::lock_guard lock(providers_mutex());
  if (provider_makers().count(name)) return true;
  const PluginProvider* plugin = plugin_named(name);
  if (!plugin || !plugin_present(*plugin)) return false;
  load_plugin(*plugin);
  return true;
}

std::shared_ptr<ExecutionProvider> make_provider(const ProviderSpec& spec) {
  ProviderMaker maker;
  {
    std::lock_guard lock(providers_mutex());
    if (!provider_makers().count(spec.name)) {
      if (const PluginProvider* plugin = plugin_named(spec.name)) load_plugin(*plugin);
    }
    auto it = provider_makers().find(spec.name);
    if (it == provider_makers().end()) {
      throw_error(ErrorCode::kInvalidArgument, "unknown execution provider '", spec.name,
                  "'; providers in this build: ", provider_list());
    }
    maker = it->second.maker;
  }
  return maker(spec);
}

std::vector<std::shared_ptr<ExecutionProvider>> make_providers(const std::vector<std::string>& specs) {
  std::vector<std::shared_ptr<ExecutionProvider>> providers;
  bool has_cpu = false;
  for (const std::string& text : specs) {
    providers.push_back(make_provider(ProviderSpec::parse(text)));
    has_cpu = has_cpu || providers.back()->device().is_cpu();
  }
  if (!has_cpu) providers.push_back(std::make_shared<CpuExecutionProvider>());
  return providers;
}

std::vector<std::pair<std::string, std::string>> available_providers() {
  std::lock_guard lock(providers_mutex());
  std::map<std::string, std::string> list;
  for (const auto& [name, entry] : provider_makers()) list.emplace(name, entry.description);
  for (const PluginProvider& plugin : kPluginProviders) {
    if (plugin_present(plugin)) list.emplace(plugin.name, plugin.description);  // without loading it
  }
  return {list.begin(), list.end()};
}

}  // namespace onyx
