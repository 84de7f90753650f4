#include "runtime/eager/ops.h"

#include "runtime/eager/op_dispatch.h"

namespace onyx::ops {

std::vector<Tensor> call(const std::string& domain, const std::string& op_type, const std::vector<Tensor>& inputs,
                         const std::vector<Attribute>& attributes, size_t output_count, int64_t opset) {
  const eager::OpHandle& op = eager::OpHandle::intern(domain, op_type, opset);
  std::vector<const Tensor*> pointers;
  pointers.reserve(inputs.size());
  for (const Tensor& input : inputs) pointers.push_back(&input);
  return eager::call(op, pointers, attributes, output_count);
}

Tensor call(const std::string& domain, const std::string& op_type, const std::vector<Tensor>& inputs,
            const std::vector<Attribute>& attributes) {
  return std::move(call(domain, op_type, inputs, attributes, 1).front());
}

}  // namespace onyx::ops
