#include "runtime/ir/type_info.h"

namespace onyx {

TypeInfo TypeInfo::tensor_of_shape(DataType type, const Shape& shape) {
  std::vector<Dim> dims;
  dims.reserve(shape.size());
  for (int64_t d : shape) dims.push_back(Dim::known(d));
  return tensor(type, std::move(dims));
}

bool TypeInfo::has_static_shape() const {
  if (kind != Kind::kTensor || !shape) return false;
  for (const Dim& d : *shape) {
    if (!d.is_known()) return false;
  }
  return true;
}

Shape TypeInfo::static_shape() const {
  Shape out;
  for (const Dim& d : *shape) out.push_back(d.value);
  return out;
}

std::string TypeInfo::to_string() const {
  switch (kind) {
    case Kind::kUnknown: return "?";
    case Kind::kSequence: return "seq(" + (element ? element->to_string() : "?") + ")";
    case Kind::kOptional: return "optional(" + (element ? element->to_string() : "?") + ")";
    case Kind::kMap: {
      // A map's values are scalars: their type reads as ONNX writes it, without a shape.
      std::string value = !element ? "?"
                          : element->is_tensor() ? "tensor(" + std::string(dtype_name(element->elem_type)) + ")"
                                                 : element->to_string();
      return "map(" + std::string(dtype_name(elem_type)) + "," + value + ")";
    }
    case Kind::kTensor:
    case Kind::kSparseTensor: {
      std::string text = elem_type == DataType::kUndefined ? "?" : std::string(dtype_name(elem_type));
      if (kind == Kind::kSparseTensor) text = "sparse " + text;
      if (!shape) return text + "[...]";
      text += "[";
      for (size_t i = 0; i < shape->size(); ++i) {
        if (i) text += ",";
        const Dim& d = (*shape)[i];
        text += d.is_known() ? std::to_string(d.value) : (d.symbol.empty() ? "?" : d.symbol);
      }
      return text + "]";
    }
  }
  return "?";
}

}  // namespace onyx
