// Training for Python: the C++ TrainingSession (training/training_session.h) with its losses,
// optimizers, schedules, metrics and checkpoints, the gradient builder, and the CLI's epoch order.
// python/onyx/training.py gives them their Python shape; this file moves values across and
// releases the GIL while a step runs.
#include "python/src/training_bindings.h"

#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "python/src/numpy_values.h"
#include "python/src/tensor_bindings.h"
#include "runtime/common/error.h"
#include "runtime/ir/model_loader.h"
#include "runtime/ir/model_saver.h"
#include "training/checkpoint.h"
#include "training/data/dataset.h"
#include "training/gradient_builder.h"
#include "training/schedules.h"
#include "training/training_session.h"

namespace nb = nanobind;

namespace onyx::python {

namespace {

using training::Feeds;

// A model from a path (str / os.PathLike) or serialized bytes.
Model model_from_python(nb::handle model) {
  if (nb::isinstance<nb::bytes>(model)) {
    nb::bytes bytes = nb::cast<nb::bytes>(model);
    return load_model_from_bytes(bytes.c_str(), bytes.size());
  }
  return load_model(nb::cast<std::string>(nb::str(nb::module_::import_("os").attr("fspath")(model))));
}

nb::bytes to_bytes(const Model& model) {
  std::string bytes = serialize_model(model);
  return nb::bytes(bytes.data(), bytes.size());
}

template <typename T>
T option(const nb::dict& options, const char* key, T fallback) {
  return options.contains(key) && !options[key].is_none() ? nb::cast<T>(options[key]) : fallback;
}

training::LossSpec loss_from_python(const nb::dict& loss) {
  training::LossSpec spec;
  spec.kind = training::parse_loss_kind(nb::cast<std::string>(loss["kind"]));
  spec.prediction = option<std::string>(loss, "prediction", "");
  spec.target = option<std::string>(loss, "target", "target");
  spec.reduction = training::parse_reduction(option<std::string>(loss, "reduction", "mean"));
  if (loss.contains("ignore_index") && !loss["ignore_index"].is_none()) {
    spec.ignore_index = nb::cast<int64_t>(loss["ignore_index"]);
  }
  if (loss.contains("class_weights") && !loss["class_weights"].is_none()) {
    spec.class_weights = tensor_from_object(loss["class_weights"]).clone();
  }
  spec.label_smoothing = option<float>(loss, "label_smoothing", 0.0f);
  spec.huber_delta = option<float>(loss, "huber_delta", 1.0f);
  return spec;
}

training::UserGraph user_graph(const nb::handle& item) {
  nb::dict graph = nb::cast<nb::dict>(item);
  return training::UserGraph{option<std::string>(graph, "name", ""), model_from_python(graph["model"]),
                             option<std::map<std::string, std::string>>(graph, "bindings", {})};
}


training::TrainingOptions options_from_python(const nb::dict& options) {
  training::TrainingOptions result;
  if (options.contains("loss") && !options["loss"].is_none()) {
    result.loss = loss_from_python(nb::cast<nb::dict>(options["loss"]));
  }
  if (options.contains("loss_graph") && !options["loss_graph"].is_none()) {
    result.loss_graph = user_graph(options["loss_graph"]);
  }
  result.loss_output = option<std::string>(options, "loss_output", "");
  result.trainable = option<std::vector<std::string>>(options, "trainable", {});
  result.frozen = option<std::vector<std::string>>(options, "frozen", {});
  result.optimizer = optimizer_config_from_python(nb::cast<nb::dict>(options["optimizer"]));
  for (const std::string& name : option<std::vector<std::string>>(options, "metrics", {})) {
    result.metrics.push_back(training::parse_metric(name));
  }
  if (options.contains("metric_graphs")) {
    for (nb::handle item : nb::cast<nb::list>(options["metric_graphs"])) {
      result.metric_graphs.push_back(user_graph(item));
    }
  }
  result.metric_prediction = option<std::string>(options, "metric_prediction", "");
  result.metric_target = option<std::string>(options, "metric_target", "");
  result.seed = option<uint64_t>(options, "seed", 0);
  result.session.intra_op_threads = option<int>(options, "threads", 0);
  return result;
}

nb::object to_numpy(const Tensor& tensor) {
  PyObject* array = value_to_python(Value(tensor));
  if (!array) throw nb::python_error();
  return nb::steal(array);
}

nb::dict tensors_to_python(const std::map<std::string, Tensor>& tensors) {
  nb::dict out;
  for (const auto& [name, tensor] : tensors) out[nb::str(name.c_str())] = to_numpy(tensor);
  return out;
}

nb::dict outputs_to_python(const std::vector<NamedValue>& outputs) {
  nb::dict out;
  for (const NamedValue& output : outputs) {
    PyObject* value = value_to_python(output.value);
    if (!value) throw nb::python_error();
    out[nb::str(output.name.c_str())] = nb::steal(value);
  }
  return out;
}

class PythonTrainingSession {
  // The batch as feeds, then `fn` on it with the GIL released.
  Feeds feeds_from(const nb::handle& feeds) const {
    if (!PyDict_Check(feeds.ptr())) {
      throw_error(ErrorCode::kInvalidArgument, "a batch must be a dict of input name to array, not a ",
                  nb::type_name(feeds.type()).c_str());
    }
    Feeds out;
    for (auto [key, value] : nb::cast<nb::dict>(feeds)) {
      std::string name = nb::cast<std::string>(key);
      auto declared = declared_.find(name);
      if (nb::isinstance<Tensor>(value)) {
        out.emplace(name, nb::cast<Tensor>(value));
      } else {
        out.emplace(name, value_from_python(value.ptr(), name,
                                            declared == declared_.end() ? TypeInfo::tensor(DataType::kUndefined)
                                                                        : declared->second));
      }
    }
    return out;
  }
  template <typename Fn>
  auto released(const nb::handle& feeds, Fn&& fn) const {
    Feeds converted = feeds_from(feeds);
    nb::gil_scoped_release release;
    return fn(converted);
  }

