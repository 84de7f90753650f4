// Attribute checks (attribute_checks.h) of the tensor, index, reduction and elementwise
// families whose rules live in tensor_ops*.cc, reduction.cc, linalg.cc and elementwise.cc: axes
// in range when the rank is known, permutations, block sizes, enums, flags and dtypes.
#include <limits>

#include "onnx_ops/attribute_checks.h"
#include "onnx_ops/elementwise.h"

namespace onyx {

namespace {

using Check = AttributeCheck;

// An axis attribute of an op over input `input`'s rank (+ `extra` for ops whose output gains
// dims: OneHot); skipped while the rank is unknown.
Check axis_check(const char* name, int64_t fallback, size_t input = 0, int64_t extra = 0) {
  return [=](const AttributeCheckContext& ctx) {
    if (!ctx.attributes().has(name)) return;  // the default is always in range
    if (std::optional<int64_t> rank = ctx.input_rank(input); rank && *rank + extra > 0) {
      ctx.attributes().axis_in_rank(name, fallback, *rank + extra);
    }
  };
}

Check flags_check(std::vector<const char*> names, Check then = nullptr) {
  return [=](const AttributeCheckContext& ctx) {
    for (const char* name : names) ctx.attributes().get_flag(name, false);
    if (then) then(ctx);
  };
}

void check_dtype(const NodeAttributes& a, const char* name, const std::vector<DataType>& allowed) {
  if (!a.has(name)) return;
  const int64_t code = a.get_int(name, 0);
  bool ok = code > 0 && code <= kMaxDataTypeCode;
  if (ok && !allowed.empty()) {
    ok = false;
    for (DataType type : allowed) ok = ok || static_cast<int64_t>(type) == code;
  }
  if (!ok) {
    std::string names;
    for (DataType type : allowed) names += (names.empty() ? "" : ", ") + std::string(dtype_name(type));
    throw_error(ErrorCode::kInvalidModel, "attribute ", name, " must be ",
                allowed.empty() ? "a TensorProto data type code (1 to " + std::to_string(kMaxDataTypeCode) + ")"
                                : "the data type code of one of " + names,
                ", got ", code);
  }
}

const std::vector<DataType> kRandomTypes = {DataType::kFloat16, DataType::kFloat, DataType::kDouble,
                                            DataType::kBFloat16};

void check_space_depth(const AttributeCheckContext& ctx, bool depth_to_space) {
  const NodeAttributes& a = ctx.attributes();
  // b * b must not overflow (fuzz regression model_mutate/spacetodepth-huge-blocksize; UBSan): a
  // block wider than 2^31 - 1 fits no tensor.
  const int64_t b = a.get_int_in_range("blocksize", 1, 1, (int64_t{1} << 31) - 1);
  if (depth_to_space) a.get_enum_string("mode", "DCR", {"DCR", "CRD"});
  if (depth_to_space) {
    if (std::optional<int64_t> c = ctx.input_dim(0, 1); c && ctx.input_rank(0) == 4 && *c % (b * b) != 0) {
      throw_error(ErrorCode::kInvalidModel, "attribute blocksize (", b, ") squared must divide the input's ", *c,
                  " channels");
    }
    return;
  }
  for (int64_t d : {2, 3}) {
    if (std::optional<int64_t> size = ctx.input_dim(0, d); size && ctx.input_rank(0) == 4 && *size % b != 0) {
      throw_error(ErrorCode::kInvalidModel, "attribute blocksize (", b, ") must divide the input's spatial dims, got ",
                  d == 2 ? "height " : "width ", *size);
    }
  }
}

void check_transpose(const AttributeCheckContext& ctx) {
  const NodeAttributes& a = ctx.attributes();
  if (!a.has("perm")) return;
  const std::vector<int64_t> perm = a.get_ints("perm");
  const int64_t n = static_cast<int64_t>(perm.size());
  if (std::optional<int64_t> rank = ctx.input_rank(0); rank && *rank != n) {
    throw_error(ErrorCode::kInvalidModel, "attribute perm must hold ", *rank, " axes (the input's rank), got ", n);
  }
  std::vector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    const int64_t axis = p < 0 ? p + n : p;
    if (axis < 0 || axis >= n || seen[static_cast<size_t>(axis)]) {
      throw_error(ErrorCode::kInvalidModel, "attribute perm must be a permutation of 0..", n - 1, ", got ",
                  p, (axis >= 0 && axis < n ? " twice" : " out of range"));
    }
    seen[static_cast<size_t>(axis)] = true;
  }
}

void check_flatten(const AttributeCheckContext& ctx) {
  if (std::optional<int64_t> rank = ctx.input_rank(0)) ctx.attributes().get_int_in_range("axis", 1, -*rank, *rank);
}

void check_softmax(const AttributeCheckContext& ctx) {
  axis_check("axis", ctx.opset() >= 13 ? -1 : 1)(ctx);
}

void check_reverse_sequence(const AttributeCheckContext& ctx) {
  const NodeAttributes& a = ctx.attributes();
  const int64_t batch = a.get_flag("batch_axis", true) ? 1 : 0;
  const int64_t time = a.get_flag("time_axis", false) ? 1 : 0;
  if (batch == time) {
    throw_error(ErrorCode::kInvalidModel, "attributes batch_axis and time_axis must differ, both are ", batch);
  }
}

Check reduction_check(std::vector<std::string> allowed, Check then = nullptr) {
  return [=](const AttributeCheckContext& ctx) {
    std::vector<std::string> values = allowed;
    if (ctx.opset() >= 18) {
      values.push_back("max");
      values.push_back("min");
    }
    ctx.attributes().get_enum_string("reduction", "none", values);
    if (then) then(ctx);
  };
}

void check_pad(const AttributeCheckContext& ctx) {
  std::vector<std::string> modes = {"constant", "reflect", "edge"};
  if (ctx.opset() >= 19) modes.push_back("wrap");
  ctx.attributes().get_enum_string("mode", "constant", modes);
}

void check_cast(const AttributeCheckContext& ctx) {
  cast_target_type(ctx.attributes());
  ctx.attributes().get_flag("saturate", true);
}

}  // namespace

