#include "runtime/eager/control_flow.h"

#include "runtime/eager/gradient_tape.h"
#include "runtime/eager/op_dispatch.h"
#include "runtime/eager/trace.h"
#include "runtime/ir/attribute_builders.h"

namespace onyx {

namespace {

using eager::TraceContext;

bool truth(const Tensor& tensor, const char* what) {
  ONYX_CHECK(tensor.element_count() == 1, ErrorCode::kInvalidArgument, what,
             " must hold one element, got shape ", shape_to_string(tensor.shape()));
  return tensor.element_as_double(0) != 0.0;
}

void check_count(const std::vector<Tensor>& values, size_t expected, const char* what) {
  ONYX_CHECK(values.size() == expected, ErrorCode::kInvalidArgument, what, " returned ", values.size(),
             " tensors for ", expected, " loop-carried values");
}

Tensor as_bool(const Tensor& tensor) {
  if (tensor.dtype() == DataType::kBool) return tensor;
  static const eager::OpHandle cast("", "Cast");
  Attribute to = make_attribute("to", static_cast<int64_t>(DataType::kBool));
  return eager::call_one(cast, {&tensor}, std::span<const Attribute>(&to, 1));
}

// The least specific of two types: dims that differ become unknown, a different rank drops
// the shape. Element types must agree.
TypeInfo join_types(const TypeInfo& a, const TypeInfo& b, const char* what, size_t index) {
  if (a.elem_type != b.elem_type) {
    throw_error(ErrorCode::kInvalidArgument, what, " ", index, " changes element type from ",
                dtype_name(a.elem_type), " to ", dtype_name(b.elem_type));
  }
  TypeInfo joined = a;
  if (!a.shape || !b.shape || a.shape->size() != b.shape->size()) {
    joined.shape.reset();
    return joined;
  }
  for (size_t d = 0; d < joined.shape->size(); ++d) {
    if (!((*a.shape)[d] == (*b.shape)[d])) (*joined.shape)[d] = Dim{};
  }
  return joined;
}

// Traces a Loop body with loop-carried values of `types`. If an iteration changes a value's
// shape, the body is traced again with that value's type relaxed (at most twice more: dims,
// then rank), so the declared body inputs hold for every iteration.
struct TracedBody {
  std::shared_ptr<Graph> graph;
  std::vector<TypeInfo> types;
};

using BodyOutputs = std::function<std::vector<Tensor>(const Tensor& iteration, const Tensor& condition,
                                                      const std::vector<Tensor>& values)>;

TracedBody trace_loop_body(TraceContext& trace, std::vector<TypeInfo> types, const BodyOutputs& make_outputs) {
  for (int attempt = 0;; ++attempt) {
    trace.begin_scope("loop_body");
    std::vector<Tensor> outputs;
    try {
      Tensor iteration = trace.add_input(trace.fresh_name("iteration"), TypeInfo::tensor_of_shape(DataType::kInt64, {}));
      Tensor condition = trace.add_input(trace.fresh_name("condition"), TypeInfo::tensor_of_shape(DataType::kBool, {}));
      std::vector<Tensor> values;
      for (const TypeInfo& type : types) values.push_back(trace.add_input(trace.fresh_name("carried"), type));
      outputs = make_outputs(iteration, condition, values);
    } catch (...) {
      trace.abandon_scope();
      throw;
    }
    bool stable = true;
    for (size_t k = 0; k < types.size(); ++k) {
      TypeInfo joined = join_types(types[k], eager::static_type(outputs[1 + k]), "loop-carried value", k);
      stable = stable && joined.shape == types[k].shape;
      types[k] = std::move(joined);
    }
    if (stable || attempt == 2) return {trace.end_scope(outputs), types};
    trace.abandon_scope();
  }
}

std::vector<Tensor> record_loop(TraceContext& trace, const Tensor* trip_count, const Tensor* condition,
                                const std::vector<Tensor>& initial, const TracedBody& body) {
  static const eager::OpHandle loop("", "Loop");
  std::vector<Value> inputs;
  inputs.push_back(trip_count ? Value(*trip_count) : Value());
  inputs.push_back(condition ? Value(*condition) : Value());
  for (const Tensor& value : initial) inputs.emplace_back(value);
  Attribute body_attribute;
  body_attribute.name = "body";
  body_attribute.kind = Attribute::Kind::kGraph;
  body_attribute.g = body.graph;
  std::span<const Attribute> attributes(&body_attribute, 1);
  std::vector<Value> outputs = trace.record(loop, inputs, attributes, initial.size(), &body.types);
  if (eager::tapes_recording()) eager::record_on_tapes(loop, attributes, inputs, outputs);
  std::vector<Tensor> results;
  for (Value& output : outputs) results.push_back(output.tensor());
  return results;
}

std::vector<TypeInfo> types_of(const std::vector<Tensor>& values) {
  std::vector<TypeInfo> types;
  for (const Tensor& value : values) types.push_back(eager::static_type(value));
  return types;
}

}  // namespace

std::vector<Tensor> while_loop(const LoopCondition& condition, const LoopBody& body, std::vector<Tensor> values) {
  TraceContext* trace = eager::current_trace();
  size_t count = values.size();
  if (trace == nullptr) {
    while (truth(condition(values), "while_loop's condition")) {
      values = body(values);
      check_count(values, count, "while_loop's body");
    }
    return values;
  }
  Tensor initial_condition = as_bool(condition(values));
  TracedBody traced = trace_loop_body(*trace, types_of(values), [&](const Tensor&, const Tensor&, const std::vector<Tensor>& carried) {
    std::vector<Tensor> next = body(carried);
    check_count(next, count, "while_loop's body");
    std::vector<Tensor> outputs{as_bool(condition(next))};
    outputs.insert(outputs.end(), next.begin(), next.end());
    return outputs;
  });
  return record_loop(*trace, nullptr, &initial_condition, values, traced);
}

std::vector<Tensor> for_range(const Tensor& count, const RangeBody& body, std::vector<Tensor> values) {
  TraceContext* trace = eager::current_trace();
  size_t carried = values.size();
  if (trace == nullptr) {
    ONYX_CHECK(count.element_count() == 1, ErrorCode::kInvalidArgument,
               "for_range's count must hold one element, got shape ", shape_to_string(count.shape()));
    int64_t trips = count.to_int64_vector().at(0);
    for (int64_t i = 0; i < trips; ++i) {
      values = body(Tensor::scalar<int64_t>(i), values);
      check_count(values, carried, "for_range's body");
    }
    return values;
  }
  Tensor trip_count = count;
  if (count.dtype() != DataType::kInt64) {
    static const eager::OpHandle cast("", "Cast");
    Attribute to = make_attribute("to", static_cast<int64_t>(DataType::kInt64));
    trip_count = eager::call_one(cast, {&count}, std::span<const Attribute>(&to, 1));
  }
  TracedBody traced = trace_loop_body(*trace, types_of(values), [&](const Tensor& iteration, const Tensor& condition,
                                                                    const std::vector<Tensor>& current) {
    std::vector<Tensor> next = body(iteration, current);
    check_count(next, carried, "for_range's body");
    std::vector<Tensor> outputs{condition};
    outputs.insert(outputs.end(), next.begin(), next.end());
    return outputs;
  });
  return record_loop(*trace, &trip_count, nullptr, values, traced);
}

std::vector<Tensor> for_range(int64_t count, const RangeBody& body, std::vector<Tensor> values) {
  return for_range(Tensor::scalar<int64_t>(count), body, std::move(values));
}

std::vector<Tensor> cond(const Tensor& predicate, const Branch& then_branch, const Branch& else_branch) {
  TraceContext* trace = eager::current_trace();
  if (trace == nullptr) return truth(predicate, "cond's predicate") ? then_branch() : else_branch();

  auto trace_branch = [&](const Branch& branch, std::vector<TypeInfo>& types) {
    trace->begin_scope("branch");
    std::vector<Tensor> outputs;
    try {
      outputs = branch();
    } catch (...) {
      trace->abandon_scope();
      throw;
    }
    types = types_of(outputs);
    return trace->end_scope(outputs);
  };
  std::vector<TypeInfo> then_types, else_types;
  std::shared_ptr<Graph> then_graph = trace_branch(then_branch, then_types);
  std::shared_ptr<Graph> else_graph = trace_branch(else_branch, else_types);
  ONYX_CHECK(then_types.size() == else_types.size(), ErrorCode::kInvalidArgument, "cond: the then branch returns ",
             then_types.size(), " tensors, the else branch ", else_types.size());
  std::vector<TypeInfo> types;
  for (size_t i = 0; i < then_types.size(); ++i) types.push_back(join_types(then_types[i], else_types[i], "cond output", i));

  Attribute then_attribute, else_attribute;
  then_attribute.name = "then_branch";
  else_attribute.name = "else_branch";
  then_attribute.kind = else_attribute.kind = Attribute::Kind::kGraph;
  then_attribute.g = then_graph;
  else_attribute.g = else_graph;
  std::vector<Attribute> attributes{then_attribute, else_attribute};
  static const eager::OpHandle if_op("", "If");
  std::vector<Value> inputs{Value(as_bool(predicate))};
  std::vector<Value> outputs = trace->record(if_op, inputs, attributes, types.size(), &types);
  if (eager::tapes_recording()) eager::record_on_tapes(if_op, attributes, inputs, outputs);
  std::vector<Tensor> results;
  for (Value& output : outputs) results.push_back(output.tensor());
  return results;
}

}  // namespace onyx
