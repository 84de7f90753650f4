#include "training/tensorboard_writer.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>

#include "runtime/common/error.h"

namespace onyx::training {

namespace {

// The reflected table of the Castagnoli polynomial (0x1EDC6F41, reversed 0x82F63B78).
std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
    table[i] = crc;
  }
  return table;
}

// TFRecord stores CRCs rotated and offset, so that a CRC of data holding CRCs stays strong.
uint32_t masked_crc32c(std::string_view bytes) {
  const uint32_t crc = crc32c(bytes);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

void append_little_endian(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xffu);
}

// Protobuf wire format: a field's key is (number << 3 | wire type); varints 7 bits a byte.
void append_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

void append_key(std::string& out, int field, int wire_type) {
  append_varint(out, static_cast<uint64_t>(field << 3 | wire_type));
}

void append_bytes_field(std::string& out, int field, const std::string& bytes) {
  append_key(out, field, 2);
  append_varint(out, bytes.size());
  out += bytes;
}

// Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
std::string event_header(int64_t step) {
  const double wall_time =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  uint64_t bits = 0;
  std::memcpy(&bits, &wall_time, sizeof(bits));
  std::string event;
  append_key(event, 1, 1);
  append_little_endian(event, bits, 8);
  append_key(event, 2, 0);
  append_varint(event, static_cast<uint64_t>(step));
  return event;
}

// Summary { repeated Value value = 1; }  Value { string tag = 1; float simple_value = 2; }
std::string summary_of(const std::vector<std::pair<std::string, double>>& scalars) {
  std::string summary;
  for (const auto& [tag, value] : scalars) {
    std::string entry;
    append_bytes_field(entry, 1, tag);
    const float single = static_cast<float>(value);
    uint32_t bits = 0;
    std::memcpy(&bits, &single, sizeof(bits));
    append_key(entry, 2, 5);
    append_little_endian(entry, bits, 4);
    append_bytes_field(summary, 1, entry);
  }
  return summary;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace

uint32_t crc32c(std::string_view bytes) {
  static const std::array<uint32_t, 256> table = make_crc32c_table();
  uint32_t crc = 0xffffffffu;
  for (unsigned char byte : bytes) crc = table[(crc ^ byte) & 0xffu] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

TensorBoardWriter::TensorBoardWriter(const std::filesystem::path& folder) {
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  ONYX_CHECK(!error && std::filesystem::is_directory(folder), ErrorCode::kInvalidArgument,
             "cannot create the TensorBoard folder '", folder.string(), "'",
             error ? ": " + error.message() : std::string());
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  // Two writers started in the same second (a test, or a resumed run) must not share a file.
  std::string name = "events.out.tfevents." + std::to_string(seconds) + "." + host_name();
  path_ = folder / name;
  for (int suffix = 1; std::filesystem::exists(path_); ++suffix) path_ = folder / (name + "." + std::to_string(suffix));
  file_.open(path_, std::ios::binary | std::ios::app);
  ONYX_CHECK(file_.is_open(), ErrorCode::kInvalidArgument, "cannot write TensorBoard events in '", folder.string(),
             "': ", std::strerror(errno));
  std::string version = event_header(0);
  append_bytes_field(version, 3, "brain.Event:2");
  write_record(version);
}

void TensorBoardWriter::write_scalars(const std::vector<std::pair<std::string, double>>& scalars, int64_t step) {
  std::string event = event_header(step);
  append_bytes_field(event, 5, summary_of(scalars));
  write_record(event);
}

void TensorBoardWriter::write_record(const std::string& event) {
  std::string header;
  append_little_endian(header, event.size(), 8);
  std::string record = header;
  append_little_endian(record, masked_crc32c(header), 4);
  record += event;
  append_little_endian(record, masked_crc32c(event), 4);
  file_.write(record.data(), static_cast<std::streamsize>(record.size()));
  file_.flush();
  ONYX_CHECK(file_.good(), ErrorCode::kRuntimeFailure, "cannot write the TensorBoard events to '", path_.string(),
             "' (disk full?)");
}

}  // namespace onyx::training
