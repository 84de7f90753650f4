#include "tools/device_option.h"

#include "providers/provider_factory.h"

namespace onyx::cli {

void add_device_option(CLI::App& command, std::string& device) {
  std::string names;
  for (const auto& [name, description] : available_providers()) names += (names.empty() ? "" : ", ") + name;
  command.add_option("--device", device,
                     "where nodes run: cpu (default), cuda[:N] or emulated, options after commas; "
                     "nodes the device cannot run fall back to the CPU (this build: " + names + ")");
}

std::vector<std::shared_ptr<ExecutionProvider>> providers_for_device(const std::string& device) {
  if (device.empty()) return make_providers({"cpu"});
  return make_providers({device});
}

}  // namespace onyx::cli
