// Shape rules of the tensor ops whose outputs keep the input's elements in order or make new
// tensors: Reshape, Flatten, Squeeze, Unsqueeze, Identity, Constant, Shape, Size,
// ConstantOfShape, Range, EyeLike, BitCast. Symbolic dims pass through wherever the op copies
// them.
#include "onnx_ops/tensor_ops_rules.h"

#include <algorithm>
#include <limits>

#include "onnx_ops/axes.h"
#include "onnx_ops/tensor_ops.h"

namespace onyx::tensor_rules {

std::optional<Dims> dims_of(const InferenceContext& ctx, size_t i) {
  const TypeInfo& type = ctx.input_type(i);
  if (const Tensor* value = ctx.input_constant(i)) return to_dims(value->shape());
  if (!type.is_tensor() || !type.shape) return std::nullopt;
  return *type.shape;
}

DataType elem_of(const InferenceContext& ctx, size_t i) {
  if (const Tensor* value = ctx.input_constant(i)) return value->dtype();
  return ctx.input_type(i).elem_type;
}

std::optional<std::vector<int64_t>> constant_ints(const InferenceContext& ctx, size_t i) {
  if (!ctx.has_input(i) && ctx.input_constant(i) == nullptr) return std::nullopt;
  const Tensor* value = ctx.input_constant(i);
  if (value == nullptr) return std::nullopt;
  return value->to_int64_vector();
}

void set_tensor(InferenceContext& ctx, size_t output, DataType dtype, std::optional<Dims> dims) {
  ctx.set_output_type(output, TypeInfo::tensor(dtype, std::move(dims)));
}

void same_tensor_as_input_0(InferenceContext& ctx) { set_tensor(ctx, 0, elem_of(ctx, 0), dims_of(ctx, 0)); }

Dims unknown_dims(size_t rank) {
  // A rank this large only comes from a declared shape that no tensor could have; refusing it
  // keeps a rule from allocating a vector of 2^40 dims.
  constexpr size_t kMaxRank = size_t{1} << 16;
  if (rank > kMaxRank) throw_error(ErrorCode::kInvalidModel, "an output of rank ", rank, " (more than ", kMaxRank, ")");
  return Dims(rank);
}

std::optional<Dims> unknown_dims_of_declared_rank(int64_t rank, size_t at_least) {
  constexpr int64_t kMaxPlausibleRank = 1024;  // far past any real tensor's; costs nothing
  if (rank < 0 || rank > kMaxPlausibleRank) return std::nullopt;
  return Dims(std::max<size_t>(static_cast<size_t>(rank), at_least));
}

Dim dim_product(const Dim* begin, const Dim* end) {
  int64_t product = 1;
  bool known = true;
  for (const Dim* d = begin; d != end; ++d) {
    if (d->is_known() && d->value == 0) return Dim::known(0);
    if (d->is_known()) product = checked_dim_product(product, d->value, "the element count");
    else known = false;
  }
  if (known) return Dim::known(product);
  // A single symbolic factor times 1s keeps its name.
  const Dim* symbolic = nullptr;
  for (const Dim* d = begin; d != end; ++d) {
    if (d->is_known() && d->value == 1) continue;
    if (symbolic != nullptr || d->is_known()) return Dim{};
    symbolic = d;
  }
  return symbolic != nullptr ? *symbolic : Dim{};
}

bool all_known(const Dims& dims) {
  return std::all_of(dims.begin(), dims.end(), [](const Dim& d) { return d.is_known(); });
}

Shape to_shape(const Dims& dims) {
  Shape shape;
  for (const Dim& d : dims) shape.push_back(d.value);
  return shape;
}

Dims to_dims(const Shape& shape) {
  Dims dims;
  for (int64_t v : shape) dims.push_back(Dim::known(v));
  return dims;
}

namespace {

void reshape_rule(InferenceContext& ctx) {
  const DataType dtype = elem_of(ctx, 0);
  std::optional<std::vector<int64_t>> target;
  if (ctx.opset() < 5) {
    if (ctx.attributes().has("shape")) target = ctx.attributes().get_ints("shape");
  } else {
    target = constant_ints(ctx, 1);
  }
  if (!target) {
    std::optional<Dims> shape_dims = dims_of(ctx, 1);
    std::optional<Dims> out;
    if (ctx.opset() >= 5 && shape_dims && shape_dims->size() == 1 && (*shape_dims)[0].is_known()) {
      out = unknown_dims_of_declared_rank((*shape_dims)[0].value);
    }
    return set_tensor(ctx, 0, dtype, out);
  }
  const bool allow_zero = ctx.attributes().get_int("allowzero", 0) != 0;
  std::optional<Dims> in = dims_of(ctx, 0);
  if (in && all_known(*in)) {
    return set_tensor(ctx, 0, dtype, to_dims(resolve_reshape(to_shape(*in), *target, allow_zero)));
  }
  Dims out;
  int64_t infer_at = -1;
  for (size_t i = 0; i < target->size(); ++i) {
    const int64_t t = (*target)[i];
    if (t == 0 && !allow_zero) {
      out.push_back(in && i < in->size() ? (*in)[i] : Dim{});
    } else if (t == -1) {
      infer_at = static_cast<int64_t>(i);
      out.emplace_back();
    } else {
      out.push_back(Dim::known(t));
    }
  }
  // -1 is inferable when the input's symbolic dims reappear unchanged in the target.
  if (infer_at >= 0 && in) {
    std::vector<Dim> rest = *in;
    int64_t known_in = 1, known_out = 1;
    bool ok = true;
    for (size_t i = 0; i < out.size() && ok; ++i) {
      if (int64_t(i) == infer_at) continue;
      if (out[i].is_known()) {
        known_out *= out[i].value;
      } else {
        auto it = std::find_if(rest.begin(), rest.end(), [&](const Dim& d) {
          return !d.is_known() && !d.symbol.empty() && d.symbol == out[i].symbol;
        });
        if (it == rest.end()) ok = false;
        else rest.erase(it);
      }
    }
    for (const Dim& d : rest) {
      if (d.is_known()) known_in *= d.value;
      else ok = false;
    }
    if (ok && known_out != 0 && known_in % known_out == 0) {
      out[infer_at] = Dim::known(known_in / known_out);
    }
  }
  set_tensor(ctx, 0, dtype, out);
}

void flatten_rule(InferenceContext& ctx) {
  std::optional<Dims> in = dims_of(ctx, 0);
  if (!in) return set_tensor(ctx, 0, elem_of(ctx, 0), unknown_dims(2));
  const int64_t rank = static_cast<int64_t>(in->size());
  int64_t axis = ctx.attributes().get_int("axis", 1);
  if (axis < -rank || axis > rank) {
    throw_error(ErrorCode::kInvalidModel, ctx.node().describe(), ": Flatten axis ", axis,
                " is out of range for rank ", rank);
  }
  if (axis < 0) axis += rank;
  set_tensor(ctx, 0, elem_of(ctx, 0),
             Dims{dim_product(in->data(), in->data() + axis),
                  dim_product(in->data() + axis, in->data() + rank)});
}

std::optional<std::vector<int64_t>> axes_for(const InferenceContext& ctx, int64_t input_since) {
  if (ctx.opset() < input_since) return ctx.attributes().get_ints("axes");
  if (!ctx.has_input(1) && ctx.input_constant(1) == nullptr) return std::vector<int64_t>{};
  return constant_ints(ctx, 1);
}

void squeeze_rule(InferenceContext& ctx) {
  std::optional<Dims> in = dims_of(ctx, 0);
  std::optional<std::vector<int64_t>> axes = axes_for(ctx, 13);
  if (!in || !axes) return set_tensor(ctx, 0, elem_of(ctx, 0), std::nullopt);
  const int64_t rank = static_cast<int64_t>(in->size());
  Dims out;
  if (axes->empty()) {
    for (const Dim& d : *in) {
      if (!d.is_known()) return set_tensor(ctx, 0, elem_of(ctx, 0), std::nullopt);
      if (d.value != 1) out.push_back(d);
    }
  } else {
    std::vector<int64_t> drop = normalize_axis_list(*axes, rank, "Squeeze");
    for (int64_t a : drop) {
      if ((*in)[a].is_known() && (*in)[a].value != 1) {
        throw_error(ErrorCode::kInvalidModel, ctx.node().describe(), ": Squeeze axis ", a,
                    " has size ", (*in)[a].value, ", not 1");
      }
    }
    for (int64_t d = 0; d < rank; ++d) {
      if (std::find(drop.begin(), drop.end(), d) == drop.end()) out.push_back((*in)[d]);
    }
  }
  set_tensor(ctx, 0, elem_of(ctx, 0), out);
}

void unsqueeze_rule(InferenceContext& ctx) {
  std::optional<Dims> in = dims_of(ctx, 0);
  std::optional<std::vector<int64_t>> axes = axes_for(ctx, 13);
  if (!in || !axes) return set_tensor(ctx, 0, elem_of(ctx, 0), std::nullopt);
  const int64_t rank = static_cast<int64_t>(in->size() + axes->size());
  std::vector<int64_t> inserted = normalize_axis_list(*axes, rank, "Unsqueeze");
  Dims out;
  size_t next = 0;
  for (int64_t d = 0; d < rank; ++d) {
    bool is_new = std::find(inserted.begin(), inserted.end(), d) != inserted.end();
    out.push_back(is_new ? Dim::known(1) : (*in)[next++]);
  }
  set_tensor(ctx, 0, elem_of(ctx, 0), out);
}

void identity_rule(InferenceContext& ctx) {
  if (const Tensor* value = ctx.input_constant(0)) {
    return set_tensor(ctx, 0, value->dtype(), to_dims(value->shape()));
  }
  ctx.set_output_type(0, ctx.input_type(0));
}

void constant_rule(InferenceContext& ctx) {
  const NodeAttributes& a = ctx.attributes();
  if (const Attribute* v = a.find("value")) return set_tensor(ctx, 0, v->t.dtype(), to_dims(v->t.shape()));
  if (const Attribute* v = a.find("sparse_value")) {
    (void)v;
    return set_tensor(ctx, 0, DataType::kUndefined, std::nullopt);
  }
  if (a.has("value_float")) return set_tensor(ctx, 0, DataType::kFloat, Dims{});
  if (const Attribute* v = a.find("value_floats")) {
    return set_tensor(ctx, 0, DataType::kFloat, Dims{Dim::known(int64_t(v->floats.size()))});
  }
  if (a.has("value_int")) return set_tensor(ctx, 0, DataType::kInt64, Dims{});
  if (const Attribute* v = a.find("value_ints")) {
    return set_tensor(ctx, 0, DataType::kInt64, Dims{Dim::known(int64_t(v->ints.size()))});
  }
  if (a.has("value_string")) return set_tensor(ctx, 0, DataType::kString, Dims{});
  if (const Attribute* v = a.find("value_strings")) {
    return set_tensor(ctx, 0, DataType::kString, Dims{Dim::known(int64_t(v->strings.size()))});
  }
  throw_error(ErrorCode::kInvalidModel, ctx.node().describe(),
              ": Constant needs one of the value attributes");
}

void shape_rule(InferenceContext& ctx) {
  std::optional<Dims> in = dims_of(ctx, 0);
  if (!in) return set_tensor(ctx, 0, DataType::kInt64, unknown_dims(1));
  const int64_t rank = static_cast<int64_t>(in->size());
  auto clamp = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  const int64_t begin = clamp(ctx.attributes().get_int("start", 0));
  const int64_t end = std::max(begin, clamp(ctx.attributes().get_int("end", rank)));
  set_tensor(ctx, 0, DataType::kInt64, Dims{Dim::known(end - begin)});
}

void size_rule(InferenceContext& ctx) { set_tensor(ctx, 0, DataType::kInt64, Dims{}); }

void constant_of_shape_rule(InferenceContext& ctx) {
  const Attribute* value = ctx.attributes().find("value");
  const DataType dtype = value ? value->t.dtype() : DataType::kFloat;
  if (std::optional<std::vector<int64_t>> shape = constant_ints(ctx, 0)) {
    for (int64_t d : *shape) {
      if (d < 0) throw_error(ErrorCode::kInvalidArgument, "ConstantOfShape: negative dim ", d, " in shape ", shape_to_string(*shape));
    }
    return set_tensor(ctx, 0, dtype, to_dims(*shape));
  }
  std::optional<Dims> shape_dims = dims_of(ctx, 0);
  std::optional<Dims> out;
  if (shape_dims && shape_dims->size() == 1 && (*shape_dims)[0].is_known()) {
    out = unknown_dims_of_declared_rank((*shape_dims)[0].value);
  }
  set_tensor(ctx, 0, dtype, out);
}

void range_rule(InferenceContext& ctx) {
  const DataType dtype = elem_of(ctx, 0);
  const Tensor* start = ctx.input_constant(0);
  const Tensor* limit = ctx.input_constant(1);
  const Tensor* delta = ctx.input_constant(2);
  Dim count;
  if (start && limit && delta && start->element_count() == 1 && limit->element_count() == 1 &&
      delta->element_count() == 1) {
    count = Dim::known(range_count(start->element_as_double(0), limit->element_as_double(0),
                                   delta->element_as_double(0)));
  }
  set_tensor(ctx, 0, dtype, Dims{count});
}

void eye_like_rule(InferenceContext& ctx) {
  const int64_t code = ctx.attributes().get_int("dtype", 0);
  const DataType dtype = code ? dtype_from_code(static_cast<int32_t>(code)) : elem_of(ctx, 0);
  set_tensor(ctx, 0, dtype, dims_of(ctx, 0));
}

void bit_cast_rule(InferenceContext& ctx) {
  const DataType to =
      dtype_from_code(static_cast<int32_t>(ctx.attributes().require_int("to")));
  set_tensor(ctx, 0, to, dims_of(ctx, 0));
}

}  // namespace

ONYX_REGISTER_SHAPE_RULE("", "BitCast", bit_cast_rule);
ONYX_REGISTER_SHAPE_RULE("", "Reshape", reshape_rule);
ONYX_REGISTER_SHAPE_RULE("", "Flatten", flatten_rule);
ONYX_REGISTER_SHAPE_RULE("", "Squeeze", squeeze_rule);
ONYX_REGISTER_SHAPE_RULE("", "Unsqueeze", unsqueeze_rule);
ONYX_REGISTER_SHAPE_RULE("", "Identity", identity_rule);
ONYX_REGISTER_SHAPE_RULE("", "Constant", constant_rule);
ONYX_REGISTER_SHAPE_RULE("", "Shape", shape_rule);
ONYX_REGISTER_SHAPE_RULE("", "Size", size_rule);
ONYX_REGISTER_SHAPE_RULE("", "ConstantOfShape", constant_of_shape_rule);
ONYX_REGISTER_SHAPE_RULE("", "Range", range_rule);
ONYX_REGISTER_SHAPE_RULE("", "EyeLike", eye_like_rule);

}  // namespace onyx::tensor_rules
