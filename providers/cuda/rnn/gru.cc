// CUDA GRU and the plain RNN (Tanh) (float; forward, reverse or bidirectional; layout 0 or 1; bias, initial state;
// linear_before_reset 0 or 1; default activations, no clip; every sequence full length). Each
// direction projects all steps' inputs in one cuBLAS GEMM; per step the recurrent GEMM(s) and
// the gate kernels follow (two phases when the reset gate applies before Rh).
#include "providers/cuda/cuda_check.h"
#include "providers/cuda/cuda_kernel_util.h"
#include "providers/cuda/linalg/cublas_gemm.h"
#include "providers/cuda/rnn/gru_ops.h"
#include "providers/cuda/rnn/rnn_state.h"
#include "providers/kernel_registry.h"

namespace onyx::cuda {

namespace {

class CudaGruKernel final : public Kernel {
 public:
  explicit CudaGruKernel(const KernelInfo& info)
      : node_(info.node()), plain_(info.node().op_type == "RNN"), gates_(plain_ ? 1 : 3),
        hidden_(info.attributes().require_int("hidden_size")),
        direction_(info.attributes().get_string("direction", "forward")),
        batch_major_(info.attributes().get_int("layout", 0) == 1),
        linear_before_reset_(info.attributes().get_int("linear_before_reset", 0) != 0),
        tf32_(cuda_provider_of(info.provider()).options().tf32) {
    if (!supports(info)) {
      throw_error(ErrorCode::kNotImplemented, "CUDA ", node_.op_type, " (node '", node_.name,
                  "'): only float ", node_.op_type, "s with default activations and no clip run on CUDA");
    }
  }

  static bool supports(const KernelInfo& info) {
    bool plain = info.node().op_type == "RNN";
    std::vector<std::string> activations = info.attributes().get_strings("activations");
    for (size_t i = 0; i < activations.size(); ++i) {
      if (activations[i] != (plain || i % 2 == 1 ? "Tanh" : "Sigmoid")) return false;
    }
    return input_type_in(info, 0, {DataType::kFloat}) && !info.attributes().has("clip");
  }

  void compute(KernelContext& context) override {
    const Tensor& x = context.input(0);
    const Tensor& w = context.input(1);
    const Tensor& r = context.input(2);
    check_cuda_input_type(node_, 0, x.dtype(), {DataType::kFloat}, "float");
    const int64_t directions = direction_ == "bidirectional" ? 2 : 1;
    const RnnShape shape = check_rnn_shapes(context, node_, batch_major_, hidden_, directions, gates_);
    const int64_t steps = shape.steps, batch = shape.batch, input_size = shape.input_size, H = hidden_;
    const int64_t G = gates_;
    CudaRunState& run = run_state_of(context);
    Shape y_shape = batch_major_ ? Shape{batch, steps, directions, H} : Shape{steps, directions, batch, H};
    Shape state_shape = batch_major_ ? Shape{batch, directions, H} : Shape{directions, batch, H};
    float* y = context.has_output(0) ? context.output(0, DataType::kFloat, y_shape).mutable_data<float>() : nullptr;
    float* y_h = context.has_output(1) ? context.output(1, DataType::kFloat, state_shape).mutable_data<float>() : nullptr;
    if (batch * H == 0) return;

    RnnLayout layout{batch, H, directions, batch_major_};
    auto floats = [](int64_t count) { return static_cast<size_t>(count) * sizeof(float); };
    Tensor input_gates = context.scratch(floats(steps * batch * G * H));
    Tensor recurrent_gates = context.scratch(floats(batch * G * H));
    Tensor h_state = context.scratch(floats(batch * H));
    Tensor reset_hidden = context.scratch(floats(batch * H));
    Tensor gate_z = context.scratch(floats(batch * H));
    Tensor recurrent_h = context.scratch(floats(batch * H));
    for (int64_t d = 0; d < directions; ++d) {
      const float* w_d = w.data<float>() + d * G * H * input_size;
      const float* r_d = r.data<float>() + d * G * H * H;
      CudaGemmCall project{DataType::kFloat, false, true, steps * batch, G * H, input_size, x.raw_data(), w_d,
                           input_gates.mutable_raw_data()};
      if (steps * batch > 0) run_cuda_gemm(run.cublas, project, tf32_);
      load_rnn_state(context, 5, d, layout, h_state, run.stream);
      GruStep step;
      step.input_gates = static_cast<const float*>(input_gates.raw_data());
      step.recurrent_gates = static_cast<const float*>(recurrent_gates.raw_data());
      step.recurrent_h = static_cast<const float*>(recurrent_h.raw_data());
      step.bias = context.has_input(3) ? context.input(3).data<float>() + d * 2 * G * H : nullptr;
      step.h = static_cast<float*>(h_state.mutable_raw_data());
      step.reset_hidden = static_cast<float*>(reset_hidden.mutable_raw_data());
      step.gate_z = static_cast<float*>(gate_z.mutable_raw_data());
      step.y = y;
      step.y_h = y_h;
      step.batch = batch;
      step.hidden = H;
      step.steps = steps;
      step.directions = directions;
      step.direction = d;
      step.batch_major = batch_major_;
      step.linear_before_reset = linear_before_reset_;
      for (int64_t s = 0; s < steps; ++s) {
        step.t = (direction_ == "reverse" || d == 1) ? steps - 1 - s : s;
        step.last = s + 1 == steps;
        if (plain_ || linear_before_reset_) {
          CudaGemmCall recurrent{DataType::kFloat, false, true, batch, G * H, H, h_state.raw_data(), r_d,
                                 recurrent_gates.mutable_raw_data()};
          run_cuda_gemm(run.cublas, recurrent, tf32_);
        } else {
          // z and r first (rows 0..2H of R), then Rh against r . H_prev.
          CudaGemmCall gates{DataType::kFloat, false, true, batch, 2 * H, H, h_state.raw_data(), r_d,
                             recurrent_gates.mutable_raw_data()};
          run_cuda_gemm(run.cublas, gates, tf32_);
          launch_gru_reset_phase(step, run.stream);
          CudaGemmCall candidate{DataType::kFloat, false, true, batch, H, H, reset_hidden.raw_data(), r_d + 2 * H * H,
                                 recurrent_h.mutable_raw_data()};
          run_cuda_gemm(run.cublas, candidate, tf32_);
        }
        if (plain_) {
          launch_rnn_step(step, run.stream);
        } else {
          launch_gru_step(step, run.stream);
        }
      }
      if (steps == 0) store_rnn_state(h_state, y_h, d, layout, run.stream);
    }
  }

 private:
  const Node& node_;
  bool plain_;      // RNN: one Tanh gate
  int64_t gates_;   // 3 for GRU, 1 for RNN
  int64_t hidden_;
  std::string direction_;
  bool batch_major_;
  bool linear_before_reset_;
  bool tf32_;
};

}  // namespace

ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "GRU", 1, kOpsetOpenEnded, CudaGruKernel,
                                 {.host = {4}, .any_device = {}});
ONYX_REGISTER_KERNEL_WITH_MEMORY(kCudaProvider, "", "RNN", 1, kOpsetOpenEnded, CudaGruKernel,
                                 {.host = {4}, .any_device = {}});

}  // namespace onyx::cuda
