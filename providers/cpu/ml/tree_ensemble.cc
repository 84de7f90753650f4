// CPU kernel of ai.onnx.ml TreeEnsemble (opset 5), TreeEnsembleRegressor and
// TreeEnsembleClassifier (1, 3). The node attributes are flattened once
// into a compact array of interior nodes whose children are node indices (>= 0) or encoded
// leaves (-1 - leaf), so scoring a row walks each tree with a tight loop; rows run in parallel.
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "providers/cpu/math/elementwise.h"
#include "providers/kernel_registry.h"

namespace onyx {
namespace {

enum class Aggregate { kAverage = 0, kSum = 1, kMin = 2, kMax = 3 };
enum class PostTransform { kNone = 0, kSoftmax = 1, kLogistic = 2, kSoftmaxZero = 3, kProbit = 4 };
enum class Mode : uint8_t { kLeq = 0, kLt, kGte, kGt, kEq, kNeq, kMember };

struct TreeNode {
  Mode mode;
  bool missing_true;
  int64_t feature;
  double split;
  int64_t next_true;   // node index, or -1 - leaf index
  int64_t next_false;
  int64_t member_begin = 0, member_end = 0;  // range in members_ (BRANCH_MEMBER)
};

// Inverse error function: a closed-form first guess refined by two Newton steps.
double erf_inv(double x) {
  if (x <= -1) return -std::numeric_limits<double>::infinity();
  if (x >= 1) return std::numeric_limits<double>::infinity();
  const double a = 0.147, ln = std::log(1 - x * x);
  const double t = 2 / (M_PI * a) + ln / 2;
  double y = std::copysign(std::sqrt(std::sqrt(t * t - ln / a) - t), x);
  for (int i = 0; i < 2; ++i) {
    y -= (std::erf(y) - x) / (2 / std::sqrt(M_PI) * std::exp(-y * y));
  }
  return y;
}

class TreeEnsembleKernel final : public Kernel {
 public:
  explicit TreeEnsembleKernel(const KernelInfo& info) : node_(info.node()) {
    const NodeAttributes& a = info.attributes();
    n_targets_ = a.require_int("n_targets");
    ONYX_CHECK(n_targets_ > 0, ErrorCode::kInvalidModel, node_.describe(), ": n_targets ",
               n_targets_, " must be positive");
    const int64_t aggregate = a.get_int("aggregate_function", 1);
    const int64_t post = a.get_int("post_transform", 0);
    ONYX_CHECK(aggregate >= 0 && aggregate <= 3, ErrorCode::kInvalidModel, node_.describe(),
               ": aggregate_function ", aggregate, " is not 0 (AVERAGE) .. 3 (MAX)");
    ONYX_CHECK(post >= 0 && post <= 4, ErrorCode::kInvalidModel, node_.describe(),
               ": post_transform ", post, " is not 0 (NONE) .. 4 (PROBIT)");
    aggregate_ = static_cast<Aggregate>(aggregate);
    post_ = static_cast<PostTransform>(post);

    const Tensor& splits = a.require_tensor("nodes_splits");
    const Tensor& modes = a.require_tensor("nodes_modes");
    const std::vector<int64_t> features = a.require_ints("nodes_featureids");
    const std::vector<int64_t> true_ids = a.require_ints("nodes_truenodeids");
    const std::vector<int64_t> false_ids = a.require_ints("nodes_falsenodeids");
    const std::vector<int64_t> true_leafs = a.require_ints("nodes_trueleafs");
    const std::vector<int64_t> false_leafs = a.require_ints("nodes_falseleafs");
    const std::vector<int64_t> missing = a.get_ints("nodes_missing_value_tracks_true");
    const std::vector<int64_t> target_ids = a.require_ints("leaf_targetids");
    const Tensor& weights = a.require_tensor("leaf_weights");
    const std::vector<int64_t> roots = a.require_ints("tree_roots");
    const int64_t n = static_cast<int64_t>(features.size());
    auto check_len = [&](int64_t len, const char* name) {
      ONYX_CHECK(len == n, ErrorCode::kInvalidModel, node_.describe(), ": ", name, " has ", len,
                 " entries, nodes_featureids has ", n);
    };
    check_len(splits.element_count(), "nodes_splits");
    check_len(modes.element_count(), "nodes_modes");
    check_len(static_cast<int64_t>(true_ids.size()), "nodes_truenodeids");
    check_len(static_cast<int64_t>(false_ids.size()), "nodes_falsenodeids");
    check_len(static_cast<int64_t>(true_leafs.size()), "nodes_trueleafs");
    check_len(static_cast<int64_t>(false_leafs.size()), "nodes_falseleafs");
    if (!missing.empty()) check_len(static_cast<int64_t>(missing.size()), "nodes_missing_value_tracks_true");
    const int64_t leaves = static_cast<int64_t>(target_ids.size());
    ONYX_CHECK(weights.element_count() == leaves, ErrorCode::kInvalidModel, node_.describe(),
               ": leaf_weights has ", weights.element_count(), " entries, leaf_targetids has ",
               leaves);
    for (int64_t i = 0; i < leaves; ++i) {
      ONYX_CHECK(target_ids[i] >= 0 && target_ids[i] < n_targets_, ErrorCode::kInvalidModel,
                 node_.describe(), ": leaf target id ", target_ids[i], " is outside [0, ",
                 n_targets_, ")");
      leaf_weights_.push_back(weights.element_as_double(i));
      leaf_begin_.push_back(i);
    }
    leaf_begin_.push_back(leaves);
    leaf_targets_ = target_ids;

    const Attribute* member_attr = a.find("membership_values");
    std::vector<double> member_values;
    if (member_attr != nullptr) {
      for (int64_t i = 0; i < member_attr->t.element_count(); ++i) {
        member_values.push_back(member_attr->t.element_as_double(i));
      }
    }
    size_t member_pos = 0;
    auto child = [&](int64_t id, bool leaf) -> int64_t {
      const int64_t limit = leaf ? leaves : n;
      ONYX_CHECK(id >= 0 && id < limit, ErrorCode::kInvalidModel, node_.describe(), ": ",
                 leaf ? "leaf" : "node", " id ", id, " is outside [0, ", limit, ")");
      return leaf ? -1 - id : id;
    };
    for (int64_t i = 0; i < n; ++i) {
      TreeNode t;
      const double mode = modes.element_as_double(i);
      ONYX_CHECK(mode >= 0 && mode <= 6, ErrorCode::kInvalidModel, node_.describe(),
                 ": node mode ", mode, " is not 0 (BRANCH_LEQ) .. 6 (BRANCH_MEMBER)");
      t.mode = static_cast<Mode>(static_cast<int>(mode));
      t.missing_true = !missing.empty() && missing[i] != 0;
      t.feature = features[i];
      ONYX_CHECK(t.feature >= 0, ErrorCode::kInvalidModel, node_.describe(), ": feature id ",
                 t.feature, " is negative");
      max_feature_ = std::max(max_feature_, t.feature);
      t.split = splits.element_as_double(i);
      t.next_true = child(true_ids[i], true_leafs[i] != 0);
      t.next_false = child(false_ids[i], false_leafs[i] != 0);
      if (t.mode == Mode::kMember) {
        // This node's set: the next NaN-terminated run of membership_values.
        t.member_begin = static_cast<int64_t>(members_.size());
        ONYX_CHECK(member_pos < member_values.size(), ErrorCode::kInvalidModel, node_.describe(),
                   ": membership_values has no set for BRANCH_MEMBER node ", i);
        while (member_pos < member_values.size() && !std::isnan(member_values[member_pos])) {
          members_.push_back(member_values[member_pos++]);
        }
        ++member_pos;  // the NaN separator
        t.member_end = static_cast<int64_t>(members_.size());
      }
      nodes_.push_back(t);
    }
    for (int64_t r : roots) {
      ONYX_CHECK(r >= 0 && r < n, ErrorCode::kInvalidModel, node_.describe(), ": tree root ", r,
                 " is outside [0, ", n, ")");
      // A single-leaf tree: both branches name the same leaf.
      const bool leaf = true_leafs[r] && false_leafs[r] && true_ids[r] == false_ids[r];
      roots_.push_back(leaf ? -1 - true_ids[r] : r);
    }
  }

