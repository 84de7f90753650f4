/* A custom-op library written in plain C against onyx_custom_op_abi.h alone: the ABI needs no
 * C++ on the library's side. One op, com.example.c::AddScalar(X: float; value: float = 1) -> X + value. */
#include <string.h>

#include "runtime/extensions/onyx_custom_op_abi.h"

static int add_scalar(void* state, OnyxContext* context, const OnyxHostApi* api) {
  (void)state;
  OnyxTensor x, y;
  float value = 0;
  if (!api->input(context, 0, &x) || !api->attribute_float(context, "value", &value)) return 1;
  if (x.dtype != 1) {
    api->set_error(context, "AddScalar takes float tensors");
    return 1;
  }
  if (!api->allocate_output(context, 0, x.dtype, x.rank, x.dims, &y)) return 1;
  long long count = 1;
  for (int i = 0; i < x.rank; ++i) count *= x.dims[i];
  const float* in = (const float*)x.data;
  float* out = (float*)y.data;
  for (long long i = 0; i < count; ++i) out[i] = in[i] + value;
  return 0;
}

static int same_shape(void* data, OnyxContext* context, const OnyxHostApi* api) {
  (void)data;
  return api->copy_input_shape(context, 0, 0) ? 0 : 1;
}

static int register_ops(OnyxRegistration* registration, const OnyxRegistrationApi* api) {
  static const OnyxParameterDef inputs[] = {{"X", "float", ONYX_ARITY_SINGLE, 1}};
  static const OnyxParameterDef outputs[] = {{"Y", "float", ONYX_ARITY_SINGLE, 1}};
  OnyxAttributeDef value;
  memset(&value, 0, sizeof value);
  value.name = "value";
  value.kind = ONYX_ATTRIBUTE_FLOAT;
  value.has_default = 1;
  value.default_float = 1.0f;
  OnyxKernelDef kernel = {"CPU", NULL, NULL, add_scalar, NULL};
  OnyxCustomOpDef op;
  memset(&op, 0, sizeof op);
  op.struct_size = sizeof op;
  op.domain = "com.example.c";
  op.name = "AddScalar";
  op.since_version = 1;
  op.inputs = inputs;
  op.input_count = 1;
  op.outputs = outputs;
  op.output_count = 1;
  op.attributes = &value;
  op.attribute_count = 1;
  op.infer_shapes = same_shape;
  op.kernels = &kernel;
  op.kernel_count = 1;
  return api->add_op(registration, &op);
}

__attribute__((visibility("default"))) const OnyxCustomOpLibrary* onyx_custom_op_library(void) {
  static const OnyxCustomOpLibrary library = {ONYX_CUSTOM_OP_ABI_VERSION, sizeof(OnyxCustomOpLibrary),
                                              "onyx C test ops", register_ops};
  return &library;
}
