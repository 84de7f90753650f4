/* The stable C ABI between onyx and custom-op plug-in libraries. Only C types cross it (no C++
 * classes, exceptions or allocations freed on the other side), so a library built with another
 * compiler or standard library still loads. Most authors use the C++ wrapper on top of it,
 * onyx_custom_op.hpp, which is header-only and compiles into the library.
 *
 * A library exports one symbol, ONYX_CUSTOM_OP_ENTRY ("onyx_custom_op_library"), a function
 * returning a pointer to a static OnyxCustomOpLibrary. Its first two fields never move: onyx
 * reads abi_version and struct_size before anything else and refuses a library built for
 * another ABI version with a message naming both versions. Later versions only append fields
 * at the end of the structs; each struct carries its size so older readers stay safe.
 *
 * onyx calls register_ops once per load; the library calls api->add_op for each op. Every
 * string and array it passes is copied during the call. Kernels may run concurrently on
 * several threads (one state per node): compute must not modify state without locking. */
#ifndef ONYX_CUSTOM_OP_ABI_H
#define ONYX_CUSTOM_OP_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ONYX_CUSTOM_OP_ABI_VERSION 1
#define ONYX_CUSTOM_OP_ENTRY "onyx_custom_op_library"

/* Element types are ONNX TensorProto.DataType codes (1 float, 7 int64, 11 double, ...).
 * Attribute kinds are ONNX AttributeProto.AttributeType codes. */
enum { ONYX_ATTRIBUTE_FLOAT = 1, ONYX_ATTRIBUTE_INT = 2, ONYX_ATTRIBUTE_STRING = 3,
       ONYX_ATTRIBUTE_FLOATS = 6, ONYX_ATTRIBUTE_INTS = 7 };
enum { ONYX_ARITY_SINGLE = 0, ONYX_ARITY_OPTIONAL = 1, ONYX_ARITY_VARIADIC = 2 };

/* A tensor seen by a kernel: dims are valid during the call; data is host memory on the CPU
 * provider and device memory on others. */
typedef struct OnyxTensor {
  int32_t dtype;
  int32_t rank;
  const int64_t* dims;
  void* data;
} OnyxTensor;

/* Opaque: one kernel creation, one compute call or one shape inference. */
typedef struct OnyxContext OnyxContext;

/* What onyx offers a library's kernels and shape rules. Functions returning int return 1 for
 * yes/success and 0 for no/failure. Attribute getters see declared defaults. */
typedef struct OnyxHostApi {
  uint32_t abi_version;
  uint32_t struct_size;
  int (*attribute_float)(const OnyxContext* context, const char* name, float* value);
  int (*attribute_int)(const OnyxContext* context, const char* name, int64_t* value);
  /* The string stays valid during the call. */
  int (*attribute_string)(const OnyxContext* context, const char* name, const char** value, size_t* length);
  int (*attribute_floats)(const OnyxContext* context, const char* name, const float** values, size_t* count);
  int (*attribute_ints)(const OnyxContext* context, const char* name, const int64_t** values, size_t* count);
  size_t (*input_count)(const OnyxContext* context);
  size_t (*output_count)(const OnyxContext* context);
  /* Kernels: input i (0 if absent); allocate output i (0 on failure, with the error set). */
  int (*input)(const OnyxContext* context, size_t index, OnyxTensor* tensor);
  int (*has_output)(const OnyxContext* context, size_t index);
  int (*allocate_output)(OnyxContext* context, size_t index, int32_t dtype, int32_t rank, const int64_t* dims,
                         OnyxTensor* tensor);
  /* Shape rules: input i's type (0 if absent). dtype 0 when unknown; rank -1 when unknown; a
   * dim -1 when unknown. dims receives at most `capacity` entries. */
  int (*input_type)(const OnyxContext* context, size_t index, int32_t* dtype, int32_t* rank, int64_t* dims,
                    size_t capacity);
  /* Shape rules: output i's type as the type constraints gave it (same conventions). */
  int (*output_type)(const OnyxContext* context, size_t index, int32_t* dtype, int32_t* rank, int64_t* dims,
                     size_t capacity);
  int (*set_output_type)(OnyxContext* context, size_t index, int32_t dtype, int32_t rank, const int64_t* dims);
  /* Shape rules: output `output` gets the shape of input `input`, symbolic dims included. */
  int (*copy_input_shape)(OnyxContext* context, size_t input, size_t output);
  /* Any call: the message onyx reports (with the node's name) when the call returns nonzero. */
  void (*set_error)(OnyxContext* context, const char* message);
} OnyxHostApi;

