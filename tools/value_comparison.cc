#include "tools/value_comparison.h"

#include <cmath>
#include <cstring>
#include <set>
#include <sstream>

namespace onyx::cli {

namespace {

std::string index_text(const Shape& shape, int64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return shape_to_string(index);
}

// Reads any float-like element as double; float8/4-bit types are compared bitwise instead.
bool readable_as_double(DataType type) {
  switch (type) {
    case DataType::kFloat:
    case DataType::kDouble:
    case DataType::kFloat16:
    case DataType::kBFloat16:
      return true;
    default:
      return false;
  }
}

std::string value_kind_name(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kNone: return "empty optional";
    case Value::Kind::kTensor: return "tensor";
    case Value::Kind::kSequence: return "sequence";
    case Value::Kind::kMap: return "map";
  }
  return "value";
}

std::optional<std::string> compare_tensors(const Tensor& expected, const Tensor& actual, Tolerance tolerance) {
  if (expected.dtype() != actual.dtype()) {
    return "type " + std::string(dtype_name(actual.dtype())) + ", expected " + std::string(dtype_name(expected.dtype()));
  }
  if (expected.shape() != actual.shape()) {
    return "shape " + shape_to_string(actual.shape()) + ", expected " + shape_to_string(expected.shape());
  }
  if (tolerance.random_values) {
    if (!readable_as_double(actual.dtype())) return std::nullopt;
    for (int64_t i = 0; i < actual.element_count(); ++i) {
      if (!std::isfinite(actual.element_as_double(i))) return "a non-finite value at " + index_text(actual.shape(), i);
    }
    return std::nullopt;
  }
  const int64_t count = expected.element_count();
  if (expected.dtype() == DataType::kString) {
    for (int64_t i = 0; i < count; ++i) {
      if (expected.data<std::string>()[i] != actual.data<std::string>()[i]) {
        return "at " + index_text(expected.shape(), i) + ": \"" + actual.data<std::string>()[i] +
               "\", expected \"" + expected.data<std::string>()[i] + "\"";
      }
    }
    return std::nullopt;
  }
  if (readable_as_double(expected.dtype())) {
    int64_t mismatches = 0;
    int64_t first = -1;
    for (int64_t i = 0; i < count; ++i) {
      double e = expected.element_as_double(i);
      double a = actual.element_as_double(i);
      bool equal;
      if (std::isnan(e) || std::isnan(a)) equal = std::isnan(e) && std::isnan(a);
      else if (std::isinf(e) || std::isinf(a)) equal = e == a;
      else equal = std::fabs(a - e) <= tolerance.atol + tolerance.rtol * std::fabs(e);
      if (!equal && mismatches++ == 0) first = i;
    }
    if (mismatches == 0) return std::nullopt;
    std::ostringstream out;
    out.precision(9);
    out << "at " << index_text(expected.shape(), first) << ": " << actual.element_as_double(first)
        << ", expected " << expected.element_as_double(first) << " (" << mismatches << " of " << count
        << " values differ)";
    return out.str();
  }
  // Integers, bools and packed or 8-bit float types: exact, element by element.
  if (dtype_is_integer(expected.dtype()) || expected.dtype() == DataType::kBool) {
    if (dtype_bits(expected.dtype()) >= 8) {
      for (int64_t i = 0; i < count; ++i) {
        double e = expected.element_as_double(i);
        double a = actual.element_as_double(i);
        if (e != a) {
          std::ostringstream out;
          out << "at " << index_text(expected.shape(), i) << ": " << a << ", expected " << e;
          return out.str();
        }
      }
      return std::nullopt;
    }
  }
  if (std::memcmp(expected.raw_data(), actual.raw_data(), expected.byte_size()) != 0) {
    return "the " + std::string(dtype_name(expected.dtype())) + " bytes differ";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> compare_values(const Value& expected, const Value& actual, Tolerance tolerance) {
  if (expected.is_none() || actual.is_none()) {
    if (expected.is_none() && actual.is_none()) return std::nullopt;
    return expected.is_none() ? "a value, expected an empty optional" : "an empty optional, expected a value";
  }
  if (expected.kind() != actual.kind()) {
    return "a " + value_kind_name(actual) + ", expected a " + value_kind_name(expected);
  }
  if (expected.is_map()) {
    const Map& e = expected.map_entries();
    const Map& a = actual.map_entries();
    if (auto mismatch = compare_tensors(e.keys, a.keys, Tolerance{0, 0, false})) return "map keys: " + *mismatch;
    if (auto mismatch = compare_tensors(e.values, a.values, tolerance)) return "map values: " + *mismatch;
    return std::nullopt;
  }
  if (expected.is_sequence()) {
    const Sequence& e = expected.sequence_items();
    const Sequence& a = actual.sequence_items();
    if (e.size() != a.size()) {
      return "sequence of " + std::to_string(a.size()) + ", expected " + std::to_string(e.size());
    }
    for (size_t i = 0; i < e.size(); ++i) {
      if (auto mismatch = compare_values(e[i], a[i], tolerance)) {
        return "sequence item " + std::to_string(i) + ": " + *mismatch;
      }
    }
    return std::nullopt;
  }
  return compare_tensors(expected.tensor(), actual.tensor(), tolerance);
}

// Random ops draw from generators no reference reproduces (NumPy's in the ONNX tests).
bool has_random_outputs(const Graph& graph) {
  static const std::set<std::string> kRandomOps = {"Bernoulli", "RandomUniform", "RandomNormal",
                                                   "RandomUniformLike", "RandomNormalLike", "Multinomial"};
  for (const Node& node : graph.nodes) {
    if (node.domain.empty() && kRandomOps.count(node.op_type)) return true;
    if (node.domain.empty() && node.op_type == "Dropout" && node.has_input(2)) return true;  // training mode
  }
  return false;
}

}  // namespace onyx::cli
