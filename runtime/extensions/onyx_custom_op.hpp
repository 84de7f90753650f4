// The C++ way to write an onyx custom-op library: header-only, on top of the C ABI of
// onyx_custom_op_abi.h, so the library links nothing from onyx and only C types cross into it.
// Everything here compiles into the library, in namespace onyx_plugin (never onyx, so its
// inline functions cannot be confused with onyx's own when both are loaded).
//
//   #include "onyx_custom_op.hpp"
//   using namespace onyx_plugin;
//   static void scaled_relu(KernelContext& ctx) { ... }
//   static void register_ops(Registry& registry) {
//     registry.add(Op("com.acme", "ScaledRelu").input("X", "T").output("Y", "T")
//                      .type_constraint("T", {ONYX_FLOAT}).attribute("alpha", 1.0f)
//                      .same_shape_as_input(0).cpu_kernel(scaled_relu));
//   }
//   ONYX_CUSTOM_OP_LIBRARY("acme ops", register_ops)
//
// Kernels: a plain function void(KernelContext&), or a class K with K(const KernelInfo&) and
// void compute(KernelContext&) (cpu_kernel<K>()), created once per node. Throw onyx_plugin::Error
// (or any std::exception) to fail; onyx reports the message with the node's name.
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "onyx_custom_op_abi.h"

namespace onyx_plugin {

// Element type codes (ONNX TensorProto.DataType).
enum : int32_t { ONYX_FLOAT = 1, ONYX_UINT8 = 2, ONYX_INT8 = 3, ONYX_INT32 = 6, ONYX_INT64 = 7, ONYX_BOOL = 9,
                 ONYX_FLOAT16 = 10, ONYX_DOUBLE = 11 };

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// onyx refused an op and holds the reason already.
struct Refused : Error {
  using Error::Error;
};

class Tensor {
 public:
  explicit Tensor(const OnyxTensor& view) : view_(view) {}
  int32_t dtype() const { return view_.dtype; }
  size_t rank() const { return static_cast<size_t>(view_.rank); }
  int64_t dim(size_t i) const { return view_.dims[i]; }
  std::vector<int64_t> shape() const { return {view_.dims, view_.dims + view_.rank}; }
  int64_t element_count() const {
    int64_t count = 1;
    for (int32_t i = 0; i < view_.rank; ++i) count *= view_.dims[i];
    return count;
  }
  template <typename T> T* data() const { return static_cast<T*>(view_.data); }

 private:
  OnyxTensor view_;
};

// Attribute access shared by kernels and shape rules; declared defaults apply.
class Attributes {
 public:
  Attributes(const OnyxContext* context, const OnyxHostApi* api) : context_(context), api_(api) {}
  float get_float(const char* name) const {
    float value = 0;
    if (!api_->attribute_float(context_, name, &value)) missing(name, "float");
    return value;
  }
  int64_t get_int(const char* name) const {
    int64_t value = 0;
    if (!api_->attribute_int(context_, name, &value)) missing(name, "int");
    return value;
  }
  std::string get_string(const char* name) const {
    const char* value = nullptr;
    size_t length = 0;
    if (!api_->attribute_string(context_, name, &value, &length)) missing(name, "string");
    return {value, length};
  }
  std::vector<float> get_floats(const char* name) const {
    const float* values = nullptr;
    size_t count = 0;
    if (!api_->attribute_floats(context_, name, &values, &count)) missing(name, "floats");
    return {values, values + count};
  }
  std::vector<int64_t> get_ints(const char* name) const {
    const int64_t* values = nullptr;
    size_t count = 0;
    if (!api_->attribute_ints(context_, name, &values, &count)) missing(name, "ints");
    return {values, values + count};
  }

