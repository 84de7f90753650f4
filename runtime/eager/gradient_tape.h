// GradientTape: records the eager calls that depend on watched tensors and computes gradients
// of a scalar with the training module's gradient rules (training/gradient_rule.h): a rule's
// add_node runs its op through the eager dispatcher, so one rule per op serves the gradient
// builder and the tape, and inside onyx::function the backward ops are traced like any others.
//
//   onyx::GradientTape tape;
//   tape.watch(w);
//   Tensor loss = ops::reduce_mean((x * w - y) * (x * w - y));
//   auto [dw] = tape.gradient(loss, {w});
//
// A tape records from construction to destruction on the thread that made it; nested tapes
// each record, and while one computes a gradient the others record those ops (gradients of
// gradients). Tensors are identified by their buffer, element type and shape, so mutating a
// recorded tensor's elements in place makes its gradients wrong (as in PyTorch without version
// counters).
#pragma once

#include <map>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "runtime/eager/op_dispatch.h"

namespace onyx {

namespace eager {
class TapeGradientContext;
}

class GradientTape {
 public:
  GradientTape();
  ~GradientTape();
  GradientTape(const GradientTape&) = delete;
  GradientTape& operator=(const GradientTape&) = delete;

  // Gradients will be computed with respect to `tensor` (and what is computed from it).
  void watch(const Tensor& tensor);
  // d(target)/d(each source); `target` must hold one element. A source the target does not
  // depend on gets zeros of its shape.
  std::vector<Tensor> gradient(const Tensor& target, const std::vector<Tensor>& sources);

  // Called by the dispatcher for every op while the tape records; may replace outputs that
  // alias an already recorded tensor with copies, so every recorded value is distinct.
  void record(const eager::OpHandle& op, std::span<const Attribute> attributes,
              const std::vector<Value>& inputs, std::vector<Value>& outputs);

  size_t recorded_ops() const { return entries_.size(); }
  // Stops recording before destruction (a Python `with` block's end); gradient() still works.
  void stop_recording();

 private:
  using Key = std::tuple<const void*, DataType, Shape>;
  struct Entry {
    const eager::OpHandle* op;
    std::vector<Attribute> attributes;
    std::vector<std::string> inputs;   // "" for omitted inputs
    std::vector<std::string> outputs;  // "" for outputs not produced
  };
  friend class eager::TapeGradientContext;

  static Key key_of(const Tensor& tensor);
  std::string name_for(const Tensor& tensor, bool create);  // "" when unknown and !create

  std::vector<Entry> entries_;
  std::map<Key, std::string> names_;
  std::map<std::string, Value> values_;  // every named value, kept alive while the tape lives
  std::set<std::string> tracked_;        // watched values and what was computed from them
  size_t next_name_ = 0;
  bool paused_ = false;
};

namespace eager {
// Dispatcher hooks: whether any tape of this thread records, and recording on all of them.
bool tapes_recording();
void record_on_tapes(const OpHandle& op, std::span<const Attribute> attributes,
                     const std::vector<Value>& inputs, std::vector<Value>& outputs);
}  // namespace eager

}  // namespace onyx
