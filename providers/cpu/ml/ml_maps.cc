// CPU kernels of the ai.onnx.ml map ops: ZipMap (1), DictVectorizer (1), CastMap (1). Where the
// spec leaves a detail open (DictVectorizer's row shape, keys outside the vocabulary, CastMap's
// text for floats and its string padding), they do what onnxruntime does.
#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_map>

#include "onnx_ops/ml.h"
#include "onnx_ops/op_schema.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

const Map& map_input(const KernelContext& ctx, std::string_view op) {
  const Value& value = ctx.input_value(0);
  ONYX_CHECK(value.is_map(), ErrorCode::kInvalidArgument, op, ": input must be a map");
  return value.map_entries();
}

// The keys of exactly one of two list attributes (`int64_name` or `strings_name`), as a tensor.
Tensor key_list(const NodeAttributes& attributes, const std::string& int64_name, const std::string& strings_name) {
  const bool strings = attributes.has(strings_name);
  ONYX_CHECK(strings != attributes.has(int64_name), ErrorCode::kInvalidModel, attributes.node().describe(),
             ": needs exactly one of ", int64_name, " and ", strings_name);
  if (strings) {
    std::vector<std::string> keys = attributes.get_strings(strings_name);
    return Tensor::from_vector<std::string>({static_cast<int64_t>(keys.size())}, keys);
  }
  std::vector<int64_t> keys = attributes.get_ints(int64_name);
  return Tensor::from_vector<int64_t>({static_cast<int64_t>(keys.size())}, keys);
}

// ZipMap: row r of X becomes the map {label j: X[r, j]}; a 1-D X is one row.
class ZipMapKernel final : public Kernel {
 public:
  explicit ZipMapKernel(const KernelInfo& info)
      : labels_(key_list(info.attributes(), "classlabels_int64s", "classlabels_strings")) {
    // Refuses a label given twice now, not at the first run.
    Value::map(labels_, Tensor(DataType::kFloat, {labels_.element_count()}), info.node().describe());
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    ONYX_CHECK(x.dtype() == DataType::kFloat, ErrorCode::kInvalidArgument, "ZipMap: input must be float, got ",
               dtype_name(x.dtype()));
    ONYX_CHECK(x.rank() == 1 || x.rank() == 2, ErrorCode::kInvalidArgument,
               "ZipMap: input must be 1-D or 2-D, got shape ", shape_to_string(x.shape()));
    const int64_t columns = x.shape().back();
    const int64_t rows = x.rank() == 1 ? 1 : x.dim(0);
    ONYX_CHECK(columns == labels_.element_count(), ErrorCode::kInvalidArgument, "ZipMap: input has ", columns,
               " columns but there are ", labels_.element_count(), " class labels");
    Sequence maps;
    maps.reserve(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      Tensor row(DataType::kFloat, {columns});
      std::copy_n(x.data<float>() + r * columns, columns, row.mutable_data<float>());
      maps.push_back(Value::map(labels_, std::move(row), "ZipMap"));
    }
    ctx.set_output(0, Value::sequence(std::move(maps), DataType::kUndefined));
  }

 private:
  Tensor labels_;
};

// DictVectorizer: Y[0, i] is the map's value for vocabulary[i], zero (an empty string) where
// the map has none; keys outside the vocabulary are ignored.
class DictVectorizerKernel final : public Kernel {
 public:
  explicit DictVectorizerKernel(const KernelInfo& info)
      : vocabulary_(key_list(info.attributes(), "int64_vocabulary", "string_vocabulary")) {
    for (int64_t i = 0; i < vocabulary_.element_count(); ++i) {
      if (vocabulary_.dtype() == DataType::kString) string_index_.emplace(vocabulary_.data<std::string>()[i], i);
      else int64_index_.emplace(vocabulary_.data<int64_t>()[i], i);
    }
  }

  void compute(KernelContext& ctx) override {
    const Map& map = map_input(ctx, "DictVectorizer");
    ONYX_CHECK(map.keys.dtype() == vocabulary_.dtype(), ErrorCode::kInvalidArgument, "DictVectorizer: map keys are ",
               dtype_name(map.keys.dtype()), " but the vocabulary is ", dtype_name(vocabulary_.dtype()));
    const DataType value_type = map.values.dtype();
    ONYX_CHECK(value_type == DataType::kFloat || value_type == DataType::kDouble || value_type == DataType::kInt64 ||
                   value_type == DataType::kString,
               ErrorCode::kInvalidArgument, "DictVectorizer: map values must be float, double, int64 or string, got ",
               dtype_name(value_type));
    Tensor& y = ctx.output(0, value_type, {1, vocabulary_.element_count()});
    dispatch_dtype_or_throw<TypeList<float, double, int64_t, std::string>>(
        value_type, "DictVectorizer", [&]<typename V>() {
          V* out = y.mutable_data<V>();
          std::fill_n(out, y.element_count(), V{});
          const V* values = map.values.data<V>();
          for (int64_t e = 0; e < map.keys.element_count(); ++e) {
            const int64_t at = position_of(map.keys, e);
            if (at >= 0) out[at] = values[e];
          }
        });
  }