 private:
  [[noreturn]] static void missing(const char* name, const char* kind) {
    throw Error(std::string("the node has no ") + kind + " attribute '" + name + "'");
  }
  const OnyxContext* context_;
  const OnyxHostApi* api_;
};

struct TypeView {
  int32_t dtype = 0;  // 0: unknown
  int32_t rank = -1;  // -1: unknown
  std::vector<int64_t> dims;  // -1: unknown
};

class KernelInfo : public Attributes {
 public:
  KernelInfo(const OnyxContext* context, const OnyxHostApi* api) : Attributes(context, api), context_(context), api_(api) {}
  size_t input_count() const { return api_->input_count(context_); }
  size_t output_count() const { return api_->output_count(context_); }
  // Inferred type of input i; present() false for an absent optional input.
  bool input_type(size_t i, TypeView& type) const {
    type.dims.assign(16, -1);
    bool present = api_->input_type(context_, i, &type.dtype, &type.rank, type.dims.data(), type.dims.size()) != 0;
    type.dims.resize(type.rank > 0 ? static_cast<size_t>(type.rank) : 0);
    return present;
  }

 private:
  const OnyxContext* context_;
  const OnyxHostApi* api_;
};

class KernelContext : public Attributes {
 public:
  KernelContext(OnyxContext* context, const OnyxHostApi* api) : Attributes(context, api), context_(context), api_(api) {}
  size_t input_count() const { return api_->input_count(context_); }
  size_t output_count() const { return api_->output_count(context_); }
  bool has_input(size_t i) const {
    OnyxTensor view;
    return api_->input(context_, i, &view) != 0;
  }
  Tensor input(size_t i) const {
    OnyxTensor view{};
    if (!api_->input(context_, i, &view)) throw Error("input " + std::to_string(i) + " is absent");
    return Tensor(view);
  }
  bool has_output(size_t i) const { return api_->has_output(context_, i) != 0; }
  Tensor output(size_t i, int32_t dtype, const std::vector<int64_t>& dims) {
    OnyxTensor view{};
    if (!api_->allocate_output(context_, i, dtype, static_cast<int32_t>(dims.size()), dims.data(), &view)) {
      throw Error("cannot allocate output " + std::to_string(i));
    }
    return Tensor(view);
  }

 private:
  OnyxContext* context_;
  const OnyxHostApi* api_;
};

class ShapeContext : public Attributes {
 public:
  ShapeContext(OnyxContext* context, const OnyxHostApi* api) : Attributes(context, api), context_(context), api_(api) {}
  size_t input_count() const { return api_->input_count(context_); }
  size_t output_count() const { return api_->output_count(context_); }
  bool input_type(size_t i, TypeView& type) const {
    type.dims.assign(16, -1);
    bool present = api_->input_type(context_, i, &type.dtype, &type.rank, type.dims.data(), type.dims.size()) != 0;
    type.dims.resize(type.rank > 0 ? static_cast<size_t>(type.rank) : 0);
    return present;
  }
  // dtype 0 keeps the element type the type constraints gave.
  void set_output(size_t i, int32_t dtype, const std::vector<int64_t>& dims) {
    api_->set_output_type(context_, i, dtype, static_cast<int32_t>(dims.size()), dims.data());
  }
  void copy_input_shape(size_t input, size_t output) { api_->copy_input_shape(context_, input, output); }

