// onyx::function: turns a C++ callable written with eager ops into a compiled graph. On the
// first call for an input signature (element types and shapes, with dims the options mark
// dynamic) it traces the callable's ops into an ONNX model (trace.h), compiles it with
// InferenceSession (validation, constant folding, memory planning), and runs it; later calls
// with that signature only run the compiled graph.
//
//   auto step = onyx::function([](const Tensor& x, const Tensor& w) { return ops::relu(x * w); });
//   Tensor y = step(x, w);                    // traces, compiles, runs
//   step.concrete(x, w).save("step.onnx");    // the traced model, runnable by `onyx run`
//
// Called inside another trace, a function is inlined into it.
#pragma once

#include <concepts>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/eager/trace.h"
#include "runtime/session/inference_session.h"

namespace onyx {

// One input of a signature: -1 in `shape` is a dim of any size (traced as a symbolic dim).
struct TensorSpec {
  DataType dtype = DataType::kFloat;
  Shape shape;
};

struct FunctionOptions {
  // When given, every call must match it and one traced graph serves them all.
  std::vector<TensorSpec> input_signature;
  std::vector<std::string> input_names;   // default "input_k"
  std::vector<std::string> output_names;  // default "output_k"
  SessionOptions session;                 // how each traced graph is compiled
};

// One traced signature: the model as traced, and the session that runs it.
class ConcreteFunction {
 public:
  ConcreteFunction(Model model, const SessionOptions& options);
  const Model& model() const { return model_; }
  const InferenceSession& session() const { return *session_; }
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) const;
  // Writes the traced model (atomically); `onyx run` and onnxruntime can run it.
  void save(const std::filesystem::path& path) const;

 private:
  Model model_;
  std::unique_ptr<InferenceSession> session_;
};

namespace eager {

using TracedCallable = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// The traced graphs of one function, by signature.
class FunctionCache {
 public:
  explicit FunctionCache(FunctionOptions options) : options_(std::move(options)) {}
  // The signature a call with these inputs has (the options' dynamic dims applied); throws
  // when the inputs do not match the options' input_signature.
  std::vector<TensorSpec> signature_of(const std::vector<Tensor>& inputs) const;
  const ConcreteFunction& concrete_for(const std::vector<TensorSpec>& signature, const TracedCallable& callable);
  size_t trace_count() const;

 private:
  FunctionOptions options_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::pair<DataType, Shape>>, std::unique_ptr<ConcreteFunction>> traced_;
};

// Results of a traced callable as a list of tensors and back: Tensor, std::vector<Tensor>,
// std::pair or std::tuple of Tensors.
template <typename R>
struct ResultPacking;
template <>
struct ResultPacking<Tensor> {
  static std::vector<Tensor> pack(Tensor value) { return {std::move(value)}; }
  static Tensor unpack(std::vector<Tensor> values) { return std::move(values.at(0)); }
};
template <>
struct ResultPacking<std::vector<Tensor>> {
  static std::vector<Tensor> pack(std::vector<Tensor> values) { return values; }
  static std::vector<Tensor> unpack(std::vector<Tensor> values) { return values; }
};
template <typename... Ts>
struct ResultPacking<std::tuple<Ts...>> {
  static std::vector<Tensor> pack(std::tuple<Ts...> values) {
    return std::apply([](auto&... v) { return std::vector<Tensor>{v...}; }, values);
  }
  static std::tuple<Ts...> unpack(std::vector<Tensor> values) {
    return [&]<size_t... I>(std::index_sequence<I...>) { return std::tuple<Ts...>{values.at(I)...}; }(
        std::index_sequence_for<Ts...>{});
  }
};
template <typename A, typename B>
struct ResultPacking<std::pair<A, B>> {
  static std::vector<Tensor> pack(std::pair<A, B> values) { return {values.first, values.second}; }
  static std::pair<A, B> unpack(std::vector<Tensor> values) { return {values.at(0), values.at(1)}; }
};

template <size_t>
using TensorArg = const Tensor&;

}  // namespace eager

template <typename F>
class Function {
 public:
  Function(F callable, FunctionOptions options)
      : callable_(std::make_shared<F>(std::move(callable))),
        cache_(std::make_shared<eager::FunctionCache>(std::move(options))) {}

  template <typename... Args>
    requires(std::same_as<std::decay_t<Args>, Tensor> && ...)
  auto operator()(const Args&... args) const {
    using Result = std::decay_t<std::invoke_result_t<const F&, const Args&...>>;
    if (eager::current_trace() != nullptr) return Result((*callable_)(args...));
    std::vector<Tensor> inputs{args...};
    const ConcreteFunction& concrete =
        cache_->concrete_for(cache_->signature_of(inputs), adapter<Result>(std::index_sequence_for<Args...>{}));
    return eager::ResultPacking<Result>::unpack(concrete.run(inputs));
  }

  // The traced graph for these example inputs (or TensorSpecs), tracing it if needed.
  template <typename... Args>
    requires((std::same_as<std::decay_t<Args>, Tensor> || std::same_as<std::decay_t<Args>, TensorSpec>) && ...)
  const ConcreteFunction& concrete(const Args&... args) const {
    std::vector<TensorSpec> signature{spec_of(args)...};
    if constexpr ((std::same_as<std::decay_t<Args>, Tensor> && ...)) {
      signature = cache_->signature_of(std::vector<Tensor>{args...});
    }
    using Result = std::decay_t<std::invoke_result_t<const F&, eager::TensorArg<sizeof(Args) * 0>...>>;
    return cache_->concrete_for(signature, adapter<Result>(std::index_sequence_for<Args...>{}));
  }

  // How many signatures have been traced (retracing shows up here).
  size_t trace_count() const { return cache_->trace_count(); }

 private:
  template <typename Result, size_t... I>
  eager::TracedCallable adapter(std::index_sequence<I...>) const {
    return [callable = callable_](const std::vector<Tensor>& inputs) {
      return eager::ResultPacking<Result>::pack(Result((*callable)(inputs.at(I)...)));
    };
  }
  static TensorSpec spec_of(const Tensor& tensor) { return {tensor.dtype(), tensor.shape()}; }
  static TensorSpec spec_of(const TensorSpec& spec) { return spec; }

  std::shared_ptr<F> callable_;
  std::shared_ptr<eager::FunctionCache> cache_;
};

template <typename F>
Function<F> function(F callable, FunctionOptions options = {}) {
  return Function<F>(std::move(callable), std::move(options));
}

}  // namespace onyx