 public:
  PythonTrainingSession(nb::handle model, const nb::dict& options) {
    Model forward = model_from_python(model);
    training::TrainingOptions parsed = options_from_python(options);
    nb::gil_scoped_release release;
    session_ = std::make_unique<training::TrainingSession>(std::move(forward), std::move(parsed));
    // The declared type of every input a batch may feed (data and targets), to convert arrays.
    for (bool training : {true, false}) {
      training ? session_->train() : session_->eval();
      for (const ValueInfo& input : session_->gradient_model().graph.inputs) declared_.emplace(input.name, input.type);
    }
    session_->train();
  }

  double train_step(const nb::handle& feeds) {
    return released(feeds, [&](const Feeds& f) { return session_->train_step(f); });
  }
  double backward(const nb::handle& feeds) {
    return released(feeds, [&](const Feeds& f) { return session_->backward(f); });
  }
  double compute_loss(const nb::handle& feeds) const {
    return released(feeds, [&](const Feeds& f) { return session_->compute_loss(f); });
  }
  nb::dict forward(const nb::handle& feeds) const {
    return outputs_to_python(released(feeds, [&](const Feeds& f) { return session_->forward(f); }));
  }
  nb::tuple eval_step(const nb::handle& feeds) const {
    training::EvalResult result = released(feeds, [&](const Feeds& f) { return session_->eval_step(f); });
    nb::dict metrics;
    for (const auto& [name, value] : result.metrics) metrics[nb::str(name.c_str())] = value;
    return nb::make_tuple(result.loss, metrics, outputs_to_python(result.outputs), result.batch_size);
  }
  void optimizer_step() {
    nb::gil_scoped_release release;
    session_->optimizer_step();
  }

  training::TrainingSession& session() { return *session_; }
  const training::TrainingSession& session() const { return *session_; }

