// Reading the container formats training data comes in: gzip files (the Debian MNIST packages
// ship their IDX files gzipped) and zip archives (NumPy's .npz, stored or deflated, zip64
// included, as numpy.savez writes them). Corrupt or truncated input is an onyx::Error naming the
// file, never a crash.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace onyx::training::data {

// The file's bytes, decompressed when they start with the gzip magic (else as they are).
std::string read_maybe_gzipped(const std::filesystem::path& path);

// Every file entry of a zip archive: name -> uncompressed bytes (CRC-checked).
std::map<std::string, std::string> read_zip_archive(const std::filesystem::path& path);

}  // namespace onyx::training::data
