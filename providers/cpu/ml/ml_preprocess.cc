// CPU kernels of the ai.onnx.ml preprocessing ops (all opset 1): Scaler, Normalizer, Imputer
// and OneHotEncoder.
#include <cmath>
#include <unordered_map>

#include "providers/cpu/math/elementwise.h"
#include "onnx_ops/op_schema.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

using MlNumeric = TypeList<float, double, int64_t, int32_t>;

// Rows of the last dim: a [C] input is one row.
int64_t last_dim(const Tensor& x) { return x.rank() == 0 ? 1 : x.shape().back(); }

// A per-column parameter list of length 1 (broadcast) or C.
void check_params(const Node& node, const char* name, size_t count, int64_t c) {
  ONYX_CHECK(count == 1 || static_cast<int64_t>(count) == c, ErrorCode::kInvalidArgument,
             node.describe(), ": ", name, " has ", count, " values, expected 1 or ", c,
             " (the input's last dim)");
}

class ScalerKernel final : public Kernel {
 public:
  explicit ScalerKernel(const KernelInfo& info)
      : node_(info.node()), offset_(info.attributes().get_floats("offset")),
        scale_(info.attributes().get_floats("scale")) {
    if (offset_.empty()) offset_ = {0.0f};
    if (scale_.empty()) scale_ = {1.0f};
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t c = last_dim(x);
    check_params(node_, "offset", offset_.size(), c);
    check_params(node_, "scale", scale_.size(), c);
    Tensor& y = ctx.output(0, DataType::kFloat, x.shape());
    float* out = y.mutable_data<float>();
    const int64_t n = x.element_count();
    const bool per_offset = offset_.size() > 1, per_scale = scale_.size() > 1;
    dispatch_dtype_or_throw<MlNumeric>(x.dtype(), "Scaler", [&]<typename T>() {
      const T* in = x.data<T>();
      for (int64_t i = 0; i < n; ++i) {
        const int64_t j = c == 0 ? 0 : i % c;
        out[i] = (static_cast<float>(in[i]) - offset_[per_offset ? j : 0]) * scale_[per_scale ? j : 0];
      }
    });
  }

 private:
  const Node& node_;
  std::vector<float> offset_, scale_;
};

class NormalizerKernel final : public Kernel {
 public:
  explicit NormalizerKernel(const KernelInfo& info) : node_(info.node()) {
    norm_ = info.attributes().get_string("norm", "MAX");
    ONYX_CHECK(norm_ == "MAX" || norm_ == "L1" || norm_ == "L2", ErrorCode::kInvalidModel,
               node_.describe(), ": norm '", norm_, "' is not one of MAX, L1, L2");
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    ONYX_CHECK(x.rank() == 1 || x.rank() == 2, ErrorCode::kInvalidArgument, node_.describe(),
               ": input must be [C] or [N, C], got ", shape_to_string(x.shape()));
    const int64_t c = last_dim(x);
    const int64_t rows = c == 0 ? 0 : x.element_count() / c;
    Tensor& y = ctx.output(0, DataType::kFloat, x.shape());
    float* out = y.mutable_data<float>();
    dispatch_dtype_or_throw<MlNumeric>(x.dtype(), "Normalizer", [&]<typename T>() {
      const T* in = x.data<T>();
      for (int64_t r = 0; r < rows; ++r) {
        const T* row = in + r * c;
        float* o = out + r * c;
        double d = 0;
        if (norm_ == "MAX") {
          d = static_cast<double>(row[0]);
          for (int64_t j = 1; j < c; ++j) d = std::max(d, static_cast<double>(row[j]));
        } else if (norm_ == "L1") {
          for (int64_t j = 0; j < c; ++j) d += std::abs(static_cast<double>(row[j]));
        } else {
          for (int64_t j = 0; j < c; ++j) d += static_cast<double>(row[j]) * static_cast<double>(row[j]);
          d = std::sqrt(d);
        }
        for (int64_t j = 0; j < c; ++j) o[j] = static_cast<float>(static_cast<double>(row[j]) / d);
      }
    });
  }

 private:
  const Node& node_;
  std::string norm_;
};

