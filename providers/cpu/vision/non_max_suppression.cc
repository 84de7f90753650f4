// CPU kernel of NonMaxSuppression (opset 10; 11 only widened types). Per (batch, class): boxes
// above score_threshold sorted by score (ties: lower index first), then greedily kept unless
// their IoU with a kept box exceeds iou_threshold, up to max_output_boxes_per_class.
#include <algorithm>
#include <numeric>
#include <vector>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

struct Box {
  float x_min, y_min, x_max, y_max, area;
};

class NonMaxSuppressionKernel final : public Kernel {
 public:
  explicit NonMaxSuppressionKernel(const KernelInfo& info) {
    center_point_box_ = info.attributes().get_int("center_point_box", 0);
    ONYX_CHECK(center_point_box_ == 0 || center_point_box_ == 1, ErrorCode::kInvalidArgument,
               "NonMaxSuppression: center_point_box must be 0 or 1, got ", center_point_box_);
  }

  void compute(KernelContext& ctx) override {
    const Tensor& boxes = ctx.input(0);
    const Tensor& scores = ctx.input(1);
    ONYX_CHECK(boxes.rank() == 3 && boxes.dim(2) == 4, ErrorCode::kInvalidArgument,
               "NonMaxSuppression: boxes must be [batch, boxes, 4], got ",
               shape_to_string(boxes.shape()));
    ONYX_CHECK(scores.rank() == 3 && scores.dim(0) == boxes.dim(0) &&
                   scores.dim(2) == boxes.dim(1),
               ErrorCode::kInvalidArgument, "NonMaxSuppression: scores ",
               shape_to_string(scores.shape()), " do not match boxes ",
               shape_to_string(boxes.shape()), " (expected [batch, classes, boxes])");
    int64_t max_per_class = 0;
    if (ctx.has_input(2) && ctx.input(2).element_count() > 0) {
      max_per_class = std::max<int64_t>(ctx.input(2).to_int64_vector()[0], 0);
    }
    double iou_threshold = 0;
    if (ctx.has_input(3) && ctx.input(3).element_count() > 0) {
      iou_threshold = ctx.input(3).element_as_double(0);
    }
    ONYX_CHECK(iou_threshold >= 0 && iou_threshold <= 1, ErrorCode::kInvalidArgument,
               "NonMaxSuppression: iou_threshold ", iou_threshold, " must be in [0, 1]");
    bool has_score_threshold = ctx.has_input(4) && ctx.input(4).element_count() > 0;
    double score_threshold = has_score_threshold ? ctx.input(4).element_as_double(0) : 0;

    const int64_t batches = boxes.dim(0), num_boxes = boxes.dim(1), classes = scores.dim(1);
    std::vector<float> box_values(boxes.element_count());
    std::vector<float> score_values(scores.element_count());
    for (int64_t i = 0; i < boxes.element_count(); ++i) box_values[i] = static_cast<float>(boxes.element_as_double(i));
    for (int64_t i = 0; i < scores.element_count(); ++i) score_values[i] = static_cast<float>(scores.element_as_double(i));

    std::vector<int64_t> selected;  // triples
    std::vector<Box> corners(num_boxes);
    std::vector<int64_t> order, kept;
    for (int64_t b = 0; b < batches; ++b) {
      for (int64_t i = 0; i < num_boxes; ++i) corners[i] = corners_of(&box_values[(b * num_boxes + i) * 4]);
      for (int64_t c = 0; c < classes; ++c) {
        const float* s = &score_values[(b * classes + c) * num_boxes];
        order.clear();
        for (int64_t i = 0; i < num_boxes; ++i) {
          if (!has_score_threshold || s[i] > score_threshold) order.push_back(i);
        }
        std::stable_sort(order.begin(), order.end(),
                         [&](int64_t l, int64_t r) { return s[l] > s[r]; });
        kept.clear();
        for (int64_t i : order) {
          if (static_cast<int64_t>(kept.size()) >= max_per_class) break;
          bool keep = true;
          for (int64_t k : kept) {
            if (suppresses(corners[i], corners[k], iou_threshold)) {
              keep = false;
              break;
            }
          }
          if (!keep) continue;
          kept.push_back(i);
          selected.insert(selected.end(), {b, c, i});
        }
      }
    }
    Tensor& out = ctx.output(0, DataType::kInt64, {static_cast<int64_t>(selected.size() / 3), 3});
    std::copy(selected.begin(), selected.end(), out.mutable_data<int64_t>());
  }

 private:
  Box corners_of(const float* v) const {
    Box b;
    if (center_point_box_ == 0) {
      // [y1, x1, y2, x2], corners in either order.
      b.y_min = std::min(v[0], v[2]);
      b.y_max = std::max(v[0], v[2]);
      b.x_min = std::min(v[1], v[3]);
      b.x_max = std::max(v[1], v[3]);
    } else {
      b.x_min = v[0] - v[2] / 2;
      b.x_max = v[0] + v[2] / 2;
      b.y_min = v[1] - v[3] / 2;
      b.y_max = v[1] + v[3] / 2;
    }
    b.area = (b.x_max - b.x_min) * (b.y_max - b.y_min);
    return b;
  }

  static bool suppresses(const Box& a, const Box& b, double iou_threshold) {
    const float ix_min = std::max(a.x_min, b.x_min), ix_max = std::min(a.x_max, b.x_max);
    if (ix_max <= ix_min) return false;
    const float iy_min = std::max(a.y_min, b.y_min), iy_max = std::min(a.y_max, b.y_max);
    if (iy_max <= iy_min) return false;
    const float inter = (ix_max - ix_min) * (iy_max - iy_min);
    const float uni = a.area + b.area - inter;
    if (a.area <= 0 || b.area <= 0 || uni <= 0) return false;
    return inter / uni > iou_threshold;
  }

  int64_t center_point_box_ = 0;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "NonMaxSuppression", 10, kOpsetOpenEnded, NonMaxSuppressionKernel);

}  // namespace onyx
