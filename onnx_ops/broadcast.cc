#include "onnx_ops/broadcast.h"

#include <algorithm>
#include <sstream>

namespace onyx {

namespace {
std::string shapes_text(std::span<const Shape> shapes) {
  std::ostringstream out;
  for (size_t i = 0; i < shapes.size(); ++i) out << (i ? " and " : "") << shape_to_string(shapes[i]);
  return out.str();
}

}  // namespace

Shape broadcast_shapes(std::span<const Shape> shapes, std::string_view what) {
  size_t rank = 0;
  for (const Shape& s : shapes) rank = std::max(rank, s.size());
  Shape out(rank, 1);
  for (const Shape& s : shapes) {
    size_t shift = rank - s.size();
    for (size_t d = 0; d < s.size(); ++d) {
      int64_t dim = s[d];
      int64_t& o = out[shift + d];
      if (dim == o || dim == 1) continue;
      if (o == 1) {
        o = dim;
        continue;
      }
      throw_error(ErrorCode::kInvalidArgument, what, ": shapes ", shapes_text(shapes),
                  " cannot be broadcast together (dim ", o, " vs ", dim, ")");
    }
  }
  return out;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view what) {
  if (a == b) return a;
  const Shape both[2] = {a, b};
  return broadcast_shapes(std::span<const Shape>(both, 2), what);
}

std::vector<Dim> broadcast_dims(std::span<const std::vector<Dim>> shapes, std::string_view what) {
  size_t rank = 0;
  for (const auto& s : shapes) rank = std::max(rank, s.size());
  std::vector<Dim> out(rank);
  for (size_t d = 0; d < rank; ++d) {
    // Known dims other than 1 decide; with none, a symbol shared by all non-1 dims survives.
    int64_t known = -1;
    bool any_unknown = false;
    bool symbols_agree = true;
    std::string symbol;
    for (const auto& s : shapes) {
      if (d + s.size() < rank) continue;  // implicit leading 1
      const Dim& dim = s[d + s.size() - rank];
      if (dim.is_known()) {
        if (dim.value == 1) continue;
        if (known >= 0 && known != dim.value) {
          throw_error(ErrorCode::kInvalidArgument, what, ": dims ", known, " and ", dim.value,
                      " cannot be broadcast together");
        }
        known = dim.value;
      } else {
        any_unknown = true;
        if (dim.symbol.empty() || (!symbol.empty() && symbol != dim.symbol)) {
          symbols_agree = false;
        }
        if (symbol.empty()) symbol = dim.symbol;
      }
    }
    if (known >= 0) {
      out[d] = Dim::known(known);  // an unknown dim must be 1 or equal to it
    } else if (!any_unknown) {
      out[d] = Dim::known(1);
    } else if (symbols_agree) {
      out[d] = Dim::named(symbol);
    } else {
      out[d] = Dim{};
    }
  }
  return out;
}

BroadcastPlan::BroadcastPlan(std::span<const Shape> input_shapes, const Shape& output_shape) {
  input_count_ = input_shapes.size();
  ONYX_CHECK(input_count_ <= kMaxInputs, ErrorCode::kNotImplemented, "broadcast of ",
             input_count_, " inputs at once (at most ", kMaxInputs, ")");
  output_count_ = shape_element_count(output_shape);
  const size_t rank = output_shape.size();
  // Element strides of each input along each output dim (0 where the input repeats).
  std::vector<std::vector<int64_t>> full(input_count_, std::vector<int64_t>(rank, 0));
  for (size_t i = 0; i < input_count_; ++i) {
    const Shape& s = input_shapes[i];
    ONYX_CHECK(s.size() <= rank, ErrorCode::kInvalidArgument, "broadcast: input shape ",
               shape_to_string(s), " has more dims than the output ", shape_to_string(output_shape));
    int64_t stride = 1;
    for (size_t k = s.size(); k-- > 0;) {
      size_t d = rank - s.size() + k;
      if (s[k] == output_shape[d]) {
        full[i][d] = s[k] == 1 ? 0 : stride;
      } else {
        ONYX_CHECK(s[k] == 1, ErrorCode::kInvalidArgument, "broadcast: input shape ",
                   shape_to_string(s), " does not broadcast to ", shape_to_string(output_shape));
      }
      stride *= s[k];
    }
  }
  for (size_t d = 0; d < rank; ++d) {
    if (output_shape[d] == 1) continue;
    bool merge = !dims_.empty();
    for (size_t i = 0; merge && i < input_count_; ++i) {
      merge = strides_[i].back() == full[i][d] * output_shape[d];
    }
    if (merge) {
      dims_.back() *= output_shape[d];
      for (size_t i = 0; i < input_count_; ++i) strides_[i].back() = full[i][d];
    } else {
      dims_.push_back(output_shape[d]);
      for (size_t i = 0; i < input_count_; ++i) strides_[i].push_back(full[i][d]);
    }
  }
}

}  // namespace onyx
