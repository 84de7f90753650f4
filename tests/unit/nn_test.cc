// Conv, pooling and normalization kernels. Fixed expectations come from NumPy / the ONNX
// reference evaluator; the oneDNN convolution is checked against the direct reference kernel.
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "onnx_ops/attribute_checks.h"
#include "onnx_ops/nn_geometry.h"
#include "providers/cpu/nn/conv_reference.h"
#include "runtime/ir/attribute_builders.h"
#include "runtime/session/node_call.h"

namespace onyx {
namespace {

Node make_node(const std::string& op, size_t inputs, size_t outputs, std::vector<Attribute> attrs = {}) {
  Node node;
  node.name = "n";
  node.op_type = op;
  for (size_t i = 0; i < inputs; ++i) node.inputs.push_back("in" + std::to_string(i));
  for (size_t i = 0; i < outputs; ++i) node.outputs.push_back("out" + std::to_string(i));
  node.attributes = std::move(attrs);
  return node;
}

template <typename T>
void expect_values(const Tensor& t, const Shape& shape, const std::vector<T>& expected, double tol = 1e-4) {
  ASSERT_EQ(t.shape(), shape);
  auto values = t.values<T>();
  ASSERT_EQ(values.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    if constexpr (std::is_floating_point_v<T>) {
      EXPECT_NEAR(values[i], expected[i], tol) << "at " << i;
    } else {
      EXPECT_EQ(values[i], expected[i]) << "at " << i;
    }
  }
}

// ((i * 7) % 11) - 5 over [1, 2, 4, 5]: small integers with repeats and both signs.
Tensor pool_input() {
  std::vector<float> v;
  for (int i = 0; i < 40; ++i) v.push_back(static_cast<float>((i * 7) % 11 - 5));
  return Tensor::from_vector<float>({1, 2, 4, 5}, v);
}

TEST(WindowGeometry, SameUpperAndLowerSplitOddPadding) {
  WindowAttributes attrs;
  attrs.auto_pad = AutoPad::kSameUpper;
  attrs.strides = {2};
  std::vector<int64_t> in{6}, k{4};
  WindowGeometry g = forward_window_geometry(attrs, in, k, "Conv");
  EXPECT_EQ(g.output, (std::vector<int64_t>{3}));
  EXPECT_EQ(g.pads, (std::vector<int64_t>{1, 1}));
  in = {5};
  k = {2};
  attrs.strides = {1};
  g = forward_window_geometry(attrs, in, k, "Conv");
  EXPECT_EQ(g.pads, (std::vector<int64_t>{0, 1}));
  attrs.auto_pad = AutoPad::kSameLower;
  g = forward_window_geometry(attrs, in, k, "Conv");
  EXPECT_EQ(g.pads, (std::vector<int64_t>{1, 0}));
}

TEST(WindowGeometry, CeilModeDropsAWindowStartingInPadding) {
  WindowAttributes attrs;
  attrs.ceil_mode = true;
  attrs.strides = {2};
  std::vector<int64_t> in{4}, k{2};
  attrs.pads = {1, 1};
  // floor((4+2-2)/2)+1 = 3; ceil also 3; a 4th window would start at 6 >= 4+1.
  EXPECT_EQ(forward_window_geometry(attrs, in, k, "MaxPool").output, (std::vector<int64_t>{3}));
  attrs.pads = {};
  in = {5};
  EXPECT_EQ(forward_window_geometry(attrs, in, k, "MaxPool").output, (std::vector<int64_t>{3}));
  attrs.ceil_mode = false;
  EXPECT_EQ(forward_window_geometry(attrs, in, k, "MaxPool").output, (std::vector<int64_t>{2}));
}

TEST(WindowGeometry, BadAttributesNameTheShapes) {
  WindowAttributes attrs;
  attrs.pads = {1, 1};
  std::vector<int64_t> in{4, 4}, k{3, 3};
  EXPECT_THROW(forward_window_geometry(attrs, in, k, "Conv"), Error);
  attrs.pads = {};
  k = {5, 5};
  try {
    forward_window_geometry(attrs, in, k, "Conv");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[4,4]"), std::string::npos) << e.what();
  }
}

// Fuzz regression (model_mutate/maxpool-huge-pad): pads of 2^62 overflowed the window
// arithmetic (UBSan) on the way to a 2^62-wide output; values past 2^31 - 1 are refused, naming
// the attribute.
template <typename Fn>
void expect_window_error(Fn&& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected an onyx::Error";
  } catch (const Error& e) {
    for (const std::string& f : fragments) {
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what() << " lacks " << f;
    }
  }
}

TEST(WindowGeometry, HugeWindowAttributesAreRefusedBeforeTheirArithmeticOverflows) {
  std::vector<int64_t> in{4, 5}, k{3, 3};
  WindowAttributes attrs;
  // Attribute values are refused by the attribute check, before any arithmetic.
  auto window_check = [](const char* op, const char* name, std::vector<int64_t> values) {
    Node node = make_node(op, 1, 1, {make_attribute("kernel_shape", std::vector<int64_t>{2, 2}), make_attribute(name, values)});
    check_node_attributes(node, 12, {});
  };
  expect_window_error([&] { window_check("MaxPool", "pads", {2, 2, 2, int64_t{1} << 62}); },
                      {"attribute pads must hold values <= 2147483647, got [2,2,2,4611686018427387904]"});
  expect_window_error([&] { window_check("Conv", "dilations", {1, int64_t{1} << 40}); },
                      {"attribute dilations must hold values <= 2147483647"});
  expect_window_error([&] { window_check("Conv", "strides", {std::numeric_limits<int64_t>::max(), 1}); },
                      {"attribute strides must hold values <= 2147483647"});
  // A kernel from W's shape is no attribute: the geometry refuses it.
  std::vector<int64_t> huge_kernel{3, int64_t{1} << 31};
  expect_window_error([&] { forward_window_geometry(attrs, in, huge_kernel, "AveragePool"); }, {"'kernel_shape'"});
  Node node = make_node("MaxPool", 1, 1,
                        {make_attribute("kernel_shape", std::vector<int64_t>{2, 2}),
                         make_attribute("pads", std::vector<int64_t>{0, 0, 0, int64_t{1} << 62})});
  EXPECT_THROW(call_node_on_cpu(node, 12, {pool_input()}), Error);
}

TEST(Conv, MatchesTheOnnxDocumentationExample) {
  std::vector<float> x(25), w(9, 1.0f);
  for (int i = 0; i < 25; ++i) x[i] = static_cast<float>(i);
  Tensor tx = Tensor::from_vector<float>({1, 1, 5, 5}, x), tw = Tensor::from_vector<float>({1, 1, 3, 3}, w);
  auto out = call_node_on_cpu(make_node("Conv", 2, 1, {make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1})}),
                              11, {tx, tw});
  expect_values<float>(out[0].tensor(), {1, 1, 5, 5},
                       {12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81,
                        93, 144, 153, 162, 111, 72, 111, 117, 123, 84});
  out = call_node_on_cpu(make_node("Conv", 3, 1,
                                   {make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1}),
                                    make_attribute("strides", std::vector<int64_t>{2, 2})}),
                         11, {tx, tw, Tensor::from_vector<float>({1}, {0.5f})});
  expect_values<float>(out[0].tensor(), {1, 1, 3, 3}, {12.5, 27.5, 24.5, 63.5, 108.5, 81.5, 72.5, 117.5, 84.5});
  // The double path runs the reference kernel.
  std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end());
  out = call_node_on_cpu(make_node("Conv", 2, 1, {make_attribute("strides", std::vector<int64_t>{2, 2})}), 11,
                         {Tensor::from_vector<double>({1, 1, 5, 5}, xd), Tensor::from_vector<double>({1, 1, 3, 3}, wd)});
  expect_values<double>(out[0].tensor(), {1, 1, 2, 2}, {54, 72, 144, 162});
}

