// CUDA LSTM (float; forward, reverse or bidirectional; layout 0 or 1; bias, initial states;
// default activations, no clip, no peepholes, no input_forget; every sequence full length).
// Each direction projects all time steps' inputs in one cuBLAS GEMM, then per step runs the
// recurrent GEMM and one elementwise cell kernel. Other configurations stay on the CPU
// (supports() says no).
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/linalg/cublas_gemm.h"
#include "providers/cuda/rnn/lstm_ops.h"
#include "providers/cuda/rnn/rnn_state.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

class CudaLstmKernel final : public Kernel {
 public:
  explicit CudaLstmKernel(const KernelInfo& info)
      : node_(info.node()), hidden_(info.attributes().require_int("hidden_size")),
        direction_(info.attributes().get_string("direction", "forward")),
        batch_major_(info.attributes().get_int("layout", 0) == 1),
        tf32_(cuda_provider_of(info.provider()).options().tf32) {
    if (!supports(info)) {
      throw_error(ErrorCode::kNotImplemented, "CUDA LSTM (node '", node_.name,
                  "'): only float LSTMs with default activations, no clip, no peepholes and no input_forget run on CUDA");
    }
  }

  static bool supports(const KernelInfo& info) {
    const NodeAttributes& attributes = info.attributes();
    std::vector<std::string> activations = attributes.get_strings("activations");
    for (size_t i = 0; i < activations.size(); ++i) {
      if (activations[i] != (i % 3 == 0 ? "Sigmoid" : "Tanh")) return false;
    }
    return input_type_in(info, 0, {DataType::kFloat}) && !attributes.has("clip") &&
           attributes.get_int("input_forget", 0) == 0 && !(info.input_count() > 7 && info.has_input(7));
  }

  void compute(KernelContext& context) override {
    const Tensor& x = context.input(0);
    const Tensor& w = context.input(1);
    const Tensor& r = context.input(2);
    check_cuda_input_type(node_, 0, x.dtype(), {DataType::kFloat}, "float");
    const int64_t directions = direction_ == "bidirectional" ? 2 : 1;
    const RnnShape shape = check_rnn_shapes(context, node_, batch_major_, hidden_, directions, 4);
    const int64_t steps = shape.steps, batch = shape.batch, input_size = shape.input_size, H = hidden_;
    CudaRunState& run = run_state_of(context);
    Shape y_shape = batch_major_ ? Shape{batch, steps, directions, H} : Shape{steps, directions, batch, H};
    Shape state_shape = batch_major_ ? Shape{batch, directions, H} : Shape{directions, batch, H};
    float* y = context.has_output(0) ? context.output(0, DataType::kFloat, y_shape).mutable_data<float>() : nullptr;
    float* y_h = context.has_output(1) ? context.output(1, DataType::kFloat, state_shape).mutable_data<float>() : nullptr;
    float* y_c = context.has_output(2) ? context.output(2, DataType::kFloat, state_shape).mutable_data<float>() : nullptr;
    if (batch * H == 0) return;

    RnnLayout layout{batch, H, directions, batch_major_};
    size_t floats = sizeof(float);
    Tensor input_gates = context.scratch(static_cast<size_t>(steps * batch * 4 * H) * floats);
    Tensor recurrent_gates = context.scratch(static_cast<size_t>(batch * 4 * H) * floats);
    Tensor h_state = context.scratch(static_cast<size_t>(batch * H) * floats);
    Tensor c_state = context.scratch(static_cast<size_t>(batch * H) * floats);
    for (int64_t d = 0; d < directions; ++d) {
      // All steps' input projections at once: [rows of X, I] x W[d]^T.
      CudaGemmCall project{DataType::kFloat, false, true, steps * batch, 4 * H, input_size, x.raw_data(),
                           w.data<float>() + d * 4 * H * input_size, input_gates.mutable_raw_data()};
      if (steps * batch > 0) run_cuda_gemm(run.cublas, project, tf32_);
      load_rnn_state(context, 5, d, layout, h_state, run.stream);
      load_rnn_state(context, 6, d, layout, c_state, run.stream);
      const float* bias = context.has_input(3) ? context.input(3).data<float>() + d * 8 * H : nullptr;
      for (int64_t s = 0; s < steps; ++s) {
        int64_t t = (direction_ == "reverse" || d == 1) ? steps - 1 - s : s;
        CudaGemmCall recurrent{DataType::kFloat, false, true, batch, 4 * H, H, h_state.raw_data(),
                               r.data<float>() + d * 4 * H * H, recurrent_gates.mutable_raw_data()};
        run_cuda_gemm(run.cublas, recurrent, tf32_);
        LstmStep step;
        step.input_gates = static_cast<const float*>(input_gates.raw_data());
        step.recurrent_gates = static_cast<const float*>(recurrent_gates.raw_data());
        step.bias = bias;
        step.c = static_cast<float*>(c_state.mutable_raw_data());
        step.h = static_cast<float*>(h_state.mutable_raw_data());
        step.y = y;
        step.y_h = y_h;
        step.y_c = y_c;
        step.batch = batch;
        step.hidden = H;
        step.steps = steps;
        step.directions = directions;
        step.t = t;
        step.direction = d;
        step.batch_major = batch_major_;
        step.last = s + 1 == steps;
        launch_lstm_step(step, run.stream);
      }
      if (steps == 0) {  // no step ran: the outputs are the initial states
        store_rnn_state(h_state, y_h, d, layout, run.stream);
        store_rnn_state(c_state, y_c, d, layout, run.stream);
      }
    }
  }

 private:
  const Node& node_;
  int64_t hidden_;
  std::string direction_;
  bool batch_major_;
  bool tf32_;
};

}  // namespace

ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "LSTM", 1, kOpsetOpenEnded, CudaLstmKernel,
                                 {.host = {4}, .any_device = {}});

}  // namespace onyx::cuda
