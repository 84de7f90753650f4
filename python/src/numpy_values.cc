#include "python/src/numpy_values.h"

#define NPY_NO_DEPRECATED_API NPY_2_0_API_VERSION
#include <numpy/arrayobject.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/common/error.h"

namespace onyx::python {

namespace {

// ml_dtypes' NumPy types for the ONNX element types NumPy lacks (what onnx.numpy_helper uses),
// found at import; empty when ml_dtypes is not installed.
struct ExtraType {
  const char* ml_dtypes_name;
  DataType dtype;
};
constexpr ExtraType kExtraTypes[] = {
    {"bfloat16", DataType::kBFloat16},         {"float8_e4m3fn", DataType::kFloat8E4M3FN},
    {"float8_e4m3fnuz", DataType::kFloat8E4M3FNUZ}, {"float8_e5m2", DataType::kFloat8E5M2},
    {"float8_e5m2fnuz", DataType::kFloat8E5M2FNUZ}, {"float8_e8m0fnu", DataType::kFloat8E8M0},
    {"float4_e2m1fn", DataType::kFloat4E2M1},  {"float6_e2m3fn", DataType::kFloat6E2M3},
    {"float6_e3m2fn", DataType::kFloat6E3M2},  {"int4", DataType::kInt4},
    {"uint4", DataType::kUInt4},               {"int2", DataType::kInt2},
    {"uint2", DataType::kUInt2},
};
std::map<PyTypeObject*, DataType>* extra_by_type = nullptr;       // scalar type -> element type
std::map<DataType, PyArray_Descr*>* extra_descriptors = nullptr;  // element type -> dtype (owned)

// The pending Python error as text, cleared.
std::string take_python_error() {
  PyObject *type, *value, *traceback;
  PyErr_Fetch(&type, &value, &traceback);
  std::string text = "unknown error";
  if (value) {
    if (PyObject* str = PyObject_Str(value)) {
      if (const char* utf8 = PyUnicode_AsUTF8(str)) text = utf8;
      Py_DECREF(str);
    }
  }
  PyErr_Clear();
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(traceback);
  return text;
}

std::string type_name(PyObject* object) { return Py_TYPE(object)->tp_name; }

// A new reference to the NumPy dtype holding `dtype`'s elements; for packed sub-byte types
// that is ml_dtypes' one-element-per-byte type.
PyArray_Descr* descriptor_for(DataType dtype) {
  int type_number = -1;
  switch (dtype) {
    case DataType::kFloat: type_number = NPY_FLOAT32; break;
    case DataType::kDouble: type_number = NPY_FLOAT64; break;
    case DataType::kFloat16: type_number = NPY_FLOAT16; break;
    case DataType::kInt8: type_number = NPY_INT8; break;
    case DataType::kInt16: type_number = NPY_INT16; break;
    case DataType::kInt32: type_number = NPY_INT32; break;
    case DataType::kInt64: type_number = NPY_INT64; break;
    case DataType::kUInt8: type_number = NPY_UINT8; break;
    case DataType::kUInt16: type_number = NPY_UINT16; break;
    case DataType::kUInt32: type_number = NPY_UINT32; break;
    case DataType::kUInt64: type_number = NPY_UINT64; break;
    case DataType::kBool: type_number = NPY_BOOL; break;
    case DataType::kComplex64: type_number = NPY_COMPLEX64; break;
    case DataType::kComplex128: type_number = NPY_COMPLEX128; break;
    case DataType::kString: type_number = NPY_OBJECT; break;
    default: break;
  }
  if (type_number >= 0) return PyArray_DescrFromType(type_number);
  auto found = extra_descriptors->find(dtype);
  if (found == extra_descriptors->end()) {
    throw_error(ErrorCode::kNotImplemented, dtype_name(dtype), " tensors need the ml_dtypes package in Python ",
                "(NumPy has no ", dtype_name(dtype), " type)");
  }
  Py_INCREF(found->second);
  return found->second;
}

// The element type of an array's dtype; kUndefined for one onyx has no type for.
DataType dtype_of_array(PyArrayObject* array) {
  PyArray_Descr* descr = PyArray_DESCR(array);
  if (descr->type_num >= NPY_USERDEF) {
    auto found = extra_by_type->find(descr->typeobj);
    return found == extra_by_type->end() ? DataType::kUndefined : found->second;
  }
  npy_intp size = PyDataType_ELSIZE(descr);
  switch (descr->kind) {
    case 'b': return DataType::kBool;
    case 'i':
      return size == 1 ? DataType::kInt8 : size == 2 ? DataType::kInt16 : size == 4 ? DataType::kInt32
           : size == 8 ? DataType::kInt64 : DataType::kUndefined;
    case 'u':
      return size == 1 ? DataType::kUInt8 : size == 2 ? DataType::kUInt16 : size == 4 ? DataType::kUInt32
           : size == 8 ? DataType::kUInt64 : DataType::kUndefined;
    case 'f':
      return size == 2 ? DataType::kFloat16 : size == 4 ? DataType::kFloat : size == 8 ? DataType::kDouble
                                                                                       : DataType::kUndefined;
    case 'c': return size == 8 ? DataType::kComplex64 : size == 16 ? DataType::kComplex128 : DataType::kUndefined;
    case 'O':
    case 'U':
    case 'S': return DataType::kString;
    default: return DataType::kUndefined;
  }
}

bool is_packed(DataType dtype) { return dtype_bits(dtype) < 8; }

struct PyReference {  // owns one reference, released with the GIL held
  void operator()(PyObject* object) const {
    PyGILState_STATE state = PyGILState_Ensure();
    Py_DECREF(object);
    PyGILState_Release(state);
  }
};

Shape shape_of(PyArrayObject* array) {
  Shape shape(static_cast<size_t>(PyArray_NDIM(array)));
  for (int axis = 0; axis < PyArray_NDIM(array); ++axis) shape[axis] = PyArray_DIM(array, axis);
  return shape;
}

// Strings: each element a str (stored as UTF-8) or bytes (as they are).
Tensor strings_from_array(PyArrayObject* array, const std::string& name) {
  PyArray_Descr* object_type = PyArray_DescrFromType(NPY_OBJECT);
  auto* objects = reinterpret_cast<PyArrayObject*>(
      PyArray_FromArray(array, object_type, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED));
  if (!objects) throw_error(ErrorCode::kInvalidArgument, "input '", name, "': ", take_python_error());
  std::unique_ptr<PyObject, PyReference> keep(reinterpret_cast<PyObject*>(objects));
  Tensor tensor(DataType::kString, shape_of(objects));
  auto** items = static_cast<PyObject**>(PyArray_DATA(objects));
  std::string* out = tensor.mutable_data<std::string>();
  for (int64_t i = 0; i < tensor.element_count(); ++i) {
    PyObject* item = items[i];
    if (PyUnicode_Check(item)) {
      Py_ssize_t size = 0;
      const char* utf8 = PyUnicode_AsUTF8AndSize(item, &size);
      if (!utf8) throw_error(ErrorCode::kInvalidArgument, "input '", name, "': ", take_python_error());
      out[i].assign(utf8, static_cast<size_t>(size));
    } else if (PyBytes_Check(item)) {
      out[i].assign(PyBytes_AS_STRING(item), static_cast<size_t>(PyBytes_GET_SIZE(item)));
    } else {
      throw_error(ErrorCode::kInvalidArgument, "input '", name, "' is a string tensor but element ", i,
                  " is a ", type_name(item), ", not a str");
    }
  }
  return tensor;
}

// Packed sub-byte types: ml_dtypes keeps one element per byte, its bits in the low bits; onyx
// packs them, element 0 in the lowest bits (as ONNX stores them).
Tensor packed_from_array(PyArrayObject* array, DataType dtype) {
  Tensor tensor(dtype, shape_of(array));
  const auto* in = static_cast<const uint8_t*>(PyArray_DATA(array));
  auto* out = static_cast<uint8_t*>(tensor.mutable_raw_data());
  const int bits = dtype_bits(dtype);
  const unsigned mask = (1u << bits) - 1;
  std::memset(out, 0, tensor.byte_size());
  for (int64_t i = 0; i < tensor.element_count(); ++i) {
    int64_t bit = i * bits;
    unsigned value = (in[i] & mask) << (bit % 8);
    out[bit / 8] |= static_cast<uint8_t>(value);
    if (bit % 8 + bits > 8) out[bit / 8 + 1] |= static_cast<uint8_t>(value >> 8);
  }
  return tensor;
}

void unpack_to(const Tensor& tensor, uint8_t* out) {
  const auto* in = static_cast<const uint8_t*>(tensor.raw_data());
  const int bits = dtype_bits(tensor.dtype());
  const unsigned mask = (1u << bits) - 1;
  for (int64_t i = 0; i < tensor.element_count(); ++i) {
    int64_t bit = i * bits;
    unsigned word = in[bit / 8];
    if (bit % 8 + bits > 8) word |= static_cast<unsigned>(in[bit / 8 + 1]) << 8;
    out[i] = static_cast<uint8_t>((word >> (bit % 8)) & mask);
  }
}

Tensor tensor_from_python(PyObject* object, const std::string& name, const TypeInfo& declared) {
  if (object == Py_None) {
    throw_error(ErrorCode::kInvalidArgument, "input '", name, "' expects a tensor ", declared.to_string(),
                ", got None");
  }
  PyObject* converted = nullptr;
  if (PyArray_Check(object)) {
    Py_INCREF(object);
    converted = object;
  } else {
    // A number, a list of numbers, or an object with __array__: NumPy converts it, to the
    // declared element type when there is one.
    PyArray_Descr* wanted = declared.elem_type == DataType::kUndefined ? nullptr : descriptor_for(declared.elem_type);
    converted = PyArray_FromAny(object, wanted, 0, 0, 0, nullptr);
    if (!converted) {
      throw_error(ErrorCode::kInvalidArgument, "input '", name, "' expects a tensor ", declared.to_string(),
                  "; a ", type_name(object), " could not be converted: ", take_python_error());
    }
  }
  std::unique_ptr<PyObject, PyReference> array_reference(converted);
  auto* array = reinterpret_cast<PyArrayObject*>(converted);
  DataType dtype = dtype_of_array(array);
  if (dtype == DataType::kUndefined) {
    std::string dtype_text = "?";
    if (PyObject* text = PyObject_Str(reinterpret_cast<PyObject*>(PyArray_DESCR(array)))) {
      if (const char* utf8 = PyUnicode_AsUTF8(text)) dtype_text = utf8;
      Py_DECREF(text);
    }
    PyErr_Clear();
    throw_error(ErrorCode::kInvalidArgument, "input '", name, "': onyx has no tensor type for NumPy dtype ",
                dtype_text);
  }
  if (dtype == DataType::kString) return strings_from_array(array, name);

  // Contiguous, aligned, native byte order: the array's own memory; otherwise a copy that is.
  constexpr int kRequirements = NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED;
  if (!PyArray_CHKFLAGS(array, kRequirements) || !PyArray_ISNOTSWAPPED(array)) {
    PyArray_Descr* native = PyArray_DescrNewByteorder(PyArray_DESCR(array), NPY_NATIVE);
    PyObject* copy = native ? PyArray_FromArray(array, native, kRequirements | NPY_ARRAY_ENSURECOPY) : nullptr;
    if (!copy) throw_error(ErrorCode::kInvalidArgument, "input '", name, "': ", take_python_error());
    array_reference.reset(copy);
    array = reinterpret_cast<PyArrayObject*>(copy);
  }
  if (is_packed(dtype)) return packed_from_array(array, dtype);
  void* data = PyArray_DATA(array);
  std::shared_ptr<void> owner(array_reference.release(), PyReference{});
  return Tensor::view(dtype, shape_of(array), data, std::move(owner));
}

// A Python int (or an object with __index__) as int64; false when it is none or overflows.
bool int64_from_python(PyObject* object, int64_t* out) {
  if (!PyLong_Check(object) && !PyIndex_Check(object)) return false;
  PyObject* index = PyNumber_Index(object);
  if (!index) return false;
  int overflow = 0;
  *out = PyLong_AsLongLongAndOverflow(index, &overflow);
  Py_DECREF(index);
  return overflow == 0 && !(*out == -1 && PyErr_Occurred());
}

// Element `i` of `tensor` (a map key or value column) from a Python object: int for int64,
// str (or bytes) for string, any real number for float and double. Returns false when the
// object is not of that kind.
bool map_element_from_python(PyObject* object, Tensor& tensor, int64_t i) {
  switch (tensor.dtype()) {
    case DataType::kInt64: return int64_from_python(object, &tensor.mutable_data<int64_t>()[i]);
    case DataType::kString: {
      if (PyBytes_Check(object)) {
        tensor.mutable_data<std::string>()[i].assign(PyBytes_AS_STRING(object), PyBytes_GET_SIZE(object));
        return true;
      }
      Py_ssize_t size = 0;
      const char* utf8 = PyUnicode_Check(object) ? PyUnicode_AsUTF8AndSize(object, &size) : nullptr;
      if (utf8) tensor.mutable_data<std::string>()[i].assign(utf8, static_cast<size_t>(size));
      return utf8 != nullptr;
    }
    case DataType::kFloat:
    case DataType::kDouble: {
      if (PyUnicode_Check(object) || PyBytes_Check(object) || !PyNumber_Check(object)) return false;
      const double value = PyFloat_AsDouble(object);
      if (value == -1.0 && PyErr_Occurred()) return false;
      if (tensor.dtype() == DataType::kFloat) tensor.mutable_data<float>()[i] = static_cast<float>(value);
      else tensor.mutable_data<double>()[i] = value;
      return true;
    }
    default:
      throw_error(ErrorCode::kNotImplemented, "maps with ", dtype_name(tensor.dtype()),
                  " keys or values are not supported from Python");
  }
}

const char* python_kind_for(DataType dtype) {
  switch (dtype) {
    case DataType::kInt64: return "an int";
    case DataType::kString: return "a str";
    default: return "a number";
  }
}

// A dict as a map value of the declared map(K, tensor(V)).
Value map_from_python(PyObject* object, const std::string& name, const TypeInfo& declared) {
  if (!PyDict_Check(object)) {
    throw_error(ErrorCode::kInvalidArgument, "input '", name, "' expects a map ", declared.to_string(),
                " (a dict), got a ", type_name(object));
  }
  const DataType value_type = declared.element ? declared.element->elem_type : DataType::kUndefined;
  if (value_type == DataType::kUndefined) {
    throw_error(ErrorCode::kInvalidArgument, "input '", name, "' is a ", declared.to_string(),
                " with no value type: a dict cannot be converted");
  }
  const Py_ssize_t count = PyDict_Size(object);
  Tensor keys(declared.elem_type, {count});
  Tensor values(value_type, {count});
  PyObject *key, *value;
  Py_ssize_t position = 0;
  for (int64_t i = 0; PyDict_Next(object, &position, &key, &value); ++i) {
    if (!map_element_from_python(key, keys, i)) {
      PyErr_Clear();
      throw_error(ErrorCode::kInvalidArgument, "input '", name, "' expects a ", declared.to_string(),
                  ": each key must be ", python_kind_for(declared.elem_type), ", got a ", type_name(key));
    }
    if (!map_element_from_python(value, values, i)) {
      PyErr_Clear();
      throw_error(ErrorCode::kInvalidArgument, "input '", name, "' expects a ", declared.to_string(),
                  ": each value must be ", python_kind_for(value_type), ", got a ", type_name(value));
    }
  }
  return Value::map(std::move(keys), std::move(values), "input '" + name + "'");
}

// A new reference to element `i` of a map's key or value column as a Python int, float or str.
PyObject* map_element_to_python(const Tensor& tensor, int64_t i) {
  switch (tensor.dtype()) {
    case DataType::kInt64: return PyLong_FromLongLong(tensor.data<int64_t>()[i]);
    case DataType::kString: {
      const std::string& text = tensor.data<std::string>()[i];
      return PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace");
    }
    case DataType::kBool: return PyBool_FromLong(tensor.data<bool>()[i]);
    default:
      if (dtype_is_integer(tensor.dtype())) return PyLong_FromLongLong(static_cast<int64_t>(tensor.element_as_double(i)));
      return PyFloat_FromDouble(tensor.element_as_double(i));
  }
}

PyObject* map_to_python(const Map& map) {
  PyObject* dict = PyDict_New();
  if (!dict) return nullptr;
  for (int64_t i = 0; i < map.keys.element_count(); ++i) {
    PyObject* key = map_element_to_python(map.keys, i);
    PyObject* value = key ? map_element_to_python(map.values, i) : nullptr;
    const bool stored = value && PyDict_SetItem(dict, key, value) == 0;
    Py_XDECREF(key);
    Py_XDECREF(value);
    if (!stored) {
      Py_DECREF(dict);
      return nullptr;
    }
  }
  return dict;
}

}  // namespace

bool init_numpy() {
  if (PyArray_ImportNumPyAPI() < 0) return false;
  extra_by_type = new std::map<PyTypeObject*, DataType>();
  extra_descriptors = new std::map<DataType, PyArray_Descr*>();
  PyObject* ml_dtypes = PyImport_ImportModule("ml_dtypes");
  if (!ml_dtypes) {
    PyErr_Clear();  // optional: without it, the types NumPy lacks are refused with a message
    return true;
  }
  for (const ExtraType& extra : kExtraTypes) {
    PyObject* type = PyObject_GetAttrString(ml_dtypes, extra.ml_dtypes_name);
    PyArray_Descr* descr = nullptr;
    if (type && PyArray_DescrConverter(type, &descr) && descr) {
      (*extra_by_type)[descr->typeobj] = extra.dtype;
      (*extra_descriptors)[extra.dtype] = descr;
    }
    PyErr_Clear();  // an older ml_dtypes without this type
    Py_XDECREF(type);
  }
  Py_DECREF(ml_dtypes);
  return true;
}

Value value_from_python(PyObject* object, const std::string& name, const TypeInfo& declared) {
  switch (declared.kind) {
    case TypeInfo::Kind::kOptional:
      if (object == Py_None) return Value();
      return value_from_python(object, name, declared.element ? *declared.element : TypeInfo{});
    case TypeInfo::Kind::kSequence: {
      if (!PyList_Check(object) && !PyTuple_Check(object)) {
        throw_error(ErrorCode::kInvalidArgument, "input '", name, "' expects a sequence ", declared.to_string(),
                    " (a list of arrays), got a ", type_name(object));
      }
      TypeInfo element = declared.element ? *declared.element : TypeInfo{};
      Sequence items;
      Py_ssize_t count = PySequence_Fast_GET_SIZE(object);
      PyObject** objects = PySequence_Fast_ITEMS(object);
      for (Py_ssize_t i = 0; i < count; ++i) {
        const std::string item_name = name + "[" + std::to_string(i) + "]";
        if (element.kind == TypeInfo::Kind::kMap) items.push_back(map_from_python(objects[i], item_name, element));
        else items.push_back(tensor_from_python(objects[i], item_name, element));
      }
      DataType element_type = element.elem_type;
      if (element_type == DataType::kUndefined && !items.empty() && items[0].is_tensor()) {
        element_type = items[0].tensor().dtype();
      }
      return Value::sequence(std::move(items), element_type);
    }
    case TypeInfo::Kind::kMap:
      return map_from_python(object, name, declared);
    case TypeInfo::Kind::kSparseTensor:
      throw_error(ErrorCode::kNotImplemented, "input '", name, "' is a ", declared.to_string(),
                  ": onyx runs tensors, sequences, maps and optionals only");
    default:
      return tensor_from_python(object, name, declared);
  }
}

Tensor tensor_from_array_like(PyObject* object, const std::string& name) {
  return tensor_from_python(object, name, TypeInfo::tensor(DataType::kUndefined));
}

bool is_ndarray(PyObject* object) { return PyArray_Check(object); }

PyObject* numpy_dtype(DataType dtype) { return reinterpret_cast<PyObject*>(descriptor_for(dtype)); }

PyObject* array_view(const Tensor& tensor) {
  if (tensor.dtype() == DataType::kString || is_packed(tensor.dtype()) || !tensor.device().is_host_memory()) {
    return value_to_python(Value(tensor));
  }
  std::vector<npy_intp> dims(tensor.shape().begin(), tensor.shape().end());
  PyArray_Descr* descr = descriptor_for(tensor.dtype());
  PyObject* object = PyArray_NewFromDescr(&PyArray_Type, descr, static_cast<int>(dims.size()), dims.data(),
                                          nullptr, const_cast<void*>(tensor.raw_data()), 0, nullptr);
  if (!object) return nullptr;
  // The base: a capsule owning a Tensor that shares the buffer.
  PyObject* base = PyCapsule_New(new Tensor(tensor), "onyx.Tensor", [](PyObject* capsule) {
    delete static_cast<Tensor*>(PyCapsule_GetPointer(capsule, "onyx.Tensor"));
  });
  if (!base || PyArray_SetBaseObject(reinterpret_cast<PyArrayObject*>(object), base) < 0) {
    Py_XDECREF(base);
    Py_DECREF(object);
    return nullptr;
  }
  return object;
}

PyObject* value_to_python(const Value& value) {
  if (value.is_none()) Py_RETURN_NONE;
  if (value.is_map()) return map_to_python(value.map_entries());
  if (value.is_sequence()) {
    const Sequence& items = value.sequence_items();
    PyObject* list = PyList_New(static_cast<Py_ssize_t>(items.size()));
    if (!list) return nullptr;
    for (size_t i = 0; i < items.size(); ++i) {
      PyObject* item = nullptr;
      try {
        item = value_to_python(items[i]);
      } catch (...) {
        Py_DECREF(list);
        throw;
      }
      if (!item) {
        Py_DECREF(list);
        return nullptr;
      }
      PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), item);
    }
    return list;
  }
  const Tensor& tensor = value.tensor();
  if (!tensor.device().is_host_memory()) {
    throw_error(ErrorCode::kInvalidArgument, "a tensor on ", tensor.device().to_string(),
                " cannot become a NumPy array (the host cannot read it)");
  }
  std::vector<npy_intp> dims(tensor.shape().begin(), tensor.shape().end());
  PyArray_Descr* descr = descriptor_for(tensor.dtype());
  PyObject* object = PyArray_NewFromDescr(&PyArray_Type, descr, static_cast<int>(dims.size()), dims.data(),
                                          nullptr, nullptr, 0, nullptr);
  if (!object) return nullptr;
  auto* array = reinterpret_cast<PyArrayObject*>(object);
  if (tensor.dtype() == DataType::kString) {
    auto** items = static_cast<PyObject**>(PyArray_DATA(array));
    const std::string* strings = tensor.data<std::string>();
    for (int64_t i = 0; i < tensor.element_count(); ++i) {
      // Invalid UTF-8 cannot be a str: such an element comes back as bytes.
      PyObject* item = PyUnicode_DecodeUTF8(strings[i].data(), static_cast<Py_ssize_t>(strings[i].size()), nullptr);
      if (!item) {
        PyErr_Clear();
        item = PyBytes_FromStringAndSize(strings[i].data(), static_cast<Py_ssize_t>(strings[i].size()));
      }
      if (!item) {
        Py_DECREF(object);
        return nullptr;
      }
      Py_XDECREF(items[i]);  // NumPy fills new object arrays with None
      items[i] = item;
    }
  } else if (is_packed(tensor.dtype())) {
    unpack_to(tensor, static_cast<uint8_t*>(PyArray_DATA(array)));
  } else if (tensor.byte_size() > 0) {
    std::memcpy(PyArray_DATA(array), tensor.raw_data(), tensor.byte_size());
  }
  return object;
}

}  // namespace onyx::python
