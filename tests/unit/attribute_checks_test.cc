// The attribute layer (onnx_ops/attribute_checks.h): the generated spec (required, types,
// unknown names, the version in force) and each family's semantic check, with a bad value
// (the exact message) and a good one (no error).
#include <gtest/gtest.h>

#include "onnx_ops/attribute_checks.h"
#include "onnx_ops/attribute_spec.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/node_call.h"
#include "tests/unit/tensor_ops_test_util.h"

namespace onyx {
namespace {

// The kernel tests' node builder, with the attributes first: they are what these tests vary.
Node node_of(const std::string& op, std::vector<Attribute> attributes, size_t inputs = 1, size_t outputs = 1) {
  return tensor_test::make_node(op, inputs, outputs, std::move(attributes));
}

TypeInfo floats(std::vector<int64_t> dims) {
  std::vector<Dim> shape;
  for (int64_t d : dims) shape.push_back(d < 0 ? Dim{} : Dim::known(d));
  return TypeInfo::tensor(DataType::kFloat, shape);
}

std::string error_of(const Node& node, int64_t opset, std::vector<const TypeInfo*> types = {}) {
  try {
    check_node_attributes(node, opset, types);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidModel) << e.what();
    return e.what();
  }
  return "";
}

// --- the generic layer ---

TEST(AttributeSpec, PicksTheSchemaInForceAtTheOpset) {
  EXPECT_EQ(find_attribute_spec("", "Relu", 13)->since_version, 13);
  EXPECT_EQ(find_attribute_spec("", "Relu", 5)->since_version, 1);
  EXPECT_EQ(find_attribute_spec("ai.onnx", "Conv", 21)->since_version, 11);
  EXPECT_EQ(find_attribute_spec("", "Gelu", 19), nullptr);  // Gelu is opset 20
  EXPECT_EQ(find_attribute_spec("", "NoSuchOp", 19), nullptr);
  EXPECT_NE(find_attribute_spec("ai.onnx.ml", "TreeEnsembleRegressor", 3), nullptr);
}

TEST(AttributeSpec, UnknownAttributeIsRefusedNamingWhatTheOpHas) {
  EXPECT_EQ(error_of(node_of("Relu", {make_attribute("foo", int64_t{1})}), 14),
            "attribute 'foo' is not an attribute of Relu-14 (it has: none)");
  EXPECT_EQ(error_of(node_of("LeakyRelu", {make_attribute("beta", 0.1f)}), 16),
            "attribute 'beta' is not an attribute of LeakyRelu-16 (it has: alpha)");
  EXPECT_EQ(error_of(node_of("Relu", {}), 14), "");
}

TEST(AttributeSpec, AnAttributeOfANewerVersionIsRefusedAtAnOlderOpset) {
  // Resize gained antialias in opset 18.
  Node resize = node_of("Resize", {make_attribute("antialias", int64_t{1}), make_attribute("mode", "linear")}, 3);
  EXPECT_EQ(error_of(resize, 18), "");
  EXPECT_EQ(error_of(resize, 13).rfind("attribute 'antialias' is not an attribute of Resize-13 (it has: ", 0), 0u)
      << error_of(resize, 13);
}

TEST(AttributeSpec, MissingRequiredAndWrongTypeAndDuplicates) {
  EXPECT_EQ(error_of(node_of("Cast", {}), 19), "missing required attribute 'to' of Cast-19");
  EXPECT_EQ(error_of(node_of("Gemm", {make_attribute("alpha", int64_t{2})}, 2), 13),
            "attribute 'alpha' of Gemm-13 must be float, got int");
  EXPECT_EQ(error_of(node_of("Gemm", {make_attribute("alpha", 2.0f), make_attribute("alpha", 1.0f)}, 2), 13),
            "attribute 'alpha' is given twice");
}

TEST(AttributeSpec, OtherDomainsAndFunctionReferencesAreLeftAlone) {
  Node custom = node_of("Relu", {make_attribute("foo", int64_t{1})});
  custom.domain = "com.example";
  EXPECT_EQ(error_of(custom, 1), "");
  Attribute reference = make_attribute("alpha", int64_t{0});  // the type is the caller's
  reference.ref_attr_name = "a";
  EXPECT_EQ(error_of(node_of("LeakyRelu", {reference}), 16), "");
}

TEST(AttributeChecks, SessionErrorsNameTheNode) {
  Node node = node_of("DepthToSpace", {make_attribute("blocksize", int64_t{0})});
  try {
    call_node_on_cpu(node, 13, {Tensor::from_vector<float>({1, 4, 1, 1}, {1, 2, 3, 4})});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "node 'n' (DepthToSpace): attribute blocksize must be in [1, 2147483647], got 0");
    EXPECT_EQ(e.code(), ErrorCode::kInvalidModel);
  }
}