 private:
  OnyxContext* context_;
  const OnyxHostApi* api_;
};

namespace detail {

template <typename Body>
int guarded(OnyxContext* context, const OnyxHostApi* api, Body&& body) noexcept {
  try {
    body();
    return 0;
  } catch (const std::exception& error) {
    api->set_error(context, error.what());
  } catch (...) {
    api->set_error(context, "unknown exception");
  }
  return 1;
}

using KernelFunction = void (*)(KernelContext&);
using ShapeFunction = void (*)(ShapeContext&);

inline int call_function(void* state, OnyxContext* context, const OnyxHostApi* api) {
  return guarded(context, api, [&] {
    KernelContext ctx(context, api);
    reinterpret_cast<KernelFunction>(state)(ctx);
  });
}

template <typename K>
int create_class(void*, const OnyxContext* context, const OnyxHostApi* api, void** state) {
  return guarded(const_cast<OnyxContext*>(context), api, [&] { *state = new K(KernelInfo(context, api)); });
}
template <typename K>
int compute_class(void* state, OnyxContext* context, const OnyxHostApi* api) {
  return guarded(context, api, [&] {
    KernelContext ctx(context, api);
    static_cast<K*>(state)->compute(ctx);
  });
}
template <typename K>
void destroy_class(void* state) { delete static_cast<K*>(state); }

inline int call_shape_function(void* data, OnyxContext* context, const OnyxHostApi* api) {
  return guarded(context, api, [&] {
    ShapeContext ctx(context, api);
    reinterpret_cast<ShapeFunction>(data)(ctx);
  });
}

inline void same_shape_as_input_0(ShapeContext& ctx) { ctx.copy_input_shape(0, 0); }

// Protocol-buffer wire format, enough to write an ONNX GraphProto.
class Writer {
 public:
  void varint(uint64_t value) {
    while (value >= 0x80) {
      bytes_.push_back(static_cast<char>(value | 0x80));
      value >>= 7;
    }
    bytes_.push_back(static_cast<char>(value));
  }
  void tag(int field, int wire_type) { varint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire_type)); }
  void bytes(int field, const std::string& value) {
    tag(field, 2);
    varint(value.size());
    bytes_ += value;
  }
  void int64(int field, int64_t value) {
    tag(field, 0);
    varint(static_cast<uint64_t>(value));
  }
  void float32(int field, float value) {
    tag(field, 5);
    char raw[4];
    std::memcpy(raw, &value, 4);
    bytes_.append(raw, 4);
  }
  const std::string& str() const { return bytes_; }

 private:
  std::string bytes_;
};

}  // namespace detail

// A node attribute in a gradient template. ref("alpha") takes the forward node's attribute.
struct Attr {
  std::string name;
  int32_t kind = ONYX_ATTRIBUTE_FLOAT;
  float f = 0;
  int64_t i = 0;
  std::string s;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::string ref;

  Attr(std::string n, float value) : name(std::move(n)), kind(ONYX_ATTRIBUTE_FLOAT), f(value) {}
  Attr(std::string n, int64_t value) : name(std::move(n)), kind(ONYX_ATTRIBUTE_INT), i(value) {}
  Attr(std::string n, int value) : Attr(std::move(n), static_cast<int64_t>(value)) {}
  Attr(std::string n, std::string value) : name(std::move(n)), kind(ONYX_ATTRIBUTE_STRING), s(std::move(value)) {}
  Attr(std::string n, const char* value) : Attr(std::move(n), std::string(value)) {}
  Attr(std::string n, std::vector<int64_t> values) : name(std::move(n)), kind(ONYX_ATTRIBUTE_INTS), ints(std::move(values)) {}
  Attr(std::string n, std::vector<float> values) : name(std::move(n)), kind(ONYX_ATTRIBUTE_FLOATS), floats(std::move(values)) {}
  // An attribute of kind `kind` bound to the forward node's attribute `forward_name`.
  static Attr ref_to(std::string n, int32_t kind, std::string forward_name) {
    Attr attr(std::move(n), 0.0f);
    attr.kind = kind;
    attr.ref = std::move(forward_name);
    return attr;
  }
};

