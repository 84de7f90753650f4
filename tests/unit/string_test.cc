// Unit tests of StringNormalizer, StringConcat, StringSplit, RegexFullMatch and Shrink.
// Expected values follow Python's str.lower/upper/split, re.fullmatch (RE2's syntax where they
// differ) and the Shrink formula.
#include "onnx_ops/op_schema.h"
#include "tests/unit/tensor_ops_test_util.h"

namespace onyx::tensor_test {
namespace {

Tensor strs(Shape shape, std::vector<std::string> v) {
  return Tensor::from_vector<std::string>(std::move(shape), v);
}

std::vector<Value> run(const std::string& op, int64_t opset, const std::vector<Value>& inputs,
                       std::vector<Attribute> attrs, size_t outputs = 1) {
  Node node = make_node(op, inputs.size(), outputs, std::move(attrs));
  return call_node_on_cpu(node, opset, inputs);
}

TEST(StringNormalizer, StopwordsCaseInsensitiveUpper) {
  Tensor y = run1("StringNormalizer", 10, {strs({1, 4}, {"Monday", "tuesday", "MONDAY", "héllo"})},
                  {make_attribute("stopwords", std::vector<std::string>{"monday"}),
                   make_attribute("case_change_action", "UPPER")});
  expect_tensor<std::string>(y, {1, 2}, {"TUESDAY", "HéLLO"});
}

TEST(StringNormalizer, CaseSensitiveAndEmptyResult) {
  Tensor y = run1("StringNormalizer", 10, {strs({2}, {"Monday", "monday"})},
                  {make_attribute("stopwords", std::vector<std::string>{"monday"}),
                   make_attribute("is_case_sensitive", int64_t{1})});
  expect_tensor<std::string>(y, {1}, {"Monday"});
  Tensor e = run1("StringNormalizer", 10, {strs({1}, {"monday"})},
                  {make_attribute("stopwords", std::vector<std::string>{"monday"})});
  expect_tensor<std::string>(e, {1}, {""});
  expect_error([] { run1("StringNormalizer", 10, {strs({2, 1}, {"a", "b"})}, {}); }, {"[1, C]"});
  expect_error([] { run1("StringNormalizer", 10, {strs({1}, {"a"})}, {make_attribute("case_change_action", "TITLE")}); },
               {"TITLE"});
}

TEST(StringConcat, Broadcasts) {
  Tensor y = run1("StringConcat", 20, {strs({2, 1}, {"a", "b"}), strs({3}, {"x", "", "zz"})});
  expect_tensor<std::string>(y, {2, 3}, {"ax", "a", "azz", "bx", "b", "bzz"});
  expect_error([] { run1("StringConcat", 20, {strs({2}, {"a", "b"}), strs({3}, {"x", "y", "z"})}); },
               {"[2]", "[3]"});
  expect_error([] { run1("StringConcat", 20, {f32({1}, {1.0f}), strs({1}, {"x"})}); }, {"string"});
}

TEST(StringSplit, DelimiterMaxsplitAndWhitespace) {
  auto out = run("StringSplit", 20, {strs({3}, {"a,,b", "c", ""})},
                 {make_attribute("delimiter", ",")}, 2);
  expect_tensor<std::string>(out[0].tensor(), {3, 3}, {"a", "", "b", "c", "", "", "", "", ""});
  expect_tensor<int64_t>(out[1].tensor(), {3}, {3, 1, 1});
  // Python: "  one two  three ".split(None, 1) == ['one', 'two  three ']; "   ".split() == []
  auto ws = run("StringSplit", 20, {strs({2}, {"  one two  three ", "   "})},
                {make_attribute("maxsplit", int64_t{1})}, 2);
  expect_tensor<int64_t>(ws[1].tensor(), {2}, {2, 0});
  expect_tensor<std::string>(ws[0].tensor(), {2, 2}, {"one", "two  three ", "", ""});
}

TEST(RegexFullMatch, MatchesWholeString) {
  Tensor y = run1("RegexFullMatch", 20, {strs({3}, {"www.google.com", "www.facebook.com", "google.com"})},
                  {make_attribute("pattern", "www\\.[\\w.-]+\\.\\bcom\\b")});
  expect_tensor<bool>(y, {3}, {true, true, false});
  expect_error([] { run1("RegexFullMatch", 20, {strs({1}, {"a"})}, {make_attribute("pattern", "(a")}); },
               {"pattern"});
}

// RE2 is what the spec names: its syntax ((?i), \pL) and a linear-time match, so a 1 MB input
// that would recurse a backtracking std::regex through the stack matches in milliseconds.
TEST(RegexFullMatch, UsesRe2SyntaxAndHandlesLongInputs) {
  Tensor y = run1("RegexFullMatch", 20, {strs({3}, {"Hello", "HELLO", "héllo"})},
                  {make_attribute("pattern", "(?i)hello")});
  expect_tensor<bool>(y, {3}, {true, true, false});
  Tensor letters = run1("RegexFullMatch", 20, {strs({2}, {"héllo", "h3llo"})}, {make_attribute("pattern", "\\pL+")});
  expect_tensor<bool>(letters, {2}, {true, false});
  const std::string long_input = std::string(1 << 20, 'a') + "b";
  Tensor long_match = run1("RegexFullMatch", 20, {strs({2}, {long_input, long_input + "c"})},
                           {make_attribute("pattern", "(a|b)*")});
  expect_tensor<bool>(long_match, {2}, {true, false});
  expect_error([] { run1("RegexFullMatch", 20, {strs({1}, {"a"})}, {make_attribute("pattern", "a{2,1}")}); },
               {"invalid pattern 'a{2,1}'"});
}

TEST(Shrink, SoftAndHard) {
  Tensor soft = run1("Shrink", 9, {f32({5}, {-2.0f, -1.0f, 0.0f, 1.0f, 2.0f})},
                     {make_attribute("lambd", 1.5f), make_attribute("bias", 1.5f)});
  expect_tensor<float>(soft, {5}, {-0.5f, 0.0f, 0.0f, 0.0f, 0.5f});
  Tensor hard = run1("Shrink", 9, {Tensor::from_vector<int32_t>({3}, {-3, 1, 4})},
                     {make_attribute("lambd", 1.5f)});
  expect_tensor<int32_t>(hard, {3}, {-3, 0, 4});
}

TEST(StringOps, ShapeRules) {
  const TypeInfo x = TypeInfo::tensor(DataType::kString, std::vector<Dim>{Dim::known(4), Dim::known(1)});
  const TypeInfo y = TypeInfo::tensor(DataType::kString, std::vector<Dim>{Dim::known(3)});
  auto infer = [](const Node& node, std::vector<const TypeInfo*> types) {
    InferenceContext ctx(node, 20, types, std::vector<const Tensor*>(types.size(), nullptr));
    (*ShapeRuleRegistry::global().find("", node.op_type))(ctx);
    std::vector<std::string> out;
    for (const TypeInfo& t : ctx.output_types()) out.push_back(t.to_string());
    return out;
  };
  EXPECT_EQ(infer(make_node("StringConcat", 2, 1), {&x, &y})[0], "string[4,3]");
  const auto split = infer(make_node("StringSplit", 1, 2), {&x});
  EXPECT_EQ(split[0], "string[4,1,?]");
  EXPECT_EQ(split[1], "int64[4,1]");
  EXPECT_EQ(infer(make_node("RegexFullMatch", 1, 1), {&y})[0], "bool[3]");
}

}  // namespace
}  // namespace onyx::tensor_test
