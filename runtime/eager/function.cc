#include "runtime/eager/function.h"

#include "runtime/ir/model_saver.h"

namespace onyx {

ConcreteFunction::ConcreteFunction(Model model, const SessionOptions& options)
    : model_(std::move(model)), session_(std::make_unique<InferenceSession>(model_, options)) {}

std::vector<Tensor> ConcreteFunction::run(const std::vector<Tensor>& inputs) const {
  const auto& declared = session_->inputs();
  ONYX_CHECK(inputs.size() == declared.size(), ErrorCode::kInvalidArgument, "traced function takes ",
             declared.size(), " inputs, got ", inputs.size());
  std::map<std::string, Value> feeds;
  for (size_t i = 0; i < inputs.size(); ++i) feeds.emplace(declared[i].name, inputs[i]);
  std::vector<NamedValue> outputs = session_->run(feeds);
  std::vector<Tensor> tensors;
  tensors.reserve(outputs.size());
  for (NamedValue& output : outputs) tensors.push_back(std::move(output.value.mutable_tensor()));
  return tensors;
}

void ConcreteFunction::save(const std::filesystem::path& path) const { save_model(model_, path); }

namespace eager {

std::vector<TensorSpec> FunctionCache::signature_of(const std::vector<Tensor>& inputs) const {
  std::vector<TensorSpec> signature;
  const auto& declared = options_.input_signature;
  if (!declared.empty() && declared.size() != inputs.size()) {
    throw_error(ErrorCode::kInvalidArgument, "traced function: its input signature has ", declared.size(),
                " inputs, the call gives ", inputs.size());
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& input = inputs[i];
    ONYX_CHECK(input.defined() && !input.is_symbolic(), ErrorCode::kInvalidArgument,
               "traced function: input ", i, " is undefined or symbolic");
    TensorSpec spec{input.dtype(), input.shape()};
    if (!declared.empty()) {
      const TensorSpec& expected = declared[i];
      bool matches = expected.dtype == spec.dtype && expected.shape.size() == spec.shape.size();
      for (size_t d = 0; matches && d < spec.shape.size(); ++d) {
        matches = expected.shape[d] < 0 || expected.shape[d] == spec.shape[d];
      }
      if (!matches) {
        throw_error(ErrorCode::kInvalidArgument, "traced function: input ", i, " is ", dtype_name(spec.dtype),
                    shape_to_string(spec.shape), ", its signature says ", dtype_name(expected.dtype),
                    shape_to_string(expected.shape), " (-1: any size)");
      }
      spec.shape = expected.shape;
    }
    signature.push_back(std::move(spec));
  }
  return signature;
}

const ConcreteFunction& FunctionCache::concrete_for(const std::vector<TensorSpec>& signature,
                                                    const TracedCallable& callable) {
  std::vector<std::pair<DataType, Shape>> key;
  for (const TensorSpec& spec : signature) key.emplace_back(spec.dtype, spec.shape);
  std::lock_guard lock(mutex_);
  auto it = traced_.find(key);
  if (it != traced_.end()) return *it->second;

  Model model;
  {
    TraceContext trace;
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < signature.size(); ++i) {
      std::string name = i < options_.input_names.size() ? options_.input_names[i] : "input_" + std::to_string(i);
      std::vector<Dim> dims;
      for (size_t d = 0; d < signature[i].shape.size(); ++d) {
        int64_t dim = signature[i].shape[d];
        dims.push_back(dim >= 0 ? Dim::known(dim) : Dim::named(name + "_dim_" + std::to_string(d)));
      }
      inputs.push_back(trace.add_input(name, TypeInfo::tensor(signature[i].dtype, std::move(dims))));
    }
    std::vector<Tensor> outputs = callable(inputs);
    model = trace.finish(outputs, options_.output_names);
  }
  auto concrete = std::make_unique<ConcreteFunction>(std::move(model), options_.session);
  return *traced_.emplace(std::move(key), std::move(concrete)).first->second;
}

size_t FunctionCache::trace_count() const {
  std::lock_guard lock(mutex_);
  return traced_.size();
}

}  // namespace eager
}  // namespace onyx
