// Shape rules of the transformer ops: Attention (opset 23+), RotaryEmbedding (23),
// LinearAttention and CausalConvWithState (27), FlexAttention (ai.onnx.preview 1).
#include "onnx_ops/attention.h"

#include "onnx_ops/op_schema.h"

namespace onyx {

namespace {

[[noreturn]] void bad_attention_shape(const std::string& what) {
  throw_error(ErrorCode::kInvalidArgument, "Attention: ", what);
}

// Splits hidden = heads * head_size, naming the input when it does not divide.
int64_t head_size_of(int64_t hidden, int64_t heads, const char* input, const char* attribute) {
  if (heads <= 0) bad_attention_shape(std::string("3-D inputs need a positive ") + attribute + " attribute");
  if (hidden % heads != 0) {
    bad_attention_shape(std::string(input) + " hidden size " + std::to_string(hidden) + " is not divisible by " +
        attribute + "=" + std::to_string(heads));
  }
  return hidden / heads;
}

}  // namespace

AttentionShape attention_shape(const Shape& q, const Shape& k, const Shape& v,
                               const Shape* past_key, const Shape* past_value,
                               int64_t q_num_heads, int64_t kv_num_heads) {
  AttentionShape s;
  if (q.size() != k.size() || q.size() != v.size() || (q.size() != 3 && q.size() != 4)) {
    bad_attention_shape("Q, K and V must all be 3-D or all 4-D, got Q " + shape_to_string(q) + ", K " +
        shape_to_string(k) + ", V " + shape_to_string(v));
  }
  s.input_3d = q.size() == 3;
  s.batch = q[0];
  if (k[0] != s.batch || v[0] != s.batch) {
    bad_attention_shape("batch sizes differ: Q " + shape_to_string(q) + ", K " + shape_to_string(k) + ", V " +
        shape_to_string(v));
  }
  if (s.input_3d) {
    s.q_heads = q_num_heads;
    s.kv_heads = kv_num_heads;
    s.q_seq = q[1];
    s.kv_seq = k[1];
    s.head_size = head_size_of(q[2], q_num_heads, "Q", "q_num_heads");
    int64_t k_head = head_size_of(k[2], kv_num_heads, "K", "kv_num_heads");
    s.v_head_size = head_size_of(v[2], kv_num_heads, "V", "kv_num_heads");
    if (k_head != s.head_size) {
      bad_attention_shape("Q head size " + std::to_string(s.head_size) + " differs from K head size " +
          std::to_string(k_head));
    }
    if (v[1] != s.kv_seq) bad_attention_shape("K and V sequence lengths differ");
  } else {
    s.q_heads = q[1];
    s.kv_heads = k[1];
    s.q_seq = q[2];
    s.kv_seq = k[2];
    s.head_size = q[3];
    s.v_head_size = v[3];
    if (k[3] != s.head_size) {
      bad_attention_shape("Q " + shape_to_string(q) + " and K " + shape_to_string(k) + " head sizes differ");
    }
    if (v[1] != s.kv_heads || v[2] != s.kv_seq) {
      bad_attention_shape("K " + shape_to_string(k) + " and V " + shape_to_string(v) + " disagree");
    }
  }
  if (s.kv_heads <= 0 || s.q_heads <= 0 || s.q_heads % s.kv_heads != 0) {
    bad_attention_shape("q_num_heads (" + std::to_string(s.q_heads) + ") must be a multiple of kv_num_heads (" +
        std::to_string(s.kv_heads) + ")");
  }
  if ((past_key == nullptr) != (past_value == nullptr)) {
    bad_attention_shape("past_key and past_value must be given together");
  }
  if (past_key) {
    const Shape& pk = *past_key;
    const Shape& pv = *past_value;
    if (pk.size() != 4 || pk[0] != s.batch || pk[1] != s.kv_heads || pk[3] != s.head_size) {
      bad_attention_shape("past_key " + shape_to_string(pk) + " must be [batch, kv_heads, past, head_size]");
    }
    if (pv.size() != 4 || pv[0] != s.batch || pv[1] != s.kv_heads || pv[2] != pk[2] ||
        pv[3] != s.v_head_size) {
      bad_attention_shape("past_value " + shape_to_string(pv) + " does not match past_key " +
          shape_to_string(pk));
    }
    s.past_seq = pk[2];
  }
  s.total_seq = s.past_seq + s.kv_seq;
  if (s.input_3d) {
    s.y = {s.batch, s.q_seq, s.q_heads * s.v_head_size};
  } else {
    s.y = {s.batch, s.q_heads, s.q_seq, s.v_head_size};
  }
  s.present_key = {s.batch, s.kv_heads, s.total_seq, s.head_size};
  s.present_value = {s.batch, s.kv_heads, s.total_seq, s.v_head_size};
  s.qk = {s.batch, s.q_heads, s.q_seq, s.total_seq};
  return s;
}

namespace {

void attention_rule(InferenceContext& ctx) {
  const TypeInfo& q = ctx.input_type(0);
  if (!q.is_tensor()) return;
  DataType dtype = q.elem_type;
  const TypeInfo& k = ctx.input_type(1);
  const TypeInfo& v = ctx.input_type(2);
  bool has_past = ctx.has_input(4) && ctx.has_input(5);
  bool known = q.has_static_shape() && k.is_tensor() && k.has_static_shape() && v.is_tensor() &&
               v.has_static_shape();
  if (has_past) {
    known = known && ctx.input_type(4).is_tensor() && ctx.input_type(4).has_static_shape() &&
            ctx.input_type(5).is_tensor() && ctx.input_type(5).has_static_shape();
  }
  if (!known) {
    for (size_t i = 0; i < ctx.output_count(); ++i) ctx.set_output_type(i, TypeInfo::tensor(dtype));
    return;
  }
  Shape pk, pv;
  if (has_past) {
    pk = ctx.input_type(4).static_shape();
    pv = ctx.input_type(5).static_shape();
  }
  AttentionShape s = attention_shape(
      q.static_shape(), k.static_shape(), v.static_shape(), has_past ? &pk : nullptr,
      has_past ? &pv : nullptr, ctx.attributes().get_int("q_num_heads", 0),
      ctx.attributes().get_int("kv_num_heads", 0));
  const Shape* shapes[4] = {&s.y, &s.present_key, &s.present_value, &s.qk};
  for (size_t i = 0; i < ctx.output_count() && i < 4; ++i) {
    ctx.set_output_type(i, TypeInfo::tensor_of_shape(dtype, *shapes[i]));
  }
}

void rotary_rule(InferenceContext& ctx) {
  const TypeInfo& x = ctx.input_type(0);
  if (x.is_tensor()) ctx.set_output_type(0, x);
}

// Output dims are known when every dim they come from is; otherwise just the ranks.
void linear_attention_rule(InferenceContext& ctx) {
  const TypeInfo& q = ctx.input_type(0);
  const TypeInfo& v = ctx.input_type(2);
  if (!q.is_tensor()) return;
  DataType state_type = ctx.has_input(3) && ctx.input_type(3).is_tensor()
                            ? ctx.input_type(3).elem_type
                            : q.elem_type;
  int64_t qh = ctx.attributes().get_int("q_num_heads", 0);
  int64_t kh = ctx.attributes().get_int("kv_num_heads", 0);
  if (qh > 0 && kh > 0 && q.has_static_shape() && v.is_tensor() && v.has_static_shape() &&
      q.shape->size() == 3 && v.shape->size() == 3) {
    Shape qs = q.static_shape(), vs = v.static_shape();
    int64_t dk = qs[2] / qh, dv = vs[2] / kh;
    ctx.set_output_type(0, TypeInfo::tensor_of_shape(q.elem_type, {qs[0], qs[1], checked_dim_product(qh, dv, "LinearAttention: q_num_heads times the value head size")}));
    if (ctx.output_count() > 1) {
      ctx.set_output_type(1, TypeInfo::tensor_of_shape(state_type, {qs[0], kh, dk, dv}));
    }
    return;
  }
  ctx.set_output_type(0, TypeInfo::tensor(q.elem_type));
  if (ctx.output_count() > 1) ctx.set_output_type(1, TypeInfo::tensor(state_type));
}

void causal_conv_rule(InferenceContext& ctx) {
  const TypeInfo& x = ctx.input_type(0);
  const TypeInfo& w = ctx.input_type(1);
  if (!x.is_tensor()) return;
  ctx.set_output_type(0, x);
  if (ctx.output_count() < 2) return;
  if (x.has_static_shape() && x.shape->size() == 3 && w.is_tensor() && w.has_static_shape() &&
      w.shape->size() == 3) {
    Shape xs = x.static_shape();
    ctx.set_output_type(1, TypeInfo::tensor_of_shape(
                               x.elem_type, {xs[0], xs[1], w.static_shape()[2] - 1}));
  } else {
    ctx.set_output_type(1, TypeInfo::tensor(x.elem_type));
  }
}

// FlexAttention: Y is [batch, q_heads, q_seq, v_head_size] in Q's type.
void flex_attention_rule(InferenceContext& ctx) {
  const TypeInfo& q = ctx.input_type(0);
  const TypeInfo& v = ctx.input_type(2);
  if (!q.is_tensor()) return;
  if (q.shape && q.shape->size() == 4 && v.is_tensor() && v.shape && v.shape->size() == 4) {
    const auto& qs = *q.shape;
    ctx.set_output_type(0, TypeInfo::tensor(q.elem_type, std::vector<Dim>{qs[0], qs[1], qs[2],
                                                                           (*v.shape)[3]}));
  } else {
    ctx.set_output_type(0, TypeInfo::tensor(q.elem_type));
  }
}

}  // namespace

ONYX_REGISTER_SHAPE_RULE("", "Attention", attention_rule);
ONYX_REGISTER_SHAPE_RULE("", "RotaryEmbedding", rotary_rule);
ONYX_REGISTER_SHAPE_RULE("", "LinearAttention", linear_attention_rule);
ONYX_REGISTER_SHAPE_RULE("", "CausalConvWithState", causal_conv_rule);
ONYX_REGISTER_SHAPE_RULE("ai.onnx.preview", "FlexAttention", flex_attention_rule);

}  // namespace onyx
