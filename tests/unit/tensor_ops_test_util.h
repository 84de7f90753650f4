// Helpers of the tensor-op unit tests: build one node, run it on the CPU, compare tensors.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/ir/attribute_builders.h"
#include "runtime/session/node_call.h"

namespace onyx::tensor_test {

inline Node make_node(const std::string& op, size_t inputs, size_t outputs,
                      std::vector<Attribute> attributes = {}) {
  Node node;
  node.name = "n";
  node.op_type = op;
  for (size_t i = 0; i < inputs; ++i) node.inputs.push_back("in" + std::to_string(i));
  for (size_t i = 0; i < outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
  node.attributes = std::move(attributes);
  return node;
}

// Runs `op` at `opset` and returns output 0 as a tensor.
inline Tensor run1(const std::string& op, int64_t opset, const std::vector<Value>& inputs,
                   std::vector<Attribute> attributes = {}) {
  Node node = make_node(op, inputs.size(), 1, std::move(attributes));
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].is_none()) node.inputs[i] = "";
  }
  return call_node_on_cpu(node, opset, inputs).at(0).tensor();
}

inline Tensor i64(Shape shape, std::vector<int64_t> values) {
  return Tensor::from_vector<int64_t>(std::move(shape), values);
}
inline Tensor f32(Shape shape, std::vector<float> values) {
  return Tensor::from_vector<float>(std::move(shape), values);
}
inline Tensor ints(std::vector<int64_t> values) {
  Shape shape{static_cast<int64_t>(values.size())};
  return Tensor::from_vector<int64_t>(shape, values);
}

template <typename T>
void expect_tensor(const Tensor& t, const Shape& shape, const std::vector<T>& values) {
  ASSERT_EQ(t.dtype(), dtype_of<T>());
  ASSERT_EQ(shape_to_string(t.shape()), shape_to_string(shape));
  std::vector<T> got(t.values<T>().begin(), t.values<T>().end());
  EXPECT_EQ(got, values);
}

// Runs `fn` and checks it throws an onyx::Error whose message contains every fragment.
template <typename Fn>
void expect_error(Fn&& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected an onyx::Error";
  } catch (const Error& e) {
    for (const std::string& f : fragments) {
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos)
          << "message '" << e.what() << "' lacks '" << f << "'";
    }
  }
}

}  // namespace onyx::tensor_test