ONYX_REGISTER_ATTRIBUTE_CHECK("", "DepthToSpace", [](const AttributeCheckContext& ctx) { check_space_depth(ctx, true); });
ONYX_REGISTER_ATTRIBUTE_CHECK("", "SpaceToDepth", [](const AttributeCheckContext& ctx) { check_space_depth(ctx, false); });
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Transpose", check_transpose);
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Gather", axis_check("axis", 0));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "GatherElements", axis_check("axis", 0));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Scatter", axis_check("axis", 0));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ScatterElements", reduction_check({"none", "add", "mul"}, axis_check("axis", 0)));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ScatterND", reduction_check({"none", "add", "mul"}));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Concat", axis_check("axis", 0));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Split", axis_check("axis", 0));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Flatten", check_flatten);
ONYX_REGISTER_ATTRIBUTE_CHECK("", "OneHot", axis_check("axis", -1, 0, 1));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Softmax", check_softmax);
ONYX_REGISTER_ATTRIBUTE_CHECK("", "LogSoftmax", check_softmax);
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Hardmax", check_softmax);
ONYX_REGISTER_ATTRIBUTE_CHECK("", "CumSum", flags_check({"exclusive", "reverse"}));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "TopK", flags_check({"largest", "sorted"}, axis_check("axis", -1)));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ArgMax", flags_check({"keepdims", "select_last_index"}, axis_check("axis", 0)));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ArgMin", flags_check({"keepdims", "select_last_index"}, axis_check("axis", 0)));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Compress", axis_check("axis", 0));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ReverseSequence", check_reverse_sequence);
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Pad", check_pad);
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Cast", check_cast);
ONYX_REGISTER_ATTRIBUTE_CHECK("", "CastLike", flags_check({"saturate"}));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "EyeLike", [](const AttributeCheckContext& ctx) {
  check_dtype(ctx.attributes(), "dtype", {});
});
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Bernoulli", [](const AttributeCheckContext& ctx) {
  check_dtype(ctx.attributes(), "dtype", {});
});
ONYX_REGISTER_ATTRIBUTE_CHECK("", "RandomNormal", [](const AttributeCheckContext& ctx) {
  check_dtype(ctx.attributes(), "dtype", kRandomTypes);
});
ONYX_REGISTER_ATTRIBUTE_CHECK("", "RandomUniform", [](const AttributeCheckContext& ctx) {
  check_dtype(ctx.attributes(), "dtype", kRandomTypes);
});
ONYX_REGISTER_ATTRIBUTE_CHECK("", "RandomNormalLike", [](const AttributeCheckContext& ctx) {
  check_dtype(ctx.attributes(), "dtype", kRandomTypes);
});
ONYX_REGISTER_ATTRIBUTE_CHECK("", "RandomUniformLike", [](const AttributeCheckContext& ctx) {
  check_dtype(ctx.attributes(), "dtype", kRandomTypes);
});
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Multinomial", [](const AttributeCheckContext& ctx) {
  check_dtype(ctx.attributes(), "dtype", {DataType::kInt32, DataType::kInt64});
  ctx.attributes().get_int_at_least("sample_size", 1, 1);
});
ONYX_REGISTER_ATTRIBUTE_CHECK("", "Gemm", flags_check({"transA", "transB"}));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ReduceSum", flags_check({"keepdims", "noop_with_empty_axes"}));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ReduceMean", flags_check({"keepdims", "noop_with_empty_axes"}));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ReduceMax", flags_check({"keepdims", "noop_with_empty_axes"}));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ReduceMin", flags_check({"keepdims", "noop_with_empty_axes"}));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ReduceProd", flags_check({"keepdims", "noop_with_empty_axes"}));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ReduceL1", flags_check({"keepdims", "noop_with_empty_axes"}));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ReduceL2", flags_check({"keepdims", "noop_with_empty_axes"}));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ReduceLogSum", flags_check({"keepdims", "noop_with_empty_axes"}));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ReduceLogSumExp", flags_check({"keepdims", "noop_with_empty_axes"}));
ONYX_REGISTER_ATTRIBUTE_CHECK("", "ReduceSumSquare", flags_check({"keepdims", "noop_with_empty_axes"}));

}  // namespace onyx
