// RNN, GRU, LSTM (opsets 1/3/7/14/22): attribute parsing and the shape rule. Opset 14 added
// `layout` (1: batch-major X, Y, Y_h, Y_c); later versions only widened the types.
#include "onnx_ops/rnn.h"

#include <algorithm>
#include <cctype>

#include "onnx_ops/attribute_checks.h"
#include "onnx_ops/op_schema.h"
#include "onnx_ops/tensor_ops_rules.h"

namespace onyx {
namespace {

// The activation named `name`; alpha/beta come from the attribute lists in order of the
// activations that take them (as ONNX Runtime consumes them), else the op's defaults.
RnnActivation make_activation(const NodeAttributes& attrs, std::string name,
                              const std::vector<float>& alphas, const std::vector<float>& betas,
                              size_t& next_alpha, size_t& next_beta) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  RnnActivation a;
  bool uses_alpha = false, uses_beta = false;
  float def_alpha = 0.0f, def_beta = 0.0f;
  if (lower == "relu") {
    a.kind = RnnActivationKind::kRelu;
  } else if (lower == "tanh") {
    a.kind = RnnActivationKind::kTanh;
  } else if (lower == "sigmoid") {
    a.kind = RnnActivationKind::kSigmoid;
  } else if (lower == "affine") {
    a.kind = RnnActivationKind::kAffine, uses_alpha = uses_beta = true, def_alpha = 1.0f;
  } else if (lower == "leakyrelu") {
    a.kind = RnnActivationKind::kLeakyRelu, uses_alpha = true, def_alpha = 0.01f;
  } else if (lower == "thresholdedrelu") {
    a.kind = RnnActivationKind::kThresholdedRelu, uses_alpha = true, def_alpha = 1.0f;
  } else if (lower == "scaledtanh") {
    a.kind = RnnActivationKind::kScaledTanh, uses_alpha = uses_beta = true;
    def_alpha = def_beta = 1.0f;
  } else if (lower == "hardsigmoid") {
    a.kind = RnnActivationKind::kHardSigmoid, uses_alpha = uses_beta = true;
    def_alpha = 0.2f, def_beta = 0.5f;
  } else if (lower == "elu") {
    a.kind = RnnActivationKind::kElu, uses_alpha = true, def_alpha = 1.0f;
  } else if (lower == "softsign") {
    a.kind = RnnActivationKind::kSoftsign;
  } else if (lower == "softplus") {
    a.kind = RnnActivationKind::kSoftplus;
  } else {
    throw_error(ErrorCode::kInvalidModel, attrs.node().describe(), ": unknown activation '", name,
                "'");
  }
  a.alpha = def_alpha;
  a.beta = def_beta;
  if (uses_alpha && next_alpha < alphas.size()) a.alpha = alphas[next_alpha++];
  if (uses_beta && next_beta < betas.size()) a.beta = betas[next_beta++];
  return a;
}

}  // namespace

RnnCell rnn_cell_of(const std::string& op_type) {
  if (op_type == "GRU") return RnnCell::kGru;
  if (op_type == "LSTM") return RnnCell::kLstm;
  return RnnCell::kRnn;
}

