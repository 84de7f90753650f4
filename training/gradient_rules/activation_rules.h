// Backward forms shared between rules: Softmax and LogSoftmax (also used by the loss ops).
#pragma once

#include <string>
#include <vector>

#include "training/gradient_rule.h"

namespace onyx::training {

// dx of y = softmax(x) over `axes` given dy.
std::string softmax_backward(GradientRuleContext& ctx, const std::string& dy, const std::string& y,
                             const std::vector<int64_t>& axes);
// dx of log_y = log_softmax(x) over `axes` given dy.
std::string log_softmax_backward(GradientRuleContext& ctx, const std::string& dy,
                                 const std::string& log_y, const std::vector<int64_t>& axes);

}  // namespace onyx::training
