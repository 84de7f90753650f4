// Gradient rules of MatMul (N-D with batch broadcasting and 1-D operands), Gemm (each
// transA/transB case is again one Gemm) and Einsum (each operand's gradient is an Einsum of
// the output gradient with the other operands).
#include <algorithm>
#include <map>
#include <set>

#include "runtime/ir/attribute_builders.h"
#include "training/gradient_rules/rule_helpers.h"

namespace onyx::training {
namespace {

using Ctx = GradientRuleContext;

std::vector<int64_t> swap_last_two(int64_t rank) {
  std::vector<int64_t> perm(static_cast<size_t>(rank));
  for (int64_t i = 0; i < rank; ++i) perm[static_cast<size_t>(i)] = i;
  std::swap(perm[static_cast<size_t>(rank - 1)], perm[static_cast<size_t>(rank - 2)]);
  return perm;
}

void matmul_rule(Ctx& ctx) {
  const std::string a = ctx.input(0), b = ctx.input(1);
  const int64_t ra = rank_of(ctx, a), rb = rank_of(ctx, b);
  const std::vector<Dim> y_dims = dims_of(ctx, ctx.output(0));
  const int64_t ry = static_cast<int64_t>(y_dims.size());
  // Promote 1-D operands to matrices ([k] -> [1,k] for a, [k,1] for b) and give the output
  // gradient the matching unit axes.
  std::string a2 = ra == 1 ? unsqueeze(ctx, a, {0}) : a;
  std::string b2 = rb == 1 ? unsqueeze(ctx, b, {1}) : b;
  std::string dy = ctx.output_gradient(0);
  if (ra == 1 && rb == 1) {
    dy = unsqueeze(ctx, dy, {0, 1});
  } else if (ra == 1) {
    dy = unsqueeze(ctx, dy, {ry - 1});
  } else if (rb == 1) {
    dy = unsqueeze(ctx, dy, {ry});
  }
  const int64_t r2 = std::max<int64_t>(std::max(ra, rb), 2);
  // Batch dims of the (promoted) output: the output's leading dims.
  const size_t batch = static_cast<size_t>(r2 - 2);
  std::vector<Dim> batch_dims(y_dims.begin(), y_dims.begin() + static_cast<std::ptrdiff_t>(batch));

  auto finish = [&](const std::string& gradient, const std::string& operand, int64_t rank) {
    if (rank == 1) {  // sum the batch axes away, then drop the unit axis
      std::vector<int64_t> axes;
      for (size_t i = 0; i < batch; ++i) axes.push_back(static_cast<int64_t>(i));
      return reshape_like(ctx, reduce_sum(ctx, gradient, axes, false), operand);
    }
    std::vector<Dim> dims = batch_dims;
    std::vector<Dim> operand_dims = dims_of(ctx, operand);
    dims.push_back(operand_dims[operand_dims.size() - 2]);
    dims.push_back(operand_dims[operand_dims.size() - 1]);
    return sum_to_shape_of(ctx, gradient, dims, operand);
  };
  set_if_wanted(ctx, 0, [&] {
    std::string g = ctx.add("MatMul", {dy, transpose(ctx, b2, swap_last_two(rb == 1 ? 2 : rb))});
    return finish(g, a, ra);
  });
  set_if_wanted(ctx, 1, [&] {
    std::string g = ctx.add("MatMul", {transpose(ctx, a2, swap_last_two(ra == 1 ? 2 : ra)), dy});
    return finish(g, b, rb);
  });
}

void gemm_rule(Ctx& ctx) {
  NodeAttributes attributes(ctx.node());
  const bool ta = attributes.get_int("transA", 0) != 0, tb = attributes.get_int("transB", 0) != 0;
  const float alpha = attributes.get_float("alpha", 1.0f), beta = attributes.get_float("beta", 1.0f);
  const std::string a = ctx.input(0), b = ctx.input(1), dy = ctx.output_gradient(0);
  auto gemm = [&](const std::string& p, const std::string& q, bool tp, bool tq) {  // C is optional from 11
    return ctx.add("Gemm", {p, q},
                   {make_attribute("alpha", alpha), make_attribute("transA", int64_t{tp ? 1 : 0}),
                    make_attribute("transB", int64_t{tq ? 1 : 0})});
  };
  set_if_wanted(ctx, 0, [&] {
    if (!ta) return gemm(dy, b, false, !tb);
    return gemm(b, dy, tb, true);
  });
  set_if_wanted(ctx, 1, [&] {
    if (!tb) return gemm(a, dy, !ta, false);
    return gemm(dy, a, true, ta);
  });
  set_if_wanted(ctx, 2, [&] {
    std::string g = beta == 1.0f ? dy : ctx.add("Mul", {dy, scalar_like(ctx, beta, ctx.output(0))});
    return unbroadcast(ctx, g, 0, ctx.input(2));
  });
}

// ---- Einsum ----------------------------------------------------------------------------------

struct EinsumTerms {
  std::vector<std::string> inputs;  // one subscript string per operand, ellipses spelled out
  std::string output;
};

EinsumTerms parse_einsum(Ctx& ctx) {
  std::string equation;
  for (char ch : NodeAttributes(ctx.node()).require_string("equation")) {
    if (ch != ' ') equation += ch;
  }
  EinsumTerms terms;
  size_t arrow = equation.find("->");
  std::string lhs = equation.substr(0, arrow);
  size_t start = 0;
  while (true) {
    size_t comma = lhs.find(',', start);
    terms.inputs.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  // Spell each ellipsis with letters the equation does not use (aligned from the right).
  std::set<char> used(equation.begin(), equation.end());
  std::string spare;
  for (char ch = 'A'; ch <= 'Z'; ++ch) if (!used.count(ch)) spare += ch;
  size_t ellipsis_rank = 0;
  for (size_t i = 0; i < terms.inputs.size(); ++i) {
    std::string& term = terms.inputs[i];
    size_t dots = term.find("...");
    if (dots == std::string::npos) continue;
    size_t n = static_cast<size_t>(rank_of(ctx, ctx.input(i))) - (term.size() - 3);
    ellipsis_rank = std::max(ellipsis_rank, n);
    term = term.substr(0, dots) + std::string(spare.end() - static_cast<std::ptrdiff_t>(n), spare.end()) +
           term.substr(dots + 3);
  }
  std::string ellipsis_letters(spare.end() - static_cast<std::ptrdiff_t>(ellipsis_rank), spare.end());
  if (arrow != std::string::npos) {
    terms.output = equation.substr(arrow + 2);
    size_t dots = terms.output.find("...");
    if (dots != std::string::npos) {
      terms.output = terms.output.substr(0, dots) + ellipsis_letters + terms.output.substr(dots + 3);
    }
  } else {  // implicit output: ellipsis dims, then letters used once, alphabetically
    std::map<char, int> counts;
    for (const auto& term : terms.inputs) for (char ch : term) counts[ch]++;
    terms.output = ellipsis_letters;
    for (const auto& [ch, n] : counts) {
      if (n == 1 && ellipsis_letters.find(ch) == std::string::npos) terms.output += ch;
    }
  }
  return terms;
}

void einsum_rule(Ctx& ctx) {
  EinsumTerms terms = parse_einsum(ctx);
  for (size_t i = 0; i < terms.inputs.size(); ++i) {
    set_if_wanted(ctx, i, [&] {
      const std::string& mine = terms.inputs[i];
      std::set<char> elsewhere(terms.output.begin(), terms.output.end());
      std::vector<std::string> operands = {ctx.output_gradient(0)};
      std::string lhs = terms.output;
      for (size_t j = 0; j < terms.inputs.size(); ++j) {
        if (j == i) continue;
        elsewhere.insert(terms.inputs[j].begin(), terms.inputs[j].end());
        operands.push_back(ctx.input(j));
        lhs += "," + terms.inputs[j];
      }
      std::string kept;
      std::vector<int64_t> missing;  // axes summed only inside this operand: broadcast back
      for (size_t k = 0; k < mine.size(); ++k) {
        if (std::count(mine.begin(), mine.end(), mine[k]) > 1) {
          rule_error(ctx, "repeated subscripts within one operand (diagonals) are not supported");
        }
        if (elsewhere.count(mine[k])) {
          kept += mine[k];
        } else {
          missing.push_back(static_cast<int64_t>(k));
        }
      }
      std::string g = ctx.add("Einsum", operands, {make_attribute("equation", lhs + "->" + kept)});
      if (!missing.empty()) g = expand_like(ctx, unsqueeze(ctx, g, missing), ctx.input(i));
      return g;
    });
  }
}

ONYX_REGISTER_GRADIENT_RULE("", "MatMul", matmul_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Gemm", gemm_rule);
ONYX_REGISTER_GRADIENT_RULE("", "Einsum", einsum_rule);

}  // namespace
}  // namespace onyx::training