 private:
  // The vocabulary index of entry `e`'s key, -1 when it is not in the vocabulary.
  int64_t position_of(const Tensor& keys, int64_t e) const {
    if (keys.dtype() == DataType::kString) {
      auto found = string_index_.find(keys.data<std::string>()[e]);
      return found == string_index_.end() ? -1 : found->second;
    }
    auto found = int64_index_.find(keys.data<int64_t>()[e]);
    return found == int64_index_.end() ? -1 : found->second;
  }

  Tensor vocabulary_;
  std::unordered_map<std::string, int64_t> string_index_;
  std::unordered_map<int64_t, int64_t> int64_index_;
};

// One map value (float or string) as cast_to's type; strings parse as C++'s stof/stoll do
// (a leading number, the rest ignored) and floats print as "%f", like onnxruntime.
template <typename To>
To cast_map_value(float value) {
  if constexpr (std::is_same_v<To, std::string>) {
    char text[64];
    std::snprintf(text, sizeof text, "%f", static_cast<double>(value));
    return text;
  } else {
    return static_cast<To>(value);
  }
}

template <typename To>
To cast_map_value(const std::string& value) {
  if constexpr (std::is_same_v<To, std::string>) {
    return value;
  } else {
    try {
      if constexpr (std::is_same_v<To, float>) return std::stof(value);
      else return std::stoll(value);
    } catch (const std::exception&) {
      throw_error(ErrorCode::kInvalidArgument, "CastMap: value \"", value, "\" is not a ",
                  std::is_same_v<To, float> ? "float" : "int64");
    }
  }
}

// CastMap: the values of an int64-keyed map in key order (DENSE), or each at the position its
// key names in a row of max_map (SPARSE; unfilled positions 0, or "0.f" for strings as
// onnxruntime pads them).
class CastMapKernel final : public Kernel {
 public:
  explicit CastMapKernel(const KernelInfo& info)
      : to_(cast_map_output_type(info.attributes())), sparse_(cast_map_is_sparse(info.attributes())),
        max_map_(info.attributes().get_int("max_map", 1)) {
    ONYX_CHECK(!sparse_ || max_map_ > 0, ErrorCode::kInvalidModel, info.node().describe(),
               ": max_map must be positive for map_form SPARSE, got ", max_map_);
  }

  void compute(KernelContext& ctx) override {
    const Map& map = map_input(ctx, "CastMap");
    ONYX_CHECK(map.keys.dtype() == DataType::kInt64, ErrorCode::kInvalidArgument, "CastMap: map keys must be int64, got ",
               dtype_name(map.keys.dtype()));
    ONYX_CHECK(map.values.dtype() == DataType::kFloat || map.values.dtype() == DataType::kString,
               ErrorCode::kInvalidArgument, "CastMap: map values must be float or string, got ",
               dtype_name(map.values.dtype()));
    const int64_t entries = map.keys.element_count();
    const int64_t* keys = map.keys.data<int64_t>();
    if (sparse_) {
      for (int64_t e = 0; e < entries; ++e) {
        ONYX_CHECK(keys[e] >= 0 && keys[e] < max_map_, ErrorCode::kInvalidArgument, "CastMap: key ", keys[e],
                   " is outside [0, max_map ", max_map_, ") of map_form SPARSE");
      }
    }
    Tensor& y = ctx.output(0, to_, {1, sparse_ ? max_map_ : entries});
    dispatch_dtype_or_throw<TypeList<float, int64_t, std::string>>(to_, "CastMap", [&]<typename To>() {
      To* out = y.mutable_data<To>();
      if constexpr (std::is_same_v<To, std::string>) std::fill_n(out, y.element_count(), "0.f");
      else std::fill_n(out, y.element_count(), To(0));
      for (int64_t e = 0; e < entries; ++e) {
        To value = map.values.dtype() == DataType::kFloat ? cast_map_value<To>(map.values.data<float>()[e])
                                                          : cast_map_value<To>(map.values.data<std::string>()[e]);
        out[sparse_ ? keys[e] : e] = std::move(value);
      }
    });
  }

 private:
  DataType to_;
  bool sparse_;
  int64_t max_map_;
};

ONYX_REGISTER_KERNEL("CPU", kMlDomain, "ZipMap", 1, kOpsetOpenEnded, ZipMapKernel);
ONYX_REGISTER_KERNEL("CPU", kMlDomain, "DictVectorizer", 1, kOpsetOpenEnded, DictVectorizerKernel);
ONYX_REGISTER_KERNEL("CPU", kMlDomain, "CastMap", 1, kOpsetOpenEnded, CastMapKernel);

}  // namespace
}  // namespace onyx
