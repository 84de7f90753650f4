#include "tools/train_checks.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "runtime/common/error.h"

namespace onyx::cli {

namespace {

// "'x' [300 samples,4], 'y' [300 samples]": what the data feeds, for errors.
std::string describe_arrays(const training::data::Dataset& data) {
  std::ostringstream text;
  for (const auto& [name, array] : data.arrays) {
    text << (text.tellp() > 0 ? ", '" : "'") << name << "' [" << array.dim(0) << " samples";
    for (int64_t d = 1; d < static_cast<int64_t>(array.rank()); ++d) text << "," << array.dim(d);
    text << "]";
  }
  return text.str();
}

}  // namespace

void check_data_fits(const training::TrainingSession& session, const training::data::Dataset& data) {
  const std::vector<int64_t> order{0, std::min<int64_t>(1, data.size() - 1)};
  try {
    session.eval_step(training::data::make_batch(data, order, 0, data.size() > 1 ? 2 : 1));
  } catch (const Error& error) {
    throw_error(ErrorCode::kInvalidArgument, "a first batch of ", data.size() > 1 ? 2 : 1,
                " samples fails in the model, so the data does not fit it: ", error.what(), " (", data.source,
                " holds ", describe_arrays(data), ")");
  }
}

std::string last_good_text(const std::filesystem::path& last_good) {
  if (last_good.empty()) return "no checkpoint was saved";
  return "the last good checkpoint is " + last_good.string();
}

void check_parameters_finite(const training::TrainingSession& session, const std::filesystem::path& last_good) {
  for (const auto* values : {&session.parameters(), &session.buffers()}) {
    for (const auto& [name, value] : *values) {
      if (!dtype_is_float(value.dtype())) continue;
      for (int64_t i = 0; i < value.element_count(); ++i) {
        const double x = value.element_as_double(i);
        ONYX_CHECK(std::isfinite(x), ErrorCode::kRuntimeFailure, "parameter '", name, "' became ", x, " by step ",
                   session.step(), "; training stopped without saving a checkpoint, ", last_good_text(last_good),
                   " (lower --lr, or clip with --max-grad-norm)");
      }
    }
  }
}

}  // namespace onyx::cli
