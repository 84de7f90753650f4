#include "providers/cpu/rnn/rnn_weights.h"

#include "providers/cpu/math/elementwise.h"
#include "runtime/common/error.h"

namespace onyx::rnn {

int64_t checked_hidden_size(const RnnAttributes& attrs, const Tensor& w, const Tensor& r,
                            const Tensor* b, const std::string& node) {
  ONYX_CHECK(r.rank() == 3, ErrorCode::kInvalidArgument, node, ": R must have rank 3, got ",
             shape_to_string(r.shape()));
  ONYX_CHECK(w.rank() == 3, ErrorCode::kInvalidArgument, node, ": W must have rank 3, got ",
             shape_to_string(w.shape()));
  const int64_t dirs = attrs.num_directions;
  const int64_t hidden = attrs.hidden_size > 0 ? attrs.hidden_size : r.dim(2);
  const int64_t gates_h = attrs.gate_count() * hidden;
  ONYX_CHECK(w.dim(0) == dirs && w.dim(1) == gates_h, ErrorCode::kInvalidArgument, node, ": W shape ",
             shape_to_string(w.shape()), " is not [", dirs, ",", gates_h, ",input_size]");
  ONYX_CHECK(r.shape() == (Shape{dirs, gates_h, hidden}), ErrorCode::kInvalidArgument, node,
             ": R shape ", shape_to_string(r.shape()), " is not [", dirs, ",", gates_h, ",", hidden, "]");
  ONYX_CHECK(w.dtype() == r.dtype(), ErrorCode::kInvalidArgument, node, ": W and R must share one dtype");
  if (b != nullptr) {
    ONYX_CHECK(b->shape() == (Shape{dirs, 2 * gates_h}), ErrorCode::kInvalidArgument, node,
               ": B shape ", shape_to_string(b->shape()), " is not [", dirs, ",", 2 * gates_h, "]");
    ONYX_CHECK(b->dtype() == w.dtype(), ErrorCode::kInvalidArgument, node, ": B must have W's dtype");
  }
  return hidden;
}

template <typename T, typename C>
PackedWeights<C> pack_weights(const RnnAttributes& attrs, const Tensor& w, const Tensor& r, const Tensor* b) {
  PackedWeights<C> p;
  p.directions = w.dim(0);
  p.gates_h = w.dim(1);
  p.input = w.dim(2);
  p.hidden = r.dim(2);
  const int64_t dirs = p.directions, gh = p.gates_h, in = p.input, hid = p.hidden;
  // [dirs, gh, k] -> [dirs, k, gh].
  auto transpose = [&](const T* src, int64_t k, Buffer<C>& dst) {
    dst.resize(static_cast<size_t>(dirs * k * gh));
    for (int64_t d = 0; d < dirs; ++d)
      for (int64_t g = 0; g < gh; ++g)
        for (int64_t i = 0; i < k; ++i)
          dst[(d * k + i) * gh + g] = static_cast<C>(load(src[(d * gh + g) * k + i]));
  };
  transpose(w.data<T>(), in, p.w_t);
  transpose(r.data<T>(), hid, p.r_t);

  p.input_bias.assign(static_cast<size_t>(dirs * gh), C(0));
  const bool gru_lbr = attrs.cell == RnnCell::kGru && attrs.linear_before_reset;
  if (gru_lbr) p.recurrent_bias.assign(static_cast<size_t>(dirs * gh), C(0));
  if (b == nullptr) return p;
  const T* bias = b->data<T>();
  for (int64_t d = 0; d < dirs; ++d) {
    const T* wb = bias + d * 2 * gh;
    const T* rb = wb + gh;
    for (int64_t g = 0; g < gh; ++g) {
      const C wv = static_cast<C>(load(wb[g])), rv = static_cast<C>(load(rb[g]));
      const bool h_gate = gru_lbr && g >= 2 * hid;
      p.input_bias[d * gh + g] = h_gate ? wv : wv + rv;
      if (h_gate) p.recurrent_bias[d * gh + g] = rv;
    }
  }
  return p;
}

template PackedWeights<float> pack_weights<float, float>(const RnnAttributes&, const Tensor&, const Tensor&, const Tensor*);
template PackedWeights<double> pack_weights<double, double>(const RnnAttributes&, const Tensor&, const Tensor&, const Tensor*);
template PackedWeights<float> pack_weights<Float16, float>(const RnnAttributes&, const Tensor&, const Tensor&, const Tensor*);
template PackedWeights<float> pack_weights<BFloat16, float>(const RnnAttributes&, const Tensor&, const Tensor&, const Tensor*);

}  // namespace onyx::rnn