// --- per-op checks ---

TEST(AttributeChecks, SpaceAndDepth) {
  TypeInfo x = floats({1, 8, 2, 3});
  EXPECT_EQ(error_of(node_of("DepthToSpace", {make_attribute("blocksize", int64_t{2}), make_attribute("mode", "XYZ")}), 13, {&x}),
            "attribute mode must be one of DCR, CRD, got 'XYZ'");
  EXPECT_EQ(error_of(node_of("DepthToSpace", {make_attribute("blocksize", int64_t{3})}), 13, {&x}),
            "attribute blocksize (3) squared must divide the input's 8 channels");
  EXPECT_EQ(error_of(node_of("DepthToSpace", {make_attribute("blocksize", int64_t{2}), make_attribute("mode", "CRD")}), 13, {&x}), "");
  EXPECT_EQ(error_of(node_of("SpaceToDepth", {make_attribute("blocksize", int64_t{2})}), 13, {&x}),
            "attribute blocksize (2) must divide the input's spatial dims, got width 3");
  EXPECT_EQ(error_of(node_of("SpaceToDepth", {make_attribute("blocksize", int64_t{1})}), 13, {&x}), "");
}

std::vector<Attribute> tfidf(std::vector<int64_t> counts, std::vector<int64_t> indexes, int64_t min = 1, int64_t max = 2) {
  return {make_attribute("mode", "TF"), make_attribute("min_gram_length", min), make_attribute("max_gram_length", max),
          make_attribute("max_skip_count", int64_t{0}), make_attribute("ngram_counts", counts),
          make_attribute("ngram_indexes", indexes), make_attribute("pool_int64s", std::vector<int64_t>{1, 2, 3, 4})};
}

TEST(AttributeChecks, TfIdfVectorizer) {
  EXPECT_EQ(error_of(node_of("TfIdfVectorizer", tfidf({0, 2}, {0, 1, 2})), 9), "");
  EXPECT_EQ(error_of(node_of("TfIdfVectorizer", tfidf({0, 2}, {0, 1, 2}, 0)), 9),
            "attribute min_gram_length must be >= 1, got 0");
  EXPECT_EQ(error_of(node_of("TfIdfVectorizer", tfidf({1, 2}, {0, 1, 2})), 9),
            "attribute ngram_counts must start at 0 and not decrease within the pool of 4 entries, got 1 to 2 for 1-grams");
  EXPECT_EQ(error_of(node_of("TfIdfVectorizer", tfidf({0, 5}, {0, 1, 2})), 9),
            "attribute ngram_counts must start at 0 and not decrease within the pool of 4 entries, got 0 to 5 for 1-grams");
  EXPECT_EQ(error_of(node_of("TfIdfVectorizer", tfidf({0, 2}, {0, -1, 2})), 9),
            "attribute ngram_indexes must hold values >= 0, got [0, -1, 2]");
  EXPECT_EQ(error_of(node_of("TfIdfVectorizer", tfidf({0, 2}, {0, 1})), 9),
            "attribute ngram_indexes must hold one output position per n-gram of the pool (3), got 2");
  std::vector<Attribute> both = tfidf({0, 2}, {0, 1, 2});
  both.push_back(make_attribute("pool_strings", std::vector<std::string>{"a"}));
  EXPECT_EQ(error_of(node_of("TfIdfVectorizer", both), 9),
            "exactly one of the attributes pool_strings and pool_int64s must be given");
  std::vector<Attribute> weights = tfidf({0, 2}, {0, 1, 2});
  weights.push_back(make_attribute("weights", std::vector<float>{1, 2}));
  EXPECT_EQ(error_of(node_of("TfIdfVectorizer", weights), 9),
            "attribute weights must hold one weight per output position (3), got 2");
}

