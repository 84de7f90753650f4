#include "python/src/errors.h"

#include "runtime/common/error.h"

namespace nb = nanobind;

namespace onyx::python {

namespace {
PyObject* base_class = nullptr;
PyObject* code_classes[4] = {};

PyObject* make_class(nb::module_& module, const char* name, PyObject* bases, const char* doc) {
  std::string qualified = std::string("onyx.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, nullptr);
  if (!type) throw nb::python_error();
  module.attr(name) = nb::borrow(type);
  return type;
}

PyObject* with_base(PyObject* builtin) {
  return builtin ? PyTuple_Pack(2, base_class, builtin) : PyTuple_Pack(1, base_class);
}
}  // namespace

void add_error_classes(nb::module_& module) {
  base_class = make_class(module, "OnyxError", PyExc_RuntimeError, "Any error onyx reports.");
  // Indexed by ErrorCode; the builtin base lets callers catch them as Python would name them.
  code_classes[static_cast<int>(ErrorCode::kInvalidModel)] =
      make_class(module, "InvalidModel", with_base(nullptr), "The model is malformed or inconsistent.");
  code_classes[static_cast<int>(ErrorCode::kNotImplemented)] = make_class(
      module, "Unsupported", with_base(PyExc_NotImplementedError), "Valid ONNX that onyx cannot run.");
  code_classes[static_cast<int>(ErrorCode::kInvalidArgument)] = make_class(
      module, "InvalidArgument", with_base(PyExc_ValueError), "A wrong input name, shape, type or option.");
  code_classes[static_cast<int>(ErrorCode::kRuntimeFailure)] =
      make_class(module, "RuntimeFailure", with_base(nullptr), "A failure while running the model.");

  nb::register_exception_translator([](const std::exception_ptr& pointer, void*) {
    try {
      std::rethrow_exception(pointer);
    } catch (const nb::python_error&) {
      throw;  // already a Python exception: nanobind restores it
    } catch (const nb::builtin_exception&) {
      throw;
    } catch (const Error& error) {
      PyErr_SetString(code_classes[static_cast<int>(error.code())], error.what());
    } catch (const std::exception& error) {
      // The standard library's own exceptions (bad_alloc, length_error, ...) read as the CLI
      // reports them, not as C++ internals.
      PyErr_SetString(base_class, user_message(error).c_str());
    }
  });
}

}  // namespace onyx::python
