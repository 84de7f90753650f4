// CPU kernels of the simple ai.onnx.ml ops: Binarizer (1), ArrayFeatureExtractor (1) and
// LabelEncoder (1; 2, 4 with keys/values as lists or, from opset 4, as tensors).
#include <cmath>
#include <unordered_map>

#include "onnx_ops/ml.h"
#include "providers/cpu/math/elementwise.h"
#include "onnx_ops/op_schema.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {


class BinarizerKernel final : public Kernel {
 public:
  explicit BinarizerKernel(const KernelInfo& info)
      : threshold_(info.attributes().get_float("threshold", 0.0f)) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    Tensor& y = ctx.output(0, x.dtype(), x.shape());
    dispatch_dtype_or_throw<TypeList<float, double, int64_t, int32_t>>(
        x.dtype(), "Binarizer", [&]<typename T>() {
          const T* in = x.data<T>();
          T* out = y.mutable_data<T>();
          const double threshold = threshold_;
          unary_map(in, out, x.element_count(), ctx.threads(), [threshold](T v) {
            return static_cast<double>(v) > threshold ? T(1) : T(0);
          });
        });
  }

 private:
  float threshold_;
};

class ArrayFeatureExtractorKernel final : public Kernel {
 public:
  explicit ArrayFeatureExtractorKernel(const KernelInfo&) {}

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const Tensor& y = ctx.input(1);
    ONYX_CHECK(y.dtype() == DataType::kInt64, ErrorCode::kInvalidArgument,
               "ArrayFeatureExtractor: indices must be int64, got ", dtype_name(y.dtype()));
    ONYX_CHECK(x.rank() >= 1, ErrorCode::kInvalidArgument,
               "ArrayFeatureExtractor: input must have rank >= 1, got a scalar");
    const int64_t c = x.shape().back();
    const int64_t rows = c == 0 ? 0 : x.element_count() / c;
    const int64_t k = y.element_count();
    const int64_t* idx = y.data<int64_t>();
    for (int64_t j = 0; j < k; ++j) {
      ONYX_CHECK(idx[j] >= 0 && idx[j] < c, ErrorCode::kInvalidArgument,
                 "ArrayFeatureExtractor: index ", idx[j], " is out of range for the last dim ", c,
                 " of input shape ", shape_to_string(x.shape()));
    }
    Shape shape = x.rank() == 1 ? Shape{1} : Shape(x.shape().begin(), x.shape().end() - 1);
    shape.push_back(k);
    Tensor& out = ctx.output(0, x.dtype(), shape);
    dispatch_dtype_or_throw<TypeList<float, double, int64_t, int32_t, std::string>>(
        x.dtype(), "ArrayFeatureExtractor", [&]<typename T>() {
          const T* in = x.data<T>();
          T* o = out.mutable_data<T>();
          for (int64_t r = 0; r < rows; ++r) {
            for (int64_t j = 0; j < k; ++j) o[r * k + j] = in[r * c + idx[j]];
          }
        });
  }
};

using LabelTypes = TypeList<std::string, int64_t, float, double, int32_t, int16_t>;

// A key list or value list of LabelEncoder as a tensor: from its list attribute (`base` +
// "_strings"/"_int64s"/"_floats") or, from opset 4, from `base` + "_tensor".
Tensor label_list(const NodeAttributes& attributes, const std::string& base) {
  if (attributes.has(base + "_strings")) {
    std::vector<std::string> v = attributes.get_strings(base + "_strings");
    return Tensor::from_vector<std::string>({static_cast<int64_t>(v.size())}, v);
  }
  if (attributes.has(base + "_int64s")) {
    std::vector<int64_t> v = attributes.get_ints(base + "_int64s");
    return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v);
  }
  if (attributes.has(base + "_floats")) {
    std::vector<float> v = attributes.get_floats(base + "_floats");
    return Tensor::from_vector<float>({static_cast<int64_t>(v.size())}, v);
  }
  if (attributes.has(base + "_tensor")) {
    const Tensor& t = attributes.require_tensor(base + "_tensor");
    return t.reshaped({t.element_count()});
  }
  throw_error(ErrorCode::kInvalidModel, attributes.node().describe(), ": LabelEncoder needs ",
              base, "_strings, ", base, "_int64s, ", base, "_floats or ", base, "_tensor");
}

// The default of value type `dtype`: default_tensor (opset 4) or the typed default attribute.
template <typename V>
V label_default(const NodeAttributes& attributes) {
  if (attributes.has("default_tensor")) {
    const Tensor& t = attributes.require_tensor("default_tensor");
    ONYX_CHECK(t.dtype() == dtype_of<V>() && t.element_count() == 1, ErrorCode::kInvalidModel,
               attributes.node().describe(), ": default_tensor must be one ",
               dtype_name(dtype_of<V>()), " value like values_tensor");
    return t.data<V>()[0];
  }
  if constexpr (std::is_same_v<V, std::string>) {
    return attributes.get_string("default_string", "_Unused");
  } else if constexpr (std::is_same_v<V, int64_t>) {
    return attributes.get_int("default_int64", -1);
  } else if constexpr (std::is_same_v<V, float>) {
    return attributes.get_float("default_float", -0.0f);
  } else {
    return V{};
  }
}

