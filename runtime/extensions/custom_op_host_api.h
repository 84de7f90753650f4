// onyx's side of the custom-op C ABI: the OnyxContext a plug-in's kernel or shape rule
// receives, and the table of host functions (OnyxHostApi) it calls back through. No C++
// exception crosses into the library: each host function catches, records the message on the
// context and returns 0.
#pragma once

#include <string>

#include "onnx_ops/op_schema.h"
#include "providers/kernel.h"
#include "runtime/extensions/onyx_custom_op_abi.h"

// One kernel creation (info), one compute call (kernel) or one shape inference (inference).
struct OnyxContext {
  explicit OnyxContext(const onyx::NodeAttributes& node_attributes) : attributes(node_attributes) {}

  const onyx::NodeAttributes& attributes;
  const onyx::KernelInfo* info = nullptr;
  onyx::KernelContext* kernel = nullptr;
  onyx::InferenceContext* inference = nullptr;
  std::string error;

  // Throws the recorded error (or a generic one) for a call into the library that failed.
  [[noreturn]] void fail(const std::string& what) const;
};

namespace onyx {

const OnyxHostApi& host_api();

}  // namespace onyx
