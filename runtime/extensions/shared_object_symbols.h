// The function symbols a shared library exports, read from its ELF dynamic symbol table. Used
// only to say what a plug-in offers when it lacks onyx's entry symbol.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace onyx {

// Sorted names of the defined, globally visible functions; empty when the file is not a
// 64-bit little-endian ELF file or cannot be read.
std::vector<std::string> exported_function_symbols(const std::filesystem::path& path);

}  // namespace onyx
