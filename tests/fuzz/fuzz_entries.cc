#include "tests/fuzz/fuzz_entries.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "runtime/common/error.h"
#include "runtime/ir/model_loader.h"
#include "runtime/ir/value_files.h"
#include "runtime/session/inference_session.h"
#include "tools/random_inputs.h"
#include "training/checkpoint.h"
#include "training/data/dataset_formats.h"

namespace onyx::fuzz {

namespace {

// Made-up inputs stay small so that a run measures the code, not the allocator.
constexpr int64_t kFuzzMaxDim = 64;
constexpr int64_t kFuzzMaxInputBytes = int64_t{1} << 20;

// The readers take paths: the bytes go to a scratch file with the right extension, in a folder
// of this process's own that is removed at exit (a fuzz run makes millions of inputs; each
// overwrites the last, and none outlives the process). A crash skips exit handlers, so
// scripts/fuzz.sh also points TMPDIR at a folder it removes itself.
class ScratchDir {
 public:
  ScratchDir()
      : path_(std::filesystem::temp_directory_path() / ("onyx-fuzz-" + std::to_string(getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::filesystem::path fuzz_scratch_file(const std::string& extension, const uint8_t* data, size_t size) {
  static const ScratchDir dir;
  auto path = dir.path() / ("input" + extension);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                static_cast<std::streamsize>(size));
  return path;
}

// Inputs for every required graph input, or none when one cannot be made within the caps.
bool fuzz_make_feeds(const InferenceSession& session, std::map<std::string, Value>& feeds) {
  for (const ValueInfo& input : session.inputs()) {
    if (session.input_is_optional(input.name)) continue;
    const TypeInfo& type = input.type;
    if (type.kind != TypeInfo::Kind::kTensor) return false;
    int64_t elements = 1;
    if (type.shape) {
      for (const Dim& d : *type.shape) {
        int64_t v = d.is_known() ? d.value : 1;
        if (v > kFuzzMaxDim) return false;
        elements *= v;
      }
    }
    if (elements * 16 > kFuzzMaxInputBytes) return false;
    feeds[input.name] = cli::random_value(input.name, type, 1, session.memory_limit());
  }
  return true;
}

}  // namespace

void fuzz_model_run(const uint8_t* data, size_t size) {
  try {
    Model model = load_model_from_bytes(data, size);
    SessionOptions options;
    options.intra_op_threads = 1;
    // Below fuzz.sh's -malloc_limit_mb=2048: a model asking for more must fail with the
    // memory-limit error, which is the behaviour under test, not an out-of-memory report.
    options.memory_limit = size_t{1} << 30;
    InferenceSession session(std::move(model), options);
    std::map<std::string, Value> feeds;
    if (fuzz_make_feeds(session, feeds)) session.run(feeds);
  } catch (const Error&) {
  }
}

void fuzz_tensor_files(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const uint8_t kind = data[0] % 6;
  ++data, --size;
  try {
    switch (kind) {
      case 0: read_value_file(fuzz_scratch_file(".pb", data, size)); break;
      case 1: {
        TypeInfo sequence;
        sequence.kind = TypeInfo::Kind::kSequence;
        read_value_file(fuzz_scratch_file(".pb", data, size), sequence);
        break;
      }
      case 2: {
        TypeInfo optional;
        optional.kind = TypeInfo::Kind::kOptional;
        read_value_file(fuzz_scratch_file(".pb", data, size), optional);
        break;
      }
      case 3: read_value_file(fuzz_scratch_file(".pb", data, size), TypeInfo::map_of(DataType::kInt64, DataType::kFloat)); break;
      case 4: parse_npy(std::string(reinterpret_cast<const char*>(data), size), "fuzz.npy"); break;
      default: training::data::read_npz_dataset(fuzz_scratch_file(".npz", data, size)); break;
    }
  } catch (const Error&) {
  }
}

void fuzz_data_readers(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const uint8_t kind = data[0] % 2;
  ++data, --size;
  try {
    if (kind == 0) {
      training::data::read_csv_dataset(fuzz_scratch_file(".csv", data, size), training::data::LoadOptions{});
    } else {
      training::data::read_idx_file(fuzz_scratch_file("-images-idx3-ubyte", data, size));
    }
  } catch (const Error&) {
  }
}

void fuzz_checkpoint(const uint8_t* data, size_t size) {
  try {
    training::load_checkpoint(fuzz_scratch_file(".onnx", data, size));
  } catch (const Error&) {
  }
}

const std::vector<FuzzTarget>& fuzz_targets() {
  static const std::vector<FuzzTarget> targets = {
      {"model_run", fuzz_model_run},       {"model_mutate", fuzz_model_run},
      {"tensor_files", fuzz_tensor_files}, {"data_readers", fuzz_data_readers},
      {"checkpoint", fuzz_checkpoint},
  };
  return targets;
}

}  // namespace onyx::fuzz