  // TreeEnsembleRegressor (1, 3): nodes named by (tree id, node id), string modes with LEAF
  // nodes, and leaves that may feed several targets through the target_* lists.
  // TreeEnsembleClassifier reads the same layout with class_* lists for target_* ones.
  struct Legacy {
    bool classifier = false;
  };
  TreeEnsembleKernel(const KernelInfo& info, Legacy legacy)
      : node_(info.node()), legacy_(true), classifier_(legacy.classifier) {
    const NodeAttributes& a = info.attributes();
    const std::string prefix = classifier_ ? "class" : "target";
    if (classifier_) {
      int_labels_ = a.get_ints("classlabels_int64s");
      string_labels_ = a.get_strings("classlabels_strings");
      n_targets_ = static_cast<int64_t>(std::max(int_labels_.size(), string_labels_.size()));
      ONYX_CHECK(n_targets_ > 0, ErrorCode::kInvalidModel, node_.describe(),
                 ": needs classlabels_int64s or classlabels_strings");
    } else {
      n_targets_ = a.get_int("n_targets", 1);
    }
    ONYX_CHECK(n_targets_ > 0, ErrorCode::kInvalidModel, node_.describe(), ": n_targets ",
               n_targets_, " must be positive");
    aggregate_ = static_cast<Aggregate>(
        legacy_enum(a.get_string("aggregate_function", "SUM"), {"AVERAGE", "SUM", "MIN", "MAX"},
                    "aggregate_function"));
    post_ = static_cast<PostTransform>(legacy_enum(
        a.get_string("post_transform", "NONE"),
        {"NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT"}, "post_transform"));
    const std::vector<int64_t> tree_ids = a.require_ints("nodes_treeids");
    const std::vector<int64_t> node_ids = a.require_ints("nodes_nodeids");
    const std::vector<int64_t> features = a.require_ints("nodes_featureids");
    const std::vector<std::string> modes = a.get_strings("nodes_modes");
    const std::vector<int64_t> true_ids = a.require_ints("nodes_truenodeids");
    const std::vector<int64_t> false_ids = a.require_ints("nodes_falsenodeids");
    const std::vector<int64_t> missing = a.get_ints("nodes_missing_value_tracks_true");
    const std::vector<double> values = floats_or_tensor(a, "nodes_values");
    const int64_t n = static_cast<int64_t>(tree_ids.size());
    for (size_t len : {node_ids.size(), features.size(), modes.size(), true_ids.size(),
                       false_ids.size(), values.size()}) {
      ONYX_CHECK(static_cast<int64_t>(len) == n, ErrorCode::kInvalidModel, node_.describe(),
                 ": the nodes_* attributes differ in length (", len, " vs ", n, ")");
    }
    std::map<std::pair<int64_t, int64_t>, int64_t> index;  // (tree, node id) -> position
    for (int64_t i = 0; i < n; ++i) index[{tree_ids[i], node_ids[i]}] = i;
    std::vector<int64_t> leaf_of(static_cast<size_t>(n), -1);
    int64_t leaves = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (modes[i] == "LEAF") leaf_of[i] = leaves++;
    }
    // Leaf entries, grouped by leaf.
    const std::vector<int64_t> t_trees = a.get_ints(prefix + "_treeids");
    const std::vector<int64_t> t_nodes = a.get_ints(prefix + "_nodeids");
    const std::vector<int64_t> t_ids = a.get_ints(prefix + "_ids");
    const std::vector<double> t_weights = floats_or_tensor(a, prefix + "_weights");
    // Binary classification: every weight goes to one class id; the other class's score is
    // derived from it after scoring.
    binary_ = classifier_ && !t_ids.empty() &&
              std::all_of(t_ids.begin(), t_ids.end(), [&](int64_t id) { return id == t_ids[0]; });
    ONYX_CHECK(t_trees.size() == t_nodes.size() && t_nodes.size() == t_ids.size() &&
                   t_ids.size() == t_weights.size(),
               ErrorCode::kInvalidModel, node_.describe(), ": the target_* attributes differ in length");
    std::vector<std::vector<std::pair<int64_t, double>>> entries(static_cast<size_t>(leaves));
    for (size_t e = 0; e < t_ids.size(); ++e) {
      auto it = index.find({t_trees[e], t_nodes[e]});
      ONYX_CHECK(it != index.end() && leaf_of[it->second] >= 0, ErrorCode::kInvalidModel,
                 node_.describe(), ": target entry ", e, " names tree ", t_trees[e], " node ",
                 t_nodes[e], ", which is not a LEAF node");
      ONYX_CHECK(t_ids[e] >= 0 && t_ids[e] < n_targets_, ErrorCode::kInvalidModel,
                 node_.describe(), ": target id ", t_ids[e], " is outside [0, ", n_targets_, ")");
      entries[leaf_of[it->second]].push_back({t_ids[e], t_weights[e]});
    }
    for (const auto& leaf : entries) {
      leaf_begin_.push_back(static_cast<int64_t>(leaf_targets_.size()));
      for (const auto& [target, weight] : leaf) {
        leaf_targets_.push_back(target);
        leaf_weights_.push_back(weight);
      }
    }
    leaf_begin_.push_back(static_cast<int64_t>(leaf_targets_.size()));
    // Interior nodes keep their positions; children that are leaves are encoded.
    auto child = [&](int64_t tree, int64_t id) -> int64_t {
      auto it = index.find({tree, id});
      ONYX_CHECK(it != index.end(), ErrorCode::kInvalidModel, node_.describe(), ": tree ", tree,
                 " has no node ", id);
      return leaf_of[it->second] >= 0 ? -1 - leaf_of[it->second] : it->second;
    };
    static const std::vector<std::string> kModes = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE",
                                                    "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"};
    std::set<int64_t> seen_trees;
    for (int64_t i = 0; i < n; ++i) {
      TreeNode t{};
      if (leaf_of[i] < 0) {
        t.mode = static_cast<Mode>(legacy_enum(modes[i], kModes, "nodes_modes"));
        t.missing_true = !missing.empty() && missing[i] != 0;
        t.feature = features[i];
        ONYX_CHECK(t.feature >= 0, ErrorCode::kInvalidModel, node_.describe(), ": feature id ",
                   t.feature, " is negative");
        max_feature_ = std::max(max_feature_, t.feature);
        // The legacy ops compare in float.
        t.split = static_cast<float>(values[i]);
        t.next_true = child(tree_ids[i], true_ids[i]);
        t.next_false = child(tree_ids[i], false_ids[i]);
      }
      nodes_.push_back(t);
      // A tree's root is its first node.
      if (seen_trees.insert(tree_ids[i]).second) {
        roots_.push_back(leaf_of[i] >= 0 ? -1 - leaf_of[i] : i);
      }
    }
    base_values_ = floats_or_tensor(a, "base_values");
    ONYX_CHECK(base_values_.empty() || static_cast<int64_t>(base_values_.size()) == n_targets_,
               ErrorCode::kInvalidModel, node_.describe(), ": base_values has ",
               base_values_.size(), " values, n_targets is ", n_targets_);
  }

