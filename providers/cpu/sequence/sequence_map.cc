// SequenceMap (opset 17): runs the `body` graph once per item of the input sequence. Each
// additional input is passed whole when it is a tensor and item by item when it is a sequence
// (of the same length); body output k collects into output sequence k. The body is compiled
// once, at session creation, and its outputs are owned values, so they enter the sequences
// without copies.
#include "providers/cpu/control_flow/subgraph_call.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

class SequenceMapKernel final : public Kernel {
 public:
  explicit SequenceMapKernel(const KernelInfo& info)
      : body_(info, "body"), explicit_inputs_(info.input_count()),
        outputs_(info.output_count()) {
    if (body_.formal_input_count() != explicit_inputs_ ||
        body_.graph().outputs.size() != outputs_) {
      throw_error(ErrorCode::kInvalidModel, info.node().describe(), ": the body has ",
                  body_.formal_input_count(), " inputs and ", body_.graph().outputs.size(),
                  " outputs but the node has ", explicit_inputs_, " inputs and ", outputs_,
                  " outputs");
    }
  }

  void compute(KernelContext& ctx) override {
    const Value& first = ctx.input_value(0);
    ONYX_CHECK(first.is_sequence(), ErrorCode::kInvalidArgument,
               "SequenceMap: input 0 must be a sequence");
    const size_t length = first.sequence_items().size();
    for (size_t j = 1; j < explicit_inputs_; ++j) {
      const Value& v = ctx.input_value(j);
      ONYX_CHECK(!v.is_sequence() || v.sequence_items().size() == length,
                 ErrorCode::kInvalidArgument, "SequenceMap: input ", j, " has ",
                 v.sequence_items().size(), " items but input 0 has ", length);
    }
    std::vector<Sequence> results(outputs_);
    for (Sequence& r : results) r.reserve(length);
    auto frame = body_.plan().make_frame(&ctx);
    std::vector<Value> inputs(body_.input_count());
    std::vector<Value> outputs;
    for (size_t t = 0; t < length; ++t) {
      for (size_t j = 0; j < explicit_inputs_; ++j) {
        const Value& v = ctx.input_value(j);
        inputs[j] = v.is_sequence() ? v.sequence_items()[t] : v;
      }
      body_.bind_outer_values(ctx, inputs);
      body_.plan().run(*frame, inputs, outputs);
      for (size_t k = 0; k < outputs_; ++k) {
        ONYX_CHECK(outputs[k].is_tensor(), ErrorCode::kInvalidArgument, "SequenceMap: body output ",
                   k, " is not a tensor");
        results[k].push_back(std::move(outputs[k]));
      }
    }
    for (size_t k = 0; k < outputs_; ++k) {
      DataType dtype = results[k].empty() ? body_.graph().outputs[k].type.elem_type
                                          : results[k][0].tensor().dtype();
      ctx.set_output(k, Value::sequence(std::move(results[k]), dtype));
    }
  }

 private:
  SubgraphCall body_;
  size_t explicit_inputs_;
  size_t outputs_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "SequenceMap", 17, kOpsetOpenEnded, SequenceMapKernel);

}  // namespace onyx
