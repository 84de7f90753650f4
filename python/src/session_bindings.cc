// onyx._onyx.Session: an InferenceSession for Python. The onnxruntime-shaped surface
// (NodeArg, SessionOptions, provider names) is python/onyx/session.py; this file only moves
// values across and keeps the GIL released while onyx works, so several Python threads can run
// one session at once.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>

#include "providers/provider_factory.h"
#include "python/src/numpy_values.h"
#include "python/src/session_bindings.h"
#include "runtime/ir/model_loader.h"
#include "runtime/session/inference_session.h"
#include "tools/value_comparison.h"

namespace nb = nanobind;

namespace onyx::python {

namespace {

// onnxruntime's spelling of a type: "tensor(float)", "seq(tensor(int64))", "map(string,tensor(float))".
std::string ort_type_name(const TypeInfo& type) {
  auto inner = [&] { return type.element ? ort_type_name(*type.element) : std::string("unknown"); };
  switch (type.kind) {
    case TypeInfo::Kind::kTensor: return "tensor(" + std::string(dtype_name(type.elem_type)) + ")";
    case TypeInfo::Kind::kSparseTensor: return "sparse_tensor(" + std::string(dtype_name(type.elem_type)) + ")";
    case TypeInfo::Kind::kSequence: return "seq(" + inner() + ")";
    case TypeInfo::Kind::kOptional: return "optional(" + inner() + ")";
    case TypeInfo::Kind::kMap: return "map(" + std::string(dtype_name(type.elem_type)) + "," + inner() + ")";
    default: return "unknown";
  }
}

// A dim as onnxruntime reports it: its number, its symbol, or None.
nb::list ort_shape(const TypeInfo& type) {
  nb::list dims;
  if (type.kind != TypeInfo::Kind::kTensor || !type.shape) return dims;
  for (const Dim& dim : *type.shape) {
    if (dim.is_known()) dims.append(dim.value);
    else if (!dim.symbol.empty()) dims.append(dim.symbol);
    else dims.append(nb::none());
  }
  return dims;
}

nb::list describe(const std::vector<ValueInfo>& values) {
  nb::list out;
  for (const ValueInfo& value : values) {
    out.append(nb::make_tuple(value.name, ort_shape(value.type), ort_type_name(value.type)));
  }
  return out;
}

class Session {
 public:
  Session(nb::object model, int threads, int optimization_level, std::vector<std::string> providers,
          std::vector<std::string> custom_op_libraries, size_t memory_limit, bool profiling,
          std::string profile_file_prefix) {
    SessionOptions options;
    options.enable_profiling = profiling;
    options.profile_file_prefix = std::move(profile_file_prefix);
    options.intra_op_threads = threads;
    options.optimization_level = optimization_level;
    options.memory_limit = memory_limit;
    for (const std::string& library : custom_op_libraries) options.custom_op_libraries.emplace_back(library);
    if (nb::isinstance<nb::bytes>(model)) {
      nb::bytes bytes = nb::cast<nb::bytes>(model);
      std::string copy(bytes.c_str(), bytes.size());  // the bytes object may go once the GIL is released
      nb::gil_scoped_release release;
      options.providers = make_providers(providers);
      session_ = std::make_unique<InferenceSession>(load_model_from_bytes(copy.data(), copy.size()), options);
    } else {
      std::filesystem::path path = nb::cast<std::string>(model);
      nb::gil_scoped_release release;
      options.providers = make_providers(providers);
      session_ = std::make_unique<InferenceSession>(path, options);
    }
  }

  // Graph inputs without an initializer (as onnxruntime lists them) as (name, shape, type).
  nb::list inputs() const {
    std::vector<ValueInfo> fed;
    for (const ValueInfo& input : session_->inputs()) {
      if (!session_->input_is_optional(input.name)) fed.push_back(input);
    }
    return describe(fed);
  }
  nb::list overridable_initializers() const {
    std::vector<ValueInfo> overridable;
    for (const ValueInfo& input : session_->inputs()) {
      if (session_->input_is_optional(input.name)) overridable.push_back(input);
    }
    return describe(overridable);
  }
  nb::list outputs() const { return describe(session_->outputs()); }

  nb::dict metadata() const {
    const Model& model = session_->model();
    nb::dict out;
    out["producer_name"] = model.producer_name;
    out["producer_version"] = model.producer_version;
    out["domain"] = model.domain;
    out["description"] = model.doc;
    // onnxruntime reports an unset model_version as INT64_MAX; onyx's Model reads an unset one
    // as 0, so 0 is reported as unset (a model that sets 0 explicitly reads INT64_MAX too).
    out["version"] = model.model_version != 0 ? model.model_version : std::numeric_limits<int64_t>::max();
    out["graph_name"] = model.graph.name;
    out["graph_description"] = model.graph.doc;
    nb::dict custom;
    for (const auto& [key, value] : model.metadata) custom[nb::str(key.c_str())] = value;
    out["custom_metadata_map"] = custom;
    return out;
  }