 private:
  std::unique_ptr<training::TrainingSession> session_;
  std::map<std::string, TypeInfo> declared_;
};

nb::tuple build_gradient_model(nb::handle model, nb::handle loss, const std::string& loss_output,
                               const std::vector<std::string>& trainable, const std::vector<std::string>& frozen,
                               bool training_mode) {
  Model forward = model_from_python(model);
  training::GradientGraphOptions options;
  options.loss = loss_output;
  options.trainable = trainable;
  options.frozen = frozen;
  options.training_mode = training_mode;
  std::vector<std::string> targets;
  if (!loss.is_none()) {
    training::AppendedLoss appended = training::append_loss(forward, loss_from_python(nb::cast<nb::dict>(loss)));
    options.loss = appended.loss;
    targets = appended.targets;
  }
  ONYX_CHECK(!options.loss.empty(), ErrorCode::kInvalidArgument,
             "build_gradient_model needs a loss: a built-in loss or the name of the model's loss output");
  training::GradientGraph graph;
  {
    nb::gil_scoped_release release;
    graph = training::build_gradient_graph(forward, options);
  }
  return nb::make_tuple(to_bytes(graph.model), graph.gradients, graph.state_updates, targets, options.loss);
}

}  // namespace

training::OptimizerConfig optimizer_config_from_python(const nb::dict& optimizer) {
  const std::string kind = nb::cast<std::string>(optimizer["kind"]);
  training::OptimizerConfig config = kind == "sgd" ? training::sgd(0.01)
                                     : kind == "adam" ? training::adam()
                                     : kind == "adamw" ? training::adamw()
                                                       : training::optimizer_from_name(kind, 0.01);
  for (const auto& [name, value] : option<std::map<std::string, double>>(optimizer, "defaults", {})) {
    training::set_default_hyperparameter(config, name, value);
  }
  config.nesterov = option<bool>(optimizer, "nesterov", false);
  config.amsgrad = option<bool>(optimizer, "amsgrad", false);
  config.maximize = option<bool>(optimizer, "maximize", false);
  config.fused = option<bool>(optimizer, "fused", true);
  if (optimizer.contains("max_grad_norm") && !optimizer["max_grad_norm"].is_none()) {
    config.max_grad_norm = nb::cast<double>(optimizer["max_grad_norm"]);
  }
  if (optimizer.contains("groups")) {
    for (nb::handle item : nb::cast<nb::list>(optimizer["groups"])) {
      auto [params, values] = nb::cast<std::pair<std::vector<std::string>, std::map<std::string, double>>>(item);
      config.groups.push_back(training::ParamGroup{params, values});
    }
  }
  if (optimizer.contains("schedules")) {
    for (nb::handle item : nb::cast<nb::list>(optimizer["schedules"])) {
      auto [name, spec, group] =
          nb::cast<std::tuple<std::string, std::string, std::optional<size_t>>>(item);
      config.schedules.push_back({name, training::parse_schedule(spec), group});
    }
  }
  return config;
}

void add_training_functions(nb::module_& module) {
  using Session = PythonTrainingSession;
  nb::class_<Session>(module, "TrainingSession")
      .def(nb::init<nb::handle, const nb::dict&>(), nb::arg("model"), nb::arg("options"))
      .def("train_step", &Session::train_step)
      .def("backward", &Session::backward)
      .def("compute_loss", &Session::compute_loss)
      .def("forward", &Session::forward)
      .def("eval_step", &Session::eval_step)
      .def("optimizer_step", &Session::optimizer_step)
      .def("zero_grad", [](Session& s) { s.session().zero_grad(); })
      .def("gradients", [](const Session& s) { return tensors_to_python(s.session().gradients()); })
      .def("parameters", [](const Session& s) { return tensors_to_python(s.session().parameters()); })
      .def("buffers", [](const Session& s) { return tensors_to_python(s.session().buffers()); })
      .def("set_parameter",
           [](Session& s, const std::string& name, nb::handle value) {
             s.session().set_parameter(name, tensor_from_object(value).clone());
           })
      .def("trainable_names", [](const Session& s) { return s.session().trainable_names(); })
      .def("target_inputs", [](const Session& s) { return s.session().target_inputs(); })
      .def("learning_rate", [](const Session& s, size_t group) { return s.session().learning_rate(group); },
           nb::arg("group") = 0)
      .def("set_learning_rate",
           [](Session& s, double lr, std::optional<size_t> group) { s.session().set_learning_rate(lr, group); },
           nb::arg("lr"), nb::arg("group").none() = nb::none())
      .def("hyperparameter",
           [](const Session& s, const std::string& name, size_t group) {
             return s.session().optimizer().hyperparameter(name, group);
           },
           nb::arg("name"), nb::arg("group") = 0)
      .def("set_hyperparameter",
           [](Session& s, const std::string& name, double value, std::optional<size_t> group) {
             s.session().optimizer().set_hyperparameter(name, value, group);
           },
           nb::arg("name"), nb::arg("value"), nb::arg("group").none() = nb::none())
      .def("last_gradient_norm", [](const Session& s) { return s.session().optimizer().last_gradient_norm(); })
      .def("optimizer_state", [](const Session& s) { return tensors_to_python(s.session().optimizer().state()); })
      .def("step", [](const Session& s) { return s.session().step(); })
      .def("train", [](Session& s) { s.session().train(); })
      .def("eval", [](Session& s) { s.session().eval(); })
      .def("is_training", [](const Session& s) { return s.session().is_training(); })
      .def("inference_model_bytes", [](const Session& s) { return to_bytes(s.session().inference_model()); })
      .def("export_inference_model",
           [](const Session& s, const std::string& path) { s.session().export_inference_model(path); })
      .def("gradient_model_bytes", [](const Session& s) { return to_bytes(s.session().gradient_model()); })
      .def("save_checkpoint", [](const Session& s, const std::string& path) { s.session().save_checkpoint(path); })
      .def("load_checkpoint", [](Session& s, const std::string& path) { s.session().load_checkpoint(path); });

  module.def("build_gradient_model", &build_gradient_model, nb::arg("model"), nb::arg("loss").none(),
             nb::arg("loss_output"), nb::arg("trainable"), nb::arg("frozen"), nb::arg("training_mode"));
  module.def("epoch_order", &training::data::epoch_order, nb::arg("size"), nb::arg("seed"), nb::arg("epoch"),
             "The order `onyx train --seed SEED` visits samples in during `epoch` (0-based).");
  module.def("latest_checkpoint", [](const std::string& dir) -> std::optional<std::string> {
    auto found = training::latest_checkpoint(dir);
    return found ? std::optional<std::string>(found->string()) : std::nullopt;
  });
  module.def("checkpoint_path", [](const std::string& dir, int64_t step) {
    return training::checkpoint_path(dir, step).string();
  });
}

}  // namespace onyx::python
