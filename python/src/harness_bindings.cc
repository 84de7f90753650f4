// The C++ conformance harness's judgement of outputs (tools/value_comparison.cc, compiled into
// this module as well as into the CLI), for onnx's BackendTest run over onyx.backend
// (tests/python/test_onnx_backend.py): both runs give each test the same verdict, so one
// expected-failure list serves both.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include "python/src/harness_bindings.h"
#include "python/src/numpy_values.h"
#include "tools/value_comparison.h"

namespace nb = nanobind;

namespace onyx::python {

namespace {
// An output as onnx's runner holds it: an array, a list (a sequence) or None (an empty optional).
Value any_value(nb::handle object, const std::string& name) {
  if (object.is_none()) return Value();
  TypeInfo type;
  if (PyList_Check(object.ptr()) || PyTuple_Check(object.ptr())) type.kind = TypeInfo::Kind::kSequence;
  return value_from_python(object.ptr(), name, type);
}
}  // namespace

void add_harness_functions(nb::module_& module) {
  // None when `actual` (the outputs, in order) matches `expected` as `onyx test` requires
  // (floats within rtol 1e-3 and atol 1e-7 with NaNs in the same places, everything else
  // exactly; with random_values, types, shapes and finiteness only); else what differs first.
  module.def("compare_outputs", [](nb::sequence expected, nb::sequence actual,
                                   bool random_values) -> std::optional<std::string> {
    size_t count = nb::len(expected);
    if (nb::len(actual) != count) {
      return "the model gave " + std::to_string(nb::len(actual)) + " outputs, the reference has " +
             std::to_string(count);
    }
    cli::Tolerance tolerance;
    tolerance.random_values = random_values;
    for (size_t k = 0; k < count; ++k) {
      std::string name = "output " + std::to_string(k);
      auto mismatch = cli::compare_values(any_value(expected[k], name), any_value(actual[k], name), tolerance);
      if (mismatch) return name + ": " + *mismatch;
    }
    return std::nullopt;
  }, nb::arg("expected"), nb::arg("actual"), nb::arg("random_values"));
}

}  // namespace onyx::python
