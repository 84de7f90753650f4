#include "runtime/extensions/shared_object_symbols.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include "runtime/ir/model_loader.h"

namespace onyx {

std::vector<std::string> exported_function_symbols(const std::filesystem::path& path) {
  std::string bytes;
  try {
    bytes = read_file_bytes(path);
  } catch (const Error&) {
    return {};  // unreadable: no symbols, as for a file that is not ELF
  }
  auto fits = [&](uint64_t offset, uint64_t size) { return offset <= bytes.size() && size <= bytes.size() - offset; };
  std::vector<std::string> names;
  if (!fits(0, sizeof(Elf64_Ehdr)) || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0 ||
      bytes[EI_CLASS] != ELFCLASS64 || bytes[EI_DATA] != ELFDATA2LSB) {
    return names;
  }
  Elf64_Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof header);
  if (header.e_shentsize != sizeof(Elf64_Shdr) || !fits(header.e_shoff, uint64_t{header.e_shnum} * sizeof(Elf64_Shdr))) {
    return names;
  }
  auto section = [&](size_t index) {
    Elf64_Shdr s;
    std::memcpy(&s, bytes.data() + header.e_shoff + index * sizeof(Elf64_Shdr), sizeof s);
    return s;
  };
  for (size_t i = 0; i < header.e_shnum; ++i) {
    Elf64_Shdr symbols = section(i);
    if (symbols.sh_type != SHT_DYNSYM || symbols.sh_link >= header.e_shnum) continue;
    Elf64_Shdr strings = section(symbols.sh_link);
    if (!fits(symbols.sh_offset, symbols.sh_size) || !fits(strings.sh_offset, strings.sh_size)) continue;
    for (uint64_t k = 0; k + sizeof(Elf64_Sym) <= symbols.sh_size; k += sizeof(Elf64_Sym)) {
      Elf64_Sym symbol;
      std::memcpy(&symbol, bytes.data() + symbols.sh_offset + k, sizeof symbol);
      bool exported = ELF64_ST_TYPE(symbol.st_info) == STT_FUNC && symbol.st_shndx != SHN_UNDEF &&
                      ELF64_ST_BIND(symbol.st_info) != STB_LOCAL &&
                      ELF64_ST_VISIBILITY(symbol.st_other) == STV_DEFAULT;
      if (!exported || symbol.st_name >= strings.sh_size) continue;
      const char* name = bytes.data() + strings.sh_offset + symbol.st_name;
      names.emplace_back(name, strnlen(name, strings.sh_size - symbol.st_name));
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace onyx
