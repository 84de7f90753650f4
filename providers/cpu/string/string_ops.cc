// CPU kernels of the string ops: StringNormalizer (10), StringConcat, StringSplit and
// RegexFullMatch (20). Case changes and case-insensitive stopword matching are ASCII (bytes
// outside ASCII, e.g. UTF-8 sequences, are left unchanged; input that is not valid UTF-8 is refused by the
// ops that read text: StringNormalizer, StringSplit, RegexFullMatch). RegexFullMatch uses RE2, the syntax
// the spec names: a linear-time automaton, so a long input cannot exhaust the stack the way a
// backtracking std::regex does.
#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include <re2/re2.h>

#include "onnx_ops/broadcast.h"
#include "runtime/common/utf8.h"
#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

std::string to_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string to_upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

void check_string_input(const Tensor& t, const std::string& name) {
  ONYX_CHECK(t.dtype() == DataType::kString, ErrorCode::kInvalidArgument, name,
             ": input must be a string tensor, got ", dtype_name(t.dtype()));
}

// Ops that read strings as text refuse elements that are not UTF-8, naming the first one.
void check_text_input(const Tensor& t) {
  const std::string* values = t.data<std::string>();
  for (int64_t i = 0; i < t.element_count(); ++i) {
    if (std::optional<size_t> at = first_invalid_utf8_byte(values[i])) {
      const auto byte = static_cast<unsigned>(static_cast<unsigned char>(values[i][*at]));
      static const char* kHex = "0123456789abcdef";
      throw_error(ErrorCode::kInvalidArgument, "string ", i, " of the input is not valid UTF-8 (byte 0x",
                  kHex[byte >> 4], kHex[byte & 15], " at offset ", *at, ")");
    }
  }
}

class StringNormalizerKernel final : public Kernel {
 public:
  explicit StringNormalizerKernel(const KernelInfo& info) : name_(info.node().describe()) {
    const NodeAttributes& a = info.attributes();
    const std::string action = a.get_string("case_change_action", "NONE");
    ONYX_CHECK(action == "NONE" || action == "LOWER" || action == "UPPER", ErrorCode::kInvalidModel,
               name_, ": case_change_action '", action, "' is not NONE, LOWER or UPPER");
    action_ = action == "LOWER" ? 1 : action == "UPPER" ? 2 : 0;
    case_sensitive_ = a.get_int("is_case_sensitive", 0) != 0;
    for (const std::string& w : a.get_strings("stopwords")) {
      stopwords_.insert(case_sensitive_ ? w : to_lower(w));
    }
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    check_string_input(x, name_);
    check_text_input(x);
    const bool two_d = x.rank() == 2;
    ONYX_CHECK(x.rank() == 1 || (two_d && x.dim(0) == 1), ErrorCode::kInvalidArgument, name_,
               ": input must have shape [C] or [1, C], got ", shape_to_string(x.shape()));
    std::vector<std::string> kept;
    for (const std::string& s : x.values<std::string>()) {
      if (!stopwords_.empty() && stopwords_.count(case_sensitive_ ? s : to_lower(s)) != 0) continue;
      kept.push_back(action_ == 1 ? to_lower(s) : action_ == 2 ? to_upper(s) : s);
    }
    // All words removed: a single empty string, as ONNX Runtime outputs.
    if (kept.empty()) kept.emplace_back();
    const int64_t c = static_cast<int64_t>(kept.size());
    Tensor& y = ctx.output(0, DataType::kString, two_d ? Shape{1, c} : Shape{c});
    std::string* out = y.mutable_data<std::string>();
    for (int64_t i = 0; i < c; ++i) out[i] = std::move(kept[i]);
  }

 private:
  std::string name_;
  int action_ = 0;
  bool case_sensitive_ = false;
  std::unordered_set<std::string> stopwords_;
};

