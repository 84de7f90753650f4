// Checks of the values in a data set that `onyx train` makes before the first step: a NaN in the
// features or a label that is no class of the model trains for a while and then fails far from
// its cause (a NaN loss many steps later, or an out-of-range gather deep in the loss), so each is
// one error naming the array, the row and the value instead.
#pragma once

#include <cstdint>
#include <string>

#include "training/data/dataset.h"

namespace onyx::training::data {

// Throws naming the array, the row (sample index from 0) and the value of the first NaN or
// infinity in any floating-point array of `dataset`.
void check_finite(const Dataset& dataset);

// Throws naming the row and the value of the first entry of the integer array `label` outside
// [0, classes); `output` describes the model output whose dim 1 gave `classes`.
void check_class_labels(const Dataset& dataset, const std::string& label, int64_t classes, const std::string& output);

}  // namespace onyx::training::data
