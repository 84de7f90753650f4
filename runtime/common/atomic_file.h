// Writing a file so that readers (and a process killed half-way) only ever see the old or the
// whole new content: models, checkpoints, tensor files and reports all go through here.
#pragma once

#include <filesystem>
#include <string>

namespace onyx {

// Writes `bytes` to `path`: a temporary file of its own in the same folder (mkstemp:
// "<path>.tmpXXXXXX", so concurrent writers never share one), flushed to disk (fsync), renamed
// over `path`, and the folder entry synced too. A file `path` already had keeps its permissions;
// a new one gets 0666 less the umask, as a plain open would. On failure nothing but the old file
// remains and an onyx::Error says what failed.
void write_file_atomically(const std::filesystem::path& path, const std::string& bytes);

}  // namespace onyx
