// Eager mode for Python: op calls by handle (what onyx.ops' generated functions make), the
// gradient tape, the control-flow builders and the traced-function cache of runtime/eager/.
// Python callables given to the builders and the tracer run with the GIL held; compiled graphs
// run with it released.
#include "python/src/eager_bindings.h"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "python/src/tensor_bindings.h"
#include "runtime/common/error.h"
#include "runtime/eager/control_flow.h"
#include "runtime/eager/function.h"
#include "runtime/eager/gradient_tape.h"
#include "runtime/eager/ops.h"
#include "runtime/eager/tensor_factory.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/ir/model_saver.h"

namespace nb = nanobind;

namespace onyx::python {

namespace {

// One attribute from onyx.ops: (name, kind, value) with kind one of the schema's type names.
Attribute attribute_from_python(const nb::handle& item) {
  auto [name, kind, value] = nb::cast<std::tuple<std::string, std::string, nb::object>>(item);
  if (kind == "int") return make_attribute(name, nb::cast<int64_t>(value));
  if (kind == "float") return make_attribute(name, nb::cast<float>(value));
  if (kind == "string") return make_attribute(name, nb::cast<std::string>(value));
  if (kind == "ints") return make_attribute(name, nb::cast<std::vector<int64_t>>(value));
  if (kind == "floats") return make_attribute(name, nb::cast<std::vector<float>>(value));
  if (kind == "strings") return make_attribute(name, nb::cast<std::vector<std::string>>(value));
  if (kind == "tensor") return make_attribute(name, tensor_from_object(value));
  throw_error(ErrorCode::kNotImplemented, "attribute '", name, "' is of type ", kind,
              ", which eager calls cannot pass");
}

Value input_from_python(const nb::handle& item) {
  if (item.is_none()) return Value();
  if (nb::isinstance<nb::list>(item) || nb::isinstance<nb::tuple>(item)) {
    Sequence items;
    for (nb::handle element : item) items.push_back(tensor_from_object(element));
    DataType element_type = items.empty() ? DataType::kFloat : items[0].tensor().dtype();
    return Value::sequence(std::move(items), element_type);
  }
  return tensor_from_object(item);
}

nb::object output_to_python(const Value& value) {
  if (value.is_none()) return nb::none();
  if (value.is_sequence()) {
    nb::list items;
    for (const Value& item : value.sequence_items()) items.append(nb::cast(item.tensor()));
    return items;
  }
  return nb::cast(value.tensor());
}

nb::list call_op(const eager::OpHandle& op, const nb::sequence& inputs, const nb::sequence& attributes,
                 size_t output_count) {
  std::vector<Value> values;
  for (nb::handle item : inputs) values.push_back(input_from_python(item));
  std::vector<Attribute> list;
  for (nb::handle item : attributes) list.push_back(attribute_from_python(item));
  nb::list out;
  for (const Value& value : eager::call_values(op, std::move(values), list, output_count)) {
    out.append(output_to_python(value));
  }
  return out;
}

std::vector<Tensor> tensors_from(const nb::handle& items, const char* what) {
  std::vector<Tensor> tensors;
  for (nb::handle item : items) {
    if (!nb::isinstance<Tensor>(item)) {
      throw_error(ErrorCode::kInvalidArgument, what, " must return onyx.Tensor values, got a ",
                  nb::type_name(item.type()).c_str());
    }
    tensors.push_back(nb::cast<Tensor>(item));
  }
  return tensors;
}

nb::list to_list(const std::vector<Tensor>& tensors) {
  nb::list out;
  for (const Tensor& tensor : tensors) out.append(nb::cast(tensor));
  return out;
}

// A GradientTape that records between start() (`with` entry) and stop() (`with` exit), and
// computes gradients after.
class PythonTape {
 public:
  void start() {
    ONYX_CHECK(!tape_, ErrorCode::kInvalidArgument, "this GradientTape has already recorded; make a new one");
    tape_ = std::make_unique<GradientTape>();
  }
  void stop() { live().stop_recording(); }
  void watch(const Tensor& tensor) { live().watch(tensor); }
  nb::list gradient(const Tensor& target, const std::vector<Tensor>& sources) {
    return to_list(live().gradient(target, sources));
  }
  size_t recorded_ops() const { return tape_ ? tape_->recorded_ops() : 0; }

