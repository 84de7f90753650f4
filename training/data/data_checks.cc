#include "training/data/data_checks.h"

#include <cmath>
#include <sstream>

#include "runtime/common/error.h"

namespace onyx::training::data {

namespace {

// "[3,1]": the element's index in the array (row first).
std::string element_index(const Shape& shape, int64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  std::ostringstream text;
  text << "[";
  for (size_t d = 0; d < index.size(); ++d) text << (d ? "," : "") << index[d];
  text << "]";
  return text.str();
}

int64_t row_of(const Tensor& array, int64_t flat) {
  const int64_t per_row = array.dim(0) ? array.element_count() / array.dim(0) : 1;
  return per_row ? flat / per_row : 0;
}

}  // namespace

void check_finite(const Dataset& dataset) {
  for (const auto& [name, array] : dataset.arrays) {
    if (!dtype_is_float(array.dtype())) continue;
    for (int64_t i = 0; i < array.element_count(); ++i) {
      const double value = array.element_as_double(i);
      if (std::isfinite(value)) continue;
      throw_error(ErrorCode::kInvalidArgument, dataset.source, ": '", name, "' holds ", value, " at row ",
                  row_of(array, i), " (element ", element_index(array.shape(), i),
                  ", rows counted from 0); training needs finite numbers");
    }
  }
}

void check_class_labels(const Dataset& dataset, const std::string& label, int64_t classes, const std::string& output) {
  auto found = dataset.arrays.find(label);
  if (found == dataset.arrays.end() || !dtype_is_integer(found->second.dtype())) return;
  const Tensor& labels = found->second;
  for (int64_t i = 0; i < labels.element_count(); ++i) {
    const double value = labels.element_as_double(i);
    if (value >= 0 && value < static_cast<double>(classes)) continue;
    throw_error(ErrorCode::kInvalidArgument, dataset.source, ": label '", label, "' is ", static_cast<int64_t>(value),
                " at row ", row_of(labels, i), " (rows counted from 0), outside the class range 0..", classes - 1,
                " of ", output);
  }
}

}  // namespace onyx::training::data
