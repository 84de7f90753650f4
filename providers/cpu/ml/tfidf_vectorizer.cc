// CPU kernel of TfIdfVectorizer (opset 9). Pool n-grams are keyed by their token ids (int64
// values, or a string's position in pool_strings) packed into a byte string, one hash map per
// n-gram length; each row counts the pooled n-grams it contains for every skip distance
// (unigrams once), then the counts are weighted by the mode (TF, IDF, TFIDF).
#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

enum class TfIdfMode { kTf, kIdf, kTfIdf };

class TfIdfVectorizerKernel final : public Kernel {
 public:
  explicit TfIdfVectorizerKernel(const KernelInfo& info) : node_(info.node()) {
    const NodeAttributes& a = info.attributes();
    min_gram_ = a.require_int("min_gram_length");
    max_gram_ = a.require_int("max_gram_length");
    max_skip_ = a.require_int("max_skip_count");
    // The attributes are as check_tfidf (onnx_ops/ml_text.cc) allowed them.
    const std::string mode = a.require_string("mode");
    mode_ = mode == "TF" ? TfIdfMode::kTf : mode == "IDF" ? TfIdfMode::kIdf : TfIdfMode::kTfIdf;
    const std::vector<int64_t> counts = a.require_ints("ngram_counts");
    const std::vector<int64_t> indexes = a.require_ints("ngram_indexes");
    weights_ = a.get_floats("weights");
    output_size_ = indexes.empty() ? 0 : *std::max_element(indexes.begin(), indexes.end()) + 1;

    std::vector<int64_t> pool;
    strings_ = a.has("pool_strings");
    if (strings_) {
      const std::vector<std::string> s = a.get_strings("pool_strings");
      for (const std::string& v : s) {
        auto [it, added] = string_ids_.emplace(v, static_cast<int64_t>(string_ids_.size()));
        pool.push_back(it->second);
      }
    } else {
      pool = a.get_ints("pool_int64s");
    }
    const int64_t total = static_cast<int64_t>(pool.size());
    // The pool holds n-grams of lengths 1..ngram_counts.size() only: a longer max_gram_length
    // cannot match anything, and sizing maps_ by it let one attribute allocate gigabytes.
    max_gram_ = std::min<int64_t>(max_gram_, static_cast<int64_t>(counts.size()));
    maps_.resize(static_cast<size_t>(std::max<int64_t>(max_gram_, 0)));
    int64_t ngram = 0;  // position of the n-gram in the pool, indexing ngram_indexes
    for (size_t i = 0; i < counts.size(); ++i) {
      const int64_t n = static_cast<int64_t>(i) + 1;
      const int64_t begin = counts[i];
      const int64_t end = i + 1 < counts.size() ? counts[i + 1] : total;
      for (int64_t p = begin; p + n <= end; p += n, ++ngram) {
        if (n < min_gram_ || n > max_gram_) continue;
        maps_[n - 1][key_of(pool.data() + p, n, 1)] = indexes[ngram];
      }
    }
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    ONYX_CHECK(x.rank() <= 2, ErrorCode::kInvalidArgument, node_.describe(),
               ": input must be [C] or [B, C], got ", shape_to_string(x.shape()));
    const bool is_string = x.dtype() == DataType::kString;
    ONYX_CHECK(is_string == strings_, ErrorCode::kInvalidArgument, node_.describe(), ": input of type ",
               dtype_name(x.dtype()), " does not match the ", strings_ ? "pool_strings" : "pool_int64s");
    const int64_t rows = x.rank() == 2 ? x.dim(0) : 1;
    const int64_t c = x.rank() == 0 ? 1 : x.shape().back();
    // Token ids of the whole input.
    std::vector<int64_t> tokens(static_cast<size_t>(x.element_count()));
    if (is_string) {
      const std::string* in = x.data<std::string>();
      for (int64_t i = 0; i < x.element_count(); ++i) {
        auto it = string_ids_.find(in[i]);
        tokens[i] = it == string_ids_.end() ? -1 : it->second;
      }
    } else {
      dispatch_dtype_or_throw<TypeList<int64_t, int32_t>>(x.dtype(), "TfIdfVectorizer", [&]<typename T>() {
        const T* in = x.data<T>();
        for (int64_t i = 0; i < x.element_count(); ++i) tokens[i] = in[i];
      });
    }
    Shape shape = x.rank() == 2 ? Shape{rows, output_size_} : Shape{output_size_};
    Tensor& y = ctx.output(0, DataType::kFloat, shape);
    float* out = y.mutable_data<float>();
    parallel_for(rows, 16, ctx.threads(), [&](int64_t begin, int64_t end) {
      std::string key;
      for (int64_t r = begin; r < end; ++r) {
        float* o = out + r * output_size_;
        std::fill(o, o + output_size_, 0.0f);
        count_row(tokens.data() + r * c, c, o, key);
        weigh(o);
      }
    });
  }

 private:
  std::string& key_of(const int64_t* tokens, int64_t n, int64_t stride, std::string* buffer) const {
    buffer->resize(static_cast<size_t>(n) * sizeof(int64_t));
    for (int64_t k = 0; k < n; ++k) {
      std::memcpy(buffer->data() + k * sizeof(int64_t), tokens + k * stride, sizeof(int64_t));
    }
    return *buffer;
  }
  std::string key_of(const int64_t* tokens, int64_t n, int64_t stride) const {
    std::string key;
    key_of(tokens, n, stride, &key);
    return key;
  }

  void count_row(const int64_t* tokens, int64_t c, float* counts, std::string& key) const {
    int64_t smallest = min_gram_;
    // A skip of c - 1 or more fits no n-gram of two or more tokens in a row of c: the skips past
    // it are not tried (a huge max_skip_count looped for ever; max_skip_ + 1 could overflow).
    const int64_t last_skip = std::min<int64_t>(max_skip_, std::max<int64_t>(c - 2, 0)) + 1;
    for (int64_t skip = 1; skip <= last_skip; ++skip) {
      for (int64_t start = 0; start < c; ++start) {
        for (int64_t n = smallest; n <= max_gram_; ++n) {
          if (start + skip * (n - 1) >= c) break;
          const auto& map = maps_[n - 1];
          if (map.empty()) continue;
          auto it = map.find(key_of(tokens + start, n, skip, &key));
          if (it != map.end()) counts[it->second] += 1.0f;
        }
      }
      // Unigrams do not depend on the skip distance: count them only once.
      if (smallest == 1) {
        smallest = 2;
        if (smallest > max_gram_) break;
      }
    }
  }

  void weigh(float* o) const {
    if (mode_ == TfIdfMode::kTf) return;
    for (int64_t i = 0; i < output_size_; ++i) {
      if (mode_ == TfIdfMode::kIdf) {
        o[i] = o[i] > 0 ? (weights_.empty() ? 1.0f : weights_[i]) : 0.0f;
      } else if (!weights_.empty()) {
        o[i] *= weights_[i];
      }
    }
  }

  const Node& node_;
  int64_t min_gram_ = 1, max_gram_ = 1, max_skip_ = 0, output_size_ = 0;
  TfIdfMode mode_ = TfIdfMode::kTf;
  std::vector<float> weights_;
  bool strings_ = false;
  std::unordered_map<std::string, int64_t> string_ids_;
  // maps_[n - 1]: packed n-gram -> output index.
  std::vector<std::unordered_map<std::string, int64_t>> maps_;
};

ONYX_REGISTER_KERNEL("CPU", "", "TfIdfVectorizer", 9, kOpsetOpenEnded, TfIdfVectorizerKernel);

}  // namespace
}  // namespace onyx
