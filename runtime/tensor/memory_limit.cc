#include "runtime/tensor/memory_limit.h"

#include <unistd.h>

#include "runtime/common/error.h"

namespace onyx {

size_t physical_memory_bytes() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<size_t>(pages) * static_cast<size_t>(page_size);
}

size_t default_memory_limit() {
  static const size_t limit = physical_memory_bytes() > 0 ? physical_memory_bytes() : size_t{1} << 62;
  return limit;
}

namespace {
// True when `shape` of `type` fits in `limit` bytes (or has a symbolic/zero dim).
bool within_limit(DataType type, const Shape& shape, size_t limit) {
  int64_t count = 1;
  bool overflows = false;
  for (int64_t dim : shape) {
    if (dim <= 0) return true;
    overflows = overflows || __builtin_mul_overflow(count, dim, &count);
  }
  std::optional<size_t> bytes = overflows ? std::nullopt : storage_bytes(type, count);
  return bytes && *bytes <= limit;
}
}  // namespace

void check_output_within_limit(size_t output_index, DataType type, const Shape& shape, size_t limit) {
  // Every kernel output passes here: the message is built only when the check fails.
  if (within_limit(type, shape, limit)) return;
  check_tensor_within_limit("output " + std::to_string(output_index), type, shape, limit);
}

void check_tensor_within_limit(std::string_view what, DataType type, const Shape& shape, size_t limit) {
  if (within_limit(type, shape, limit)) return;
  throw_error(ErrorCode::kRuntimeFailure, what, " needs ", exact_storage_bytes(type, shape),
              " bytes, over the limit of ", limit, " bytes (the session's memory limit, --memory-limit)");
}

}  // namespace onyx
