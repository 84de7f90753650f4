#include "runtime/eager/gradient_tape.h"

#include <algorithm>
#include <set>

#include "runtime/eager/tape_gradient_context.h"
#include "runtime/eager/tensor_factory.h"
#include "runtime/eager/trace.h"
#include "training/gradient_rule.h"

namespace onyx {

namespace {
thread_local std::vector<GradientTape*> active_tapes;
}  // namespace

namespace eager {

bool tapes_recording() { return !active_tapes.empty(); }

void record_on_tapes(const OpHandle& op, std::span<const Attribute> attributes,
                     const std::vector<Value>& inputs, std::vector<Value>& outputs) {
  // A copy: recording may not add tapes, but a tape's destructor elsewhere must not bite.
  std::vector<GradientTape*> tapes = active_tapes;
  for (GradientTape* tape : tapes) tape->record(op, attributes, inputs, outputs);
}

}  // namespace eager

GradientTape::GradientTape() { active_tapes.push_back(this); }

GradientTape::~GradientTape() { stop_recording(); }

void GradientTape::stop_recording() {
  active_tapes.erase(std::remove(active_tapes.begin(), active_tapes.end(), this), active_tapes.end());
}

GradientTape::Key GradientTape::key_of(const Tensor& tensor) {
  const void* identity = tensor.is_symbolic() ? tensor.symbolic_handle().get() : tensor.raw_data();
  return {identity, tensor.dtype(), tensor.shape()};
}

std::string GradientTape::name_for(const Tensor& tensor, bool create) {
  Key key = key_of(tensor);
  auto it = names_.find(key);
  if (it != names_.end()) return it->second;
  if (!create) return "";
  std::string name = "tape_" + std::to_string(next_name_++);
  names_.emplace(std::move(key), name);
  values_[name] = tensor;
  return name;
}

void GradientTape::watch(const Tensor& tensor) {
  ONYX_CHECK(tensor.defined() || tensor.is_symbolic(), ErrorCode::kInvalidArgument,
             "GradientTape::watch: the tensor is undefined");
  tracked_.insert(name_for(tensor, true));
}

void GradientTape::record(const eager::OpHandle& op, std::span<const Attribute> attributes,
                          const std::vector<Value>& inputs, std::vector<Value>& outputs) {
  if (paused_) return;
  bool depends_on_watched = false;
  for (const Value& input : inputs) {
    if (!input.is_tensor()) continue;
    std::string name = name_for(input.tensor(), false);
    if (!name.empty() && tracked_.count(name)) depends_on_watched = true;
  }
  if (!depends_on_watched) return;

  Entry entry{&op, std::vector<Attribute>(attributes.begin(), attributes.end()), {}, {}};
  for (const Value& input : inputs) {
    entry.inputs.push_back(input.is_tensor() ? name_for(input.tensor(), true) : "");
  }
  for (Value& output : outputs) {
    if (!output.is_tensor()) {
      entry.outputs.emplace_back();
      continue;
    }
    // A kernel may return a view of its input (Identity, Reshape to the same shape): the
    // recorded value must be distinct from every earlier one, or their gradients would merge.
    if (!name_for(output.tensor(), false).empty()) {
      Tensor& tensor = output.mutable_tensor();
      tensor = tensor.is_symbolic() ? tensor : tensor.clone();
    }
    std::string name = name_for(output.tensor(), true);
    tracked_.insert(name);
    entry.outputs.push_back(name);
  }
  entries_.push_back(std::move(entry));
}

std::vector<Tensor> GradientTape::gradient(const Tensor& target, const std::vector<Tensor>& sources) {
  if (!target.is_symbolic()) {
    ONYX_CHECK(target.element_count() == 1, ErrorCode::kInvalidArgument,
               "GradientTape::gradient: the target must hold one element, got shape ",
               shape_to_string(target.shape()));
  }
  // Which recorded values depend on a source: only their gradients are computed.
  std::set<std::string> leads_to_source;
  std::vector<std::string> source_names;
  for (const Tensor& source : sources) {
    source_names.push_back(name_for(source, false));
    if (!source_names.back().empty()) leads_to_source.insert(source_names.back());
  }
  for (const Entry& entry : entries_) {
    bool depends = std::any_of(entry.inputs.begin(), entry.inputs.end(),
                               [&](const std::string& name) { return leads_to_source.count(name) > 0; });
    if (depends) {
      for (const std::string& output : entry.outputs) {
        if (!output.empty()) leads_to_source.insert(output);
      }
    }
  }

  paused_ = true;
  struct Resume {
    bool& paused;
    ~Resume() { paused = false; }
  } resume{paused_};

  eager::GradientState state;
  std::string target_name = name_for(target, false);
  if (!target_name.empty() && leads_to_source.count(target_name)) {
    state.gradients[target_name] = ones_like(target);
    for (size_t e = entries_.size(); e-- > 0;) {
      const Entry& entry = entries_[e];
      bool has_output_gradient = std::any_of(entry.outputs.begin(), entry.outputs.end(), [&](const std::string& name) {
        return !name.empty() && state.gradients.count(name);
      });
      bool wants_any = std::any_of(entry.inputs.begin(), entry.inputs.end(),
                                   [&](const std::string& name) { return leads_to_source.count(name) > 0; });
      if (!has_output_gradient || !wants_any) continue;
      const training::GradientRule* rule =
          training::GradientRuleRegistry::global().find(entry.op->domain(), entry.op->op_type());
      if (rule == nullptr) {
        throw_error(ErrorCode::kNotImplemented, "GradientTape: no gradient rule for ", entry.op->describe(),
                    ", which lies between the target and a source");
      }
      eager::TapeGradientContext context(*this, entry, leads_to_source, state);
      try {
        (*rule)(context);
      } catch (const Error& error) {
        throw Error(error.code(), "GradientTape: gradient of " + entry.op->describe() + ": " + error.what());
      }
    }
  }

  std::vector<Tensor> result;
  for (size_t i = 0; i < sources.size(); ++i) {
    auto it = state.gradients.find(source_names[i]);
    result.push_back(source_names[i].empty() || it == state.gradients.end() ? zeros_like(sources[i])
                                                                             : it->second);
  }
  return result;
}

}  // namespace onyx