Attribute graph_attribute(const std::string& name) {
  Attribute a;
  a.name = name;
  a.kind = Attribute::Kind::kGraph;
  a.g = std::make_shared<Graph>();
  return a;
}

TEST(AttributeChecks, Scan) {
  Attribute body = graph_attribute("body");
  EXPECT_EQ(error_of(node_of("Scan", {body, make_attribute("num_scan_inputs", int64_t{3})}, 2, 2), 16),
            "attribute num_scan_inputs must be in [1, 2], got 3");
  EXPECT_EQ(error_of(node_of("Scan", {body, make_attribute("num_scan_inputs", int64_t{1}),
                                      make_attribute("scan_input_axes", std::vector<int64_t>{0, 0})}, 2, 2), 16),
            "attribute scan_input_axes must hold 1 values (one per scan input, num_scan_inputs = 1), got 2");
  EXPECT_EQ(error_of(node_of("Scan", {body, make_attribute("num_scan_inputs", int64_t{1}),
                                      make_attribute("scan_output_directions", std::vector<int64_t>{2})}, 2, 2), 16),
            "attribute scan_output_directions must hold 0 (forward) or 1 (reverse), got 2");
  TypeInfo x = floats({3, 4});
  EXPECT_EQ(error_of(node_of("Scan", {body, make_attribute("num_scan_inputs", int64_t{1}),
                                      make_attribute("scan_input_axes", std::vector<int64_t>{2})}, 2, 2), 16, {&x, &x}),
            "attribute scan_input_axes[0] must be in [-2, 1] for a scan input of rank 2, got 2");
  EXPECT_EQ(error_of(node_of("Scan", {body, make_attribute("num_scan_inputs", int64_t{1})}, 2, 2), 16), "");
  EXPECT_EQ(error_of(node_of("Loop", {}, 2, 1), 16), "missing required attribute 'body' of Loop-16");
}

TEST(AttributeChecks, ConvolutionsAndPools) {
  TypeInfo x = floats({1, 6, 8, 8}), w = floats({4, 3, 3, 3});
  auto conv = [&](std::vector<Attribute> attributes) { return error_of(node_of("Conv", attributes, 2), 11, {&x, &w}); };
  EXPECT_EQ(conv({make_attribute("strides", std::vector<int64_t>{1, 0})}), "attribute strides must hold values >= 1, got [1, 0]");
  EXPECT_EQ(conv({make_attribute("strides", std::vector<int64_t>{1, 1, 1})}),
            "attribute strides must hold 2 values (one per spatial dim of the input), got 3");
  EXPECT_EQ(conv({make_attribute("pads", std::vector<int64_t>{0, 0, -1, 0})}), "attribute pads must hold values >= 0, got [0, 0, -1, 0]");
  EXPECT_EQ(conv({make_attribute("pads", std::vector<int64_t>{1, 1})}),
            "attribute pads must hold 4 values (a begin and an end per spatial dim of the input), got 2");
  EXPECT_EQ(conv({make_attribute("auto_pad", "SAME")}),
            "attribute auto_pad must be one of NOTSET, SAME_UPPER, SAME_LOWER, VALID, got 'SAME'");
  EXPECT_EQ(conv({make_attribute("group", int64_t{0})}), "attribute group must be in [1, 2147483647], got 0");
  EXPECT_EQ(conv({make_attribute("group", int64_t{4})}), "attribute group (4) must divide the input's 6 channels");
  EXPECT_EQ(conv({make_attribute("group", int64_t{2}), make_attribute("auto_pad", "SAME_UPPER")}), "");
  Node convt = node_of("ConvTranspose", {make_attribute("strides", std::vector<int64_t>{2, 2}),
                                         make_attribute("output_padding", std::vector<int64_t>{1, 2})}, 2);
  EXPECT_EQ(error_of(convt, 11, {&x, &w}),
            "attribute output_padding must be smaller than the stride or the dilation of its dim, got [1,2] with "
            "strides [2,2] and dilations []");
  convt.attributes[1] = make_attribute("output_padding", std::vector<int64_t>{1, 1});
  EXPECT_EQ(error_of(convt, 11, {&x, &w}), "");
  EXPECT_EQ(error_of(node_of("MaxPool", {make_attribute("kernel_shape", std::vector<int64_t>{2, 0})}), 12),
            "attribute kernel_shape must hold values >= 1, got [2, 0]");
  EXPECT_EQ(error_of(node_of("AveragePool", {make_attribute("kernel_shape", std::vector<int64_t>{2, 2}),
                                             make_attribute("ceil_mode", int64_t{2})}), 19),
            "attribute ceil_mode must be 0 or 1, got 2");
  TypeInfo qx = floats({1, 6, 8, 8});
  EXPECT_EQ(error_of(node_of("QLinearConv", {make_attribute("dilations", std::vector<int64_t>{0, 1})}, 8), 10, {&qx}),
            "attribute dilations must hold values >= 1, got [0, 1]");
  EXPECT_EQ(error_of(node_of("LRN", {make_attribute("size", int64_t{0})}), 13), "attribute size must be >= 1, got 0");
}

