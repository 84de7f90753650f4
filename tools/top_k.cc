#include "tools/top_k.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include "runtime/tensor/shape_arithmetic.h"

namespace onyx::cli {

namespace {

bool row_is_probabilities(const std::vector<double>& row) {
  double sum = 0;
  for (double value : row) {
    if (value < 0 || value > 1) return false;
    sum += value;
  }
  return std::abs(sum - 1.0) < 1e-3;
}

std::vector<double> softmax_of(const std::vector<double>& row) {
  const double top = *std::max_element(row.begin(), row.end());
  std::vector<double> out(row.size());
  double sum = 0;
  for (size_t i = 0; i < row.size(); ++i) sum += out[i] = std::exp(row[i] - top);
  for (double& value : out) value /= sum;
  return out;
}

std::string describe_row(const std::vector<double>& row, int k) {
  std::vector<size_t> order(row.size());
  std::iota(order.begin(), order.end(), size_t{0});
  const size_t shown = std::min(order.size(), static_cast<size_t>(k));
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), order.end(),
                    [&](size_t a, size_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
  const bool probabilities = row_is_probabilities(row);
  const std::vector<double> softmax = probabilities ? row : softmax_of(row);
  std::string out;
  char text[96];
  for (size_t i = 0; i < shown; ++i) {
    const size_t index = order[i];
    if (probabilities) {
      std::snprintf(text, sizeof(text), "%s%zu (p %.4f)", i ? ", " : "", index, row[index]);
    } else {
      std::snprintf(text, sizeof(text), "%s%zu (logit %.4g, p %.4f)", i ? ", " : "", index, row[index], softmax[index]);
    }
    out += text;
  }
  return out;
}

}  // namespace

std::optional<std::string> describe_top_k(const Value& value, int k) {
  if (!value.is_tensor()) return std::nullopt;
  const Tensor& tensor = value.tensor();
  if ((tensor.rank() != 1 && tensor.rank() != 2) || !tensor.device().is_cpu()) return std::nullopt;
  if (tensor.dtype() != DataType::kFloat && tensor.dtype() != DataType::kDouble) return std::nullopt;
  const int64_t rows = tensor.rank() == 2 ? tensor.dim(0) : 1;
  const int64_t classes = tensor.dim(tensor.rank() - 1);
  if (classes == 0) return std::nullopt;
  std::string out = std::string(dtype_name(tensor.dtype())) + " " + shape_to_string(tensor.shape()) + ", top " +
                    std::to_string(std::min<int64_t>(k, classes)) + " per row:";
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> row(static_cast<size_t>(classes));
    for (int64_t c = 0; c < classes; ++c) {
      const int64_t at = r * classes + c;
      row[static_cast<size_t>(c)] = tensor.dtype() == DataType::kFloat ? tensor.data<float>()[at] : tensor.data<double>()[at];
    }
    out += "\n  row " + std::to_string(r) + ": " + describe_row(row, k);
  }
  return out;
}

}  // namespace onyx::cli