 private:
  GradientTape& live() {
    ONYX_CHECK(tape_ != nullptr, ErrorCode::kInvalidArgument,
               "the GradientTape is not recording: use it as `with onyx.GradientTape() as tape:`");
    return *tape_;
  }
  std::unique_ptr<GradientTape> tape_;
};

FunctionOptions function_options(const nb::handle& signature, std::vector<std::string> input_names,
                                 std::vector<std::string> output_names, int threads, int optimization_level) {
  FunctionOptions options;
  if (!signature.is_none()) {
    for (nb::handle spec : signature) {
      auto [code, shape] = nb::cast<std::pair<int, std::vector<int64_t>>>(spec);
      options.input_signature.push_back(TensorSpec{dtype_from_code(code), Shape(shape.begin(), shape.end())});
    }
  }
  options.input_names = std::move(input_names);
  options.output_names = std::move(output_names);
  options.session.intra_op_threads = threads;
  options.session.optimization_level = optimization_level;
  return options;
}

}  // namespace

void add_eager_functions(nb::module_& module) {
  nb::class_<eager::OpHandle>(module, "OpHandle")
      .def_prop_ro("domain", &eager::OpHandle::domain)
      .def_prop_ro("op_type", &eager::OpHandle::op_type)
      .def_prop_ro("opset", &eager::OpHandle::opset)
      .def("__repr__", &eager::OpHandle::describe);
  module.def("op_handle", &eager::OpHandle::intern, nb::arg("domain"), nb::arg("op_type"), nb::arg("opset") = 0,
             nb::rv_policy::reference);
  module.def("call_op", &call_op, nb::arg("op"), nb::arg("inputs"), nb::arg("attributes"), nb::arg("output_count"),
             "Runs (or records inside a trace) one op; inputs are tensors, None for omitted ones, or lists "
             "for sequences; attributes are (name, type, value).");
  module.def("eager_op_list", [] {
    std::vector<std::pair<std::string, std::string>> ops = ops::generated_ops();
    for (const std::string& op : ops::ops_left_to_call_values()) ops.emplace_back("", op);
    return ops;
  });
  module.def("set_intra_op_threads", &eager::set_intra_op_threads, nb::arg("threads"));
  module.def("intra_op_threads", &eager::intra_op_threads);
  module.def("in_trace", [] { return eager::current_trace() != nullptr; });
  module.def("zeros_like", &zeros_like);
  module.def("ones_like", &ones_like);

  nb::class_<PythonTape>(module, "Tape")
      .def(nb::init<>())
      .def("start", &PythonTape::start)
      .def("stop", &PythonTape::stop)
      .def("watch", &PythonTape::watch)
      .def("gradient", &PythonTape::gradient, nb::arg("target"), nb::arg("sources"))
      .def_prop_ro("recorded_ops", &PythonTape::recorded_ops);

  module.def("while_loop", [](nb::callable condition, nb::callable body, const std::vector<Tensor>& values) {
    auto condition_fn = [&](const std::vector<Tensor>& v) -> Tensor {
      nb::object result = condition(to_list(v));
      if (!nb::isinstance<Tensor>(result)) {
        throw_error(ErrorCode::kInvalidArgument, "a while loop's condition must be an onyx.Tensor, got a ",
                    nb::type_name(result.type()).c_str());
      }
      return nb::cast<Tensor>(result);
    };
    auto body_fn = [&](const std::vector<Tensor>& v) { return tensors_from(body(to_list(v)), "a loop body"); };
    return to_list(while_loop(condition_fn, body_fn, values));
  });
  module.def("for_range", [](const Tensor& count, nb::callable body, const std::vector<Tensor>& values) {
    auto body_fn = [&](const Tensor& index, const std::vector<Tensor>& v) {
      return tensors_from(body(nb::cast(index), to_list(v)), "a loop body");
    };
    return to_list(for_range(count, body_fn, values));
  });
  module.def("cond", [](const Tensor& predicate, nb::callable then_branch, nb::callable else_branch) {
    auto then_fn = [&] { return tensors_from(then_branch(), "an if branch"); };
    auto else_fn = [&] { return tensors_from(else_branch(), "an if branch"); };
    return to_list(cond(predicate, then_fn, else_fn));
  });

  nb::class_<ConcreteFunction>(module, "ConcreteFunction")
      .def("run",
           [](const ConcreteFunction& function, const std::vector<Tensor>& inputs) {
             std::vector<Tensor> outputs;
             {
               nb::gil_scoped_release release;
               outputs = function.run(inputs);
             }
             return to_list(outputs);
           })
      .def("save", [](const ConcreteFunction& function, const std::string& path) { function.save(path); })
      .def("model_bytes", [](const ConcreteFunction& function) {
        std::string bytes = serialize_model(function.model());
        return nb::bytes(bytes.data(), bytes.size());
      })
      .def_prop_ro("op_types", [](const ConcreteFunction& function) {
        std::vector<std::string> types;
        for (const Node& node : function.model().graph.nodes) types.push_back(node.op_type);
        return types;
      });

  nb::class_<eager::FunctionCache>(module, "FunctionCache")
      .def("__init__",
           [](eager::FunctionCache* self, nb::handle signature, std::vector<std::string> input_names,
              std::vector<std::string> output_names, int threads, int optimization_level) {
             new (self) eager::FunctionCache(function_options(signature, std::move(input_names),
                                                              std::move(output_names), threads, optimization_level));
           },
           nb::arg("input_signature").none(), nb::arg("input_names"), nb::arg("output_names"), nb::arg("threads"),
           nb::arg("optimization_level"))
      .def("concrete",
           [](eager::FunctionCache& cache, const std::vector<Tensor>& inputs, nb::callable callable)
               -> const ConcreteFunction& {
             eager::TracedCallable traced = [&](const std::vector<Tensor>& symbolic) {
               return tensors_from(callable(to_list(symbolic)), "an onyx.function");
             };
             return cache.concrete_for(cache.signature_of(inputs), traced);
           },
           nb::rv_policy::reference_internal)
      .def_prop_ro("trace_count", &eager::FunctionCache::trace_count);
}

}  // namespace onyx::python
