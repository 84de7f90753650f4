#include "providers/cpu/control_flow/subgraph_call.h"

#include <algorithm>

#include "providers/cpu/tensor/copy.h"
#include "runtime/session/subgraph_compiler.h"

namespace onyx {

SubgraphCall::SubgraphCall(const KernelInfo& info, const std::string& attribute, std::vector<bool> outputs_to_host)
    : graph_(&info.attributes().require_graph(attribute)),
      plan_(info.subgraph_compiler().compile(*graph_, std::move(outputs_to_host))) {
  const auto& names = plan_->input_names();
  const auto& implicit = info.implicit_inputs();
  for (size_t i = graph_->inputs.size(); i < names.size(); ++i) {
    auto it = std::find(implicit.begin(), implicit.end(), names[i]);
    if (it == implicit.end()) {
      throw_error(ErrorCode::kInvalidModel, info.node().describe(), ": subgraph '", attribute,
                  "' reads '", names[i], "', which is not visible from the node");
    }
    outer_value_inputs_.push_back(info.input_count() + static_cast<size_t>(it - implicit.begin()));
  }
}

void SubgraphCall::bind_outer_values(const KernelContext& context, std::vector<Value>& inputs) const {
  size_t first = formal_input_count();
  for (size_t k = 0; k < outer_value_inputs_.size(); ++k) {
    inputs[first + k] = context.input_value(outer_value_inputs_[k]);
  }
}

bool scalar_truth(const Tensor& tensor, const char* what) {
  if (tensor.element_count() != 1) {
    throw_error(ErrorCode::kInvalidArgument, what, " must hold exactly one element, got shape ",
                shape_to_string(tensor.shape()));
  }
  return tensor.element_as_double(0) != 0.0;
}

Tensor slice_along_axis(const Tensor& tensor, int64_t axis, int64_t index, int threads) {
  Shape shape = tensor.shape();
  Shape item_shape = shape;
  item_shape.erase(item_shape.begin() + axis);
  Tensor item(tensor.dtype(), item_shape);
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size() - 1; d-- > 0;) strides[d] = strides[d + 1] * shape[d + 1];
  std::vector<int64_t> src_strides = strides;
  src_strides.erase(src_strides.begin() + axis);
  std::vector<int64_t> dst_strides(item_shape.size(), 1);
  for (size_t d = item_shape.size(); d-- > 1;) dst_strides[d - 1] = dst_strides[d] * item_shape[d];
  size_t element_bytes = static_cast<size_t>(dtype_bits(tensor.dtype()) / 8);
  const char* source = static_cast<const char*>(tensor.raw_data()) + index * strides[static_cast<size_t>(axis)] * element_bytes;
  strided_copy(tensor.dtype(), source, item.mutable_raw_data(), item_shape, src_strides, dst_strides, threads);
  return item;
}

Tensor stack_along_axis(const std::vector<Tensor>& items, int64_t axis, Allocator& allocator, int threads) {
  const Tensor& first = items.front();
  Shape shape = first.shape();
  shape.insert(shape.begin() + axis, static_cast<int64_t>(items.size()));
  Tensor stacked(first.dtype(), shape, allocator);
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size() - 1; d-- > 0;) strides[d] = strides[d + 1] * shape[d + 1];
  std::vector<int64_t> dst_strides = strides;
  dst_strides.erase(dst_strides.begin() + axis);
  std::vector<int64_t> src_strides(first.rank(), 1);
  for (size_t d = first.rank(); d-- > 1;) src_strides[d - 1] = src_strides[d] * first.dim(d);
  size_t element_bytes = static_cast<size_t>(dtype_bits(first.dtype()) / 8);
  for (size_t k = 0; k < items.size(); ++k) {
    if (items[k].shape() != first.shape() || items[k].dtype() != first.dtype()) {
      throw_error(ErrorCode::kRuntimeFailure, "scan output ", k, " has shape ", shape_to_string(items[k].shape()),
                  ", earlier iterations gave ", shape_to_string(first.shape()));
    }
    char* destination = static_cast<char*>(stacked.mutable_raw_data()) +
                        static_cast<int64_t>(k) * strides[static_cast<size_t>(axis)] * static_cast<int64_t>(element_bytes);
    strided_copy(first.dtype(), items[k].raw_data(), destination, first.shape(), src_strides, dst_strides, threads);
  }
  return stacked;
}

}  // namespace onyx
