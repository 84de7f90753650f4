#include "training/data/archives.h"

#include <zlib.h>

#include <cstring>

#include "runtime/common/error.h"
#include "runtime/ir/model_loader.h"

namespace onyx::training::data {

namespace {

std::string inflate_bytes(const char* data, size_t size, int window_bits, size_t expected_size,
                          const std::string& source) {
  z_stream stream{};
  ONYX_CHECK(inflateInit2(&stream, window_bits) == Z_OK, ErrorCode::kRuntimeFailure, "zlib: cannot initialise");
  std::string out;
  out.resize(expected_size ? expected_size : size * 4 + 1024);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  stream.avail_in = static_cast<uInt>(size);
  int status = Z_OK;
  size_t produced = 0;
  while (status != Z_STREAM_END) {
    if (produced == out.size()) out.resize(out.size() * 2);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    stream.avail_out = static_cast<uInt>(out.size() - produced);
    status = inflate(&stream, Z_NO_FLUSH);
    produced = out.size() - stream.avail_out;
    if (status == Z_BUF_ERROR && stream.avail_in == 0) break;  // input ended early
    if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) break;
  }
  inflateEnd(&stream);
  if (status != Z_STREAM_END) {
    throw_error(ErrorCode::kInvalidArgument, source, ": corrupt or truncated compressed data",
                stream.msg ? std::string(" (") + stream.msg + ")" : std::string());
  }
  out.resize(produced);
  return out;
}

uint64_t read_le(const std::string& bytes, size_t offset, size_t width, const std::string& source) {
  ONYX_CHECK(offset + width <= bytes.size(), ErrorCode::kInvalidArgument, source, ": truncated zip archive");
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  return value;
}

}  // namespace

std::string read_maybe_gzipped(const std::filesystem::path& path) {
  std::string bytes = read_file_bytes(path);
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b) {
    return inflate_bytes(bytes.data(), bytes.size(), 16 + MAX_WBITS, 0, path.string());  // 16+: gzip header
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
  std::map<std::string, std::string> files;
  size_t at = directory;
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
    ONYX_CHECK(at + 46 + name_length <= bytes.size(), ErrorCode::kInvalidArgument, source, ": truncated zip archive");
    std::string name = bytes.substr(at + 46, name_length);
    // zip64 extra field: the 8-byte values replace those stored as 0xFFFFFFFF, in this order.
    for (size_t x = at + 46 + name_length; x + 4 <= at + 46 + name_length + extra_length;) {
      const uint64_t id = read_le(bytes, x, 2, source), size = read_le(bytes, x + 2, 2, source);
      if (id == 1) {
        size_t field = x + 4;
        for (uint64_t* value : {&uncompressed, &compressed, &local}) {
          if (*value == 0xFFFFFFFF) *value = read_le(bytes, field, 8, source), field += 8;
        }
      }
      x += 4 + size;
    }
    at += 46 + name_length + extra_length + comment_length;
    if (!name.empty() && name.back() == '/') continue;  // a folder
    ONYX_CHECK(read_le(bytes, local, 4, source) == 0x04034b50, ErrorCode::kInvalidArgument, source,
               ": corrupt zip entry '", name, "'");
    const size_t data = local + 30 + read_le(bytes, local + 26, 2, source) + read_le(bytes, local + 28, 2, source);
    ONYX_CHECK(data + compressed <= bytes.size(), ErrorCode::kInvalidArgument, source, ": truncated zip entry '",
               name, "'");
    std::string content;
    if (method == 0) {
      content = bytes.substr(data, compressed);
    } else if (method == 8) {
      content = inflate_bytes(bytes.data() + data, compressed, -MAX_WBITS, uncompressed, source + ":" + name);
    } else {
      throw_error(ErrorCode::kNotImplemented, source, ": zip entry '", name, "' uses compression method ", method,
                  " (only stored and deflated entries are read)");
    }
    ONYX_CHECK(content.size() == uncompressed &&
                   crc32(0L, reinterpret_cast<const Bytef*>(content.data()), static_cast<uInt>(content.size())) == crc,
               ErrorCode::kInvalidArgument, source, ": zip entry '", name, "' is corrupt (size or CRC mismatch)");
    files[name] = std::move(content);
  }
  return files;
}

}  // namespace onyx::training::data
