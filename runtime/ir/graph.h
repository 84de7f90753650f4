// The in-memory model: graphs of nodes connected by value names, as in ONNX. The loader
// builds it from a ModelProto, the optimizer rewrites it, the session compiles it into a plan,
// and the saver turns it back into a ModelProto.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/ir/attribute.h"
#include "runtime/ir/type_info.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

struct ValueInfo {
  std::string name;
  TypeInfo type;
  std::string doc;
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;                // "" for the default ONNX domain
  std::vector<std::string> inputs;   // "" marks an omitted optional input
  std::vector<std::string> outputs;  // "" marks an omitted optional output
  std::vector<Attribute> attributes;
  std::string doc;

  const Attribute* find_attribute(const std::string& attribute_name) const;
  bool has_input(size_t index) const { return index < inputs.size() && !inputs[index].empty(); }
  // "node 'conv1' (Conv, domain ai.onnx)": how errors name a node.
  std::string describe() const;
};

struct Graph {
  std::string name;
  std::string doc;
  std::vector<Node> nodes;
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::vector<ValueInfo> value_info;        // declared or inferred types of intermediate values
  std::map<std::string, Tensor> initializers;
  // Initializer names in model order (saving keeps the order stable).
  std::vector<std::string> initializer_order;

  const ValueInfo* find_input(const std::string& value_name) const;
  const ValueInfo* find_value_info(const std::string& value_name) const;
  void set_initializer(const std::string& value_name, Tensor tensor);
  // Total element count and bytes of the initializers, subgraphs included.
  int64_t parameter_count() const;
  int64_t parameter_bytes() const;
};

struct OperatorSetId {
  std::string domain;
  int64_t version = 0;
};

struct Model {
  int64_t ir_version = 0;
  std::string producer_name;
  std::string producer_version;
  std::string domain;
  int64_t model_version = 0;
  std::string doc;
  std::map<std::string, int64_t> opsets;  // domain ("" = ai.onnx) -> version
  std::vector<std::pair<std::string, std::string>> metadata;
  Graph graph;

  // Opset of `domain` ("ai.onnx" and "" are one domain); nullopt if the model does not import it.
  std::optional<int64_t> opset_for(const std::string& domain) const;
};

// Domain spelling used in messages: "ai.onnx" for the default domain.
std::string display_domain(const std::string& domain);
// "" and "ai.onnx" are the same domain; every other name stays as it is.
std::string canonical_domain(const std::string& domain);

}  // namespace onyx
