#include "onnx_ops/node_attributes.h"

#include <cmath>
#include <limits>

namespace onyx {

namespace {

std::string join_ints(const std::vector<int64_t>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size() && i < 16; ++i) text += (i ? ", " : "") + std::to_string(values[i]);
  if (values.size() > 16) text += ", ... (" + std::to_string(values.size()) + " values)";
  return text + "]";
}

// A user's string in a message: quoted, printable, and short.
std::string quoted(const std::string& value) {
  std::string text = "'";
  for (size_t i = 0; i < value.size() && i < 64; ++i) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    text += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?';
  }
  return text + (value.size() > 64 ? "...'" : "'");
}

std::string bounds(int64_t lo, int64_t hi) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (lo == 0 && hi == 1) return "0 or 1";
  if (hi == kMax) return ">= " + std::to_string(lo);
  return "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
}

}  // namespace

int64_t NodeAttributes::get_int_in_range(const std::string& name, int64_t fallback, int64_t lo,
                                         int64_t hi) const {
  const int64_t value = get_int(name, fallback);
  if (value < lo || value > hi) {
    throw_error(ErrorCode::kInvalidModel, "attribute ", name, " must be ", bounds(lo, hi), ", got ", value);
  }
  return value;
}

int64_t NodeAttributes::get_int_at_least(const std::string& name, int64_t fallback, int64_t lo) const {
  return get_int_in_range(name, fallback, lo, std::numeric_limits<int64_t>::max());
}

bool NodeAttributes::get_flag(const std::string& name, bool fallback) const {
  return get_int_in_range(name, fallback ? 1 : 0, 0, 1) != 0;
}

float NodeAttributes::get_float_above(const std::string& name, float fallback, float lo) const {
  const float value = get_float(name, fallback);
  if (!(value > lo) || !std::isfinite(value)) {
    throw_error(ErrorCode::kInvalidModel, "attribute ", name, " must be finite and > ", lo, ", got ", value);
  }
  return value;
}

std::vector<int64_t> NodeAttributes::get_ints_at_least(const std::string& name, int64_t lo) const {
  std::vector<int64_t> values = get_ints(name);
  for (int64_t value : values) {
    if (value < lo) {
      throw_error(ErrorCode::kInvalidModel, "attribute ", name, " must hold values >= ", lo, ", got ",
                  join_ints(values));
    }
  }
  return values;
}

std::string NodeAttributes::get_enum_string(const std::string& name, const std::string& fallback,
                                            const std::vector<std::string>& allowed) const {
  std::string value = get_string(name, fallback);
  for (const std::string& a : allowed) {
    if (value == a) return value;
  }
  std::string names;
  for (const std::string& a : allowed) names += (names.empty() ? "" : ", ") + a;
  throw_error(ErrorCode::kInvalidModel, "attribute ", name, " must be one of ", names, ", got ", quoted(value));
}

int64_t NodeAttributes::axis_in_rank(const std::string& name, int64_t fallback, int64_t rank) const {
  const int64_t axis = get_int(name, fallback);
  if (rank <= 0 || axis < -rank || axis >= rank) {
    throw_error(ErrorCode::kInvalidModel, "attribute ", name, " must be in [", -rank, ", ", rank - 1,
                "] for an input of rank ", rank, ", got ", axis);
  }
  return axis < 0 ? axis + rank : axis;
}

void NodeAttributes::expect_length(const std::string& name, size_t count, const std::string& why) const {
  const Attribute* a = find(name);
  if (a == nullptr) return;
  size_t size = a->kind == Attribute::Kind::kInts     ? a->ints.size()
                : a->kind == Attribute::Kind::kFloats ? a->floats.size()
                                                      : a->strings.size();
  if (size != count) {
    throw_error(ErrorCode::kInvalidModel, "attribute ", name, " must hold ", count, " values (", why, "), got ",
                size);
  }
}

const Attribute* NodeAttributes::find_of_kind(const std::string& name, Attribute::Kind kind) const {
  const Attribute* attribute = node_.find_attribute(name);
  if (attribute == nullptr) return nullptr;
  if (attribute->kind != kind) {
    throw_error(ErrorCode::kInvalidModel, node_.describe(), ": attribute '", name, "' is ",
                attribute_kind_name(attribute->kind), ", expected ", attribute_kind_name(kind));
  }
  return attribute;
}

const Attribute& NodeAttributes::require(const std::string& name, Attribute::Kind kind) const {
  const Attribute* attribute = find_of_kind(name, kind);
  if (attribute == nullptr) {
    throw_error(ErrorCode::kInvalidModel, node_.describe(), ": missing required attribute '", name,
                "'");
  }
  return *attribute;
}

int64_t NodeAttributes::get_int(const std::string& name, int64_t fallback) const {
  const Attribute* a = find_of_kind(name, Attribute::Kind::kInt);
  return a ? a->i : fallback;
}

float NodeAttributes::get_float(const std::string& name, float fallback) const {
  const Attribute* a = find_of_kind(name, Attribute::Kind::kFloat);
  return a ? a->f : fallback;
}

std::string NodeAttributes::get_string(const std::string& name, const std::string& fallback) const {
  const Attribute* a = find_of_kind(name, Attribute::Kind::kString);
  return a ? a->s : fallback;
}

std::vector<int64_t> NodeAttributes::get_ints(const std::string& name,
                                              std::vector<int64_t> fallback) const {
  const Attribute* a = find_of_kind(name, Attribute::Kind::kInts);
  return a ? a->ints : fallback;
}

std::vector<float> NodeAttributes::get_floats(const std::string& name,
                                              std::vector<float> fallback) const {
  const Attribute* a = find_of_kind(name, Attribute::Kind::kFloats);
  return a ? a->floats : fallback;
}

std::vector<std::string> NodeAttributes::get_strings(const std::string& name,
                                                     std::vector<std::string> fallback) const {
  const Attribute* a = find_of_kind(name, Attribute::Kind::kStrings);
  return a ? a->strings : fallback;
}

int64_t NodeAttributes::require_int(const std::string& name) const {
  return require(name, Attribute::Kind::kInt).i;
}

float NodeAttributes::require_float(const std::string& name) const {
  return require(name, Attribute::Kind::kFloat).f;
}

std::string NodeAttributes::require_string(const std::string& name) const {
  return require(name, Attribute::Kind::kString).s;
}

std::vector<int64_t> NodeAttributes::require_ints(const std::string& name) const {
  return require(name, Attribute::Kind::kInts).ints;
}

const Tensor& NodeAttributes::require_tensor(const std::string& name) const {
  return require(name, Attribute::Kind::kTensor).t;
}

const Graph& NodeAttributes::require_graph(const std::string& name) const {
  const Attribute& attribute = require(name, Attribute::Kind::kGraph);
  // A file may declare an attribute GRAPH and leave its `g` field out.
  ONYX_CHECK(attribute.g != nullptr, ErrorCode::kInvalidModel, "attribute '", name,
             "' is declared a graph but holds none");
  return *attribute.g;
}

}  // namespace onyx
