#include "training/data/archives.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "runtime/common/error.h"
#include "runtime/ir/model_loader.h"

namespace onyx::training::data {

namespace {

// Offsets and sizes read from an archive are untrusted 64-bit values: every range is checked
// without overflowing (offset + length could wrap past 2^64 and pass a naive check).
bool in_range(const std::string& bytes, uint64_t offset, uint64_t length) {
  return offset <= bytes.size() && length <= bytes.size() - offset;
}

uint64_t read_le(const std::string& bytes, uint64_t offset, size_t width, const std::string& source) {
  ONYX_CHECK(in_range(bytes, offset, width), ErrorCode::kInvalidArgument, source, ": truncated zip archive");
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  return value;
}

}  // namespace

std::string inflate_data(std::string_view input, int window_bits, std::optional<uint64_t> expected_size,
                         const std::string& source, size_t chunk) {
  chunk = std::clamp<size_t>(chunk, 1, std::numeric_limits<uInt>::max());
  z_stream stream{};
  ONYX_CHECK(inflateInit2(&stream, window_bits) == Z_OK, ErrorCode::kRuntimeFailure, "zlib: cannot initialise");
  // The output grows as data actually comes out, never to a size the archive merely claims
  // (a lying header must not allocate gigabytes), and never past a claimed size.
  const uint64_t limit = expected_size.value_or(std::numeric_limits<uint64_t>::max());
  std::string out;
  out.resize(static_cast<size_t>(std::min<uint64_t>(limit, input.size() * 2 + 1024)));
  size_t consumed = 0, produced = 0;
  int status = Z_OK;
  std::string failure;
  while (true) {
    if (stream.avail_in == 0 && consumed < input.size()) {
      const size_t n = std::min(chunk, input.size() - consumed);
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data() + consumed));
      stream.avail_in = static_cast<uInt>(n);
      consumed += n;
    }
    if (produced == out.size()) {
      if (produced >= limit) {
        failure = "inflates to more than the " + std::to_string(limit) + " bytes its header says";
        break;
      }
      out.resize(static_cast<size_t>(std::min<uint64_t>(limit, std::max<size_t>(out.size() * 2, 4096))));
    }
    const size_t room = std::min(chunk, out.size() - produced);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    stream.avail_out = static_cast<uInt>(room);
    status = inflate(&stream, Z_NO_FLUSH);
    produced += room - stream.avail_out;
    if (status == Z_STREAM_END) break;
    if (status == Z_BUF_ERROR && stream.avail_in == 0 && consumed == input.size()) {
      failure = "is truncated";
      break;
    }
    if (status != Z_OK && status != Z_BUF_ERROR) {
      failure = std::string("is corrupt") + (stream.msg ? std::string(" (") + stream.msg + ")" : std::string());
      break;
    }
  }
  inflateEnd(&stream);
  if (!failure.empty()) throw_error(ErrorCode::kInvalidArgument, source, ": compressed data ", failure);
  out.resize(produced);
  return out;
}

std::string read_maybe_gzipped(const std::filesystem::path& path) {
  std::string bytes = read_file_bytes(path);
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b) {
    return inflate_data(bytes, 16 + MAX_WBITS, std::nullopt, path.string());  // 16+: gzip header
  }
  return bytes;
}

