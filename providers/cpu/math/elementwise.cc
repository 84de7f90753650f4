#include "providers/cpu/math/elementwise.h"

namespace onyx {

LegacyBroadcast::LegacyBroadcast(const KernelInfo& info) {
  if (info.opset() >= 7) return;
  active_ = true;
  broadcast_ = info.attributes().get_int("broadcast", 0) != 0;
  has_axis_ = info.attributes().has("axis");
  axis_ = info.attributes().get_int("axis", 0);
}

Tensor LegacyBroadcast::adapt(const Tensor& a, const Tensor& b, std::string_view op) const {
  if (!active_) return b;
  if (!broadcast_) {
    ONYX_CHECK(a.shape() == b.shape(), ErrorCode::kInvalidArgument, op, ": shapes ",
               shape_to_string(a.shape()), " and ", shape_to_string(b.shape()),
               " differ and attribute broadcast is 0");
    return b;
  }
  const int64_t rank_a = static_cast<int64_t>(a.rank());
  const int64_t rank_b = static_cast<int64_t>(b.rank());
  int64_t axis = has_axis_ ? axis_ : rank_a - rank_b;
  if (axis < 0 && has_axis_) axis += rank_a;
  ONYX_CHECK(axis >= 0 && axis + rank_b <= rank_a, ErrorCode::kInvalidArgument, op,
             ": legacy broadcast of shape ", shape_to_string(b.shape()), " into ",
             shape_to_string(a.shape()), " at axis ", axis_, " is out of range");
  Shape shape(static_cast<size_t>(rank_a - axis), 1);
  for (int64_t d = 0; d < rank_b; ++d) {
    ONYX_CHECK(b.dim(d) == 1 || b.dim(d) == a.dim(axis + d), ErrorCode::kInvalidArgument, op,
               ": legacy broadcast of shape ", shape_to_string(b.shape()), " into ",
               shape_to_string(a.shape()), " at axis ", axis, " does not match");
    shape[d] = b.dim(d);
  }
  return b.reshaped(shape);
}

}  // namespace onyx
