// Custom-op plug-in libraries: a shared library that exports the entry of
// onyx_custom_op_abi.h is loaded by path (dlopen), its ABI version is checked, and the ops it
// declares become CustomOpDefinitions whose kernels, shape rules and gradients call into it.
// The library stays loaded while anything made from it lives: each definition, each kernel
// and each registry holding them keeps a shared handle, and the last one closes it.
//
// Each failure gives one message saying what was looked for and what was found: a missing
// file (the absolute path tried), a file that is not a loadable library (the loader's reason),
// a missing entry symbol (the symbols the library does export), an ABI mismatch (both versions
// and struct sizes), or ops the library failed to register (its own message).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "runtime/extensions/op_registry.h"

namespace onyx {

struct CustomOpLibrary {
  std::filesystem::path path;
  std::string name;                   // as the library calls itself
  std::shared_ptr<const void> handle;  // closes the library when the last holder lets go
  std::vector<CustomOpDefinition> ops;  // each holds `handle`
};

CustomOpLibrary load_custom_op_library(const std::filesystem::path& path);

// Loads the library and adds its ops to `registry`, which then keeps it loaded.
void register_custom_op_library(OpRegistry& registry, const std::filesystem::path& path);

// A registry over `parent` with `ops` and the ops of `libraries`: what a session (inference or
// training) builds from its options.
std::shared_ptr<OpRegistry> make_op_registry(std::vector<CustomOpDefinition> ops,
                                             const std::vector<std::filesystem::path>& libraries,
                                             const OpRegistry& parent = OpRegistry::global());

}  // namespace onyx