typedef struct OnyxParameterDef {
  const char* name;
  const char* type; /* a type parameter ("T") or an ONNX element type name ("float") */
  int32_t arity;    /* ONYX_ARITY_* */
  int32_t min_count; /* variadic only */
} OnyxParameterDef;

typedef struct OnyxTypeConstraintDef {
  const char* parameter;
  const int32_t* allowed; /* element type codes */
  size_t allowed_count;
} OnyxTypeConstraintDef;

typedef struct OnyxAttributeDef {
  const char* name;
  int32_t kind;         /* ONYX_ATTRIBUTE_* */
  int32_t has_default;  /* 0: required */
  float default_float;
  int64_t default_int;
  const char* default_string;
  const float* default_floats;
  size_t default_floats_count;
  const int64_t* default_ints;
  size_t default_ints_count;
} OnyxAttributeDef;

/* A kernel for one provider ("CPU", "CUDA"). create (optional) runs once per node with
 * user_data and sets the state compute receives; without create, compute receives user_data.
 * destroy (optional) frees the state. create and compute return 0 on success; on failure they
 * call api->set_error and return nonzero. */
typedef struct OnyxKernelDef {
  const char* provider;
  void* user_data;
  int (*create)(void* user_data, const OnyxContext* context, const OnyxHostApi* api, void** state);
  int (*compute)(void* state, OnyxContext* context, const OnyxHostApi* api);
  void (*destroy)(void* state);
} OnyxKernelDef;

typedef struct OnyxCustomOpDef {
  uint32_t struct_size;
  const char* domain;
  const char* name;
  int64_t since_version;
  int64_t until_version; /* 0: open-ended */
  const OnyxParameterDef* inputs;
  size_t input_count;
  const OnyxParameterDef* outputs;
  size_t output_count;
  const OnyxTypeConstraintDef* type_constraints;
  size_t type_constraint_count;
  const OnyxAttributeDef* attributes;
  size_t attribute_count;
  /* Optional: shapes after the type constraints; 0 on success. */
  int (*infer_shapes)(void* user_data, OnyxContext* context, const OnyxHostApi* api);
  void* infer_shapes_data;
  const OnyxKernelDef* kernels;
  size_t kernel_count;
  /* Optional gradient: a serialized ONNX GraphProto template. Its inputs are the forward
   * inputs, the forward outputs and the gradients of the outputs, in that order; its outputs
   * are the gradients of the forward inputs, one per input, "" for an input without one.
   * Node attributes with ref_attr_name take the forward node's attribute (defaults applied). */
  const void* gradient_graph;
  size_t gradient_graph_size;
} OnyxCustomOpDef;

typedef struct OnyxRegistration OnyxRegistration; /* opaque */

typedef struct OnyxRegistrationApi {
  uint32_t abi_version;
  uint32_t struct_size;
  /* Registers one op; 0 on success, else the error is recorded and loading fails. */
  int (*add_op)(OnyxRegistration* registration, const OnyxCustomOpDef* op);
  void (*set_error)(OnyxRegistration* registration, const char* message);
  const OnyxHostApi* host;
} OnyxRegistrationApi;

typedef struct OnyxCustomOpLibrary {
  uint32_t abi_version; /* ONYX_CUSTOM_OP_ABI_VERSION the library was built with */
  uint32_t struct_size; /* sizeof(OnyxCustomOpLibrary) the library was built with */
  const char* name;     /* for messages */
  /* 0 on success. */
  int (*register_ops)(OnyxRegistration* registration, const OnyxRegistrationApi* api);
} OnyxCustomOpLibrary;

typedef const OnyxCustomOpLibrary* (*OnyxCustomOpLibraryEntry)(void);

#ifdef __cplusplus
}
#endif

#endif /* ONYX_CUSTOM_OP_ABI_H */
