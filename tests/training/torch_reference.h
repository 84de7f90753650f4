// Reference results from PyTorch for the training tests: tests/training/torch_reference.py run
// once with Debian's python3-torch (or $ONYX_TORCH_PYTHON) into .cache/torch_reference/<hash of
// the script>, so editing the script recomputes them. Never numbers onyx produced.
#pragma once

#include <filesystem>
#include <string>

#include "runtime/tensor/tensor.h"

namespace onyx::testing {

// The folder with the reference files; runs the script the first time (throws if it fails).
const std::filesystem::path& torch_reference_dir();
// Reads "<dir>/<name>.npy".
Tensor torch_reference(const std::string& name);

}  // namespace onyx::testing
