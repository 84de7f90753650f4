// onyx.nn for Python: the C++ modules of training/nn/ themselves, not Python copies of them.
// A Python model is a C++ nn::Layer too: onyx.nn.Module is the bound Layer with a trampoline
// (PythonLayer) whose call() runs the Python forward, and its parameters, buffers and submodules
// are registered in the C++ Module (the Python Parameter object is the very nn::Parameter the
// module holds, shared). So state_dict, load_state_dict, save/load (the checkpoint format),
// train/eval, nn::Optimizer (training/optimizer.h's math), export (export.cc's tracing) and
// Sequential are each the one C++ implementation, for C++ layers and Python models alike.
// python/onyx/nn/ gives them their Python shape (attribute registration, __call__). Nothing
// here releases the GIL: a module's call may run Python code at any depth.
#include "python/src/nn_bindings.h"

#include <nanobind/stl/array.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>
#include <nanobind/trampoline.h>

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "python/src/tensor_bindings.h"
#include "python/src/training_bindings.h"
#include "runtime/common/error.h"
#include "runtime/ir/model_saver.h"
#include "training/nn/export.h"
#include "training/nn/nn.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace onyx::python {

namespace {

// A module written in Python: call() runs the Python object's _call_tensors (onyx.nn.Module's,
// which calls forward), so C++ (Sequential, export, optimizers) calls it like any layer.
class PythonLayer : public nn::Layer {
 public:
  NB_TRAMPOLINE(nn::Layer);

  std::vector<Tensor> call(const std::vector<Tensor>& inputs) override {
    NB_OVERRIDE_PURE_NAME("_call_tensors", call, inputs);
  }

  nn::Parameter& add_parameter(const std::string& name, std::shared_ptr<nn::Parameter> parameter) {
    return register_parameter(name, std::move(parameter));
  }
  Tensor& add_buffer(const std::string& name, Tensor value) { return register_buffer(name, std::move(value)); }
  void add_module(const std::string& name, std::shared_ptr<nn::Module> module) {
    register_module(name, std::move(module));
  }