// A gradient as an ONNX graph template (see gradient_template.h in onyx): inputs are the
// forward inputs, forward outputs and output gradients; outputs the input gradients ("" for
// none). Serialized to a GraphProto for the C ABI.
class GradientGraph {
 public:
  GradientGraph& inputs(std::vector<std::string> names) {
    inputs_ = std::move(names);
    return *this;
  }
  GradientGraph& outputs(std::vector<std::string> names) {
    outputs_ = std::move(names);
    return *this;
  }
  GradientGraph& node(std::string op_type, std::vector<std::string> node_inputs, std::vector<std::string> node_outputs,
                      std::vector<Attr> attributes = {}, std::string domain = "") {
    detail::Writer w;
    for (const auto& name : node_inputs) w.bytes(1, name);
    for (const auto& name : node_outputs) w.bytes(2, name);
    w.bytes(4, op_type);
    for (const Attr& attr : attributes) w.bytes(5, attribute(attr));
    if (!domain.empty()) w.bytes(7, domain);
    nodes_.push_back(w.str());
    return *this;
  }
  // A float scalar constant, as an initializer.
  GradientGraph& constant(std::string name, float value) {
    detail::Writer w;
    w.int64(2, ONYX_FLOAT);
    w.bytes(8, name);
    std::string raw(4, '\0');
    std::memcpy(raw.data(), &value, 4);
    w.bytes(9, raw);
    initializers_.push_back(w.str());
    return *this;
  }
  std::string serialize() const {
    detail::Writer w;
    for (const auto& node : nodes_) w.bytes(1, node);
    w.bytes(2, "gradient");
    for (const auto& tensor : initializers_) w.bytes(5, tensor);
    for (const auto& name : inputs_) w.bytes(11, value_info(name));
    for (const auto& name : outputs_) w.bytes(12, value_info(name));
    return w.str();
  }

 private:
  static std::string value_info(const std::string& name) {
    detail::Writer w;
    w.bytes(1, name);
    return w.str();
  }
  static std::string attribute(const Attr& attr) {
    detail::Writer w;
    w.bytes(1, attr.name);
    if (!attr.ref.empty()) {
      w.bytes(21, attr.ref);
    } else {
      switch (attr.kind) {
        case ONYX_ATTRIBUTE_FLOAT: w.float32(2, attr.f); break;
        case ONYX_ATTRIBUTE_INT: w.int64(3, attr.i); break;
        case ONYX_ATTRIBUTE_STRING: w.bytes(4, attr.s); break;
        case ONYX_ATTRIBUTE_FLOATS: for (float v : attr.floats) w.float32(7, v); break;
        case ONYX_ATTRIBUTE_INTS: for (int64_t v : attr.ints) w.int64(8, v); break;
        default: break;
      }
    }
    w.int64(20, attr.kind);
    return w.str();
  }
  std::vector<std::string> inputs_;
  std::vector<std::string> outputs_;
  std::vector<std::string> nodes_;
  std::vector<std::string> initializers_;
};

// One op's definition; handed to Registry::add, which copies what it needs.
class Op {
 public:
  Op(std::string domain, std::string name, int64_t since_version = 1)
      : domain_(std::move(domain)), name_(std::move(name)), since_(since_version) {}

  Op& versions(int64_t since, int64_t until = 0) {
    since_ = since;
    until_ = until;
    return *this;
  }
  Op& input(std::string name, std::string type) { return add(inputs_, std::move(name), std::move(type), ONYX_ARITY_SINGLE, 1); }
  Op& optional_input(std::string name, std::string type) {
    return add(inputs_, std::move(name), std::move(type), ONYX_ARITY_OPTIONAL, 0);
  }
  Op& variadic_input(std::string name, std::string type, int min_count = 1) {
    return add(inputs_, std::move(name), std::move(type), ONYX_ARITY_VARIADIC, min_count);
  }
  Op& output(std::string name, std::string type) { return add(outputs_, std::move(name), std::move(type), ONYX_ARITY_SINGLE, 1); }
  Op& optional_output(std::string name, std::string type) {
    return add(outputs_, std::move(name), std::move(type), ONYX_ARITY_OPTIONAL, 0);
  }
  Op& type_constraint(std::string parameter, std::vector<int32_t> allowed) {
    constraints_.push_back({std::move(parameter), std::move(allowed)});
    return *this;
  }
  Op& attribute(std::string name, float value) { return attr(std::move(name), ONYX_ATTRIBUTE_FLOAT, true, [&](Attribute& a) { a.f = value; }); }
  Op& attribute(std::string name, int64_t value) { return attr(std::move(name), ONYX_ATTRIBUTE_INT, true, [&](Attribute& a) { a.i = value; }); }
  Op& attribute(std::string name, int value) { return attribute(std::move(name), static_cast<int64_t>(value)); }
  Op& attribute(std::string name, std::string value) {
    return attr(std::move(name), ONYX_ATTRIBUTE_STRING, true, [&](Attribute& a) { a.s = std::move(value); });
  }
  Op& attribute(std::string name, std::vector<float> value) {
    return attr(std::move(name), ONYX_ATTRIBUTE_FLOATS, true, [&](Attribute& a) { a.floats = std::move(value); });
  }
  Op& attribute(std::string name, std::vector<int64_t> value) {
    return attr(std::move(name), ONYX_ATTRIBUTE_INTS, true, [&](Attribute& a) { a.ints = std::move(value); });
  }
  Op& required_attribute(std::string name, int32_t kind) { return attr(std::move(name), kind, false, [](Attribute&) {}); }