// Maps each input element to the index of its key in `keys_`, or to keys_.size() (the
// default) when absent; numeric keys compare as doubles and NaN matches a NaN key.
class LabelEncoderKernel final : public Kernel {
 public:
  explicit LabelEncoderKernel(const KernelInfo& info) : node_(info.node()) {
    const NodeAttributes& a = info.attributes();
    Tensor keys = label_list(a, "keys");
    Tensor values = label_list(a, "values");
    key_type_ = keys.dtype();
    ONYX_CHECK(keys.element_count() == values.element_count(), ErrorCode::kInvalidModel,
               node_.describe(), ": ", keys.element_count(), " keys but ", values.element_count(),
               " values");
    const int64_t n = keys.element_count();
    if (key_type_ == DataType::kString) {
      const std::string* k = keys.data<std::string>();
      for (int64_t i = n - 1; i >= 0; --i) string_index_[k[i]] = i;
    } else {
      for (int64_t i = n - 1; i >= 0; --i) {
        const double k = keys.element_as_double(i);
        if (std::isnan(k)) {
          nan_index_ = i;
        } else {
          numeric_index_[k] = i;
        }
      }
    }
    // The table of outputs: the values, then the default.
    dispatch_dtype_or_throw<LabelTypes>(values.dtype(), "LabelEncoder", [&]<typename V>() {
      table_ = Tensor(values.dtype(), {n + 1});
      V* t = table_.mutable_data<V>();
      const V* v = values.data<V>();
      for (int64_t i = 0; i < n; ++i) t[i] = v[i];
      t[n] = label_default<V>(a);
    });
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const bool x_string = x.dtype() == DataType::kString;
    ONYX_CHECK(x_string == (key_type_ == DataType::kString), ErrorCode::kInvalidArgument,
               node_.describe(), ": input of type ", dtype_name(x.dtype()),
               " does not match keys of type ", dtype_name(key_type_));
    const int64_t count = x.element_count();
    const int64_t fallback = table_.element_count() - 1;
    std::vector<int64_t> index(static_cast<size_t>(count));
    if (x_string) {
      const std::string* in = x.data<std::string>();
      for (int64_t i = 0; i < count; ++i) {
        auto it = string_index_.find(in[i]);
        index[i] = it == string_index_.end() ? fallback : it->second;
      }
    } else {
      dispatch_dtype_or_throw<LabelTypes>(x.dtype(), "LabelEncoder", [&]<typename T>() {
        if constexpr (!std::is_same_v<T, std::string>) {
          const T* in = x.data<T>();
          for (int64_t i = 0; i < count; ++i) {
            const double v = static_cast<double>(in[i]);
            if (std::isnan(v)) {
              index[i] = nan_index_ >= 0 ? nan_index_ : fallback;
            } else {
              auto it = numeric_index_.find(v);
              index[i] = it == numeric_index_.end() ? fallback : it->second;
            }
          }
        }
      });
    }
    Tensor& out = ctx.output(0, table_.dtype(), x.shape());
    dispatch_dtype_or_throw<LabelTypes>(table_.dtype(), "LabelEncoder", [&]<typename V>() {
      const V* t = table_.data<V>();
      V* o = out.mutable_data<V>();
      for (int64_t i = 0; i < count; ++i) o[i] = t[index[i]];
    });
  }

 private:
  const Node& node_;
  DataType key_type_;
  std::unordered_map<std::string, int64_t> string_index_;
  std::unordered_map<double, int64_t> numeric_index_;
  int64_t nan_index_ = -1;
  Tensor table_;
};

// LabelEncoder opset 1: classes_strings maps strings to their positions (default_int64) or
// int64 positions back to strings (default_string), chosen by the input's type.
class LabelEncoderV1Kernel final : public Kernel {
 public:
  explicit LabelEncoderV1Kernel(const KernelInfo& info)
      : node_(info.node()), classes_(info.attributes().get_strings("classes_strings")),
        default_int_(info.attributes().get_int("default_int64", -1)),
        default_string_(info.attributes().get_string("default_string", "_Unused")) {
    for (size_t i = classes_.size(); i-- > 0;) index_[classes_[i]] = static_cast<int64_t>(i);
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    const int64_t n = x.element_count();
    if (x.dtype() == DataType::kString) {
      const std::string* in = x.data<std::string>();
      int64_t* out = ctx.output(0, DataType::kInt64, x.shape()).mutable_data<int64_t>();
      for (int64_t i = 0; i < n; ++i) {
        auto it = index_.find(in[i]);
        out[i] = it == index_.end() ? default_int_ : it->second;
      }
    } else if (x.dtype() == DataType::kInt64) {
      const int64_t* in = x.data<int64_t>();
      std::string* out = ctx.output(0, DataType::kString, x.shape()).mutable_data<std::string>();
      const int64_t size = static_cast<int64_t>(classes_.size());
      for (int64_t i = 0; i < n; ++i) {
        out[i] = in[i] >= 0 && in[i] < size ? classes_[in[i]] : default_string_;
      }
    } else {
      throw_error(ErrorCode::kNotImplemented, node_.describe(), ": input type ",
                  dtype_name(x.dtype()), " is not string or int64");
    }
  }

 private:
  const Node& node_;
  std::vector<std::string> classes_;
  int64_t default_int_;
  std::string default_string_;
  std::unordered_map<std::string, int64_t> index_;
};

ONYX_REGISTER_KERNEL("CPU", kMlDomain, "LabelEncoder", 1, 1, LabelEncoderV1Kernel);
ONYX_REGISTER_KERNEL("CPU", kMlDomain, "Binarizer", 1, kOpsetOpenEnded, BinarizerKernel);
ONYX_REGISTER_KERNEL("CPU", kMlDomain, "ArrayFeatureExtractor", 1, kOpsetOpenEnded,
                     ArrayFeatureExtractorKernel);
ONYX_REGISTER_KERNEL("CPU", kMlDomain, "LabelEncoder", 2, kOpsetOpenEnded, LabelEncoderKernel);

}  // namespace
}  // namespace onyx