struct ConvCase {
  Shape x, w;
  int64_t group;
  std::vector<int64_t> strides, dilations, pads;
  std::string auto_pad;
  bool bias;
};

TEST(Conv, OneDnnAgreesWithTheReferenceKernel) {
  const std::vector<ConvCase> cases = {
      {{2, 3, 9, 8}, {4, 3, 3, 3}, 1, {1, 1}, {1, 1}, {1, 1, 1, 1}, "NOTSET", true},
      {{1, 4, 10, 7}, {6, 2, 3, 2}, 2, {2, 1}, {1, 2}, {0, 1, 2, 0}, "NOTSET", true},
      {{1, 8, 7, 7}, {8, 1, 3, 3}, 8, {2, 2}, {2, 2}, {}, "SAME_UPPER", false},
      {{2, 3, 11}, {5, 3, 4}, 1, {3}, {2}, {}, "SAME_LOWER", true},
      {{1, 2, 5, 6, 4}, {4, 1, 2, 3, 2}, 2, {1, 2, 1}, {1, 1, 2}, {1, 0, 1, 0, 1, 1}, "NOTSET", true},
      {{1, 3, 6, 6}, {2, 3, 2, 2}, 1, {1, 1}, {1, 1}, {}, "VALID", false},
  };
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (const ConvCase& c : cases) {
    auto random = [&](const Shape& shape) {
      std::vector<float> v(static_cast<size_t>(shape_element_count(shape)));
      for (float& f : v) f = dist(rng);
      return Tensor::from_vector<float>(shape, v);
    };
    Tensor x = random(c.x), w = random(c.w), b = random({c.w[0]});
    std::vector<Attribute> attrs = {make_attribute("group", c.group), make_attribute("auto_pad", c.auto_pad)};
    if (!c.strides.empty()) attrs.push_back(make_attribute("strides", c.strides));
    if (!c.dilations.empty()) attrs.push_back(make_attribute("dilations", c.dilations));
    if (!c.pads.empty()) attrs.push_back(make_attribute("pads", c.pads));
    Node node = make_node("Conv", c.bias ? 3 : 2, 1, attrs);
    std::vector<Value> inputs{x, w};
    if (c.bias) inputs.push_back(b);
    Tensor y = call_node_on_cpu(node, 11, inputs)[0].tensor();

    WindowAttributes wa = WindowAttributes::read(NodeAttributes(node));
    std::vector<int64_t> spatial(c.x.begin() + 2, c.x.end()), kernel(c.w.begin() + 2, c.w.end());
    WindowGeometry g = forward_window_geometry(wa, spatial, kernel, "Conv");
    Shape expected_shape{c.x[0], c.w[0]};
    expected_shape.insert(expected_shape.end(), g.output.begin(), g.output.end());
    ASSERT_EQ(y.shape(), expected_shape) << shape_to_string(c.x);
    std::vector<float> ref(static_cast<size_t>(y.element_count()));
    conv_reference<float>(x.data<float>(), w.data<float>(), c.bias ? b.data<float>() : nullptr, ref.data(),
                          c.x[0], c.x[1], c.w[0], c.group, g, 1);
    for (size_t i = 0; i < ref.size(); ++i) {
      ASSERT_NEAR(y.data<float>()[i], ref[i], 1e-4) << "case " << shape_to_string(c.x) << " at " << i;
    }
  }
}

