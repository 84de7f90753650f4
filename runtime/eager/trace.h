// Tracing: while a TraceContext is current on a thread, eager op calls record ONNX nodes
// instead of running, and return symbolic tensors (Tensor::symbolic) whose handle names the
// graph value. Concrete tensors a traced computation touches become initializers. Control-flow
// helpers (control_flow.h) open nested scopes for Loop and If bodies.
//
// Output types of recorded nodes come from the same shape rules the session uses
// (onnx_ops/op_schema.h), with the values of captured constants visible to them, so a Reshape
// to a constant shape has a static shape while tracing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "runtime/eager/op_dispatch.h"
#include "runtime/ir/graph.h"

namespace onyx::eager {

// What a symbolic tensor's handle points to.
struct TracedValue {
  std::string name;
  TypeInfo type;
  uint64_t trace_id = 0;
  uint64_t scope_id = 0;      // the graph scope whose node or input defines it
  bool is_scope_input = false;
};

class TraceContext {
 public:
  TraceContext();  // becomes the thread's current trace
  ~TraceContext();  // the previous one becomes current again
  TraceContext(const TraceContext&) = delete;
  TraceContext& operator=(const TraceContext&) = delete;

  // A new input of the current scope's graph, as a symbolic tensor.
  Tensor add_input(const std::string& name, const TypeInfo& type);

  // Records one node in the current scope. `output_types`, when given, replaces what the shape
  // rule infers (control flow knows more about loop-carried values than the Loop rule).
  std::vector<Value> record(const OpHandle& op, const std::vector<Value>& inputs,
                            std::span<const Attribute> attributes, size_t output_count,
                            const std::vector<TypeInfo>* output_types = nullptr);

  // The graph value a tensor stands for in the current scope: a symbolic tensor's name (it must
  // belong to this trace and to the current scope or one enclosing it), or for a concrete
  // tensor a captured initializer.
  std::string value_name(const Tensor& tensor);

  // Nested scopes (Loop and If bodies). end_scope sets the body's outputs, adding Identity
  // nodes where an output is not a value the body computes, and returns the body.
  void begin_scope(const std::string& graph_name);
  std::shared_ptr<Graph> end_scope(const std::vector<Tensor>& outputs);
  void abandon_scope();  // after an exception in a body
  size_t scope_depth() const { return scopes_.size(); }

  // The traced model: the main graph's outputs are `outputs`, named `output_names` (empty:
  // "output_k").
  Model finish(const std::vector<Tensor>& outputs, const std::vector<std::string>& output_names);

  std::string fresh_name(const std::string& prefix);

 private:
  struct Scope {
    std::shared_ptr<Graph> graph;
    uint64_t id = 0;
  };
  Graph& graph() { return *scopes_.back().graph; }
  const TracedValue& traced_value(const Tensor& tensor) const;
  std::string capture_constant(const Tensor& tensor);
  Tensor symbolic_value(const std::string& name, const TypeInfo& type, bool is_scope_input);
  // Graph outputs of `scope` for `outputs`: every output a distinct value computed in it.
  void set_outputs(Graph& graph, const std::vector<Tensor>& outputs,
                   const std::vector<std::string>& names);

  uint64_t id_;
  TraceContext* previous_;
  std::vector<Scope> scopes_;
  uint64_t next_scope_id_ = 1;
  size_t next_name_ = 0;
  std::map<std::string, int64_t> opsets_;
  // Captured concrete tensors by identity (data, type, shape), kept alive by the initializers.
  std::map<std::tuple<const void*, DataType, Shape>, std::string> constants_;
};

// The innermost trace of this thread, or null when calls run eagerly.
TraceContext* current_trace();

// Static type of a tensor: exact for a concrete one, as traced for a symbolic one.
TypeInfo static_type(const Tensor& tensor);
// The Tensor shape of a static type: unknown dims are -1 (an unknown rank gives rank 0).
Shape shape_of_type(const TypeInfo& type);

}  // namespace onyx::eager
