#include "runtime/extensions/custom_op_host_api.h"

#include <algorithm>

void OnyxContext::fail(const std::string& what) const {
  onyx::throw_error(onyx::ErrorCode::kRuntimeFailure, what, " failed",
                    error.empty() ? std::string(" (the library gave no message)") : ": " + error);
}

namespace onyx {

namespace {

// Runs `body`, turning any exception into the context's error and a 0 result.
template <typename Body>
int guarded(const OnyxContext* context, Body&& body) noexcept {
  try {
    return body() ? 1 : 0;
  } catch (const std::exception& error) {
    const_cast<OnyxContext*>(context)->error = error.what();
    return 0;
  }
}

const Attribute* attribute_of_kind(const OnyxContext* context, const char* name, Attribute::Kind kind) {
  const Attribute* attribute = context->attributes.find(name ? name : "");
  return attribute && attribute->kind == kind ? attribute : nullptr;
}

int attribute_float(const OnyxContext* context, const char* name, float* value) {
  return guarded(context, [&] {
    const Attribute* a = attribute_of_kind(context, name, Attribute::Kind::kFloat);
    if (a) *value = a->f;
    return a != nullptr;
  });
}

int attribute_int(const OnyxContext* context, const char* name, int64_t* value) {
  return guarded(context, [&] {
    const Attribute* a = attribute_of_kind(context, name, Attribute::Kind::kInt);
    if (a) *value = a->i;
    return a != nullptr;
  });
}

int attribute_string(const OnyxContext* context, const char* name, const char** value, size_t* length) {
  return guarded(context, [&] {
    const Attribute* a = attribute_of_kind(context, name, Attribute::Kind::kString);
    if (a) {
      *value = a->s.c_str();
      *length = a->s.size();
    }
    return a != nullptr;
  });
}

int attribute_floats(const OnyxContext* context, const char* name, const float** values, size_t* count) {
  return guarded(context, [&] {
    const Attribute* a = attribute_of_kind(context, name, Attribute::Kind::kFloats);
    if (a) {
      *values = a->floats.data();
      *count = a->floats.size();
    }
    return a != nullptr;
  });
}

int attribute_ints(const OnyxContext* context, const char* name, const int64_t** values, size_t* count) {
  return guarded(context, [&] {
    const Attribute* a = attribute_of_kind(context, name, Attribute::Kind::kInts);
    if (a) {
      *values = a->ints.data();
      *count = a->ints.size();
    }
    return a != nullptr;
  });
}

size_t input_count(const OnyxContext* context) {
  if (context->kernel) return context->kernel->input_count();
  if (context->info) return context->info->input_count();
  return context->inference ? context->inference->input_count() : 0;
}

size_t output_count(const OnyxContext* context) {
  if (context->kernel) return context->kernel->output_count();
  if (context->info) return context->info->output_count();
  return context->inference ? context->inference->output_count() : 0;
}

void view_of(const Tensor& tensor, OnyxTensor* view) {
  view->dtype = static_cast<int32_t>(tensor.dtype());
  view->rank = static_cast<int32_t>(tensor.rank());
  view->dims = tensor.shape().data();
  view->data = const_cast<void*>(tensor.raw_data());
}

int input(const OnyxContext* context, size_t index, OnyxTensor* tensor) {
  return guarded(context, [&] {
    if (context->kernel == nullptr) throw_error(ErrorCode::kInvalidArgument, "input() is only for compute");
    if (index >= context->kernel->input_count() || !context->kernel->has_input(index)) return false;
    const Value& value = context->kernel->input_value(index);
    if (!value.is_tensor()) throw_error(ErrorCode::kInvalidArgument, "input ", index, " is not a tensor");
    view_of(value.tensor(), tensor);
    return true;
  });
}

int has_output(const OnyxContext* context, size_t index) {
  return context->kernel && context->kernel->has_output(index) ? 1 : 0;
}

int allocate_output(OnyxContext* context, size_t index, int32_t dtype, int32_t rank, const int64_t* dims,
                    OnyxTensor* tensor) {
  return guarded(context, [&] {
    if (context->kernel == nullptr) throw_error(ErrorCode::kInvalidArgument, "allocate_output() is only for compute");
    if (index >= context->kernel->output_count()) {
      throw_error(ErrorCode::kInvalidArgument, "output ", index, " does not exist (the node has ",
                  context->kernel->output_count(), ")");
    }
    if (rank < 0) throw_error(ErrorCode::kInvalidArgument, "output ", index, " has negative rank ", rank);
    Shape shape(dims, dims + rank);
    for (int64_t d : shape) {
      if (d < 0) throw_error(ErrorCode::kInvalidArgument, "output ", index, " has a negative dim ", d);
    }
    view_of(context->kernel->output(index, dtype_from_code(dtype), shape), tensor);
    return true;
  });
}

int describe_type(const TypeInfo& type, int32_t* dtype, int32_t* rank, int64_t* dims, size_t capacity) {
  *dtype = static_cast<int32_t>(type.elem_type);
  *rank = type.shape ? static_cast<int32_t>(type.shape->size()) : -1;
  if (type.shape) {
    for (size_t i = 0; i < std::min(capacity, type.shape->size()); ++i) dims[i] = (*type.shape)[i].value;
  }
  return 1;
}

int input_type(const OnyxContext* context, size_t index, int32_t* dtype, int32_t* rank, int64_t* dims,
               size_t capacity) {
  return guarded(context, [&] {
    if (context->inference) {
      if (!context->inference->has_input(index)) return false;
      return describe_type(context->inference->input_type(index), dtype, rank, dims, capacity) != 0;
    }
    if (context->info) {
      if (!context->info->has_input(index)) return false;
      return describe_type(context->info->input_type(index), dtype, rank, dims, capacity) != 0;
    }
    throw_error(ErrorCode::kInvalidArgument, "input_type() is for shape rules and kernel creation");
  });
}

int output_type(const OnyxContext* context, size_t index, int32_t* dtype, int32_t* rank, int64_t* dims,
                size_t capacity) {
  return guarded(context, [&] {
    if (context->inference == nullptr) throw_error(ErrorCode::kInvalidArgument, "output_type() is for shape rules");
    if (index >= context->inference->output_count()) return false;
    return describe_type(context->inference->output_types()[index], dtype, rank, dims, capacity) != 0;
  });
}

int set_output_type(OnyxContext* context, size_t index, int32_t dtype, int32_t rank, const int64_t* dims) {
  return guarded(context, [&] {
    if (context->inference == nullptr) throw_error(ErrorCode::kInvalidArgument, "set_output_type() is for shape rules");
    if (index >= context->inference->output_count()) return false;
    TypeInfo type = TypeInfo::tensor(dtype == 0 ? DataType::kUndefined : dtype_from_code(dtype));
    if (rank >= 0) {
      std::vector<Dim> shape;
      for (int32_t i = 0; i < rank; ++i) shape.push_back(dims[i] >= 0 ? Dim::known(dims[i]) : Dim{});
      type.shape = std::move(shape);
    }
    context->inference->set_output_type(index, std::move(type));
    return true;
  });
}

int copy_input_shape(OnyxContext* context, size_t input, size_t output) {
  return guarded(context, [&] {
    if (context->inference == nullptr) throw_error(ErrorCode::kInvalidArgument, "copy_input_shape() is for shape rules");
    InferenceContext& ctx = *context->inference;
    if (!ctx.has_input(input) || output >= ctx.output_count()) return false;
    TypeInfo type = ctx.output_types()[output];
    if (type.kind == TypeInfo::Kind::kUnknown) type = TypeInfo::tensor(DataType::kUndefined);
    type.shape = ctx.input_type(input).shape;
    ctx.set_output_type(output, std::move(type));
    return true;
  });
}

void set_error(OnyxContext* context, const char* message) { context->error = message ? message : ""; }

}  // namespace

const OnyxHostApi& host_api() {
  static const OnyxHostApi api{ONYX_CUSTOM_OP_ABI_VERSION,
                               sizeof(OnyxHostApi),
                               attribute_float,
                               attribute_int,
                               attribute_string,
                               attribute_floats,
                               attribute_ints,
                               input_count,
                               output_count,
                               input,
                               has_output,
                               allocate_output,
                               input_type,
                               output_type,
                               set_output_type,
                               copy_input_shape,
                               set_error};
  return api;
}

}  // namespace onyx