  static std::unique_ptr<Kernel> make_legacy(const KernelInfo& info) {
    return std::make_unique<TreeEnsembleKernel>(info, Legacy{});
  }
  static std::unique_ptr<Kernel> make_classifier(const KernelInfo& info) {
    return std::make_unique<TreeEnsembleKernel>(info, Legacy{true});
  }

  void compute(KernelContext& ctx) override {
    const Tensor& x = ctx.input(0);
    ONYX_CHECK(x.rank() == 2 || x.rank() == 1, ErrorCode::kInvalidArgument, node_.describe(),
               ": input must be [N, F], got ", shape_to_string(x.shape()));
    const int64_t rows = x.rank() == 2 ? x.dim(0) : 1;
    const int64_t f = x.rank() == 2 ? x.dim(1) : x.dim(0);
    ONYX_CHECK(nodes_.empty() || max_feature_ < f, ErrorCode::kInvalidArgument, node_.describe(),
               ": feature id ", max_feature_, " is out of range for input shape ",
               shape_to_string(x.shape()));
    if (classifier_) return classify(ctx, x, rows, f);
    Tensor& y = ctx.output(0, legacy_ ? DataType::kFloat : x.dtype(), {rows, n_targets_});
    using Inputs = TypeList<float, double, Float16, int64_t, int32_t>;
    ONYX_CHECK(legacy_ || x.dtype() == DataType::kFloat || x.dtype() == DataType::kDouble ||
                   x.dtype() == DataType::kFloat16,
               ErrorCode::kNotImplemented, node_.describe(), ": input type ",
               dtype_name(x.dtype()), " is not float, double or float16");
    dispatch_dtype_or_throw<Inputs>(x.dtype(), node_.op_type, [&]<typename T>() {
      const T* in = x.data<T>();
      if (legacy_) {
        score_rows<T, float>(in, y.mutable_data<float>(), rows, f, ctx.threads());
      } else if constexpr (!std::is_integral_v<T>) {
        score_rows<T, T>(in, y.mutable_data<T>(), rows, f, ctx.threads());
      }
    });
  }