  Op& infer_shapes(detail::ShapeFunction function) {
    shape_function_ = function;
    return *this;
  }
  Op& same_shape_as_input(size_t index) {
    if (index != 0) throw Error("same_shape_as_input supports input 0; write a shape function for others");
    return infer_shapes(detail::same_shape_as_input_0);
  }
  Op& kernel(std::string provider, detail::KernelFunction function) {
    kernels_.push_back({std::move(provider), reinterpret_cast<void*>(function), nullptr, detail::call_function, nullptr});
    return *this;
  }
  Op& cpu_kernel(detail::KernelFunction function) { return kernel("CPU", function); }
  Op& cuda_kernel(detail::KernelFunction function) { return kernel("CUDA", function); }
  template <typename K>
  Op& kernel_class(std::string provider) {
    kernels_.push_back({std::move(provider), nullptr, detail::create_class<K>, detail::compute_class<K>,
                        detail::destroy_class<K>});
    return *this;
  }
  template <typename K>
  Op& cpu_kernel() { return kernel_class<K>("CPU"); }
  Op& gradient(const GradientGraph& graph) {
    gradient_ = graph.serialize();
    return *this;
  }

  // Fills `def`, whose pointers stay valid while this Op lives.
  void describe(OnyxCustomOpDef& def) {
    parameters_in_.clear();
    parameters_out_.clear();
    for (const auto& p : inputs_) parameters_in_.push_back({p.name.c_str(), p.type.c_str(), p.arity, p.min_count});
    for (const auto& p : outputs_) parameters_out_.push_back({p.name.c_str(), p.type.c_str(), p.arity, p.min_count});
    constraint_defs_.clear();
    for (const auto& c : constraints_) constraint_defs_.push_back({c.parameter.c_str(), c.allowed.data(), c.allowed.size()});
    attribute_defs_.clear();
    for (const auto& a : attributes_) {
      attribute_defs_.push_back({a.name.c_str(), a.kind, a.has_default, a.f, a.i, a.s.c_str(), a.floats.data(),
                                 a.floats.size(), a.ints.data(), a.ints.size()});
    }
    kernel_defs_.clear();
    for (const auto& k : kernels_) kernel_defs_.push_back({k.provider.c_str(), k.user_data, k.create, k.compute, k.destroy});
    def = OnyxCustomOpDef{};
    def.struct_size = sizeof(OnyxCustomOpDef);
    def.domain = domain_.c_str();
    def.name = name_.c_str();
    def.since_version = since_;
    def.until_version = until_;
    def.inputs = parameters_in_.data();
    def.input_count = parameters_in_.size();
    def.outputs = parameters_out_.data();
    def.output_count = parameters_out_.size();
    def.type_constraints = constraint_defs_.data();
    def.type_constraint_count = constraint_defs_.size();
    def.attributes = attribute_defs_.data();
    def.attribute_count = attribute_defs_.size();
    def.infer_shapes = shape_function_ ? detail::call_shape_function : nullptr;
    def.infer_shapes_data = reinterpret_cast<void*>(shape_function_);
    def.kernels = kernel_defs_.data();
    def.kernel_count = kernel_defs_.size();
    def.gradient_graph = gradient_.empty() ? nullptr : gradient_.data();
    def.gradient_graph_size = gradient_.size();
  }

