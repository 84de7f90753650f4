// onyx.Tensor: the C++ eager tensor (runtime/tensor/tensor.h) for Python. NumPy arrays and
// DLPack producers (torch, jax, ...) become tensors without a copy; a tensor is read back through
// the buffer protocol (memoryview, np.asarray), __array__ and __dlpack__, also without a copy.
// The operators are the C++ ones (runtime/eager/operators.h), so they run eagerly, trace inside
// onyx.function and record on a GradientTape. Indexing is in python/onyx/indexing.py.
#include "python/src/tensor_bindings.h"

#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>

#include <memory>
#include <string>

#include "python/src/numpy_values.h"
#include "runtime/common/error.h"
#include "runtime/eager/operators.h"
#include "runtime/eager/ops.h"
#include "runtime/eager/tensor_factory.h"

namespace nb = nanobind;

namespace onyx::python {

namespace {

void check_host_values(const Tensor& tensor, const char* what) {
  if (tensor.is_symbolic()) {
    throw_error(ErrorCode::kInvalidArgument, what, " of a symbolic tensor (", dtype_name(tensor.dtype()),
                " ", shape_to_string(tensor.shape()), ") inside onyx.function: its values exist only when the "
                "traced graph runs; return it from the function instead");
  }
  ONYX_CHECK(tensor.defined(), ErrorCode::kInvalidArgument, what, " of an undefined tensor");
  ONYX_CHECK(tensor.device().is_host_memory(), ErrorCode::kInvalidArgument, what, " of a tensor on ",
             tensor.device().to_string(), ": the host cannot read it");
}

DataType dtype_from_dlpack(const nb::dlpack::dtype& dtype) {
  using Code = nb::dlpack::dtype_code;
  const auto code = static_cast<Code>(dtype.code);
  const int bits = dtype.bits;
  if (dtype.lanes == 1) {
    if (code == Code::Float) {
      if (bits == 16) return DataType::kFloat16;
      if (bits == 32) return DataType::kFloat;
      if (bits == 64) return DataType::kDouble;
    } else if (code == Code::Int) {
      if (bits == 8) return DataType::kInt8;
      if (bits == 16) return DataType::kInt16;
      if (bits == 32) return DataType::kInt32;
      if (bits == 64) return DataType::kInt64;
    } else if (code == Code::UInt) {
      if (bits == 8) return DataType::kUInt8;
      if (bits == 16) return DataType::kUInt16;
      if (bits == 32) return DataType::kUInt32;
      if (bits == 64) return DataType::kUInt64;
    } else if (code == Code::Bool && bits == 8) {
      return DataType::kBool;
    } else if (code == Code::Bfloat && bits == 16) {
      return DataType::kBFloat16;
    } else if (code == Code::Complex) {
      if (bits == 64) return DataType::kComplex64;
      if (bits == 128) return DataType::kComplex128;
    }
  }
  throw_error(ErrorCode::kInvalidArgument, "from_dlpack: onyx has no tensor type for DLPack type code ",
              static_cast<int>(dtype.code), " with ", bits, " bits and ", static_cast<int>(dtype.lanes), " lanes");
}

nb::dlpack::dtype dlpack_dtype(DataType dtype) {
  using Code = nb::dlpack::dtype_code;
  auto make = [](Code code, int bits) {
    return nb::dlpack::dtype{static_cast<uint8_t>(code), static_cast<uint8_t>(bits), 1};
  };
  switch (dtype) {
    case DataType::kFloat16: return make(Code::Float, 16);
    case DataType::kFloat: return make(Code::Float, 32);
    case DataType::kDouble: return make(Code::Float, 64);
    case DataType::kBFloat16: return make(Code::Bfloat, 16);
    case DataType::kInt8: return make(Code::Int, 8);
    case DataType::kInt16: return make(Code::Int, 16);
    case DataType::kInt32: return make(Code::Int, 32);
    case DataType::kInt64: return make(Code::Int, 64);
    case DataType::kUInt8: return make(Code::UInt, 8);
    case DataType::kUInt16: return make(Code::UInt, 16);
    case DataType::kUInt32: return make(Code::UInt, 32);
    case DataType::kUInt64: return make(Code::UInt, 64);
    case DataType::kBool: return make(Code::Bool, 8);
    case DataType::kComplex64: return make(Code::Complex, 64);
    case DataType::kComplex128: return make(Code::Complex, 128);
    default:
      throw_error(ErrorCode::kNotImplemented, "__dlpack__: DLPack has no type for ", dtype_name(dtype), " tensors");
  }
}

// A view of a DLPack producer's host memory; C-contiguous only (onyx tensors have no strides).
Tensor tensor_from_dlpack(nb::handle object) {
  nb::ndarray<nb::ro, nb::device::cpu> array;
  try {
    array = nb::cast<nb::ndarray<nb::ro, nb::device::cpu>>(object);
  } catch (const nb::cast_error&) {
    throw_error(ErrorCode::kInvalidArgument, "from_dlpack: a ", nb::type_name(object.type()).c_str(),
                " is not a DLPack tensor in host memory");
  }
  Shape shape(array.ndim());
  int64_t expected_stride = 1;
  bool contiguous = true;
  for (size_t axis = array.ndim(); axis-- > 0;) {
    shape[axis] = static_cast<int64_t>(array.shape(axis));
    if (array.shape(axis) != 1 && array.stride(axis) != expected_stride) contiguous = false;
    expected_stride *= static_cast<int64_t>(array.shape(axis));
  }
  if (!contiguous) {
    throw_error(ErrorCode::kInvalidArgument, "from_dlpack: the tensor is not C-contiguous; onyx tensors have no "
                "strides (make it contiguous first, e.g. .contiguous() in PyTorch)");
  }
  DataType dtype = dtype_from_dlpack(array.dtype());
  using Array = nb::ndarray<nb::ro, nb::device::cpu>;
  std::shared_ptr<void> owner(new Array(array), [](Array* kept) {
    nb::gil_scoped_acquire acquire;  // the last reference may drop the producer's object
    delete kept;
  });
  return Tensor::view(dtype, std::move(shape), const_cast<void*>(array.data()), std::move(owner));
}

bool is_number(nb::handle object) {
  return PyFloat_Check(object.ptr()) || PyLong_Check(object.ptr());  // bool is an int
}

// The other operand of a binary operator: a tensor, or an array-like (numbers are handled by
// the C++ operators' double overloads, which take the tensor's element type).
Tensor operand(nb::handle object) {
  if (nb::isinstance<Tensor>(object)) return nb::cast<Tensor>(object);
  return tensor_from_object(object);
}

// A number as a scalar of `like`'s element type, or any other operand.
Tensor like_operand(nb::handle b, const Tensor& like) {
  return is_number(b) ? scalar_like(nb::cast<double>(b), like) : operand(b);
}

// The C++ operators, each taking (Tensor, Tensor), (Tensor, double) and (double, Tensor).
constexpr auto kAdd = [](const auto& x, const auto& y) { return x + y; };
constexpr auto kSub = [](const auto& x, const auto& y) { return x - y; };
constexpr auto kMul = [](const auto& x, const auto& y) { return x * y; };
constexpr auto kDiv = [](const auto& x, const auto& y) { return x / y; };
constexpr auto kLess = [](const auto& x, const auto& y) { return x < y; };
constexpr auto kLessEqual = [](const auto& x, const auto& y) { return x <= y; };
constexpr auto kGreater = [](const auto& x, const auto& y) { return x > y; };
constexpr auto kGreaterEqual = [](const auto& x, const auto& y) { return x >= y; };

// `tensor OP other` and `other OP tensor` (Python's reflected form, __radd__ ...).
template <typename Op>
auto forward(Op op) {
  return [op](const Tensor& a, nb::handle b) {
    return is_number(b) ? op(a, nb::cast<double>(b)) : op(a, operand(b));
  };
}
template <typename Op>
auto reflected(Op op) {
  return [op](const Tensor& a, nb::handle b) {
    return is_number(b) ? op(nb::cast<double>(b), a) : op(operand(b), a);
  };
}

int get_buffer(PyObject* self, Py_buffer* view, int flags) {
  try {
    const Tensor& tensor = *nb::inst_ptr<Tensor>(self);
    check_host_values(tensor, "the buffer");
    if (flags & PyBUF_WRITABLE) {
      PyErr_SetString(PyExc_BufferError, "onyx.Tensor buffers are read-only (tensors are immutable)");
      return -1;
    }
    const char* format = nullptr;
    switch (tensor.dtype()) {
      case DataType::kFloat: format = "f"; break;
      case DataType::kDouble: format = "d"; break;
      case DataType::kFloat16: format = "e"; break;
      case DataType::kInt8: format = "b"; break;
      case DataType::kInt16: format = "h"; break;
      case DataType::kInt32: format = "i"; break;
      case DataType::kInt64: format = "q"; break;
      case DataType::kUInt8: format = "B"; break;
      case DataType::kUInt16: format = "H"; break;
      case DataType::kUInt32: format = "I"; break;
      case DataType::kUInt64: format = "Q"; break;
      case DataType::kBool: format = "?"; break;
      case DataType::kComplex64: format = "Zf"; break;
      case DataType::kComplex128: format = "Zd"; break;
      default:
        PyErr_Format(PyExc_BufferError, "%s tensors have no buffer format; use numpy() instead",
                     std::string(dtype_name(tensor.dtype())).c_str());
        return -1;
    }
    const size_t rank = tensor.rank();
    auto* dims = new Py_ssize_t[2 * rank + 1];
    const Py_ssize_t item_size = static_cast<Py_ssize_t>(dtype_storage_bytes(tensor.dtype(), 1));
    Py_ssize_t stride = item_size;
    for (size_t axis = rank; axis-- > 0;) {
      dims[axis] = static_cast<Py_ssize_t>(tensor.dim(axis));
      dims[rank + axis] = stride;
      stride *= dims[axis];
    }
    view->obj = Py_NewRef(self);
    view->buf = const_cast<void*>(tensor.raw_data());
    view->len = static_cast<Py_ssize_t>(tensor.byte_size());
    view->readonly = 1;
    view->itemsize = item_size;
    view->format = (flags & PyBUF_FORMAT) ? const_cast<char*>(format) : nullptr;
    view->ndim = static_cast<int>(rank);
    view->shape = (flags & PyBUF_ND) ? dims : nullptr;
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? dims + rank : nullptr;
    view->suboffsets = nullptr;
    view->internal = dims;
    return 0;
  } catch (const std::exception& error) {
    PyErr_SetString(PyExc_BufferError, error.what());
    return -1;
  }
}

void release_buffer(PyObject*, Py_buffer* view) { delete[] static_cast<Py_ssize_t*>(view->internal); }

PyType_Slot buffer_slots[] = {{Py_bf_getbuffer, reinterpret_cast<void*>(get_buffer)},
                              {Py_bf_releasebuffer, reinterpret_cast<void*>(release_buffer)},
                              {0, nullptr}};

nb::object shape_tuple(const Tensor& tensor) {
  nb::list dims;
  for (int64_t dim : tensor.shape()) {
    if (dim < 0) dims.append(nb::none());
    else dims.append(dim);
  }
  return nb::tuple(dims);
}

// A one-element tensor's value as a Python number (bool for bool tensors).
nb::object item(const Tensor& tensor) {
  check_host_values(tensor, "item()");
  ONYX_CHECK(tensor.element_count() == 1, ErrorCode::kInvalidArgument, "item() of a tensor of shape ",
             shape_to_string(tensor.shape()), ": only one-element tensors have a single value");
  const double value = tensor.element_as_double(0);
  if (tensor.dtype() == DataType::kBool) return nb::bool_(value != 0);
  if (dtype_is_float(tensor.dtype())) return nb::float_(value);
  if (tensor.dtype() == DataType::kInt64) return nb::int_(tensor.values<int64_t>()[0]);
  if (tensor.dtype() == DataType::kUInt64) return nb::int_(tensor.values<uint64_t>()[0]);
  return nb::int_(static_cast<int64_t>(value));
}

bool truth(const Tensor& tensor) {
  if (tensor.is_symbolic()) {
    throw_error(ErrorCode::kInvalidArgument, "the truth value of a symbolic tensor is unknown while tracing: an "
                "`if` or `while` on a tensor inside onyx.function becomes If/Loop only when written directly "
                "in the function (not in a helper it calls) and without return/break/continue in its body");
  }
  ONYX_CHECK(tensor.element_count() == 1, ErrorCode::kInvalidArgument,
             "the truth value of a tensor of shape ", shape_to_string(tensor.shape()),
             " is ambiguous: only one-element tensors are true or false");
  return tensor.element_as_double(0) != 0;
}

std::string describe(const Tensor& tensor) {
  std::string head = "onyx.Tensor(";
  if (tensor.is_symbolic()) {
    return head + "symbolic, dtype=" + std::string(dtype_name(tensor.dtype())) + ", shape=" +
           shape_to_string(tensor.shape()) + ")";
  }
  nb::object array = nb::steal(array_view(tensor));
  if (!array.is_valid()) throw nb::python_error();
  std::string values = nb::cast<std::string>(nb::repr(array));
  return head + values + ", dtype=" + std::string(dtype_name(tensor.dtype())) + ")";
}

}  // namespace

Tensor tensor_from_object(nb::handle object) {
  if (nb::isinstance<Tensor>(object)) return nb::cast<Tensor>(object);
  if (!is_ndarray(object.ptr()) && nb::hasattr(object, "__dlpack__")) return tensor_from_dlpack(object);
  const bool array_like = is_ndarray(object.ptr()) || is_number(object) || PyUnicode_Check(object.ptr()) ||
                          PyBytes_Check(object.ptr()) || PyList_Check(object.ptr()) || PyTuple_Check(object.ptr()) ||
                          nb::hasattr(object, "__array__") || PyObject_CheckBuffer(object.ptr());
  if (!array_like) {
    throw_error(ErrorCode::kInvalidArgument, "cannot make a tensor of a ", nb::type_name(object.type()).c_str(),
                " (expected a NumPy array, numbers, nested lists or a DLPack tensor)");
  }
  return tensor_from_array_like(object.ptr(), "value");
}

void add_tensor_class(nb::module_& module) {
  nb::class_<Tensor>(module, "Tensor", nb::type_slots(buffer_slots),
                     "An onyx tensor: eager values, or a symbolic value inside onyx.function.")
      .def("__init__",
           [](Tensor* self, nb::handle value, nb::handle dtype) {
             if (dtype.is_none()) {
               new (self) Tensor(tensor_from_object(value));
             } else {
               nb::object converted = nb::module_::import_("numpy").attr("asarray")(value, dtype);
               new (self) Tensor(tensor_from_object(converted));
             }
           },
           nb::arg("value"), nb::arg("dtype").none() = nb::none(),
           "A tensor of `value` (a NumPy array, a DLPack tensor, numbers or nested lists), sharing the "
           "memory of a C-contiguous array of the wanted dtype.")
      .def_prop_ro("shape", &shape_tuple, "The dims (None for a dim unknown while tracing).")
      .def_prop_ro("dtype", [](const Tensor& t) { return nb::steal(numpy_dtype(t.dtype())); })
      .def_prop_ro("onnx_type", [](const Tensor& t) { return std::string(dtype_name(t.dtype())); },
                   "The ONNX element type name: 'float', 'int64', ...")
      .def_prop_ro("ndim", [](const Tensor& t) { return t.rank(); })
      .def_prop_ro("size", [](const Tensor& t) -> nb::object {
        return t.element_count() < 0 ? nb::none() : nb::cast(t.element_count());
      })
      .def_prop_ro("is_symbolic", &Tensor::is_symbolic)
      .def("__len__",
           [](const Tensor& t) {
             ONYX_CHECK(t.rank() > 0, ErrorCode::kInvalidArgument, "len() of a 0-d tensor");
             ONYX_CHECK(t.dim(0) >= 0, ErrorCode::kInvalidArgument,
                        "len() of a tensor whose first dim is unknown while tracing");
             return t.dim(0);
           })
      .def("numpy",
           [](const Tensor& t) {
             check_host_values(t, "numpy()");
             PyObject* array = value_to_python(Value(t));
             if (!array) throw nb::python_error();
             return nb::steal(array);
           },
           "A NumPy copy of the values.")
      .def("__array__",
           [](const Tensor& t, nb::handle dtype, nb::handle copy) {
             check_host_values(t, "__array__");
             nb::object array = nb::steal(copy.is_valid() && nb::cast<bool>(copy) ? value_to_python(Value(t))
                                                                                   : array_view(t));
             if (!array.is_valid()) throw nb::python_error();
             if (!dtype.is_none()) array = array.attr("astype")(dtype);
             return array;
           },
           nb::arg("dtype").none() = nb::none(), nb::arg("copy").none() = nb::none())
      .def("__dlpack__",
           [](const Tensor& t, nb::kwargs kwargs) {
             check_host_values(t, "__dlpack__");
             std::vector<size_t> dims(t.shape().begin(), t.shape().end());
             auto* keep = new Tensor(t);
             nb::capsule owner(keep, [](void* pointer) noexcept { delete static_cast<Tensor*>(pointer); });
             nb::ndarray<nb::array_api, nb::ro> array(t.raw_data(), dims.size(), dims.data(), owner, nullptr,
                                                      dlpack_dtype(t.dtype()), nb::device::cpu::value);
             return nb::cast(array).attr("__dlpack__")(**kwargs);
           })
      .def("__dlpack_device__", [](const Tensor& t) {
        check_host_values(t, "__dlpack_device__");
        return nb::make_tuple(1, 0);  // kDLCPU
      })
      .def("item", &item)
      .def("tolist", [](const Tensor& t) { return nb::steal(array_view(t)).attr("tolist")(); })
      .def("__bool__", &truth)
      .def("__float__", [](const Tensor& t) { return nb::cast<double>(item(t)); })
      .def("__int__", [](const Tensor& t) { return nb::int_(item(t)); })
      .def("__repr__", &describe)
      .def("__hash__", [](nb::handle self) { return reinterpret_cast<intptr_t>(self.ptr()); })
      .def("__add__", forward(kAdd))
      .def("__sub__", forward(kSub))
      .def("__mul__", forward(kMul))
      .def("__truediv__", forward(kDiv))
      .def("__lt__", forward(kLess))
      .def("__le__", forward(kLessEqual))
      .def("__gt__", forward(kGreater))
      .def("__ge__", forward(kGreaterEqual))
      .def("__radd__", reflected(kAdd))
      .def("__rsub__", reflected(kSub))
      .def("__rmul__", reflected(kMul))
      .def("__rtruediv__", reflected(kDiv))
      .def("__eq__", [](const Tensor& a, nb::handle b) { return ops::equal(a, like_operand(b, a)); })
      .def("__ne__", [](const Tensor& a, nb::handle b) { return ops::not_(ops::equal(a, like_operand(b, a))); })
      .def("__matmul__", [](const Tensor& a, nb::handle b) { return ops::matmul(a, operand(b)); })
      .def("__rmatmul__", [](const Tensor& a, nb::handle b) { return ops::matmul(operand(b), a); })
      .def("__pow__", [](const Tensor& a, nb::handle b) { return ops::pow(a, like_operand(b, a)); })
      .def("__rpow__", [](const Tensor& a, nb::handle b) { return ops::pow(like_operand(b, a), a); })
      .def("__neg__", [](const Tensor& a) { return -a; })
      .def("__abs__", [](const Tensor& a) { return ops::abs(a); })
      .def("__invert__", [](const Tensor& a) { return ops::not_(a); });

  // Element types between NumPy and ONNX numbering, by the one table the conversions use.
  module.def("element_type", [](nb::handle dtype) {
    nb::object empty = nb::module_::import_("numpy").attr("empty")(0, dtype);
    return static_cast<int>(tensor_from_array_like(empty.ptr(), "dtype").dtype());
  }, nb::arg("dtype"), "The ONNX element type code of a NumPy dtype (np.float32 -> 1).");
  module.def("numpy_dtype", [](int code) { return nb::steal(numpy_dtype(dtype_from_code(code))); }, nb::arg("code"));

  module.def("from_dlpack", &tensor_from_dlpack, nb::arg("tensor"),
             "A tensor sharing the memory of a DLPack producer (torch.Tensor, jax.Array, np.ndarray, ...).");
}

}  // namespace onyx::python