TEST(AttributeChecks, AxesAndPermutations) {
  TypeInfo x = floats({2, 3, 4});
  EXPECT_EQ(error_of(node_of("Gather", {make_attribute("axis", int64_t{3})}, 2), 13, {&x}),
            "attribute axis must be in [-3, 2] for an input of rank 3, got 3");
  EXPECT_EQ(error_of(node_of("Gather", {make_attribute("axis", int64_t{-3})}, 2), 13, {&x}), "");
  EXPECT_EQ(error_of(node_of("Gather", {make_attribute("axis", int64_t{7})}, 2), 13), "");  // rank unknown
  EXPECT_EQ(error_of(node_of("Concat", {make_attribute("axis", int64_t{-4})}, 2), 13, {&x}),
            "attribute axis must be in [-3, 2] for an input of rank 3, got -4");
  EXPECT_EQ(error_of(node_of("OneHot", {make_attribute("axis", int64_t{3})}, 3), 11, {&x}), "");
  EXPECT_EQ(error_of(node_of("Softmax", {make_attribute("axis", int64_t{3})}), 13, {&x}),
            "attribute axis must be in [-3, 2] for an input of rank 3, got 3");
  EXPECT_EQ(error_of(node_of("Flatten", {make_attribute("axis", int64_t{3})}), 13, {&x}), "");
  EXPECT_EQ(error_of(node_of("ArgMax", {make_attribute("keepdims", int64_t{5})}), 13, {&x}),
            "attribute keepdims must be 0 or 1, got 5");
  EXPECT_EQ(error_of(node_of("Transpose", {make_attribute("perm", std::vector<int64_t>{0, 1})}), 13, {&x}),
            "attribute perm must hold 3 axes (the input's rank), got 2");
  EXPECT_EQ(error_of(node_of("Transpose", {make_attribute("perm", std::vector<int64_t>{0, 3, 1})}), 13),
            "attribute perm must be a permutation of 0..2, got 3 out of range");
  EXPECT_EQ(error_of(node_of("Transpose", {make_attribute("perm", std::vector<int64_t>{2, 0, 1})}), 13, {&x}), "");
  EXPECT_EQ(error_of(node_of("ReverseSequence", {make_attribute("batch_axis", int64_t{0})}, 2), 10),
            "attributes batch_axis and time_axis must differ, both are 0");
}

