// Shape rules of the ai.onnx.ml ops that make or take map values: ZipMap (tensor -> seq(map)),
// DictVectorizer and CastMap (map -> tensor). The tensor outputs are one row, [1, n], as
// onnxruntime gives them (the spec text calls DictVectorizer's output 1-D).
#include "onnx_ops/ml.h"

#include "onnx_ops/op_schema.h"
#include "onnx_ops/tensor_ops_rules.h"

namespace onyx {

DataType cast_map_output_type(const NodeAttributes& attributes) {
  const std::string cast_to = attributes.get_string("cast_to", "TO_FLOAT");
  if (cast_to == "TO_FLOAT") return DataType::kFloat;
  if (cast_to == "TO_STRING") return DataType::kString;
  if (cast_to == "TO_INT64") return DataType::kInt64;
  throw_error(ErrorCode::kInvalidModel, attributes.node().describe(), ": CastMap cast_to '", cast_to,
              "' is not one of TO_FLOAT, TO_STRING, TO_INT64");
}

bool cast_map_is_sparse(const NodeAttributes& attributes) {
  const std::string form = attributes.get_string("map_form", "DENSE");
  if (form != "DENSE" && form != "SPARSE") {
    throw_error(ErrorCode::kInvalidModel, attributes.node().describe(), ": CastMap map_form '", form,
                "' is not DENSE or SPARSE");
  }
  return form == "SPARSE";
}

namespace {

using tensor_rules::Dims;

// The map type of input 0, or null when it is not (yet) known to be a map.
const TypeInfo* map_input_type(const InferenceContext& ctx) {
  const TypeInfo& type = ctx.input_type(0);
  return type.kind == TypeInfo::Kind::kMap ? &type : nullptr;
}

// ZipMap: float [N, C] or [C] -> seq(map(label type, float)), one map per row.
void zip_map_rule(InferenceContext& ctx) {
  const DataType key = ctx.attributes().has("classlabels_strings") ? DataType::kString : DataType::kInt64;
  ctx.set_output_type(0, TypeInfo::wrapping(TypeInfo::Kind::kSequence, TypeInfo::map_of(key, DataType::kFloat)));
}

// DictVectorizer: map(K, V) -> V [1, vocabulary size].
void dict_vectorizer_rule(InferenceContext& ctx) {
  const NodeAttributes& a = ctx.attributes();
  const size_t size = a.has("string_vocabulary") ? a.get_strings("string_vocabulary").size()
                                                 : a.get_ints("int64_vocabulary").size();
  const TypeInfo* map = map_input_type(ctx);
  const DataType value = map && map->element ? map->element->elem_type : DataType::kUndefined;
  tensor_rules::set_tensor(ctx, 0, value, Dims{Dim::known(1), Dim::known(static_cast<int64_t>(size))});
}

// CastMap: map(int64, V) -> cast_to [1, entries] (DENSE) or [1, max_map] (SPARSE).
void cast_map_rule(InferenceContext& ctx) {
  const NodeAttributes& a = ctx.attributes();
  const Dim width = cast_map_is_sparse(a) ? Dim::known(a.get_int("max_map", 1)) : Dim{};
  tensor_rules::set_tensor(ctx, 0, cast_map_output_type(a), Dims{Dim::known(1), width});
}

ONYX_REGISTER_SHAPE_RULE("ai.onnx.ml", "ZipMap", zip_map_rule);
ONYX_REGISTER_SHAPE_RULE("ai.onnx.ml", "DictVectorizer", dict_vectorizer_rule);
ONYX_REGISTER_SHAPE_RULE("ai.onnx.ml", "CastMap", cast_map_rule);

}  // namespace
}  // namespace onyx