 protected:
  Tensor forward(const Tensor& x) override {
    std::vector<Tensor> outputs = call({x});
    ONYX_CHECK(outputs.size() == 1, ErrorCode::kInvalidArgument, type_name(),
               ": used as a layer (Sequential) its forward must return one tensor, got ", outputs.size());
    return outputs[0];
  }
};

PythonLayer& python_layer(nn::Module& module, const char* what) {
  auto* layer = dynamic_cast<PythonLayer*>(&module);
  ONYX_CHECK(layer != nullptr, ErrorCode::kInvalidArgument, module.type_name(), ": ", what,
             " works on modules written in Python (subclasses of onyx.nn.Module), not on built-in layers");
  return *layer;
}

Shape shape_from(const std::vector<int64_t>& dims) { return Shape(dims.begin(), dims.end()); }

// An initializer: the C++ ones (training/nn/init.h) carried as this object, or a Python callable
// taking the shape (a tuple) and returning an array-like.
struct PythonInitializer {
  nn::Initializer make;
  std::string name;
};

nn::Initializer initializer_from(nb::handle object) {
  if (object.is_none()) return {};
  if (nb::isinstance<PythonInitializer>(object)) return nb::cast<PythonInitializer&>(object).make;
  ONYX_CHECK(PyCallable_Check(object.ptr()), ErrorCode::kInvalidArgument,
             "an initializer is an onyx.nn.init initializer or a callable of the shape, not a ",
             nb::type_name(object.type()).c_str());
  nb::object callable = nb::borrow(object);
  return [callable](const Shape& shape, const nn::Fans&) {
    nb::gil_scoped_acquire acquire;
    nb::tuple dims = nb::tuple(nb::cast(std::vector<int64_t>(shape.begin(), shape.end())));
    Tensor value = tensor_from_object(callable(dims)).clone();
    ONYX_CHECK(value.shape() == shape, ErrorCode::kInvalidArgument, "an initializer returned ",
               shape_to_string(value.shape()), " for a parameter of shape ", shape_to_string(shape));
    return value;
  };
}

Tensor initial_value(const nn::Initializer& make, const std::vector<int64_t>& dims) {
  Shape shape = shape_from(dims);
  return make(shape, nn::fans_of(shape));
}

// kernel_size=3 or (3, 5), torch's spelling.
std::array<int64_t, 2> pair_of(nb::handle object, const char* what) {
  if (PyLong_Check(object.ptr())) {
    int64_t value = nb::cast<int64_t>(object);
    return {value, value};
  }
  auto values = nb::cast<std::vector<int64_t>>(object);
  ONYX_CHECK(values.size() == 2, ErrorCode::kInvalidArgument, what, " takes one number or two, got ", values.size());
  return {values[0], values[1]};
}

// An onyx.Tensor as it is (tensors are never written in place); anything else copied, so that a
// later write to the caller's NumPy array does not change a module's weight.
Tensor owned_tensor(nb::handle value) {
  return nb::isinstance<Tensor>(value) ? nb::cast<Tensor>(value) : tensor_from_object(value).clone();
}

std::vector<Tensor> tensors_of(const nb::handle& items, const char* what) {
  std::vector<Tensor> tensors;
  for (nb::handle item : items) {
    tensors.push_back(nb::isinstance<Tensor>(item) ? nb::cast<Tensor>(item) : tensor_from_object(item));
  }
  ONYX_CHECK(!tensors.empty() || what == nullptr, ErrorCode::kInvalidArgument, what, ": no tensors given");
  return tensors;
}

std::map<std::string, Tensor> state_from(const nb::dict& state) {
  std::map<std::string, Tensor> out;
  for (auto [key, value] : state) {
    out.emplace(nb::cast<std::string>(key),
                nb::isinstance<Tensor>(value) ? nb::cast<Tensor>(value) : tensor_from_object(value));
  }
  return out;
}

// Parameters and modules the C++ side owns go out as references that keep their module alive;
// ones made in Python come back as the same Python objects.
template <typename T>
nb::list named_references(const nn::Named<T*>& named, nb::handle owner) {
  nb::list out;
  for (const auto& [name, item] : named) {
    out.append(nb::make_tuple(name, nb::cast(item, nb::rv_policy::reference_internal, owner)));
  }
  return out;
}

Tensor* own_buffer(nn::Module& module, const std::string& name) {
  for (auto& [path, buffer] : module.named_buffers()) {
    if (path == name) return buffer;
  }
  return nullptr;
}

nn::ExportOptions export_options(std::vector<std::string> input_names, std::vector<std::string> output_names,
                                 bool dynamic_batch) {
  nn::ExportOptions options;
  options.input_names = std::move(input_names);
  options.output_names = std::move(output_names);
  options.dynamic_batch = dynamic_batch;
  return options;
}

nn::CrossEntropyOptions cross_entropy_options(const std::string& reduction, std::optional<int64_t> ignore_index,
                                              nb::handle weight, float label_smoothing) {
  nn::CrossEntropyOptions options;
  options.reduction = training::parse_reduction(reduction);
  options.ignore_index = ignore_index;
  if (!weight.is_none()) options.class_weights = tensor_from_object(weight).clone();
  options.label_smoothing = label_smoothing;
  return options;
}

void add_module_classes(nb::module_& m) {
  nb::class_<nn::Parameter>(m, "Parameter",
                            "A module's weight: `value` (an onyx.Tensor, rebound by each optimizer step) and "
                            "`trainable` (False: frozen, kept out of parameters() and the optimizer).")
      .def("__init__",
           [](nn::Parameter* self, nb::handle value, bool trainable) {
             Tensor tensor = owned_tensor(value);
             ONYX_CHECK(tensor.defined(), ErrorCode::kInvalidArgument, "Parameter: the value is undefined");
             new (self) nn::Parameter{std::move(tensor), trainable};
           },
           "value"_a, "trainable"_a = true)
      .def_prop_rw(
          "value", [](const nn::Parameter& p) { return p.value; },
          [](nn::Parameter& p, nb::handle value) {
            Tensor tensor = owned_tensor(value);
            ONYX_CHECK(tensor.dtype() == p.value.dtype() && tensor.shape() == p.value.shape(),
                       ErrorCode::kInvalidArgument, "Parameter.value: a ", dtype_name(tensor.dtype()),
                       shape_to_string(tensor.shape()), " tensor for a ", dtype_name(p.value.dtype()),
                       shape_to_string(p.value.shape()), " parameter");
            p.value = std::move(tensor);
          })
      .def_rw("trainable", &nn::Parameter::trainable)
      // Equal and hashed by the parameter itself: the Python object of a C++ layer's parameter may
      // be made anew on each named_parameters() call, yet stays the same parameter.
      .def("__eq__", [](const nn::Parameter& a, nb::handle b) {
        return nb::isinstance<nn::Parameter>(b) && &a == &nb::cast<nn::Parameter&>(b);
      })
      .def("__hash__", [](const nn::Parameter& p) { return std::hash<const void*>()(&p); })
      .def_prop_ro("shape", [](const nn::Parameter& p) {
        return nb::tuple(nb::cast(std::vector<int64_t>(p.value.shape().begin(), p.value.shape().end())));
      })
      .def("__repr__", [](const nn::Parameter& p) {
        return std::string("Parameter(") + std::string(dtype_name(p.value.dtype())) + shape_to_string(p.value.shape()) +
               (p.trainable ? "" : ", trainable=False") + ")";
      });

  nb::class_<nn::Module>(m, "ModuleBase")
      .def_prop_ro("type_name", &nn::Module::type_name)
      .def("call", [](nn::Module& self, nb::handle inputs) { return self.call(tensors_of(inputs, nullptr)); },
           "inputs"_a, "The module on a list of tensors; a list of outputs (what export traces).")
      .def("named_parameters",
           [](nb::handle self) { return named_references(nb::cast<nn::Module&>(self).named_parameters(), self); },
           "Every parameter (frozen ones too) by dotted path, the module's own first.")
      .def("parameters",
           [](nb::handle self) {
             nb::list out;
             for (nn::Parameter* p : nb::cast<nn::Module&>(self).parameters()) {
               out.append(nb::cast(p, nb::rv_policy::reference_internal, self));
             }
             return out;
           },
           "The trainable parameters, in named_parameters() order.")
      .def("named_buffers",
           [](nn::Module& self) {
             nb::list out;
             for (auto& [name, buffer] : self.named_buffers()) out.append(nb::make_tuple(name, *buffer));
             return out;
           })
      .def("named_modules",
           [](nb::handle self) { return named_references(nb::cast<nn::Module&>(self).named_modules(), self); })
      .def("named_children",
           [](nn::Module& self) {
             nb::list out;
             for (const auto& [name, child] : self.children()) out.append(nb::make_tuple(name, child));
             return out;
           })
      .def("parameter_count", &nn::Module::parameter_count)
      .def("train", [](nb::handle self, bool on) { nb::cast<nn::Module&>(self).train(on); return nb::borrow(self); },
           "mode"_a = true)
      .def("eval", [](nb::handle self) { nb::cast<nn::Module&>(self).eval(); return nb::borrow(self); })
      .def_prop_ro("training", &nn::Module::is_training)
      .def("requires_grad_",
           [](nb::handle self, bool trainable) {
             nb::cast<nn::Module&>(self).set_trainable(trainable);
             return nb::borrow(self);
           },
           "requires_grad"_a = true, "Freezes (False) or unfreezes every parameter of this module and below.")
      .def("is_built", &nn::Module::is_built)
      .def("state_dict", &nn::Module::state_dict)
      .def("load_state_dict",
           [](nn::Module& self, const nb::dict& state, bool strict) {
             self.load_state_dict(state_from(state), strict);
           },
           "state_dict"_a, "strict"_a = true)
      .def("save", [](nn::Module& self, const std::string& path) { self.save(path); }, "path"_a)
      .def("load", [](nn::Module& self, const std::string& path) { self.load(path); }, "path"_a)
      .def("_register_parameter",
           [](nn::Module& self, const std::string& name, std::shared_ptr<nn::Parameter> parameter) {
             python_layer(self, "registering a parameter").add_parameter(name, std::move(parameter));
           })
      .def("_register_buffer",
           [](nn::Module& self, const std::string& name, nb::handle value) {
             python_layer(self, "register_buffer").add_buffer(name, tensor_from_object(value).clone());
           })
      .def("_register_module",
           [](nn::Module& self, const std::string& name, std::shared_ptr<nn::Module> module) {
             python_layer(self, "registering a submodule").add_module(name, std::move(module));
           })
      .def("_buffer",
           [](nn::Module& self, const std::string& name) -> std::optional<Tensor> {
             Tensor* buffer = own_buffer(self, name);
             return buffer ? std::optional<Tensor>(*buffer) : std::nullopt;
           })
      .def("_set_buffer", [](nn::Module& self, const std::string& name, nb::handle value) {
        Tensor* buffer = own_buffer(self, name);
        ONYX_CHECK(buffer != nullptr, ErrorCode::kInvalidArgument, self.type_name(), ": no buffer '", name, "'");
        *buffer = owned_tensor(value);
      });

  // The base of Python models and of the built-in layers: onyx.nn.Module.
  nb::class_<nn::Layer, nn::Module, PythonLayer>(m, "Module")
      .def(nb::init<std::string>(), "type_name"_a = "Module");

  nb::class_<PythonInitializer>(m, "Initializer")
      .def("__call__", [](const PythonInitializer& init, const std::vector<int64_t>& shape) {
        return initial_value(init.make, shape);
      }, "shape"_a)
      .def("__repr__", [](const PythonInitializer& init) { return init.name; });
}

void add_layers(nb::module_& m) {
  using nn::Layer;
  nb::class_<nn::Linear, Layer>(m, "Linear")
      .def("__init__",
           [](nn::Linear* self, std::optional<int64_t> in_features, int64_t out_features, bool bias,
              nb::handle weight_init, nb::handle bias_init) {
             nn::LinearOptions options{bias, initializer_from(weight_init), initializer_from(bias_init)};
             if (in_features) {
               new (self) nn::Linear(*in_features, out_features, std::move(options));
             } else {
               new (self) nn::Linear(out_features, std::move(options));
             }
           },
           "in_features"_a.none(), "out_features"_a, "bias"_a = true, "weight_init"_a = nb::none(),
           "bias_init"_a = nb::none())
      .def_prop_ro("weight", [](nn::Linear& l) { return &l.weight(); }, nb::rv_policy::reference_internal)
      .def_prop_ro("bias", [](nn::Linear& l) { return l.bias(); }, nb::rv_policy::reference_internal);

  nb::class_<nn::Conv2d, Layer>(m, "Conv2d")
      .def("__init__",
           [](nn::Conv2d* self, int64_t in_channels, int64_t out_channels, nb::handle kernel_size, nb::handle stride,
              nb::handle padding, nb::handle dilation, int64_t groups, bool bias, nb::handle weight_init,
              nb::handle bias_init) {
             nn::Conv2dOptions options;
             options.stride = pair_of(stride, "Conv2d stride");
             options.padding = pair_of(padding, "Conv2d padding");
             options.dilation = pair_of(dilation, "Conv2d dilation");
             options.groups = groups;
             options.bias = bias;
             options.weight_init = initializer_from(weight_init);
             options.bias_init = initializer_from(bias_init);
             new (self) nn::Conv2d(in_channels, out_channels, pair_of(kernel_size, "Conv2d kernel_size"),
                                   std::move(options));
           },
           "in_channels"_a, "out_channels"_a, "kernel_size"_a, "stride"_a = 1, "padding"_a = 0, "dilation"_a = 1,
           "groups"_a = 1, "bias"_a = true, "weight_init"_a = nb::none(), "bias_init"_a = nb::none())
      .def_prop_ro("weight", [](nn::Conv2d& l) { return &l.weight(); }, nb::rv_policy::reference_internal)
      .def_prop_ro("bias", [](nn::Conv2d& l) { return l.bias(); }, nb::rv_policy::reference_internal);

  nb::class_<nn::BatchNorm, Layer>(m, "BatchNorm")
      .def("__init__",
           [](nn::BatchNorm* self, int64_t num_features, double eps, double momentum, bool affine) {
             new (self) nn::BatchNorm(num_features, nn::BatchNormOptions{eps, momentum, affine});
           },
           "num_features"_a, "eps"_a = 1e-5, "momentum"_a = 0.1, "affine"_a = true)
      .def_prop_ro("running_mean", [](nn::BatchNorm& l) { return l.running_mean(); })
      .def_prop_ro("running_var", [](nn::BatchNorm& l) { return l.running_var(); });

  nb::class_<nn::LayerNorm, Layer>(m, "LayerNorm")
      .def("__init__",
           [](nn::LayerNorm* self, nb::handle normalized_shape, double eps, bool elementwise_affine) {
             std::vector<int64_t> shape = PyLong_Check(normalized_shape.ptr())
                                              ? std::vector<int64_t>{nb::cast<int64_t>(normalized_shape)}
                                              : nb::cast<std::vector<int64_t>>(normalized_shape);
             new (self) nn::LayerNorm(shape, eps, elementwise_affine);
           },
           "normalized_shape"_a, "eps"_a = 1e-5, "elementwise_affine"_a = true);

  nb::class_<nn::Dropout, Layer>(m, "Dropout").def(nb::init<double>(), "p"_a = 0.5);

  nb::class_<nn::Embedding, Layer>(m, "Embedding")
      .def("__init__",
           [](nn::Embedding* self, int64_t num_embeddings, int64_t embedding_dim, nb::handle init) {
             new (self) nn::Embedding(num_embeddings, embedding_dim, initializer_from(init));
           },
           "num_embeddings"_a, "embedding_dim"_a, "weight_init"_a = nb::none())
      .def_prop_ro("weight", [](nn::Embedding& l) { return &l.weight(); }, nb::rv_policy::reference_internal);

  nb::class_<nn::RecurrentLayer, Layer>(m, "RecurrentLayer")
      .def_prop_ro("hidden_size", &nn::RecurrentLayer::hidden_size)
      .def("run",
           [](nn::RecurrentLayer& layer, nb::handle x, nb::handle h0, nb::handle c0) {
             std::vector<Tensor> h = h0.is_none() ? std::vector<Tensor>{} : tensors_of(h0, nullptr);
             std::vector<Tensor> c = c0.is_none() ? std::vector<Tensor>{} : tensors_of(c0, nullptr);
             nn::RecurrentOutput out = layer.run(tensors_of(nb::make_tuple(x), nullptr)[0], h, c);
             return nb::make_tuple(out.output, out.h, out.c);
           },
           "x"_a, "h0"_a = nb::none(), "c0"_a = nb::none(),
           "(output [batch, time, hidden], [h per layer], [c per layer] (LSTM; else empty)).");
  nb::class_<nn::LSTM, nn::RecurrentLayer>(m, "LSTM")
      .def("__init__",
           [](nn::LSTM* self, int64_t input_size, int64_t hidden_size, int64_t num_layers, bool bias) {
             new (self) nn::LSTM(input_size, hidden_size, nn::RecurrentOptions{num_layers, bias});
           },
           "input_size"_a, "hidden_size"_a, "num_layers"_a = 1, "bias"_a = true);
  nb::class_<nn::GRU, nn::RecurrentLayer>(m, "GRU")
      .def("__init__",
           [](nn::GRU* self, int64_t input_size, int64_t hidden_size, int64_t num_layers, bool bias) {
             new (self) nn::GRU(input_size, hidden_size, nn::RecurrentOptions{num_layers, bias});
           },
           "input_size"_a, "hidden_size"_a, "num_layers"_a = 1, "bias"_a = true);

  nb::class_<nn::MultiHeadAttention, Layer>(m, "MultiHeadAttention")
      .def(nb::init<int64_t, int64_t, bool>(), "embed_dim"_a, "num_heads"_a, "bias"_a = true)
      .def("attend",
           [](nn::MultiHeadAttention& layer, nb::handle query, nb::handle key, nb::handle value, nb::handle mask) {
             auto q = tensors_of(nb::make_tuple(query, key, value), nullptr);
             Tensor m = mask.is_none() ? Tensor() : tensors_of(nb::make_tuple(mask), nullptr)[0];
             return layer.attend(q[0], q[1], q[2], m);
           },
           "query"_a, "key"_a, "value"_a, "mask"_a = nb::none());

  auto pool_options = [](nb::handle kernel, nb::handle stride, nb::handle padding, bool ceil_mode,
                         bool count_include_pad) {
    nn::Pool2dOptions options;
    options.stride = stride.is_none() ? std::array<int64_t, 2>{0, 0} : pair_of(stride, "pooling stride");
    options.padding = pair_of(padding, "pooling padding");
    options.ceil_mode = ceil_mode;
    options.count_include_pad = count_include_pad;
    return options;
  };
  nb::class_<nn::MaxPool2d, Layer>(m, "MaxPool2d")
      .def("__init__",
           [pool_options](nn::MaxPool2d* self, nb::handle kernel_size, nb::handle stride, nb::handle padding,
                          bool ceil_mode) {
             new (self) nn::MaxPool2d(pair_of(kernel_size, "MaxPool2d kernel_size"),
                                      pool_options(kernel_size, stride, padding, ceil_mode, true));
           },
           "kernel_size"_a, "stride"_a = nb::none(), "padding"_a = 0, "ceil_mode"_a = false);
  nb::class_<nn::AvgPool2d, Layer>(m, "AvgPool2d")
      .def("__init__",
           [pool_options](nn::AvgPool2d* self, nb::handle kernel_size, nb::handle stride, nb::handle padding,
                          bool ceil_mode, bool count_include_pad) {
             new (self) nn::AvgPool2d(pair_of(kernel_size, "AvgPool2d kernel_size"),
                                      pool_options(kernel_size, stride, padding, ceil_mode, count_include_pad));
           },
           "kernel_size"_a, "stride"_a = nb::none(), "padding"_a = 0, "ceil_mode"_a = false,
           "count_include_pad"_a = true);
  nb::class_<nn::GlobalAvgPool2d, Layer>(m, "GlobalAvgPool2d").def(nb::init<>());

  nb::class_<nn::ReLU, Layer>(m, "ReLU").def(nb::init<>());
  nb::class_<nn::LeakyReLU, Layer>(m, "LeakyReLU").def(nb::init<float>(), "negative_slope"_a = 0.01f);
  nb::class_<nn::Sigmoid, Layer>(m, "Sigmoid").def(nb::init<>());
  nb::class_<nn::Tanh, Layer>(m, "Tanh").def(nb::init<>());
  nb::class_<nn::GELU, Layer>(m, "GELU")
      .def("__init__",
           [](nn::GELU* self, const std::string& approximate) {
             ONYX_CHECK(approximate == "none" || approximate == "tanh", ErrorCode::kInvalidArgument,
                        "GELU: approximate is 'none' or 'tanh', got '", approximate, "'");
             new (self) nn::GELU(approximate == "tanh");
           },
           "approximate"_a = "none");
  nb::class_<nn::Softmax, Layer>(m, "Softmax").def(nb::init<int64_t>(), "dim"_a = -1);
  nb::class_<nn::LogSoftmax, Layer>(m, "LogSoftmax").def(nb::init<int64_t>(), "dim"_a = -1);
  nb::class_<nn::Flatten, Layer>(m, "Flatten").def(nb::init<int64_t>(), "start_dim"_a = 1);

  nb::class_<nn::Sequential, Layer>(m, "Sequential")
      .def("__init__",
           [](nn::Sequential* self, nb::args layers) {
             std::vector<std::shared_ptr<Layer>> listed;
             for (nb::handle layer : layers) listed.push_back(nb::cast<std::shared_ptr<Layer>>(layer));
             new (self) nn::Sequential(std::move(listed));
           })
      .def("append",
           [](nb::handle self, std::shared_ptr<Layer> layer) {
             nb::cast<nn::Sequential&>(self).add(std::move(layer));
             return nb::borrow(self);
           },
           "layer"_a)
      .def("__len__", &nn::Sequential::size)
      .def("__getitem__",
           [](nn::Sequential& s, int64_t i) -> Layer& {
             const int64_t size = static_cast<int64_t>(s.size());
             if (i < 0) i += size;
             if (i < 0 || i >= size) throw nb::index_error("Sequential index out of range");
             return s[static_cast<size_t>(i)];
           },
           nb::rv_policy::reference_internal);
}

void add_init(nb::module_& m) {
  using Seed = std::optional<uint64_t>;
  auto named = [](nn::Initializer make, std::string name) {
    return PythonInitializer{std::move(make), std::move(name)};
  };
  m.def("init_zeros", [named] { return named(nn::zeros_init(), "zeros"); });
  m.def("init_ones", [named] { return named(nn::ones_init(), "ones"); });
  m.def("init_constant", [named](double v) { return named(nn::constant_init(v), "constant"); }, "value"_a);
  m.def("init_uniform", [named](double low, double high, Seed seed) {
    return named(nn::uniform_init(low, high, seed), "uniform");
  }, "low"_a, "high"_a, "seed"_a.none());
  m.def("init_normal", [named](double mean, double std, Seed seed) {
    return named(nn::normal_init(mean, std, seed), "normal");
  }, "mean"_a, "std"_a, "seed"_a.none());
  m.def("init_glorot_uniform", [named](Seed seed) { return named(nn::glorot_uniform(seed), "glorot_uniform"); },
        "seed"_a.none());
  m.def("init_glorot_normal", [named](Seed seed) { return named(nn::glorot_normal(seed), "glorot_normal"); },
        "seed"_a.none());
  m.def("init_he_uniform", [named](Seed seed) { return named(nn::he_uniform(seed), "he_uniform"); }, "seed"_a.none());
  m.def("init_he_normal", [named](Seed seed) { return named(nn::he_normal(seed), "he_normal"); }, "seed"_a.none());
  m.def("init_fan_in_uniform", [named](Seed seed) { return named(nn::fan_in_uniform(seed), "fan_in_uniform"); },
        "seed"_a.none());
  m.def("fans_of", [](const std::vector<int64_t>& shape) {
    nn::Fans fans = nn::fans_of(shape_from(shape));
    return std::make_pair(fans.in, fans.out);
  }, "shape"_a);
  m.def("manual_seed", &nn::manual_seed, "seed"_a);
}

void add_optimizer(nb::module_& m) {
  nb::class_<nn::Optimizer>(m, "Optimizer")
      .def("__init__",
           [](nn::Optimizer* self, const nn::Named<nn::Parameter*>& parameters, const nb::dict& options) {
             new (self) nn::Optimizer(parameters, optimizer_config_from_python(options));
           },
           "parameters"_a, "options"_a)
      .def("__init__",
           [](nn::Optimizer* self, nn::Module& module, const nb::dict& options) {
             new (self) nn::Optimizer(module, optimizer_config_from_python(options));
           },
           "module"_a, "options"_a)
      .def("apply_gradients",
           [](nn::Optimizer& o, nb::handle grads, std::optional<std::vector<nn::Parameter*>> params) {
             std::vector<Tensor> gradients = tensors_of(grads, nullptr);
             params ? o.apply_gradients(gradients, *params) : o.apply_gradients(gradients);
           },
           "grads"_a, "params"_a.none() = nb::none())
      .def("tensors", &nn::Optimizer::tensors)
      .def_prop_ro("names", &nn::Optimizer::names)
      .def("parameters",
           [](nb::handle self) {
             nb::list out;
             for (nn::Parameter* p : nb::cast<nn::Optimizer&>(self).parameters()) {
               out.append(nb::cast(p, nb::rv_policy::reference));
             }
             return out;
           })
      .def("learning_rate", &nn::Optimizer::learning_rate, "group"_a = 0)
      .def("set_learning_rate", &nn::Optimizer::set_learning_rate, "lr"_a)
      .def_prop_ro("step_count", &nn::Optimizer::step_count)
      .def("hyperparameter",
           [](const nn::Optimizer& o, const std::string& name, size_t group) {
             return o.core().hyperparameter(name, group);
           },
           "name"_a, "group"_a = 0)
      .def("set_hyperparameter",
           [](nn::Optimizer& o, const std::string& name, double value, std::optional<size_t> group) {
             o.core().set_hyperparameter(name, value, group);
           },
           "name"_a, "value"_a, "group"_a.none() = nb::none())
      .def_prop_ro("last_gradient_norm", [](const nn::Optimizer& o) { return o.core().last_gradient_norm(); })
      .def("state", [](const nn::Optimizer& o) { return o.core().state(); });
}

void add_losses_and_metrics(nb::module_& m) {
  auto reduction = [](const std::string& name) { return training::parse_reduction(name); };
  m.def("mse_loss", [reduction](const Tensor& p, const Tensor& t, const std::string& r) {
    return nn::mse_loss(p, t, reduction(r));
  }, "prediction"_a, "target"_a, "reduction"_a = "mean");
  m.def("l1_loss", [reduction](const Tensor& p, const Tensor& t, const std::string& r) {
    return nn::l1_loss(p, t, reduction(r));
  }, "prediction"_a, "target"_a, "reduction"_a = "mean");
  m.def("huber_loss", [reduction](const Tensor& p, const Tensor& t, float delta, const std::string& r) {
    return nn::huber_loss(p, t, delta, reduction(r));
  }, "prediction"_a, "target"_a, "delta"_a = 1.0f, "reduction"_a = "mean");
  m.def("bce_with_logits_loss", [reduction](const Tensor& p, const Tensor& t, const std::string& r) {
    return nn::bce_with_logits_loss(p, t, reduction(r));
  }, "logits"_a, "target"_a, "reduction"_a = "mean");
  m.def("cross_entropy_loss",
        [](const Tensor& logits, const Tensor& labels, const std::string& r, std::optional<int64_t> ignore_index,
           nb::handle weight, float label_smoothing) {
          return nn::cross_entropy_loss(logits, labels,
                                        cross_entropy_options(r, ignore_index, weight, label_smoothing));
        },
        "logits"_a, "labels"_a, "reduction"_a = "mean", "ignore_index"_a.none() = nb::none(),
        "weight"_a.none() = nb::none(), "label_smoothing"_a = 0.0f);
  m.def("nll_loss",
        [](const Tensor& log_probabilities, const Tensor& labels, const std::string& r,
           std::optional<int64_t> ignore_index, nb::handle weight) {
          return nn::nll_loss(log_probabilities, labels, cross_entropy_options(r, ignore_index, weight, 0.0f));
        },
        "log_probabilities"_a, "labels"_a, "reduction"_a = "mean", "ignore_index"_a.none() = nb::none(),
        "weight"_a.none() = nb::none());

  nb::class_<nn::Metric>(m, "Metric")
      .def_prop_ro("name", &nn::Metric::name)
      .def("update_state", &nn::Metric::update_state, "prediction"_a, "target"_a)
      .def("result", &nn::Metric::result)
      .def("reset", &nn::Metric::reset);
  nb::class_<nn::MeanMetric, nn::Metric>(m, "MeanMetric")
      .def("__init__",
           [](nn::MeanMetric* self, const std::string& name, nb::callable batch_value) {
             auto value = [batch_value](const Tensor& prediction, const Tensor& target) {
               nb::object result = batch_value(prediction, target);
               return nb::isinstance<Tensor>(result) ? nb::cast<Tensor>(result) : tensor_from_object(result);
             };
             new (self) nn::MeanMetric(name, value);
           },
           "name"_a, "batch_value"_a)
      .def_prop_ro("count", &nn::MeanMetric::count)
      .def("export_graph",
           [](const nn::MeanMetric& metric, const Tensor& prediction, const Tensor& target) {
             std::string bytes = serialize_model(metric.export_graph(prediction, target));
             return nb::bytes(bytes.data(), bytes.size());
           },
           "prediction_example"_a, "target_example"_a)
      .def("save_graph",
           [](const nn::MeanMetric& metric, const Tensor& prediction, const Tensor& target, const std::string& path) {
             metric.save_graph(prediction, target, path);
           },
           "prediction_example"_a, "target_example"_a, "path"_a);
  nb::class_<nn::BuiltinMetric, nn::MeanMetric>(m, "BuiltinMetric")
      .def("__init__", [](nn::BuiltinMetric* self, const std::string& name) { new (self) nn::BuiltinMetric(name); },
           "name"_a);
}

void add_export(nb::module_& m) {
  m.def("export_model",
        [](nn::Module& module, nb::handle examples, std::vector<std::string> input_names,
           std::vector<std::string> output_names, bool dynamic_batch) {
          std::string bytes = serialize_model(nn::export_model(
              module, tensors_of(examples, "export"), export_options(input_names, output_names, dynamic_batch)));
          return nb::bytes(bytes.data(), bytes.size());
        },
        "module"_a, "examples"_a, "input_names"_a, "output_names"_a, "dynamic_batch"_a);
  m.def("export_inference_model",
        [](nn::Module& module, nb::handle examples, const std::string& path, std::vector<std::string> input_names,
           std::vector<std::string> output_names, bool dynamic_batch) {
          nn::export_inference_model(module, tensors_of(examples, "export"), path,
                                     export_options(input_names, output_names, dynamic_batch));
        },
        "module"_a, "examples"_a, "path"_a, "input_names"_a, "output_names"_a, "dynamic_batch"_a);
  m.def("export_trainable_model",
        [](nn::Module& module, nb::handle examples, const std::string& loss, const std::string& path,
           std::vector<std::string> input_names, std::vector<std::string> output_names, bool dynamic_batch) {
          nn::export_trainable_model(module, tensors_of(examples, "export"), training::parse_loss_kind(loss), path,
                                     export_options(input_names, output_names, dynamic_batch));
        },
        "module"_a, "examples"_a, "loss"_a, "path"_a, "input_names"_a, "output_names"_a, "dynamic_batch"_a);
}

}  // namespace

void add_nn_functions(nb::module_& module) {
  nb::module_ m = module.def_submodule("nn", "onyx::nn, the C++ module system (training/nn/)");
  // A C++ module holds its Python-made submodules and parameters through shared_ptrs, references
  // the cycle collector cannot see: a model left in __main__ at exit is then still alive when
  // nanobind counts instances, and its "leaked instances" report would be noise, not a leak.
  nb::set_leak_warnings(false);
  add_module_classes(m);
  add_layers(m);
  add_init(m);
  add_optimizer(m);
  add_losses_and_metrics(m);
  add_export(m);
}

}  // namespace onyx::python