TEST(AttributeChecks, RecurrentOps) {
  EXPECT_EQ(error_of(node_of("LSTM", {make_attribute("hidden_size", int64_t{0})}, 3), 14),
            "attribute hidden_size must be >= 1, got 0");
  EXPECT_EQ(error_of(node_of("GRU", {make_attribute("direction", "sideways")}, 3), 14),
            "attribute direction must be one of forward, reverse, bidirectional, got 'sideways'");
  EXPECT_EQ(error_of(node_of("RNN", {make_attribute("layout", int64_t{2})}, 3), 14), "attribute layout must be 0 or 1, got 2");
  EXPECT_EQ(error_of(node_of("RNN", {make_attribute("activations", std::vector<std::string>{"Tanh", "Tanh"})}, 3), 14),
            "attribute activations must hold 1 names (1 per direction), got 2");
  EXPECT_EQ(error_of(node_of("LSTM", {make_attribute("hidden_size", int64_t{4}), make_attribute("direction", "bidirectional")}, 3), 14), "");
}

TEST(AttributeChecks, VisionOps) {
  EXPECT_EQ(error_of(node_of("RoiAlign", {make_attribute("spatial_scale", 0.0f)}, 3), 16),
            "attribute spatial_scale must be finite and > 0, got 0");
  EXPECT_EQ(error_of(node_of("RoiAlign", {make_attribute("sampling_ratio", int64_t{-1})}, 3), 16),
            "attribute sampling_ratio must be >= 0, got -1");
  EXPECT_EQ(error_of(node_of("RoiAlign", {make_attribute("coordinate_transformation_mode", "corner")}, 3), 16),
            "attribute coordinate_transformation_mode must be one of half_pixel, output_half_pixel, got 'corner'");
  EXPECT_EQ(error_of(node_of("MaxRoiPool", {make_attribute("pooled_shape", std::vector<int64_t>{2})}, 2), 1),
            "attribute pooled_shape must hold 2 values (a height and a width), got 1");
  EXPECT_EQ(error_of(node_of("Resize", {make_attribute("nearest_mode", "up")}, 3), 19),
            "attribute nearest_mode must be one of round_prefer_floor, round_prefer_ceil, floor, ceil, got 'up'");
  EXPECT_EQ(error_of(node_of("Resize", {make_attribute("antialias", int64_t{3}), make_attribute("mode", "linear")}, 3), 19),
            "attribute antialias must be 0 or 1, got 3");
  EXPECT_EQ(error_of(node_of("GridSample", {make_attribute("mode", "bilinear")}, 2), 20),
            "attribute mode must be one of linear, nearest, cubic, got 'bilinear'");
  EXPECT_EQ(error_of(node_of("GridSample", {make_attribute("mode", "bilinear")}, 2), 16), "");
}

TEST(AttributeChecks, EnumsFlagsAndDtypes) {
  EXPECT_EQ(error_of(node_of("Cast", {make_attribute("to", int64_t{99})}), 19),
            "attribute to must be a TensorProto data type code (1 to 28), got 99");
  EXPECT_EQ(error_of(node_of("Cast", {make_attribute("to", int64_t{1}), make_attribute("saturate", int64_t{2})}), 19),
            "attribute saturate must be 0 or 1, got 2");
  EXPECT_EQ(error_of(node_of("RandomNormal", {make_attribute("shape", std::vector<int64_t>{2}),
                                              make_attribute("dtype", int64_t{7})}, 0), 1),
            "attribute dtype must be the data type code of one of float16, float, double, bfloat16, got 7");
  EXPECT_EQ(error_of(node_of("Gemm", {make_attribute("transA", int64_t{-1})}, 2), 13), "attribute transA must be 0 or 1, got -1");
  EXPECT_EQ(error_of(node_of("ReduceSum", {make_attribute("noop_with_empty_axes", int64_t{2})}, 2), 13),
            "attribute noop_with_empty_axes must be 0 or 1, got 2");
  EXPECT_EQ(error_of(node_of("Pad", {make_attribute("mode", "wrap")}, 2), 18),
            "attribute mode must be one of constant, reflect, edge, got 'wrap'");
  EXPECT_EQ(error_of(node_of("Pad", {make_attribute("mode", "wrap")}, 2), 19), "");
  EXPECT_EQ(error_of(node_of("ScatterND", {make_attribute("reduction", "max")}, 3), 16),
            "attribute reduction must be one of none, add, mul, got 'max'");
  EXPECT_EQ(error_of(node_of("ScatterElements", {make_attribute("reduction", "max")}, 3), 18), "");
}

}  // namespace
}  // namespace onyx