TEST(Conv, ChannelMismatchNamesTheShapes) {
  Tensor x(DataType::kFloat, {1, 3, 5, 5}), w(DataType::kFloat, {2, 2, 3, 3});
  try {
    call_node_on_cpu(make_node("Conv", 2, 1), 11, {x, w});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[1,3,5,5]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2,2,3,3]"), std::string::npos) << e.what();
  }
  Tensor w2(DataType::kFloat, {2, 3, 3, 3});
  EXPECT_THROW(call_node_on_cpu(make_node("Conv", 2, 1, {make_attribute("kernel_shape", std::vector<int64_t>{2, 2})}),
                                11, {x, w2}),
               Error);
  EXPECT_THROW(call_node_on_cpu(make_node("Conv", 3, 1), 11, {x, w2, Tensor(DataType::kFloat, {3})}), Error);
}

TEST(ConvTranspose, ScattersThroughTheKernel) {
  // numpy: x = [[1, 2], [3, 4]], w = ones(2x2), stride 1 -> full 3x3 correlation sums.
  Tensor x = Tensor::from_vector<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor w = Tensor::from_vector<float>({1, 1, 2, 2}, {1, 1, 1, 1});
  auto out = call_node_on_cpu(make_node("ConvTranspose", 2, 1), 11, {x, w});
  expect_values<float>(out[0].tensor(), {1, 1, 3, 3}, {1, 3, 2, 4, 10, 6, 3, 7, 4});
  out = call_node_on_cpu(make_node("ConvTranspose", 2, 1, {make_attribute("strides", std::vector<int64_t>{2, 2})}),
                         11, {x, w});
  expect_values<float>(out[0].tensor(), {1, 1, 4, 4}, {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
}

TEST(ConvTranspose, OneDnnAgreesWithTheReferenceKernel) {
  struct Case {
    Shape x, w;
    int64_t group;
    std::vector<int64_t> strides, dilations, pads, output_padding;
    bool bias;
  };
  const std::vector<Case> cases = {
      {{2, 3, 4, 5}, {3, 2, 3, 3}, 1, {2, 2}, {1, 1}, {1, 0, 1, 0}, {1, 0}, true},
      {{1, 4, 5, 3}, {4, 3, 2, 3}, 2, {1, 2}, {2, 1}, {0, 1, 1, 0}, {}, true},
      {{1, 2, 7}, {2, 2, 3}, 1, {3}, {2}, {}, {2}, false},
      {{1, 2, 3, 3, 2}, {2, 1, 2, 2, 2}, 2, {2, 1, 2}, {1, 1, 1}, {}, {}, true},
  };
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (const Case& c : cases) {
    auto random = [&](const Shape& shape) {
      std::vector<float> v(static_cast<size_t>(shape_element_count(shape)));
      for (float& f : v) f = dist(rng);
      return Tensor::from_vector<float>(shape, v);
    };
    const int64_t maps = c.w[1] * c.group;
    Tensor x = random(c.x), w = random(c.w), b = random({maps});
    std::vector<Attribute> attrs = {make_attribute("group", c.group), make_attribute("strides", c.strides),
                                    make_attribute("dilations", c.dilations)};
    if (!c.pads.empty()) attrs.push_back(make_attribute("pads", c.pads));
    if (!c.output_padding.empty()) attrs.push_back(make_attribute("output_padding", c.output_padding));
    Node node = make_node("ConvTranspose", c.bias ? 3 : 2, 1, attrs);
    std::vector<Value> inputs{x, w};
    if (c.bias) inputs.push_back(b);
    Tensor y = call_node_on_cpu(node, 11, inputs)[0].tensor();
    WindowAttributes wa = WindowAttributes::read(NodeAttributes(node));
    std::vector<int64_t> spatial(c.x.begin() + 2, c.x.end()), kernel(c.w.begin() + 2, c.w.end());
    WindowGeometry g = transpose_window_geometry(wa, spatial, kernel, c.output_padding, {}, "ConvTranspose");
    std::vector<float> ref(static_cast<size_t>(c.x[0] * maps * g.output_count()));
    conv_transpose_reference<float>(x.data<float>(), w.data<float>(), c.bias ? b.data<float>() : nullptr,
                                    ref.data(), c.x[0], c.x[1], maps, c.group, g, 1);
    ASSERT_EQ(y.element_count(), static_cast<int64_t>(ref.size())) << shape_to_string(y.shape());
    for (size_t i = 0; i < ref.size(); ++i) {
      ASSERT_NEAR(y.data<float>()[i], ref[i], 1e-4) << "case " << shape_to_string(c.x) << " at " << i;
    }
  }
}

TEST(MaxPool, PadsStridesAndIndices) {
  Node node = make_node("MaxPool", 1, 2,
                        {make_attribute("kernel_shape", std::vector<int64_t>{2, 3}),
                         make_attribute("strides", std::vector<int64_t>{2, 2}),
                         make_attribute("pads", std::vector<int64_t>{1, 1, 0, 0})});
  auto out = call_node_on_cpu(node, 12, {pool_input()});
  expect_values<float>(out[0].tensor(), {1, 2, 2, 2}, {2, 5, 4, 4, 3, 2, 5, 4});
  expect_values<int64_t>(out[1].tensor(), {1, 2, 2, 2}, {1, 3, 6, 6, 20, 23, 25, 28});
}

// 2x2 windows at stride 2 (the four-tap path) against a naive loop: values with many ties
// (the first of equal taps wins, in row-major tap order), odd sizes that drop the last row and
// column, rows of 16 outputs and more (the vector loop) with a remainder, indices into the whole
// tensor, and two threads.
TEST(MaxPool, TwoByTwoStrideTwoWithIndicesMatchesNaiveLoop) {
  for (const auto& [h, w] : std::vector<std::pair<int64_t, int64_t>>{{7, 9}, {5, 37}, {4, 66}}) {
    const int64_t n = 2, c = 3, oh = h / 2, ow = w / 2;
    std::vector<float> values(static_cast<size_t>(n * c * h * w));
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>((i * 7919) % 5);  // 0..4: ties
    Tensor x = Tensor::from_vector<float>({n, c, h, w}, values);
    for (int threads : {1, 2}) {
      Node node = make_node("MaxPool", 1, 2,
                            {make_attribute("kernel_shape", std::vector<int64_t>{2, 2}),
                             make_attribute("strides", std::vector<int64_t>{2, 2})});
      auto out = call_node_on_cpu(node, 12, {x}, threads);
      ASSERT_EQ(out[0].tensor().shape(), (Shape{n, c, oh, ow}));
      for (int64_t plane = 0; plane < n * c; ++plane) {
        for (int64_t i = 0; i < oh; ++i) {
          for (int64_t j = 0; j < ow; ++j) {
            float best = -1;
            int64_t at = -1;
            for (int64_t kh = 0; kh < 2; ++kh) {
              for (int64_t kw = 0; kw < 2; ++kw) {
                const int64_t index = plane * h * w + (2 * i + kh) * w + 2 * j + kw;
                if (values[static_cast<size_t>(index)] > best) {
                  best = values[static_cast<size_t>(index)];
                  at = index;
                }
              }
            }
            const int64_t o = (plane * oh + i) * ow + j;
            ASSERT_EQ(out[0].tensor().data<float>()[o], best) << w << " wide, output " << o;
            ASSERT_EQ(out[1].tensor().data<int64_t>()[o], at) << w << " wide, output " << o;
          }
        }
      }
    }
  }
}

TEST(MaxPool, ColumnMajorIndices) {
  Node node = make_node("MaxPool", 1, 2,
                        {make_attribute("kernel_shape", std::vector<int64_t>{2, 2}),
                         make_attribute("storage_order", int64_t{1})});
  auto out = call_node_on_cpu(node, 12, {pool_input()});
  ASSERT_EQ(out[1].tensor().shape(), (Shape{1, 2, 3, 4}));
  // First window: max 4 at (h=1, w=1) of a 4x5 plane: column-major 1 + 1 * 4.
  EXPECT_EQ(out[1].tensor().data<int64_t>()[0], 5);
  // Channel 1, first window {3, -1 / 5, 1}: max 5 at (h=1, w=0): 20 + 1 + 0 * 4.
  EXPECT_EQ(out[1].tensor().data<int64_t>()[12], 21);
}

TEST(MaxPool, Uint8) {
  Tensor x = Tensor::from_vector<uint8_t>({1, 1, 2, 3}, {1, 200, 3, 4, 5, 250});
  auto out = call_node_on_cpu(make_node("MaxPool", 1, 1, {make_attribute("kernel_shape", std::vector<int64_t>{2, 2})}),
                              12, {x});
  expect_values<uint8_t>(out[0].tensor(), {1, 1, 1, 2}, {200, 250});
}

TEST(AveragePool, CountIncludePadCeilAndSameLower) {
  auto pool = [](std::vector<Attribute> attrs) {
    return call_node_on_cpu(make_node("AveragePool", 1, 1, std::move(attrs)), 19, {pool_input()})[0].tensor();
  };
  auto k = [](int64_t a, int64_t b) { return make_attribute("kernel_shape", std::vector<int64_t>{a, b}); };
  auto s2 = make_attribute("strides", std::vector<int64_t>{2, 2});
  auto p1 = make_attribute("pads", std::vector<int64_t>{1, 1, 1, 1});
  expect_values<float>(pool({k(3, 3), s2, p1, make_attribute("count_include_pad", int64_t{1})}), {1, 2, 2, 3},
                       {-0.222222f, 0.555556f, 0.555556f, -0.777778f, -0.444444f, -0.222222f, 0.888889f,
                        -0.222222f, 0.444444f, 0.888889f, 0.222222f, 0.222222f});
  expect_values<float>(pool({k(3, 3), s2, p1}), {1, 2, 2, 3},
                       {-0.5f, 0.833333f, 1.25f, -1.16667f, -0.444444f, -0.333333f, 2, -0.333333f, 1,
                        1.33333f, 0.222222f, 0.333333f});
  expect_values<float>(pool({k(2, 2), s2, make_attribute("ceil_mode", int64_t{1})}), {1, 2, 2, 3},
                       {-0.5f, -0.25f, 2, -2, 1, 0.5f, 2, -0.5f, -1, 0.5f, -2, 3});
  expect_values<float>(pool({k(2, 2), make_attribute("auto_pad", "SAME_LOWER")}), {1, 2, 4, 5},
                       {-5, -1.5f, 0, 1.5f, 3, -4, -0.5f, 1, -0.25f, 1.25f, -2, -1.25f, 0.25f, -1, 0.5f,
                        0, -2, -0.5f, 1, -0.25f, 3, 1, -3, -1.5f, 0, 4, 2, -2, -0.5f, 1,
                        0.5f, 1.25f, 0, -1.25f, 0.25f, -3, 0.5f, 2, -2, -0.5f});
}

TEST(LpPool, TwoNorm) {
  auto out = call_node_on_cpu(
      make_node("LpPool", 1, 1, {make_attribute("kernel_shape", std::vector<int64_t>{2, 2}), make_attribute("p", int64_t{2})}),
      18, {pool_input()});
  expect_values<float>(out[0].tensor(), {1, 2, 3, 4},
                       {7.34847f, 4.89898f, 6.7082f, 7.14143f, 7.14143f, 6.7082f, 4.89898f, 7.34847f, 6,
                        7.34847f, 4.89898f, 6.7082f, 6, 6, 7.34847f, 4.89898f, 7.14143f, 4.47214f, 7.14143f,
                        6.7082f, 7.34847f, 6, 6, 7.34847f});
}

TEST(GlobalPool, AverageAndMax) {
  auto out = call_node_on_cpu(make_node("GlobalAveragePool", 1, 1), 1, {pool_input()});
  expect_values<float>(out[0].tensor(), {1, 2, 1, 1}, {-0.1f, 0.2f});
  out = call_node_on_cpu(make_node("GlobalMaxPool", 1, 1), 1, {pool_input()});
  expect_values<float>(out[0].tensor(), {1, 2, 1, 1}, {5, 5});
}

const std::vector<float> kInstanceNormed = {
    0.243554f, 1.32419f, 0.706684f, 1.78732f, 1.16981f, 0.552307f, 1.63294f, 1.01544f, 0.39793f, 1.47857f,
    0.861061f, 0.243554f, 1.32419f, 0.706684f, 1.78732f, 1.16981f, 0.552307f, 1.63294f, 1.01544f, 0.39793f,
    0.756875f, -1.75295f, -4.26277f, 0.12942f, -2.3804f, 2.01179f, -0.498036f, -3.00786f, 1.38433f, -1.12549f,
    -3.63531f, 0.756875f, -1.75295f, -4.26277f, 0.12942f, -2.3804f, 2.01179f, -0.498036f, -3.00786f, 1.38433f};

TEST(BatchNormalization, InferenceAndTrainingMode) {
  Tensor s = Tensor::from_vector<float>({2}, {0.5f, 2}), b = Tensor::from_vector<float>({2}, {1, -1});
  Tensor mean = Tensor::from_vector<float>({2}, {0.2f, -0.3f}), var = Tensor::from_vector<float>({2}, {1.5f, 0.25f});
  auto out = call_node_on_cpu(make_node("BatchNormalization", 5, 1), 15, {pool_input(), s, b, mean, var});
  const Tensor& y = out[0].tensor();
  EXPECT_NEAR(y.data<float>()[0], -1.12288f, 1e-4);
  EXPECT_NEAR(y.data<float>()[1], 1.73484f, 1e-4);
  EXPECT_NEAR(y.data<float>()[20], 12.1997f, 1e-3);
  EXPECT_NEAR(y.data<float>()[39], 16.1997f, 1e-3);
  out = call_node_on_cpu(make_node("BatchNormalization", 5, 3, {make_attribute("training_mode", int64_t{1})}), 15,
                         {pool_input(), s, b, mean, var});
  expect_values<float>(out[0].tensor(), {1, 2, 4, 5}, kInstanceNormed);  // N=1: batch stats = instance stats
  expect_values<float>(out[1].tensor(), {2}, {0.17f, -0.25f});
  expect_values<float>(out[2].tensor(), {2}, {2.399f, 1.241f});
  EXPECT_THROW(call_node_on_cpu(make_node("BatchNormalization", 5, 1), 15,
                                {pool_input(), Tensor::from_vector<float>({3}, {1, 2, 3}), b, mean, var}),
               Error);
}

// An empty batch in training mode leaves the running statistics as they were (0/0 would make
// them NaN for every later step); found by tests/python/test_zero_size_dims.py.
TEST(BatchNormalization, AnEmptyTrainingBatchKeepsTheRunningStatistics) {
  Tensor s = Tensor::from_vector<float>({2}, {0.5f, 2}), b = Tensor::from_vector<float>({2}, {1, -1});
  Tensor mean = Tensor::from_vector<float>({2}, {0.2f, -0.3f}), var = Tensor::from_vector<float>({2}, {1.5f, 0.25f});
  auto out = call_node_on_cpu(make_node("BatchNormalization", 5, 3, {make_attribute("training_mode", int64_t{1})}), 15,
                              {Tensor(DataType::kFloat, {0, 2, 4, 5}), s, b, mean, var});
  EXPECT_EQ(out[0].tensor().shape(), (Shape{0, 2, 4, 5}));
  expect_values<float>(out[1].tensor(), {2}, {0.2f, -0.3f});
  expect_values<float>(out[2].tensor(), {2}, {1.5f, 0.25f});
}

TEST(InstanceNormalization, PerPlaneStatistics) {
  Tensor s = Tensor::from_vector<float>({2}, {0.5f, 2}), b = Tensor::from_vector<float>({2}, {1, -1});
  auto out = call_node_on_cpu(make_node("InstanceNormalization", 3, 1), 6, {pool_input(), s, b});
  expect_values<float>(out[0].tensor(), {1, 2, 4, 5}, kInstanceNormed);
}

// Issue 3 item 7: statistics stay exact when the values sit far from zero. A one-pass
// E[x^2] - E[x]^2 in float loses everything here (x^2 ~ 1e8, float spacing 8 there, variance 1.25).
TEST(LayerNormalization, StableForLargeOffsets) {
  Tensor x = Tensor::from_vector<float>({1, 4}, {9999, 10000, 10001, 10002});
  Tensor s = Tensor::from_vector<float>({4}, {1, 1, 1, 1});
  auto out = call_node_on_cpu(make_node("LayerNormalization", 2, 3, {make_attribute("epsilon", 0.0f)}), 17, {x, s});
  // (x - 10000.5) / sqrt(1.25), computed in double.
  expect_values<float>(out[0].tensor(), {1, 4}, {-1.3416408f, -0.4472136f, 0.4472136f, 1.3416408f}, 1e-5);
  expect_values<float>(out[1].tensor(), {1, 1}, {10000.5f}, 0);
  expect_values<float>(out[2].tensor(), {1, 1}, {0.8944272f}, 1e-6);
  // float16: x^2 (9e4) overflows half, so the statistics must be accumulated in float.
  Tensor h = Tensor::from_vector<Float16>({1, 4}, {Float16(300.0f), Float16(302.0f), Float16(304.0f), Float16(306.0f)});
  Tensor hs = Tensor::from_vector<Float16>({4}, std::vector<Float16>(4, Float16(1.0f)));
  auto half_out = call_node_on_cpu(make_node("LayerNormalization", 2, 1, {make_attribute("epsilon", 0.0f)}), 17, {h, hs});
  const Tensor& y = half_out[0].tensor();
  const double expected[] = {-1.3416408, -0.4472136, 0.4472136, 1.3416408};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(static_cast<float>(y.data<Float16>()[i]), expected[i], 2e-3) << i;
}

TEST(LayerNormalization, LastAxisWithStatistics) {
  Tensor x = pool_input().reshaped({2, 4, 5});
  Tensor s = Tensor::from_vector<float>({5}, {-1, -0.5f, 0, 0.5f, 1});
  Tensor b = Tensor::from_vector<float>({5}, {0, 0.1f, 0.2f, 0.3f, 0.4f});
  auto out = call_node_on_cpu(make_node("LayerNormalization", 3, 3), 17, {x, s, b});
  const std::vector<float> expected = {
      1.51635f, -0.162445f, 0.2f, 0.999854f, 0.633285f, 0.948683f, -0.532455f, 0.2f, -0.332455f, 1.34868f,
      0.233285f, 0.799854f, 0.2f, 0.0375548f, 1.91635f, -0.487713f, 0.552876f, 0.2f, 0.369673f, -0.854119f,
      -1.25412f, 0.169673f, 0.2f, 0.752876f, -0.0877128f, -1.25412f, 0.169673f, 0.2f, 0.752876f, -0.0877128f,
      0.948683f, -0.532455f, 0.2f, -0.332455f, 1.34868f, 0.948683f, -0.532455f, 0.2f, -0.332455f, 1.34868f};
  expect_values<float>(out[0].tensor(), {2, 4, 5}, expected);
  expect_values<float>(out[1].tensor(), {2, 4, 1}, {0.2f, 0, -0.2f, -0.4f, -0.6f, 1.4f, -1, 1});
  expect_values<float>(out[2].tensor(), {2, 4, 1},
                       {0.291606f, 0.316228f, 0.291606f, 0.348366f, 0.348366f, 0.348366f, 0.316228f, 0.316228f});
  EXPECT_THROW(call_node_on_cpu(make_node("LayerNormalization", 3, 1, {make_attribute("axis", int64_t{3})}), 17,
                                {x, s, b}),
               Error);
}

TEST(RMSNormalization, LastAxis) {
  Tensor x = pool_input().reshaped({2, 4, 5});
  Tensor s = Tensor::from_vector<float>({5}, {-1, -0.5f, 0, 0.5f, 1});
  auto out = call_node_on_cpu(make_node("RMSNormalization", 2, 1), 23, {x, s});
  const float* y = out[0].tensor().data<float>();
  EXPECT_NEAR(y[0], 1.45556f, 1e-4);
  EXPECT_NEAR(y[1], -0.291111f, 1e-4);
  EXPECT_NEAR(y[19], -1.38013f, 1e-4);
  EXPECT_NEAR(y[39], 1.20604f, 1e-4);
}

}  // namespace
}  // namespace onyx