 private:
  template <typename T, typename O>
  void score_rows(const T* in, O* out, int64_t rows, int64_t f, int threads) const {
    {
      // MIN/MAX start from T's largest finite magnitude, which targets no leaf touches keep.
      const double extreme = std::is_same_v<O, Float16> ? 65504.0
                             : static_cast<double>(std::numeric_limits<ComputeType<O>>::max());
      parallel_for(rows, 16, threads, [&](int64_t begin, int64_t end) {
        std::vector<double> scores(static_cast<size_t>(n_targets_));
        std::vector<double> row(static_cast<size_t>(f));
        for (int64_t r = begin; r < end; ++r) {
          for (int64_t j = 0; j < f; ++j) row[j] = static_cast<double>(load(in[r * f + j]));
          score_row(row.data(), scores.data(), extreme);
          for (int64_t t = 0; t < n_targets_; ++t) out[r * n_targets_ + t] = convert_to<O>(scores[t]);
        }
      });
    }
  }

  int64_t legacy_enum(const std::string& value, const std::vector<std::string>& names,
                      const char* what) const {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == value) return static_cast<int64_t>(i);
    }
    throw_error(ErrorCode::kInvalidModel, node_.describe(), ": ", what, " '", value,
                "' is not supported");
  }

  // `name` as a list of floats, or from opset 3 as `name`_as_tensor (float or double).
  static std::vector<double> floats_or_tensor(const NodeAttributes& a, const std::string& name) {
    std::vector<double> out;
    if (const Attribute* t = a.find(name + "_as_tensor")) {
      for (int64_t i = 0; i < t->t.element_count(); ++i) out.push_back(t->t.element_as_double(i));
    } else {
      for (float v : a.get_floats(name)) out.push_back(v);
    }
    return out;
  }

  bool goes_true(const TreeNode& t, double v) const {
    // NaN takes the true branch when the node says so; otherwise the comparison decides
    // (false for all but BRANCH_NEQ), as in the ONNX reference.
    if (t.missing_true && std::isnan(v)) return true;
    switch (t.mode) {
      case Mode::kLeq: return v <= t.split;
      case Mode::kLt: return v < t.split;
      case Mode::kGte: return v >= t.split;
      case Mode::kGt: return v > t.split;
      case Mode::kEq: return v == t.split;
      case Mode::kNeq: return v != t.split;
      case Mode::kMember:
        for (int64_t m = t.member_begin; m < t.member_end; ++m) {
          if (members_[m] == v) return true;
        }
        return false;
    }
    return false;
  }

  int64_t leaf_of(int64_t node, const double* row) const {
    int64_t steps = 0;
    while (node >= 0) {
      const TreeNode& t = nodes_[node];
      node = goes_true(t, row[t.feature]) ? t.next_true : t.next_false;
      // A malformed model may loop; no tree is deeper than it has nodes.
      ONYX_CHECK(++steps <= static_cast<int64_t>(nodes_.size()), ErrorCode::kInvalidModel,
                 node_.describe(), ": the trees contain a cycle");
    }
    return -1 - node;
  }

  void score_row(const double* row, double* scores, double extreme) const {
    const double init = aggregate_ == Aggregate::kMin   ? extreme
                        : aggregate_ == Aggregate::kMax ? -extreme
                                                        : 0.0;
    std::fill(scores, scores + n_targets_, init);
    for (int64_t root : roots_) {
      const int64_t leaf = leaf_of(root, row);
      for (int64_t e = leaf_begin_[leaf]; e < leaf_begin_[leaf + 1]; ++e) {
        double& s = scores[leaf_targets_[e]];
        const double w = leaf_weights_[e];
        switch (aggregate_) {
          case Aggregate::kAverage:
          case Aggregate::kSum: s += w; break;
          case Aggregate::kMin: s = std::min(s, w); break;
          case Aggregate::kMax: s = std::max(s, w); break;
        }
      }
    }
    if (aggregate_ == Aggregate::kAverage && !roots_.empty()) {
      for (int64_t t = 0; t < n_targets_; ++t) scores[t] /= static_cast<double>(roots_.size());
    }
    if (classifier_) {
      for (int64_t t = 0; t < n_targets_; ++t) {
        if (!base_values_.empty()) scores[t] += base_values_[t];
      }
      return;  // the post transform follows the binary-case adjustment in classify()
    }
    if (legacy_) {
      // TreeEnsembleRegressor: targets no leaf reached score 0; then the base values add.
      for (int64_t t = 0; t < n_targets_; ++t) {
        if (scores[t] == init && aggregate_ != Aggregate::kSum && aggregate_ != Aggregate::kAverage) {
          scores[t] = 0;
        }
        if (!base_values_.empty()) scores[t] += base_values_[t];
      }
    }
    apply_post_transform(scores);
  }

  // TreeEnsembleClassifier: summed class scores (plus base values), the binary case's derived
  // score, the post transform, then the label of the best score.
  void classify(KernelContext& ctx, const Tensor& x, int64_t rows, int64_t f) const {
    std::vector<float> raw(static_cast<size_t>(rows * n_targets_));
    dispatch_dtype_or_throw<TypeList<float, double, int64_t, int32_t>>(
        x.dtype(), node_.op_type,
        [&]<typename T>() { score_rows<T, float>(x.data<T>(), raw.data(), rows, f, ctx.threads()); });
    const int64_t classes = std::max<int64_t>(n_targets_, binary_ ? 2 : 1);
    Tensor& z = ctx.output(1, DataType::kFloat, {rows, classes});
    const bool strings = !string_labels_.empty();
    Tensor& y = ctx.output(0, strings ? DataType::kString : DataType::kInt64, {rows});
    float* zo = z.mutable_data<float>();
    std::vector<double> s(static_cast<size_t>(classes));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < n_targets_; ++c) s[c] = raw[r * n_targets_ + c];
      if (binary_) {
        s[1] = s[0];  // as the ONNX reference: column 0's score becomes the positive class's
        s[0] = post_ == PostTransform::kNone || post_ == PostTransform::kProbit ? 1 - s[1] : -s[1];
      }
      apply_post_transform(s.data(), classes);
      int64_t best = 0;
      for (int64_t c = 0; c < classes; ++c) {
        zo[r * classes + c] = static_cast<float>(s[c]);
        if (s[c] > s[best]) best = c;
      }
      if (strings) {
        y.mutable_data<std::string>()[r] = string_labels_[std::min<int64_t>(best, n_targets_ - 1)];
      } else if (int_labels_.size() == 1) {
        y.mutable_data<int64_t>()[r] = best == 1 ? int_labels_[0] : 0;
      } else {
        y.mutable_data<int64_t>()[r] = int_labels_[best];
      }
    }
  }

  void apply_post_transform(double* s) const { apply_post_transform(s, n_targets_); }
  void apply_post_transform(double* s, int64_t count) const {
    switch (post_) {
      case PostTransform::kNone: return;
      case PostTransform::kLogistic:
        for (int64_t t = 0; t < count; ++t) s[t] = 1 / (1 + std::exp(-s[t]));
        return;
      case PostTransform::kProbit:
        for (int64_t t = 0; t < count; ++t) s[t] = M_SQRT2 * erf_inv(2 * s[t] - 1);
        return;
      case PostTransform::kSoftmax:
      case PostTransform::kSoftmaxZero: {
        // SOFTMAX_ZERO leaves zero scores at zero and normalizes over the others.
        const bool skip_zero = post_ == PostTransform::kSoftmaxZero;
        double mx = std::numeric_limits<double>::lowest();
        for (int64_t t = 0; t < count; ++t) {
          if (!(skip_zero && s[t] == 0)) mx = std::max(mx, s[t]);
        }
        double sum = 0;
        for (int64_t t = 0; t < count; ++t) {
          s[t] = skip_zero && s[t] == 0 ? 0 : std::exp(s[t] - mx);
          sum += s[t];
        }
        if (sum > 0) {
          for (int64_t t = 0; t < count; ++t) s[t] /= sum;
        }
        return;
      }
    }
  }

  const Node& node_;
  int64_t n_targets_ = 1;
  Aggregate aggregate_ = Aggregate::kSum;
  PostTransform post_ = PostTransform::kNone;
  std::vector<TreeNode> nodes_;
  std::vector<double> members_;
  std::vector<int64_t> roots_;
  std::vector<double> leaf_weights_;
  std::vector<int64_t> leaf_targets_;  // leaf l's (target, weight) entries: leaf_begin_[l] ..
  std::vector<int64_t> leaf_begin_;    // leaf_begin_[l + 1]
  bool legacy_ = false;                // TreeEnsembleRegressor: float output, base values
  bool classifier_ = false;            // TreeEnsembleClassifier: labels and class scores
  bool binary_ = false;
  std::vector<int64_t> int_labels_;
  std::vector<std::string> string_labels_;
  std::vector<double> base_values_;
  int64_t max_feature_ = -1;
};

ONYX_REGISTER_KERNEL("CPU", "ai.onnx.ml", "TreeEnsemble", 5, kOpsetOpenEnded, TreeEnsembleKernel);
ONYX_REGISTER_KERNEL_FACTORY("CPU", "ai.onnx.ml", "TreeEnsembleRegressor", 1, kOpsetOpenEnded,
                             TreeEnsembleKernel::make_legacy);
ONYX_REGISTER_KERNEL_FACTORY("CPU", "ai.onnx.ml", "TreeEnsembleClassifier", 1, kOpsetOpenEnded,
                             TreeEnsembleKernel::make_classifier);

}  // namespace
}  // namespace onyx