  // Whether the outputs depend on a random op (the harness then checks no values).
  bool has_random_outputs() const { return cli::has_random_outputs(session_->model().graph); }

  std::vector<std::string> providers() const {
    std::vector<std::string> names;
    for (const ExecutionProvider* provider : session_->plan().providers()) names.push_back(provider->name());
    return names;
  }

  nb::list run(nb::handle output_names, nb::handle feeds, nb::handle /*run_options*/) const {
    if (!PyDict_Check(feeds.ptr())) {
      throw_error(ErrorCode::kInvalidArgument, "input_feed must be a dict of input name to value, not a ",
                  Py_TYPE(feeds.ptr())->tp_name);
    }
    std::map<std::string, Value> values;
    PyObject *key, *item;
    Py_ssize_t position = 0;
    while (PyDict_Next(feeds.ptr(), &position, &key, &item)) {
      Py_ssize_t size = 0;
      const char* utf8 = PyUnicode_Check(key) ? PyUnicode_AsUTF8AndSize(key, &size) : nullptr;
      if (!utf8) {
        PyErr_Clear();
        throw_error(ErrorCode::kInvalidArgument, "input_feed keys must be input names (str), not ",
                    Py_TYPE(key)->tp_name);
      }
      std::string name(utf8, static_cast<size_t>(size));
      values.emplace(name, value_from_python(item, name, session_->input_named(name).type));
    }
    std::vector<size_t> picked = pick_outputs(output_names);
    std::vector<NamedValue> results;
    {
      nb::gil_scoped_release release;
      results = session_->run(values);
    }
    nb::list out;
    for (size_t index : picked) {
      PyObject* object = value_to_python(results[index].value);
      if (!object) throw nb::python_error();
      out.append(nb::steal(object));
    }
    return out;
  }

  // The trace's file name ("" when profiling is off or already ended).
  std::string end_profiling() {
    nb::gil_scoped_release release;
    return session_->end_profiling().string();
  }

 private:
  std::vector<size_t> pick_outputs(nb::handle output_names) const {
    const std::vector<ValueInfo>& outputs = session_->outputs();
    std::vector<size_t> picked;
    if (output_names.is_none()) {
      for (size_t i = 0; i < outputs.size(); ++i) picked.push_back(i);
      return picked;
    }
    for (nb::handle item : output_names) {
      std::string name = nb::cast<std::string>(item);
      size_t index = 0;
      while (index < outputs.size() && outputs[index].name != name) ++index;
      if (index == outputs.size()) {
        std::string known;
        for (const ValueInfo& output : outputs) known += (known.empty() ? "" : ", ") + output.name;
        throw_error(ErrorCode::kInvalidArgument, "unknown output '", name, "'; the model's outputs are: ", known);
      }
      picked.push_back(index);
    }
    return picked;
  }

  std::unique_ptr<InferenceSession> session_;
};

}  // namespace

void add_session_class(nb::module_& module) {
  nb::class_<Session>(module, "Session")
      .def(nb::init<nb::object, int, int, std::vector<std::string>, std::vector<std::string>, size_t, bool,
                    std::string>(),
           nb::arg("model"), nb::arg("threads"), nb::arg("optimization_level"), nb::arg("providers"),
           nb::arg("custom_op_libraries"), nb::arg("memory_limit"), nb::arg("profiling"),
           nb::arg("profile_file_prefix"))
      .def("inputs", &Session::inputs)
      .def("overridable_initializers", &Session::overridable_initializers)
      .def("outputs", &Session::outputs)
      .def("metadata", &Session::metadata)
      .def("providers", &Session::providers)
      .def("has_random_outputs", &Session::has_random_outputs)
      .def("run", &Session::run, nb::arg("output_names").none(), nb::arg("input_feed").none(),
           nb::arg("run_options").none() = nb::none())
      .def("end_profiling", &Session::end_profiling);

  module.def("available_providers", [] {
    std::vector<std::string> names;
    for (const auto& [name, description] : available_providers()) names.push_back(name);
    return names;
  });
  // Why a provider cannot be used here ("" when it can): a build may have the CUDA provider
  // on a machine without a GPU. What onyx.backend.supports_device asks.
  module.def("provider_error", [](const std::string& spec) -> std::string {
    try {
      make_provider(ProviderSpec::parse(spec))->open();
      return "";
    } catch (const Error& error) {
      return error.what();
    }
  });
}

}  // namespace onyx::python
