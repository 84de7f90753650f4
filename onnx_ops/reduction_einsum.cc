#include "onnx_ops/reduction_einsum.h"

#include <algorithm>
#include <cctype>

#include "onnx_ops/op_schema.h"

namespace onyx {
namespace {

constexpr int64_t kLetters = 52;  // a-z then A-Z; ellipsis dims take ids from kLetters on

[[noreturn]] void bad_einsum(const std::string& equation, const std::string& why) {
  throw_error(ErrorCode::kInvalidArgument, "Einsum '", equation, "': ", why);
}

int64_t letter_id(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
  return -1;
}

// A term's labels, with -1 standing for the ellipsis.
std::vector<int64_t> parse_term(const std::string& term, const std::string& equation) {
  std::vector<int64_t> labels;
  bool ellipsis = false;
  for (size_t i = 0; i < term.size(); ++i) {
    if (term[i] == '.') {
      if (ellipsis || term.compare(i, 3, "...") != 0) bad_einsum(equation, "malformed ellipsis");
      ellipsis = true;
      labels.push_back(-1);
      i += 2;
    } else {
      const int64_t id = letter_id(term[i]);
      if (id < 0) bad_einsum(equation, std::string("invalid character '") + term[i] + "'");
      labels.push_back(id);
    }
  }
  return labels;
}

}  // namespace

EinsumPlan plan_einsum(const std::string& raw_equation, const std::vector<Shape>& input_shapes) {
  std::string equation;
  for (char c : raw_equation) {
    if (!std::isspace(static_cast<unsigned char>(c))) equation += c;
  }
  const size_t arrow = equation.find("->");
  const std::string lhs = equation.substr(0, arrow);
  std::vector<std::vector<int64_t>> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(parse_term(lhs.substr(start, comma - start), raw_equation));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != input_shapes.size()) {
    bad_einsum(raw_equation, std::to_string(terms.size()) + " terms for " +
                          std::to_string(input_shapes.size()) + " inputs");
  }
  // Ellipsis rank: the most dims any operand's ellipsis covers.
  int64_t ellipsis_rank = 0;
  std::vector<int64_t> operand_ellipsis(terms.size(), 0);
  for (size_t k = 0; k < terms.size(); ++k) {
    const int64_t letters = std::count_if(terms[k].begin(), terms[k].end(), [](int64_t l) { return l >= 0; });
    const bool has_ellipsis = letters != static_cast<int64_t>(terms[k].size());
    const int64_t rank = static_cast<int64_t>(input_shapes[k].size());
    if (has_ellipsis ? rank < letters : rank != letters) {
      bad_einsum(raw_equation, "term " + std::to_string(k) + " does not match input rank " + std::to_string(rank));
    }
    operand_ellipsis[k] = rank - letters;
    ellipsis_rank = std::max(ellipsis_rank, operand_ellipsis[k]);
  }
  EinsumPlan plan;
  const int64_t label_count = kLetters + ellipsis_rank;
  plan.label_sizes.assign(label_count, -1);
  plan.strides.assign(terms.size(), std::vector<int64_t>(label_count, 0));
  std::vector<int64_t> uses(label_count, 0);
  for (size_t k = 0; k < terms.size(); ++k) {
    const Shape& shape = input_shapes[k];
    // Expand the ellipsis into right-aligned ellipsis labels.
    std::vector<int64_t> axes_labels;
    for (int64_t l : terms[k]) {
      if (l >= 0) {
        axes_labels.push_back(l);
      } else {
        for (int64_t e = 0; e < operand_ellipsis[k]; ++e) {
          axes_labels.push_back(kLetters + ellipsis_rank - operand_ellipsis[k] + e);
        }
      }
    }
    int64_t stride = 1;
    for (size_t a = axes_labels.size(); a-- > 0;) {
      const int64_t l = axes_labels[a];
      const int64_t size = shape[a];
      int64_t& known = plan.label_sizes[l];
      if (known < 0 || known == size) {
        known = size;
      } else if (l >= kLetters && (known == 1 || size == 1)) {
        known = std::max(known, size);  // ellipsis dims broadcast
      } else {
        bad_einsum(raw_equation, "dims " + std::to_string(size) + " and " + std::to_string(known) +
                              " of one label disagree");
      }
      if (size != 1) plan.strides[k][l] += stride;  // size-1 dims broadcast with stride 0
      stride *= size;
      ++uses[l];
    }
    // A diagonal label counts once per operand for the implicit output.
    for (int64_t l = 0; l < label_count; ++l) {
      const int64_t n = std::count(axes_labels.begin(), axes_labels.end(), l);
      if (n > 1) uses[l] -= n - 1;
    }
  }
  if (arrow == std::string::npos) {
    for (int64_t e = 0; e < ellipsis_rank; ++e) plan.output_labels.push_back(kLetters + e);
    for (int64_t l = 0; l < kLetters; ++l) {
      if (uses[l] == 1) plan.output_labels.push_back(l);
    }
  } else {
    for (int64_t l : parse_term(equation.substr(arrow + 2), raw_equation)) {
      if (l < 0) {
        for (int64_t e = 0; e < ellipsis_rank; ++e) plan.output_labels.push_back(kLetters + e);
      } else {
        if (plan.label_sizes[l] < 0) bad_einsum(raw_equation, "output label not in any input");
        if (std::count(plan.output_labels.begin(), plan.output_labels.end(), l)) {
          bad_einsum(raw_equation, "output label repeated");
        }
        plan.output_labels.push_back(l);
      }
    }
  }
  for (int64_t l = 0; l < label_count; ++l) {
    if (plan.label_sizes[l] < 0) continue;
    if (std::find(plan.output_labels.begin(), plan.output_labels.end(), l) ==
        plan.output_labels.end()) {
      plan.contracted_labels.push_back(l);
    }
  }
  for (int64_t l : plan.output_labels) plan.output_shape.push_back(plan.label_sizes[l]);
  return plan;
}

namespace {

void einsum_rule(InferenceContext& ctx) {
  std::vector<Shape> shapes;
  DataType dtype = DataType::kUndefined;
  for (size_t i = 0; i < ctx.input_count(); ++i) {
    const TypeInfo& in = ctx.input_type(i);
    if (!in.is_tensor()) return;
    dtype = in.elem_type;
    if (!in.has_static_shape()) {
      ctx.set_output_type(0, TypeInfo::tensor(dtype));
      return;
    }
    shapes.push_back(in.static_shape());
  }
  if (shapes.empty()) return;
  EinsumPlan plan = plan_einsum(ctx.attributes().require_string("equation"), shapes);
  ctx.set_output_type(0, TypeInfo::tensor_of_shape(dtype, plan.output_shape));
}

ONYX_REGISTER_SHAPE_RULE("", "Einsum", einsum_rule);

}  // namespace
}  // namespace onyx
