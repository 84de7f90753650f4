// training/data/data_checks: NaN/Inf and out-of-range class labels are found wherever they are
// and named by array, row and value; clean data passes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/training/training_test_util.h"
#include "training/data/data_checks.h"

namespace onyx::training::data {
namespace {

using onyx::testing::error_message;
using ::testing::HasSubstr;

Dataset sample_data() {
  Dataset data;
  data.source = "train.npz";
  data.arrays["x"] = Tensor::from_vector<float>({3, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  data.arrays["y"] = Tensor::from_vector<int64_t>({3}, {0, 2, 1});
  data.arrays["w"] = Tensor::from_vector<double>({3}, {0.5, 1, 2});
  return data;
}

TEST(DataChecks, CleanDataPasses) {
  const Dataset data = sample_data();
  check_finite(data);
  check_class_labels(data, "y", 3, "output 'logits'");
}

TEST(DataChecks, NonFiniteValuesAreNamedByArrayRowAndElement) {
  Dataset data = sample_data();
  data.arrays["x"].mutable_data<float>()[7] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(error_message([&] { check_finite(data); }),
              HasSubstr("train.npz: 'x' holds nan at row 1 (element [1,1,1], rows counted from 0)"));
  data = sample_data();
  data.arrays["w"].mutable_data<double>()[2] = -std::numeric_limits<double>::infinity();
  EXPECT_THAT(error_message([&] { check_finite(data); }), HasSubstr("'w' holds -inf at row 2"));
}

TEST(DataChecks, LabelsOutsideTheClassRange) {
  Dataset data = sample_data();
  EXPECT_THAT(error_message([&] { check_class_labels(data, "y", 2, "output 'logits' (2 classes)"); }),
              HasSubstr("label 'y' is 2 at row 1 (rows counted from 0), outside the class range 0..1 of output "
                        "'logits' (2 classes)"));
  data.arrays["y"].mutable_data<int64_t>()[0] = -1;
  EXPECT_THAT(error_message([&] { check_class_labels(data, "y", 3, "output 'logits'"); }),
              HasSubstr("label 'y' is -1 at row 0"));
}

}  // namespace
}  // namespace onyx::training::data
