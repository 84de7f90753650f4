// Typed access to a node's attributes with ONNX defaults. Shared by shape rules (onnx_ops/)
// and kernel factories (providers/), so both read an attribute the same way and a missing
// required attribute gives the same error naming the node.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/ir/graph.h"

namespace onyx {

class NodeAttributes {
 public:
  explicit NodeAttributes(const Node& node) : node_(node) {}

  bool has(const std::string& name) const { return node_.find_attribute(name) != nullptr; }
  const Attribute* find(const std::string& name) const { return node_.find_attribute(name); }

  int64_t get_int(const std::string& name, int64_t fallback) const;
  float get_float(const std::string& name, float fallback) const;
  std::string get_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const std::string& name, std::vector<int64_t> fallback = {}) const;
  std::vector<float> get_floats(const std::string& name, std::vector<float> fallback = {}) const;
  std::vector<std::string> get_strings(const std::string& name,
                                       std::vector<std::string> fallback = {}) const;

  // Required attributes: throw kInvalidModel naming the node when absent.
  int64_t require_int(const std::string& name) const;
  float require_float(const std::string& name) const;
  std::string require_string(const std::string& name) const;
  std::vector<int64_t> require_ints(const std::string& name) const;
  const Tensor& require_tensor(const std::string& name) const;
  const Graph& require_graph(const std::string& name) const;

  // Checked reads for onnx_ops/attribute_checks.h: they throw kInvalidModel with uniform
  // messages ("attribute blocksize must be >= 1, got 0"), leaving the node to the caller.
  int64_t get_int_in_range(const std::string& name, int64_t fallback, int64_t lo, int64_t hi) const;
  int64_t get_int_at_least(const std::string& name, int64_t fallback, int64_t lo) const;
  bool get_flag(const std::string& name, bool fallback) const;  // an int that must be 0 or 1
  // A float > lo (strictly) and finite.
  float get_float_above(const std::string& name, float fallback, float lo) const;
  std::vector<int64_t> get_ints_at_least(const std::string& name, int64_t lo) const;
  std::vector<int64_t> get_positive_ints(const std::string& name) const { return get_ints_at_least(name, 1); }
  std::string get_enum_string(const std::string& name, const std::string& fallback,
                              const std::vector<std::string>& allowed) const;
  // The axis normalized into [0, rank), for an attribute allowed in [-rank, rank).
  int64_t axis_in_rank(const std::string& name, int64_t fallback, int64_t rank) const;
  // Throws unless the ints attribute, when present, holds `count` values (`why` says whose count).
  void expect_length(const std::string& name, size_t count, const std::string& why) const;

  const Node& node() const { return node_; }

 private:
  const Attribute& require(const std::string& name, Attribute::Kind kind) const;
  const Attribute* find_of_kind(const std::string& name, Attribute::Kind kind) const;

  const Node& node_;
};

}  // namespace onyx
