// The checkpoint file's envelope: a fixed-size header (magic, format version, payload length,
// CRC-32) in front of the payload, checked before a byte of the payload is parsed, so a file cut
// short by a crash or with one flipped byte is refused as damaged instead of loading wrong
// values. The header is itself one protobuf field (a ModelProto metadata_props entry), so the
// whole file stays a ModelProto that onnx.load and Netron open.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "runtime/common/error.h"

namespace onyx::training {

// A checkpoint whose bytes are not what was written (truncated, overwritten, flipped, foreign).
// Distinct from other load errors (a checkpoint of another model) so --resume can fall back to
// an older checkpoint on damage only.
class CheckpointDamaged : public Error {
 public:
  CheckpointDamaged(const std::filesystem::path& path, const std::string& reason);
};

// header + payload, the header recording `version`.
std::string wrap_checkpoint_payload(const std::string& payload, int64_t version);

struct UnwrappedCheckpoint {
  bool has_header = false;
  int64_t version = 0;
  std::string_view payload;  // a view into the bytes given
};
// Checks the header and checksum of `bytes` (the contents of `path`, named in errors) and returns
// the payload. Bytes that do not start with the header's fixed part come back whole with
// has_header false: format 1 files predate the header, so the caller decides between those and
// damage.
// Throws CheckpointDamaged for a header that is cut short or unreadable, a length that is not the
// file's, or a checksum mismatch; the version is returned unchecked (the checksum covers it).
UnwrappedCheckpoint unwrap_checkpoint_file(const std::string& bytes, const std::filesystem::path& path);

// The header's size in bytes (tests cut and flip around it).
size_t checkpoint_header_size();

}  // namespace onyx::training
