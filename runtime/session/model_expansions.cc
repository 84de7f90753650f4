#include "runtime/session/model_expansions.h"

#include <utility>
#include <vector>

namespace onyx {

namespace {
std::vector<std::pair<std::string, ModelExpansion>>& expansions() {
  static std::vector<std::pair<std::string, ModelExpansion>> list;
  return list;
}
}  // namespace

void register_model_expansion(const std::string& name, ModelExpansion expansion) {
  expansions().emplace_back(name, std::move(expansion));
}

void apply_model_expansions(Model& model) {
  for (const auto& [name, expansion] : expansions()) expansion(model);
}

}  // namespace onyx
