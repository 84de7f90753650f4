#include "runtime/extensions/custom_op_library.h"

#include <dlfcn.h>

#include "runtime/extensions/custom_op_host_api.h"
#include "runtime/extensions/gradient_template.h"
#include "runtime/extensions/shared_object_symbols.h"
#include "runtime/ir/attribute_builders.h"

namespace onyx {

namespace fs = std::filesystem;

namespace {

// A kernel whose code lives in a plug-in: create/compute/destroy through the C ABI.
class AbiKernel final : public Kernel {
 public:
  AbiKernel(const KernelInfo& info, const OnyxKernelDef& def, std::string op, std::shared_ptr<const void> library)
      : attributes_(info.node()), compute_(def.compute), destroy_(def.destroy), op_(std::move(op)),
        library_(std::move(library)) {
    state_ = def.user_data;
    if (def.create) {
      OnyxContext context(attributes_);
      context.info = &info;
      if (def.create(def.user_data, &context, &host_api(), &state_) != 0) context.fail("creating the kernel of " + op_);
      created_ = true;
    }
  }
  ~AbiKernel() override {
    if (destroy_ && created_) destroy_(state_);
  }
  void compute(KernelContext& kernel_context) override {
    OnyxContext context(attributes_);
    context.kernel = &kernel_context;
    if (compute_(state_, &context, &host_api()) != 0) context.fail(op_);
  }

 private:
  NodeAttributes attributes_;
  int (*compute_)(void*, OnyxContext*, const OnyxHostApi*);
  void (*destroy_)(void*);
  void* state_ = nullptr;
  bool created_ = false;  // only a state create made is destroyed
  std::string op_;
  std::shared_ptr<const void> library_;
};

std::string text(const char* value) { return value ? value : ""; }

std::vector<CustomOpParameter> parameters_of(const OnyxParameterDef* defs, size_t count) {
  std::vector<CustomOpParameter> parameters;
  for (size_t i = 0; i < count; ++i) {
    auto arity = defs[i].arity == ONYX_ARITY_OPTIONAL   ? ParameterArity::kOptional
                 : defs[i].arity == ONYX_ARITY_VARIADIC ? ParameterArity::kVariadic
                                                        : ParameterArity::kSingle;
    parameters.push_back({text(defs[i].name), text(defs[i].type), arity, defs[i].min_count});
  }
  return parameters;
}

CustomOpAttribute attribute_of(const OnyxAttributeDef& def) {
  std::string name = text(def.name);
  CustomOpAttribute attribute{name, static_cast<Attribute::Kind>(def.kind), std::nullopt};
  if (!def.has_default) return attribute;
  switch (def.kind) {
    case ONYX_ATTRIBUTE_FLOAT: attribute.default_value = make_attribute(name, def.default_float); break;
    case ONYX_ATTRIBUTE_INT: attribute.default_value = make_attribute(name, def.default_int); break;
    case ONYX_ATTRIBUTE_STRING: attribute.default_value = make_attribute(name, text(def.default_string)); break;
    case ONYX_ATTRIBUTE_FLOATS:
      attribute.default_value = make_attribute(
          name, std::vector<float>(def.default_floats, def.default_floats + def.default_floats_count));
      break;
    case ONYX_ATTRIBUTE_INTS:
      attribute.default_value = make_attribute(
          name, std::vector<int64_t>(def.default_ints, def.default_ints + def.default_ints_count));
      break;
    default:
      throw_error(ErrorCode::kInvalidArgument, "attribute '", name, "' has kind code ", def.kind,
                  ", which the custom-op ABI does not support (float, int, string, floats, ints)");
  }
  return attribute;
}

CustomOpDefinition definition_of(const OnyxCustomOpDef& op, const CustomOpLibrary& library) {
  if (op.struct_size < sizeof(OnyxCustomOpDef)) {
    throw_error(ErrorCode::kInvalidArgument, "an OnyxCustomOpDef of ", op.struct_size, " bytes, expected ",
                sizeof(OnyxCustomOpDef), " (ABI version ", ONYX_CUSTOM_OP_ABI_VERSION, ")");
  }
  CustomOpDefinition def(text(op.domain), text(op.name), op.since_version);
  if (op.until_version != 0) def.until_version = op.until_version;
  def.source = library.path.string();
  def.keep_alive = library.handle;
  def.inputs = parameters_of(op.inputs, op.input_count);
  def.outputs = parameters_of(op.outputs, op.output_count);
  for (size_t i = 0; i < op.type_constraint_count; ++i) {
    const auto& constraint = op.type_constraints[i];
    std::vector<DataType> allowed;
    for (size_t k = 0; k < constraint.allowed_count; ++k) allowed.push_back(dtype_from_code(constraint.allowed[k]));
    def.type_constraint(text(constraint.parameter), std::move(allowed));
  }
  for (size_t i = 0; i < op.attribute_count; ++i) def.attributes.push_back(attribute_of(op.attributes[i]));
  std::string described = def.describe();
  if (op.infer_shapes) {
    auto infer = op.infer_shapes;
    void* data = op.infer_shapes_data;
    def.shape_rule = [infer, data, described](InferenceContext& ctx) {
      OnyxContext context(ctx.attributes());
      context.inference = &ctx;
      if (infer(data, &context, &host_api()) != 0) context.fail("shape inference of " + described);
    };
  }
  for (size_t i = 0; i < op.kernel_count; ++i) {
    OnyxKernelDef kernel = op.kernels[i];
    if (kernel.compute == nullptr) {
      throw_error(ErrorCode::kInvalidArgument, described, ": the ", text(kernel.provider), " kernel has no compute");
    }
    std::shared_ptr<const void> handle = library.handle;
    def.kernel(text(kernel.provider), KernelFactory([kernel, described, handle](const KernelInfo& info) {
                 return std::unique_ptr<Kernel>(std::make_unique<AbiKernel>(info, kernel, described, handle));
               }));
  }
  if (op.gradient_graph != nullptr && op.gradient_graph_size > 0) {
    def.gradient = gradient_rule_from_template(op.gradient_graph, op.gradient_graph_size, described);
  }
  return def;
}

// What the library sees as OnyxRegistration: where its ops go and its error, if any.
struct Registration {
  CustomOpLibrary* library;
  std::string error;
};

}  // namespace
}  // namespace onyx