class ImputerKernel final : public Kernel {
 public:
  explicit ImputerKernel(const KernelInfo& info) : node_(info.node()) {
    const NodeAttributes& a = info.attributes();
    floats_ = a.get_floats("imputed_value_floats");
    ints_ = a.get_ints("imputed_value_int64s");
    replaced_float_ = a.get_float("replaced_value_float", 0.0f);
    replaced_int_ = a.get_int("replaced_value_int64", 0);
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t c = last_dim(x);
    const int64_t n = x.element_count();
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    dispatch_dtype_or_throw<MlNumeric>(x.dtype(), "Imputer", [&]<typename T>() {
      constexpr bool kFloat = std::is_floating_point_v<T>;
      const auto& values = [&]() -> const auto& {
        if constexpr (kFloat) return floats_; else return ints_;
      }();
      ONYX_CHECK(!values.empty(), ErrorCode::kInvalidModel, node_.describe(), ": input of type ",
                 dtype_name(x.dtype()), " needs ", kFloat ? "imputed_value_floats" : "imputed_value_int64s");
      check_params(node_, kFloat ? "imputed_value_floats" : "imputed_value_int64s", values.size(), c);
      const T* in = x.data<T>();
      T* out = y.mutable_data<T>();
      const bool per_column = values.size() > 1;
      for (int64_t i = 0; i < n; ++i) {
        bool missing;
        if constexpr (kFloat) {
          missing = std::isnan(replaced_float_) ? std::isnan(in[i]) : in[i] == static_cast<T>(replaced_float_);
        } else {
          missing = static_cast<int64_t>(in[i]) == replaced_int_;
        }
        out[i] = missing ? static_cast<T>(values[per_column ? i % c : 0]) : in[i];
      }
    });
  }

 private:
  const Node& node_;
  std::vector<float> floats_;
  std::vector<int64_t> ints_;
  float replaced_float_;
  int64_t replaced_int_;
};

class OneHotEncoderKernel final : public Kernel {
 public:
  explicit OneHotEncoderKernel(const KernelInfo& info) : node_(info.node()) {
    const NodeAttributes& a = info.attributes();
    zeros_ = a.get_int("zeros", 1) != 0;
    strings_ = a.has("cats_strings");
    if (strings_) {
      for (const std::string& s : a.get_strings("cats_strings")) string_ids_.emplace(s, count_++);
    } else {
      for (int64_t v : a.get_ints("cats_int64s")) int_ids_.emplace(v, count_++);
    }
    ONYX_CHECK(count_ > 0, ErrorCode::kInvalidModel, node_.describe(),
               ": needs cats_strings or cats_int64s");
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const bool is_string = x.dtype() == DataType::kString;
    ONYX_CHECK(is_string == strings_, ErrorCode::kInvalidArgument, node_.describe(),
               ": input of type ", dtype_name(x.dtype()), " does not match ",
               strings_ ? "cats_strings" : "cats_int64s");
    Shape shape = x.shape();
    shape.push_back(count_);
    Tensor& y = ctx.output(0, DataType::kFloat, shape);
    float* out = y.mutable_data<float>();
    std::fill(out, out + y.element_count(), 0.0f);
    const int64_t n = x.element_count();
    auto set = [&](int64_t i, int64_t id, const auto& value) {
      if (id >= 0) {
        out[i * count_ + id] = 1.0f;
      } else {
        ONYX_CHECK(zeros_, ErrorCode::kInvalidArgument, node_.describe(), ": value ", value,
                   " is not a category and zeros is 0");
      }
    };
    if (is_string) {
      const std::string* in = x.data<std::string>();
      for (int64_t i = 0; i < n; ++i) {
        auto it = string_ids_.find(in[i]);
        set(i, it == string_ids_.end() ? -1 : it->second, in[i]);
      }
      return;
    }
    dispatch_dtype_or_throw<MlNumeric>(x.dtype(), "OneHotEncoder", [&]<typename T>() {
      const T* in = x.data<T>();
      for (int64_t i = 0; i < n; ++i) {
        // Float inputs match a category only when integral.
        const int64_t v = static_cast<int64_t>(in[i]);
        auto it = static_cast<T>(v) == in[i] ? int_ids_.find(v) : int_ids_.end();
        set(i, it == int_ids_.end() ? -1 : it->second, in[i]);
      }
    });
  }

 private:
  const Node& node_;
  bool zeros_ = true, strings_ = false;
  int64_t count_ = 0;
  std::unordered_map<std::string, int64_t> string_ids_;
  std::unordered_map<int64_t, int64_t> int_ids_;
};

ONYX_REGISTER_KERNEL("CPU", kMlDomain, "Scaler", 1, kOpsetOpenEnded, ScalerKernel);
ONYX_REGISTER_KERNEL("CPU", kMlDomain, "Normalizer", 1, kOpsetOpenEnded, NormalizerKernel);
ONYX_REGISTER_KERNEL("CPU", kMlDomain, "Imputer", 1, kOpsetOpenEnded, ImputerKernel);
ONYX_REGISTER_KERNEL("CPU", kMlDomain, "OneHotEncoder", 1, kOpsetOpenEnded, OneHotEncoderKernel);

}  // namespace
}  // namespace onyx
