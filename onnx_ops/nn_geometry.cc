#include "onnx_ops/nn_geometry.h"

#include <algorithm>
#include <numeric>
#include <optional>

namespace onyx {

namespace {

std::string join(std::span<const int64_t> values) {
  return shape_to_string(Shape(values.begin(), values.end()));
}

// Fills an attribute vector with `fallback` when absent; checks its length otherwise.
std::vector<int64_t> per_dim(const std::vector<int64_t>& given, size_t rank, int64_t fallback,
                             const char* name, std::string_view op) {
  if (given.empty()) return std::vector<int64_t>(rank, fallback);
  if (given.size() != rank) {
    throw_error(ErrorCode::kInvalidArgument, op, ": attribute '", name, "' has ", given.size(),
                " values ", join(given), " but the input has ", rank, " spatial dims");
  }
  return given;
}

void check_positive(const std::vector<int64_t>& values, const char* name, std::string_view op) {
  for (int64_t v : values) {
    if (v <= 0) {
      throw_error(ErrorCode::kInvalidArgument, op, ": attribute '", name,
                  "' must be positive, got ", join(values));
    }
  }
}

// Kernel sizes, strides, dilations and pads above 2^31 - 1 fit no real tensor, and the window
// arithmetic (dilation * (kernel - 1), input + pads, output * kernel size) on them overflowed
// int64 (fuzz regression model_mutate/maxpool-huge-pad): they are refused up front.
constexpr int64_t kMaxWindowValue = (int64_t{1} << 31) - 1;

void check_in_range(const std::vector<int64_t>& values, const char* name, std::string_view op) {
  for (int64_t v : values) {
    if (v > kMaxWindowValue) {
      throw_error(ErrorCode::kInvalidArgument, op, ": attribute '", name, "' value ", v,
                  " is out of range (at most ", kMaxWindowValue, "), got ", join(values));
    }
  }
}

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

WindowAttributes WindowAttributes::read(const NodeAttributes& attributes) {
  WindowAttributes attrs;
  attrs.kernel_shape = attributes.get_ints("kernel_shape");
  attrs.strides = attributes.get_ints("strides");
  attrs.dilations = attributes.get_ints("dilations");
  attrs.pads = attributes.get_ints("pads");
  attrs.ceil_mode = attributes.get_int("ceil_mode", 0) != 0;
  const std::string pad = attributes.get_string("auto_pad", "NOTSET");
  attrs.auto_pad = pad == "SAME_UPPER"   ? AutoPad::kSameUpper
                   : pad == "SAME_LOWER" ? AutoPad::kSameLower
                   : pad == "VALID"      ? AutoPad::kValid
                                         : AutoPad::kNotSet;
  return attrs;
}

int64_t WindowGeometry::input_count() const {
  return std::accumulate(input.begin(), input.end(), int64_t{1}, std::multiplies<>());
}
int64_t WindowGeometry::output_count() const {
  return std::accumulate(output.begin(), output.end(), int64_t{1}, std::multiplies<>());
}
int64_t WindowGeometry::kernel_count() const {
  return std::accumulate(kernel.begin(), kernel.end(), int64_t{1}, std::multiplies<>());
}

static WindowGeometry common_geometry(const WindowAttributes& attrs,
                                      std::span<const int64_t> input_spatial,
                                      std::span<const int64_t> kernel, std::string_view op) {
  const size_t rank = input_spatial.size();
  WindowGeometry g;
  g.input.assign(input_spatial.begin(), input_spatial.end());
  if (kernel.size() != rank) {
    throw_error(ErrorCode::kInvalidArgument, op, ": kernel shape ", join(kernel), " has ",
                kernel.size(), " dims but the input has ", rank, " spatial dims ",
                join(input_spatial));
  }
  g.kernel.assign(kernel.begin(), kernel.end());
  // The kernel may come from W's shape, a value no attribute check saw.
  check_positive(g.kernel, "kernel_shape", op);
  check_in_range(g.kernel, "kernel_shape", op);
  g.strides = per_dim(attrs.strides, rank, 1, "strides", op);
  g.dilations = per_dim(attrs.dilations, rank, 1, "dilations", op);
  if (attrs.pads.empty()) {
    g.pads.assign(2 * rank, 0);
  } else if (attrs.pads.size() != 2 * rank) {
    throw_error(ErrorCode::kInvalidArgument, op, ": attribute 'pads' has ", attrs.pads.size(),
                " values ", join(attrs.pads), " but needs ", 2 * rank, " for input spatial dims ",
                join(input_spatial));
  } else {
    g.pads = attrs.pads;
  }
  g.output.assign(rank, 0);
  return g;
}

WindowGeometry forward_window_geometry(const WindowAttributes& attrs,
                                       std::span<const int64_t> input_spatial,
                                       std::span<const int64_t> kernel, std::string_view op) {
  WindowGeometry g = common_geometry(attrs, input_spatial, kernel, op);
  const size_t rank = g.rank();
  for (size_t d = 0; d < rank; ++d) {
    const int64_t in = g.input[d];
    const int64_t stride = g.strides[d];
    const int64_t window = g.effective_kernel(d);
    int64_t out = 0;
    switch (attrs.auto_pad) {
      case AutoPad::kSameUpper:
      case AutoPad::kSameLower: {
        out = (in + stride - 1) / stride;
        int64_t total = std::max<int64_t>(0, (out - 1) * stride + window - in);
        int64_t small = total / 2;
        int64_t large = total - small;
        bool upper = attrs.auto_pad == AutoPad::kSameUpper;  // the extra pad goes at the end
        g.pads[d] = upper ? small : large;
        g.pads[rank + d] = upper ? large : small;
        break;
      }
      case AutoPad::kValid:
        g.pads[d] = g.pads[rank + d] = 0;
        [[fallthrough]];
      case AutoPad::kNotSet: {
        int64_t span = in + g.pads[d] + g.pads[rank + d] - window;
        out = (attrs.ceil_mode ? -floor_div(-span, stride) : floor_div(span, stride)) + 1;
        // With ceil_mode a last window that would start in the end padding is dropped.
        if (attrs.ceil_mode && out > 0 && (out - 1) * stride >= in + g.pads[d]) --out;
        break;
      }
    }
    if (out <= 0) {
      throw_error(ErrorCode::kInvalidArgument, op, ": input spatial shape ", join(input_spatial),
                  " with kernel ", join(kernel), ", strides ", join(g.strides), ", dilations ",
                  join(g.dilations), " and pads ", join(g.pads), " gives an empty output");
    }
    g.output[d] = out;
  }
  return g;
}

WindowGeometry transpose_window_geometry(const WindowAttributes& attrs,
                                         std::span<const int64_t> input_spatial,
                                         std::span<const int64_t> kernel,
                                         std::span<const int64_t> output_padding,
                                         std::span<const int64_t> output_shape,
                                         std::string_view op) {
  WindowGeometry g = common_geometry(attrs, input_spatial, kernel, op);
  const size_t rank = g.rank();
  std::vector<int64_t> extra =
      per_dim(std::vector<int64_t>(output_padding.begin(), output_padding.end()), rank, 0,
              "output_padding", op);
  std::vector<int64_t> wanted;
  if (!output_shape.empty()) {
    // output_shape may list N and C too; only the trailing spatial dims count.
    if (output_shape.size() < rank) {
      throw_error(ErrorCode::kInvalidArgument, op, ": output_shape ", join(output_shape),
                  " has fewer dims than the ", rank, " spatial dims of the input");
    }
    wanted.assign(output_shape.end() - static_cast<std::ptrdiff_t>(rank), output_shape.end());
  }
  const bool same = attrs.auto_pad == AutoPad::kSameUpper || attrs.auto_pad == AutoPad::kSameLower;
  for (size_t d = 0; d < rank; ++d) {
    const int64_t full = g.strides[d] * (g.input[d] - 1) + extra[d] + g.effective_kernel(d);
    if (attrs.auto_pad == AutoPad::kValid) g.pads[d] = g.pads[rank + d] = 0;
    if (!wanted.empty() || same) {
      int64_t out = !wanted.empty() ? wanted[d] : g.input[d] * g.strides[d];
      int64_t total = full - out;
      if (total < 0) total = 0;  // the output grows past the last window: zeros, no crop
      int64_t small = total / 2;
      int64_t large = total - small;
      // As the ONNX reference: SAME_LOWER puts the odd pad first, the others put it last.
      bool lower = attrs.auto_pad == AutoPad::kSameLower;
      g.pads[d] = lower ? large : small;
      g.pads[rank + d] = lower ? small : large;
      g.output[d] = out;
    } else {
      g.output[d] = full - g.pads[d] - g.pads[rank + d];
    }
    if (g.output[d] <= 0) {
      throw_error(ErrorCode::kInvalidArgument, op, ": input spatial shape ", join(input_spatial),
                  " with kernel ", join(kernel), ", strides ", join(g.strides), " and pads ",
                  join(g.pads), " gives an empty output");
    }
  }
  return g;
}

void check_window_attributes(const AttributeCheckContext& ctx, WindowOp op) {
  const NodeAttributes& a = ctx.attributes();
  std::optional<int64_t> rank = ctx.input_rank(0);
  std::optional<size_t> spatial;
  if (rank && *rank >= 3) spatial = static_cast<size_t>(*rank - 2);
  std::vector<int64_t> kernel = a.get_positive_ints("kernel_shape");
  if (!spatial && !kernel.empty()) spatial = kernel.size();
  if (!spatial && op.weight_input >= 0) {
    std::optional<int64_t> w_rank = ctx.input_rank(static_cast<size_t>(op.weight_input));
    if (w_rank && *w_rank >= 3) spatial = static_cast<size_t>(*w_rank - 2);
  }
  const char* per_dim_why = "one per spatial dim of the input";
  for (const char* name : {"kernel_shape", "strides", "dilations", "pads", "output_padding"}) {
    std::vector<int64_t> values = a.get_ints_at_least(name, std::string_view(name) == "pads" ||
                                                                std::string_view(name) == "output_padding"
                                                            ? 0 : 1);
    for (int64_t v : values) {
      if (v > kMaxWindowValue) {
        throw_error(ErrorCode::kInvalidModel, "attribute ", name, " must hold values <= ", kMaxWindowValue,
                    ", got ", join(values));
      }
    }
    if (spatial) {
      const bool pads = std::string_view(name) == "pads";
      a.expect_length(name, pads ? 2 * *spatial : *spatial,
                      pads ? "a begin and an end per spatial dim of the input" : per_dim_why);
    }
  }
  if (a.get_string("auto_pad", "NOTSET") != "") {  // "" as NOTSET, as older exporters write it
    a.get_enum_string("auto_pad", "NOTSET", {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"});
  }
  a.get_flag("ceil_mode", false);
  if (op.weight_input < 0) return;
  const int64_t group = a.get_int_in_range("group", 1, 1, kMaxWindowValue);
  if (std::optional<int64_t> channels = ctx.input_dim(0, 1); channels && *channels % group != 0) {
    throw_error(ErrorCode::kInvalidModel, "attribute group (", group, ") must divide the input's ", *channels,
                " channels");
  }
  if (op.transpose) {
    std::vector<int64_t> extra = a.get_ints("output_padding");
    std::vector<int64_t> strides = a.get_ints("strides");
    std::vector<int64_t> dilations = a.get_ints("dilations");
    for (size_t d = 0; d < extra.size(); ++d) {
      const int64_t stride = d < strides.size() ? strides[d] : 1;
      const int64_t dilation = d < dilations.size() ? dilations[d] : 1;
      if (extra[d] >= std::max(stride, dilation)) {
        throw_error(ErrorCode::kInvalidModel, "attribute output_padding must be smaller than the stride or the ",
                    "dilation of its dim, got ", join(extra), " with strides ", join(strides), " and dilations ",
                    join(dilations));
      }
    }
    a.get_ints_at_least("output_shape", 1);
  }
}

bool known_spatial_dims(const TypeInfo& type, std::vector<int64_t>& spatial) {
  if (!type.is_tensor() || !type.shape || type.shape->size() < 2) return false;
  spatial.clear();
  for (size_t i = 2; i < type.shape->size(); ++i) {
    if (!(*type.shape)[i].is_known()) return false;
    spatial.push_back((*type.shape)[i].value);
  }
  return true;
}

}  // namespace onyx
