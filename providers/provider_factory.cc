#include "providers/provider_factory.h"

#include <algorithm>
#include <cctype>
#include <charconv>

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

std::string lowercase_provider_name(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string provider_list() {
  std::string list;
  for (const auto& [name, entry] : provider_makers()) list += (list.empty() ? "" : ", ") + name;
  return list;
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

std::shared_ptr<ExecutionProvider> make_provider(const ProviderSpec& spec) {
  auto it = provider_makers().find(spec.name);
  if (it == provider_makers().end()) {
    if (spec.name == "cuda") {
      throw_error(ErrorCode::kNotImplemented,
                  "this onyx build has no CUDA provider (it was built without the CUDA toolkit; "
                  "rebuild with nvcc on the PATH or -DONYX_CUDA=ON); providers in this build: ",
                  provider_list());
    }
    throw_error(ErrorCode::kInvalidArgument, "unknown execution provider '", spec.name,
                "'; providers in this build: ", provider_list());
  }
  return it->second.maker(spec);
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
  std::vector<std::pair<std::string, std::string>> list;
  for (const auto& [name, entry] : provider_makers()) list.emplace_back(name, entry.description);
  return list;
}

}  // namespace onyx
