#include "training/checkpoint_file.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string_view>

namespace onyx::training {

namespace {

// Header = protobuf field 14 (ModelProto.metadata_props, length-delimited) holding
// StringStringEntryProto{key = kKey, value = "ONYXCKPT v<4 digits> bytes <20 digits> crc32 <8 hex>"}.
// Every width is fixed, so the header has one size and every varint length is one byte.
constexpr std::string_view kKey = "onyx.checkpoint.header";
constexpr std::string_view kMagic = "ONYXCKPT v";
constexpr size_t kVersionDigits = 4, kLengthDigits = 20, kCrcDigits = 8;
constexpr std::string_view kLengthLabel = " bytes ", kCrcLabel = " crc32 ";
constexpr size_t kValueSize =
    kMagic.size() + kVersionDigits + kLengthLabel.size() + kLengthDigits + kCrcLabel.size() + kCrcDigits;
constexpr size_t kEntrySize = 2 + kKey.size() + 2 + kValueSize;
constexpr size_t kHeaderSize = 2 + kEntrySize;
static_assert(kEntrySize < 128 && kValueSize < 128, "one-byte varint lengths");

// Everything up to the version digits: the same in every checkpoint (the magic, in effect).
std::string fixed_prefix() {
  std::string prefix;
  prefix += static_cast<char>((14 << 3) | 2);
  prefix += static_cast<char>(kEntrySize);
  prefix += static_cast<char>((1 << 3) | 2);
  prefix += static_cast<char>(kKey.size());
  prefix += kKey;
  prefix += static_cast<char>((2 << 3) | 2);
  prefix += static_cast<char>(kValueSize);
  prefix += kMagic;
  return prefix;
}

// The checksum covers the header up to its own digits (so a flipped version or length digit is
// damage too, not a different file) and then the payload.
uint32_t checksum(std::string_view header_before_crc, std::string_view payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(header_before_crc.data()),
              static_cast<uInt>(header_before_crc.size()));
  // zlib takes uInt lengths: feed a payload over 4 GiB in pieces.
  for (size_t offset = 0; offset < payload.size();) {
    const size_t piece = std::min<size_t>(payload.size() - offset, size_t{1} << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(payload.data() + offset), static_cast<uInt>(piece));
    offset += piece;
  }
  return static_cast<uint32_t>(crc);
}

std::string fixed_width(uint64_t value, size_t digits, bool hex) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), hex ? "%0*llx" : "%0*llu", static_cast<int>(digits),
                static_cast<unsigned long long>(value));
  return buffer;
}

// The number in text[offset, offset + digits), all of them digits of `base`; nullopt otherwise.
std::optional<uint64_t> read_fixed(std::string_view text, size_t offset, size_t digits, int base) {
  uint64_t value = 0;
  const char* begin = text.data() + offset;
  auto [end, error] = std::from_chars(begin, begin + digits, value, base);
  if (error != std::errc() || end != begin + digits) return std::nullopt;
  return value;
}

}  // namespace

CheckpointDamaged::CheckpointDamaged(const std::filesystem::path& path, const std::string& reason)
    : Error(ErrorCode::kInvalidArgument, "checkpoint " + path.string() + " is damaged: " + reason) {}

size_t checkpoint_header_size() { return kHeaderSize; }

std::string wrap_checkpoint_payload(const std::string& payload, int64_t version) {
  std::string header = fixed_prefix();
  header += fixed_width(static_cast<uint64_t>(version), kVersionDigits, false);
  header += kLengthLabel;
  header += fixed_width(payload.size(), kLengthDigits, false);
  header += kCrcLabel;
  header += fixed_width(checksum(header, payload), kCrcDigits, true);
  return header + payload;
}

UnwrappedCheckpoint unwrap_checkpoint_file(const std::string& bytes, const std::filesystem::path& path) {
  const std::string prefix = fixed_prefix();
  const std::string_view view(bytes);
  // A file cut inside its header still starts like one: that is damage, not a format 1 file.
  const size_t compared = std::min(prefix.size(), bytes.size());
  if (bytes.size() < kHeaderSize && !bytes.empty() &&
      view.substr(0, compared) == std::string_view(prefix).substr(0, compared)) {
    throw CheckpointDamaged(path, "it is " + std::to_string(bytes.size()) + " bytes long, shorter than its " +
                                      std::to_string(kHeaderSize) + "-byte header (truncated)");
  }
  if (bytes.size() < kHeaderSize || view.substr(0, prefix.size()) != prefix) return {false, 0, bytes};

  size_t offset = prefix.size();
  const auto version = read_fixed(view, offset, kVersionDigits, 10);
  offset += kVersionDigits;
  const bool length_label = view.substr(offset, kLengthLabel.size()) == kLengthLabel;
  offset += kLengthLabel.size();
  const auto length = read_fixed(view, offset, kLengthDigits, 10);
  offset += kLengthDigits;
  const bool crc_label = view.substr(offset, kCrcLabel.size()) == kCrcLabel;
  offset += kCrcLabel.size();
  const size_t crc_offset = offset;
  const auto crc = read_fixed(view, offset, kCrcDigits, 16);
  if (!version || !length_label || !length || !crc_label || !crc) {
    throw CheckpointDamaged(path, "its header is unreadable");
  }
  const size_t payload_size = bytes.size() - kHeaderSize;
  if (*length != payload_size) {
    throw CheckpointDamaged(path, "its header promises " + std::to_string(*length) +
                                      " bytes after the header, the file has " +
                                      std::to_string(payload_size) +
                                      (payload_size < *length ? " (truncated)" : " (extra or missing bytes)"));
  }
  const std::string_view payload = view.substr(kHeaderSize);
  const uint32_t actual = checksum(view.substr(0, crc_offset), payload);
  if (actual != *crc) {
    throw CheckpointDamaged(path, "checksum mismatch (CRC-32 " + fixed_width(actual, kCrcDigits, true) +
                                      ", the header says " + fixed_width(*crc, kCrcDigits, true) +
                                      "): the file was changed after it was written");
  }
  return {true, static_cast<int64_t>(*version), payload};
}

}  // namespace onyx::training
