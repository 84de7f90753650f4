// A node attribute: one of ONNX's attribute kinds. Graph-valued attributes (the bodies of
// Loop, If and Scan) are IR subgraphs, owned by the attribute.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "runtime/ir/type_info.h"
#include "runtime/tensor/tensor.h"

namespace onyx {

struct Graph;

struct Attribute {
  // Values are AttributeProto.AttributeType codes.
  enum class Kind {
    kUndefined = 0, kFloat = 1, kInt = 2, kString = 3, kTensor = 4, kGraph = 5,
    kSparseTensor = 11, kTypeProto = 13,
    kFloats = 6, kInts = 7, kStrings = 8, kTensors = 9, kGraphs = 10, kSparseTensors = 12,
    kTypeProtos = 14,
  };

  std::string name;
  Kind kind = Kind::kUndefined;
  float f = 0;
  int64_t i = 0;
  std::string s;  // also holds bytes
  Tensor t;
  std::shared_ptr<Graph> g;
  TypeInfo tp;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Tensor> tensors;
  std::vector<std::shared_ptr<Graph>> graphs;
  std::vector<TypeInfo> type_protos;
  // Set inside a function body: the attribute takes the value of the caller's attribute.
  std::string ref_attr_name;
};

const char* attribute_kind_name(Attribute::Kind kind);

}  // namespace onyx