std::map<std::string, std::string> read_zip_archive(const std::filesystem::path& path) {
  const std::string source = path.string();
  const std::string bytes = read_file_bytes(path);
  // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
  constexpr uint32_t kEndSignature = 0x06054b50;
  size_t end = std::string::npos;
  for (size_t i = bytes.size() >= 22 ? bytes.size() - 22 : std::string::npos;
       i != std::string::npos && bytes.size() - i <= 65557; --i) {
    if (read_le(bytes, i, 4, source) == kEndSignature) {
      end = i;
      break;
    }
    if (i == 0) break;
  }
  ONYX_CHECK(end != std::string::npos, ErrorCode::kInvalidArgument, source, " is not a zip (.npz) archive");
  uint64_t entries = read_le(bytes, end + 10, 2, source);
  uint64_t directory = read_le(bytes, end + 16, 4, source);
  if (directory == 0xFFFFFFFF || entries == 0xFFFF) {
    // zip64: the locator just before the record points at the zip64 end record.
    ONYX_CHECK(end >= 20 && read_le(bytes, end - 20, 4, source) == 0x07064b50, ErrorCode::kInvalidArgument, source,
               ": zip64 archive without its locator");
    uint64_t record = read_le(bytes, end - 20 + 8, 8, source);
    ONYX_CHECK(read_le(bytes, record, 4, source) == 0x06064b50, ErrorCode::kInvalidArgument, source,
               ": corrupt zip64 end record");
    entries = read_le(bytes, record + 32, 8, source);
    directory = read_le(bytes, record + 48, 8, source);
  }
  // Each entry of the central directory takes at least 46 bytes.
  ONYX_CHECK(entries <= bytes.size() / 46, ErrorCode::kInvalidArgument, source, ": zip archive claims ", entries,
             " entries, more than its ", bytes.size(), " bytes can hold");
  std::map<std::string, std::string> files;
  uint64_t at = directory;
  for (uint64_t e = 0; e < entries; ++e) {
    ONYX_CHECK(read_le(bytes, at, 4, source) == 0x02014b50, ErrorCode::kInvalidArgument, source,
               ": corrupt zip central directory");
    const uint64_t method = read_le(bytes, at + 10, 2, source);
    const uint64_t crc = read_le(bytes, at + 16, 4, source);
    uint64_t compressed = read_le(bytes, at + 20, 4, source);
    uint64_t uncompressed = read_le(bytes, at + 24, 4, source);
    const uint64_t name_length = read_le(bytes, at + 28, 2, source);
    const uint64_t extra_length = read_le(bytes, at + 30, 2, source);
    const uint64_t comment_length = read_le(bytes, at + 32, 2, source);
    uint64_t local = read_le(bytes, at + 42, 4, source);
    ONYX_CHECK(in_range(bytes, at + 46, name_length + extra_length + comment_length), ErrorCode::kInvalidArgument,
               source, ": truncated zip archive");
    std::string name = bytes.substr(at + 46, name_length);
    // zip64 extra field: the 8-byte values replace those stored as 0xFFFFFFFF, in this order.
    const uint64_t extra_end = at + 46 + name_length + extra_length;
    for (uint64_t x = at + 46 + name_length; x + 4 <= extra_end;) {
      const uint64_t id = read_le(bytes, x, 2, source), size = read_le(bytes, x + 2, 2, source);
      if (id == 1) {
        uint64_t field = x + 4;
        for (uint64_t* value : {&uncompressed, &compressed, &local}) {
          if (*value != 0xFFFFFFFF) continue;
          ONYX_CHECK(field + 8 <= x + 4 + size, ErrorCode::kInvalidArgument, source, ": zip entry '", name,
                     "' has a short zip64 field");
          *value = read_le(bytes, field, 8, source);
          field += 8;
        }
      }
      x += 4 + size;
    }
    at += 46 + name_length + extra_length + comment_length;
    if (!name.empty() && name.back() == '/') continue;  // a folder
    ONYX_CHECK(read_le(bytes, local, 4, source) == 0x04034b50, ErrorCode::kInvalidArgument, source,
               ": corrupt zip entry '", name, "'");
    const uint64_t data = local + 30 + read_le(bytes, local + 26, 2, source) + read_le(bytes, local + 28, 2, source);
    ONYX_CHECK(in_range(bytes, data, compressed), ErrorCode::kInvalidArgument, source, ": truncated zip entry '",
               name, "' (", compressed, " bytes at offset ", data, " of a ", bytes.size(), "-byte file)");
    std::string content;
    if (method == 0) {
      ONYX_CHECK(compressed == uncompressed, ErrorCode::kInvalidArgument, source, ": stored zip entry '", name,
                 "' has ", compressed, " bytes, its header says ", uncompressed);
      content = bytes.substr(data, compressed);
    } else if (method == 8) {
      content = inflate_data(std::string_view(bytes).substr(data, compressed), -MAX_WBITS, uncompressed,
                             source + ":" + name);
    } else {
      throw_error(ErrorCode::kNotImplemented, source, ": zip entry '", name, "' uses compression method ", method,
                  " (only stored and deflated entries are read)");
    }
    ONYX_CHECK(content.size() == uncompressed, ErrorCode::kInvalidArgument, source, ": zip entry '", name,
               "' has ", content.size(), " bytes, its header says ", uncompressed);
    // crc32_z takes a size_t length (crc32's is 32-bit: it would check only part of a 4 GiB entry).
    ONYX_CHECK(crc32_z(0L, reinterpret_cast<const Bytef*>(content.data()), content.size()) == crc,
               ErrorCode::kInvalidArgument, source, ": zip entry '", name, "' is corrupt (CRC mismatch)");
    files[name] = std::move(content);
  }
  return files;
}

}  // namespace onyx::training::data