struct OnyxRegistration : onyx::Registration {};

namespace onyx {
namespace {

int add_op(OnyxRegistration* registration, const OnyxCustomOpDef* op) noexcept {
  try {
    if (op == nullptr) throw_error(ErrorCode::kInvalidArgument, "add_op was given no op");
    registration->library->ops.push_back(definition_of(*op, *registration->library));
    return 0;
  } catch (const std::exception& error) {
    registration->error = error.what();
    return 1;
  }
}

void set_registration_error(OnyxRegistration* registration, const char* message) noexcept {
  registration->error = text(message);
}

const OnyxRegistrationApi& registration_api() {
  static const OnyxRegistrationApi api{ONYX_CUSTOM_OP_ABI_VERSION, sizeof(OnyxRegistrationApi), add_op,
                                       set_registration_error, &host_api()};
  return api;
}

// The exported symbols, for the message when the entry is missing.
std::string describe_exports(const fs::path& path) {
  std::vector<std::string> symbols = exported_function_symbols(path);
  if (symbols.empty()) return "it exports no functions";
  std::string listed;
  size_t shown = std::min<size_t>(symbols.size(), 12);
  for (size_t i = 0; i < shown; ++i) listed += (i ? ", " : "") + symbols[i];
  if (shown < symbols.size()) listed += ", ... (" + std::to_string(symbols.size()) + " in all)";
  std::string hint;
  for (const auto& symbol : symbols) {
    if (symbol == "RegisterCustomOps") hint = "; RegisterCustomOps suggests an onnxruntime custom-op library, which onyx cannot load";
  }
  return "it exports " + listed + hint;
}

}  // namespace

CustomOpLibrary load_custom_op_library(const fs::path& given) {
  std::error_code ignored;
  fs::path path = fs::absolute(given, ignored);
  if (!fs::is_regular_file(path, ignored)) {
    throw_error(ErrorCode::kInvalidArgument, "custom-op library not found: looked for ", path.string(),
                fs::exists(path, ignored) ? " (it exists but is not a file)" : " (no such file)");
  }
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    throw_error(ErrorCode::kInvalidArgument, "cannot load custom-op library ", path.string(), ": ", text(dlerror()));
  }
  CustomOpLibrary library;
  library.path = path;
  library.handle = std::shared_ptr<void>(handle, [](void* h) { dlclose(h); });
  dlerror();
  auto entry = reinterpret_cast<OnyxCustomOpLibraryEntry>(dlsym(handle, ONYX_CUSTOM_OP_ENTRY));
  if (entry == nullptr) {
    throw_error(ErrorCode::kInvalidArgument, "custom-op library ", path.string(), " has no entry symbol '",
                ONYX_CUSTOM_OP_ENTRY, "' (define it with ONYX_CUSTOM_OP_LIBRARY from onyx_custom_op.hpp); ",
                describe_exports(path));
  }
  const OnyxCustomOpLibrary* description = entry();
  if (description == nullptr) {
    throw_error(ErrorCode::kInvalidArgument, "custom-op library ", path.string(), ": ", ONYX_CUSTOM_OP_ENTRY,
                "() returned no library description");
  }
  if (description->abi_version != ONYX_CUSTOM_OP_ABI_VERSION ||
      description->struct_size < sizeof(OnyxCustomOpLibrary)) {
    throw_error(ErrorCode::kInvalidArgument, "custom-op library ", path.string(),
                " was built for onyx custom-op ABI version ", description->abi_version, " (OnyxCustomOpLibrary of ",
                description->struct_size, " bytes); this onyx provides ABI version ", ONYX_CUSTOM_OP_ABI_VERSION, " (",
                sizeof(OnyxCustomOpLibrary), " bytes): rebuild the library against this onyx's onyx_custom_op_abi.h");
  }
  library.name = text(description->name);
  if (description->register_ops == nullptr) {
    throw_error(ErrorCode::kInvalidArgument, "custom-op library ", path.string(), " gives no register_ops function");
  }
  OnyxRegistration registration;
  registration.library = &library;
  int status = description->register_ops(&registration, &registration_api());
  if (status != 0 || !registration.error.empty()) {
    throw_error(ErrorCode::kInvalidArgument, "custom-op library ", path.string(), " failed to register its ops: ",
                registration.error.empty() ? "register_ops returned " + std::to_string(status) : registration.error);
  }
  if (library.ops.empty()) {
    throw_error(ErrorCode::kInvalidArgument, "custom-op library ", path.string(), " registered no ops");
  }
  return library;
}

void register_custom_op_library(OpRegistry& registry, const fs::path& path) {
  CustomOpLibrary library = load_custom_op_library(path);
  {
    // All or nothing: a conflict in the library's third op must not leave the first two behind.
    OpRegistry trial(&registry);
    for (const auto& op : library.ops) trial.add(op);
  }
  for (auto& op : library.ops) registry.add(std::move(op));
  registry.keep_alive(library.handle);
}

std::shared_ptr<OpRegistry> make_op_registry(std::vector<CustomOpDefinition> ops,
                                             const std::vector<fs::path>& libraries, const OpRegistry& parent) {
  auto registry = std::make_shared<OpRegistry>(&parent);
  for (auto& op : ops) registry->add(std::move(op));
  for (const auto& path : libraries) register_custom_op_library(*registry, path);
  return registry;
}

}  // namespace onyx