RnnAttributes read_rnn_attributes(const NodeAttributes& attrs) {
  RnnAttributes r;
  r.cell = rnn_cell_of(attrs.node().op_type);
  const std::string direction =
      attrs.get_enum_string("direction", "forward", {"forward", "reverse", "bidirectional"});
  if (direction == "bidirectional") r.num_directions = 2;
  r.reverse = direction == "reverse";
  r.hidden_size = attrs.has("hidden_size") ? attrs.get_int_at_least("hidden_size", 1, 1) : -1;
  r.layout = attrs.get_flag("layout", false) ? 1 : 0;
  if (attrs.has("clip")) {
    r.has_clip = true;
    r.clip = attrs.get_float_above("clip", 0.0f, 0.0f);
  }
  r.linear_before_reset = attrs.get_flag("linear_before_reset", false);
  r.input_forget = attrs.get_flag("input_forget", false);

  std::vector<std::string> defaults;
  if (r.cell == RnnCell::kRnn) defaults = {"Tanh"};
  if (r.cell == RnnCell::kGru) defaults = {"Sigmoid", "Tanh"};
  if (r.cell == RnnCell::kLstm) defaults = {"Sigmoid", "Tanh", "Tanh"};
  std::vector<std::string> names = attrs.get_strings("activations");
  const size_t per_dir = static_cast<size_t>(r.activations_per_direction());
  const size_t total = per_dir * static_cast<size_t>(r.num_directions);
  if (names.empty()) {
    for (int64_t d = 0; d < r.num_directions; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
  } else if (names.size() == per_dir && r.num_directions == 2) {
    names.insert(names.end(), names.begin(), names.end());  // one set given for both directions
  }
  ONYX_CHECK(names.size() == total, ErrorCode::kInvalidModel, "attribute activations must hold ", total,
             " names (", per_dir, " per direction), got ", names.size());
  const std::vector<float> alphas = attrs.get_floats("activation_alpha");
  const std::vector<float> betas = attrs.get_floats("activation_beta");
  size_t next_alpha = 0, next_beta = 0;
  for (const std::string& name : names) {
    r.activations.push_back(make_activation(attrs, name, alphas, betas, next_alpha, next_beta));
  }
  return r;
}

namespace {

using tensor_rules::Dims;

void rnn_rule(InferenceContext& ctx) {
  const RnnAttributes r = read_rnn_attributes(ctx.attributes());
  const DataType dtype = tensor_rules::elem_of(ctx, 0);
  std::optional<Dims> x = tensor_rules::dims_of(ctx, 0);
  if (x && x->size() != 3) {
    throw_error(ErrorCode::kInvalidModel, ctx.node().op_type, ": X must have rank 3, got rank ",
                x->size());
  }
  Dim seq{}, batch{};
  if (x) {
    seq = (*x)[r.layout == 0 ? 0 : 1];
    batch = (*x)[r.layout == 0 ? 1 : 0];
  }
  Dim hidden = r.hidden_size > 0 ? Dim::known(r.hidden_size) : Dim{};
  if (r.hidden_size <= 0) {
    std::optional<Dims> rw = tensor_rules::dims_of(ctx, 2);
    if (rw && rw->size() == 3) hidden = (*rw)[2];
  }
  const Dim dirs = Dim::known(r.num_directions);
  const Dims y = r.layout == 0 ? Dims{seq, dirs, batch, hidden} : Dims{batch, seq, dirs, hidden};
  const Dims state = r.layout == 0 ? Dims{dirs, batch, hidden} : Dims{batch, dirs, hidden};
  if (ctx.output_count() > 0) tensor_rules::set_tensor(ctx, 0, dtype, y);
  for (size_t i = 1; i < ctx.output_count(); ++i) tensor_rules::set_tensor(ctx, i, dtype, state);
}

}  // namespace

ONYX_REGISTER_SHAPE_RULE("", "RNN", rnn_rule);
ONYX_REGISTER_SHAPE_RULE("", "GRU", rnn_rule);
ONYX_REGISTER_SHAPE_RULE("", "LSTM", rnn_rule);
// The attribute check is the reader the rule and the kernels share.
ONYX_REGISTER_ATTRIBUTE_CHECK("", "RNN", [](const AttributeCheckContext& ctx) { read_rnn_attributes(ctx.attributes()); });
ONYX_REGISTER_ATTRIBUTE_CHECK("", "GRU", [](const AttributeCheckContext& ctx) { read_rnn_attributes(ctx.attributes()); });
ONYX_REGISTER_ATTRIBUTE_CHECK("", "LSTM", [](const AttributeCheckContext& ctx) { read_rnn_attributes(ctx.attributes()); });

}  // namespace onyx