class StringConcatKernel final : public Kernel {
 public:
  explicit StringConcatKernel(const KernelInfo& info) : name_(info.node().describe()) {}
  void compute(KernelContext& ctx) override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = ctx.input(1);
    check_string_input(a, name_);
    check_string_input(b, name_);
    Tensor& y = ctx.output(0, DataType::kString, broadcast_shapes(a.shape(), b.shape(), name_));
    if (y.element_count() == 0) return;
    binary_broadcast<std::string, std::string, std::string>(
        a, b, y, ctx.threads(), [](const std::string& l, const std::string& r) { return l + r; });
  }

 private:
  std::string name_;
};

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Python's str.split(sep, maxsplit): with no separator, runs of whitespace split and leading
// and trailing whitespace yield no empty parts (an unsplit remainder keeps its trailing ones).
std::vector<std::string> split(const std::string& s, const std::string& sep, int64_t maxsplit) {
  std::vector<std::string> parts;
  int64_t splits = 0;
  if (sep.empty()) {
    size_t i = 0;
    while (true) {
      while (i < s.size() && is_space(s[i])) ++i;
      if (i >= s.size()) break;
      if (maxsplit >= 0 && splits >= maxsplit) {  // the remainder, trailing spaces kept
        parts.push_back(s.substr(i));
        break;
      }
      size_t j = i;
      while (j < s.size() && !is_space(s[j])) ++j;
      parts.push_back(s.substr(i, j - i));
      ++splits;
      i = j;
    }
    return parts;
  }
  size_t start = 0;
  while (maxsplit < 0 || splits < maxsplit) {
    const size_t at = s.find(sep, start);
    if (at == std::string::npos) break;
    parts.push_back(s.substr(start, at - start));
    start = at + sep.size();
    ++splits;
  }
  parts.push_back(s.substr(start));
  return parts;
}

class StringSplitKernel final : public Kernel {
 public:
  explicit StringSplitKernel(const KernelInfo& info) : name_(info.node().describe()) {
    delimiter_ = info.attributes().get_string("delimiter", "");
    maxsplit_ = info.attributes().get_int("maxsplit", -1);
  }
  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    check_string_input(x, name_);
    check_text_input(x);
    std::vector<std::vector<std::string>> parts;
    parts.reserve(static_cast<size_t>(x.element_count()));
    int64_t widest = 0;
    for (const std::string& s : x.values<std::string>()) {
      parts.push_back(split(s, delimiter_, maxsplit_));
      widest = std::max<int64_t>(widest, static_cast<int64_t>(parts.back().size()));
    }
    Shape y_shape = x.shape();
    y_shape.push_back(widest);
    Tensor& y = ctx.output(0, DataType::kString, y_shape);
    std::string* out = y.mutable_data<std::string>();
    for (size_t i = 0; i < parts.size(); ++i) {
      for (int64_t k = 0; k < widest; ++k) {
        out[i * widest + k] = k < static_cast<int64_t>(parts[i].size()) ? std::move(parts[i][k]) : std::string();
      }
    }
    if (ctx.has_output(1)) {
      Tensor& z = ctx.output(1, DataType::kInt64, x.shape());
      int64_t* counts = z.mutable_data<int64_t>();
      for (size_t i = 0; i < parts.size(); ++i) counts[i] = static_cast<int64_t>(parts[i].size());
    }
  }

 private:
  std::string name_;
  std::string delimiter_;
  int64_t maxsplit_ = -1;
};

class RegexFullMatchKernel final : public Kernel {
 public:
  explicit RegexFullMatchKernel(const KernelInfo& info) : name_(info.node().describe()) {
    const std::string pattern = info.attributes().require_string("pattern");
    RE2::Options options;
    options.set_log_errors(false);  // the error reaches the user once, in the exception below
    regex_ = std::make_unique<RE2>(pattern, options);
    if (!regex_->ok()) {
      throw_error(ErrorCode::kInvalidModel, name_, ": invalid pattern '", pattern, "': ", regex_->error());
    }
  }
  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    check_string_input(x, name_);
    check_text_input(x);
    Tensor& y = ctx.output(0, DataType::kBool, x.shape());
    bool* out = y.mutable_data<bool>();
    const std::string* in = x.data<std::string>();
    // A compiled RE2 is safe to match from several threads at once (concurrent runs).
    for (int64_t i = 0; i < x.element_count(); ++i) out[i] = RE2::FullMatch(in[i], *regex_);
  }

 private:
  std::string name_;
  std::unique_ptr<RE2> regex_;
};

}  // namespace

ONYX_REGISTER_KERNEL("CPU", "", "StringNormalizer", 10, kOpsetOpenEnded, StringNormalizerKernel);
ONYX_REGISTER_KERNEL("CPU", "", "StringConcat", 20, kOpsetOpenEnded, StringConcatKernel);
ONYX_REGISTER_KERNEL("CPU", "", "StringSplit", 20, kOpsetOpenEnded, StringSplitKernel);
ONYX_REGISTER_KERNEL("CPU", "", "RegexFullMatch", 20, kOpsetOpenEnded, RegexFullMatchKernel);

}  // namespace onyx