 private:
  struct Parameter {
    std::string name;
    std::string type;
    int32_t arity;
    int32_t min_count;
  };
  struct Constraint {
    std::string parameter;
    std::vector<int32_t> allowed;
  };
  struct Attribute {
    std::string name;
    int32_t kind = 0;
    int32_t has_default = 0;
    float f = 0;
    int64_t i = 0;
    std::string s;
    std::vector<float> floats;
    std::vector<int64_t> ints;
  };
  struct Kernel {
    std::string provider;
    void* user_data;
    int (*create)(void*, const OnyxContext*, const OnyxHostApi*, void**);
    int (*compute)(void*, OnyxContext*, const OnyxHostApi*);
    void (*destroy)(void*);
  };

  Op& add(std::vector<Parameter>& list, std::string name, std::string type, int32_t arity, int32_t min_count) {
    list.push_back({std::move(name), std::move(type), arity, min_count});
    return *this;
  }
  template <typename Fill>
  Op& attr(std::string name, int32_t kind, bool has_default, Fill&& fill) {
    Attribute a;
    a.name = std::move(name);
    a.kind = kind;
    a.has_default = has_default ? 1 : 0;
    fill(a);
    attributes_.push_back(std::move(a));
    return *this;
  }

  std::string domain_, name_;
  int64_t since_ = 1, until_ = 0;
  std::vector<Parameter> inputs_, outputs_;
  std::vector<Constraint> constraints_;
  std::vector<Attribute> attributes_;
  std::vector<Kernel> kernels_;
  detail::ShapeFunction shape_function_ = nullptr;
  std::string gradient_;
  std::vector<OnyxParameterDef> parameters_in_, parameters_out_;
  std::vector<OnyxTypeConstraintDef> constraint_defs_;
  std::vector<OnyxAttributeDef> attribute_defs_;
  std::vector<OnyxKernelDef> kernel_defs_;
};

// What a library's registration function receives.
class Registry {
 public:
  Registry(OnyxRegistration* registration, const OnyxRegistrationApi* api) : registration_(registration), api_(api) {}
  // Registers `op`; onyx copies it during the call. Throws Error when onyx refuses it.
  void add(Op op) {
    OnyxCustomOpDef def;
    op.describe(def);
    if (api_->add_op(registration_, &def) != 0) throw Refused("onyx refused an op");
  }

 private:
  OnyxRegistration* registration_;
  const OnyxRegistrationApi* api_;
};

namespace detail {
inline int register_with(OnyxRegistration* registration, const OnyxRegistrationApi* api, void (*body)(Registry&)) {
  if (api == nullptr || api->abi_version != ONYX_CUSTOM_OP_ABI_VERSION) return 1;
  try {
    Registry registry(registration, api);
    body(registry);
    return 0;
  } catch (const Refused&) {
    // onyx recorded its own reason.
  } catch (const std::exception& error) {
    api->set_error(registration, error.what());
  }
  return 1;
}
}  // namespace detail

}  // namespace onyx_plugin

// Defines the library's entry symbol. `body` is a function void(onyx_plugin::Registry&).
#define ONYX_CUSTOM_OP_LIBRARY(library_name, body)                                                     \
  static int onyx_plugin_register_ops(OnyxRegistration* registration, const OnyxRegistrationApi* api) { \
    return ::onyx_plugin::detail::register_with(registration, api, body);                             \
  }                                                                                                   \
  extern "C" __attribute__((visibility("default"))) const OnyxCustomOpLibrary* onyx_custom_op_library(void) { \
    static const OnyxCustomOpLibrary library{ONYX_CUSTOM_OP_ABI_VERSION, sizeof(OnyxCustomOpLibrary),  \
                                             library_name, onyx_plugin_register_ops};                 \
    return &library;                                                                                  \
  }
