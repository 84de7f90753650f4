// Reading the container formats training data comes in: gzip files (the Debian MNIST packages
// ship their IDX files gzipped) and zip archives (NumPy's .npz, stored or deflated, zip64
// included, as numpy.savez writes them). Corrupt or truncated input is an onyx::Error naming the
// file, never a crash.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace onyx::training::data {

// The file's bytes, decompressed when they start with the gzip magic (else as they are).
std::string read_maybe_gzipped(const std::filesystem::path& path);

// zlib's inflate of `input` (window_bits as inflateInit2 takes them: gzip, zlib or raw deflate),
// fed and drained in pieces of at most `chunk` bytes, since zlib counts in 32 bits and entries
// can be 4 GiB or more. Output past `expected_size` (when given) is an error, and the output
// buffer grows only as data comes out. `source` names the data in errors. (The chunk size is a
// parameter so that tests can exercise the piecewise path without 4 GiB of data.)
std::string inflate_data(std::string_view input, int window_bits, std::optional<uint64_t> expected_size,
                         const std::string& source, size_t chunk = std::numeric_limits<uint32_t>::max());

// Every file entry of a zip archive: name -> uncompressed bytes (CRC-checked).
std::map<std::string, std::string> read_zip_archive(const std::filesystem::path& path);

}  // namespace onyx::training::data
