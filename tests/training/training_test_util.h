// Helpers shared by the training tests: slicing stacked reference arrays and comparing tensors.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "runtime/common/error.h"
#include "runtime/tensor/tensor.h"

namespace onyx::testing {

// A folder of this test process's own under the temporary directory ("<prefix><pid>"), created
// on first use and removed when the process exits (ctest runs each test in a process of its
// own, so without the removal every run would leave one folder per test behind).
inline std::filesystem::path scratch_folder(const std::string& prefix) {
  struct RemovedAtExit {
    std::filesystem::path path;
    ~RemovedAtExit() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  };
  static std::map<std::string, RemovedAtExit> folders;
  RemovedAtExit& folder = folders[prefix];
  if (folder.path.empty()) {
    folder.path = std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()));
  }
  std::filesystem::create_directories(folder.path);
  return folder.path;
}

// Entry `index` along the first axis of `stacked` (a copy).
inline Tensor slice_first(const Tensor& stacked, int64_t index) {
  Shape shape(stacked.shape().begin() + 1, stacked.shape().end());
  Tensor out(stacked.dtype(), shape);
  const size_t bytes = out.byte_size();
  std::memcpy(out.mutable_raw_data(), static_cast<const char*>(stacked.raw_data()) + bytes * index, bytes);
  return out;
}

// Elementwise |actual - expected| <= atol + rtol |expected| over any real tensors.
inline ::testing::AssertionResult tensors_close(const Tensor& actual, const Tensor& expected, double rtol,
                                                double atol) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape " << shape_to_string(actual.shape()) << " vs expected "
                                         << shape_to_string(expected.shape());
  }
  for (int64_t i = 0; i < actual.element_count(); ++i) {
    const double a = actual.element_as_double(i), e = expected.element_as_double(i);
    if (!(std::abs(a - e) <= atol + rtol * std::abs(e))) {
      return ::testing::AssertionFailure() << "element " << i << ": " << a << " vs expected " << e;
    }
  }
  return ::testing::AssertionSuccess();
}

inline std::string error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

}  // namespace onyx::testing
