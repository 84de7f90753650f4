#include "tools/value_printing.h"

#include <algorithm>
#include <sstream>

#include "runtime/ir/type_info.h"

namespace onyx::cli {

namespace {
std::string element_text(const Tensor& tensor, int64_t i) {
  switch (tensor.dtype()) {
    case DataType::kString: return "\"" + tensor.data<std::string>()[i] + "\"";
    case DataType::kBool: return tensor.data<bool>()[i] ? "true" : "false";
    default: {
      std::ostringstream out;
      out << tensor.element_as_double(i);
      return out.str();
    }
  }
}
}  // namespace

std::string describe_value(const Value& value, int max_values) {
  if (value.is_none()) return "none";
  if (value.is_sequence()) {
    std::string text = "sequence of " + std::to_string(value.sequence_items().size()) + " [";
    for (const Value& item : value.sequence_items()) text += " " + describe_value(item, 3) + ";";
    return text + " ]";
  }
  if (value.is_map()) {
    const Map& map = value.map_entries();
    const int64_t entries = map.keys.element_count();
    std::string text = TypeInfo::map_of(map.keys.dtype(), map.values.dtype()).to_string() + " of " +
                       std::to_string(entries) + " {";
    const int64_t shown = std::min<int64_t>(entries, max_values);
    for (int64_t i = 0; i < shown; ++i) {
      text += std::string(i ? ", " : " ") + element_text(map.keys, i) + ": " + element_text(map.values, i);
    }
    if (shown < entries) text += ", ...";
    return text + " }";
  }
  const Tensor& tensor = value.tensor();
  std::string text = std::string(dtype_name(tensor.dtype())) + " " + shape_to_string(tensor.shape());
  int64_t shown = std::min<int64_t>(tensor.element_count(), max_values);
  bool printable = tensor.device().is_cpu() &&
                   (dtype_is_float(tensor.dtype()) || dtype_is_integer(tensor.dtype()) ||
                    tensor.dtype() == DataType::kBool || tensor.dtype() == DataType::kString) &&
                   dtype_bits(tensor.dtype()) >= 8;
  if (!printable) return text;
  for (int64_t i = 0; i < shown; ++i) {
    try {
      text += " " + element_text(tensor, i);
    } catch (const Error&) {
      break;  // float8 and other types without a numeric reader
    }
  }
  if (shown < tensor.element_count()) text += " ... (" + std::to_string(tensor.element_count()) + " values)";
  return text;
}

}  // namespace onyx::cli
